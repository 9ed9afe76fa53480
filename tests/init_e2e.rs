//! `ferry init` as a team starts with it: a starter file, then topic blocks imported from a real
//! Apache Kafka source broker, round-tripped through validate and plan.

mod support;

use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;
use ferry_testbed::{Testbed, seed};
use predicates::prelude::*;
use serde_json::Value;

fn ferry(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("ferry").unwrap();
    cmd.arg("-C").arg(dir).timeout(Duration::from_secs(120));
    cmd
}

fn plan(dir: &Path) -> Value {
    support::cli::plan_json(ferry(dir))
}

/// A topic's name, action, and config keys with the values the target would get.
type TopicRow = (String, String, Vec<(String, String)>);

fn topics(plan: &Value) -> Vec<TopicRow> {
    plan["topics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap().to_string(),
                t["action"].as_str().unwrap().to_string(),
                t["config"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| {
                        (
                            c["key"].as_str().unwrap().to_string(),
                            c["after"].as_str().unwrap().to_string(),
                        )
                    })
                    .collect(),
            )
        })
        .collect()
}

#[test]
fn starter_config_validates_and_is_never_overwritten_silently() {
    let dir = tempfile::tempdir().unwrap();
    ferry(dir.path())
        .args(["init", "--scheme", "single_consume"])
        .assert()
        .success()
        .stdout(predicate::str::contains("main.hcl"));
    ferry(dir.path())
        .arg("validate")
        .assert()
        .success()
        .stdout(predicate::str::contains("scheme single_consume"));
    ferry(dir.path())
        .args(["fmt", "--check"])
        .assert()
        .success();
    let before = std::fs::read_to_string(dir.path().join("main.hcl")).unwrap();
    ferry(dir.path()).arg("init").assert().code(1).stderr(
        predicate::str::contains("already exists").and(predicate::str::contains("--force")),
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("main.hcl")).unwrap(),
        before
    );
}

#[test]
fn init_from_source_round_trips_through_validate_and_plan() {
    let bed = Testbed::start().unwrap();
    let s = &bed.source.bootstrap;
    seed::create_topic(
        s,
        "orders",
        3,
        &[("retention.ms", "86400000"), ("cleanup.policy", "compact")],
    )
    .unwrap();
    seed::create_topic(s, "payments", 2, &[]).unwrap();
    seed::create_topic(s, "_schemas", 1, &[]).unwrap();
    seed::create_topic(s, "unrelated", 1, &[]).unwrap();
    seed::produce(s, "orders", 0, 5, 50).unwrap();
    seed::commit_offsets(s, "billing", &[("orders", 0, 3)]).unwrap();
    seed::commit_offsets(s, "elsewhere", &[("unrelated", 0, 0)]).unwrap();

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("main.hcl"),
        format!(
            r#"migration "import" {{
  scheme = "dual_consume"
}}

cluster "source" {{
  bootstrap_servers = ["{s}"]
}}

cluster "target" {{
  bootstrap_servers = ["{}"]
}}

topics {{
  include = ["^orders$", "^payments$", "^_"]
  exclude = ["^_"]
}}

hook "switch_producers" {{
  command = ["true"]
}}
"#,
            bed.target.bootstrap
        ),
    )
    .unwrap();
    let before = plan(dir.path());

    ferry(dir.path())
        .args(["init", "--from-source"])
        .assert()
        .success()
        .stdout(predicate::str::contains("2 topic blocks"));
    let topics_hcl = std::fs::read_to_string(dir.path().join("topics.hcl")).unwrap();
    assert!(
        topics_hcl.contains(
            "topic \"orders\" {\n  partitions = 3\n  config     = {\n    \"cleanup.policy\" = \"compact\"\n    \"retention.ms\"   = \"86400000\"\n  }\n}"
        ),
        "{topics_hcl}"
    );
    assert!(
        topics_hcl.contains("topic \"payments\" {\n  partitions = 2\n}"),
        "only non-default configs: {topics_hcl}"
    );
    assert!(!topics_hcl.contains("_schemas") && !topics_hcl.contains("unrelated"));
    let groups_hcl = std::fs::read_to_string(dir.path().join("groups.hcl")).unwrap();
    assert!(groups_hcl.contains("\"^billing$\""), "{groups_hcl}");
    assert!(
        !groups_hcl.contains("elsewhere"),
        "no offsets on a selected topic"
    );

    ferry(dir.path())
        .arg("validate")
        .assert()
        .success()
        .stdout(predicate::str::contains("2 topic blocks"));
    ferry(dir.path())
        .args(["fmt", "--check"])
        .assert()
        .success();

    // The same topics, the same creates, the same values: only where they come from changed.
    let after = plan(dir.path());
    assert_eq!(topics(&after), topics(&before));
    assert!(
        topics(&after)
            .iter()
            .all(|(_, action, _)| action == "create")
    );
    assert_eq!(after["summary"]["blocked"], 0);
    assert_eq!(after["steps"][0], before["steps"][0], "the same topic step");
    let groups: Vec<&str> = after["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        groups,
        ["billing"],
        "the written consumer_groups selects it"
    );

    // Written files are not replaced without --force; with it, the same text again.
    ferry(dir.path())
        .args(["init", "--from-source"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("topics.hcl already exists"));
    ferry(dir.path())
        .args(["init", "--from-source", "--force"])
        .assert()
        .success();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("topics.hcl")).unwrap(),
        topics_hcl
    );
}
