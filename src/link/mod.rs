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
pub mod matcher;
pub mod model;
pub mod predict;
pub mod records;
pub mod table;
pub mod training;

use std::borrow::Cow;
use std::time::Instant;

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::config::Settings;
use crate::keys::KeySecret;
use crate::model::{FastMap, IdSource, Record, Records, SourceId};
use comparison::Comparer;
use decisions::{Decide, PairDecision};
use engine::{Decision, Joined, LinkCounts, LinkRequest, PairOutcome};
use households::Households;
pub use matcher::Matcher;
use model::{LinkType, Model};
use predict::Scorer;

/// Which records are the same person, and how each came to its person. Compact, as a
/// province has tens of millions of rows: each person's records sit in one array, its key is
/// 9 bytes, and how each row was placed is a small enum.
pub struct Linkage {
    person_of: Vec<u32>,
    /// Every person's records, person after person: person p's are `members[starts[p]..starts[p + 1]]`.
    members: Vec<u32>,
    starts: Vec<u32>,
    keys: Vec<PersonKey>,
    joined: Vec<Joined>,
    /// Pairs for a person to decide: the best pair between two persons, in the review band,
    /// in row order.
    pub review: Vec<PairOutcome>,
    /// What agrees and differs in each review pair, and what was decided.
    review_reasons: Vec<String>,
    pub model: Model,
    pub counts: LinkCounts,
    /// Each row's source.
    source: Vec<u8>,
    /// Rows whose ID is ignored (another person's, or a placeholder), and those of them whose
    /// ID is a placeholder.
    suspect: Vec<bool>,
    placeholder: Vec<bool>,
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

    /// What agrees and differs in review pair `pair`, and what was decided.
    pub fn pair_reason(&self, pair: &PairOutcome) -> &str {
        let found = self
            .review
            .binary_search_by_key(&(pair.a, pair.b), |p| (p.a, p.b));
        found.map_or("", |k| &self.review_reasons[k])
    }

    fn source_of(&self, index: usize) -> SourceId {
        usize::from(self.source[index])
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
}

/// Links the job's records. `file_names` name each file for the keys of rows no ID places;
/// `model` is a saved model to use instead of training one; `decided` holds people's
/// decisions on pairs of rows (`decisions`). Returns the persons, and what they were compared
/// by for the questions asked of pairs later.
pub fn link(
    records: &Records,
    file_names: &[String],
    settings: &Settings,
    model: Option<Model>,
    decided: Option<&Decide>,
) -> Result<(Linkage, Matcher), model::ModelError> {
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
    // Every scored pair: let go now, not when the function ends.
    drop(outcome.pairs);
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
        review_reasons: Vec::new(),
        model: outcome.model,
        counts: outcome.counts,
        source: table.source.clone(),
        suspect: outcome.suspect,
        placeholder: outcome.placeholder,
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
    let matcher = Matcher {
        table,
        settings: settings.link.clone(),
        scorer,
    };
    linkage.review_reasons = matcher.review_reasons(&linkage);
    let started = Instant::now();
    linkage.households = Households::build(
        records,
        settings,
        (&linkage.person_of, linkage.persons()),
        &linkage.suspect,
    );
    engine::log_phase("households", started);
    tracing::info!(households = linkage.households.count(), "households made");
    Ok((linkage, matcher))
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
        let (linkage, matcher) = link(&records, &names, settings, None, None).unwrap();
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
        let found = matcher.nearest_non_matches(&linkage, &requests);
        for (&(record, source), found) in requests.iter().zip(&found) {
            let expected = matcher
                .candidates(&linkage, record)
                .into_iter()
                .find(|&(row, _)| {
                    records[row].source == source
                        && linkage.person_of(row) != linkage.person_of(record)
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
