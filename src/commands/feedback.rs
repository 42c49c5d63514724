//! `recon ledger import FILE... --ledger L`: the county workbooks (or their CSV twins) come
//! back with the right-hand columns filled in. Every sheet with a 台账编号 column is read, every
//! filled row checked cell by cell (a known 核查结果, a date in 完成时限, the list's date, the
//! item's county) and recorded in the ledger; a bad row goes to the rejects file with its file,
//! sheet, row, column and reason (in Chinese: the file goes back to the county), and never
//! stops the others. No message quotes a cell.

use std::path::Path;

use calamine::{Data, Reader};
use chrono::NaiveDate;

use super::{print, ExitStatus, Failure};
use crate::ingest::shown;
use crate::ledger::{Feedback, Recorded, Returned, RESULTS};
use crate::link::decisions::PairDecision;
use crate::model::date::{from_excel_serial, parse_date};
use crate::report::{
    COUNTY_COLUMN, DECISION_COLUMNS, EDITABLE, KEY_COLUMN, NIGHT_COLUMN, PAIR_KEY_COLUMNS,
};

/// `recon review import`: decisions on review pairs, by `pair_key`, into the ledger.
pub fn import_decisions(
    files: &[std::path::PathBuf],
    ledger_path: &Path,
    rejects_path: Option<&Path>,
) -> Result<ExitStatus, Failure> {
    let mut ledger = super::ledger::open_existing(ledger_path)?;
    let _lock = super::run::lock(&ledger_path.with_extension("lock"), ledger_path)?;
    let (mut read, mut blank) = (0, 0);
    let mut rejected: Vec<Rejected> = Vec::new();
    let mut decided: Vec<(String, PairDecision, String)> = Vec::new();
    for file in files {
        for (sheet, rows) in tables_of(file)? {
            let at = |row: &Vec<String>, names: [&str; 2]| {
                row.iter().position(|h| names.contains(&h.trim()))
            };
            let Some((header, key_at, decision_at)) =
                rows.iter().take(10).enumerate().find_map(|(i, r)| {
                    Some((i, at(r, PAIR_KEY_COLUMNS)?, at(r, DECISION_COLUMNS)?))
                })
            else {
                continue;
            };
            for (index, cells) in rows.iter().enumerate().skip(header + 1) {
                read += 1;
                let cell = |c: usize| cells.get(c).map_or("", |t| t.trim());
                let reject = |column: &str, reason: &str| Rejected {
                    place: Place {
                        file: shown(file),
                        sheet: sheet.clone(),
                        row: index + 1,
                    },
                    column: column.into(),
                    reason: reason.into(),
                };
                let (key, decision) = (cell(key_at), cell(decision_at));
                if decision.is_empty() {
                    blank += 1;
                    continue;
                }
                let Some(decision) = PairDecision::parse(decision) else {
                    rejected.push(reject("decision", "不是同一人、不同人之一"));
                    continue;
                };
                let shaped = key.len() == 17
                    && key.starts_with('D')
                    && key[1..].chars().all(|c| c.is_ascii_hexdigit());
                if !shaped {
                    rejected.push(reject(
                        "pair_key",
                        "不是review.csv中的配对编号（请勿修改此列）",
                    ));
                    continue;
                }
                decided.push((key.to_string(), decision, shown(file)));
            }
        }
    }
    let outcomes = ledger.record_decisions(&decided)?;
    let new = outcomes.iter().filter(|o| **o == Recorded::New).count();
    let rejects_path = rejects_path.map_or_else(
        || ledger_path.with_extension("review-rejects.csv"),
        Path::to_path_buf,
    );
    write_rejects(&rejects_path, &rejected)?;
    print(&format!(
        "{read} row(s) read from {} file(s): {new} recorded, {} unchanged, {blank} not decided, {} rejected ({})\n",
        files.len(),
        outcomes.len() - new,
        rejected.len(),
        rejects_path.display()
    ));
    Ok(match rejected.is_empty() {
        true => ExitStatus::Success,
        false => ExitStatus::BadInput,
    })
}

/// The longest text a county may write in one cell.
const MAX_CELL_CHARS: usize = 2000;

/// A filled row of a returned list: where it stands and its cells by column.
struct FilledRow<'a> {
    place: Place,
    cells: &'a [String],
}

/// A table of a returned file: its sheet's name (empty for a CSV) and its rows as text.
type Table = (String, Vec<Vec<String>>);

/// Where a returned row stands, for the rejects file.
#[derive(Clone)]
struct Place {
    file: String,
    sheet: String,
    /// The 1-based row of the sheet (or line of the CSV, header included).
    row: usize,
}

/// A row not recorded, and why.
struct Rejected {
    place: Place,
    column: String,
    reason: String,
}

/// The columns of a returned list, by position in its header row.
struct Columns {
    key: usize,
    night: Option<usize>,
    county: Option<usize>,
    editable: [Option<usize>; 5],
}

impl Columns {
    fn of(header: &[String]) -> Option<Columns> {
        let at = |name: &str| header.iter().position(|h| h.trim() == name);
        Some(Columns {
            key: at(KEY_COLUMN)?,
            night: at(NIGHT_COLUMN),
            county: at(COUNTY_COLUMN),
            editable: EDITABLE.map(at),
        })
    }
}

pub fn import(
    files: &[std::path::PathBuf],
    ledger_path: &Path,
    rejects_path: Option<&Path>,
) -> Result<ExitStatus, Failure> {
    let mut ledger = super::ledger::open_existing(ledger_path)?;
    let _lock = super::run::lock(&ledger_path.with_extension("lock"), ledger_path)?;
    let mut rejected: Vec<Rejected> = Vec::new();
    let mut returned: Vec<(Returned, Option<String>)> = Vec::new();
    let mut places: Vec<Place> = Vec::new();
    let (mut read, mut blank) = (0, 0);
    for file in files {
        for (sheet, rows) in tables_of(file)? {
            let Some((header, columns)) = header_of(&rows) else {
                continue;
            };
            for (index, cells) in rows.iter().enumerate().skip(header + 1) {
                read += 1;
                let place = Place {
                    file: shown(file),
                    sheet: sheet.clone(),
                    row: index + 1,
                };
                match checked(
                    &FilledRow {
                        place: place.clone(),
                        cells,
                    },
                    &columns,
                ) {
                    Ok(None) => blank += 1,
                    Ok(Some(row)) => {
                        returned.push(row);
                        places.push(place);
                    }
                    Err(reject) => rejected.push(reject),
                }
            }
        }
    }
    let outcomes = ledger.record_feedback(&returned)?;
    let (mut new, mut unchanged) = (0, 0);
    for (place, outcome) in places.into_iter().zip(outcomes) {
        match outcome {
            Recorded::New => new += 1,
            Recorded::Unchanged => unchanged += 1,
            Recorded::Refused(reason) => rejected.push(Rejected {
                place,
                column: KEY_COLUMN.into(),
                reason,
            }),
        }
    }
    let rejects_path = rejects_path.map_or_else(
        || ledger_path.with_extension("import-rejects.csv"),
        Path::to_path_buf,
    );
    write_rejects(&rejects_path, &rejected)?;
    print(&format!(
        "{read} row(s) read from {} file(s): {new} recorded, {unchanged} unchanged, {blank} not filled in, {} rejected ({})\n",
        files.len(),
        rejected.len(),
        rejects_path.display()
    ));
    Ok(match rejected.is_empty() {
        true => ExitStatus::Success,
        false => ExitStatus::BadInput,
    })
}

/// The header row (the first of the first ten rows that has a 台账编号 column) and its
/// columns.
fn header_of(rows: &[Vec<String>]) -> Option<(usize, Columns)> {
    rows.iter()
        .take(10)
        .enumerate()
        .find_map(|(at, row)| Columns::of(row).map(|c| (at, c)))
}

/// A returned row checked: `None` when the county filled nothing in; the row to record and
/// the county it names; or why it cannot be recorded.
fn checked(
    row: &FilledRow,
    columns: &Columns,
) -> Result<Option<(Returned, Option<String>)>, Rejected> {
    let cell = |at: Option<usize>| {
        at.and_then(|c| row.cells.get(c))
            .map_or(String::new(), |t| t.trim().to_string())
    };
    let reject = |column: &str, reason: &str| Rejected {
        place: row.place.clone(),
        column: column.to_string(),
        reason: reason.to_string(),
    };
    let [result, rectification, responsible, deadline, remark] = columns.editable.map(cell);
    let filled = [&result, &rectification, &responsible, &deadline, &remark];
    if filled.iter().all(|t| t.is_empty()) {
        return Ok(None);
    }
    let key = cell(Some(columns.key));
    if key.is_empty() {
        return Err(reject(KEY_COLUMN, "为空，无法对应台账事项"));
    }
    if !result.is_empty() && !RESULTS.contains(&result.as_str()) {
        let words = RESULTS.join("、");
        return Err(reject(EDITABLE[0], &format!("不是{words}之一")));
    }
    if let Some(at) = EDITABLE
        .iter()
        .zip(filled)
        .position(|(_, t)| t.chars().count() > MAX_CELL_CHARS)
    {
        return Err(reject(EDITABLE[at], &format!("超过{MAX_CELL_CHARS}字")));
    }
    let deadline = match deadline.is_empty() {
        true => String::new(),
        false => date_of(&deadline)
            .ok_or_else(|| reject(EDITABLE[3], "不是日期（请写成2021-03-31）"))?
            .to_string(),
    };
    let night = date_of(&cell(columns.night))
        .ok_or_else(|| reject(NIGHT_COLUMN, "为空或不是日期（请交回原清单，勿改此列）"))?;
    let county = Some(cell(columns.county)).filter(|c| !c.is_empty());
    let returned = Returned {
        key,
        feedback: Feedback {
            result,
            rectification,
            responsible,
            deadline,
            remark,
        },
        night,
        file: row.place.file.clone(),
    };
    Ok(Some((returned, county)))
}

/// A date as a county writes it: a date cell (read as its serial), 2021-03-31, 2021/3/31,
/// 2021年3月31日.
fn date_of(text: &str) -> Option<NaiveDate> {
    let serial = text
        .parse::<f64>()
        .ok()
        .filter(|s| (20_000.0..80_000.0).contains(s));
    serial
        .and_then(from_excel_serial)
        .or_else(|| parse_date(text))
}

/// Every table of a returned file as rows of text: each sheet of a workbook, or the CSV.
fn tables_of(path: &Path) -> Result<Vec<Table>, Failure> {
    let bad = |e: &dyn std::fmt::Display| Failure::BadInput(format!("{}: {e}", shown(path)));
    let is_csv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    if is_csv {
        let bytes = std::fs::read(path).map_err(|e| bad(&e))?;
        let (text, _) = crate::ingest::encoding::decode(&bytes).map_err(|e| bad(&e))?;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        let rows = reader
            .records()
            .map(|r| r.map(|r| r.iter().map(str::to_string).collect()))
            .collect::<Result<Vec<Vec<String>>, _>>()
            .map_err(|e| bad(&e))?;
        return Ok(vec![(String::new(), rows)]);
    }
    let mut workbook = calamine::open_workbook_auto(path).map_err(|e| bad(&e))?;
    let mut tables = Vec::new();
    for name in workbook.sheet_names() {
        let range = workbook.worksheet_range(&name).map_err(|e| bad(&e))?;
        let first_row = range.start().map_or(0, |(row, _)| row as usize);
        let mut rows: Vec<Vec<String>> = vec![Vec::new(); first_row];
        rows.extend(range.rows().map(|row| row.iter().map(text_of).collect()));
        tables.push((name, rows));
    }
    Ok(tables)
}

/// A cell as text; a date cell as its date, a whole number without a fraction.
fn text_of(data: &Data) -> String {
    match data {
        Data::DateTime(d) => from_excel_serial(d.as_f64()).map_or(String::new(), |d| d.to_string()),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        other => other.to_string(),
    }
}

fn write_rejects(path: &Path, rejected: &[Rejected]) -> Result<(), Failure> {
    let header = ["file", "sheet", "row", "column", "reason"];
    let internal =
        |e: &dyn std::fmt::Display| Failure::Internal(format!("{}: {e}", path.display()));
    let mut writer = crate::report::csv_writer(path, &header, true).map_err(|e| internal(&e))?;
    for r in rejected {
        let row = r.place.row.to_string();
        let line = [&r.place.file, &r.place.sheet, &row, &r.column, &r.reason];
        let line: Vec<_> = line.iter().map(|c| crate::report::inert(c)).collect();
        writer
            .write_record(line.iter().map(|c| c.as_ref()))
            .map_err(|e| internal(&e))?;
    }
    writer.flush().map_err(|e| internal(&e))
}
