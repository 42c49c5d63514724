//! Training, as Splink does it: the prior from the pairs a deterministic rule finds (with an
//! assumed recall), u probabilities from pairs drawn at random (almost all non-matches), and
//! m probabilities by expectation maximisation over blocked pairs, one session a blocking rule;
//! a session leaves the comparisons of its blocking keys alone. EM runs on the histogram of
//! comparison vectors (integer counts merged in a fixed order), so the model is the same
//! whatever the thread count.

use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;

use super::blocking::{self, Keys};
use super::comparison::{Comparer, Levels};
use super::model::{
    EmSession, LinkType, Model, ModelComparison, ModelLevel, TrainingReport, MODEL_VERSION,
};
use crate::config::link::{BlockingRule, Comparison, LevelTest};
use crate::rng::Rng;

/// The smallest probability a level keeps, so no single level can make a weight infinite.
const M_FLOOR: f64 = 1e-6;
/// Matches EM adds to its counts, spread like the starting m probabilities.
const PSEUDO_PAIRS: f64 = 10.0;

/// Trains a model on the table's rows.
pub fn train(comparer: &Comparer, link_type: LinkType) -> Model {
    let settings = comparer.settings;
    let training = &settings.training;
    let keys = Keys {
        table: comparer.table,
        settings,
        suspect: comparer.suspect,
    };
    let link_only = link_type == LinkType::LinkOnly;
    let possible = possible_pairs(comparer.table, link_only);
    let prior_rule = training
        .prior_rule
        .as_ref()
        .unwrap_or(&settings.blocking[0]);
    let mut sorted = SortedKeys::default();
    let prior_pairs = count_pairs(&keys, &mut sorted, prior_rule, link_only);
    let prior = (prior_pairs as f64 / training.prior_recall / possible).clamp(1e-12, 0.5);
    let u = estimate_u_using_random_sampling(comparer, link_only);
    let mut m_estimates: Vec<Vec<Vec<f64>>> = vec![Vec::new(); settings.comparisons.len()];
    let mut sessions = Vec::new();
    for rule in &training.em_sessions {
        let (session, m) = estimate_parameters_using_expectation_maximisation(
            comparer,
            sorted.get(&keys, rule),
            rule,
            &u,
            link_only,
        );
        for (c, estimate) in m.into_iter().enumerate() {
            if let Some(estimate) = estimate {
                m_estimates[c].push(estimate);
            }
        }
        sessions.push(session);
    }
    let comparisons = settings
        .comparisons
        .iter()
        .enumerate()
        .map(|(c, comparison)| {
            let m = average(&m_estimates[c]).unwrap_or_else(|| initial_m(comparison));
            ModelComparison {
                output_column_name: comparison.name.clone(),
                comparison_levels: comparison
                    .levels
                    .iter()
                    .enumerate()
                    .map(|(l, level)| ModelLevel {
                        label_for_charts: level.label.clone(),
                        m_probability: m[l].max(M_FLOOR),
                        u_probability: u.probabilities[c][l],
                    })
                    .collect(),
            }
        })
        .collect();
    Model {
        recon_model_version: MODEL_VERSION,
        link_type,
        probability_two_random_records_match: prior,
        cluster_odds_factor: 1.0,
        source_affinity: Vec::new(),
        comparisons,
        training: TrainingReport {
            rows: comparer.table.len() as u64,
            prior_rule: prior_rule.text.clone(),
            prior_rule_pairs: prior_pairs,
            possible_pairs: possible,
            u_sample_pairs: u.pairs,
            em_sessions: sessions,
        },
        population: None,
    }
}

fn possible_pairs(table: &super::table::LinkTable, link_only: bool) -> f64 {
    let n = table.len() as f64;
    if link_only {
        let left = table.side.iter().filter(|s| **s == 0).count() as f64;
        left * (n - left)
    } else {
        n * (n - 1.0) / 2.0
    }
    .max(1.0)
}

/// Rows sorted by the keys of each rule training asked for, kept until training ends: the
/// prior's rule is usually an EM session's too, and is not sorted twice.
#[derive(Default)]
struct SortedKeys(Vec<(String, Vec<(u64, u32)>)>);

impl SortedKeys {
    fn get(&mut self, keys: &Keys, rule: &BlockingRule) -> &[(u64, u32)] {
        let at = match self.0.iter().position(|(text, _)| *text == rule.text) {
            Some(at) => at,
            None => {
                self.0.push((rule.text.clone(), keys.sorted(rule)));
                self.0.len() - 1
            }
        };
        &self.0[at].1
    }
}

fn count_pairs(keys: &Keys, sorted: &mut SortedKeys, rule: &BlockingRule, link_only: bool) -> u64 {
    let sorted = sorted.get(keys, rule);
    blocking::blocks(sorted)
        .iter()
        .map(|b| blocking::pair_count(keys.table, sorted, b, link_only))
        .sum()
}

/// The average of several sessions' estimates of one comparison.
fn average(estimates: &[Vec<f64>]) -> Option<Vec<f64>> {
    let first = estimates.first()?;
    Some(
        (0..first.len())
            .map(|l| estimates.iter().map(|e| e[l]).sum::<f64>() / estimates.len() as f64)
            .collect(),
    )
}

/// A starting point: most matches agree at the first level, few fall to `else`.
fn initial_m(comparison: &Comparison) -> Vec<f64> {
    let n = comparison.levels.len();
    comparison
        .levels
        .iter()
        .enumerate()
        .map(|(l, level)| match (l, level.test) {
            (0, _) => 0.9,
            (_, LevelTest::Else) => 0.02,
            _ => 0.08 / (n - 2).max(1) as f64,
        })
        .collect()
}

struct UEstimate {
    pairs: u64,
    probabilities: Vec<Vec<f64>>,
}

/// u probabilities: the share of each level among pairs of rows drawn at random (or among all
/// pairs, when there are fewer than the sample would draw).
fn estimate_u_using_random_sampling(comparer: &Comparer, link_only: bool) -> UEstimate {
    const PER_CHUNK: u64 = 1 << 16;
    let training = &comparer.settings.training;
    let table = comparer.table;
    let (left, right): (Vec<u32>, Vec<u32>) = match link_only {
        true => (
            (0..table.len() as u32)
                .filter(|&r| table.side[r as usize] == 0)
                .collect(),
            (0..table.len() as u32)
                .filter(|&r| table.side[r as usize] == 1)
                .collect(),
        ),
        false => ((0..table.len() as u32).collect(), Vec::new()),
    };
    let pool_b = if link_only { &right } else { &left };
    let comparisons = comparer.settings.comparisons.len();
    let wanted = training.u_sample_pairs;
    let empty = vec![vec![0u64; 32]; comparisons];
    let tally = |counts: &mut Vec<Vec<u64>>, i: u32, j: u32| {
        let levels = comparer.levels(i as usize, j as usize);
        for (c, counts) in counts.iter_mut().enumerate() {
            if let Some(level) = levels.get(c) {
                counts[level] += 1;
            }
        }
    };
    let possible = possible_pairs(table, link_only);
    // Few rows: every pair, exactly, instead of a sample.
    let (pairs, counts) = if possible <= wanted as f64 {
        let counts = left
            .par_iter()
            .enumerate()
            .map(|(a, &i)| {
                let mut counts = empty.clone();
                let others = if link_only {
                    &right[..]
                } else {
                    &left[a + 1..]
                };
                for &j in others {
                    tally(&mut counts, i, j);
                }
                counts
            })
            .reduce(|| empty.clone(), add_counts);
        (possible as u64, counts)
    } else {
        let counts = (0..wanted.div_ceil(PER_CHUNK))
            .into_par_iter()
            .map(|chunk| {
                let mut rng = Rng::for_item(training.seed, 7, chunk);
                let mut pairs: Vec<(u32, u32)> = (0..PER_CHUNK.min(wanted - chunk * PER_CHUNK))
                    .map(|_| {
                        let i = left[rng.below(left.len() as u64) as usize];
                        (i, pool_b[rng.below(pool_b.len() as u64) as usize])
                    })
                    .collect();
                // In row order, one side of each pair is read from memory in sequence.
                pairs.sort_unstable();
                let mut counts = empty.clone();
                for (i, j) in pairs.into_iter().filter(|(i, j)| i != j) {
                    tally(&mut counts, i, j);
                }
                counts
            })
            .reduce(|| empty.clone(), add_counts);
        (wanted, counts)
    };
    let probabilities = comparer
        .settings
        .comparisons
        .iter()
        .zip(&counts)
        .map(|(comparison, counts)| {
            let total: u64 = counts.iter().sum();
            (0..comparison.levels.len())
                .map(|l| match total {
                    0 => 1.0 / comparison.levels.len() as f64,
                    // A level never drawn gets half a draw: rare, but not impossible.
                    t => (counts[l] as f64).max(0.5) / t as f64,
                })
                .collect()
        })
        .collect();
    UEstimate {
        pairs,
        probabilities,
    }
}

fn add_counts(mut a: Vec<Vec<u64>>, b: Vec<Vec<u64>>) -> Vec<Vec<u64>> {
    for (x, y) in a.iter_mut().zip(b) {
        for (p, q) in x.iter_mut().zip(y) {
            *p += q;
        }
    }
    a
}

/// Comparison vectors of a session's pairs, counted. Sessions of more than `em_max_pairs`
/// pairs use a deterministic sample of their blocks (each pair equally likely to be kept).
fn session_patterns(
    comparer: &Comparer,
    sorted: &[(u64, u32)],
    link_only: bool,
) -> (u64, Vec<(Levels, u64)>) {
    let training = &comparer.settings.training;
    let mut ranges = blocking::blocks(sorted);
    let total: u64 = ranges
        .iter()
        .map(|b| blocking::pair_count(comparer.table, sorted, b, link_only))
        .sum();
    let keep = training.em_max_pairs as f64 / total.max(1) as f64;
    if keep < 1.0 {
        let threshold = (keep * u64::MAX as f64) as u64;
        ranges.retain(|b| {
            Rng::for_item(training.seed, 11, sorted[b.start].0).next_u64() <= threshold
        });
    }
    let side = &comparer.table.side;
    let patterns = blocking::visit_blocks(sorted, &ranges, |rows, out| {
        for (a, &i) in rows.iter().enumerate() {
            for &j in &rows[a + 1..] {
                if !link_only || side[i as usize] != side[j as usize] {
                    out.push(comparer.levels(i as usize, j as usize));
                }
            }
        }
    });
    let mut counts: HashMap<Levels, u64> = HashMap::new();
    for levels in patterns.into_iter().flatten() {
        *counts.entry(levels).or_insert(0) += 1;
    }
    let mut histogram: Vec<(Levels, u64)> = counts.into_iter().collect();
    histogram.sort_unstable();
    (total, histogram)
}

/// One EM session: m probabilities of the comparisons not blocked on; `None` for the others.
fn estimate_parameters_using_expectation_maximisation(
    comparer: &Comparer,
    sorted: &[(u64, u32)],
    rule: &BlockingRule,
    u: &UEstimate,
    link_only: bool,
) -> (EmSession, Vec<Option<Vec<f64>>>) {
    let settings = comparer.settings;
    let (pairs, histogram) = session_patterns(comparer, sorted, link_only);
    let estimated: Vec<bool> = settings
        .comparisons
        .iter()
        .map(|c| !rule.parts.iter().any(|p| p.feature == c.feature))
        .collect();
    let start: Vec<Vec<f64>> = settings.comparisons.iter().map(initial_m).collect();
    let mut m = start.clone();
    let mut lambda = 0.5;
    let (mut iterations, mut converged) = (0, false);
    while iterations < settings.training.em_max_iterations && !converged {
        iterations += 1;
        let (next_lambda, next_m) =
            em_step(&histogram, &m, &u.probabilities, &estimated, &start, lambda);
        let change = next_m
            .iter()
            .flatten()
            .zip(m.iter().flatten())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        converged = change < 1e-5;
        (lambda, m) = (next_lambda, next_m);
    }
    let used: u64 = histogram.iter().map(|(_, n)| n).sum();
    let session = EmSession {
        blocking_rule: rule.text.clone(),
        pairs,
        pairs_used: used,
        iterations,
        converged,
        probability_two_records_match_in_blocks: lambda,
        estimated: settings
            .comparisons
            .iter()
            .zip(&estimated)
            .filter(|(_, e)| **e)
            .map(|(c, _)| c.name.clone())
            .collect(),
    };
    let m = m
        .into_iter()
        .zip(&estimated)
        .map(|(m, e)| e.then_some(m))
        .collect();
    (session, m)
}

/// One expectation and one maximisation over the histogram of comparison vectors. The
/// maximisation adds `PSEUDO_PAIRS` matches spread like `start`, so a level seen among few
/// matches keeps a plausible m instead of none (negligible with many pairs).
fn em_step(
    histogram: &[(Levels, u64)],
    m: &[Vec<f64>],
    u: &[Vec<f64>],
    estimated: &[bool],
    start: &[Vec<f64>],
    lambda: f64,
) -> (f64, Vec<Vec<f64>>) {
    let prior = (lambda / (1.0 - lambda)).log2();
    let mut matched: Vec<BTreeMap<usize, f64>> = vec![BTreeMap::new(); m.len()];
    let (mut expected_matches, mut total) = (0.0, 0.0);
    for (levels, count) in histogram {
        let weight = prior
            + (0..m.len())
                .filter(|&c| estimated[c])
                .filter_map(|c| {
                    levels
                        .get(c)
                        .map(|l| (m[c][l].max(M_FLOOR) / u[c][l]).log2())
                })
                .sum::<f64>();
        let p = super::model::probability(weight) * *count as f64;
        expected_matches += p;
        total += *count as f64;
        for (c, sums) in matched.iter_mut().enumerate() {
            if let Some(l) = levels.get(c) {
                *sums.entry(l).or_insert(0.0) += p;
            }
        }
    }
    let next_m = m
        .iter()
        .enumerate()
        .map(|(c, old)| {
            let sum: f64 = matched[c].values().sum::<f64>() + PSEUDO_PAIRS;
            match estimated[c] {
                true => (0..old.len())
                    .map(|l| {
                        (matched[c].get(&l).copied().unwrap_or(0.0) + PSEUDO_PAIRS * start[c][l])
                            / sum
                    })
                    .collect(),
                false => old.clone(),
            }
        })
        .collect();
    let lambda = (expected_matches / total.max(1.0)).clamp(1e-9, 1.0 - 1e-9);
    (lambda, next_m)
}
