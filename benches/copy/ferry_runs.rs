//! ferry itself, as a user runs it: `ferry apply` of a mirror migration (its copy step timed and
//! its CPU sampled when the step starts and ends, from the state file and `/proc`) and
//! `ferry replicate --until-caught-up` (the copy as a service, measured whole).

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result};
use serde_json::Value;

use crate::measure::{Measured, Usage, wait_until};

const FERRY: &str = env!("CARGO_BIN_EXE_ferry");

/// A mirror migration of `topic` to `target_name`, carrying over the groups matching `groups`;
/// the hooks do nothing (this measures the copy, not a cutover).
pub fn write_config(
    dir: &Path,
    source: &str,
    target: &str,
    topic: &str,
    target_name: &str,
    groups: &str,
) -> Result<()> {
    fs::create_dir_all(dir)?;
    let hook = |name: &str| format!("hook \"{name}\" {{\n  command = [\"true\"]\n}}\n");
    let text = format!(
        r#"migration "bench" {{
  scheme        = "mirror"
  settle_period = "1s"
  wait_timeout  = "20m"
}}

cluster "source" {{
  bootstrap_servers = ["{source}"]
}}

cluster "target" {{
  bootstrap_servers = ["{target}"]
}}

topic "{topic}" {{
  target_name = "{target_name}"
}}

consumer_groups {{
  include = ["{groups}"]
}}

replication {{
  start_from = "earliest"
}}

state {{
  path = "ferry.state.json"
}}

{}{}{}{}"#,
        hook("stop_source_consumers"),
        hook("start_target_consumers"),
        hook("stop_source_producers"),
        hook("start_target_producers"),
    );
    fs::write(dir.join("main.hcl"), text)?;
    Ok(())
}

fn ferry(dir: &Path, args: &[&str], log: &str) -> Result<Command> {
    let mut command = Command::new(FERRY);
    command.arg("-C").arg(dir).args(args);
    if std::env::var_os("FERRY_BENCH_VERBOSE").is_some() {
        command.arg("-vv");
    }
    command
        .stdin(Stdio::null())
        .stdout(fs::File::create(dir.join(format!("{log}.out")))?)
        .stderr(fs::File::create(dir.join(format!("{log}.err")))?);
    Ok(command)
}

/// The status of the apply's copy step, once the state file records it.
fn copy_step_status(dir: &Path) -> Option<String> {
    let text = fs::read_to_string(dir.join("ferry.state.json")).ok()?;
    let state: Value = serde_json::from_str(&text).ok()?;
    state["steps"]
        .as_array()?
        .iter()
        .find(|step| step["kind"] == "copy_data")
        .and_then(|step| step["status"].as_str())
        .map(str::to_owned)
}

/// What `ferry apply` cost: its copy step alone, and the whole run.
pub struct ApplyUsage {
    pub copy_step: Usage,
    pub whole: Usage,
}

pub fn apply(dir: &Path) -> Result<ApplyUsage> {
    let run = Measured::spawn(
        ferry(dir, &["apply", "--auto-approve"], "apply")?,
        "ferry apply",
    )?;
    let limit = Duration::from_secs(1200);
    wait_until("the apply's copy step to start", limit, || {
        Ok(copy_step_status(dir).is_some_and(|s| s != "pending"))
    })?;
    let started = run.sample()?;
    wait_until("the apply's copy step to end", limit, || {
        Ok(copy_step_status(dir).is_some_and(|s| s != "pending" && s != "running"))
    })?;
    let ended = run.sample()?;
    let status = copy_step_status(dir);
    let whole = run
        .wait()
        .with_context(|| format!("see {}", dir.join("apply.err").display()))?;
    anyhow::ensure!(
        status.as_deref() == Some("done"),
        "the copy step ended {status:?}"
    );
    Ok(ApplyUsage {
        copy_step: Usage {
            seconds: ended.seconds - started.seconds,
            cpu_seconds: ended.cpu_seconds - started.cpu_seconds,
            peak_rss_kib: ended.peak_rss_kib,
        },
        whole,
    })
}

pub fn replicate(dir: &Path) -> Result<Usage> {
    let run = Measured::spawn(
        ferry(dir, &["replicate", "--until-caught-up"], "replicate")?,
        "ferry replicate",
    )?;
    run.wait()
        .with_context(|| format!("see {}", dir.join("replicate.err").display()))
}
