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
    for (column, header) in headers.iter().enumerate() {
        for (field_index, field) in source.fields.iter().enumerate() {
            let excluded = field.exclude.iter().any(|p| glob_matches(p, header));
            if !excluded && field.aliases.contains(header) {
                check_duplicate(headers, column, &field.name)?;
                claim(&mut fields, field_index, column, MatchedBy::Alias);
            }
        }
    }
    for (column, header) in headers.iter().enumerate() {
        for (field_index, field) in source.fields.iter().enumerate() {
            let excluded = field.exclude.iter().any(|p| glob_matches(p, header));
            if let Some(p) = field
                .patterns
                .iter()
                .find(|p| !excluded && glob_matches(p, header))
            {
                claim(
                    &mut fields,
                    field_index,
                    column,
                    MatchedBy::Pattern(p.clone()),
                );
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

/// A header that maps to a field must appear once: two `身份证号` columns are not guessable.
fn check_duplicate(headers: &[String], column: usize, field: &str) -> Result<(), String> {
    match headers.iter().enumerate().find(|(i, h)| *i != column && **h == headers[column]) {
        Some((other, _)) => Err(format!(
            "duplicate header `{}` in columns {} and {} (field {field}): rename one or pin the columns in the config",
            headers[column],
            column_letter(column.min(other)),
            column_letter(column.max(other))
        )),
        None => Ok(()),
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

    #[test]
    fn letters() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(27), "AB");
    }
}
