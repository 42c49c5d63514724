//! `recon rules [ID]`: the catalogue (id, name, basis, what it flags), or one rule in full.

use std::path::Path;

use super::{print, ExitStatus, Failure};
use crate::config::{self, Check, RuleKind, Settings};
use crate::rules::describe::rule_in_words;

pub fn run(id: Option<&str>, config_path: Option<&Path>) -> Result<ExitStatus, Failure> {
    let settings = config::load(config_path)?.settings;
    match id {
        None => print(&catalogue(&settings)),
        Some(id) => {
            let rule = settings.rule(id).ok_or_else(|| {
                Failure::BadInput(format!("no rule with id {id}; `recon rules` lists them"))
            })?;
            let shape = match &rule.check {
                Check::Requires { source, .. } => {
                    format!("requires a linked {} row", settings.sources[*source].key)
                }
                Check::Forbids { source, .. } => {
                    format!("forbids a linked {} row", settings.sources[*source].key)
                }
                Check::Duplicate { .. } => "no other matching row of the same value".to_string(),
                Check::Always => "every subject is a finding".to_string(),
            };
            let shape = match rule.per_household {
                true => format!("{shape}, one per household"),
                false => shape,
            };
            // The as-of date of a run is unknown here: today's stands in for it.
            let today = chrono::Local::now().date_naive();
            print(&format!(
                "{} {}\n  kind:    {}\n  subject: {} rows\n  shape:   {}\n  basis:   {}\n  flags:   {}\n  含义:    {}\n  enabled: {}\n",
                rule.id,
                rule.name,
                kind_label(rule.kind),
                settings.sources[rule.subject].key,
                shape,
                rule.basis,
                rule.flags,
                rule_in_words(&settings, rule, today),
                rule.enabled
            ));
        }
    }
    Ok(ExitStatus::Success)
}

fn kind_label(kind: RuleKind) -> &'static str {
    match kind {
        RuleKind::Coverage => "coverage gap (漏保)",
        RuleKind::Audit => "audit finding (违规享受)",
    }
}

/// One block per rule: id, name, basis and what it flags.
pub fn catalogue(settings: &Settings) -> String {
    let mut text = String::new();
    for rule in &settings.rules {
        let off = if rule.enabled { "" } else { " [disabled]" };
        text.push_str(&format!(
            "{}  {}{off}\n        basis: {}\n        flags: {}\n",
            rule.id, rule.name, rule.basis, rule.flags
        ));
    }
    text
}
