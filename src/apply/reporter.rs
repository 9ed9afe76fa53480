//! `Reporter`: how library code tells the user what is happening. The CLI implements it (a terminal
//! reporter with colours and a live progress line); library code never prints.

use std::fmt;
use std::io::Write;
use std::sync::{Mutex, MutexGuard};

/// Which output stream of a hook a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

impl fmt::Display for Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Receives everything the apply executor wants the user to see.
pub trait Reporter: Send + Sync {
    /// A complete message, shown as it is (a step starting, a warning).
    fn line(&self, text: &str);
    /// One line a hook wrote, without its line ending. Hook env values are already masked.
    fn hook_output(&self, hook: &str, stream: Stream, line: &str);
    /// A transient status (a wait and its lag); a terminal reporter may overwrite the previous one.
    fn progress(&self, text: &str);
}

/// Plain lines on stderr: hook output as `[hook NAME] line`. Write errors are ignored (a closed
/// stderr must not stop a migration half way).
#[derive(Debug, Clone, Copy, Default)]
pub struct StderrReporter;

impl Reporter for StderrReporter {
    fn line(&self, text: &str) {
        let _ = writeln!(std::io::stderr().lock(), "{text}");
    }

    fn hook_output(&self, hook: &str, _stream: Stream, line: &str) {
        let _ = writeln!(std::io::stderr().lock(), "[hook {hook}] {line}");
    }

    fn progress(&self, text: &str) {
        let _ = writeln!(std::io::stderr().lock(), "{text}");
    }
}

/// Keeps every report as a string, for tests:
/// `line` as the text itself, `hook_output` as `[hook NAME stdout] line`, `progress` as
/// `progress: text`.
#[derive(Debug, Default)]
pub struct RecordingReporter {
    entries: Mutex<Vec<String>>,
}

impl RecordingReporter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Everything reported so far, in order.
    pub fn entries(&self) -> Vec<String> {
        self.lock().clone()
    }

    /// The lines hook `hook` wrote to `stream`, in order, without the prefix.
    pub fn hook_lines(&self, hook: &str, stream: Stream) -> Vec<String> {
        let prefix = format!("[hook {hook} {stream}] ");
        self.lock()
            .iter()
            .filter_map(|e| e.strip_prefix(&prefix).map(str::to_string))
            .collect()
    }

    fn lock(&self) -> MutexGuard<'_, Vec<String>> {
        // A test that panicked while holding the lock must not hide what was recorded.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Reporter for RecordingReporter {
    fn line(&self, text: &str) {
        self.lock().push(text.to_string());
    }

    fn hook_output(&self, hook: &str, stream: Stream, line: &str) {
        self.lock().push(format!("[hook {hook} {stream}] {line}"));
    }

    fn progress(&self, text: &str) {
        self.lock().push(format!("progress: {text}"));
    }
}

/// What the CLI uses: on a terminal, a wait shows an indicatif spinner with its elapsed time and
/// status on one rewritten line, cleared when the next line is printed; otherwise a progress line
/// is printed every `PLAIN_PROGRESS_EVERY`, or sooner (not more than every fifth of it) when its
/// text changed, so logs stay readable.
pub struct TerminalReporter {
    term: console::Term,
    interactive: bool,
    /// The live status line of the current wait, on a terminal only.
    spinner: Mutex<Option<indicatif::ProgressBar>>,
    last: Mutex<(String, Option<std::time::Instant>)>,
}

/// How often a non-terminal progress line may repeat.
const PLAIN_PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

impl TerminalReporter {
    pub fn new() -> Self {
        let term = console::Term::stderr();
        TerminalReporter {
            interactive: term.is_term(),
            term,
            spinner: Mutex::new(None),
            last: Mutex::new((String::new(), None)),
        }
    }

    /// Ends the current status line (if any) and writes a whole line.
    fn write_line(&self, text: &str) {
        let mut spinner = self.spinner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(bar) = spinner.take() {
            bar.finish_and_clear();
        }
        let _ = self.term.write_line(text);
    }
}

impl Default for TerminalReporter {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TerminalReporter {
    fn drop(&mut self) {
        let spinner = self.spinner.get_mut().unwrap_or_else(|e| e.into_inner());
        if let Some(bar) = spinner.take() {
            bar.finish_and_clear();
        }
    }
}

impl Reporter for TerminalReporter {
    fn line(&self, text: &str) {
        self.write_line(text);
    }

    fn hook_output(&self, hook: &str, _stream: Stream, line: &str) {
        self.write_line(&format!("[hook {hook}] {line}"));
    }

    fn progress(&self, text: &str) {
        if self.interactive {
            let mut spinner = self.spinner.lock().unwrap_or_else(|e| e.into_inner());
            let bar = spinner.get_or_insert_with(|| {
                let bar = indicatif::ProgressBar::new_spinner();
                bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                bar.set_style(
                    indicatif::ProgressStyle::with_template("  {spinner} [{elapsed}] {wide_msg}")
                        .expect("a valid template"),
                );
                bar.enable_steady_tick(std::time::Duration::from_millis(120));
                bar
            });
            bar.set_message(text.to_string());
            return;
        }
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let since = last.1.map(|at| at.elapsed());
        let due = since.is_none_or(|d| d >= PLAIN_PROGRESS_EVERY);
        let changed = last.0 != text && since.is_none_or(|d| d >= PLAIN_PROGRESS_EVERY / 5);
        if due || changed {
            let _ = self.term.write_line(&format!("  {text}"));
            *last = (text.to_string(), Some(std::time::Instant::now()));
        }
    }
}
