//! Progress on stderr: an indicatif bar when stderr is a terminal, plain lines otherwise.
//!
//! A full run takes minutes. On a terminal the bar shows the step being measured (mechanism,
//! size, run k of N), the steps done out of all of them and indicatif's estimate of the time
//! left. When stderr is a file or a pipe (a log, CI, the tests) every step is one plain line,
//! `ipc-bench: pipe latency raw (run 1/3)`, as before the bar existed. stdout (the table) is
//! never touched.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The progress display of one run.
pub struct Progress {
    /// `Some` when stderr is a terminal (C: `isatty(2)`), `None` for plain lines.
    bar: Option<ProgressBar>,
}

impl Progress {
    /// `total` steps: one per measurement run (each side of each mechanism and size, each run)
    /// and one per memcpy block.
    pub fn new(total: u64) -> Progress {
        if !std::io::stderr().is_terminal() {
            return Progress { bar: None };
        }
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        // `wide_msg`: the step is cut to the terminal's width, so the bar stays on one line.
        let style = ProgressStyle::with_template(
            "{spinner} {elapsed_precise} [{bar:20}] {pos}/{len} steps, ~{eta} left: {wide_msg}",
        )
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.enable_steady_tick(Duration::from_millis(200));
        Progress { bar: Some(bar) }
    }

    /// A line that stays (building the C references, a file written): above the bar, or plain.
    pub fn note(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(format!("ipc-bench: {line}")),
            None => eprintln!("ipc-bench: {line}"),
        }
    }

    /// The step about to run: the bar's message, or one plain line.
    pub fn step(&self, what: &str) {
        match &self.bar {
            Some(bar) => bar.set_message(what.to_string()),
            None => eprintln!("ipc-bench: {what}"),
        }
    }

    /// The step announced last is done.
    pub fn done(&self) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }
}

impl Drop for Progress {
    /// The bar disappears before the table, an error or "interrupted" is printed.
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
