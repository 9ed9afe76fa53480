//! `ferry apply` end to end for the mirror scheme, against real Apache Kafka brokers (the test
//! bed's shared source and target; the topic and group names are this file's own): records
//! copied partition by partition with keys, null values, headers and timestamps; a group's
//! committed offset in the middle of the data translated so that the group reads the same record
//! next on the target; every step recorded in the state file.

mod support;

use support::mirror_config::write_mirror_config;

use support::records::{Rec, produce, read_from, record};

use std::fs;
use std::time::Duration;

use assert_cmd::Command;
use ferry::copy::SOURCE_OFFSET_HEADER;
use ferry_testbed::{Testbed, inspect, seed};
use serde_json::Value;

const TOPIC: &str = "events";
const PARTITIONS: i32 = 3;
const GROUP: &str = "billing";
/// Records per partition.
const RECORDS: usize = 120;

#[test]
fn a_mirror_apply_copies_every_partition_translates_the_group_and_verifies() {
    let bed = Testbed::shared();
    let source = bed.source.bootstrap.clone();
    let target = bed.target.bootstrap.clone();
    seed::create_topic(&source, TOPIC, PARTITIONS, &[]).unwrap();
    for p in 0..PARTITIONS {
        let records: Vec<Rec> = (0..RECORDS).map(|i| record(p, i, 0)).collect();
        produce(&source, TOPIC, p, &records);
    }
    // The group is in the middle of every partition, at a different place in each.
    let committed: Vec<i64> = (0..PARTITIONS).map(|p| 17 + 31 * i64::from(p)).collect();
    let commits: Vec<(&str, i32, i64)> = (0..PARTITIONS)
        .map(|p| (TOPIC, p, committed[p as usize]))
        .collect();
    seed::commit_offsets(&source, GROUP, &commits).unwrap();

    let dir = tempfile::tempdir().unwrap();
    write_mirror_config(dir.path(), bed, "events-mirror", &[TOPIC], &[GROUP]);
    let output = Command::cargo_bin("ferry")
        .unwrap()
        .arg("-C")
        .arg(dir.path())
        .args(["apply", "--auto-approve"])
        .timeout(Duration::from_secs(300))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "ferry apply failed:\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    assert!(stdout.contains("Apply complete"), "{stdout}");
    assert!(
        stderr.contains(&format!("{GROUP} {TOPIC}[1]: source {}", committed[1])),
        "translations are shown: {stderr}"
    );

    // The target holds the same records, and the group reads next on the target the record it
    // would have read next on the source.
    support::records::assert_mirrored_and_group_resumes(
        &source, &target, TOPIC, RECORDS, GROUP, &committed,
    );
    let partitions: Vec<(&str, i32)> = (0..PARTITIONS).map(|p| (TOPIC, p)).collect();
    let on_target = inspect::committed_offsets(&target, GROUP, &partitions).unwrap();

    // The state records every step done, the copy's maps and the translations.
    let state: Value =
        serde_json::from_str(&fs::read_to_string(dir.path().join("ferry.state.json")).unwrap())
            .unwrap();
    let steps = state["steps"].as_array().unwrap();
    let kinds: Vec<&str> = steps.iter().map(|s| s["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "apply_topics",
            "copy_data",
            "wait_replication_caught_up",
            "run_hook",
            "wait_groups_stopped",
            "translate_offsets",
            "run_hook",
            "run_hook",
            "wait_source_quiet",
            "drain_replication",
            "verify",
            "run_hook"
        ]
    );
    for step in steps {
        assert_eq!(step["status"], "done", "{step}");
    }
    let copy = &steps[1]["outcome"];
    assert_eq!(copy["kind"], "copied");
    assert_eq!(copy["records"], (RECORDS as i64) * i64::from(PARTITIONS));
    assert_eq!(
        copy["partitions"].as_array().unwrap().len(),
        PARTITIONS as usize
    );
    let translated = steps[5]["outcome"]["offsets"].as_array().unwrap();
    assert_eq!(translated.len(), PARTITIONS as usize);
    for t in translated {
        let p = t["partition"].as_i64().unwrap() as usize;
        assert_eq!(t["source_offset"], committed[p]);
        assert_eq!(t["target_offset"], on_target[p].unwrap());
        assert_eq!(t["method"], "exact");
    }
    let verified = steps[10]["outcome"]["partitions"].as_array().unwrap();
    assert_eq!(verified.len(), PARTITIONS as usize);
    for v in verified {
        assert_eq!(v["records"], RECORDS as u64);
    }

    // A second apply has nothing to do.
    Command::cargo_bin("ferry")
        .unwrap()
        .arg("-C")
        .arg(dir.path())
        .args(["apply", "--auto-approve"])
        .timeout(Duration::from_secs(120))
        .assert()
        .success();
}

/// The largest record the source topic takes (a single-record batch exactly at its
/// `max.message.bytes`) is copied by `ferry apply`: the plan gives the target topic the source's
/// limit plus room for ferry's header, and says so. With the source's limit carried as it is,
/// the target refuses the copy, whose header makes it larger than the record the source took.
#[test]
fn a_record_at_the_source_topics_size_limit_is_copied_because_the_plan_makes_room_for_the_header() {
    use rdkafka::producer::{BaseProducer, BaseRecord, Producer};

    let bed = Testbed::shared();
    const LARGE: &str = "largest.records";
    const LIMIT: usize = 1_500_000;
    let source = bed.source.bootstrap.clone();
    seed::create_topic(&source, LARGE, 1, &[("max.message.bytes", "1500000")]).unwrap();
    let producer: BaseProducer = support::records::client(&source)
        .set("message.max.bytes", "10000000")
        .set("linger.ms", "0")
        .create()
        .unwrap();
    let value = support::records::incompressible;
    // The batch overhead is a few dozen bytes: find the largest value the broker takes.
    let mut len = LIMIT;
    let taken = loop {
        producer
            .send(
                BaseRecord::to(LARGE)
                    .partition(0)
                    .key("k")
                    .payload(&value(len)),
            )
            .map_err(|(e, _)| e)
            .unwrap();
        producer.flush(Duration::from_secs(30)).unwrap();
        let (_, end) = inspect::watermarks(&source, LARGE, 0).unwrap();
        if end == 1 {
            break len;
        }
        assert!(len > LIMIT - 200, "no record near the limit was taken");
        len -= 1;
    };
    eprintln!("the largest value {LARGE} takes: {taken} bytes");

    let dir = tempfile::tempdir().unwrap();
    write_mirror_config(dir.path(), bed, "largest-records", &[LARGE], &[]);
    let output = Command::cargo_bin("ferry")
        .unwrap()
        .arg("-C")
        .arg(dir.path())
        .args(["apply", "--auto-approve"])
        .env("NO_COLOR", "1")
        .timeout(Duration::from_secs(300))
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "ferry apply failed:\n{text}");
    assert!(
        text.contains(
            "max.message.bytes is 1500064 on the target: the source's 1500000 plus 64 bytes"
        ),
        "the plan says why the target's limit differs: {text}"
    );
    assert_eq!(
        inspect::topic_config(&bed.target.bootstrap, LARGE).unwrap()["max.message.bytes"],
        "1500064"
    );
    let on_source = read_from(&source, LARGE, 0, 0);
    let mut on_target = read_from(&bed.target.bootstrap, LARGE, 0, 0);
    for rec in &mut on_target {
        rec.headers.retain(|(key, _)| key != SOURCE_OFFSET_HEADER);
    }
    assert_eq!(on_target, on_source);
}
