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
        tracing::info!(
            stage = name,
            seconds = (seconds * 1000.0).round() / 1000.0,
            "stage done"
        );
        self.timings.push((name, seconds));
        result
    }
}
