//! `recon explain OUT FILE ROW`: why a row belongs to its person, and why its best candidates
//! do or do not. The run's inputs (checked against their hashes in `run.json`) are read again
//! with the run's config and linked with the run's `model.json`, so the figures are the run's.
//! Names and IDs are masked unless `--full`.

use std::path::{Path, PathBuf};

use super::{pipeline, print, ExitStatus, Failure};
use crate::config::Settings;
use crate::link;
use crate::link::model::Model;
use crate::mask::{mask_id, mask_name};
use crate::model::{Record, Records};
use crate::progress::Progress;
use crate::report::RunManifest;

pub struct ExplainArgs<'a> {
    pub out: &'a Path,
    pub file: &'a str,
    pub row: u32,
    pub candidates: usize,
    pub full: bool,
    /// The run's ledger, whose decisions on review pairs the run honoured.
    pub ledger: Option<&'a Path>,
}

pub fn run(args: &ExplainArgs) -> Result<ExitStatus, Failure> {
    let manifest = RunManifest::read(args.out).map_err(|e| {
        Failure::BadInput(format!(
            "{}: {} (not a run's output folder?)",
            e.path, e.message
        ))
    })?;
    if manifest.inputs.iter().any(|input| input.evidence) {
        return Err(Failure::BadInput(format!(
            "{}: the run read other provinces' rows as evidence (--evidence), which explain does not replay; explain a row in a run over all the files",
            args.out.display()
        )));
    }
    let settings = Settings::from_toml(&manifest.config.text).map_err(|e| bad(args.out, &e.0))?;
    let model = Model::load(&args.out.join("model.json"))?;
    let files = unchanged_inputs(&manifest)?;
    let mut progress = Progress::new(true);
    let evidence = crate::ingest::EvidenceInputs::default();
    let read = pipeline::read(&files, (&settings, &evidence), false, &mut progress)?;
    let names: Vec<String> = read.tables.iter().map(|t| t.file.name.clone()).collect();
    let records = &read.normalized.records;
    let ledger = args.ledger.map(super::ledger::open_existing).transpose()?;
    let secret = match args.ledger {
        Some(path) => Some(crate::keys::KeySecret::resolve(None, Some(path))?),
        None => None,
    };
    let decisions = match &ledger {
        Some(ledger) => ledger.link_decisions()?,
        None => Default::default(),
    };
    let pair_key = |pair| {
        let secret = secret.as_ref()?;
        Some(link::decisions::pair_key(records, &settings, secret, pair))
    };
    let pair_note = |a, b| match pair_key((a, b)) {
        Some(key) => match decisions.get(&key) {
            Some(decision) => format!(" · pair key {key} · decided {}", decision.words()),
            None => format!(" · pair key {key}"),
        },
        None => String::new(),
    };
    let (linkage, matcher) = pipeline::link(
        (records, &names),
        &settings,
        (Some(model), &decisions, secret.as_ref()),
        &mut progress,
    )?;
    let index = records
        .iter()
        .position(|r| names[r.row.file as usize] == args.file && r.row.row == args.row)
        .ok_or_else(|| {
            Failure::BadInput(format!(
                "{} row {}: no such data row in the run's inputs (rejected rows are in rejects.csv)",
                args.file, args.row
            ))
        })?;
    let keys = keys_written(args)?;
    print(&explanation(
        (&linkage, &matcher, &keys),
        (records, &names, &settings),
        index,
        &pair_note,
        args,
    ));
    Ok(ExitStatus::Success)
}

fn bad(out: &Path, message: &str) -> Failure {
    Failure::BadInput(format!("{}: {message}", out.display()))
}

/// The run's input files, in the run's order; an error when one is gone or has changed.
fn unchanged_inputs(manifest: &RunManifest) -> Result<Vec<PathBuf>, Failure> {
    let mut files: Vec<PathBuf> = Vec::new();
    for input in &manifest.inputs {
        let path = PathBuf::from(&input.absolute_path)
            .canonicalize()
            .or_else(|_| PathBuf::from(&input.path).canonicalize());
        let path = path
            .map_err(|_| Failure::BadInput(format!("{}: the run's input is gone", input.path)))?;
        let bytes = std::fs::read(&path)
            .map_err(|e| Failure::BadInput(format!("{}: {e}", path.display())))?;
        use sha2::Digest;
        if format!("{:x}", sha2::Sha256::digest(&bytes)) != input.sha256 {
            return Err(Failure::BadInput(format!(
                "{}: changed since the run (its SHA-256 differs from run.json); run again to explain",
                path.display()
            )));
        }
        if !files.contains(&path) {
            files.push(path);
        }
    }
    Ok(files)
}

/// The person and household keys the run wrote for the row: keys are made with a secret this
/// command may not hold, so `links.csv` is where they are read.
fn keys_written(args: &ExplainArgs) -> Result<WrittenKeys, Failure> {
    let path = args.out.join("links.csv");
    let mut reader = csv::Reader::from_path(&path)
        .map_err(|e| Failure::BadInput(format!("{}: {e}", path.display())))?;
    let row = args.row.to_string();
    for line in reader.records() {
        let line = line.map_err(|e| Failure::BadInput(format!("{}: {e}", path.display())))?;
        if line.get(0) == Some(args.file) && line.get(1) == Some(row.as_str()) {
            return Ok(WrittenKeys {
                person: line.get(2).unwrap_or_default().to_string(),
                household: line.get(4).unwrap_or_default().to_string(),
            });
        }
    }
    Err(Failure::BadInput(format!(
        "{}: no line for {} row {}",
        path.display(),
        args.file,
        args.row
    )))
}

/// The keys `links.csv` gives a row.
struct WrittenKeys {
    person: String,
    /// Empty when the row's person is in no household.
    household: String,
}

/// The household of row `index`'s person: its key, head, members, and the rows that placed the
/// person there.
fn household_lines(
    linkage: &link::Linkage,
    records: &Records,
    key: &str,
    index: usize,
    describe: &dyn Fn(usize) -> String,
    full: bool,
) -> String {
    let households = &linkage.households;
    let Some(membership) = households.of(linkage.person_of(index)) else {
        return "  household: none with others (no row names a head this person shares)\n"
            .to_string();
    };
    let head = (records
        .ids
        .get(households.head(membership.household))
        .valid())
    .unwrap_or_default();
    let head = if full {
        head.to_string()
    } else {
        mask_id(head)
    };
    let placed = match (membership.rows, membership.elsewhere) {
        (0, _) => "the head, by their own ID".to_string(),
        (n, 0) => format!("{n} row(s) naming the head"),
        (n, other) => format!("{n} row(s) naming the head, {other} naming another"),
    };
    let members = households.members(membership.household);
    let mut text = format!(
        "  household {key} · head ID {head} · {} person(s) · placed by: {placed}\n",
        members.len()
    );
    const SHOWN: usize = 20;
    for &member in members.iter().take(SHOWN) {
        let first = linkage.members_of(member as usize)[0] as usize;
        text.push_str(&format!("    member: {}\n", describe(first)));
    }
    if members.len() > SHOWN {
        text.push_str(&format!("    … {} more\n", members.len() - SHOWN));
    }
    text
}

/// Why row `index` belongs to its person. With the ledger, each candidate pair shows its key
/// (against which a file for `recon review import` records 同一人 or 不同人) and any decision.
fn explanation(
    (linkage, matcher, keys): (&link::Linkage, &link::Matcher, &WrittenKeys),
    (records, names, settings): (&Records, &[String], &Settings),
    index: usize,
    pair_note: &dyn Fn(u32, u32) -> String,
    args: &ExplainArgs,
) -> String {
    let describe = |i: usize| row_line(&records[i], records, names, settings, args.full);
    let person = linkage.linked(index);
    let mut text = format!(
        "{}\n  person {} · {} row(s) · placed by: {}\n",
        describe(index),
        keys.person,
        person.len(),
        linkage.evidence(index, records)
    );
    for other in person.iter().map(|&o| o as usize).filter(|&o| o != index) {
        text.push_str(&format!(
            "    {} · placed by: {}\n",
            describe(other),
            linkage.evidence(other, records)
        ));
    }
    text.push_str(&household_lines(
        linkage,
        records,
        &keys.household,
        index,
        &describe,
        args.full,
    ));
    let candidates = matcher.candidates(linkage, index);
    text.push_str(&format!(
        "\nBest candidates: {} of {} rows sharing a blocking key\n",
        candidates.len().min(args.candidates),
        candidates.len()
    ));
    for (rank, (other, probability)) in candidates.iter().take(args.candidates).enumerate() {
        let same = if linkage.person_of(*other) == linkage.person_of(index) {
            "same person"
        } else {
            "another person"
        };
        let decide = pair_note(index as u32, *other as u32);
        text.push_str(&format!(
            "\n{}. {} · {same} · match probability {probability:.6}{decide}\n   {}\n{}",
            rank + 1,
            describe(*other),
            matcher.pair_decision(linkage, index, *other),
            matcher.waterfall(linkage, index, *other, args.full)
        ));
    }
    text
}

/// A row as a line: file and row, source, name and ID (masked unless `full`), county.
fn row_line(
    record: &Record,
    records: &Records,
    names: &[String],
    settings: &Settings,
    full: bool,
) -> String {
    let id = records.id(record);
    let id = match id.valid() {
        Some(id) if full => id.to_string(),
        Some(id) => mask_id(id),
        None => id.state().to_string(),
    };
    let name = if full {
        records.name(record).to_string()
    } else {
        mask_name(records.name(record))
    };
    let county = record
        .county()
        .map_or("—".to_string(), |c| format!("{} {}", c.code, c.name));
    format!(
        "{} row {} ({}) · {name} · {id} · {county}",
        names[record.row.file as usize],
        record.row.row,
        settings.sources[record.source()].key
    )
}
