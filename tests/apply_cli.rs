//! `ferry apply` as a release engineer runs it, against two real Apache Kafka brokers: confirmation,
//! saved plans, the state file, the lock, failing hooks and resume.

use std::path::Path;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use ferry_testbed::{Testbed, inspect, seed};
use predicates::prelude::*;
use serde_json::Value;

fn ferry(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("ferry").unwrap();
    cmd.arg("-C").arg(dir).timeout(Duration::from_secs(120));
    cmd
}

/// A dual_consume migration of topic `orders` (no groups selected, so its steps are: apply
/// topics, run hook switch_producers) with the hook's command given.
fn config(bed: &Testbed, hook: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), bed, hook);
    dir
}

fn write_config(dir: &Path, bed: &Testbed, hook: &str) {
    let text = format!(
        r#"migration "apply-test" {{
  scheme        = "dual_consume"
  settle_period = "1s"
  wait_timeout  = "1m"
}}
cluster "source" {{
  bootstrap_servers = ["{}"]
}}
cluster "target" {{
  bootstrap_servers = ["{}"]
}}
topics {{
  include = ["^orders$"]
}}
hook "switch_producers" {{
  command = {hook}
  timeout = "1m"
}}
"#,
        bed.source.bootstrap, bed.target.bootstrap
    );
    std::fs::write(dir.join("main.hcl"), text).unwrap();
}

fn seed_source(bed: &Testbed) {
    seed::create_topic(
        &bed.source.bootstrap,
        "orders",
        3,
        &[("retention.ms", "86400000")],
    )
    .unwrap();
    seed::produce(&bed.source.bootstrap, "orders", 0, 5, 50).unwrap();
}

fn state(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("ferry.state.json")).unwrap()).unwrap()
}

fn statuses(state: &Value) -> Vec<String> {
    state["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn apply_creates_topics_runs_hooks_and_records_every_step() {
    let bed = Testbed::start().unwrap();
    seed_source(&bed);
    let dir = config(&bed, r#"["sh", "-c", "echo switched >> hook.out"]"#);

    ferry(dir.path())
        .args(["apply", "--auto-approve"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Apply complete: 2 of 2 steps done",
        ));

    assert_eq!(
        inspect::topics(&bed.target.bootstrap)
            .unwrap()
            .get("orders"),
        Some(&3)
    );
    assert_eq!(
        inspect::topic_config(&bed.target.bootstrap, "orders")
            .unwrap()
            .get("retention.ms")
            .map(String::as_str),
        Some("86400000")
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("hook.out")).unwrap(),
        "switched\n",
        "hook ran once, in the config dir"
    );

    let s = state(dir.path());
    assert_eq!(s["format_version"], 1);
    assert_eq!(statuses(&s), ["done", "done"]);
    assert_eq!(
        s["steps"][0]["outcome"]["created"],
        serde_json::json!(["orders"])
    );
    assert_eq!(s["steps"][1]["outcome"]["exit_code"], 0);
    assert_eq!(s["source_cluster_id"], bed.source.cluster_id.as_str());

    // Everything is done: a second apply changes nothing and says so.
    ferry(dir.path())
        .args(["apply", "--auto-approve"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Nothing to do"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("hook.out")).unwrap(),
        "switched\n"
    );
    ferry(dir.path())
        .args(["plan", "--detailed-exitcode"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("(done)"));
}

#[test]
fn apply_without_a_terminal_refuses_unless_approved_and_changes_nothing() {
    let bed = Testbed::start().unwrap();
    seed_source(&bed);
    let dir = config(&bed, r#"["true"]"#);
    ferry(dir.path())
        .arg("apply")
        .write_stdin("yes\n")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("standard input is not a terminal"));
    assert!(!dir.path().join("ferry.state.json").exists());
    assert!(
        !inspect::topics(&bed.target.bootstrap)
            .unwrap()
            .contains_key("orders")
    );
}

#[test]
fn a_failing_hook_stops_apply_and_the_next_apply_resumes_at_that_step() {
    let bed = Testbed::start().unwrap();
    seed_source(&bed);
    let dir = config(
        &bed,
        r#"["sh", "-c", "echo cannot reach deploy system >&2; exit 3"]"#,
    );

    ferry(dir.path())
        .args(["apply", "--auto-approve"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("switch_producers").and(predicate::str::contains("3")));
    let failed = state(dir.path());
    assert_eq!(statuses(&failed), ["done", "failed"]);
    assert!(
        failed["steps"][1]["error"]
            .as_str()
            .unwrap()
            .contains("exit"),
        "{}",
        failed["steps"][1]
    );

    // Fix the hook; the topic step is not repeated (its record is unchanged), the hook runs.
    write_config(dir.path(), &bed, r#"["true"]"#);
    ferry(dir.path())
        .args(["apply", "--auto-approve"])
        .assert()
        .success();
    let done = state(dir.path());
    assert_eq!(statuses(&done), ["done", "done"]);
    assert_eq!(done["steps"][0], failed["steps"][0]);
    assert!(done["serial"].as_u64() > failed["serial"].as_u64());
}

#[test]
fn a_saved_plan_applies_without_asking_and_a_stale_one_is_refused() {
    let bed = Testbed::start().unwrap();
    seed_source(&bed);
    let dir = config(&bed, r#"["true"]"#);
    let plan = dir.path().join("reviewed.plan");
    ferry(dir.path())
        .args(["plan", "--out"])
        .arg(&plan)
        .assert()
        .success();

    // The HCL changes after review: the saved plan is stale.
    write_config(dir.path(), &bed, r#"["sh", "-c", "true"]"#);
    ferry(dir.path())
        .arg("apply")
        .arg(&plan)
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("is stale")
                .and(predicate::str::contains("the configuration changed")),
        );
    assert!(
        !dir.path().join("ferry.state.json").exists(),
        "a refused plan writes no state"
    );

    // The files stay, a value they read changes after review (a --var): stale too.
    std::fs::write(
        dir.path().join("release.hcl"),
        "variable \"release\" {\n  default = \"r1\"\n}\n",
    )
    .unwrap();
    ferry(dir.path())
        .args(["plan", "--var", "release=r1", "--out"])
        .arg(&plan)
        .assert()
        .success();
    ferry(dir.path())
        .args(["apply", "--var", "release=r2"])
        .arg(&plan)
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("is stale")
                .and(predicate::str::contains("the configuration changed")),
        );
    assert!(!dir.path().join("ferry.state.json").exists());

    // A fresh plan, and live metadata that changes behind it.
    ferry(dir.path())
        .args(["plan", "--out"])
        .arg(&plan)
        .assert()
        .success();
    seed::create_topic(&bed.target.bootstrap, "unrelated", 1, &[]).unwrap();
    ferry(dir.path())
        .arg("apply")
        .arg(&plan)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "topic metadata on the source or target changed",
        ));

    ferry(dir.path())
        .args(["plan", "--out"])
        .arg(&plan)
        .assert()
        .success();
    ferry(dir.path())
        .arg("apply")
        .arg(&plan)
        .write_stdin("")
        .assert()
        .success();
    assert_eq!(statuses(&state(dir.path())), ["done", "done"]);

    // A plan made against this state, then the state file replaced by another one of the same
    // migration and serial (a restored copy of another run): the lineage tells them apart.
    ferry(dir.path())
        .args(["plan", "--out"])
        .arg(&plan)
        .assert()
        .success();
    let path = dir.path().join("ferry.state.json");
    let mut other = state(dir.path());
    other["lineage"] = "00000000-0000-4000-8000-000000000000".into();
    let replaced = serde_json::to_string_pretty(&other).unwrap();
    std::fs::write(&path, &replaced).unwrap();
    ferry(dir.path())
        .arg("apply")
        .arg(&plan)
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("is stale").and(predicate::str::contains(
                "the state file was replaced by another one (lineage",
            )),
        );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), replaced);
}

#[test]
fn a_second_apply_is_refused_while_the_first_holds_the_lock() {
    let bed = Testbed::start().unwrap();
    seed_source(&bed);
    // The first apply's hook waits until the test lets it go.
    let gate = tempfile::tempdir().unwrap();
    let release = gate.path().join("release");
    let hook = format!(
        r#"["sh", "-c", "touch {0}/started; while [ ! -e {1} ]; do sleep 0.05; done"]"#,
        gate.path().display(),
        release.display()
    );
    let dir = config(&bed, &hook);
    let mut first = std::process::Command::new(assert_cmd::cargo::cargo_bin("ferry"))
        .arg("-C")
        .arg(dir.path())
        .args(["apply", "--auto-approve"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for(&gate.path().join("started"));

    ferry(dir.path())
        .args(["apply", "--auto-approve"])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("is locked").and(predicate::str::contains("force-unlock")),
        );

    std::fs::write(&release, "").unwrap();
    assert!(first.wait().unwrap().success());
    assert_eq!(statuses(&state(dir.path())), ["done", "done"]);
}

#[test]
fn a_corrupt_state_file_is_refused_and_left_untouched() {
    let bed = Testbed::start().unwrap();
    seed_source(&bed);
    let dir = config(&bed, r#"["true"]"#);
    let path = dir.path().join("ferry.state.json");
    std::fs::write(&path, "{\"format_version\": 1, \"lineage\": ").unwrap();
    let before = std::fs::read(&path).unwrap();
    for args in [
        &["apply", "--auto-approve"][..],
        &["plan"][..],
        &["status"][..],
    ] {
        ferry(dir.path())
            .args(args)
            .assert()
            .code(1)
            .stderr(predicate::str::contains("cannot be read"));
    }
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert!(
        !inspect::topics(&bed.target.bootstrap)
            .unwrap()
            .contains_key("orders"),
        "nothing was applied"
    );
}

#[test]
fn a_mirror_apply_of_the_quickstart_copies_translates_and_verifies() {
    let bed = Testbed::start().unwrap();
    seed::quickstart(&bed.source.bootstrap).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let hcl = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/quickstart/main.hcl"),
    )
    .unwrap();
    std::fs::write(dir.path().join("main.hcl"), hcl).unwrap();
    ferry(dir.path())
        .env("FERRY_SOURCE_BOOTSTRAP", &bed.source.bootstrap)
        .env("FERRY_TARGET_BOOTSTRAP", &bed.target.bootstrap)
        .args(["apply", "--auto-approve"])
        .timeout(Duration::from_secs(300))
        .assert()
        .success()
        .stdout(predicate::str::contains("Apply complete"))
        .stderr(predicate::str::contains("equal"));
    let state: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("quickstart.state.json")).unwrap(),
    )
    .unwrap();
    let steps = state["steps"].as_array().unwrap();
    assert!(steps.iter().all(|s| s["status"] == "done"), "{state:#}");
    let kinds: Vec<&str> = steps.iter().map(|s| s["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds[kinds.len() - 2..],
        ["verify", "run_hook"],
        "{kinds:?}"
    );
    assert_eq!(
        steps.last().unwrap()["outcome"]["hook"],
        "start_target_producers"
    );
}

#[test]
fn status_shows_each_step_and_force_unlock_needs_the_right_id() {
    let bed = Testbed::start().unwrap();
    seed_source(&bed);
    let dir = config(&bed, r#"["true"]"#);
    ferry(dir.path())
        .args(["status"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no apply has run"));
    ferry(dir.path())
        .args(["apply", "--auto-approve"])
        .assert()
        .success();
    ferry(dir.path()).arg("status").assert().success().stdout(
        predicate::str::contains("2 of 2 steps done")
            .and(predicate::str::contains("run hook switch_producers")),
    );
    ferry(dir.path())
        .args(["state", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("apply_topics"));
    ferry(dir.path())
        .args(["force-unlock", "no-such-id"])
        .assert()
        .code(1);
}

/// Waits until a file exists (a child process signals progress that way).
fn wait_for(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !path.exists() {
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
