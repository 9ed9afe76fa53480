//! `ferry apply` of the mirror scheme interrupted the hard way, against real Apache Kafka brokers
//! (a pair of its own per test): the apply killed with SIGKILL in the middle of the copy, of the
//! catch-up and of the drain, and a broker (source, then target) stopped and restarted on its
//! data in the middle of a copy. After each, `ferry apply` runs to completion and the target must
//! hold every source record exactly once, in order, with key, value, headers and timestamp, plus
//! ferry's source-offset header; the group committed in the middle of the data must resume on the
//! target at the next record it had not consumed.
//!
//! Every wait is on a condition with a deadline: the target's watermarks passing a threshold,
//! a step's status in the state file, a hook's marker file, the apply's own output.

mod support;

use support::apply_process::{ApplyProcess, Ended};
use support::records::{Rec, client, expected_copy, produce, read_from, read_isolated, record};

use std::fs;
use std::path::Path;
use std::time::Duration;

use ferry::copy::{SOURCE_OFFSET_HEADER, encode_source_offset};
use ferry_testbed::{Testbed, inspect, seed};
use rdkafka::consumer::{BaseConsumer, Consumer};
use serde_json::Value;

const TOPIC: &str = "events";
const PARTITIONS: i32 = 3;
const GROUP: &str = "billing";

/// Records per produce request of the copy (see [`write_config`]).
const BATCH: usize = 1000;

/// How long one apply may take to finish, and a condition to come true, on a loaded machine.
const RUN_TIMEOUT: Duration = Duration::from_secs(300);
const CONDITION_TIMEOUT: Duration = Duration::from_secs(180);

/// Step indexes of a mirror plan with one topic and one group (see tests/apply_mirror.rs).
const STEP_COPY: usize = 1;
const STEP_CATCH_UP: usize = 2;
const STEP_STOP_PRODUCERS: usize = 7;
const STEP_VERIFY: usize = 10;
const STEP_KINDS: [&str; 12] = [
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
    "run_hook",
];

// ---------------------------------------------------------------------------------------------
// The migration under test

/// A migration of `TOPIC` and `GROUP` in the config directory `dir`, whose hook
/// stop_source_producers runs `switch_producers` (a JSON list); the other hooks succeed at once.
fn write_config(dir: &Path, bed: &Testbed, switch_producers: &str) {
    let text = format!(
        r#"migration "crash-mirror" {{
  scheme        = "mirror"
  settle_period = "1s"
  wait_timeout  = "3m"
}}

cluster "source" {{
  bootstrap_servers = ["{source}"]
}}

cluster "target" {{
  bootstrap_servers = ["{target}"]
  # Smaller produce batches: fewer records in flight at any moment, so that a kill while the
  # target takes records leaves part of them uncopied (with the default, the few seconds of a
  # whole test copy would be in flight at once).
  properties = {{ "batch.num.messages" = "{BATCH}" }}
}}

topics {{
  include = ["^{TOPIC}$"]
}}

consumer_groups {{
  include = ["^{GROUP}$"]
}}

replication {{
  start_from = "earliest"
}}

hook "stop_source_consumers" {{
  command = ["true"]
  timeout = "1m"
}}
hook "start_target_consumers" {{
  command = ["true"]
  timeout = "1m"
}}

hook "stop_source_producers" {{
  command = {switch_producers}
  timeout = "3m"
}}
hook "start_target_producers" {{
  command = ["true"]
  timeout = "3m"
}}

state {{
  path = "ferry.state.json"
}}
"#,
        source = bed.source.bootstrap,
        target = bed.target.bootstrap,
    );
    fs::write(dir.join("main.hcl"), text).unwrap();
}

/// Creates `TOPIC` on the source with `per_partition` records in each partition.
fn seed_source(bed: &Testbed, per_partition: usize) {
    seed::create_topic(&bed.source.bootstrap, TOPIC, PARTITIONS, &[]).unwrap();
    produce_batch(&bed.source.bootstrap, 0, per_partition);
}

/// Appends records `from..from + count` (see [`record`]) to every partition of `TOPIC`.
fn produce_batch(bootstrap: &str, from: usize, count: usize) {
    for p in 0..PARTITIONS {
        let records: Vec<Rec> = (from..from + count).map(|i| record(p, i, 0)).collect();
        produce(bootstrap, TOPIC, p, &records);
    }
}

/// Commits `GROUP` on the source in the middle of the data, at a different offset per partition;
/// returns the committed offsets by partition.
fn commit_group_mid_data(bed: &Testbed, per_partition: usize) -> Vec<i64> {
    let committed: Vec<i64> = (0..PARTITIONS)
        .map(|p| per_partition as i64 / 2 + 777 * i64::from(p))
        .collect();
    let commits: Vec<(&str, i32, i64)> = (0..PARTITIONS)
        .map(|p| (TOPIC, p, committed[p as usize]))
        .collect();
    seed::commit_offsets(&bed.source.bootstrap, GROUP, &commits).unwrap();
    committed
}

// ---------------------------------------------------------------------------------------------
// Watching a running apply

/// The end offsets of `TOPIC` on one cluster, read over one connection: how far a copy got.
struct Watermarks {
    consumer: BaseConsumer,
}

impl Watermarks {
    /// The log end: every record appended, committed or not.
    fn new(bootstrap: &str) -> Watermarks {
        Watermarks {
            consumer: client(bootstrap)
                .set("isolation.level", "read_uncommitted")
                .create()
                .unwrap(),
        }
    }

    /// The committed end (`read_committed`: the last stable offset, which a fenced copy's open
    /// transaction holds back until it commits).
    fn committed(bootstrap: &str) -> Watermarks {
        Watermarks {
            consumer: client(bootstrap).create().unwrap(),
        }
    }

    /// Records in all partitions of `TOPIC`; `None` while the topic does not exist or the broker
    /// does not answer.
    fn total(&self) -> Option<i64> {
        (0..PARTITIONS)
            .map(|p| {
                self.consumer
                    .fetch_watermarks(TOPIC, p, Duration::from_secs(10))
                    .ok()
                    .map(|(_, high)| high)
            })
            .sum()
    }

    fn at_least(&self, threshold: i64) -> bool {
        self.total().is_some_and(|total| total >= threshold)
    }
}

fn state(dir: &Path) -> Option<Value> {
    let text = fs::read_to_string(dir.join("ferry.state.json")).ok()?;
    serde_json::from_str(&text).ok()
}

/// The status of step `index` in the state file, once the apply recorded it.
fn step_status(dir: &Path, index: usize) -> Option<String> {
    state(dir)?["steps"][index]["status"]
        .as_str()
        .map(str::to_string)
}

/// Kills `run` with SIGKILL and checks the kill landed where the test meant: step `step` was
/// running and the target held part of the `total` records only (records a consumer reads
/// there: not the killed run's uncommitted ones).
fn kill_in_step(run: ApplyProcess, dir: &Path, target: &str, step: usize, total: i64) -> Ended {
    let ended = run.kill9();
    let status = step_status(dir, step);
    assert_eq!(
        status.as_deref(),
        Some("running"),
        "the kill landed in step {} ({}):\n{}",
        step + 1,
        STEP_KINDS[step],
        ended.output()
    );
    let copied: i64 = (0..PARTITIONS)
        .map(|p| read_isolated(target, TOPIC, p, "read_committed").len() as i64)
        .sum();
    assert!(
        copied < total,
        "the kill landed before the copy ended: the target holds {copied} of {total} records"
    );
    eprintln!(
        "killed in step {} with {copied} of {total} records on the target",
        step + 1
    );
    ended
}

/// Kills `run` with SIGKILL and asserts it was in `step`, whatever the copy had reached (the
/// background copy runs through the cutover steps).
fn kill_in_running_step(run: ApplyProcess, dir: &Path, step: usize) -> Ended {
    let ended = run.kill9();
    assert_eq!(
        step_status(dir, step).as_deref(),
        Some("running"),
        "the kill landed in step {} ({}):\n{}",
        step + 1,
        STEP_KINDS[step],
        ended.output()
    );
    ended
}

/// Waits for `run` to finish and asserts it succeeded.
fn finish(run: ApplyProcess) -> Ended {
    let ended = run.wait(RUN_TIMEOUT);
    assert!(
        ended.status.success(),
        "ferry apply failed:\n{}",
        ended.output()
    );
    assert!(
        ended.stdout.contains("Apply complete"),
        "{}",
        ended.output()
    );
    ended
}

/// The next apply after a kill takes over the lock the killed one left (its OS lock died with it;
/// only its info remains) and says so, as docs/troubleshooting.md documents.
fn assert_stale_lock_cleared(ended: &Ended, killed_pid: u32) {
    assert!(
        ended
            .stderr
            .contains(&format!("cleared a stale state lock from pid {killed_pid}")),
        "the stale lock of pid {killed_pid} is reported:\n{}",
        ended.output()
    );
}

// ---------------------------------------------------------------------------------------------
// What a finished migration must look like

/// Key, value, headers and timestamp equal: the same record at whatever offset.
fn same_record(a: &Rec, b: &Rec) -> bool {
    (&a.key, &a.value, &a.headers, a.timestamp) == (&b.key, &b.value, &b.headers, b.timestamp)
}

/// Every record of `TOPIC[partition]`, with every header.
fn read_all(bootstrap: &str, partition: i32) -> Vec<Rec> {
    read_from(bootstrap, TOPIC, partition, 0)
}

/// The target equals the source record by record in every partition (each holding
/// `per_partition` records), `GROUP` resumes on the target at the record after the last one it
/// consumed on the source, and the state file records every step done and verified.
fn assert_migrated_exactly(bed: &Testbed, dir: &Path, per_partition: usize, committed: &[i64]) {
    let partitions: Vec<(&str, i32)> = (0..PARTITIONS).map(|p| (TOPIC, p)).collect();
    let on_target = inspect::committed_offsets(&bed.target.bootstrap, GROUP, &partitions).unwrap();
    for p in 0..PARTITIONS {
        let source = read_all(&bed.source.bootstrap, p);
        assert_eq!(source.len(), per_partition, "source partition {p}");
        let target = read_all(&bed.target.bootstrap, p);
        // Target offsets are the copy's own: a fenced copy's commit markers and a killed run's
        // aborted records take offsets no consumer reads. Records are compared in order.
        let expected = expected_copy(&source);
        if let Some(first) = target
            .iter()
            .zip(&expected)
            .position(|(t, e)| !same_record(t, e))
        {
            panic!(
                "{TOPIC}[{p}] differs first at record {first}:\n  target {:?}\n  wanted {:?}",
                target[first], expected[first]
            );
        }
        assert_eq!(target.len(), expected.len(), "record count of {TOPIC}[{p}]");

        // The group's next record on the source is source[committed]; on the target it must be
        // the copy of that same record.
        let source_next = committed[p as usize];
        let copy_of_next = target
            .iter()
            .find(|t| {
                t.headers.last()
                    == Some(&(
                        SOURCE_OFFSET_HEADER.to_string(),
                        Some(encode_source_offset(source_next).to_vec()),
                    ))
            })
            .expect("the group's next record was copied")
            .offset;
        assert_eq!(
            on_target[p as usize],
            Some(copy_of_next),
            "{GROUP} on {TOPIC}[{p}]: source offset {source_next} is target offset {copy_of_next}"
        );
    }

    let state = state(dir).expect("a state file");
    let steps = state["steps"].as_array().unwrap();
    let kinds: Vec<&str> = steps.iter().map(|s| s["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, STEP_KINDS);
    for step in steps {
        assert_eq!(step["status"], "done", "{step}");
    }
    let verified = steps[STEP_VERIFY]["outcome"]["partitions"]
        .as_array()
        .unwrap();
    assert_eq!(verified.len(), PARTITIONS as usize);
    for v in verified {
        assert_eq!(v["records"], per_partition as u64, "{v}");
    }
}

// ---------------------------------------------------------------------------------------------
// kill -9 of the apply

/// Records per partition. Each kill is triggered by a condition (the first records on the
/// target, the step's status), not by the copy being slow; against Kafka a 60,000-record copy
/// takes under a second here, and the kills land a few thousand records into it.
const RECORDS: usize = 20_000;
/// Records per partition the source receives while the apply waits for the copy to catch up, and
/// before producers switch (the tail the drain copies).
const LATE_RECORDS: usize = 10_000;

/// Waits until `run` started step `step` (its "Step N/8:" line).
fn wait_for_step(run: &mut ApplyProcess, step: usize) {
    let line = format!("Step {}/{}: ", step + 1, STEP_KINDS.len());
    run.wait_for_stderr(0, &line, CONDITION_TIMEOUT);
}

#[test]
fn an_apply_killed_twice_during_the_copy_resumes_and_copies_every_record_once() {
    let bed = Testbed::start().unwrap();
    seed_source(&bed, RECORDS);
    let committed = commit_group_mid_data(&bed, RECORDS);
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &bed, r#"["true"]"#);
    let target = Watermarks::new(&bed.target.bootstrap);
    let total = RECORDS as i64 * i64::from(PARTITIONS);

    // Killed as soon as the first copied records are on the target...
    let mut first = ApplyProcess::spawn(dir.path(), "first");
    let first_pid = first.pid();
    first.wait_while_running("records on the target", CONDITION_TIMEOUT, || {
        target.at_least(1)
    });
    kill_in_step(first, dir.path(), &bed.target.bootstrap, STEP_COPY, total);

    // ...and again once the run that resumed the copy added records of its own.
    let mut second = ApplyProcess::spawn(dir.path(), "second");
    let second_pid = second.pid();
    wait_for_step(&mut second, STEP_COPY);
    let resumed_at = target.total().expect("the target answers");
    second.wait_while_running("more records on the target", CONDITION_TIMEOUT, || {
        target.at_least(resumed_at + 1)
    });
    let second = kill_in_step(second, dir.path(), &bed.target.bootstrap, STEP_COPY, total);
    assert_stale_lock_cleared(&second, first_pid);

    let last = finish(ApplyProcess::spawn(dir.path(), "last"));
    assert_stale_lock_cleared(&last, second_pid);
    assert_migrated_exactly(&bed, dir.path(), RECORDS, &committed);
}

#[test]
fn an_apply_killed_during_the_catch_up_and_during_the_producer_cutover_resumes_and_copies_every_record_once()
 {
    let bed = Testbed::start().unwrap();
    let source = bed.source.bootstrap.clone();
    seed_source(&bed, RECORDS);
    let committed = commit_group_mid_data(&bed, RECORDS);
    let dir = tempfile::tempdir().unwrap();
    // The producers' switch waits until the test, playing the producers, wrote their last
    // records to the source (bounded, so that a failed test leaves no shell behind for long).
    let gate = tempfile::tempdir().unwrap();
    let (switching, switched) = (gate.path().join("switching"), gate.path().join("switched"));
    let hook = format!(
        r#"["sh", "-c", "touch {}; for i in $(seq 2400); do [ -e {} ] && exit 0; sleep 0.05; done; exit 1"]"#,
        switching.display(),
        switched.display()
    );
    write_config(dir.path(), &bed, &hook);
    let target = Watermarks::new(&bed.target.bootstrap);
    let (early, late) = (
        RECORDS as i64 * i64::from(PARTITIONS),
        LATE_RECORDS as i64 * i64::from(PARTITIONS),
    );

    // The source receives records once the catch-up step runs (it waits for the copy to hold
    // what the source held `max_lag_time` ago, so it lasts beyond them); the apply is killed
    // once the catch-up's background copy added records to the target.
    let mut first = ApplyProcess::spawn(dir.path(), "first");
    let first_pid = first.pid();
    first.wait_while_running("the catch-up step running", CONDITION_TIMEOUT, || {
        step_status(dir.path(), STEP_CATCH_UP).as_deref() == Some("running")
    });
    // Produced only now, so that what the target gains next is the catch-up's copying.
    let catch_up_from = target.total().expect("the target answers");
    let producers = {
        let source = source.clone();
        std::thread::spawn(move || produce_batch(&source, RECORDS, LATE_RECORDS))
    };
    first.wait_while_running("records copied by the catch-up", CONDITION_TIMEOUT, || {
        target.at_least(catch_up_from + 1)
    });
    kill_in_step(
        first,
        dir.path(),
        &bed.target.bootstrap,
        STEP_CATCH_UP,
        early + late,
    );
    producers.join().unwrap();

    // The resumed apply catches up and moves the consumers; producers write their last records
    // to the source while the hook that stops them runs, and the background copy takes them;
    // the apply is killed there, in the middle of the producer cutover.
    let mut second = ApplyProcess::spawn(dir.path(), "second");
    let second_pid = second.pid();
    second.wait_while_running("the producers' stop", CONDITION_TIMEOUT, || {
        switching.exists()
    });
    produce_batch(&source, RECORDS + LATE_RECORDS, LATE_RECORDS);
    second.wait_while_running(
        "the tail copied in the background",
        CONDITION_TIMEOUT,
        || target.at_least(early + late + 1),
    );
    let second = kill_in_running_step(second, dir.path(), STEP_STOP_PRODUCERS);
    fs::write(&switched, "").unwrap();
    assert_stale_lock_cleared(&second, first_pid);

    let last = finish(ApplyProcess::spawn(dir.path(), "last"));
    assert_stale_lock_cleared(&last, second_pid);
    assert_migrated_exactly(&bed, dir.path(), RECORDS + 2 * LATE_RECORDS, &committed);
}

/// Applies killed with SIGKILL one after another in the middle of the copy step, each after the
/// target grew by a few more produce requests than the last (so the kills land with requests in
/// flight, before and after commits): the target copy is fenced in transactions on Kafka, so no
/// request of a killed run lands after the next run read the target's tail, and the finished
/// migration holds every record once.
#[test]
fn an_apply_killed_again_and_again_mid_copy_leaves_no_duplicate_on_the_target() {
    const KILLS: usize = 10;
    const RECORDS: usize = 2 * RESTART_RECORDS;
    let bed = Testbed::start().unwrap();
    seed_source(&bed, RECORDS);
    let committed = commit_group_mid_data(&bed, RECORDS);
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &bed, r#"["true"]"#);
    // The committed end (what a fenced copy committed) and the log end (what it sent, committed
    // or not).
    let target = Watermarks::committed(&bed.target.bootstrap);
    let sent = Watermarks::new(&bed.target.bootstrap);

    let mut killed_pid = None;
    for kill in 0..KILLS {
        let mut run = ApplyProcess::spawn(dir.path(), &format!("run{kill}"));
        let pid = run.pid();
        wait_for_step(&mut run, STEP_COPY);
        // Most runs are killed as their first records land, before their first commit, with
        // produce requests in flight; every fourth once it committed records (a commit covers
        // up to 500 ms of copying: the data holds enough for three).
        let (watch, what) = if kill % 4 == 0 {
            (&target, "records committed on the target")
        } else {
            (&sent, "records sent to the target")
        };
        // Past the log end the last run left and the markers this run's fence writes (an abort
        // marker per partition the killed run left a transaction open in): at least one record
        // of this run's, sent or committed.
        let from = sent.total().expect("the target answers");
        let past_markers = from + i64::from(PARTITIONS) + 1;
        run.wait_while_running(what, CONDITION_TIMEOUT, || watch.at_least(past_markers));
        let ended = kill_in_running_step(run, dir.path(), STEP_COPY);
        eprintln!(
            "kill {kill} after {what}: committed end {:?}, log end {:?}",
            target.total(),
            sent.total()
        );
        if let Some(previous) = killed_pid {
            assert_stale_lock_cleared(&ended, previous);
        }
        killed_pid = Some(pid);
    }
    let last = finish(ApplyProcess::spawn(dir.path(), "last"));
    assert!(
        last.stderr
            .contains("in transactions that fence an interrupted run"),
        "the copy step says it is fenced:\n{}",
        last.output()
    );
    assert_migrated_exactly(&bed, dir.path(), RECORDS, &committed);
}

// ---------------------------------------------------------------------------------------------
// A broker stopped and restarted under a running copy

/// Records per partition of the broker restart tests: real Kafka serves fetches for a moment
/// after SIGTERM (a controlled shutdown) and ferry copies 60,000 records in well under a second
/// here, so the copy must last several seconds for the stop to land in its middle.
const RESTART_RECORDS: usize = 150_000;

/// Which broker goes down.
#[derive(Clone, Copy, Debug)]
enum Side {
    Source,
    Target,
}

/// Starts an apply, stops the `side` broker once copied records reach the target, waits until
/// the apply shows it lost that broker (while it keeps running), restarts the broker on the
/// same port and data, and expects the apply to finish with an exact copy.
fn apply_survives_a_broker_restart(side: Side) {
    let mut bed = Testbed::start().unwrap();
    seed_source(&bed, RESTART_RECORDS);
    let committed = commit_group_mid_data(&bed, RESTART_RECORDS);
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &bed, r#"["true"]"#);
    let target = Watermarks::new(&bed.target.bootstrap);
    let total = RESTART_RECORDS as i64 * i64::from(PARTITIONS);

    let mut run = ApplyProcess::spawn(dir.path(), "run");
    run.wait_while_running("records on the target", CONDITION_TIMEOUT, || {
        target.at_least(1)
    });
    let broker = match side {
        Side::Source => &mut bed.source,
        Side::Target => &mut bed.target,
    };
    let address = broker.bootstrap.clone();
    let said_before = run.stderr().len();
    broker.stop();
    // The stop landed in the middle of the copy step.
    assert_eq!(
        step_status(dir.path(), STEP_COPY).as_deref(),
        Some("running"),
        "the copy step runs while the {side:?} broker is down; the apply said:\n{}",
        run.stderr()
    );
    if matches!(side, Side::Source) {
        let copied = target.total().expect("the target answers");
        assert!(
            copied < total,
            "the copy was still running: {copied} of {total}"
        );
        eprintln!("source broker stopped with {copied} of {total} records on the target");
    }

    // The apply notices (librdkafka's log lines about the lost connections name the broker) and
    // goes on running; then the broker comes back on its port with its data.
    run.wait_for_stderr(said_before, &address, CONDITION_TIMEOUT);
    broker.restart().unwrap();

    let ended = finish(run);
    // How the apply rode out the outage, for the test log (--nocapture).
    eprintln!(
        "{side:?} broker restarted; the apply said:\n{}",
        ended.stderr
    );
    assert_migrated_exactly(&bed, dir.path(), RESTART_RECORDS, &committed);
}

#[test]
fn an_apply_waits_for_a_restarted_source_broker_and_copies_every_record_once() {
    apply_survives_a_broker_restart(Side::Source);
}

#[test]
fn an_apply_waits_for_a_restarted_target_broker_and_copies_every_record_once() {
    apply_survives_a_broker_restart(Side::Target);
}
