//! People's decisions on pairs of rows (`recon review import`), honoured on every later run: a
//! pair decided 同一人 joins its two persons; one decided 不同人 leaves the review list, and the
//! linker keeps the two rows' persons apart however well they match (a link `explain` shows can
//! be split so, by the pair key it prints). A pair is known across nights by a keyed hash of its two rows' identifying values (source, name,
//! ID, birth date, county), not by where the rows stand, so it is met again as long as the
//! rows say the same.

use super::linkage::Linkage;
use super::pairs::Joined;
use super::person_key::PersonKey;
use crate::config::Settings;
use crate::keys::KeySecret;
use crate::model::Records;

/// What a person decided about a review pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PairDecision {
    Same,
    Different,
}

impl PairDecision {
    /// The words a reviewer writes: 同一人 or 不同人 (or `same`, `different`).
    pub fn parse(text: &str) -> Option<PairDecision> {
        match text.trim() {
            "同一人" | "same" => Some(PairDecision::Same),
            "不同人" | "different" => Some(PairDecision::Different),
            _ => None,
        }
    }

    pub fn words(self) -> &'static str {
        match self {
            PairDecision::Same => "同一人",
            PairDecision::Different => "不同人",
        }
    }
}

/// A person's decision on two rows, if any.
pub type Decide<'a> = dyn Fn(u32, u32) -> Option<PairDecision> + Sync + 'a;

/// What applying the decisions to the review pairs did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Applied {
    pub joined: usize,
    pub kept_apart: usize,
    /// Decided 同一人, but each person holds another valid ID: left for review.
    pub conflicting: usize,
}

/// The key of rows `a` and `b`: the same for the same two rows' values on any night, in
/// either order.
pub fn pair_key(
    records: &Records,
    settings: &Settings,
    secret: &KeySecret,
    (a, b): (u32, u32),
) -> String {
    let identity = |index: u32| {
        let record = &records[index as usize];
        format!(
            "{}\u{1f}{}\u{1f}{:?}\u{1f}{:?}\u{1f}{}",
            settings.sources[record.source()].key,
            records.name_key(record),
            records.id(record),
            record.birth_date,
            record.county_code()
        )
    };
    let (a, b) = (identity(a), identity(b));
    let (first, second) = if a <= b { (a, b) } else { (b, a) };
    format!("D{}", secret.text_hash(&format!("{first}\u{1e}{second}")))
}

impl Linkage {
    /// Applies `decided` to the review pairs: persons joined for 同一人 (never two persons each
    /// holding a valid ID), pairs dropped from the review list for 不同人 and once their rows
    /// are one person.
    pub(super) fn apply_decisions(&mut self, decided: &Decide) -> Applied {
        let mut applied = Applied::default();
        let mut root: Vec<usize> = (0..self.persons()).collect();
        fn find(root: &mut [usize], mut p: usize) -> usize {
            while root[p] != p {
                root[p] = root[root[p]];
                p = root[p];
            }
            p
        }
        let mut apart = Vec::new();
        for (k, pair) in self.review.iter().enumerate() {
            match decided(pair.a, pair.b) {
                Some(PairDecision::Different) => {
                    apart.push(k);
                    applied.kept_apart += 1;
                }
                Some(PairDecision::Same) => {
                    let pa = find(&mut root, self.person_of(pair.a as usize));
                    let pb = find(&mut root, self.person_of(pair.b as usize));
                    if pa == pb {
                        continue;
                    }
                    if self.keys[pa].kind == b'P' && self.keys[pb].kind == b'P' {
                        applied.conflicting += 1;
                        continue;
                    }
                    // The joined person keeps the ID's key, else the key of its earlier row.
                    let (keep, gone) = match (self.keys[pa].kind, self.keys[pb].kind) {
                        (b'P', _) => (pa, pb),
                        (_, b'P') => (pb, pa),
                        _ => (pa.min(pb), pa.max(pb)),
                    };
                    root[gone] = keep;
                    for row in [pair.a, pair.b] {
                        if self.joined.get(row as usize) == Joined::Alone {
                            self.joined.set(row as usize, Joined::Decided);
                        }
                    }
                    applied.joined += 1;
                }
                None => {}
            }
        }
        if applied.joined > 0 {
            let groups: Vec<usize> = (0..self.persons()).map(|p| find(&mut root, p)).collect();
            self.regroup(&groups);
        }
        let mut index = 0;
        let person_of = &self.person_of;
        self.review.retain(|pair| {
            let kept =
                !apart.contains(&index) && person_of[pair.a as usize] != person_of[pair.b as usize];
            index += 1;
            kept
        });
        self.index_review();
        applied
    }

    /// Persons joined by `group` (each person's group, named by one of its persons), numbered
    /// again in the order of their first rows.
    fn regroup(&mut self, group: &[usize]) {
        let mut number = vec![u32::MAX; group.len()];
        let mut keys: Vec<PersonKey> = Vec::new();
        let mut rows: Vec<Vec<u32>> = Vec::new();
        for (person, &g) in group.iter().enumerate() {
            if number[g] == u32::MAX {
                number[g] = keys.len() as u32;
                keys.push(self.keys[g]);
                rows.push(Vec::new());
            }
            rows[number[g] as usize].extend_from_slice(self.members_of(person));
        }
        let (mut members, mut starts) = (Vec::with_capacity(self.members.len()), vec![0u32]);
        for (p, mut person_rows) in rows.into_iter().enumerate() {
            person_rows.sort_unstable();
            for &row in &person_rows {
                self.person_of[row as usize] = p as u32;
            }
            members.extend(person_rows);
            starts.push(members.len() as u32);
        }
        (self.members, self.starts, self.keys) = (members, starts, keys);
    }
}
