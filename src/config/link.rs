//! Linkage settings in Splink's vocabulary: blocking rules, comparisons with ordered comparison
//! levels, training, and the decision thresholds. `LinkOptions` is the TOML form (`[link]`);
//! `LinkSettings` the resolved one, with every field, key and level test checked against the
//! kind of the field it reads.

use serde::{Deserialize, Serialize};

use super::settings::ConfigError;
use crate::model::FieldKind;

/// Comparisons a model may have (a pair's levels fit in a fixed array).
pub const MAX_COMPARISONS: usize = 16;

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LinkOptions {
    /// Match probability at or above which a pair is accepted as the same person.
    pub accept: f64,
    /// Match probability at or above which a pair not accepted is listed for review.
    pub review: f64,
    /// A field whose valid values identify one person: two rows with different valid values
    /// are never the same person, and rows sharing one are linked unless a veto splits them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclusive_id: Option<String>,
    /// More rows than one person has: an exclusive ID carried by more rows than this is a
    /// placeholder (all zeros, a clerk's own number), and its rows are linked as if they had
    /// no ID.
    #[serde(default = "default_max_rows_per_id")]
    pub max_rows_per_id: usize,
    /// Sources whose rows within one file (and one value of `per`) are each a different
    /// person: one registry row, one enrollment a year.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub distinct_rows_in: Vec<DistinctRows>,
    /// A model saved by an earlier run, used instead of training one (relative to the config).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Blocking rules that generate the candidate pairs, in order.
    pub blocking: Vec<BlockingOptions>,
    pub comparison: Vec<ComparisonOptions>,
    #[serde(default)]
    pub training: TrainingOptions,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DistinctRows {
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per: Option<String>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BlockingOptions {
    /// Keys that must all be equal: a field, or `field.transform` (pinyin, surname, first14…).
    pub on: Vec<String>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ComparisonOptions {
    pub field: String,
    /// Ordered tests; the first that holds is the pair's level. The last must be `else`.
    pub levels: Vec<String>,
    /// Weigh exact agreement by how rare the value is; `true`, or the name of another
    /// comparison's field to count frequencies within its value (a name within a county).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tf_adjustment: Option<TfOption>,
    /// Another comparison whose evidence already holds this one's (birth date and sex are in
    /// the ID number): this comparison counts only when that one is null.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub implied_by: Option<String>,
    /// Levels at which a pair is never linked, however strong the rest (a relative's ID: the
    /// same ID under another name).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vetoes: Vec<String>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(untagged)]
pub enum TfOption {
    On(bool),
    Within(String),
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingOptions {
    /// Random pairs drawn to estimate u probabilities.
    #[serde(default = "default_u_pairs")]
    pub u_sample_pairs: u64,
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Blocking of each expectation-maximisation session; a session estimates the m
    /// probabilities of the comparisons whose fields it does not block on.
    #[serde(default)]
    pub em_sessions: Vec<BlockingOptions>,
    /// At most this many pairs a session (a deterministic sample of larger sessions).
    #[serde(default = "default_em_pairs")]
    pub em_max_pairs: u64,
    #[serde(default = "default_em_iterations")]
    pub em_max_iterations: u32,
    /// The deterministic rule whose pairs estimate the prior, with its assumed recall.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prior_rule: Option<BlockingOptions>,
    #[serde(default = "default_prior_recall")]
    pub prior_recall: f64,
}

fn default_max_rows_per_id() -> usize {
    100
}

fn default_u_pairs() -> u64 {
    1_000_000
}
fn default_seed() -> u64 {
    42
}
fn default_em_pairs() -> u64 {
    500_000
}
fn default_em_iterations() -> u32 {
    25
}
fn default_prior_recall() -> f64 {
    0.9
}

impl Default for TrainingOptions {
    fn default() -> TrainingOptions {
        TrainingOptions {
            u_sample_pairs: default_u_pairs(),
            seed: default_seed(),
            em_sessions: Vec::new(),
            em_max_pairs: default_em_pairs(),
            em_max_iterations: default_em_iterations(),
            prior_rule: None,
            prior_recall: default_prior_recall(),
        }
    }
}

/// A field the linker reads, and how its values are kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Feature {
    pub name: String,
    pub kind: FeatureKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FeatureKind {
    Id,
    Name,
    Date,
    County,
    Text,
}

impl FeatureKind {
    pub fn of(kind: FieldKind) -> FeatureKind {
        match kind {
            _ if kind.is_id_like() => FeatureKind::Id,
            FieldKind::Name => FeatureKind::Name,
            FieldKind::Date => FeatureKind::Date,
            FieldKind::County | FieldKind::CountyCode => FeatureKind::County,
            _ => FeatureKind::Text,
        }
    }
}

/// One part of a blocking key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyPart {
    pub feature: usize,
    pub transform: KeyTransform,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyTransform {
    Value,
    /// A name's sound: the first reading of every character, without tones.
    Pinyin,
    Surname,
    /// The first n characters of an ID (region, birth date…).
    First(usize),
    Year,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockingRule {
    /// As written, for logs and the model file.
    pub text: String,
    pub parts: Vec<KeyPart>,
}

/// How a comparison level decides whether it holds for a pair of values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LevelTest {
    Exact,
    /// IDs: equal, one of them a 15-digit ID upgraded to 18.
    LegacyForm,
    OneSubstitution,
    AdjacentTransposition,
    /// IDs: an Excel-damaged ID's surviving digits (birth date included) start the other.
    DamagedPrefix,
    /// IDs: an Excel-damaged ID's surviving region digits start the other.
    DamagedRegion,
    SameRegionAndBirth,
    SameBirth,
    /// Names: equal once traditional characters are made simplified.
    Traditional,
    /// Names: equal where neither has `?` (a character the export's encoding lost).
    Wildcard,
    /// Names: every character sounds the same (pinyin, tones ignored).
    Homophone,
    /// Names: one minority name's `·`-separated parts are among the other's.
    MinorityPart,
    JaroWinkler(f64),
    Jaro(f64),
    Levenshtein(u32),
    DamerauLevenshtein(u32),
    WithinDays(u32),
    SameYear,
    /// Counties: the same city (first four digits of the code).
    SameCity,
    Else,
}

impl LevelTest {
    /// `exact`, `jaro_winkler >= 0.9`, `levenshtein <= 1`, `within_days <= 31`…
    pub fn parse(text: &str) -> Option<LevelTest> {
        let words: Vec<&str> = text.split_whitespace().collect();
        let (name, bound) = match words.as_slice() {
            [name] => (*name, None),
            [name, op, value] if matches!(*op, ">=" | "<=") => (*name, Some(*value)),
            _ => return None,
        };
        let threshold = || bound.and_then(|b| b.parse::<f64>().ok());
        let count = || bound.and_then(|b| b.parse::<u32>().ok());
        Some(match (name, bound.is_some()) {
            ("exact", false) => LevelTest::Exact,
            ("legacy_form", false) => LevelTest::LegacyForm,
            ("one_substitution", false) => LevelTest::OneSubstitution,
            ("adjacent_transposition", false) => LevelTest::AdjacentTransposition,
            ("damaged_prefix", false) => LevelTest::DamagedPrefix,
            ("damaged_region", false) => LevelTest::DamagedRegion,
            ("same_region_and_birth", false) => LevelTest::SameRegionAndBirth,
            ("same_birth", false) => LevelTest::SameBirth,
            ("traditional", false) => LevelTest::Traditional,
            ("wildcard", false) => LevelTest::Wildcard,
            ("homophone", false) => LevelTest::Homophone,
            ("minority_part", false) => LevelTest::MinorityPart,
            ("same_year", false) => LevelTest::SameYear,
            ("same_city", false) => LevelTest::SameCity,
            ("else", false) => LevelTest::Else,
            ("jaro_winkler", true) => LevelTest::JaroWinkler(threshold()?),
            ("jaro", true) => LevelTest::Jaro(threshold()?),
            ("levenshtein", true) => LevelTest::Levenshtein(count()?),
            ("damerau_levenshtein", true) => LevelTest::DamerauLevenshtein(count()?),
            ("within_days", true) => LevelTest::WithinDays(count()?),
            _ => return None,
        })
    }

    /// Whether the test can read values of `kind`.
    fn fits(self, kind: FeatureKind) -> bool {
        use FeatureKind as K;
        use LevelTest as T;
        match self {
            T::Exact | T::Else => true,
            T::LegacyForm
            | T::OneSubstitution
            | T::AdjacentTransposition
            | T::DamagedPrefix
            | T::DamagedRegion
            | T::SameRegionAndBirth
            | T::SameBirth => kind == K::Id,
            T::Traditional | T::Wildcard | T::Homophone | T::MinorityPart => kind == K::Name,
            T::JaroWinkler(_) | T::Jaro(_) | T::DamerauLevenshtein(_) => {
                matches!(kind, K::Name | K::Text)
            }
            T::Levenshtein(_) => matches!(kind, K::Name | K::Text | K::Id | K::Date),
            T::WithinDays(_) | T::SameYear => kind == K::Date,
            T::SameCity => kind == K::County,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ComparisonLevel {
    /// As written in the config: the level's label in the model and the waterfall.
    pub label: String,
    pub test: LevelTest,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    /// The field compared; also the comparison's name.
    pub name: String,
    pub feature: usize,
    pub levels: Vec<ComparisonLevel>,
    pub tf: Tf,
    /// Index of the comparison that implies this one.
    pub implied_by: Option<usize>,
    /// Per level: a pair at this level is never linked.
    pub vetoes: Vec<bool>,
}

/// Term-frequency adjustment of a comparison's exact level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tf {
    Off,
    On,
    /// Frequencies counted among rows with the same value of this feature, when the pair
    /// agrees on it (a name's frequency within a county).
    Within(usize),
}

#[derive(Clone, Debug)]
pub struct Training {
    pub u_sample_pairs: u64,
    pub seed: u64,
    pub em_sessions: Vec<BlockingRule>,
    pub em_max_pairs: u64,
    pub em_max_iterations: u32,
    pub prior_rule: Option<BlockingRule>,
    pub prior_recall: f64,
}

#[derive(Clone, Debug)]
pub struct LinkSettings {
    pub features: Vec<Feature>,
    pub blocking: Vec<BlockingRule>,
    pub comparisons: Vec<Comparison>,
    pub accept: f64,
    pub review: f64,
    pub exclusive_id: Option<usize>,
    pub max_rows_per_id: usize,
    /// As written; the job resolves sources and fields.
    pub distinct_rows_in: Vec<DistinctRows>,
    pub model: Option<String>,
    pub training: Training,
}

impl LinkSettings {
    /// Resolves `[link]`; `kind_of` names the kind of a field, or `None` when no source has it.
    pub fn resolve(
        options: &LinkOptions,
        kind_of: &dyn Fn(&str) -> Option<FieldKind>,
    ) -> Result<LinkSettings, ConfigError> {
        let mut resolver = FeatureResolver {
            features: Vec::new(),
            kind_of,
        };
        if !(0.0 < options.review && options.review <= options.accept && options.accept < 1.0) {
            return Err(ConfigError(format!(
                "link: need 0 < review ({}) <= accept ({}) < 1",
                options.review, options.accept
            )));
        }
        let blocking = options
            .blocking
            .iter()
            .map(|b| resolver.blocking_rule(b, "link.blocking"))
            .collect::<Result<Vec<_>, _>>()?;
        if blocking.is_empty() {
            return Err(ConfigError(
                "link: give at least one [[link.blocking]] rule".into(),
            ));
        }
        let comparisons = resolve_comparisons(&options.comparison, &mut resolver)?;
        let exclusive_id = match &options.exclusive_id {
            Some(field) => {
                let feature = resolver.feature(field, "link.exclusive_id")?;
                if resolver.features[feature].kind != FeatureKind::Id {
                    return Err(ConfigError(format!(
                        "link.exclusive_id: `{field}` is not an ID field"
                    )));
                }
                Some(feature)
            }
            None => None,
        };
        let training = resolver.training(&options.training)?;
        Ok(LinkSettings {
            features: resolver.features,
            blocking,
            comparisons,
            accept: options.accept,
            review: options.review,
            exclusive_id,
            max_rows_per_id: options.max_rows_per_id,
            distinct_rows_in: options.distinct_rows_in.clone(),
            model: options.model.clone(),
            training,
        })
    }
}

fn resolve_comparisons(
    options: &[ComparisonOptions],
    resolver: &mut FeatureResolver,
) -> Result<Vec<Comparison>, ConfigError> {
    if options.len() > MAX_COMPARISONS {
        return Err(ConfigError(format!(
            "link: at most {} comparisons",
            MAX_COMPARISONS
        )));
    }
    let mut comparisons: Vec<Comparison> = Vec::new();
    for c in options {
        let place = format!("link.comparison `{}`", c.field);
        if comparisons.iter().any(|o| o.name == c.field) {
            return Err(ConfigError(format!("{place}: compared twice")));
        }
        let feature = resolver.feature(&c.field, &place)?;
        let kind = resolver.features[feature].kind;
        let levels = c
            .levels
            .iter()
            .map(|text| {
                let test = LevelTest::parse(text)
                    .filter(|t| t.fits(kind))
                    .ok_or_else(|| {
                        ConfigError(format!(
                            "{place}: `{text}` is not a level test for a {kind:?} field"
                        ))
                    })?;
                Ok(ComparisonLevel {
                    label: text.clone(),
                    test,
                })
            })
            .collect::<Result<Vec<_>, ConfigError>>()?;
        if levels.last().map(|l| l.test) != Some(LevelTest::Else) {
            return Err(ConfigError(format!(
                "{place}: the last level must be `else`"
            )));
        }
        if levels.len() < 2 || levels.len() > 32 {
            return Err(ConfigError(format!(
                "{place}: give 1 to 31 levels before `else`"
            )));
        }
        let vetoes = levels.iter().map(|l| c.vetoes.contains(&l.label)).collect();
        if let Some(unknown) = c.vetoes.iter().find(|v| !c.levels.contains(v)) {
            return Err(ConfigError(format!(
                "{place}: vetoes `{unknown}`, which is not one of its levels"
            )));
        }
        let tf = match &c.tf_adjustment {
            None | Some(TfOption::On(false)) => Tf::Off,
            Some(TfOption::On(true)) => Tf::On,
            Some(TfOption::Within(field)) => Tf::Within(resolver.feature(field, &place)?),
        };
        comparisons.push(Comparison {
            name: c.field.clone(),
            feature,
            levels,
            tf,
            implied_by: None,
            vetoes,
        });
    }
    for (index, c) in options.iter().enumerate() {
        if let Some(other) = &c.implied_by {
            if options
                .iter()
                .any(|o| &o.field == other && o.implied_by.is_some())
            {
                return Err(ConfigError(format!(
                    "link.comparison `{}`: `{other}` is itself implied by another comparison",
                    c.field
                )));
            }
            let implied = comparisons.iter().position(|o| &o.name == other);
            comparisons[index].implied_by =
                Some(implied.filter(|&i| i != index).ok_or_else(|| {
                    ConfigError(format!(
                        "link.comparison `{}`: implied_by `{other}` is not another comparison",
                        c.field
                    ))
                })?);
        }
    }
    Ok(comparisons)
}

struct FeatureResolver<'a> {
    features: Vec<Feature>,
    kind_of: &'a dyn Fn(&str) -> Option<FieldKind>,
}

impl FeatureResolver<'_> {
    fn feature(&mut self, name: &str, place: &str) -> Result<usize, ConfigError> {
        if let Some(index) = self.features.iter().position(|f| f.name == name) {
            return Ok(index);
        }
        let kind = (self.kind_of)(name)
            .ok_or_else(|| ConfigError(format!("{place}: no field `{name}` to link on")))?;
        self.features.push(Feature {
            name: name.to_string(),
            kind: FeatureKind::of(kind),
        });
        Ok(self.features.len() - 1)
    }

    fn blocking_rule(
        &mut self,
        options: &BlockingOptions,
        place: &str,
    ) -> Result<BlockingRule, ConfigError> {
        if options.on.is_empty() {
            return Err(ConfigError(format!("{place}: `on` lists no key")));
        }
        let parts = options
            .on
            .iter()
            .map(|key| self.key_part(key, place))
            .collect::<Result<_, _>>()?;
        Ok(BlockingRule {
            text: options.on.join(" & "),
            parts,
        })
    }

    /// `name`, `name.pinyin`, `name.surname`, `id_number.first14`, `birth_date.year`.
    fn key_part(&mut self, key: &str, place: &str) -> Result<KeyPart, ConfigError> {
        let (field, transform) = key.split_once('.').unwrap_or((key, ""));
        let feature = self.feature(field, place)?;
        let kind = self.features[feature].kind;
        let transform = match (transform, kind) {
            ("", _) => Some(KeyTransform::Value),
            ("pinyin", FeatureKind::Name) => Some(KeyTransform::Pinyin),
            ("surname", FeatureKind::Name) => Some(KeyTransform::Surname),
            ("year", FeatureKind::Date) => Some(KeyTransform::Year),
            (t, FeatureKind::Id) => t
                .strip_prefix("first")
                .and_then(|n| n.parse().ok())
                .filter(|n| (1..=18).contains(n))
                .map(KeyTransform::First),
            _ => None,
        };
        let transform = transform.ok_or_else(|| {
            ConfigError(format!(
                "{place}: `{key}`: no such key for a {kind:?} field (name.pinyin, name.surname, id.firstN, date.year)"
            ))
        })?;
        Ok(KeyPart { feature, transform })
    }

    fn training(&mut self, options: &TrainingOptions) -> Result<Training, ConfigError> {
        let em_sessions = options
            .em_sessions
            .iter()
            .map(|b| self.blocking_rule(b, "link.training.em_sessions"))
            .collect::<Result<_, _>>()?;
        let prior_rule = options
            .prior_rule
            .as_ref()
            .map(|b| self.blocking_rule(b, "link.training.prior_rule"))
            .transpose()?;
        if !(0.0 < options.prior_recall && options.prior_recall <= 1.0) {
            return Err(ConfigError(
                "link.training.prior_recall: need 0 < recall <= 1".into(),
            ));
        }
        Ok(Training {
            u_sample_pairs: options.u_sample_pairs.max(1),
            seed: options.seed,
            em_sessions,
            em_max_pairs: options.em_max_pairs.max(1),
            em_max_iterations: options.em_max_iterations,
            prior_rule,
            prior_recall: options.prior_recall,
        })
    }
}

/// `recon link`'s config: which column of the lists holds each field, and how to link them.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ListsOptions {
    /// The column that names each row in the outputs (its 1-based row number when left out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_column: Option<String>,
    /// Field name -> the column holding it and its kind (name, id, date, sex, county, text).
    pub columns: std::collections::BTreeMap<String, ColumnOptions>,
    pub link: LinkOptions,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnOptions {
    pub header: String,
    pub kind: String,
}

/// A field of the lists: its column's header and its kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListColumn {
    pub field: String,
    pub header: String,
    pub kind: FieldKind,
}

#[derive(Clone, Debug)]
pub struct ListsSettings {
    pub id_column: Option<String>,
    /// In the order of `link.features`.
    pub columns: Vec<ListColumn>,
    pub link: LinkSettings,
}

/// The names `recon link` gives its lists, for `distinct_rows_in`.
pub const LIST_NAMES: [&str; 2] = ["left", "right"];

impl ListsSettings {
    pub fn from_toml(text: &str) -> Result<ListsSettings, ConfigError> {
        let options: ListsOptions = toml::from_str(text).map_err(|e| ConfigError(e.to_string()))?;
        let mut kinds = std::collections::BTreeMap::new();
        for (field, column) in &options.columns {
            let kind = FieldKind::parse(&column.kind).ok_or_else(|| {
                ConfigError(format!("columns.{field}: unknown kind `{}`", column.kind))
            })?;
            kinds.insert(field.clone(), kind);
        }
        let link = LinkSettings::resolve(&options.link, &|name| kinds.get(name).copied())?;
        if let Some(d) = link
            .distinct_rows_in
            .iter()
            .find(|d| !LIST_NAMES.contains(&d.source.as_str()) || d.per.is_some())
        {
            return Err(ConfigError(format!(
                "link.distinct_rows_in: `{}`: the lists are called left and right, with no `per`",
                d.source
            )));
        }
        let columns = link
            .features
            .iter()
            .map(|f| ListColumn {
                field: f.name.clone(),
                header: options.columns[&f.name].header.clone(),
                kind: kinds[&f.name],
            })
            .collect();
        Ok(ListsSettings {
            id_column: options.id_column,
            columns,
            link,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_tests_parse() {
        assert_eq!(LevelTest::parse("exact"), Some(LevelTest::Exact));
        assert_eq!(
            LevelTest::parse("jaro_winkler >= 0.9"),
            Some(LevelTest::JaroWinkler(0.9))
        );
        assert_eq!(
            LevelTest::parse("levenshtein <= 2"),
            Some(LevelTest::Levenshtein(2))
        );
        assert_eq!(LevelTest::parse("levenshtein <= x"), None);
        assert_eq!(LevelTest::parse("exact >= 1"), None);
        assert_eq!(LevelTest::parse("fuzzy"), None);
    }

    fn options(text: &str) -> LinkOptions {
        toml::from_str(text).unwrap()
    }

    fn kinds(name: &str) -> Option<FieldKind> {
        match name {
            "name" => Some(FieldKind::Name),
            "id_number" => Some(FieldKind::Id),
            "county" => Some(FieldKind::County),
            _ => None,
        }
    }

    #[test]
    fn mistakes_are_named() {
        let base = "accept = 0.9\nreview = 0.5\n[[blocking]]\non = [\"name\"]\n";
        let ok = format!("{base}[[comparison]]\nfield = \"name\"\nlevels = [\"exact\", \"homophone\", \"else\"]\n");
        assert!(LinkSettings::resolve(&options(&ok), &kinds).is_ok());
        for (bad, says) in [
            ("[[comparison]]\nfield = \"name\"\nlevels = [\"one_substitution\", \"else\"]\n", "not a level test"),
            ("[[comparison]]\nfield = \"name\"\nlevels = [\"exact\"]\n", "last level"),
            ("[[comparison]]\nfield = \"nme\"\nlevels = [\"exact\", \"else\"]\n", "no field `nme`"),
            ("[[comparison]]\nfield = \"name\"\nlevels = [\"exact\", \"else\"]\nimplied_by = \"id_number\"\n", "implied_by"),
        ] {
            let message = LinkSettings::resolve(&options(&format!("{base}{bad}")), &kinds)
                .unwrap_err()
                .0;
            assert!(message.contains(says), "{message}");
        }
        let bad_key = "accept = 0.9\nreview = 0.5\n[[blocking]]\non = [\"county.pinyin\"]\n[[comparison]]\nfield = \"name\"\nlevels = [\"exact\", \"else\"]\n";
        assert!(LinkSettings::resolve(&options(bad_key), &kinds)
            .unwrap_err()
            .0
            .contains("county.pinyin"));
    }
}
