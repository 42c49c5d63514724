//! The comparison vector of a pair: for every comparison, the first of its levels whose test
//! holds, or the null level when either row has no value. A comparison implied by another
//! (birth date by the ID number) is null whenever that one is not, so the same evidence is
//! never counted twice.

use super::comparators::{date_test, id_test, name_test, Similarity};
use super::table::{Column, IdState, IdValue, LinkTable, NO_DATE};
pub use crate::config::link::MAX_COMPARISONS;
use crate::config::link::{Comparison, LevelTest, LinkSettings};
use crate::model::Flags;

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
    pub suspect: &'a Flags,
}

/// Whether `row` is among `suspect` (empty: no row is).
pub fn is_suspect(suspect: &Flags, row: usize) -> bool {
    !suspect.is_empty() && suspect[row]
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

    /// Whether `row` has a value comparison `c` can read: without one, the comparison is null
    /// whatever the other row (as `level` decides).
    pub fn has_value(&self, c: usize, row: usize) -> bool {
        match &self.table.columns[self.settings.comparisons[c].feature] {
            Column::Id(ids) => {
                let exclusive =
                    self.settings.exclusive_id == Some(self.settings.comparisons[c].feature);
                ids.get(row).state != IdState::Missing
                    && !(exclusive && is_suspect(self.suspect, row))
            }
            Column::Name(names) => names.values[row] != 0,
            Column::Date(dates) => dates.day(row) != NO_DATE && !self.ignored(row, &dates.from_id),
            Column::Words(words) => {
                words.values.get(row) != 0 && !self.ignored(row, &words.from_id)
            }
        }
    }

    /// The level of comparison `c` alone, whatever the comparison implying it says.
    pub fn level_of(&self, c: usize, i: usize, j: usize) -> u8 {
        self.level(&self.settings.comparisons[c], i, j)
    }

    fn first_level(&self, comparison: &Comparison, mut holds: impl FnMut(usize) -> bool) -> u8 {
        (0..comparison.levels.len())
            .find(|&l| holds(l))
            .map_or(NULL_LEVEL, |l| l as u8)
    }

    fn ignored(&self, row: usize, from_id: &Flags) -> bool {
        is_suspect(self.suspect, row) && from_id[row]
    }

    fn level(&self, comparison: &Comparison, i: usize, j: usize) -> u8 {
        let test = |l: usize| comparison.levels[l].test;
        match &self.table.columns[comparison.feature] {
            Column::Id(ids) => {
                let exclusive = self.settings.exclusive_id == Some(comparison.feature);
                let (a, b) = (ids.get(i), ids.get(j));
                let unusable = |id: &IdValue, r: usize| {
                    id.state == IdState::Missing || (exclusive && is_suspect(self.suspect, r))
                };
                if unusable(&a, i) || unusable(&b, j) {
                    return NULL_LEVEL;
                }
                self.first_level(comparison, |l| id_test(test(l), &a, &b))
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
                let (a, b) = (dates.day(i), dates.day(j));
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
                let (a, b) = (words.values.get(i), words.values.get(j));
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

    /// Whether a veto level of any comparison holds for rows `i` and `j`: only the comparisons
    /// with vetoes are compared (and, for one implied by another, that one), as `levels`
    /// would (configs reject a comparison implied by an implied one).
    pub fn vetoes(&self, i: usize, j: usize) -> bool {
        let comparisons = &self.settings.comparisons;
        comparisons
            .iter()
            .filter(|c| c.vetoes.contains(&true))
            .any(|comparison| {
                let implied = comparison
                    .implied_by
                    .is_some_and(|by| self.level(&comparisons[by], i, j) != NULL_LEVEL);
                let level = match implied {
                    true => NULL_LEVEL,
                    false => self.level(comparison, i, j),
                };
                level != NULL_LEVEL && comparison.vetoes[usize::from(level)]
            })
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::config::link::FeatureKind;
    use crate::link::table::{Origin, TableBuilder, Value};
    use crate::model::id_number::parse_id;
    use chrono::NaiveDate;
    use proptest::prelude::*;

    const IDS: [&str; 5] = [
        "11010519491231002X",
        "110105194912310037",
        "11010519491231003",
        "420682198604140031",
        "",
    ];
    const NAMES: [&str; 4] = ["王小明", "王小名", "李四", ""];

    /// A table of `rows` (ID, name, date, word picks) under `settings`' features; the names of
    /// the third day's rows were written in traditional characters.
    pub(crate) fn table(settings: &LinkSettings, rows: &[(usize, usize, u32, bool)]) -> LinkTable {
        let mut builder = TableBuilder::new(&settings.features, vec!["s".into()], rows.len());
        for &(id, name, day, word) in rows {
            let id = parse_id(IDS[id], false).id;
            let date = NaiveDate::from_ymd_opt(2000, 1, 1 + day);
            let values: Vec<Value> = settings
                .features
                .iter()
                .map(|f| match f.kind {
                    FeatureKind::Id => Value::Id(&id, false),
                    FeatureKind::Name => Value::Name(NAMES[name], day == 2),
                    FeatureKind::Date => Value::Date(date, day % 2 == 0),
                    FeatureKind::County | FeatureKind::Text => {
                        Value::Word(word.then_some("420682"), false)
                    }
                })
                .collect();
            let origin = Origin {
                group: 0,
                side: 0,
                source: 0,
            };
            builder.push(origin, &values);
        }
        builder.finish()
    }

    proptest! {
        /// A row without a value `has_value` can read is compared null with every row.
        #[test]
        fn a_comparison_without_a_value_is_null(
            rows in prop::collection::vec((0..5usize, 0..4usize, 0..3u32, any::<bool>()), 1..8),
            suspect in prop::collection::vec(any::<bool>(), 8),
        ) {
            let settings = crate::config::load(None).unwrap().settings.link;
            let table = table(&settings, &rows);
            let suspect: Flags = suspect[..rows.len()].iter().copied().collect();
            let comparer = Comparer { table: &table, settings: &settings, suspect: &suspect };
            for c in 0..settings.comparisons.len() {
                for i in (0..rows.len()).filter(|&i| !comparer.has_value(c, i)) {
                    for j in 0..rows.len() {
                        prop_assert_eq!(comparer.level_of(c, i, j), NULL_LEVEL);
                        prop_assert_eq!(comparer.level_of(c, j, i), NULL_LEVEL);
                    }
                }
            }
        }

        /// Checking only the comparisons with vetoes finds what the whole comparison vector
        /// finds, with a veto on a comparison implied by the ID too.
        #[test]
        fn vetoes_agree_with_the_comparison_vector(
            rows in prop::collection::vec((0..5usize, 0..4usize, 0..3u32, any::<bool>()), 2..8),
            implied_veto in any::<bool>(),
        ) {
            let mut config = crate::config::DEFAULT_CONFIG.to_string();
            if implied_veto {
                config = config.replace(
                    "levels = [\"exact\", \"levenshtein <= 1\", \"else\"]\nimplied_by",
                    "levels = [\"exact\", \"levenshtein <= 1\", \"else\"]\nvetoes = [\"else\"]\nimplied_by",
                );
            }
            let settings = crate::config::Settings::from_toml(&config).unwrap().link;
            let table = table(&settings, &rows);
            for suspect in [Flags::default(), Flags::from_fn(rows.len(), |_| true)] {
                let comparer = Comparer { table: &table, settings: &settings, suspect: &suspect };
                for i in 0..rows.len() {
                    for j in 0..rows.len() {
                        prop_assert_eq!(
                            comparer.vetoes(i, j),
                            comparer.is_vetoed(&comparer.levels(i, j))
                        );
                    }
                }
            }
        }
    }
}
