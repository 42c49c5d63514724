//! Header recognition: which source a file belongs to and which column holds which field.
//! Exact aliases beat patterns; `exclude` keeps `户主身份证号` from ever being the person's
//! own ID; a file pinned in the config uses its source and explicit columns first.

use crate::config::options::FilePin;
use crate::config::{Settings, Source, SourceId};
use crate::normalize::{clean_header, glob_matches};

/// How a header was matched to a field, shown by `inspect`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MatchedBy {
    Pinned,
    Alias,
    Pattern(String),
}

impl std::fmt::Display for MatchedBy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MatchedBy::Pinned => write!(f, "pinned in config"),
            MatchedBy::Alias => write!(f, "alias"),
            MatchedBy::Pattern(p) => write!(f, "pattern {p}"),
        }
    }
}

/// A file's columns mapped onto one source's fields.
#[derive(Clone, Debug)]
pub struct Mapping {
    pub source: SourceId,
    /// For each source field: the column that holds it and how it was matched.
    pub fields: Vec<Option<(usize, MatchedBy)>>,
    /// Columns that map to no field.
    pub unmapped: Vec<usize>,
}

/// What one source made of the headers: its mapping and the required fields it lacks.
struct Attempt {
    mapping: Mapping,
    missing: Vec<String>,
    specific_fields: usize,
}

/// Assigns a header row to a source, or explains why it cannot.
pub fn assign(
    headers: &[String],
    settings: &Settings,
    pin: Option<&FilePin>,
) -> Result<Mapping, String> {
    if headers.iter().any(|h| looks_like_id(h)) {
        return Err("the first rows hold data, not headers (a cell holds an ID number; the cells are not shown, to keep personal data out of messages). Add a header row".into());
    }
    let cleaned: Vec<String> = headers
        .iter()
        .map(|h| clean_header(h).trim_matches(['*', '※']).to_string())
        .collect();
    if let Some(pin) = pin {
        let source = settings
            .source(&pin.source)
            .ok_or_else(|| format!("pinned to unknown source `{}`", pin.source))?;
        let attempt = attempt(source, &settings.sources[source], &cleaned, Some(pin))?;
        return match attempt.missing.is_empty() {
            true => Ok(attempt.mapping),
            false => Err(format!(
                "pinned to source {} but required fields are missing: {}. Headers seen: {}",
                pin.source,
                attempt.missing.join(", "),
                headers.join(", ")
            )),
        };
    }
    let attempts = settings
        .sources
        .iter()
        .enumerate()
        .map(|(id, source)| attempt(id, source, &cleaned, None))
        .collect::<Result<Vec<_>, _>>()?;
    let complete: Vec<&Attempt> = attempts.iter().filter(|a| a.missing.is_empty()).collect();
    let best = complete.iter().map(|a| a.specific_fields).max();
    let winners: Vec<&&Attempt> = complete
        .iter()
        .filter(|a| Some(a.specific_fields) == best)
        .collect();
    match winners.as_slice() {
        [one] => Ok(one.mapping.clone()),
        [] => Err(format!(
            "cannot tell which department this file is from. Headers seen: {}. {}. Rename a column, add an alias to the config, or pin the file with a [[file]] entry",
            headers.join(", "),
            attempts
                .iter()
                .map(|a| format!("{} lacks {}", settings.sources[a.mapping.source].key, a.missing.join(", ")))
                .collect::<Vec<_>>()
                .join("; ")
        )),
        many => Err(format!(
            "ambiguous: the headers fit {} equally well. Headers seen: {}. Pin the file to a source with a [[file]] entry in the config",
            many.iter().map(|a| settings.sources[a.mapping.source].key.as_str()).collect::<Vec<_>>().join(" and "),
            headers.join(", ")
        )),
    }
}

fn attempt(
    id: SourceId,
    source: &Source,
    headers: &[String],
    pin: Option<&FilePin>,
) -> Result<Attempt, String> {
    let mut fields: Vec<Option<(usize, MatchedBy)>> = vec![None; source.fields.len()];
    let mut used = vec![false; headers.len()];
    let mut claim = |fields: &mut Vec<Option<(usize, MatchedBy)>>,
                     field: usize,
                     column: usize,
                     how: MatchedBy| {
        if fields[field].is_none() && !used[column] {
            fields[field] = Some((column, how));
            used[column] = true;
        }
    };
    if let Some(pin) = pin {
        for (header, field_name) in &pin.columns {
            let field = source.field(field_name).ok_or_else(|| {
                format!(
                    "pinned column {header}: source {} has no field `{field_name}`",
                    source.key
                )
            })?;
            let column = headers
                .iter()
                .position(|h| *h == clean_header(header))
                .ok_or_else(|| format!("pinned column `{header}` is not in the file"))?;
            claim(&mut fields, field, column, MatchedBy::Pinned);
        }
    }
    for header in headers {
        if source.fields.iter().any(|f| f.aliases.contains(header)) {
            check_duplicate(headers, header)?;
        }
    }
    // Aliases beat patterns, and a header as written beats it without a trailing note such
    // as `(必填)`.
    let bare: Vec<String> = headers.iter().map(|h| without_note(h)).collect();
    for (forms, by_alias) in [
        (headers, true),
        (&bare[..], true),
        (headers, false),
        (&bare[..], false),
    ] {
        for (column, header) in forms.iter().enumerate() {
            for (field_index, field) in source.fields.iter().enumerate() {
                if let Some(how) = field_match(field, header, by_alias) {
                    claim(&mut fields, field_index, column, how);
                }
            }
        }
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
    Ok(Attempt {
        mapping: Mapping {
            source: id,
            fields,
            unmapped,
        },
        missing,
        specific_fields,
    })
}

/// A cell with 15 or more digits is an ID number, never a header.
fn looks_like_id(cell: &str) -> bool {
    cell.chars()
        .filter(|c| crate::normalize::id_number::is_digit(*c))
        .count()
        >= 15
}

/// How `header` matches `field`: by an alias, or (when `by_alias` is false) by a pattern.
fn field_match(field: &crate::config::Field, header: &str, by_alias: bool) -> Option<MatchedBy> {
    if field.exclude.iter().any(|p| glob_matches(p, header)) {
        return None;
    }
    match by_alias {
        true => field
            .aliases
            .iter()
            .any(|a| a == header)
            .then_some(MatchedBy::Alias),
        false => field
            .patterns
            .iter()
            .find(|p| glob_matches(p, header))
            .map(|p| MatchedBy::Pattern(p.clone())),
    }
}

/// `姓名(必填)` -> `姓名`: a trailing bracketed note removed.
fn without_note(header: &str) -> String {
    match header.strip_suffix(')').and_then(|h| h.rsplit_once('(')) {
        Some((bare, _)) if !bare.is_empty() => bare.to_string(),
        _ => header.to_string(),
    }
}

/// A header that maps to a field must appear once: two `身份证号` columns are not guessable.
fn check_duplicate(headers: &[String], header: &str) -> Result<(), String> {
    let columns: Vec<usize> = (0..headers.len())
        .filter(|&i| headers[i] == header)
        .collect();
    match columns.as_slice() {
        [first, second, ..] => Err(format!(
            "duplicate header `{header}` in columns {} and {}: rename one or pin the columns in the config",
            column_letter(*first),
            column_letter(*second)
        )),
        _ => Ok(()),
    }
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
        let message = assign(&only_head, &settings, None).unwrap_err();
        assert!(message.contains("civil lacks id_number"), "{message}");
    }

    #[test]
    fn unknown_and_duplicate_headers_are_explained() {
        let settings = Settings::from_toml(DEFAULT_CONFIG).unwrap();
        let message = assign(&headers(&["a", "b"]), &settings, None).unwrap_err();
        assert!(
            message.contains("Headers seen: a, b") && message.contains("dpf lacks"),
            "{message}"
        );
        let twice = headers(&["姓名", "身份证号", "身份证号", "救助类别"]);
        assert!(assign(&twice, &settings, None)
            .unwrap_err()
            .contains("columns B and C"));
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
        let message = assign(&row, &settings, None).unwrap_err();
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
        assert_eq!(without_note("县(市、区)"), "县");
        assert_eq!(without_note("(备注)"), "(备注)");
    }

    #[test]
    fn letters() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(27), "AB");
    }
}
