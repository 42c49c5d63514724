//! The linker, table in, persons out, in three phases:
//!
//! 1. **Anchors.** With an exclusive ID, rows sharing a valid ID are one person unless a veto
//!    level separates them (the same ID under another name: a relative's ID). The largest
//!    agreeing group keeps the ID; the other rows become *suspects* whose ID is ignored. An
//!    ID carried by more rows than one person has is a placeholder: all its rows are suspects.
//! 2. **Candidates.** Every blocking rule proposes pairs; with an exclusive ID only pairs with
//!    a *loose* row (no valid ID of its own, or a suspect) are scored, since two anchored rows
//!    are decided by their IDs. Pairs are scored with the Fellegi-Sunter model. Nor are the
//!    pairs of an anchored row with a loose row no pair can link or list for review however
//!    well it matches (a common name and nothing else): such pairs decide nothing.
//! 3. **Clusters.** A row belongs to one person: when several persons match a loose row, their
//!    odds share the probability. Links are taken best first, never joining two different
//!    valid IDs or two rows of a file whose rows are all different people.

use std::time::Instant;

use rayon::prelude::*;

use super::blocking;
use super::calibrate;
use super::candidates::{candidate_pairs, Folding};
use super::cluster::{self, Clusters, Numbered, Thresholds};
use super::comparison::Comparer;
use super::model::{AffinityTable, LinkType, Model, ModelError};
use super::pairs::{Decision, Joined, Joins, PairOutcome, ReviewReason};
use super::predict::Scorer;
use super::table::{hash_bytes, LinkTable};
use super::training;
use crate::config::link::LinkSettings;
use crate::model::Flags;

pub struct LinkRequest<'a> {
    pub table: &'a LinkTable,
    pub settings: &'a LinkSettings,
    pub link_type: LinkType,
    /// A model to use; trained on the table when `None`.
    pub model: Option<Model>,
    /// Keep every scored pair that links (for `recon link`'s pair list): the pairs of anchored
    /// rows, and each weak candidate rather than the best a person (`Folding`).
    pub list_every_pair: bool,
    /// Whether a person decided two rows are different people (`recon review import`).
    pub decided_apart: Option<&'a (dyn Fn(u32, u32) -> bool + Sync)>,
}

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct LinkCounts {
    pub rows: u64,
    pub anchored_rows: u64,
    pub suspect_rows: u64,
    /// Exclusive IDs carried by more rows than one person has, and their rows.
    pub placeholder_ids: u64,
    pub placeholder_rows: u64,
    pub loose_rows: u64,
    pub pairs_scored: u64,
    pub pairs_per_rule: Vec<(String, u64)>,
    pub linked_probabilistically: u64,
    /// Candidate pairs decided for review (a run counts a loose row's pairs with one anchored
    /// person once, vetoed pairs apart: `Folding`).
    pub review_pairs: u64,
    /// Candidate pairs a person decided are different people, and of them those whose rows
    /// are one person by their ID all the same.
    pub decided_apart: u64,
    pub decided_apart_one_id: u64,
    pub seconds: Vec<(String, f64)>,
}

pub struct LinkOutcome {
    pub model: Model,
    /// Rows whose exclusive ID is ignored: another person's, or a placeholder.
    pub suspect: Flags,
    /// Rows whose exclusive ID is a placeholder.
    pub placeholder: Flags,
    /// Row -> cluster (numbered in the order of each cluster's first row), and each cluster's
    /// rows.
    pub clusters: Numbered,
    pub joined: Joins,
    /// Scored pairs at or above the review threshold, in (a, b) order.
    pub pairs: Vec<PairOutcome>,
    pub counts: LinkCounts,
}

pub fn link(mut request: LinkRequest) -> Result<LinkOutcome, ModelError> {
    let (table, settings) = (request.table, request.settings);
    let mut counts = LinkCounts {
        rows: table.len() as u64,
        ..LinkCounts::default()
    };
    let mut clock = Instant::now();
    let mut lap = |counts: &mut LinkCounts, phase: &str| {
        let seconds = log_phase(phase, clock);
        counts.seconds.push((phase.to_string(), seconds));
        clock = Instant::now();
    };
    let Anchors {
        suspect,
        placeholder,
        placeholder_ids,
        edges,
        pairs: anchor_pairs,
    } = find_anchors(&request, request.list_every_pair);
    counts.placeholder_ids = placeholder_ids;
    counts.placeholder_rows = placeholder.count() as u64;
    lap(&mut counts, "anchors");
    // Trained as if placeholder rows had no ID; with none, every row's ID counts.
    let without_placeholders = Comparer {
        table,
        settings,
        suspect: &placeholder,
    };
    let given = request.model.take();
    let trained = given.is_none();
    let mut model = match given {
        Some(model) => {
            model.check_fits(settings, request.link_type)?;
            model
        }
        None => training::train(&without_placeholders, request.link_type),
    };
    lap(&mut counts, "train");
    let comparer = Comparer {
        table,
        settings,
        suspect: &suspect,
    };
    let anchored = anchored_rows(table, settings, &suspect);
    let mut clusters = Clusters::new(table, settings.exclusive_id);
    for row in (0..table.len()).filter(|&r| suspect[r]) {
        clusters.forget_id(row as u32);
    }
    for (a, b) in edges {
        clusters.union(a, b);
    }
    let persons: Vec<u32> = (0..table.len() as u32)
        .into_par_iter()
        .map(|r| clusters.root(r))
        .collect();
    let population = model.population.map(|p| p.by_id);
    let scorer = Scorer::among(&comparer, &model, &persons, population);
    lap(&mut counts, "frequencies");
    let link_only = request.link_type == LinkType::LinkOnly;
    if trained {
        let calibration =
            calibrate::calibrate(&comparer, &scorer, &mut clusters, &anchored, link_only);
        model.cluster_odds_factor = calibration.cluster_odds_factor;
        model.source_affinity = calibration.source_affinity;
        lap(&mut counts, "calibrate");
    }
    let thresholds = Thresholds {
        accept: settings.accept,
        review: settings.review,
        cluster_odds_factor: model.cluster_odds_factor,
        affinity: AffinityTable::new(&model.source_affinity, &table.source_names),
    };
    let settled = settled_rows(&comparer, &scorer, &anchored, &thresholds);
    let loose = anchored.len() - anchored.count();
    let unsettled = settled.len() - settled.count();
    tracing::debug!(loose, unsettled, "loose rows that a pair may decide");
    let folding = Folding {
        persons: &persons,
        anchored: &anchored,
        thresholds: &thresholds,
        decided_apart: request.decided_apart,
    };
    let folding = (!request.list_every_pair).then_some(&folding);
    let mut chunks = Vec::new();
    for rule in 0..settings.blocking.len() {
        let started = Instant::now();
        let found = candidate_pairs(&comparer, &scorer, rule, &settled, link_only, folding);
        let (pairs, scored) = (found.above_floor, found.scored);
        let kept: usize = found.chunks.iter().map(Vec::len).sum();
        let (text, seconds) = (
            &settings.blocking[rule].text,
            started.elapsed().as_secs_f64(),
        );
        let (rss_mib, peak_mib) = crate::progress::memory_mib();
        tracing::debug!(
            rule = text,
            pairs,
            kept,
            scored,
            seconds,
            rss_mib,
            peak_mib,
            "blocking rule done"
        );
        counts.pairs_per_rule.push((text.clone(), pairs));
        counts.pairs_scored += pairs;
        chunks.extend(found.chunks);
    }
    // Made once at its size, each chunk freed as it is copied: a province has tens of millions.
    let mut candidates = Vec::with_capacity(chunks.iter().map(Vec::len).sum());
    for chunk in chunks {
        candidates.extend(chunk);
    }
    let anchor_pairs = score_anchor_pairs(
        &anchor_pairs,
        &without_placeholders,
        &scorer,
        settings.review,
    );
    // Deciding holds the run's peak: the term frequencies are not needed any more.
    drop(scorer);
    lap(&mut counts, "candidates");
    if let Some(apart) = request.decided_apart {
        let pairs: Vec<(u32, u32)> = candidates
            .par_iter()
            .filter(|c| thresholds.alone(c.weight) >= thresholds.review && apart(c.a, c.b()))
            .map(|c| (c.a, c.b()))
            .collect();
        counts.decided_apart = pairs.len() as u64;
        counts.decided_apart_one_id = clusters.keep_apart(&pairs) as u64;
    }
    let decided = cluster::decide(&mut clusters, persons, &candidates, &anchored, &thresholds);
    drop(candidates);
    let mut pairs = decided.pairs;
    pairs.extend(anchor_pairs);
    // Stable: a suspect's pair may come both as a candidate and as a pair of its ID.
    pairs.par_sort_by_key(|p| (p.a, p.b));
    let numbered = clusters.numbered();
    let mut joined = decided.joined_at;
    for row in (0..table.len()).filter(|&r| anchored[r]) {
        joined.set(row, Joined::Anchor);
    }
    count_outcome(&mut counts, &anchored, &suspect, &joined, &pairs);
    lap(&mut counts, "clusters");
    Ok(LinkOutcome {
        model,
        suspect,
        placeholder,
        clusters: numbered,
        joined,
        pairs,
        counts,
    })
}

/// Logs a phase of the link stage begun at `started` (with the memory held then); returns its
/// seconds.
pub(super) fn log_phase(phase: &str, started: Instant) -> f64 {
    let seconds = started.elapsed().as_secs_f64();
    let (rss_mib, peak_mib) = crate::progress::memory_mib();
    tracing::debug!(phase, seconds, rss_mib, peak_mib, "link phase done");
    seconds
}

/// Rows with a valid exclusive ID that is their own.
fn anchored_rows(table: &LinkTable, settings: &LinkSettings, suspect: &Flags) -> Flags {
    match settings.exclusive_id.and_then(|f| table.ids(f)) {
        Some(ids) => Flags::from_fn(table.len(), |r| ids.get(r).is_valid() && !suspect[r]),
        None => Flags::none(table.len()),
    }
}

/// Rows whose pairs need not be scored unless the other row is unsettled: the anchored, and
/// the loose rows that no pair can link or list for review (`Thresholds::may_decide`) however
/// well the other row matches, such as a row with a common name and nothing else. A pair of
/// two settled rows changes nothing `decide` writes: it only adds to the loose rows' competing
/// odds, and a settled row's competing share decides nothing.
fn settled_rows(
    comparer: &Comparer,
    scorer: &Scorer,
    anchored: &Flags,
    thresholds: &Thresholds,
) -> Flags {
    // A margin over the bound for rounding: a pair's weight is summed in another order.
    const ROUNDING: f64 = 1e-6;
    let source = &comparer.table.source;
    Flags::from_fn(anchored.len(), |r| {
        anchored[r] || {
            let most = scorer.most_weight(comparer, r) + ROUNDING;
            !thresholds.may_decide(most, source[r])
        }
    })
}

fn count_outcome(
    counts: &mut LinkCounts,
    anchored: &Flags,
    suspect: &Flags,
    joined: &Joins,
    pairs: &[PairOutcome],
) {
    counts.anchored_rows = anchored.count() as u64;
    counts.suspect_rows = suspect.count() as u64;
    counts.loose_rows = counts.rows - counts.anchored_rows;
    counts.linked_probabilistically = joined
        .iter()
        .filter(|j| matches!(j, Joined::Probable(_)))
        .count() as u64;
    counts.review_pairs = pairs
        .iter()
        .filter(|p| matches!(p.decision, Decision::Review(_)))
        .count() as u64;
}

struct Anchors {
    suspect: Flags,
    /// Rows whose ID is a placeholder (suspects too), and how many IDs are.
    placeholder: Flags,
    placeholder_ids: u64,
    /// Rows to join: each anchored row with the next of its group.
    edges: Vec<(u32, u32)>,
    /// Pairs of one ID to report (scored once the model's frequencies are known).
    pairs: Vec<AnchorPair>,
}

/// A pair of rows sharing a valid ID, and what became of it.
#[derive(Clone, Copy)]
struct AnchorPair {
    a: u32,
    b: u32,
    decision: Decision,
}

/// Phase 1: rows sharing a valid exclusive ID, split where a veto holds. Keeps the pairs
/// that were vetoed, and with `keep_all` every pair. An ID (valid or not) carried by more
/// than `max_rows_per_id` rows is a placeholder: its rows are suspects, never grouped (a
/// group of thousands would be compared pair by pair, and its rows are different people).
fn find_anchors(request: &LinkRequest, keep_all: bool) -> Anchors {
    let (table, settings) = (request.table, request.settings);
    let mut suspect = Flags::none(table.len());
    let mut placeholder = Flags::none(table.len());
    let Some(ids) = settings.exclusive_id.and_then(|f| table.ids(f)) else {
        return Anchors {
            suspect,
            placeholder,
            placeholder_ids: 0,
            edges: Vec::new(),
            pairs: Vec::new(),
        };
    };
    let keys = blocking::sorted_keys(table.len(), |r| {
        let id = ids.get(r);
        id.is_whole().then(|| hash_bytes(id.digits()))
    });
    let ranges = blocking::blocks(&keys);
    let comparer = Comparer {
        table,
        settings,
        suspect: &Flags::default(),
    };
    let link_only = request.link_type == LinkType::LinkOnly;
    let too_many = |rows: usize| rows > settings.max_rows_per_id;
    let items = blocking::visit_blocks(&keys, &ranges, |rows, out| {
        if too_many(rows.len()) {
            out.extend(rows.iter().map(|&row| AnchorItem::Placeholder(row)));
        } else if ids.get(rows[0] as usize).is_valid() {
            split_group(rows, &comparer, keep_all, out);
        }
    });
    let placeholders = ranges.iter().filter(|r| too_many(r.len()));
    let (placeholder_ids, most) = placeholders.fold((0, None), |(n, most), r| {
        let largest = most.filter(|m: &&std::ops::Range<usize>| m.len() >= r.len());
        (n + 1, largest.or(Some(r)))
    });
    if let Some(most) = most {
        let id = ids.get(keys[most.start].1 as usize);
        tracing::warn!(
            ids = placeholder_ids,
            most_rows = most.len(),
            largest = %crate::mask::mask_id(id.text()),
            "ID numbers carried by more than {} rows each are placeholders, not identities: their rows are linked as if they had no ID",
            settings.max_rows_per_id
        );
    }
    drop(keys);
    let (mut edges, mut pairs) = (Vec::new(), Vec::new());
    for item in items.into_iter().flatten() {
        match item {
            AnchorItem::Suspect(row) => suspect.set(row as usize, true),
            AnchorItem::Placeholder(row) => {
                suspect.set(row as usize, true);
                placeholder.set(row as usize, true);
            }
            AnchorItem::Edge(a, b) => edges.push((a, b)),
            AnchorItem::Pair(pair) => {
                let side = &table.side;
                if !link_only || side[pair.a as usize] != side[pair.b as usize] {
                    pairs.push(pair);
                }
            }
        }
    }
    Anchors {
        suspect,
        placeholder,
        placeholder_ids,
        edges,
        pairs,
    }
}

/// What splitting one ID's rows found.
enum AnchorItem {
    /// Two rows of the set that keeps the ID.
    Edge(u32, u32),
    /// A row whose ID is another person's.
    Suspect(u32),
    /// A row whose ID is a placeholder.
    Placeholder(u32),
    Pair(AnchorPair),
}

/// One ID's rows: the largest set joined by unvetoed pairs keeps the ID (ties: the set with
/// the first row); the rest are suspects.
fn split_group(rows: &[u32], comparer: &Comparer, keep_all: bool, out: &mut Vec<AnchorItem>) {
    let can_veto = comparer
        .settings
        .comparisons
        .iter()
        .any(|c| c.vetoes.contains(&true));
    let mut parent: Vec<usize> = (0..rows.len()).collect();
    fn root(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    let mut vetoed_pairs = Vec::new();
    if can_veto {
        for a in 0..rows.len() {
            for b in a + 1..rows.len() {
                if comparer.vetoes(rows[a] as usize, rows[b] as usize) {
                    vetoed_pairs.push((a, b));
                } else {
                    let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
                    parent[ra.max(rb)] = ra.min(rb);
                }
            }
        }
    } else {
        parent.fill(0);
    }
    let roots: Vec<usize> = (0..rows.len()).map(|x| root(&mut parent, x)).collect();
    let size = |r: usize| roots.iter().filter(|x| **x == r).count();
    let main = (0..rows.len())
        .filter(|&r| roots[r] == r)
        .max_by_key(|&r| (size(r), std::cmp::Reverse(r)))
        .unwrap_or(0);
    let kept: Vec<u32> = (0..rows.len())
        .filter(|&x| roots[x] == main)
        .map(|x| rows[x])
        .collect();
    out.extend(kept.windows(2).map(|w| AnchorItem::Edge(w[0], w[1])));
    out.extend(
        (0..rows.len())
            .filter(|&x| roots[x] != main)
            .map(|x| AnchorItem::Suspect(rows[x])),
    );
    for a in 0..rows.len() {
        for b in a + 1..rows.len() {
            let vetoed = vetoed_pairs.contains(&(a, b));
            if !(keep_all || vetoed) {
                continue;
            }
            out.push(AnchorItem::Pair(AnchorPair {
                a: rows[a],
                b: rows[b],
                decision: match (roots[a] == main && roots[b] == main, vetoed) {
                    (true, _) => Decision::Linked,
                    (false, true) => Decision::Review(ReviewReason::Vetoed),
                    (false, false) => Decision::NotLinked,
                },
            }));
        }
    }
}

/// The anchor pairs scored: the linked ones, and the others at or above the review threshold.
fn score_anchor_pairs(
    pairs: &[AnchorPair],
    comparer: &Comparer,
    scorer: &Scorer,
    review: f64,
) -> Vec<PairOutcome> {
    pairs
        .par_iter()
        .filter_map(|pair| {
            let scored = scorer.score(comparer, pair.a as usize, pair.b as usize);
            let p = scored.probability();
            (pair.decision == Decision::Linked || p >= review).then_some(PairOutcome {
                a: pair.a,
                b: pair.b,
                weight: scored.weight as f32,
                probability: p as f32,
                competing: p as f32,
                decision: pair.decision,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::cluster::Candidate;
    use crate::link::comparison::tests::table;
    use crate::link::table::NO_GROUP;
    use proptest::prelude::*;

    /// A table of `cells` in `groups`, a model whose m and u probabilities are `mu` (cycled) at
    /// a prior of 10^`prior_power`, and thresholds at a cluster odds factor of
    /// 10^`odds_factor_power`: weights of every sign, so that pairs are linked, listed and left.
    fn weighed(
        settings: &LinkSettings,
        cells: &[(usize, usize, u32, bool)],
        groups: Vec<u32>,
        mu: &[(f64, f64)],
        (prior_power, odds_factor_power): (f64, f64),
    ) -> (LinkTable, Model, Thresholds) {
        let mut table = table(settings, cells);
        table.group = groups.into_iter().collect();
        let none = Flags::default();
        let comparer = Comparer {
            table: &table,
            settings,
            suspect: &none,
        };
        let mut model = crate::link::predict::tests::model_with(&comparer, mu);
        model.probability_two_random_records_match = 10f64.powf(prior_power);
        let thresholds = Thresholds {
            accept: settings.accept,
            review: settings.review,
            cluster_odds_factor: 10f64.powf(odds_factor_power),
            affinity: AffinityTable::new(&model.source_affinity, &table.source_names),
        };
        (table, model, thresholds)
    }

    /// Every rule's candidates, pairing rows unless both are `paired_unless`.
    fn candidates(
        comparer: &Comparer,
        scorer: &Scorer,
        paired_unless: &Flags,
        folding: Option<&Folding>,
    ) -> Vec<Candidate> {
        (0..comparer.settings.blocking.len())
            .flat_map(|rule| {
                candidate_pairs(comparer, scorer, rule, paired_unless, false, folding).chunks
            })
            .flatten()
            .collect()
    }

    /// m and u probabilities, and the powers of ten of the prior and the cluster odds factor,
    /// for `weighed`.
    fn weights() -> impl Strategy<Value = (Vec<(f64, f64)>, f64, f64)> {
        (
            prop::collection::vec((0.001f64..1.0, 0.000001f64..1.0), 1..40),
            -4.0f64..-0.3,
            -3.0f64..3.0,
        )
    }

    proptest! {
        /// Leaving the pairs of two settled rows unscored decides every pair and row as
        /// scoring them would.
        #[test]
        fn pairs_of_settled_rows_decide_nothing(
            rows in prop::collection::vec((
                (0..5usize, 0..4usize, 0..3u32, any::<bool>()),
                prop_oneof![Just(NO_GROUP), 0u32..3],
                any::<bool>(),
            ), 2..24),
            (mu, prior_power, odds_factor_power) in weights(),
        ) {
            let settings = crate::config::load(None).unwrap().settings.link;
            let cells: Vec<_> = rows.iter().map(|r| r.0).collect();
            let groups = rows.iter().map(|r| r.1).collect();
            let (table, model, thresholds) =
                weighed(&settings, &cells, groups, &mu, (prior_power, odds_factor_power));
            let anchored: Flags = rows.iter().map(|r| r.2).collect();
            let comparer = Comparer { table: &table, settings: &settings, suspect: &Flags::default() };
            let persons: Vec<u32> = (0..rows.len() as u32).collect();
            let scorer = Scorer::new(&comparer, &model, &persons);
            let settled = settled_rows(&comparer, &scorer, &anchored, &thresholds);
            let decided = |paired_unless: &Flags| {
                let candidates = candidates(&comparer, &scorer, paired_unless, None);
                let mut clusters = Clusters::new(&table, settings.exclusive_id);
                let decided = cluster::decide(&mut clusters, persons.clone(), &candidates, &anchored, &thresholds);
                (decided.pairs, decided.joined_at)
            };
            prop_assert_eq!(decided(&settled), decided(&anchored));
        }

        /// Folding a loose row's pairs with a person decides every row, and lists the same
        /// pairs for review, as deciding them all would.
        #[test]
        fn folded_pairs_decide_as_all_of_them(
            rows in prop::collection::vec((
                (0..5usize, 0..4usize, 0..3u32, any::<bool>()),
                prop_oneof![Just(NO_GROUP), 0u32..3],
                prop::option::of(0u32..4),
            ), 2..24),
            (mu, prior_power, odds_factor_power) in weights(),
        ) {
            let settings = crate::config::load(None).unwrap().settings.link;
            let cells: Vec<_> = rows.iter().map(|r| r.0).collect();
            let groups = rows.iter().map(|r| r.1).collect();
            let (table, model, thresholds) =
                weighed(&settings, &cells, groups, &mu, (prior_power, odds_factor_power));
            // Anchored rows are those given a person; a person's rows are one cluster.
            let anchored: Flags = rows.iter().map(|r| r.2.is_some()).collect();
            let comparer = Comparer { table: &table, settings: &settings, suspect: &Flags::default() };
            let anchored_clusters = || {
                let mut clusters = Clusters::new(&table, settings.exclusive_id);
                for (a, b) in (0..rows.len()).flat_map(|a| (0..a).map(move |b| (a, b))) {
                    if rows[a].2.is_some() && rows[a].2 == rows[b].2 {
                        clusters.union(a as u32, b as u32);
                    }
                }
                clusters
            };
            let clusters = anchored_clusters();
            let persons: Vec<u32> = (0..rows.len() as u32).map(|r| clusters.root(r)).collect();
            let scorer = Scorer::new(&comparer, &model, &persons);
            let folding = Folding {
                persons: &persons, anchored: &anchored, thresholds: &thresholds, decided_apart: None,
            };
            let decided = |folding: Option<&Folding>| {
                let candidates = candidates(&comparer, &scorer, &anchored, folding);
                let mut clusters = anchored_clusters();
                let mut decided = cluster::decide(&mut clusters, persons.clone(), &candidates, &anchored, &thresholds);
                // Each row's cluster named by its first row.
                let roots: Vec<u32> = (0..rows.len() as u32).map(|r| clusters.root(r)).collect();
                let first: Vec<u32> = roots.iter().map(|r| roots.iter().position(|x| x == r).unwrap() as u32).collect();
                // In pair order, as `link` hands them on: of equally probable pairs between
                // two persons the review list keeps the first.
                decided.pairs.sort_by_key(|p| (p.a, p.b));
                let listed = crate::link::review_pairs(&decided.pairs, &first);
                (listed, decided.joined_at, first)
            };
            prop_assert_eq!(decided(Some(&folding)), decided(None));
        }
    }
}
