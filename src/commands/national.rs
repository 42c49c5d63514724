//! `recon national`: a nation's provinces on Apache Spark. Spark places, shuffles, retries and
//! collects; each province's work is `recon run` (see `national_job.py`, which this command
//! writes into the output folder and hands to `spark-submit`).

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{print, ExitStatus, Failure};
use crate::cli::NationalArgs;
use crate::config::{self, Settings};
use crate::keys::{KeyOrigin, KeySecret};

/// The job Spark runs, carried in the binary so that the two always match.
const JOB: &str = include_str!("national_job.py");
/// Marks a folder as a national run's outputs, which a later run may replace.
const MARKER: &str = ".recon-national";

pub fn run(args: &NationalArgs) -> Result<ExitStatus, Failure> {
    let config = config::load(args.config.as_deref())?;
    let secret = KeySecret::resolve(config.key_file.as_deref(), None)?;
    if *secret.origin() == KeyOrigin::PerRun {
        return Err(Failure::BadInput(
            "a national run needs one key secret for every province (its person and blocking keys are joined across them): set RECON_KEY_SECRET, or `[keys] file` in the config on storage every worker reads".into(),
        ));
    }
    for province in &args.provinces {
        if !province.is_dir() {
            return Err(Failure::BadInput(format!(
                "{}: not a folder (give one folder of exports per province)",
                province.display()
            )));
        }
    }
    own_output_folder(&args.out)?;
    let job = args.out.join("national_job.py");
    write_private(&job, JOB)?;
    let recon = std::env::current_exe()
        .map_err(|e| Failure::Internal(format!("cannot find recon's own binary: {e}")))?;
    let mut submit = Command::new(spark_submit(args));
    submit.args(["--master", &args.master]).arg(&job);
    submit
        .arg("--recon")
        .arg(&recon)
        .arg("--out")
        .arg(absolute(&args.out)?);
    if let Some(config) = &args.config {
        submit.arg("--config").arg(absolute(config)?);
    }
    if let Some(as_of) = &args.as_of {
        submit.args(["--as-of", as_of]);
    }
    if let Some(ledgers) = &args.ledgers {
        submit.arg("--ledgers").arg(absolute(ledgers)?);
    }
    for province in &args.provinces {
        submit.arg(absolute(province)?);
    }
    let status = submit.status().map_err(|e| {
        Failure::BadInput(format!(
            "cannot start {} ({e}): install Spark (`pip install pyspark`, Java 17) or name it with --spark-submit",
            spark_submit(args).display()
        ))
    })?;
    match status.code() {
        Some(0) => finished(args, &config.settings),
        Some(2) => Err(Failure::BadInput(
            "a province's inputs were refused; the messages above name it, its log is in the output folder's logs/".into(),
        )),
        Some(3) => Err(Failure::Locked(
            "a province's output folder or ledger is in use by another run".into(),
        )),
        code => Err(Failure::Internal(format!(
            "the Spark job failed (exit {}); the messages above say why",
            code.map_or("by a signal".to_string(), |c| c.to_string())
        ))),
    }
}

/// `--spark-submit`, else `$SPARK_HOME/bin/spark-submit`, else `spark-submit` on the PATH.
fn spark_submit(args: &NationalArgs) -> PathBuf {
    let from_home =
        || std::env::var_os("SPARK_HOME").map(|h| Path::new(&h).join("bin/spark-submit"));
    (args.spark_submit.clone())
        .or_else(from_home)
        .unwrap_or_else(|| PathBuf::from("spark-submit"))
}

/// Makes `out` a national run's folder: new, empty, or a national run's before (its marker).
fn own_output_folder(out: &Path) -> Result<(), Failure> {
    let io = |e: std::io::Error| Failure::Internal(format!("{}: {e}", out.display()));
    if out.is_dir() && !out.join(MARKER).is_file() {
        let mut entries = std::fs::read_dir(out).map_err(io)?;
        if entries.next().is_some() {
            return Err(Failure::BadInput(format!(
                "--out {}: holds files a national run did not write; choose a new or empty folder",
                out.display()
            )));
        }
    }
    std::fs::create_dir_all(out).map_err(io)?;
    write_private(&out.join(MARKER), "recon national outputs\n")
}

fn write_private(path: &Path, text: &str) -> Result<(), Failure> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let io = |e: std::io::Error| Failure::Internal(format!("{}: {e}", path.display()));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(io)?;
    file.write_all(text.as_bytes()).map_err(io)
}

fn absolute(path: &Path) -> Result<PathBuf, Failure> {
    std::path::absolute(path).map_err(|e| Failure::BadInput(format!("{}: {e}", path.display())))
}

/// The job's summary, national.json, as lines, and with `--ledgers` the night's national
/// report over every province's ledger (OUT/report/); exit 5 when a province ran without an
/// input its ledger expected.
fn finished(args: &NationalArgs, settings: &Settings) -> Result<ExitStatus, Failure> {
    let path = args.out.join("national.json");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Failure::Internal(format!("{}: {e}", path.display())))?;
    let summary: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Failure::Internal(format!("{}: {e}", path.display())))?;
    let provinces = summary["provinces"].as_array().cloned().unwrap_or_default();
    let mut lines = format!(
        "national run: {} provinces, outputs in {}\n",
        provinces.len(),
        args.out.display()
    );
    let mut partial = false;
    let mut names = Vec::with_capacity(provinces.len());
    for p in &provinces {
        let status = p["status"].as_str().unwrap_or_default();
        partial |= status != "done";
        let name = p["province"].as_str().unwrap_or_default();
        names.push(name.to_string());
        lines.push_str(&format!(
            "  {name}: {status} ({} s alone, {} s with the rows brought to it)\n",
            p["shard_seconds"], p["province_seconds"]
        ));
    }
    if let Some(ledgers) = &args.ledgers {
        let night = super::run::parse_as_of(args.as_of.as_deref())?;
        let paths: Vec<PathBuf> = (names.iter())
            .map(|name| ledgers.join(format!("{name}.sqlite")))
            .collect();
        let report = args.out.join("report");
        let written = super::ledger::write_period(&paths, (night, night), settings, &report)?;
        for path in written {
            lines.push_str(&format!(
                "  the night over every ledger: {}\n",
                path.display()
            ));
        }
    }
    print(&lines);
    Ok(match partial {
        true => ExitStatus::Partial,
        false => ExitStatus::Success,
    })
}
