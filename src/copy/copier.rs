//! The copy engine: partition `i` of a source topic to partition `i` of a target topic, record by
//! record, resuming exactly where the target ends.
//!
//! Exactly once across crashes, with any broker: every copied record carries its source offset in
//! the [`SOURCE_OFFSET_HEADER`](super::SOURCE_OFFSET_HEADER) header, and the resume point of
//! each partition is read back from the target itself (its last record), never from a state file
//! that could lag behind. The producer is idempotent with `enable.gapless.guarantee`, so a record
//! that fails makes every later record of the run fail too: the target never holds record `n + 1`
//! without record `n`. Where the target takes transactions, the copy is also fenced
//! ([`super::fencing`]): a killed run's late writes cannot land after the next run's tail.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::producer::{BaseProducer, Producer};

use super::clients::{FLUSH_TIMEOUT, kafka, producer_config};
use super::delivery::Deliveries;
use super::fencing::{self, COMMIT_EVERY, CopyOptions, Gate};
use super::offset_map::OffsetMap;
use super::reader::{PartitionState, readers};
use super::resume::resume_points;
use super::{CopyError, CopyProgress, HeldPartition};
use crate::domain::AcceptedGap;

pub use super::resume::{ResumeRefusal, resume_point};

/// How often `progress` is called.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

/// One partition to copy: `source_topic[partition]` to `target_topic[partition]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CopyJob {
    pub source_topic: String,
    pub target_topic: String,
    pub partition: i32,
    /// The source offset to start from when the target partition is empty. Once the target holds
    /// copied records, the copy resumes after the last of them instead.
    pub start: i64,
    /// Where the copy stood as the state file recorded it, if it did: the only record of the
    /// copy left once retention emptied the target partition (its tail then says nothing).
    pub recorded: Option<RecordedEnd>,
    /// Source ranges of this partition that retention deleted and the configuration accepts
    /// losing (`replication.accept_gaps`).
    pub accepted_gaps: Vec<AcceptedGap>,
}

/// The end of a recorded copy: the target's end offset after its last record, and the source
/// offset the copy continues at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordedEnd {
    pub target_end: i64,
    pub next_source_offset: i64,
}

/// When a copy stops.
#[derive(Debug, Clone, Copy)]
pub enum Until<'a> {
    /// When every partition reached the source high watermark read when the copy started.
    CaughtUp,
    /// The same, or as soon as the flag is set, with [`CopyError::Cancelled`] and without
    /// waiting for records in flight (the next copy resumes from the target's tail as after a
    /// crash): the apply's background copy, which must not hold an apply that stops for a
    /// broker that is down.
    CaughtUpUnless(&'a AtomicBool),
}

/// What a copy did to one partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyOutcome {
    /// The target topic.
    pub topic: String,
    pub partition: i32,
    /// Records delivered to the target in this run.
    pub copied: u64,
    /// The source offset after the last record copied (in this run or an earlier one), or the
    /// source end the copy reached: the copy covers the source up to here (exclusive). The two
    /// differ where the partition ends in offsets no `read_committed` consumer sees (transaction
    /// markers, aborted transactions): a consumer that read everything commits the end, past
    /// them, and that offset must translate to the end of the copy.
    pub next_source_offset: i64,
    /// Source offset -> target offset of every record copied in this run, starting at the resume
    /// point and the target's end offset when the run started.
    pub map: OffsetMap,
    /// The source range (inclusive) retention had deleted before it was copied, skipped because
    /// the configuration accepts it.
    pub skipped_gap: Option<(i64, i64)>,
    /// The target partition's end offset after this run: past `map.target_end()` by the commit
    /// marker of a fenced copy that wrote records, or by the markers of earlier runs when this one
    /// wrote none. The next run's records start there.
    pub target_high: i64,
}

/// Copies every job's source partition to its target partition until [`Until`] says stop.
///
/// Per partition, the copy resumes after the source offset carried by the target's last record
/// (or at `job.start` when the target partition is empty), and fails before copying anything if
/// that is impossible without loss (see [`CopyError`]). Each record goes to the same partition
/// number with the same key, value (null stays null), headers in order, the
/// [`SOURCE_OFFSET_HEADER`](super::SOURCE_OFFSET_HEADER) header appended, and its timestamp as
/// CreateTime.
///
/// `source` and `target` are client settings ([`crate::cluster::client_config`]); the engine adds
/// its own consumer and producer properties on top. Up to [`READERS`](super::reader::READERS) consumers fetch in
/// parallel threads. Memory is bounded by the producer queue (100,000 records or 32 MiB) and each
/// consumer's prefetch queue and fetch responses (8 MiB each): when the producer queue is full
/// the engine waits for deliveries instead of reading more. While a broker is down the copy waits for librdkafka to
/// reconnect; when no record is delivered and no partition finishes for `stall_timeout`, it
/// fails with [`CopyError::Stalled`] (nothing is lost: the next run resumes exactly).
pub fn copy_partitions(
    source: &ClientConfig,
    target: &ClientConfig,
    jobs: &[CopyJob],
    until: Until<'_>,
    stall_timeout: Duration,
    progress: &dyn Fn(&CopyProgress),
) -> Result<Vec<CopyOutcome>, CopyError> {
    copy_partitions_with(
        source,
        target,
        jobs,
        until,
        stall_timeout,
        progress,
        &CopyOptions::default(),
    )
}

/// [`copy_partitions`], fenced when `options` say so (see [`super::fencing`]): the producer
/// writes in transactions, fences earlier runs before the target's tails are read, and commits
/// every [`COMMIT_EVERY`] and at the end; a copy that fails aborts its open transaction.
pub fn copy_partitions_with(
    source: &ClientConfig,
    target: &ClientConfig,
    jobs: &[CopyJob],
    until: Until<'_>,
    stall_timeout: Duration,
    progress: &dyn Fn(&CopyProgress),
    options: &CopyOptions,
) -> Result<Vec<CopyOutcome>, CopyError> {
    let cancel = match until {
        Until::CaughtUp => None,
        Until::CaughtUpUnless(flag) => Some(flag),
    };
    let cancelled = || cancel.is_some_and(|c| c.load(Ordering::Relaxed));
    check_unique(jobs)?;
    if jobs.is_empty() {
        return Ok(Vec::new());
    }

    let mut config = producer_config(target);
    if let Some(migration) = &options.fenced_for {
        fencing::transactional_config(&mut config, &fencing::transactional_id(migration, jobs));
    }
    let producer: BaseProducer<Deliveries> = config
        .create_with_context(Deliveries::new(Vec::new()))
        .map_err(|error| kafka("creating the target producer".into(), error))?;
    // Fence first: the tails read next are final only once a killed run's requests are refused.
    let transaction = match options.fenced_for {
        Some(_) => Some(fencing::start(&producer)?),
        None => None,
    };

    let resumes = resume_points(source, target, jobs)?;
    let states: Vec<PartitionState> = resumes
        .iter()
        .map(|r| PartitionState::new(r.next, r.source_end))
        .collect();
    producer.context().start(
        resumes
            .iter()
            .map(|r| OffsetMap::new(r.next, r.target_end))
            .collect(),
    );
    let gate = Gate::default();
    let mut commit_error = None;

    let readers = readers(source, jobs, &states)?;
    let failed = AtomicBool::new(false);
    let started = Instant::now();
    let held = || -> Vec<HeldPartition> {
        let now = started.elapsed().as_millis() as u64;
        jobs.iter()
            .zip(&states)
            .filter_map(|(job, state)| {
                state.held_at(now).map(|offset| HeldPartition {
                    topic: job.source_topic.clone(),
                    partition: job.partition,
                    offset,
                    end: state.end,
                    seconds: (now - state.stable_end_since.load(Ordering::Relaxed)) / 1000,
                })
            })
            .collect()
    };
    let mut warned: BTreeSet<(String, i32, i64)> = BTreeSet::new();
    let mut report = || {
        let held = held();
        for h in &held {
            if warned.insert((h.topic.clone(), h.partition, h.offset)) {
                tracing::warn!("{}", h.warning());
            }
        }
        let delivered = producer.context().state.lock().unwrap();
        let mut topics: BTreeMap<&str, i64> = BTreeMap::new();
        for (job, state) in jobs.iter().zip(&states) {
            *topics.entry(&job.target_topic).or_default() += state.lag();
        }
        progress(&CopyProgress {
            copied: delivered.copied.iter().sum(),
            bytes: delivered.bytes,
            lag: topics.values().sum(),
            lag_by_topic: topics
                .into_iter()
                .map(|(t, l)| (t.to_string(), l))
                .collect(),
            partitions_done: states.iter().filter(|s| s.is_done()).count(),
            partitions: states.len(),
            held,
        });
    };

    // Readers fetch in parallel (fetching is latency-bound per connection) and hand records to
    // the one producer; this thread serves delivery reports, watches for stalls and reports.
    let result = thread::scope(|scope| {
        let handles: Vec<_> = readers
            .iter()
            .map(|reader| {
                let (states, producer, failed, gate) = (&states, &producer, &failed, &gate);
                scope.spawn(move || {
                    let result = reader.run(jobs, states, producer, gate, failed, started);
                    if result.is_err() {
                        failed.store(true, Ordering::Relaxed);
                    }
                    result
                })
            })
            .collect();
        let mut last_report = Instant::now();
        let mut last_commit = Instant::now();
        let mut last_moved = (Instant::now(), 0, 0);
        while !handles.iter().all(|h| h.is_finished()) {
            if cancelled() {
                failed.store(true, Ordering::Relaxed);
            }
            producer.poll(Duration::from_millis(50));
            if transaction.is_some()
                && last_commit.elapsed() >= COMMIT_EVERY
                && !failed.load(Ordering::Relaxed)
            {
                if let Err(error) = gate.closed(&producer, || fencing::commit(&producer, true)) {
                    commit_error = Some(error);
                    failed.store(true, Ordering::Relaxed);
                }
                last_commit = Instant::now();
            }
            if producer.context().check().is_err() {
                failed.store(true, Ordering::Relaxed);
            }
            let moved = (
                producer
                    .context()
                    .state
                    .lock()
                    .unwrap()
                    .copied
                    .iter()
                    .sum::<u64>(),
                states.iter().filter(|s| s.is_done()).count(),
            );
            if moved != (last_moved.1, last_moved.2) {
                last_moved = (Instant::now(), moved.0, moved.1);
            } else if last_moved.0.elapsed() >= stall_timeout && !failed.load(Ordering::Relaxed) {
                failed.store(true, Ordering::Relaxed);
                if let Some(h) = held().into_iter().next() {
                    for handle in handles {
                        let _ = handle.join();
                    }
                    return Err(CopyError::OpenTransaction {
                        topic: h.topic,
                        partition: h.partition,
                        offset: h.offset,
                        end: h.end,
                        seconds: h.seconds,
                    });
                }
                let stuck = jobs
                    .iter()
                    .zip(states.iter())
                    .find(|(_, state)| !state.is_done())
                    .map(|(job, state)| {
                        format!(
                            "{}[{}] at offset {}",
                            job.source_topic,
                            job.partition,
                            state.next()
                        )
                    })
                    .unwrap_or_default();
                for handle in handles {
                    let _ = handle.join();
                }
                return Err(CopyError::Stalled {
                    seconds: stall_timeout.as_secs(),
                    partition: stuck,
                });
            }
            if last_report.elapsed() >= PROGRESS_EVERY {
                report();
                last_report = Instant::now();
            }
        }
        handles
            .into_iter()
            .map(|handle| handle.join().expect("a copy reader panicked"))
            .collect::<Result<Vec<()>, CopyError>>()
    });
    drop(readers);
    if cancelled() {
        return Err(CopyError::Cancelled);
    }
    // A delivery error explains a reader stopped on `failed`; report it first.
    producer.context().check()?;
    if let Some(error) = commit_error {
        return Err(error);
    }
    result?;

    match transaction {
        Some(transaction) => {
            fencing::commit(&producer, false)?;
            transaction.committed();
        }
        None => producer
            .flush(FLUSH_TIMEOUT)
            .map_err(|error| kafka("waiting for the target to take every record".into(), error))?,
    }
    producer.context().check()?;
    report();

    let mut delivered = producer.context().state.lock().unwrap();
    let outcomes = jobs
        .iter()
        .zip(&states)
        .enumerate()
        .map(|(index, (job, state))| {
            let map = std::mem::replace(&mut delivered.maps[index], OffsetMap::new(0, 0));
            let copied = delivered.copied[index];
            CopyOutcome {
                topic: job.target_topic.clone(),
                partition: job.partition,
                copied,
                next_source_offset: state.next(),
                target_high: if copied > 0 {
                    map.target_end() + i64::from(options.fenced_for.is_some())
                } else {
                    resumes[index].target_end
                },
                map,
                skipped_gap: resumes[index].skipped_gap,
            }
        })
        .collect();
    Ok(outcomes)
}

fn check_unique(jobs: &[CopyJob]) -> Result<(), CopyError> {
    let mut sources = BTreeSet::new();
    let mut targets = BTreeSet::new();
    for job in jobs {
        for (seen, topic) in [
            (&mut sources, &job.source_topic),
            (&mut targets, &job.target_topic),
        ] {
            if !seen.insert((topic.as_str(), job.partition)) {
                return Err(CopyError::DuplicateJob {
                    topic: topic.clone(),
                    partition: job.partition,
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(source: &str, target: &str, partition: i32) -> CopyJob {
        CopyJob {
            source_topic: source.into(),
            target_topic: target.into(),
            partition,
            ..CopyJob::default()
        }
    }

    #[test]
    fn duplicate_jobs_are_refused() {
        assert!(check_unique(&[job("a", "a", 0), job("a", "a", 1), job("b", "b", 0)]).is_ok());
        assert_eq!(
            check_unique(&[job("a", "x", 0), job("a", "y", 0)]),
            Err(CopyError::DuplicateJob {
                topic: "a".into(),
                partition: 0
            })
        );
        assert_eq!(
            check_unique(&[job("a", "x", 0), job("b", "x", 0)]),
            Err(CopyError::DuplicateJob {
                topic: "x".into(),
                partition: 0
            })
        );
    }
}
