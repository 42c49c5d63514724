//! Configuration: the TOML authoring form (`options`) and the resolved form every stage takes
//! (`settings`). The bundled default is `configs/default.toml`, compiled in.

pub mod link;
pub mod options;
pub mod settings;

use std::path::Path;

pub use settings::{
    Bound, Check, Condition, ConfigError, DeathRule, Field, Rule, RuleKind, Settings, Source,
    Standard,
};

/// The text of `configs/default.toml`, used when no `--config` is given.
pub const DEFAULT_CONFIG: &str = include_str!("../../configs/default.toml");

/// A loaded configuration and where it came from, for the run manifest.
pub struct LoadedConfig {
    pub settings: Settings,
    pub origin: String,
    pub text: String,
    /// `[ledger] path`, resolved against the config file's folder.
    pub ledger: Option<std::path::PathBuf>,
    /// `[link] model`, resolved against the config file's folder.
    pub model: Option<std::path::PathBuf>,
    /// `[keys] file`, resolved against the config file's folder.
    pub key_file: Option<std::path::PathBuf>,
}

impl LoadedConfig {
    /// SHA-256 of the config text, for the run manifest and the ledger.
    pub fn sha256(&self) -> String {
        use sha2::Digest;
        format!("{:x}", sha2::Sha256::digest(self.text.as_bytes()))
    }
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
    let folder = path.and_then(Path::parent).unwrap_or(Path::new(""));
    let ledger = settings
        .options
        .ledger
        .as_ref()
        .map(|l| folder.join(&l.path));
    let model = settings.link.model.as_ref().map(|m| folder.join(m));
    let key_file = settings.options.keys.as_ref().map(|k| folder.join(&k.file));
    Ok(LoadedConfig {
        settings,
        origin,
        text,
        ledger,
        model,
        key_file,
    })
}
