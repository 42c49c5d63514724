//! The stages a run and `recon explain` share, written once: the files read and normalized,
//! then the records linked under people's decisions on pairs. Explain repeats a run's reading
//! and linking through these, so its figures are the run's.

use std::collections::HashMap;
use std::path::PathBuf;

use super::Failure;
use crate::config::Settings;
use crate::ingest::{self, EvidenceInputs, LoadedTable};
use crate::keys::KeySecret;
use crate::link::decisions::{pair_key, PairDecision};
use crate::link::model::Model;
use crate::link::{self, Linkage, Matcher};
use crate::model::region::Regions;
use crate::model::Records;
use crate::normalize::{self, Normalized};
use crate::progress::Progress;

/// The inputs as read and normalized.
pub struct Read {
    pub tables: Vec<LoadedTable>,
    pub normalized: Normalized,
    /// Files passed over on the way (a read-me, with `--skip-unassigned` a stray table).
    pub notes: Vec<String>,
}

/// Reads and normalizes `files` (those of `evidence` read as it says), each stage under
/// `progress`.
pub fn read(
    files: &[PathBuf],
    (settings, evidence): (&Settings, &EvidenceInputs),
    skip_unassigned: bool,
    progress: &mut Progress,
) -> Result<Read, Failure> {
    let loaded = progress
        .stage("ingest", || ingest::load(files, settings, skip_unassigned))
        .map_err(ingest_failure)?;
    let mut tables = loaded.tables;
    ingest::mark_evidence(&mut tables, evidence).map_err(|e| ingest_failure(vec![e]))?;
    crash_point("ingest");
    let (normalized, normalizing) = progress
        .stage("normalize", || {
            normalize::run(&mut tables, settings, Regions::bundled())
        })
        .map_err(|e| ingest_failure(vec![e]))?;
    progress.split_reading("ingest", "normalize", normalizing);
    crash_point("normalize");
    Ok(Read {
        tables,
        normalized,
        notes: loaded.notes,
    })
}

/// Links `records` (of the files `file_names`), honouring `decisions` on pairs of rows (known by their keys under
/// `secret`; none are honoured without it), with `model` when one is given.
pub fn link(
    (records, file_names): (&Records, &[String]),
    settings: &Settings,
    (model, decisions, secret): (
        Option<Model>,
        &HashMap<String, PairDecision>,
        Option<&KeySecret>,
    ),
    progress: &mut Progress,
) -> Result<(Linkage, Matcher), Failure> {
    let decided = |a, b| {
        let key = pair_key(records, settings, secret?, (a, b));
        decisions.get(&key).copied()
    };
    let honoured = !decisions.is_empty() && secret.is_some();
    progress
        .stage("link", || {
            link::link(
                records,
                file_names,
                settings,
                model,
                honoured.then_some(&decided),
            )
        })
        .map_err(|e| Failure::BadInput(format!("link: {e}")))
}

pub fn ingest_failure(errors: Vec<ingest::IngestError>) -> Failure {
    let lines: Vec<String> = errors.iter().map(|e| format!("  {e}")).collect();
    Failure::BadInput(format!(
        "{} input file(s) cannot be used; nothing was written:\n{}",
        errors.len(),
        lines.join("\n")
    ))
}

/// Where the end-to-end tests stop or fail a run on purpose, after `stage`.
pub fn crash_point(stage: &str) {
    if std::env::var("RECON_TEST_CRASH_AFTER").is_ok_and(|s| s == stage) {
        std::process::abort();
    }
    if std::env::var("RECON_TEST_PANIC_AFTER").is_ok_and(|s| s == stage) {
        panic!("byte index 1 is not a char boundary; it is inside '张' of `张三丰`");
    }
}
