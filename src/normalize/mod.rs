//! Normalize: raw cells in, typed person records out. IDs, certificates, student numbers,
//! names, dates, counties and vocabulary words are put in one canonical form that carries its
//! damage state; every defect is counted per file and column for the data-quality report.
//! Rows with neither a name nor any ID are rejected. Nothing here links rows to each other.

use std::collections::BTreeMap;

use rayon::prelude::*;

use crate::config::{Condition, Settings, Source};
use crate::ingest::{self, column_name, DataRow, IngestError, LoadedTable};
use crate::model::defect::Defect;
use crate::model::id_number::{self, IdNumber, ParsedId};
use crate::model::region::{Area, County, CountyProblem, CountyRef, Regions};
use crate::model::words::normalize_value;
use crate::model::{certificate, name, student_number};
use crate::model::{
    Cell, CellOrigin, FastMap, FieldKind, FieldRole, FileId, IdRef, IdSource, Ids, Marks, Record,
    Records, Reject, RejectReason, RowRef, SourceId, Value, Word, Words,
};

/// What a totals row at the foot of a sheet says where a name would be.
const SUMMARY_ROW_NAMES: [&str; 4] = ["合计", "总计", "小计", "共计"];

/// Defect counts: (file, column, defect code) -> rows.
pub type Quality = BTreeMap<(FileId, String, Defect), u64>;

pub struct Normalized {
    pub records: Records,
    pub rejects: Vec<Reject>,
    pub quality: Quality,
}

/// Rows a chunk holds while a table is read: the tables are read one at a time and each chunk
/// normalized in parallel, so memory holds the records and one chunk of raw cells. Set by
/// `RECON_CHUNK_ROWS` (the same records come out whatever its value).
fn chunk_rows() -> usize {
    std::env::var("RECON_CHUNK_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(65_536)
}

/// Reads and normalizes every table, in file and row order; returns the records, the rows
/// rejected here (ingest's rejects stay in their tables) and the seconds spent normalizing
/// (the rest of the time went to reading). Each chunk is normalized in parallel, then merged
/// into the records (in order, on a thread of its own) while the next chunk is read.
pub fn run(
    tables: &mut [LoadedTable],
    settings: &Settings,
    regions: &'static Regions,
) -> Result<(Normalized, f64), IngestError> {
    let stored = stored_fields(settings, tables);
    let mut all = Normalized {
        records: Records::new(&stored),
        rejects: Vec::new(),
        quality: Quality::new(),
    };
    let mut rows = vec![0; settings.sources.len()];
    (tables.iter()).for_each(|t| rows[t.mapping.source] += t.file.rows_at_most);
    all.records.reserve(&rows);
    let (sender, receiver) = std::sync::mpsc::sync_channel::<NormalizedChunk>(2);
    std::thread::scope(|scope| {
        let merger = scope.spawn(move || {
            let mut ambiguous = Vec::new();
            receiver
                .into_iter()
                .for_each(|chunk| chunk.merge_into(&mut all, &mut ambiguous));
            (all, ambiguous)
        });
        let normalizing = read_and_normalize(tables, settings, regions, &sender);
        drop(sender);
        let (mut all, ambiguous) = merger
            .join()
            .expect("the merge of normalized rows does not panic");
        counties_by_file_area(&mut all, ambiguous, (settings, tables), regions);
        heads_from_household_numbers(&mut all, settings, tables);
        all.records.seal();
        normalizing.map(|seconds| (all, seconds))
    })
}

/// Per source, per field: whether records keep its values: the config reads it and some file
/// of the source maps it (or, for a category or grade, a certificate number may fill it). A
/// field every department has (the household head's ID) costs nothing where no file holds it.
fn stored_fields(settings: &Settings, tables: &[LoadedTable]) -> Vec<Vec<bool>> {
    let mut stored = settings.fields_read();
    let mapped = |source: SourceId, field: Option<usize>| {
        field.is_some_and(|f| {
            (tables.iter()).any(|t| t.mapping.source == source && t.mapping.fields[f].is_some())
        })
    };
    for (source, fields) in stored.iter_mut().enumerate() {
        let definition = &settings.sources[source];
        // A household number fills in its head's ID (`heads_from_household_numbers`).
        let numbered = mapped(source, definition.field_for(FieldRole::HouseholdNumber));
        for (field, keep) in fields.iter_mut().enumerate() {
            let kind = definition.fields[field].kind;
            let filled = match definition.fields[field].role {
                Some(FieldRole::HouseholdHeadId) => numbered,
                _ => matches!(kind, FieldKind::Category | FieldKind::Grade),
            };
            *keep &= mapped(source, Some(field)) || filled;
        }
    }
    stored
}

/// Rows whose county cell names several counties that no ID told apart (朝阳区: Beijing's
/// and Changchun's) take the one in the area where most of their file's rows lie
/// (`Regions::resolve_in_area`), as a person reading the file would. Each is counted in the
/// quality report against the cell's column as `county_from_file_area`, no longer as missing.
fn counties_by_file_area(
    all: &mut Normalized,
    ambiguous: Vec<AmbiguousCounty>,
    (settings, tables): (&Settings, &[LoadedTable]),
    regions: &'static Regions,
) {
    if ambiguous.is_empty() {
        return;
    }
    let mut unresolved: FastMap<(FileId, u32), (usize, Box<str>)> = (ambiguous.into_iter())
        .map(|(file, row, field, cell)| ((file, row), (field, cell)))
        .collect();
    let mut areas: FastMap<FileId, Area> = (unresolved.keys())
        .map(|&(file, _)| (file, Area::default()))
        .collect();
    for record in all.records.iter() {
        if let (Some(area), Some(county)) = (areas.get_mut(&record.row.file), record.county) {
            area.add(county.county());
        }
    }
    for index in 0..all.records.iter().len() {
        let row = all.records[index].row;
        let Some((field, cell)) = unresolved.remove(&(row.file, row.row)) else {
            continue;
        };
        let Some(county) = regions.resolve_in_area(&cell, &areas[&row.file]) else {
            continue;
        };
        all.records.set_county(index, CountyRef::of(county));
        let table = &tables[row.file as usize];
        let source = &settings.sources[table.mapping.source];
        let column = |field: usize| {
            (table.mapping.fields[field].as_ref())
                .map_or(String::new(), |(c, _)| column_name(&table.headers, *c))
        };
        *(all.quality)
            .entry((row.file, column(field), Defect::CountyFromFileArea))
            .or_default() += 1;
        let charged = source
            .field_of_kind(FieldKind::County)
            .or(source.field_of_kind(FieldKind::CountyCode));
        if let Some(missing) = charged.map(|f| (row.file, column(f), Defect::CountyMissing)) {
            if let Some(n) = all.quality.get_mut(&missing) {
                *n -= 1;
                if *n == 0 {
                    all.quality.remove(&missing);
                }
            }
        }
    }
}

/// Rows that name their household by number (户编号) and not by its head's ID take the head's
/// ID of that number, within their source: the ID the number's other rows name as head, or the
/// own ID of its row whose relation says it is the head. A number with two such IDs is left
/// as it is. Each row filled is counted in the quality report against its number's column.
fn heads_from_household_numbers(all: &mut Normalized, settings: &Settings, tables: &[LoadedTable]) {
    for (source, definition) in settings.sources.iter().enumerate() {
        let records = &all.records;
        let (Some(number), Some(head)) = (
            definition.field_for(FieldRole::HouseholdNumber),
            definition.field_for(FieldRole::HouseholdHeadId),
        ) else {
            continue;
        };
        let unnamed = |r: &Record| {
            r.source() == source
                && records.value(r, head).is_empty()
                && !records.value(r, number).is_empty()
        };
        // Most exports name the head on every row: nothing to fill, nothing to gather.
        let fills = records.stores(source, number) && records.stores(source, head);
        if !(fills && records.iter().any(unnamed)) {
            continue;
        }
        let relation = definition.field_for(FieldRole::Relation);
        let is_head = |record: &Record| {
            let word = relation.and_then(|f| records.value(record, f).text());
            word.is_some_and(|w| HEAD_ITSELF.contains(&records.text(w)))
        };
        // Number -> its head's ID, or None when its rows name two.
        let mut head_of: FastMap<Word, Option<IdRef>> = FastMap::default();
        for record in records.iter().filter(|r| r.source() == source) {
            let Some(n) = records.value(record, number).text() else {
                continue;
            };
            let own = || records.id(record).valid().map(|_| record.id);
            let named = match records.value(record, head).id() {
                Some(id) => Some(id),
                None => is_head(record).then(own).flatten(),
            };
            if let Some(id) = named {
                head_of
                    .entry(n)
                    .and_modify(|known| {
                        if *known != Some(id) {
                            *known = None;
                        }
                    })
                    .or_insert(Some(id));
            }
        }
        let filled: Vec<(usize, IdRef)> = (records.iter().enumerate())
            .filter(|(_, r)| unnamed(r))
            .filter_map(|(i, r)| {
                let n = records.value(r, number).text()?;
                Some((i, (*head_of.get(&n)?)?))
            })
            .collect();
        let mut counted: FastMap<FileId, u64> = FastMap::default();
        for (i, id) in filled {
            *counted.entry(all.records[i].row.file).or_default() += 1;
            all.records.set(i, head, Value::Id(id));
        }
        #[expect(clippy::iter_over_hash_type, reason = "sums, the same in any order")]
        for (file, rows) in counted {
            let table = &tables[file as usize];
            let column = (table.mapping.fields[number].as_ref())
                .map_or(String::new(), |(c, _)| column_name(&table.headers, *c));
            *(all.quality)
                .entry((file, column, Defect::HeadFromHouseholdNumber))
                .or_default() += rows;
        }
    }
}

/// Each table's chunks of rows, normalized and handed to `merger`; the seconds spent
/// normalizing.
fn read_and_normalize(
    tables: &mut [LoadedTable],
    settings: &Settings,
    regions: &'static Regions,
    merger: &std::sync::mpsc::SyncSender<NormalizedChunk>,
) -> Result<f64, IngestError> {
    let mut normalizing = std::time::Duration::ZERO;
    let chunk = chunk_rows();
    let ahead = ingest::SheetsAhead::start(tables, chunk);
    for table in tables.iter_mut() {
        let source_id = table.mapping.source;
        let source = &settings.sources[source_id];
        let columns = std::sync::Arc::new(column_names(table));
        let file = table.file.id;
        ingest::read_rows(table, chunk, Some(&ahead), |rows| {
            let start = std::time::Instant::now();
            let parts = rows
                .par_chunks(1024)
                .map(|rows| {
                    let mut cells = SeenCells::default();
                    let mut defects = Vec::new();
                    let done = rows
                        .iter()
                        .map(|data| {
                            let row = RowRef {
                                file,
                                row: data.row,
                            };
                            normalize_row(
                                row,
                                data,
                                source,
                                source_id,
                                regions,
                                &mut cells,
                                &mut defects,
                            )
                            .map_err(|reason| reject_of(row, reason))
                        })
                        .collect();
                    defects.sort_unstable();
                    let tally = defects
                        .chunk_by(|a, b| a == b)
                        .map(|d| (d[0], d.len() as u64));
                    (
                        (cells.words, cells.ids),
                        done,
                        tally.collect(),
                        cells.ambiguous,
                    )
                })
                .collect();
            let chunk = NormalizedChunk {
                file,
                columns: columns.clone(),
                parts,
                rows,
            };
            // The merger ends only when this sender is dropped, so it is there to receive.
            let _ = merger.send(chunk);
            normalizing += start.elapsed();
        })?;
    }
    Ok(normalizing.as_secs_f64())
}

/// A chunk of one table's rows, normalized: per part of the chunk, its words, each row's
/// record and values (or its reject) and the defects found, counted by (field, code). The raw
/// rows come along to be freed off the reading thread.
struct NormalizedChunk {
    file: FileId,
    columns: std::sync::Arc<Vec<String>>,
    parts: Vec<NormalizedPart>,
    rows: Vec<DataRow>,
}

type NormalizedPart = (
    (Words, Ids),
    Vec<Result<(Record, Vec<Value>), Reject>>,
    Vec<((usize, Defect), u64)>,
    Vec<(u32, usize, Box<str>)>,
);

/// A row left without a county because its county cell names several: its file, row, field
/// and cell.
type AmbiguousCounty = (FileId, u32, usize, Box<str>);

impl NormalizedChunk {
    /// The chunk's records, rejects and defects added to `all`, its words renumbered, and its
    /// rows whose county cell named several counties to `ambiguous`.
    fn merge_into(self, all: &mut Normalized, ambiguous: &mut Vec<AmbiguousCounty>) {
        for ((words, ids), done, defects, unresolved) in self.parts {
            let file = self.file;
            ambiguous.extend(
                unresolved
                    .into_iter()
                    .map(|(row, f, cell)| (file, row, f, cell)),
            );
            let map = all.records.words.absorb(&words);
            let id_map = all.records.ids.absorb(&ids);
            for ((field, defect), n) in defects {
                let column = self.columns[field].clone();
                *all.quality.entry((self.file, column, defect)).or_default() += n;
            }
            for outcome in done {
                match outcome {
                    Ok((mut record, mut values)) => {
                        record.name = record.name.renumbered(&map);
                        record.id = record.id.renumbered(&id_map);
                        values
                            .iter_mut()
                            .for_each(|v| *v = v.renumbered(&map, &id_map));
                        all.records.push(record, &values);
                    }
                    Err(reject) => all.rejects.push(reject),
                }
            }
        }
        drop(self.rows);
    }
}

/// Each field's column as the quality report names it (`B 身份证号`).
fn column_names(table: &LoadedTable) -> Vec<String> {
    table
        .mapping
        .fields
        .iter()
        .map(|m| {
            m.as_ref()
                .map_or(String::new(), |(c, _)| column_name(&table.headers, *c))
        })
        .collect()
}

/// The reject of a row that cannot be a person row, for `normalize_row`'s reason.
fn reject_of(row: RowRef, reason: RejectReason) -> Reject {
    Reject {
        row,
        column: String::new(),
        reason,
        detail: match reason {
            RejectReason::SummaryRow => "a totals row (合计), not a person".into(),
            RejectReason::OutOfScope => {
                "another scheme's row (the source's set_aside), not this source's record".into()
            }
            _ => "the row has neither a name nor an ID, certificate or student number".into(),
        },
    }
}

/// Whether a row is another scheme's (`set_aside`: a word of one of its lists).
fn is_set_aside(source: &Source, values: &[Value], words: &Words) -> bool {
    source.set_aside.iter().any(|condition| match condition {
        Condition::FieldIn {
            field,
            words: wanted,
            ..
        } => values[*field]
            .text()
            .is_some_and(|w| wanted.iter().any(|x| x == words.text(w))),
        _ => false,
    })
}

/// One row -> one record and its values, or the reason it cannot be a person row.
fn normalize_row(
    row: RowRef,
    data: &DataRow,
    source: &Source,
    source_id: usize,
    regions: &'static Regions,
    cells: &mut SeenCells,
    defects: &mut Vec<(usize, Defect)>,
) -> Result<(Record, Vec<Value>), RejectReason> {
    let mut values: Vec<Value> = Vec::with_capacity(source.fields.len());
    let mut name = name::Name::default();
    let mut ids: Vec<(IdSource, ParsedId, usize)> = Vec::new();
    let mut derived: Vec<(FieldKind, &'static str)> = Vec::new();
    let mut registration = None;
    for (index, (field, cell)) in source.fields.iter().zip(&data.cells).enumerate() {
        let mut value = Value::Empty;
        match field.kind {
            FieldKind::Name => {
                name = name::normalize_name(&cell.text);
                defects.extend(name.repairs.iter().map(|r| (index, Defect::Name(*r))));
            }
            FieldKind::Id if field.role == Some(FieldRole::IdNumber) => {
                ids.push((
                    IdSource::IdColumn,
                    id_number::parse_id(&cell.text, cell.origin == CellOrigin::Number),
                    index,
                ));
            }
            FieldKind::Certificate => {
                let cert =
                    certificate::parse_certificate(&cell.text, cell.origin == CellOrigin::Number);
                derived.extend(cert.category.map(|c| (FieldKind::Category, c)));
                derived.extend(cert.grade.map(|g| (FieldKind::Grade, g)));
                ids.push((IdSource::Certificate, cert.id, index));
                // Kept as text too, for the county workbook to show.
                value = cells.value(index, FieldKind::Text, cell);
            }
            FieldKind::StudentNumber => {
                if let Some(parsed) = student_number::id_from_student_number(&cell.text) {
                    ids.push((IdSource::StudentNumber, parsed, index));
                }
                registration =
                    registration.or_else(|| student_number::registration_of_j_number(&cell.text));
            }
            FieldKind::County | FieldKind::CountyCode => {}
            kind => {
                value = cells.value(index, kind, cell);
                if matches!(value, Value::Unparsed(_) | Value::DamagedId(_)) {
                    defects.push((index, Defect::Unparsed(kind)));
                }
            }
        }
        values.push(value);
    }
    let words = &mut cells.words;
    fill_from_certificate(source, &mut values, &derived, words);
    let (mut id, mut id_source, id_legacy) = choose_id(&ids, defects);
    let head = match id.valid() {
        Some(_) => None,
        None => own_household_head(source, &values, words, &cells.ids),
    };
    if let Some(head) = head {
        defects.extend(
            source
                .field_for(FieldRole::HouseholdHeadId)
                .map(|f| (f, Defect::IdFromHouseholdHead)),
        );
        (id, id_source) = (head, IdSource::HouseholdHead);
    }
    if name.is_empty() && id == IdNumber::Missing {
        return Err(RejectReason::NoIdentity);
    }
    if is_set_aside(source, &values, words) {
        return Err(RejectReason::OutOfScope);
    }
    if id == IdNumber::Missing && SUMMARY_ROW_NAMES.contains(&name.text.as_str()) {
        return Err(RejectReason::SummaryRow);
    }
    let birth_date = match &id {
        IdNumber::Valid(v) => id_number::birth_date(v),
        IdNumber::Damaged { prefix } if prefix.len() >= 14 => {
            id_number::birth_date(&format!("{prefix}0000"))
        }
        _ => None,
    }
    .or_else(|| {
        source
            .field_for(FieldRole::BirthDate)
            .and_then(|f| values[f].date())
    })
    .or(registration.as_ref().map(|r| r.birth_date));
    let id_region = match &id {
        IdNumber::Valid(v) => Some(&v[..6]),
        IdNumber::Damaged { prefix } if prefix.len() >= 6 => Some(&prefix[..6]),
        _ => registration.as_ref().map(|r| r.region.as_str()),
    };
    let (county, ambiguous) = resolve_county(
        source,
        data,
        id_region,
        (regions, &mut cells.counties),
        defects,
    );
    if let Some(field) = ambiguous {
        let cell = data.cells[field].text.as_str().into();
        cells.ambiguous.push((row.row, field, cell));
    }
    let record = Record {
        row,
        // A config has at most MAX_SOURCES sources.
        source: source_id as u8,
        id: cells.ids.intern(&id),
        marks: Marks::new(
            id_source,
            id_legacy,
            name.repairs.contains(&name::NameRepair::Traditional),
        ),
        name: words.intern(&name.text),
        county: county.map(CountyRef::of),
        birth_date,
        ordinal: 0,
    };
    Ok((record, values))
}

/// What the relation of a household head's own row says (与户主关系).
const HEAD_ITSELF: [&str; 3] = ["本人", "户主", "户主本人"];

/// A household head's own row (与户主关系 本人) whose ID cell is unusable carries its ID in
/// the 户主身份证号 column.
fn own_household_head(
    source: &Source,
    values: &[Value],
    words: &Words,
    ids: &Ids,
) -> Option<IdNumber> {
    let relation = words.text(values[source.field_for(FieldRole::Relation)?].text()?);
    let head = ids.get(values[source.field_for(FieldRole::HouseholdHeadId)?].id()?);
    HEAD_ITSELF.contains(&relation).then_some(*head)
}

/// The person's ID and whether it was a 15-digit ID upgraded. A valid certificate or
/// student-number ID comes first: both are issued from the holder's own ID, while a typed ID
/// column that disagrees with them more likely holds another's (a parent's). Then the ID
/// column when valid; when none is valid, the ID column's own (damaged, invalid or missing)
/// state.
fn choose_id(
    ids: &[(IdSource, ParsedId, usize)],
    defects: &mut Vec<(usize, Defect)>,
) -> (IdNumber, IdSource, bool) {
    for (_, parsed, field) in ids {
        defects.extend(
            parsed
                .repairs
                .iter()
                .map(|r| (*field, Defect::IdRepaired(*r))),
        );
        defects.extend(Defect::of_id(&parsed.id).map(|d| (*field, d)));
    }
    let legacy = |p: &ParsedId| p.repairs.contains(&id_number::IdRepair::Legacy15);
    let valid: Vec<&(IdSource, ParsedId, usize)> = ids
        .iter()
        .filter(|(_, p, _)| p.id.valid().is_some())
        .collect();
    let issued = valid.iter().find(|(s, _, _)| *s != IdSource::IdColumn);
    if let Some(chosen) = issued.or(valid.first()) {
        if valid.iter().any(|(_, p, _)| p.id != chosen.1.id) {
            let column = ids
                .iter()
                .find(|(s, _, _)| *s == IdSource::IdColumn)
                .unwrap_or(chosen);
            defects.push((column.2, Defect::IdDiffersFromIssued));
        }
        return (chosen.1.id, chosen.0, legacy(&chosen.1));
    }
    let own = ids
        .iter()
        .find(|(s, _, _)| *s == IdSource::IdColumn)
        .or(ids.first());
    match own {
        Some((_, parsed, field)) => {
            if parsed.id == IdNumber::Missing {
                defects.push((*field, Defect::IdMissing));
            }
            (parsed.id, IdSource::None, false)
        }
        None => (IdNumber::Missing, IdSource::None, false),
    }
}

/// A certificate's category and grade fill blank category and grade columns.
fn fill_from_certificate(
    source: &Source,
    values: &mut [Value],
    derived: &[(FieldKind, &'static str)],
    words: &mut Words,
) {
    for (kind, word) in derived {
        if let Some(field) = source.field_of_kind(*kind) {
            if values[field].is_empty() {
                values[field] = Value::Text(words.intern(word));
            }
        }
    }
}

/// A chunk's words, and per field the cells already normalized in the chunk: a column of
/// statuses or programs repeats a few values, each cleaned once. A field stops being
/// remembered at `SEEN_PER_FIELD` values (dates, free text).
#[derive(Default)]
struct SeenCells {
    words: Words,
    ids: Ids,
    /// Rows left without a county because their county cell names several (row, field, cell).
    ambiguous: Vec<(u32, usize, Box<str>)>,
    seen: Vec<FastMap<Box<str>, Value>>,
    /// For the county code column and the county column.
    counties: [LastCounty; 2],
}

/// The county cell of a column resolved last: a file's rows of one county come together, so
/// most rows resolve the cell of the row before them again.
#[derive(Default)]
struct LastCounty {
    cell: String,
    /// The ID region it was resolved with, when the cell named several counties (the region
    /// may have chosen one); `None` when any region gives the same answer.
    tie_region: Option<Option<String>>,
    found: Option<Result<&'static County, CountyProblem>>,
}

impl LastCounty {
    fn resolve(
        &mut self,
        regions: &'static Regions,
        cell: &str,
        id_region: Option<&str>,
    ) -> Result<&'static County, CountyProblem> {
        let same_region = match &self.tie_region {
            None => true,
            Some(region) => region.as_deref() == id_region,
        };
        if let Some(found) = self.found.filter(|_| same_region && self.cell == cell) {
            return found;
        }
        let (found, tie) = regions.resolve_noting_ties(cell, id_region);
        self.cell.clear();
        self.cell.push_str(cell);
        self.tie_region = tie.then(|| id_region.map(str::to_string));
        self.found = Some(found);
        found
    }
}

const SEEN_PER_FIELD: usize = 64;

impl SeenCells {
    /// Cell `cell` of field `field` (of a value kind), normalized and interned.
    fn value(&mut self, field: usize, kind: FieldKind, cell: &Cell) -> Value {
        // An ID cell's value depends on its origin too (a number loses digits).
        if kind == FieldKind::Id {
            return normalize_value(kind, cell).interned(&mut self.words, &mut self.ids);
        }
        if self.seen.len() <= field {
            self.seen.resize_with(field + 1, FastMap::default);
        }
        if let Some(&value) = self.seen[field].get(cell.text.as_str()) {
            return value;
        }
        let value = normalize_value(kind, cell).interned(&mut self.words, &mut self.ids);
        if self.seen[field].len() < SEEN_PER_FIELD {
            self.seen[field].insert(cell.text.as_str().into(), value);
        }
        value
    }
}

/// The row's county column (code first, then name), else the region code of its ID (or of
/// its `J` student number).
fn resolve_county(
    source: &Source,
    data: &DataRow,
    id_region: Option<&str>,
    (regions, memos): (&'static Regions, &mut [LastCounty; 2]),
    defects: &mut Vec<(usize, Defect)>,
) -> (Option<&'static County>, Option<usize>) {
    let mut ambiguous = None;
    for (kind, last) in [FieldKind::CountyCode, FieldKind::County]
        .into_iter()
        .zip(memos)
    {
        let Some(field) = source.field_of_kind(kind) else {
            continue;
        };
        if data.cells[field].text.trim().is_empty() {
            continue;
        }
        match last.resolve(regions, &data.cells[field].text, id_region) {
            Ok(county) => return (Some(county), None),
            Err(CountyProblem::Unknown) => defects.push((field, Defect::CountyUnknown)),
            Err(CountyProblem::Ambiguous) => {
                defects.push((field, Defect::CountyAmbiguous));
                ambiguous = Some(field);
            }
        }
    }
    let from_id = id_region.and_then(|r| regions.by_code(r));
    if let Some(field) = source
        .field_of_kind(FieldKind::County)
        .or(source.field_of_kind(FieldKind::CountyCode))
    {
        defects.push((
            field,
            if from_id.is_some() {
                Defect::CountyFromIdRegion
            } else {
                Defect::CountyMissing
            },
        ));
    }
    (from_id, ambiguous.filter(|_| from_id.is_none()))
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// A remembered cell is the cell normalized afresh, before and after the field stops
        /// being remembered.
        #[test]
        fn seen_cells_are_normalized_as_new(
            cells in proptest::collection::vec(("[是否男女√×]|2020年度|20[0-9]{2}-0[1-9]-1[0-9]|长期| 在保", 0..3usize), 0..300)
        ) {
            let kinds = [FieldKind::YesNo, FieldKind::Date, FieldKind::Text];
            let mut seen = SeenCells::default();
            for (raw, field) in cells {
                let cell = Cell::typed(&raw);
                let value = seen.value(field, kinds[field], &cell);
                let mut fresh = Words::default();
                let expected = normalize_value(kinds[field], &cell).interned(&mut fresh, &mut Ids::default());
                let as_text = |v: Value, words: &Words| v.text().map(|w| words.text(w).to_string());
                proptest::prop_assert_eq!(value.date(), expected.date());
                proptest::prop_assert_eq!(matches!(value, Value::Unparsed(_)), matches!(expected, Value::Unparsed(_)));
                proptest::prop_assert_eq!(as_text(value, &seen.words), as_text(expected, &fresh));
            }
        }
    }

    proptest::proptest! {
        /// The remembered county is the cell resolved afresh, for names that several counties
        /// share too (where the ID's region chooses).
        #[test]
        fn the_last_county_is_resolved_as_new(
            cells in proptest::collection::vec((0..6usize, 0..4usize), 0..60)
        ) {
            const CELLS: [&str; 6] = ["420682", "老河口市", "鼓楼区", "南京市鼓楼区", "不存在县", ""];
            const REGIONS: [Option<&str>; 4] = [None, Some("350102"), Some("320106"), Some("420682")];
            let regions = Regions::bundled();
            let mut last = LastCounty::default();
            for (cell, region) in cells {
                let (cell, region) = (CELLS[cell], REGIONS[region]);
                let code = |found: Result<&County, CountyProblem>| found.map(|c| c.code.clone());
                proptest::prop_assert_eq!(
                    code(last.resolve(regions, cell, region)),
                    code(regions.resolve(cell, region))
                );
            }
        }
    }
}
