//! `recon run`: the job. A short sequence of stage calls, each under a progress spinner.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;

use chrono::NaiveDate;

use super::{print, ExitStatus, Failure};
use crate::cli::RunArgs;
use crate::config::{self, LoadedConfig};
use crate::normalize::region::Regions;
use crate::progress::Progress;
use crate::report::{self, RunResult};
use crate::{ingest, link, normalize, rules};

pub fn run(args: &RunArgs) -> Result<ExitStatus, Failure> {
    let config = config::load(args.config.as_deref())?;
    let as_of = parse_as_of(args.as_of.as_deref())?;
    let rules_run = select_rules(&config, &args.rules)?;
    let _lock = lock_output(&args.out)?;
    let mut progress = Progress::new(args.quiet);

    let files = ingest::discover(&args.inputs, Some(&args.out))
        .map_err(|e| Failure::BadInput(e.to_string()))?;
    let tables = progress
        .stage("ingest", || ingest::load(&files, &config.settings))
        .map_err(ingest_failure)?;
    let regions = Regions::bundled();
    let mut normalized = progress.stage("normalize", || {
        normalize::run(&tables, &config.settings, &regions)
    });
    let file_names: Vec<String> = tables.iter().map(|t| t.file.name.clone()).collect();
    let linkage = progress.stage("link", || link::link(&normalized.records, &file_names));
    let evaluation = progress.stage("rules", || {
        rules::evaluate(
            &config.settings,
            &normalized.records,
            &linkage,
            as_of,
            &args.rules,
        )
    });

    let mut rejects: Vec<_> = tables
        .iter()
        .flat_map(|t| t.rejects.iter().cloned())
        .collect();
    rejects.append(&mut normalized.rejects);
    let mut result = RunResult {
        config: &config,
        tables: &tables,
        records: &normalized.records,
        rejects: &rejects,
        quality: &normalized.quality,
        linkage: &linkage,
        evaluation: &evaluation,
        as_of,
        rules_run,
        full_ids: args.full_ids,
        timings: Vec::new(),
    };
    report::account_rows(&result)
        .map_err(|e| Failure::Internal(format!("row accounting failed: {e}")))?;
    result.timings = progress.timings.clone();
    progress
        .stage("report", || report::write_all(&result, &args.out))
        .map_err(|e| Failure::Internal(e.to_string()))?;
    if !args.quiet {
        print(&summary(&result, &args.out));
    }
    Ok(match args.fail_on_gaps && !evaluation.gaps.is_empty() {
        true => ExitStatus::GapsFound,
        false => ExitStatus::Success,
    })
}

fn parse_as_of(text: Option<&str>) -> Result<NaiveDate, Failure> {
    match text {
        None => Ok(chrono::Local::now().date_naive()),
        Some(t) => NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .map_err(|_| Failure::BadInput(format!("--as-of {t}: expected a date as YYYY-MM-DD"))),
    }
}

/// Rule indices to run: `--rule` ids (each must exist), else every enabled rule.
fn select_rules(config: &LoadedConfig, ids: &[String]) -> Result<Vec<usize>, Failure> {
    let rules = &config.settings.rules;
    for id in ids {
        if config.settings.rule(id).is_none() {
            return Err(Failure::BadInput(format!(
                "--rule {id}: no such rule in {}",
                config.origin
            )));
        }
    }
    Ok((0..rules.len())
        .filter(|&i| {
            if ids.is_empty() {
                rules[i].enabled
            } else {
                ids.iter().any(|id| id.eq_ignore_ascii_case(&rules[i].id))
            }
        })
        .collect())
}

fn ingest_failure(errors: Vec<ingest::IngestError>) -> Failure {
    let lines: Vec<String> = errors.iter().map(|e| format!("  {e}")).collect();
    Failure::BadInput(format!(
        "{} input file(s) cannot be used; nothing was written:\n{}",
        errors.len(),
        lines.join("\n")
    ))
}

/// One run at a time per output folder: an exclusive lock on `.<out>.lock` beside it. The
/// operating system releases it when the process ends, so a crashed run never blocks the next.
fn lock_output(out: &Path) -> Result<File, Failure> {
    let path = report::sibling(out, "lock");
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| Failure::Internal(format!("{}: {e}", parent.display())))?;
    }
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Failure::Internal(format!("{}: {e}", path.display())))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(_) => Err(Failure::Locked(format!(
            "another recon run is writing {} (lock {})",
            out.display(),
            path.display()
        ))),
    }
}

/// The one-screen summary: rows per source, rejects, gaps per rule and county. Counts only.
fn summary(result: &RunResult, out: &Path) -> String {
    let settings = result.settings();
    let mut text = format!(
        "recon {} · as of {} · config: {}\n\nInputs\n",
        env!("CARGO_PKG_VERSION"),
        result.as_of,
        result.config.origin
    );
    for (id, source) in settings.sources.iter().enumerate() {
        let tables: Vec<_> = result
            .tables
            .iter()
            .filter(|t| t.mapping.source == id)
            .collect();
        let rows: usize = tables.iter().map(|t| t.rows_read()).sum();
        let (key, files, label) = (&source.key, tables.len(), &source.label);
        text.push_str(&format!(
            "  {key:<10} {files:>3} file(s) {rows:>9} rows  {label}\n"
        ));
    }
    text.push_str(&format!(
        "  {} rows used, {} rejected (rejects.csv), {} persons\n\nGaps by rule and county ({} in all)\n",
        result.records.len(),
        result.rejects.len(),
        result.linkage.persons.len(),
        result.evaluation.gaps.len()
    ));
    for &rule in &result.rules_run {
        let mut by_county: BTreeMap<String, usize> = BTreeMap::new();
        for gap in result.evaluation.gaps.iter().filter(|g| g.rule == rule) {
            let county = result.records[gap.record]
                .county
                .as_ref()
                .map_or("未知区县".into(), |c| format!("{} {}", c.code, c.name));
            *by_county.entry(county).or_default() += 1;
        }
        let total: usize = by_county.values().sum();
        let counties = busiest_counties(&by_county);
        let r = &settings.rules[rule];
        text.push_str(&format!("  {:<7} {total:>6}  {}\n", r.id, r.name));
        if !counties.is_empty() {
            text.push_str(&format!("  {:15} {counties}\n", ""));
        }
    }
    let outputs = "gaps.csv, counties/, summary.csv, links.csv, review.csv, rejects.csv, quality.csv, run.json";
    text.push_str(&format!("\nOutputs in {}: {outputs}\n", out.display()));
    text
}

/// The five counties with most gaps, so the summary stays one screen for a whole province.
fn busiest_counties(by_county: &BTreeMap<String, usize>) -> String {
    const SHOWN: usize = 5;
    let mut counts: Vec<(&String, &usize)> = by_county.iter().collect();
    counts.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let mut text: Vec<String> = counts
        .iter()
        .take(SHOWN)
        .map(|(c, n)| format!("{c}: {n}"))
        .collect();
    if counts.len() > SHOWN {
        text.push(format!(
            "… {} more counties (summary.csv)",
            counts.len() - SHOWN
        ));
    }
    text.join(", ")
}
