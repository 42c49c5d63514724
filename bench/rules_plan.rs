//! The rule catalogue as polars lazy plans beside the row evaluator, on the same records and
//! linkage: `cargo run --release --example rules_plan -- DATA_DIR [AS_OF]`.
//!
//! Reads, normalizes and links DATA_DIR with the default config, then (1) times
//! `rules::evaluate` on the rules a plan can express, less its nearest-non-match search (timed
//! alone), and (2) puts the records in one polars `DataFrame` per source (the row's person,
//! birth date, county, and per stored field its word, emptiness and date), adds each row's
//! `active` and its person's facts (deceased, birth date: found by plans, gathered by person
//! number), and runs each rule as a lazy plan: `when` as filters, `linked`/`not_linked` as
//! semi/anti-joins (flag columns inside `any`), `requires` as an anti-join on the person,
//! `forbids` as a semi-join, `duplicate` as a group-by. It prints each rule's subjects and gaps
//! by both (and fails if they differ), the seconds of each phase and the memory the frames
//! take. Rules with household conditions, amounts or county values are left out and named.
//! Nothing here is used by a run: `docs/design.md` says why.

#![expect(clippy::print_stdout, reason = "a benchmark prints its figures")]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context as _};
use chrono::{Datelike, NaiveDate};
use polars::prelude::*;
use recon::config::{self, Check, Condition, Settings};
use recon::link::{self, Linkage, Matcher};
use recon::model::region::Regions;
use recon::model::{FastMap, FieldKind, Records, Value};
use recon::rules::Evaluation;
use recon::{ingest, normalize, rules};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let data = PathBuf::from(args.next().context("usage: rules_plan DATA_DIR [AS_OF]")?);
    let as_of = match args.next() {
        Some(text) => NaiveDate::parse_from_str(&text, "%Y-%m-%d")?,
        None => NaiveDate::from_ymd_opt(2020, 6, 30).context("date")?,
    };
    let settings = config::load(None)?.settings;
    let found = ingest::discover(&[data]).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let mut tables = ingest::load(&found.files, &settings, false)
        .map_err(|e| anyhow::anyhow!("{e:?}"))?
        .tables;
    let (normalized, _) = normalize::run(&mut tables, &settings, Regions::bundled())?;
    let records = normalized.records;
    let names: Vec<String> = tables.iter().map(|t| t.file.name.clone()).collect();
    let (linkage, matcher) = link::link(&records, &names, &settings, None, None)?;
    println!(
        "{} records, {} persons; RSS {} MiB",
        records.len(),
        linkage.persons(),
        rss_mib()
    );

    let planned: Vec<usize> = (0..settings.rules.len())
        .filter(|&r| settings.rules[r].enabled && plannable(&settings, r))
        .collect();
    let left: Vec<&str> = (0..settings.rules.len())
        .filter(|r| !planned.contains(r))
        .map(|r| settings.rules[r].id.as_str())
        .collect();
    println!(
        "{} rules as plans; left to the row code: {}",
        planned.len(),
        left.join(" ")
    );

    let (evaluation, row_seconds, nearest_seconds) =
        row_code(&settings, &records, (&linkage, &matcher), as_of, &planned);

    let rss_before = rss_mib();
    let started = Instant::now();
    let store = Store::new(&settings, &records, &linkage, as_of)?;
    let frames_seconds = started.elapsed().as_secs_f64();
    let rss_frames = rss_mib();
    let started = Instant::now();
    let store = store.with_facts()?;
    let facts_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let mut found = BTreeMap::new();
    for &rule in &planned {
        found.insert(rule, store.rule(rule)?);
    }
    let plans_seconds = started.elapsed().as_secs_f64();

    let all_same = compare(&settings, &evaluation, &found);
    println!(
        "row code: {:.2} s (rules::evaluate {row_seconds:.2} s less its nearest-non-match search {nearest_seconds:.2} s)",
        row_seconds - nearest_seconds
    );
    println!(
        "polars: {:.2} s (records to frames {frames_seconds:.2} s, facts and active {facts_seconds:.2} s, rule plans {plans_seconds:.2} s); frames {} MiB",
        frames_seconds + facts_seconds + plans_seconds,
        rss_frames.saturating_sub(rss_before)
    );
    println!("peak RSS {} MiB", peak_mib());
    if !all_same {
        bail!("the plans and the row code found different gaps");
    }
    Ok(())
}

/// The row code's evaluation of `planned`, its seconds, and the seconds of its nearest-non-match
/// search alone (which no plan replaces).
fn row_code(
    settings: &Settings,
    records: &Records,
    (linkage, matcher): (&Linkage, &Matcher),
    as_of: NaiveDate,
    planned: &[usize],
) -> (Evaluation, f64, f64) {
    let started = Instant::now();
    let evaluation = rules::evaluate(
        settings,
        (records, &[]),
        (linkage, matcher),
        as_of,
        (planned, &[]),
    );
    let seconds = started.elapsed().as_secs_f64();
    let mut asked: Vec<(usize, usize)> = (evaluation.gaps.iter())
        .filter_map(|gap| match settings.rules[gap.rule].check {
            Check::Requires { source, .. } => Some((gap.record, source)),
            _ => None,
        })
        .collect();
    asked.sort_unstable();
    asked.dedup();
    let started = Instant::now();
    matcher.nearest_non_matches(linkage, &asked);
    (evaluation, seconds, started.elapsed().as_secs_f64())
}

/// Prints each rule's subjects and gaps by the row code and by its plan; whether all agree.
fn compare(settings: &Settings, evaluation: &Evaluation, found: &BTreeMap<usize, Found>) -> bool {
    println!("rule      subjects(row/plan)     gaps(row/plan)   same");
    let mut all_same = true;
    for (&rule, (gaps, subjects)) in found {
        let mut row_gaps: Vec<u32> = (evaluation.gaps.iter())
            .filter(|g| g.rule == rule)
            .map(|g| g.record as u32)
            .collect();
        row_gaps.sort_unstable();
        let row_subjects: BTreeMap<&str, u64> = (evaluation.subjects.iter())
            .filter(|((r, _), _)| *r == rule)
            .map(|((_, county), n)| (county.as_str(), *n))
            .collect();
        let same = row_gaps == *gaps && row_subjects == *subjects;
        all_same &= same;
        println!(
            "{:<8} {:>10} / {:<10} {:>8} / {:<8} {}",
            settings.rules[rule].id,
            row_subjects.values().sum::<u64>(),
            subjects.values().sum::<u64>(),
            row_gaps.len(),
            gaps.len(),
            if same { "yes" } else { "NO" }
        );
    }
    all_same
}

/// A rule's gaps (subject record indices, sorted) and its subjects per county.
type Found = (Vec<u32>, BTreeMap<&'static str, u64>);

/// Whether every condition the rule reads (its sources' `active` and the deaths included) is
/// one a plan expresses.
fn plannable(settings: &Settings, rule: usize) -> bool {
    let rule = &settings.rules[rule];
    let check = match &rule.check {
        Check::Requires { source, conditions } | Check::Forbids { source, conditions } => {
            (*source, conditions.as_slice())
        }
        Check::Duplicate { conditions, .. } => (rule.subject, conditions.as_slice()),
        Check::Always => (rule.subject, &[][..]),
    };
    let actives = (settings.sources.iter().enumerate()).map(|(s, d)| (s, d.active.as_slice()));
    let deaths = (settings.deaths.iter()).map(|d| (d.source, d.conditions.as_slice()));
    let mut read = [(rule.subject, rule.when.as_slice()), check]
        .into_iter()
        .chain(actives)
        .chain(deaths);
    !rule.per_household && read.all(|(s, conditions)| expressible(settings, s, conditions))
}

fn expressible(settings: &Settings, source: usize, conditions: &[Condition]) -> bool {
    let is_county = |field: usize| {
        let kind = settings.sources[source].fields[field].kind;
        matches!(kind, FieldKind::County | FieldKind::CountyCode)
    };
    conditions.iter().all(|condition| match condition {
        Condition::Household { .. } | Condition::Compare { .. } => false,
        Condition::FieldIn { field, .. } | Condition::FieldEmpty { field, .. } => {
            !is_county(*field)
        }
        Condition::Any(inner) | Condition::All(inner) => expressible(settings, source, inner),
        Condition::Linked {
            source, conditions, ..
        } => expressible(settings, *source, conditions),
        _ => true,
    })
}

/// The records as one frame per source, and what the plans need to read them.
struct Store<'a> {
    settings: &'a Settings,
    records: &'a Records,
    as_of: NaiveDate,
    frames: Vec<DataFrame>,
    /// County codes by the number the frames hold.
    counties: Vec<&'static str>,
    /// How many persons the linkage found.
    persons: usize,
    /// Flag columns named so far (a nested `linked` each).
    flags: std::cell::Cell<usize>,
}

fn word_column(f: usize) -> String {
    format!("w{f}")
}
fn empty_column(f: usize) -> String {
    format!("e{f}")
}
fn date_column(f: usize) -> String {
    format!("d{f}")
}
fn key_column(f: usize) -> String {
    format!("k{f}")
}

fn days(date: NaiveDate) -> i32 {
    (date - NaiveDate::default()).num_days() as i32
}

fn date_literal(date: NaiveDate) -> Expr {
    lit(days(date)).cast(DataType::Date)
}

impl<'a> Store<'a> {
    fn new(
        settings: &'a Settings,
        records: &'a Records,
        linkage: &Linkage,
        as_of: NaiveDate,
    ) -> PolarsResult<Store<'a>> {
        let mut of_source: Vec<Vec<usize>> = vec![Vec::new(); settings.sources.len()];
        for (i, record) in records.iter().enumerate() {
            of_source[record.source()].push(i);
        }
        let mut county_numbers: FastMap<&'static str, u32> = FastMap::default();
        let mut counties = Vec::new();
        let county_of: Vec<u32> = (records.iter())
            .map(|r| {
                let code = r.county_code();
                *county_numbers.entry(code).or_insert_with(|| {
                    counties.push(code);
                    counties.len() as u32 - 1
                })
            })
            .collect();
        let keyed: Vec<usize> = (settings.rules.iter())
            .filter_map(|r| match r.check {
                Check::Duplicate { field, .. } => Some(field),
                _ => None,
            })
            .collect();
        let frames = (of_source.iter().enumerate())
            .map(|(s, rows)| {
                let mut columns = vec![
                    Column::new(
                        "row".into(),
                        rows.iter().map(|&i| i as u32).collect::<Vec<_>>(),
                    ),
                    Column::new(
                        "person".into(),
                        rows.iter()
                            .map(|&i| linkage.person_of(i) as u32)
                            .collect::<Vec<_>>(),
                    ),
                    Column::new(
                        "own".into(),
                        rows.iter()
                            .map(|&i| linkage.id_doubt(i).is_none())
                            .collect::<Vec<_>>(),
                    ),
                    Column::new(
                        "birth".into(),
                        rows.iter()
                            .map(|&i| records[i].birth_date.map(days))
                            .collect::<Vec<_>>(),
                    )
                    .cast(&DataType::Date)?,
                    Column::new(
                        "county".into(),
                        rows.iter().map(|&i| county_of[i]).collect::<Vec<_>>(),
                    ),
                ];
                for (f, field) in settings.sources[s].fields.iter().enumerate() {
                    if !records.stores(s, f) {
                        continue;
                    }
                    let values: Vec<Value> = rows
                        .iter()
                        .map(|&i| records.value(&records[i], f))
                        .collect();
                    let words: Vec<Option<u32>> = (values.iter())
                        .map(|v| v.text().map(|w| w.number() as u32))
                        .collect();
                    columns.push(Column::new(word_column(f).into(), words));
                    let empty: Vec<bool> = values.iter().map(Value::is_empty).collect();
                    columns.push(Column::new(empty_column(f).into(), empty));
                    if field.kind == FieldKind::Date {
                        let dates: Vec<Option<i32>> =
                            values.iter().map(|v| v.date().map(days)).collect();
                        columns
                            .push(Column::new(date_column(f).into(), dates).cast(&DataType::Date)?);
                    }
                    if keyed.contains(&f) {
                        let keys: Vec<u64> = values.iter().map(value_key).collect();
                        columns.push(Column::new(key_column(f).into(), keys));
                    }
                }
                DataFrame::new(rows.len(), columns)
            })
            .collect::<PolarsResult<Vec<_>>>()?;
        Ok(Store {
            settings,
            records,
            as_of,
            frames,
            counties,
            persons: linkage.persons(),
            flags: std::cell::Cell::new(0),
        })
    }

    /// Adds each row's `active` and its person's `deceased` and birth date to every frame.
    fn with_facts(mut self) -> PolarsResult<Store<'a>> {
        let mut facts = Vec::new();
        for s in 0..self.frames.len() {
            let active = self.active(s)?;
            let died = self.died(s)?;
            let frame = self.frames[s].clone().lazy().with_columns([active, died]);
            self.frames[s] = frame.collect()?;
            facts.push(self.frames[s].clone().lazy().select([
                col("row"),
                col("person"),
                col("own"),
                col("birth"),
                col("died"),
            ]));
        }
        let facts = concat(facts, UnionArgs::default())?.cache();
        let deceased = (facts.clone())
            .filter(col("died"))
            .select([col("person")])
            .unique(None, UniqueKeepStrategy::Any);
        // A person's birth date is their first dated row's, rows with their own ID first.
        // (Sorting was faster here than a group-by taking the least of the packed triple.)
        let first = col("own").not().cast(DataType::UInt64) * lit(1u64 << 32)
            + col("row").cast(DataType::UInt64);
        let born = (facts.filter(col("birth").is_not_null()))
            .with_column(first.alias("first"))
            .sort(["first"], SortMultipleOptions::default())
            .unique_stable(
                Some(Selector::ByName {
                    names: Arc::new([PlSmallStr::from("person")]),
                    strict: true,
                }),
                UniqueKeepStrategy::First,
            )
            .collect()?;
        // Persons are numbered densely: a person's facts are gathered by number, not joined.
        let mut birth_of = vec![None; self.persons];
        let born_persons = born.column("person")?.u32()?;
        let born_dates = born.column("birth")?.date()?.physical();
        for (person, date) in born_persons.into_no_null_iter().zip(born_dates.iter()) {
            birth_of[person as usize] = date;
        }
        let mut deceased_of = vec![false; self.persons];
        let deceased = deceased.collect()?;
        for person in deceased.column("person")?.u32()?.into_no_null_iter() {
            deceased_of[person as usize] = true;
        }
        let birth_of = Series::new("person_birth".into(), birth_of).cast(&DataType::Date)?;
        let deceased_of = Series::new("deceased".into(), deceased_of);
        for frame in &mut self.frames {
            let of_row = frame.column("person")?.u32()?.clone();
            let birth = birth_of.take(&of_row)?;
            let deceased = deceased_of.take(&of_row)?;
            frame.with_column(birth.into())?;
            frame.with_column(deceased.into())?;
        }
        Ok(self)
    }

    fn word(&self, source: usize, field: usize) -> Expr {
        match self.records.stores(source, field) {
            true => col(word_column(field)),
            false => lit(NULL).cast(DataType::UInt32),
        }
    }

    fn empty(&self, source: usize, field: usize) -> Expr {
        match self.records.stores(source, field) {
            true => col(empty_column(field)),
            false => lit(true),
        }
    }

    /// A date field's value, null when not a date (or not stored).
    fn date(&self, source: usize, field: usize) -> Option<Expr> {
        let stored = self.records.stores(source, field)
            && self.settings.sources[source].fields[field].kind == FieldKind::Date;
        stored.then(|| col(date_column(field)))
    }

    /// The row test's `active`: ended after the as-of date or meeting the source's
    /// conditions, within its start and end dates.
    fn active(&self, s: usize) -> PolarsResult<Expr> {
        let source = &self.settings.sources[s];
        let as_of = || date_literal(self.as_of);
        let mut conditions = lit(true);
        for condition in &source.active {
            conditions = conditions.and(self.row_condition(s, condition)?);
        }
        let ended_later = match source.ended_by.and_then(|f| self.date(s, f)) {
            Some(end) => end.gt(as_of()).fill_null(lit(false)),
            None => lit(false),
        };
        let within = |field: Option<usize>, starts: bool| match field.and_then(|f| self.date(s, f))
        {
            Some(d) if starts => d.clone().is_null().or(d.lt_eq(as_of())),
            Some(d) => d.clone().is_null().or(as_of().lt_eq(d)),
            None => lit(true),
        };
        Ok(ended_later
            .or(conditions)
            .and(within(source.active_from, true))
            .and(within(source.active_until, false))
            .alias("active"))
    }

    /// Whether a row says its person died by the as-of date.
    fn died(&self, s: usize) -> PolarsResult<Expr> {
        let mut died = lit(false);
        for death in self.settings.deaths.iter().filter(|d| d.source == s) {
            let mut holds = lit(true);
            for condition in &death.conditions {
                holds = holds.and(self.row_condition(s, condition)?);
            }
            let dated = match death.date.and_then(|f| self.date(s, f)) {
                Some(d) => d.clone().is_null().or(d.lt_eq(date_literal(self.as_of))),
                None => lit(true),
            };
            died = died.or(holds.and(dated));
        }
        Ok(died.alias("died"))
    }

    /// A condition on a row's own values, never null.
    fn row_condition(&self, s: usize, condition: &Condition) -> PolarsResult<Expr> {
        let word_of = |text: &str| self.records.words.get(text).map(|w| w.number() as u32);
        Ok(match condition {
            Condition::FieldIn {
                field,
                words,
                negate,
            } => {
                let mut is_in = lit(false);
                for w in words.iter().filter_map(|w| word_of(w)) {
                    is_in = is_in.or(self.word(s, *field).eq(lit(w)));
                }
                let is_in = is_in.fill_null(lit(false));
                match negate {
                    false => is_in,
                    true => self.empty(s, *field).not().and(is_in.not()),
                }
            }
            Condition::FieldEmpty { field, empty } => self.empty(s, *field).eq(lit(*empty)),
            Condition::FieldIsAsOfYear { field } => match word_of(&self.as_of.year().to_string()) {
                Some(year) => self.word(s, *field).eq(lit(year)).fill_null(lit(false)),
                None => lit(false),
            },
            Condition::Any(inner) => inner.iter().try_fold(lit(false), |any, c| {
                Ok::<_, PolarsError>(any.or(self.row_condition(s, c)?))
            })?,
            Condition::All(inner) => inner.iter().try_fold(lit(true), |all, c| {
                Ok::<_, PolarsError>(all.and(self.row_condition(s, c)?))
            })?,
            other => polars_bail!(ComputeError: "not a row condition: {other:?}"),
        })
    }

    /// Rows of source `s` meeting `conditions`, as a lazy plan: top-level `linked` conditions
    /// as semi/anti-joins, nested ones as flag columns.
    fn meeting(&self, s: usize, conditions: &[Condition]) -> PolarsResult<LazyFrame> {
        let mut frame = self.frames[s].clone().lazy();
        let mut filter = lit(true);
        let mut joins = Vec::new();
        for condition in conditions {
            match condition {
                Condition::Linked {
                    source,
                    conditions,
                    negate,
                } => joins.push((self.persons_meeting(*source, conditions)?, *negate)),
                other => {
                    let (expr, with_flags) = self.condition(s, other, frame)?;
                    frame = with_flags;
                    filter = filter.and(expr);
                }
            }
        }
        frame = frame.filter(filter);
        for (persons, negate) in joins {
            frame = match negate {
                false => frame.semi_join(persons, col("person"), col("person")),
                true => frame.anti_join(persons, col("person"), col("person")),
            };
        }
        Ok(frame)
    }

    /// The persons with a row of `source` meeting `conditions`.
    fn persons_meeting(&self, source: usize, conditions: &[Condition]) -> PolarsResult<LazyFrame> {
        Ok(self
            .meeting(source, conditions)?
            .select([col("person")])
            .unique(None, UniqueKeepStrategy::Any))
    }

    /// A condition on a row and its person as an expression, with the frame given the flag
    /// columns it reads (a nested `linked`).
    fn condition(
        &self,
        s: usize,
        condition: &Condition,
        frame: LazyFrame,
    ) -> PolarsResult<(Expr, LazyFrame)> {
        let as_of = self.as_of;
        Ok(match condition {
            Condition::Active(want) => (col("active").eq(lit(*want)), frame),
            Condition::Living(want) => (col("deceased").not().eq(lit(*want)), frame),
            Condition::Age { min, max } => {
                let birth = col("person_birth");
                let mut holds = birth.clone().is_not_null();
                if let Some(min) = min {
                    holds = holds.and(birth.clone().lt_eq(date_literal(born_by(as_of, *min))));
                }
                if let Some(max) = max {
                    holds = holds.and(birth.gt(date_literal(born_by(as_of, max + 1))));
                }
                (holds.fill_null(lit(false)), frame)
            }
            Condition::Linked {
                source,
                conditions,
                negate,
            } => {
                let name = format!("linked{}", self.flags.get());
                self.flags.set(self.flags.get() + 1);
                let persons = self
                    .persons_meeting(*source, conditions)?
                    .with_column(lit(true).alias(name.as_str()));
                let frame = frame.left_join(persons, col("person"), col("person"));
                let flag = col(name.as_str()).fill_null(lit(false));
                (flag.neq(lit(*negate)), frame)
            }
            Condition::Any(inner) | Condition::All(inner) => {
                let any = matches!(condition, Condition::Any(_));
                let mut combined = lit(!any);
                let mut frame = frame;
                for c in inner {
                    let (expr, with_flags) = self.condition(s, c, frame)?;
                    frame = with_flags;
                    combined = match any {
                        true => combined.or(expr),
                        false => combined.and(expr),
                    };
                }
                (combined, frame)
            }
            other => (self.row_condition(s, other)?, frame),
        })
    }

    /// A rule's gaps and subjects, found by its plan.
    fn rule(&self, r: usize) -> PolarsResult<Found> {
        let rule = &self.settings.rules[r];
        let subjects = self.meeting(rule.subject, &rule.when)?;
        let per_county = (subjects.clone())
            .group_by([col("county")])
            .agg([len().alias("n")])
            .collect()?;
        let gaps = match &rule.check {
            Check::Requires { source, conditions } => {
                let met = self.persons_meeting(*source, conditions)?;
                subjects.anti_join(met, col("person"), col("person"))
            }
            Check::Forbids { source, conditions } => {
                let met = self.persons_meeting(*source, conditions)?;
                subjects.semi_join(met, col("person"), col("person"))
            }
            Check::Duplicate { field, conditions } => {
                let key = key_column(*field);
                let counted = (self.meeting(rule.subject, conditions)?)
                    .group_by([col("person"), col(key.as_str())])
                    .agg([len().alias("same")]);
                let (meets, subjects) =
                    (conditions.iter()).try_fold((lit(true), subjects), |(all, frame), c| {
                        let (expr, frame) = self.condition(rule.subject, c, frame)?;
                        Ok::<_, PolarsError>((all.and(expr), frame))
                    })?;
                let others = col("same").fill_null(lit(0u32)).cast(DataType::Int64)
                    - meets.cast(DataType::Int64);
                subjects
                    .join(
                        counted,
                        [col("person"), col(key.as_str())],
                        [col("person"), col(key.as_str())],
                        JoinArgs::new(JoinType::Left),
                    )
                    .filter(others.gt(lit(0i64)))
            }
            Check::Always => subjects,
        };
        let rows = gaps.select([col("row")]).collect()?;
        let mut rows: Vec<u32> = rows.column("row")?.u32()?.into_no_null_iter().collect();
        rows.sort_unstable();
        let counties = per_county.column("county")?.u32()?;
        let counts = per_county.column("n")?.u32()?;
        let subjects = (counties.into_no_null_iter().zip(counts.into_no_null_iter()))
            .map(|(c, n)| (self.counties[c as usize], u64::from(n)))
            .collect();
        Ok((rows, subjects))
    }
}

/// The last birth date of a person aged `years` or more on `as_of` (a 29 February that year
/// lacks is the 28th).
fn born_by(as_of: NaiveDate, years: u32) -> NaiveDate {
    let year = as_of.year() - years as i32;
    NaiveDate::from_ymd_opt(year, as_of.month(), as_of.day())
        .or_else(|| NaiveDate::from_ymd_opt(year, as_of.month(), as_of.day() - 1))
        .unwrap_or(NaiveDate::MIN)
}

/// A value as one number, equal where the row code's values are equal.
fn value_key(value: &Value) -> u64 {
    match *value {
        Value::Empty => 0,
        Value::Text(w) => 1 << 32 | w.number() as u64,
        Value::Date(d) => 2 << 32 | days(d) as u32 as u64,
        Value::Unparsed(w) => 3 << 32 | w.number() as u64,
        Value::DamagedId(w) => 4 << 32 | w.number() as u64,
        Value::Id(id) => 5 << 32 | id.number() as u64,
    }
}

fn status_mib(key: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    (status.lines())
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb / 1024)
}

fn rss_mib() -> u64 {
    status_mib("VmRSS:")
}

fn peak_mib() -> u64 {
    status_mib("VmHWM:")
}
