//! The end of each target partition as the copy sees it: the last record a `read_committed`
//! consumer returns, and the source offset in its ferry header.
//!
//! The last record is not always at the high watermark minus one: a fenced copy leaves a commit
//! marker after its last record, and a fenced run that was killed leaves aborted records and an
//! abort marker. So the tail is searched backwards in widening windows (2 offsets, then 32, 512,
//! ...): each window is read up to the high watermark, and the last record returned in it is the
//! tail. One window is enough for every partition but those where a killed run left a long
//! aborted transaction.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Headers, Message};
use rdkafka::{Offset, TopicPartitionList};

use super::clients::{REQUEST_TIMEOUT, copy_consumer, kafka, stops_copy};
use super::header::{SOURCE_OFFSET_HEADER, decode_source_offset};
use super::resume::TargetEnd;
use super::{CopyError, CopyJob};
use crate::cluster::KafkaLog;

/// How long reading the last records of the target partitions may take.
const TAIL_TIMEOUT: Duration = Duration::from_secs(30);
/// The first window, in offsets: the last record and a commit marker after it.
const FIRST_WINDOW: i64 = 2;
/// How much each further window grows.
const WIDEN: i64 = 16;

/// The end of a target partition: its high watermark and what it says about the copy.
#[derive(Debug, Clone, Copy)]
pub(super) struct TargetTail {
    pub high: i64,
    pub end: TargetEnd,
    /// The offset of the last record (`high - 1` when there is none).
    pub last: i64,
}

/// The [`TargetTail`] of every job's target partition.
pub(super) fn target_tails(
    target: &ClientConfig,
    jobs: &[CopyJob],
) -> Result<Vec<TargetTail>, CopyError> {
    let consumer = copy_consumer(target)?;
    let mut tails = Vec::with_capacity(jobs.len());
    // (job index, low watermark) of the partitions that hold something.
    let mut open = Vec::new();
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
        let end = if high == low && high > 0 {
            TargetEnd::Emptied { end: high }
        } else {
            TargetEnd::Empty
        };
        tails.push(TargetTail {
            high,
            end,
            last: high - 1,
        });
        if high > low {
            open.push((index, low));
        }
    }
    let deadline = Instant::now() + TAIL_TIMEOUT;
    let mut window = FIRST_WINDOW;
    while !open.is_empty() {
        let ranges: Vec<(usize, i64)> = open
            .iter()
            .map(|&(index, low)| (index, low.max(tails[index].high - window)))
            .collect();
        let found = last_records(&consumer, jobs, &tails, &ranges, deadline)?;
        let mut still_open = Vec::new();
        for (&(index, low), (&(_, from), found)) in open.iter().zip(ranges.iter().zip(found)) {
            match found {
                Some((offset, copied_from)) => {
                    tails[index].end = TargetEnd::Last(copied_from);
                    tails[index].last = offset;
                }
                // Nothing but markers and aborted records from the log start on: no copy was
                // ever committed there, or retention removed it.
                None if from == low => {
                    if low > 0 {
                        tails[index].end = TargetEnd::Emptied {
                            end: tails[index].high,
                        };
                    }
                }
                None => still_open.push((index, low)),
            }
        }
        open = still_open;
        window = window.saturating_mul(WIDEN);
    }
    Ok(tails)
}

/// The offset of a partition's last record and the source offset in its ferry header.
type LastRecord = (i64, Option<i64>);

/// Reads each `(job index, from)` range up to its partition's high watermark and returns the
/// offset and source-offset header of the last record in it.
fn last_records(
    consumer: &BaseConsumer<KafkaLog>,
    jobs: &[CopyJob],
    tails: &[TargetTail],
    ranges: &[(usize, i64)],
    deadline: Instant,
) -> Result<Vec<Option<LastRecord>>, CopyError> {
    let mut assignment = TopicPartitionList::new();
    // (topic, partition) -> position in `ranges`.
    let mut wanted: HashMap<(&str, i32), usize> = HashMap::new();
    for (at, &(index, from)) in ranges.iter().enumerate() {
        let job = &jobs[index];
        assignment
            .add_partition_offset(&job.target_topic, job.partition, Offset::Offset(from))
            .map_err(|error| kafka("assigning target partitions".into(), error))?;
        wanted.insert((&job.target_topic, job.partition), at);
    }
    consumer
        .assign(&assignment)
        .map_err(|error| kafka("assigning target partitions".into(), error))?;
    let mut last = vec![None; ranges.len()];
    let mut done = vec![false; ranges.len()];
    while done.iter().any(|d| !d) {
        if Instant::now() >= deadline {
            let at = done.iter().position(|d| !d).expect("a partition is open");
            let job = &jobs[ranges[at].0];
            return Err(CopyError::Kafka {
                what: format!(
                    "reading the last records (from offset {}) of target partition {}[{}]",
                    ranges[at].1, job.target_topic, job.partition
                ),
                detail: format!("the end was not reached within {}s", TAIL_TIMEOUT.as_secs()),
            });
        }
        match consumer.poll(Duration::from_millis(100)) {
            None => {}
            Some(Err(KafkaError::PartitionEOF(_))) => {
                // Which topic reached its end is not said: ask every open one's position.
                let positions = consumer
                    .position()
                    .map_err(|error| kafka("reading the tail positions".into(), error))?;
                for (at, &(index, _)) in ranges.iter().enumerate() {
                    let job = &jobs[index];
                    let position = positions
                        .find_partition(&job.target_topic, job.partition)
                        .and_then(|e| e.offset().to_raw());
                    if position.is_some_and(|p| p >= tails[index].high) {
                        done[at] = true;
                    }
                }
            }
            // A target briefly unreachable: librdkafka reconnects; the deadline still bounds it.
            Some(Err(KafkaError::MessageConsumption(code))) if !stops_copy(code) => {
                tracing::warn!("reading the last records of the target: {code}; retrying");
            }
            Some(Err(error)) => {
                return Err(kafka(
                    "reading the last records of the target".into(),
                    error,
                ));
            }
            Some(Ok(message)) => {
                let Some(&at) = wanted.get(&(message.topic(), message.partition())) else {
                    continue;
                };
                let high = tails[ranges[at].0].high;
                if message.offset() >= high {
                    continue;
                }
                // A record copied twice over (chained migrations) carries several ferry
                // headers; the one this copy appended is the last.
                let copied_from = message.headers().and_then(|headers| {
                    headers
                        .iter()
                        .filter(|header| header.key == SOURCE_OFFSET_HEADER)
                        .last()
                        .and_then(|header| header.value.and_then(decode_source_offset))
                });
                last[at] = Some((message.offset(), copied_from));
                if message.offset() + 1 >= high {
                    done[at] = true;
                }
            }
        }
    }
    Ok(last)
}
