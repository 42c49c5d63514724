//! One file per subcommand. Each returns an `ExitStatus` or a `Failure`; `main` maps those to
//! the documented exit codes.

pub mod check_config;
pub mod eval;
pub mod explain;
mod feedback;
pub use feedback::import_decisions as review_import;
pub mod inspect;
pub mod ledger;
pub mod link;
pub mod national;
mod pipeline;
pub mod report;
pub mod rules;
pub mod run;
pub mod synth;

/// The documented exit codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// The job ran; gaps, if any, are in the outputs.
    Success = 0,
    /// A bug or an environment failure (disk full, output not writable).
    InternalError = 1,
    /// Bad input or config: nothing was written.
    BadInput = 2,
    /// Another run is writing the same output folder.
    Locked = 3,
    /// The job ran and found gaps (only with `run --fail-on-gaps`).
    GapsFound = 4,
    /// The job ran without an input the ledger expected: the items that depend on it were
    /// not checked (neither opened nor closed).
    Partial = 5,
}

/// Why a command could not finish. Messages never hold a full ID or name.
#[derive(Debug)]
pub enum Failure {
    BadInput(String),
    Locked(String),
    Internal(String),
}

impl Failure {
    pub fn exit_status(&self) -> ExitStatus {
        match self {
            Failure::BadInput(_) => ExitStatus::BadInput,
            Failure::Locked(_) => ExitStatus::Locked,
            Failure::Internal(_) => ExitStatus::InternalError,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            Failure::BadInput(m) | Failure::Locked(m) | Failure::Internal(m) => m,
        }
    }
}

impl From<crate::ledger::LedgerError> for Failure {
    fn from(e: crate::ledger::LedgerError) -> Failure {
        match e {
            crate::ledger::LedgerError::Refused { .. } => Failure::BadInput(e.to_string()),
            crate::ledger::LedgerError::Database { .. } => Failure::Internal(e.to_string()),
        }
    }
}

impl From<crate::keys::KeyError> for Failure {
    fn from(e: crate::keys::KeyError) -> Failure {
        Failure::BadInput(e.to_string())
    }
}

impl From<crate::link::model::ModelError> for Failure {
    fn from(e: crate::link::model::ModelError) -> Failure {
        Failure::BadInput(e.to_string())
    }
}

impl From<crate::eval::EvalError> for Failure {
    fn from(e: crate::eval::EvalError) -> Failure {
        Failure::BadInput(e.to_string())
    }
}

impl From<crate::report::ReportError> for Failure {
    fn from(e: crate::report::ReportError) -> Failure {
        Failure::Internal(e.to_string())
    }
}

impl From<crate::config::ConfigError> for Failure {
    fn from(e: crate::config::ConfigError) -> Failure {
        Failure::BadInput(format!("config: {e}"))
    }
}

/// Writes to stdout, ending quietly when the reader has gone (`recon rules | head`).
pub fn print(text: &str) {
    use std::io::Write;
    let _ = std::io::stdout().write_all(text.as_bytes());
}
