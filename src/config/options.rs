//! The TOML authoring form of the configuration. Every table denies unknown keys, so a typo in
//! an auditor's config is an error naming the key, not a silently ignored setting. The meaning
//! of each key is documented in `configs/default.toml`, which is also the bundled default.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Options {
    pub version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<HeaderOptions>,
    /// Fields every source has (name, ID, county…).
    #[serde(default)]
    pub fields: BTreeMap<String, FieldOptions>,
    pub sources: BTreeMap<String, SourceOptions>,
    #[serde(default)]
    pub vocabulary: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub death: Vec<DeathOptions>,
    #[serde(default, rename = "rule")]
    pub rules: Vec<RuleOptions>,
    /// Amounts rules compare with (`below = { standard = "..." }`), per county and year.
    #[serde(default, rename = "standard", skip_serializing_if = "Vec::is_empty")]
    pub standards: Vec<StandardOptions>,
    /// The morning report: ranking weights and small-count suppression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<ReportOptions>,
    /// The ledger that carries gaps from night to night (`--ledger` overrides it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ledger: Option<LedgerOptions>,
    /// The key file that person keys are made with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys: Option<KeysOptions>,
    /// How a run treats what it finds about its inputs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<RunOptions>,
    /// How rows are linked into persons; the bundled default's when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<super::link::LinkOptions>,
    /// Files pinned to a source, with optional explicit column mappings.
    #[serde(default, rename = "file", skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<FilePin>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FieldOptions {
    #[serde(default = "text_kind")]
    pub kind: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub patterns: Vec<String>,
    /// Alternatives of key words, space-separated, that must all appear in a header.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub words: Vec<String>,
    /// `[vocabulary]` lists of the values the field's cells may hold.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
}

/// How headers are read beyond each field's own words.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HeaderOptions {
    /// Words that qualify a header without changing what it holds (参保, 人员, 当前…).
    #[serde(default)]
    pub qualifiers: Vec<String>,
}

fn text_kind() -> String {
    "text".into()
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SourceOptions {
    pub label: String,
    /// Fields a file must have to belong to this source; `a|b` means either.
    pub required: Vec<String>,
    #[serde(default)]
    pub active: Vec<ConditionOptions>,
    /// Header patterns (`*` any run) of another department's export: a file with such a
    /// column is not this source's (a pension export's 缴费档次 is no medical enrollment's).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_with: Vec<String>,
    /// Rows that are another scheme's, in an export shared with it (a 险种 of 养老保险 in a
    /// social-insurance export): set aside as rejects with reason `out_of_scope`. `in` tests
    /// only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub set_aside: Vec<ConditionOptions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_until: Option<String>,
    /// A date field after which a row whose status says it ended was no longer in force.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_by: Option<String>,
    #[serde(default)]
    pub fields: BTreeMap<String, FieldOptions>,
}

/// One test; exactly one kind of test per table (checked when settings are built).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(default, rename = "in", skip_serializing_if = "Option::is_none")]
    pub is_in: Option<Words>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_in: Option<Words>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub empty: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_as_of_year: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_min: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_max: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub living: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deceased: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linked: Option<LinkedOptions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_linked: Option<LinkedOptions>,
    /// Holds when any of these conditions holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub any: Option<Vec<ConditionOptions>>,
    /// Holds when all of these hold: one alternative of an `any` made of several conditions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all: Option<Vec<ConditionOptions>>,
    /// The field's amount is under the bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub below: Option<BoundOptions>,
    /// The field's amount is the bound or more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_least: Option<BoundOptions>,
    /// So many members of the person's household (the person included) meet conditions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub household: Option<HouseholdOptions>,
}

/// A count of household members meeting conditions on their rows of the same department:
/// `at_least` (1 when neither bound is given) and `at_most` members, the person included
/// unless `others`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HouseholdOptions {
    #[serde(default, rename = "where")]
    pub conditions: Vec<ConditionOptions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_least: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_most: Option<u32>,
    /// Counts the other members only, not the person.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub others: bool,
}

/// What an amount is compared with: a number, another amount field of the same row, or a
/// `[[standard]]` by name.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(untagged)]
pub enum BoundOptions {
    Amount(f64),
    Field(String),
    Standard { standard: String },
}

/// One amount of a standard: for a county (its code, or a prefecture's or province's prefix)
/// and a year, either left out to cover all.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StandardOptions {
    pub name: String,
    pub amount: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub county: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<i32>,
}

/// A word list, or the name of a `[vocabulary]` list.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Words {
    List(Vec<String>),
    Vocabulary(String),
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LinkedOptions {
    pub source: String,
    #[serde(default, rename = "where")]
    pub conditions: Vec<ConditionOptions>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DeathOptions {
    pub source: String,
    #[serde(rename = "where")]
    pub conditions: Vec<ConditionOptions>,
    /// The date field that dates the death; a blank date still counts as deceased.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RuleOptions {
    pub id: String,
    pub name: String,
    /// What the rule flags, in one sentence.
    pub flags: String,
    pub basis: String,
    /// What a coverage rule's rate measures (基本医保参保率), for the morning report.
    #[serde(default)]
    pub measure: String,
    /// The department that acts on a finding (责任部门), for the county workbook.
    #[serde(default)]
    pub department: String,
    /// What the county is to check and do about a finding, for the county workbook.
    #[serde(default)]
    pub action: String,
    /// `coverage` (漏保) or `audit` (违规享受).
    pub kind: String,
    #[serde(default = "enabled")]
    pub enabled: bool,
    pub subject: String,
    #[serde(default)]
    pub when: Vec<ConditionOptions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires: Option<LinkedOptions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forbids: Option<LinkedOptions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate: Option<DuplicateOptions>,
    /// `household`: one finding per household, not per subject row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per: Option<String>,
}

fn enabled() -> bool {
    true
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DuplicateOptions {
    pub field: String,
    #[serde(default, rename = "where")]
    pub conditions: Vec<ConditionOptions>,
}

/// See `[report]` in `configs/default.toml` for the score these weights make.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ReportOptions {
    #[serde(default = "ten")]
    pub supervise_top: usize,
    #[serde(default = "one")]
    pub weight_uncovered: f64,
    #[serde(default = "half")]
    pub weight_findings: f64,
    #[serde(default = "tenth")]
    pub weight_days_open: f64,
    /// Counts from 1 to `suppress_below - 1` are shown as `<N`; 0 turns suppression off.
    #[serde(default)]
    pub suppress_below: u64,
    /// Also a work form per township: `counties/<code>_<name>/<township>.xlsx`.
    #[serde(default)]
    pub township_lists: bool,
}

fn ten() -> usize {
    10
}
fn one() -> f64 {
    1.0
}
fn half() -> f64 {
    0.5
}
fn tenth() -> f64 {
    0.1
}

impl ReportOptions {
    pub fn defaults() -> ReportOptions {
        ReportOptions {
            supervise_top: ten(),
            weight_uncovered: one(),
            weight_findings: half(),
            weight_days_open: tenth(),
            suppress_below: 0,
            township_lists: false,
        }
    }
}

/// See `[run]` in `configs/default.toml`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RunOptions {
    /// Any input warning is a failure (exit 2, nothing written), as `--strict`.
    #[serde(default)]
    pub strict: bool,
    /// With a ledger: a source whose rows fell by more than this share of the last night's
    /// is treated as partly missing.
    #[serde(default = "fifth")]
    pub row_count_drop: f64,
    /// A row of more fields is rejected (`too_many_fields`), never held cell by cell.
    #[serde(default = "most_fields")]
    pub max_fields: usize,
    /// A row with a longer cell is rejected (`field_too_long`).
    #[serde(default = "most_field_chars")]
    pub max_field_chars: usize,
}

fn most_fields() -> usize {
    4096
}

fn most_field_chars() -> usize {
    65_536
}

fn fifth() -> f64 {
    0.2
}

impl Default for RunOptions {
    fn default() -> RunOptions {
        RunOptions {
            strict: false,
            row_count_drop: fifth(),
            max_fields: most_fields(),
            max_field_chars: most_field_chars(),
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KeysOptions {
    /// The secret's file, made owner-only on first use; a relative path is taken from the
    /// config file's folder. `RECON_KEY_SECRET` overrides it.
    pub file: String,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerOptions {
    /// The SQLite file; a relative path is taken from the config file's folder.
    pub path: String,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FilePin {
    /// The file's bare name, or a pattern with `*`.
    pub name: String,
    pub source: String,
    /// Header -> field, overriding aliases and patterns for this file.
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
}
