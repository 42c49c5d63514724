//! Prediction: a pair's comparison vector becomes a match weight, the prior's weight plus each
//! level's log2(m/u), with a term-frequency adjustment of exact agreement (agreeing on a rare
//! name says more than agreeing on 王伟). Frequencies are counted among the persons being
//! linked, not rows, optionally within the value of another field (a name's frequency in its
//! county).

use rayon::prelude::*;

use super::comparison::{Comparer, Levels, MAX_COMPARISONS, NULL_LEVEL};
use super::model::{probability, Model, Weights};
use super::table::hash_bytes;
use super::table::{Column, LinkTable, NO_DATE};
use crate::config::link::{LevelTest, Tf};
use crate::model::{FastMap, FastSet};

/// A scored pair.
#[derive(Clone, Copy, Debug)]
pub struct Scored {
    pub levels: Levels,
    pub weight: f64,
}

impl Scored {
    pub fn probability(&self) -> f64 {
        probability(self.weight)
    }
}

/// One comparison's part of a pair's weight, for the waterfall.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub comparison: usize,
    /// `None` for the null level.
    pub level: Option<usize>,
    pub weight: f64,
    pub tf_adjustment: f64,
}

/// Scores pairs of one table with one model.
pub struct Scorer {
    weights: Weights,
    tf: Vec<Option<TfColumn>>,
    /// The comparisons in the order `score_above` evaluates them: the cheap ones (words,
    /// dates) first, then IDs, then names, each implied comparison right after its implier.
    order: Vec<usize>,
    /// Per comparison of names with a traditional level: the names (`NameHashes::key`) some
    /// row wrote in traditional characters. Only a pair with one of them can meet that level.
    traditional: Vec<Option<FastSet<u64>>>,
}

/// Two match weights closer than this are equal for `score_above`: the first pair found
/// stays the best.
pub const EQUAL_WEIGHTS: f64 = 1e-9;

struct TfColumn {
    exact_level: usize,
    u_exact: f64,
    feature: usize,
    dense: Dense,
    /// Per value (as `dense` numbers it): the share of all persons that have it. Kept per
    /// value, not per row: a province has tens of millions of rows.
    share_of_value: Vec<f32>,
    /// The feature frequencies are counted within, and per row the share of rows with its
    /// value among the rows with its value of that feature.
    within: Option<(usize, Vec<f32>)>,
}

impl TfColumn {
    /// The share of all persons that have row `row`'s value; 1 when it has none.
    fn share(&self, table: &LinkTable, row: usize) -> f32 {
        let value = self.dense.value(table, self.feature, row);
        self.share_of_value
            .get(value as usize)
            .copied()
            .unwrap_or(1.0)
    }
}

impl Scorer {
    /// Weights of `model`, with term frequencies counted on the comparer's table among the
    /// persons `person` (a row's person so far) names.
    pub fn new(comparer: &Comparer, model: &Model, person: &[u32]) -> Scorer {
        Scorer::among(comparer, model, person, None)
    }

    /// As `new`, the term frequencies shares of `population` persons when given (a partition of a
    /// national run counts a value's persons in its rows, but divides by the nation's).
    pub fn among(
        comparer: &Comparer,
        model: &Model,
        person: &[u32],
        population: Option<u64>,
    ) -> Scorer {
        let by_person = rows_by_person(person);
        let tf = comparer
            .settings
            .comparisons
            .par_iter()
            .enumerate()
            .map(|(c, comparison)| {
                let exact_level = comparison
                    .levels
                    .iter()
                    .position(|l| l.test == LevelTest::Exact)?;
                let within = match comparison.tf {
                    Tf::Off => return None,
                    Tf::On => None,
                    Tf::Within(feature) => Some(feature),
                };
                Some(tf_column(
                    comparer.table,
                    (&by_person, person, population),
                    comparison.feature,
                    within,
                    exact_level,
                    model.u(c, exact_level),
                ))
            })
            .collect();
        let traditional = comparer
            .settings
            .comparisons
            .iter()
            .map(
                |comparison| match &comparer.table.columns[comparison.feature] {
                    Column::Name(names)
                        if comparison
                            .levels
                            .iter()
                            .any(|l| l.test == LevelTest::Traditional) =>
                    {
                        Some(names.traditional_keys())
                    }
                    _ => None,
                },
            )
            .collect();
        Scorer {
            weights: model.weights(),
            tf,
            order: evaluation_order(comparer),
            traditional,
        }
    }

    /// Whether some pair with row `i` may meet level `l` of comparison `c`.
    fn reachable(&self, comparer: &Comparer, c: usize, l: usize, i: usize) -> bool {
        let test = comparer.settings.comparisons[c].levels[l].test;
        match (
            &self.traditional[c],
            &comparer.table.columns[comparer.settings.comparisons[c].feature],
        ) {
            (Some(written), Column::Name(names)) if test == LevelTest::Traditional => {
                let entry = names.values[i] as usize;
                names.traditional[i] || written.contains(&names.hashes[entry].key)
            }
            _ => true,
        }
    }

    pub fn score(&self, comparer: &Comparer, i: usize, j: usize) -> Scored {
        let levels = comparer.levels(i, j);
        Scored {
            levels,
            weight: self.weight(comparer.table, &levels, i, j),
        }
    }

    /// The weight of a comparison vector, summed in the comparisons' order.
    fn weight(&self, table: &LinkTable, levels: &Levels, i: usize, j: usize) -> f64 {
        let mut weight = self.weights.prior;
        for (c, level_weights) in self.weights.levels.iter().enumerate() {
            if let Some(level) = levels.get(c) {
                weight += level_weights[level] + self.tf_adjustment(table, c, level, i, j);
            }
        }
        weight
    }

    /// The most each comparison can add to the weight of a pair with row `i` (the null level
    /// adds nothing): `score_above`'s ceiling for row `i`'s pairs.
    pub fn ceiling(&self, comparer: &Comparer, i: usize) -> Vec<f64> {
        let table = comparer.table;
        (0..self.weights.levels.len())
            .map(|c| {
                let most_tf = self.tf[c].as_ref().map(|tf| {
                    let share = tf.share(table, i);
                    let within = tf.within.as_ref().map_or(share, |(_, w)| w[i]);
                    let floor = 1.0 / table.len().max(1) as f64;
                    [within, share]
                        .map(|share| (tf.u_exact / f64::from(share).max(floor)).log2())
                        .into_iter()
                        .fold(f64::NEG_INFINITY, f64::max)
                });
                self.weights.levels[c]
                    .iter()
                    .enumerate()
                    .filter(|&(l, _)| self.reachable(comparer, c, l, i))
                    .map(|(l, w)| match &self.tf[c] {
                        Some(tf) if tf.exact_level == l => w + most_tf.unwrap_or(0.0),
                        _ => *w,
                    })
                    .fold(0.0, f64::max)
            })
            .collect()
    }

    /// The most any pair with row `i` can weigh: the prior and the ceiling of each comparison
    /// `i` has a value of. (An exact level's term frequency is the value's, so the ceiling of
    /// `i` bounds its pairs in either order.)
    pub fn most_weight(&self, comparer: &Comparer, i: usize) -> f64 {
        self.ceiling(comparer, i)
            .into_iter()
            .enumerate()
            .filter(|&(c, _)| comparer.has_value(c, i))
            .fold(self.weights.prior, |weight, (_, most)| weight + most)
    }

    /// The pair's score as `score` gives it, unless its weight cannot exceed `floor` by more
    /// than `EQUAL_WEIGHTS` (then `None`): comparisons are evaluated in `order`, and the pair
    /// is dropped once the weight so far and the most the rest can add (`ceiling` of row `i`)
    /// fall short. With no floor, every pair is scored.
    pub fn score_above(
        &self,
        comparer: &Comparer,
        ceiling: &[f64],
        i: usize,
        j: usize,
        floor: Option<f64>,
    ) -> Option<Scored> {
        let Some(floor) = floor else {
            return Some(self.score(comparer, i, j));
        };
        let comparisons = &comparer.settings.comparisons;
        let mut levels = Levels([NULL_LEVEL; MAX_COMPARISONS]);
        let mut known = self.weights.prior;
        let mut rest: f64 = ceiling.iter().sum();
        for &c in &self.order {
            rest -= ceiling[c];
            let implied = comparisons[c]
                .implied_by
                .is_some_and(|by| levels.0[by] != NULL_LEVEL);
            if !implied {
                let level = comparer.level_of(c, i, j);
                levels.0[c] = level;
                if level != NULL_LEVEL {
                    let level = usize::from(level);
                    known += self.weights.levels[c][level]
                        + self.tf_adjustment(comparer.table, c, level, i, j);
                }
            }
            if known + rest <= floor + EQUAL_WEIGHTS {
                return None;
            }
        }
        Some(Scored {
            levels,
            weight: self.weight(comparer.table, &levels, i, j),
        })
    }

    pub fn prior_weight(&self) -> f64 {
        self.weights.prior
    }

    /// Each comparison's part of the pair's weight.
    pub fn steps(&self, comparer: &Comparer, i: usize, j: usize) -> Vec<Step> {
        let levels = comparer.levels(i, j);
        (0..self.weights.levels.len())
            .map(|c| {
                let level = levels.get(c);
                Step {
                    comparison: c,
                    level,
                    weight: level.map_or(0.0, |l| self.weights.levels[c][l]),
                    tf_adjustment: level
                        .map_or(0.0, |l| self.tf_adjustment(comparer.table, c, l, i, j)),
                }
            })
            .collect()
    }

    fn tf_adjustment(&self, table: &LinkTable, c: usize, level: usize, i: usize, j: usize) -> f64 {
        let Some(tf) = &self.tf[c] else {
            return 0.0;
        };
        if level != tf.exact_level {
            return 0.0;
        }
        let share = match &tf.within {
            Some((feature, within)) if same_value(table, *feature, i, j) => within[i],
            _ => tf.share(table, i),
        };
        let floor = 1.0 / table.len().max(1) as f64;
        (tf.u_exact / f64::from(share).max(floor)).log2()
    }
}

/// Comparisons cheapest first: words and dates, then IDs, then names; a comparison implied by
/// another right after it.
fn evaluation_order(comparer: &Comparer) -> Vec<usize> {
    let comparisons = &comparer.settings.comparisons;
    let cost = |c: usize| match &comparer.table.columns[comparisons[c].feature] {
        Column::Words(_) | Column::Date(_) => 0,
        Column::Id(_) => 1,
        Column::Name(_) => 2,
    };
    let mut independent: Vec<usize> = (0..comparisons.len())
        .filter(|&c| comparisons[c].implied_by.is_none())
        .collect();
    independent.sort_by_key(|&c| cost(c));
    independent
        .into_iter()
        .flat_map(|c| {
            let implied =
                (0..comparisons.len()).filter(move |&d| comparisons[d].implied_by == Some(c));
            std::iter::once(c).chain(implied)
        })
        .collect()
}

/// A row's value of a feature as a number to count by (`None` when blank).
fn value_key(table: &LinkTable, feature: usize, row: usize) -> Option<u64> {
    match &table.columns[feature] {
        Column::Id(ids) => {
            let id = ids.get(row);
            id.is_whole().then(|| hash_bytes(id.digits()))
        }
        Column::Name(names) => {
            let entry = names.values[row];
            (entry != 0).then(|| names.hashes[entry as usize].key)
        }
        Column::Date(dates) => {
            let day = dates.day(row);
            (day != NO_DATE).then_some(day as u64)
        }
        Column::Words(words) => {
            let value = words.values.get(row);
            (value != 0).then_some(u64::from(value))
        }
    }
}

fn same_value(table: &LinkTable, feature: usize, i: usize, j: usize) -> bool {
    let a = value_key(table, feature, i);
    a.is_some() && a == value_key(table, feature, j)
}

/// Rows ordered so that each person's rows are together: a counting sort, as person numbers
/// are small (a row of the person), which reads `person` in order rather than at random.
fn rows_by_person(person: &[u32]) -> Vec<u32> {
    let persons = person.iter().max().map_or(0, |p| *p as usize + 1);
    let mut next = vec![0u32; persons + 1];
    for &p in person {
        next[p as usize + 1] += 1;
    }
    for p in 1..next.len() {
        next[p] += next[p - 1];
    }
    let mut rows = vec![0u32; person.len()];
    for (row, &p) in person.iter().enumerate() {
        rows[next[p as usize] as usize] = row as u32;
        next[p as usize] += 1;
    }
    rows
}

/// No value (a blank cell) among `Dense` numbers.
const NO_VALUE: u32 = u32::MAX;

/// How a feature's values are numbered small (`NO_VALUE` when blank), equal values (by
/// `value_key`) sharing one, so that counting them is indexing an array: read off the row's
/// own number where the column has one (a name's entry, a word, a day), so that a per-value
/// table needs nothing a row.
enum Dense {
    /// Per name entry, its number (entries are numbered by their key).
    Entries(Vec<u32>),
    Words,
    /// Days from the first.
    Days(i32),
    /// Per row (IDs: numbered by their digits).
    Rows(Vec<u32>),
}

impl Dense {
    /// The numbering of `feature`'s values, and how many numbers there are.
    fn of(table: &LinkTable, feature: usize) -> (Dense, usize) {
        fn numbered(keys: impl Iterator<Item = Option<u64>>) -> (Vec<u32>, usize) {
            let mut numbers: FastMap<u64, u32> = FastMap::default();
            let values = keys
                .map(|key| {
                    key.map_or(NO_VALUE, |key| {
                        let next = numbers.len() as u32;
                        *numbers.entry(key).or_insert(next)
                    })
                })
                .collect();
            (values, numbers.len())
        }
        match &table.columns[feature] {
            Column::Words(words) => (Dense::Words, words.words.len()),
            Column::Name(names) => {
                let keys = names.hashes.iter().enumerate();
                let (of_entry, count) = numbered(keys.map(|(e, h)| (e != 0).then_some(h.key)));
                (Dense::Entries(of_entry), count)
            }
            Column::Date(dates) => {
                let first = dates.days().filter(|&d| d != NO_DATE).min();
                let last = dates.days().filter(|&d| d != NO_DATE).max();
                let count = first.zip(last).map_or(0, |(a, b)| (b - a) as usize + 1);
                (Dense::Days(first.unwrap_or(0)), count)
            }
            Column::Id(_) => {
                let (rows, count) =
                    numbered((0..table.len()).map(|r| value_key(table, feature, r)));
                (Dense::Rows(rows), count)
            }
        }
    }

    /// Row `row`'s number.
    fn value(&self, table: &LinkTable, feature: usize, row: usize) -> u32 {
        match (self, &table.columns[feature]) {
            (Dense::Entries(of_entry), Column::Name(names)) => of_entry[names.values[row] as usize],
            (Dense::Words, Column::Words(words)) => match words.values.get(row) {
                0 => NO_VALUE,
                value => value,
            },
            (Dense::Days(first), Column::Date(dates)) => match dates.day(row) {
                NO_DATE => NO_VALUE,
                day => (day - first) as u32,
            },
            (Dense::Rows(rows), _) => rows[row],
            _ => NO_VALUE,
        }
    }
}

/// Per value: how many persons have it, each person counted once however many of its rows
/// do. `rows` come person after person.
fn persons_per_value(
    rows: &[u32],
    person: &[u32],
    value_of: impl Fn(usize) -> u32,
    count: usize,
) -> Vec<u32> {
    let mut persons = vec![0u32; count];
    let mut last = vec![u32::MAX; count];
    for &row in rows {
        let value = value_of(row as usize);
        if value != NO_VALUE && last[value as usize] != person[row as usize] {
            last[value as usize] = person[row as usize];
            persons[value as usize] += 1;
        }
    }
    persons
}

/// Per row: the share of the persons with its value of `groups` who also have its value, or
/// 1 when either is blank. Persons are counted as `persons_per_value` counts them, group by
/// group: `by_person` rows are dealt into their groups (in order, so each group's rows still
/// come person after person).
fn shares_within(
    by_person: &[u32],
    person: &[u32],
    (value_of, value_count): (impl Fn(usize) -> u32, usize),
    (group_of, group_count): (impl Fn(usize) -> u32, usize),
) -> Vec<f32> {
    let mut starts = vec![0usize; group_count + 1];
    for &row in by_person {
        let group = group_of(row as usize);
        if group != NO_VALUE {
            starts[group as usize + 1] += 1;
        }
    }
    for g in 1..starts.len() {
        starts[g] += starts[g - 1];
    }
    let mut grouped = vec![0u32; starts[group_count]];
    let mut next = starts.clone();
    for &row in by_person {
        let group = group_of(row as usize);
        if group != NO_VALUE {
            grouped[next[group as usize]] = row;
            next[group as usize] += 1;
        }
    }
    let mut shares = vec![1.0f32; person.len()];
    let mut in_group = vec![0u32; value_count];
    let mut last = vec![u32::MAX; value_count];
    for g in 0..group_count {
        let rows = &grouped[starts[g]..starts[g + 1]];
        let mut group_persons = 0u32;
        let mut previous = u32::MAX;
        for &row in rows {
            let (value, who) = (value_of(row as usize), person[row as usize]);
            if who != previous {
                group_persons += 1;
                previous = who;
            }
            if value != NO_VALUE && last[value as usize] != who {
                last[value as usize] = who;
                in_group[value as usize] += 1;
            }
        }
        for &row in rows {
            let value = value_of(row as usize);
            if value != NO_VALUE {
                shares[row as usize] = in_group[value as usize] as f32 / group_persons as f32;
            }
        }
        // Reset what this group counted; a person's rows in the next group count afresh.
        for &row in rows {
            let value = value_of(row as usize);
            if value != NO_VALUE {
                in_group[value as usize] = 0;
                last[value as usize] = u32::MAX;
            }
        }
    }
    shares
}

/// Term frequencies among persons, not rows: a person listed by four departments is one
/// bearer of the name.
fn tf_column(
    table: &LinkTable,
    (by_person, person, population): (&[u32], &[u32], Option<u64>),
    feature: usize,
    within: Option<usize>,
    exact_level: usize,
    u_exact: f64,
) -> TfColumn {
    let counted = || {
        by_person
            .chunk_by(|a, b| person[*a as usize] == person[*b as usize])
            .count() as u64
    };
    let persons = population.unwrap_or_else(counted).max(1) as f32;
    // Each row's number read off the column as it is needed, never a copy a row.
    let (dense, count) = Dense::of(table, feature);
    let value_of = |row| dense.value(table, feature, row);
    let counts = persons_per_value(by_person, person, value_of, count);
    let share_of_value = counts.iter().map(|&n| n as f32 / persons).collect();
    let within = within.map(|by| {
        let (groups, group_count) = Dense::of(table, by);
        let group_of = |row| groups.value(table, by, row);
        let shares = shares_within(
            by_person,
            person,
            (value_of, count),
            (group_of, group_count),
        );
        (by, shares)
    });
    TfColumn {
        exact_level,
        u_exact,
        feature,
        dense,
        share_of_value,
        within,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::link::model::LinkType;
    use crate::model::Flags;
    use proptest::prelude::*;

    /// A model trained on the comparer's table, its m and u probabilities replaced by `mu`
    /// (cycled), so that pairs of every weight come up, and any level may weigh the most.
    pub(crate) fn model_with(comparer: &Comparer, mu: &[(f64, f64)]) -> Model {
        let mut model = crate::link::training::train(comparer, LinkType::DedupeOnly);
        let levels = model
            .comparisons
            .iter_mut()
            .flat_map(|c| c.comparison_levels.iter_mut());
        for (level, (m, u)) in levels.zip(mu.iter().cycle()) {
            (level.m_probability, level.u_probability) = (*m, *u);
        }
        model
    }

    proptest! {
        /// `score_above` scores a pair exactly as `score` does, and drops it only when its
        /// weight does not exceed the floor by more than `EQUAL_WEIGHTS`.
        #[test]
        fn a_pair_is_dropped_only_when_it_cannot_exceed_the_floor(
            rows in prop::collection::vec((0..5usize, 0..4usize, 0..3u32, any::<bool>()), 2..8),
            mu in prop::collection::vec((0.001f64..1.0, 0.000001f64..1.0), 1..40),
            floor in -40.0f64..30.0,
        ) {
            use crate::link::comparison::tests::table;
            let settings = crate::config::load(None).unwrap().settings.link;
            let table = table(&settings, &rows);
            let comparer = Comparer { table: &table, settings: &settings, suspect: &Flags::default() };
            let model = model_with(&comparer, &mu);
            let persons: Vec<u32> = (0..rows.len() as u32).collect();
            let scorer = Scorer::new(&comparer, &model, &persons);
            for i in 0..rows.len() {
                let ceiling = scorer.ceiling(&comparer, i);
                for j in (0..rows.len()).filter(|&j| j != i) {
                    let whole = scorer.score(&comparer, i, j);
                    match scorer.score_above(&comparer, &ceiling, i, j, Some(floor)) {
                        Some(scored) => {
                            prop_assert_eq!(scored.levels, whole.levels);
                            prop_assert_eq!(scored.weight, whole.weight);
                        }
                        None => prop_assert!(whole.weight <= floor + EQUAL_WEIGHTS * 2.0),
                    }
                    let unbounded = scorer.score_above(&comparer, &ceiling, i, j, None);
                    prop_assert_eq!(unbounded.map(|s| s.weight), Some(whole.weight));
                }
            }
        }

        /// No pair weighs more than `most_weight` of either of its rows.
        #[test]
        fn no_pair_weighs_more_than_the_most_of_its_rows(
            rows in prop::collection::vec((0..5usize, 0..4usize, 0..3u32, any::<bool>()), 2..8),
            mu in prop::collection::vec((0.001f64..1.0, 0.000001f64..1.0), 1..40),
            suspect in prop::collection::vec(any::<bool>(), 8),
        ) {
            use crate::link::comparison::tests::table;
            let settings = crate::config::load(None).unwrap().settings.link;
            let table = table(&settings, &rows);
            let suspect: Flags = suspect[..rows.len()].iter().copied().collect();
            let comparer = Comparer { table: &table, settings: &settings, suspect: &suspect };
            let model = model_with(&comparer, &mu);
            let persons: Vec<u32> = (0..rows.len() as u32).collect();
            let scorer = Scorer::new(&comparer, &model, &persons);
            for i in 0..rows.len() {
                let most = scorer.most_weight(&comparer, i);
                for j in (0..rows.len()).filter(|&j| j != i) {
                    prop_assert!(scorer.score(&comparer, i, j).weight <= most + 1e-9);
                    prop_assert!(scorer.score(&comparer, j, i).weight <= most + 1e-9);
                }
            }
        }

        /// A row's term-frequency share, read through its column's numbering of values, is the
        /// share of persons bearing its value (by `value_key`), counted naively, among the
        /// table's persons or the population given; 1 for a blank.
        #[test]
        fn a_rows_share_is_its_values_bearers_among_the_persons(
            rows in prop::collection::vec((0..5usize, 0..4usize, 0..3u32, any::<bool>()), 1..8),
            person in prop::collection::vec(0u32..5, 8),
            population in prop::option::of(1u64..100),
        ) {
            use std::collections::BTreeSet;
            use crate::link::comparison::tests::table;
            let settings = crate::config::load(None).unwrap().settings.link;
            let table = table(&settings, &rows);
            let person = &person[..rows.len()];
            let by_person = rows_by_person(person);
            let counted = person.iter().collect::<BTreeSet<_>>().len() as f32;
            let persons = population.map_or(counted, |p| p as f32);
            for feature in 0..table.features.len() {
                let tf = tf_column(&table, (&by_person, person, population), feature, None, 0, 0.5);
                for row in 0..rows.len() {
                    let bearers = |key| {
                        let rows = (0..rows.len()).filter(|&r| value_key(&table, feature, r) == Some(key));
                        rows.map(|r| person[r]).collect::<BTreeSet<_>>().len() as f32
                    };
                    let expected = value_key(&table, feature, row).map_or(1.0, |key| bearers(key) / persons);
                    prop_assert_eq!(tf.share(&table, row), expected, "feature {}", feature);
                }
            }
        }

        #[test]
        fn rows_by_person_groups_every_row_once(person in prop::collection::vec(0u32..50, 0..200)) {
            let rows = rows_by_person(&person);
            let mut seen = rows.clone();
            seen.sort_unstable();
            prop_assert_eq!(seen, (0..person.len() as u32).collect::<Vec<_>>());
            let persons: Vec<u32> = rows.iter().map(|&r| person[r as usize]).collect();
            prop_assert!(persons.windows(2).all(|w| w[0] <= w[1]));
        }

        /// Persons per value, and per row the share of its group's persons with its value,
        /// against sets of persons counted naively.
        #[test]
        fn each_person_counts_once_a_value_and_a_group(
            rows in prop::collection::vec(
                (0u32..20, prop::option::of(0u32..6), prop::option::of(0u32..3)),
                0..200,
            )
        ) {
            use std::collections::{BTreeMap, BTreeSet};
            let person: Vec<u32> = rows.iter().map(|r| r.0).collect();
            let values: Vec<u32> = rows.iter().map(|r| r.1.unwrap_or(NO_VALUE)).collect();
            let groups: Vec<u32> = rows.iter().map(|r| r.2.unwrap_or(NO_VALUE)).collect();
            let by_person = rows_by_person(&person);
            let counts = persons_per_value(&by_person, &person, |r| values[r], 6);
            let shares = shares_within(&by_person, &person, (|r| values[r], 6), (|r| groups[r], 3));
            let mut bearers: BTreeMap<u32, BTreeSet<u32>> = BTreeMap::new();
            let mut in_group: BTreeMap<u32, BTreeSet<u32>> = BTreeMap::new();
            let mut in_pair: BTreeMap<(u32, u32), BTreeSet<u32>> = BTreeMap::new();
            for &(p, value, group) in &rows {
                if let Some(v) = value {
                    bearers.entry(v).or_default().insert(p);
                }
                if let Some(g) = group {
                    in_group.entry(g).or_default().insert(p);
                }
                if let (Some(v), Some(g)) = (value, group) {
                    in_pair.entry((v, g)).or_default().insert(p);
                }
            }
            for v in 0..6 {
                prop_assert_eq!(counts[v as usize] as usize, bearers.get(&v).map_or(0, |b| b.len()));
            }
            for (r, &(_, value, group)) in rows.iter().enumerate() {
                let expected = match (value, group) {
                    (Some(v), Some(g)) => in_pair[&(v, g)].len() as f32 / in_group[&g].len() as f32,
                    _ => 1.0,
                };
                prop_assert_eq!(shares[r], expected);
            }
        }
    }
}
