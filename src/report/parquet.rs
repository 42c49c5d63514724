//! `--parquet`: the run's records as one typed table, `records.parquet` (a row per record: its
//! file and row, source, person and how it was placed, county, ID state, name, birth date as a
//! date, then every field the config reads, dates as dates), and `links.parquet` (links.csv's
//! rows: every data row read, its person or the reason it was rejected), for an office's BI
//! tools and for the national run; and `keys.parquet` (each record's blocking keys, keyed
//! hashes, that a national run joins provinces' rows on). IDs, ID-like fields (a household head's ID, a certificate
//! number) and names are masked unless `--full-ids`, as in the gap lists. Rows are written a
//! row group at a time, so a province's tables are never whole in memory.

use std::borrow::Cow;
use std::ops::Range;
use std::path::Path;

use chrono::NaiveDate;
use polars::prelude::*;

use super::{create_private_file, report_error, ReportError, RunResult};
use crate::mask::{mask_id, mask_name};
use crate::model::id_number::IdNumber;
use crate::model::{FieldKind, FieldRole, Record};

/// Rows per row group.
const BATCH_ROWS: usize = 1 << 18;

/// A field column: its name and kind, and the field's index in each source that stores it.
struct FieldColumn {
    name: String,
    kind: FieldKind,
    of_source: Vec<Option<usize>>,
}

/// The fields the records store, by name across sources, in the config's order; the name, ID
/// and county fields are columns of their own.
fn field_columns(result: &RunResult) -> Vec<FieldColumn> {
    let sources = &result.settings().sources;
    let mut columns: Vec<FieldColumn> = Vec::new();
    for (s, source) in sources.iter().enumerate() {
        for (f, field) in source.fields.iter().enumerate() {
            let own_column = matches!(
                field.kind,
                FieldKind::Name | FieldKind::County | FieldKind::CountyCode
            ) || field.role == Some(FieldRole::IdNumber);
            if own_column || !result.records.stores(s, f) {
                continue;
            }
            let at = match columns.iter().position(|c| c.name == field.name) {
                Some(at) => at,
                None => {
                    columns.push(FieldColumn {
                        name: field.name.clone(),
                        kind: field.kind,
                        of_source: vec![None; sources.len()],
                    });
                    columns.len() - 1
                }
            };
            columns[at].of_source[s] = Some(f);
        }
    }
    columns
}

/// Days since 1970-01-01, as Parquet stores a date.
fn epoch_days(date: NaiveDate) -> i32 {
    (date - NaiveDate::default()).num_days() as i32
}

fn date_column(name: &str, days: Vec<Option<i32>>) -> PolarsResult<Column> {
    Column::new(name.into(), days).cast(&DataType::Date)
}

/// A string column of `rows` values, each given by `value` (borrowed where it can be: a
/// province has tens of millions of rows).
fn strings<'a>(
    name: &str,
    rows: usize,
    values: impl Iterator<Item = Option<Cow<'a, str>>>,
) -> Column {
    let mut builder = StringChunkedBuilder::new(name.into(), rows);
    for value in values {
        builder.append_option(value);
    }
    builder.finish().into_column()
}

/// One row group of `records.parquet`: records `range`.
fn records_batch(
    result: &RunResult,
    fields: &[FieldColumn],
    range: Range<usize>,
) -> PolarsResult<DataFrame> {
    let records = &result.records.as_slice()[range.clone()];
    let full = result.full_ids;
    let rows = records.len();
    let masked = |shown: &str| -> Cow<'_, str> {
        match full {
            true => Cow::Owned(shown.to_string()),
            false => Cow::Owned(mask_id(shown)),
        }
    };
    let id = |record: &Record| -> Option<Cow<'_, str>> {
        let shown = match result.records.id(record) {
            IdNumber::Valid(id) => id.as_str(),
            IdNumber::Invalid { digits, .. } => digits.as_str(),
            IdNumber::Damaged { prefix } => prefix.as_str(),
            IdNumber::Missing => return None,
        };
        Some(masked(shown))
    };
    let mut keys = StringChunkedBuilder::new("person_key".into(), rows);
    for i in range.clone() {
        result.show_person_key(i, |key| keys.append_value(key));
    }
    let mut columns = vec![
        strings(
            "source_file",
            rows,
            records
                .iter()
                .map(|r| Some(result.file_name(r.row.file).into())),
        ),
        Column::new(
            "source_row".into(),
            records.iter().map(|r| r.row.row).collect::<Vec<u32>>(),
        ),
        strings(
            "source",
            rows,
            records
                .iter()
                .map(|r| Some(result.settings().sources[r.source()].key.as_str().into())),
        ),
        keys.finish().into_column(),
        strings(
            "evidence",
            rows,
            range
                .clone()
                .zip(records)
                .map(|(i, _)| Some(result.linkage.evidence(i, result.records))),
        ),
        household_keys(result, range.clone().map(Some), rows),
        strings(
            "county_code",
            rows,
            records
                .iter()
                .map(|r| r.county().map(|c| c.code.as_str().into())),
        ),
        strings("id_number", rows, records.iter().map(id)),
        strings(
            "id_state",
            rows,
            records
                .iter()
                .map(|r| Some(result.records.id(r).state().into())),
        ),
        strings(
            "id_source",
            rows,
            records.iter().map(|r| Some(r.id_source().code().into())),
        ),
        strings(
            "name",
            rows,
            records.iter().map(|r| {
                let name = result.records.name(r);
                (!name.is_empty()).then(|| match full {
                    true => Cow::Borrowed(name),
                    false => Cow::Owned(mask_name(name)),
                })
            }),
        ),
        date_column(
            "birth_date",
            records
                .iter()
                .map(|r| r.birth_date.map(epoch_days))
                .collect(),
        )?,
    ];
    for field in fields {
        // A birth date column is the record's own birth date where the ID gives none.
        if columns.iter().any(|c| c.name().as_str() == field.name) {
            continue;
        }
        let value = |r: &Record| field.of_source[r.source()].map(|f| result.records.value(r, f));
        if field.kind == FieldKind::Date {
            let days = records
                .iter()
                .map(|r| value(r).and_then(|v| v.date()).map(epoch_days))
                .collect();
            columns.push(date_column(&field.name, days)?);
            continue;
        }
        let words = records.iter().map(|r| {
            let shown = result.records.shown(value(r)?)?;
            Some(match field.kind.is_id_like() {
                true => Cow::Owned(masked(&shown).into_owned()),
                false => shown,
            })
        });
        columns.push(strings(&field.name, rows, words));
    }
    DataFrame::new(rows, columns)
}

/// Writes `records.parquet`.
pub fn write_records(path: &Path, result: &RunResult) -> Result<(), ReportError> {
    let fields = field_columns(result);
    let groups = row_groups(result.own_record_runs());
    write_batches(path, &groups, |range| records_batch(result, &fields, range))
}

/// One row group of `links.parquet`: `rows`, each a record (by index) or a reject.
/// The `household_key` column: for each record, its person's household's key, when known.
fn household_keys(
    result: &RunResult,
    records: impl Iterator<Item = Option<usize>>,
    rows: usize,
) -> Column {
    let mut keys = StringChunkedBuilder::new("household_key".into(), rows);
    for i in records {
        match i.and_then(|i| result.linkage.household_key_of(i)) {
            Some(key) => keys.append_value(key.text().as_str()),
            None => keys.append_null(),
        }
    }
    keys.finish().into_column()
}

fn links_batch(result: &RunResult, rows: &[LinkRow]) -> PolarsResult<DataFrame> {
    let at = |row: &LinkRow| match *row {
        LinkRow::Record(i) => result.records[i].row,
        LinkRow::Rejected(reject) => reject.row,
    };
    let mut keys = StringChunkedBuilder::new("person_key".into(), rows.len());
    for row in rows {
        match *row {
            LinkRow::Record(i) => result.show_person_key(i, |key| keys.append_value(key)),
            LinkRow::Rejected(_) => keys.append_null(),
        }
    }
    let evidence = rows.iter().map(|row| {
        Some(match *row {
            LinkRow::Record(i) => result.linkage.evidence(i, result.records),
            LinkRow::Rejected(reject) => Cow::Owned(format!("rejected:{}", reject.reason)),
        })
    });
    let columns = vec![
        strings(
            "source_file",
            rows.len(),
            rows.iter()
                .map(|row| Some(Cow::Borrowed(result.file_name(at(row).file)))),
        ),
        Column::new(
            "source_row".into(),
            rows.iter().map(|r| at(r).row).collect::<Vec<u32>>(),
        ),
        keys.finish().into_column(),
        strings("evidence", rows.len(), evidence),
        household_keys(
            result,
            rows.iter().map(|row| match *row {
                LinkRow::Record(i) => Some(i),
                LinkRow::Rejected(_) => None,
            }),
            rows.len(),
        ),
    ];
    DataFrame::new(rows.len(), columns)
}

/// A row of `links.parquet`.
#[derive(Clone, Copy)]
enum LinkRow<'a> {
    Record(usize),
    Rejected(&'a crate::model::Reject),
}

/// Writes `links.parquet`: records and rejects merged in (file, row) order.
pub fn write_links(path: &Path, result: &RunResult) -> Result<(), ReportError> {
    let mut rejects: Vec<_> = result.rejects.iter().collect();
    rejects.sort_by_key(|r| r.row);
    let records = result.records.as_slice();
    let mut rows: Vec<LinkRow> = Vec::with_capacity(records.len() + rejects.len());
    let mut pending = rejects.into_iter().peekable();
    for (i, record) in records.iter().enumerate() {
        let before = |r: &&crate::model::Reject| r.row < record.row;
        while let Some(reject) = pending.next_if(before) {
            rows.push(LinkRow::Rejected(reject));
        }
        rows.push(LinkRow::Record(i));
    }
    rows.extend(pending.map(LinkRow::Rejected));
    rows.retain(|row| match *row {
        LinkRow::Record(i) => !result.is_evidence(i),
        LinkRow::Rejected(reject) => !result.is_evidence_file(reject.row.file),
    });
    let groups = row_groups(std::iter::once(0..rows.len()));
    write_batches(path, &groups, |range| links_batch(result, &rows[range]))
}

/// Writes `keys.parquet`: a row per record and blocking rule under which it has a key, its
/// file, row and the key (a keyed hash, as a signed 64-bit number for engines without
/// unsigned ones).
pub fn write_blocking_keys(path: &Path, result: &RunResult) -> Result<(), ReportError> {
    let rules = result.settings().link.blocking.len().max(1);
    let keyed: Vec<(usize, i64)> = (result.blocking_keys.iter().enumerate())
        .filter(|(at, key)| **key != 0 && !result.is_evidence(at / rules))
        .map(|(at, key)| (at / rules, *key as i64))
        .collect();
    write_batches(
        path,
        &row_groups(std::iter::once(0..keyed.len())),
        |range| {
            let keyed = &keyed[range];
            let row = |i: usize| result.records[i].row;
            let files = keyed
                .iter()
                .map(|&(i, _)| Some(Cow::Borrowed(result.file_name(row(i).file))));
            let columns = vec![
                strings("source_file", keyed.len(), files),
                Column::new(
                    "source_row".into(),
                    keyed.iter().map(|&(i, _)| row(i).row).collect::<Vec<u32>>(),
                ),
                Column::new(
                    "key".into(),
                    keyed.iter().map(|&(_, key)| key).collect::<Vec<i64>>(),
                ),
            ];
            DataFrame::new(keyed.len(), columns)
        },
    )
}

/// `rows`' row groups: runs of at most `BATCH_ROWS` (one empty group when there are none).
fn row_groups(rows: impl IntoIterator<Item = Range<usize>>) -> Vec<Range<usize>> {
    let mut groups: Vec<Range<usize>> = rows
        .into_iter()
        .flat_map(|run| {
            (run.clone().step_by(BATCH_ROWS))
                .map(move |start| start..(start + BATCH_ROWS).min(run.end))
        })
        .collect();
    if groups.is_empty() {
        groups.push(0..0);
    }
    groups
}

/// Writes a row group at a time, each made by `batch`, Zstd-compressed.
fn write_batches(
    path: &Path,
    groups: &[Range<usize>],
    batch: impl Fn(Range<usize>) -> PolarsResult<DataFrame>,
) -> Result<(), ReportError> {
    let error = |e: PolarsError| report_error(path, e);
    let file = create_private_file(path)?;
    let first = batch(groups[0].clone()).map_err(error)?;
    let mut writer = ParquetWriter::new(std::io::BufWriter::new(file))
        .with_compression(ParquetCompression::Zstd(None))
        .batched(first.schema())
        .map_err(error)?;
    writer.write_batch(&first).map_err(error)?;
    drop(first);
    for group in &groups[1..] {
        let frame = batch(group.clone()).map_err(error)?;
        writer.write_batch(&frame).map_err(error)?;
    }
    writer.finish().map_err(error)?;
    Ok(())
}
