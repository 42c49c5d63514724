//! Blocking: candidate pairs are rows that agree on every key of a blocking rule. Each row's
//! key is hashed, rows are sorted by it, and each run of equal keys is a block. Pairs an
//! earlier rule already produced are skipped, so every candidate pair is scored once. Blocks
//! are visited in parallel in fixed chunks and their results concatenated in order, so the
//! pairs come out the same whatever the thread count.

use std::collections::HashSet;
use std::hash::BuildHasherDefault;
use std::ops::Range;

use rayon::prelude::*;

use super::comparison::is_suspect;
use super::table::{hash_bytes, Column, IdState, LinkTable, NO_DATE};
use crate::config::link::{BlockingRule, KeyPart, KeyTransform, LinkSettings};
use crate::model::{FastHasher, Flags};

/// What a key may read: the table, and the rows whose exclusive ID (and what was read from
/// it) must be ignored.
pub struct Keys<'a> {
    pub table: &'a LinkTable,
    pub settings: &'a LinkSettings,
    pub suspect: &'a Flags,
}

const MIX: u64 = 0x9E37_79B9_7F4A_7C15;

fn mix(hash: u64, value: u64) -> u64 {
    (hash.rotate_left(23) ^ value).wrapping_mul(MIX) ^ (value >> 29)
}

impl Keys<'_> {
    /// A key part's value: numbers the run gave a word (a county, a text) unless `portable`,
    /// then the hash of its text, the same in every run.
    fn part(&self, part: &KeyPart, row: usize, portable: bool) -> Option<u64> {
        let suspect = is_suspect(self.suspect, row);
        let ignored = |from_id: &Flags| suspect && from_id[row];
        match (&self.table.columns[part.feature], part.transform) {
            (Column::Id(ids), transform) => {
                let id = ids.get(row);
                if self.settings.exclusive_id == Some(part.feature) && suspect {
                    return None;
                }
                match transform {
                    KeyTransform::First(n) if id.len as usize >= n => {
                        Some(hash_bytes(&id.digits[..n]))
                    }
                    KeyTransform::Value if id.is_whole() => Some(hash_bytes(id.digits())),
                    _ => None,
                }
                .filter(|_| id.state != IdState::Missing)
            }
            (Column::Name(names), transform) => {
                let entry = names.values[row];
                if entry == 0 {
                    return None;
                }
                let hashes = &names.hashes[entry as usize];
                match transform {
                    KeyTransform::Pinyin => Some(hashes.sound),
                    KeyTransform::Surname => names.entries[entry as usize]
                        .chars
                        .first()
                        .map(|c| u64::from(*c)),
                    _ => Some(hashes.key),
                }
            }
            (Column::Date(dates), transform) => {
                let day = dates.day(row);
                if day == NO_DATE || ignored(&dates.from_id) {
                    return None;
                }
                match transform {
                    KeyTransform::Year => {
                        super::table::day_to_date(day).map(|d| chrono::Datelike::year(&d) as u64)
                    }
                    _ => Some(day as u64),
                }
            }
            (Column::Words(words), _) => {
                let value = words.values.get(row);
                (value != 0 && !ignored(&words.from_id)).then(|| match portable {
                    true => hash_bytes(words.words[value as usize].as_bytes()),
                    false => u64::from(value),
                })
            }
        }
    }

    /// The row's key under a rule: `None` when any part is missing.
    pub fn key(&self, rule: &BlockingRule, row: usize) -> Option<u64> {
        self.key_of(rule, row, false)
    }

    /// The row's key under a rule as any run computes it from the same values (a word's text
    /// hashed, not its number in this run): what rows of two runs are joined on.
    pub fn portable_key(&self, rule: &BlockingRule, row: usize) -> Option<u64> {
        self.key_of(rule, row, true)
    }

    fn key_of(&self, rule: &BlockingRule, row: usize, portable: bool) -> Option<u64> {
        rule.parts
            .iter()
            .try_fold(0x243F_6A88_85A3_08D3, |hash, part| {
                Some(mix(hash, self.part(part, row, portable)?))
            })
    }

    /// Every keyed row as (key, row), sorted: runs of equal keys are the blocks.
    pub fn sorted(&self, rule: &BlockingRule) -> Vec<(u64, u32)> {
        self.sorted_where(rule, |_| true)
    }

    /// The keyed rows of the blocks with at least one row not `settled`, sorted: all that a
    /// pass pairing only such rows visits. When over a quarter of the rows are loose, every
    /// keyed row (filtering would keep most of them anyway).
    pub fn sorted_with_loose(&self, rule: &BlockingRule, settled: &Flags) -> Vec<(u64, u32)> {
        let loose = settled.len() - settled.count();
        if loose > self.table.len() / 4 {
            return self.sorted(rule);
        }
        let loose_keys: HashSet<u64, BuildHasherDefault<FastHasher>> = (0..self.table.len())
            .into_par_iter()
            .filter(|&row| !settled[row])
            .filter_map(|row| self.key(rule, row))
            .collect();
        self.sorted_where(rule, |key| loose_keys.contains(&key))
    }

    fn sorted_where(
        &self,
        rule: &BlockingRule,
        keep: impl Fn(u64) -> bool + Sync,
    ) -> Vec<(u64, u32)> {
        sorted_keys(self.table.len(), |row| {
            self.key(rule, row).filter(|k| keep(*k))
        })
    }
}

/// (key, row) of each of `rows` rows that `key` gives a key, sorted: runs of equal keys are
/// the blocks. Room is reserved for every row, but only the part written becomes memory: the
/// keys of a window of rows are computed in parallel parts, then copied in, the parts' memory
/// reused by the next window. (A filtered parallel collect writes each entry three times, into
/// growing per-thread vectors then the joined one, and at a province's size fresh memory
/// costs more than computing the keys.)
pub fn sorted_keys(rows: usize, key: impl Fn(usize) -> Option<u64> + Sync) -> Vec<(u64, u32)> {
    const WINDOW: usize = 1 << 22;
    const PART: usize = 1 << 15;
    let mut keys = Vec::with_capacity(rows);
    for window in (0..rows).step_by(WINDOW) {
        let end = rows.min(window + WINDOW);
        let parts: Vec<Vec<(u64, u32)>> = (window..end)
            .into_par_iter()
            .step_by(PART)
            .map(|part| {
                let mut found = Vec::with_capacity(PART);
                let part = part..end.min(part + PART);
                found.extend(part.filter_map(|row| Some((key(row)?, row as u32))));
                found
            })
            .collect();
        parts.iter().for_each(|part| keys.extend_from_slice(part));
    }
    keys.par_sort_unstable();
    keys
}

/// The first rule before rule `k` that keys every field rule `k` keys, whole or the same way:
/// rows agreeing on its key agree on rule `k`'s, so within a block of rule `k` the rows sharing
/// its key were all paired by it already, and a pass over the block can skip them together.
pub fn refining_rule(rules: &[BlockingRule], k: usize) -> Option<usize> {
    rules[..k].iter().position(|earlier| {
        rules[k].parts.iter().all(|part| {
            earlier.parts.iter().any(|e| {
                e.feature == part.feature
                    && (e.transform == KeyTransform::Value || e.transform == part.transform)
            })
        })
    })
}

/// An entry with its key under a rule (`None`: the rule gives it none).
pub type Keyed<T> = (Option<u64>, T);

/// The entries of `sorted` (in key order) but the run whose key is `key`, as the slices before
/// and after it; all of them for no key.
pub fn outside_run<T>(sorted: &[Keyed<T>], key: Option<u64>) -> (&[Keyed<T>], &[Keyed<T>]) {
    if key.is_none() {
        return (sorted, &[]);
    }
    let start = sorted.partition_point(|(k, _)| *k < key);
    let end = start + sorted[start..].partition_point(|(k, _)| *k == key);
    (&sorted[..start], &sorted[end..])
}

/// The runs of two or more equal keys.
pub fn blocks(keys: &[(u64, u32)]) -> Vec<Range<usize>> {
    let mut ranges = Vec::new();
    let mut start = 0;
    for end in 1..=keys.len() {
        if end == keys.len() || keys[end].0 != keys[start].0 {
            if end - start >= 2 {
                ranges.push(start..end);
            }
            start = end;
        }
    }
    ranges
}

/// Pairs a block yields for a link type: every pair when deduplicating, only pairs across the
/// two lists when linking two.
pub fn pair_count(
    table: &LinkTable,
    keys: &[(u64, u32)],
    block: &Range<usize>,
    link_only: bool,
) -> u64 {
    let k = block.len() as u64;
    if !link_only {
        return k * (k - 1) / 2;
    }
    let left = keys[block.clone()]
        .iter()
        .filter(|(_, r)| table.side[*r as usize] == 0)
        .count() as u64;
    left * (k - left)
}

/// Visits the blocks in parallel chunks; `visit` gets each block's rows (ascending) and
/// appends results; the results come back in block order, a vector a chunk of blocks (not
/// copied into one: for a province they are large).
pub fn visit_blocks<T: Send>(
    keys: &[(u64, u32)],
    ranges: &[Range<usize>],
    visit: impl Fn(&[u32], &mut Vec<T>) + Sync,
) -> Vec<Vec<T>> {
    const BLOCKS_PER_CHUNK: usize = 2048;
    ranges
        .par_chunks(BLOCKS_PER_CHUNK)
        .map(|chunk| {
            let (mut out, mut rows) = (Vec::new(), Vec::new());
            for range in chunk {
                rows.clear();
                rows.extend(keys[range.clone()].iter().map(|(_, r)| *r));
                visit(&rows, &mut out);
            }
            out
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The keyed rows, naively: filtered, then sorted.
    fn naive_sorted_keys(rows: usize, key: impl Fn(usize) -> Option<u64>) -> Vec<(u64, u32)> {
        let mut keys: Vec<(u64, u32)> = (0..rows)
            .filter_map(|row| Some((key(row)?, row as u32)))
            .collect();
        keys.sort_unstable();
        keys
    }

    proptest::proptest! {
        #[test]
        fn sorted_keys_are_the_keyed_rows_sorted(
            keys in proptest::collection::vec(proptest::option::of(0u64..40), 0..3000)
        ) {
            let key = |row: usize| keys[row];
            proptest::prop_assert_eq!(
                sorted_keys(keys.len(), key),
                naive_sorted_keys(keys.len(), key)
            );
        }
    }

    #[test]
    fn sorted_keys_span_windows_of_rows() {
        let rows = (1 << 22) + 1000;
        let key = |row: usize| (!row.is_multiple_of(3)).then_some((row as u64 * 7919) % 1013);
        let keys = sorted_keys(rows, key);
        assert_eq!(keys.len(), rows - rows.div_ceil(3));
        assert_eq!(keys, naive_sorted_keys(rows, key));
    }

    #[test]
    fn blocks_are_runs_of_two_or_more() {
        let keys = vec![(1, 0), (1, 3), (2, 1), (5, 2), (5, 4), (5, 5)];
        assert_eq!(blocks(&keys), vec![0..2, 3..6]);
        assert!(blocks(&[]).is_empty());
    }

    #[test]
    fn a_rule_is_refined_by_an_earlier_rule_keying_its_fields_whole() {
        let rules = crate::config::load(None).unwrap().settings.link.blocking;
        let texts: Vec<&str> = rules.iter().map(|r| r.text.as_str()).collect();
        let refined: Vec<Option<&str>> = (0..rules.len())
            .map(|k| refining_rule(&rules, k).map(|j| texts[j]))
            .collect();
        let expected = [
            None,                  // id_number
            None,                  // name & birth_date
            None,                  // name & county: birth_date is not county
            Some("name & county"), // name.pinyin & county
            Some("id_number"),     // id_number.first14
            None,                  // name & start_date
        ];
        assert_eq!(texts[3], "name.pinyin & county");
        assert_eq!(refined, expected);
    }

    #[test]
    fn outside_run_skips_exactly_the_keys_run() {
        let sorted = [
            (None, 0),
            (Some(1), 1),
            (Some(3), 2),
            (Some(3), 3),
            (Some(7), 4),
        ];
        let rest = |key| {
            let (before, after) = outside_run(&sorted, key);
            before.iter().chain(after).map(|e| e.1).collect::<Vec<_>>()
        };
        assert_eq!(rest(Some(3)), vec![0, 1, 4]);
        assert_eq!(rest(Some(2)), vec![0, 1, 2, 3, 4]);
        assert_eq!(rest(None), vec![0, 1, 2, 3, 4]);
        assert_eq!(rest(Some(7)), vec![0, 1, 2, 3]);
    }

    #[test]
    fn hashes_are_stable() {
        assert_eq!(hash_bytes(b""), 0xcbf2_9ce4_8422_2325);
        assert_ne!(hash_bytes(b"ab"), hash_bytes(b"ba"));
    }
}
