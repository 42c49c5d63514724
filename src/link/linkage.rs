//! Which records are the same person: the linker's result, as the rules and the report read
//! it (a person's rows, their key, how each row came to its person, the review pairs, the
//! households).

use std::borrow::Cow;

use rayon::prelude::*;

use super::engine::LinkCounts;
use super::households::Households;
use super::model::Model;
use super::pairs::{Joined, Joins, PairOutcome};
use super::person_key::PersonKey;
use crate::keys::KeySecret;
use crate::model::{Flags, IdSource, Records, SourceId, Word, Words};

/// Which records are the same person, and how each came to its person. Compact, as a
/// province has tens of millions of rows: each person's records sit in one array, its key is
/// 9 bytes, and how each row was placed is a small enum.
pub struct Linkage {
    pub(super) person_of: Vec<u32>,
    /// Every person's records, person after person: person p's are `members[starts[p]..starts[p + 1]]`.
    pub(super) members: Vec<u32>,
    pub(super) starts: Vec<u32>,
    pub(super) keys: Vec<PersonKey>,
    pub(super) joined: Joins,
    /// Pairs for a person to decide: the best pair between two persons, in the review band,
    /// in row order.
    pub review: Vec<PairOutcome>,
    /// What agrees and differs in each review pair, and what was decided (`Matcher::let_go`),
    /// each distinct text kept once: a province's millions of pairs share a few thousand.
    pub(super) review_reasons: Vec<Word>,
    pub(super) reason_texts: Words,
    pub model: Model,
    pub counts: LinkCounts,
    /// Rows whose ID is ignored (another person's, or a placeholder), and those of them whose
    /// ID is a placeholder.
    pub(super) suspect: Flags,
    pub(super) placeholder: Flags,
    /// (person, review pair) for each row of each review pair (an index into `review`), sorted:
    /// a person's pairs are a run. Eight bytes an entry, where a map of vectors took dozens.
    pub(super) review_of_person: Vec<(u32, u32)>,
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

    /// Keeps the review pairs `keep` says to (a partition's: those with a row of its own).
    pub fn keep_review(&mut self, keep: impl Fn(&PairOutcome) -> bool) {
        self.review.retain(keep);
        self.index_review();
    }

    /// Which review pairs each person is part of.
    pub(super) fn index_review(&mut self) {
        let person_of = &self.person_of;
        self.review_of_person = (self.review.par_iter().enumerate())
            .flat_map_iter(|(k, pair)| {
                [pair.a, pair.b].map(|row| (person_of[row as usize], k as u32))
            })
            .collect();
        self.review_of_person.par_sort_unstable();
    }

    /// The review pairs person `person` is part of, in review order.
    fn review_pairs_of(&self, person: usize) -> impl Iterator<Item = &PairOutcome> {
        let start = (self.review_of_person).partition_point(|&(p, _)| (p as usize) < person);
        self.review_of_person[start..]
            .iter()
            .take_while(move |&&(p, _)| p as usize == person)
            .map(|&(_, k)| &self.review[k as usize])
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
    pub fn evidence(&self, index: usize, records: &Records) -> Cow<'static, str> {
        let record = &records[index];
        let doubt = self.id_doubt(index);
        match self.joined.get(index) {
            Joined::Anchor => record.id_source().code().into(),
            Joined::Decided => "decided:same".into(),
            Joined::Probable(p) => match doubt {
                Some(doubt) => format!("probable:{p:.3};{}", doubt.code()).into(),
                None => format!("probable:{p:.3}").into(),
            },
            Joined::Alone => match (doubt, record.id_source()) {
                (Some(doubt), _) => format!("unlinked:{}", doubt.code()).into(),
                (None, IdSource::None) => format!("unlinked:{}", records.id(record).state()).into(),
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
        found.map_or("", |k| self.reason_texts.text(self.review_reasons[k]))
    }

    /// A review-band row of `source` that may be the person of record `index`.
    pub fn undecided(
        &self,
        records: &Records,
        index: usize,
        source: SourceId,
    ) -> Option<Undecided> {
        let person = self.person_of(index);
        self.review_pairs_of(person)
            .filter_map(|pair| {
                let other = if self.person_of(pair.a as usize) == person {
                    pair.b
                } else {
                    pair.a
                };
                (records[other as usize].source() == source).then_some(Undecided {
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
