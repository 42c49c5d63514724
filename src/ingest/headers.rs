//! Header recognition: which source a file belongs to and which column holds which field.
//! A header matches a field by an exact alias, a pattern, or the field's key words in any
//! order with anything around them; the strongest match wins and two columns matching one
//! field equally well are an error naming both. `exclude` keeps `户主身份证号` from ever being
//! the person's own ID; a file pinned in the config uses its source and explicit columns first.

use super::column_name;
use crate::config::options::FilePin;
use crate::config::{Field, Settings, Source};
use crate::model::text::{clean_header, glob_matches};
use crate::model::SourceId;

/// How a header was matched to a field, shown by `inspect`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MatchedBy {
    Pinned,
    Alias,
    Pattern(String),
    /// The key words found (`终止+原因`).
    Words(String),
}

impl std::fmt::Display for MatchedBy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MatchedBy::Pinned => write!(f, "pinned in config"),
            MatchedBy::Alias => write!(f, "alias"),
            MatchedBy::Pattern(p) => write!(f, "pattern {p}"),
            MatchedBy::Words(w) => write!(f, "words {w}"),
        }
    }
}

/// How strongly a header matches a field, strongest first: pinned, an alias (earlier aliases
/// first), a pattern, key words (fewest other characters first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Strength {
    tier: u8,
    rank: u16,
}

const PINNED: Strength = Strength { tier: 0, rank: 0 };

/// A file's columns mapped onto one source's fields.
#[derive(Clone, Debug)]
pub struct Mapping {
    pub source: SourceId,
    /// For each source field: the column that holds it and how it was matched.
    pub fields: Vec<Option<(usize, MatchedBy)>>,
    /// Columns that map to no field.
    pub unmapped: Vec<usize>,
}

/// What one source made of the headers: its mapping, the required fields it lacks, and the
/// first field two columns claim equally.
struct Attempt {
    mapping: Mapping,
    missing: Vec<String>,
    /// A header matching the source's `not_with`: the file is another department's.
    foreign: Option<String>,
    specific_fields: usize,
    ambiguity: Option<AssignError>,
}

/// Why a header row is no source's. Only `NoDepartment` means the file is none of the
/// departments' (`--skip-unassigned` may leave it out); the others are a department's file
/// that cannot be read as it stands, or a config's pin that does not fit.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum AssignError {
    #[error("the first rows hold data, not headers (a cell holds an ID number; the cells are not shown, to keep personal data out of messages). Add a header row")]
    DataNotHeaders,
    #[error("pinned to unknown source `{0}`")]
    PinnedToUnknownSource(String),
    #[error("pinned to source {pinned_to} but required fields are missing: {}", missing.join(", "))]
    PinnedMissingFields {
        pinned_to: String,
        missing: Vec<String>,
    },
    #[error("pinned column {header}: source {pinned_to} has no field `{field}`")]
    PinnedToUnknownField {
        header: String,
        pinned_to: String,
        field: String,
    },
    #[error("pinned column `{0}` is not in the file")]
    PinnedColumnAbsent(String),
    #[error("cannot tell which department this file is from: its {columns} columns are no department's ({}). Check that it has a header row (`recon inspect` shows how it is read); rename a column, add an alias or words to the config, or pin the file with a [[file]] entry", why.join("; "))]
    NoDepartment { columns: usize, why: Vec<String> },
    #[error("ambiguous: the headers fit {} equally well. Pin the file to a source with a [[file]] entry in the config", sources.join(" and "))]
    SeveralDepartments { sources: Vec<String> },
    #[error("columns {first} and {second} both look like field `{field}` ({first_name}, {second_name}): rename one, or pin the file's columns with a [[file]] entry in the config")]
    TwoColumnsForOneField {
        field: String,
        first: String,
        second: String,
        first_name: String,
        second_name: String,
    },
}

/// Assigns a header row to a source, or explains why it cannot.
pub fn assign(
    headers: &[String],
    settings: &Settings,
    pin: Option<&FilePin>,
) -> Result<Mapping, AssignError> {
    if headers.iter().any(|h| looks_like_id(h)) {
        return Err(AssignError::DataNotHeaders);
    }
    let cleaned: Vec<String> = headers.iter().map(|h| cleaned_header(h)).collect();
    let qualifiers = &settings.qualifiers;
    if let Some(pin) = pin {
        let source = settings
            .source(&pin.source)
            .ok_or_else(|| AssignError::PinnedToUnknownSource(pin.source.clone()))?;
        let attempt = attempt(
            source,
            &settings.sources[source],
            (headers, &cleaned),
            qualifiers,
            Some(pin),
        )?;
        if !attempt.missing.is_empty() {
            return Err(AssignError::PinnedMissingFields {
                pinned_to: pin.source.clone(),
                missing: attempt.missing,
            });
        }
        return attempt.ambiguity.map_or(Ok(attempt.mapping), Err);
    }
    let attempts = settings
        .sources
        .iter()
        .enumerate()
        .map(|(id, source)| attempt(id, source, (headers, &cleaned), qualifiers, None))
        .collect::<Result<Vec<_>, _>>()?;
    let complete: Vec<&Attempt> = attempts
        .iter()
        .filter(|a| a.missing.is_empty() && a.foreign.is_none())
        .collect();
    let best = complete.iter().map(|a| a.specific_fields).max();
    let winners: Vec<&&Attempt> = complete
        .iter()
        .filter(|a| Some(a.specific_fields) == best)
        .collect();
    match winners.as_slice() {
        [one] => one.ambiguity.clone().map_or(Ok(one.mapping.clone()), Err),
        [] => Err(AssignError::NoDepartment {
            columns: headers.len(),
            why: attempts
                .iter()
                .map(|a| {
                    let key = &settings.sources[a.mapping.source].key;
                    match &a.foreign {
                        Some(header) => format!("{key} never has a column like {header}, which another department's export has"),
                        None => format!("{key} lacks {}", a.missing.join(", ")),
                    }
                })
                .collect(),
        }),
        many => Err(AssignError::SeveralDepartments {
            sources: (many.iter())
                .map(|a| settings.sources[a.mapping.source].key.clone())
                .collect(),
        }),
    }
}

/// A header as fields are matched against: cleaned, without the marks of a required column.
fn cleaned_header(raw: &str) -> String {
    clean_header(raw)
        .trim_matches(['*', '※', '★', ':'])
        .to_string()
}

/// One possible claim of a column by a field.
struct Claim {
    strength: Strength,
    column: usize,
    field: usize,
    how: MatchedBy,
}

fn attempt(
    id: SourceId,
    source: &Source,
    (headers, cleaned): (&[String], &[String]),
    qualifiers: &[String],
    pin: Option<&FilePin>,
) -> Result<Attempt, AssignError> {
    let mut claims = Vec::new();
    if let Some(pin) = pin {
        for (header, field_name) in &pin.columns {
            let field =
                source
                    .field(field_name)
                    .ok_or_else(|| AssignError::PinnedToUnknownField {
                        header: header.clone(),
                        pinned_to: source.key.clone(),
                        field: field_name.clone(),
                    })?;
            let column = cleaned
                .iter()
                .position(|h| *h == cleaned_header(header))
                .ok_or_else(|| AssignError::PinnedColumnAbsent(header.clone()))?;
            claims.push(Claim {
                strength: PINNED,
                column,
                field,
                how: MatchedBy::Pinned,
            });
        }
    }
    for (column, header) in cleaned.iter().enumerate() {
        for (field_index, field) in source.fields.iter().enumerate() {
            if let Some((strength, how)) = field_match(field, header, qualifiers) {
                claims.push(Claim {
                    strength,
                    column,
                    field: field_index,
                    how,
                });
            }
        }
    }
    claims.sort_by_key(|c| (c.strength, c.column, c.field));
    let mut fields: Vec<Option<(usize, MatchedBy)>> = vec![None; source.fields.len()];
    let mut used = vec![false; headers.len()];
    let mut ambiguity = None;
    for claim in &claims {
        if fields[claim.field].is_some() || used[claim.column] {
            continue;
        }
        let rival = claims.iter().find(|o| {
            o.field == claim.field
                && o.column != claim.column
                && o.strength == claim.strength
                && o.strength != PINNED
                && !used[o.column]
        });
        if let (Some(rival), None) = (rival, &ambiguity) {
            ambiguity = Some(ambiguous(
                headers,
                &source.fields[claim.field].name,
                claim.column,
                rival.column,
            ));
        }
        fields[claim.field] = Some((claim.column, claim.how.clone()));
        used[claim.column] = true;
    }
    let missing = source
        .required
        .iter()
        .filter(|alternatives| alternatives.iter().all(|f| fields[*f].is_none()))
        .map(|alternatives| {
            alternatives
                .iter()
                .map(|f| source.fields[*f].name.as_str())
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect();
    let specific_fields = fields
        .iter()
        .zip(&source.fields)
        .filter(|(m, f)| m.is_some() && !f.is_shared)
        .count();
    let unmapped = (0..headers.len()).filter(|c| !used[*c]).collect();
    let foreign = cleaned
        .iter()
        .zip(headers)
        .find(|(c, _)| source.not_with.iter().any(|p| glob_matches(p, c)))
        .map(|(_, header)| header.trim().to_string());
    Ok(Attempt {
        mapping: Mapping {
            source: id,
            fields,
            unmapped,
        },
        missing,
        foreign,
        specific_fields,
        ambiguity,
    })
}

/// Two columns that claim one field equally: not guessable.
fn ambiguous(headers: &[String], field: &str, first: usize, second: usize) -> AssignError {
    let (first, second) = (first.min(second), first.max(second));
    AssignError::TwoColumnsForOneField {
        field: field.to_string(),
        first: column_letter(first),
        second: column_letter(second),
        first_name: column_name(headers, first),
        second_name: column_name(headers, second),
    }
}

/// A cell with 15 or more digits is an ID number, never a header.
fn looks_like_id(cell: &str) -> bool {
    cell.chars()
        .filter(|c| crate::model::id_number::is_digit(*c))
        .count()
        >= 15
}

/// How strongly a cleaned header matches `field`, if at all: each test on the header as
/// written, then without its bracketed notes (`姓名(必填)`).
pub fn field_match(
    field: &Field,
    header: &str,
    qualifiers: &[String],
) -> Option<(Strength, MatchedBy)> {
    let bare = without_notes(header);
    let forms = [header, bare.as_str()];
    if forms
        .iter()
        .any(|h| field.exclude.iter().any(|p| glob_matches(p, h)))
    {
        return None;
    }
    let by_alias = forms.iter().enumerate().find_map(|(form, h)| {
        let index = field.aliases.iter().position(|a| a == h)?;
        let rank = (form * field.aliases.len() + index) as u16;
        Some((Strength { tier: 1, rank }, MatchedBy::Alias))
    });
    let by_pattern = || {
        forms.iter().enumerate().find_map(|(form, h)| {
            let pattern = field.patterns.iter().find(|p| glob_matches(p, h))?;
            let rank = form as u16;
            Some((
                Strength { tier: 2, rank },
                MatchedBy::Pattern(pattern.clone()),
            ))
        })
    };
    let by_words = || {
        forms
            .iter()
            .flat_map(|h| field.words.iter().map(move |w| (h, w)))
            .filter_map(|(h, words)| {
                let rank = words_rank(h, words, qualifiers)?;
                Some((
                    Strength { tier: 3, rank },
                    MatchedBy::Words(words.join("+")),
                ))
            })
            .min_by_key(|(strength, _)| *strength)
    };
    by_alias.or_else(by_pattern).or_else(by_words)
}

/// When every key word is in `header`: how many of its other characters are neither a
/// qualifier nor punctuation (`参保终止原因` for 终止+原因 leaves 参保, a qualifier: 0).
fn words_rank(header: &str, words: &[String], qualifiers: &[String]) -> Option<u16> {
    let mut rest = header.to_string();
    for word in words {
        let at = rest.find(word.as_str())?;
        rest.replace_range(at..at + word.len(), " ");
    }
    for qualifier in qualifiers {
        rest = rest.replace(qualifier.as_str(), " ");
    }
    Some(rest.chars().filter(|c| c.is_alphabetic()).count() as u16)
}

/// A header without its bracketed notes: `身份证号码(18位)`, `【姓名】`, `金额[元]`.
fn without_notes(header: &str) -> String {
    let mut bare = String::with_capacity(header.len());
    let mut depth = 0usize;
    for c in header.chars() {
        match c {
            '(' | '[' | '【' | '<' | '《' | '〔' => depth += 1,
            ')' | ']' | '】' | '>' | '》' | '〕' => depth = depth.saturating_sub(1),
            _ if depth == 0 => bare.push(c),
            _ => {}
        }
    }
    match bare.is_empty() {
        true => header.to_string(),
        false => bare,
    }
}

/// How much a header looks like a field (0 to 1), to suggest the columns an unmapped field
/// may be in: the best of its aliases' character-pair likeness and the share of a word set's
/// characters the header holds.
pub fn closeness(field: &Field, header: &str) -> f64 {
    let header = cleaned_header(header);
    let by_alias = field
        .aliases
        .iter()
        .map(|a| strsim::sorensen_dice(a, &header));
    let by_words = field.words.iter().map(|words| {
        let chars: Vec<char> = words.iter().flat_map(|w| w.chars()).collect();
        let held = chars.iter().filter(|c| header.contains(**c)).count();
        held as f64 / chars.len().max(1) as f64 * 0.9
    });
    by_alias.chain(by_words).fold(0.0, f64::max)
}

/// `0` -> `A`, `27` -> `AB`: how spreadsheet users name columns.
pub fn column_letter(index: usize) -> String {
    let mut n = index + 1;
    let mut letters = Vec::new();
    while n > 0 {
        letters.push(b'A' + ((n - 1) % 26) as u8);
        n = (n - 1) / 26;
    }
    letters.reverse();
    String::from_utf8(letters).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DEFAULT_CONFIG;

    fn headers(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn field_column(settings: &Settings, mapping: &Mapping, name: &str) -> Option<usize> {
        let source = &settings.sources[mapping.source];
        mapping.fields[source.field(name).unwrap()]
            .as_ref()
            .map(|(c, _)| *c)
    }

    #[test]
    fn descriptive_headers_map_without_config() {
        let settings = Settings::from_toml(DEFAULT_CONFIG).unwrap();
        let civil = headers(&[
            "救助对象姓名",
            "户主身份证号",
            "身份证号码",
            "救助类别",
            "状态",
        ]);
        let mapping = assign(&civil, &settings, None).unwrap();
        assert_eq!(settings.sources[mapping.source].key, "civil");
        assert_eq!(field_column(&settings, &mapping, "name"), Some(0));
        assert_eq!(field_column(&settings, &mapping, "id_number"), Some(2));
        assert_eq!(
            field_column(&settings, &mapping, "household_head_id"),
            Some(1)
        );
        let edu = headers(&["人员姓名", "身份证件号", "学籍当前状态", "学籍号"]);
        let mapping = assign(&edu, &settings, None).unwrap();
        assert_eq!(settings.sources[mapping.source].key, "education");
        assert_eq!(field_column(&settings, &mapping, "student_status"), Some(2));
    }

    #[test]
    fn household_head_id_is_never_the_persons_id() {
        let settings = Settings::from_toml(DEFAULT_CONFIG).unwrap();
        let only_head = headers(&["姓名", "户主身份证号", "救助类别"]);
        let message = assign(&only_head, &settings, None).unwrap_err().to_string();
        assert!(message.contains("civil lacks id_number"), "{message}");
    }

    #[test]
    fn unknown_and_duplicate_headers_are_explained() {
        let settings = Settings::from_toml(DEFAULT_CONFIG).unwrap();
        let message = assign(&headers(&["a", "b"]), &settings, None)
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("its 2 columns")
                && message.contains("dpf lacks")
                && !message.contains("a, b"),
            "{message}"
        );
        let twice = headers(&["姓名", "身份证号", "身份证号", "救助类别"]);
        let error = assign(&twice, &settings, None).unwrap_err();
        assert!(matches!(error, AssignError::TwoColumnsForOneField { .. }));
        assert!(error.to_string().contains("columns B and C"));
    }

    /// Header rows in the wordings of other provinces' exports, each with the source it must
    /// be assigned to and fields that must be found in the named columns.
    #[test]
    fn unseen_export_wordings_are_recognised() {
        let settings = Settings::from_toml(DEFAULT_CONFIG).unwrap();
        type Case<'a> = (&'a [&'a str], &'a str, &'a [(&'a str, usize)]);
        let cases: [Case; 10] = [
            (
                &[
                    "序号",
                    "姓名",
                    "性别",
                    "民族",
                    "出生日期",
                    "身份证号码",
                    "残疾证号",
                    "残疾类别",
                    "残疾等级",
                    "户籍地址",
                    "所属区县",
                    "联系电话",
                    "证件状态",
                ],
                "dpf",
                &[
                    ("name", 1),
                    ("id_number", 5),
                    ("certificate_number", 6),
                    ("disability_grade", 8),
                    ("county", 10),
                    ("certificate_status", 12),
                ],
            ),
            (
                &[
                    "持证人姓名",
                    "公民身份号码",
                    "残疾人证号",
                    "残疾类型",
                    "残疾级别",
                    "县(区)",
                    "乡镇(街道)",
                    "是否建档立卡户",
                    "致贫原因",
                    "状态",
                    "注销原因",
                    "注销日期",
                ],
                "dpf",
                &[
                    ("name", 0),
                    ("county", 5),
                    ("is_poor", 7),
                    ("certificate_status", 9),
                    ("cancel_date", 11),
                ],
            ),
            (
                &[
                    "姓名",
                    "身份证号",
                    "第二代残疾人证号",
                    "残疾人证状态",
                    "行政区划代码",
                    "行政区划名称",
                ],
                "dpf",
                &[
                    ("certificate_number", 2),
                    ("certificate_status", 3),
                    ("county_code", 4),
                    ("county", 5),
                ],
            ),
            (
                &[
                    "区县",
                    "乡镇",
                    "村(社区)",
                    "户主姓名",
                    "户主身份证号码",
                    "成员姓名",
                    "成员身份证号码",
                    "与户主关系",
                    "保障类型",
                    "保障人数",
                    "月保障金",
                    "审批时间",
                    "状态",
                ],
                "civil",
                &[
                    ("name", 5),
                    ("id_number", 6),
                    ("household_head_id", 4),
                    ("program", 8),
                    ("start_date", 11),
                    ("status", 12),
                    ("county", 0),
                ],
            ),
            (
                &[
                    "补贴对象姓名",
                    "身份证号",
                    "残疾人证号",
                    "残疾类别",
                    "残疾等级",
                    "补贴类型",
                    "补贴标准",
                    "发放起始年月",
                    "享受状态",
                    "停发原因",
                    "所属区县",
                ],
                "civil",
                &[
                    ("name", 0),
                    ("program", 5),
                    ("start_date", 7),
                    ("status", 8),
                    ("stop_reason", 9),
                ],
            ),
            (
                &[
                    "姓名",
                    "身份证件号码",
                    "供养方式",
                    "救助类别",
                    "审批日期",
                    "终止日期",
                    "人员状态",
                    "区划代码",
                ],
                "civil",
                &[
                    ("id_number", 1),
                    ("program", 3),
                    ("end_date", 5),
                    ("status", 6),
                    ("county_code", 7),
                ],
            ),
            (
                &[
                    "个人编号",
                    "姓名",
                    "证件类型",
                    "证件号码",
                    "参保年度",
                    "险种类型",
                    "参保状态",
                    "资助类别",
                    "统筹区",
                ],
                "insurance",
                &[
                    ("id_number", 3),
                    ("year", 4),
                    ("status", 6),
                    ("subsidy_type", 7),
                    ("county", 8),
                ],
            ),
            (
                &[
                    "参保人姓名",
                    "社会保障号码",
                    "缴费年度",
                    "参保险种",
                    "人员参保状态",
                    "医疗救助资助类别",
                    "终止原因",
                    "终止日期",
                    "参保地区",
                ],
                "insurance",
                &[
                    ("id_number", 1),
                    ("year", 2),
                    ("status", 4),
                    ("subsidy_type", 5),
                    ("end_reason", 6),
                ],
            ),
            (
                &[
                    "学校名称",
                    "年级",
                    "班级",
                    "学生姓名",
                    "性别",
                    "身份证件类型",
                    "身份证件号",
                    "全国学籍号",
                    "学籍辅号",
                    "就读方式",
                    "学籍状态",
                    "是否享受资助",
                    "所在区县",
                ],
                "education",
                &[
                    ("name", 3),
                    ("id_number", 6),
                    ("student_number", 7),
                    ("student_status", 10),
                    ("aided", 11),
                ],
            ),
            (
                &[
                    "姓名",
                    "身份证号",
                    "学籍号",
                    "学段",
                    "安置方式",
                    "在校状态",
                    "资助情况",
                    "县区",
                ],
                "education",
                &[
                    ("study_mode", 4),
                    ("student_status", 5),
                    ("aided", 6),
                    ("county", 7),
                ],
            ),
        ];
        for (row, source, fields) in cases {
            let mapping =
                assign(&headers(row), &settings, None).unwrap_or_else(|e| panic!("{row:?}: {e}"));
            assert_eq!(settings.sources[mapping.source].key, source, "{row:?}");
            for (field, column) in fields {
                assert_eq!(
                    field_column(&settings, &mapping, field),
                    Some(*column),
                    "{field} in {row:?}"
                );
            }
        }
    }

    #[test]
    fn a_data_row_is_never_echoed_as_headers() {
        let settings = Settings::from_toml(DEFAULT_CONFIG).unwrap();
        let row = headers(&["张三", "42032519900307101X", "农村低保"]);
        let message = assign(&row, &settings, None).unwrap_err().to_string();
        assert!(
            message.contains("data, not headers") && !message.contains("张三"),
            "{message}"
        );
    }

    #[test]
    fn notes_in_brackets_are_ignored_when_nothing_else_matches() {
        let settings = Settings::from_toml(DEFAULT_CONFIG).unwrap();
        let row = headers(&[
            "姓名(必填)",
            "身份证号码（18位）",
            "救助类别(选填)",
            "县(市、区)",
        ]);
        let mapping = assign(&row, &settings, None).unwrap();
        assert_eq!(field_column(&settings, &mapping, "name"), Some(0));
        assert_eq!(field_column(&settings, &mapping, "program"), Some(2));
        assert_eq!(field_column(&settings, &mapping, "county"), Some(3));
        assert_eq!(without_notes("身份证号码(18位)"), "身份证号码");
        assert_eq!(without_notes("金额[元/月]"), "金额");
        assert_eq!(
            without_notes("【姓名】"),
            "【姓名】",
            "nothing left: the header stays"
        );
        assert_eq!(without_notes("(备注)"), "(备注)");
    }

    /// Real-world header wordings of the four departments (tests/fixtures/headers/corpus.csv,
    /// with the evidence for each): each maps to its field in its source, or to none (`-`).
    #[test]
    fn the_header_corpus_maps_every_wording_to_its_field() {
        let settings = Settings::from_toml(DEFAULT_CONFIG).unwrap();
        let corpus = include_str!("../../tests/fixtures/headers/corpus.csv");
        let mut wrong = Vec::new();
        let mut wordings = 0;
        for line in corpus.lines().skip(1) {
            let cells: Vec<&str> = line.splitn(4, ',').collect();
            let (source, header, expected) = (cells[0], cells[1], cells[2]);
            let source = &settings.sources[settings.source(source).unwrap()];
            let found = source
                .fields
                .iter()
                .filter_map(|f| {
                    let (strength, _) =
                        field_match(f, &cleaned_header(header), &settings.qualifiers)?;
                    Some((strength, f.name.as_str()))
                })
                .min();
            let found = found.map_or("-", |(_, name)| name);
            if found != expected {
                wrong.push(format!(
                    "{header} ({}): {found}, expected {expected}",
                    source.key
                ));
            }
            wordings += 1;
        }
        assert!(wordings >= 150, "{wordings} wordings");
        assert!(
            wrong.is_empty(),
            "{} of {wordings} wrong:\n{}",
            wrong.len(),
            wrong.join("\n")
        );
    }

    #[test]
    fn key_words_match_in_any_order_with_qualifiers_between() {
        let settings = Settings::from_toml(DEFAULT_CONFIG).unwrap();
        let insurance = &settings.sources[settings.source("insurance").unwrap()];
        let end_reason = &insurance.fields[insurance.field("end_reason").unwrap()];
        let rank = |h: &str| field_match(end_reason, h, &settings.qualifiers).map(|(s, _)| s);
        assert!(rank("终止参保原因").is_some() && rank("参保终止原因").is_some());
        assert_eq!(rank("终止参保原因"), rank("参保终止原因"));
        assert!(
            rank("终止参保原因") < rank("医保系统终止原因"),
            "qualifiers cost nothing, other words do"
        );
        assert!(rank("终止日期").is_none());
    }

    #[test]
    fn two_columns_matching_one_field_equally_are_an_error_naming_both() {
        let settings = Settings::from_toml(DEFAULT_CONFIG).unwrap();
        let row = headers(&[
            "学生姓名",
            "身份证件号",
            "学籍状态",
            "学校所在区县",
            "户籍所在区县",
        ]);
        let message = assign(&row, &settings, None).unwrap_err().to_string();
        assert!(
            message.contains("columns D and E") && message.contains("`county`"),
            "{message}"
        );
        let preferred = headers(&[
            "学生姓名",
            "身份证件号",
            "学籍状态",
            "所在区县",
            "户籍所在区县",
        ]);
        let mapping = assign(&preferred, &settings, None).unwrap();
        assert_eq!(field_column(&settings, &mapping, "county"), Some(3));
    }

    #[test]
    fn identifiers_are_read_in_any_source() {
        let settings = Settings::from_toml(DEFAULT_CONFIG).unwrap();
        let subsidy = headers(&[
            "补贴对象姓名",
            "身份证号",
            "残疾人证号",
            "补贴类别",
            "发放状态",
        ]);
        let mapping = assign(&subsidy, &settings, None).unwrap();
        assert_eq!(settings.sources[mapping.source].key, "civil");
        assert_eq!(
            field_column(&settings, &mapping, "certificate_number"),
            Some(2)
        );
        let insurance = headers(&["姓名", "证件号码", "户主身份证号码", "参保年度", "参保状态"]);
        let mapping = assign(&insurance, &settings, None).unwrap();
        assert_eq!(settings.sources[mapping.source].key, "insurance");
        assert_eq!(
            field_column(&settings, &mapping, "household_head_id"),
            Some(2)
        );
        assert_eq!(field_column(&settings, &mapping, "id_number"), Some(1));
    }

    proptest::proptest! {
        /// Any header row at all: a mapping or an explanation, never a panic.
        #[test]
        fn any_header_row_assigns_without_panic(
            row in proptest::collection::vec(proptest::prelude::any::<String>(), 0..14),
        ) {
            let settings = Settings::from_toml(DEFAULT_CONFIG).unwrap();
            let _ = assign(&row, &settings, None);
        }
    }

    #[test]
    fn letters() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(27), "AB");
    }
}
