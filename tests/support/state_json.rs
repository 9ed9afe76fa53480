//! Reading ferry's state file as JSON in tests that follow an apply from outside, and waiting on
//! conditions they observe.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

/// How often [`wait_for`] asks again.
const POLL: Duration = Duration::from_millis(50);

pub fn read_state(path: &Path) -> Option<Value> {
    // The file is replaced atomically, so a read sees a whole version or none.
    serde_json::from_str(&fs::read_to_string(path).ok()?).ok()
}

pub fn steps(state: &Value) -> &Vec<Value> {
    state["steps"].as_array().expect("steps in the state")
}

/// The state's steps, as `kind` or `run_hook:NAME`.
pub fn step_kinds(state: &Value) -> Vec<String> {
    steps(state)
        .iter()
        .map(|s| match (&s["kind"], &s["step"]["hook"]) {
            (kind, Value::String(hook)) if kind == "run_hook" => format!("run_hook:{hook}"),
            (kind, _) => kind.as_str().unwrap().to_string(),
        })
        .collect()
}

/// Polls `probe` until it returns a value; panics after `timeout` naming what it waited for.
pub fn wait_for<T>(
    what: &str,
    timeout: Duration,
    mut probe: impl FnMut() -> anyhow::Result<Option<T>>,
) -> T {
    let deadline = Instant::now() + timeout;
    let mut last_error = None;
    loop {
        match probe() {
            Ok(Some(value)) => return value,
            Ok(None) => {}
            Err(error) => last_error = Some(error),
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {}s waiting for {what} (last error: {last_error:?})",
            timeout.as_secs()
        );
        std::thread::sleep(POLL);
    }
}
