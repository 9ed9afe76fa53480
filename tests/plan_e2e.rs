//! `ferry plan` and `ferry validate` as a user runs them, against two real Apache Kafka brokers
//! started by the test bed (one source, one target per test).

mod support;

use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;
use ferry_testbed::{Testbed, seed};
use predicates::prelude::*;
use serde_json::Value;

fn ferry(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("ferry").unwrap();
    cmd.arg("-C")
        .arg(dir)
        .env_remove("NO_COLOR")
        .timeout(Duration::from_secs(120));
    cmd
}

/// Writes main.hcl for `scheme` with both clusters of the test bed and `body` appended.
fn config(bed: &Testbed, scheme: &str, body: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let hooks = match scheme {
        "dual_consume" => "hook \"switch_producers\" {\n  command = [\"true\"]\n}\n",
        "single_consume" => {
            "hook \"switch_producers\" {\n  command = [\"true\"]\n}\nhook \"switch_consumers\" {\n  command = [\"true\"]\n}\n"
        }
        _ => {
            "hook \"stop_source_consumers\" {\n  command = [\"true\"]\n}\nhook \"start_target_consumers\" {\n  command = [\"true\"]\n}\nhook \"stop_source_producers\" {\n  command = [\"true\"]\n}\nhook \"start_target_producers\" {\n  command = [\"true\"]\n}\n"
        }
    };
    let text = format!(
        "migration \"e2e\" {{\n  scheme = \"{scheme}\"\n}}\ncluster \"source\" {{\n  bootstrap_servers = [\"{}\"]\n}}\ncluster \"target\" {{\n  bootstrap_servers = [\"{}\"]\n}}\n{hooks}{body}",
        bed.source.bootstrap, bed.target.bootstrap
    );
    std::fs::write(dir.path().join("main.hcl"), text).unwrap();
    dir
}

fn plan_json(dir: &Path) -> Value {
    support::cli::plan_json(ferry(dir))
}

fn step_kinds(plan: &Value) -> Vec<String> {
    plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| match s["kind"].as_str().unwrap() {
            "run_hook" => format!("run_hook:{}", s["hook"].as_str().unwrap()),
            k => k.to_string(),
        })
        .collect()
}

fn topic<'a>(plan: &'a Value, name: &str) -> &'a Value {
    plan["topics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no topic {name} in plan"))
}

/// The config changes expected on a Kafka 4 target, given those of a same-release source. A 3.x
/// source (the compatibility run, `FERRY_KAFKA_SOURCE_VERSION`) lets timestamps run Long.MAX
/// ahead where Kafka 4 allows one hour, and the plan rightly carries that: one change more.
fn from_older_source(changes: Value) -> Value {
    let older = std::env::var("FERRY_KAFKA_SOURCE_VERSION").is_ok_and(|v| v.starts_with("3."));
    if !older {
        return changes;
    }
    let mut all = vec![
        serde_json::json!({"key": "message.timestamp.after.max.ms", "before": "3600000", "after": "9223372036854775807", "origin": "source"}),
    ];
    all.extend(changes.as_array().unwrap().iter().cloned());
    Value::Array(all)
}

/// The sample used by most tests: two selected topics with data, one left out, one group.
fn seed_orders(bed: &Testbed) {
    let s = &bed.source.bootstrap;
    seed::create_topic(s, "orders", 3, &[("retention.ms", "86400000")]).unwrap();
    seed::create_topic(s, "payments", 2, &[]).unwrap();
    seed::create_topic(s, "skipped", 1, &[]).unwrap();
    seed::produce(s, "orders", 0, 10, 100).unwrap();
    seed::produce(s, "orders", 1, 20, 100).unwrap();
    seed::produce(s, "payments", 0, 5, 100).unwrap();
    seed::commit_offsets(s, "billing", &[("orders", 0, 5), ("orders", 1, 20)]).unwrap();
    seed::commit_offsets(s, "other-team", &[("orders", 0, 1)]).unwrap();
}

const SELECT: &str = "topics {\n  include = [\"^orders$\", \"^payments$\"]\n}\nconsumer_groups {\n  include = [\"^billing$\"]\n}\n";

#[test]
fn mirror_plan_against_real_brokers_has_the_exact_actions_and_steps() {
    let bed = Testbed::start().unwrap();
    seed_orders(&bed);
    let t = &bed.target.bootstrap;
    seed::create_topic(t, "payments", 2, &[("retention.ms", "1000")]).unwrap();
    seed::create_topic(t, "legacy", 1, &[]).unwrap();
    let dir = config(&bed, "mirror", SELECT);

    let plan = plan_json(dir.path());

    assert_eq!(plan["format_version"], 1);
    assert_eq!(plan["scheme"], "mirror");
    let names: Vec<&str> = plan["topics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["orders", "payments"], "skipped is not selected");

    let orders = topic(&plan, "orders");
    assert_eq!(orders["action"], "create");
    assert_eq!(orders["partitions"]["value"], 3);
    assert_eq!(orders["replication_factor"]["value"], 1);
    assert_eq!(
        orders["config"],
        from_older_source(serde_json::json!([
            {"key": "retention.ms", "before": "604800000", "after": "86400000", "origin": "source"},
            // A mirror target takes the source's largest record plus ferry's header.
            {"key": "max.message.bytes", "before": "1048588", "after": "1048652", "origin": "source"}
        ]))
    );

    let payments = topic(&plan, "payments");
    assert_eq!(payments["action"], "update");
    assert_eq!(
        payments["config"],
        from_older_source(serde_json::json!([
            {"key": "retention.ms", "before": "1000", "after": "604800000", "origin": "source"},
            {"key": "max.message.bytes", "before": "1048588", "after": "1048652", "origin": "source"}
        ]))
    );

    assert_eq!(
        plan["unmanaged_target_topics"],
        serde_json::json!(["legacy"])
    );

    let groups = plan["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 1, "only billing is selected: {groups:?}");
    assert_eq!(groups[0]["name"], "billing");
    let committed: Vec<(i64, i64)> = groups[0]["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["partition"].as_i64().unwrap(),
                p["committed"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(committed, [(0, 5), (1, 20)]);

    assert_eq!(
        step_kinds(&plan),
        [
            "apply_topics",
            "copy_data",
            "wait_replication_caught_up",
            "run_hook:stop_source_consumers",
            "wait_groups_stopped",
            "translate_offsets",
            "run_hook:start_target_consumers",
            "run_hook:stop_source_producers",
            "wait_source_quiet",
            "drain_replication",
            "verify",
            "run_hook:start_target_producers"
        ]
    );
    let copy = &plan["steps"][1];
    assert_eq!(copy["volume"]["records"], 35);
    assert_eq!(copy["volume"]["partitions"], 5);
    assert_eq!(plan["steps"][0]["create"], serde_json::json!(["orders"]));
    assert_eq!(plan["steps"][0]["update"], serde_json::json!(["payments"]));
    assert_eq!(
        plan["summary"],
        serde_json::json!({"create": 1, "change": 1, "unchanged": 0, "blocked": 0, "steps": 12})
    );
}

#[test]
fn single_and_dual_consume_plans_order_their_steps_against_real_brokers() {
    let bed = Testbed::start().unwrap();
    seed_orders(&bed);
    let single = plan_json(config(&bed, "single_consume", SELECT).path());
    assert_eq!(
        step_kinds(&single),
        [
            "apply_topics",
            "commit_start_offsets",
            "run_hook:switch_producers",
            "wait_groups_drained",
            "run_hook:switch_consumers",
            "wait_groups_active"
        ]
    );
    assert_eq!(
        single["steps"][1]["partitions"], 3,
        "every target partition of orders, which billing consumes"
    );
    let dual = plan_json(config(&bed, "dual_consume", SELECT).path());
    assert_eq!(
        step_kinds(&dual),
        [
            "apply_topics",
            "wait_groups_active",
            "run_hook:switch_producers",
            "wait_groups_drained"
        ]
    );
}

#[test]
fn human_plan_prints_symbols_and_summary_without_colour_when_piped() {
    let bed = Testbed::start().unwrap();
    seed_orders(&bed);
    let dir = config(&bed, "mirror", SELECT);
    let out = ferry(dir.path()).arg("plan").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success());
    assert!(text.contains("+ topic \"orders\""), "{text}");
    assert!(
        text.lines()
            .any(|line| line.contains("+ config.retention.ms ")
                && line.trim_end().ends_with("= \"86400000\"")),
        "{text}"
    );
    assert!(
        text.contains("Plan: 2 to create, 0 to change, 0 blocked, 12 steps."),
        "{text}"
    );
    assert!(!text.contains('\u{1b}'), "no colour codes when piped");
}

#[test]
fn detailed_exitcode_is_2_with_pending_changes_and_0_with_nothing_to_do() {
    let bed = Testbed::start().unwrap();
    seed_orders(&bed);
    ferry(config(&bed, "mirror", SELECT).path())
        .args(["plan", "--detailed-exitcode"])
        .assert()
        .code(2);
    ferry(config(&bed, "mirror", SELECT).path())
        .arg("plan")
        .assert()
        .code(0);
    let nothing = config(
        &bed,
        "mirror",
        "topics {\n  include = [\"^nothing-matches$\"]\n}\n",
    );
    ferry(nothing.path())
        .args(["plan", "--detailed-exitcode"])
        .assert()
        .code(0)
        .stdout(predicates::str::contains("nothing to migrate"));
}

/// Kafka adds partitions (CreatePartitions): the plan's validate-only probe says so, the
/// topic is an update, and apply grows it. (A target that cannot is a blocker: see the diff's
/// unit tests; no broker here refuses it.)
#[test]
fn partition_growth_is_planned_as_an_update_and_apply_adds_the_partitions() {
    let bed = Testbed::start().unwrap();
    seed::create_topic(&bed.source.bootstrap, "orders", 2, &[]).unwrap();
    seed::create_topic(&bed.target.bootstrap, "orders", 2, &[]).unwrap();
    let dir = config(
        &bed,
        "dual_consume",
        "topic \"orders\" {\n  partitions = 4\n}\n",
    );
    let plan = plan_json(dir.path());
    let orders = topic(&plan, "orders");
    assert_eq!(orders["action"], "update", "{orders}");
    assert_eq!(orders["target_partitions"], 2, "{orders}");
    assert_eq!(orders["partitions"]["value"], 4, "{orders}");
    assert_eq!(plan["summary"]["change"], 1);

    ferry(dir.path())
        .args(["apply", "--auto-approve"])
        .assert()
        .success();
    let topics = ferry_testbed::inspect::topics(&bed.target.bootstrap).unwrap();
    assert_eq!(topics.get("orders"), Some(&4), "{topics:?}");
}

#[test]
fn declared_partitions_below_the_target_count_are_blocked() {
    let bed = Testbed::start().unwrap();
    seed::create_topic(&bed.source.bootstrap, "audit", 2, &[]).unwrap();
    seed::create_topic(&bed.target.bootstrap, "audit", 8, &[]).unwrap();
    let dir = config(
        &bed,
        "dual_consume",
        "topic \"audit\" {\n  partitions = 4\n}\n",
    );
    let plan = plan_json(dir.path());
    assert_eq!(
        topic(&plan, "audit")["blocked"],
        serde_json::json!(["target has 8 partitions, declared 4 (partitions cannot shrink)"])
    );
}

/// A mirror copy writes partition i to partition i: fewer target partitions than the source's
/// are blocked in the plan (the copy would retry the missing ones until wait_timeout), more are
/// allowed with a note on keyed records.
#[test]
fn mirror_plans_block_fewer_target_partitions_than_the_source_and_note_more() {
    let bed = Testbed::start().unwrap();
    seed::create_topic(&bed.source.bootstrap, "ledger", 3, &[]).unwrap();
    seed::create_topic(&bed.source.bootstrap, "clicks", 3, &[]).unwrap();
    let dir = config(
        &bed,
        "mirror",
        "topic \"ledger\" {\n  partitions = 2\n}\ntopic \"clicks\" {\n  partitions = 6\n}\n",
    );
    let plan = plan_json(dir.path());
    let ledger = topic(&plan, "ledger");
    assert_eq!(ledger["action"], "blocked", "{ledger:#}");
    assert!(
        ledger["blocked"][0]
            .as_str()
            .unwrap()
            .contains("the source has 3 partitions, the target would have 2"),
        "{ledger:#}"
    );
    let clicks = topic(&plan, "clicks");
    assert_eq!(clicks["action"], "create", "{clicks:#}");
    assert!(
        clicks["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("hash over 6 partitions")),
        "{clicks:#}"
    );
}

#[test]
fn unreachable_cluster_fails_with_a_clear_message_and_exit_1() {
    let bed = Testbed::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    std::fs::write(
        dir.path().join("main.hcl"),
        format!(
            "migration \"x\" {{\n  scheme = \"dual_consume\"\n}}\ncluster \"source\" {{\n  bootstrap_servers = [\"{closed}\"]\n}}\ncluster \"target\" {{\n  bootstrap_servers = [\"{}\"]\n}}\nhook \"switch_producers\" {{\n  command = [\"true\"]\n}}\n",
            bed.target.bootstrap
        ),
    )
    .unwrap();
    ferry(dir.path())
        .args(["plan", "--timeout", "3s"])
        .assert()
        .code(1)
        .stderr(
            predicates::str::contains("cannot reach the source cluster")
                .and(predicates::str::contains(closed.to_string())),
        );
}

#[test]
fn a_pinned_cluster_id_that_does_not_match_is_refused() {
    let bed = Testbed::start().unwrap();
    seed_orders(&bed);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("main.hcl"),
        format!(
            "migration \"x\" {{\n  scheme = \"dual_consume\"\n}}\ncluster \"source\" {{\n  bootstrap_servers = [\"{}\"]\n  cluster_id = \"production-east\"\n}}\ncluster \"target\" {{\n  bootstrap_servers = [\"{}\"]\n}}\nhook \"switch_producers\" {{\n  command = [\"true\"]\n}}\n",
            bed.source.bootstrap, bed.target.bootstrap
        ),
    )
    .unwrap();
    ferry(dir.path())
        .arg("plan")
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "pins cluster_id = \"production-east\"",
        ));
}

#[test]
fn secrets_never_appear_in_errors() {
    let bed = Testbed::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("main.hcl"),
        format!(
            "migration \"x\" {{\n  scheme = \"dual_consume\"\n}}\ncluster \"source\" {{\n  bootstrap_servers = [\"{}\"]\n}}\ncluster \"target\" {{\n  bootstrap_servers = [\"{}\"]\n  sasl {{\n    mechanism = \"PLAIN\"\n    username = \"ckafka-abc#ferry\"\n    password = var.pw\n  }}\n}}\nvariable \"pw\" {{\n  sensitive = true\n}}\nhook \"switch_producers\" {{\n  command = [\"true\"]\n}}\n",
            bed.source.bootstrap, bed.target.bootstrap
        ),
    )
    .unwrap();
    let out = ferry(dir.path())
        .args(["-v", "plan", "--timeout", "3s", "--var", "pw=s3cr3t-Pa55"])
        .output()
        .unwrap();
    // The target's PLAINTEXT listener does not speak SASL: the plan fails, naming no secret.
    assert_eq!(out.status.code(), Some(1));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains("s3cr3t-Pa55"), "{all}");
}

#[test]
fn validate_contacts_no_cluster() {
    // Bootstrap servers point at nothing; validate must still succeed, and quickly.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/mirror");
    Command::cargo_bin("ferry")
        .unwrap()
        .args(["validate", "-C"])
        .arg(&dir)
        .env("FERRY_SOURCE_BOOTSTRAP", "127.0.0.1:1")
        .env("FERRY_TARGET_BOOTSTRAP", "127.0.0.1:1")
        .timeout(Duration::from_secs(20))
        .assert()
        .success()
        .stdout(predicates::str::contains("The configuration is valid"));
}

#[test]
fn every_invalid_fixture_fails_validate_with_a_located_error() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/config/invalid");
    let mut cases = 0;
    for entry in std::fs::read_dir(&root).unwrap() {
        let dir = entry.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        cases += 1;
        let out = Command::cargo_bin("ferry")
            .unwrap()
            .args(["validate", "-C"])
            .arg(&dir)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{}: {err}", dir.display());
        let name = dir.file_name().unwrap().to_str().unwrap();
        // A block missing from every file is reported against the directory; all else at a line.
        let whole_dir = name.starts_with("missing_") && name != "missing_required_key"
            || name == "no_hcl_files";
        let located = if whole_dir {
            err.contains(name)
        } else {
            err.contains(".hcl:")
        };
        assert!(
            located,
            "{name}: error names no file and line (or directory): {err}"
        );
    }
    assert!(cases >= 10, "expected the invalid fixtures, found {cases}");
}

#[test]
fn examples_validate() {
    for example in ["quickstart", "mirror", "dual_consume", "single_consume"] {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples")
            .join(example);
        Command::cargo_bin("ferry")
            .unwrap()
            .args(["validate", "-C"])
            .arg(&dir)
            .assert()
            .success();
    }
}
