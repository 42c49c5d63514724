//! Configuration: the TOML authoring form (`options`) and the resolved form every stage takes
//! (`settings`). The bundled default is `configs/default.toml`, compiled in.

pub mod options;
pub mod settings;

use std::path::Path;

pub use settings::{
    Check, Condition, ConfigError, DeathRule, Field, Rule, RuleKind, Settings, Source, SourceId,
};

/// The text of `configs/default.toml`, used when no `--config` is given.
pub const DEFAULT_CONFIG: &str = include_str!("../../configs/default.toml");

/// A loaded configuration and where it came from, for the run manifest.
pub struct LoadedConfig {
    pub settings: Settings,
    pub origin: String,
    pub text: String,
}

/// Reads and resolves a config file, or the bundled default when `path` is `None`.
pub fn load(path: Option<&Path>) -> Result<LoadedConfig, ConfigError> {
    let (text, origin) = match path {
        None => (
            DEFAULT_CONFIG.to_string(),
            "bundled default (configs/default.toml)".to_string(),
        ),
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| ConfigError(format!("{}: cannot read config: {e}", p.display())))?;
            (text, p.display().to_string())
        }
    };
    let settings = Settings::from_toml(&text).map_err(|e| ConfigError(format!("{origin}: {e}")))?;
    Ok(LoadedConfig {
        settings,
        origin,
        text,
    })
}
