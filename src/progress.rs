//! Progress per stage on a terminal (indicatif spinners on stderr), nothing otherwise. Stage
//! names and counts only: never an ID or a name.

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
        if self.visible {
            eprintln!("✓ {name} ({seconds:.2} s)");
        }
        self.timings.push((name, seconds));
        result
    }
}
