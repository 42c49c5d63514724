//! Link: normalized records in, a person for every record out, with the evidence that put it
//! there. A Fellegi-Sunter linker in Splink's vocabulary (blocking rules, comparisons with
//! ordered levels, m and u probabilities, match weights), made for Chinese department records:
//! rows sharing a valid ID are one person unless a veto splits them; rows whose ID is missing,
//! mistyped, damaged by Excel or another person's are placed by probability, on name (by
//! character, sound, traditional form, `?`), birth date, sex, county and household. Links in
//! the review band go to `review.csv`. The report sees only `Linkage`; the rules ask the
//! `Matcher` for gap rows' nearest other person too.
//!
//! `table` (rows as compact columns) -> `comparison` (levels of a pair) -> `blocking`
//! (candidate pairs) -> `training` (the model) -> `predict` (match weights) -> `candidates`
//! -> `cluster` (persons); `engine` runs them, `explain` says why, `linkage` is the result and
//! `matcher` what rows were compared by. Each module uses only those before it in
//! `tests/test_layers.rs`'s order.

pub mod blocking;
pub mod calibrate;
pub mod candidates;
pub mod cluster;
pub mod comparators;
pub mod comparison;
pub mod decisions;
pub mod engine;
pub mod explain;
pub mod households;
pub mod linkage;
pub mod lists;
pub mod matcher;
pub mod model;
pub mod pairs;
pub mod person_key;
pub mod predict;
pub mod records;
pub mod table;
pub mod training;

use std::time::Instant;

use rayon::prelude::*;

use crate::config::Settings;
use crate::model::{Records, Words};
use comparison::Comparer;
use decisions::{Decide, PairDecision};
use engine::LinkRequest;
use households::Households;
pub use linkage::{IdDoubt, Linkage, Undecided};
pub use matcher::{Matcher, NearMiss};
use model::{LinkType, Model};
use pairs::{Decision, Joined, Joins, PairOutcome};
pub use person_key::PersonKey;
use predict::Scorer;

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
        list_every_pair: false,
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
    let scorer = Scorer::among(
        &Comparer {
            table: &table,
            settings: &settings.link,
            suspect: &outcome.suspect,
        },
        &outcome.model,
        &person_of,
        outcome.model.population.map(|p| p.linked),
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
        reason_texts: Words::default(),
        model: outcome.model,
        counts: outcome.counts,
        suspect: outcome.suspect,
        placeholder: outcome.placeholder,
        review_of_person: Vec::new(),
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
/// `Folding` (candidates.rs) keeps of a loose row's pairs with one person only the one this
/// would keep: change the choice in both.
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
    joined: &Joins,
    file_names: &[String],
) -> PersonKey {
    let anchor = rows
        .iter()
        .find(|&&r| joined.get(r as usize) == Joined::Anchor)
        .and_then(|&r| records.id(&records[r as usize]).valid());
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
    use crate::model::SourceId;

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
            provinces: 1,
            first_province: "42".into(),
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
            .map(|(row, r)| ((r.name.number(), r.county_code()), row))
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
                    records[row].source() == source
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
                        true => Decision::Review(pairs::ReviewReason::BelowAccept),
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
}
