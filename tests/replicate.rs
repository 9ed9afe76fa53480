//! `ferry replicate` end to end against real tansu 0.6.0 brokers, run as the built binary: one
//! process copies everything exactly; two processes in one group share the partitions while
//! the source keeps receiving records; a process killed with SIGKILL in the middle of copying is
//! taken over by the other and restarted, and the target still equals the source record for
//! record, with no duplicate and no gap.
//!
//! Every wait is on an observable condition (a line a process printed, the target's
//! watermarks) with a deadline; no sleep stands in for synchronization.

mod support;

use support::records::{Rec, produce, read_from, record, watermarks};

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use ferry::apply::copy::{SOURCE_OFFSET_HEADER, encode_source_offset};
use ferry_testbed::{Testbed, seed};

const TOPIC: &str = "events";
const TARGET_TOPIC: &str = "events.copy";
const PARTITIONS: i32 = 4;
/// Long enough for any condition here on a loaded 2-core machine, short enough to fail fast.
const DEADLINE: Duration = Duration::from_secs(90);
/// The processes' group session: how long a killed process holds its partitions.
const SESSION: &str = "6s";

fn write_config(dir: &Path, bed: &Testbed) {
    let text = format!(
        r#"migration "events-mirror" {{
  scheme = "mirror"
}}

cluster "source" {{
  bootstrap_servers = ["{source}"]
}}

cluster "target" {{
  bootstrap_servers = ["{target}"]
}}

topics {{
  include = ["^{TOPIC}$"]
}}

topic "{TOPIC}" {{
  target_name = "{TARGET_TOPIC}"
}}

replication {{
  start_from = "earliest"
}}

hook "switch_consumers" {{
  command = ["true"]
}}

hook "switch_producers" {{
  command = ["true"]
}}
"#,
        source = bed.source.bootstrap,
        target = bed.target.bootstrap,
    );
    std::fs::write(dir.join("main.hcl"), text).unwrap();
}

/// A test bed with the source topic and its (empty) target topic, and a config directory.
fn setup() -> (Testbed, tempfile::TempDir) {
    let bed = Testbed::start().unwrap();
    seed::create_topic(&bed.source.bootstrap, TOPIC, PARTITIONS, &[]).unwrap();
    seed::create_topic(&bed.target.bootstrap, TARGET_TOPIC, PARTITIONS, &[]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &bed);
    (bed, dir)
}

/// Records `from..to` of every partition, produced to the source.
fn produce_range(bed: &Testbed, from: usize, to: usize) {
    for partition in 0..PARTITIONS {
        let records: Vec<Rec> = (from..to).map(|i| record(partition, i, 0)).collect();
        produce(&bed.source.bootstrap, TOPIC, partition, &records);
    }
}

/// Keeps producing batches of `batch` records to every partition until stopped, then returns
/// how many records each partition got.
struct Feeder {
    stop: Arc<AtomicBool>,
    handle: thread::JoinHandle<usize>,
}

impl Feeder {
    fn start(bed: &Testbed, from: usize, batch: usize) -> Feeder {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let source = bed.source.bootstrap.clone();
        let handle = thread::spawn(move || {
            let mut next = from;
            while !flag.load(Ordering::Relaxed) {
                for partition in 0..PARTITIONS {
                    let records: Vec<Rec> = (next..next + batch)
                        .map(|i| record(partition, i, 0))
                        .collect();
                    produce(&source, TOPIC, partition, &records);
                }
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
        let lines = self.lines();
        let last = lines.iter().rev().find(|line| {
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

fn wait_target_equals_source(bed: &Testbed) {
    let source = ends(&bed.source.bootstrap, TOPIC);
    wait_until(&format!("the target holds {source:?} records"), || {
        ends(&bed.target.bootstrap, TARGET_TOPIC) == source
    });
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

/// The target equals the source partition by partition, record by record (key, value, headers,
/// timestamp), each copy with ferry's source-offset header, at consecutive offsets: no record
/// missing, none duplicated.
fn assert_exact_copy(bed: &Testbed) -> usize {
    let mut total = 0;
    for partition in 0..PARTITIONS {
        let source = read_from(&bed.source.bootstrap, TOPIC, partition, 0);
        let target = read_from(&bed.target.bootstrap, TARGET_TOPIC, partition, 0);
        let expected: Vec<Rec> = source
            .iter()
            .enumerate()
            .map(|(index, rec)| {
                let mut copy = rec.clone();
                copy.offset = index as i64;
                copy.headers.push((
                    SOURCE_OFFSET_HEADER.to_string(),
                    Some(encode_source_offset(rec.offset).to_vec()),
                ));
                copy
            })
            .collect();
        assert_eq!(
            target.len(),
            expected.len(),
            "record count of {TARGET_TOPIC}[{partition}]"
        );
        for (got, want) in target.iter().zip(&expected) {
            assert_eq!(got, want, "{TARGET_TOPIC}[{partition}]");
        }
        total += source.len();
    }
    total
}

/// One process with --until-caught-up copies every partition exactly and exits 0, reporting
/// how many records it copied.
#[test]
fn one_process_copies_everything_exactly() {
    let (bed, dir) = setup();
    produce_range(&bed, 0, 150);
    let output = Command::new(env!("CARGO_BIN_EXE_ferry"))
        .args(["--no-color", "-C"])
        .arg(dir.path())
        .args(["replicate", "--until-caught-up"])
        .output()
        .unwrap();
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
    assert_eq!(assert_exact_copy(&bed), 600);

    // A second run resumes from the target's tail and copies only the records added since.
    produce_range(&bed, 150, 160);
    let again = Command::new(env!("CARGO_BIN_EXE_ferry"))
        .args(["--no-color", "-C"])
        .arg(dir.path())
        .args(["replicate", "--until-caught-up"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(again.status.success(), "{stderr}");
    assert!(
        stderr.contains("this process copied 40 records"),
        "{stderr}"
    );
    assert_eq!(assert_exact_copy(&bed), 640);
}

/// Two processes in one group each get part of the partitions and copy records while the
/// source keeps receiving them; after a clean stop the union on the target is exact, and the
/// two processes' counts add up to the records on the source (nothing was copied twice).
#[test]
fn two_processes_share_the_partitions_exactly() {
    let (bed, dir) = setup();
    produce_range(&bed, 0, 50);
    let a = Replica::start("a", dir.path());
    let b = Replica::start("b", dir.path());
    let (held_a, held_b) = wait_shared(&a, &b);
    eprintln!("a holds {held_a:?}, b holds {held_b:?}");

    // Records produced from now on land in both processes' partitions.
    let feeder = Feeder::start(&bed, 50, 25);
    let marks = {
        // Wait for the feeder to have added records everywhere, then for those to be copied.
        let start = ends(&bed.source.bootstrap, TOPIC);
        let mut now = start.clone();
        wait_until("the feeder produced to every partition", || {
            now = ends(&bed.source.bootstrap, TOPIC);
            now.iter().zip(&start).all(|(n, s)| *n >= s + 50)
        });
        now
    };
    wait_until("both processes copied the new records", || {
        ends(&bed.target.bootstrap, TARGET_TOPIC)
            .iter()
            .zip(&marks)
            .all(|(t, m)| t >= m)
    });
    let produced = feeder.stop();
    wait_target_equals_source(&bed);

    let copied_a = a.stop();
    let copied_b = b.stop();
    assert!(copied_a > 0, "process a copied nothing");
    assert!(copied_b > 0, "process b copied nothing");
    let total = assert_exact_copy(&bed);
    assert_eq!(total, produced * PARTITIONS as usize);
    assert_eq!(
        copied_a + copied_b,
        total as u64,
        "each record was delivered by exactly one process"
    );
}

/// A process killed with SIGKILL while its partitions lag and records keep arriving, the other
/// stopped cleanly at the same time: a process started afterwards continues every partition
/// from the target's tail, and the target equals the source with no duplicate and no gap.
///
/// The process started afterwards joins a fresh group. What is not exercised: a member of the
/// killed process's own group taking its partitions over. tansu 0.6.0 evicts the silent member
/// once its session expires, but every rebalance after that still hands out the dead member's
/// share (the survivors get their old partitions only), so its partitions would never move.
/// Kafka reassigns them; the new owner then takes the same resume path this test checks.
#[test]
fn a_killed_process_is_continued_without_loss_or_duplicate() {
    let (bed, dir) = setup();
    let a = Replica::start("a", dir.path());
    let b = Replica::start("b", dir.path());
    let (held_a, _) = wait_shared(&a, &b);

    // A backlog plus a steady stream: the killed process has records in flight.
    produce_range(&bed, 0, 1500);
    let feeder = Feeder::start(&bed, 1500, 25);
    let lag = |partitions: &BTreeSet<i32>| -> i64 {
        partitions
            .iter()
            .map(|&p| {
                watermarks(&bed.source.bootstrap, TOPIC, p).1
                    - watermarks(&bed.target.bootstrap, TARGET_TOPIC, p).1
            })
            .sum()
    };
    // Kill it at a moment its partitions are seen lagging: records are being read, handed to
    // the producer and delivered.
    wait_until("process a is copying part of its backlog", || {
        let copied: i64 = held_a
            .iter()
            .map(|&p| watermarks(&bed.target.bootstrap, TARGET_TOPIC, p).1)
            .sum();
        copied >= 300 && lag(&held_a) > 0
    });
    a.kill_9();
    let copied_b = b.stop();
    assert!(copied_b > 0, "process b copied nothing");

    let on_target_before: Vec<i64> = (0..PARTITIONS)
        .map(|p| watermarks(&bed.target.bootstrap, TARGET_TOPIC, p).1)
        .collect();
    let c = Replica::start_in("c", dir.path(), &["--group", "ferry-replicate-after-kill"]);
    wait_until("process c holds every partition", || {
        c.held()
            .is_some_and(|held| held.len() == PARTITIONS as usize)
    });
    let resumed: Vec<String> = c
        .lines()
        .into_iter()
        .filter(|line| line.contains("holding 4 partitions"))
        .collect();
    // Each partition continues after what a and b put on the target (a partition a had not
    // reached yet continues from 0), and the resume is visible: some partition is past 0.
    let resume_offsets: Vec<i64> = (0..PARTITIONS)
        .map(|p| {
            let marker = format!("{TOPIC}[{p}] from offset ");
            let at = resumed[0].find(&marker).expect("partition named") + marker.len();
            resumed[0][at..]
                .split(|c: char| !c.is_ascii_digit())
                .next()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    for (p, &offset) in (0..PARTITIONS).zip(&resume_offsets) {
        let on_target = watermarks(&bed.target.bootstrap, TARGET_TOPIC, p).1;
        assert!(
            offset >= on_target_before[p as usize] && offset <= on_target,
            "partition {p} resumes at {offset}, after the {} records a and b copied: {resumed:?}",
            on_target_before[p as usize]
        );
    }
    assert!(
        resume_offsets.iter().any(|&o| o > 0),
        "the copy resumed after what a and b copied: {resumed:?}"
    );
    feeder.stop();
    wait_target_equals_source(&bed);
    c.stop();
    assert_exact_copy(&bed);
}

/// Without the target topic, replicate refuses with a message that says to run apply first,
/// and copies nothing.
#[test]
fn a_missing_target_topic_is_refused() {
    let bed = Testbed::start().unwrap();
    seed::create_topic(&bed.source.bootstrap, TOPIC, PARTITIONS, &[]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &bed);
    let output = Command::new(env!("CARGO_BIN_EXE_ferry"))
        .args(["--no-color", "-C"])
        .arg(dir.path())
        .args(["replicate", "--until-caught-up"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("events.copy (does not exist)"), "{stderr}");
    assert!(stderr.contains("`ferry apply`"), "{stderr}");
}
