//! Link: normalized records in, a person for every record out, with the evidence that put it
//! there. This linker is deterministic: records share a person when they carry the same valid
//! ID, from the ID column, a certificate or a student number. Damaged, invalid and missing IDs
//! never link by ID; such a record is a person of its own. Rules and reports see only
//! `Linkage`, so a probabilistic linker can replace this one behind the same function.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use crate::model::{IdSource, Record};

/// Which records are the same person.
pub struct Linkage {
    /// Record index -> person index.
    pub person_of: Vec<usize>,
    pub persons: Vec<Person>,
    /// Record index -> why it belongs to its person (`id`, `certificate`, `unlinked:damaged_excel`…).
    pub evidence: Vec<String>,
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
}

/// Links records by their valid IDs; `file_names` name each file for the keys of unlinked rows.
pub fn link(records: &[Record], file_names: &[String]) -> Linkage {
    let mut by_id: HashMap<&str, usize> = HashMap::new();
    let mut persons: Vec<Person> = Vec::new();
    let mut person_of = Vec::with_capacity(records.len());
    let mut evidence = Vec::with_capacity(records.len());
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
    fn keys_are_stable_and_hide_the_id() {
        let key = person_key("11010519491231002X");
        assert_eq!(key, person_key("11010519491231002X"));
        assert_ne!(key, person_key("110105194912310037"));
        assert_eq!(key.len(), 17);
        assert!(!key.contains("19491231"));
    }
}
