//! `HookError`: why a hook did not succeed. Every message is one paragraph: what failed, where its
//! log is, and what to do next.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::config::Location;

const RERUN: &str = "rerun `ferry apply`: finished steps are skipped and the hook runs again";

#[derive(Debug)]
pub enum HookError {
    /// The program could not be started (not found, not executable, bad interpreter).
    Spawn {
        hook: String,
        /// `command[0]` as written in the configuration.
        program: String,
        /// The cause with a hint ("there is no file /cfg/deploy/switch.sh (...)").
        detail: String,
        /// Where the hook is declared (boxed: keeps `Result<_, HookError>` small).
        location: Box<Location>,
        log_file: PathBuf,
    },
    /// The hook exited with a non-zero code or was killed by a signal.
    Failed {
        hook: String,
        /// The exit code; 128 + the signal number when killed by a signal (as a shell reports it).
        exit_code: i32,
        /// The signal that killed it ("SIGKILL"), if one did.
        signal: Option<String>,
        log_file: PathBuf,
    },
    /// The hook ran past its timeout; its process group was stopped (SIGTERM, then SIGKILL).
    TimedOut {
        hook: String,
        timeout: Duration,
        location: Location,
        log_file: PathBuf,
    },
    /// The log file could not be created: the hook did not run.
    Log {
        hook: String,
        path: PathBuf,
        source: io::Error,
    },
    /// ferry could not supervise the running hook (no thread, lost the child) and stopped it.
    Io {
        hook: String,
        detail: String,
        log_file: PathBuf,
    },
}

impl HookError {
    pub fn hook(&self) -> &str {
        match self {
            HookError::Spawn { hook, .. }
            | HookError::Failed { hook, .. }
            | HookError::TimedOut { hook, .. }
            | HookError::Log { hook, .. }
            | HookError::Io { hook, .. } => hook,
        }
    }

    /// The hook's log file, when one was created.
    pub fn log_file(&self) -> Option<&Path> {
        match self {
            HookError::Spawn { log_file, .. }
            | HookError::Failed { log_file, .. }
            | HookError::TimedOut { log_file, .. }
            | HookError::Io { log_file, .. } => Some(log_file),
            HookError::Log { .. } => None,
        }
    }

    /// The exit code to record in the state, when the hook ran to an exit of its own.
    pub fn exit_code(&self) -> Option<i32> {
        match self {
            HookError::Failed { exit_code, .. } => Some(*exit_code),
            _ => None,
        }
    }
}

impl fmt::Display for HookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HookError::Spawn {
                hook,
                program,
                detail,
                location,
                log_file,
            } => write!(
                f,
                "hook \"{hook}\" could not start \"{program}\": {detail}. The log is {log}. \
                 Fix `command` in the hook block ({location}), then {RERUN}.",
                log = log_file.display(),
            ),
            HookError::Failed {
                hook,
                exit_code,
                signal,
                log_file,
            } => {
                match signal {
                    Some(signal) => write!(
                        f,
                        "hook \"{hook}\" was killed by signal {signal} (exit code {exit_code})"
                    )?,
                    None => write!(f, "hook \"{hook}\" failed with exit code {exit_code}")?,
                }
                write!(
                    f,
                    ", so the apply stopped at this step. Its output is in {log}. Find the cause \
                     there and fix it (in the hook or in the deployment it calls), then {RERUN}, \
                     so it must be safe to run twice.",
                    log = log_file.display(),
                )
            }
            HookError::TimedOut {
                hook,
                timeout,
                location,
                log_file,
            } => write!(
                f,
                "hook \"{hook}\" did not finish within its timeout of {timeout} and was stopped \
                 (SIGTERM to its process group, SIGKILL {grace}s later), so the apply stopped at \
                 this step. Its output is in {log}. See there where it hung, and check whether the \
                 switch it performs was left half done; fix the hook or raise `timeout` in the hook \
                 block ({location}), then {RERUN}.",
                timeout = humantime::format_duration(*timeout),
                grace = super::hook::HOOK_KILL_GRACE.as_secs(),
                log = log_file.display(),
            ),
            HookError::Log { hook, path, source } => write!(
                f,
                "cannot create the log file {path} for hook \"{hook}\": {source}. The hook did not \
                 run. Make sure its directory can be created and written, then \
                 {RERUN}.",
                path = path.display(),
            ),
            HookError::Io {
                hook,
                detail,
                log_file,
            } => write!(
                f,
                "ferry lost control of hook \"{hook}\" ({detail}) and stopped its process group. \
                 Its output so far is in {log}. Check whether the switch it performs was left half \
                 done, then {RERUN}.",
                log = log_file.display(),
            ),
        }
    }
}

impl std::error::Error for HookError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            HookError::Log { source, .. } => Some(source),
            _ => None,
        }
    }
}
