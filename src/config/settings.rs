//! Resolved settings: built once from `Options`, complete and validated. Field names become
//! indices, vocabulary names become word lists, and every word is put in the same canonical
//! form as the cell values it will be compared with.

use std::collections::{BTreeMap, BTreeSet};

use super::link::{LinkOptions, LinkSettings};
use super::options::{ConditionOptions, FilePin, LinkedOptions, Options, Words};
use crate::model::words::canonical_word;
use crate::model::{FieldKind, FieldRole, SourceId};

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// A record keeps its source's number in a byte.
pub const MAX_SOURCES: usize = u8::MAX as usize;

fn err<T>(message: impl Into<String>) -> Result<T, ConfigError> {
    Err(ConfigError(message.into()))
}

#[derive(Clone, Debug)]
pub struct Settings {
    pub sources: Vec<Source>,
    pub deaths: Vec<DeathRule>,
    pub rules: Vec<Rule>,
    pub standards: Vec<Standard>,
    pub pins: Vec<FilePin>,
    /// Header qualifiers (参保, 人员…), cleaned, longest first.
    pub qualifiers: Vec<String>,
    /// Conditions no row can meet (a grade no certificate has, an inverted age band, a word
    /// in no vocabulary list): shown by `check-config` and by every run.
    pub warnings: Vec<String>,
    pub link: LinkSettings,
    /// The authoring form, kept to write configs back out (`inspect --write-config`).
    pub options: Options,
}

#[derive(Clone, Debug)]
pub struct Source {
    pub key: String,
    pub label: String,
    pub fields: Vec<Field>,
    /// Each entry lists alternatives: one of them must be mapped.
    pub required: Vec<Vec<usize>>,
    pub active: Vec<Condition>,
    /// Rows another scheme's: any condition holding sets a row aside (`FieldIn` only).
    pub set_aside: Vec<Condition>,
    /// Header patterns of another department's export: a file with one is not this source's.
    pub not_with: Vec<String>,
    pub active_from: Option<usize>,
    pub active_until: Option<usize>,
    /// A date field that ends a row: one whose status says it ended, dated after the as-of
    /// date, was still in force then (a certificate cancelled later, for a past `--as-of`).
    pub ended_by: Option<usize>,
}

#[derive(Clone, Debug)]
pub struct Field {
    pub name: String,
    /// What the stages read it as, when its name is a role's.
    pub role: Option<FieldRole>,
    pub kind: FieldKind,
    pub aliases: Vec<String>,
    pub patterns: Vec<String>,
    /// Alternatives, each a set of key words that must all appear in a header.
    pub words: Vec<Vec<String>>,
    pub exclude: Vec<String>,
    /// Values its cells may hold (from its `values` lists), canonical: with the words of the
    /// conditions on it, what a run does not report as unknown.
    pub known: Vec<String>,
    /// Declared under `[fields]` for every source rather than for this one.
    pub is_shared: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Condition {
    FieldIn {
        field: usize,
        words: Vec<String>,
        negate: bool,
    },
    FieldEmpty {
        field: usize,
        empty: bool,
    },
    FieldIsAsOfYear {
        field: usize,
    },
    Active(bool),
    Age {
        min: Option<u32>,
        max: Option<u32>,
    },
    Living(bool),
    Linked {
        source: SourceId,
        conditions: Vec<Condition>,
        negate: bool,
    },
    /// Any of the conditions holds.
    Any(Vec<Condition>),
    /// All of them hold (an alternative of an `Any`).
    All(Vec<Condition>),
    /// The amount field is under (`below`) the bound, or the bound or more. A row without a
    /// readable amount, or without a bound, meets neither.
    Compare {
        field: usize,
        bound: Bound,
        below: bool,
    },
    /// From `at_least` to `at_most` members of the person's household (the person included
    /// unless `others`; alone where no row names a household) have a row of the same source meeting the
    /// conditions; a member with no row of it, when the conditions are on persons alone.
    Household {
        conditions: Vec<Condition>,
        at_least: u32,
        at_most: Option<u32>,
        /// The other members only, not the person.
        others: bool,
    },
}

impl Condition {
    /// Whether the condition reads none of the row's own values, only its person's (age,
    /// death, linked rows, household): any row of the person gives the same answer.
    pub fn on_the_person_alone(&self) -> bool {
        match self {
            Condition::Age { .. }
            | Condition::Living(_)
            | Condition::Linked { .. }
            | Condition::Household { .. } => true,
            Condition::Any(inner) | Condition::All(inner) => {
                inner.iter().all(Condition::on_the_person_alone)
            }
            Condition::FieldIn { .. }
            | Condition::FieldEmpty { .. }
            | Condition::FieldIsAsOfYear { .. }
            | Condition::Compare { .. }
            | Condition::Active(_) => false,
        }
    }

    /// Whether the condition, or one inside it, counts household members.
    pub fn counts_households(&self) -> bool {
        match self {
            Condition::Household { .. } => true,
            Condition::Any(inner)
            | Condition::All(inner)
            | Condition::Linked {
                conditions: inner, ..
            } => inner.iter().any(Condition::counts_households),
            _ => false,
        }
    }

    /// Whether the condition reads only the row's own values (what source `active`
    /// definitions, `set_aside` and deaths may use).
    pub fn on_the_row_alone(&self) -> bool {
        match self {
            Condition::FieldIn { .. }
            | Condition::FieldEmpty { .. }
            | Condition::FieldIsAsOfYear { .. }
            | Condition::Compare { .. } => true,
            Condition::Any(inner) | Condition::All(inner) => {
                inner.iter().all(Condition::on_the_row_alone)
            }
            Condition::Active(_)
            | Condition::Age { .. }
            | Condition::Living(_)
            | Condition::Linked { .. }
            | Condition::Household { .. } => false,
        }
    }
}

/// What an amount is compared with.
#[derive(Clone, Debug, PartialEq)]
pub enum Bound {
    Amount(f64),
    /// Another amount field of the same row.
    Field(usize),
    /// A `[[standard]]`, by name: its amount for the row's county and the as-of year.
    Standard(String),
}

/// One amount of a named standard, for a county (a code or its prefix; none: every county)
/// and a year (none: every year).
#[derive(Clone, Debug, PartialEq)]
pub struct Standard {
    pub name: String,
    pub amount: f64,
    pub county: Option<String>,
    pub year: Option<i32>,
}

#[derive(Clone, Debug)]
pub struct DeathRule {
    pub source: SourceId,
    pub conditions: Vec<Condition>,
    pub date: Option<usize>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleKind {
    Coverage,
    Audit,
}

#[derive(Clone, Debug)]
pub struct Rule {
    pub id: String,
    pub name: String,
    pub flags: String,
    pub basis: String,
    /// What a coverage rule's rate measures (基本医保参保率); the name when not given.
    pub measure: String,
    /// The department that acts on a finding (责任部门).
    pub department: String,
    /// What the county is to check and do (核查与处置).
    pub action: String,
    pub kind: RuleKind,
    pub enabled: bool,
    pub subject: SourceId,
    pub when: Vec<Condition>,
    pub check: Check,
    /// One finding per household (the subject rows of one household are one item, listed
    /// under the head's row when the head is among them).
    pub per_household: bool,
}

/// What makes a subject row a gap.
#[derive(Clone, Debug)]
pub enum Check {
    /// No row of the same person in `source` matches.
    Requires {
        source: SourceId,
        conditions: Vec<Condition>,
    },
    /// A row of the same person in `source` matches.
    Forbids {
        source: SourceId,
        conditions: Vec<Condition>,
    },
    /// Another row of the same person and source, matching, has the same value of `field`.
    Duplicate {
        field: usize,
        conditions: Vec<Condition>,
    },
    /// Every subject is a finding.
    Always,
}

/// Fields the county workbook shows of a person where a file holds them.
pub const SHOWN_FIELDS: [&str; 5] = [
    "township",
    "village",
    "disability_category",
    "disability_grade",
    "certificate_number",
];

impl Source {
    pub fn field(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }

    pub fn field_for(&self, role: FieldRole) -> Option<usize> {
        self.fields.iter().position(|f| f.role == Some(role))
    }

    pub fn field_of_kind(&self, kind: FieldKind) -> Option<usize> {
        self.fields.iter().position(|f| f.kind == kind)
    }
}

impl Settings {
    /// Per source, per field: whether any part of the config reads the field's values (a
    /// condition, an active window, a death's date, a duplicate check, the linker, the county
    /// workbook). Records keep only those.
    pub fn fields_read(&self) -> Vec<Vec<bool>> {
        let mut read: Vec<Vec<bool>> = self
            .sources
            .iter()
            .map(|s| vec![false; s.fields.len()])
            .collect();
        let counts_households = self.rules.iter().any(|rule| {
            let checked = match &rule.check {
                Check::Requires { conditions, .. }
                | Check::Forbids { conditions, .. }
                | Check::Duplicate { conditions, .. } => conditions.as_slice(),
                Check::Always => &[],
            };
            rule.per_household
                || (rule.when.iter())
                    .chain(checked)
                    .any(Condition::counts_households)
        });
        for (id, source) in self.sources.iter().enumerate() {
            mark_conditions(&source.active, id, &mut read);
            mark_conditions(&source.set_aside, id, &mut read);
            for field in [source.active_from, source.active_until]
                .into_iter()
                .flatten()
            {
                read[id][field] = true;
            }
            for (f, field) in source.fields.iter().enumerate() {
                // The linker reads a record's ID, name and county, not their cells.
                let identity = matches!(
                    field.role,
                    Some(FieldRole::IdNumber | FieldRole::Name | FieldRole::County)
                );
                let linked = !identity && self.link.features.iter().any(|x| x.name == field.name);
                let distinct = self.link.distinct_rows_in.iter().any(|d| {
                    d.source == source.key && d.per.as_deref() == Some(field.name.as_str())
                });
                let shown = SHOWN_FIELDS.contains(&field.name.as_str());
                let households = counts_households
                    && matches!(
                        field.role,
                        Some(
                            FieldRole::HouseholdHeadId
                                | FieldRole::HouseholdNumber
                                | FieldRole::Relation
                        )
                    );
                read[id][f] |= linked || distinct || shown || households;
            }
        }
        for death in &self.deaths {
            mark_conditions(&death.conditions, death.source, &mut read);
            if let Some(field) = death.date {
                read[death.source][field] = true;
            }
        }
        for rule in &self.rules {
            mark_conditions(&rule.when, rule.subject, &mut read);
            match &rule.check {
                Check::Requires { source, conditions } | Check::Forbids { source, conditions } => {
                    mark_conditions(conditions, *source, &mut read)
                }
                Check::Duplicate { field, conditions } => {
                    read[rule.subject][*field] = true;
                    mark_conditions(conditions, rule.subject, &mut read);
                }
                Check::Always => {}
            }
        }
        read
    }

    pub fn source(&self, key: &str) -> Option<SourceId> {
        self.sources.iter().position(|s| s.key == key)
    }

    /// The amount of standard `name` for a row of `county` in `year`: the entry of that year
    /// before one for every year, then the one for the longest prefix of the county's code.
    pub fn standard_amount(&self, name: &str, county: Option<&str>, year: i32) -> Option<f64> {
        self.standards
            .iter()
            .filter(|s| s.name == name && s.year.is_none_or(|y| y == year))
            .filter(|s| {
                (s.county.as_deref()).is_none_or(|c| county.is_some_and(|code| code.starts_with(c)))
            })
            .max_by_key(|s| (s.year.is_some(), s.county.as_ref().map_or(0, String::len)))
            .map(|s| s.amount)
    }

    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id.eq_ignore_ascii_case(id))
    }

    pub fn from_toml(text: &str) -> Result<Settings, ConfigError> {
        let options: Options = toml::from_str(text).map_err(|e| ConfigError(e.to_string()))?;
        Settings::from_options(options)
    }

    pub fn from_options(options: Options) -> Result<Settings, ConfigError> {
        if options.version != 1 {
            return err(format!(
                "config version {} is not supported (expected 1)",
                options.version
            ));
        }
        if options.sources.len() > MAX_SOURCES {
            return err(format!(
                "{} sources: a config may define at most {MAX_SOURCES}",
                options.sources.len()
            ));
        }
        let mut sources = Vec::new();
        for (key, source) in &options.sources {
            let mut fields = Vec::new();
            for (name, field) in &options.fields {
                fields.push(resolve_field(name, field, true, &options.vocabulary)?);
            }
            for (name, field) in &source.fields {
                let shared = fields.iter().position(|f: &Field| &f.name == name);
                let resolved = resolve_field(name, field, shared.is_some(), &options.vocabulary)?;
                match shared {
                    // A department whose export heads a shared field its own way (住建 lists
                    // the household by its head: 户主姓名 is the person's name there).
                    Some(i) if fields[i].kind == resolved.kind => fields[i] = resolved,
                    Some(i) => {
                        return err(format!(
                            "source {key}: field `{name}` is a shared field of kind {:?}; a source may head it its own way but not change its kind",
                            fields[i].kind
                        ))
                    }
                    None => fields.push(resolved),
                }
            }
            sources.push(Source {
                key: key.clone(),
                label: source.label.clone(),
                fields,
                required: Vec::new(),
                active: Vec::new(),
                set_aside: Vec::new(),
                not_with: Vec::new(),
                active_from: None,
                active_until: None,
                ended_by: None,
            });
        }
        let standards = resolve_standards(&options.standards)?;
        let resolver = Resolver {
            sources: &sources,
            standards: &standards,
            vocabulary: &options.vocabulary,
            warnings: std::cell::RefCell::default(),
        };
        let mut resolved = Vec::new();
        for (id, (key, source)) in options.sources.iter().enumerate() {
            let place = format!("source {key}");
            let fields = &sources[id];
            let required = source
                .required
                .iter()
                .map(|alts| {
                    alts.split('|')
                        .map(|f| resolver.field(id, f, &place))
                        .collect()
                })
                .collect::<Result<_, _>>()?;
            let date_field = |f: &Option<String>| -> Result<Option<usize>, ConfigError> {
                f.as_deref()
                    .map(|f| resolver.field(id, f, &place))
                    .transpose()
            };
            let set_aside =
                resolver.conditions(id, &source.set_aside, &format!("{place}: set_aside"))?;
            if !set_aside
                .iter()
                .all(|c| matches!(c, Condition::FieldIn { negate: false, .. }))
            {
                return err(format!("{place}: set_aside takes `in` tests only"));
            }
            resolved.push(Source {
                required,
                active: resolver.row_conditions(id, &source.active, &format!("{place}: active"))?,
                set_aside,
                not_with: source
                    .not_with
                    .iter()
                    .map(|p| crate::model::text::clean_header(p))
                    .collect(),
                active_from: date_field(&source.active_from)?,
                active_until: date_field(&source.active_until)?,
                ended_by: date_field(&source.ended_by)?,
                ..fields.clone()
            });
        }
        let deaths: Vec<DeathRule> = options
            .death
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let place = format!("death[{i}]");
                let source = resolver.source(&d.source, &place)?;
                Ok(DeathRule {
                    source,
                    conditions: resolver.row_conditions(source, &d.conditions, &place)?,
                    date: d
                        .date
                        .as_deref()
                        .map(|f| resolver.field(source, f, &place))
                        .transpose()?,
                })
            })
            .collect::<Result<_, ConfigError>>()?;
        let rules = resolve_rules(&options, &resolver)?;
        let mut warnings = resolver.warnings.take();
        warnings.extend(unread_standards(&standards, &rules, &deaths, &resolved));
        let link = resolve_link(options.link.as_ref(), &resolved)?;
        Ok(Settings {
            sources: resolved,
            deaths,
            rules,
            standards,
            pins: options.files.clone(),
            qualifiers: qualifiers(&options),
            warnings,
            link,
            options,
        })
    }
}

/// A warning for each standard no condition compares with (a name mistyped in the rule, most
/// likely, which `check-config` catches only from the rule's side).
fn unread_standards(
    standards: &[Standard],
    rules: &[Rule],
    deaths: &[DeathRule],
    sources: &[Source],
) -> Vec<String> {
    fn read(conditions: &[Condition], names: &mut BTreeSet<String>) {
        for condition in conditions {
            match condition {
                Condition::Compare {
                    bound: Bound::Standard(name),
                    ..
                } => {
                    names.insert(name.clone());
                }
                Condition::Linked { conditions, .. }
                | Condition::Household { conditions, .. }
                | Condition::Any(conditions)
                | Condition::All(conditions) => read(conditions, names),
                _ => {}
            }
        }
    }
    let mut names = BTreeSet::new();
    for rule in rules {
        read(&rule.when, &mut names);
        match &rule.check {
            Check::Requires { conditions, .. }
            | Check::Forbids { conditions, .. }
            | Check::Duplicate { conditions, .. } => read(conditions, &mut names),
            Check::Always => {}
        }
    }
    deaths.iter().for_each(|d| read(&d.conditions, &mut names));
    sources.iter().for_each(|s| read(&s.active, &mut names));
    let unread: BTreeSet<&str> = standards
        .iter()
        .map(|s| s.name.as_str())
        .filter(|name| !names.contains(*name))
        .collect();
    unread
        .into_iter()
        .map(|name| format!("[[standard]] `{name}`: no condition compares with it"))
        .collect()
}

/// The standards' amounts, checked: a county is a code or its prefix (2, 4 or 6 digits), an
/// amount is a sum of money, and no two entries are for the same name, county and year.
fn resolve_standards(
    options: &[super::options::StandardOptions],
) -> Result<Vec<Standard>, ConfigError> {
    let mut standards: Vec<Standard> = Vec::new();
    for (i, s) in options.iter().enumerate() {
        let place = format!("standard[{i}] `{}`", s.name);
        if let Some(county) = &s.county {
            let digits = county.len() == 2 || county.len() == 4 || county.len() == 6;
            if !digits || !county.bytes().all(|b| b.is_ascii_digit()) {
                return err(format!("{place}: county `{county}` is not a division code (2, 4 or 6 digits: a province, a prefecture or a county)"));
            }
        }
        if !(s.amount.is_finite() && s.amount >= 0.0) {
            return err(format!(
                "{place}: amount {} is not a sum of money",
                s.amount
            ));
        }
        let standard = Standard {
            name: s.name.clone(),
            amount: s.amount,
            county: s.county.clone(),
            year: s.year,
        };
        let same = |o: &&Standard| {
            (&o.name, &o.county, o.year) == (&standard.name, &standard.county, standard.year)
        };
        if standards.iter().any(|o| same(&o)) {
            return err(format!(
                "{place}: a second amount for the same county and year"
            ));
        }
        standards.push(standard);
    }
    Ok(standards)
}

/// A county named in a condition, as its code: rows are compared by the county they resolve to.
fn county_code(word: &str, place: &str) -> Result<String, ConfigError> {
    use crate::model::region::{CountyProblem, Regions};
    match Regions::bundled().resolve(word, None) {
        Ok(county) => Ok(county.code.clone()),
        Err(CountyProblem::Unknown) => {
            err(format!("{place}: `{word}` is not a county name or code"))
        }
        Err(CountyProblem::Ambiguous) => err(format!(
            "{place}: `{word}` names several counties: give its 6-digit code"
        )),
    }
}

/// `[headers] qualifiers`, cleaned like headers, longest first (so 参保人 goes before 参保).
fn qualifiers(options: &Options) -> Vec<String> {
    let mut list: Vec<String> = options
        .headers
        .iter()
        .flat_map(|h| &h.qualifiers)
        .map(|q| crate::model::text::clean_header(q))
        .filter(|q| !q.is_empty())
        .collect();
    list.sort_by(|a, b| b.chars().count().cmp(&a.chars().count()).then(a.cmp(b)));
    list.dedup();
    list
}

/// `[link]`, or the bundled default's when the config has none. A feature's kind is the kind
/// of the first source field of that name.
fn resolve_link(
    options: Option<&LinkOptions>,
    sources: &[Source],
) -> Result<LinkSettings, ConfigError> {
    #[derive(serde::Deserialize)]
    struct DefaultLink {
        link: LinkOptions,
    }
    let default;
    let options = match options {
        Some(o) => o,
        None => {
            default = toml::from_str::<DefaultLink>(super::DEFAULT_CONFIG)
                .map_err(|e| ConfigError(format!("bundled [link]: {e}")))?
                .link;
            &default
        }
    };
    let kind_of = |name: &str| {
        sources
            .iter()
            .find_map(|s| s.field(name).map(|f| s.fields[f].kind))
    };
    let link = LinkSettings::resolve(options, &kind_of)?;
    for rows in &link.distinct_rows_in {
        let place = "link.distinct_rows_in";
        let source = sources
            .iter()
            .find(|s| s.key == rows.source)
            .ok_or_else(|| ConfigError(format!("{place}: no source `{}`", rows.source)))?;
        if let Some(per) = rows.per.as_deref().filter(|f| source.field(f).is_none()) {
            return err(format!(
                "{place}: source {} has no field `{per}`",
                source.key
            ));
        }
    }
    Ok(link)
}

/// Marks the fields `conditions` (on rows of `source`) read, through linked conditions too.
fn mark_conditions(conditions: &[Condition], source: SourceId, read: &mut [Vec<bool>]) {
    for condition in conditions {
        match condition {
            Condition::FieldIn { field, .. }
            | Condition::FieldEmpty { field, .. }
            | Condition::FieldIsAsOfYear { field } => read[source][*field] = true,
            Condition::Linked {
                source: other,
                conditions,
                ..
            } => mark_conditions(conditions, *other, read),
            Condition::Any(conditions) | Condition::All(conditions) => {
                mark_conditions(conditions, source, read)
            }
            Condition::Household { conditions, .. } => mark_conditions(conditions, source, read),
            Condition::Compare { field, bound, .. } => {
                read[source][*field] = true;
                if let Bound::Field(other) = bound {
                    read[source][*other] = true;
                }
            }
            Condition::Active(_) | Condition::Age { .. } | Condition::Living(_) => {}
        }
    }
}

fn resolve_field(
    name: &str,
    field: &super::options::FieldOptions,
    is_shared: bool,
    vocabulary: &BTreeMap<String, Vec<String>>,
) -> Result<Field, ConfigError> {
    let kind = FieldKind::parse(&field.kind)
        .ok_or_else(|| ConfigError(format!("field `{name}`: unknown kind `{}`", field.kind)))?;
    let clean = |list: &[String]| {
        list.iter()
            .map(|a| crate::model::text::clean_header(a))
            .collect()
    };
    Ok(Field {
        name: name.to_string(),
        role: FieldRole::of_name(name),
        kind,
        aliases: clean(&field.aliases),
        patterns: clean(&field.patterns),
        words: field
            .words
            .iter()
            .map(|w| {
                w.split_whitespace()
                    .map(crate::model::text::clean_header)
                    .collect()
            })
            .collect(),
        exclude: clean(&field.exclude),
        known: field
            .values
            .iter()
            .map(|list| {
                vocabulary.get(list).ok_or_else(|| {
                    ConfigError(format!("field `{name}`: no vocabulary list named `{list}`"))
                })
            })
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .flatten()
            .map(|w| canonical_word(kind, w))
            .collect(),
        is_shared,
    })
}

fn resolve_rules(options: &Options, resolver: &Resolver) -> Result<Vec<Rule>, ConfigError> {
    let mut rules: Vec<Rule> = Vec::new();
    for rule in &options.rules {
        if rule.id.trim().is_empty() {
            // The id names the rule in gap lists, ledger keys and `--rule`.
            return err("a rule has an empty id: give it one, such as LOC-01");
        }
        let place = format!("rule {}", rule.id);
        if rules.iter().any(|r| r.id == rule.id) {
            return err(format!("{place}: the id is used twice"));
        }
        let kind = match rule.kind.as_str() {
            "coverage" => RuleKind::Coverage,
            "audit" => RuleKind::Audit,
            other => {
                return err(format!(
                    "{place}: kind must be coverage or audit, not `{other}`"
                ))
            }
        };
        let subject = resolver.source(&rule.subject, &place)?;
        let linked =
            |l: &LinkedOptions, what: &str| -> Result<(SourceId, Vec<Condition>), ConfigError> {
                let source = resolver.source(&l.source, &place)?;
                Ok((
                    source,
                    resolver.conditions(source, &l.conditions, &format!("{place}: {what}"))?,
                ))
            };
        let check = match (&rule.requires, &rule.forbids, &rule.duplicate) {
            (None, None, None) => Check::Always,
            (Some(r), None, None) => {
                let (source, conditions) = linked(r, "requires")?;
                Check::Requires { source, conditions }
            }
            (None, Some(f), None) => {
                let (source, conditions) = linked(f, "forbids")?;
                Check::Forbids { source, conditions }
            }
            (None, None, Some(d)) => Check::Duplicate {
                field: resolver.field(subject, &d.field, &place)?,
                conditions: resolver.conditions(
                    subject,
                    &d.conditions,
                    &format!("{place}: duplicate"),
                )?,
            },
            _ => {
                return err(format!(
                    "{place}: give at most one of requires, forbids, duplicate"
                ))
            }
        };
        rules.push(Rule {
            id: rule.id.clone(),
            name: rule.name.clone(),
            flags: rule.flags.clone(),
            basis: rule.basis.clone(),
            measure: match rule.measure.is_empty() {
                true => rule.name.clone(),
                false => rule.measure.clone(),
            },
            department: rule.department.clone(),
            action: rule.action.clone(),
            kind,
            enabled: rule.enabled,
            subject,
            when: resolver.conditions(subject, &rule.when, &format!("{place}: when"))?,
            check,
            per_household: match rule.per.as_deref() {
                None | Some("row") => false,
                Some("household") => {
                    resolver.needs_households(&place)?;
                    true
                }
                Some(other) => {
                    return err(format!(
                        "{place}: per must be row or household, not `{other}`"
                    ))
                }
            },
        });
    }
    Ok(rules)
}

struct Resolver<'a> {
    sources: &'a [Source],
    standards: &'a [Standard],
    vocabulary: &'a BTreeMap<String, Vec<String>>,
    warnings: std::cell::RefCell<Vec<String>>,
}

impl Resolver<'_> {
    fn source(&self, key: &str, place: &str) -> Result<SourceId, ConfigError> {
        self.sources
            .iter()
            .position(|s| s.key == key)
            .ok_or_else(|| {
                let known: Vec<&str> = self.sources.iter().map(|s| s.key.as_str()).collect();
                ConfigError(format!(
                    "{place}: unknown source `{key}` (sources: {})",
                    known.join(", ")
                ))
            })
    }

    fn field(&self, source: SourceId, name: &str, place: &str) -> Result<usize, ConfigError> {
        let s = &self.sources[source];
        s.field(name).ok_or_else(|| {
            let known: Vec<&str> = s.fields.iter().map(|f| f.name.as_str()).collect();
            ConfigError(format!(
                "{place}: source {} has no field `{name}` (fields: {})",
                s.key,
                known.join(", ")
            ))
        })
    }

    /// A condition's words in the form cells of `kind` take: county names and codes become
    /// county codes (an unknown or ambiguous county is an error), and a word no cell of the
    /// field can hold is a warning.
    fn words(
        &self,
        words: &Words,
        kind: FieldKind,
        place: &str,
    ) -> Result<Vec<String>, ConfigError> {
        let list = match words {
            Words::List(list) => list,
            Words::Vocabulary(name) => self.vocabulary.get(name).ok_or_else(|| {
                ConfigError(format!("{place}: no vocabulary list named `{name}`"))
            })?,
        };
        if matches!(kind, FieldKind::County | FieldKind::CountyCode) {
            return list.iter().map(|w| county_code(w, place)).collect();
        }
        for word in list {
            if let Some(problem) = self.unmeetable(word, kind, words) {
                self.warnings
                    .borrow_mut()
                    .push(format!("{place}: `{word}` {problem}: no row can hold it"));
            }
        }
        Ok(list.iter().map(|w| canonical_word(kind, w)).collect())
    }

    /// Why no cell can equal `word`, if none can: a word outside a closed kind's values, or a
    /// literal word in no `[vocabulary]` list (a typo, most likely).
    fn unmeetable(&self, word: &str, kind: FieldKind, words: &Words) -> Option<String> {
        let cell = crate::model::Cell {
            text: word.into(),
            origin: crate::model::CellOrigin::Text,
        };
        let understood = matches!(
            crate::model::words::normalize_value(kind, &cell),
            crate::model::words::Cleaned::Text(_) | crate::model::words::Cleaned::Id(_)
        );
        let closed = match kind {
            FieldKind::Grade => Some("a disability grade (一级 to 四级)"),
            FieldKind::Category => {
                Some("a disability category (视力 听力 言语 肢体 智力 精神 多重)")
            }
            FieldKind::YesNo => Some("是 or 否"),
            FieldKind::Sex => Some("男 or 女"),
            FieldKind::Year => Some("a year"),
            _ => None,
        };
        match kind {
            _ if closed.is_some() && !understood => {
                Some(format!("is not {}", closed.unwrap_or_default()))
            }
            FieldKind::Text if matches!(words, Words::List(_)) => {
                let canonical = canonical_word(kind, word);
                let known = self
                    .vocabulary
                    .values()
                    .flatten()
                    .any(|w| canonical_word(kind, w) == canonical);
                (!known).then(|| "is in no [vocabulary] list (a typo?)".to_string())
            }
            _ => None,
        }
    }

    /// An amount comparison: the field and a bound field must be amounts, a standard must be
    /// one the config gives.
    fn compare(
        &self,
        source: SourceId,
        field: usize,
        bound: &super::options::BoundOptions,
        below: bool,
        place: &str,
    ) -> Result<Condition, ConfigError> {
        use super::options::BoundOptions;
        let amount = |f: usize| -> Result<usize, ConfigError> {
            let field = &self.sources[source].fields[f];
            match field.kind {
                FieldKind::Amount => Ok(f),
                _ => err(format!(
                    "{place}: `{}` is not an amount; compare only fields of kind = \"amount\"",
                    field.name
                )),
            }
        };
        let bound = match bound {
            BoundOptions::Amount(a) => Bound::Amount(*a),
            BoundOptions::Field(name) => Bound::Field(amount(self.field(source, name, place)?)?),
            BoundOptions::Standard { standard } => {
                if !self.standards.iter().any(|s| &s.name == standard) {
                    return err(format!(
                        "{place}: no [[standard]] named `{standard}` gives an amount"
                    ));
                }
                Bound::Standard(standard.clone())
            }
        };
        Ok(Condition::Compare {
            field: amount(field)?,
            bound,
            below,
        })
    }

    /// Conditions on a row's own values: what is evaluated before persons are known (a row's
    /// being in force, a death), where a person's age, death or linked rows mean nothing.
    fn row_conditions(
        &self,
        source: SourceId,
        list: &[ConditionOptions],
        place: &str,
    ) -> Result<Vec<Condition>, ConfigError> {
        let conditions = self.conditions(source, list, place)?;
        match conditions.iter().position(|c| !c.on_the_row_alone()) {
            Some(i) => err(format!("{place}[{i}]: only tests of the row's own values go here (in, not_in, empty, is_as_of_year, below, at_least, and any/all of them)")),
            None => Ok(conditions),
        }
    }

    /// Households are made of the `household_head_id` field: a config without one has none.
    fn needs_households(&self, place: &str) -> Result<(), ConfigError> {
        match (self.sources.iter()).any(|s| s.field_for(FieldRole::HouseholdHeadId).is_some()) {
            true => Ok(()),
            false => err(format!(
                "{place}: households need a `household_head_id` field, the ID households are made of"
            )),
        }
    }

    /// `household = { where = [...], at_least = n, at_most = m }`: members counted by their rows
    /// of `source`.
    fn household(
        &self,
        source: SourceId,
        h: &super::options::HouseholdOptions,
        place: &str,
    ) -> Result<Condition, ConfigError> {
        self.needs_households(place)?;
        let at_least = h.at_least.unwrap_or(u32::from(h.at_most.is_none()));
        match h.at_most {
            Some(most) if most < at_least => {
                return err(format!(
                    "{place}: household at_least {at_least} is above at_most {most}"
                ))
            }
            None if at_least == 0 => {
                return err(format!(
                    "{place}: household at_least 0 with no at_most holds for every row"
                ))
            }
            _ => {}
        }
        Ok(Condition::Household {
            conditions: self.conditions(source, &h.conditions, &format!("{place}: household"))?,
            at_least,
            at_most: h.at_most,
            others: h.others,
        })
    }

    /// The conditions of an `any` or `all` group, of which there must be some.
    fn group(
        &self,
        source: SourceId,
        list: &[ConditionOptions],
        kind: &str,
        place: &str,
    ) -> Result<Vec<Condition>, ConfigError> {
        if list.is_empty() {
            return err(format!("{place}: `{kind}` needs at least one condition"));
        }
        self.conditions(source, list, &format!("{place}: {kind}"))
    }

    fn conditions(
        &self,
        source: SourceId,
        list: &[ConditionOptions],
        place: &str,
    ) -> Result<Vec<Condition>, ConfigError> {
        list.iter()
            .enumerate()
            .map(|(i, c)| self.condition(source, c, &format!("{place}[{i}]")))
            .collect()
    }

    fn condition(
        &self,
        source: SourceId,
        c: &ConditionOptions,
        place: &str,
    ) -> Result<Condition, ConfigError> {
        let tests = [
            c.is_in.is_some(),
            c.not_in.is_some(),
            c.empty.is_some(),
            c.is_as_of_year.is_some(),
            c.active.is_some(),
            c.age_min.is_some() || c.age_max.is_some(),
            c.living.is_some(),
            c.deceased.is_some(),
            c.linked.is_some(),
            c.not_linked.is_some(),
            c.any.is_some(),
            c.all.is_some(),
            c.below.is_some(),
            c.at_least.is_some(),
            c.household.is_some(),
        ];
        if tests.iter().filter(|t| **t).count() != 1 {
            return err(format!("{place}: a condition needs exactly one test (in, not_in, empty, is_as_of_year, active, age_min/age_max, living, deceased, linked, not_linked, any, all, below, at_least, household)"));
        }
        let needs_field = c.is_in.is_some()
            || c.not_in.is_some()
            || c.empty.is_some()
            || c.is_as_of_year.is_some()
            || c.below.is_some()
            || c.at_least.is_some();
        let field = match (&c.field, needs_field) {
            (Some(f), true) => Some(self.field(source, f, place)?),
            (None, false) => None,
            (None, true) => return err(format!("{place}: this test needs a `field`")),
            (Some(_), false) => return err(format!("{place}: this test takes no `field`")),
        };
        let kind = |f: usize| self.sources[source].fields[f].kind;
        let linked = |l: &LinkedOptions, negate: bool| -> Result<Condition, ConfigError> {
            let target = self.source(&l.source, place)?;
            Ok(Condition::Linked {
                source: target,
                conditions: self.conditions(target, &l.conditions, place)?,
                negate,
            })
        };
        Ok(match (field, c) {
            (
                Some(f),
                ConditionOptions {
                    below: Some(bound), ..
                },
            ) => self.compare(source, f, bound, true, place)?,
            (
                Some(f),
                ConditionOptions {
                    at_least: Some(bound),
                    ..
                },
            ) => self.compare(source, f, bound, false, place)?,
            (Some(f), ConditionOptions { is_in: Some(w), .. }) => Condition::FieldIn {
                field: f,
                words: self.words(w, kind(f), place)?,
                negate: false,
            },
            (
                Some(f),
                ConditionOptions {
                    not_in: Some(w), ..
                },
            ) => Condition::FieldIn {
                field: f,
                words: self.words(w, kind(f), place)?,
                negate: true,
            },
            (Some(f), ConditionOptions { empty: Some(e), .. }) => Condition::FieldEmpty {
                field: f,
                empty: *e,
            },
            (Some(f), _) => Condition::FieldIsAsOfYear { field: f },
            (
                None,
                ConditionOptions {
                    active: Some(a), ..
                },
            ) => Condition::Active(*a),
            (
                None,
                ConditionOptions {
                    living: Some(l), ..
                },
            ) => Condition::Living(*l),
            (
                None,
                ConditionOptions {
                    deceased: Some(d), ..
                },
            ) => Condition::Living(!*d),
            (
                None,
                ConditionOptions {
                    linked: Some(l), ..
                },
            ) => linked(l, false)?,
            (
                None,
                ConditionOptions {
                    not_linked: Some(l),
                    ..
                },
            ) => linked(l, true)?,
            (
                None,
                ConditionOptions {
                    any: Some(list), ..
                },
            ) => Condition::Any(self.group(source, list, "any", place)?),
            (
                None,
                ConditionOptions {
                    all: Some(list), ..
                },
            ) => Condition::All(self.group(source, list, "all", place)?),
            (
                None,
                ConditionOptions {
                    household: Some(h), ..
                },
            ) => self.household(source, h, place)?,
            (None, _) => {
                if let (Some(min), Some(max)) = (c.age_min, c.age_max) {
                    if min > max {
                        self.warnings.borrow_mut().push(format!(
                            "{place}: age_min {min} is above age_max {max}: no row can meet this condition"
                        ));
                    }
                }
                Condition::Age {
                    min: c.age_min,
                    max: c.age_max,
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_config_resolves() {
        let settings = Settings::from_toml(crate::config::DEFAULT_CONFIG).unwrap();
        assert_eq!(settings.rules.len(), 21);
        assert_eq!(settings.sources.len(), 8);
        let dpf = &settings.sources[settings.source("dpf").unwrap()];
        assert!(dpf.field("name").is_some() && dpf.field("certificate_number").is_some());
    }

    /// A record keeps its source's number in a byte: a config of more sources is refused.
    #[test]
    fn a_config_has_at_most_255_sources() {
        let config = |n: usize| {
            let sources: String = (0..n)
                .map(|i| format!("[sources.s{i}]\nlabel = \"s{i}\"\nrequired = [\"name\"]\n"))
                .collect();
            format!("version = 1\n[fields.name]\nkind = \"name\"\n{sources}[link]\naccept = 0.9\nreview = 0.5\n[[link.blocking]]\non = [\"name\"]\n[[link.comparison]]\nfield = \"name\"\nlevels = [\"exact\", \"else\"]\n")
        };
        assert_eq!(
            Settings::from_toml(&config(255)).unwrap().sources.len(),
            255
        );
        let error = Settings::from_toml(&config(256)).unwrap_err().to_string();
        assert!(error.contains("at most 255"), "{error}");
    }

    /// A rule per household, or a household count, in a config that makes no households.
    #[test]
    fn households_need_the_heads_id_field() {
        let config = |rule: &str| {
            format!(
                "version = 1\n[fields.name]\nkind = \"name\"\n[fields.id_number]\nkind = \"id\"\n[sources.s]\nlabel = \"s\"\nrequired = [\"name\"]\n[link]\naccept = 0.9\nreview = 0.5\n[[link.blocking]]\non = [\"id_number\"]\n[[link.comparison]]\nfield = \"id_number\"\nlevels = [\"exact\", \"else\"]\n[[rule]]\nid = \"R\"\nname = \"r\"\nflags = \"r\"\nbasis = \"r\"\nkind = \"coverage\"\nsubject = \"s\"\n{rule}\n"
            )
        };
        assert!(Settings::from_toml(&config("")).is_ok());
        for rule in [
            "per = \"household\"",
            "when = [{ household = { where = [{ living = true }] } }]",
        ] {
            let error = Settings::from_toml(&config(rule)).unwrap_err().to_string();
            assert!(
                error.contains("households need a `household_head_id` field"),
                "{rule}: {error}"
            );
        }
    }

    /// 住建 heads the household's head as its person: its own name field, still the shared one
    /// (at the shared field's place, not counted as the source's own); a kind cannot change.
    #[test]
    fn a_source_heads_a_shared_field_its_own_way() {
        let settings = Settings::from_toml(crate::config::DEFAULT_CONFIG).unwrap();
        let [dpf, housing] =
            ["dpf", "housing"].map(|s| &settings.sources[settings.source(s).unwrap()]);
        let name = housing.field("name").unwrap();
        assert_eq!(name, dpf.field("name").unwrap());
        let field = &housing.fields[name];
        assert!(field.is_shared && field.aliases[0] == "户主姓名");
        assert!(dpf.fields[name].exclude.iter().any(|e| e.contains("户主")));
        let changed = crate::config::DEFAULT_CONFIG.replace(
            "[sources.housing.fields]\n",
            "[sources.housing.fields]\nsex = { kind = \"text\" }\n",
        );
        let error = Settings::from_toml(&changed).unwrap_err().to_string();
        assert!(
            error.contains("source housing: field `sex` is a shared field"),
            "{error}"
        );
    }

    /// The most specific amount applies: a year's before every year's, a county's before its
    /// prefecture's before its province's; none where no entry covers the county and year.
    #[test]
    fn a_standard_gives_the_most_specific_amount() {
        let entries = r#"
[[standard]]
name = "s"
county = "42"
amount = 70
[[standard]]
name = "s"
county = "4203"
amount = 80
[[standard]]
name = "s"
county = "420325"
year = 2020
amount = 90
"#;
        let text = crate::config::DEFAULT_CONFIG.to_string() + entries;
        let settings = Settings::from_toml(&text).unwrap();
        let amount = |county, year| settings.standard_amount("s", county, year);
        assert_eq!(amount(Some("420325"), 2020), Some(90.0));
        assert_eq!(amount(Some("420325"), 2019), Some(80.0));
        assert_eq!(amount(Some("421181"), 2020), Some(70.0));
        assert_eq!(amount(Some("110101"), 2020), None);
        assert_eq!(amount(None, 2020), None);
        assert_eq!(settings.standard_amount("t", Some("420325"), 2020), None);
        assert!(
            (settings.warnings.iter())
                .any(|w| w == "[[standard]] `s`: no condition compares with it"),
            "{:?}",
            settings.warnings
        );
        for (bad, says) in [
            ("county = \"4\"\namount = 1", "not a division code"),
            ("amount = -5", "not a sum of money"),
            ("county = \"42\"\namount = 1", "a second amount"),
        ] {
            let text = format!("{text}\n[[standard]]\nname = \"s\"\n{bad}\n");
            let error = Settings::from_toml(&text).unwrap_err().0;
            assert!(error.contains(says), "{bad}: {error}");
        }
    }

    /// A role the default config has no field for would leave its column of every county
    /// workbook blank, or its linking evidence unread, without a word.
    #[test]
    fn every_field_role_is_a_field_of_the_default_config() {
        let settings = Settings::from_toml(crate::config::DEFAULT_CONFIG).unwrap();
        for role in FieldRole::ALL {
            assert_eq!(FieldRole::of_name(role.field_name()), Some(role));
            let holders = settings
                .sources
                .iter()
                .filter(|s| s.field_for(role).is_some());
            assert!(holders.count() > 0, "no source has a {role:?} field");
        }
        let dpf = &settings.sources[settings.source("dpf").unwrap()];
        let category = &dpf.fields[dpf.field_for(FieldRole::DisabilityCategory).unwrap()];
        assert_eq!(category.kind, FieldKind::Category);
    }

    #[test]
    fn mistakes_are_named() {
        let bad_field =
            crate::config::DEFAULT_CONFIG.replace("field = \"is_poor\"", "field = \"is_por\"");
        let message = Settings::from_toml(&bad_field).unwrap_err().0;
        assert!(
            message.contains("rule MED-01") && message.contains("is_por"),
            "{message}"
        );
        let bad_key = crate::config::DEFAULT_CONFIG.replace(
            "basis = \"基本医疗保险全覆盖\"",
            "basis = \"x\"\nbasiss = 1",
        );
        assert!(Settings::from_toml(&bad_key)
            .unwrap_err()
            .0
            .contains("basiss"));
        let bad_vocab =
            crate::config::DEFAULT_CONFIG.replace("in = \"severe_grades\"", "in = \"severe\"");
        assert!(Settings::from_toml(&bad_vocab)
            .unwrap_err()
            .0
            .contains("severe"));
    }

    proptest::proptest! {
        /// Any text, and the default config with a line dropped or doubled: a config or an
        /// error naming the mistake, never a panic.
        #[test]
        fn any_config_text_loads_without_panic(
            text in proptest::prelude::any::<String>(),
            line in 0usize..600,
            double in proptest::prelude::any::<bool>(),
        ) {
            let _ = Settings::from_toml(&text);
            let mut lines: Vec<&str> = crate::config::DEFAULT_CONFIG.lines().collect();
            let at = line % lines.len();
            match double {
                true => lines.insert(at, lines[at]),
                false => {
                    lines.remove(at);
                }
            }
            let _ = Settings::from_toml(&lines.join("\n"));
        }
    }

    #[test]
    fn grade_words_are_canonical() {
        let settings = Settings::from_toml(crate::config::DEFAULT_CONFIG).unwrap();
        let rule = settings.rule("CIV-02").unwrap();
        let grades = rule.when.iter().find_map(|c| match c {
            Condition::FieldIn { words, .. } => Some(words.clone()),
            _ => None,
        });
        assert_eq!(grades, Some(vec!["一级".to_string(), "二级".to_string()]));
    }
}
