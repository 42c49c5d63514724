//! The run's contract with its inputs, stated and checked: each rule knows the sources and
//! fields it reads (the death signals of every source included), and tonight's files are
//! checked against that before any gap is trusted. A rule whose source has no rows is not run;
//! a field a rule reads that a file does not map, a death signal half read, a vocabulary value
//! no list knows and a condition no row can meet are warnings naming the rule, the file and
//! the column. Nothing here changes a gap; the run decides what a warning costs (`--strict`).

use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;

use super::RowTest;
use crate::config::{Bound, Check, Condition, Settings};
use crate::ingest::{column_name, headers, LoadedTable};
use crate::model::{
    FastMap, FastSet, FieldKind, FieldRole, FileId, Records, SourceId, Value, Word,
};

/// A value shown in a warning must be this common: rarer ones may be a person's data typed
/// into the wrong column, so they are counted, not shown.
const SHOWN_FROM_ROWS: u64 = 3;

/// A field of a source.
type SourceField = (SourceId, usize);

/// What a rule reads: the sources whose rows it needs, the (source, field) pairs, and whether
/// it asks who is living or deceased (then every source's death signals).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reads {
    pub sources: BTreeSet<SourceId>,
    pub fields: BTreeSet<(SourceId, usize)>,
    pub deaths: bool,
    /// The standards compared with, and the source of the rows compared.
    pub standards: BTreeSet<(SourceId, String)>,
    /// Whether the rule counts household members of its subjects.
    pub households: bool,
    /// The fields read whatever the `any` groups decide (all of `fields` but those read only
    /// inside a group).
    pub required: BTreeSet<(SourceId, usize)>,
    /// The fields of each `any` group: a file that maps one of a group's fields can tell
    /// its rows apart, so it is not blind to the others.
    pub alternatives: Vec<BTreeSet<(SourceId, usize)>>,
}

impl Reads {
    pub fn of_rule(settings: &Settings, rule: usize) -> Reads {
        let rule = &settings.rules[rule];
        let mut reads = Reads {
            households: rule.per_household,
            ..Reads::default()
        };
        reads.sources.insert(rule.subject);
        reads.conditions(settings, rule.subject, &rule.when);
        match &rule.check {
            Check::Requires { source, conditions } | Check::Forbids { source, conditions } => {
                reads.sources.insert(*source);
                reads.conditions(settings, *source, conditions);
            }
            Check::Duplicate { field, conditions } => {
                reads.read(rule.subject, *field);
                reads.conditions(settings, rule.subject, conditions);
            }
            Check::Always => {}
        }
        reads
    }

    fn read(&mut self, source: SourceId, field: usize) {
        self.fields.insert((source, field));
        self.required.insert((source, field));
    }

    fn conditions(&mut self, settings: &Settings, source: SourceId, conditions: &[Condition]) {
        for condition in conditions {
            match condition {
                Condition::FieldIn { field, .. }
                | Condition::FieldEmpty { field, .. }
                | Condition::FieldIsAsOfYear { field } => self.read(source, *field),
                Condition::Active(_) => {
                    let definition = &settings.sources[source];
                    self.conditions(settings, source, &definition.active);
                    for field in [definition.active_from, definition.active_until]
                        .into_iter()
                        .flatten()
                    {
                        self.read(source, field);
                    }
                }
                Condition::Living(_) => self.deaths = true,
                Condition::Age { .. } => {}
                Condition::Any(conditions) => {
                    let mut group = Reads::default();
                    group.conditions(settings, source, conditions);
                    self.sources.extend(group.sources);
                    self.fields.extend(group.fields.iter().copied());
                    self.deaths |= group.deaths;
                    self.standards.extend(group.standards);
                    self.households |= group.households;
                    self.alternatives.extend(group.alternatives);
                    self.alternatives.push(group.fields);
                }
                Condition::All(conditions) => self.conditions(settings, source, conditions),
                Condition::Compare { field, bound, .. } => {
                    self.read(source, *field);
                    if let Bound::Field(other) = bound {
                        self.read(source, *other);
                    }
                    if let Bound::Standard(name) = bound {
                        self.standards.insert((source, name.clone()));
                    }
                }
                Condition::Linked {
                    source: other,
                    conditions,
                    ..
                } => {
                    self.sources.insert(*other);
                    self.conditions(settings, *other, conditions);
                }
                Condition::Household { conditions, .. } => {
                    self.households = true;
                    self.conditions(settings, source, conditions);
                }
            }
        }
    }
}

/// A rule not run tonight, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotRun {
    pub rule: usize,
    pub source: SourceId,
}

/// A field some rules read that a file does not map: those rules cannot see it in that
/// file's rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlindSpot {
    pub file: FileId,
    pub source: SourceId,
    pub field: usize,
    pub rules: Vec<usize>,
    /// What the field is needed for, when it is a death signal.
    pub death_rows: Option<u64>,
    /// The file's unmapped columns that look most like the field (`C 终止参保原因`).
    pub closest: Vec<String>,
}

/// Values of one column that no vocabulary list or condition knows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownValues {
    pub file: FileId,
    pub source: SourceId,
    pub field: usize,
    /// Values common enough to show, with their rows, most rows first.
    pub shown: Vec<(String, u64)>,
    /// Values not shown (rare, or shaped like an ID): how many, in how many rows.
    pub hidden: (usize, u64),
    /// The rules whose conditions read the column.
    pub rules: Vec<usize>,
}

/// Tonight's inputs checked against what the rules read.
#[derive(Clone, Debug, Default)]
pub struct Contract {
    pub not_run: Vec<NotRun>,
    pub blind: Vec<BlindSpot>,
    pub unknown_values: Vec<UnknownValues>,
    /// Conditions of the config no row can meet.
    pub config_warnings: Vec<String>,
    /// Per file: rows whose valid ID says a birth before 1900 or after the as-of year and the
    /// next (a typed digit that happened to pass the check character?).
    pub implausible_births: Vec<(FileId, u64)>,
    /// Counties whose rows a rule compares with a standard the config gives no amount for
    /// there in the as-of year.
    pub missing_standards: Vec<MissingStandard>,
}

/// A rule compares rows of a county with a standard that has no amount there this year: those
/// rows are compared with nothing, so the rule's gaps in that county are withheld.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MissingStandard {
    pub rule: usize,
    pub standard: String,
    /// The county's code; empty for rows no county was found for.
    pub county: String,
    pub year: i32,
    pub rows: u64,
}

impl Contract {
    /// Whether anything was found that may make a gap list wrong.
    pub fn has_warnings(&self) -> bool {
        !(self.not_run.is_empty()
            && self.blind.is_empty()
            && self.unknown_values.is_empty()
            && self.config_warnings.is_empty()
            && self.implausible_births.is_empty()
            && self.missing_standards.is_empty())
    }

    /// What concerns one file: its blind spots and unknown values.
    pub fn of_file(&self, file: FileId) -> Contract {
        Contract {
            blind: self
                .blind
                .iter()
                .filter(|b| b.file == file)
                .cloned()
                .collect(),
            unknown_values: self
                .unknown_values
                .iter()
                .filter(|u| u.file == file)
                .cloned()
                .collect(),
            ..Contract::default()
        }
    }

    /// The rules of `rules_run` that are run.
    pub fn runnable(&self, rules_run: &[usize]) -> Vec<usize> {
        rules_run
            .iter()
            .copied()
            .filter(|r| self.not_run.iter().all(|n| n.rule != *r))
            .collect()
    }
}

/// A rule this night cannot fully check, in every county (`None`) or in one, and why. When it
/// reads the missing input, its gaps are withheld and its ledger items neither open nor
/// close; otherwise only its links are weaker (the missing rows placed people too), so its gaps
/// are listed and open items, but none of its items closes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unchecked {
    pub rule: usize,
    pub county: Option<String>,
    pub reason: String,
    /// The rule reads the missing input: its gaps are withheld.
    pub withheld: bool,
}

/// What the run found about its inputs: the contract, the inputs missing against the ledger's
/// last nights, the scopes it could not check, and the gaps it withheld there.
#[derive(Clone, Debug, Default)]
pub struct Checks {
    /// What reading passed over: a note beside the exports, an instructions sheet, a copy of
    /// an export, a link not followed.
    pub passed_over: Vec<String>,
    pub contract: Contract,
    pub missing: Vec<Missing>,
    pub unchecked: Vec<Unchecked>,
    /// (rule, county code) -> gaps found but withheld, the scope being unchecked.
    pub withheld: BTreeMap<(usize, String), u64>,
}

impl Checks {
    /// Every warning, one line each: the contract's, then what is missing against the ledger.
    pub fn warning_lines(&self, settings: &Settings, tables: &[LoadedTable]) -> Vec<String> {
        let mut lines = self.passed_over.clone();
        lines.extend(warning_lines(&self.contract, settings, tables));
        for m in &self.missing {
            let label = settings
                .source(m.source())
                .map_or(m.source(), |s| settings.sources[s].label.as_str());
            let accept = m
                .county()
                .map_or(m.source().to_string(), |c| format!("{}:{c}", m.source()));
            lines.push(format!(
                "input missing against the ledger: {}; the items that depend on it are not checked (`--accept-missing {accept}` if on purpose)",
                m.reason(label)
            ));
        }
        lines
    }

    /// Why (rule, county) is not fully checked tonight, if it is not.
    pub fn unchecked_scope(&self, rule: usize, county: &str) -> Option<&Unchecked> {
        self.unchecked
            .iter()
            .find(|u| u.rule == rule && u.county.as_deref().is_none_or(|c| c == county))
    }

    /// Why the gaps of (rule, county) are withheld tonight, if they are.
    pub fn withheld_reason(&self, rule: usize, county: &str) -> Option<&str> {
        self.unchecked_scope(rule, county)
            .filter(|u| u.withheld)
            .map(|u| u.reason.as_str())
    }
}

/// Rows of a night per (source key, county code); county `""` is the source in all.
pub type Arrivals = BTreeMap<(String, String), u64>;

/// An input the ledger expected (it arrived on an earlier night) that tonight lacks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Missing {
    /// A source with no rows tonight.
    Source { source: String, expected: u64 },
    /// A county with no rows tonight in a source that has rows.
    County {
        source: String,
        county: String,
        expected: u64,
    },
    /// A source whose rows fell by more than the configured share.
    Fell {
        source: String,
        expected: u64,
        tonight: u64,
    },
}

impl Missing {
    pub fn source(&self) -> &str {
        match self {
            Missing::Source { source, .. }
            | Missing::County { source, .. }
            | Missing::Fell { source, .. } => source,
        }
    }

    /// The county it concerns; `None` for the whole source.
    pub fn county(&self) -> Option<&str> {
        match self {
            Missing::County { county, .. } => Some(county),
            _ => None,
        }
    }

    /// What is missing, in the words of the lists (`label` is the source's).
    pub fn reason(&self, label: &str) -> String {
        match self {
            Missing::Source { expected, .. } => {
                format!("今晚无{label}数据（此前{expected}行）")
            }
            Missing::County {
                county, expected, ..
            } => format!("今晚{label}无{county}的数据（此前{expected}行）"),
            Missing::Fell {
                expected, tonight, ..
            } => format!("今晚{label}仅{tonight}行（此前{expected}行）"),
        }
    }
}

/// What tonight's rows lack against the expected ones: sources with none, counties with none
/// in a source that has rows, and sources whose rows fell by more than `drop_share`. An input
/// named in `accepted` (a source key, a county code, or `source:county`) is missing on purpose.
pub fn missing_inputs(
    expected: &Arrivals,
    tonight: &Arrivals,
    accepted: &[String],
    drop_share: f64,
) -> Vec<Missing> {
    let is_accepted = |source: &str, county: &str| {
        accepted.iter().any(|a| {
            a == source
                || (!county.is_empty() && (a == county || *a == format!("{source}:{county}")))
        })
    };
    let rows = |source: &str, county: &str| {
        tonight
            .get(&(source.to_string(), county.to_string()))
            .copied()
            .unwrap_or(0)
    };
    let mut missing = Vec::new();
    for ((source, county), &expected) in expected {
        if expected == 0 || is_accepted(source, county) {
            continue;
        }
        let now = rows(source, county);
        match (county.is_empty(), rows(source, "")) {
            (true, 0) => missing.push(Missing::Source {
                source: source.clone(),
                expected,
            }),
            (true, _) if (now as f64) < expected as f64 * (1.0 - drop_share) => {
                missing.push(Missing::Fell {
                    source: source.clone(),
                    expected,
                    tonight: now,
                })
            }
            (false, total) if total > 0 && now == 0 => missing.push(Missing::County {
                source: source.clone(),
                county: county.clone(),
                expected,
            }),
            _ => {}
        }
    }
    missing
}

/// The rows to expect on the next night: tonight's, and the expected rows of what is missing
/// (so a file that stays away keeps being reported until it is accepted).
pub fn next_expected(expected: &Arrivals, tonight: &Arrivals, missing: &[Missing]) -> Arrivals {
    let mut next = tonight.clone();
    for m in missing {
        for ((source, county), rows) in expected {
            let carried = source == m.source()
                && match m {
                    Missing::Source { .. } => true,
                    Missing::County { county: c, .. } => c == county,
                    Missing::Fell { .. } => county.is_empty(),
                };
            if carried {
                next.insert((source.clone(), county.clone()), *rows);
            }
        }
    }
    next
}

/// Rows per source key, in all (county `""`) and per county code; rows of an evidence file
/// (`evidence`, by file) are another province's arrivals, not these inputs'.
pub fn arrivals(settings: &Settings, (records, evidence): (&Records, &[bool])) -> Arrivals {
    type Counts = FastMap<(SourceId, &'static str), u64>;
    let by_source_county: Counts = records
        .as_slice()
        .par_iter()
        .filter(|record| evidence.get(record.row.file as usize) != Some(&true))
        .fold(Counts::default, |mut counts, record| {
            *counts
                .entry((record.source(), record.county_code()))
                .or_default() += 1;
            counts
        })
        .reduce(Counts::default, |mut all, part| {
            #[expect(clippy::iter_over_hash_type, reason = "sums, the same in any order")]
            for (key, n) in part {
                *all.entry(key).or_default() += n;
            }
            all
        });
    let mut rows: BTreeMap<(String, String), u64> = BTreeMap::new();
    #[expect(clippy::iter_over_hash_type, reason = "gathered into a sorted map")]
    for ((source, county), n) in by_source_county {
        let key = &settings.sources[source].key;
        *rows.entry((key.clone(), String::new())).or_default() += n;
        if !county.is_empty() {
            *rows.entry((key.clone(), county.to_string())).or_default() += n;
        }
    }
    rows
}

/// The scopes this night cannot fully check. A rule not run, and a rule reading a source that
/// is missing or fell, in every county; a rule reading a source whose rows of one county are
/// missing, in that county: their gaps are withheld. Every other rule, where an input is
/// missing, links with fewer rows: no item of it closes there. A rule reads a source's rows
/// when a condition or check does, and every source that records deaths when it asks who is
/// living.
pub fn unchecked(
    settings: &Settings,
    rules_run: &[usize],
    contract: &Contract,
    missing: &[Missing],
) -> Vec<Unchecked> {
    // (rule, county) -> (reasons, withheld)
    let mut scopes: BTreeMap<(usize, Option<String>), (Vec<String>, bool)> = BTreeMap::new();
    for not_run in &contract.not_run {
        let label = &settings.sources[not_run.source].label;
        let scope = scopes.entry((not_run.rule, None)).or_default();
        scope.0.push(format!("今晚无{label}数据，本规则未运行"));
        scope.1 = true;
    }
    for m in &contract.missing_standards {
        let scope = scopes.entry((m.rule, Some(m.county.clone()))).or_default();
        scope.0.push(format!(
            "未配置{}年{}标准金额，本县未比对",
            m.year, m.standard
        ));
        scope.1 = true;
    }
    for &rule in rules_run {
        let reads = Reads::of_rule(settings, rule);
        let reads_source = |key: &str| {
            settings.source(key).is_some_and(|s| {
                reads.sources.contains(&s)
                    || reads.deaths && settings.deaths.iter().any(|d| d.source == s)
            })
        };
        for m in missing {
            let label = settings
                .source(m.source())
                .map_or(m.source(), |s| settings.sources[s].label.as_str());
            let reads_it = reads_source(m.source());
            let reason = match reads_it {
                true => m.reason(label),
                false => format!("{}，关联依据减少，今晚不销号", m.reason(label)),
            };
            let scope = scopes
                .entry((rule, m.county().map(str::to_string)))
                .or_default();
            if !scope.0.contains(&reason) {
                scope.0.push(reason);
            }
            scope.1 |= reads_it;
        }
    }
    scopes
        .into_iter()
        .map(|((rule, county), (reasons, withheld))| Unchecked {
            rule,
            county,
            reason: reasons.join("；"),
            withheld,
        })
        .collect()
}

/// Checks tonight's tables and records against what the rules of `rules_run` read.
pub fn check(
    settings: &Settings,
    tables: &[LoadedTable],
    records: &Records,
    as_of: chrono::NaiveDate,
    rules_run: &[usize],
) -> Contract {
    let reads: Vec<(usize, Reads)> = rules_run
        .iter()
        .map(|&r| (r, Reads::of_rule(settings, r)))
        .collect();
    let rows = rows_per_source(records, settings.sources.len());
    let not_run: Vec<NotRun> = reads
        .iter()
        .filter_map(|(rule, reads)| {
            let source = *reads.sources.iter().find(|s| rows[**s] == 0)?;
            Some(NotRun {
                rule: *rule,
                source,
            })
        })
        .collect();
    let run: Vec<&(usize, Reads)> = reads
        .iter()
        .filter(|(r, _)| not_run.iter().all(|n| n.rule != *r))
        .collect();
    let test = RowTest::new(settings, records, as_of);
    let mut blind = fields_blind(settings, tables, &run);
    blind.extend(deaths_blind(settings, tables, &test, &run));
    blind.extend(households_blind(settings, tables, &test, &run));
    blind.sort_by_key(|b| (b.file, b.field));
    Contract {
        not_run,
        blind,
        unknown_values: unknown_values(settings, tables, records, &run),
        config_warnings: settings.warnings.clone(),
        implausible_births: implausible_births(records, as_of),
        missing_standards: missing_standards(
            settings,
            records,
            &run,
            chrono::Datelike::year(&as_of),
        ),
    }
}

/// Per rule run and standard it compares rows of a source with: the counties of those rows
/// the standard gives no amount for in `year`.
fn missing_standards(
    settings: &Settings,
    records: &Records,
    run: &[&(usize, Reads)],
    year: i32,
) -> Vec<MissingStandard> {
    if run.iter().all(|(_, r)| r.standards.is_empty()) {
        return Vec::new();
    }
    let mut rows: BTreeMap<(SourceId, &str), u64> = BTreeMap::new();
    for record in records {
        let county = record.county_code();
        *rows.entry((record.source(), county)).or_default() += 1;
    }
    let mut missing = Vec::new();
    for (rule, reads) in run {
        for (source, standard) in &reads.standards {
            let counties = rows
                .range((*source, "")..)
                .take_while(|((s, _), _)| s == source);
            for ((_, county), n) in counties {
                let code = Some(*county).filter(|c| !c.is_empty());
                if settings.standard_amount(standard, code, year).is_none() {
                    missing.push(MissingStandard {
                        rule: *rule,
                        standard: standard.clone(),
                        county: county.to_string(),
                        year,
                        rows: *n,
                    });
                }
            }
        }
    }
    missing
}

/// Per file, the rows whose valid ID gives a birth before 1900 or after the as-of year and the
/// next.
fn implausible_births(records: &Records, as_of: chrono::NaiveDate) -> Vec<(FileId, u64)> {
    use chrono::Datelike;
    let latest = as_of.year() + 1;
    let by_file: BTreeMap<FileId, u64> = records
        .as_slice()
        .par_iter()
        .filter(|r| records.id(r).valid().is_some())
        .filter_map(|r| r.birth_date.map(|d| (r.row.file, d.year())))
        .filter(|(_, year)| *year < 1900 || *year > latest)
        .fold(BTreeMap::new, |mut counts, (file, _)| {
            *counts.entry(file).or_default() += 1;
            counts
        })
        .reduce(BTreeMap::new, |mut all, part| {
            for (file, n) in part {
                *all.entry(file).or_default() += n;
            }
            all
        });
    by_file.into_iter().collect()
}

fn rows_per_source(records: &Records, sources: usize) -> Vec<u64> {
    let mut rows = vec![0; sources];
    for record in records {
        rows[record.source()] += 1;
    }
    rows
}

/// Per file, the fields of its source that a rule reads and the file does not map.
fn fields_blind(
    settings: &Settings,
    tables: &[LoadedTable],
    run: &[&(usize, Reads)],
) -> Vec<BlindSpot> {
    let mut blind = Vec::new();
    for table in tables {
        let source = table.mapping.source;
        let mut rules_of: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        let mapped = |field: usize| table.mapping.fields[field].is_some();
        for (rule, reads) in run {
            for &(s, field) in &reads.fields {
                let an_alternative_is_read = !reads.required.contains(&(s, field))
                    && (reads.alternatives.iter())
                        .filter(|group| group.contains(&(s, field)))
                        .any(|group| group.iter().any(|&(g, f)| g == source && mapped(f)));
                if s == source && !mapped(field) && !an_alternative_is_read {
                    rules_of.entry(field).or_default().push(*rule);
                }
            }
        }
        for (field, rules) in rules_of {
            blind.push(BlindSpot {
                file: table.file.id,
                source,
                field,
                rules,
                death_rows: None,
                closest: closest_columns(settings, table, field),
            });
        }
    }
    blind
}

/// Per file read by a rule that asks who is living: a death condition of its source that
/// the file half maps while some rows meet the mapped half (a stopped enrollment with no
/// column saying why), or, when the file can read none of its source's death conditions,
/// every field they use.
fn deaths_blind(
    settings: &Settings,
    tables: &[LoadedTable],
    test: &RowTest,
    run: &[&(usize, Reads)],
) -> Vec<BlindSpot> {
    let rules: Vec<usize> = run
        .iter()
        .filter(|(_, reads)| reads.deaths)
        .map(|(rule, _)| *rule)
        .collect();
    if rules.is_empty() {
        return Vec::new();
    }
    let mut blind: BTreeMap<(FileId, usize), (SourceId, Option<u64>)> = BTreeMap::new();
    for table in tables {
        let source = table.mapping.source;
        let deaths: Vec<&crate::config::DeathRule> = settings
            .deaths
            .iter()
            .filter(|d| d.source == source)
            .collect();
        let mapped = |f: usize| table.mapping.fields[f].is_some();
        let mut readable = false;
        for death in &deaths {
            let fields: Vec<usize> = death.conditions.iter().filter_map(field_of).collect();
            let (known, unknown): (Vec<&Condition>, Vec<&Condition>) = death
                .conditions
                .iter()
                .partition(|c| field_of(c).is_none_or(mapped));
            if unknown.is_empty() {
                readable = true;
                continue;
            }
            if known.is_empty() {
                continue;
            }
            let rows = rows_meeting(test, table.file.id, &known);
            if rows > 0 {
                for field in fields.into_iter().filter(|f| !mapped(*f)) {
                    blind.insert((table.file.id, field), (source, Some(rows)));
                }
            }
        }
        if !readable && !deaths.is_empty() {
            for field in deaths
                .iter()
                .flat_map(|d| d.conditions.iter().filter_map(field_of))
                .filter(|f| !mapped(*f))
            {
                blind
                    .entry((table.file.id, field))
                    .or_insert((source, None));
            }
        }
    }
    blind
        .into_iter()
        .map(|((file, field), (source, rows))| BlindSpot {
            file,
            source,
            field,
            rules: rules.clone(),
            death_rows: Some(rows.unwrap_or(0)),
            closest: closest_columns(settings, &tables[file as usize], field),
        })
        .collect()
}

/// When no file holds a household head's ID, households are unknown: per file of a household
/// rule's subject source with rows meeting the rule's tests of a row's own values (a 两项补贴
/// list is no blind spot of a rule on 低保 rows). Any department's rows naming heads make the
/// households every rule reads, so one file with the column is enough.
fn households_blind(
    settings: &Settings,
    tables: &[LoadedTable],
    test: &RowTest,
    run: &[&(usize, Reads)],
) -> Vec<BlindSpot> {
    // A household number names its head too (the head's row of that number gives the ID).
    let heads_named = tables.iter().any(|t| {
        let source = &settings.sources[t.mapping.source];
        [FieldRole::HouseholdHeadId, FieldRole::HouseholdNumber]
            .into_iter()
            .filter_map(|role| source.field_for(role))
            .any(|field| t.mapping.fields[field].is_some())
    });
    if heads_named {
        return Vec::new();
    }
    let mut blind: BTreeMap<(FileId, usize), (SourceId, Vec<usize>)> = BTreeMap::new();
    for (rule, _) in run.iter().filter(|(_, reads)| reads.households) {
        let subject = settings.rules[*rule].subject;
        let Some(head) = settings.sources[subject].field_for(FieldRole::HouseholdHeadId) else {
            continue;
        };
        let on_rows: Vec<&Condition> = (settings.rules[*rule].when.iter())
            .filter(|c| c.on_the_row_alone())
            .collect();
        for table in tables.iter().filter(|t| t.mapping.source == subject) {
            if table.mapping.fields[head].is_none()
                && rows_meeting(test, table.file.id, &on_rows) > 0
            {
                let spot = blind
                    .entry((table.file.id, head))
                    .or_insert((subject, Vec::new()));
                spot.1.push(*rule);
            }
        }
    }
    blind
        .into_iter()
        .map(|((file, field), (source, rules))| BlindSpot {
            file,
            source,
            field,
            rules,
            death_rows: None,
            closest: closest_columns(settings, &tables[file as usize], field),
        })
        .collect()
}

fn field_of(condition: &Condition) -> Option<usize> {
    match condition {
        Condition::FieldIn { field, .. }
        | Condition::FieldEmpty { field, .. }
        | Condition::FieldIsAsOfYear { field } => Some(*field),
        _ => None,
    }
}

/// Rows of `file` meeting every condition. A file's records stand together, in file order.
fn rows_meeting(test: &RowTest, file: FileId, conditions: &[&Condition]) -> u64 {
    let records = test.records.as_slice();
    let start = records.partition_point(|r| r.row.file < file);
    let end = records.partition_point(|r| r.row.file <= file);
    records[start..end]
        .par_iter()
        .filter(|r| conditions.iter().all(|c| test.holds(c, r)))
        .count() as u64
}

/// The unmapped columns of `table` that look most like `field`, best first.
fn closest_columns(settings: &Settings, table: &LoadedTable, field: usize) -> Vec<String> {
    const AT_LEAST: f64 = 0.2;
    let definition = &settings.sources[table.mapping.source].fields[field];
    let mut scored: Vec<(f64, usize)> = table
        .mapping
        .unmapped
        .iter()
        .map(|&c| (headers::closeness(definition, &table.headers[c]), c))
        .filter(|(score, _)| *score >= AT_LEAST)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    scored
        .into_iter()
        .take(2)
        .map(|(_, c)| column_name(&table.headers, c))
        .collect()
}

/// Per (source, field) a condition of a run rule (or a death the rules ask about, or a
/// source's active definition) compares with words: the words it knows.
fn vocabularies(
    settings: &Settings,
    run: &[&(usize, Reads)],
) -> BTreeMap<(SourceId, usize), BTreeSet<String>> {
    let mut known: BTreeMap<(SourceId, usize), BTreeSet<String>> = BTreeMap::new();
    let mut add = |source: SourceId, conditions: &[Condition]| {
        for condition in flattened(conditions) {
            if let Condition::FieldIn { field, words, .. } = condition {
                known
                    .entry((source, *field))
                    .or_default()
                    .extend(words.iter().cloned());
            }
        }
    };
    let read: BTreeSet<(SourceId, usize)> = run
        .iter()
        .flat_map(|(_, r)| r.fields.iter().copied())
        .collect();
    for (id, source) in settings.sources.iter().enumerate() {
        add(id, &source.active);
    }
    if run.iter().any(|(_, r)| r.deaths) {
        for death in &settings.deaths {
            add(death.source, &death.conditions);
        }
    }
    for rule in &settings.rules {
        add(rule.subject, &rule.when);
        collect_linked(&rule.when, &mut add);
        match &rule.check {
            Check::Requires { source, conditions } | Check::Forbids { source, conditions } => {
                add(*source, conditions);
                collect_linked(conditions, &mut add);
            }
            Check::Duplicate { conditions, .. } => add(rule.subject, conditions),
            Check::Always => {}
        }
    }
    let deaths_read = run.iter().any(|(_, r)| r.deaths);
    known.retain(|(source, field), _| {
        read.contains(&(*source, *field))
            || deaths_read
                && settings.deaths.iter().any(|d| {
                    d.source == *source && d.conditions.iter().any(|c| field_of(c) == Some(*field))
                })
    });
    for ((source, field), words) in &mut known {
        words.extend(
            settings.sources[*source].fields[*field]
                .known
                .iter()
                .cloned(),
        );
    }
    known
}

/// The conditions, those of `any` and `all` groups and of household counts (on rows of the
/// same source) in place of the groups (linked ones stay whole).
fn flattened(conditions: &[Condition]) -> Vec<&Condition> {
    conditions
        .iter()
        .flat_map(|c| match c {
            Condition::Any(inner)
            | Condition::All(inner)
            | Condition::Household {
                conditions: inner, ..
            } => flattened(inner),
            other => vec![other],
        })
        .collect()
}

fn collect_linked(conditions: &[Condition], add: &mut impl FnMut(SourceId, &[Condition])) {
    for condition in flattened(conditions) {
        if let Condition::Linked {
            source, conditions, ..
        } = condition
        {
            add(*source, conditions);
            collect_linked(conditions, add);
        }
    }
}

/// Per file and column a condition compares with words: the values no list knows, with
/// their rows (a value not understood, such as grade `五级`, counts too).
fn unknown_values(
    settings: &Settings,
    tables: &[LoadedTable],
    records: &Records,
    run: &[&(usize, Reads)],
) -> Vec<UnknownValues> {
    let known = vocabularies(settings, run);
    // A text field is checked against its words; a field of a closed kind (grade, yes/no…)
    // holds only canonical values, or values not understood.
    // A blank cell in a field a source's `active` asks to be one of some words makes its row
    // not active without a word: counted as a value of its own.
    let decides_active = |source: usize, field: usize| {
        (settings.sources[source].active.iter())
            .any(|c| matches!(c, Condition::FieldIn { field: f, negate: false, .. } if *f == field))
    };
    let checked: Vec<(SourceField, Option<FastSet<Word>>, bool)> = known
        .iter()
        .map(|(&(source, field), words)| {
            let is_text = settings.sources[source].fields[field].kind == FieldKind::Text;
            let words =
                is_text.then(|| words.iter().filter_map(|w| records.words.get(w)).collect());
            ((source, field), words, decides_active(source, field))
        })
        .collect();
    type Counts = FastMap<(FileId, usize, Option<Word>), u64>;
    let counts: Counts = records
        .as_slice()
        .par_iter()
        .fold(Counts::default, |mut counts, record| {
            for ((source, field), words, blank_counts) in &checked {
                if *source != record.source() {
                    continue;
                }
                let word = match (records.value(record, *field), words) {
                    (Value::Text(w), Some(words)) if !words.contains(&w) => Some(w),
                    (Value::Unparsed(w), _) => Some(w),
                    (Value::Empty, _) if *blank_counts => None,
                    _ => continue,
                };
                *counts.entry((record.row.file, *field, word)).or_default() += 1;
            }
            counts
        })
        .reduce(Counts::default, |mut all, part| {
            #[expect(clippy::iter_over_hash_type, reason = "sums, the same in any order")]
            for (key, n) in part {
                *all.entry(key).or_default() += n;
            }
            all
        });
    let mut by_column: BTreeMap<(FileId, usize), Vec<(String, u64)>> = BTreeMap::new();
    #[expect(clippy::iter_over_hash_type, reason = "gathered into a sorted map")]
    for ((file, field, word), rows) in counts {
        let value = word.map_or(BLANK_READ_AS_NOT_ACTIVE, |w| records.text(w));
        by_column
            .entry((file, field))
            .or_default()
            .push((value.to_string(), rows));
    }
    by_column
        .into_iter()
        .map(|((file, field), mut values)| {
            values.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            let source = tables[file as usize].mapping.source;
            let (shown, hidden): (Vec<_>, Vec<_>) = (values.into_iter())
                .partition(|(v, rows)| v == BLANK_READ_AS_NOT_ACTIVE || is_shown(v, *rows));
            UnknownValues {
                file,
                source,
                field,
                shown,
                hidden: (hidden.len(), hidden.iter().map(|(_, n)| n).sum()),
                rules: run
                    .iter()
                    .filter(|(_, r)| r.fields.contains(&(source, field)))
                    .map(|(rule, _)| *rule)
                    .collect(),
            }
        })
        .collect()
}

/// How blank cells of a field that decides whether a row is active are shown among the values.
const BLANK_READ_AS_NOT_ACTIVE: &str = "(blank: read as not active)";

/// A value is shown when many rows hold it and it is not shaped like an identifier: a
/// vocabulary word, not a person's data in the wrong column.
fn is_shown(value: &str, rows: u64) -> bool {
    let digits = value.chars().filter(char::is_ascii_digit).count();
    rows >= SHOWN_FROM_ROWS && digits < 6 && value.chars().count() <= 24
}

/// One line per warning, for the terminal and the log (counts and column names, never a
/// value a person could be recognised by).
pub fn warning_lines(
    contract: &Contract,
    settings: &Settings,
    tables: &[LoadedTable],
) -> Vec<String> {
    let rule_ids = |rules: &[usize]| -> String {
        rules
            .iter()
            .map(|&r| settings.rules[r].id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let field_label = |source: SourceId, field: usize| {
        let f = &settings.sources[source].fields[field];
        match f.aliases.first() {
            Some(alias) => format!("{} ({alias})", f.name),
            None => f.name.clone(),
        }
    };
    let mut lines = Vec::new();
    for not_run in &contract.not_run {
        let source = &settings.sources[not_run.source];
        lines.push(format!(
            "{} not run: source {} ({}) has no rows (no file, or header rows only)",
            settings.rules[not_run.rule].id, source.key, source.label
        ));
    }
    // One line per blindness, its files named together: a registry of a file per county
    // would otherwise repeat it a hundred times.
    let mut blind_files: Vec<(String, String, Vec<&str>)> = Vec::new();
    for blind in &contract.blind {
        let file = tables[blind.file as usize].file.name.as_str();
        let field = field_label(blind.source, blind.field);
        let why = match blind.death_rows {
            Some(0) => " (no death signal of this source can be read in the file)".to_string(),
            Some(rows) => format!(
                " ({rows} rows meet the rest of a death condition: whether they died is unknown)"
            ),
            None => String::new(),
        };
        let closest = match blind.closest.as_slice() {
            [] => String::new(),
            columns => format!("; closest unmapped columns: {}", columns.join(", ")),
        };
        let head = format!("{} blind to {field}", rule_ids(&blind.rules));
        let tail = format!(": no column maps to it{why}{closest}");
        match blind_files
            .iter_mut()
            .find(|(h, t, _)| *h == head && *t == tail)
        {
            Some((_, _, files)) => files.push(file),
            None => blind_files.push((head, tail, vec![file])),
        }
    }
    for (head, tail, files) in blind_files {
        lines.push(format!("{head} in {}{tail}", files_named(&files)));
    }
    for unknown in &contract.unknown_values {
        let table = &tables[unknown.file as usize];
        let column = table.mapping.fields[unknown.field]
            .as_ref()
            .map_or(String::new(), |(c, _)| column_name(&table.headers, *c));
        let mut values: Vec<String> = unknown
            .shown
            .iter()
            .map(|(v, n)| format!("`{v}` {n} rows"))
            .collect();
        if unknown.hidden.0 > 0 {
            values.push(format!(
                "{} rarer value(s) in {} rows, not shown",
                unknown.hidden.0, unknown.hidden.1
            ));
        }
        let affected = match unknown.rules.is_empty() {
            true => "death signals".to_string(),
            false => rule_ids(&unknown.rules),
        };
        lines.push(format!(
            "{} in {}: values no vocabulary list knows: {}; may affect {affected}",
            column,
            table.file.name,
            values.join(", ")
        ));
    }
    lines.extend(
        contract
            .config_warnings
            .iter()
            .map(|w| format!("config: {w}")),
    );
    for m in &contract.missing_standards {
        let county = match m.county.as_str() {
            "" => "rows of no known county".to_string(),
            code => format!("county {code}"),
        };
        lines.push(format!(
            "{}: standard `{}` has no amount for {county} in {} ({} rows): the rule's gaps there are withheld; add a [[standard]] entry",
            settings.rules[m.rule].id, m.standard, m.year, m.rows
        ));
    }
    for (file, rows) in &contract.implausible_births {
        lines.push(format!(
            "{rows} rows of {} carry a valid ID whose birth date is before 1900 or after next year: a mistyped digit that passed the check character?",
            tables[*file as usize].file.name
        ));
    }
    lines
}

/// Files as a warning names them: up to three by name, more by count and the first two.
fn files_named(files: &[&str]) -> String {
    match files {
        [_, _, _, _, ..] => format!("{} files ({}, {}, …)", files.len(), files[0], files[1]),
        _ => files.join(", "),
    }
}

/// The contract's findings for `run.json` and the morning report.
pub fn to_json(
    contract: &Contract,
    settings: &Settings,
    tables: &[LoadedTable],
) -> serde_json::Value {
    use serde_json::json;
    let ids = |rules: &[usize]| -> Vec<&str> {
        rules
            .iter()
            .map(|&r| settings.rules[r].id.as_str())
            .collect()
    };
    let file = |f: FileId| tables[f as usize].file.name.clone();
    json!({
        "rules_not_run": contract.not_run.iter().map(|n| json!({
            "rule": settings.rules[n.rule].id,
            "source": settings.sources[n.source].key,
            "reason": "no rows in this source tonight",
        })).collect::<Vec<_>>(),
        "blind": contract.blind.iter().map(|b| json!({
            "file": file(b.file),
            "source": settings.sources[b.source].key,
            "field": settings.sources[b.source].fields[b.field].name,
            "rules": ids(&b.rules),
            "death_signal": b.death_rows.is_some(),
            "rows_undecided": b.death_rows,
            "closest_unmapped_columns": b.closest,
        })).collect::<Vec<_>>(),
        "unknown_values": contract.unknown_values.iter().map(|u| json!({
            "file": file(u.file),
            "source": settings.sources[u.source].key,
            "field": settings.sources[u.source].fields[u.field].name,
            "values": u.shown.iter().map(|(v, n)| json!({"value": v, "rows": n})).collect::<Vec<_>>(),
            "values_not_shown": u.hidden.0,
            "rows_not_shown": u.hidden.1,
            "rules": ids(&u.rules),
        })).collect::<Vec<_>>(),
        "config_warnings": contract.config_warnings,
        "missing_standards": contract.missing_standards.iter().map(|m| json!({
            "rule": settings.rules[m.rule].id,
            "standard": m.standard,
            "county": m.county,
            "year": m.year,
            "rows": m.rows,
        })).collect::<Vec<_>>(),
        "implausible_birth_dates": contract.implausible_births.iter().map(|(f, n)| json!({
            "file": file(*f),
            "rows": n,
        })).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DEFAULT_CONFIG;

    fn field(settings: &Settings, source: &str, name: &str) -> (SourceId, usize) {
        let s = settings.source(source).unwrap();
        (s, settings.sources[s].field(name).unwrap())
    }

    #[test]
    fn rules_say_what_they_read() {
        let settings = Settings::from_toml(DEFAULT_CONFIG).unwrap();
        let index = |id: &str| settings.rules.iter().position(|r| r.id == id).unwrap();
        let med02 = Reads::of_rule(&settings, index("MED-02"));
        assert!(med02.deaths);
        for (source, name) in [
            ("dpf", "certificate_status"),
            ("dpf", "is_poor"),
            ("insurance", "status"),
            ("insurance", "year"),
            ("insurance", "subsidy_type"),
        ] {
            assert!(
                med02.fields.contains(&field(&settings, source, name)),
                "{name}"
            );
        }
        let aud03 = Reads::of_rule(&settings, index("AUD-03"));
        assert!(!aud03.deaths);
        assert_eq!(aud03.sources.len(), 1, "civil only");
        assert!(aud03
            .fields
            .contains(&field(&settings, "civil", "start_date")));
        assert!(aud03
            .fields
            .contains(&field(&settings, "civil", "end_date")));
    }

    #[test]
    fn values_shown_are_common_and_not_identifiers() {
        assert!(is_shown("暂停参保", 40));
        assert!(!is_shown("暂停参保", 2), "rare: may be a person's data");
        assert!(!is_shown("420325199001011234", 50));
        assert!(!is_shown("张三 420325", 50));
    }
}
