//! Link: normalized records in, a person for every record out, with the evidence that put it
//! there. This linker is deterministic: records share a person when they carry the same valid
//! ID, from the ID column, a certificate or a student number. Damaged, invalid and missing IDs
//! never link by ID; such a record is a person of its own. Rules and reports see only
//! `Linkage`, so a probabilistic linker can replace this one behind the same function.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use crate::config::SourceId;
use crate::model::{IdSource, Record};
use crate::normalize::id_number::IdNumber;

/// Which records are the same person.
pub struct Linkage {
    /// Record index -> person index.
    pub person_of: Vec<usize>,
    pub persons: Vec<Person>,
    /// Record index -> why it belongs to its person (`id`, `certificate`, `unlinked:damaged_excel`…).
    pub evidence: Vec<String>,
    /// (Name without middle dots, county) -> records, to find near misses.
    by_name: HashMap<(String, String), Vec<usize>>,
}

/// The closest row that was not accepted as the same person, for a gap row to show.
#[derive(Clone, Debug, PartialEq)]
pub struct NearMiss {
    pub record: usize,
    /// A similarity in [0, 1] for ordering candidates; not a match probability.
    pub score: f64,
    /// Why it is close and why it was not linked, in the words county staff use.
    pub reason: String,
}

pub struct Person {
    /// Stable across runs for the same ID; never the ID itself.
    pub key: String,
    /// Record indices, in input order.
    pub records: Vec<usize>,
}

impl Linkage {
    /// The records of the person that record `index` belongs to (itself included).
    pub fn linked(&self, index: usize) -> &[usize] {
        &self.persons[self.person_of[index]].records
    }

    pub fn key_of(&self, index: usize) -> &str {
        &self.persons[self.person_of[index]].key
    }

    /// The closest row of `source` that is another person than record `index`: one with the
    /// same name in the same county, the nearest ID first; `None` when there is none.
    pub fn nearest_non_match(
        &self,
        records: &[Record],
        index: usize,
        source: SourceId,
    ) -> Option<NearMiss> {
        let subject = &records[index];
        let candidates = self.by_name.get(&name_and_county(subject))?;
        candidates
            .iter()
            .filter(|&&c| records[c].source == source && self.person_of[c] != self.person_of[index])
            .map(|&c| near_miss(subject, c, &records[c]))
            .max_by(|a, b| a.score.total_cmp(&b.score).then(b.record.cmp(&a.record)))
    }
}

/// Near misses are looked for among rows of the same name in the same county: a typo rarely
/// moves a person, and a province has thousands of people of the most common names.
fn name_and_county(record: &Record) -> (String, String) {
    (
        record.name.key(),
        record
            .county
            .as_ref()
            .map_or(String::new(), |c| c.code.clone()),
    )
}

fn near_miss(subject: &Record, index: usize, candidate: &Record) -> NearMiss {
    let (id_score, id_reason) = compare_ids(&subject.id, &candidate.id);
    let same_county = subject.county.is_some() && subject.county == candidate.county;
    let score = 0.5 + 0.4 * id_score + if same_county { 0.1 } else { 0.0 };
    let county = if same_county { "；区县相同" } else { "" };
    NearMiss {
        record: index,
        score: (score * 100.0).round() / 100.0,
        reason: format!("姓名相同；{id_reason}{county}"),
    }
}

/// How close two IDs are (0-1) and why they did not link.
fn compare_ids(a: &IdNumber, b: &IdNumber) -> (f64, String) {
    let digits = |id: &IdNumber| match id {
        IdNumber::Valid(d) | IdNumber::Invalid { digits: d, .. } => Some(d.clone()),
        _ => None,
    };
    let note = |id: &IdNumber, whose: &str| match id {
        IdNumber::Invalid { .. } => format!("（{whose}身份证号无效：{}）", id.state()),
        _ => String::new(),
    };
    let notes = format!("{}{}", note(a, "本行"), note(b, "对方"));
    match (a, b, digits(a), digits(b)) {
        (_, _, Some(x), Some(y)) => {
            let (score, what) = compare_digits(&x, &y);
            (score, format!("{what}{notes}"))
        }
        (IdNumber::Damaged { prefix }, _, _, Some(other))
        | (_, IdNumber::Damaged { prefix }, Some(other), _) => {
            match other.starts_with(prefix.as_str()) {
                true => (
                    0.8,
                    format!("身份证号被Excel损坏，前{}位相同", prefix.len()),
                ),
                false => (0.3, "身份证号被Excel损坏".to_string()),
            }
        }
        _ => (0.3, "身份证号缺失或损坏，无法比对".to_string()),
    }
}

fn compare_digits(x: &str, y: &str) -> (f64, &'static str) {
    let (a, b) = (x.as_bytes(), y.as_bytes());
    if a.len() != b.len() {
        return (0.2, "身份证号位数不同");
    }
    let differ: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
    match differ.as_slice() {
        [] => (1.0, "身份证号相同"),
        [_] => (0.9, "身份证号相差1位"),
        [i, j] if *j == i + 1 && a[*i] == b[*j] && a[*j] == b[*i] => (0.9, "身份证号相邻两位颠倒"),
        _ if a.get(6..14) == b.get(6..14) => (0.5, "出生日期相同，身份证号其余部分不同"),
        _ => (0.0, "身份证号不同"),
    }
}

/// Links records by their valid IDs; `file_names` name each file for the keys of unlinked rows.
pub fn link(records: &[Record], file_names: &[String]) -> Linkage {
    let mut by_id: HashMap<&str, usize> = HashMap::new();
    let mut persons: Vec<Person> = Vec::new();
    let mut person_of = Vec::with_capacity(records.len());
    let mut evidence = Vec::with_capacity(records.len());
    let mut by_name: HashMap<(String, String), Vec<usize>> = HashMap::new();
    for (index, record) in records.iter().enumerate() {
        let person = match record.id.valid() {
            Some(id) => *by_id.entry(id).or_insert_with(|| {
                persons.push(Person {
                    key: person_key(id),
                    records: Vec::new(),
                });
                persons.len() - 1
            }),
            None => {
                let row_name = format!(
                    "{}#{}",
                    file_names[record.row.file as usize], record.row.row
                );
                persons.push(Person {
                    key: unlinked_key(&row_name),
                    records: Vec::new(),
                });
                persons.len() - 1
            }
        };
        persons[person].records.push(index);
        if !record.name.is_empty() {
            by_name
                .entry(name_and_county(record))
                .or_default()
                .push(index);
        }
        person_of.push(person);
        evidence.push(match record.id_source {
            IdSource::None => format!("unlinked:{}", record.id.state()),
            source => source.code().to_string(),
        });
    }
    Linkage {
        person_of,
        persons,
        evidence,
        by_name,
    }
}

fn short_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// `P` + 16 hex digits of a hash of the ID: the same person gets the same key every night.
pub fn person_key(id: &str) -> String {
    format!("P{}", short_hash(&format!("recon-person-v1:{id}")))
}

/// `R` + a hash of the file and row: a row no ID could place.
fn unlinked_key(row_name: &str) -> String {
    format!("R{}", short_hash(&format!("recon-row-v1:{row_name}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_differences_are_named() {
        let valid = |s: &str| IdNumber::Valid(s.into());
        let a = "11010519491231002X";
        assert_eq!(
            compare_ids(&valid(a), &valid("11010519491231003X")).1,
            "身份证号相差1位"
        );
        let swapped = IdNumber::Invalid {
            digits: "11010519491231020X".into(),
            defect: crate::normalize::id_number::IdDefect::CheckCharacter,
        };
        assert_eq!(
            compare_ids(&valid(a), &swapped).1,
            "身份证号相邻两位颠倒（对方身份证号无效：invalid_check_character）"
        );
        let damaged = IdNumber::Damaged {
            prefix: "110105194912310".into(),
        };
        assert_eq!(
            compare_ids(&valid(a), &damaged),
            (0.8, "身份证号被Excel损坏，前15位相同".into())
        );
        assert_eq!(compare_ids(&IdNumber::Missing, &valid(a)).0, 0.3);
    }

    #[test]
    fn keys_are_stable_and_hide_the_id() {
        let key = person_key("11010519491231002X");
        assert_eq!(key, person_key("11010519491231002X"));
        assert_ne!(key, person_key("110105194912310037"));
        assert_eq!(key.len(), 17);
        assert!(!key.contains("19491231"));
    }
}
