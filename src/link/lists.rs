//! The lists of `recon link`: one or two CSV files, decoded like the job's exports (UTF-8,
//! BOM, UTF-16, GBK/GB18030), their mapped columns normalized like the job's cells, as one
//! `LinkTable` (the left list's rows first). The text is cut into chunks of whole records,
//! parsed and normalized in parallel; only the rows' values are kept.

use std::path::Path;

use chrono::NaiveDate;
use rayon::prelude::*;

use super::table::{LinkTable, Origin, TableBuilder, Value, NO_GROUP};
use crate::config::link::{ListColumn, ListsSettings, LIST_NAMES};
use crate::ingest::{encoding, ReadError};
use crate::model::id_number::{self, IdNumber, IdRepair};
use crate::model::name::{normalize_name, Name, NameRepair};
use crate::model::words::{normalize_value, Cleaned};
use crate::model::{Cell, FieldKind};

/// The rows of the lists and what names them in the outputs.
pub struct Lists {
    pub table: LinkTable,
    /// Per row: the value of the id column, or the 1-based row number.
    pub ids: Vec<String>,
    /// Rows that could not be read: (list, 1-based row, reason).
    pub rejects: Vec<(usize, usize, String)>,
}

/// A normalized value a row holds for one field.
enum Owned {
    Id(IdNumber, bool),
    Name(Name),
    Date(Option<NaiveDate>),
    Word(Option<String>),
}

/// Why a list cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    #[error("{path}: {problem}")]
    Unreadable { path: String, problem: ReadError },
    #[error("{path}: no column `{header}` (columns: {})", columns.join(", "))]
    NoColumn {
        path: String,
        header: String,
        columns: Vec<String>,
    },
}

pub fn read(paths: &[&Path], settings: &ListsSettings) -> Result<Lists, ListError> {
    let names = match paths.len() {
        2 => LIST_NAMES.iter().map(|s| s.to_string()).collect(),
        _ => vec![LIST_NAMES[0].to_string()],
    };
    let mut builder = TableBuilder::new(&settings.link.features, names, 0);
    let (mut ids, mut rejects) = (Vec::new(), Vec::new());
    for (side, path) in paths.iter().enumerate() {
        let mut read = Read {
            builder: &mut builder,
            ids: &mut ids,
            rejects: &mut rejects,
        };
        read_list(path, side, settings, &mut read)?;
    }
    Ok(Lists {
        table: builder.finish(),
        ids,
        rejects,
    })
}

/// Where a list's rows go.
struct Read<'a> {
    builder: &'a mut TableBuilder,
    ids: &'a mut Vec<String>,
    rejects: &'a mut Vec<(usize, usize, String)>,
}

fn read_list(
    path: &Path,
    side: usize,
    settings: &ListsSettings,
    read: &mut Read,
) -> Result<(), ListError> {
    let unreadable = |problem: ReadError| ListError::Unreadable {
        path: path.display().to_string(),
        problem,
    };
    let bytes = std::fs::read(path).map_err(|e| unreadable(e.into()))?;
    let (text, _) = encoding::decode(&bytes).map_err(unreadable)?;
    let header_end = record_end(text.as_bytes(), 0);
    let headers = csv::Reader::from_reader(&text.as_bytes()[..header_end])
        .headers()
        .map_err(|e| unreadable(ReadError::CsvRecord(e.to_string())))?
        .clone();
    let find = |header: &str| {
        headers
            .iter()
            .position(|h| h.trim() == header)
            .ok_or_else(|| ListError::NoColumn {
                path: path.display().to_string(),
                header: header.to_string(),
                columns: headers.iter().map(String::from).collect(),
            })
    };
    let layout = Layout {
        columns: settings
            .columns
            .iter()
            .map(|c| Ok((c, find(&c.header)?)))
            .collect::<Result<_, ListError>>()?,
        id_column: settings.id_column.as_deref().map(find).transpose()?,
        width: headers.len(),
    };
    let distinct = settings
        .link
        .distinct_rows_in
        .iter()
        .any(|d| d.source == LIST_NAMES[side]);
    let origin = Origin {
        group: if distinct { side as u32 } else { NO_GROUP },
        side: side as u8,
        source: side as u8,
    };
    let chunks: Vec<Chunk> = chunk_bounds(text.as_bytes(), header_end)
        .par_iter()
        .map(|range| layout.parse(&text[range.clone()]))
        .collect();
    let mut first_row = 1;
    for chunk in chunks {
        let width = layout.columns.len();
        for (k, (index, id)) in chunk.kept.into_iter().enumerate() {
            let values: Vec<Value> = chunk.values[k * width..(k + 1) * width]
                .iter()
                .map(as_value)
                .collect();
            read.builder.push(origin, &values);
            read.ids
                .push(id.unwrap_or_else(|| (first_row + index).to_string()));
        }
        for (index, reason) in chunk.rejects {
            read.rejects.push((side, first_row + index, reason));
        }
        first_row += chunk.records;
    }
    Ok(())
}

/// Where the mapped columns are in a list's records.
struct Layout<'a> {
    columns: Vec<(&'a ListColumn, usize)>,
    id_column: Option<usize>,
    width: usize,
}

/// One chunk of a list's records, parsed and normalized.
struct Chunk {
    records: usize,
    /// The kept records: their index in the chunk, and their id column's value.
    kept: Vec<(usize, Option<String>)>,
    /// The kept records' values, one a mapped column.
    values: Vec<Owned>,
    /// (record in the chunk, reason).
    rejects: Vec<(usize, String)>,
}

impl Layout<'_> {
    fn parse(&self, text: &str) -> Chunk {
        let mut chunk = Chunk {
            records: 0,
            kept: Vec::new(),
            values: Vec::new(),
            rejects: Vec::new(),
        };
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        let mut record = csv::StringRecord::new();
        loop {
            let index = chunk.records;
            match reader.read_record(&mut record) {
                Ok(false) => return chunk,
                Ok(true) if record.len() == self.width => chunk.records += 1,
                Ok(true) => {
                    chunk.records += 1;
                    let reason = format!("{} fields, the header has {}", record.len(), self.width);
                    chunk.rejects.push((index, reason));
                    continue;
                }
                Err(e) => {
                    chunk.records += 1;
                    chunk.rejects.push((index, e.to_string()));
                    continue;
                }
            }
            for (column, at) in &self.columns {
                chunk
                    .values
                    .push(normalized(column, record.get(*at).unwrap_or("")));
            }
            let id = self
                .id_column
                .map(|at| record.get(at).unwrap_or("").to_string());
            chunk.kept.push((index, id));
        }
    }
}

/// Where the record starting at `start` ends (after its line break), quotes respected.
fn record_end(text: &[u8], start: usize) -> usize {
    let mut quoted = false;
    for (i, &b) in text[start..].iter().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => return start + i + 1,
            _ => {}
        }
    }
    text.len()
}

/// Ranges of whole records of about `CHUNK_BYTES` each, from `start` to the end: a chunk ends
/// at a line break outside quotes, so a quoted field with line breaks stays whole.
fn chunk_bounds(text: &[u8], start: usize) -> Vec<std::ops::Range<usize>> {
    const CHUNK_BYTES: usize = 4 << 20;
    let mut bounds = Vec::new();
    let (mut at, mut quoted) = (start, false);
    let mut chunk_start = start;
    while at < text.len() {
        let end = (chunk_start + CHUNK_BYTES).min(text.len());
        quoted ^= text[at..end].iter().filter(|&&b| b == b'"').count() % 2 == 1;
        at = end;
        while at < text.len() && (quoted || text[at - 1] != b'\n') {
            if text[at] == b'"' {
                quoted = !quoted;
            }
            at += 1;
        }
        bounds.push(chunk_start..at);
        chunk_start = at;
    }
    bounds
}

fn normalized(column: &ListColumn, text: &str) -> Owned {
    match column.kind {
        kind if kind.is_id_like() => {
            let parsed = id_number::parse_id(text, false);
            let legacy = parsed.repairs.contains(&IdRepair::Legacy15);
            Owned::Id(parsed.id, legacy)
        }
        FieldKind::Name => Owned::Name(normalize_name(text)),
        kind => {
            let cell = Cell::typed(text);
            match normalize_value(kind, &cell) {
                Cleaned::Date(d) => Owned::Date(Some(d)),
                _ if kind == FieldKind::Date => Owned::Date(None),
                Cleaned::Text(t) | Cleaned::Unparsed(t) | Cleaned::DamagedId(t) => {
                    Owned::Word(Some(t))
                }
                Cleaned::Id(id) => Owned::Word(id.valid().map(str::to_string)),
                Cleaned::Empty => Owned::Word(None),
            }
        }
    }
}

fn as_value(owned: &Owned) -> Value<'_> {
    match owned {
        Owned::Id(id, legacy) => Value::Id(id, *legacy),
        Owned::Name(name) => {
            Value::Name(&name.text, name.repairs.contains(&NameRepair::Traditional))
        }
        Owned::Date(date) => Value::Date(*date, false),
        Owned::Word(word) => Value::Word(word.as_deref(), false),
    }
}
