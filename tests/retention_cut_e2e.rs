//! A target that keeps records for less time than the source (issue 15), on real Apache Kafka:
//! the source topic keeps records forever and holds records stamped three days ago before
//! records of the last day; the topic block gives the target two days. The plan names what stays
//! behind and which group had not read it; with `start_from` declared it warns that the target
//! deletes what the copy would include. Apply copies exactly the records the target keeps,
//! compared with the source partition by partition, and every group's translated offset points
//! at a record the target holds (or at its end).

mod support;

use support::mirror_config::write_mirror_config;
use support::records::{
    Rec, copies_by_source_offset, now_millis, produce, read_from, record, source_offset,
};

use std::fs;
use std::path::Path;
use std::process::Output;
use std::time::Duration;

use assert_cmd::Command;
use ferry::domain::thousands;
use ferry_testbed::{BrokerOptions, Testbed, inspect, seed};

const TOPIC: &str = "cut.events";
const OLD: usize = 30;
const NEW: usize = 20;
const DAY_MS: i64 = 86_400_000;
/// Committed on the source: `behind` in the old records of partition 0, in the new ones of
/// partition 1; `ahead` in the new records and at the end.
const BEHIND: (&str, [i64; 2]) = ("cut-behind", [10, 40]);
const AHEAD: (&str, [i64; 2]) = ("cut-ahead", [35, 50]);

fn ferry(dir: &Path, args: &[&str]) -> Output {
    Command::cargo_bin("ferry")
        .unwrap()
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .timeout(Duration::from_secs(300))
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Record `i` of partition `p`: the first [`OLD`] stamped three days ago, the rest within the
/// last day.
fn source_record(p: i32, i: usize) -> Rec {
    let mut rec = record(p, i, 0);
    if i < OLD {
        rec.timestamp = now_millis() - 3 * DAY_MS + i as i64;
    }
    rec
}

/// Key, value and header bytes of a record, as ferry counts what stays behind.
fn payload_bytes(rec: &Rec) -> usize {
    let len = |b: &Option<Vec<u8>>| b.as_ref().map_or(0, Vec::len);
    len(&rec.key)
        + len(&rec.value)
        + rec
            .headers
            .iter()
            .map(|(k, v)| k.len() + len(v))
            .sum::<usize>()
}

/// The target's copies of `partition`, by source offset.
fn target_copies(bed: &Testbed, partition: i32) -> Vec<(i64, Rec)> {
    copies_by_source_offset(&bed.target.bootstrap, TOPIC, partition)
}

#[test]
fn a_target_keeping_less_gets_only_what_it_keeps_and_every_group_resumes_on_a_record_it_holds() {
    let bed = Testbed::shared();
    seed::create_topic(&bed.source.bootstrap, TOPIC, 2, &[("retention.ms", "-1")]).unwrap();
    let mut produced: Vec<Vec<Rec>> = Vec::new();
    for p in 0..2 {
        let records: Vec<Rec> = (0..OLD + NEW).map(|i| source_record(p, i)).collect();
        produce(&bed.source.bootstrap, TOPIC, p, &records);
        produced.push(records);
    }
    for (group, committed) in [BEHIND, AHEAD] {
        let offsets: Vec<(&str, i32, i64)> =
            (0..2).map(|p| (TOPIC, p, committed[p as usize])).collect();
        seed::commit_offsets(&bed.source.bootstrap, group, &offsets).unwrap();
    }

    // Read back by the plan, every one of them: the figure is exact.
    let old_bytes: usize = produced
        .iter()
        .flat_map(|records| records[..OLD].iter())
        .map(payload_bytes)
        .sum();
    let old = format!("60 records ({} bytes, ", thousands(old_bytes as u64));

    let dir = tempfile::tempdir().unwrap();
    write_mirror_config(
        dir.path(),
        bed,
        "retention-cut",
        &[TOPIC],
        &[BEHIND.0, AHEAD.0],
    );
    let main = dir.path().join("main.hcl");
    let declared = fs::read_to_string(&main).unwrap();
    assert!(declared.contains("start_from = \"earliest\""));
    fs::write(
        &main,
        format!(
            "{declared}\ntopic \"{TOPIC}\" {{\n  config = {{ \"retention.ms\" = \"{}\" }}\n}}\n",
            2 * DAY_MS
        ),
    )
    .unwrap();

    // start_from declared: everything is copied, and the plan says what the target deletes.
    let out = ferry(dir.path(), &["plan"]);
    let plan = text(&out);
    assert!(out.status.success(), "{plan}");
    assert!(
        plan.contains(&format!(
            "the target keeps {TOPIC} for 2 days (retention.ms = 172800000), the source forever: replication.start_from is declared, so the copy includes {old}"
        )),
        "{plan}"
    );
    assert!(plan.contains("(2 partitions, 100 records)"), "{plan}");

    // The default: the copy starts at the first record the target keeps.
    let text_now = fs::read_to_string(&main).unwrap();
    fs::write(&main, text_now.replace("  start_from = \"earliest\"\n", "")).unwrap();
    let out = ferry(dir.path(), &["plan"]);
    let plan = text(&out);
    assert!(out.status.success(), "{plan}");
    for expected in [
        format!("the target keeps {TOPIC} for 2 days (retention.ms = 172800000), the source forever: {old}"),
        "would be deleted on arrival, so the copy leaves them on the source and starts at the first record the target keeps ([0] 30, [1] 30)".to_string(),
        format!("# the target keeps 2 days, the source forever: the copy starts at the first record kept, [0] 30, [1] 30; {old}"),
        format!("group cut-behind committed {TOPIC}[0] at 10, in what stays behind: on the target it resumes at 30 (the copy of source offset 30), and the 20 records between are not delivered to it"),
        "(2 partitions, 40 records)".to_string(),
    ] {
        assert!(plan.contains(&expected), "missing {expected:?} in\n{plan}");
    }
    assert!(
        !plan.contains(&format!("cut-behind committed {TOPIC}[1]")),
        "{plan}"
    );
    assert!(!plan.contains("group cut-ahead committed"), "{plan}");

    let out = ferry(dir.path(), &["apply", "--auto-approve"]);
    let applied = text(&out);
    assert!(out.status.success(), "{applied}");

    for p in 0..2 {
        // Exactly the records from the first one kept, each at its source offset.
        let want: Vec<(i64, Rec)> = produced[p as usize]
            .iter()
            .enumerate()
            .skip(OLD)
            .map(|(i, rec)| (i as i64, rec.clone()))
            .collect();
        assert_eq!(target_copies(bed, p), want, "partition {p}");
    }
    for (group, committed) in [BEHIND, AHEAD] {
        let on_target =
            inspect::committed_offsets(&bed.target.bootstrap, group, &[(TOPIC, 0), (TOPIC, 1)])
                .unwrap();
        for p in 0..2usize {
            let offset = on_target[p].unwrap_or_else(|| panic!("{group} has no offset on [{p}]"));
            let (start, end) = inspect::watermarks(&bed.target.bootstrap, TOPIC, p as i32).unwrap();
            assert!(
                (start..=end).contains(&offset),
                "{group}[{p}]: {offset} outside {start}..={end}"
            );
            // It reads next the copy of the record it would read next on the source, or of the
            // first record kept where that one stayed behind.
            let next_on_source = committed[p].max(OLD as i64);
            let next = read_from(&bed.target.bootstrap, TOPIC, p as i32, offset)
                .first()
                .map(source_offset);
            let want = (next_on_source < (OLD + NEW) as i64).then_some(next_on_source);
            assert_eq!(next, want, "{group}[{p}] at target offset {offset}");
        }
    }
}

/// A target whose brokers keep records one day by default (`log.retention.ms`), a source that
/// keeps the default seven days and holds records three days old: the plan reads the target
/// brokers' setting and sets the source's retention on the topic it creates, instead of
/// assuming Kafka's documented default and letting the broker delete the older records on
/// arrival. Nothing is cut: every record is copied and the target topic keeps seven days.
#[test]
fn a_created_topic_gets_the_sources_retention_where_the_target_brokers_default_keeps_less() {
    const TOPIC: &str = "short.default";
    let target = BrokerOptions::default().with_property("log.retention.ms", &DAY_MS.to_string());
    let bed = Testbed::start_with(&BrokerOptions::default(), &target).unwrap();
    seed::create_topic(&bed.source.bootstrap, TOPIC, 2, &[]).unwrap();
    let mut produced: Vec<Vec<Rec>> = Vec::new();
    for p in 0..2 {
        let records: Vec<Rec> = (0..OLD + NEW).map(|i| source_record(p, i)).collect();
        produce(&bed.source.bootstrap, TOPIC, p, &records);
        produced.push(records);
    }
    let dir = tempfile::tempdir().unwrap();
    write_mirror_config(dir.path(), &bed, "short-default", &[TOPIC], &[]);
    let main = dir.path().join("main.hcl");
    let declared = fs::read_to_string(&main).unwrap();
    fs::write(&main, declared.replace("  start_from = \"earliest\"\n", "")).unwrap();

    let out = ferry(dir.path(), &["plan", "--format", "json"]);
    assert!(out.status.success(), "{}", text(&out));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let topic = &plan["topics"][0];
    assert_eq!(topic["action"], "create", "{topic:#}");
    let retention = topic["config"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["key"] == "retention.ms")
        .unwrap_or_else(|| panic!("retention.ms is not set on the created topic: {topic:#}"));
    assert_eq!(
        (&retention["before"], &retention["after"]),
        (
            &serde_json::json!(DAY_MS.to_string()),
            &serde_json::json!("604800000")
        ),
        "{topic:#}"
    );
    assert!(
        topic.get("retention_cut").is_none_or(|c| c.is_null()),
        "{topic:#}"
    );

    let out = ferry(dir.path(), &["apply", "--auto-approve"]);
    assert!(out.status.success(), "{}", text(&out));
    let config = inspect::topic_config(&bed.target.bootstrap, TOPIC).unwrap();
    assert_eq!(
        config.get("retention.ms").map(String::as_str),
        Some("604800000")
    );
    for p in 0..2 {
        let want: Vec<(i64, Rec)> = produced[p as usize]
            .iter()
            .enumerate()
            .map(|(i, rec)| (i as i64, rec.clone()))
            .collect();
        let copies = copies_by_source_offset(&bed.target.bootstrap, TOPIC, p);
        assert_eq!(copies, want, "partition {p}");
    }
}

/// A topic block giving the target fewer bytes per partition than the copy brings one of the
/// partitions: the plan reads that partition back and warns with its exact byte count, names
/// only that partition, and says the copy is not cut by size.
#[test]
fn a_target_keeping_fewer_bytes_than_a_partition_brings_is_warned_of_with_the_figure() {
    const TOPIC: &str = "size.events";
    let bed = Testbed::shared();
    seed::create_topic(&bed.source.bootstrap, TOPIC, 2, &[]).unwrap();
    seed::produce(&bed.source.bootstrap, TOPIC, 0, 200, 1000).unwrap();
    seed::produce(&bed.source.bootstrap, TOPIC, 1, 10, 1000).unwrap();
    // seed::produce's record n: key "k-n", a 1000-byte value.
    let bytes_0: usize = (0..200).map(|n| format!("k-{n}").len() + 1000).sum();

    let dir = tempfile::tempdir().unwrap();
    write_mirror_config(dir.path(), bed, "size-limit", &[TOPIC], &[]);
    let main = dir.path().join("main.hcl");
    let declared = fs::read_to_string(&main).unwrap();
    fs::write(
        &main,
        format!("{declared}\ntopic \"{TOPIC}\" {{\n  config = {{ \"retention.bytes\" = \"50000\" }}\n}}\n"),
    )
    .unwrap();

    let out = ferry(dir.path(), &["plan"]);
    let plan = text(&out);
    assert!(out.status.success(), "{plan}");
    let expected = format!(
        "the target keeps at most retention.bytes = 50000 (about 48.8 KiB) per partition of {TOPIC}, the source no limit: the copy brings more to [0] {} bytes, about 196.2 KiB, so the target deletes the oldest records of those partitions soon after they arrive",
        thousands(bytes_0 as u64)
    );
    assert!(plan.contains(&expected), "missing {expected:?} in\n{plan}");
    assert!(plan.contains("ferry does not cut a copy by size"), "{plan}");
    assert!(
        plan.contains("(2 partitions, 210 records)"),
        "the copy is not cut: {plan}"
    );
}
