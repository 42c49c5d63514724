//! Rules: records and their linkage in, gaps out. Each rule of the catalogue picks subject rows
//! (`when`), then checks the rows linked to the same person (`requires`, `forbids`,
//! `duplicate`) as of one date. Person facts (deceased, birth date) are derived once from every
//! linked row. This stage reads the config's resolved rules; it knows no rule by its id.

pub mod contract;
pub mod describe;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use rayon::prelude::*;

use crate::config::{Bound, Check, Condition, Rule, Settings};
use crate::link::{IdDoubt, Linkage, Matcher, NearMiss, Undecided};
use crate::model::{FastMap, FastSet, FieldKind, Flags, Record, Records, SharedTexts, Value};

/// One finding: a rule and the subject row it flags.
#[derive(Clone, Debug, PartialEq)]
pub struct Gap {
    /// Index into `Settings::rules`.
    pub rule: usize,
    /// Index of the subject record.
    pub record: usize,
    /// What was looked for and what was found, in the words county staff use: one text shared
    /// by the gaps that say the same (a province's million gaps say far fewer things).
    pub detail: Arc<str>,
    /// A linked row that caused the finding (forbidden, duplicate, death), or for a missing
    /// requirement the person's row of the required source that came closest.
    pub evidence: Option<usize>,
    /// For a missing requirement: the closest row of the required source that was not
    /// accepted as the same person.
    pub nearest: Option<NearMiss>,
    /// A row of the source the rule reads that may be this person, for a person to decide
    /// (review.csv): the gap depends on that decision.
    pub undecided: Option<Undecided>,
}

/// Gaps, and how many subject rows each rule had per county (for coverage rates).
pub struct Evaluation {
    pub gaps: Vec<Gap>,
    /// (rule index, county code) -> subject rows.
    pub subjects: BTreeMap<(usize, String), u64>,
    /// (source, county code) -> rows active as of the date (payment records, enrollments…).
    pub active_rows: BTreeMap<(usize, String), u64>,
    /// (rule index, person) of the watched items without a gap tonight -> the row that now
    /// meets the rule's requirement (what closes a ledger item, named as its evidence).
    pub satisfied: FastMap<(usize, usize), usize>,
}

/// A person's death: the row that says so, and its date if it has one.
#[derive(Clone, Copy, Debug)]
struct Death {
    record: usize,
    date: Option<NaiveDate>,
}

struct PersonFacts {
    death: Option<Death>,
    birth_date: Option<NaiveDate>,
}

struct Context<'a> {
    settings: &'a Settings,
    records: &'a Records,
    linkage: &'a Linkage,
    as_of: NaiveDate,
    row_test: RowTest<'a>,
    persons: Vec<PersonFacts>,
    active: Flags,
}

/// Evaluates the rules `rules_run` (indices into the catalogue) as of `as_of`. For `watched`
/// (rule index, person) pairs, such as the ledger's open items, the row that meets the
/// requirement is kept too.
pub fn evaluate(
    settings: &Settings,
    (records, evidence): (&Records, &[bool]),
    (linkage, matcher): (&Linkage, &Matcher),
    as_of: NaiveDate,
    (rules_run, watched): (&[usize], &[(usize, usize)]),
) -> Evaluation {
    // Rows of an evidence file (`evidence`, by file) are facts about persons, never subjects.
    let is_evidence = |record: &Record| evidence.get(record.row.file as usize) == Some(&true);
    let mut context = Context {
        settings,
        records,
        linkage,
        as_of,
        row_test: RowTest::new(settings, records, as_of),
        persons: Vec::new(),
        active: Flags::default(),
    };
    let rows = records.as_slice();
    let active = Flags::from_fn(rows.len(), |r| context.is_active(&rows[r]));
    let active_rows = tally(
        (0..rows.len())
            .into_par_iter()
            .filter(|&r| active[r] && !is_evidence(&rows[r]))
            .map(|r| (rows[r].source(), rows[r].county_code())),
    );
    let persons = (0..linkage.persons())
        .into_par_iter()
        .map(|p| context.person_facts(p))
        .collect();
    (context.active, context.persons) = (active, persons);
    // Each rule reads only its subject source's rows: runs of rows, as a file is one source.
    let mut runs_of_source: Vec<Vec<std::ops::Range<u32>>> =
        vec![Vec::new(); settings.sources.len()];
    for (i, record) in records.iter().enumerate() {
        if is_evidence(record) {
            continue;
        }
        let runs = &mut runs_of_source[record.source()];
        match runs.last_mut().filter(|run| run.end == i as u32) {
            Some(run) => run.end += 1,
            None => runs.push(i as u32..i as u32 + 1),
        }
    }
    let mut gaps = Vec::new();
    let mut details = SharedTexts::default();
    let mut subjects = Tally::default();
    for &rule_index in rules_run {
        let started = std::time::Instant::now();
        let rule = &settings.rules[rule_index];
        let (counted, found) =
            context.check_rule(rule_index, &runs_of_source[rule.subject], &mut details);
        add_counts(&mut subjects, counted);
        let (seconds, gaps_found) = (started.elapsed().as_secs_f64(), found.len());
        let (rss_mib, _) = crate::progress::memory_mib();
        tracing::debug!(rule = rule.id, gaps_found, seconds, rss_mib, "rule checked");
        gaps.extend(found);
    }
    let satisfied = watched
        .par_iter()
        .filter(|(rule, _)| rules_run.contains(rule))
        .filter_map(|&(rule, person)| Some(((rule, person), context.satisfied_by(rule, person)?)))
        .collect();
    // The persons' facts (32 bytes a person, tens of millions in a province) are let go
    // before the search, which holds the run's peak.
    drop(context);
    add_nearest_non_matches(settings, (linkage, matcher), &mut gaps);
    Evaluation {
        gaps,
        subjects: by_county(subjects),
        active_rows: by_county(active_rows),
        satisfied,
    }
}

/// A missing requirement's gap names the closest row of the required source that is another
/// person; looked up for all gaps at once.
fn add_nearest_non_matches(
    settings: &Settings,
    (linkage, matcher): (&Linkage, &Matcher),
    gaps: &mut [Gap],
) {
    let requests: Vec<(usize, usize, usize)> = gaps
        .iter()
        .enumerate()
        .filter_map(|(g, gap)| match settings.rules[gap.rule].check {
            Check::Requires { source, .. } => Some((g, gap.record, source)),
            _ => None,
        })
        .collect();
    // Several rules may ask for the same row's nearest row of one source: looked up once.
    let mut asked: Vec<(usize, usize)> = requests.iter().map(|(_, r, s)| (*r, *s)).collect();
    asked.sort_unstable();
    asked.dedup();
    let started = std::time::Instant::now();
    let found = matcher.nearest_non_matches(linkage, &asked);
    for (g, record, source) in requests {
        let k = asked.partition_point(|&q| q < (record, source));
        gaps[g].nearest = found[k].clone();
    }
    let seconds = started.elapsed().as_secs_f64();
    tracing::debug!(requests = asked.len(), seconds, "nearest non-matches found");
}

/// Counts per (rule or source, county code), as they are counted.
type Tally = FastMap<(usize, &'static str), u64>;

/// Counts of each (rule or source, county code) that `items` yields, counted on every core.
fn tally(items: impl ParallelIterator<Item = (usize, &'static str)>) -> Tally {
    items
        .fold(Tally::default, |mut counts, key| {
            *counts.entry(key).or_insert(0) += 1;
            counts
        })
        .reduce(Tally::default, |mut all, part| {
            add_counts(&mut all, part);
            all
        })
}

#[expect(clippy::iter_over_hash_type, reason = "sums, the same in any order")]
fn add_counts(all: &mut Tally, part: Tally) {
    for (key, n) in part {
        *all.entry(key).or_insert(0) += n;
    }
}

fn by_county(tally: Tally) -> BTreeMap<(usize, String), u64> {
    tally
        .into_iter()
        .map(|((index, county), n)| ((index, county.to_string()), n))
        .collect()
}

impl Context<'_> {
    /// A rule's subjects counted per county, and its gaps (their details shared through
    /// `details`). `runs` are the runs of rows of the rule's subject source.
    fn check_rule(
        &self,
        rule_index: usize,
        runs: &[std::ops::Range<u32>],
        details: &mut SharedTexts,
    ) -> (Tally, Vec<Gap>) {
        let rule = &self.settings.rules[rule_index];
        let subjects: Vec<u32> = runs
            .par_iter()
            .flat_map(|run| run.clone().into_par_iter())
            .filter(|&i| self.all_hold(&rule.when, i as usize))
            .collect();
        let households_first;
        let counted_subjects = match rule.per_household {
            true => {
                households_first = self.first_of_each_household(&subjects);
                &households_first
            }
            false => &subjects,
        };
        let counted = tally(
            counted_subjects
                .par_iter()
                .map(|&subject| (rule_index, self.records[subject as usize].county_code())),
        );
        let mut found: Vec<Gap> = subjects
            .par_iter()
            .filter_map(|&i| self.check(rule_index, rule, i as usize))
            .collect();
        found
            .iter_mut()
            .for_each(|gap| gap.detail = details.share(&gap.detail));
        match rule.per_household {
            true => (counted, self.one_per_household(found)),
            false => (counted, found),
        }
    }

    fn is_active(&self, record: &Record) -> bool {
        let source = &self.settings.sources[record.source()];
        let within = |field: Option<usize>, inside: fn(NaiveDate, NaiveDate) -> bool| {
            field.is_none_or(|f| match self.records.value(record, f) {
                Value::Date(d) => inside(d, self.as_of),
                _ => true,
            })
        };
        let ended_later = source
            .ended_by
            .and_then(|f| self.records.value(record, f).date())
            .is_some_and(|end| end > self.as_of);
        (ended_later || source.active.iter().all(|c| self.row_test.holds(c, record)))
            && within(source.active_from, |start, as_of| start <= as_of)
            && within(source.active_until, |end, as_of| as_of <= end)
    }

    fn person_facts(&self, person: usize) -> PersonFacts {
        let rows = self.linkage.members_of(person);
        // A row placed by name whose ID is another person's (a parent's on a child's row)
        // carries that person's birth date: the rows whose ID is the person's own come first.
        let birth = |r: &u32| self.records[*r as usize].birth_date;
        let own_id = |r: &&u32| self.linkage.id_doubt(**r as usize).is_none();
        let birth_date =
            (rows.iter().filter(own_id).find_map(birth)).or_else(|| rows.iter().find_map(birth));
        let death = rows.iter().find_map(|&r| self.death_of(r as usize));
        PersonFacts { death, birth_date }
    }

    fn death_of(&self, index: usize) -> Option<Death> {
        let record = &self.records[index];
        self.settings
            .deaths
            .iter()
            .filter(|d| {
                d.source == record.source()
                    && d.conditions.iter().all(|c| self.row_test.holds(c, record))
            })
            .map(|d| Death {
                record: index,
                date: d.date.and_then(|f| self.records.value(record, f).date()),
            })
            .find(|d| d.date.is_none_or(|date| date <= self.as_of))
    }

    fn all_hold(&self, conditions: &[Condition], index: usize) -> bool {
        conditions.iter().all(|c| self.holds(c, index))
    }

    /// A condition on one row and its person.
    fn holds(&self, condition: &Condition, index: usize) -> bool {
        let person = &self.persons[self.linkage.person_of(index)];
        match condition {
            Condition::Active(want) => self.active[index] == *want,
            Condition::Living(want) => person.death.is_none() == *want,
            Condition::Age { min, max } => person.birth_date.is_some_and(|birth| {
                let age = age_on(birth, self.as_of);
                min.is_none_or(|m| age >= m) && max.is_none_or(|m| age <= m)
            }),
            Condition::Linked {
                source,
                conditions,
                negate,
            } => self.first_linked(index, *source, conditions).is_some() != *negate,
            Condition::Any(conditions) => conditions.iter().any(|c| self.holds(c, index)),
            Condition::All(conditions) => self.all_hold(conditions, index),
            Condition::Household {
                conditions,
                at_least,
                at_most,
                others,
            } => {
                let person = self.linkage.person_of(index);
                let meeting = self.housemates_meeting(index, conditions);
                let count = (meeting.iter())
                    .filter(|&&r| !*others || self.linkage.person_of(r) != person)
                    .count() as u32;
                count >= *at_least && at_most.is_none_or(|most| count <= most)
            }
            _ => self.row_test.holds(condition, &self.records[index]),
        }
    }

    /// The members of the household of row `index`'s person (the person included, alone where
    /// no household is known) that have a row of `index`'s source meeting the conditions (or,
    /// having none, meet conditions that are on persons alone): the row that does, for each.
    fn housemates_meeting(&self, index: usize, conditions: &[Condition]) -> Vec<usize> {
        let person = self.linkage.person_of(index);
        let households = &self.linkage.households;
        let alone = [person as u32];
        let members = match households.of(person) {
            Some(membership) => households.members(membership.household),
            None => &alone[..],
        };
        let source = self.records[index].source;
        let on_persons = conditions.iter().all(Condition::on_the_person_alone);
        let meeting = |&member: &u32| {
            let rows = self.linkage.members_of(member as usize);
            let mut own = rows.iter().map(|&r| r as usize);
            let mut of_source = own.clone().filter(|&r| self.records[r].source == source);
            match of_source.next() {
                Some(first) => std::iter::once(first)
                    .chain(of_source)
                    .find(|&r| self.all_hold(conditions, r)),
                // A head known by their own ID may have no row of the source.
                None => own
                    .next()
                    .filter(|&r| on_persons && self.all_hold(conditions, r)),
            }
        };
        members.iter().filter_map(meeting).collect()
    }

    /// For a rule that asks for household members meeting conditions: the others who do, named,
    /// so county staff see which family member makes the subject one (of the first such
    /// condition any member meets, `any` groups included).
    fn household_note(&self, rule: &Rule, index: usize) -> Option<String> {
        fn counts(conditions: &[Condition]) -> Vec<&[Condition]> {
            (conditions.iter())
                .flat_map(|c| match c {
                    Condition::Household {
                        conditions,
                        at_least,
                        ..
                    } if *at_least > 0 => vec![conditions.as_slice()],
                    Condition::Any(inner) | Condition::All(inner) => counts(inner),
                    _ => Vec::new(),
                })
                .collect()
        }
        let person = self.linkage.person_of(index);
        counts(&rule.when).into_iter().find_map(|conditions| {
            let names: Vec<&str> = (self.housemates_meeting(index, conditions).into_iter())
                .filter(|&r| self.linkage.person_of(r) != person)
                .map(|r| self.records.name(&self.records[r]))
                .collect();
            let what = describe::describe(self.settings, rule.subject, conditions, self.as_of);
            (!names.is_empty()).then(|| format!("同户{}：{what}", names.join("、")))
        })
    }

    /// The household of row `index`'s person, when the rows place them in one.
    fn household_of(&self, index: usize) -> Option<usize> {
        let person = self.linkage.person_of(index);
        Some(self.linkage.households.of(person)?.household)
    }

    /// The first of `rows` (in record order) of each household; a row of a person alone stays.
    fn first_of_each_household(&self, rows: &[u32]) -> Vec<u32> {
        let mut seen = FastSet::default();
        (rows.iter().copied())
            .filter(|&r| self.household_of(r as usize).is_none_or(|h| seen.insert(h)))
            .collect()
    }

    /// A household rule's gaps, one per household: the head's row when the head is among them,
    /// else the first; its detail names the head and the other members found.
    fn one_per_household(&self, gaps: Vec<Gap>) -> Vec<Gap> {
        let households = &self.linkage.households;
        let mut kept = Vec::new();
        let mut of_household: BTreeMap<usize, Vec<Gap>> = BTreeMap::new();
        for gap in gaps {
            match self.household_of(gap.record) {
                Some(h) => of_household.entry(h).or_default().push(gap),
                None => kept.push(gap),
            }
        }
        for (h, mut group) in of_household {
            let head_key = households.key(h);
            let head_row = (households.members(h).iter())
                .map(|&m| self.linkage.members_of(m as usize)[0] as usize)
                .find(|&row| self.linkage.key_of(row) == head_key);
            let chosen = (group.iter())
                .position(|g| self.linkage.key_of(g.record) == head_key)
                .unwrap_or(0);
            let mut gap = group.swap_remove(chosen);
            group.sort_by_key(|g| g.record);
            let name = |row: usize| self.records.name(&self.records[row]);
            let mut note = match head_row {
                _ if self.linkage.key_of(gap.record) == head_key => "户主本人".to_string(),
                Some(row) => format!("户主{}", name(row)),
                None => "户主不在数据中".to_string(),
            };
            if !group.is_empty() {
                let others: Vec<&str> = group.iter().map(|g| name(g.record)).collect();
                note = format!("{note}，同户另有{}", others.join("、"));
            }
            gap.detail = format!("{}（按户列一条：{note}）", gap.detail).into();
            kept.push(gap);
        }
        kept.sort_by_key(|g| g.record);
        kept
    }

    fn first_linked(&self, index: usize, source: usize, conditions: &[Condition]) -> Option<usize> {
        self.linkage
            .linked(index)
            .iter()
            .map(|&r| r as usize)
            .find(|&r| self.records[r].source() == source && self.all_hold(conditions, r))
    }

    /// The person's row that meets the rule's requirement, for a subject row of theirs.
    fn satisfied_by(&self, rule: usize, person: usize) -> Option<usize> {
        let rule = &self.settings.rules[rule];
        let Check::Requires { source, conditions } = &rule.check else {
            return None;
        };
        let mut rows = self.linkage.members_of(person).iter().map(|&r| r as usize);
        let subject = rows
            .find(|&r| self.records[r].source() == rule.subject && self.all_hold(&rule.when, r))?;
        self.first_linked(subject, *source, conditions)
    }

    /// The gap this subject row makes under the rule's check, if any.
    fn check(&self, rule_index: usize, rule: &Rule, index: usize) -> Option<Gap> {
        let (detail, evidence) = match &rule.check {
            Check::Requires { source, conditions } => {
                if self.first_linked(index, *source, conditions).is_some() {
                    return None;
                }
                self.missing_detail(index, *source, conditions)
            }
            Check::Forbids { source, conditions } => {
                let found = self.first_linked(index, *source, conditions)?;
                let label = &self.settings.sources[*source].label;
                let wanted = describe::describe(self.settings, *source, conditions, self.as_of);
                (
                    format!("{label}中另有{wanted}的记录（见相关记录）"),
                    Some(found),
                )
            }
            Check::Duplicate { field, conditions } => {
                let value = self.records.value(&self.records[index], *field);
                let mut linked = self.linkage.linked(index).iter().map(|&r| r as usize);
                let other = linked.find(|&r| {
                    r != index
                        && self.records[r].source() == rule.subject
                        && self.records.value(&self.records[r], *field) == value
                        && self.all_hold(conditions, r)
                })?;
                let elsewhere = match (self.records[other].county(), self.records[index].county()) {
                    (Some(there), here) if here.is_none_or(|h| h.code != there.code) => {
                        format!("在{}（{}）", there.name, there.code)
                    }
                    _ => String::new(),
                };
                (
                    format!("同一项目{elsewhere}另有一条有效记录（见相关记录）"),
                    Some(other),
                )
            }
            Check::Always => self.what_holds(rule, index),
        };
        let detail = match self.household_note(rule, index) {
            Some(note) => format!("{detail}（{note}）"),
            None => detail,
        };
        let detail = self.with_link_warning(detail, index);
        let read = match &rule.check {
            Check::Requires { source, .. } | Check::Forbids { source, .. } => Some(*source),
            Check::Duplicate { .. } => Some(rule.subject),
            Check::Always => None,
        };
        Some(Gap {
            rule: rule_index,
            record: index,
            detail: detail.into(),
            evidence,
            nearest: None,
            undecided: read.and_then(|source| self.linkage.undecided(self.records, index, source)),
        })
    }

    /// A rule with no check flags every subject: the detail says what the subject is, with the
    /// death that makes it one (its date and row) when the rule asks for the deceased.
    fn what_holds(&self, rule: &Rule, index: usize) -> (String, Option<usize>) {
        let death = self.persons[self.linkage.person_of(index)].death;
        // Every subject is in force and living where the rule asks it: said by the rule, not
        // on each of its findings.
        let said = |c: &&Condition| !matches!(c, Condition::Active(true) | Condition::Living(true));
        let parts: Vec<String> = (rule.when.iter())
            .filter(said)
            .map(|condition| match condition {
                Condition::Living(false) => {
                    let date = death
                        .and_then(|d| d.date)
                        .map_or("日期不详".into(), |d| d.to_string());
                    format!("此人已死亡（{date}，见相关记录）")
                }
                _ => describe::describe(
                    self.settings,
                    rule.subject,
                    std::slice::from_ref(condition),
                    self.as_of,
                ),
            })
            .collect();
        let evidence = death
            .filter(|_| rule.when.contains(&Condition::Living(false)))
            .map(|d| d.record);
        let label = &self.settings.sources[rule.subject].label;
        (format!("{label}记录：{}", parts.join("，")), evidence)
    }

    /// What a `requires` check looked for, where, and what it found instead: the person's row
    /// of that source that came closest (fewest conditions failed; the last of equals), named
    /// as the gap's evidence, with the first condition it fails in what the row holds.
    fn missing_detail(
        &self,
        index: usize,
        source: usize,
        conditions: &[Condition],
    ) -> (String, Option<usize>) {
        let label = &self.settings.sources[source].label;
        let wanted = describe::describe(self.settings, source, conditions, self.as_of);
        let rows: Vec<usize> = self
            .linkage
            .linked(index)
            .iter()
            .map(|&r| r as usize)
            .filter(|&r| self.records[r].source() == source)
            .collect();
        let failing = |r: usize| conditions.iter().filter(|c| !self.holds(c, r)).count();
        let closest = rows.iter().copied().rev().min_by_key(|&r| failing(r));
        let Some(closest) = closest else {
            return (
                format!("未找到{label}中{wanted}的记录：该来源无此人记录"),
                None,
            );
        };
        let why = conditions
            .iter()
            .find(|c| !self.holds(c, closest))
            .map_or(String::new(), |c| self.what_fails(c, closest));
        let count = match rows.len() {
            1 => "此人在该来源有1条记录，其".to_string(),
            n => format!("此人在该来源有{n}条记录，均不符合，最接近的一条"),
        };
        (
            format!("未找到{label}中{wanted}的记录：{count}{why}（见相关记录）"),
            Some(closest),
        )
    }

    /// What row `index` holds that fails `condition`, in words: 参保年度为2019, 证件状态为注销,
    /// 截至2020-06-30已终止（终止日期2020-03-01）.
    fn what_fails(&self, condition: &Condition, index: usize) -> String {
        let record = &self.records[index];
        let holds = |field: usize| {
            let label = describe::field_label(self.settings, record.source(), field);
            match self.records.shown(self.records.value(record, field)) {
                Some(shown) => format!("{label}为{shown}"),
                None => format!("{label}为空"),
            }
        };
        match condition {
            Condition::FieldIn { field, .. }
            | Condition::FieldEmpty { field, .. }
            | Condition::FieldIsAsOfYear { field }
            | Condition::Compare { field, .. } => holds(*field),
            Condition::Active(true) => self.why_inactive(record, holds),
            other => format!(
                "不满足“{}”",
                describe::describe(
                    self.settings,
                    record.source(),
                    std::slice::from_ref(other),
                    self.as_of
                )
            ),
        }
    }

    /// Why a row is not in force on the as-of date: a start after it, an end before it, or
    /// the value that fails its source's `active` conditions.
    fn why_inactive(&self, record: &Record, holds: impl Fn(usize) -> String) -> String {
        let source = &self.settings.sources[record.source()];
        let date = |field: Option<usize>| field.and_then(|f| self.records.value(record, f).date());
        if let Some(start) = date(source.active_from).filter(|d| *d > self.as_of) {
            return format!("自{start}起才有效");
        }
        if let Some(end) = date(source.active_until).filter(|d| *d < self.as_of) {
            return format!("已于{end}终止");
        }
        let failing = source
            .active
            .iter()
            .find(|c| !self.row_test.holds(c, record));
        match failing {
            Some(
                Condition::FieldIn { field, .. }
                | Condition::FieldEmpty { field, .. }
                | Condition::FieldIsAsOfYear { field },
            ) => format!("{}，截至{}无效", holds(*field), self.as_of),
            _ => format!("截至{}无效", self.as_of),
        }
    }

    /// Notes that the subject row's ID could not be used, and how the row was placed, so the
    /// finding may be checked.
    fn with_link_warning(&self, detail: String, index: usize) -> String {
        let record = &self.records[index];
        let alone = self.linkage.linked(index).len() == 1;
        let id = self.records.id(record);
        let problem = match (self.linkage.id_doubt(index), id.valid()) {
            (Some(IdDoubt::Placeholder), _) => "本行身份证号为多行共用的占位号码".to_string(),
            (Some(IdDoubt::AnotherPersons), _) => {
                "本行身份证号疑为他人（如家人）的号码".to_string()
            }
            (None, Some(_)) => return detail,
            (None, None) => format!("本行身份证号不可用（{}）", id.state()),
        };
        match alone {
            true => format!("{detail}；注意：{problem}，未能与其他部门记录关联"),
            false => format!("{detail}；注意：{problem}，已按姓名、区县等信息关联"),
        }
    }
}

/// Conditions on a row's own values, as of the run's date: what source `active` definitions
/// and deaths are made of, and the part of a rule that needs no linked row.
pub struct RowTest<'a> {
    pub settings: &'a Settings,
    pub records: &'a Records,
    /// The as-of year as a word of the run, when any row holds it.
    pub as_of_year: Option<crate::model::Word>,
    /// The year whose standards amounts are compared with.
    pub year: i32,
}

impl<'a> RowTest<'a> {
    pub fn new(settings: &'a Settings, records: &'a Records, as_of: NaiveDate) -> RowTest<'a> {
        RowTest {
            settings,
            records,
            as_of_year: records.words.get(&as_of.year().to_string()),
            year: as_of.year(),
        }
    }

    /// A condition on a row's own values (the only kind source `active` and deaths use).
    pub fn holds(&self, condition: &Condition, record: &Record) -> bool {
        let is_county = |field: usize| {
            matches!(
                self.settings.sources[record.source()].fields[field].kind,
                FieldKind::County | FieldKind::CountyCode
            )
        };
        match condition {
            // A county is compared as the county the row resolved to, by code.
            Condition::FieldIn {
                field,
                words,
                negate,
            } if is_county(*field) => record
                .county()
                .is_some_and(|c| words.contains(&c.code) != *negate),
            Condition::FieldEmpty { field, empty } if is_county(*field) => {
                record.county.is_none() == *empty
            }
            Condition::FieldIn {
                field,
                words,
                negate,
            } => match self.records.value(record, *field) {
                Value::Text(t) => words.iter().any(|w| w == self.records.text(t)) != *negate,
                Value::Id(id) => {
                    let text = self.records.ids.get(id).valid();
                    words.iter().any(|w| Some(w.as_str()) == text) != *negate
                }
                Value::Empty => false,
                Value::Date(_) | Value::Unparsed(_) | Value::DamagedId(_) => *negate,
            },
            Condition::FieldEmpty { field, empty } => {
                self.records.value(record, *field).is_empty() == *empty
            }
            Condition::FieldIsAsOfYear { field } => {
                let year = self.records.value(record, *field).text();
                year.is_some() && year == self.as_of_year
            }
            Condition::Any(conditions) => conditions.iter().any(|c| self.holds(c, record)),
            Condition::All(conditions) => conditions.iter().all(|c| self.holds(c, record)),
            Condition::Compare {
                field,
                bound,
                below,
            } => {
                let bound = match bound {
                    Bound::Amount(a) => Some(*a),
                    Bound::Field(other) => self.amount(record, *other),
                    Bound::Standard(name) => self.settings.standard_amount(
                        name,
                        record.county().map(|c| c.code.as_str()),
                        self.year,
                    ),
                };
                match (self.amount(record, *field), bound) {
                    (Some(amount), Some(bound)) => (amount < bound) == *below,
                    _ => false,
                }
            }
            _ => false,
        }
    }

    /// The amount an amount field of the row holds (its canonical text is a number).
    fn amount(&self, record: &Record, field: usize) -> Option<f64> {
        let word = self.records.value(record, field).text()?;
        self.records.text(word).parse().ok()
    }
}

/// Age in whole years on `on`.
pub fn age_on(birth: NaiveDate, on: NaiveDate) -> u32 {
    let years = on.year() - birth.year();
    let had_birthday = (on.month(), on.day()) >= (birth.month(), birth.day());
    (years - i32::from(!had_birthday)).max(0) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn ages_turn_on_the_birthday() {
        assert_eq!(age_on(d(2014, 6, 30), d(2020, 6, 30)), 6);
        assert_eq!(age_on(d(2014, 7, 1), d(2020, 6, 30)), 5);
        assert_eq!(age_on(d(2004, 6, 30), d(2020, 6, 30)), 16);
        assert_eq!(age_on(d(2008, 2, 29), d(2020, 2, 28)), 11);
        assert_eq!(age_on(d(2021, 1, 1), d(2020, 6, 30)), 0);
    }
}
