//! `ferry replicate` end to end against real Apache Kafka brokers, run as the built binary: one
//! process copies everything exactly; two processes in one group share the partitions while
//! the source keeps receiving records; a process killed with SIGKILL in the middle of copying has
//! its partitions taken over by the other member of its group, and the target still equals the
//! source record for record, with no duplicate and no gap.
//!
//! No test stops or reconfigures a broker, so all share the test bed's pair
//! ([`Testbed::shared`]); each has a migration of its own ([`Migration`]): its own source and
//! target topics, and so its own replication group (`ferry-replicate-<migration name>`).
//!
//! Every wait is on an observable condition (a line a process printed, the target's
//! watermarks) with a deadline; no sleep stands in for synchronization.

mod support;

use support::records::{
    Rec, expected_copy, produce, produce_interleaved, read_from, record, watermarks,
};

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use ferry_testbed::{Testbed, seed};

const PARTITIONS: i32 = 4;
/// Long enough for any condition here on a loaded 2-core machine, short enough to fail fast.
const DEADLINE: Duration = Duration::from_secs(90);
/// The processes' group session: how long a killed process holds its partitions.
const SESSION: &str = "6s";

/// One test's migration on the shared test bed: `NAME.events` copied to `NAME.events.copy`
/// (both with [`PARTITIONS`] partitions, the target one empty), configured in a directory of its
/// own.
struct Migration {
    bed: &'static Testbed,
    name: &'static str,
    topic: String,
    target_topic: String,
    dir: tempfile::TempDir,
}

impl Migration {
    /// The migration `name` with both topics created.
    fn new(name: &'static str) -> Migration {
        let migration = Migration::without_target_topic(name);
        seed::create_topic(
            &migration.bed.target.bootstrap,
            &migration.target_topic,
            PARTITIONS,
            &[],
        )
        .unwrap();
        migration
    }

    /// The migration `name` with only its source topic.
    fn without_target_topic(name: &'static str) -> Migration {
        let migration = Migration {
            bed: Testbed::shared(),
            name,
            topic: format!("{name}.events"),
            target_topic: format!("{name}.events.copy"),
            dir: tempfile::tempdir().unwrap(),
        };
        seed::create_topic(
            &migration.bed.source.bootstrap,
            &migration.topic,
            PARTITIONS,
            &[],
        )
        .unwrap();
        migration.write_config();
        migration
    }

    fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn write_config(&self) {
        let (name, topic, target_topic) = (self.name, &self.topic, &self.target_topic);
        let text = format!(
            r#"migration "{name}" {{
  scheme = "mirror"
}}

cluster "source" {{
  bootstrap_servers = ["{source}"]
}}

cluster "target" {{
  bootstrap_servers = ["{target}"]
}}

topics {{
  include = ["^{topic}$"]
}}

topic "{topic}" {{
  target_name = "{target_topic}"
}}

replication {{
  start_from = "earliest"
}}

hook "stop_source_consumers" {{
  command = ["true"]
}}
hook "start_target_consumers" {{
  command = ["true"]
}}

hook "stop_source_producers" {{
  command = ["true"]
}}
hook "start_target_producers" {{
  command = ["true"]
}}
"#,
            source = self.bed.source.bootstrap,
            target = self.bed.target.bootstrap,
        );
        std::fs::write(self.dir().join("main.hcl"), text).unwrap();
    }

    /// Records `from..to` of every partition, produced to the source.
    fn produce_range(&self, from: usize, to: usize) {
        produce_range(&self.bed.source.bootstrap, &self.topic, from, to);
    }

    /// The high watermark of every source partition.
    fn source_ends(&self) -> Vec<i64> {
        ends(&self.bed.source.bootstrap, &self.topic)
    }

    /// The high watermark of every target partition.
    fn target_ends(&self) -> Vec<i64> {
        ends(&self.bed.target.bootstrap, &self.target_topic)
    }

    fn wait_target_equals_source(&self) {
        let source = self.source_ends();
        wait_until(&format!("the target holds {source:?} records"), || {
            self.target_ends() == source
        });
    }

    /// The target equals the source partition by partition, record by record (key, value,
    /// headers, timestamp), each copy with ferry's source-offset header, at consecutive offsets:
    /// no record missing, none duplicated. Returns the records on the source.
    fn assert_exact_copy(&self) -> usize {
        let mut total = 0;
        for partition in 0..PARTITIONS {
            let source = read_from(&self.bed.source.bootstrap, &self.topic, partition, 0);
            let target = read_from(&self.bed.target.bootstrap, &self.target_topic, partition, 0);
            let expected = expected_copy(&source);
            let name = &self.target_topic;
            assert_eq!(
                target.len(),
                expected.len(),
                "record count of {name}[{partition}]"
            );
            for (got, want) in target.iter().zip(&expected) {
                assert_eq!(got, want, "{name}[{partition}]");
            }
            total += source.len();
        }
        total
    }
}

/// Records `from..to` of every partition of `topic`, produced to `bootstrap`.
fn produce_range(bootstrap: &str, topic: &str, from: usize, to: usize) {
    for partition in 0..PARTITIONS {
        let records: Vec<Rec> = (from..to).map(|i| record(partition, i, 0)).collect();
        produce(bootstrap, topic, partition, &records);
    }
}

/// Keeps producing to every partition until stopped: first records `from..from + first` at
/// once, every partition growing at the same time, then rounds of `batch`; returns how many
/// records each partition got.
struct Feeder {
    stop: Arc<AtomicBool>,
    handle: thread::JoinHandle<usize>,
}

impl Feeder {
    fn start(migration: &Migration, from: usize, first: usize, batch: usize) -> Feeder {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let source = migration.bed.source.bootstrap.clone();
        let topic = migration.topic.clone();
        let handle = thread::spawn(move || {
            let records: Vec<(i32, Vec<Rec>)> = (0..PARTITIONS)
                .map(|p| (p, (from..from + first).map(|i| record(p, i, 0)).collect()))
                .collect();
            let partitions: Vec<(i32, &[Rec])> =
                records.iter().map(|(p, r)| (*p, r.as_slice())).collect();
            produce_interleaved(&source, &topic, &partitions);
            let mut next = from + first;
            while !flag.load(Ordering::Relaxed) {
                produce_range(&source, &topic, next, next + batch);
                next += batch;
            }
            next
        });
        Feeder { stop, handle }
    }

    fn stop(self) -> usize {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.join().unwrap()
    }
}

/// A running `ferry replicate` and the lines it wrote to stderr.
struct Replica {
    name: &'static str,
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Replica {
    fn start(name: &'static str, dir: &Path) -> Replica {
        Replica::start_in(name, dir, &[])
    }

    fn start_in(name: &'static str, dir: &Path, extra: &[&str]) -> Replica {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ferry"))
            .args(["--no-color", "-C"])
            .arg(dir)
            .args([
                "replicate",
                "--session-timeout",
                SESSION,
                "--progress-every",
                "1s",
            ])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = lines.clone();
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let line = line.unwrap_or_default();
                eprintln!("[{name}] {line}");
                sink.lock().unwrap().push(line);
            }
        });
        Replica { name, child, lines }
    }

    fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// The partitions of the last assignment this process reported, if any.
    fn held(&self) -> Option<BTreeSet<i32>> {
        self.held_since(0)
    }

    /// The partitions of the last assignment this process reported in its lines from number
    /// `from` on, if any.
    fn held_since(&self, from: usize) -> Option<BTreeSet<i32>> {
        let lines = self.lines();
        let last = lines.get(from..)?.iter().rev().find(|line| {
            line.contains("ferry replicate: holding ")
                || line.contains("gave this process no partition")
                || line.contains("handed ")
        })?;
        if !last.contains("holding ") {
            return Some(BTreeSet::new());
        }
        let list = last.split_once(": ").unwrap().1.split_once(": ").unwrap().1;
        Some(
            list.split(", ")
                .map(|entry| {
                    let inside = entry.split_once('[').unwrap().1.split_once(']').unwrap().0;
                    inside.parse().unwrap()
                })
                .collect(),
        )
    }

    /// Sends SIGTERM and waits for a clean exit; returns the records this process copied.
    fn stop(mut self) -> u64 {
        // SAFETY: kill(2) on the pid of a child this test started and has not reaped.
        let sent = unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        assert_eq!(sent, 0, "SIGTERM to {}", self.name);
        let status = wait_exit(&mut self.child, self.name);
        assert!(status.success(), "{} exited with {status}", self.name);
        self.copied()
            .unwrap_or_else(|| panic!("{} printed no summary", self.name))
    }

    /// The record count of the final summary line.
    fn copied(&self) -> Option<u64> {
        // The reader thread may still be draining the pipe after the exit.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let found = self.lines().iter().find_map(|line| {
                let rest = line.split_once("this process copied ")?.1;
                rest.split(' ').next()?.replace(',', "").parse().ok()
            });
            if found.is_some() || Instant::now() >= deadline {
                return found;
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    fn kill_9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_exit(child: &mut Child, name: &str) -> std::process::ExitStatus {
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "{name} did not exit");
        thread::sleep(Duration::from_millis(50));
    }
}

/// Polls `condition` until it holds, failing with `what` at the deadline.
fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        thread::sleep(Duration::from_millis(100));
    }
}

/// The high watermark of every partition of `topic`.
fn ends(bootstrap: &str, topic: &str) -> Vec<i64> {
    (0..PARTITIONS)
        .map(|p| watermarks(bootstrap, topic, p).1)
        .collect()
}

/// Waits until the two processes hold disjoint assignments covering every partition.
fn wait_shared(a: &Replica, b: &Replica) -> (BTreeSet<i32>, BTreeSet<i32>) {
    let mut held = (BTreeSet::new(), BTreeSet::new());
    wait_until("both processes share the partitions", || {
        let (Some(x), Some(y)) = (a.held(), b.held()) else {
            return false;
        };
        let all: BTreeSet<i32> = x.union(&y).copied().collect();
        let stable =
            !x.is_empty() && !y.is_empty() && x.is_disjoint(&y) && all.len() == PARTITIONS as usize;
        held = (x, y);
        stable
    });
    held
}

/// One process with --until-caught-up copies every partition exactly and exits 0, reporting
/// how many records it copied.
#[test]
fn one_process_copies_everything_exactly() {
    let migration = Migration::new("one");
    migration.produce_range(0, 150);
    let replicate = || {
        Command::new(env!("CARGO_BIN_EXE_ferry"))
            .args(["--no-color", "-C"])
            .arg(migration.dir())
            .args(["replicate", "--until-caught-up"])
            .output()
            .unwrap()
    };
    let output = replicate();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("holding 4 partitions"),
        "one process holds every partition: {stderr}"
    );
    assert!(
        stderr.contains("stopped (caught up); this process copied 600 records"),
        "{stderr}"
    );
    assert_eq!(migration.assert_exact_copy(), 600);

    // A second run resumes from the target's tail and copies only the records added since.
    migration.produce_range(150, 160);
    let again = replicate();
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(again.status.success(), "{stderr}");
    assert!(
        stderr.contains("this process copied 40 records"),
        "{stderr}"
    );
    assert_eq!(migration.assert_exact_copy(), 640);
}

/// Two processes in one group each get part of the partitions and copy records while the
/// source keeps receiving them; after a clean stop the union on the target is exact, and the
/// two processes' counts add up to the records on the source (nothing was copied twice).
#[test]
fn two_processes_share_the_partitions_exactly() {
    let migration = Migration::new("share");
    migration.produce_range(0, 50);
    let a = Replica::start("a", migration.dir());
    let b = Replica::start("b", migration.dir());
    let (held_a, held_b) = wait_shared(&a, &b);
    eprintln!("a holds {held_a:?}, b holds {held_b:?}");

    // Records produced from now on land in both processes' partitions.
    let feeder = Feeder::start(&migration, 50, 25, 25);
    let marks = {
        // Wait for the feeder to have added records everywhere, then for those to be copied.
        let start = migration.source_ends();
        let mut now = start.clone();
        wait_until("the feeder produced to every partition", || {
            now = migration.source_ends();
            now.iter().zip(&start).all(|(n, s)| *n >= s + 50)
        });
        now
    };
    wait_until("both processes copied the new records", || {
        migration
            .target_ends()
            .iter()
            .zip(&marks)
            .all(|(t, m)| t >= m)
    });
    let produced = feeder.stop();
    migration.wait_target_equals_source();

    let copied_a = a.stop();
    let copied_b = b.stop();
    assert!(copied_a > 0, "process a copied nothing");
    assert!(copied_b > 0, "process b copied nothing");
    let total = migration.assert_exact_copy();
    assert_eq!(total, produced * PARTITIONS as usize);
    assert_eq!(
        copied_a + copied_b,
        total as u64,
        "each record was delivered by exactly one process"
    );
}

/// Records per partition the source receives at once while the two processes run: a backlog
/// that takes the killed process a while to copy, so the kill lands in its middle.
const BACKLOG: usize = 50_000;

/// A process killed with SIGKILL in the middle of copying a backlog, while records keep
/// arriving: once its session expires, the group hands its partitions to the other member,
/// which continues every partition from the target's tail; the target then equals the source
/// with no duplicate and no gap.
#[test]
fn a_killed_process_is_taken_over_by_its_group_without_loss_or_duplicate() {
    let migration = Migration::new("takeover");
    let (source, target) = (
        &migration.bed.source.bootstrap,
        &migration.bed.target.bootstrap,
    );
    let a = Replica::start("a", migration.dir());
    let b = Replica::start("b", migration.dir());
    let (held_a, _) = wait_shared(&a, &b);

    // A backlog, then a steady stream: the killed process has records in flight.
    let feeder = Feeder::start(&migration, 0, BACKLOG, 25);
    // Kill it at a moment each of its partitions is part of the way through its backlog and seen
    // lagging: records are being read, handed to the producer and delivered.
    wait_until("process a is copying part of its backlog", || {
        held_a.iter().all(|&p| {
            let produced = watermarks(source, &migration.topic, p).1;
            let copied = watermarks(target, &migration.target_topic, p).1;
            copied >= 300 && copied < BACKLOG as i64 && produced > copied
        })
    });
    let said = b.lines().len();
    a.kill_9();
    let on_target_at_kill = migration.target_ends();
    eprintln!("killed a with {on_target_at_kill:?} on the target");

    // Its session expires; the group gives every partition to b, which resumes each one after
    // what is on the target.
    wait_until("process b took over every partition", || {
        b.held_since(said)
            .is_some_and(|held| held.len() == PARTITIONS as usize)
    });
    let on_target_after = migration.target_ends();
    let lines = b.lines();
    let taken_over = lines[said..]
        .iter()
        .rev()
        .find(|line| line.contains("holding 4 partitions"))
        .expect("b reported holding every partition");
    let resume_offsets: Vec<i64> = (0..PARTITIONS)
        .map(|p| {
            let marker = format!("{}[{p}] from offset ", migration.topic);
            let at = taken_over.find(&marker).expect("partition named") + marker.len();
            taken_over[at..]
                .split(|c: char| !c.is_ascii_digit())
                .next()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    // Target offsets equal source offsets here (no gap in the source), so each partition
    // resumes at the target's end when b took it: after what a and b had put there at the kill,
    // before what b copied since.
    for (p, &offset) in (0..PARTITIONS).zip(&resume_offsets) {
        let (at_kill, after) = (on_target_at_kill[p as usize], on_target_after[p as usize]);
        assert!(
            (at_kill..=after).contains(&offset),
            "partition {p} resumes at {offset}, not within {at_kill}..={after}: {taken_over}"
        );
    }
    for &p in &held_a {
        assert!(
            resume_offsets[p as usize] >= 300,
            "a's partition {p} resumed after what a copied: {taken_over}"
        );
    }
    feeder.stop();
    migration.wait_target_equals_source();
    let copied_b = b.stop();
    assert!(copied_b > 0, "process b copied nothing");
    migration.assert_exact_copy();
}

/// Without the target topic, replicate refuses with a message that says to run apply first,
/// and copies nothing.
#[test]
fn a_missing_target_topic_is_refused() {
    let migration = Migration::without_target_topic("missing");
    let output = Command::new(env!("CARGO_BIN_EXE_ferry"))
        .args(["--no-color", "-C"])
        .arg(migration.dir())
        .args(["replicate", "--until-caught-up"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("missing.events.copy (does not exist)"),
        "{stderr}"
    );
    assert!(stderr.contains("`ferry apply`"), "{stderr}");
}
