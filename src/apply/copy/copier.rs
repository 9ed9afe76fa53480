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
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::client::ClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{BorrowedMessage, Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};

use super::header::{SOURCE_OFFSET_HEADER, decode_source_offset, encode_source_offset};
use super::offset_map::OffsetMap;
use super::{CopyError, CopyProgress};

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
/// Source consumers reading in parallel at most: one connection fetches only so fast (a fetch
/// waits for its reply), so a few connections move several times as much.
const READERS: usize = 4;
/// How long a reader waits for the next record before checking whether the copy failed.
const POLL_WAIT: Duration = Duration::from_millis(100);
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
/// its own consumer and producer properties on top. Up to [`READERS`] consumers fetch in
/// parallel threads. Memory is bounded by the producer queue (100,000 records or 64 MiB) and each
/// consumer's prefetch queue (16 MiB): when the producer queue is full the engine waits for
/// deliveries instead of reading more. While a broker is down the copy waits for librdkafka to
/// reconnect; when no record is delivered and no partition finishes for `stall_timeout`, it
/// fails with [`CopyError::Stalled`] (nothing is lost: the next run resumes exactly).
pub fn copy_partitions(
    source: &ClientConfig,
    target: &ClientConfig,
    jobs: &[CopyJob],
    until: Until,
    stall_timeout: Duration,
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
        states.push(PartitionState::new(next, end));
        maps.push(OffsetMap::new(next, target_end));
    }

    let producer: BaseProducer<Deliveries> = producer_config(target)
        .create_with_context(Deliveries::new(maps))
        .map_err(|error| kafka("creating the target producer".into(), error))?;

    let readers = readers(source, jobs, &states)?;
    let failed = AtomicBool::new(false);
    let report = || {
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
        });
    };

    // Readers fetch in parallel (fetching is latency-bound per connection) and hand records to
    // the one producer; this thread serves delivery reports, watches for stalls and reports.
    let result = thread::scope(|scope| {
        let handles: Vec<_> = readers
            .iter()
            .map(|reader| {
                let (states, producer, failed) = (&states, &producer, &failed);
                scope.spawn(move || {
                    let result = reader.run(jobs, states, producer, failed);
                    if result.is_err() {
                        failed.store(true, Ordering::Relaxed);
                    }
                    result
                })
            })
            .collect();
        let mut last_report = Instant::now();
        let mut last_moved = (Instant::now(), 0, 0);
        while !handles.iter().all(|h| h.is_finished()) {
            producer.poll(Duration::from_millis(50));
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
    // A delivery error explains a reader stopped on `failed`; report it first.
    producer.context().check()?;
    result?;

    producer
        .flush(FLUSH_TIMEOUT)
        .map_err(|error| kafka("waiting for the target to take every record".into(), error))?;
    producer.context().check()?;
    report();

    let mut delivered = producer.context().state.lock().unwrap();
    let outcomes = jobs
        .iter()
        .zip(&states)
        .enumerate()
        .map(|(index, (job, state))| CopyOutcome {
            topic: job.target_topic.clone(),
            partition: job.partition,
            copied: delivered.copied[index],
            next_source_offset: state.next(),
            map: std::mem::replace(&mut delivered.maps[index], OffsetMap::new(0, 0)),
        })
        .collect();
    Ok(outcomes)
}

/// Where one partition stands; written by its reader thread, read for progress.
struct PartitionState {
    /// The source offset after the last record handed to the producer.
    next: AtomicI64,
    /// The source high watermark read at the start.
    end: i64,
    done: AtomicBool,
}

impl PartitionState {
    fn new(next: i64, end: i64) -> PartitionState {
        PartitionState {
            next: AtomicI64::new(next),
            end,
            done: AtomicBool::new(next >= end),
        }
    }

    fn next(&self) -> i64 {
        self.next.load(Ordering::Relaxed)
    }

    fn is_done(&self) -> bool {
        self.done.load(Ordering::Relaxed)
    }

    fn lag(&self) -> i64 {
        (self.end - self.next()).max(0)
    }
}

/// Up to [`READERS`] consumers sharing the partitions still to copy, round-robin.
fn readers(
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
struct Reader {
    consumer: BaseConsumer,
    /// (source topic, partition) -> job index.
    partitions: HashMap<(String, i32), usize>,
}

impl Reader {
    /// Copies until each of its partitions reaches its end, or until `failed` is set.
    fn run(
        &self,
        jobs: &[CopyJob],
        states: &[PartitionState],
        producer: &BaseProducer<Deliveries>,
        failed: &AtomicBool,
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
                    open -= self.reached_end(partition, states)?;
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
            send(producer, &message, &jobs[index], index)?;
            state.next.store(offset + 1, Ordering::Relaxed);
            if offset + 1 >= state.end {
                open -= self.finish(&jobs[index], state)?;
            }
        }
        Ok(())
    }

    /// Handles the end of partition number `partition` of some assigned topic: librdkafka does
    /// not say which topic, so every open partition with that number whose position reached its
    /// end is finished. Returns how many were.
    fn reached_end(&self, partition: i32, states: &[PartitionState]) -> Result<usize, CopyError> {
        let positions = self
            .consumer
            .position()
            .map_err(|error| kafka("reading the copy positions".into(), error))?;
        let mut finished = 0;
        for ((topic, p), &index) in &self.partitions {
            if *p != partition || states[index].is_done() {
                continue;
            }
            let at_end = positions
                .find_partition(topic, partition)
                .and_then(|e| e.offset().to_raw())
                .is_some_and(|position| position >= states[index].end);
            if at_end {
                finished += self.finish_partition(topic, partition, &states[index])?;
            }
        }
        Ok(finished)
    }

    fn finish(&self, job: &CopyJob, state: &PartitionState) -> Result<usize, CopyError> {
        self.finish_partition(&job.source_topic, job.partition, state)
    }

    /// Marks a partition done and stops fetching it; returns 1, or 0 if it was done already.
    fn finish_partition(
        &self,
        topic: &str,
        partition: i32,
        state: &PartitionState,
    ) -> Result<usize, CopyError> {
        if state.done.swap(true, Ordering::Relaxed) {
            return Ok(0);
        }
        let mut list = TopicPartitionList::new();
        list.add_partition(topic, partition);
        self.consumer
            .pause(&list)
            .map_err(|error| kafka(format!("pausing {topic}[{partition}]"), error))?;
        Ok(1)
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

/// Enqueues the copy of `message`, waiting for deliveries while the producer queue is full.
///
/// The copy goes to the same partition number with the same key, value (null stays null),
/// headers in order plus [`SOURCE_OFFSET_HEADER`], and the timestamp as CreateTime.
fn send(
    producer: &BaseProducer<Deliveries>,
    message: &BorrowedMessage<'_>,
    job: &CopyJob,
    index: usize,
) -> Result<(), CopyError> {
    let offset = message.offset();
    let source_headers = message.headers();
    let mut headers =
        OwnedHeaders::new_with_capacity(source_headers.map_or(0, |headers| headers.count()) + 1);
    if let Some(source_headers) = source_headers {
        for header in source_headers.iter() {
            headers = headers.insert(header);
        }
    }
    let encoded = encode_source_offset(offset);
    headers = headers.insert(Header {
        key: SOURCE_OFFSET_HEADER,
        value: Some(&encoded),
    });
    let bytes = message.key().map_or(0, <[u8]>::len) + message.payload().map_or(0, <[u8]>::len);
    let mut record: BaseRecord<'_, [u8], [u8], Box<Sent>> = BaseRecord::with_opaque_to(
        &job.target_topic,
        Box::new(Sent {
            index,
            offset,
            bytes: bytes as u64,
        }),
    )
    .partition(message.partition())
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
    bytes: u64,
}

/// Delivery reports, gathered by the producer's context.
struct Deliveries {
    state: Mutex<Delivered>,
}

struct Delivered {
    copied: Vec<u64>,
    /// Key and value bytes delivered.
    bytes: u64,
    maps: Vec<OffsetMap>,
    error: Option<CopyError>,
}

impl Deliveries {
    fn new(maps: Vec<OffsetMap>) -> Deliveries {
        Deliveries {
            state: Mutex::new(Delivered {
                copied: vec![0; maps.len()],
                bytes: 0,
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
                state.bytes += sent.bytes;
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
