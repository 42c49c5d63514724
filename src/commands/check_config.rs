//! `recon check-config FILE`: resolves a config and summarises it, or names what is wrong.

use std::path::Path;

use super::{print, ExitStatus, Failure};
use crate::config;

pub fn run(file: &Path) -> Result<ExitStatus, Failure> {
    let loaded = config::load(Some(file))?;
    let settings = &loaded.settings;
    let mut text = match settings.warnings.len() {
        0 => format!("{}: OK\n", file.display()),
        n => format!("{}: OK, with {n} warning(s) below\n", file.display()),
    };
    for source in &settings.sources {
        text.push_str(&format!(
            "  source {:<10} {} ({} fields)\n",
            source.key,
            source.label,
            source.fields.len()
        ));
    }
    let enabled = settings.rules.iter().filter(|r| r.enabled).count();
    text.push_str(&format!(
        "  {} death conditions, {} rules ({} enabled): {}\n",
        settings.deaths.len(),
        settings.rules.len(),
        enabled,
        settings
            .rules
            .iter()
            .map(|r| r.id.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    ));
    if !settings.pins.is_empty() {
        text.push_str(&format!("  {} pinned files\n", settings.pins.len()));
    }
    for warning in &settings.warnings {
        text.push_str(&format!("  warning: {warning}\n"));
    }
    print(&text);
    Ok(ExitStatus::Success)
}
