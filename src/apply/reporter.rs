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

/// What the CLI uses: on a terminal, progress rewrites one status line; otherwise a progress line
/// is printed every `PLAIN_PROGRESS_EVERY`, or sooner (not more than every fifth of it) when its
/// text changed, so logs stay readable.
pub struct TerminalReporter {
    term: console::Term,
    interactive: bool,
    last: std::sync::Mutex<(String, Option<std::time::Instant>, bool)>,
}

/// How often a non-terminal progress line may repeat.
const PLAIN_PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

impl TerminalReporter {
    pub fn new() -> Self {
        let term = console::Term::stderr();
        let interactive = term.is_term();
        TerminalReporter {
            term,
            interactive,
            last: std::sync::Mutex::new((String::new(), None, false)),
        }
    }

    /// Ends a rewritten status line before other output.
    fn settle_status(&self) {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if self.interactive && last.2 {
            let _ = self.term.write_line("");
            last.2 = false;
        }
    }
}

impl Default for TerminalReporter {
    fn default() -> Self {
        Self::new()
    }
}

impl Reporter for TerminalReporter {
    fn line(&self, text: &str) {
        self.settle_status();
        let _ = self.term.write_line(text);
    }

    fn hook_output(&self, hook: &str, _stream: Stream, line: &str) {
        self.settle_status();
        let _ = self.term.write_line(&format!("[hook {hook}] {line}"));
    }

    fn progress(&self, text: &str) {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if self.interactive {
            let _ = self.term.clear_line();
            let _ = self.term.write_str(&format!("  {text}"));
            last.2 = true;
            return;
        }
        let since = last.1.map(|at| at.elapsed());
        let due = since.is_none_or(|d| d >= PLAIN_PROGRESS_EVERY);
        let changed = last.0 != text && since.is_none_or(|d| d >= PLAIN_PROGRESS_EVERY / 5);
        if due || changed {
            let _ = self.term.write_line(&format!("  {text}"));
            *last = (text.to_string(), Some(std::time::Instant::now()), false);
        }
    }
}
