//! A CKafka target end to end: `ferry plan` and `ferry apply` against two real Apache Kafka brokers,
//! with the target's topic metadata going through the CKafka API emulator of the testbed
//! (signed requests, documented limits and error codes, changes applied to the target broker).

mod support;

use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;
use ferry::ckafka::client::{ApiClient, Credentials};
use ferry::config::{CkafkaSettings, Secret};
use ferry_testbed::ckafka_emulator::{
    Emulator, EmulatorConfig, TEST_INSTANCE_ID, TEST_SECRET_ID, TEST_SECRET_KEY,
};
use ferry_testbed::{Testbed, inspect, seed};
use serde_json::{Value, json};

/// A source, a target and the emulator in front of the target, plus a config directory.
struct Bed {
    bed: Testbed,
    emulator: Emulator,
    dir: tempfile::TempDir,
}

/// Source topics that break CKafka's rules in one way each.
fn seed_rule_breakers(bed: &Testbed) {
    let s = &bed.source.bootstrap;
    seed::create_topic(s, "short", 1, &[("retention.ms", "1000")]).unwrap();
    seed::create_topic(s, "zipped", 2, &[("compression.type", "gzip")]).unwrap();
    seed::create_topic(s, "wide", 1, &[]).unwrap();
    seed::produce(s, "short", 0, 5, 50).unwrap();
}

/// `accept` goes into the ckafka block; `body` after the clusters.
fn start(accept: bool, body: &str) -> Bed {
    let bed = Testbed::start().unwrap();
    seed_rule_breakers(&bed);
    let emulator = Emulator::start(EmulatorConfig::new(&bed.target.bootstrap)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        r#"migration "ck" {{
  scheme = "single_consume"
}}
cluster "source" {{
  bootstrap_servers = ["{source}"]
}}
cluster "target" {{
  bootstrap_servers = ["{target}"]
  ckafka {{
    instance_id        = "{TEST_INSTANCE_ID}"
    region             = "ap-guangzhou"
    endpoint           = "{url}"
    accept_adjustments = {accept}
  }}
}}
topic "wide" {{
  config = {{ "segment.ms" = "3600000" }}
}}
hook "switch_producers" {{
  command = ["true"]
}}
hook "switch_consumers" {{
  command = ["true"]
}}
{body}"#,
        source = bed.source.bootstrap,
        target = bed.target.bootstrap,
        url = emulator.url(),
    );
    std::fs::write(dir.path().join("main.hcl"), text).unwrap();
    Bed { bed, emulator, dir }
}

const TOPICS: &str = "topics {\n  include = [\"^short$\", \"^zipped$\", \"^wide$\"]\n}\n";

fn ferry(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("ferry").unwrap();
    cmd.arg("-C")
        .arg(dir)
        .env("TENCENTCLOUD_SECRET_ID", TEST_SECRET_ID)
        .env("TENCENTCLOUD_SECRET_KEY", TEST_SECRET_KEY)
        .timeout(Duration::from_secs(120));
    cmd
}

fn plan_json(dir: &Path) -> Value {
    support::cli::plan_json(ferry(dir))
}

fn topic<'a>(plan: &'a Value, name: &str) -> &'a Value {
    plan["topics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no topic {name} in {plan:#}"))
}

fn adjustments(t: &Value) -> Vec<(String, Value, Value, bool)> {
    t["adjustments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["key"].as_str().unwrap().to_string(),
                a["from"].clone(),
                a["to"].clone(),
                a["accepted"].as_bool().unwrap(),
            )
        })
        .collect()
}

fn state(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("ferry.state.json")).unwrap()).unwrap()
}

fn statuses(state: &Value) -> Vec<String> {
    state["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_str().unwrap().to_string())
        .collect()
}

/// Topic names on the target broker itself (not through the emulator).
fn target_topics(bed: &Testbed) -> Vec<String> {
    inspect::topics(&bed.target.bootstrap)
        .unwrap()
        .into_keys()
        .filter(|t| !t.starts_with("__"))
        .collect()
}

#[test]
fn plan_shows_each_adjustment_ckafkas_rules_force_and_blocks_until_accepted() {
    let long = "n".repeat(130);
    let b = start(false, TOPICS);
    seed::create_topic(&b.bed.source.bootstrap, &long, 1, &[]).unwrap();
    std::fs::write(
        b.dir.path().join("long.hcl"),
        format!("topic \"{long}\" {{\n  partitions = 1\n}}\n"),
    )
    .unwrap();
    let plan = plan_json(b.dir.path());

    let short = topic(&plan, "short");
    assert_eq!(short["action"], "blocked");
    assert_eq!(
        adjustments(short),
        [(
            "config.retention.ms".to_string(),
            json!("1000"),
            json!("60000"),
            false
        )]
    );
    let zipped = topic(&plan, "zipped");
    assert_eq!(
        adjustments(zipped),
        [(
            "config.compression.type".to_string(),
            json!("gzip"),
            Value::Null,
            false
        )]
    );
    let wide = topic(&plan, "wide");
    assert_eq!(
        adjustments(wide),
        [(
            "config.segment.ms".to_string(),
            json!("3600000"),
            json!("86400000"),
            false
        )]
    );
    for t in [short, zipped, wide] {
        assert!(
            t["blocked"][0]
                .as_str()
                .unwrap()
                .contains("accept_adjustments = true"),
            "{t:#}"
        );
    }
    // A name CKafka refuses has no adjustment: it is blocked with the HCL that fixes it.
    let long_topic = topic(&plan, &long);
    assert_eq!(long_topic["action"], "blocked");
    assert!(
        long_topic["blocked"][0]
            .as_str()
            .unwrap()
            .contains("target_name")
    );
    assert!(
        plan["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains("gzip")),
        "{:#}",
        plan["warnings"]
    );

    let human = ferry(b.dir.path()).arg("plan").output().unwrap();
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains("adjusted config.segment.ms: \"3600000\" -> \"86400000\""),
        "{text}"
    );
    assert!(
        text.contains("adjusted config.compression.type: \"gzip\" -> (not set)"),
        "{text}"
    );
    assert!(text.contains("not accepted"), "{text}");
    // Planning changed nothing on the target.
    assert!(target_topics(&b.bed).is_empty());
}

#[test]
fn apply_through_the_emulator_creates_the_adjusted_topics_on_the_target_broker() {
    let b = start(true, TOPICS);
    ferry(b.dir.path())
        .args(["apply", "--auto-approve"])
        .assert()
        .success();
    assert_eq!(statuses(&state(b.dir.path())), ["done", "done", "done"]);
    assert_eq!(target_topics(&b.bed), ["short", "wide", "zipped"]);

    // What the broker holds, read over the Kafka protocol: adjusted values, dropped keys.
    let short = inspect::topic_config(&b.bed.target.bootstrap, "short").unwrap();
    assert_eq!(short["retention.ms"], "60000");
    let zipped = inspect::topic_overrides(&b.bed.target.bootstrap, "zipped").unwrap();
    assert!(!zipped.contains_key("compression.type"), "{zipped:?}");
    // Kafka's default 7 days carries (CKafka's own default would be 2 hours).
    assert_eq!(zipped["retention.ms"], "604800000");
    // The segment roll CKafka was asked for is what the API reports back: the next plan below
    // reads it and finds nothing to change.

    // Every topic went through CreateTopic on the API, none through the Kafka admin protocol
    // of ferry (the emulator is the only one creating them).
    let creates: Vec<_> = b
        .emulator
        .calls()
        .into_iter()
        .filter(|c| c.action == "CreateTopic")
        .collect();
    assert_eq!(creates.len(), 3);
    assert!(creates.iter().all(|c| c.error.is_none()));

    // The next plan finds the topics as declared; the accepted adjustments stay visible.
    let plan = plan_json(b.dir.path());
    for name in ["short", "wide", "zipped"] {
        assert_eq!(topic(&plan, name)["action"], "no_op", "{plan:#}");
    }
    assert!(adjustments(topic(&plan, "wide"))[0].3);
}

#[test]
fn an_attribute_changed_through_the_api_shows_up_as_drift_in_the_next_plan() {
    let b = start(true, TOPICS);
    ferry(b.dir.path())
        .args(["apply", "--auto-approve"])
        .assert()
        .success();

    // Someone changes retention in the console (here: the same API call the console makes).
    let mut settings = CkafkaSettings::new(TEST_INSTANCE_ID, "ap-guangzhou");
    settings.endpoint = Some(b.emulator.url().to_string());
    let credentials = Credentials {
        secret_id: Secret::new(TEST_SECRET_ID),
        secret_key: Secret::new(TEST_SECRET_KEY),
    };
    let api = ApiClient::new(&settings, credentials, Duration::from_secs(10)).unwrap();
    api.call(
        "ModifyTopicAttributes",
        &json!({"InstanceId": TEST_INSTANCE_ID, "TopicName": "zipped", "RetentionMs": 3600000}),
    )
    .unwrap();

    let plan = plan_json(b.dir.path());
    let zipped = topic(&plan, "zipped");
    assert_eq!(zipped["action"], "update", "{zipped:#}");
    assert_eq!(
        zipped["config"],
        json!([{"key": "retention.ms", "before": "3600000", "after": "604800000", "origin": "source"}])
    );
}

#[test]
fn a_rate_limit_is_retried_with_backoff_and_a_lasting_one_reported_with_its_request_id() {
    let b = start(true, TOPICS);
    b.emulator
        .inject("CreateTopic", "RequestLimitExceeded", "slow down", 2);
    ferry(b.dir.path())
        .args(["apply", "--auto-approve"])
        .assert()
        .success();
    let creates: Vec<Option<String>> = b
        .emulator
        .calls()
        .into_iter()
        .filter(|c| c.action == "CreateTopic")
        .map(|c| c.error)
        .collect();
    assert_eq!(
        creates,
        [
            Some("RequestLimitExceeded".to_string()),
            Some("RequestLimitExceeded".to_string()),
            None,
            None,
            None
        ]
    );

    let b = start(true, TOPICS);
    b.emulator
        .inject("CreateTopic", "RequestLimitExceeded", "slow down", 100);
    let out = ferry(b.dir.path())
        .args(["apply", "--auto-approve"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("RequestLimitExceeded: slow down"),
        "{stderr}"
    );
    assert!(stderr.contains("(RequestId emulator-"), "{stderr}");
    assert!(stderr.contains("ferry retried with backoff"), "{stderr}");
    assert!(target_topics(&b.bed).is_empty());
    let s = state(b.dir.path());
    assert_eq!(statuses(&s), ["failed", "pending", "pending"]);
    assert!(
        s["steps"][0]["error"]
            .as_str()
            .unwrap()
            .contains("RequestLimitExceeded")
    );
}

#[test]
fn an_invalid_parameter_names_the_topic_and_the_rerun_finishes_the_step() {
    let b = start(true, TOPICS);
    b.emulator.inject(
        "CreateTopic",
        "InvalidParameterValue",
        "ReplicaNum exceeds the instance's broker count",
        1,
    );
    let out = ferry(b.dir.path())
        .args(["apply", "--auto-approve"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("refused CreateTopic of topic short for instance ckafka-emulator"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "InvalidParameterValue: ReplicaNum exceeds the instance's broker count (RequestId emulator-"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("change the HCL and run `ferry plan` again"),
        "{stderr}"
    );
    // Nothing was created and the state says where the run stopped.
    assert!(target_topics(&b.bed).is_empty());
    assert_eq!(
        statuses(&state(b.dir.path())),
        ["failed", "pending", "pending"]
    );

    ferry(b.dir.path())
        .args(["apply", "--auto-approve"])
        .assert()
        .success();
    assert_eq!(statuses(&state(b.dir.path())), ["done", "done", "done"]);
    assert_eq!(target_topics(&b.bed), ["short", "wide", "zipped"]);
}

#[test]
fn an_auth_failure_or_missing_credentials_stop_plan_with_a_clear_message_and_no_state() {
    let b = start(true, TOPICS);
    let wrong_key = "not-the-right-secret-key";
    let out = ferry(b.dir.path())
        .env("TENCENTCLOUD_SECRET_KEY", wrong_key)
        .arg("plan")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("AuthFailure.SignatureFailure: the request signature does not match (RequestId emulator-"),
        "{stderr}"
    );
    assert!(stderr.contains("TENCENTCLOUD_SECRET_KEY"), "{stderr}");
    assert!(!stderr.contains(wrong_key));
    assert!(!b.dir.path().join("ferry.state.json").exists());

    let out = ferry(b.dir.path())
        .env_remove("TENCENTCLOUD_SECRET_ID")
        .env_remove("TENCENTCLOUD_SECRET_KEY")
        .arg("plan")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "needs CKafka API credentials: set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY"
        ),
        "{stderr}"
    );
    // The emulator saw only the wrongly signed request of the first run.
    let calls = b.emulator.calls();
    assert!(!calls.is_empty());
    assert!(
        calls
            .iter()
            .all(|c| c.error.as_deref() == Some("AuthFailure.SignatureFailure"))
    );
}

#[test]
fn secrets_never_appear_in_output_logs_saved_plans_or_state() {
    let b = start(true, TOPICS);
    let saved = b.dir.path().join("plan.json");
    let mut texts = Vec::new();
    for args in [
        vec!["-vv", "plan", "--out", saved.to_str().unwrap()],
        vec!["-vv", "apply", "--auto-approve"],
        vec!["state", "show"],
    ] {
        let out = ferry(b.dir.path()).args(&args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        texts.push(String::from_utf8_lossy(&out.stdout).to_string());
        texts.push(String::from_utf8_lossy(&out.stderr).to_string());
    }
    // -vv really logged the API calls, so the check below covers the logs.
    assert!(texts.iter().any(|t| t.contains("CKafka API call")));
    for file in ["plan.json", "ferry.state.json"] {
        texts.push(std::fs::read_to_string(b.dir.path().join(file)).unwrap());
    }
    for text in &texts {
        assert!(
            !text.contains(TEST_SECRET_KEY),
            "secret key leaked:\n{text}"
        );
        assert!(!text.contains(TEST_SECRET_ID), "secret id leaked:\n{text}");
    }
}

/// Sends one signed request straight to the emulator (no pacing, no retries), with a chosen
/// timestamp: what the emulator enforces, seen from the wire.
fn raw_call(url: &str, action: &str, body: &Value, timestamp: i64) -> Value {
    use ferry::ckafka::signer::{self, CONTENT_TYPE, SigningInput};
    let payload = serde_json::to_vec(body).unwrap();
    let host = url.trim_start_matches("http://").to_string();
    let input = SigningInput {
        host: &host,
        service: "ckafka",
        timestamp,
        payload: &payload,
    };
    static HTTP: std::sync::OnceLock<reqwest::blocking::Client> = std::sync::OnceLock::new();
    let response = HTTP
        .get_or_init(reqwest::blocking::Client::new)
        .post(format!("{url}/"))
        .header("Content-Type", CONTENT_TYPE)
        .header("Host", &host)
        .header("X-TC-Action", action)
        .header("X-TC-Version", "2019-08-19")
        .header("X-TC-Region", "ap-guangzhou")
        .header("X-TC-Timestamp", timestamp.to_string())
        .header(
            "Authorization",
            signer::authorization(TEST_SECRET_ID, TEST_SECRET_KEY, &input),
        )
        .body(payload)
        .send()
        .unwrap();
    response.json().unwrap()
}

fn error_code(response: &Value) -> Option<&str> {
    response["Response"]["Error"]["Code"].as_str()
}

#[test]
fn the_emulator_enforces_the_documented_limits_and_error_codes() {
    let bed = Testbed::start().unwrap();
    let emulator = Emulator::start(EmulatorConfig::new(&bed.target.bootstrap)).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let create = |replicas: i64, retention: i64| {
        json!({"InstanceId": TEST_INSTANCE_ID, "TopicName": "t", "PartitionNum": 1,
               "ReplicaNum": replicas, "RetentionMs": retention})
    };
    let url = emulator.url();
    assert_eq!(
        error_code(&raw_call(url, "CreateTopic", &create(5, 600000), now)),
        Some("InvalidParameterValue")
    );
    assert_eq!(
        error_code(&raw_call(url, "CreateTopic", &create(3, 1000), now)),
        Some("InvalidParameterValue")
    );
    assert_eq!(
        error_code(&raw_call(url, "CreateTopic", &create(3, 600000), now - 600)),
        Some("AuthFailure.SignatureExpire")
    );
    let other = json!({"InstanceId": "ckafka-other", "Offset": 0, "Limit": 10});
    assert_eq!(
        error_code(&raw_call(url, "DescribeTopicDetail", &other, now)),
        Some("ResourceNotFound.InstanceNotExist")
    );
    // Refused requests count against CreateTopic's 20 per second too: a burst of 25 invalid
    // ones (answered at once) meets the limit.
    let codes: Vec<Option<String>> = (0..25)
        .map(|_| {
            error_code(&raw_call(url, "CreateTopic", &create(9, 600000), now)).map(String::from)
        })
        .collect();
    assert!(
        codes
            .iter()
            .any(|c| c.as_deref() == Some("RequestLimitExceeded")),
        "{codes:?}"
    );
    let ok = raw_call(
        url,
        "DescribeTopicDetail",
        &json!({"InstanceId": TEST_INSTANCE_ID, "Offset": 0, "Limit": 10}),
        now,
    );
    assert_eq!(ok["Response"]["Result"]["TotalCount"], 0, "{ok:#}");
    // Nothing reached the broker.
    assert!(target_topics(&bed).is_empty());
}

/// Growing a topic goes through CreatePartition with the new total, and the broker behind the
/// API really has the partitions afterwards (the emulator adds them with CreatePartitions).
#[test]
fn partitions_declared_after_the_migration_are_added_through_create_partition() {
    let b = start(true, TOPICS);
    ferry(b.dir.path())
        .args(["apply", "--auto-approve"])
        .assert()
        .success();
    assert_eq!(inspect::topics(&b.bed.target.bootstrap).unwrap()["wide"], 1);

    let hcl = b.dir.path().join("main.hcl");
    let text = std::fs::read_to_string(&hcl).unwrap().replace(
        "  config = { \"segment.ms\" = \"3600000\" }\n",
        "  config = { \"segment.ms\" = \"3600000\" }\n  partitions = 4\n",
    );
    std::fs::write(&hcl, text).unwrap();
    let plan = plan_json(b.dir.path());
    let wide = topic(&plan, "wide");
    assert_eq!(wide["action"], "update", "{wide}");
    assert_eq!(wide["partitions"]["value"], 4, "{wide}");

    ferry(b.dir.path())
        .args(["apply", "--auto-approve"])
        .assert()
        .success();
    let grows: Vec<_> = b
        .emulator
        .calls()
        .into_iter()
        .filter(|c| c.action == "CreatePartition")
        .collect();
    assert_eq!(grows.len(), 1, "{grows:?}");
    assert!(grows[0].error.is_none(), "{grows:?}");
    assert_eq!(inspect::topics(&b.bed.target.bootstrap).unwrap()["wide"], 4);
}
