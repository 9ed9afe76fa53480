//! `ferry drift` and `-target` against two real Apache Kafka brokers: a migration is applied, then
//! the target and the source are changed behind ferry's back.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;
use ferry::cluster::{ClusterAccess, RdKafkaCluster};
use ferry::config::ClusterSettings;
use ferry_testbed::{Testbed, inspect, seed};
use predicates::prelude::*;
use serde_json::Value;

fn ferry(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("ferry").unwrap();
    cmd.arg("-C").arg(dir).timeout(Duration::from_secs(120));
    cmd
}

/// dual_consume of every `^orders` source topic, no groups: apply = topics + one hook.
fn config(bed: &Testbed) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        r#"migration "drift-test" {{
  scheme = "dual_consume"
}}
cluster "source" {{
  bootstrap_servers = ["{}"]
}}
cluster "target" {{
  bootstrap_servers = ["{}"]
}}
topics {{
  include = ["^orders"]
}}
hook "switch_producers" {{
  command = ["true"]
}}
"#,
        bed.source.bootstrap, bed.target.bootstrap
    );
    std::fs::write(dir.path().join("main.hcl"), text).unwrap();
    dir
}

fn json(cmd: &mut Command, code: i32) -> Value {
    let out = cmd.output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

fn kinds(report: &Value) -> Vec<(String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap().to_string(),
                f["topic"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn applied(bed: &Testbed) -> tempfile::TempDir {
    seed::create_topic(
        &bed.source.bootstrap,
        "orders",
        3,
        &[("retention.ms", "86400000")],
    )
    .unwrap();
    let dir = config(bed);
    ferry(dir.path())
        .args(["apply", "--auto-approve"])
        .assert()
        .success();
    dir
}

#[test]
fn a_config_changed_on_the_target_and_an_unmanaged_topic_are_drift_until_apply_repairs() {
    let bed = Testbed::start().unwrap();
    let dir = applied(&bed);
    ferry(dir.path())
        .arg("drift")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("No drift"));

    // Behind ferry's back: an admin changes retention on the target, someone adds a topic.
    let target = RdKafkaCluster::connect(
        "target",
        &ClusterSettings::plaintext(&bed.target.bootstrap),
        Duration::from_secs(10),
    )
    .unwrap();
    target
        .alter_topic_configs(&BTreeMap::from([(
            "orders".to_string(),
            BTreeMap::from([("retention.ms".to_string(), "1000".to_string())]),
        )]))
        .unwrap();
    seed::create_topic(&bed.target.bootstrap, "stray", 1, &[]).unwrap();

    let report = json(ferry(dir.path()).args(["drift", "--format", "json"]), 2);
    assert_eq!(report["format_version"], 1);
    assert_eq!(
        kinds(&report),
        [
            ("config_changed".to_string(), "orders".to_string()),
            ("unmanaged_topic".to_string(), "stray".to_string())
        ]
    );
    let changed = &report["findings"][0];
    assert_eq!(changed["key"], "retention.ms");
    assert_eq!(changed["expected"], "86400000");
    assert_eq!(changed["actual"], "1000");

    ferry(dir.path())
        .args(["drift", "--format", "markdown"])
        .assert()
        .code(2)
        .stdout(predicate::str::starts_with("### ferry drift: Drift:").and(
            predicate::str::contains("| target | `config_changed` | `orders` |"),
        ));

    // The plan of a finished migration picks the drift up as one more topic step; apply repairs.
    let plan = json(ferry(dir.path()).args(["plan", "--format", "json"]), 0);
    let last = plan["steps"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["kind"], "apply_topics");
    assert_eq!(last["update"], serde_json::json!(["orders"]));
    ferry(dir.path())
        .args(["apply", "--auto-approve"])
        .assert()
        .success();
    assert_eq!(
        inspect::topic_config(&bed.target.bootstrap, "orders").unwrap()["retention.ms"],
        "86400000"
    );
    let after = json(
        ferry(dir.path()).args(["drift", "--format", "json", "--ignore-unmanaged"]),
        0,
    );
    assert_eq!(after["findings"], serde_json::json!([]));
    assert_eq!(after["ignored"][0]["topic"], "stray", "listed, not counted");
}

#[test]
fn a_source_topic_that_appears_after_the_migration_is_source_drift_and_the_plan_creates_it() {
    let bed = Testbed::start().unwrap();
    let dir = applied(&bed);
    seed::create_topic(&bed.source.bootstrap, "orders.late", 2, &[]).unwrap();

    let report = json(ferry(dir.path()).args(["drift", "--format", "json"]), 2);
    assert_eq!(
        kinds(&report),
        [("new_source_topic".to_string(), "orders.late".to_string())]
    );
    assert_eq!(report["findings"][0]["cluster"], "source");

    let plan = json(ferry(dir.path()).args(["plan", "--format", "json"]), 0);
    let last = plan["steps"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["create"], serde_json::json!(["orders.late"]));
    ferry(dir.path())
        .args(["apply", "--auto-approve"])
        .assert()
        .success();
    assert_eq!(
        inspect::topics(&bed.target.bootstrap)
            .unwrap()
            .get("orders.late"),
        Some(&2)
    );
    ferry(dir.path()).arg("drift").assert().code(0);
}

#[test]
fn target_limits_plan_and_apply_to_named_topics_and_a_saved_plan_keeps_them() {
    let bed = Testbed::start().unwrap();
    let s = &bed.source.bootstrap;
    seed::create_topic(s, "orders", 2, &[]).unwrap();
    seed::create_topic(s, "orders.eu", 1, &[]).unwrap();
    let dir = config(&bed);

    ferry(dir.path())
        .args(["plan", "-target", "topic.ordrs"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "-target topic.ordrs: no such topic",
        ));

    let plan_file = dir.path().join("eu.plan");
    let plan = json(
        ferry(dir.path())
            .args([
                "plan",
                "--format",
                "json",
                "-target=topic.orders.eu",
                "--out",
            ])
            .arg(&plan_file),
        0,
    );
    assert_eq!(plan["targets"], serde_json::json!(["orders.eu"]));
    assert!(
        plan["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains("For a pilot")),
        "a first targeted apply fixes the migration's sequence, and the plan says so: {}",
        plan["warnings"]
    );
    let names: Vec<&str> = plan["topics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["orders.eu"]);
    assert_eq!(
        plan["unmanaged_target_topics"],
        serde_json::json!([]),
        "untargeted managed topics are not unmanaged"
    );

    ferry(dir.path())
        .arg("apply")
        .arg(&plan_file)
        .assert()
        .success();
    let on_target = inspect::topics(&bed.target.bootstrap).unwrap();
    assert!(on_target.contains_key("orders.eu"));
    assert!(
        !on_target.contains_key("orders"),
        "not targeted: {on_target:?}"
    );
}
