//! The period report (`recon ledger report --from --to`): what happened to the ledger's items
//! over a month, a quarter or a half-year, per county and rule, for the deadlines the
//! provincial plans set: items found, closed (and by what), checked and found no gap, and
//! still open by age. A printable page and a workbook with the same table.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use rust_xlsxwriter::{Format, Workbook};

use super::{create_private_dir, report_error, write_file, ReportError};
use crate::ledger::{PeriodCounts, PeriodTable};
use crate::model::region::Regions;

const HEADER: [&str; 11] = [
    "区县代码",
    "区县",
    "规则编号",
    "规则名称",
    "新发现",
    "销号（数据不再显示）",
    "销号（县级已整改，数据已印证）",
    "核实为例外",
    "期末未销号（30天内）",
    "期末未销号（31-90天）",
    "期末未销号（91天以上）",
];

pub struct Period<'a> {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Per ledger (a province's, in a national report): its name and its counts per (rule,
    /// county).
    pub ledgers: &'a [(String, PeriodTable)],
    /// Rule id -> name, from the config.
    pub rule_names: BTreeMap<String, String>,
}

impl Period<'_> {
    /// The table's rows, each ledger's county by county then rule by rule (with a total row
    /// of its own when there are several), and a total row.
    fn rows(&self) -> Vec<[String; 11]> {
        let mut total = PeriodCounts::default();
        let mut rows = Vec::new();
        for (name, counts) in self.ledgers {
            let (ledger_rows, ledger_total) = self.ledger_rows(counts);
            rows.extend(ledger_rows);
            add(&mut total, &ledger_total);
            if self.ledgers.len() > 1 {
                let label = format!("{name} 合计");
                rows.push(cells(
                    String::new(),
                    label,
                    String::new(),
                    String::new(),
                    &ledger_total,
                ));
            }
        }
        rows.push(cells(
            String::new(),
            "合计".into(),
            String::new(),
            String::new(),
            &total,
        ));
        rows
    }

    /// One ledger's rows, county by county then rule by rule, and its total.
    fn ledger_rows(&self, counts: &PeriodTable) -> (Vec<[String; 11]>, PeriodCounts) {
        let regions = Regions::bundled();
        let mut by_county: Vec<(&(String, String), &PeriodCounts)> = counts.iter().collect();
        by_county.sort_by(|a, b| (&a.0 .1, &a.0 .0).cmp(&(&b.0 .1, &b.0 .0)));
        let mut total = PeriodCounts::default();
        let rows = by_county
            .into_iter()
            .map(|((rule, county), c)| {
                add(&mut total, c);
                let name = regions
                    .by_code(county)
                    .map_or("未知区县".into(), |c| c.name.clone());
                let rule_name = self.rule_names.get(rule).cloned().unwrap_or_default();
                cells(county.clone(), name, rule.clone(), rule_name, c)
            })
            .collect();
        (rows, total)
    }

    /// Writes `period_<from>_<to>.html` and `.xlsx` into `dir` (made if missing).
    pub fn write(&self, dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
        create_private_dir(dir)?;
        let stem = format!("period_{}_{}", self.from, self.to);
        let rows = self.rows();
        let html = dir.join(format!("{stem}.html"));
        write_file(&html, self.page(&rows).as_bytes())?;
        let xlsx = dir.join(format!("{stem}.xlsx"));
        self.workbook(&rows, &xlsx)?;
        Ok(vec![html, xlsx])
    }

    fn page(&self, rows: &[[String; 11]]) -> String {
        let scope = match self.ledgers.len() {
            1 => String::new(),
            n => format!("（{n} 个台账）"),
        };
        let title = format!("台账进展{scope} {} 至 {}", self.from, self.to);
        let mut page = format!(
            "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{title}</title><style>{STYLE}</style></head><body><h1>{title}</h1><p>本期新发现、销号（及其依据）、经县级核实为例外的事项，以及期末仍未销号的事项按已开时长分组；只含统计数字，不含姓名或身份证号。</p><table><tr>"
        );
        for header in HEADER {
            let _ = write!(page, "<th>{header}</th>");
        }
        page += "</tr>";
        for row in rows {
            // Total rows have no rule (an item of no known county has no county code).
            page += if row[2].is_empty() {
                "<tr class=\"t\">"
            } else {
                "<tr>"
            };
            for (col, cell) in row.iter().enumerate() {
                let class = if col < 4 { " class=\"l\"" } else { "" };
                let _ = write!(page, "<td{class}>{}</td>", escape(cell));
            }
            page += "</tr>";
        }
        page + "</table></body></html>\n"
    }

    fn workbook(&self, rows: &[[String; 11]], path: &Path) -> Result<(), ReportError> {
        let error = |e: rust_xlsxwriter::XlsxError| report_error(path, e);
        let mut workbook = Workbook::new();
        let sheet = workbook.add_worksheet();
        sheet.set_name("台账进展").map_err(error)?;
        let bold = Format::new().set_bold().set_text_wrap();
        for (col, header) in HEADER.iter().enumerate() {
            let width = if col == 3 { 30 } else { 12 };
            sheet.set_column_width(col as u16, width).map_err(error)?;
            sheet
                .write_string_with_format(0, col as u16, *header, &bold)
                .map_err(error)?;
        }
        for (r, row) in rows.iter().enumerate() {
            for (col, cell) in row.iter().enumerate() {
                let (r, c) = (r as u32 + 1, col as u16);
                match cell.parse::<f64>() {
                    Ok(n) if col != 2 => sheet.write_number(r, c, n).map(|_| ()),
                    _ => sheet.write_string(r, c, cell).map(|_| ()),
                }
                .map_err(error)?;
            }
        }
        sheet.set_freeze_panes(1, 0).map_err(error)?;
        sheet.set_landscape();
        sheet.set_print_fit_to_pages(1, 0);
        sheet.set_repeat_rows(0, 0).map_err(error)?;
        let buffer = workbook.save_to_buffer().map_err(error)?;
        write_file(path, &buffer)
    }
}

fn add(total: &mut PeriodCounts, c: &PeriodCounts) {
    total.opened += c.opened;
    total.closed_by_data += c.closed_by_data;
    total.closed_fixed += c.closed_fixed;
    total.exceptions += c.exceptions;
    for (t, n) in total.open_by_age.iter_mut().zip(c.open_by_age) {
        *t += n;
    }
}

fn cells(
    county: String,
    name: String,
    rule: String,
    rule_name: String,
    c: &PeriodCounts,
) -> [String; 11] {
    let [young, middle, old] = c.open_by_age;
    [
        county,
        name,
        rule,
        rule_name,
        c.opened.to_string(),
        c.closed_by_data.to_string(),
        c.closed_fixed.to_string(),
        c.exceptions.to_string(),
        young.to_string(),
        middle.to_string(),
        old.to_string(),
    ]
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

const STYLE: &str = "body{font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif;margin:24px;color:#1f2933}table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #cbd2d9;padding:3px 6px;text-align:right}th{background:#d9e1f2}.l{text-align:left}tr.t{font-weight:bold}@media print{body{margin:0}}";
