//! Driving `ferry apply` through a run: following its progress in the state file (ferry saves
//! it when a step starts and when it ends) to check the clusters at each step's end, or to kill
//! it with SIGKILL while a given step runs; and waiting for the hook processes a killed apply
//! left behind.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use ferry_testbed::app::process_alive;
use serde_json::Value;

use crate::apply_process::{ApplyProcess, Ended};
pub use crate::state_json::{read_state, step_kinds, steps, wait_for};

/// How long a whole `ferry apply` may take.
pub const APPLY_TIMEOUT: Duration = Duration::from_secs(300);
/// How often the state file is read while a step is awaited: well below the shortest step.
const STATE_POLL: Duration = Duration::from_millis(2);

/// Where following an apply stops.
#[derive(Debug, Clone, Copy)]
pub enum Until {
    /// The state shows every step done, or one failed.
    Ended,
    /// The state shows this step (0-based) running.
    Running(usize),
}

/// Follows `apply` through the state file at `path` until `until` holds, calling `on_done` once
/// for every step seen done for the first time, except those in `done_before` (finished by an
/// earlier apply); returns the state that stopped it. Panics with the apply's output when it
/// exits before that, or when the step to stop at ended before it was seen running.
pub fn follow(
    apply: &mut ApplyProcess,
    path: &Path,
    until: Until,
    done_before: &BTreeSet<usize>,
    mut on_done: impl FnMut(usize, &Value),
) -> Value {
    let mut seen = done_before.clone();
    let mut stopped_at = None;
    let ferry = apply.pid();
    let deadline = Instant::now() + APPLY_TIMEOUT;
    // Returns once `until` holds, or (false) when ferry exited or the time is up, on which
    // wait_while_running panics with the output.
    apply.wait_while_running(&format!("{until:?}"), APPLY_TIMEOUT, || {
        loop {
            // Alive before the read: the last state an apply that exited saved is still seen.
            let alive = process_alive(ferry);
            if let Some(state) = read_state(path) {
                for index in done_steps(&state) {
                    if seen.insert(index) {
                        on_done(index, &state);
                    }
                }
                if reached(&state, until) {
                    stopped_at = Some(state);
                    return true;
                }
            }
            if !alive || Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(STATE_POLL);
        }
    });
    stopped_at.unwrap()
}

fn reached(state: &Value, until: Until) -> bool {
    let status = |index: usize| steps(state)[index]["status"].as_str().unwrap_or("");
    match until {
        Until::Ended => {
            let all: Vec<&str> = (0..steps(state).len()).map(status).collect();
            all.iter().all(|s| *s == "done") || all.contains(&"failed")
        }
        Until::Running(step) => match status(step) {
            "running" => true,
            "pending" => false,
            other => panic!(
                "step {} was {other} before it could be seen running:\n{state:#}",
                step + 1
            ),
        },
    }
}

/// Runs `apply` to its end, checking each step as it finishes; panics (with the output) unless
/// it succeeds.
pub fn finish(
    mut apply: ApplyProcess,
    path: &Path,
    done_before: &BTreeSet<usize>,
    on_done: impl FnMut(usize, &Value),
    logs: impl Fn() -> String,
) -> Ended {
    follow(&mut apply, path, Until::Ended, done_before, on_done);
    let ended = apply.wait(APPLY_TIMEOUT);
    assert!(
        ended.status.success() && ended.stdout.contains("Apply complete"),
        "ferry apply failed:\n{}\n{}",
        ended.output(),
        logs()
    );
    ended
}

/// The indexes of the steps the state shows done.
pub fn done_steps(state: &Value) -> BTreeSet<usize> {
    steps(state)
        .iter()
        .enumerate()
        .filter(|(_, s)| s["status"] == "done")
        .map(|(i, _)| i)
        .collect()
}

/// Waits until no hook of the run (nor a start or stop script it runs) is running any more: a
/// hook a killed apply was running goes on until it ends, or until it writes to the output
/// ferry no longer reads (SIGPIPE).
pub fn wait_for_hooks_to_end(dir: &Path) {
    // The directory's own name is unique, whatever way to it a path takes.
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    wait_for(
        "the hooks of the killed apply to end",
        APPLY_TIMEOUT,
        || Ok(scripts_running(&name).is_empty().then_some(())),
    );
}

/// Live processes running a shell script from a directory named `dir`.
fn scripts_running(dir: &str) -> Vec<u32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| {
            let Ok(cmdline) = fs::read(format!("/proc/{pid}/cmdline")) else {
                return false;
            };
            cmdline.split(|&b| b == 0).any(|arg| {
                let arg = String::from_utf8_lossy(arg);
                arg.contains(dir) && arg.ends_with(".sh")
            }) && process_alive(pid)
        })
        .collect()
}
