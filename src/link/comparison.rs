//! The comparison vector of a pair: for every comparison, the first of its levels whose test
//! holds, or the null level when either row has no value. A comparison implied by another
//! (birth date by the ID number) is null whenever that one is not, so the same evidence is
//! never counted twice.

use super::comparators::{date_test, id_test, name_test, Similarity};
use super::table::{Column, IdState, LinkTable, NO_DATE};
pub use crate::config::link::MAX_COMPARISONS;
use crate::config::link::{Comparison, LevelTest, LinkSettings};

/// The level of a comparison whose values are missing on either side.
pub const NULL_LEVEL: u8 = u8::MAX;

/// A pair's level per comparison (`NULL_LEVEL` for none), in the settings' order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Levels(pub [u8; MAX_COMPARISONS]);

impl Levels {
    pub fn get(&self, comparison: usize) -> Option<usize> {
        let level = self.0[comparison];
        (level != NULL_LEVEL).then_some(level as usize)
    }
}

/// Compares rows of one table under one settings.
#[derive(Clone, Copy)]
pub struct Comparer<'a> {
    pub table: &'a LinkTable,
    pub settings: &'a LinkSettings,
    /// Rows whose exclusive ID was found to be another person's: that ID, and the values read
    /// from it (birth date, sex), are ignored. Empty when no row is.
    pub suspect: &'a [bool],
}

/// Whether `row` is among `suspect` (empty: no row is).
pub fn is_suspect(suspect: &[bool], row: usize) -> bool {
    suspect.get(row).copied().unwrap_or(false)
}

impl Comparer<'_> {
    pub fn levels(&self, i: usize, j: usize) -> Levels {
        let comparisons = &self.settings.comparisons;
        let mut levels = Levels([NULL_LEVEL; MAX_COMPARISONS]);
        for (c, comparison) in comparisons.iter().enumerate() {
            if comparison.implied_by.is_none() {
                levels.0[c] = self.level(comparison, i, j);
            }
        }
        for (c, comparison) in comparisons.iter().enumerate() {
            if comparison
                .implied_by
                .is_some_and(|by| levels.0[by] == NULL_LEVEL)
            {
                levels.0[c] = self.level(comparison, i, j);
            }
        }
        levels
    }

    fn first_level(&self, comparison: &Comparison, mut holds: impl FnMut(usize) -> bool) -> u8 {
        (0..comparison.levels.len())
            .find(|&l| holds(l))
            .map_or(NULL_LEVEL, |l| l as u8)
    }

    fn ignored(&self, row: usize, from_id: &[bool]) -> bool {
        is_suspect(self.suspect, row) && from_id[row]
    }

    fn level(&self, comparison: &Comparison, i: usize, j: usize) -> u8 {
        let test = |l: usize| comparison.levels[l].test;
        match &self.table.columns[comparison.feature] {
            Column::Id(ids) => {
                let exclusive = self.settings.exclusive_id == Some(comparison.feature);
                let unusable = |r: usize| {
                    ids[r].state == IdState::Missing || (exclusive && is_suspect(self.suspect, r))
                };
                if unusable(i) || unusable(j) {
                    return NULL_LEVEL;
                }
                self.first_level(comparison, |l| id_test(test(l), &ids[i], &ids[j]))
            }
            Column::Name(names) => {
                let (a, b) = (names.values[i], names.values[j]);
                if a == 0 || b == 0 {
                    return NULL_LEVEL;
                }
                let (x, y) = (&names.entries[a as usize], &names.entries[b as usize]);
                let traditional = names.traditional[i] || names.traditional[j];
                let mut similarity = Similarity::of_names(x, y);
                self.first_level(comparison, |l| {
                    name_test(test(l), x, y, traditional, &mut similarity)
                })
            }
            Column::Date(dates) => {
                let (a, b) = (dates.days[i], dates.days[j]);
                if a == NO_DATE
                    || b == NO_DATE
                    || self.ignored(i, &dates.from_id)
                    || self.ignored(j, &dates.from_id)
                {
                    return NULL_LEVEL;
                }
                self.first_level(comparison, |l| date_test(test(l), a, b))
            }
            Column::Words(words) => {
                let (a, b) = (words.values[i], words.values[j]);
                if a == 0
                    || b == 0
                    || self.ignored(i, &words.from_id)
                    || self.ignored(j, &words.from_id)
                {
                    return NULL_LEVEL;
                }
                let (x, y) = (&words.words[a as usize], &words.words[b as usize]);
                let mut similarity = Similarity::new(x, y);
                self.first_level(comparison, |l| match test(l) {
                    LevelTest::Exact => a == b,
                    t => similarity.holds(t),
                })
            }
        }
    }

    /// Whether a veto level of any comparison holds for rows `i` and `j` (compared only when
    /// some comparison has a veto).
    pub fn vetoes(&self, i: usize, j: usize) -> bool {
        let any = self
            .settings
            .comparisons
            .iter()
            .any(|c| c.vetoes.contains(&true));
        any && self.is_vetoed(&self.levels(i, j))
    }

    /// Whether a veto level of any comparison holds for the pair.
    pub fn is_vetoed(&self, levels: &Levels) -> bool {
        self.settings
            .comparisons
            .iter()
            .enumerate()
            .any(|(c, comparison)| levels.get(c).is_some_and(|l| comparison.vetoes[l]))
    }
}
