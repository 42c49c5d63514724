//! `recon ledger list | note | export`: the ledger as county staff and the provincial office
//! read it, and the notes counties add.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use super::{print, ExitStatus, Failure};
use crate::cli::{LedgerCommand, LedgerListArgs, ListFormat};
use crate::config::Settings;
use crate::ledger::{ItemStatus, ItemView, Ledger};

const LIST_HEADER: [&str; COLUMNS] = [
    "key",
    "rule_id",
    "county_code",
    "person_key",
    "status",
    "first_seen",
    "last_seen",
    "closed_on",
    "days_open",
    "note_status",
    "note",
    "not_checked",
    "closed_by",
];

const COLUMNS: usize = 13;

pub fn run(command: &LedgerCommand) -> Result<ExitStatus, Failure> {
    match command {
        LedgerCommand::List(args) => list(args),
        LedgerCommand::Note {
            key,
            status,
            note,
            ledger,
        } => {
            open_existing(ledger)?.note(key, status, note)?;
            print(&format!("noted {key}: {status}\n"));
            Ok(ExitStatus::Success)
        }
        LedgerCommand::Export { ledger, out } => export(ledger, out),
        LedgerCommand::Report {
            ledger,
            from,
            to,
            config,
            out,
        } => period_report(ledger, (from, to), config.as_deref(), out),
        LedgerCommand::Import {
            files,
            ledger,
            rejects,
        } => super::feedback::import(files, ledger, rejects.as_deref()),
    }
}

/// `recon ledger report`: the period's page and workbook.
fn period_report(
    ledgers: &[PathBuf],
    (from, to): (&str, &str),
    config: Option<&Path>,
    out: &Path,
) -> Result<ExitStatus, Failure> {
    let day = |text: &str, flag: &str| {
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map_err(|_| Failure::BadInput(format!("--{flag} {text}: not a day (YYYY-MM-DD)")))
    };
    let (from, to) = (day(from, "from")?, day(to, "to")?);
    if from > to {
        return Err(Failure::BadInput(format!(
            "--from {from} is after --to {to}"
        )));
    }
    let settings = crate::config::load(config)?.settings;
    for path in write_period(ledgers, (from, to), &settings, out)? {
        print(&format!("wrote {}\n", path.display()));
    }
    Ok(ExitStatus::Success)
}

/// Writes the period's page and workbook over `ledgers` into `out` (several ledgers, a
/// province's each, make one table with a total per ledger), and records it in each ledger.
pub(super) fn write_period(
    ledgers: &[PathBuf],
    (from, to): (NaiveDate, NaiveDate),
    settings: &Settings,
    out: &Path,
) -> Result<Vec<PathBuf>, Failure> {
    let mut books = Vec::with_capacity(ledgers.len());
    let mut counts = Vec::with_capacity(ledgers.len());
    for path in ledgers {
        let book = open_existing(path)?;
        let lock = super::run::lock(&path.with_extension("lock"), path)?;
        let name = path.file_stem().unwrap_or_default().to_string_lossy();
        counts.push((name.into_owned(), book.period(from, to)?));
        books.push((book, lock));
    }
    let period = crate::report::period::Period {
        from,
        to,
        ledgers: &counts,
        rule_names: (settings.rules.iter())
            .map(|r| (r.id.clone(), r.name.clone()))
            .collect(),
    };
    let written = period
        .write(out)
        .map_err(|e| Failure::Internal(e.to_string()))?;
    if let Some(page) = written.first() {
        let page = page.canonicalize().unwrap_or_else(|_| page.clone());
        for (book, _lock) in &books {
            book.record_period_report((from, to), &page)?;
        }
    }
    Ok(written)
}

/// Reading commands never create a ledger: a mistyped path is an error, not an empty list.
pub(super) fn open_existing(path: &Path) -> Result<Ledger, Failure> {
    if !path.is_file() {
        return Err(Failure::BadInput(format!(
            "ledger {}: no such file",
            path.display()
        )));
    }
    Ok(Ledger::open(path)?)
}

/// Days an item has been open: to its closing date, or to the last night it was seen.
fn days_open(item: &ItemView) -> i64 {
    let end = if item.closed_on.is_empty() {
        &item.last_seen
    } else {
        &item.closed_on
    };
    match (
        NaiveDate::parse_from_str(&item.first_seen, "%Y-%m-%d"),
        NaiveDate::parse_from_str(end, "%Y-%m-%d"),
    ) {
        (Ok(first), Ok(end)) => (end - first).num_days(),
        _ => 0,
    }
}

fn record(item: &ItemView) -> [String; COLUMNS] {
    [
        item.key.clone(),
        item.rule_id.clone(),
        item.county_code.clone(),
        item.person_key.clone(),
        item.status.code().to_string(),
        item.first_seen.clone(),
        item.last_seen.clone(),
        item.closed_on.clone(),
        days_open(item).to_string(),
        item.note_status.clone(),
        item.note.clone(),
        item.not_checked.clone(),
        item.closed_by.clone(),
    ]
}

fn list(args: &LedgerListArgs) -> Result<ExitStatus, Failure> {
    let status = match args.status.as_deref() {
        Some(code) => Some(ItemStatus::parse(code).ok_or_else(|| {
            let known = ItemStatus::ALL.map(ItemStatus::code).join(", ");
            Failure::BadInput(format!("--status {code}: not a status ({known})"))
        })?),
        None => None,
    };
    let items = open_existing(&args.ledger)?.items()?;
    let keep = |i: &&ItemView| {
        args.county.as_ref().is_none_or(|c| &i.county_code == c)
            && args
                .rule
                .as_ref()
                .is_none_or(|r| i.rule_id.eq_ignore_ascii_case(r))
            && status.is_none_or(|s| i.status == s)
            && args.min_days.is_none_or(|d| days_open(i) >= d)
    };
    let rows: Vec<[String; COLUMNS]> = items.iter().filter(keep).map(record).collect();
    print(&match args.format {
        ListFormat::Csv => to_csv(&rows).map_err(|e| Failure::Internal(e.to_string()))?,
        ListFormat::Table => to_table(&rows),
    });
    Ok(ExitStatus::Success)
}

fn to_csv(rows: &[[String; COLUMNS]]) -> Result<String, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(LIST_HEADER)?;
    for row in rows {
        let cells = row
            .iter()
            .map(|cell| crate::report::inert(cell).into_owned());
        writer.write_record(cells)?;
    }
    let bytes = writer.into_inner().map_err(|e| e.into_error())?;
    // Every cell was a String, so the bytes are UTF-8.
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn to_table(rows: &[[String; COLUMNS]]) -> String {
    let mut text = format!("{} items\n", rows.len());
    for r in rows {
        let mut note = if r[9].is_empty() {
            String::new()
        } else {
            format!("  [{}] {}", r[9], r[10])
        };
        if !r[11].is_empty() {
            note.push_str(&format!("  not checked: {}", r[11]));
        }
        if !r[12].is_empty() {
            note.push_str(&format!("  closed: {}", r[12]));
        }
        text.push_str(&format!(
            "{:<8} {:<7} {:<26} {:<9} first {} last {} {:>4} days{note}\n",
            r[2], r[1], r[0], r[4], r[5], r[6], r[8]
        ));
    }
    text
}

/// `<out>/<county code>.csv` with every item of that county, for county staff (BOM for Excel).
fn export(ledger: &Path, out: &Path) -> Result<ExitStatus, Failure> {
    let items = open_existing(ledger)?.items()?;
    let mut by_county: BTreeMap<&str, Vec<[String; COLUMNS]>> = BTreeMap::new();
    for item in &items {
        by_county
            .entry(item.county_code.as_str())
            .or_default()
            .push(record(item));
    }
    crate::report::create_private_dir(out)?;
    for (county, rows) in &by_county {
        let name = if county.is_empty() { "unknown" } else { county };
        let path = out.join(format!("{name}.csv"));
        let writer = crate::report::csv_writer(&path, &LIST_HEADER, true)?;
        crate::report::write_csv_rows(&path, writer, rows)?;
    }
    print(&format!(
        "wrote {} county files into {}\n",
        by_county.len(),
        out.display()
    ));
    Ok(ExitStatus::Success)
}
