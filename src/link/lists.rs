//! The lists of `recon link`: one or two CSV files, decoded like the job's exports (UTF-8,
//! BOM, UTF-16, GBK/GB18030), their mapped columns normalized like the job's cells, as one
//! `LinkTable` (the left list's rows first). Rows are read in chunks and normalized in
//! parallel, so a list of millions of rows never sits in memory as text.

use std::path::Path;

use chrono::NaiveDate;
use rayon::prelude::*;

use super::table::{LinkTable, Origin, TableBuilder, Value, NO_GROUP};
use crate::config::link::{ListColumn, ListsSettings, LIST_NAMES};
use crate::ingest::encoding;
use crate::model::{Cell, CellOrigin, FieldKind};
use crate::normalize::id_number::{self, IdNumber, IdRepair};
use crate::normalize::name::{normalize_name, Name};
use crate::normalize::normalize_value;

const CHUNK: usize = 65_536;

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

pub fn read(paths: &[&Path], settings: &ListsSettings) -> Result<Lists, String> {
    let names = match paths.len() {
        2 => LIST_NAMES.iter().map(|s| s.to_string()).collect(),
        _ => vec![LIST_NAMES[0].to_string()],
    };
    let mut builder = TableBuilder::new(&settings.link.features, names);
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
) -> Result<(), String> {
    let shown = path.display();
    let bytes = std::fs::read(path).map_err(|e| format!("{shown}: {e}"))?;
    let (text, _) = encoding::decode(&bytes).map_err(|e| format!("{shown}: {e}"))?;
    drop(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| format!("{shown}: {e}"))?
        .clone();
    let find = |header: &str| {
        headers
            .iter()
            .position(|h| h.trim() == header)
            .ok_or_else(|| {
                format!(
                    "{shown}: no column `{header}` (columns: {})",
                    headers.iter().collect::<Vec<_>>().join(", ")
                )
            })
    };
    let columns: Vec<usize> = settings
        .columns
        .iter()
        .map(|c| find(&c.header))
        .collect::<Result<_, _>>()?;
    let id_column = settings.id_column.as_deref().map(find).transpose()?;
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
    let mut records = reader.records().enumerate();
    loop {
        let mut chunk = Vec::with_capacity(CHUNK);
        for (index, record) in records.by_ref().take(CHUNK) {
            match record {
                Ok(r) if r.len() == headers.len() => chunk.push((index + 1, r)),
                Ok(r) => read.rejects.push((
                    side,
                    index + 1,
                    format!("{} fields, the header has {}", r.len(), headers.len()),
                )),
                Err(e) => read.rejects.push((side, index + 1, e.to_string())),
            }
        }
        if chunk.is_empty() {
            return Ok(());
        }
        let rows: Vec<Vec<Owned>> = chunk
            .par_iter()
            .map(|(_, record)| {
                settings
                    .columns
                    .iter()
                    .zip(&columns)
                    .map(|(column, &at)| normalized(column, record.get(at).unwrap_or("")))
                    .collect()
            })
            .collect();
        for ((number, record), values) in chunk.iter().zip(&rows) {
            let values: Vec<Value> = values.iter().map(as_value).collect();
            read.builder.push(origin, &values);
            read.ids.push(match id_column {
                Some(at) => record.get(at).unwrap_or("").to_string(),
                None => number.to_string(),
            });
        }
    }
}

fn normalized(column: &ListColumn, text: &str) -> Owned {
    match column.kind {
        FieldKind::Id | FieldKind::Certificate | FieldKind::StudentNumber => {
            let parsed = id_number::parse_id(text, false);
            let legacy = parsed.repairs.contains(&IdRepair::Legacy15);
            Owned::Id(parsed.id, legacy)
        }
        FieldKind::Name => Owned::Name(normalize_name(text)),
        kind => {
            let cell = Cell {
                text: text.to_string(),
                origin: CellOrigin::Text,
            };
            match normalize_value(kind, &cell) {
                crate::model::Value::Date(d) => Owned::Date(Some(d)),
                _ if kind == FieldKind::Date => Owned::Date(None),
                crate::model::Value::Text(t) | crate::model::Value::Unparsed(t) => {
                    Owned::Word(Some(t))
                }
                crate::model::Value::Empty => Owned::Word(None),
            }
        }
    }
}

fn as_value(owned: &Owned) -> Value<'_> {
    match owned {
        Owned::Id(id, legacy) => Value::Id(id, *legacy),
        Owned::Name(name) => Value::Name(name),
        Owned::Date(date) => Value::Date(*date, false),
        Owned::Word(word) => Value::Word(word.as_deref(), false),
    }
}
