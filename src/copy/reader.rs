//! The copy's source side: up to [`READERS`] consumers, each reading its share of the
//! partitions in its own thread and handing records to the one target producer, and where each
//! partition stands.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::producer::BaseProducer;
use rdkafka::{Offset, TopicPartitionList};

use super::clients::{copy_consumer, kafka, stops_copy};
use super::delivery::{Deliveries, WhenFull, send};
use super::fencing::Gate;
use super::{CopyError, CopyJob};
use crate::cluster::KafkaLog;

/// Source consumers reading in parallel at most: one connection fetches only so fast (a fetch
/// waits for its reply), so a few connections move several times as much.
pub(super) const READERS: usize = 4;
/// How long a reader waits for the next record before checking whether the copy failed.
const POLL_WAIT: Duration = Duration::from_millis(100);
/// How long a partition may sit at a `read_committed` end below its high watermark before the
/// copy reports it as held by an open transaction: a transaction that commits takes far less.
const HELD_AFTER: Duration = Duration::from_secs(5);

/// Where one partition stands; written by its reader thread, read for progress.
pub(super) struct PartitionState {
    /// The source offset after the last record handed to the producer; `end` once the partition
    /// is done (what lies between holds no record the consumer returns).
    pub(super) next: AtomicI64,
    /// The source high watermark read at the start.
    pub(super) end: i64,
    pub(super) done: AtomicBool,
    /// Where the consumer last reached the end of what `read_committed` may read while that is
    /// below `end` (-1: it did not, or a record came since): the last stable offset, held by
    /// a transaction still open on the source.
    pub(super) stable_end: AtomicI64,
    /// When it reached `stable_end`, in milliseconds since the copy started.
    pub(super) stable_end_since: AtomicU64,
}

impl PartitionState {
    pub(super) fn new(next: i64, end: i64) -> PartitionState {
        PartitionState {
            next: AtomicI64::new(next),
            end,
            done: AtomicBool::new(next >= end),
            stable_end: AtomicI64::new(-1),
            stable_end_since: AtomicU64::new(0),
        }
    }

    /// The consumer reached the last stable offset `position`, below the end, `at` ms into the
    /// copy.
    fn reached_stable_end(&self, position: i64, at: u64) {
        if self.stable_end.swap(position, Ordering::Relaxed) != position {
            self.stable_end_since.store(at, Ordering::Relaxed);
        }
    }

    /// The offset an open transaction has held this partition at for at least [`HELD_AFTER`]
    /// when the copy has run `now` ms.
    pub(super) fn held_at(&self, now: u64) -> Option<i64> {
        let at = self.stable_end.load(Ordering::Relaxed);
        let since = self.stable_end_since.load(Ordering::Relaxed);
        (at >= 0 && !self.is_done() && now.saturating_sub(since) >= HELD_AFTER.as_millis() as u64)
            .then_some(at)
    }

    pub(super) fn next(&self) -> i64 {
        self.next.load(Ordering::Relaxed)
    }

    pub(super) fn is_done(&self) -> bool {
        self.done.load(Ordering::Relaxed)
    }

    pub(super) fn lag(&self) -> i64 {
        (self.end - self.next()).max(0)
    }
}

/// Up to [`READERS`] consumers sharing the partitions still to copy, round-robin.
pub(super) fn readers(
    source: &ClientConfig,
    jobs: &[CopyJob],
    states: &[PartitionState],
) -> Result<Vec<Reader>, CopyError> {
    let open: Vec<usize> = (0..jobs.len()).filter(|&i| !states[i].is_done()).collect();
    let count = open.len().min(READERS);
    let mut readers = Vec::with_capacity(count);
    for r in 0..count {
        let mine: Vec<usize> = open.iter().copied().skip(r).step_by(count).collect();
        let consumer = copy_consumer(source)?;
        let mut assignment = TopicPartitionList::with_capacity(mine.len());
        let mut partitions: HashMap<(String, i32), usize> = HashMap::new();
        for &index in &mine {
            let job = &jobs[index];
            assignment
                .add_partition_offset(
                    &job.source_topic,
                    job.partition,
                    Offset::Offset(states[index].next()),
                )
                .map_err(|error| {
                    kafka(
                        format!("assigning {}[{}]", job.source_topic, job.partition),
                        error,
                    )
                })?;
            partitions.insert((job.source_topic.clone(), job.partition), index);
        }
        consumer
            .assign(&assignment)
            .map_err(|error| kafka("assigning the source partitions".into(), error))?;
        readers.push(Reader {
            consumer,
            partitions,
        });
    }
    Ok(readers)
}

/// One source consumer and the partitions it copies.
pub(super) struct Reader {
    consumer: BaseConsumer<KafkaLog>,
    /// (source topic, partition) -> job index.
    partitions: HashMap<(String, i32), usize>,
}

impl Reader {
    /// Copies until each of its partitions reaches its end, or until `failed` is set.
    pub(super) fn run(
        &self,
        jobs: &[CopyJob],
        states: &[PartitionState],
        producer: &BaseProducer<Deliveries>,
        gate: &Gate,
        failed: &AtomicBool,
        started: Instant,
    ) -> Result<(), CopyError> {
        let mut open = self
            .partitions
            .values()
            .filter(|&&index| !states[index].is_done())
            .count();
        while open > 0 && !failed.load(Ordering::Relaxed) {
            let Some(polled) = self.consumer.poll(POLL_WAIT) else {
                continue;
            };
            let message = match polled {
                Ok(message) => message,
                Err(KafkaError::PartitionEOF(partition)) => {
                    open -= self.reached_end(partition, states, started)?;
                    continue;
                }
                Err(KafkaError::MessageConsumption(code)) if !stops_copy(code) => {
                    // Transient (a broker down, a connection closed): librdkafka reconnects and
                    // fetches again from the same position.
                    tracing::warn!("reading the source: {code}; retrying");
                    continue;
                }
                Err(error) => return Err(kafka("reading the source".into(), error)),
            };
            let Some(&index) = self
                .partitions
                .get(&(message.topic().to_string(), message.partition()))
            else {
                continue;
            };
            let state = &states[index];
            let offset = message.offset();
            if state.is_done() || offset < state.next() {
                continue;
            }
            if offset >= state.end {
                open -= self.finish(&jobs[index], state)?;
                continue;
            }
            // Only the copy's own thread polls the producer, so that delivery reports are
            // served in order (see `WhenFull::Wait`).
            gate.send(|| send(producer, &message, &jobs[index], index, WhenFull::Wait))?;
            state.next.store(offset + 1, Ordering::Relaxed);
            if state.stable_end.load(Ordering::Relaxed) >= 0 {
                state.stable_end.store(-1, Ordering::Relaxed);
            }
            if offset + 1 >= state.end {
                open -= self.finish(&jobs[index], state)?;
            }
        }
        Ok(())
    }

    /// Handles the end of partition number `partition` of some assigned topic: librdkafka does
    /// not say which topic, so every open partition with that number whose position reached its
    /// end is finished. Returns how many were.
    ///
    /// A partition whose position stays below its end there reached the last stable offset
    /// (`read_committed` reads no further while a transaction is open): noted, so that a
    /// transaction left open is reported instead of waited on silently.
    fn reached_end(
        &self,
        partition: i32,
        states: &[PartitionState],
        started: Instant,
    ) -> Result<usize, CopyError> {
        let positions = self
            .consumer
            .position()
            .map_err(|error| kafka("reading the copy positions".into(), error))?;
        let mut finished = 0;
        for ((topic, p), &index) in &self.partitions {
            if *p != partition || states[index].is_done() {
                continue;
            }
            let position = positions
                .find_partition(topic, partition)
                .and_then(|e| e.offset().to_raw());
            match position {
                Some(position) if position >= states[index].end => {
                    finished += self.finish_partition(topic, partition, &states[index])?;
                }
                Some(position) if position >= 0 => {
                    states[index].reached_stable_end(position, started.elapsed().as_millis() as u64)
                }
                _ => {}
            }
        }
        Ok(finished)
    }

    fn finish(&self, job: &CopyJob, state: &PartitionState) -> Result<usize, CopyError> {
        self.finish_partition(&job.source_topic, job.partition, state)
    }

    /// Marks a partition done and stops fetching it; returns 1, or 0 if it was done already.
    ///
    /// Done means the consumer got past `end - 1`: every offset below `end` was handed to the
    /// producer or holds no record a `read_committed` consumer returns (a transaction marker, an
    /// aborted record), so the copy covers the source up to `end`, even where the last records
    /// handed over end earlier.
    fn finish_partition(
        &self,
        topic: &str,
        partition: i32,
        state: &PartitionState,
    ) -> Result<usize, CopyError> {
        if state.done.swap(true, Ordering::Relaxed) {
            return Ok(0);
        }
        state.next.fetch_max(state.end, Ordering::Relaxed);
        let mut list = TopicPartitionList::new();
        list.add_partition(topic, partition);
        self.consumer
            .pause(&list)
            .map_err(|error| kafka(format!("pausing {topic}[{partition}]"), error))?;
        Ok(1)
    }
}
