//! `recon eval --truth DIR RUN_OUT`: a run scored against ground truth.

use std::path::Path;

use super::{print, ExitStatus, Failure};

pub fn run(run_out: &Path, truth: &Path, json: Option<&Path>) -> Result<ExitStatus, Failure> {
    let evaluation = crate::eval::evaluate(truth, run_out)?;
    if let Some(path) = json {
        let text = serde_json::to_string_pretty(&evaluation)
            .map_err(|e| Failure::Internal(e.to_string()))?;
        std::fs::write(path, text)
            .map_err(|e| Failure::Internal(format!("{}: {e}", path.display())))?;
    }
    print(&crate::eval::table(&evaluation));
    Ok(ExitStatus::Success)
}
