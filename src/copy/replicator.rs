//! The replication service: the copy engine's exact resume, with the partitions shared among
//! any number of processes (on any number of machines) by Kafka's own consumer-group protocol
//! on the source.
//!
//! Each process subscribes to the source topics with one group id; the group coordinator hands
//! every source partition to exactly one member. The rebalance callback does the handshake that
//! keeps the copy exact when partitions move between members:
//!
//! - on revoke, the member stops handing records of its partitions to the producer (the
//!   callback runs on the polling thread, so no record is being handed meanwhile) and flushes
//!   the producer: every record it sent is on the target before it leaves the partitions;
//! - on assign, the member reads the tail of each assigned target partition (its last record's
//!   `ferry.source.offset` header, the same resume as the one-shot copy) and assigns each source
//!   partition at exactly the next offset to copy.
//!
//! The group uses the eager protocol (`roundrobin`): every member revokes and flushes before
//! any member gets a new assignment, so the new owner reads a tail no one is still writing to.
//! The offsets are set in the list handed to `assign` inside the rebalance callback, which is
//! how librdkafka documents starting an assigned partition at a chosen offset (a `seek` right
//! after assignment races with the first fetch). Committed group offsets are never read: the
//! target's tail is the truth. The member commits, asynchronously and only so that standard
//! tools show the group's lag, the offset after its last delivered record.
//!
//! A member killed with `kill -9` does not flush: its partitions move once its session times
//! out (`session_timeout`), long after the produce requests it had on the wire were answered,
//! and the new owner resumes after whatever reached the target.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::producer::{BaseProducer, Producer, PurgeConfig};
use rdkafka::types::{RDKafkaErrorCode, RDKafkaRespErr};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

use super::clients::{
    CONSUMER_QUEUE_KBYTES, CONSUMER_QUEUE_MESSAGES, FETCH_MAX_BYTES, FETCH_QUEUE_BACKOFF_MS,
    FLUSH_TIMEOUT, REQUEST_TIMEOUT, kafka, metadata_consumer, producer_config, stops_copy,
};
use super::delivery::{Deliveries, WhenFull, send};
use super::offset_map::OffsetMap;
use super::resume::{resume_points, source_watermarks};
use super::{CopyError, CopyJob, CopyProgress};
use crate::cluster::{KafkaLog, kafka_log};

/// How long one poll of the source waits for a record.
const POLL_WAIT: Duration = Duration::from_millis(100);

/// How a replication process runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicateOptions {
    /// The consumer group on the source that the processes share the partitions through.
    pub group: String,
    /// Stop once every partition this process holds reached the source end read at start.
    pub until_caught_up: bool,
    /// How long a process may be silent before the group gives its partitions to another.
    pub session_timeout: Duration,
    /// How often a [`ReplicateEvent::Progress`] is reported.
    pub progress_every: Duration,
}

/// What a replication process tells its user, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplicateEvent {
    /// The group gave this process these partitions; each continues at its `next` offset.
    Assigned(Vec<AssignedPartition>),
    /// The group took back `partitions` partitions; every record sent for them is on the target.
    Revoked { partitions: usize },
    /// Throughput and lag over the partitions this process holds.
    Progress(CopyProgress),
    /// Something the user should know that does not stop the copy.
    Warning(String),
}

/// One partition handed to this process, and where its copy continues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignedPartition {
    pub source_topic: String,
    pub target_topic: String,
    pub partition: i32,
    /// The next source offset to copy, read from the target's tail.
    pub next: i64,
}

/// What one replication process did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicateSummary {
    /// Records this process delivered to the target.
    pub copied: u64,
    /// Key and value bytes this process delivered.
    pub bytes: u64,
    /// Whether it stopped because everything it held was caught up (else: asked to stop).
    pub caught_up: bool,
}

/// Copies `jobs` (each source partition to the same partition of its target topic) as one
/// member of `options.group`, until `stop` is set, a copy error occurs, or (with
/// `until_caught_up`) every partition this member holds reached the source end read when it
/// started. Only partitions the group assigns to this member are copied; a job's `start` is
/// used when its target partition is empty.
///
/// On a clean stop the producer is flushed, then the consumer leaves the group, so the other
/// members take over at once. On a produce error the process stops with that error: what was
/// delivered stays, and a restart resumes after it.
pub fn replicate(
    source: &ClientConfig,
    target: &ClientConfig,
    jobs: &[CopyJob],
    options: &ReplicateOptions,
    stop: &AtomicBool,
    events: &mut dyn FnMut(ReplicateEvent),
) -> Result<ReplicateSummary, CopyError> {
    let ends: Vec<i64> = source_watermarks(source, jobs)?
        .into_iter()
        .map(|(_, high)| high)
        .collect();
    // Kept for the lag in progress reports.
    let meta = metadata_consumer(source, "source")?;

    let producer: BaseProducer<Deliveries> = producer_config(target)
        .create_with_context(Deliveries::new(vec![OffsetMap::new(0, 0); jobs.len()]))
        .map_err(|error| kafka("creating the target producer".into(), error))?;
    let shared = Arc::new(Shared {
        source: source.clone(),
        target: target.clone(),
        jobs: jobs.to_vec(),
        index: jobs
            .iter()
            .enumerate()
            .map(|(i, job)| ((job.source_topic.clone(), job.partition), i))
            .collect(),
        ends,
        producer,
        held: Mutex::new(None),
        fatal: Mutex::new(None),
        events: Mutex::new(Vec::new()),
    });
    let consumer: BaseConsumer<Rebalancer> = group_consumer(source, options)
        .create_with_context(Rebalancer(shared.clone()))
        .map_err(|error| kafka("creating the source consumer".into(), error))?;
    let mut topics: Vec<&str> = jobs.iter().map(|job| job.source_topic.as_str()).collect();
    topics.sort_unstable();
    topics.dedup();
    consumer
        .subscribe(&topics)
        .map_err(|error| kafka(format!("joining group {}", options.group), error))?;

    let mut last_progress = Instant::now();
    let result = loop {
        if stop.load(Ordering::Relaxed) {
            break Ok(false);
        }
        if let Some(error) = shared.fatal.lock().unwrap().take() {
            break Err(error);
        }
        if let Err(error) = shared.producer.context().check() {
            break Err(error);
        }
        match consumer.poll(POLL_WAIT) {
            None => {}
            Some(Ok(message)) => {
                let key = (message.topic().to_string(), message.partition());
                let Some(&index) = shared.index.get(&key) else {
                    continue;
                };
                let mut held = shared.held.lock().unwrap();
                let Some(partition) = held.as_mut().and_then(|held| held.get_mut(&index)) else {
                    continue;
                };
                if message.offset() < partition.next {
                    continue;
                }
                let job = &shared.jobs[index];
                if let Err(error) = send(&shared.producer, &message, job, index, WhenFull::Poll) {
                    break Err(error);
                }
                partition.next = message.offset() + 1;
            }
            Some(Err(KafkaError::PartitionEOF(number))) => {
                if let Err(error) = shared.reached_end(&consumer, number) {
                    break Err(error);
                }
            }
            Some(Err(KafkaError::MessageConsumption(code))) if !stops_copy(code) => {
                // Transient (a broker down, a connection closed): librdkafka reconnects and
                // fetches again from the same position.
                tracing::warn!("reading the source: {code}; retrying");
            }
            Some(Err(error)) => break Err(kafka("reading the source".into(), error)),
        }
        shared.producer.poll(Duration::ZERO);
        for event in shared.events.lock().unwrap().drain(..) {
            events(event);
        }
        if last_progress.elapsed() >= options.progress_every {
            last_progress = Instant::now();
            events(ReplicateEvent::Progress(shared.progress(&meta)));
            shared.commit_delivered(&consumer);
        }
        if options.until_caught_up && shared.caught_up() {
            break Ok(true);
        }
    };

    // Flush first: every record handed over is on the target (or the error says which is not)
    // before the group can give the partitions to someone else.
    let flushed = shared
        .producer
        .flush(FLUSH_TIMEOUT)
        .map_err(|error| kafka("waiting for the target to take every record".into(), error))
        .and_then(|()| shared.producer.context().check());
    if result.is_ok() {
        shared.commit_delivered(&consumer);
    }
    // Leaves the group: the revoke callback runs (nothing left to flush) and the other members
    // are given the partitions at once.
    drop(consumer);
    for event in shared.events.lock().unwrap().drain(..) {
        events(event);
    }
    let caught_up = result?;
    flushed?;
    if let Some(error) = shared.fatal.lock().unwrap().take() {
        return Err(error);
    }
    let delivered = shared.producer.context().state.lock().unwrap();
    Ok(ReplicateSummary {
        copied: delivered.copied.iter().sum(),
        bytes: delivered.bytes,
        caught_up,
    })
}

/// A member of the replication group: subscribes, never commits automatically, never jumps
/// over a missing offset, eager rebalancing.
fn group_consumer(source: &ClientConfig, options: &ReplicateOptions) -> ClientConfig {
    let session = options.session_timeout.as_millis().max(1);
    let heartbeat = (session / 3).clamp(1, 3000);
    let mut config = source.clone();
    kafka_log::set_log_level(&mut config)
        .set("group.id", &options.group)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("enable.partition.eof", "true")
        .set("auto.offset.reset", "error")
        .set("partition.assignment.strategy", "roundrobin")
        .set("session.timeout.ms", session.to_string())
        .set("heartbeat.interval.ms", heartbeat.to_string())
        .set("queued.max.messages.kbytes", CONSUMER_QUEUE_KBYTES)
        .set("queued.min.messages", CONSUMER_QUEUE_MESSAGES)
        .set("fetch.queue.backoff.ms", FETCH_QUEUE_BACKOFF_MS)
        .set("fetch.max.bytes", FETCH_MAX_BYTES);
    config
}

/// What the polling loop and the rebalance callback share.
struct Shared {
    source: ClientConfig,
    target: ClientConfig,
    jobs: Vec<CopyJob>,
    /// (source topic, partition) -> job index.
    index: HashMap<(String, i32), usize>,
    /// The source high watermark of each job when the process started.
    ends: Vec<i64>,
    producer: BaseProducer<Deliveries>,
    /// The partitions this member holds (job index -> where it stands); `None` between a
    /// revoke and the next assignment, and before the first.
    held: Mutex<Option<HashMap<usize, Held>>>,
    /// An error raised inside a rebalance callback, for the polling loop to stop on.
    fatal: Mutex<Option<CopyError>>,
    events: Mutex<Vec<ReplicateEvent>>,
}

/// One partition this member holds.
struct Held {
    /// The source offset after the last record handed to the producer.
    next: i64,
    /// The consumer reported the end of the partition at or past the end read at start
    /// (a compacted tail can end below it in offsets that hold no record).
    reached_end: bool,
}

impl Shared {
    fn fail(&self, error: CopyError) {
        self.fatal.lock().unwrap().get_or_insert(error);
    }

    fn event(&self, event: ReplicateEvent) {
        self.events.lock().unwrap().push(event);
    }

    /// The assignment list for the partitions the group gave this member, each at the offset
    /// after the target's last copied record.
    fn take(&self, given: &TopicPartitionList) -> Result<TopicPartitionList, CopyError> {
        let mut indexes = Vec::new();
        for element in given.elements() {
            match self
                .index
                .get(&(element.topic().to_string(), element.partition()))
            {
                Some(&index) => indexes.push(index),
                None => self.event(ReplicateEvent::Warning(format!(
                    "source partition {}[{}] is not among the partitions this process copies \
                     (added after it started?); it is left alone: restart ferry replicate \
                     after `ferry apply` has matched the target",
                    element.topic(),
                    element.partition()
                ))),
            }
        }
        let jobs: Vec<CopyJob> = indexes.iter().map(|&i| self.jobs[i].clone()).collect();
        let resumes = resume_points(&self.source, &self.target, &jobs)?;
        let mut list = TopicPartitionList::with_capacity(jobs.len());
        let mut held = HashMap::with_capacity(jobs.len());
        let mut assigned = Vec::with_capacity(jobs.len());
        {
            let mut delivered = self.producer.context().state.lock().unwrap();
            for (&index, resume) in indexes.iter().zip(&resumes) {
                let job = &self.jobs[index];
                list.add_partition_offset(
                    &job.source_topic,
                    job.partition,
                    Offset::Offset(resume.next),
                )
                .map_err(|error| {
                    kafka(
                        format!("assigning {}[{}]", job.source_topic, job.partition),
                        error,
                    )
                })?;
                delivered.maps[index] = OffsetMap::new(resume.next, resume.target_end);
                held.insert(
                    index,
                    Held {
                        next: resume.next,
                        reached_end: false,
                    },
                );
                assigned.push(AssignedPartition {
                    source_topic: job.source_topic.clone(),
                    target_topic: job.target_topic.clone(),
                    partition: job.partition,
                    next: resume.next,
                });
            }
        }
        *self.held.lock().unwrap() = Some(held);
        self.event(ReplicateEvent::Assigned(assigned));
        Ok(list)
    }

    /// Gives up every held partition: nothing more is handed to the producer for them, and
    /// every record already handed over is delivered before the callback returns.
    fn release(&self) {
        let partitions = self
            .held
            .lock()
            .unwrap()
            .take()
            .map_or(0, |held| held.len());
        if let Err(error) = self.producer.flush(FLUSH_TIMEOUT) {
            // Records that could not be delivered must not reach the target after the next
            // owner read its tail: drop those still queued (the next owner copies them again).
            self.producer.purge(PurgeConfig::default().queue());
            self.fail(kafka(
                "delivering the records of the partitions handed back to the group".into(),
                error,
            ));
        }
        if let Err(error) = self.producer.context().check() {
            self.fail(error);
        }
        self.event(ReplicateEvent::Revoked { partitions });
    }

    /// Marks held partitions numbered `number` whose position reached the end read at start.
    fn reached_end(
        &self,
        consumer: &BaseConsumer<Rebalancer>,
        number: i32,
    ) -> Result<(), CopyError> {
        let positions = consumer
            .position()
            .map_err(|error| kafka("reading the copy positions".into(), error))?;
        let mut held = self.held.lock().unwrap();
        for (index, partition) in held.iter_mut().flatten() {
            let job = &self.jobs[*index];
            if job.partition != number {
                continue;
            }
            let position = positions
                .find_partition(&job.source_topic, number)
                .and_then(|element| element.offset().to_raw());
            if position.is_some_and(|position| position >= self.ends[*index]) {
                partition.reached_end = true;
            }
        }
        Ok(())
    }

    /// Whether this member holds an assignment and every partition in it reached the end read
    /// at start.
    fn caught_up(&self) -> bool {
        self.held.lock().unwrap().as_ref().is_some_and(|held| {
            held.iter()
                .all(|(&index, p)| p.reached_end || p.next >= self.ends[index])
        })
    }

    /// Throughput of this process, lag of the partitions it holds against their current ends.
    fn progress(&self, meta: &BaseConsumer<KafkaLog>) -> CopyProgress {
        let held: Vec<(usize, i64)> = self
            .held
            .lock()
            .unwrap()
            .iter()
            .flatten()
            .map(|(&index, p)| (index, p.next))
            .collect();
        let mut topics: BTreeMap<String, i64> = BTreeMap::new();
        let mut done = 0;
        for &(index, next) in &held {
            let job = &self.jobs[index];
            let lag = meta
                .fetch_watermarks(&job.source_topic, job.partition, REQUEST_TIMEOUT)
                .map_or(0, |(_, high)| (high - next).max(0));
            if lag == 0 {
                done += 1;
            }
            *topics.entry(job.target_topic.clone()).or_default() += lag;
        }
        let delivered = self.producer.context().state.lock().unwrap();
        CopyProgress {
            copied: delivered.copied.iter().sum(),
            bytes: delivered.bytes,
            lag: topics.values().sum(),
            lag_by_topic: topics,
            partitions_done: done,
            partitions: held.len(),
            // The service has no end to wait for: a partition held by an open transaction
            // shows as lag.
            held: Vec::new(),
        }
    }

    /// Commits the offset after the last delivered record of each held partition, for lag
    /// monitoring only (ferry itself never reads it).
    fn commit_delivered(&self, consumer: &BaseConsumer<Rebalancer>) {
        let mut list = TopicPartitionList::new();
        {
            let held = self.held.lock().unwrap();
            let delivered = self.producer.context().state.lock().unwrap();
            for &index in held.iter().flat_map(|held| held.keys()) {
                if let Some((source, _)) = delivered.maps[index].last() {
                    let job = &self.jobs[index];
                    let _ = list.add_partition_offset(
                        &job.source_topic,
                        job.partition,
                        Offset::Offset(source + 1),
                    );
                }
            }
        }
        if list.count() > 0
            && let Err(error) = consumer.commit(&list, CommitMode::Async)
        {
            tracing::debug!("committing the replication group's offsets: {error}");
        }
    }
}

/// The consumer context whose rebalance callback does the exact-resume handshake.
struct Rebalancer(Arc<Shared>);

/// Logs like every ferry client ([`kafka_log`]): the end of a partition also arrives here as a
/// "global error" (`enable.partition.eof`, needed to tell a caught-up partition), which is
/// traced, not reported as an error.
impl ClientContext for Rebalancer {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, log_message: &str) {
        kafka_log::log(level, fac, log_message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        kafka_log::error(&error, reason);
    }
}

impl ConsumerContext for Rebalancer {
    /// Replaces librdkafka's default handling: revoke flushes before unassigning, assign sets
    /// each partition's offset from the target's tail before assigning. Both calls are the
    /// eager protocol's (`assign`/`unassign`); the group is configured for `roundrobin`, an
    /// eager strategy, so the cooperative variants are never needed.
    fn rebalance(
        &self,
        consumer: &BaseConsumer<Self>,
        err: RDKafkaRespErr,
        given: &mut TopicPartitionList,
    ) {
        let shared = &self.0;
        match err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => match shared.take(given) {
                Ok(list) => {
                    if let Err(error) = consumer.assign(&list) {
                        shared.fail(kafka("assigning the source partitions".into(), error));
                    }
                }
                Err(error) => {
                    shared.fail(error);
                    *shared.held.lock().unwrap() = Some(HashMap::new());
                    let _ = consumer.assign(&TopicPartitionList::new());
                }
            },
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS => {
                shared.release();
                let _ = consumer.unassign();
            }
            other => {
                shared.release();
                let _ = consumer.unassign();
                shared.fail(CopyError::Kafka {
                    what: "rebalancing the replication group".into(),
                    detail: RDKafkaErrorCode::from(other).to_string(),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(session: u64) -> ReplicateOptions {
        ReplicateOptions {
            group: "g".into(),
            until_caught_up: false,
            session_timeout: Duration::from_secs(session),
            progress_every: Duration::from_secs(10),
        }
    }

    /// The group member never commits on its own, never jumps over a gap, and uses an eager
    /// strategy (the rebalance callback calls `assign`/`unassign`, not the incremental ones).
    #[test]
    fn group_consumer_is_eager_and_never_jumps() {
        let config = group_consumer(&ClientConfig::new(), &options(45));
        assert_eq!(config.get("group.id"), Some("g"));
        assert_eq!(config.get("enable.auto.commit"), Some("false"));
        assert_eq!(config.get("auto.offset.reset"), Some("error"));
        assert_eq!(
            config.get("partition.assignment.strategy"),
            Some("roundrobin")
        );
        assert_eq!(config.get("session.timeout.ms"), Some("45000"));
        assert_eq!(config.get("heartbeat.interval.ms"), Some("3000"));
    }

    #[test]
    fn heartbeat_stays_below_a_short_session() {
        let config = group_consumer(&ClientConfig::new(), &options(6));
        assert_eq!(config.get("heartbeat.interval.ms"), Some("2000"));
    }
}
