//! `recon run`: the job. A short sequence of stage calls, each under a progress spinner,
//! then the commit point: outputs are staged, the ledger commits, the outputs are published.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::Path;

use chrono::NaiveDate;
use tracing::info;

use super::pipeline::{self, crash_point, ingest_failure};
use super::{print, ExitStatus, Failure};
use crate::cli::RunArgs;
use crate::config::{self, LoadedConfig};
use crate::keys::KeySecret;
use crate::ledger::{CountyDiff, GapItem, Ledger, LedgerError, RunLedger, RunRecord};
use crate::link::model::Model;
use crate::link::pairs::PairOutcome;
use crate::model::id_number::IdNumber;
use crate::model::Records;
use crate::model::RejectReason;
use crate::progress::Progress;
use crate::report::{self, RunResult};
use crate::rules::contract::Arrivals;
use crate::rules::contract::{self, Checks};
use crate::{ingest, rules};

pub fn run(args: &RunArgs) -> Result<ExitStatus, Failure> {
    let config = config::load(args.config.as_deref())?;
    let as_of = parse_as_of(args.as_of.as_deref())?;
    let rules_run = select_rules(&config, &args.rules)?;
    report::check_output_folder(&args.out, &args.inputs)
        .map_err(|e| Failure::BadInput(e.to_string()))?;
    let _output_lock = lock(&report::sibling(&args.out, "lock"), &args.out)?;
    let ledger_path = args.ledger.clone().or_else(|| config.ledger.clone());
    let (_ledger_lock, mut ledger) = match &ledger_path {
        Some(path) => {
            let lock = lock(&path.with_extension("lock"), path)?;
            (Some(lock), Some(Ledger::open(path)?))
        }
        None => (None, None),
    };
    let secret = KeySecret::resolve(config.key_file.as_deref(), ledger_path.as_deref())?;
    if let Some(ledger) = ledger.as_mut() {
        let rewritten = ledger.key_with(&secret)?;
        if rewritten > 0 {
            info!(
                items = rewritten,
                "ledger: person keys of an older recon rewritten keyed"
            );
        }
    }
    finish_interrupted_publish(&args.out, ledger.as_ref())?;
    let ledger_shown = ledger_path
        .as_ref()
        .map_or("none".to_string(), |p| p.display().to_string());
    info!(as_of = %as_of, config = %config.origin, ledger = %ledger_shown, person_keys = %secret.describe(), "run started");
    let outcome = job(args, (&config, &secret), as_of, rules_run, ledger.as_mut());
    if let (Err(failure), Some(ledger)) = (&outcome, &ledger) {
        record_failure(ledger, &config, as_of, failure);
    }
    outcome
}

/// The stages, the commit point and the summary.
fn job(
    args: &RunArgs,
    (config, secret): (&LoadedConfig, &KeySecret),
    as_of: NaiveDate,
    rules_run: Vec<usize>,
    ledger: Option<&mut Ledger>,
) -> Result<ExitStatus, Failure> {
    let mut progress = Progress::new(args.quiet);
    let (found, evidence_files) =
        ingest::discover_with_evidence(&args.inputs, &args.evidence).map_err(ingest_failure)?;
    let evidence = ingest::EvidenceInputs {
        files: evidence_files,
        rows: (args.evidence_rows.as_deref())
            .map(ingest::read_evidence_rows)
            .transpose()
            .map_err(|e| ingest_failure(vec![e]))?,
    };
    let read = pipeline::read(
        &found.files,
        (&config.settings, &evidence),
        args.skip_unassigned,
        &mut progress,
    )?;
    let pipeline::Read {
        tables,
        mut normalized,
        notes,
    } = read;
    let evidence: Vec<bool> = tables.iter().map(|t| t.evidence.is_some()).collect();
    let passed_over = [
        found.notes,
        notes,
        set_aside_notes(&tables, &normalized.rejects, config),
    ]
    .concat();
    let (mut checks, arrivals, expected) = check_inputs(
        args,
        config,
        (as_of, &rules_run),
        (&tables, &normalized.records, passed_over),
        (ledger.as_deref(), &evidence),
    )?;
    let model_path = args.model.clone().or_else(|| config.model.clone());
    let model = model_path.as_deref().map(Model::load).transpose()?;
    let decisions = match ledger.as_deref() {
        Some(ledger) => ledger.link_decisions()?,
        None => Default::default(),
    };
    let file_names: Vec<String> = tables.iter().map(|t| t.file.name.clone()).collect();
    let (mut linkage, matcher) = pipeline::link(
        (&normalized.records, &file_names),
        &config.settings,
        (model, &decisions, Some(secret)),
        &mut progress,
    )?;
    linkage.key_with(secret);
    crash_point("link");
    let rules_evaluated = checks.contract.runnable(&rules_run);
    let watched = match ledger.as_deref() {
        Some(ledger) => open_items(ledger, &config.settings, &linkage)?,
        None => Vec::new(),
    };
    let mut evaluation = progress.stage("rules", || {
        rules::evaluate(
            &config.settings,
            (&normalized.records, &evidence),
            (&linkage, &matcher),
            as_of,
            (&rules_evaluated, &watched),
        )
    });
    if evidence.contains(&true) {
        let lists = |pair: &PairOutcome| {
            lists_review_pair(&normalized.records, (&file_names, &evidence), pair)
        };
        linkage.keep_review(lists);
    }
    let blocking_keys = match args.parquet {
        true => matcher.blocking_keys(&linkage, secret.value_hasher()),
        false => Vec::new(),
    };
    // Its copy of every row's compared values is not needed by the report.
    matcher.let_go(&mut linkage);
    withhold_unchecked(&mut evaluation, &normalized.records, &mut checks);
    crash_point("rules");

    let mut rejects: Vec<_> = tables
        .iter()
        .flat_map(|t| t.rejects.iter().cloned())
        .collect();
    rejects.append(&mut normalized.rejects);
    let accounts = report::account_rows(&tables, &normalized.records, &rejects)
        .map_err(|e| Failure::Internal(format!("row accounting failed: {e}")))?;
    let mut result = RunResult {
        config,
        tables: &tables,
        records: &normalized.records,
        rejects: &rejects,
        accounts,
        quality: &normalized.quality,
        linkage: &linkage,
        evaluation: &evaluation,
        checks: &checks,
        as_of,
        rules_run: rules_evaluated,
        model_origin: model_path.map_or("trained on this run's rows".to_string(), |p| {
            p.display().to_string()
        }),
        full_ids: args.full_ids,
        parquet: args.parquet,
        blocking_keys,
        timings: Vec::new(),
        ledger: None,
        secret,
        several_counties: several_counties(&evaluation, &normalized.records, &linkage),
    };
    let pending = match ledger {
        Some(ledger) => {
            let next = crate::rules::contract::next_expected(&expected, &arrivals, &checks.missing);
            Some(progress.stage("ledger", || apply_ledger(ledger, &result, next))?)
        }
        None => None,
    };
    crash_point("ledger");
    let night: Option<RunLedger> = pending.as_ref().map(|p| p.result.clone());
    result.ledger = night.as_ref();
    result.timings = progress.timings.clone();
    // A writer that panics (a third-party one, on a full disk) fails the run like an error:
    // the staging folder is removed on the way out and the ledger is not committed.
    let staged = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        progress.stage("report", || report::stage(&result, &args.out))
    }));
    staged.map_err(|_| {
        Failure::Internal(format!(
            "writing the outputs into {} failed (is the disk full?); the previous outputs are as they were",
            args.out.display()
        ))
    })??;
    crash_point("report");
    if let Some(pending) = pending {
        pending.commit()?;
    }
    crash_point("commit");
    report::publish(&args.out)?;
    info!(gaps = evaluation.gaps.len(), out = %args.out.display(), "run finished");
    if !args.quiet {
        print(&summary(&result, &args.out));
    }
    Ok(if !checks.missing.is_empty() {
        ExitStatus::Partial
    } else if args.fail_on_gaps && !evaluation.gaps.is_empty() {
        ExitStatus::GapsFound
    } else {
        ExitStatus::Success
    })
}

/// Tonight's inputs against the rules' contract and, with a ledger, against the rows the last
/// nights brought: the checks, tonight's rows and the expected ones. Each warning is logged;
/// with `--strict` (or `[run] strict`) any of them fails the run before anything is written.
fn check_inputs(
    args: &RunArgs,
    config: &LoadedConfig,
    (as_of, rules_run): (NaiveDate, &[usize]),
    (tables, records, passed_over): (&[ingest::LoadedTable], &crate::model::Records, Vec<String>),
    (ledger, evidence): (Option<&Ledger>, &[bool]),
) -> Result<(Checks, Arrivals, Arrivals), Failure> {
    let settings = &config.settings;
    let options = settings.options.run.clone().unwrap_or_default();
    let started = std::time::Instant::now();
    let contract = contract::check(settings, tables, records, as_of, rules_run);
    // Rows per source and county matter only against a ledger's last nights.
    let arrivals = match ledger {
        Some(_) => contract::arrivals(settings, (records, evidence)),
        None => Arrivals::new(),
    };
    let seconds = started.elapsed().as_secs_f64();
    tracing::debug!(seconds, "inputs checked");
    let expected = ledger
        .map(Ledger::expected_inputs)
        .transpose()?
        .unwrap_or_default();
    if !args.accept_missing.is_empty() && ledger.is_none() {
        return Err(Failure::BadInput(
            "--accept-missing: only a run with a ledger expects inputs".into(),
        ));
    }
    let missing = crate::rules::contract::missing_inputs(
        &expected,
        &arrivals,
        &args.accept_missing,
        options.row_count_drop,
    );
    let unchecked = contract::unchecked(settings, rules_run, &contract, &missing);
    let checks = Checks {
        passed_over,
        contract,
        missing,
        unchecked,
        withheld: BTreeMap::new(),
    };
    let lines = checks.warning_lines(settings, tables);
    for line in &lines {
        tracing::warn!("{line}");
    }
    if (args.strict || options.strict) && !lines.is_empty() {
        return Err(Failure::BadInput(format!(
            "--strict: {} input warning(s); nothing was written:\n{}",
            lines.len(),
            lines
                .iter()
                .map(|l| format!("  {l}"))
                .collect::<Vec<_>>()
                .join("\n")
        )));
    }
    Ok((checks, arrivals, expected))
}

/// A line for each file with rows set aside as another scheme's (a source's `set_aside`): a
/// whole file set aside is likely another department's export in the wrong folder.
fn set_aside_notes(
    tables: &[ingest::LoadedTable],
    rejects: &[crate::model::Reject],
    config: &LoadedConfig,
) -> Vec<String> {
    let mut set_aside = vec![0usize; tables.len()];
    for reject in rejects
        .iter()
        .filter(|r| r.reason == RejectReason::OutOfScope)
    {
        set_aside[reject.row.file as usize] += 1;
    }
    tables
        .iter()
        .zip(set_aside)
        .filter(|(_, n)| *n > 0)
        .map(|(table, n)| {
            let source = &config.settings.sources[table.mapping.source];
            format!(
                "{}: {n} of {} rows set aside as another scheme's, not {} records (`set_aside` of source {}; rejects.csv, reason out_of_scope)",
                table.file.name,
                table.rows_read(),
                source.label,
                source.key
            )
        })
        .collect()
}

/// Gaps in a scope tonight could not check are withheld (counted, not listed): with an input
/// missing, they would be a flood of false ones.
fn withhold_unchecked(
    evaluation: &mut rules::Evaluation,
    records: &crate::model::Records,
    checks: &mut Checks,
) {
    if checks.unchecked.is_empty() {
        return;
    }
    let mut withheld: BTreeMap<(usize, String), u64> = BTreeMap::new();
    evaluation.gaps.retain(|gap| {
        let county = records[gap.record].county_code();
        let keep = checks.withheld_reason(gap.rule, county).is_none();
        if !keep {
            *withheld.entry((gap.rule, county.to_string())).or_default() += 1;
        }
        keep
    });
    checks.withheld = withheld;
}

/// (rule index, person) of the ledger's open items whose person tonight's data holds, for the
/// rules to name the row that closes them.
fn open_items(
    ledger: &Ledger,
    settings: &crate::config::Settings,
    linkage: &crate::link::Linkage,
) -> Result<Vec<(usize, usize)>, Failure> {
    let mut rules_of: std::collections::HashMap<String, Vec<usize>> = Default::default();
    for (rule_id, person_key) in ledger.open_items()? {
        if let Some(rule) = settings.rules.iter().position(|r| r.id == rule_id) {
            rules_of.entry(person_key).or_default().push(rule);
        }
    }
    if rules_of.is_empty() {
        return Ok(Vec::new());
    }
    Ok((0..linkage.persons())
        .flat_map(|p| {
            let key = linkage
                .key_of(linkage.members_of(p)[0] as usize)
                .to_string();
            let rules = rules_of.get(&key).cloned().unwrap_or_default();
            rules.into_iter().map(move |rule| (rule, p))
        })
        .collect())
}

/// (rule, person) whose gaps stand in more than one county.
fn several_counties(
    evaluation: &rules::Evaluation,
    records: &crate::model::Records,
    linkage: &crate::link::Linkage,
) -> std::collections::HashSet<(usize, usize)> {
    let mut first: std::collections::HashMap<(usize, usize), &str> = Default::default();
    let mut several = std::collections::HashSet::new();
    for gap in &evaluation.gaps {
        let item = (gap.rule, linkage.person_of(gap.record));
        let county = records[gap.record].county_code();
        if *first.entry(item).or_insert(county) != county {
            several.insert(item);
        }
    }
    several
}

/// The values of a gap's row and of the row that made it (the forbidden record, the death,
/// the closest row of a missing requirement), without where they stand: a county's 不属实
/// holds while these stay the same.
fn facts_of(result: &RunResult, gap: &rules::Gap) -> String {
    let records = result.records;
    let mut text = gap.detail.replace(&result.as_of.to_string(), "");
    for index in std::iter::once(gap.record).chain(gap.evidence) {
        let record = &records[index];
        let fields = &result.settings().sources[record.source()].fields;
        text.push('\u{1e}');
        text.push_str(records.id(record).state());
        text.push_str(records.name(record));
        for field in 0..fields.len() {
            text.push('\u{1f}');
            if let Some(shown) = records.shown(records.value(record, field)) {
                text.push_str(&shown);
            }
        }
    }
    text
}

/// Tonight's gaps into the ledger, in a transaction the caller commits.
fn apply_ledger<'l>(
    ledger: &'l mut Ledger,
    result: &RunResult,
    expected_inputs: Arrivals,
) -> Result<crate::ledger::PendingRun<'l>, LedgerError> {
    let gaps: Vec<GapItem> = result
        .evaluation
        .gaps
        .iter()
        .map(|gap| {
            let record = &result.records[gap.record];
            GapItem {
                rule_id: result.settings().rules[gap.rule].id.clone(),
                person_key: result.linkage.key_of(gap.record).to_string(),
                county_code: record.county().map_or(String::new(), |c| c.code.clone()),
                name_hash: result.secret.name_hash(&result.records.name_key(record)),
                facts: result.secret.text_hash(&facts_of(result, gap)),
                in_several_counties: result
                    .several_counties
                    .contains(&(gap.rule, result.linkage.person_of(gap.record))),
            }
        })
        .collect();
    let rules = result
        .rules_run
        .iter()
        .map(|&r| result.settings().rules[r].id.clone())
        .collect();
    let inputs = serde_json::to_value(report::inputs(result)).expect("inputs are plain data");
    let counts = report::counts_json(result);
    let mut record = run_record(result.config, result.as_of, rules, inputs, counts);
    record.unchecked = result
        .checks
        .unchecked
        .iter()
        .map(|u| crate::ledger::UncheckedScope {
            rule_id: result.settings().rules[u.rule].id.clone(),
            county: u.county.clone(),
            reason: u.reason.clone(),
            withheld: u.withheld,
        })
        .collect();
    record.expected_inputs = expected_inputs;
    let persons: std::collections::HashMap<String, usize> = (0..result.linkage.persons())
        .map(|p| {
            let first = result.linkage.members_of(p)[0] as usize;
            (result.person_key(first), p)
        })
        .collect();
    let subject_present = |rule_id: &str, person_key: &str| {
        let rule = result
            .settings()
            .rules
            .iter()
            .position(|r| r.id == rule_id)?;
        let subject = result.settings().rules[rule].subject;
        let &person = persons.get(person_key)?;
        let rows = result.linkage.members_of(person);
        rows.iter()
            .any(|&r| result.records[r as usize].source() == subject)
            .then(|| {
                let met = result.evaluation.satisfied.get(&(rule, person));
                met.map_or(String::new(), |&row| result.row_words(row))
            })
    };
    let pending = ledger.apply(&gaps, &record, &subject_present)?;
    warn_of_missing_counties(result, &pending.result);
    let diff = pending.result.diff.values();
    let (new, closed, reopened) = diff.fold((0, 0, 0), |(n, c, r), d| {
        (n + d.new, c + d.closed, r + d.reopened)
    });
    info!(
        run_id = pending.result.run_id,
        new, closed, reopened, "ledger applied"
    );
    Ok(pending)
}

/// Items close when their gap is gone; when a county has no input row at all tonight, its
/// exports probably did not arrive, and the operator should know before trusting the closures.
fn warn_of_missing_counties(result: &RunResult, night: &RunLedger) {
    let present: std::collections::HashSet<&str> = result
        .records
        .iter()
        .map(crate::model::Record::county_code)
        .collect();
    for ((rule, county), diff) in &night.diff {
        if diff.closed > 0 && !present.contains(county.as_str()) {
            tracing::warn!(rule = %rule, county = %county, closed = diff.closed, "items closed in a county with no input rows tonight: check that its exports arrived");
        }
    }
}

fn run_record(
    config: &LoadedConfig,
    as_of: NaiveDate,
    rules: Vec<String>,
    inputs: serde_json::Value,
    counts: serde_json::Value,
) -> RunRecord {
    RunRecord {
        as_of,
        config_sha256: config.sha256(),
        inputs,
        counts,
        rules,
        unchecked: Vec::new(),
        expected_inputs: Arrivals::new(),
    }
}

/// A failed run is logged in the ledger's run table; nothing else in the ledger changes.
fn record_failure(ledger: &Ledger, config: &LoadedConfig, as_of: NaiveDate, failure: &Failure) {
    let outcome = match failure {
        Failure::BadInput(_) => "failed: bad input",
        Failure::Locked(_) => "failed: locked",
        Failure::Internal(_) => "failed: internal error",
    };
    let record = run_record(
        config,
        as_of,
        Vec::new(),
        serde_json::Value::Null,
        serde_json::Value::Null,
    );
    if let Err(e) = ledger.record_failure(&record, outcome) {
        tracing::warn!("could not record the failed run: {e}");
    }
}

/// A run that stopped after the ledger committed but before its outputs were moved into
/// place is finished here; a staged folder the ledger never committed is discarded later.
fn finish_interrupted_publish(out: &Path, ledger: Option<&Ledger>) -> Result<(), Failure> {
    let (Some(run_id), Some(ledger)) = (report::staged_run(out), ledger) else {
        return Ok(());
    };
    if run_id > 0 && ledger.is_committed(run_id)? {
        info!(run_id, "publishing the outputs of an interrupted run");
        report::publish(out)?;
    }
    Ok(())
}

pub(super) fn parse_as_of(text: Option<&str>) -> Result<NaiveDate, Failure> {
    let Some(text) = text else {
        return Ok(chrono::Local::now().date_naive());
    };
    let bad = |why: &str| Failure::BadInput(format!("--as-of {text}: {why}"));
    let shape = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !shape {
        return Err(bad("expected a date as YYYY-MM-DD"));
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| bad("not a day"))?;
    match (1900..=2100).contains(&chrono::Datelike::year(&date)) {
        true => Ok(date),
        false => Err(bad("expected a date between 1900 and 2100")),
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

/// One run at a time: an exclusive lock on `path`, guarding `what` (the output folder or the
/// ledger). The holder writes its process id and start time into the lock file, so a second
/// run can name it. The file is owner-only whatever the umask, and the holder removes it when
/// done; the operating system releases the lock when the process ends, so a crashed run never
/// blocks the next.
pub(super) fn lock(path: &Path, what: &Path) -> Result<HeldLock, Failure> {
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
    let internal = |e: std::io::Error| Failure::Internal(format!("{}: {e}", path.display()));
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(internal)?;
    }
    loop {
        let mut file = File::options()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .mode(0o600)
            .open(path)
            .map_err(internal)?;
        if file.try_lock().is_err() {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            return Err(Failure::Locked(format!(
                "another recon run holds {} ({}; lock file {})",
                what.display(),
                holder.trim(),
                path.display()
            )));
        }
        // A holder that was removing the file as we opened it leaves us a lock on a file no
        // longer at `path`: open it again.
        let here = std::fs::metadata(path).ok();
        let held = file.metadata().map_err(internal)?;
        if here.is_none_or(|m| (m.dev(), m.ino()) != (held.dev(), held.ino())) {
            continue;
        }
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(internal)?;
        let started = chrono::Local::now().format("%Y-%m-%dT%H:%M:%S");
        file.set_len(0)
            .and_then(|_| file.rewind())
            .map_err(internal)?;
        write!(file, "pid {} since {started}", std::process::id()).map_err(internal)?;
        return Ok(HeldLock {
            _file: file,
            path: path.to_path_buf(),
        });
    }
}

/// A lock held by this run: its file is removed, still locked, when the run is done.
pub(super) struct HeldLock {
    _file: File,
    path: std::path::PathBuf,
}

impl Drop for HeldLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The one-screen summary: rows per source, rejects, gaps per rule and county. Counts only.
/// What was read as evidence (`--evidence`): files, rows read and rows passed over unlisted.
fn evidence_line(tables: &[ingest::LoadedTable]) -> String {
    let evidence: Vec<_> = tables
        .iter()
        .filter_map(|t| Some((t, t.evidence.as_ref()?)))
        .collect();
    if evidence.is_empty() {
        return String::new();
    }
    let read: usize = evidence.iter().map(|(t, _)| t.rows_read()).sum();
    let passed_over: usize = evidence.iter().map(|(_, e)| e.passed_over).sum();
    format!(
        "  of these, {read} rows of {} evidence file(s): linked and read by the rules, never a gap's subject ({passed_over} rows not listed in --evidence-rows, passed over)\n",
        evidence.len()
    )
}

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
        "  {} rows used, {} rejected (rejects.csv), {} persons\n",
        result.records.len(),
        result.rejects.len(),
        result.linkage.persons(),
    ));
    text.push_str(&evidence_line(result.tables));
    text.push_str(&warning_block(result));
    text.push_str(&format!(
        "\nGaps by rule and county ({} in all)\n",
        result.evaluation.gaps.len()
    ));
    for &rule in &result.rules_run {
        let mut by_county: BTreeMap<String, usize> = BTreeMap::new();
        for gap in result.evaluation.gaps.iter().filter(|g| g.rule == rule) {
            let county = result.records[gap.record]
                .county()
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
    if let Some(ledger) = result.ledger {
        text.push_str(&ledger_summary(ledger));
    }
    text.push_str(&format!(
        "\nOutputs in {}: {}\n",
        out.display(),
        report::Output::written(result.parquet)
            .map(report::Output::name)
            .collect::<Vec<_>>()
            .join(", ")
    ));
    text
}

/// The warnings about tonight's inputs, above the gaps: what may make them wrong.
fn warning_block(result: &RunResult) -> String {
    const SHOWN: usize = 20;
    let lines = result
        .checks
        .warning_lines(result.settings(), result.tables);
    if lines.is_empty() {
        return String::new();
    }
    let mut text = format!(
        "\nWarnings: {} about tonight's inputs; the gaps below may be wrong where they apply (run.json, report.html)\n",
        lines.len()
    );
    for line in lines.iter().take(SHOWN) {
        text.push_str(&format!("  ! {line}\n"));
    }
    if lines.len() > SHOWN {
        text.push_str(&format!("  ! … {} more in run.json\n", lines.len() - SHOWN));
    }
    let withheld: u64 = result.checks.withheld.values().sum();
    if withheld > 0 {
        text.push_str(&format!(
            "  ! {withheld} gap(s) withheld where an input is missing (summary.csv: not_checked, withheld)\n"
        ));
    }
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

/// The night's ledger changes in all, then per county (the ten with most changes).
fn ledger_summary(ledger: &RunLedger) -> String {
    const SHOWN: usize = 10;
    let mut total = CountyDiff::default();
    let mut by_county: BTreeMap<&str, CountyDiff> = BTreeMap::new();
    for ((_, county), diff) in &ledger.diff {
        total += diff;
        *by_county.entry(county.as_str()).or_default() += diff;
    }
    let line = |d: &CountyDiff| {
        let (new, reopened, closed, open, days) =
            (d.new, d.reopened, d.closed, d.still_open, d.max_days_open);
        format!("{new} new, {reopened} reopened, {closed} closed (销号), {open} still open, oldest {days} days")
    };
    let mut text = format!("\nLedger run {}: {}\n", ledger.run_id, line(&total));
    let mut counties: Vec<(&str, CountyDiff)> = by_county.into_iter().collect();
    counties.sort_by_key(|(county, d)| (std::cmp::Reverse(d.new + d.reopened + d.closed), *county));
    for (county, diff) in counties.iter().take(SHOWN) {
        text.push_str(&format!("  {county:<8} {}\n", line(diff)));
    }
    if counties.len() > SHOWN {
        text.push_str(&format!(
            "  … {} more counties (summary.csv)\n",
            counties.len() - SHOWN
        ));
    }
    text
}

/// Whether a partition of a national run lists review pair `pair`: when both rows are its own,
/// or when its own row is the pair's subject, so that a pair across two provinces is listed
/// once, by the province whose county must find out who the subject is. The subject is the row
/// without a valid ID (the one in question); of two such, or two with IDs, the first by file
/// name and row, which every province sees alike.
fn lists_review_pair(
    records: &Records,
    (file_names, evidence): (&[String], &[bool]),
    pair: &PairOutcome,
) -> bool {
    let own = |row: u32| !evidence[records[row as usize].row.file as usize];
    if own(pair.a) == own(pair.b) {
        return own(pair.a);
    }
    let order = |row: u32| {
        let record = &records[row as usize];
        let valid = matches!(records.id(record), IdNumber::Valid(_));
        (valid, &file_names[record.row.file as usize], record.row.row)
    };
    let subject = if order(pair.a) <= order(pair.b) {
        pair.a
    } else {
        pair.b
    };
    own(subject)
}
