//! Readers that turn a CSV or spreadsheet file into rows of cells: every cell as text, with its
//! origin (text, number, date) kept so that later stages know an ID was in a number cell. A
//! file is read twice: its head (the first rows, to find and map the header), then its rows in
//! chunks, so a whole file is never held as cells. CSV text is cut into pieces of whole records
//! and parsed in parallel.

use std::ops::Range;
use std::path::Path;

use calamine::{Data, Reader};
use rayon::prelude::*;

use super::encoding::{decode, TextEncoding};
use crate::model::{Cell, CellOrigin};
use crate::normalize::date::from_excel_serial;

/// The first rows of one part of a file (a CSV, or a sheet holding data).
pub struct Head {
    pub sheet: Option<String>,
    pub rows: Vec<Vec<Cell>>,
}

pub struct FileHead {
    pub parts: Vec<Head>,
    pub encoding: Option<TextEncoding>,
}

/// A CSV's head: rows up to the first non-blank one and `more` after it.
pub fn csv_head(bytes: &[u8], more: usize) -> Result<FileHead, String> {
    let (text, encoding) = decode(bytes)?;
    let mut rows = Vec::new();
    let mut first_nonblank = None;
    for (index, record) in csv_reader(&text, text.as_bytes()).records().enumerate() {
        let record = record.map_err(|e| format!("CSV line {}: {e}", index + 1))?;
        let row = cells_of(&record);
        if first_nonblank.is_none() && row.iter().any(|c| !c.text.trim().is_empty()) {
            first_nonblank = Some(index);
        }
        rows.push(row);
        if first_nonblank.is_some_and(|first| index >= first + more) {
            break;
        }
    }
    Ok(FileHead {
        parts: vec![Head { sheet: None, rows }],
        encoding: Some(encoding),
    })
}

/// The delimiter: a tab when the first line has tabs and no commas.
fn csv_reader<'t>(text: &str, bytes: &'t [u8]) -> csv::Reader<&'t [u8]> {
    let first_line = text.lines().next().unwrap_or("");
    let delimiter = match first_line.contains('\t') && !first_line.contains(',') {
        true => b'\t',
        false => b',',
    };
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(bytes)
}

fn cells_of(record: &csv::StringRecord) -> Vec<Cell> {
    record
        .iter()
        .map(|f| Cell {
            text: f.into(),
            origin: CellOrigin::Text,
        })
        .collect()
}

/// A CSV's rows after the first `skip`, handed to `each` in order, a window of parsed pieces at
/// a time; a piece holds about `piece_rows` rows.
pub fn csv_rows(
    bytes: &[u8],
    skip: usize,
    piece_rows: usize,
    mut each: impl FnMut(Vec<Vec<Cell>>),
) -> Result<(), String> {
    let (text, _) = decode(bytes)?;
    let mut reader = csv_reader(&text, text.as_bytes());
    let mut record = csv::StringRecord::new();
    for index in 0..skip {
        if !reader
            .read_record(&mut record)
            .map_err(|e| format!("CSV line {}: {e}", index + 1))?
        {
            return Ok(());
        }
    }
    let start = reader.position().byte() as usize;
    let pieces = split_records(text.as_bytes(), start, piece_rows.max(1) * 64);
    let window = rayon::current_num_threads() * 4;
    for group in pieces.chunks(window) {
        let parsed: Vec<Result<Vec<Vec<Cell>>, String>> = group
            .par_iter()
            .map(|piece| {
                let part = &text[piece.clone()];
                csv_reader(&text, part.as_bytes())
                    .records()
                    .map(|r| r.map(|r| cells_of(&r)).map_err(|e| format!("CSV: {e}")))
                    .collect()
            })
            .collect();
        for rows in parsed {
            each(rows?);
        }
    }
    Ok(())
}

/// Ranges of whole records of about `piece_bytes` each, from `start` to the end: a piece ends at
/// a line break outside quotes, so a quoted field with line breaks stays whole.
pub fn split_records(text: &[u8], start: usize, piece_bytes: usize) -> Vec<Range<usize>> {
    let mut pieces = Vec::new();
    let (mut at, mut quoted) = (start, false);
    let mut piece_start = start;
    while at < text.len() {
        let end = (piece_start + piece_bytes).min(text.len());
        quoted ^= text[at..end].iter().filter(|&&b| b == b'"').count() % 2 == 1;
        at = end;
        while at < text.len() && (quoted || text[at - 1] != b'\n') {
            if text[at] == b'"' {
                quoted = !quoted;
            }
            at += 1;
        }
        pieces.push(piece_start..at);
        piece_start = at;
    }
    pieces
}

/// Every sheet of an XLSX/XLS workbook that holds at least one non-empty cell, with its first
/// rows (up to the first non-blank one and `more` after it).
pub fn workbook_head(path: &Path, more: usize) -> Result<FileHead, String> {
    let mut workbook =
        calamine::open_workbook_auto(path).map_err(|e| format!("unreadable spreadsheet: {e}"))?;
    let mut parts = Vec::new();
    for name in workbook.sheet_names() {
        let range = workbook
            .worksheet_range(&name)
            .map_err(|e| format!("sheet {name}: {e}"))?;
        let blank = |row: &[Data]| row.iter().all(|c| cell_of(c).text.trim().is_empty());
        let Some(first) = range.rows().position(|r| !blank(r)) else {
            continue;
        };
        let rows = range
            .rows()
            .take(first + more + 1)
            .map(|row| row.iter().map(cell_of).collect())
            .collect();
        parts.push(Head {
            sheet: Some(name),
            rows,
        });
    }
    Ok(FileHead {
        parts,
        encoding: None,
    })
}

/// A sheet's rows after the first `skip`, handed to `each` in chunks of `chunk_rows`.
pub fn sheet_rows(
    path: &Path,
    sheet: &str,
    skip: usize,
    chunk_rows: usize,
    mut each: impl FnMut(Vec<Vec<Cell>>),
) -> Result<(), String> {
    let mut workbook =
        calamine::open_workbook_auto(path).map_err(|e| format!("unreadable spreadsheet: {e}"))?;
    let range = workbook
        .worksheet_range(sheet)
        .map_err(|e| format!("sheet {sheet}: {e}"))?;
    let mut chunk = Vec::with_capacity(chunk_rows);
    for row in range.rows().skip(skip) {
        chunk.push(row.iter().map(cell_of).collect());
        if chunk.len() == chunk_rows.max(1) {
            each(std::mem::take(&mut chunk));
        }
    }
    if !chunk.is_empty() {
        each(chunk);
    }
    Ok(())
}

fn cell_of(data: &Data) -> Cell {
    let number = |text: String| Cell {
        text: text.into(),
        origin: CellOrigin::Number,
    };
    match data {
        Data::Empty => Cell::default(),
        Data::String(s) => Cell {
            text: s.as_str().into(),
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
                text: compact_str::format_compact!("{}", date.format("%Y-%m-%d")),
                origin: CellOrigin::Date,
            },
            None => number(float_text(dt.as_f64())),
        },
        Data::DateTimeIso(s) | Data::DurationIso(s) => Cell {
            text: s.as_str().into(),
            origin: CellOrigin::Date,
        },
        Data::Error(e) => Cell {
            text: compact_str::format_compact!("#{e:?}"),
            origin: CellOrigin::Text,
        },
    }
}

/// The shortest text that reads back as the same float, without an exponent: an ID in a
/// number cell shows as `420325199003071000`, as Excel shows it reformatted as text.
fn float_text(f: f64) -> String {
    f.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// However the text is cut, the pieces hold the same records as the whole, quoted line
        /// breaks included.
        #[test]
        fn pieces_hold_whole_records(
            rows in proptest::collection::vec(("[a-c,]{0,4}", "[a-c\\n]{0,3}", any::<bool>()), 0..30),
            size in 1usize..40,
        ) {
            let text: String = rows
                .iter()
                .map(|(a, b, quote)| match quote {
                    true => format!("{a},\"{b}\"\n"),
                    false => format!("{a},x\n"),
                })
                .collect();
            let whole: Vec<Vec<String>> = csv_reader(&text, text.as_bytes())
                .records()
                .map(|r| r.unwrap().iter().map(String::from).collect())
                .collect();
            let mut pieced = Vec::new();
            for piece in split_records(text.as_bytes(), 0, size) {
                let part = &text[piece];
                for r in csv_reader(&text, part.as_bytes()).records() {
                    pieced.push(r.unwrap().iter().map(String::from).collect::<Vec<_>>());
                }
            }
            prop_assert_eq!(pieced, whole);
        }
    }
}
