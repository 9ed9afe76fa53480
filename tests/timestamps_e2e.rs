//! Timestamps through a mirror apply on real Apache Kafka: a CreateTime topic keeps every
//! source timestamp; a topic with `message.timestamp.type=LogAppendTime` (carried to the target)
//! is re-stamped by the target broker, which the plan says beforehand and verification allows
//! for, comparing key, value, headers and order without timestamps.

mod support;

use support::mirror_config::write_mirror_config;

use std::fs;
use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;
use ferry::copy::SOURCE_OFFSET_HEADER;
use ferry_testbed::{Testbed, seed};
use serde_json::Value;
use support::records::{Rec, produce, read_from, record};

const KEPT: &str = "ts-kept";
const STAMPED: &str = "ts-stamped";
const RECORDS: usize = 40;

fn ferry(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("ferry").unwrap();
    cmd.arg("-C")
        .arg(dir)
        .env("NO_COLOR", "1")
        .timeout(Duration::from_secs(300));
    cmd
}

/// The records of `topic[0]`, ferry's own header left out.
fn read(bootstrap: &str, topic: &str) -> Vec<Rec> {
    let mut records = read_from(bootstrap, topic, 0, 0);
    for rec in &mut records {
        rec.headers.retain(|(key, _)| key != SOURCE_OFFSET_HEADER);
    }
    records
}

use support::records::now_millis;

#[test]
fn create_time_is_kept_and_log_append_time_is_restamped_noted_and_verified_without_timestamps() {
    let bed = Testbed::shared();
    let source = &bed.source.bootstrap;
    seed::create_topic(source, KEPT, 1, &[]).unwrap();
    seed::create_topic(
        source,
        STAMPED,
        1,
        &[("message.timestamp.type", "LogAppendTime")],
    )
    .unwrap();
    let records: Vec<Rec> = (0..RECORDS).map(|i| record(0, i, 0)).collect();
    produce(source, KEPT, 0, &records);
    produce(source, STAMPED, 0, &records);

    let dir = tempfile::tempdir().unwrap();
    write_mirror_config(dir.path(), bed, "timestamps", &[KEPT, STAMPED], &[]);

    // The plan says it before anything happens, for the LogAppendTime topic only.
    let plan = support::cli::plan_json(ferry(dir.path()));
    let notes = |name: &str| -> Vec<String> {
        let topic = plan["topics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap_or_else(|| panic!("{name} in the plan"));
        serde_json::from_value(topic["notes"].clone()).unwrap()
    };
    let about_timestamps = |name: &str| notes(name).iter().any(|n| n.contains("LogAppendTime"));
    assert!(about_timestamps(STAMPED), "{:?}", notes(STAMPED));
    assert!(!about_timestamps(KEPT), "{:?}", notes(KEPT));

    let copy_started = now_millis();
    let out = ferry(dir.path())
        .args(["apply", "--auto-approve"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "apply failed: {stderr}");
    assert!(
        stderr.contains("timestamps not compared: the target stamps LogAppendTime"),
        "{stderr}"
    );

    let target = &bed.target.bootstrap;
    // CreateTime: everything kept, timestamps included.
    let kept_source = read(source, KEPT);
    assert_eq!(kept_source.len(), RECORDS);
    assert_eq!(read(target, KEPT), kept_source);
    // LogAppendTime: the same keys, values, headers and order; the target's own timestamps.
    let stamped_source = read(source, STAMPED);
    let stamped_target = read(target, STAMPED);
    assert_eq!(stamped_target.len(), RECORDS);
    let without_time = |records: &[Rec]| -> Vec<Rec> {
        records
            .iter()
            .map(|r| Rec {
                timestamp: 0,
                ..r.clone()
            })
            .collect()
    };
    assert_eq!(without_time(&stamped_target), without_time(&stamped_source));
    assert!(
        stamped_target.iter().all(|r| r.timestamp >= copy_started),
        "the target stamps each copy when it appends it: {:?}",
        stamped_target
            .iter()
            .map(|r| r.timestamp)
            .collect::<Vec<_>>()
    );

    // The state says which ranges were verified without timestamps.
    let state: Value =
        serde_json::from_str(&fs::read_to_string(dir.path().join("ferry.state.json")).unwrap())
            .unwrap();
    let verified = state["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["outcome"]["partitions"].as_array())
        .find(|partitions| partitions.iter().all(|p| p.get("checksum").is_some()))
        .expect("a verify step with partitions");
    assert_eq!(verified.len(), 2, "{verified:?}");
    for v in verified {
        let restamped = v["timestamps_not_compared"].as_bool().unwrap_or(false);
        assert_eq!(restamped, v["topic"] == STAMPED, "{v}");
    }
}
