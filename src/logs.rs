//! Log lines on stderr through `tracing`: a human format, or JSON lines for schedulers. Only
//! counts, stages, file names and paths are logged: never an ID number or a name.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::cli::LogFormat;

/// Installs the subscriber once, at start. `level` (the `--log-level` flag) wins over the
/// `RECON_LOG` environment variable. Without either, a scheduler (stderr not a terminal) gets
/// `info`; a person at a terminal, who sees progress and the summary instead, or a `quiet`
/// run gets `warn`.
pub fn init(format: LogFormat, level: Option<&str>, quiet: bool) {
    let default = if quiet || std::io::stderr().is_terminal() {
        "warn"
    } else {
        "info"
    };
    let filter = match level {
        Some(level) => EnvFilter::new(level),
        None => EnvFilter::try_from_env("RECON_LOG").unwrap_or_else(|_| EnvFilter::new(default)),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Human => builder
            .with_ansi(std::io::stderr().is_terminal())
            .with_target(false)
            .compact()
            .try_init(),
    };
}
