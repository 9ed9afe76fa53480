//! Retention and compaction moving under a mirror migration, on real Apache Kafka (the test bed's shared pair;
//! topic and group names are this file's own): DeleteRecords, which moves a partition's log
//! start exactly as retention does, is run between two `ferry apply` runs of the same migration.
//! The first run stops at the first hook (the hook fails while a "hold" file exists), after the
//! copy; the test moves a log start; the second run goes on to the end, verify included.
//!
//! Each test reads the target back and compares it with what was produced on the source,
//! partition by partition.

mod support;

use support::mirror_config::write_mirror_config;
use support::records::{Rec, copies_by_source_offset, produce, read_from, record};
#[path = "support/state_json.rs"]
#[allow(dead_code)]
mod state_json;
use state_json::{read_state, steps};

use std::fs;
use std::path::Path;
use std::process::Output;
use std::time::Duration;

use assert_cmd::Command;
use ferry::copy::{SOURCE_OFFSET_HEADER, decode_source_offset};
use ferry_testbed::{Testbed, inspect, seed};
use serde_json::Value;

/// A migration directory whose `stop_source_consumers` hook fails while `hold` exists in it.
struct Migration {
    dir: tempfile::TempDir,
}

impl Migration {
    fn new(bed: &Testbed, name: &str, topic: &str, groups: &[&str]) -> Migration {
        let dir = tempfile::tempdir().unwrap();
        write_mirror_config(dir.path(), bed, name, &[topic], groups);
        let hold = dir.path().join("hold");
        fs::write(&hold, "").unwrap();
        let main = dir.path().join("main.hcl");
        let text = fs::read_to_string(&main).unwrap();
        let held = text.replacen(
            "hook \"stop_source_consumers\" {\n  command = [\"true\"]",
            &format!(
                "hook \"stop_source_consumers\" {{\n  command = [\"sh\", \"-c\", \"test ! -e '{}'\"]",
                hold.display()
            ),
            1,
        );
        assert_ne!(held, text, "the hook was replaced");
        fs::write(&main, held).unwrap();
        Migration { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn release(&self) {
        fs::remove_file(self.path().join("hold")).unwrap();
    }

    /// Appends `text` to main.hcl.
    fn append(&self, text: &str) {
        let main = self.path().join("main.hcl");
        let mut all = fs::read_to_string(&main).unwrap();
        all.push_str(text);
        fs::write(&main, all).unwrap();
    }

    /// Adds `line` to the replication block.
    fn replication(&self, line: &str) {
        let main = self.path().join("main.hcl");
        let text = fs::read_to_string(&main).unwrap();
        let changed = text.replacen("replication {\n", &format!("replication {{\n  {line}\n"), 1);
        assert_ne!(changed, text);
        fs::write(&main, changed).unwrap();
    }

    fn apply(&self) -> Output {
        Command::cargo_bin("ferry")
            .unwrap()
            .arg("-C")
            .arg(self.path())
            .args(["apply", "--auto-approve"])
            .env("NO_COLOR", "1")
            .timeout(Duration::from_secs(300))
            .output()
            .unwrap()
    }

    fn state(&self) -> Value {
        read_state(&self.path().join("ferry.state.json")).expect("a state file")
    }

    /// The first apply: copies, then stops at the held hook.
    fn apply_until_the_hook(&self) {
        let out = self.apply();
        let text = all(&out);
        assert_eq!(
            out.status.code(),
            Some(1),
            "the held hook stops apply: {text}"
        );
        let state = self.state();
        let copy = steps(&state)
            .iter()
            .find(|s| s["kind"] == "copy_data")
            .unwrap();
        assert_eq!(copy["status"], "done", "{text}");
    }

    /// An apply that must go to the end; its stdout and stderr.
    fn apply_to_the_end(&self) -> String {
        let out = self.apply();
        let text = all(&out);
        assert!(out.status.success(), "ferry apply failed:\n{text}");
        assert!(text.contains("Apply complete"), "{text}");
        text
    }

    /// The verify step's record of `partition`.
    fn verified(&self, partition: i32) -> Value {
        let state = self.state();
        let verify = steps(&state)
            .iter()
            .find(|s| s["kind"] == "verify")
            .expect("a verify step")
            .clone();
        assert_eq!(verify["status"], "done");
        verify["outcome"]["partitions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["partition"] == partition)
            .expect("the partition was verified")
            .clone()
    }
}

fn all(out: &Output) -> String {
    format!(
        "--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `records` produced to `topic[partition]`, as they are on the source, offsets included.
fn produce_numbered(bootstrap: &str, topic: &str, partition: i32, range: std::ops::Range<usize>) {
    let records: Vec<Rec> = range.map(|i| record(partition, i, 0)).collect();
    produce(bootstrap, topic, partition, &records);
}

/// The target's copies of `topic[partition]`, by source offset.
fn target_copies(bed: &Testbed, topic: &str, partition: i32) -> Vec<(i64, Rec)> {
    copies_by_source_offset(&bed.target.bootstrap, topic, partition)
}

/// What the source held at offsets `range` when each was produced: record `i` at offset `i`.
fn produced(partition: i32, range: std::ops::Range<usize>) -> Vec<(i64, Rec)> {
    range.map(|i| (i as i64, record(partition, i, 0))).collect()
}

/// Retention moved the source's log start past the copy's first offset after the copy: the
/// verification compares what both sides still hold (from the new log start) instead of failing
/// on records the source no longer has, and says which range it compared and which it left out.
#[test]
fn verification_after_source_retention_moved_the_log_start_compares_what_both_sides_hold() {
    let bed = Testbed::shared();
    const TOPIC: &str = "retention.logstart";
    seed::create_topic(&bed.source.bootstrap, TOPIC, 2, &[]).unwrap();
    for p in 0..2 {
        produce_numbered(&bed.source.bootstrap, TOPIC, p, 0..200);
    }
    let migration = Migration::new(bed, "retention-logstart", TOPIC, &[]);
    migration.apply_until_the_hook();

    for p in 0..2 {
        assert_eq!(
            seed::delete_records(&bed.source.bootstrap, TOPIC, p, 80).unwrap(),
            80
        );
    }
    migration.release();
    let output = migration.apply_to_the_end();

    for p in 0..2 {
        // The target keeps every copy, the ones the source lost included.
        assert_eq!(
            target_copies(bed, TOPIC, p),
            produced(p, 0..200),
            "partition {p}"
        );
        let verified = migration.verified(p);
        assert_eq!(verified["records"], 120, "{verified}");
        assert_eq!(verified["not_compared"], serde_json::json!([[0, 80]]));
        assert!(
            output.contains(&format!("{TOPIC}[{p}] -> {TOPIC}[{p}]: 120 records"))
                && output.contains("over source offsets 80..200 (offsets 0..80 not compared"),
            "the report names the range compared: {output}"
        );
    }
}

/// Retention emptied a target partition (its end is past 0, it holds nothing) between two runs:
/// the copy continues from where the state recorded it, not from the job's start, which would
/// copy the whole history a second time.
#[test]
fn a_target_partition_emptied_by_retention_resumes_from_the_state_map_without_copying_again() {
    let bed = Testbed::shared();
    const TOPIC: &str = "retention.emptied";
    seed::create_topic(&bed.source.bootstrap, TOPIC, 1, &[]).unwrap();
    produce_numbered(&bed.source.bootstrap, TOPIC, 0, 0..100);
    let migration = Migration::new(bed, "retention-emptied", TOPIC, &[]);
    migration.apply_until_the_hook();
    assert_eq!(target_copies(bed, TOPIC, 0), produced(0, 0..100));
    // The end is past the last copy where a commit marker follows it.
    let (_, end) = inspect::watermarks(&bed.target.bootstrap, TOPIC, 0).unwrap();
    assert_eq!(
        seed::delete_records(&bed.target.bootstrap, TOPIC, 0, end).unwrap(),
        end
    );
    produce_numbered(&bed.source.bootstrap, TOPIC, 0, 100..150);
    migration.release();
    migration.apply_to_the_end();

    // Only the 50 new records were copied, after the emptied range.
    assert_eq!(target_copies(bed, TOPIC, 0), produced(0, 100..150));
    assert_eq!(
        inspect::watermarks(&bed.target.bootstrap, TOPIC, 0)
            .unwrap()
            .0,
        end
    );
    let verified = migration.verified(0);
    assert_eq!(verified["records"], 50, "{verified}");
    assert_eq!(verified["not_compared"], serde_json::json!([[0, 100]]));
}

/// DeleteRecords on the source behind the copy's position: the copy stops naming the lost range
/// and the HCL that accepts it, with the target as it was; once the range is accepted in
/// `replication.accept_gaps`, the copy skips exactly it, a group committed inside the gap
/// resumes at the next copied record, and the verification compares what the source still
/// holds.
#[test]
fn a_retention_gap_stops_the_copy_naming_it_and_an_accepted_gap_is_skipped() {
    let bed = Testbed::shared();
    const TOPIC: &str = "retention.gap";
    const GROUP: &str = "retention-gap-readers";
    let source = &bed.source.bootstrap;
    seed::create_topic(source, TOPIC, 1, &[]).unwrap();
    produce_numbered(source, TOPIC, 0, 0..100);
    seed::commit_offsets(source, GROUP, &[(TOPIC, 0, 50)]).unwrap();
    let migration = Migration::new(bed, "retention-gap", TOPIC, &[GROUP]);
    migration.apply_until_the_hook();

    // New records arrive, and retention deletes some of them before they are copied.
    produce_numbered(source, TOPIC, 0, 100..200);
    assert_eq!(seed::delete_records(source, TOPIC, 0, 150).unwrap(), 150);
    // The group read on into the records that are now gone.
    seed::commit_offsets(source, GROUP, &[(TOPIC, 0, 120)]).unwrap();
    migration.release();

    let out = migration.apply();
    let text = all(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!(
            "source partition {TOPIC}[0] no longer holds offsets 100..=149"
        )) && text.contains(&format!(
            "accept_gaps = [{{ topic = \"{TOPIC}\", partition = 0, from = 100, to = 149 }}]"
        )),
        "the error names the gap and the HCL that accepts it: {text}"
    );
    assert!(!text.to_lowercase().contains("delete the"), "{text}");
    assert_eq!(
        target_copies(bed, TOPIC, 0),
        produced(0, 0..100),
        "nothing was copied past the gap"
    );

    migration.replication(&format!(
        "accept_gaps = [{{ topic = \"{TOPIC}\", partition = 0, from = 100, to = 149 }}]"
    ));
    let output = migration.apply_to_the_end();
    assert!(
        output.contains(&format!(
            "replication.accept_gaps: source offsets 100..=149 of {TOPIC}[0] are not copied"
        )),
        "the plan shows the accepted gap: {output}"
    );
    assert!(
        output.contains(&format!(
            "{TOPIC}[0]: source offsets 100..=149 were deleted by retention before they were copied; skipped"
        )),
        "{output}"
    );

    let mut expected = produced(0, 0..100);
    expected.extend(produced(0, 150..200));
    assert_eq!(target_copies(bed, TOPIC, 0), expected);
    // Source offset 120 is gone: the group resumes at the copy of 150.
    let copy_of_150 = read_from(&bed.target.bootstrap, TOPIC, 0, 0)
        .into_iter()
        .find(|rec| {
            rec.headers.iter().any(|(k, v)| {
                k == SOURCE_OFFSET_HEADER
                    && v.as_deref().and_then(decode_source_offset) == Some(150)
            })
        })
        .expect("source offset 150 was copied")
        .offset;
    let committed =
        inspect::committed_offsets(&bed.target.bootstrap, GROUP, &[(TOPIC, 0)]).unwrap();
    assert_eq!(committed, vec![Some(copy_of_150)]);
    let state = migration.state();
    let copy = steps(&state)
        .iter()
        .rev()
        .find_map(|s| {
            s["outcome"]["partitions"]
                .as_array()
                .filter(|_| s["kind"] == "drain_replication")
        })
        .expect("the drain recorded the copy")
        .clone();
    assert_eq!(copy[0]["skipped_gaps"], serde_json::json!([[100, 149]]));
    let verified = migration.verified(0);
    assert_eq!(verified["records"], 50, "{verified}");
    assert_eq!(verified["not_compared"], serde_json::json!([[0, 150]]));
}

use support::records::now_millis;

/// Record `i` of the compacted topic: one of eight keys, a value naming `i`, stamped now (Kafka
/// rolls segments by record timestamps).
fn keyed(i: usize) -> Rec {
    let mut rec = record(0, i, 0);
    rec.key = Some(format!("key-{}", i % 8).into_bytes());
    rec.value = Some(format!("v-{i}").into_bytes());
    rec.timestamp = now_millis();
    rec
}

/// Key -> value of the latest record of each key in `records`: what a consumer of a compacted
/// topic is promised.
fn latest_by_key(records: &[Rec]) -> std::collections::BTreeMap<Vec<u8>, Option<Vec<u8>>> {
    records
        .iter()
        .filter_map(|r| r.key.clone().map(|k| (k, r.value.clone())))
        .collect()
}

/// The source's log cleaner removes records ferry already copied, between the copy and the
/// verification (the target's cleaner works on its own schedule): verification compares record
/// by record on source offsets, accepts what compaction removed, reports how much that was, and
/// the latest record of every key is the same on both sides.
#[test]
fn compaction_between_copy_and_verify_is_no_mismatch_and_the_latest_of_every_key_is_equal() {
    let bed = Testbed::shared();
    const TOPIC: &str = "compaction.live";
    let source = &bed.source.bootstrap;
    seed::create_topic(source, TOPIC, 1, support::records::FAST_COMPACTION).unwrap();
    let first: Vec<Rec> = (0..80).map(keyed).collect();
    produce(source, TOPIC, 0, &first);
    let migration = Migration::new(bed, "compaction-live", TOPIC, &[]);
    // The target's cleaner would work on its own schedule; keep its segment open so that what
    // the source's cleaner removes is on the target only, as a slower cleaner leaves it.
    migration.append(&format!(
        "topic \"{TOPIC}\" {{\n  config = {{ \"segment.ms\" = \"604800000\" }}\n}}\n"
    ));
    migration.apply_until_the_hook();
    let copied: std::collections::BTreeSet<i64> = target_copies(bed, TOPIC, 0)
        .into_iter()
        .map(|(offset, _)| offset)
        .collect();
    assert!(!copied.is_empty());

    // Overwrite every key, then keep rolling segments until the cleaner removed records the
    // copy holds.
    let again: Vec<Rec> = (80..120).map(keyed).collect();
    produce(source, TOPIC, 0, &again);
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    let mut appended = 120;
    loop {
        let now: std::collections::BTreeSet<i64> = read_from(source, TOPIC, 0, 0)
            .iter()
            .map(|r| r.offset)
            .collect();
        if copied.iter().any(|o| !now.contains(o)) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the source's cleaner removed no copied record within 90s"
        );
        let mut roll = keyed(appended);
        roll.key = Some(format!("roll-{appended}").into_bytes());
        produce(source, TOPIC, 0, &[roll]);
        appended += 1;
        std::thread::sleep(Duration::from_millis(200));
    }

    migration.release();
    let output = migration.apply_to_the_end();
    let verified = migration.verified(0);
    assert!(
        verified["compaction"]["only_on_target"].as_u64().unwrap() > 0,
        "the records the source's cleaner removed are accounted for: {verified}"
    );
    assert!(
        output.contains("only on the target, each superseded by a later record of its key"),
        "{output}"
    );
    let on_source = read_from(source, TOPIC, 0, 0);
    let on_target: Vec<Rec> = target_copies(bed, TOPIC, 0)
        .into_iter()
        .map(|(_, r)| r)
        .collect();
    assert_eq!(latest_by_key(&on_target), latest_by_key(&on_source));
    assert_eq!(latest_by_key(&on_source).len(), 8 + (appended - 120));
}
