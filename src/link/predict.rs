//! Prediction: a pair's comparison vector becomes a match weight, the prior's weight plus each
//! level's log2(m/u), with a term-frequency adjustment of exact agreement (agreeing on a rare
//! name says more than agreeing on 王伟). Frequencies are counted among the persons being
//! linked, not rows, optionally within the value of another field (a name's frequency in its
//! county).

use std::collections::HashMap;

use rayon::prelude::*;

use super::blocking::hash_bytes;
use super::comparison::{Comparer, Levels};
use super::model::{probability, Model, Weights};
use super::table::{Column, LinkTable, NO_DATE};
use crate::config::link::{LevelTest, Tf};

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
}

struct TfColumn {
    exact_level: usize,
    u_exact: f64,
    /// Per row: the share of all rows that have its value.
    share: Vec<f32>,
    /// The feature frequencies are counted within, and per row the share of rows with its
    /// value among the rows with its value of that feature.
    within: Option<(usize, Vec<f32>)>,
}

impl Scorer {
    /// Weights of `model`, with term frequencies counted on the comparer's table among the
    /// persons `person` (a row's person so far) names.
    pub fn new(comparer: &Comparer, model: &Model, person: &[u32]) -> Scorer {
        let tf = comparer
            .settings
            .comparisons
            .iter()
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
                    person,
                    comparison.feature,
                    within,
                    exact_level,
                    model.u(c, exact_level),
                ))
            })
            .collect();
        Scorer {
            weights: model.weights(),
            tf,
        }
    }

    pub fn score(&self, comparer: &Comparer, i: usize, j: usize) -> Scored {
        let levels = comparer.levels(i, j);
        let mut weight = self.weights.prior;
        for (c, level_weights) in self.weights.levels.iter().enumerate() {
            if let Some(level) = levels.get(c) {
                weight += level_weights[level] + self.tf_adjustment(comparer.table, c, level, i, j);
            }
        }
        Scored { levels, weight }
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
            _ => tf.share[i],
        };
        let floor = 1.0 / table.len().max(1) as f64;
        (tf.u_exact / f64::from(share).max(floor)).log2()
    }
}

/// A row's value of a feature as a number to count by (`None` when blank).
fn value_key(table: &LinkTable, feature: usize, row: usize) -> Option<u64> {
    match &table.columns[feature] {
        Column::Id(ids) => ids[row].is_whole().then(|| hash_bytes(ids[row].digits())),
        Column::Name(names) => {
            let entry = names.values[row];
            (entry != 0).then(|| hash_bytes(names.entries[entry as usize].key.as_bytes()))
        }
        Column::Date(dates) => (dates.days[row] != NO_DATE).then_some(dates.days[row] as u64),
        Column::Words(words) => (words.values[row] != 0).then_some(u64::from(words.values[row])),
    }
}

fn same_value(table: &LinkTable, feature: usize, i: usize, j: usize) -> bool {
    let a = value_key(table, feature, i);
    a.is_some() && a == value_key(table, feature, j)
}

/// Per key: how many different persons (`person` of each row) have it.
fn persons_by<K: Ord + std::hash::Hash + Copy + Send + Sync>(
    keys: &[Option<K>],
    person: &[u32],
) -> HashMap<K, u32> {
    let mut items: Vec<(K, u32)> = keys
        .par_iter()
        .zip(person)
        .filter_map(|(k, p)| Some(((*k)?, *p)))
        .collect();
    items.par_sort_unstable();
    items.dedup();
    let mut counts = HashMap::new();
    for (key, _) in items {
        *counts.entry(key).or_insert(0) += 1;
    }
    counts
}

/// Term frequencies among persons, not rows: a person listed by four departments is one
/// bearer of the name.
fn tf_column(
    table: &LinkTable,
    person: &[u32],
    feature: usize,
    within: Option<usize>,
    exact_level: usize,
    u_exact: f64,
) -> TfColumn {
    let rows = table.len();
    let values: Vec<Option<u64>> = (0..rows)
        .into_par_iter()
        .map(|r| value_key(table, feature, r))
        .collect();
    let counts = persons_by(&values, person);
    let persons = persons_by(&vec![Some(()); rows], person)[&()].max(1);
    let share = values
        .par_iter()
        .map(|v| v.map_or(1.0, |v| counts[&v] as f32 / persons as f32))
        .collect();
    let within = within.map(|by| {
        let groups: Vec<Option<u64>> = (0..rows)
            .into_par_iter()
            .map(|r| value_key(table, by, r))
            .collect();
        let pairs: Vec<Option<(u64, u64)>> = values
            .iter()
            .zip(&groups)
            .map(|(v, g)| Some(((*v)?, (*g)?)))
            .collect();
        let (pair_counts, group_counts) = (persons_by(&pairs, person), persons_by(&groups, person));
        let shares = pairs
            .par_iter()
            .zip(&groups)
            .map(|(pair, group)| match (pair, group) {
                (Some(p), Some(g)) => pair_counts[p] as f32 / group_counts[g] as f32,
                _ => 1.0,
            })
            .collect();
        (by, shares)
    });
    TfColumn {
        exact_level,
        u_exact,
        share,
        within,
    }
}
