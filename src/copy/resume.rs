//! Where each partition's copy continues, read from the target itself: shared by the one-shot
//! copy (`copy_partitions`) and the group-shared service (`replicate`), so both resume exactly
//! the same way.
//!
//! The target's last record carries the source offset it was copied from
//! ([`SOURCE_OFFSET_HEADER`]); the next record to copy follows it. Nothing else (state file,
//! committed group offsets) is trusted, because only the target cannot lag behind what was
//! written to it.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::consumer::Consumer;
use rdkafka::error::KafkaError;
use rdkafka::message::{Headers, Message};
use rdkafka::{Offset, TopicPartitionList};

use super::clients::{REQUEST_TIMEOUT, copy_consumer, kafka, metadata_consumer, stops_copy};
use super::header::{SOURCE_OFFSET_HEADER, decode_source_offset};
use super::{CopyError, CopyJob};

/// How long reading the last record of the target partitions may take.
const TAIL_TIMEOUT: Duration = Duration::from_secs(30);

/// Where one job's copy continues, with the ends it was decided against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Resume {
    /// The next source offset to copy.
    pub next: i64,
    /// The source high watermark when the resume point was read.
    pub source_end: i64,
    /// The target high watermark: the target offset the next copied record gets.
    pub target_end: i64,
}

/// `(low, high)` watermarks of every job's source partition.
pub(super) fn source_watermarks(
    source: &ClientConfig,
    jobs: &[CopyJob],
) -> Result<Vec<(i64, i64)>, CopyError> {
    let meta = metadata_consumer(source, "source")?;
    jobs.iter()
        .map(|job| {
            meta.fetch_watermarks(&job.source_topic, job.partition, REQUEST_TIMEOUT)
                .map_err(|error| {
                    kafka(
                        format!(
                            "reading the watermarks of source partition {}[{}]",
                            job.source_topic, job.partition
                        ),
                        error,
                    )
                })
        })
        .collect()
}

/// The [`Resume`] of every job, or the first job whose copy cannot continue without loss or
/// duplication (see [`resume_point`]).
pub(super) fn resume_points(
    source: &ClientConfig,
    target: &ClientConfig,
    jobs: &[CopyJob],
) -> Result<Vec<Resume>, CopyError> {
    let source_marks = source_watermarks(source, jobs)?;

    let target_last = target_tails(target, jobs)?;
    let mut resumes = Vec::with_capacity(jobs.len());
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
        resumes.push(Resume {
            next,
            source_end: end,
            target_end,
        });
    }
    Ok(resumes)
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
/// This decision is a pure function, table-tested below case by case; tests/copy_kafka.rs
/// produces a real retention gap (DeleteRecords on a Kafka source) end to end.
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
            // A target briefly unreachable: librdkafka reconnects; the deadline still bounds it.
            Some(Err(KafkaError::MessageConsumption(code))) if !stops_copy(code) => {
                tracing::warn!("reading the last records of the target: {code}; retrying");
                continue;
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every case of the decision; the retention gap against a real broker is in
    /// tests/copy_kafka.rs.
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
}
