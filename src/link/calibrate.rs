//! How much a pair's odds count when persons compete for a loose row. A pairwise model's prior
//! (two random rows are one person) says nothing of how likely a row is to belong to *some*
//! person already in the data, so that factor is learnt from rows whose ID is known: a sample
//! of anchored rows is scored as if its IDs were blank, and the factor K under which
//!
//! ```text
//! P(row is person i) = K·odds_i / (1 + K·Σ odds_j)
//! ```
//!
//! best predicts their true persons (maximum likelihood) is kept in the model. The same sample
//! says how the sources of a candidate person weigh: the true person of a 两项补贴 row has a
//! registry row far more often than a namesake does. Those likelihood ratios (add-one
//! smoothed) multiply each person's odds before K is fitted.

use std::collections::BTreeMap;

use super::candidates::candidate_pairs;
use super::cluster::Clusters;
use super::comparison::{is_suspect, Comparer};
use super::model::{AffinityTable, SourceAffinity};
use super::predict::Scorer;
use super::table::LinkTable;
use crate::model::Flags;
use crate::rng::Rng;

/// Rows whose ID is hidden to calibrate.
const SAMPLE: u64 = 20_000;
const LOG2_BOUND: f64 = 30.0;

/// What the sample of rows with hidden IDs taught.
pub struct Calibration {
    pub cluster_odds_factor: f64,
    pub source_affinity: Vec<SourceAffinity>,
}

/// One candidate person of a sampled row.
struct Seen {
    odds: f64,
    is_true: bool,
    /// The sources of the person's rows, the sampled row left out.
    sources: u32,
}

/// Calibrates on a sample of anchored rows; K = 1 and no affinity when there are none.
pub fn calibrate(
    comparer: &Comparer,
    scorer: &Scorer,
    clusters: &mut Clusters,
    anchored: &Flags,
    link_only: bool,
) -> Calibration {
    let seen = candidates_of_sample(comparer, scorer, clusters, anchored, link_only);
    let table = comparer.table;
    let source_affinity = affinity(&seen, table);
    let ratios = AffinityTable::new(&source_affinity, &table.source_names);
    let mut found = 0.0;
    let sums: Vec<f64> = seen
        .iter()
        .map(|(row, persons)| {
            found += f64::from(u8::from(persons.iter().any(|p| p.is_true)));
            let source = table.source[*row as usize];
            persons
                .iter()
                .map(|p| p.odds * ratios.factor(source, p.sources))
                .sum()
        })
        .collect();
    Calibration {
        cluster_odds_factor: if seen.is_empty() {
            1.0
        } else {
            maximum_likelihood(found, &sums)
        },
        source_affinity,
    }
}

/// Per sampled row (its ID hidden): every person known by an ID it could join, with the best
/// pair's odds.
fn candidates_of_sample(
    comparer: &Comparer,
    scorer: &Scorer,
    clusters: &mut Clusters,
    anchored: &Flags,
    link_only: bool,
) -> BTreeMap<u32, Vec<Seen>> {
    let settings = comparer.settings;
    let anchored_rows = anchored.count() as u64;
    let seed = settings.training.seed;
    let sampled = Flags::from_fn(anchored.len(), |r| {
        anchored[r] && Rng::for_item(seed, 13, r as u64).next_u64() % anchored_rows.max(1) < SAMPLE
    });
    let hidden = Flags::from_fn(sampled.len(), |r| {
        sampled[r] || is_suspect(comparer.suspect, r)
    });
    let masked = Comparer {
        suspect: &hidden,
        ..*comparer
    };
    let not_sampled = Flags::from_fn(sampled.len(), |r| !sampled[r]);
    let mut best: BTreeMap<(u32, u32), f64> = BTreeMap::new();
    for rule in 0..settings.blocking.len() {
        let found = candidate_pairs(&masked, scorer, rule, &not_sampled, link_only, None);
        for candidate in found.chunks.into_iter().flatten() {
            let (i, j, weight) = (candidate.a, candidate.b(), candidate.weight);
            for (row, other) in [(i, j), (j, i)] {
                if !sampled[row as usize] || candidate.vetoed() {
                    continue;
                }
                // Only persons known by their IDs: a loose row's true person is unknown.
                let target = clusters.find(other);
                let known = clusters
                    .members(target)
                    .any(|m| m != row && anchored[m as usize]);
                if known && clusters.row_fits(row, target) {
                    let odds = weight.clamp(-500.0, 500.0).exp2();
                    let entry = best.entry((row, target)).or_insert(0.0);
                    *entry = entry.max(odds);
                }
            }
        }
    }
    let mut seen: BTreeMap<u32, Vec<Seen>> = BTreeMap::new();
    for ((row, target), odds) in best {
        let is_true = target == clusters.find(row);
        let sources = clusters.sources_without(target, row);
        seen.entry(row).or_default().push(Seen {
            odds,
            is_true,
            sources,
        });
    }
    seen
}

/// Per (row source, person source): the ratio of how often true persons and other candidates
/// have (or lack) a row of that source, add-one smoothed.
fn affinity(seen: &BTreeMap<u32, Vec<Seen>>, table: &LinkTable) -> Vec<SourceAffinity> {
    let names = &table.source_names;
    let n = names.len();
    // [row source][person source][true person?][source present?]
    let mut counts = vec![vec![[[0u64; 2]; 2]; n]; n];
    for (row, persons) in seen {
        let s = table.source[*row as usize] as usize;
        for p in persons {
            for (t, count) in counts[s].iter_mut().enumerate() {
                let present = p.sources & (1 << t) != 0;
                count[usize::from(p.is_true)][usize::from(present)] += 1;
            }
        }
    }
    let share = |k: u64, of: u64| (k as f64 + 1.0) / (of as f64 + 2.0);
    let mut entries = Vec::new();
    for (s, row) in counts.iter().enumerate() {
        for (t, [other, truth]) in row.iter().enumerate() {
            let (nt, no) = (truth[0] + truth[1], other[0] + other[1]);
            if nt == 0 || no == 0 {
                continue;
            }
            entries.push(SourceAffinity {
                row_source: names[s].clone(),
                cluster_source: names[t].clone(),
                present: share(truth[1], nt) / share(other[1], no),
                absent: share(truth[0], nt) / share(other[0], no),
            });
        }
    }
    entries
}

/// The K at which Σ K·S/(1 + K·S) over the rows equals the rows whose true person was among
/// the candidates: where the likelihood's derivative vanishes (bisection on log2 K).
fn maximum_likelihood(found: f64, sums: &[f64]) -> f64 {
    let expected = |log2_k: f64| {
        let k = log2_k.exp2();
        sums.iter().map(|s| k * s / (1.0 + k * s)).sum::<f64>()
    };
    let (mut low, mut high) = (-LOG2_BOUND, LOG2_BOUND);
    for _ in 0..100 {
        let mid = (low + high) / 2.0;
        if expected(mid) < found {
            low = mid;
        } else {
            high = mid;
        }
    }
    ((low + high) / 2.0).exp2()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_factor_predicts_the_share_found() {
        // Two rows, each with one candidate of odds 1; one of them is right: K = 1 gives
        // 1/2 + 1/2 = 1 expected.
        assert!((maximum_likelihood(1.0, &[1.0, 1.0]) - 1.0).abs() < 1e-6);
        // Both right: K grows to the bound.
        assert!(maximum_likelihood(2.0, &[1.0, 1.0]) > 1e8);
        // Odds of 0.25 with half found: K = 4.
        assert!((maximum_likelihood(1.0, &[0.25, 0.25]) - 4.0).abs() < 1e-6);
    }
}
