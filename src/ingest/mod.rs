//! Ingest: input paths in, tables of raw cells out, each assigned to a source with its column
//! mapping. `load` reads every file through once, a block at a time (checksum, encoding), and
//! its head (sheet, header row, source and columns), all files at once so every unusable file
//! is reported together; `read_rows` then reads one table's rows in chunks, so no file is ever
//! held whole. Every data row is either kept or rejected with its reason, and counted. A file
//! that cannot be read or assigned is an error naming the file; ingest never interprets values.

pub mod encoding;
mod grid;
pub mod headers;
mod quoting;

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::config::options::FilePin;
use crate::config::Settings;
use crate::model::text::glob_matches;
use crate::model::{Cell, CellOrigin, FileId, Reject, RejectReason, RowRef};
use encoding::TextEncoding;
pub use headers::{column_letter, Mapping, MatchedBy};

/// How much one row may hold (`[run] max_fields`, `max_field_chars`): a row of more fields (a
/// stray cell in column XFD, a line of commas) or a longer cell is rejected rather than held.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub fields: usize,
    pub field_chars: usize,
}

impl Limits {
    pub fn of(settings: &Settings) -> Limits {
        let run = settings.options.run.clone().unwrap_or_default();
        Limits {
            fields: run.max_fields,
            field_chars: run.max_field_chars,
        }
    }
}
/// How many leading rows may be titles above the header row.
const MAX_TITLE_ROWS: usize = 10;

/// One input table: a CSV file, or one sheet of a workbook.
#[derive(Clone, Debug)]
pub struct InputFile {
    pub id: FileId,
    pub path: PathBuf,
    /// The bare file name (with `[sheet]` when a workbook has several data sheets).
    pub name: String,
    pub format: &'static str,
    pub encoding: Option<TextEncoding>,
    pub sheet: Option<String>,
    pub size: u64,
    /// At least as many as the file's rows, near it: room to reserve before reading them.
    pub rows_at_most: usize,
    pub sha256: String,
    /// 0-based index of the header row among the file's rows (titles may stand above it).
    pub header_row: usize,
}

#[derive(Clone, Debug)]
pub struct DataRow {
    pub row: u32,
    /// Cells indexed like the source's fields (empty where unmapped).
    pub cells: Vec<Cell>,
}

/// A table found in a file: its header and mapping, then (once `read_rows` has run) its
/// rejected rows and how many rows it had.
#[derive(Clone, Debug)]
pub struct LoadedTable {
    pub file: InputFile,
    pub headers: Vec<String>,
    pub mapping: Mapping,
    pub rejects: Vec<Reject>,
    /// Set for a table read as evidence (`run --evidence`).
    pub evidence: Option<Evidence>,
    rows_read: usize,
    /// The file's size and modification time when its head was read: its rows must come from
    /// the same file.
    stamp: (u64, Option<std::time::SystemTime>),
    limits: Limits,
}

impl LoadedTable {
    pub fn rows_read(&self) -> usize {
        self.rows_read
    }
}

/// How a table read as evidence (`run --evidence`) is read: its rows are linked and read by
/// the rules but never a gap's subject; with a row list, only the rows listed are read.
#[derive(Clone, Debug, Default)]
pub struct Evidence {
    /// The 1-based data rows to read; every row when `None`.
    pub rows: Option<std::sync::Arc<HashSet<u32>>>,
    /// Rows not listed, passed over unread.
    pub passed_over: usize,
}

/// The inputs read as evidence, and the rows to read of them.
#[derive(Debug, Default)]
pub struct EvidenceInputs {
    /// The evidence files, by canonical path.
    pub files: std::collections::BTreeSet<PathBuf>,
    /// Per file name (as the outputs name it), the rows to read: all of every file when `None`.
    pub rows: Option<HashMap<String, HashSet<u32>>>,
}

/// `discover` of the inputs and of `evidence` together, as one sorted list (a file named as
/// both is an input), and the evidence files among them.
pub fn discover_with_evidence(
    inputs: &[PathBuf],
    evidence: &[PathBuf],
) -> Result<(Found, std::collections::BTreeSet<PathBuf>), Vec<IngestError>> {
    let mut found = discover(inputs)?;
    let mut evidence_files = std::collections::BTreeSet::new();
    if evidence.is_empty() {
        return Ok((found, evidence_files));
    }
    let real = |path: &PathBuf| path.canonicalize().unwrap_or_else(|_| path.clone());
    let own: HashSet<PathBuf> = found.files.iter().map(real).collect();
    let others = discover(evidence)?;
    for file in others.files {
        if !own.contains(&real(&file)) {
            evidence_files.insert(real(&file));
            found.files.push(file);
        }
    }
    found.files.sort();
    found.notes.extend(others.notes);
    Ok((found, evidence_files))
}

/// The rows an `--evidence-rows` CSV lists, by file name: its columns `source_file` and
/// `source_row` (others are ignored). A row that is not a file and a 1-based row number is an
/// error naming it.
pub fn read_evidence_rows(path: &Path) -> Result<HashMap<String, HashSet<u32>>, IngestError> {
    let error = |message: String| ingest_error(path, message);
    let mut reader = csv::Reader::from_path(path).map_err(|e| error(e.to_string()))?;
    let headers = reader.headers().map_err(|e| error(e.to_string()))?.clone();
    let column = |name: &str| {
        let bare = |h: &str| h.trim_start_matches('\u{feff}') == name;
        (headers.iter().position(bare)).ok_or_else(|| error(format!("no column {name}")))
    };
    let (file_at, row_at) = (column("source_file")?, column("source_row")?);
    let mut rows: HashMap<String, HashSet<u32>> = HashMap::new();
    for (line, record) in reader.records().enumerate() {
        let record = record.map_err(|e| error(e.to_string()))?;
        let at = |what: &str| format!("row {}, column {what}", line + 1);
        let file = record.get(file_at).filter(|f| !f.is_empty());
        let file = file.ok_or_else(|| error(format!("{}: no file name", at("source_file"))))?;
        let row = record.get(row_at).and_then(|r| r.trim().parse().ok());
        let row = row
            .filter(|&r: &u32| r > 0)
            .ok_or_else(|| error(format!("{}: not a row number", at("source_row"))))?;
        rows.entry(file.to_string()).or_default().insert(row);
    }
    Ok(rows)
}

/// Marks the tables read from `evidence`'s files, each with its rows to read. A row list that
/// names a file no evidence table was read from is refused: it was made for other inputs.
pub fn mark_evidence(
    tables: &mut [LoadedTable],
    evidence: &EvidenceInputs,
) -> Result<(), IngestError> {
    let mut listed: HashSet<&str> = evidence
        .rows
        .iter()
        .flat_map(|rows| rows.keys().map(String::as_str))
        .collect();
    for table in tables.iter_mut() {
        let real = table.file.path.canonicalize();
        if !real.is_ok_and(|p| evidence.files.contains(&p)) {
            continue;
        }
        listed.remove(table.file.name.as_str());
        let rows = evidence.rows.as_ref().map(|rows| {
            std::sync::Arc::new(rows.get(&table.file.name).cloned().unwrap_or_default())
        });
        table.evidence = Some(Evidence {
            rows,
            passed_over: 0,
        });
    }
    match listed.into_iter().min() {
        Some(name) => Err(IngestError {
            file: "--evidence-rows".into(),
            message: format!(
                "lists rows of {name}, which is not an evidence file read by this run"
            ),
            unassigned: false,
        }),
        None => Ok(()),
    }
}

/// Why a file's bytes could not be read as a table.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
    #[error("the file is empty (0 bytes)")]
    Empty,
    #[error("starts with a UTF-16 BOM but is not UTF-16")]
    NotUtf16,
    #[error("starts with a UTF-8 BOM but is not UTF-8 (byte {0})")]
    NotUtf8AfterBom(u64),
    #[error("binary content ({0}): not a CSV text file")]
    Binary(&'static str),
    #[error("neither UTF-8 (it stops being UTF-8 at {utf8_at}) nor GBK/GB18030 (at {gbk_at}): lines in two encodings? Save it again in one")]
    TwoEncodings { utf8_at: String, gbk_at: String },
    #[error("not UTF-8 text")]
    NotUtf8,
    #[error("not {encoding} text at byte {byte}: the file changed while it was being read")]
    ChangedWhileRead { encoding: &'static str, byte: u64 },
    #[error("the file reader stopped")]
    ReaderStopped,
    /// A record the CSV reader refused (the reader's words), or a field not UTF-8.
    #[error("{0}")]
    CsvRecord(String),
    #[error("CSV line {line}: {record}")]
    CsvLine { line: usize, record: Box<ReadError> },
    #[error("CSV: {0}")]
    Csv(Box<ReadError>),
    #[error("unreadable spreadsheet: {0}")]
    Workbook(String),
    #[error("sheet {sheet}: {problem}")]
    Sheet { sheet: String, problem: String },
}

/// A file that could not be used, with the reason.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{file}: {message}")]
pub struct IngestError {
    pub file: String,
    pub message: String,
    /// The file was read, but no source claims it (its columns are no department's).
    pub unassigned: bool,
}

/// A path as messages and outputs name it: a byte that is not UTF-8 (a GBK-encoded file name)
/// is written `\xC4`, so two such names never look alike.
pub fn shown(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut text = String::new();
    for chunk in path.as_os_str().as_bytes().utf8_chunks() {
        text.push_str(chunk.valid());
        for byte in chunk.invalid() {
            text.push_str(&format!("\\x{byte:02X}"));
        }
    }
    text
}

fn ingest_error(file: &Path, message: String) -> IngestError {
    IngestError {
        file: shown(file),
        message,
        unassigned: false,
    }
}

/// Export files found, and what was passed over, one note each for the run's warnings.
#[derive(Debug, Default)]
pub struct Found {
    pub files: Vec<PathBuf>,
    pub notes: Vec<String>,
}

/// Files named on the command line, folders scanned (recursively) for `.csv`, `.xlsx`, `.xls`
/// (and `.txt`, read as CSV when a department's columns are in it); sorted so file ids are the
/// same on every run. A file reached by two paths is taken once. Links to folders are not
/// followed (a link back into the scan is a loop, an error naming it); anything that is not a
/// regular file (a FIFO, a device) is refused by its type, before anything reads it.
pub fn discover(inputs: &[PathBuf]) -> Result<Found, Vec<IngestError>> {
    let mut found = Found::default();
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for input in inputs {
        let Ok(meta) = std::fs::metadata(input) else {
            errors.push(ingest_error(input, "no such file or folder".into()));
            continue;
        };
        if meta.is_dir() {
            let root = input.canonicalize().unwrap_or_else(|_| input.clone());
            scan_folder(input, &root, (&mut files, &mut found.notes), &mut errors);
        } else {
            match regular_file(input, &meta) {
                Ok(()) => files.push(input.clone()),
                Err(e) => errors.push(e),
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut seen = std::collections::BTreeSet::new();
    files.sort();
    for file in files {
        let real = file.canonicalize().unwrap_or_else(|_| file.clone());
        if seen.insert(real) {
            found.files.push(file);
        }
    }
    if found.files.is_empty() {
        return Err(vec![IngestError {
            file: "inputs".into(),
            message: "no .csv, .xlsx or .xls files found".into(),
            unassigned: false,
        }]);
    }
    Ok(found)
}

/// A regular file, or the error that refuses it by its type.
fn regular_file(path: &Path, meta: &std::fs::Metadata) -> Result<(), IngestError> {
    match meta.is_file() {
        true => Ok(()),
        false => Err(ingest_error(
            path,
            "not a regular file (a FIFO, a device or a socket): not read".into(),
        )),
    }
}

/// The export files below `dir` (of the scan of `root`), and notes on what was passed over;
/// every file refused is an error, and the scan goes on.
fn scan_folder(
    dir: &Path,
    root: &Path,
    (files, notes): (&mut Vec<PathBuf>, &mut Vec<String>),
    errors: &mut Vec<IngestError>,
) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => return errors.push(ingest_error(dir, format!("cannot read folder: {e}"))),
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('.') || name.starts_with("~$") {
            continue;
        }
        let Ok(kind) = entry.file_type() else {
            errors.push(ingest_error(&path, "cannot read its type".into()));
            continue;
        };
        if kind.is_dir() {
            scan_folder(&path, root, (files, notes), errors);
        } else if kind.is_symlink() && path.is_dir() {
            let target = path.canonicalize().unwrap_or_default();
            if root.starts_with(&target) || target.starts_with(root) {
                errors.push(ingest_error(
                    &path,
                    "a link to a folder of the scan itself (a loop): remove it or name the folder it links to".into(),
                ));
            } else {
                notes.push(format!(
                    "{}: a link to a folder outside the scan, not followed (name that folder as an input to read it)",
                    shown(&path)
                ));
            }
        } else if format_of(&path).is_some() {
            match std::fs::metadata(&path) {
                Ok(meta) => match regular_file(&path, &meta) {
                    Ok(()) => files.push(path),
                    Err(e) => errors.push(e),
                },
                Err(e) => errors.push(ingest_error(&path, format!("cannot read: {e}"))),
            }
        }
    }
}

fn format_of(path: &Path) -> Option<&'static str> {
    match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
        "csv" | "txt" => Some("csv"),
        "xlsx" | "xlsm" => Some("xlsx"),
        "xls" => Some("xls"),
        _ => None,
    }
}

/// Tables read, and what was passed over (a note, an instructions sheet, a copy of an
/// export), one note each for the run's warnings.
#[derive(Debug, Default)]
pub struct Loaded {
    pub tables: Vec<LoadedTable>,
    pub notes: Vec<String>,
}

/// Reads every file in parallel and assigns each table to a source. All failing files are
/// reported together. A `.txt` no source claims is skipped with a note (a read-me beside the
/// exports), as is any file no source claims when `skip_unassigned`; a file with the same bytes
/// as an earlier one is read once.
pub fn load(
    files: &[PathBuf],
    settings: &Settings,
    skip_unassigned: bool,
) -> Result<Loaded, Vec<IngestError>> {
    let results: Vec<Result<FileTables, IngestError>> = files
        .par_iter()
        .map(|path| load_file(path, settings))
        .collect();
    let mut loaded = Loaded::default();
    let mut errors = Vec::new();
    for (path, result) in files.iter().zip(results) {
        match result {
            Ok(found) => {
                loaded.tables.extend(found.tables);
                loaded.notes.extend(found.notes);
            }
            Err(e) if e.unassigned && (skip_unassigned || is_text_file(path)) => {
                loaded.notes.push(format!(
                    "{}: skipped, no department's columns in it",
                    shown(path)
                ));
            }
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    read_copies_once(&mut loaded);
    disambiguate_names(&mut loaded.tables);
    for (id, table) in loaded.tables.iter_mut().enumerate() {
        table.file.id = id as FileId;
        for row in &mut table.rejects {
            row.row.file = id as FileId;
        }
    }
    Ok(loaded)
}

fn is_text_file(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("txt"))
}

/// A table with the same bytes (and sheet) as an earlier one is a copy: read once.
fn read_copies_once(loaded: &mut Loaded) {
    let mut first: std::collections::BTreeMap<(String, Option<String>), String> =
        Default::default();
    let notes = &mut loaded.notes;
    loaded.tables.retain(|table| {
        let key = (table.file.sha256.clone(), table.file.sheet.clone());
        match first.get(&key) {
            Some(earlier) => {
                notes.push(format!(
                    "{} has the same bytes as {earlier}: read once",
                    shown(&table.file.path)
                ));
                false
            }
            None => {
                first.insert(key, shown(&table.file.path));
                true
            }
        }
    });
}

/// Two inputs with the same bare name (one per county folder) are told apart by their path.
fn disambiguate_names(tables: &mut [LoadedTable]) {
    let names: Vec<String> = tables.iter().map(|t| t.file.name.clone()).collect();
    for table in tables.iter_mut() {
        if names.iter().filter(|n| **n == table.file.name).count() > 1 {
            table.file.name = shown(&table.file.path);
        }
    }
}

/// The tables of one file, and its sheets no source claims (a note each).
pub struct FileTables {
    pub tables: Vec<LoadedTable>,
    pub notes: Vec<String>,
}

/// The tables of one file, their heads read (rows come with `read_rows`). A workbook's sheet
/// no source claims (instructions, notes) is skipped with a note when another sheet is an
/// export; a file none of whose tables a source claims is an error.
pub fn load_file(path: &Path, settings: &Settings) -> Result<FileTables, IngestError> {
    let bare = path.file_name().map_or("?".into(), |n| shown(Path::new(n)));
    let error = |message: String| ingest_error(path, message);
    let stamp = file_stamp(path).map_err(|e| error(ReadError::from(e).to_string()))?;
    let format = format_of(path).unwrap_or("csv");
    let mut sha256 = Sha256::new();
    let max_fields = Limits::of(settings).fields;
    let (head, rows_at_most) = match format {
        "csv" => {
            encoding::survey(|| File::open(path), |block| sha256.update(block)).and_then(|survey| {
                let file = File::open(path)?;
                let head = grid::csv_head(file, survey.encoding, MAX_TITLE_ROWS, max_fields)?;
                // A CSV row ends at a line feed.
                Ok((head, survey.line_feeds + 1))
            })
        }
        _ => File::open(path)
            .and_then(|mut file| std::io::copy(&mut file, &mut sha256))
            .map_err(ReadError::from)
            .and_then(|_| grid::workbook_head(path, MAX_TITLE_ROWS, max_fields))
            // A spreadsheet row takes at least 8 zipped bytes.
            .map(|head| (head, stamp.0 as usize / 8)),
    }
    .map_err(|e| error(e.to_string()))?;
    if head.parts.is_empty() {
        return Err(error("the workbook has no sheet with data".into()));
    }
    let several_sheets = head.parts.len() > 1;
    let sha256 = format!("{:x}", sha256.finalize());
    let pin = settings.pins.iter().find(|p| glob_matches(&p.name, &bare));
    let outcomes: Vec<Result<LoadedTable, IngestError>> = head
        .parts
        .into_iter()
        .map(|part| {
            let name = match (&part.sheet, several_sheets) {
                (Some(sheet), true) => format!("{bare}[{sheet}]"),
                _ => bare.clone(),
            };
            let file = InputFile {
                id: 0,
                path: path.to_path_buf(),
                name: name.clone(),
                format,
                encoding: head.encoding,
                sheet: part.sheet,
                size: stamp.0,
                rows_at_most,
                sha256: sha256.clone(),
                header_row: 0,
            };
            table_of(file, part.rows, settings, pin, stamp).map_err(|e| IngestError {
                file: match several_sheets {
                    true => format!("{} [{}]", shown(path), name),
                    false => shown(path),
                },
                message: e.to_string(),
                unassigned: e.is_unassigned(),
            })
        })
        .collect();
    let claimed = outcomes.iter().any(Result::is_ok);
    let mut found = FileTables {
        tables: Vec::new(),
        notes: Vec::new(),
    };
    for outcome in outcomes {
        match outcome {
            Ok(table) => found.tables.push(table),
            Err(e) if claimed && e.unassigned => found.notes.push(format!(
                "{}: sheet skipped, no department's columns in it",
                e.file
            )),
            Err(e) => return Err(e),
        }
    }
    Ok(found)
}

fn file_stamp(path: &Path) -> std::io::Result<(u64, Option<std::time::SystemTime>)> {
    let meta = std::fs::metadata(path)?;
    Ok((meta.len(), meta.modified().ok()))
}

/// Why a table has no header row a source claims.
#[derive(Debug, thiserror::Error)]
enum TableError {
    #[error("the file has no header row (it is blank)")]
    Blank,
    #[error("row {row} has more than {fields} fields ([run] max_fields): not a header row")]
    WideHeaderRow { row: usize, fields: usize },
    #[error(transparent)]
    Header(#[from] headers::AssignError),
}

impl TableError {
    /// The table is none of the departments' (blank, or columns no source has): it may be
    /// left out. A department's table that cannot be read as it stands never is.
    fn is_unassigned(&self) -> bool {
        match self {
            TableError::Blank | TableError::WideHeaderRow { .. } => true,
            TableError::Header(e) => matches!(e, headers::AssignError::NoDepartment { .. }),
        }
    }
}

/// Finds the header row among the head's rows (titles may stand above it) and maps it.
fn table_of(
    mut file: InputFile,
    head: Vec<Vec<Cell>>,
    settings: &Settings,
    pin: Option<&FilePin>,
    stamp: (u64, Option<std::time::SystemTime>),
) -> Result<LoadedTable, TableError> {
    let text_of = |row: &Vec<Cell>| -> Vec<String> {
        row.iter().map(|c| c.text.trim().to_string()).collect()
    };
    let first_nonblank = head.iter().position(|r| r.iter().any(|c| !c.is_blank()));
    let Some(first) = first_nonblank else {
        return Err(TableError::Blank);
    };
    // When no row maps, the error is about the fullest row: the header, not a title above it.
    let mut best_error: Option<(usize, headers::AssignError)> = None;
    for (index, row) in head
        .iter()
        .enumerate()
        .take(first + MAX_TITLE_ROWS)
        .skip(first)
    {
        if let [Cell {
            origin: CellOrigin::Unreadable(_),
            ..
        }] = row.as_slice()
        {
            return Err(TableError::WideHeaderRow {
                row: index + 1,
                fields: Limits::of(settings).fields,
            });
        }
        match headers::assign(&text_of(row), settings, pin) {
            Ok(mapping) => {
                file.header_row = index;
                return Ok(LoadedTable {
                    file,
                    headers: text_of(row),
                    mapping,
                    rejects: Vec::new(),
                    evidence: None,
                    rows_read: 0,
                    stamp,
                    limits: Limits::of(settings),
                });
            }
            Err(e) => {
                let filled = row.iter().filter(|c| !c.is_blank()).count();
                if best_error.as_ref().is_none_or(|(most, _)| filled > *most) {
                    best_error = Some((filled, e));
                }
            }
        }
    }
    Err(best_error.map_or(TableError::Blank, |(_, e)| e.into()))
}

/// What a thread parsing sheets ahead sends, sheet after sheet: each sheet's rows in chunks,
/// then how its parsing ended.
enum SheetPart {
    Rows(Vec<Vec<Cell>>),
    End(Result<(), ReadError>),
}

/// The sheets of a run's tables parsed ahead, in table order, on a thread of their own: while
/// the tables before a sheet are read (a province's CSVs take both cores), its rows wait in
/// memory, up to `CHUNKS_AHEAD` chunks in all. Parsing a sheet is sequential, so a sheet
/// parsed only when its turn came would leave one core idle.
pub struct SheetsAhead {
    parts: std::sync::mpsc::Receiver<SheetPart>,
}

const CHUNKS_AHEAD: usize = 32;

impl SheetsAhead {
    pub fn start(tables: &[LoadedTable], chunk_rows: usize) -> SheetsAhead {
        let sheets: Vec<(PathBuf, String, usize, usize)> = tables
            .iter()
            .filter_map(|t| {
                Some((
                    t.file.path.clone(),
                    t.file.sheet.clone()?,
                    t.file.header_row + 1,
                    t.limits.fields,
                ))
            })
            .collect();
        let (sender, parts) = std::sync::mpsc::sync_channel(CHUNKS_AHEAD);
        std::thread::spawn(move || {
            for (path, sheet, skip, max_fields) in sheets {
                let mut send = |rows| sender.send(SheetPart::Rows(rows)).is_ok();
                let sheet = (sheet.as_str(), max_fields);
                let outcome = grid::parse_sheet(&path, sheet, skip, chunk_rows, &mut send);
                if sender.send(SheetPart::End(outcome)).is_err() {
                    return;
                }
            }
        });
        SheetsAhead { parts }
    }

    /// The next sheet's rows, handed to `each`.
    fn next_sheet(&self, mut each: impl FnMut(Vec<Vec<Cell>>)) -> Result<(), ReadError> {
        loop {
            match self.parts.recv() {
                Ok(SheetPart::Rows(rows)) => each(rows),
                Ok(SheetPart::End(outcome)) => return outcome,
                Err(_) => return Err(ReadError::ReaderStopped),
            }
        }
    }
}

/// Reads a table's rows below its header, handing the kept ones to `each` in file order, a
/// chunk of about `chunk_rows` at a time; rejected rows are kept in the table and every row is
/// counted. A sheet's rows come from `ahead` when it parses the run's sheets (each table read
/// in turn), else are parsed here. An error when the file changed since its head was read.
pub fn read_rows(
    table: &mut LoadedTable,
    chunk_rows: usize,
    ahead: Option<&SheetsAhead>,
    mut each: impl FnMut(Vec<DataRow>),
) -> Result<(), IngestError> {
    let path = table.file.path.clone();
    let error = |message: String| ingest_error(&path, message);
    if file_stamp(&path).ok() != Some(table.stamp) {
        return Err(error(
            "the file changed while it was being read; run again".into(),
        ));
    }
    let (skip, limits) = (table.file.header_row + 1, table.limits);
    let mut next_row = 1u32;
    let mut split = |rows: Vec<Vec<Cell>>| {
        let table_of_rows = (&table.file, table.headers.as_slice(), &table.mapping);
        let (mut kept, mut rejects) = split_rows(table_of_rows, limits, next_row, rows);
        next_row += (kept.len() + rejects.len()) as u32;
        if let Some(Evidence {
            rows: Some(listed),
            passed_over,
        }) = &mut table.evidence
        {
            let all = kept.len() + rejects.len();
            kept.retain(|r| listed.contains(&r.row));
            rejects.retain(|r| listed.contains(&r.row.row));
            *passed_over += all - kept.len() - rejects.len();
        }
        table.rows_read += kept.len() + rejects.len();
        table.rejects.extend(rejects);
        each(kept);
    };
    match (&table.file.sheet, ahead) {
        (Some(_), Some(ahead)) => ahead.next_sheet(&mut split),
        (Some(sheet), None) => {
            let sheet = (sheet.as_str(), limits.fields);
            grid::sheet_rows(&path, sheet, skip, chunk_rows, &mut split)
        }
        (None, _) => {
            let file = File::open(&path).map_err(|e| error(ReadError::from(e).to_string()))?;
            let encoding = table.file.encoding.unwrap_or(TextEncoding::Utf8);
            let fields = table.headers.len();
            let shape = (skip, fields, limits.fields);
            grid::csv_rows(file, encoding, shape, chunk_rows, &mut split)
        }
    }
    .map_err(|e| error(e.to_string()))
}

/// Rows numbered from `first` (1-based data rows) into kept rows, by field, and rejects.
fn split_rows(
    (file, headers, mapping): (&InputFile, &[String], &Mapping),
    limits: Limits,
    first: u32,
    rows: Vec<Vec<Cell>>,
) -> (Vec<DataRow>, Vec<Reject>) {
    let mut kept = Vec::new();
    let mut rejects = Vec::new();
    for (index, mut cells) in rows.into_iter().enumerate() {
        let row = RowRef {
            file: file.id,
            row: first + index as u32,
        };
        let reject = |column: String, reason: RejectReason, detail: String| Reject {
            row,
            column,
            reason,
            detail,
        };
        if let [Cell {
            origin: CellOrigin::Unreadable(reason),
            ..
        }] = cells.as_slice()
        {
            let detail = unreadable_detail(*reason, limits);
            rejects.push(reject(String::new(), *reason, detail));
            continue;
        }
        if cells.iter().all(|c| c.is_blank()) {
            rejects.push(reject(
                String::new(),
                RejectReason::EmptyRow,
                "every cell is blank".into(),
            ));
            continue;
        }
        // A sheet is a grid: a row ends at its last value, and a value right of the header
        // is in a column no header names.
        if file.sheet.is_some() && cells.len() < headers.len() {
            cells.resize(headers.len(), Cell::default());
        }
        let extra_is_blank =
            file.sheet.is_some() || cells.iter().skip(headers.len()).all(|c| c.is_blank());
        if cells.len() < headers.len() || !extra_is_blank {
            let detail = format!("{} fields, the header has {}", cells.len(), headers.len());
            rejects.push(reject(String::new(), RejectReason::RaggedRow, detail));
            continue;
        }
        if let Some(column) = cells.iter().position(|c| {
            c.text.len() > limits.field_chars && c.text.chars().count() > limits.field_chars
        }) {
            let detail = format!(
                "{} characters in one cell",
                cells[column].text.chars().count()
            );
            rejects.push(reject(
                column_name(headers, column),
                RejectReason::FieldTooLong,
                detail,
            ));
            continue;
        }
        let by_field = mapping
            .fields
            .iter()
            .map(|m| {
                m.as_ref()
                    .map(|(column, _)| std::mem::take(&mut cells[*column]))
                    .unwrap_or_default()
            })
            .collect();
        kept.push(DataRow {
            row: row.row,
            cells: by_field,
        });
    }
    (kept, rejects)
}

/// What a user reads of a row the reader could not read.
fn unreadable_detail(reason: RejectReason, limits: Limits) -> String {
    match reason {
        RejectReason::UnterminatedQuote => {
            "a quote opened in this row never closes; the rows after it were read on their own"
                .into()
        }
        _ => format!("more than {} fields ([run] max_fields)", limits.fields),
    }
}

/// `B 身份证号`: the column letter and its header, as a user finds it in Excel.
pub fn column_name(headers: &[String], column: usize) -> String {
    format!(
        "{} {}",
        column_letter(column),
        headers.get(column).map_or("", |h| h.as_str())
    )
}
