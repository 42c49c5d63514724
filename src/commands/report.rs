//! `recon report OUT [--county CODE]`: the morning page again, from a run's `report.json`.

use std::path::Path;

use super::{print, ExitStatus, Failure};
use crate::report;

pub fn run(out: &Path, county: Option<&str>, output: Option<&Path>) -> Result<ExitStatus, Failure> {
    let page = report::county_page(out, county).map_err(|e| Failure::BadInput(e.to_string()))?;
    let default =
        out.join(county.map_or("report.html".to_string(), |c| format!("report_{c}.html")));
    let path = output.unwrap_or(&default);
    report::write_text(path, &page)?;
    print(&format!("wrote {}\n", path.display()));
    Ok(ExitStatus::Success)
}
