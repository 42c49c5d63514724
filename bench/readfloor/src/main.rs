//! The read floor of `bench/run.sh`: the least a program needs to read a world's exports as
//! text. Every CSV is decoded to UTF-8 (GBK/GB18030 through encoding_rs, as polars reads UTF-8
//! only) and read by polars with every column a string; every XLSX sheet is read by calamine
//! with every cell made a string. Prints the rows read and the seconds taken.
//!
//!     readfloor DIR

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::time::Instant;

use calamine::{open_workbook_auto, Reader};
use polars::prelude::*;

fn main() {
    let dir = std::env::args().nth(1).expect("usage: readfloor DIR");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("readable folder")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    let start = Instant::now();
    let mut rows = 0;
    for path in &files {
        rows += match path.extension().and_then(|e| e.to_str()) {
            Some("csv") => read_csv(path),
            Some("xlsx") | Some("xls") => read_workbook(path),
            _ => 0,
        };
    }
    println!("rows {rows} seconds {:.3}", start.elapsed().as_secs_f64());
}

fn read_csv(path: &Path) -> usize {
    let bytes = std::fs::read(path).expect("readable file");
    let text = match std::str::from_utf8(&bytes) {
        Ok(_) => bytes,
        Err(_) => encoding_rs::GB18030.decode(&bytes).0.into_owned().into_bytes(),
    };
    let frame = CsvReadOptions::default()
        .with_infer_schema_length(Some(0))
        .into_reader_with_file_handle(Cursor::new(text))
        .finish()
        .expect("a CSV");
    frame.height()
}

fn read_workbook(path: &Path) -> usize {
    let mut workbook = open_workbook_auto(path).expect("a workbook");
    let mut rows = 0;
    for name in workbook.sheet_names() {
        let range = workbook.worksheet_range(&name).expect("a sheet");
        let text: Vec<Vec<String>> = range
            .rows()
            .map(|row| row.iter().map(|cell| cell.to_string()).collect())
            .collect();
        rows += text.len().saturating_sub(1);
    }
    rows
}
