//! Clusters of rows that are one person: a union-find that never joins two different valid
//! exclusive IDs, nor two rows of a group whose rows are all different people. Candidate pairs
//! are decided here: a loose row belongs to one person, so when several persons match it their
//! odds share the probability (a row matching two namesakes equally is linked to neither), and
//! links are taken best first.

use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;

use super::model::{probability, AffinityTable};
use super::pairs::{Decision, Joined, Joins, PairOutcome, ReviewReason};
use super::table::{LinkTable, NO_GROUP};
use crate::model::{FastMap, Flags};

const NONE: u32 = u32::MAX;

pub struct Clusters<'a> {
    table: &'a LinkTable,
    exclusive: Option<usize>,
    parent: Vec<u32>,
    /// Per root: a row whose valid exclusive ID the cluster carries.
    id_row: Vec<u32>,
    /// The members of a cluster form a ring: `next` walks it.
    next: Vec<u32>,
    /// Per root: the groups of its rows as bits (`group_bit`), so that two clusters sharing no
    /// group are told apart without walking their rings.
    group_bits: Vec<u32>,
    /// Per root: rows a person decided are someone else (不同人, `recon review import`), so
    /// the cluster never joins theirs, however well any of its rows match.
    apart: FastMap<u32, Vec<u32>>,
}

/// The bit every group past the mask's first 31 shares: two clusters both with one must
/// have their groups compared row by row.
const FAR_GROUPS: u32 = 1 << 31;

fn group_bit(group: u32) -> u32 {
    match group {
        NO_GROUP => 0,
        g if g < 31 => 1 << g,
        _ => FAR_GROUPS,
    }
}

impl<'a> Clusters<'a> {
    pub fn new(table: &'a LinkTable, exclusive: Option<usize>) -> Clusters<'a> {
        let rows = table.len() as u32;
        // Built in parallel: for a province, each is over a hundred megabytes of fresh memory.
        let id_row = match exclusive.and_then(|f| table.ids(f)) {
            Some(ids) => (0..rows)
                .into_par_iter()
                .map(|r| {
                    if ids.get(r as usize).is_valid() {
                        r
                    } else {
                        NONE
                    }
                })
                .collect(),
            None => vec![NONE; rows as usize],
        };
        Clusters {
            table,
            exclusive,
            parent: (0..rows).into_par_iter().collect(),
            id_row,
            next: (0..rows).into_par_iter().collect(),
            group_bits: (0..table.len())
                .into_par_iter()
                .map(|r| group_bit(table.group.get(r)))
                .collect(),
            apart: FastMap::default(),
        }
    }

    /// Keeps the persons of each pair's two rows apart from now on; returns how many pairs
    /// are one person already (joined by their ID), which no decision splits.
    pub fn keep_apart(&mut self, pairs: &[(u32, u32)]) -> usize {
        let mut together = 0;
        for &(a, b) in pairs {
            let (ra, rb) = (self.find(a), self.find(b));
            if ra == rb {
                together += 1;
                continue;
            }
            self.apart.entry(ra).or_default().push(b);
            self.apart.entry(rb).or_default().push(a);
        }
        together
    }

    /// Whether cluster `a` holds a row decided to be someone else than a row of cluster `b`.
    fn decided_apart(&self, a: u32, b: u32) -> bool {
        let holds = |x: u32, y: u32| {
            self.apart
                .get(&x)
                .is_some_and(|rows| rows.iter().any(|&r| self.root(r) == y))
        };
        !self.apart.is_empty() && (holds(a, b) || holds(b, a))
    }

    /// A row's ID stops counting for the cluster (a suspect: the ID is someone else's).
    pub fn forget_id(&mut self, row: u32) {
        self.id_row[row as usize] = NONE;
    }

    pub fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let grand = self.parent[self.parent[x as usize] as usize];
            self.parent[x as usize] = grand;
            x = grand;
        }
        x
    }

    /// The root of row `x`'s cluster, the path left as it is (so that threads can share it).
    pub fn root(&self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            x = self.parent[x as usize];
        }
        x
    }

    /// The rows of the cluster whose root is `root`.
    pub fn members(&self, root: u32) -> impl Iterator<Item = u32> + '_ {
        let mut at = Some(root);
        std::iter::from_fn(move || {
            let current = at?;
            let next = self.next[current as usize];
            at = (next != root).then_some(next);
            Some(current)
        })
    }

    /// Whether two clusters (roots) may be one person.
    pub fn feasible(&self, a: u32, b: u32) -> bool {
        if self.decided_apart(a, b) {
            return false;
        }
        if let (Some(ids), false, false) = (
            self.exclusive.and_then(|f| self.table.ids(f)),
            self.id_row[a as usize] == NONE,
            self.id_row[b as usize] == NONE,
        ) {
            if ids.get(self.id_row[a as usize] as usize).digits()
                != ids.get(self.id_row[b as usize] as usize).digits()
            {
                return false;
            }
        }
        match self.group_bits[a as usize] & self.group_bits[b as usize] {
            0 => true,
            FAR_GROUPS => !self.share_a_group(a, b),
            _ => false,
        }
    }

    /// Whether a row of cluster `a` and one of cluster `b` are in one group.
    fn share_a_group(&self, a: u32, b: u32) -> bool {
        let groups = &self.table.group;
        self.members(a).any(|x| {
            let group = groups.get(x as usize);
            group != NO_GROUP && self.members(b).any(|y| groups.get(y as usize) == group)
        })
    }

    /// The sources of a cluster's rows other than `row`, as a bit mask.
    pub fn sources_without(&self, root: u32, row: u32) -> u32 {
        self.members(root)
            .filter(|&y| y != row)
            .fold(0, |mask, y| mask | 1 << self.table.source[y as usize])
    }

    /// Whether `row` may join cluster `root` (leaving its own): no other row of the cluster is
    /// in the row's group of distinct persons.
    pub fn row_fits(&self, row: u32, root: u32) -> bool {
        let group = self.table.group.get(row as usize);
        group == NO_GROUP
            || !self
                .members(root)
                .any(|y| y != row && self.table.group.get(y as usize) == group)
    }

    /// Joins two rows' clusters; the smaller root index becomes the root.
    pub fn union(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return;
        }
        let (root, child) = (ra.min(rb), ra.max(rb));
        self.parent[child as usize] = root;
        self.group_bits[root as usize] |= self.group_bits[child as usize];
        if self.id_row[root as usize] == NONE {
            self.id_row[root as usize] = self.id_row[child as usize];
        }
        self.next.swap(root as usize, child as usize);
        if let Some(rows) = self.apart.remove(&child) {
            self.apart.entry(root).or_default().extend(rows);
        }
    }

    /// Row -> cluster number, clusters numbered by their first row; and the clusters' rows,
    /// cluster after cluster (cluster c's are `members[starts[c]..starts[c + 1]]`).
    pub fn numbered(mut self) -> Numbered {
        let rows = self.parent.len();
        // The ring's memory numbers the clusters: the rest is let go first.
        drop((
            std::mem::take(&mut self.id_row),
            std::mem::take(&mut self.group_bits),
        ));
        let mut number = std::mem::take(&mut self.next);
        number.fill(NONE);
        let mut cluster_of = Vec::with_capacity(rows);
        let mut sizes: Vec<u32> = Vec::new();
        for row in 0..rows as u32 {
            let root = self.find(row) as usize;
            if number[root] == NONE {
                number[root] = sizes.len() as u32;
                sizes.push(0);
            }
            sizes[number[root] as usize] += 1;
            cluster_of.push(number[root]);
        }
        drop(number);
        let mut starts = Vec::with_capacity(sizes.len() + 1);
        let mut total = 0;
        for size in &sizes {
            starts.push(total);
            total += size;
        }
        starts.push(total);
        let mut next = starts.clone();
        let mut members = vec![0u32; rows];
        for (row, &cluster) in cluster_of.iter().enumerate() {
            members[next[cluster as usize] as usize] = row as u32;
            next[cluster as usize] += 1;
        }
        Numbered {
            cluster_of,
            members,
            starts,
        }
    }
}

/// Clusters numbered by their first row.
pub struct Numbered {
    pub cluster_of: Vec<u32>,
    pub members: Vec<u32>,
    pub starts: Vec<u32>,
}

impl Numbered {
    pub fn len(&self) -> usize {
        self.starts.len() - 1
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn rows(&self, cluster: usize) -> &[u32] {
        &self.members[self.starts[cluster] as usize..self.starts[cluster + 1] as usize]
    }
}

/// A scored pair with at least one loose row, in 16 bytes (a province has tens of millions):
/// whether a veto level holds rides in the top bit of the second row, rows being numbered
/// below 2^31 (a machine runs out of memory at a few hundred million).
#[derive(Clone, Copy, Debug)]
pub struct Candidate {
    pub a: u32,
    b_and_veto: u32,
    pub weight: f64,
}

const VETOED: u32 = 1 << 31;

impl Candidate {
    pub fn new(a: u32, b: u32, weight: f64, vetoed: bool) -> Candidate {
        assert!(a < VETOED && b < VETOED, "rows are numbered below 2^31");
        let veto = if vetoed { VETOED } else { 0 };
        Candidate {
            a,
            b_and_veto: b | veto,
            weight,
        }
    }

    pub fn b(&self) -> u32 {
        self.b_and_veto & !VETOED
    }

    pub fn vetoed(&self) -> bool {
        self.b_and_veto & VETOED != 0
    }
}

pub struct Decided {
    /// Candidate pairs at or above the review threshold, or linked.
    pub pairs: Vec<PairOutcome>,
    /// Per row: the probability it was linked with, for rows linked by a candidate pair (the
    /// others alone).
    pub joined_at: Joins,
}

fn odds(weight: f64) -> f64 {
    weight.clamp(-500.0, 500.0).exp2()
}

/// The thresholds, and what persons' odds are multiplied by when they compete for a row: the
/// calibrated factor, and the affinity of the row's source to the sources of each person.
pub struct Thresholds {
    pub accept: f64,
    pub review: f64,
    pub cluster_odds_factor: f64,
    pub affinity: AffinityTable,
}

impl Thresholds {
    /// Whether a pair of a loose row of `source` weighing at most `weight` may be linked or
    /// listed for review: alone its probability reaches the review threshold, or with the most
    /// the affinity of a person's sources could add it reaches the accept one when no other
    /// person competes. `decide` lists a pair only then, and links a row only by such a pair.
    pub fn may_decide(&self, weight: f64, source: u8) -> bool {
        let with_affinity = self.cluster_odds_factor * odds(weight) * self.affinity.most(source);
        self.alone(weight) >= self.review || with_affinity / (1.0 + with_affinity) >= self.accept
    }

    /// A pair's probability were no other person competing for its loose row.
    pub(super) fn alone(&self, weight: f64) -> f64 {
        let factor = self.cluster_odds_factor * odds(weight);
        probability(weight).max(factor / (1.0 + factor))
    }
}

/// Decides every candidate pair, linking best first (of equal shares, the first candidate:
/// `Folding` in candidates.rs places a person's folded pairs where its first stood). `persons`
/// holds each row's cluster (its root) as `clusters` stand before deciding; it is reused for
/// the roots after.
pub fn decide(
    clusters: &mut Clusters,
    mut persons: Vec<u32>,
    candidates: &[Candidate],
    anchored: &Flags,
    thresholds: &Thresholds,
) -> Decided {
    let (accept, review) = (thresholds.accept, thresholds.review);
    let competing = competing_probabilities(clusters, &persons, candidates, anchored, thresholds);
    let mut order: Vec<u32> = (0..candidates.len() as u32)
        .filter(|&k| competing[k as usize] >= accept)
        .collect();
    order.sort_by(|&x, &y| {
        (competing[y as usize].total_cmp(&competing[x as usize])).then(x.cmp(&y))
    });
    let mut joined_at = Joins::alone(anchored.len());
    for k in order {
        let k = k as usize;
        let c = candidates[k];
        let (ra, rb) = (clusters.find(c.a), clusters.find(c.b()));
        if ra != rb && clusters.feasible(ra, rb) {
            clusters.union(ra, rb);
            for row in [c.a, c.b()] {
                if !anchored[row as usize] {
                    let before = match joined_at.get(row as usize) {
                        Joined::Probable(p) => p,
                        _ => 0.0,
                    };
                    let at = Joined::Probable(before.max(competing[k] as f32));
                    joined_at.set(row as usize, at);
                }
            }
        }
    }
    let clusters = &*clusters;
    persons
        .par_iter_mut()
        .enumerate()
        .for_each(|(r, root)| *root = clusters.root(r as u32));
    let roots = persons;
    let pairs = candidates
        .par_iter()
        .zip(&competing)
        .filter_map(|(c, &shared)| {
            let (ra, rb) = (roots[c.a as usize], roots[c.b() as usize]);
            let alone = thresholds.alone(c.weight);
            let decision = if ra == rb {
                Decision::Linked
            } else if alone < review {
                return None;
            } else if c.vetoed() {
                Decision::Review(ReviewReason::Vetoed)
            } else if !clusters.feasible(ra, rb) {
                return None;
            } else if shared >= review {
                Decision::Review(ReviewReason::BelowAccept)
            } else {
                Decision::Review(ReviewReason::Ambiguous)
            };
            Some(PairOutcome {
                a: c.a,
                b: c.b(),
                weight: c.weight as f32,
                probability: probability(c.weight) as f32,
                competing: shared as f32,
                decision,
            })
        })
        .collect();
    Decided { pairs, joined_at }
}

/// A candidate no view has given a share (`competing_probabilities`).
const UNSHARED: u64 = u64::MAX;

/// How many slices of the rows `competing_probabilities` sees the views of, one at a time.
const VIEW_SLICES: u32 = 4;

/// A loose row of a candidate pair, seeing the other row's cluster. In 12 bytes: a province
/// has tens of millions, and the pair's odds are read from its candidate.
struct View {
    row: u32,
    cluster: u32,
    candidate: u32,
}

/// Per candidate: the probability that its loose row belongs to the other row's person, when
/// every person matching that row competes for it: K·odds(person) / (1 + K·Σ odds of all
/// persons that could be it). Persons it cannot join (two IDs, two rows of a group of distinct
/// persons) and vetoed pairs do not compete. For two loose rows the smaller view counts.
fn competing_probabilities(
    clusters: &Clusters,
    persons: &[u32],
    candidates: &[Candidate],
    anchored: &Flags,
    thresholds: &Thresholds,
) -> Vec<f64> {
    // The smallest share of each candidate, as the bits of a non-negative float (which order
    // as the numbers do); `UNSHARED` until a view counts.
    let shares: Vec<AtomicU64> = (0..candidates.len())
        .into_par_iter()
        .map(|_| AtomicU64::new(UNSHARED))
        .collect();
    // The views of a slice of the rows at a time (a row's views are all in its slice): a
    // province's views are tens of millions.
    let rows = anchored.len() as u32;
    let per_slice = rows.div_ceil(VIEW_SLICES).max(1);
    for first in (0..rows).step_by(per_slice as usize) {
        let slice = first..first.saturating_add(per_slice);
        // Sorted, a row's views are together, and within them each person's.
        let mut views: Vec<View> = candidates
            .par_iter()
            .enumerate()
            .filter(|(_, c)| !c.vetoed())
            .flat_map_iter(|(k, c)| {
                [(c.a, c.b()), (c.b(), c.a)]
                    .into_iter()
                    .filter(|(row, _)| slice.contains(row) && !anchored[*row as usize])
                    .map(move |(row, other)| View {
                        row,
                        cluster: persons[other as usize],
                        candidate: k as u32,
                    })
            })
            .collect();
        views.par_sort_unstable_by_key(|v| (v.row, v.cluster));
        views
            .par_chunk_by(|x, y| x.row == y.row)
            .for_each(|row_views| {
                share_row(
                    row_views, clusters, persons, candidates, thresholds, &shares,
                )
            });
    }
    // In place (an atomic and a float are both eight bytes): a province has tens of millions.
    shares
        .into_iter()
        .map(|share| match share.into_inner() {
            UNSHARED => 0.0,
            bits => f64::from_bits(bits),
        })
        .collect()
}

/// Lowers the shares of one loose row's candidates (`row_views`, sorted by person) to what
/// each person's odds are among all the persons that row could join.
fn share_row(
    row_views: &[View],
    clusters: &Clusters,
    persons: &[u32],
    candidates: &[Candidate],
    thresholds: &Thresholds,
    shares: &[AtomicU64],
) {
    let factor = thresholds.cluster_odds_factor;
    let odds_of = |view: &View| odds(candidates[view.candidate as usize].weight);
    let row = row_views[0].row;
    let (own, source) = (persons[row as usize], clusters.table.source[row as usize]);
    // A person's odds are its best pair's (`None`: a person the row cannot join); a person
    // counts once however many of its rows match, and the total sums them in order.
    let person_odds = |person: &[View]| {
        let target = person[0].cluster;
        clusters.feasible(own, target).then(|| {
            let sources = clusters.sources_without(target, row);
            let affinity = thresholds.affinity.factor(source, sources);
            person.iter().fold(0.0, |m: f64, v| odds_of(v).max(m)) * affinity
        })
    };
    let matched: Vec<(&[View], Option<f64>)> = row_views
        .chunk_by(|x, y| x.cluster == y.cluster)
        .map(|person| (person, person_odds(person)))
        .collect();
    let total: f64 = matched.iter().filter_map(|(_, best)| *best).sum();
    for (person, best) in matched {
        // A share that is no number (odds beyond a float's range) counts for nothing.
        let share = best.map(|best| factor * best / (1.0 + factor * total));
        let Some(share) = share.filter(|s| !s.is_nan()) else {
            continue;
        };
        for view in person {
            let bits = share.to_bits();
            shares[view.candidate as usize].fetch_min(bits, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A table of rows with nothing but their groups (no ID, no name).
    fn grouped(groups: &[u32]) -> LinkTable {
        let settings = crate::config::load(None).unwrap().settings.link;
        let blank = vec![(4, 3, 0, false); groups.len()];
        let mut table = crate::link::comparison::tests::table(&settings, &blank);
        table.group = groups.iter().copied().collect();
        table
    }

    /// Rows decided apart never end in one cluster, not even through a third row matching
    /// both; a pair already one person is counted, not split.
    #[test]
    fn rows_decided_apart_stay_apart_through_other_rows() {
        let table = grouped(&[NO_GROUP; 5]);
        let mut clusters = Clusters::new(&table, None);
        clusters.union(3, 4);
        assert_eq!(clusters.keep_apart(&[(0, 1), (3, 4)]), 1);
        clusters.union(0, 2);
        assert!(clusters.feasible(clusters.root(1), clusters.root(3)));
        let (r2, r1) = (clusters.root(2), clusters.root(1));
        assert!(!clusters.feasible(r2, r1), "2 is with 0, which is not 1");
        clusters.union(1, 3);
        let (r0, r4) = (clusters.root(0), clusters.root(4));
        assert!(!clusters.feasible(r0, r4), "4 is with 1 now");
        assert!(!clusters.feasible(r4, r0), "either way round");
    }

    proptest! {
        /// Two clusters may be one person exactly when no group holds a row of each, with
        /// groups past the bit mask's reach too.
        #[test]
        fn clusters_sharing_a_group_are_infeasible(
            groups in prop::collection::vec(prop_oneof![Just(NO_GROUP), 0u32..4, 28u32..40], 2..40),
            unions in prop::collection::vec((0usize..40, 0usize..40), 0..30),
        ) {
            let table = grouped(&groups);
            let mut clusters = Clusters::new(&table, None);
            let rows = groups.len();
            for (a, b) in unions {
                clusters.union((a % rows) as u32, (b % rows) as u32);
            }
            let unshortened: Vec<u32> = (0..rows as u32).map(|r| clusters.root(r)).collect();
            let roots: Vec<u32> = (0..rows as u32).map(|r| clusters.find(r)).collect();
            prop_assert_eq!(&unshortened, &roots);
            for a in 0..rows {
                for b in 0..rows {
                    let (ra, rb) = (roots[a], roots[b]);
                    let shared = (0..rows).any(|x| {
                        (0..rows).any(|y| {
                            roots[x] == ra && roots[y] == rb && groups[x] != NO_GROUP && groups[x] == groups[y]
                        })
                    });
                    prop_assert_eq!(clusters.feasible(ra, rb), !shared);
                }
            }
        }
    }
}
