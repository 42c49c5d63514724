//! Link: normalized records in, a person for every record out, with the evidence that put it
//! there. A Fellegi-Sunter linker in Splink's vocabulary (blocking rules, comparisons with
//! ordered levels, m and u probabilities, match weights), made for Chinese department records:
//! rows sharing a valid ID are one person unless a veto splits them; rows whose ID is missing,
//! mistyped, damaged by Excel or another person's are placed by probability, on name (by
//! character, sound, traditional form, `?`), birth date, sex, county and household. Links in
//! the review band go to `review.csv`. Rules and reports see only `Linkage`.
//!
//! `table` (rows as compact columns) -> `blocking` (candidate pairs) -> `comparison` (levels
//! of a pair) -> `training` (the model) -> `predict` (match weights) -> `cluster` (persons);
//! `engine` runs them, `explain` says why.

pub mod blocking;
pub mod calibrate;
pub mod cluster;
pub mod comparators;
pub mod comparison;
pub mod decisions;
pub mod engine;
pub mod explain;
pub mod households;
pub mod lists;
pub mod model;
pub mod predict;
pub mod records;
pub mod table;
pub mod training;

use std::borrow::Cow;
use std::time::Instant;

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::config::link::LinkSettings;
use crate::config::Settings;
use crate::keys::KeySecret;
use crate::model::{FastMap, IdSource, Record, Records, SourceId};
use blocking::{Keyed, Keys};
use comparison::Comparer;
use decisions::{Decide, PairDecision};
use engine::{Decision, Joined, LinkCounts, LinkRequest, PairOutcome};
use households::Households;
use model::{LinkType, Model};
use predict::Scorer;
use table::LinkTable;

/// Which records are the same person, and what the linker knows of every pair it weighed.
/// Compact, as a province has tens of millions of rows: each person's records sit in one
/// array, its key is 9 bytes, and how each row was placed is a small enum.
pub struct Linkage {
    person_of: Vec<u32>,
    /// Every person's records, person after person: person p's are `members[starts[p]..starts[p + 1]]`.
    members: Vec<u32>,
    starts: Vec<u32>,
    keys: Vec<PersonKey>,
    joined: Vec<Joined>,
    /// Pairs for a person to decide: the best pair between two persons, in the review band.
    pub review: Vec<PairOutcome>,
    pub model: Model,
    pub counts: LinkCounts,
    table: LinkTable,
    settings: LinkSettings,
    /// Rows whose ID is ignored (another person's, or a placeholder), and those of them whose
    /// ID is a placeholder.
    suspect: Vec<bool>,
    placeholder: Vec<bool>,
    scorer: Scorer,
    /// Person -> review pairs they are part of (indices into `review`).
    review_of_person: FastMap<usize, Vec<usize>>,
    /// Which persons live together (after people's decisions are applied).
    pub households: Households,
}

/// Why a row's ID was not used to link it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdDoubt {
    /// A valid ID whose other rows are a different person (a relative's, say).
    AnotherPersons,
    /// An ID carried by more rows than one person has (all zeros, a clerk's own number).
    Placeholder,
}

impl IdDoubt {
    pub fn code(self) -> &'static str {
        match self {
            IdDoubt::AnotherPersons => "id_of_another_person",
            IdDoubt::Placeholder => "id_placeholder",
        }
    }
}

/// A person's stable key: `P` + 16 hex digits of a hash of their valid ID (the same every
/// night, never the ID itself), or `R` + a hash of the file and row of their first row. The
/// linker makes them unkeyed; `Linkage::key_with` turns them into the keyed form the outputs
/// show (see `keys`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PersonKey {
    kind: u8,
    hash: [u8; 8],
}

impl PersonKey {
    fn of(kind: u8, text: &str) -> PersonKey {
        let digest = Sha256::digest(text.as_bytes());
        let mut hash = [0; 8];
        hash.copy_from_slice(&digest[..8]);
        PersonKey { kind, hash }
    }

    /// The key of the person whose valid ID this is.
    pub fn of_id(id: &str) -> PersonKey {
        PersonKey::of(b'P', &format!("recon-person-v1:{id}"))
    }

    /// The key of a person no valid ID places, by their first row.
    fn of_row(file: &str, row: u32) -> PersonKey {
        PersonKey::of(b'R', &format!("recon-row-v1:{file}#{row}"))
    }
}

impl PersonKey {
    /// This key under the secret: the same letter, the keyed hash of the unkeyed key.
    fn keyed(self, secret: &KeySecret) -> PersonKey {
        PersonKey {
            kind: self.kind,
            hash: secret.digest(&self.text().0),
        }
    }

    /// The key's 17 characters, made without allocating: the report writes one for every row.
    pub fn text(&self) -> KeyText {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut text = [self.kind; 17];
        for (k, b) in self.hash.iter().enumerate() {
            text[1 + 2 * k] = HEX[usize::from(b >> 4)];
            text[2 + 2 * k] = HEX[usize::from(b & 15)];
        }
        KeyText(text)
    }
}

/// A person key as text (ASCII: a letter and sixteen hex digits).
pub struct KeyText([u8; 17]);

impl KeyText {
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl std::fmt::Display for PersonKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.text().as_str())
    }
}

/// The closest row that was not accepted as the same person, for a gap row to show.
#[derive(Clone, Debug, PartialEq)]
pub struct NearMiss {
    pub record: usize,
    /// The pair's match probability.
    pub score: f64,
    /// What agrees and what differs, then why it was not linked.
    pub reason: String,
}

/// A link a gap depends on that a person must decide.
#[derive(Clone, Debug, PartialEq)]
pub struct Undecided {
    pub record: usize,
    pub probability: f64,
}

impl Linkage {
    /// The records of the person that record `index` belongs to (itself included), in input
    /// order.
    pub fn linked(&self, index: usize) -> &[u32] {
        self.members_of(self.person_of(index))
    }

    /// Person `person`'s records, in input order.
    pub fn members_of(&self, person: usize) -> &[u32] {
        &self.members[self.starts[person] as usize..self.starts[person + 1] as usize]
    }

    /// The person record `index` belongs to.
    pub fn person_of(&self, index: usize) -> usize {
        self.person_of[index] as usize
    }

    pub fn persons(&self) -> usize {
        self.keys.len()
    }

    /// The records of every person, person after person.
    pub fn each_person(&self) -> impl Iterator<Item = &[u32]> {
        (0..self.persons()).map(|p| self.members_of(p))
    }

    pub fn key_of(&self, index: usize) -> PersonKey {
        self.keys[self.person_of(index)]
    }

    /// Which review pairs each person is part of.
    fn index_review(&mut self) {
        self.review_of_person.clear();
        for (k, pair) in self.review.iter().enumerate() {
            for row in [pair.a, pair.b] {
                let person = self.person_of(row as usize);
                self.review_of_person.entry(person).or_default().push(k);
            }
        }
    }

    /// Turns every person's key into its keyed form, once, before anything shows one.
    pub fn key_with(&mut self, secret: &KeySecret) {
        self.keys
            .par_iter_mut()
            .for_each(|key| *key = key.keyed(secret));
        self.households.key_with(secret);
    }

    /// The key of record `index`'s person's household, when one is known.
    pub fn household_key_of(&self, index: usize) -> Option<PersonKey> {
        let membership = self.households.of(self.person_of(index))?;
        Some(self.households.key(membership.household))
    }

    /// How record `index` came to its person (`id`, `certificate`, `probable:0.982`,
    /// `unlinked:missing`, `unlinked:id_of_another_person`, `unlinked:id_placeholder`…).
    pub fn evidence(&self, index: usize, record: &Record) -> Cow<'static, str> {
        let doubt = self.id_doubt(index);
        match self.joined[index] {
            Joined::Anchor => record.id_source.code().into(),
            Joined::Decided => "decided:same".into(),
            Joined::Probable(p) => match doubt {
                Some(doubt) => format!("probable:{p:.3};{}", doubt.code()).into(),
                None => format!("probable:{p:.3}").into(),
            },
            Joined::Alone => match (doubt, record.id_source) {
                (Some(doubt), _) => format!("unlinked:{}", doubt.code()).into(),
                (None, IdSource::None) => format!("unlinked:{}", record.id.state()).into(),
                (None, source) => source.code().into(),
            },
        }
    }

    /// Why record `index`'s ID was not used to link it, when it was ignored.
    pub fn id_doubt(&self, index: usize) -> Option<IdDoubt> {
        match (self.placeholder[index], self.suspect[index]) {
            (true, _) => Some(IdDoubt::Placeholder),
            (false, true) => Some(IdDoubt::AnotherPersons),
            (false, false) => None,
        }
    }

    fn source_of(&self, index: usize) -> SourceId {
        usize::from(self.table.source[index])
    }

    fn comparer(&self) -> Comparer<'_> {
        Comparer {
            table: &self.table,
            settings: &self.settings,
            suspect: &self.suspect,
        }
    }

    /// A review-band row of `source` that may be the person of record `index`.
    pub fn undecided(&self, index: usize, source: SourceId) -> Option<Undecided> {
        let person = self.person_of(index);
        self.review_of_person
            .get(&person)?
            .iter()
            .map(|&k| &self.review[k])
            .filter_map(|pair| {
                let other = if self.person_of(pair.a as usize) == person {
                    pair.b
                } else {
                    pair.a
                };
                (self.source_of(other as usize) == source).then_some(Undecided {
                    record: other as usize,
                    probability: f64::from(pair.probability),
                })
            })
            .max_by(|x, y| {
                x.probability
                    .total_cmp(&y.probability)
                    .then(y.record.cmp(&x.record))
            })
    }

    /// For each (record, source): the best-scoring row of that source among the record's
    /// blocking candidates that is another person, with its probability and the reason.
    pub fn nearest_non_matches(&self, requests: &[(usize, SourceId)]) -> Vec<Option<NearMiss>> {
        let comparer = self.comparer();
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
        self.blocked_rows(&records, Some(&sources), |found| {
            pairs += found.rows.len();
            scored += best
                .par_iter_mut()
                .enumerate()
                .map(|(q, best)| {
                    let ceiling = &ceilings[q * comparisons..(q + 1) * comparisons];
                    self.best_other_person(&comparer, records[q], found.rows(q), ceiling, best)
                })
                .sum::<usize>();
        });
        let requests = requests.len();
        tracing::debug!(requests, pairs, scored, "nearest non-match pairs");
        records
            .par_iter()
            .zip(best)
            .map(|(record, found)| {
                let found = found?;
                Some(self.near_miss(&comparer, *record, found.row, found.probability))
            })
            .collect()
    }

    /// Updates `best` with the most probable of `rows` (ascending, after the row `best` came
    /// from) that is another person than `record`; of equals, the first. A row that cannot
    /// beat the best so far is not scored whole. Returns how many were.
    fn best_other_person(
        &self,
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
            if repeated || self.person_of(row) == self.person_of(record) {
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
    pub fn candidates(&self, index: usize) -> Vec<(usize, f64)> {
        let comparer = self.comparer();
        let mut found = Vec::new();
        self.blocked_rows(&[index], None, |slice| {
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

    /// Every row that shares a key of a blocking rule with a request's record (the record
    /// itself too) and, when `sources` are given, is of the request's source: handed to `each`
    /// a slice of the table at a time, in row order, as each request's rows in that slice (a
    /// row paired by several rules comes that many times in a row). Only one slice's rows are
    /// held at once.
    fn blocked_rows(
        &self,
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
            suspect: &self.suspect,
        };
        let rules = &self.settings.blocking;
        // Each request's key under each rule, rule after rule.
        let request_keys: Vec<Option<u64>> = rules
            .iter()
            .flat_map(|rule| records.iter().map(|r| keys.key(rule, *r)))
            .collect();
        let request_key = |rule: usize, q: usize| request_keys[rule * records.len() + q];
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
    pub fn waterfall(&self, a: usize, b: usize, full: bool) -> String {
        let bars = explain::waterfall(&self.comparer(), &self.scorer, &self.model, a, b, !full);
        explain::format_waterfall(&bars)
    }

    /// What was decided for a pair of records, and what agrees and differs.
    pub fn pair_decision(&self, a: usize, b: usize) -> String {
        let comparer = self.comparer();
        let levels = comparer.levels(a, b);
        let what = explain::reason(&comparer, &levels, a, b, true);
        let (pa, pb) = (self.person_of(a), self.person_of(b));
        let reviewed = self.review.iter().find(|p| {
            let (x, y) = (self.person_of(p.a as usize), self.person_of(p.b as usize));
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
    pub fn pair_reason(&self, pair: &PairOutcome) -> String {
        // A vetoed pair is told as found: the same ID under another name.
        let comparer = match pair.decision {
            Decision::Review(engine::ReviewReason::Vetoed) => Comparer {
                suspect: &[],
                ..self.comparer()
            },
            _ => self.comparer(),
        };
        let (a, b) = (pair.a as usize, pair.b as usize);
        let levels = comparer.levels(a, b);
        format!(
            "{}；{}",
            explain::reason(&comparer, &levels, a, b, false),
            explain::decision_text(pair.decision)
        )
    }

    fn near_miss(&self, comparer: &Comparer, record: usize, row: usize, p: f64) -> NearMiss {
        let levels = comparer.levels(record, row);
        let what = explain::reason(comparer, &levels, record, row, false);
        let why = match comparer.is_vetoed(&levels) {
            true => "未关联：有一项比较否决了关联",
            false if p >= self.settings.review => "未关联：待人工确认（见review.csv）",
            false => "未关联：匹配概率过低",
        };
        NearMiss {
            record: row,
            score: (p * 10_000.0).round() / 10_000.0,
            reason: format!("{what}；{why}"),
        }
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

/// Links the job's records. `file_names` name each file for the keys of rows no ID places;
/// `model` is a saved model to use instead of training one; `decided` holds people's
/// decisions on pairs of rows (`decisions`).
pub fn link(
    records: &Records,
    file_names: &[String],
    settings: &Settings,
    model: Option<Model>,
    decided: Option<&Decide>,
) -> Result<Linkage, model::ModelError> {
    let started = Instant::now();
    let table = records::table(records, settings);
    engine::log_phase("table", started);
    let apart = |a, b| decided.is_some_and(|d| d(a, b) == Some(PairDecision::Different));
    let outcome = engine::link(LinkRequest {
        table: &table,
        settings: &settings.link,
        link_type: LinkType::DedupeOnly,
        model,
        keep_anchor_pairs: false,
        decided_apart: decided.is_some().then_some(&apart),
    })?;
    let started = Instant::now();
    let clusters = outcome.clusters;
    let keys = (0..clusters.len())
        .into_par_iter()
        .map(|c| cluster_key(records, clusters.rows(c), &outcome.joined, file_names))
        .collect();
    let (person_of, members, starts) = (clusters.cluster_of, clusters.members, clusters.starts);
    let review = review_pairs(&outcome.pairs, &person_of);
    engine::log_phase("persons", started);
    let started = Instant::now();
    let scorer = Scorer::new(
        &Comparer {
            table: &table,
            settings: &settings.link,
            suspect: &outcome.suspect,
        },
        &outcome.model,
        &person_of,
    );
    engine::log_phase("final frequencies", started);
    let mut linkage = Linkage {
        person_of,
        members,
        starts,
        keys,
        joined: outcome.joined,
        review,
        model: outcome.model,
        counts: outcome.counts,
        table,
        settings: settings.link.clone(),
        suspect: outcome.suspect,
        placeholder: outcome.placeholder,
        scorer,
        review_of_person: FastMap::default(),
        households: Households::default(),
    };
    linkage.index_review();
    if let Some(decided) = decided {
        let applied = linkage.apply_decisions(decided);
        tracing::info!(
            joined = applied.joined,
            kept_apart = linkage.counts.decided_apart,
            review_pairs_dropped = applied.kept_apart,
            conflicting = applied.conflicting + linkage.counts.decided_apart_one_id as usize,
            "decisions on pairs of rows applied"
        );
    }
    let started = Instant::now();
    linkage.households = Households::build(
        records,
        settings,
        (&linkage.person_of, linkage.persons()),
        &linkage.suspect,
    );
    engine::log_phase("households", started);
    tracing::info!(households = linkage.households.count(), "households made");
    Ok(linkage)
}

/// The review band, one pair (the most probable, of equals the first) between any two persons.
fn review_pairs(pairs: &[PairOutcome], person_of: &[u32]) -> Vec<PairOutcome> {
    let persons = |p: &PairOutcome| {
        let (x, y) = (person_of[p.a as usize], person_of[p.b as usize]);
        (x.min(y), x.max(y))
    };
    // Sorted by persons, most probable first, then in pair order: each run's first is kept.
    let mut band: Vec<(usize, &PairOutcome)> = pairs
        .iter()
        .enumerate()
        .filter(|(_, p)| matches!(p.decision, Decision::Review(_)))
        .collect();
    band.par_sort_unstable_by(|(i, p), (j, q)| {
        (persons(p).cmp(&persons(q)))
            .then(q.probability.total_cmp(&p.probability))
            .then(i.cmp(j))
    });
    band.dedup_by(|later, first| persons(later.1) == persons(first.1));
    let mut review: Vec<PairOutcome> = band.into_iter().map(|(_, p)| *p).collect();
    review.par_sort_unstable_by_key(|p| (p.a, p.b));
    review
}

/// A person's key: from its valid ID when it has one, else from its first row.
fn cluster_key(
    records: &Records,
    rows: &[u32],
    joined: &[Joined],
    file_names: &[String],
) -> PersonKey {
    let anchor = rows
        .iter()
        .find(|&&r| joined[r as usize] == Joined::Anchor)
        .and_then(|&r| records[r as usize].id.valid());
    match anchor {
        Some(id) => PersonKey::of_id(id),
        None => {
            let first = &records[rows[0] as usize];
            PersonKey::of_row(&file_names[first.row.file as usize], first.row.row)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The nearest non-match search (one pass over the rows for all requests, rows dropped
    /// once they cannot beat the best so far) finds for each (row, source) what reading all
    /// of the row's candidates finds: the most probable row of that source that is another
    /// person, of equals the first. The world's 43,000 rows span some forty slices of the
    /// search, so the best so far is carried from slice to slice.
    #[test]
    fn a_nearest_non_match_is_the_best_candidate_of_another_person() {
        let world = tempfile::tempdir().unwrap();
        crate::synth::generate(&crate::synth::SynthOptions {
            persons: 1500,
            seed: 11,
            noise: crate::synth::NoiseLevel::Realistic,
            as_of: chrono::NaiveDate::from_ymd_opt(2020, 6, 30).unwrap(),
            out: world.path().to_path_buf(),
            variety: false,
        })
        .unwrap();
        let config = crate::config::load(None).unwrap();
        let settings = &config.settings;
        let files = crate::ingest::discover(&[world.path().join("data")])
            .unwrap()
            .files;
        let mut tables = crate::ingest::load(&files, settings, false).unwrap().tables;
        let names: Vec<String> = tables.iter().map(|t| t.file.name.clone()).collect();
        let regions = crate::model::region::Regions::bundled();
        let records = crate::normalize::run(&mut tables, settings, regions)
            .unwrap()
            .0
            .records;
        let linkage = link(&records, &names, settings, None, None).unwrap();
        // Rows whose name another person of their county also has, so that most requests
        // find someone.
        let mut named: Vec<((usize, &str), usize)> = (records.iter().enumerate())
            .filter(|(_, r)| r.name.number() != 0)
            .map(|(row, r)| ((r.name.number(), r.county.map_or("", |c| &c.code)), row))
            .collect();
        named.sort_unstable();
        let mut shared: Vec<usize> = named
            .chunk_by(|a, b| a.0 == b.0)
            .filter(|rows| {
                let first = linkage.person_of(rows[0].1);
                rows.iter().any(|&(_, row)| linkage.person_of(row) != first)
            })
            .map(|rows| rows[0].1)
            .take(60)
            .collect();
        shared.sort_unstable();
        let requests: Vec<(usize, SourceId)> = (shared.into_iter())
            .flat_map(|row| (0..settings.sources.len()).map(move |source| (row, source)))
            .collect();
        let found = linkage.nearest_non_matches(&requests);
        for (&(record, source), found) in requests.iter().zip(&found) {
            let expected = linkage.candidates(record).into_iter().find(|&(row, _)| {
                records[row].source == source && linkage.person_of(row) != linkage.person_of(record)
            });
            let found = found.as_ref().map(|n| (n.record, n.score));
            let expected = expected.map(|(row, p)| (row, (p * 10_000.0).round() / 10_000.0));
            assert_eq!(found, expected, "row {record}, source {source}");
        }
        let some = found.iter().filter(|f| f.is_some()).count();
        assert!(some >= 60, "{some} of {}", requests.len());
    }

    proptest::proptest! {
        /// Of each two persons' review pairs, the one kept is the most probable, of equals
        /// the first; the kept pairs come in row order.
        #[test]
        fn review_keeps_each_two_persons_most_probable_pair(
            person_of in proptest::collection::vec(0u32..6, 12),
            pairs in proptest::collection::vec((0u32..12, 0u32..12, 0u8..4, proptest::bool::ANY), 0..60)
        ) {
            let pairs: Vec<PairOutcome> = pairs
                .into_iter()
                .map(|(a, b, p, review)| PairOutcome {
                    a,
                    b,
                    weight: 0.0,
                    probability: f32::from(p) / 4.0,
                    competing: 0.0,
                    decision: match review {
                        true => Decision::Review(engine::ReviewReason::BelowAccept),
                        false => Decision::NotLinked,
                    },
                })
                .collect();
            let mut expected: Vec<PairOutcome> = Vec::new();
            for pair in pairs.iter().filter(|p| p.decision != Decision::NotLinked) {
                let persons = |p: &PairOutcome| {
                    let (x, y) = (person_of[p.a as usize], person_of[p.b as usize]);
                    (x.min(y), x.max(y))
                };
                match expected.iter_mut().find(|e| persons(e) == persons(pair)) {
                    Some(kept) if pair.probability > kept.probability => *kept = *pair,
                    Some(_) => {}
                    None => expected.push(*pair),
                }
            }
            expected.sort_by_key(|p| (p.a, p.b));
            proptest::prop_assert_eq!(review_pairs(&pairs, &person_of), expected);
        }
    }

    #[test]
    fn keys_are_stable_and_hide_the_id() {
        let key = PersonKey::of_id("11010519491231002X").to_string();
        assert_eq!(key, PersonKey::of_id("11010519491231002X").to_string());
        assert_ne!(key, PersonKey::of_id("110105194912310037").to_string());
        assert_eq!(key.len(), 17);
        assert!(key.starts_with('P') && !key.contains("19491231"));
        // The same unkeyed key as earlier versions gave: a ledger rewrites those as keyed.
        let digest = Sha256::digest(b"recon-person-v1:11010519491231002X");
        let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(key, format!("P{hex}"));
        let secret = KeySecret::per_run().unwrap();
        let keyed = PersonKey::of_id("11010519491231002X").keyed(&secret);
        assert_eq!(keyed.to_string(), secret.keyed_person_key(&key));
    }
}
