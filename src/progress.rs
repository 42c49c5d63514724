//! Progress per stage: an indicatif spinner on stderr when it is a terminal, and a log line
//! with the stage's wall time. Stage names and numbers only: never an ID or a name.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    visible: bool,
    pub timings: Vec<(&'static str, f64)>,
}

impl Progress {
    pub fn new(quiet: bool) -> Progress {
        Progress {
            visible: !quiet && std::io::stderr().is_terminal(),
            timings: Vec::new(),
        }
    }

    /// Runs one stage under a spinner and records its wall time.
    pub fn stage<T>(&mut self, name: &'static str, work: impl FnOnce() -> T) -> T {
        let bar = match self.visible {
            true => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
            false => ProgressBar::hidden(),
        };
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_message(name);
        bar.enable_steady_tick(Duration::from_millis(120));
        let start = Instant::now();
        let result = work();
        let seconds = start.elapsed().as_secs_f64();
        bar.finish_and_clear();
        let (rss_mib, peak_mib) = memory_mib();
        tracing::info!(
            stage = name,
            seconds = (seconds * 1000.0).round() / 1000.0,
            rss_mib,
            peak_mib,
            "stage done"
        );
        self.timings.push((name, seconds));
        result
    }
}

impl Progress {
    /// Normalizing reads the tables' rows as it goes: the part of stage `into`'s time that was
    /// reading (all but `working` seconds) is counted to stage `reading` instead.
    pub fn split_reading(&mut self, reading: &'static str, into: &'static str, working: f64) {
        let total = self
            .timings
            .iter()
            .find(|(n, _)| *n == into)
            .map_or(0.0, |(_, s)| *s);
        for (name, seconds) in &mut self.timings {
            if *name == reading {
                *seconds += total - working;
            } else if *name == into {
                *seconds = working;
            }
        }
    }
}

/// The process's resident memory now and at its peak, in MiB (Linux; 0 elsewhere).
pub(crate) fn memory_mib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb / 1024)
    };
    (field("VmRSS:"), field("VmHWM:"))
}
