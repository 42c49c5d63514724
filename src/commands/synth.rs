//! `recon synth`: a synthetic province, or nation, with its truth.

use std::path::Path;
use std::time::Instant;

use chrono::NaiveDate;

use super::{print, ExitStatus, Failure};
use crate::synth::{self, NoiseLevel, SynthOptions};

pub fn run(
    (persons, provinces, province): (u64, usize, &str),
    seed: u64,
    (noise, variety): (&str, bool),
    as_of: &str,
    out: &Path,
) -> Result<ExitStatus, Failure> {
    let noise = NoiseLevel::parse(noise).ok_or_else(|| {
        Failure::BadInput(format!("--noise {noise}: use clean, realistic or hard"))
    })?;
    let as_of = NaiveDate::parse_from_str(as_of, "%Y-%m-%d")
        .map_err(|_| Failure::BadInput(format!("--as-of {as_of}: expected YYYY-MM-DD")))?;
    let first_province = synth::province_code(province).ok_or_else(|| {
        Failure::BadInput(format!(
            "--province {province}: not a province's code or name (such as 42 or 湖北省)"
        ))
    })?;
    let start = Instant::now();
    let options = SynthOptions {
        persons,
        provinces,
        first_province,
        seed,
        noise,
        as_of,
        out: out.to_path_buf(),
        variety,
    };
    let summary = synth::generate(&options).map_err(|e| Failure::Internal(e.to_string()))?;
    print(&format!(
        "{} households, {} persons, {} data rows, {} expected gaps in {:.1} s -> {}/data, {}/truth\n",
        summary.households,
        summary.persons,
        summary.rows,
        summary.expected_gaps,
        start.elapsed().as_secs_f64(),
        out.display(),
        out.display()
    ));
    Ok(ExitStatus::Success)
}
