//! Running the ferry binary from integration tests.

use assert_cmd::Command;
use serde_json::Value;

/// Runs `cmd` (a `ferry -C DIR` command, with whatever environment the test needs) as
/// `plan --format json`, asserts it succeeded, and returns the parsed plan.
pub fn plan_json(mut cmd: Command) -> Value {
    let out = cmd.args(["plan", "--format", "json"]).output().unwrap();
    assert!(
        out.status.success(),
        "plan failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("plan --format json prints JSON")
}
