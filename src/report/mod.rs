//! Report: the run's results in, files out. Everything is written into a staging folder
//! beside the output folder (`stage`) and renamed into place (`publish`) only after the
//! ledger has committed, so a failed run leaves the previous outputs as they were. Files are
//! owner-only; ID numbers are masked unless asked.

mod county;
mod files;
mod gap_list;
pub mod html;
mod manifest;
pub mod morning;
mod parquet;
pub mod period;

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use rayon::prelude::*;

use crate::config::{LoadedConfig, Settings};
use crate::ingest::LoadedTable;
use crate::keys::KeySecret;
use crate::ledger::RunLedger;
use crate::link::Linkage;
use crate::model::{Records, Reject};
use crate::normalize::Quality;
use crate::rules::contract::Checks;
use crate::rules::Evaluation;
pub use county::{COUNTY_COLUMN, EDITABLE, KEY_COLUMN, NIGHT_COLUMN};
pub use files::{DECISION_COLUMNS, PAIR_KEY_COLUMNS};
pub use gap_list::{gap_rows, GapRow};
pub use manifest::{account_rows, counts_json, inputs, FileAccount, RunManifest};

/// The marker a finished staging folder holds: the ledger run it belongs to (0 without one).
const COMPLETE_MARKER: &str = ".complete";

/// The marker every output folder holds: recon wrote it, and may replace it.
const OWNER_MARKER: &str = ".recon-output";

/// What a run writes into its output folder, in the order the summary lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    Gaps,
    Counties,
    Summary,
    Links,
    Review,
    ReviewWorkbook,
    Rejects,
    Quality,
    Html,
    Json,
    Model,
    Records,
    LinksParquet,
    BlockingKeys,
    Manifest,
}

impl Output {
    const ALL: [Output; 15] = [
        Output::Gaps,
        Output::Counties,
        Output::Summary,
        Output::Links,
        Output::Review,
        Output::ReviewWorkbook,
        Output::Rejects,
        Output::Quality,
        Output::Html,
        Output::Json,
        Output::Model,
        Output::Records,
        Output::LinksParquet,
        Output::BlockingKeys,
        Output::Manifest,
    ];

    /// Its name in the output folder (a folder's ends with `/`).
    pub fn name(self) -> &'static str {
        match self {
            Output::Gaps => "gaps.csv",
            Output::Counties => "counties/",
            Output::Summary => "summary.csv",
            Output::Links => "links.csv",
            Output::Review => "review.csv",
            Output::ReviewWorkbook => "review.xlsx",
            Output::Rejects => "rejects.csv",
            Output::Quality => "quality.csv",
            Output::Html => "report.html",
            Output::Json => "report.json",
            Output::Model => "model.json",
            Output::Records => "records.parquet",
            Output::LinksParquet => "links.parquet",
            Output::BlockingKeys => "keys.parquet",
            Output::Manifest => "run.json",
        }
    }

    /// What a run with `--parquet` (or without) writes.
    pub fn written(parquet: bool) -> impl Iterator<Item = Output> {
        Output::ALL.into_iter().filter(move |o| {
            parquet
                || !matches!(
                    o,
                    Output::Records | Output::LinksParquet | Output::BlockingKeys
                )
        })
    }
}

/// Whether `name`, in an output folder, is something recon writes there (`recon report`'s
/// county pages and the marker included).
fn is_output_name(name: &str) -> bool {
    Output::ALL
        .iter()
        .any(|o| o.name().trim_end_matches('/') == name)
        || name == OWNER_MARKER
        || name.starts_with("report_") && name.ends_with(".html")
}

/// The folder is recon's own: it holds nothing recon does not write (an empty folder
/// included). Anything else in it is listed, by name only.
fn foreign_entries(dir: &Path) -> Result<Vec<String>, OutputFolderError> {
    let unreadable = |e: std::io::Error| OutputFolderError::Unreadable {
        folder: dir.display().to_string(),
        problem: e,
    };
    let entries = std::fs::read_dir(dir).map_err(unreadable)?;
    let mut foreign = Vec::new();
    for entry in entries {
        let entry = entry.map_err(unreadable)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !is_output_name(&name) {
            foreign.push(name);
        }
    }
    foreign.sort();
    Ok(foreign)
}

/// Refuses an output folder recon may not replace: `.` or `..`, a path that is not a folder,
/// a folder holding files recon did not write, and one equal to, inside or above an input.
/// A run replaces its output folder whole, so anything else in it would be lost.
/// Why recon may not replace an output folder.
#[derive(Debug, thiserror::Error)]
pub enum OutputFolderError {
    #[error("--out {0}: name a folder of its own (recon replaces it whole), not . or .. or /")]
    NotNamed(String),
    #[error("--out {0} is a file, not a folder; nothing was written")]
    IsAFile(String),
    #[error("--out {folder} holds files recon did not write ({}{}); a run replaces its output folder whole, so choose a new or empty folder", .foreign.iter().take(5).cloned().collect::<Vec<_>>().join(", "), match .foreign.len().saturating_sub(5) { 0 => String::new(), more => format!(" and {more} more") })]
    HoldsOthersFiles {
        folder: String,
        foreign: Vec<String>,
    },
    #[error("--out {folder} is the input {input} or inside or above it: outputs and department exports stay apart")]
    OverlapsInput { folder: String, input: String },
    #[error("{folder}: {problem}")]
    Unreadable {
        folder: String,
        problem: std::io::Error,
    },
}

pub fn check_output_folder(out: &Path, inputs: &[PathBuf]) -> Result<(), OutputFolderError> {
    let shown = || out.display().to_string();
    let named = matches!(
        out.components().next_back(),
        Some(std::path::Component::Normal(_))
    );
    if !named {
        return Err(OutputFolderError::NotNamed(shown()));
    }
    if out.exists() && !out.is_dir() {
        return Err(OutputFolderError::IsAFile(shown()));
    }
    if out.is_dir() {
        let foreign = foreign_entries(out)?;
        if !foreign.is_empty() {
            return Err(OutputFolderError::HoldsOthersFiles {
                folder: shown(),
                foreign,
            });
        }
    }
    let out_path = absolute(out);
    for input in inputs {
        let input_path = absolute(input);
        if out_path.starts_with(&input_path) || input_path.starts_with(&out_path) {
            return Err(OutputFolderError::OverlapsInput {
                folder: shown(),
                input: input.display().to_string(),
            });
        }
    }
    Ok(())
}

/// `path` made absolute, its existing part with links resolved.
fn absolute(path: &Path) -> PathBuf {
    if let Ok(real) = path.canonicalize() {
        return real;
    }
    let base = std::env::current_dir().unwrap_or_default().join(path);
    match (base.parent(), base.file_name()) {
        (Some(parent), Some(name)) => absolute(parent).join(name),
        _ => base,
    }
}

/// Everything a run produced, for writing.
pub struct RunResult<'a> {
    pub config: &'a LoadedConfig,
    pub tables: &'a [LoadedTable],
    pub records: &'a Records,
    pub rejects: &'a [Reject],
    /// Per input table: rows read, used and rejected (`account_rows`, checked to add up).
    pub accounts: Vec<FileAccount>,
    pub quality: &'a Quality,
    pub linkage: &'a Linkage,
    pub evaluation: &'a Evaluation,
    /// What the run found about its inputs (rules not run, blind spots, unknown values,
    /// inputs missing against the ledger) and the gaps it withheld.
    pub checks: &'a Checks,
    pub as_of: NaiveDate,
    pub rules_run: Vec<usize>,
    /// Where the linkage model came from: a file, or trained on the run's rows.
    pub model_origin: String,
    pub full_ids: bool,
    /// Write the Parquet tables too (`--parquet`).
    pub parquet: bool,
    /// With `--parquet`: each record's keyed blocking keys, one a blocking rule (0 for none).
    pub blocking_keys: Vec<u64>,
    pub timings: Vec<(&'static str, f64)>,
    /// What the ledger made of this night, when a ledger is used.
    pub ledger: Option<&'a RunLedger>,
    /// The secret the person keys were made with.
    pub secret: &'a KeySecret,
    /// (rule, person) whose gaps stand in more than one county: their items are per county.
    pub several_counties: std::collections::HashSet<(usize, usize)>,
}

impl RunResult<'_> {
    pub fn settings(&self) -> &Settings {
        &self.config.settings
    }

    /// Whether the file's rows were read as evidence (`run --evidence`), not as inputs.
    pub fn is_evidence_file(&self, file: crate::model::FileId) -> bool {
        self.tables[file as usize].evidence.is_some()
    }

    /// Whether record `index` was read as evidence: the outputs list only the inputs' rows.
    pub fn is_evidence(&self, index: usize) -> bool {
        self.is_evidence_file(self.records[index].row.file)
    }

    /// The records of the inputs, as runs of record indices (a file's records are one run).
    pub fn own_record_runs(&self) -> Vec<std::ops::Range<usize>> {
        let mut runs: Vec<std::ops::Range<usize>> = Vec::new();
        for (i, record) in self.records.iter().enumerate() {
            if self.is_evidence_file(record.row.file) {
                continue;
            }
            match runs.last_mut().filter(|run| run.end == i) {
                Some(run) => run.end += 1,
                None => runs.push(i..i + 1),
            }
        }
        runs
    }

    /// The rules asked for: those run, and those not run for want of rows, in catalogue order.
    pub fn rules_selected(&self) -> Vec<usize> {
        let mut rules = self.rules_run.clone();
        rules.extend(self.checks.contract.not_run.iter().map(|n| n.rule));
        rules.sort_unstable();
        rules.dedup();
        rules
    }

    pub fn file_name(&self, file: u32) -> &str {
        &self.tables[file as usize].file.name
    }

    /// Record `index` as county staff find it: its source, file and row (医保参保登记
    /// insurance.csv 第12行).
    pub fn row_words(&self, index: usize) -> String {
        let record = &self.records[index];
        let label = &self.settings().sources[record.source()].label;
        format!(
            "{label} {} 第{}行",
            self.file_name(record.row.file),
            record.row.row
        )
    }

    /// The stable key of record `index`'s person: the ledger's, where it keeps an older key.
    pub fn person_key(&self, index: usize) -> String {
        self.show_person_key(index, str::to_string)
    }

    /// The ledger item gap `gap` belongs to: its rule and person, and its county when the
    /// person's gaps under the rule stand in several (a payment duplicated across counties is
    /// an item of each county).
    pub fn item_key(&self, gap: &crate::rules::Gap) -> String {
        let rule = &self.settings().rules[gap.rule].id;
        let person = self.linkage.person_of(gap.record);
        let county = self
            .several_counties
            .contains(&(gap.rule, person))
            .then(|| self.records[gap.record].county_code());
        crate::ledger::item_key_in(rule, &self.person_key(gap.record), county)
    }

    /// `person_key`, handed to `show` without allocating (`links.csv` has one a row).
    pub fn show_person_key<R>(&self, index: usize, show: impl FnOnce(&str) -> R) -> R {
        let text = self.linkage.key_of(index).text();
        let key = text.as_str();
        match self.ledger.and_then(|l| l.person_keys.get(key)) {
            Some(kept) => show(kept),
            None => show(key),
        }
    }
}

/// Every county the records hold (code -> name), each looked up once however many rows name it.
pub fn counties_seen(
    records: &crate::model::Records,
) -> std::collections::BTreeMap<String, String> {
    // A record names its county by number: one is told from another without hashing its code
    // again for each of tens of millions of rows.
    let seen: crate::model::FastSet<_> = records.iter().filter_map(|r| r.county).collect();
    let mut counties = std::collections::BTreeMap::new();
    for county in seen.into_iter().map(|c| c.county()) {
        counties.insert(county.code.clone(), county.name.clone());
    }
    counties
}

#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ReportError {
    pub path: String,
    pub message: String,
}

fn report_error(path: &Path, e: impl std::fmt::Display) -> ReportError {
    ReportError {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// Writes every output of the run into the staging folder beside `out`, ending with the
/// marker that says it is complete. `publish` moves it into place.
pub fn stage(result: &RunResult, out: &Path) -> Result<(), ReportError> {
    let staging = staging_dir(out)?;
    // Removed on every way out but success: an error or a panic while writing.
    let unfinished = RemovedUnlessKept(Some(staging.clone()));
    // For tests: a writer that panics half way, as a third-party one may on a full disk.
    if std::env::var_os("RECON_TEST_PANIC_WRITING").is_some() {
        write_text(&staging.join("gaps.csv"), "half written")?;
        panic!("a writer panicked (RECON_TEST_PANIC_WRITING)");
    }
    write_into(result, &staging)?;
    let owner = staging.join(OWNER_MARKER);
    write_text(
        &owner,
        "recon output folder: recon replaces it whole on every run\n",
    )?;
    let run_id = result.ledger.map_or(0, |l| l.run_id);
    let marker = staging.join(COMPLETE_MARKER);
    std::fs::write(&marker, run_id.to_string()).map_err(|e| report_error(&marker, e))?;
    unfinished.keep();
    Ok(())
}

/// A folder recon made, removed when this goes out of scope unless kept.
struct RemovedUnlessKept(Option<PathBuf>);

impl RemovedUnlessKept {
    fn keep(mut self) {
        self.0 = None;
    }
}

impl Drop for RemovedUnlessKept {
    fn drop(&mut self) {
        if let Some(dir) = &self.0 {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// The ledger run of a complete staging folder left by a run that stopped before publishing.
pub fn staged_run(out: &Path) -> Option<i64> {
    std::fs::read_to_string(sibling(out, "tmp").join(COMPLETE_MARKER))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Moves the complete staging folder into place, replacing the previous outputs.
pub fn publish(out: &Path) -> Result<(), ReportError> {
    let staging = sibling(out, "tmp");
    let marker = staging.join(COMPLETE_MARKER);
    std::fs::remove_file(&marker).map_err(|e| report_error(&marker, e))?;
    replace_dir(&staging, out)
}

fn write_into(result: &RunResult, dir: &Path) -> Result<(), ReportError> {
    let rows = gap_rows(result);
    let morning = morning::morning_data(result);
    // The files are independent: written side by side, the county lists among them; the
    // manifest, which lists them, last.
    let written: Vec<Output> = Output::written(result.parquet).collect();
    written.par_iter().try_for_each(|&output| {
        let started = std::time::Instant::now();
        let path = dir.join(output.name().trim_end_matches('/'));
        match output {
            Output::Gaps => gap_list::write_gaps_csv(&path, &rows),
            Output::Counties => county::write_county_lists(&path, result, &rows),
            Output::Summary => files::write_summary(&path, result, &morning.counties),
            Output::Links => files::write_links(&path, result),
            Output::Review => files::write_review(&path, result),
            Output::ReviewWorkbook => files::write_review_workbook(&path, result),
            Output::Rejects => files::write_rejects(&path, result),
            Output::Quality => files::write_quality(&path, result),
            Output::Html => write_text(&path, &html::render(&morning, None)),
            Output::Json => write_report_json(&path, &morning),
            Output::Model => write_text(&path, &result.linkage.model.to_json()),
            Output::Records => parquet::write_records(&path, result),
            Output::LinksParquet => parquet::write_links(&path, result),
            Output::BlockingKeys => parquet::write_blocking_keys(&path, result),
            Output::Manifest => return Ok(()),
        }?;
        let seconds = started.elapsed().as_secs_f64();
        tracing::debug!(output = output.name(), seconds, "output written");
        Ok(())
    })?;
    manifest::write_manifest(&dir.join(Output::Manifest.name()), result)
}

fn write_report_json(path: &Path, data: &morning::MorningData) -> Result<(), ReportError> {
    let text = serde_json::to_string_pretty(data).map_err(|e| report_error(path, e))?;
    write_text(path, &text)
}

/// Writes a new owner-only file.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let mut file = create_private_file(path)?;
    std::io::Write::write_all(&mut file, bytes).map_err(|e| report_error(path, e))
}

pub fn write_text(path: &Path, text: &str) -> Result<(), ReportError> {
    write_file(path, text.as_bytes())
}

/// The morning page of one county, drawn again from a run's `report.json`.
pub fn county_page(out: &Path, county: Option<&str>) -> Result<String, ReportError> {
    let path = out.join("report.json");
    let text = std::fs::read_to_string(&path).map_err(|e| report_error(&path, e))?;
    let data: morning::MorningData =
        serde_json::from_str(&text).map_err(|e| report_error(&path, e))?;
    if let Some(code) = county.filter(|c| !data.counties.contains_key(*c)) {
        return Err(report_error(
            &path,
            format!(
                "county {code} is not in this run; its counties are {}",
                data.counties.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    Ok(html::render(&data, county))
}

/// `.<name>.<suffix>` beside the output folder `out`: the lock, staging and old folders.
pub fn sibling(out: &Path, suffix: &str) -> PathBuf {
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = out.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    parent.join(format!(".{name}.{suffix}"))
}

/// A fresh, owner-only folder beside `out` (same file system, so the final rename is atomic).
/// Runs hold the output lock, so leftovers of a crashed run are cleared here: a staging folder
/// is removed, and an output moved aside but never replaced is put back first.
fn staging_dir(out: &Path) -> Result<PathBuf, ReportError> {
    let (staging, old) = (sibling(out, "tmp"), sibling(out, "old"));
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| report_error(parent, e))?;
    }
    if old.exists() && !out.exists() {
        std::fs::rename(&old, out).map_err(|e| report_error(&old, e))?;
    }
    for leftover in [&staging, &old] {
        if leftover.exists() {
            let ours = leftover.is_dir()
                && foreign_entries(leftover).is_ok_and(|f| f.iter().all(|n| n == COMPLETE_MARKER));
            if !ours {
                return Err(report_error(
                    leftover,
                    "is in the way of the run's staging and holds files recon did not write; move it",
                ));
            }
            std::fs::remove_dir_all(leftover).map_err(|e| report_error(leftover, e))?;
        }
    }
    create_private_dir(&staging)?;
    Ok(staging)
}

/// Swaps the finished folder into place: the old output is moved aside, then removed.
fn replace_dir(staging: &Path, out: &Path) -> Result<(), ReportError> {
    let old = sibling(out, "old");
    if out.exists() {
        std::fs::rename(out, &old).map_err(|e| report_error(out, e))?;
    }
    std::fs::rename(staging, out).map_err(|e| report_error(out, e))?;
    if old.exists() {
        std::fs::remove_dir_all(&old).map_err(|e| report_error(&old, e))?;
    }
    Ok(())
}

pub fn create_private_dir(dir: &Path) -> Result<(), ReportError> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| report_error(dir, e))
}

/// Opens a new owner-only file for writing.
pub fn create_private_file(path: &Path) -> Result<std::fs::File, ReportError> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| report_error(path, e))
}

/// A CSV writer on a new owner-only file; `excel` adds the BOM Excel and WPS need for UTF-8.
pub fn csv_writer(
    path: &Path,
    header: &[&str],
    excel: bool,
) -> Result<csv::Writer<std::fs::File>, ReportError> {
    use std::io::Write;
    let mut file = create_private_file(path)?;
    if excel {
        file.write_all(b"\xEF\xBB\xBF")
            .map_err(|e| report_error(path, e))?;
    }
    let mut writer = csv::Writer::from_writer(file);
    writer
        .write_record(header)
        .map_err(|e| report_error(path, e))?;
    Ok(writer)
}

/// A cell starting with `=`, `+`, `-` or `@` (or a tab or carriage return) would run as a
/// formula in Excel or WPS: a leading apostrophe keeps it text. Every CSV and workbook cell
/// recon writes goes through this.
pub fn inert(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell
        .as_bytes()
        .first()
        .is_some_and(|b| FORMULA_STARTS.contains(b))
    {
        true => format!("'{cell}").into(),
        false => cell.into(),
    }
}

/// The first characters that make a cell a formula.
const FORMULA_STARTS: [u8; 6] = *b"=+-@\t\r";

/// `inert` on a field's bytes.
fn inert_bytes(field: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    match field.first() {
        Some(b) if FORMULA_STARTS.contains(b) => {
            let mut quoted = Vec::with_capacity(field.len() + 1);
            quoted.push(b'\'');
            quoted.extend_from_slice(field);
            quoted.into()
        }
        _ => field.into(),
    }
}

/// Writes the CSV lines of `count` items after `writer`'s header: formatted a slice of items at
/// a time on every core (`lines` gives a range's bytes; it is called at least once, for a file
/// whose lines are not all items'), written in order, so memory holds one batch of lines, not
/// the file.
pub fn write_csv_in_batches(
    path: &Path,
    writer: csv::Writer<std::fs::File>,
    count: usize,
    lines: impl Fn(std::ops::Range<usize>) -> Result<Vec<u8>, csv::Error> + Sync,
) -> Result<(), ReportError> {
    const BATCH: usize = 1 << 18;
    const SLICE: usize = 1 << 12;
    let io_error = |e: std::io::Error| report_error(path, e);
    let header_written = writer.into_inner().map_err(|e| io_error(e.into_error()))?;
    let mut file = std::io::BufWriter::new(header_written);
    let starts: Vec<usize> = (0..count.max(1)).step_by(SLICE).collect();
    for batch in starts.chunks(BATCH / SLICE) {
        let slices: Vec<Vec<u8>> = batch
            .par_iter()
            .map(|&start| lines(start..(start + SLICE).min(count)))
            .collect::<Result<_, _>>()
            .map_err(|e| report_error(path, e))?;
        for bytes in slices {
            std::io::Write::write_all(&mut file, &bytes).map_err(io_error)?;
        }
    }
    std::io::Write::flush(&mut file).map_err(io_error)
}

/// The bytes of CSV records.
pub fn csv_lines<R>(rows: impl IntoIterator<Item = R>) -> Result<Vec<u8>, csv::Error>
where
    R: IntoIterator,
    R::Item: AsRef<[u8]>,
{
    let mut lines = csv::Writer::from_writer(Vec::new());
    for row in rows {
        lines.write_record(
            row.into_iter()
                .map(|f| inert_bytes(f.as_ref()).into_owned()),
        )?;
    }
    lines.into_inner().map_err(|e| e.into_error().into())
}

/// Writes rows and flushes, naming the file on failure.
pub fn write_csv_rows<I, R>(
    path: &Path,
    mut writer: csv::Writer<std::fs::File>,
    rows: I,
) -> Result<(), ReportError>
where
    I: IntoIterator<Item = R>,
    R: IntoIterator,
    R::Item: AsRef<[u8]>,
{
    for row in rows {
        writer
            .write_record(
                row.into_iter()
                    .map(|f| inert_bytes(f.as_ref()).into_owned()),
            )
            .map_err(|e| report_error(path, e))?;
    }
    writer.flush().map_err(|e| report_error(path, e))
}
