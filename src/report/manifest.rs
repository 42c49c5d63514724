//! `run.json`: inputs with sizes and hashes, the config and its hash, the as-of date, the
//! version, row accounting per file, counts and stage timings, so an auditor can reproduce the
//! run. Row accounting (read = used + rejected, per file) is computed here and checked.

use std::path::Path;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{report_error, ReportError, RunResult};
use crate::ingest::LoadedTable;
use crate::model::{Record, Records, Reject};

/// Rows of one input table: read, used (a record), rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileAccount {
    pub read: usize,
    pub used: usize,
    pub rejected: usize,
}

/// Per table: rows read by ingest, records normalize made, rows rejected by either. An error
/// names a table whose counts do not add up: a row was lost, which is a bug.
pub fn account_rows(
    tables: &[LoadedTable],
    records: &Records,
    rejects: &[Reject],
) -> Result<Vec<FileAccount>, String> {
    // Counted on every core: a province's records are tens of millions.
    let count = |mut used: Vec<usize>, record: &Record| {
        used[record.row.file as usize] += 1;
        used
    };
    let add = |a: Vec<usize>, b: Vec<usize>| a.iter().zip(&b).map(|(x, y)| x + y).collect();
    let used: Vec<usize> = records
        .as_slice()
        .par_iter()
        .fold(|| vec![0; tables.len()], count)
        .reduce(|| vec![0; tables.len()], add);
    let mut accounts: Vec<FileAccount> = tables
        .iter()
        .zip(used)
        .map(|(t, used)| FileAccount {
            read: t.rows_read(),
            used,
            rejected: 0,
        })
        .collect();
    for reject in rejects {
        accounts[reject.row.file as usize].rejected += 1;
    }
    for (table, account) in tables.iter().zip(&accounts) {
        if account.read != account.used + account.rejected {
            return Err(format!(
                "{}: {} rows read but {} used + {} rejected",
                table.file.name, account.read, account.used, account.rejected
            ));
        }
    }
    Ok(accounts)
}

/// `run.json` as the run writes it and `explain` and `eval` read it back.
#[derive(Debug, Serialize, Deserialize)]
pub struct RunManifest {
    pub recon_version: String,
    pub as_of: String,
    pub config: ManifestConfig,
    pub rules: Vec<String>,
    pub full_ids: bool,
    pub linker: serde_json::Value,
    pub ledger_run: Option<i64>,
    pub inputs: Vec<ManifestInput>,
    pub input_checks: serde_json::Value,
    pub counts: serde_json::Value,
    pub timings_seconds: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ManifestConfig {
    pub origin: String,
    pub sha256: String,
    pub text: String,
}

/// An input table: its file (size, hash), how it was read, its source and its rows.
#[derive(Debug, Serialize, Deserialize)]
pub struct ManifestInput {
    pub file: String,
    pub path: String,
    pub absolute_path: String,
    pub format: String,
    pub encoding: Option<String>,
    pub sheet: Option<String>,
    pub size: u64,
    pub sha256: String,
    pub source: String,
    /// 1-based, as a spreadsheet numbers it.
    pub header_row: usize,
    pub rows_read: usize,
    pub rows_used: usize,
    pub rows_rejected: usize,
    pub columns: Vec<ManifestColumn>,
    /// Read as evidence (`run --evidence`), of its rows those listed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub evidence: bool,
}

/// A column's header and the field it was read as (none: not read).
#[derive(Debug, Serialize, Deserialize)]
pub struct ManifestColumn {
    pub header: String,
    pub field: Option<String>,
}

impl RunManifest {
    /// The `run.json` of the output folder `out`.
    pub fn read(out: &Path) -> Result<RunManifest, ReportError> {
        let path = out.join(super::Output::Manifest.name());
        let text = std::fs::read_to_string(&path).map_err(|e| report_error(&path, e))?;
        serde_json::from_str(&text).map_err(|e| report_error(&path, e))
    }
}

/// Every input table with its size, hash, source and row accounting.
pub fn inputs(result: &RunResult) -> Vec<ManifestInput> {
    let settings = result.settings();
    result
        .tables
        .iter()
        .zip(&result.accounts)
        .map(|(t, a)| ManifestInput {
            file: t.file.name.clone(),
            path: t.file.path.display().to_string(),
            absolute_path: t
                .file
                .path
                .canonicalize()
                .unwrap_or(t.file.path.clone())
                .display()
                .to_string(),
            format: t.file.format.to_string(),
            encoding: t.file.encoding.map(|e| e.label().to_string()),
            sheet: t.file.sheet.clone(),
            size: t.file.size,
            sha256: t.file.sha256.clone(),
            source: settings.sources[t.mapping.source].key.clone(),
            header_row: t.file.header_row + 1,
            rows_read: a.read,
            rows_used: a.used,
            rows_rejected: a.rejected,
            columns: columns(t, settings),
            evidence: t.evidence.is_some(),
        })
        .collect()
}

/// Each column of a table: its header and the field it was read as.
fn columns(table: &LoadedTable, settings: &crate::config::Settings) -> Vec<ManifestColumn> {
    let source = &settings.sources[table.mapping.source];
    let field_of = |column: usize| {
        table
            .mapping
            .fields
            .iter()
            .position(|m| m.as_ref().is_some_and(|(c, _)| *c == column))
            .map(|f| source.fields[f].name.clone())
    };
    table
        .headers
        .iter()
        .enumerate()
        .map(|(c, header)| ManifestColumn {
            header: header.clone(),
            field: field_of(c),
        })
        .collect()
}

/// Rows read, used and rejected, persons, and gaps in all and per rule.
pub fn counts_json(result: &RunResult) -> serde_json::Value {
    let settings = result.settings();
    let accounts = &result.accounts;
    let mut gaps_by_rule = serde_json::Map::new();
    for &rule in &result.rules_run {
        let n = result
            .evaluation
            .gaps
            .iter()
            .filter(|g| g.rule == rule)
            .count();
        gaps_by_rule.insert(settings.rules[rule].id.clone(), n.into());
    }
    json!({
        "rows_read": accounts.iter().map(|a| a.read).sum::<usize>(),
        "rows_used": accounts.iter().map(|a| a.used).sum::<usize>(),
        "rows_rejected": accounts.iter().map(|a| a.rejected).sum::<usize>(),
        "persons": result.linkage.persons(),
        "gaps": result.evaluation.gaps.len(),
        "gaps_by_rule": gaps_by_rule,
    })
}

/// The linkage model (where it came from, its hash and prior) and what the linker did.
fn linker_json(result: &RunResult) -> serde_json::Value {
    use sha2::Digest;
    let model = &result.linkage.model;
    let text = model.to_json();
    json!({
        "method": "Fellegi-Sunter (blocking rules, comparison levels, m/u probabilities)",
        "model": {
            "origin": result.model_origin,
            "file": "model.json",
            "recon_model_version": model.recon_model_version,
            "sha256": format!("{:x}", sha2::Sha256::digest(text.as_bytes())),
            "probability_two_random_records_match": model.probability_two_random_records_match,
            "cluster_odds_factor": model.cluster_odds_factor,
        },
        "person_keys": {
            "method": "HMAC-SHA-256 of the unkeyed key, first 8 bytes",
            "secret": result.secret.describe(),
            "fingerprint": result.secret.fingerprint(),
        },
        "accept": result.settings().link.accept,
        "review": result.settings().link.review,
        "counts": result.linkage.counts,
    })
}

/// What the run found about its inputs: the contract's findings, what is missing against the
/// ledger, the scopes not checked and the gaps withheld there.
pub fn checks_json(result: &RunResult) -> serde_json::Value {
    let settings = result.settings();
    let checks = result.checks;
    let mut value = crate::rules::contract::to_json(&checks.contract, settings, result.tables);
    let label = |key: &str| {
        settings
            .source(key)
            .map_or(key.to_string(), |s| settings.sources[s].label.clone())
    };
    value["inputs_missing"] = checks
        .missing
        .iter()
        .map(|m| {
            json!({
                "source": m.source(),
                "county": m.county(),
                "reason": m.reason(&label(m.source())),
            })
        })
        .collect();
    value["not_checked"] = checks
        .unchecked
        .iter()
        .map(|u| {
            json!({
                "rule": settings.rules[u.rule].id,
                "county": u.county,
                "reason": u.reason,
            })
        })
        .collect();
    value["gaps_withheld"] = checks
        .withheld
        .iter()
        .map(|((rule, county), n)| json!({"rule": settings.rules[*rule].id, "county": county, "gaps": n}))
        .collect();
    value["passed_over"] = checks.passed_over.clone().into();
    value["partial"] = (!checks.missing.is_empty()).into();
    value
}

pub fn write_manifest(path: &Path, result: &RunResult) -> Result<(), ReportError> {
    let settings = result.settings();
    let manifest = RunManifest {
        recon_version: env!("CARGO_PKG_VERSION").to_string(),
        as_of: result.as_of.to_string(),
        config: ManifestConfig {
            origin: result.config.origin.clone(),
            sha256: result.config.sha256(),
            text: result.config.text.clone(),
        },
        rules: (result.rules_run.iter())
            .map(|&r| settings.rules[r].id.clone())
            .collect(),
        full_ids: result.full_ids,
        linker: linker_json(result),
        ledger_run: result.ledger.map(|l| l.run_id),
        inputs: inputs(result),
        input_checks: checks_json(result),
        counts: counts_json(result),
        timings_seconds: (result.timings.iter())
            .map(|(stage, s)| (stage.to_string(), json!((s * 1000.0).round() / 1000.0)))
            .collect(),
    };
    let text = serde_json::to_string_pretty(&manifest).map_err(|e| report_error(path, e))?;
    super::write_text(path, &text)
}
