//! Gap lists: `gaps.csv` for other systems, and per county a workbook (one sheet per rule) and
//! a CSV for county staff, with Chinese headers, IDs as text and formula injection neutralised.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{Datelike, NaiveDate};
use rayon::prelude::*;
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook};

use super::{create_private_dir, csv_writer, report_error, write_csv_rows, ReportError, RunResult};
use crate::mask::mask_id;
use crate::normalize::id_number::IdNumber;

/// One gap as written.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct GapRow {
    pub rule_id: String,
    pub county_code: String,
    pub county_name: String,
    pub source: String,
    pub source_file: String,
    pub source_row: u32,
    pub person_key: String,
    pub name: String,
    pub id_number: String,
    pub detail: String,
    pub status: String,
    pub first_seen: String,
    pub note_status: String,
    pub note: String,
    pub rule_name: String,
    pub evidence_file: String,
    pub evidence_row: String,
    pub nearest_file: String,
    pub nearest_row: String,
    pub nearest_score: String,
    pub nearest_reason: String,
    /// A row that may be this person, for a person to decide: the gap depends on it.
    pub review: String,
}

pub const GAPS_HEADER: [&str; 22] = [
    "rule_id",
    "county_code",
    "county_name",
    "source",
    "source_file",
    "source_row",
    "person_key",
    "name",
    "id_number",
    "detail",
    "status",
    "first_seen",
    "note_status",
    "note",
    "rule_name",
    "evidence_file",
    "evidence_row",
    "nearest_file",
    "nearest_row",
    "nearest_score",
    "nearest_reason",
    "review",
];

const COUNTY_HEADER: [&str; 17] = [
    "规则编号",
    "规则名称",
    "区县代码",
    "区县名称",
    "姓名",
    "身份证号",
    "来源部门",
    "来源文件",
    "行号",
    "问题说明",
    "台账状态",
    "首次发现",
    "县级反馈",
    "相关记录",
    "最近似记录",
    "待人工确认",
    "人员编号",
];

/// The run's gaps as rows, sorted by rule, county, file and row.
pub fn gap_rows(result: &RunResult) -> Vec<GapRow> {
    let settings = result.settings();
    let mut rows: Vec<GapRow> = result
        .evaluation
        .gaps
        .par_iter()
        .map(|gap| {
            let rule = &settings.rules[gap.rule];
            let record = &result.records[gap.record];
            let evidence = gap.evidence.map(|e| &result.records[e]);
            let nearest = gap.nearest.as_ref();
            let person_key = result.person_key(gap.record);
            let item = crate::ledger::item_key(&rule.id, &person_key);
            let ledger_item = result.ledger.and_then(|l| l.items.get(&item));
            let note = result.ledger.and_then(|l| l.notes.get(&item));
            let nearest_record = nearest.map(|n| &result.records[n.record]);
            GapRow {
                rule_id: rule.id.clone(),
                county_code: record
                    .county
                    .as_ref()
                    .map_or(String::new(), |c| c.code.clone()),
                county_name: record
                    .county
                    .as_ref()
                    .map_or("未知区县".into(), |c| c.name.clone()),
                source: settings.sources[record.source].key.clone(),
                source_file: result.file_name(record.row.file).to_string(),
                source_row: record.row.row,
                person_key,
                name: result.records.name(record).to_string(),
                id_number: shown_id(&record.id, result.full_ids),
                detail: gap.detail.clone(),
                status: ledger_item.map_or(String::new(), |(status, _)| status.clone()),
                first_seen: ledger_item.map_or(String::new(), |(_, first)| first.clone()),
                note_status: note.map_or(String::new(), |(status, _)| status.clone()),
                note: note.map_or(String::new(), |(_, text)| text.clone()),
                rule_name: rule.name.clone(),
                evidence_file: evidence
                    .map_or(String::new(), |e| result.file_name(e.row.file).to_string()),
                evidence_row: evidence.map_or(String::new(), |e| e.row.row.to_string()),
                nearest_file: nearest_record
                    .map_or(String::new(), |n| result.file_name(n.row.file).to_string()),
                nearest_row: nearest_record.map_or(String::new(), |n| n.row.row.to_string()),
                nearest_score: nearest.map_or(String::new(), |n| format!("{:.4}", n.score)),
                nearest_reason: nearest.map_or(String::new(), |n| n.reason.clone()),
                review: gap.undecided.as_ref().map_or(String::new(), |u| {
                    let row = &result.records[u.record].row;
                    format!(
                        "可能与{}第{}行为同一人（匹配概率{:.2}），此项取决于人工确认（见review.csv）",
                        result.file_name(row.file),
                        row.row,
                        u.probability
                    )
                }),
            }
        })
        .collect();
    // Rows that compare equal are the same text, so an unstable sort writes the same file.
    rows.par_sort_unstable();
    rows
}

/// The ID as a gap list shows it: masked unless full IDs were asked for; a damaged or invalid
/// ID shows what is left of it, marked.
fn shown_id(id: &IdNumber, full: bool) -> String {
    let show = |s: &str| if full { s.to_string() } else { mask_id(s) };
    match id {
        IdNumber::Valid(v) => show(v),
        IdNumber::Missing => String::new(),
        IdNumber::Invalid { digits, .. } => format!("{}（{}）", show(digits), id.state()),
        IdNumber::Damaged { prefix } => format!("{}…（{}）", show(prefix), id.state()),
    }
}

pub fn write_gaps_csv(path: &Path, rows: &[GapRow]) -> Result<(), ReportError> {
    let writer = csv_writer(path, &GAPS_HEADER, false)?;
    write_csv_rows(path, writer, rows.iter().map(gaps_record))
}

fn gaps_record(r: &GapRow) -> Vec<String> {
    vec![
        r.rule_id.clone(),
        r.county_code.clone(),
        r.county_name.clone(),
        r.source.clone(),
        r.source_file.clone(),
        r.source_row.to_string(),
        r.person_key.clone(),
        r.name.clone(),
        r.id_number.clone(),
        r.detail.clone(),
        r.status.clone(),
        r.first_seen.clone(),
        r.note_status.clone(),
        r.note.clone(),
        r.rule_name.clone(),
        r.evidence_file.clone(),
        r.evidence_row.clone(),
        r.nearest_file.clone(),
        r.nearest_row.clone(),
        r.nearest_score.clone(),
        r.nearest_reason.clone(),
        r.review.clone(),
    ]
}

fn county_record(r: &GapRow, source_label: &str) -> Vec<String> {
    let evidence = match r.evidence_file.is_empty() {
        true => String::new(),
        false => format!("{} 第{}行", r.evidence_file, r.evidence_row),
    };
    let feedback = match r.note_status.is_empty() {
        true => String::new(),
        false => format!("[{}] {}", r.note_status, r.note),
    };
    let nearest = match r.nearest_file.is_empty() {
        true => String::new(),
        false => format!(
            "{} 第{}行（匹配概率{}：{}）",
            r.nearest_file, r.nearest_row, r.nearest_score, r.nearest_reason
        ),
    };
    [
        r.rule_id.as_str(),
        &r.rule_name,
        &r.county_code,
        &r.county_name,
        &r.name,
        &r.id_number,
        source_label,
        &r.source_file,
        &r.source_row.to_string(),
        &r.detail,
        status_word(&r.status),
        &r.first_seen,
        &feedback,
        &evidence,
        &nearest,
        &r.review,
        &r.person_key,
    ]
    .iter()
    .map(|cell| super::inert(cell).into_owned())
    .collect()
}

/// A ledger status in the words county staff use.
fn status_word(status: &str) -> &str {
    match status {
        "new" => "新发现",
        "open" => "未销号",
        "reopened" => "再次出现",
        other => other,
    }
}

/// `counties/<code>_<name>.xlsx` and `.csv` for every county with a gap or with a rule the
/// night could not check (the workbook then opens with a sheet 未核查 saying which and why).
pub fn write_county_lists(
    dir: &Path,
    result: &RunResult,
    rows: &[GapRow],
) -> Result<(), ReportError> {
    create_private_dir(dir)?;
    let mut by_county: BTreeMap<(String, String), Vec<&GapRow>> = BTreeMap::new();
    for row in rows {
        by_county
            .entry((row.county_code.clone(), row.county_name.clone()))
            .or_default()
            .push(row);
    }
    let unchecked = unchecked_by_county(result);
    for county in unchecked.keys() {
        by_county.entry(county.clone()).or_default();
    }
    let label = |key: &str| {
        result.settings().source(key).map_or(key.to_string(), |s| {
            result.settings().sources[s].label.clone()
        })
    };
    let by_county: Vec<_> = by_county.into_iter().collect();
    by_county.par_iter().try_for_each(|((code, name), gaps)| {
        let stem = format!(
            "{}_{}",
            if code.is_empty() { "unknown" } else { code },
            name
        );
        let cells: Vec<(String, Vec<String>)> = gaps
            .iter()
            .map(|g| (g.rule_id.clone(), county_record(g, &label(&g.source))))
            .collect();
        let csv_path = dir.join(format!("{stem}.csv"));
        let writer = csv_writer(&csv_path, &COUNTY_HEADER, true)?;
        write_csv_rows(&csv_path, writer, cells.iter().map(|(_, c)| c))?;
        let not_checked = unchecked
            .get(&(code.clone(), name.clone()))
            .map_or(&[][..], Vec::as_slice);
        write_county_workbook(
            &dir.join(format!("{stem}.xlsx")),
            &cells,
            not_checked,
            result.as_of,
        )
    })
}

/// Per county (code, name): the rules the night could not check there, as the rows of the
/// sheet 未核查 (rule, name, why, gaps not listed tonight).
fn unchecked_by_county(result: &RunResult) -> BTreeMap<(String, String), Vec<Vec<String>>> {
    let settings = result.settings();
    let counties = super::counties_seen(result.records);
    let mut sheets: BTreeMap<(String, String), Vec<Vec<String>>> = BTreeMap::new();
    for unchecked in &result.checks.unchecked {
        let rule = &settings.rules[unchecked.rule];
        let here: Vec<(&String, &String)> = match &unchecked.county {
            None => counties.iter().collect(),
            Some(code) => counties.iter().filter(|(c, _)| *c == code).collect(),
        };
        for (code, name) in here {
            let withheld = result
                .checks
                .withheld
                .get(&(unchecked.rule, code.clone()))
                .copied()
                .unwrap_or(0);
            sheets
                .entry((code.clone(), name.clone()))
                .or_default()
                .push(vec![
                    rule.id.clone(),
                    rule.name.clone(),
                    unchecked.reason.clone(),
                    withheld.to_string(),
                ]);
        }
    }
    sheets
}

/// A sheet of a county workbook: its name, header, column widths.
struct Sheet<'a> {
    name: &'a str,
    header: &'a [&'a str],
    widths: &'a [u16],
    freeze_header: bool,
}

impl Sheet<'_> {
    /// Writes the sheet, every cell as a string so Excel keeps IDs as text.
    fn write(
        &self,
        workbook: &mut Workbook,
        rows: &[&Vec<String>],
        bold: &Format,
    ) -> Result<(), rust_xlsxwriter::XlsxError> {
        let sheet = workbook.add_worksheet_with_constant_memory()?;
        sheet.set_name(self.name)?;
        if self.freeze_header {
            sheet.set_freeze_panes(1, 0)?;
        }
        for (col, width) in self.widths.iter().enumerate() {
            sheet.set_column_width(col as u16, *width)?;
        }
        for (col, header) in self.header.iter().enumerate() {
            sheet.write_string_with_format(0, col as u16, *header, bold)?;
        }
        for (r, row) in rows.iter().enumerate() {
            for (col, cell) in row.iter().enumerate() {
                sheet.write_string(r as u32 + 1, col as u16, cell)?;
            }
        }
        Ok(())
    }
}

const NOT_CHECKED_HEADER: [&str; 4] = [
    "规则编号",
    "规则名称",
    "今晚未核查的原因（台账不销号）",
    "暂不列出的疑点数",
];

/// One sheet per rule, every cell written as a string so Excel keeps IDs as text. The
/// workbook is dated by the as-of date, so the same run gives the same bytes.
fn write_county_workbook(
    path: &Path,
    cells: &[(String, Vec<String>)],
    not_checked: &[Vec<String>],
    as_of: NaiveDate,
) -> Result<(), ReportError> {
    let error = |e: rust_xlsxwriter::XlsxError| report_error(path, e);
    let mut workbook = Workbook::new();
    let created =
        ExcelDateTime::from_ymd(as_of.year() as u16, as_of.month() as u8, as_of.day() as u8)
            .map_err(error)?;
    workbook.set_properties(&DocProperties::new().set_creation_datetime(&created));
    // The fastest compression: a province's lists are written every night, and the files
    // are small either way.
    workbook.set_zip_compression_level(1);
    let bold = Format::new().set_bold();
    let mut by_rule: BTreeMap<&str, Vec<&Vec<String>>> = BTreeMap::new();
    for (rule, row) in cells {
        by_rule.entry(rule).or_default().push(row);
    }
    // Rows go to a temporary file beside the list as they are written (its strings inline),
    // so a county's workbook is never held whole.
    if let Some(dir) = path.parent() {
        workbook.set_tempdir(dir).map_err(error)?;
    }
    if !not_checked.is_empty() {
        let rows: Vec<&Vec<String>> = not_checked.iter().collect();
        let sheet = Sheet {
            name: "未核查",
            header: &NOT_CHECKED_HEADER,
            widths: &[10, 28, 60, 16],
            freeze_header: false,
        };
        sheet.write(&mut workbook, &rows, &bold).map_err(error)?;
    }
    for (rule, rows) in by_rule {
        let sheet = Sheet {
            name: rule,
            header: &COUNTY_HEADER,
            widths: &[
                10, 28, 10, 12, 10, 22, 16, 24, 6, 48, 10, 12, 24, 24, 40, 18,
            ],
            freeze_header: true,
        };
        sheet.write(&mut workbook, &rows, &bold).map_err(error)?;
    }
    let buffer = workbook.save_to_buffer().map_err(error)?;
    super::write_file(path, &buffer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(
            crate::report::inert("=HYPERLINK(\"x\")"),
            "'=HYPERLINK(\"x\")"
        );
        assert_eq!(crate::report::inert("-1"), "'-1");
        assert_eq!(crate::report::inert("@SUM"), "'@SUM");
        assert_eq!(crate::report::inert("张三"), "张三");
    }

    #[test]
    fn ids_are_masked_unless_asked() {
        let id = IdNumber::Valid("11010519491231002X".into());
        assert_eq!(shown_id(&id, false), "110105********002X");
        assert_eq!(shown_id(&id, true), "11010519491231002X");
        let damaged = IdNumber::Damaged {
            prefix: "420325199003071".into(),
        };
        assert_eq!(
            shown_id(&damaged, false),
            "420325*****3071…（damaged_excel）"
        );
    }
}
