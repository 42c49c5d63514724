//! Households, made of the data after persons are known: a row naming a household head's ID
//! (户主身份证号) puts its person in that head's household, and a head is in their own
//! household. A person is in one household: the one most of their rows name (of equals, the
//! lowest head ID), rows naming another head before rows naming their own ID; the head, by
//! their own ID, when no row of theirs names one. A household of one person is not kept (a
//! province's neighbours mostly head their own): such a person is alone, as one no row places.

use rayon::prelude::*;

use super::person_key::PersonKey;
use crate::config::Settings;
use crate::keys::KeySecret;
use crate::model::{FastMap, FastSet, FieldRole, Flags, IdRef, Records};

/// Which persons live together, as the rows tell it.
#[derive(Debug, Default)]
pub struct Households {
    /// Person -> household, `NONE` where the person shares none.
    of_person: Vec<u32>,
    /// Every household's persons, household after household.
    members: Vec<u32>,
    starts: Vec<u32>,
    /// Each household's head ID (a valid one).
    heads: Vec<IdRef>,
    /// Each household's key: its head's person key (unkeyed until `key_with`).
    keys: Vec<PersonKey>,
    /// Person -> rows that name their household, and rows that name another one.
    evidence: Vec<(u16, u16)>,
}

const NONE: u32 = u32::MAX;

/// How a person came to their household.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Membership {
    pub household: usize,
    /// Rows of the person naming this household's head (0 for the head known by their own ID).
    pub rows: u16,
    /// Rows of the person naming another head.
    pub elsewhere: u16,
}

impl Households {
    /// The households of `records`, whose persons are `person_of`; `doubted` marks the rows
    /// whose valid ID was not taken as theirs (another person's, a placeholder).
    pub fn build(
        records: &Records,
        settings: &Settings,
        (person_of, persons): (&[u32], usize),
        doubted: &Flags,
    ) -> Self {
        let head_field: Vec<Option<usize>> = (settings.sources.iter())
            .map(|s| s.field_for(FieldRole::HouseholdHeadId))
            .collect();
        // (row, head ID) for every row naming a head.
        let naming: Vec<(u32, IdRef)> = (0..records.len())
            .into_par_iter()
            .filter_map(|i| {
                let record = &records[i];
                let head = records.value(record, head_field[record.source()]?).id()?;
                Some((i as u32, head))
            })
            .collect();
        // Who holds each ID that a row names as another's head, and each ID a row naming a
        // head carries but was not taken as its own: that ID is a household member's (a
        // relative's typed into the row), or the row's own under a name the linker could not
        // trust. A head only ever named by their own rows is placed by them (a province's
        // neighbours each head their own household: most heads are such).
        let mut wanted: Vec<IdRef> = (naming.par_iter())
            .filter_map(|&(i, head)| {
                let own = own_id(records, i as usize);
                match (own == Some(head), doubted[i as usize]) {
                    (true, _) => None,
                    (false, true) => Some([Some(head), own]),
                    (false, false) => Some([Some(head), None]),
                }
            })
            .flatten_iter()
            .flatten()
            .collect();
        wanted.par_sort_unstable();
        wanted.dedup();
        let holder = holders(records, person_of, doubted, &wanted.into_iter().collect());
        // (person, whether the row names their own ID, head ID): a vote for each row.
        let mut named: Vec<(u32, bool, IdRef)> = (naming.par_iter())
            .flat_map_iter(|&(i, head)| {
                let id = own_id(records, i as usize);
                let own = id == Some(head);
                let holder_of_id = id
                    .filter(|_| doubted[i as usize] && !own)
                    .and_then(|id| holder.get(&id))
                    .map(|&h| (h, false, head));
                std::iter::once((person_of[i as usize], own, head)).chain(holder_of_id)
            })
            .collect();
        named.par_sort_unstable();
        let mut chosen: Vec<(u32, IdRef, u16, u16)> = named
            .par_chunk_by(|a, b| a.0 == b.0)
            .map(|run| {
                // A row naming the person's own ID says they head a household; one naming
                // another head places them in that one (a subsidy list puts the person's own ID
                // as 户主 where the 低保 list names the family's head).
                let others = run.partition_point(|n| !n.1);
                let votes = if others > 0 { &run[..others] } else { run };
                let (head, rows) = (votes.chunk_by(|a, b| a.2 == b.2))
                    .map(|same| (same[0].2, same.len().min(u16::MAX as usize) as u16))
                    .max_by(|a, b| {
                        (a.1.cmp(&b.1)).then(id_text(records, b.0).cmp(id_text(records, a.0)))
                    })
                    .expect("a run has rows");
                let elsewhere = (votes.len() - rows as usize).min(u16::MAX as usize) as u16;
                (run[0].0, head, rows, elsewhere)
            })
            .collect();
        // Heads no row of their own places: in their own household, by their own ID.
        let mut placed = vec![false; persons];
        chosen.iter().for_each(|c| placed[c.0 as usize] = true);
        let mut named_heads: Vec<IdRef> = chosen.iter().map(|c| c.1).collect();
        named_heads.par_sort_unstable();
        named_heads.dedup();
        let mut heads: Vec<(u32, IdRef, u16, u16)> = (named_heads.par_iter())
            .filter_map(|&head| {
                let person = *holder.get(&head)?;
                (!placed[person as usize]).then_some((person, head, 0, 0))
            })
            .collect();
        heads.sort_unstable_by_key(|c| c.0);
        heads.dedup_by_key(|c| c.0);
        chosen.extend(heads);
        Self::group(records, chosen, persons)
    }

    /// Households of the chosen (person, head, rows, elsewhere), in the order their head IDs
    /// were first read.
    fn group(records: &Records, mut chosen: Vec<(u32, IdRef, u16, u16)>, persons: usize) -> Self {
        chosen.par_sort_unstable_by_key(|c| (c.1, c.0));
        let mut households = Households {
            of_person: vec![NONE; persons],
            evidence: vec![(0, 0); persons],
            ..Households::default()
        };
        // A person alone under a head is kept as no household: the rules read both alike.
        for run in chosen
            .chunk_by(|a, b| a.1 == b.1)
            .filter(|run| run.len() > 1)
        {
            let household = households.heads.len() as u32;
            households.heads.push(run[0].1);
            (households.keys).push(PersonKey::of_id(id_text(records, run[0].1)));
            households.starts.push(households.members.len() as u32);
            for &(person, _, rows, elsewhere) in run {
                households.of_person[person as usize] = household;
                households.evidence[person as usize] = (rows, elsewhere);
                households.members.push(person);
            }
        }
        households.starts.push(households.members.len() as u32);
        households
    }

    /// The person's household and how the rows placed them there, when one is known.
    pub fn of(&self, person: usize) -> Option<Membership> {
        let household = *self.of_person.get(person).filter(|&&h| h != NONE)?;
        let (rows, elsewhere) = self.evidence[person];
        Some(Membership {
            household: household as usize,
            rows,
            elsewhere,
        })
    }

    /// The household's persons, in person order.
    pub fn members(&self, household: usize) -> &[u32] {
        &self.members[self.starts[household] as usize..self.starts[household + 1] as usize]
    }

    /// The head's ID, among the records' IDs.
    pub fn head(&self, household: usize) -> IdRef {
        self.heads[household]
    }

    /// The household's key: the person key its head's ID gives, whether or not the head is
    /// among the records.
    pub fn key(&self, household: usize) -> PersonKey {
        self.keys[household]
    }

    /// Turns the keys into their keyed form, as the persons' keys.
    pub(super) fn key_with(&mut self, secret: &KeySecret) {
        self.keys
            .par_iter_mut()
            .for_each(|key| *key = key.keyed(secret));
    }

    /// How many households of two or more persons the rows make.
    pub fn count(&self) -> usize {
        self.heads.len()
    }
}

/// The person whose own ID each of `ids` is: the first row holding it as a valid ID the linker
/// took as that row's own.
fn holders(
    records: &Records,
    person_of: &[u32],
    doubted: &Flags,
    ids: &FastSet<IdRef>,
) -> FastMap<IdRef, u32> {
    let mut found: Vec<(u32, IdRef)> = (0..records.len())
        .into_par_iter()
        .filter(|&i| !doubted[i])
        .filter_map(|i| {
            let id = own_id(records, i)?;
            ids.contains(&id).then_some((i as u32, id))
        })
        .collect();
    found.par_sort_unstable();
    let mut holder = FastMap::default();
    for (i, id) in found {
        holder.entry(id).or_insert(person_of[i as usize]);
    }
    holder
}

/// Row `i`'s own ID, when valid.
fn own_id(records: &Records, i: usize) -> Option<IdRef> {
    let record = &records[i];
    records.id(record).valid().map(|_| record.id)
}

/// A valid ID's text.
fn id_text(records: &Records, id: IdRef) -> &str {
    records.ids.get(id).valid().unwrap_or_default()
}
