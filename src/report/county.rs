//! The county workbook (县级核查表) and its CSV twin, one per county with a gap or with a rule
//! the night could not check. The workbook is a work form: a sheet 说明 first (the night, the
//! count of each list, and per rule what it finds, its basis, what to check and do, and which
//! department acts), a sheet 未核查 when the night could not check a rule there, then a sheet
//! per rule named in Chinese, each with autofilter, frozen header, landscape fit-to-width
//! print with repeated titles, and editable columns at the right (核查结果 from a list) that
//! `recon ledger import` reads back by their headers.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{Datelike, NaiveDate};
use rayon::prelude::*;
use rust_xlsxwriter::{
    Color, DataValidation, DataValidationRule, DocProperties, ExcelDateTime, Format, FormatAlign,
    FormatBorder, Workbook, Worksheet, XlsxError,
};

use super::gap_list::GapRow;
use super::{create_private_dir, csv_writer, report_error, write_csv_rows, ReportError, RunResult};
use crate::config::Rule;
use crate::ledger::{ItemStatus, RESULTS};
use crate::rules::describe::rule_in_words;

/// The column `recon ledger import` finds an item by.
pub const KEY_COLUMN: &str = "台账编号";
/// The column that dates the list a row came in.
pub const NIGHT_COLUMN: &str = "清单日期";
/// The column that names the row's county.
pub const COUNTY_COLUMN: &str = "区县代码";
/// The columns a county fills in, in order, at the right of every list.
pub const EDITABLE: [&str; 5] = ["核查结果", "整改情况", "责任人", "完成时限", "备注"];

/// Every column of a rule's list, with its width in characters (a Chinese character is two):
/// narrow enough for A3 landscape, the long texts wrapped.
const COLUMNS: [(&str, u16); 27] = [
    ("序号", 5),
    ("规则编号", 8),
    (COUNTY_COLUMN, 8),
    ("区县", 8),
    ("乡镇（街道）", 10),
    ("村（社区）", 10),
    ("姓名", 8),
    ("身份证号", 19),
    ("残疾类别", 6),
    ("残疾等级", 6),
    ("残疾人证号", 21),
    ("问题说明", 36),
    ("来源部门", 10),
    ("来源文件", 12),
    ("行号", 5),
    ("相关记录", 12),
    ("最近似记录", 14),
    ("待人工确认", 12),
    ("台账状态", 8),
    ("首次发现", 10),
    (NIGHT_COLUMN, 10),
    (KEY_COLUMN, 14),
    ("核查结果", 9),
    ("整改情况", 16),
    ("责任人", 7),
    ("完成时限", 10),
    ("备注", 14),
];

/// The height of one line of text, in points.
const LINE_HEIGHT: f64 = 15.0;

/// Lines a row needs: its longest text over its column's width (a Chinese character takes
/// two), at most eight.
fn lines_of(cells: impl Iterator<Item = (String, u16)>) -> f64 {
    cells
        .map(|(text, width)| {
            let units: usize = text.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum();
            units.div_ceil(usize::from(width.max(1)))
        })
        .max()
        .unwrap_or(1)
        .clamp(1, 8) as f64
}

/// A cell: text, or a number Excel can sort and sum.
#[derive(Clone, Debug, PartialEq)]
enum Cell {
    Text(String),
    Number(f64),
}

impl Cell {
    fn text(&self) -> String {
        match self {
            Cell::Text(t) => super::inert(t).into_owned(),
            Cell::Number(n) => n.to_string(),
        }
    }
}

/// A county: its code and name.
type County = (String, String);

/// `counties/<code>_<name>.xlsx` and `.csv` for every county with a gap or with a rule the
/// night could not check.
pub fn write_county_lists(
    dir: &Path,
    result: &RunResult,
    rows: &[GapRow],
) -> Result<(), ReportError> {
    create_private_dir(dir)?;
    let mut by_county: BTreeMap<County, Vec<&GapRow>> = BTreeMap::new();
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
    let by_county: Vec<_> = by_county.into_iter().collect();
    by_county.par_iter().try_for_each(|(county, gaps)| {
        let (code, name) = county;
        let stem = format!("{}_{name}", if code.is_empty() { "unknown" } else { code });
        let lists = county_lists(result, gaps);
        let csv_path = dir.join(format!("{stem}.csv"));
        let header: Vec<&str> = COLUMNS.iter().map(|(h, _)| *h).collect();
        let writer = csv_writer(&csv_path, &header, true)?;
        let lines = lists
            .iter()
            .flat_map(|list| list.rows.iter())
            .map(|row| row.iter().map(Cell::text).collect::<Vec<_>>());
        write_csv_rows(&csv_path, writer, lines)?;
        let not_checked = unchecked.get(county).map_or(&[][..], Vec::as_slice);
        let workbook = CountyWorkbook {
            county,
            township: None,
            lists: &lists,
            not_checked,
            as_of: result.as_of,
        };
        workbook.write(&dir.join(format!("{stem}.xlsx")))?;
        let by_township = result
            .settings()
            .options
            .report
            .as_ref()
            .is_some_and(|r| r.township_lists);
        match by_township {
            true => write_township_lists(&dir.join(&stem), result, (county, gaps), not_checked),
            false => Ok(()),
        }
    })
}

/// A work form per township of the county, in `dir`: `<township>.xlsx` (未注明乡镇 for gaps
/// whose rows name none).
fn write_township_lists(
    dir: &Path,
    result: &RunResult,
    (county, gaps): (&County, &[&GapRow]),
    not_checked: &[Vec<String>],
) -> Result<(), ReportError> {
    create_private_dir(dir)?;
    let mut by_township: BTreeMap<&str, Vec<&GapRow>> = BTreeMap::new();
    for gap in gaps {
        let township = match gap.shown.township.trim() {
            "" => "未注明乡镇",
            named => named,
        };
        by_township.entry(township).or_default().push(gap);
    }
    for (township, gaps) in by_township {
        let lists = county_lists(result, &gaps);
        let file: String = township
            .chars()
            .map(|c| {
                if "/\\:*?\"<>|".contains(c) || c.is_control() {
                    '_'
                } else {
                    c
                }
            })
            .collect();
        let workbook = CountyWorkbook {
            county,
            township: Some(township),
            lists: &lists,
            not_checked,
            as_of: result.as_of,
        };
        workbook.write(&dir.join(format!("{file}.xlsx")))?;
    }
    Ok(())
}

/// One rule's list in a county: the rule and its rows' cells.
struct List<'a> {
    rule: &'a Rule,
    /// What the rule flags, in words from its definition.
    meaning: String,
    rows: Vec<Vec<Cell>>,
}

/// A county's gaps as lists, one per rule in catalogue order, rows numbered from 1.
fn county_lists<'a>(result: &'a RunResult, gaps: &[&GapRow]) -> Vec<List<'a>> {
    let settings = result.settings();
    let review = settings.link.review;
    let mut by_rule: BTreeMap<usize, Vec<&GapRow>> = BTreeMap::new();
    for gap in gaps {
        if let Some(rule) = settings.rules.iter().position(|r| r.id == gap.rule_id) {
            by_rule.entry(rule).or_default().push(gap);
        }
    }
    by_rule
        .into_iter()
        .map(|(rule, gaps)| List {
            rule: &settings.rules[rule],
            meaning: rule_in_words(settings, &settings.rules[rule], result.as_of),
            rows: gaps
                .iter()
                .enumerate()
                .map(|(k, gap)| {
                    let label = settings
                        .source(&gap.source)
                        .map_or(gap.source.as_str(), |s| &settings.sources[s].label);
                    row_cells(gap, k + 1, label, (result.as_of, review))
                })
                .collect(),
        })
        .collect()
}

/// The cells of one gap, in `COLUMNS` order. A near miss is shown only when it is a real
/// candidate (at or above the review threshold).
fn row_cells(
    r: &GapRow,
    number: usize,
    source_label: &str,
    (as_of, review): (NaiveDate, f64),
) -> Vec<Cell> {
    let text = |s: &str| Cell::Text(s.to_string());
    let evidence = match r.evidence_file.is_empty() {
        true => String::new(),
        false => format!("{} 第{}行", r.evidence_file, r.evidence_row),
    };
    let nearest = match r.nearest_score.parse::<f64>() {
        Ok(score) if score >= review => format!(
            "{} 第{}行（匹配概率{:.2}：{}）",
            r.nearest_file, r.nearest_row, score, r.nearest_reason
        ),
        _ => String::new(),
    };
    let county_code = match r.county_code.parse::<f64>() {
        Ok(code) => Cell::Number(code),
        Err(_) => text(&r.county_code),
    };
    let f = &r.feedback;
    let remark = match (f.remark.is_empty(), r.note.is_empty()) {
        (true, false) => format!("{}：{}", note_word(&r.note_status), r.note),
        _ => f.remark.clone(),
    };
    vec![
        Cell::Number(number as f64),
        text(&r.rule_id),
        county_code,
        text(&r.county_name),
        text(&r.shown.township),
        text(&r.shown.village),
        text(&r.name),
        text(&r.id_number),
        text(&r.shown.disability_category),
        text(&r.shown.disability_grade),
        text(&r.shown.certificate_number),
        text(&r.detail),
        text(source_label),
        text(&r.source_file),
        Cell::Number(f64::from(r.source_row)),
        text(&evidence),
        text(&nearest),
        text(&r.review),
        text(match r.standing {
            Some(standing) => standing.words(),
            None => r.status.map_or("", ItemStatus::words),
        }),
        text(&r.first_seen),
        text(&as_of.to_string()),
        text(&r.item_key),
        text(&f.result),
        text(&f.rectification),
        text(&f.responsible),
        text(&f.deadline),
        text(&remark),
    ]
}

/// A `recon ledger note` status in the words county staff use.
fn note_word(status: &str) -> &str {
    match status {
        "verified-exception" => "核实为例外",
        "pending" => "整改中",
        _ => "备注",
    }
}

/// Per county: the rules the night could not check there, as the rows of the sheet 未核查
/// (rule, name, why, gaps not listed tonight).
fn unchecked_by_county(result: &RunResult) -> BTreeMap<County, Vec<Vec<String>>> {
    let settings = result.settings();
    let counties = super::counties_seen(result.records);
    let mut sheets: BTreeMap<County, Vec<Vec<String>>> = BTreeMap::new();
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

const NOT_CHECKED_HEADER: [&str; 4] = [
    "规则编号",
    "规则名称",
    "今晚未核查的原因（台账不销号）",
    "暂不列出的疑点数",
];

const GUIDE_WIDTHS: [u16; 7] = [30, 9, 7, 24, 60, 18, 60];

const GUIDE_HEADER: [&str; 7] = [
    "清单（工作表）",
    "规则编号",
    "疑点数",
    "政策依据",
    "核查与处置",
    "责任部门",
    "疑点含义（由规则定义生成）",
];

/// Excel's paper sizes: A4 for 说明, A3 for the wide lists.
const A4: u8 = 9;
const A3: u8 = 8;

/// Every printed page says which it is.
const FOOTER: &str = "&C第 &P 页，共 &N 页";

/// How to fill the lists in, on the sheet 说明 below the table of lists.
const HOW_TO_FILL: [&str; 5] = [
    "填写说明",
    "1. 请逐条核查，在每张清单右侧填写：核查结果（从下拉列表选择：属实、不属实、已整改、政策外情形、其他）、整改情况、责任人、完成时限（日期）、备注。",
    "2. 不属实、政策外情形：请在备注中写明依据；已整改：请在整改情况中写明措施和办结日期。",
    "3. 请勿修改台账编号、清单日期、区县代码三列，也不要增删工作表；填好后交回本工作簿，由省级用 recon ledger import 导入台账。",
    "4. 身份证号和残疾人证号已部分隐藏；行号是来源文件中的数据行（不含表头）。",
];

struct CountyWorkbook<'a> {
    county: &'a County,
    /// The township the workbook is for, when it is one township's.
    township: Option<&'a str>,
    lists: &'a [List<'a>],
    not_checked: &'a [Vec<String>],
    as_of: NaiveDate,
}

/// The formats of a county workbook.
struct Formats {
    title: Format,
    header: Format,
    editable_header: Format,
    wrap: Format,
    number: Format,
}

impl Formats {
    fn new() -> Formats {
        let header = Format::new()
            .set_bold()
            .set_text_wrap()
            .set_align(FormatAlign::Center)
            .set_align(FormatAlign::VerticalCenter)
            .set_border(FormatBorder::Thin)
            .set_background_color(Color::RGB(0xD9E1F2));
        Formats {
            title: Format::new().set_bold().set_font_size(14),
            editable_header: header.clone().set_background_color(Color::RGB(0xFFF2CC)),
            header,
            wrap: Format::new().set_text_wrap().set_align(FormatAlign::Top),
            number: Format::new().set_align(FormatAlign::Top),
        }
    }
}

impl CountyWorkbook<'_> {
    /// Writes the workbook, dated by the as-of date so the same run gives the same bytes.
    fn write(&self, path: &Path) -> Result<(), ReportError> {
        let error = |e: XlsxError| report_error(path, e);
        let mut workbook = Workbook::new();
        let as_of = self.as_of;
        let created =
            ExcelDateTime::from_ymd(as_of.year() as u16, as_of.month() as u8, as_of.day() as u8)
                .map_err(error)?;
        workbook.set_properties(&DocProperties::new().set_creation_datetime(&created));
        // The fastest compression: a province's lists are written every night.
        workbook.set_zip_compression_level(1);
        // Rows go to a temporary file beside the list as they are written, so a county's
        // workbook is never held whole.
        if let Some(dir) = path.parent() {
            workbook.set_tempdir(dir).map_err(error)?;
        }
        let formats = Formats::new();
        let names = sheet_names(self.lists);
        self.write_guide(workbook.add_worksheet(), &names, &formats)
            .map_err(error)?;
        if !self.not_checked.is_empty() {
            self.write_not_checked(workbook.add_worksheet(), &formats)
                .map_err(error)?;
        }
        for (list, name) in self.lists.iter().zip(&names) {
            let sheet = workbook
                .add_worksheet_with_constant_memory()
                .map_err(error)?;
            write_list(sheet, name, list, &formats).map_err(error)?;
        }
        let buffer = workbook.save_to_buffer().map_err(error)?;
        super::write_file(path, &buffer)
    }

    /// The sheet 说明: the night, each list with its count, basis, action and department,
    /// then how to fill the lists in.
    fn write_guide(
        &self,
        sheet: &mut Worksheet,
        names: &[String],
        formats: &Formats,
    ) -> Result<(), XlsxError> {
        let (code, name) = self.county;
        let total: usize = self.lists.iter().map(|l| l.rows.len()).sum();
        sheet.set_name("说明")?;
        sheet.write_string_with_format(
            0,
            0,
            format!(
                "{name}{}（{code}）残疾人数据比对核查清单",
                self.township.unwrap_or_default()
            ),
            &formats.title,
        )?;
        sheet.write_string(
            1,
            0,
            format!(
                "数据截至{}；共{}张清单、{}条疑点，请逐条核查后填写并交回。",
                self.as_of,
                self.lists.len(),
                total
            ),
        )?;
        for (col, (header, width)) in GUIDE_HEADER.iter().zip(GUIDE_WIDTHS).enumerate() {
            sheet.set_column_width(col as u16, width)?;
            sheet.write_string_with_format(3, col as u16, *header, &formats.header)?;
        }
        let mut row = 4;
        for (list, sheet_name) in self.lists.iter().zip(names) {
            let rule = list.rule;
            let cells = [
                sheet_name.as_str(),
                &rule.id,
                "",
                &rule.basis,
                or_dash(&rule.action),
                or_dash(&rule.department),
                &list.meaning,
            ];
            let texts = cells
                .iter()
                .zip(GUIDE_WIDTHS)
                .map(|(t, w)| (t.to_string(), w));
            sheet.set_row_height(row, LINE_HEIGHT * lines_of(texts))?;
            for (col, cell) in cells.iter().enumerate() {
                sheet.write_string_with_format(row, col as u16, *cell, &formats.wrap)?;
            }
            sheet.write_number_with_format(row, 2, list.rows.len() as f64, &formats.number)?;
            row += 1;
        }
        if !self.not_checked.is_empty() {
            row += 1;
            sheet.write_string(
                row,
                0,
                "今晚有规则在本区县未能核查，原因见工作表“未核查”；相关台账事项今晚不销号。",
            )?;
            row += 1;
        }
        row += 1;
        for line in HOW_TO_FILL {
            sheet.write_string(row, 0, line)?;
            row += 1;
        }
        sheet.set_landscape();
        sheet.set_paper_size(A4);
        sheet.set_print_fit_to_pages(1, 0);
        sheet.set_footer(FOOTER);
        Ok(())
    }

    fn write_not_checked(&self, sheet: &mut Worksheet, formats: &Formats) -> Result<(), XlsxError> {
        sheet.set_name("未核查")?;
        for (col, (header, width)) in NOT_CHECKED_HEADER.iter().zip([10, 28, 60, 16]).enumerate() {
            sheet.set_column_width(col as u16, width)?;
            sheet.write_string_with_format(0, col as u16, *header, &formats.header)?;
        }
        for (r, cells) in self.not_checked.iter().enumerate() {
            for (col, cell) in cells.iter().enumerate() {
                sheet.write_string(r as u32 + 1, col as u16, cell)?;
            }
        }
        Ok(())
    }
}

fn or_dash(text: &str) -> &str {
    match text.is_empty() {
        true => "—",
        false => text,
    }
}

/// A sheet per list, named by its rule's name (Excel's limits: 31 characters, none of
/// `[]:*?/\`); a name two rules share gets its rule id.
fn sheet_names(lists: &[List]) -> Vec<String> {
    let clean = |name: &str| -> String {
        name.chars()
            .filter(|c| !"[]:*?/\\'".contains(*c))
            .take(31)
            .collect()
    };
    let names: Vec<String> = lists.iter().map(|l| clean(&l.rule.name)).collect();
    names
        .iter()
        .zip(lists)
        .map(|(name, list)| {
            let shared = names.iter().filter(|n| *n == name).count() > 1;
            match shared || name.is_empty() || name == "说明" || name == "未核查" {
                true => clean(&format!("{}{}", list.rule.id, name)),
                false => name.clone(),
            }
        })
        .collect()
}

/// One rule's list: header, rows, autofilter, frozen header, the editable columns' lists and
/// dates, and a print setup of landscape A4 one page wide with the header on every page.
fn write_list(
    sheet: &mut Worksheet,
    name: &str,
    list: &List,
    formats: &Formats,
) -> Result<(), XlsxError> {
    sheet.set_name(name)?;
    let last_column = (COLUMNS.len() - 1) as u16;
    sheet.set_row_height(0, LINE_HEIGHT * 2.0)?;
    for (col, (header, width)) in COLUMNS.iter().enumerate() {
        sheet.set_column_width(col as u16, *width)?;
        let format = match EDITABLE.contains(header) {
            true => &formats.editable_header,
            false => &formats.header,
        };
        sheet.write_string_with_format(0, col as u16, *header, format)?;
    }
    for (r, cells) in list.rows.iter().enumerate() {
        let row = r as u32 + 1;
        let texts = cells
            .iter()
            .zip(COLUMNS)
            .filter_map(|(cell, (_, width))| match cell {
                Cell::Text(t) => Some((t.clone(), width)),
                Cell::Number(_) => None,
            });
        sheet.set_row_height(row, LINE_HEIGHT * lines_of(texts))?;
        for (col, cell) in cells.iter().enumerate() {
            match cell {
                Cell::Text(t) if t.is_empty() => {}
                Cell::Text(t) => {
                    sheet.write_string_with_format(row, col as u16, t, &formats.wrap)?;
                }
                Cell::Number(n) => {
                    sheet.write_number_with_format(row, col as u16, *n, &formats.number)?;
                }
            }
        }
    }
    let last_row = list.rows.len().max(1) as u32;
    sheet.set_freeze_panes(1, 0)?;
    sheet.autofilter(0, 0, last_row, last_column)?;
    let column = |header: &str| COLUMNS.iter().position(|(h, _)| *h == header).unwrap_or(0) as u16;
    let results = DataValidation::new()
        .allow_list_strings(&RESULTS)?
        .set_error_title("核查结果")?
        .set_error_message("请从下拉列表选择：属实、不属实、已整改、政策外情形、其他")?;
    let result_column = column(EDITABLE[0]);
    sheet.add_data_validation(1, result_column, last_row, result_column, &results)?;
    let first = ExcelDateTime::from_ymd(2000, 1, 1)?;
    let last = ExcelDateTime::from_ymd(2099, 12, 31)?;
    let dates = DataValidation::new()
        .allow_date(DataValidationRule::Between(first, last))
        .set_input_message("请填写日期，如 2021-03-31")?
        .set_error_message("请填写日期，如 2021-03-31")?;
    let deadline_column = column(EDITABLE[3]);
    sheet.add_data_validation(1, deadline_column, last_row, deadline_column, &dates)?;
    sheet.set_landscape();
    sheet.set_paper_size(A3);
    sheet.set_print_fit_to_pages(1, 0);
    sheet.set_repeat_rows(0, 0)?;
    sheet.set_footer(FOOTER);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_import_columns_are_columns_of_the_list() {
        for header in EDITABLE
            .iter()
            .chain(&[KEY_COLUMN, NIGHT_COLUMN, COUNTY_COLUMN])
        {
            assert!(COLUMNS.iter().any(|(h, _)| h == header), "{header}");
        }
        let editable: Vec<&str> = COLUMNS[COLUMNS.len() - 5..]
            .iter()
            .map(|(h, _)| *h)
            .collect();
        assert_eq!(
            editable, EDITABLE,
            "the editable columns stand at the right"
        );
    }
}
