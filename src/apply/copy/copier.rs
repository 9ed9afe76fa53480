//! The copy engine: partition `i` of a source topic to partition `i` of a target topic, record by
//! record, resuming exactly where the target ends.
//!
//! Exactly once across crashes, with any broker: every copied record carries its source offset in
//! the [`SOURCE_OFFSET_HEADER`] header, and the resume point of each partition is read back from
//! the target itself (its last record), never from a state file that could lag behind. The
//! producer is idempotent with `enable.gapless.guarantee`, so a record that fails makes every later
//! record of the run fail too: the target never holds record `n + 1` without record `n`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::client::ClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};

use super::CopyError;
use super::header::{SOURCE_OFFSET_HEADER, decode_source_offset, encode_source_offset};
use super::offset_map::OffsetMap;

/// Timeout of one metadata or watermark request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long reading the last record of the target partitions may take.
const TAIL_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the final flush may wait for delivery reports.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(300);
/// Records buffered in the producer at most (with [`PRODUCER_QUEUE_KBYTES`], bounds memory).
const PRODUCER_QUEUE_MESSAGES: &str = "100000";
const PRODUCER_QUEUE_KBYTES: &str = "65536";
/// Prefetched records per consumer at most, in KiB.
const CONSUMER_QUEUE_KBYTES: &str = "16384";
/// Records taken from one consumer before turning to the next one and to delivery reports.
const BURST: usize = 1000;
/// How often `progress` is called.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);
/// Group id of the copy consumers. Needed by librdkafka for `assign`; nothing is ever committed
/// and no group is joined.
const COPY_GROUP: &str = "ferry-copy";

/// One partition to copy: `source_topic[partition]` to `target_topic[partition]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyJob {
    pub source_topic: String,
    pub target_topic: String,
    pub partition: i32,
    /// The source offset to start from when the target partition is empty. Once the target holds
    /// copied records, the copy resumes after the last of them instead.
    pub start: i64,
}

/// When a copy stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// When every partition reached the source high watermark read when the copy started.
    CaughtUp,
}

/// Progress of a running copy, over all its jobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyProgress {
    /// Records delivered to the target in this run.
    pub copied: u64,
    /// Source records not copied yet, up to the high watermarks read at the start.
    pub lag: i64,
    /// Partitions that reached their end.
    pub partitions_done: usize,
    pub partitions: usize,
}

/// What a copy did to one partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyOutcome {
    /// The target topic.
    pub topic: String,
    pub partition: i32,
    /// Records delivered to the target in this run.
    pub copied: u64,
    /// The source offset after the last record copied (in this run or an earlier one): where the
    /// next run resumes.
    pub next_source_offset: i64,
    /// Source offset -> target offset of every record copied in this run, starting at the resume
    /// point and the target's end offset when the run started.
    pub map: OffsetMap,
}

/// Why the resume point of a partition could not be decided (see [`resume_point`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResumeRefusal {
    /// The target's last record has no source-offset header.
    ForeignRecord,
    /// Source offsets `lost_from..=lost_to` were deleted before they were copied.
    RetentionGap { lost_from: i64, lost_to: i64 },
    /// The next offset to copy is past the source's end.
    BeyondSourceEnd { next: i64 },
}

/// The next source offset to copy into a partition, from what the target holds.
///
/// `target_last`: `None` when the target partition is empty, `Some(None)` when its last record
/// has no source-offset header, `Some(Some(o))` when it was copied from source offset `o`.
/// `job_start` is where to start on an empty target; `source_log_start` and `source_end` are the
/// source partition's low and high watermarks.
///
/// This decision is a pure function so that the retention-gap case is tested at the unit level:
/// tansu, the test broker, cannot move a log start (DeleteRecords panics it), so no test against
/// a real broker can produce a gap.
pub fn resume_point(
    target_last: Option<Option<i64>>,
    job_start: i64,
    source_log_start: i64,
    source_end: i64,
) -> Result<i64, ResumeRefusal> {
    let next = match target_last {
        None => job_start,
        Some(None) => return Err(ResumeRefusal::ForeignRecord),
        Some(Some(last_copied)) => last_copied + 1,
    };
    if next > source_end {
        return Err(ResumeRefusal::BeyondSourceEnd { next });
    }
    if source_log_start > next {
        return Err(ResumeRefusal::RetentionGap {
            lost_from: next,
            lost_to: source_log_start - 1,
        });
    }
    Ok(next)
}

/// Copies every job's source partition to its target partition until [`Until`] says stop.
///
/// Per partition, the copy resumes after the source offset carried by the target's last record
/// (or at `job.start` when the target partition is empty), and fails before copying anything if
/// that is impossible without loss (see [`CopyError`]). Each record goes to the same partition
/// number with the same key, value (null stays null), headers in order, the
/// [`SOURCE_OFFSET_HEADER`] header appended, and its timestamp as CreateTime.
///
/// `source` and `target` are client settings ([`crate::cluster::client_config`]); the engine adds
/// its own consumer and producer properties on top. Memory is bounded by the producer queue
/// (100,000 records or 64 MiB) and each consumer's prefetch queue (16 MiB): when the producer
/// queue is full the engine waits for deliveries instead of reading more.
pub fn copy_partitions(
    source: &ClientConfig,
    target: &ClientConfig,
    jobs: &[CopyJob],
    until: Until,
    progress: &dyn Fn(&CopyProgress),
) -> Result<Vec<CopyOutcome>, CopyError> {
    let Until::CaughtUp = until;
    check_unique(jobs)?;
    if jobs.is_empty() {
        return Ok(Vec::new());
    }

    let source_meta = metadata_consumer(source, "source")?;
    let mut source_marks = Vec::with_capacity(jobs.len());
    for job in jobs {
        let (low, high) = source_meta
            .fetch_watermarks(&job.source_topic, job.partition, REQUEST_TIMEOUT)
            .map_err(|error| {
                kafka(
                    format!(
                        "reading the watermarks of source partition {}[{}]",
                        job.source_topic, job.partition
                    ),
                    error,
                )
            })?;
        source_marks.push((low, high));
    }
    drop(source_meta);

    let target_last = target_tails(target, jobs)?;
    let mut states = Vec::with_capacity(jobs.len());
    let mut maps = Vec::with_capacity(jobs.len());
    for ((job, &(low, end)), (target_end, last)) in jobs.iter().zip(&source_marks).zip(target_last)
    {
        let next = resume_point(last.map(|(_, header)| header), job.start, low, end).map_err(
            |refusal| match refusal {
                ResumeRefusal::ForeignRecord => CopyError::ForeignRecord {
                    topic: job.target_topic.clone(),
                    partition: job.partition,
                    offset: last.map_or(-1, |(offset, _)| offset),
                },
                ResumeRefusal::RetentionGap { lost_from, lost_to } => CopyError::RetentionGap {
                    topic: job.source_topic.clone(),
                    partition: job.partition,
                    lost_from,
                    lost_to,
                },
                ResumeRefusal::BeyondSourceEnd { next } => CopyError::BeyondSourceEnd {
                    topic: job.source_topic.clone(),
                    partition: job.partition,
                    next,
                    source_end: end,
                },
            },
        )?;
        states.push(PartitionState {
            next,
            end,
            done: next >= end,
        });
        maps.push(OffsetMap::new(next, target_end));
    }

    let producer: BaseProducer<Deliveries> = producer_config(target)
        .create_with_context(Deliveries::new(maps))
        .map_err(|error| kafka("creating the target producer".into(), error))?;

    // One consumer per source topic: librdkafka reports the end of a partition by partition
    // number only, so with one consumer for several topics the end could not be attributed.
    let mut by_topic: BTreeMap<&str, HashMap<i32, usize>> = BTreeMap::new();
    for (index, job) in jobs.iter().enumerate() {
        if !states[index].done {
            by_topic
                .entry(&job.source_topic)
                .or_default()
                .insert(job.partition, index);
        }
    }
    let mut readers = Vec::with_capacity(by_topic.len());
    for (topic, partitions) in by_topic {
        let consumer = copy_consumer(source)?;
        let mut assignment = TopicPartitionList::with_capacity(partitions.len());
        for (&partition, &index) in &partitions {
            assignment
                .add_partition_offset(topic, partition, Offset::Offset(states[index].next))
                .map_err(|error| kafka(format!("assigning {topic}[{partition}]"), error))?;
        }
        consumer
            .assign(&assignment)
            .map_err(|error| kafka(format!("assigning the partitions of {topic}"), error))?;
        readers.push(Reader {
            topic: topic.to_string(),
            consumer,
            partitions,
        });
    }

    let report = |states: &[PartitionState], producer: &BaseProducer<Deliveries>| {
        let delivered = producer.context().state.lock().unwrap();
        progress(&CopyProgress {
            copied: delivered.copied.iter().sum(),
            lag: states.iter().map(|s| (s.end - s.next).max(0)).sum(),
            partitions_done: states.iter().filter(|s| s.done).count(),
            partitions: states.len(),
        });
    };

    let mut last_report = Instant::now();
    while states.iter().any(|s| !s.done) {
        let mut moved = 0;
        for reader in &readers {
            moved += reader.pump(jobs, &mut states, &producer)?;
        }
        producer.poll(if moved == 0 {
            Duration::from_millis(5)
        } else {
            Duration::ZERO
        });
        producer.context().check()?;
        if last_report.elapsed() >= PROGRESS_EVERY {
            report(&states, &producer);
            last_report = Instant::now();
        }
    }
    drop(readers);

    producer
        .flush(FLUSH_TIMEOUT)
        .map_err(|error| kafka("waiting for the target to take every record".into(), error))?;
    producer.context().check()?;
    report(&states, &producer);

    let mut delivered = producer.context().state.lock().unwrap();
    let outcomes = jobs
        .iter()
        .zip(&states)
        .enumerate()
        .map(|(index, (job, state))| CopyOutcome {
            topic: job.target_topic.clone(),
            partition: job.partition,
            copied: delivered.copied[index],
            next_source_offset: state.next,
            map: std::mem::replace(&mut delivered.maps[index], OffsetMap::new(0, 0)),
        })
        .collect();
    Ok(outcomes)
}

/// Where one partition stands.
struct PartitionState {
    /// The source offset after the last record handed to the producer.
    next: i64,
    /// The source high watermark read at the start.
    end: i64,
    done: bool,
}

/// The consumer of one source topic.
struct Reader {
    topic: String,
    consumer: BaseConsumer,
    /// Partition -> job index.
    partitions: HashMap<i32, usize>,
}

impl Reader {
    /// Hands up to [`BURST`] available records to the producer; returns how many events it saw.
    fn pump(
        &self,
        jobs: &[CopyJob],
        states: &mut [PartitionState],
        producer: &BaseProducer<Deliveries>,
    ) -> Result<usize, CopyError> {
        let mut seen = 0;
        while seen < BURST {
            let Some(polled) = self.consumer.poll(Duration::ZERO) else {
                break;
            };
            seen += 1;
            let message = match polled {
                Ok(message) => message,
                Err(KafkaError::PartitionEOF(partition)) => {
                    if let Some(&index) = self.partitions.get(&partition) {
                        self.finish(partition, &mut states[index])?;
                    }
                    continue;
                }
                Err(KafkaError::MessageConsumption(code)) if !stops_copy(code) => {
                    // Transient (a broker down, a connection closed): librdkafka reconnects and
                    // fetches again from the same position.
                    tracing::warn!(topic = %self.topic, "reading the source: {code}; retrying");
                    continue;
                }
                Err(error) => {
                    return Err(kafka(format!("reading source topic {}", self.topic), error));
                }
            };
            let partition = message.partition();
            let Some(&index) = self.partitions.get(&partition) else {
                continue;
            };
            let state = &mut states[index];
            let offset = message.offset();
            if state.done || offset < state.next {
                continue;
            }
            if offset >= state.end {
                self.finish(partition, state)?;
                continue;
            }
            let job = &jobs[index];
            let mut headers = OwnedHeaders::new_with_capacity(
                message.headers().map_or(0, |headers| headers.count()) + 1,
            );
            if let Some(source_headers) = message.headers() {
                for header in source_headers.iter() {
                    headers = headers.insert(header);
                }
            }
            let encoded = encode_source_offset(offset);
            headers = headers.insert(Header {
                key: SOURCE_OFFSET_HEADER,
                value: Some(&encoded),
            });
            let mut record: BaseRecord<'_, [u8], [u8], Box<Sent>> =
                BaseRecord::with_opaque_to(&job.target_topic, Box::new(Sent { index, offset }))
                    .partition(partition)
                    .headers(headers);
            if let Some(key) = message.key() {
                record = record.key(key);
            }
            if let Some(value) = message.payload() {
                record = record.payload(value);
            }
            if let Some(timestamp) = message.timestamp().to_millis() {
                record = record.timestamp(timestamp);
            }
            send(producer, record, job)?;
            state.next = offset + 1;
            if state.next >= state.end {
                self.finish(partition, state)?;
            }
        }
        Ok(seen)
    }

    /// Marks a partition done and stops fetching it.
    fn finish(&self, partition: i32, state: &mut PartitionState) -> Result<(), CopyError> {
        if state.done {
            return Ok(());
        }
        state.done = true;
        let mut list = TopicPartitionList::new();
        list.add_partition(&self.topic, partition);
        self.consumer
            .pause(&list)
            .map_err(|error| kafka(format!("pausing {}[{partition}]", self.topic), error))
    }
}

/// Whether a consumer error ends the copy. An offset out of range means the next record to copy
/// was deleted while copying (retention); `auto.offset.reset=error` turns it into this error
/// instead of a silent jump, and the next run reports the exact lost range.
fn stops_copy(code: RDKafkaErrorCode) -> bool {
    matches!(
        code,
        RDKafkaErrorCode::AutoOffsetReset
            | RDKafkaErrorCode::OffsetOutOfRange
            | RDKafkaErrorCode::UnknownTopicOrPartition
            | RDKafkaErrorCode::UnknownPartition
            | RDKafkaErrorCode::UnknownTopic
            | RDKafkaErrorCode::TopicAuthorizationFailed
            | RDKafkaErrorCode::Fatal
    )
}

/// Enqueues one record, waiting for deliveries while the producer queue is full.
fn send(
    producer: &BaseProducer<Deliveries>,
    mut record: BaseRecord<'_, [u8], [u8], Box<Sent>>,
    job: &CopyJob,
) -> Result<(), CopyError> {
    loop {
        match producer.send(record) {
            Ok(()) => return Ok(()),
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                record = back;
                producer.poll(Duration::from_millis(10));
                producer.context().check()?;
            }
            Err((error, _)) => {
                return Err(CopyError::Produce {
                    topic: job.target_topic.clone(),
                    partition: job.partition,
                    detail: error.to_string(),
                });
            }
        }
    }
}

/// What a delivery report refers to.
struct Sent {
    index: usize,
    offset: i64,
}

/// Delivery reports, gathered by the producer's context.
struct Deliveries {
    state: Mutex<Delivered>,
}

struct Delivered {
    copied: Vec<u64>,
    maps: Vec<OffsetMap>,
    error: Option<CopyError>,
}

impl Deliveries {
    fn new(maps: Vec<OffsetMap>) -> Deliveries {
        Deliveries {
            state: Mutex::new(Delivered {
                copied: vec![0; maps.len()],
                maps,
                error: None,
            }),
        }
    }

    /// The first delivery error, if any.
    fn check(&self) -> Result<(), CopyError> {
        match &self.state.lock().unwrap().error {
            Some(error) => Err(error.clone()),
            None => Ok(()),
        }
    }
}

impl ClientContext for Deliveries {}

impl ProducerContext for Deliveries {
    type DeliveryOpaque = Box<Sent>;

    fn delivery(&self, result: &DeliveryResult<'_>, sent: Box<Sent>) {
        let mut state = self.state.lock().unwrap();
        match result {
            Ok(message) => {
                state.copied[sent.index] += 1;
                if let Err(error) = state.maps[sent.index].push(sent.offset, message.offset()) {
                    state.error.get_or_insert_with(|| CopyError::OffsetMap {
                        topic: message.topic().to_string(),
                        partition: message.partition(),
                        source: error,
                    });
                }
            }
            Err((error, message)) => {
                state.error.get_or_insert_with(|| CopyError::Produce {
                    topic: message.topic().to_string(),
                    partition: message.partition(),
                    detail: format!("record from source offset {}: {error}", sent.offset),
                });
            }
        }
    }
}

/// The end of a target partition: its high watermark, and its last record as
/// `(offset, decoded source-offset header)` (`None` when the partition is empty).
type TargetTail = (i64, Option<(i64, Option<i64>)>);

/// The [`TargetTail`] of every job's target partition.
fn target_tails(target: &ClientConfig, jobs: &[CopyJob]) -> Result<Vec<TargetTail>, CopyError> {
    let consumer = copy_consumer(target)?;
    let mut tails: Vec<TargetTail> = vec![(0, None); jobs.len()];
    let mut wanted: HashMap<(&str, i32), (usize, i64)> = HashMap::new();
    let mut assignment = TopicPartitionList::new();
    for (index, job) in jobs.iter().enumerate() {
        let (low, high) = consumer
            .fetch_watermarks(&job.target_topic, job.partition, REQUEST_TIMEOUT)
            .map_err(|error| {
                kafka(
                    format!(
                        "reading the watermarks of target partition {}[{}]",
                        job.target_topic, job.partition
                    ),
                    error,
                )
            })?;
        tails[index].0 = high;
        if high > low {
            wanted.insert((&job.target_topic, job.partition), (index, high - 1));
            assignment
                .add_partition_offset(&job.target_topic, job.partition, Offset::Offset(high - 1))
                .map_err(|error| kafka("assigning target partitions".into(), error))?;
        }
    }
    if wanted.is_empty() {
        return Ok(tails);
    }
    consumer
        .assign(&assignment)
        .map_err(|error| kafka("assigning target partitions".into(), error))?;
    let deadline = Instant::now() + TAIL_TIMEOUT;
    let mut missing = wanted.len();
    while missing > 0 {
        if Instant::now() >= deadline {
            let (&(topic, partition), &(_, offset)) = wanted
                .iter()
                .find(|(_, (index, _))| tails[*index].1.is_none())
                .expect("a partition is missing");
            return Err(CopyError::Kafka {
                what: format!(
                    "reading the last record (offset {offset}) of target partition {topic}[{partition}]"
                ),
                detail: format!("no record arrived within {}s", TAIL_TIMEOUT.as_secs()),
            });
        }
        let message = match consumer.poll(Duration::from_millis(100)) {
            None | Some(Err(KafkaError::PartitionEOF(_))) => continue,
            Some(Err(error)) => {
                return Err(kafka(
                    "reading the last records of the target".into(),
                    error,
                ));
            }
            Some(Ok(message)) => message,
        };
        let Some(&(index, last)) = wanted.get(&(message.topic(), message.partition())) else {
            continue;
        };
        if message.offset() != last || tails[index].1.is_some() {
            continue;
        }
        // A record copied twice over (chained migrations) carries several ferry headers; the
        // one this copy appended is the last.
        let header = message.headers().and_then(|headers| {
            headers
                .iter()
                .filter(|header| header.key == SOURCE_OFFSET_HEADER)
                .last()
                .and_then(|header| header.value.and_then(decode_source_offset))
        });
        tails[index].1 = Some((last, header));
        missing -= 1;
    }
    Ok(tails)
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

fn metadata_consumer(settings: &ClientConfig, side: &str) -> Result<BaseConsumer, CopyError> {
    settings
        .clone()
        .create()
        .map_err(|error| kafka(format!("creating a {side} client"), error))
}

/// A consumer reading assigned partitions from explicit offsets: no commits, no group joined,
/// stopping with an error instead of jumping when an offset falls out of range.
fn copy_consumer(settings: &ClientConfig) -> Result<BaseConsumer, CopyError> {
    settings
        .clone()
        .set("group.id", COPY_GROUP)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("enable.partition.eof", "true")
        .set("auto.offset.reset", "error")
        .set("queued.max.messages.kbytes", CONSUMER_QUEUE_KBYTES)
        .create()
        .map_err(|error| kafka("creating a consumer".into(), error))
}

fn producer_config(settings: &ClientConfig) -> ClientConfig {
    let mut config = settings.clone();
    config
        .set("enable.idempotence", "true")
        .set("enable.gapless.guarantee", "true")
        .set("acks", "all")
        .set("compression.type", "lz4")
        .set("linger.ms", "5")
        .set("queue.buffering.max.messages", PRODUCER_QUEUE_MESSAGES)
        .set("queue.buffering.max.kbytes", PRODUCER_QUEUE_KBYTES);
    config
}

fn kafka(what: String, error: KafkaError) -> CopyError {
    CopyError::Kafka {
        what,
        detail: error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The retention-gap decision, tested here because tansu cannot move a log start (its
    /// DeleteRecords panics the broker), so no broker test can create a gap.
    #[test]
    fn resume_point_table() {
        use ResumeRefusal::*;
        type Case = (
            Option<Option<i64>>,
            i64,
            i64,
            i64,
            Result<i64, ResumeRefusal>,
        );
        let cases: &[Case] = &[
            // Empty target: start at the job's start.
            (None, 0, 0, 10, Ok(0)),
            (None, 4, 0, 10, Ok(4)),
            (None, 10, 0, 10, Ok(10)),
            (None, 0, 0, 0, Ok(0)),
            // Empty target, start already deleted by retention.
            (
                None,
                2,
                5,
                10,
                Err(RetentionGap {
                    lost_from: 2,
                    lost_to: 4,
                }),
            ),
            (None, 11, 0, 10, Err(BeyondSourceEnd { next: 11 })),
            // Target holds copies: continue after the last one.
            (Some(Some(3)), 0, 0, 10, Ok(4)),
            (Some(Some(9)), 0, 0, 10, Ok(10)),
            (Some(Some(4)), 0, 5, 10, Ok(5)),
            (
                Some(Some(3)),
                0,
                5,
                10,
                Err(RetentionGap {
                    lost_from: 4,
                    lost_to: 4,
                }),
            ),
            (
                Some(Some(3)),
                0,
                10,
                10,
                Err(RetentionGap {
                    lost_from: 4,
                    lost_to: 9,
                }),
            ),
            // The job's start does not matter once the target holds copies.
            (Some(Some(3)), 8, 0, 10, Ok(4)),
            // Source recreated: shorter than what was copied.
            (Some(Some(10)), 0, 0, 10, Err(BeyondSourceEnd { next: 11 })),
            (Some(Some(50)), 0, 0, 3, Err(BeyondSourceEnd { next: 51 })),
            // Someone else wrote the last record.
            (Some(None), 0, 0, 10, Err(ForeignRecord)),
            (Some(None), 0, 5, 10, Err(ForeignRecord)),
        ];
        for &(last, start, log_start, end, expected) in cases {
            assert_eq!(
                resume_point(last, start, log_start, end),
                expected,
                "target_last={last:?} start={start} log_start={log_start} end={end}"
            );
        }
    }

    fn job(source: &str, target: &str, partition: i32) -> CopyJob {
        CopyJob {
            source_topic: source.into(),
            target_topic: target.into(),
            partition,
            start: 0,
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

    #[test]
    fn producer_is_safe() {
        let config = producer_config(&ClientConfig::new());
        assert_eq!(config.get("enable.idempotence"), Some("true"));
        assert_eq!(config.get("enable.gapless.guarantee"), Some("true"));
        assert_eq!(config.get("acks"), Some("all"));
    }
}
