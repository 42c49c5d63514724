//! What the linker compared rows by, kept for the questions asked of pairs after linking: a
//! gap row's nearest row of another person (asked by the rules for all gaps at once), and
//! explain's candidates and waterfalls. It holds a copy of every row's compared values, so
//! the run lets it go once the rules are evaluated.

use std::sync::Arc;

use rayon::prelude::*;

use super::blocking::{self, Keyed, Keys};
use super::comparison::Comparer;
use super::explain;
use super::linkage::Linkage;
use super::pairs::{Decision, PairOutcome, ReviewReason};
use super::predict::Scorer;
use super::table::LinkTable;
use crate::config::link::LinkSettings;
use crate::model::{FastMap, Flags, SharedTexts, SourceId, Words};

/// The closest row that was not accepted as the same person, for a gap row to show.
#[derive(Clone, Debug, PartialEq)]
pub struct NearMiss {
    pub record: usize,
    /// The pair's match probability.
    pub score: f64,
    /// What agrees and differs, then why it was not linked: one text shared by the gaps that
    /// say the same (a province's hundreds of thousands say a few thousand things).
    pub reason: Arc<str>,
}

pub struct Matcher {
    pub(super) table: LinkTable,
    pub(super) settings: LinkSettings,
    pub(super) scorer: Scorer,
}

impl Matcher {
    fn comparer<'a>(&'a self, linkage: &'a Linkage) -> Comparer<'a> {
        Comparer {
            table: &self.table,
            settings: &self.settings,
            suspect: &linkage.suspect,
        }
    }

    /// Says in `linkage` what agrees and differs in each review pair (the review list's
    /// reasons, which need the compared values), then lets the compared values go. A province's
    /// review pairs are millions: said once the rules no longer need the matcher, their text
    /// and the matcher's table are never held at once with the rules' working memory.
    pub fn let_go(self, linkage: &mut Linkage) {
        let mut texts = Words::default();
        let mut reasons = Vec::with_capacity(linkage.review.len());
        // Said a slice of pairs at a time, so that only a slice's texts are ever held twice.
        for pairs in linkage.review.chunks(1 << 16) {
            let said: Vec<String> = pairs
                .par_iter()
                .map(|pair| self.pair_reason(linkage, pair))
                .collect();
            reasons.extend(said.iter().map(|text| texts.intern(text)));
        }
        (linkage.review_reasons, linkage.reason_texts) = (reasons, texts);
    }

    /// For each (record, source): the best-scoring row of that source among the record's
    /// blocking candidates that is another person, with its probability and the reason.
    pub fn nearest_non_matches(
        &self,
        linkage: &Linkage,
        requests: &[(usize, SourceId)],
    ) -> Vec<Option<NearMiss>> {
        let comparer = self.comparer(linkage);
        let (records, sources): (Vec<usize>, Vec<SourceId>) = requests.iter().copied().unzip();
        let comparisons = self.settings.comparisons.len();
        let ceilings: Vec<f64> = records
            .par_iter()
            .flat_map_iter(|&r| self.scorer.ceiling(&comparer, r))
            .collect();
        // The most probable row; of equals, the first: a request's rows come in row order, so
        // a row that cannot beat the best so far need not be scored whole.
        let mut best: Vec<Option<Best>> = vec![None; requests.len()];
        let (mut pairs, mut scored) = (0, 0);
        self.blocked_rows(linkage, &records, Some(&sources), |found| {
            pairs += found.rows.len();
            scored += best
                .par_iter_mut()
                .enumerate()
                .map(|(q, best)| {
                    let ceiling = &ceilings[q * comparisons..(q + 1) * comparisons];
                    self.best_other_person(
                        linkage,
                        &comparer,
                        records[q],
                        found.rows(q),
                        ceiling,
                        best,
                    )
                })
                .sum::<usize>();
        });
        let requests = requests.len();
        tracing::debug!(requests, pairs, scored, "nearest non-match pairs");
        let mut said = SharedTexts::default();
        let mut misses = Vec::with_capacity(records.len());
        // A slice of requests at a time, so that only a slice's texts are ever held twice.
        for (records, best) in records.chunks(1 << 16).zip(best.chunks(1 << 16)) {
            let found: Vec<Option<(usize, f64, String)>> = (records.par_iter().zip(best))
                .map(|(&record, found)| {
                    let found = found.as_ref()?;
                    Some(self.near_miss(&comparer, record, found.row, found.probability))
                })
                .collect();
            misses.extend(found.into_iter().map(|miss| {
                let (record, score, text) = miss?;
                let reason = said.share(&text);
                Some(NearMiss {
                    record,
                    score,
                    reason,
                })
            }));
        }
        misses
    }

    /// Updates `best` with the most probable of `rows` (ascending, after the row `best` came
    /// from) that is another person than `record`; of equals, the first. A row that cannot
    /// beat the best so far is not scored whole. Returns how many were.
    fn best_other_person(
        &self,
        linkage: &Linkage,
        comparer: &Comparer,
        record: usize,
        rows: &[u32],
        ceiling: &[f64],
        best: &mut Option<Best>,
    ) -> usize {
        let mut scored = 0;
        for (k, &row) in rows.iter().enumerate() {
            let row = row as usize;
            let repeated = k > 0 && rows[k - 1] as usize == row;
            if repeated || linkage.person_of(row) == linkage.person_of(record) {
                continue;
            }
            let floor = best.map(|b| b.weight);
            let Some(pair) = self
                .scorer
                .score_above(comparer, ceiling, record, row, floor)
            else {
                continue;
            };
            scored += 1;
            let probability = pair.probability();
            if best.is_none_or(|b| probability > b.probability) {
                *best = Some(Best {
                    weight: pair.weight,
                    probability,
                    row,
                });
            }
        }
        scored
    }

    /// Every row sharing a blocking key with record `index`, most probable first, with the
    /// pair's match probability.
    pub fn candidates(&self, linkage: &Linkage, index: usize) -> Vec<(usize, f64)> {
        let comparer = self.comparer(linkage);
        let mut found = Vec::new();
        self.blocked_rows(linkage, &[index], None, |slice| {
            let mut rows: Vec<usize> = slice.rows(0).iter().map(|&r| r as usize).collect();
            rows.dedup();
            found.extend(
                rows.into_iter()
                    .filter(|&row| row != index)
                    .map(|row| (row, self.scorer.score(&comparer, index, row).probability())),
            );
        });
        found.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        found
    }

    /// Every row's portable key under each blocking rule (`rules` a row, in row order; 0 where
    /// the row has none), each passed through `keyed`: what a national run joins provinces'
    /// rows on, to bring each province the rows elsewhere that its rows are blocked with.
    pub fn blocking_keys(&self, linkage: &Linkage, keyed: impl Fn(u64) -> u64 + Sync) -> Vec<u64> {
        let keys = Keys {
            table: &self.table,
            settings: &self.settings,
            suspect: &linkage.suspect,
        };
        let (keys, keyed, rules) = (&keys, &keyed, &self.settings.blocking);
        (0..self.table.len())
            .into_par_iter()
            .flat_map_iter(|row| {
                rules.iter().enumerate().map(move |(r, rule)| {
                    keys.portable_key(rule, row)
                        .map_or(0, |key| keyed(key ^ (r as u64 + 1).rotate_right(8)))
                })
            })
            .collect()
    }

    /// Every row that shares a key of a blocking rule with a request's record (the record
    /// itself too) and, when `sources` are given, is of the request's source: handed to `each`
    /// a slice of the table at a time, in row order, as each request's rows in that slice (a
    /// row paired by several rules comes that many times in a row). Only one slice's rows are
    /// held at once.
    fn blocked_rows(
        &self,
        linkage: &Linkage,
        records: &[usize],
        sources: Option<&[SourceId]>,
        mut each: impl FnMut(&RequestRows),
    ) {
        // Small under test, so that the unit tests' worlds span many slices and a request's
        // best row is carried across them.
        const ROWS_PER_SLICE: usize = if cfg!(test) { 1 << 10 } else { 1 << 20 };
        let keys = Keys {
            table: &self.table,
            settings: &self.settings,
            suspect: &linkage.suspect,
        };
        let rules = &self.settings.blocking;
        // Computed as each rule's lists are made, not kept: a province asks about a million rows.
        let request_key = |rule: usize, q: usize| keys.key(&rules[rule], records[q]);
        let source_of_request = |q: usize| sources.map_or(ANY_SOURCE, |s| s[q] as u8);
        let wanted: Vec<RequestLists> = (0..rules.len())
            .map(|k| {
                let refining = blocking::refining_rule(rules, k);
                let requests = (0..records.len()).filter_map(|q| {
                    let refined = refining.and_then(|j| request_key(j, q));
                    Some((source_of_request(q), request_key(k, q)?, refined, q as u32))
                });
                RequestLists::of(refining, requests.collect())
            })
            .collect();
        // Each row's keys under every rule, computed together: the rules read the same columns.
        let row_hits = |row_keys: &mut Vec<Option<u64>>, row: usize| {
            row_keys.clear();
            row_keys.extend(rules.iter().map(|rule| keys.key(rule, row)));
            let source = sources.map_or(ANY_SOURCE, |_| self.table.source[row]);
            let mut hits = Vec::new();
            for (k, lists) in wanted.iter().enumerate() {
                let Some(list) = row_keys[k].and_then(|key| lists.get(key, source)) else {
                    continue;
                };
                let (before, after) =
                    blocking::outside_run(list, lists.refining.and_then(|j| row_keys[j]));
                hits.extend(before.iter().chain(after).map(|&(_, q)| (q, row as u32)));
            }
            hits
        };
        for start in (0..self.table.len()).step_by(ROWS_PER_SLICE) {
            let slice = start..(start + ROWS_PER_SLICE).min(self.table.len());
            let hits: Vec<(u32, u32)> = slice
                .into_par_iter()
                .map_init(Vec::new, row_hits)
                .flatten_iter()
                .collect();
            each(&RequestRows::of(&hits, records.len()));
        }
    }

    /// The match-weight waterfall of a pair, as a text table (values masked unless `full`).
    pub fn waterfall(&self, linkage: &Linkage, a: usize, b: usize, full: bool) -> String {
        let bars = explain::waterfall(
            &self.comparer(linkage),
            &self.scorer,
            &linkage.model,
            a,
            b,
            !full,
        );
        explain::format_waterfall(&bars)
    }

    /// What was decided for a pair of records, and what agrees and differs.
    pub fn pair_decision(&self, linkage: &Linkage, a: usize, b: usize) -> String {
        let comparer = self.comparer(linkage);
        let levels = comparer.levels(a, b);
        let what = explain::reason(&comparer, &levels, a, b, true);
        let (pa, pb) = (linkage.person_of(a), linkage.person_of(b));
        let reviewed = linkage.review.iter().find(|p| {
            let (x, y) = (
                linkage.person_of(p.a as usize),
                linkage.person_of(p.b as usize),
            );
            (x, y) == (pa, pb) || (x, y) == (pb, pa)
        });
        let decision = match (pa == pb, reviewed) {
            (true, _) => Decision::Linked,
            (false, Some(pair)) => pair.decision,
            (false, None) => Decision::NotLinked,
        };
        format!("{what}；{}", explain::decision_text(decision))
    }

    /// What agrees and differs in a pair, and what was decided.
    fn pair_reason(&self, linkage: &Linkage, pair: &PairOutcome) -> String {
        // A vetoed pair is told as found: the same ID under another name.
        let no_suspects = Flags::default();
        let comparer = match pair.decision {
            Decision::Review(ReviewReason::Vetoed) => Comparer {
                suspect: &no_suspects,
                ..self.comparer(linkage)
            },
            _ => self.comparer(linkage),
        };
        let (a, b) = (pair.a as usize, pair.b as usize);
        let levels = comparer.levels(a, b);
        format!(
            "{}；{}",
            explain::reason(&comparer, &levels, a, b, false),
            explain::decision_text(pair.decision)
        )
    }

    /// The row, its rounded probability and the reason.
    fn near_miss(
        &self,
        comparer: &Comparer,
        record: usize,
        row: usize,
        p: f64,
    ) -> (usize, f64, String) {
        let levels = comparer.levels(record, row);
        let what = explain::reason(comparer, &levels, record, row, false);
        let why = match comparer.is_vetoed(&levels) {
            true => "未关联：有一项比较否决了关联",
            false if p >= self.settings.review => "未关联：待人工确认（见review.csv）",
            false => "未关联：匹配概率过低",
        };
        let score = (p * 10_000.0).round() / 10_000.0;
        (row, score, format!("{what}；{why}"))
    }
}

/// The source of a request that takes rows of any source.
const ANY_SOURCE: u8 = u8::MAX;

/// One blocking rule's requests by source and key, each list in order of the requests' keys
/// under the rule refining it (then of the requests), so that a row skips at once those it
/// shares that key with (already paired). The lists lie end to end in one vector, a source's
/// together; each source has a map of its own, so that a row's lookups meet only the keys of
/// its source's requests (a province's insurance rows are most rows, its insurance requests a
/// fifth of the requests).
struct RequestLists {
    refining: Option<usize>,
    ranges: Vec<FastMap<u64, (u32, u32)>>,
    entries: Vec<Keyed<u32>>,
}

impl RequestLists {
    /// From (source, key, key under the refining rule, request) of every request with a key.
    fn of(refining: Option<usize>, mut requests: Vec<(u8, u64, Option<u64>, u32)>) -> Self {
        requests.sort_unstable();
        let sources = requests.last().map_or(0, |r| usize::from(r.0) + 1);
        let mut ranges = vec![FastMap::default(); sources];
        let mut entries = Vec::with_capacity(requests.len());
        for list in requests.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
            let range = (entries.len() as u32, list.len() as u32);
            ranges[usize::from(list[0].0)].insert(list[0].1, range);
            entries.extend(list.iter().map(|&(_, _, refined, q)| (refined, q)));
        }
        RequestLists {
            refining,
            ranges,
            entries,
        }
    }

    fn get(&self, key: u64, source: u8) -> Option<&[Keyed<u32>]> {
        let &(start, len) = self.ranges.get(usize::from(source))?.get(&key)?;
        Some(&self.entries[start as usize..(start + len) as usize])
    }
}

/// The best row found so far for a nearest-non-match request.
#[derive(Clone, Copy)]
struct Best {
    weight: f64,
    probability: f64,
    row: usize,
}

/// Each request's rows of one slice of the table, ascending: request q's are
/// `rows[starts[q]..starts[q + 1]]`.
struct RequestRows {
    starts: Vec<u32>,
    rows: Vec<u32>,
}

impl RequestRows {
    /// (request, row) hits in row order, grouped by request (a counting sort: rows keep
    /// their order).
    fn of(hits: &[(u32, u32)], requests: usize) -> RequestRows {
        let mut starts = vec![0u32; requests + 1];
        for &(q, _) in hits {
            starts[q as usize + 1] += 1;
        }
        for q in 1..starts.len() {
            starts[q] += starts[q - 1];
        }
        let mut next = starts.clone();
        let mut rows = vec![0u32; hits.len()];
        for &(q, row) in hits {
            rows[next[q as usize] as usize] = row;
            next[q as usize] += 1;
        }
        RequestRows { starts, rows }
    }

    fn rows(&self, q: usize) -> &[u32] {
        &self.rows[self.starts[q] as usize..self.starts[q + 1] as usize]
    }
}
