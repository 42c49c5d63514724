//! Phase 2 of linking, for one blocking rule: the pairs worth scoring (those with a row not
//! settled by its ID, not paired by an earlier rule), scored, those above a floor kept as
//! candidates for clustering. Calibration runs it too.

use std::sync::atomic::{AtomicU64, Ordering};

use super::blocking::{self, Keys};
use super::cluster::{Candidate, Thresholds};
use super::comparison::Comparer;
use super::model::probability;
use super::predict::Scorer;
use super::table::NO_GROUP;
use crate::model::Flags;

/// Pairs weaker than this do not even compete for a row (their odds are negligible).
pub(super) const CANDIDATE_FLOOR: f64 = 0.001;

/// One blocking rule's candidates, how many pairs were scored to find them (the namesakes a
/// loose row meets grow with the square of a county's size) and how many were above the floor.
pub(super) struct RuleCandidates {
    /// In block order, a vector a chunk of blocks.
    pub chunks: Vec<Vec<Candidate>>,
    pub scored: u64,
    pub above_floor: u64,
}

/// What lets `candidate_pairs` fold, in each block, a loose row's pairs with the rows of one
/// person into one or two (`Folding::fold`): the persons and anchored rows as `decide` will
/// see them, its thresholds, and the pairs a person decided are different people.
pub(super) struct Folding<'a> {
    pub persons: &'a [u32],
    pub anchored: &'a Flags,
    pub thresholds: &'a Thresholds,
    pub decided_apart: Option<&'a (dyn Fn(u32, u32) -> bool + Sync)>,
}

impl Folding<'_> {
    /// A block's candidates, `found` as (loose row's place, other row's place, pair) in block
    /// order, less those that change nothing a run keeps (only `recon link` lists the pairs
    /// that end up linked). A loose row's pairs with an anchored person compete, and link, as
    /// the person does: with the best odds among them, when `decide` first meets one of them.
    /// Of those pairs the review list keeps at most one (the most probable, of equals the
    /// first). So they fold into the best and the one listed, the earlier of the two at the
    /// first one's place. A vetoed pair below the review threshold competes for nothing. A
    /// namesake person meets a loose row with each of its rows in the county: these pairs are
    /// most of a province's candidates.
    fn fold(&self, found: Vec<(usize, usize, Candidate)>, rows: &[u32]) -> Vec<Candidate> {
        let listable = |c: &Candidate| self.thresholds.alone(c.weight) >= self.thresholds.review;
        let apart = |c: &Candidate| self.decided_apart.is_some_and(|apart| apart(c.a, c.b()));
        let mut kept: Vec<(usize, Candidate)> = Vec::with_capacity(found.len());
        // (loose row's place, person, place in `found`, pair)
        let mut foldable: Vec<(usize, u32, usize, Candidate)> = Vec::new();
        for (place, (a, b, c)) in found.into_iter().enumerate() {
            let other = rows[b] as usize;
            if c.vetoed() {
                if listable(&c) {
                    kept.push((place, c));
                }
            } else if !self.anchored[other] || (listable(&c) && apart(&c)) {
                kept.push((place, c));
            } else {
                foldable.push((a, self.persons[other], place, c));
            }
        }
        foldable.sort_unstable_by_key(|&(a, person, place, _)| (a, person, place));
        for person in foldable.chunk_by(|x, y| (x.0, x.1) == (y.0, y.1)) {
            let pairs = person.iter().map(|&(_, _, place, c)| (place, c));
            let best = pairs
                .clone()
                .reduce(|x, y| if y.1.weight > x.1.weight { y } else { x });
            let listed = pairs.filter(|(_, c)| listable(c)).reduce(|x, y| {
                let (px, py) = (
                    probability(x.1.weight) as f32,
                    probability(y.1.weight) as f32,
                );
                let before = py > px || (py == px && (y.1.a, y.1.b()) < (x.1.a, x.1.b()));
                if before {
                    y
                } else {
                    x
                }
            });
            let mut keep: Vec<(usize, Candidate)> = best.into_iter().chain(listed).collect();
            keep.sort_unstable_by_key(|&(place, _)| place);
            keep.dedup_by_key(|&mut (place, _)| place);
            // Sorted by place, a person's first pair is its first.
            keep[0].0 = person[0].2;
            kept.extend(keep);
        }
        kept.sort_unstable_by_key(|&(place, _)| place);
        kept.into_iter().map(|(_, c)| c).collect()
    }
}

/// Phase 2 for one blocking rule: scored pairs with at least one row not `settled` (every
/// pair when no row is), not produced by an earlier rule, above the candidate floor. (Here a
/// row not settled is called loose.) With `folding`, a loose row's pairs with one anchored
/// person are folded into the one or two that `decide` and the review list read.
pub(super) fn candidate_pairs(
    comparer: &Comparer,
    scorer: &Scorer,
    rule: usize,
    settled: &Flags,
    link_only: bool,
    folding: Option<&Folding>,
) -> RuleCandidates {
    let settings = comparer.settings;
    let keys = Keys {
        table: comparer.table,
        settings,
        suspect: comparer.suspect,
    };
    let sorted = keys.sorted_with_loose(&settings.blocking[rule], settled);
    let ranges = blocking::blocks(&sorted);
    let table = comparer.table;
    let earlier = &settings.blocking[..rule];
    let refining = blocking::refining_rule(&settings.blocking, rule);
    let (scored, above_floor) = (AtomicU64::new(0), AtomicU64::new(0));
    let chunks = blocking::visit_blocks(&sorted, &ranges, |rows, out| {
        if rows.iter().all(|&r| settled[r as usize]) {
            return;
        }
        // Each row's key under the refining rule (if any): rows sharing it were paired by that
        // rule, and are told so without the other earlier rules' keys.
        let refined: Vec<Option<u64>> = rows
            .iter()
            .map(|&r| refining.and_then(|j| keys.key(&earlier[j], r as usize)))
            .collect();
        let groups: Vec<u32> = rows.iter().map(|&r| table.group.get(r as usize)).collect();
        // Each row's keys under the earlier rules, read when a pair first needs them: most rows
        // of a block meet one loose row, often of their own group, and need none.
        let key_of = |b: usize, e: usize| match refining == Some(e) {
            true => refined[b],
            false => keys.key(&earlier[e], rows[b] as usize),
        };
        let mut earlier_keys: Vec<Option<Option<u64>>> = vec![None; rows.len() * earlier.len()];
        let mut earlier_key = |b: usize, e: usize| {
            *earlier_keys[b * earlier.len() + e].get_or_insert_with(|| key_of(b, e))
        };
        // The loose rows with their keys under the earlier rules.
        let loose: Vec<usize> = (0..rows.len())
            .filter(|&a| !settled[rows[a] as usize])
            .collect();
        let own: Vec<Option<u64>> = loose
            .iter()
            .flat_map(|&a| (0..earlier.len()).map(move |e| (a, e)))
            .map(|(a, e)| earlier_key(a, e))
            .collect();
        let (mut found, mut scored_here) = (Vec::new(), 0);
        // Each row meets every loose row in turn, so that its cells are read from memory once
        // a block, not once a loose row.
        for (b, &j) in rows.iter().enumerate() {
            let loose_pair = !settled[j as usize];
            for (l, &a) in loose.iter().enumerate() {
                // A loose row pairs with every row (but of its own group and of its run of the
                // refining rule's key); two loose rows once.
                if b == a
                    || (loose_pair && b < a)
                    || (groups[a] != NO_GROUP && groups[a] == groups[b])
                    || (refined[a].is_some() && refined[a] == refined[b])
                {
                    continue;
                }
                let (i, j) = (rows[a].min(rows[b]), rows[a].max(rows[b]));
                if link_only && table.side[i as usize] == table.side[j as usize] {
                    continue;
                }
                let own = &own[l * earlier.len()..(l + 1) * earlier.len()];
                let paired_earlier =
                    (0..earlier.len()).any(|e| own[e].is_some() && earlier_key(b, e) == own[e]);
                if paired_earlier {
                    continue;
                }
                let s = scorer.score(comparer, i as usize, j as usize);
                scored_here += 1;
                if s.probability() >= CANDIDATE_FLOOR {
                    let vetoed = comparer.is_vetoed(&s.levels);
                    found.push((a, b, Candidate::new(i, j, s.weight, vetoed)));
                }
            }
        }
        // In the order of the rows in the block, as if every pair had been tried in turn.
        found.sort_unstable_by_key(|(a, b, _)| (*a, *b));
        above_floor.fetch_add(found.len() as u64, Ordering::Relaxed);
        match folding {
            Some(folding) => out.extend(folding.fold(found, rows)),
            None => out.extend(found.into_iter().map(|(_, _, c)| c)),
        }
        scored.fetch_add(scored_here, Ordering::Relaxed);
    });
    RuleCandidates {
        chunks,
        scored: scored.into_inner(),
        above_floor: above_floor.into_inner(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::comparison::tests::table;
    use crate::link::model::{AffinityTable, LinkType};
    use crate::link::training;
    use proptest::prelude::*;

    /// A loose row's pairs with one anchored person fold into the best (by weight) and the
    /// one the review list would keep (most probable, of equals the first pair), the earlier
    /// of the two at the person's first place; a weak vetoed pair goes; a pair with a row
    /// that is not anchored, or with another person, stays.
    #[test]
    fn a_loose_rows_pairs_with_a_person_fold_into_the_best_and_the_listed() {
        let thresholds = Thresholds {
            accept: 0.9,
            review: 0.5,
            cluster_odds_factor: 1.0,
            affinity: AffinityTable::new(&[], &[]),
        };
        // Row 0 is loose; rows 1 to 3 are person 1's, row 4 person 4's, row 5 loose.
        let anchored: Flags = [false, true, true, true, true, false].into_iter().collect();
        let persons = [0, 1, 1, 1, 4, 5];
        let folding = Folding {
            persons: &persons,
            anchored: &anchored,
            thresholds: &thresholds,
            decided_apart: None,
        };
        let rows = [0, 3, 4, 2, 1, 5];
        // Weights of 40 and more are all probability 1 as a float: the listed pair is the
        // first of them by rows, row 1's; the best is row 2's.
        let pair = |b: usize, weight: f64, vetoed: bool| {
            let row = rows[b];
            (0, b, Candidate::new(0, row, weight, vetoed))
        };
        let found = vec![
            pair(1, 45.0, false),
            pair(2, -20.0, false),
            pair(3, 50.0, false),
            pair(4, 40.0, false),
            pair(4, -20.0, true),
            pair(5, -20.0, false),
        ];
        let folded: Vec<(u32, f64)> = folding
            .fold(found, &rows)
            .iter()
            .map(|c| (c.b(), c.weight))
            .collect();
        assert_eq!(folded, [(2, 50.0), (4, -20.0), (1, 40.0), (5, -20.0)]);
    }

    proptest! {
        /// Each rule's candidates are the pairs counted naively: sharing the rule's key and no
        /// earlier rule's, not both anchored, not of one group, across the sides when linking
        /// two lists, at or above the floor; each once.
        #[test]
        fn candidates_are_the_naively_counted_pairs(
            rows in prop::collection::vec((
                (0..5usize, 0..4usize, 0..3u32, any::<bool>()),
                prop_oneof![Just(NO_GROUP), 0u32..3],
                any::<bool>(),
                0u8..2,
            ), 2..24),
            link_only in any::<bool>(),
        ) {
            let settings = crate::config::load(None).unwrap().settings.link;
            let cells: Vec<_> = rows.iter().map(|r| r.0).collect();
            let mut table = table(&settings, &cells);
            table.group = rows.iter().map(|r| r.1).collect();
            table.side = rows.iter().map(|r| r.3).collect();
            let anchored: Flags = rows.iter().map(|r| r.2).collect();
            let none = Flags::default();
            let comparer = Comparer { table: &table, settings: &settings, suspect: &none };
            let model = training::train(&comparer, LinkType::DedupeOnly);
            let persons: Vec<u32> = (0..rows.len() as u32).collect();
            let scorer = Scorer::new(&comparer, &model, &persons);
            let keys = Keys { table: &table, settings: &settings, suspect: &none };
            let key = |rule: usize, row: usize| keys.key(&settings.blocking[rule], row);
            for rule in 0..settings.blocking.len() {
                let candidates = candidate_pairs(&comparer, &scorer, rule, &anchored, link_only, None);
                let mut found: Vec<(u32, u32)> =
                    candidates.chunks.concat().iter().map(|c| (c.a, c.b())).collect();
                found.sort_unstable();
                let shared = |e: usize, i: usize, j: usize| {
                    key(e, i).is_some() && key(e, i) == key(e, j)
                };
                let (mut expected, mut considered) = (Vec::new(), 0);
                for j in 0..rows.len() {
                    for i in 0..j {
                        let (group, side) = (&table.group, &table.side);
                        let excluded = (0..rule).any(|e| shared(e, i, j))
                            || (anchored[i] && anchored[j])
                            || (group.get(i) != NO_GROUP && group.get(i) == group.get(j))
                            || (link_only && side[i] == side[j]);
                        if !shared(rule, i, j) || excluded {
                            continue;
                        }
                        considered += 1;
                        if scorer.score(&comparer, i, j).probability() >= CANDIDATE_FLOOR {
                            expected.push((i as u32, j as u32));
                        }
                    }
                }
                expected.sort_unstable();
                prop_assert_eq!(found, expected, "rule {}", rule);
                prop_assert_eq!(candidates.scored, considered, "rule {}", rule);
            }
        }
    }
}
