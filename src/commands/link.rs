//! `recon link --config FILE LEFT [RIGHT]`: link two lists (or deduplicate one) with a column
//! mapping and the linker of the job, writing the scored pairs, the clusters and the model.

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::{print, ExitStatus, Failure};
use crate::config::link::{ListsSettings, LIST_NAMES};
use crate::link::engine::{self, LinkOutcome, LinkRequest};
use crate::link::lists::{self, Lists};
use crate::link::model::{LinkType, Model};
use crate::link::pairs::{Decision, ReviewReason};
use crate::report::{create_private_dir, csv_writer, write_csv_rows, write_text, ReportError};

pub struct LinkArgs<'a> {
    pub config: &'a Path,
    pub inputs: &'a [PathBuf],
    pub out: &'a Path,
    pub model: Option<&'a Path>,
}

pub fn run(args: &LinkArgs) -> Result<ExitStatus, Failure> {
    let text = std::fs::read_to_string(args.config)
        .map_err(|e| Failure::BadInput(format!("{}: {e}", args.config.display())))?;
    let settings = ListsSettings::from_toml(&text)
        .map_err(|e| Failure::BadInput(format!("{}: {e}", args.config.display())))?;
    let link_type = match args.inputs.len() {
        1 => LinkType::DedupeOnly,
        2 => LinkType::LinkOnly,
        n => {
            return Err(Failure::BadInput(format!(
                "give one list to deduplicate or two to link, not {n}"
            )))
        }
    };
    let model = args.model.map(Model::load).transpose()?;
    let clock = Instant::now();
    let paths: Vec<&Path> = args.inputs.iter().map(PathBuf::as_path).collect();
    let lists = lists::read(&paths, &settings).map_err(|e| Failure::BadInput(e.to_string()))?;
    let read_seconds = clock.elapsed().as_secs_f64();
    let outcome = engine::link(LinkRequest {
        table: &lists.table,
        settings: &settings.link,
        link_type,
        model,
        list_every_pair: true,
        decided_apart: None,
    })?;
    let link_seconds = clock.elapsed().as_secs_f64() - read_seconds;
    write_outputs(args.out, &lists, &outcome)?;
    print(&summary(
        &lists,
        &outcome,
        read_seconds,
        link_seconds,
        args.out,
    ));
    Ok(ExitStatus::Success)
}

fn decision_code(decision: Decision) -> &'static str {
    match decision {
        Decision::Linked => "linked",
        Decision::Review(ReviewReason::BelowAccept) => "review:below_accept",
        Decision::Review(ReviewReason::Ambiguous) => "review:ambiguous",
        Decision::Review(ReviewReason::Vetoed) => "review:vetoed",
        Decision::NotLinked => "not_linked",
    }
}

fn list_name(lists: &Lists, row: usize) -> &'static str {
    LIST_NAMES[lists.table.side[row] as usize]
}

fn write_outputs(out: &Path, lists: &Lists, outcome: &LinkOutcome) -> Result<(), ReportError> {
    create_private_dir(out)?;
    let path = out.join("pairs.csv");
    let header = [
        "left_id",
        "right_id",
        "match_weight",
        "match_probability",
        "competing_probability",
        "decision",
    ];
    let pairs = outcome.pairs.iter().map(|p| {
        [
            lists.ids[p.a as usize].clone(),
            lists.ids[p.b as usize].clone(),
            format!("{:.3}", p.weight),
            format!("{:.6}", p.probability),
            format!("{:.6}", p.competing),
            decision_code(p.decision).to_string(),
        ]
    });
    write_csv_rows(&path, csv_writer(&path, &header, false)?, pairs)?;
    let path = out.join("clusters.csv");
    let clusters = (0..lists.ids.len()).map(|row| {
        [
            list_name(lists, row).to_string(),
            lists.ids[row].clone(),
            outcome.clusters.cluster_of[row].to_string(),
        ]
    });
    write_csv_rows(
        &path,
        csv_writer(&path, &["list", "id", "cluster"], false)?,
        clusters,
    )?;
    let path = out.join("rejects.csv");
    let rejects = lists.rejects.iter().map(|(side, row, reason)| {
        [
            LIST_NAMES[*side].to_string(),
            row.to_string(),
            reason.clone(),
        ]
    });
    write_csv_rows(
        &path,
        csv_writer(&path, &["list", "row", "reason"], false)?,
        rejects,
    )?;
    write_text(&out.join("model.json"), &outcome.model.to_json())?;
    let counts = serde_json::to_string_pretty(&outcome.counts).unwrap_or_default();
    write_text(&out.join("counts.json"), &counts)
}

fn summary(lists: &Lists, outcome: &LinkOutcome, read: f64, link: f64, out: &Path) -> String {
    let rows_of = |side: u8| lists.table.side.iter().filter(|s| **s == side).count();
    let linked = outcome
        .pairs
        .iter()
        .filter(|p| p.decision == Decision::Linked)
        .count();
    let review = outcome
        .pairs
        .iter()
        .filter(|p| matches!(p.decision, Decision::Review(_)))
        .count();
    let clusters = &outcome.clusters;
    let persons = (0..clusters.len())
        .filter(|&c| clusters.rows(c).len() > 1)
        .count();
    let counts = &outcome.counts;
    format!(
        "rows: {} left, {} right ({} rejected, rejects.csv)\n\
         pairs scored: {} (anchored by ID: {} rows); linked pairs: {linked}; for review: {review}\n\
         clusters of two or more rows: {persons}\n\
         seconds: read {read:.2}, link {link:.2} ({})\n\
         outputs in {}: pairs.csv, clusters.csv, rejects.csv, model.json, counts.json\n",
        rows_of(0),
        rows_of(1),
        lists.rejects.len(),
        counts.pairs_scored,
        counts.anchored_rows,
        counts
            .seconds
            .iter()
            .map(|(phase, s)| format!("{phase} {s:.2}"))
            .collect::<Vec<_>>()
            .join(", "),
        out.display()
    )
}
