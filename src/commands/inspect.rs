//! `recon inspect`: how each file is read and mapped, without running anything; optionally
//! writes a config with the files pinned and their columns mapped, for an auditor to edit.

use std::path::Path;

use super::{print, ExitStatus, Failure};
use crate::cli::InspectArgs;
use crate::config::options::FilePin;
use crate::config::{self, Settings};
use crate::ingest::{self, column_name, LoadedTable};
use crate::model::region::Regions;
use crate::normalize;
use crate::rules::contract::{self, Contract};

pub fn run(args: &InspectArgs) -> Result<ExitStatus, Failure> {
    let config = config::load(args.config.as_deref())?;
    let settings = &config.settings;
    let found = ingest::discover(&args.inputs).map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        Failure::BadInput(lines.join("\n"))
    })?;
    let mut tables = Vec::new();
    let mut errors = Vec::new();
    let mut notes = found.notes;
    for path in &found.files {
        match ingest::load_file(path, settings) {
            Ok(file) => {
                tables.extend(file.tables);
                notes.extend(file.notes);
            }
            Err(e) if e.unassigned && path.extension().is_some_and(|x| x == "txt") => {
                notes.push(format!(
                    "{}: skipped, no department's columns in it",
                    path.display()
                ));
            }
            Err(e) => errors.push(format!("{}\n  ERROR: {}\n\n", path.display(), e.message)),
        }
    }
    for (id, table) in tables.iter_mut().enumerate() {
        table.file.id = id as u32;
    }
    let (normalized, _) = normalize::run(&mut tables, settings, Regions::bundled())
        .map_err(|e| Failure::BadInput(e.to_string()))?;
    let rules: Vec<usize> = (0..settings.rules.len())
        .filter(|&r| settings.rules[r].enabled)
        .collect();
    let today = chrono::Local::now().date_naive();
    let checked = contract::check(settings, &tables, &normalized.records, today, &rules);
    let mut text: String = tables
        .iter()
        .map(|table| {
            let warnings =
                contract::warning_lines(&checked.of_file(table.file.id), settings, &tables);
            describe(table, settings, &warnings)
        })
        .collect();
    text.extend(errors.iter().cloned());
    for note in &notes {
        text.push_str(&format!("note: {note}\n"));
    }
    text.push_str(&rules_not_run(&checked, settings));
    for warning in &checked.config_warnings {
        text.push_str(&format!("warning: config: {warning}\n"));
    }
    print(&text);
    if let Some(out) = &args.write_config {
        let pins = tables.iter().map(|t| pin_of(t, settings)).collect();
        write_config(out, settings, pins)?;
        print(&format!(
            "wrote {}: edit it, then `recon run --config {}`\n",
            out.display(),
            out.display()
        ));
    }
    Ok(if errors.is_empty() {
        ExitStatus::Success
    } else {
        ExitStatus::BadInput
    })
}

/// The rules these inputs leave without a source's rows, one line per source.
fn rules_not_run(checked: &Contract, settings: &Settings) -> String {
    let mut by_source: std::collections::BTreeMap<usize, Vec<&str>> = Default::default();
    for not_run in &checked.not_run {
        by_source
            .entry(not_run.source)
            .or_default()
            .push(settings.rules[not_run.rule].id.as_str());
    }
    by_source
        .into_iter()
        .map(|(source, rules)| {
            let source = &settings.sources[source];
            format!(
                "with these inputs {} would not run: no rows of {} ({})\n",
                rules.join(", "),
                source.key,
                source.label
            )
        })
        .collect()
}

fn describe(table: &LoadedTable, settings: &Settings, warnings: &[String]) -> String {
    let file = &table.file;
    let source = &settings.sources[table.mapping.source];
    let mut text = format!("{}\n  format: {}", file.path.display(), file.format);
    if let Some(encoding) = file.encoding {
        text.push_str(&format!(", encoding: {}", encoding.label()));
    }
    if let Some(sheet) = &file.sheet {
        text.push_str(&format!(", sheet: {sheet}"));
    }
    text.push_str(&format!(
        "\n  header row: {}, data rows: {} ({} blank or ragged)\n  source: {} ({})\n  columns:\n",
        file.header_row + 1,
        table.rows_read(),
        table.rejects.len(),
        source.key,
        source.label
    ));
    let mut mapped: Vec<(usize, &str, String)> = source
        .fields
        .iter()
        .zip(&table.mapping.fields)
        .filter_map(|(field, m)| {
            m.as_ref()
                .map(|(column, how)| (*column, field.name.as_str(), how.to_string()))
        })
        .collect();
    mapped.sort();
    for (column, field, how) in mapped {
        text.push_str(&format!(
            "    {} -> {field} ({how})\n",
            column_name(&table.headers, column)
        ));
    }
    let unmapped: Vec<String> = table
        .mapping
        .unmapped
        .iter()
        .map(|c| column_name(&table.headers, *c))
        .collect();
    if !unmapped.is_empty() {
        text.push_str(&format!("  unmapped columns: {}\n", unmapped.join(", ")));
    }
    let missing: Vec<&str> = source
        .fields
        .iter()
        .zip(&table.mapping.fields)
        .filter(|(_, m)| m.is_none())
        .map(|(f, _)| f.name.as_str())
        .collect();
    if !missing.is_empty() {
        text.push_str(&format!(
            "  fields not in this file: {}\n",
            missing.join(", ")
        ));
    }
    for warning in warnings {
        text.push_str(&format!("  warning: {warning}\n"));
    }
    text.push('\n');
    text
}

fn pin_of(table: &LoadedTable, settings: &Settings) -> FilePin {
    let source = &settings.sources[table.mapping.source];
    let file_name = table
        .file
        .path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_string();
    FilePin {
        name: file_name,
        source: source.key.clone(),
        columns: source
            .fields
            .iter()
            .zip(&table.mapping.fields)
            .filter_map(|(f, m)| {
                m.as_ref()
                    .map(|(column, _)| (table.headers[*column].clone(), f.name.clone()))
            })
            .collect(),
    }
}

fn write_config(out: &Path, settings: &Settings, pins: Vec<FilePin>) -> Result<(), Failure> {
    let mut options = settings.options.clone();
    options.files = pins;
    let body = toml::to_string_pretty(&options)
        .map_err(|e| Failure::Internal(format!("cannot write config: {e}")))?;
    let text = format!(
        "# Written by `recon inspect --write-config`: the full configuration, with every inspected file\n# pinned to its source and its columns mapped ([[file]] at the end). See configs/default.toml\n# in the recon repository for what each key means.\n\n{body}"
    );
    std::fs::write(out, text).map_err(|e| Failure::Internal(format!("{}: {e}", out.display())))
}
