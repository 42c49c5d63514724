//! Readers that turn a CSV or spreadsheet file into grids of cells: every cell as text, with
//! its origin (text, number, date) kept so that later stages know an ID was in a number cell.

use std::path::Path;

use calamine::{Data, Reader};

use super::encoding::{decode, TextEncoding};
use crate::model::{Cell, CellOrigin};
use crate::normalize::date::from_excel_serial;

/// One sheet (or a whole CSV) as rows of cells, in file order.
pub struct Grid {
    pub sheet: Option<String>,
    pub rows: Vec<Vec<Cell>>,
}

pub struct ReadFile {
    pub grids: Vec<Grid>,
    pub encoding: Option<TextEncoding>,
}

pub fn read_csv(bytes: &[u8]) -> Result<ReadFile, String> {
    let (text, encoding) = decode(bytes)?;
    let first_line = text.lines().next().unwrap_or("");
    let delimiter = if first_line.contains('\t') && !first_line.contains(',') {
        b'\t'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format!("CSV line {}: {e}", index + 1))?;
        rows.push(
            record
                .iter()
                .map(|f| Cell {
                    text: f.to_string(),
                    origin: CellOrigin::Text,
                })
                .collect(),
        );
    }
    Ok(ReadFile {
        grids: vec![Grid { sheet: None, rows }],
        encoding: Some(encoding),
    })
}

/// Every sheet of an XLSX/XLS workbook that holds at least one non-empty cell.
pub fn read_workbook(path: &Path) -> Result<ReadFile, String> {
    let mut workbook =
        calamine::open_workbook_auto(path).map_err(|e| format!("unreadable spreadsheet: {e}"))?;
    let mut grids = Vec::new();
    for name in workbook.sheet_names() {
        let range = workbook
            .worksheet_range(&name)
            .map_err(|e| format!("sheet {name}: {e}"))?;
        let rows: Vec<Vec<Cell>> = range
            .rows()
            .map(|row| row.iter().map(cell_of).collect())
            .collect();
        if rows.iter().flatten().any(|c| !c.text.trim().is_empty()) {
            grids.push(Grid {
                sheet: Some(name),
                rows,
            });
        }
    }
    Ok(ReadFile {
        grids,
        encoding: None,
    })
}

fn cell_of(data: &Data) -> Cell {
    let number = |text: String| Cell {
        text,
        origin: CellOrigin::Number,
    };
    match data {
        Data::Empty => Cell::default(),
        Data::String(s) => Cell {
            text: s.clone(),
            origin: CellOrigin::Text,
        },
        Data::Int(i) => number(i.to_string()),
        Data::Float(f) => number(float_text(*f)),
        Data::Bool(b) => Cell {
            text: if *b { "是" } else { "否" }.into(),
            origin: CellOrigin::Text,
        },
        Data::DateTime(dt) => match from_excel_serial(dt.as_f64()) {
            Some(date) => Cell {
                text: date.format("%Y-%m-%d").to_string(),
                origin: CellOrigin::Date,
            },
            None => number(float_text(dt.as_f64())),
        },
        Data::DateTimeIso(s) | Data::DurationIso(s) => Cell {
            text: s.clone(),
            origin: CellOrigin::Date,
        },
        Data::Error(e) => Cell {
            text: format!("#{e:?}"),
            origin: CellOrigin::Text,
        },
    }
}

/// The shortest text that reads back as the same float, without an exponent: an ID in a
/// number cell shows as `420325199003071000`, as Excel shows it reformatted as text.
fn float_text(f: f64) -> String {
    f.to_string()
}
