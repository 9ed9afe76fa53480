//! Where each partition's copy continues, read from the target itself: shared by the one-shot
//! copy (`copy_partitions`) and the group-shared service (`replicate`), so both resume exactly
//! the same way.
//!
//! The target's last record carries the source offset it was copied from
//! ([`SOURCE_OFFSET_HEADER`](super::SOURCE_OFFSET_HEADER)); the next record to copy follows it. Nothing else (state file,
//! committed group offsets) is trusted while the target holds a record, because only the target
//! cannot lag behind what was written to it. Only a partition retention emptied, which keeps no
//! header to read, continues from the state's record of the copy, and only where that record
//! reaches the target's end.

use rdkafka::ClientConfig;
use rdkafka::consumer::Consumer;

#[cfg(test)]
use super::RecordedEnd;
use super::clients::{REQUEST_TIMEOUT, kafka, metadata_consumer};
use super::target_tail::target_tails;
use super::{CopyError, CopyJob};

/// Where one job's copy continues, with the ends it was decided against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Resume {
    /// The next source offset to copy.
    pub next: i64,
    /// The source high watermark when the resume point was read.
    pub source_end: i64,
    /// The target high watermark: the target offset the next copied record gets.
    pub target_end: i64,
    /// The accepted retention gap the copy skips to reach `next`.
    pub skipped_gap: Option<(i64, i64)>,
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

    let target_tails = target_tails(target, jobs)?;
    let mut resumes = Vec::with_capacity(jobs.len());
    for ((job, &(low, end)), tail) in jobs.iter().zip(&source_marks).zip(target_tails) {
        let decided = resume_point(tail.end, job, low, end).map_err(|refusal| match refusal {
            ResumeRefusal::ForeignRecord => CopyError::ForeignRecord {
                topic: job.target_topic.clone(),
                partition: job.partition,
                offset: tail.last,
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
            ResumeRefusal::EmptiedUnrecorded {
                recorded_target_end,
            } => CopyError::TargetEmptied {
                topic: job.target_topic.clone(),
                partition: job.partition,
                target_end: tail.high,
                recorded_target_end,
            },
        })?;
        resumes.push(Resume {
            next: decided.next,
            source_end: end,
            target_end: tail.high,
            skipped_gap: decided.skipped_gap,
        });
    }
    Ok(resumes)
}

/// What the end of a target partition says about the copy in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetEnd {
    /// Nothing was ever written to it.
    Empty,
    /// It holds no record, but its end offset is `end` > 0: retention (or DeleteRecords)
    /// removed everything written to it, and with it the last copy's header.
    Emptied { end: i64 },
    /// Its last record, copied from the source offset in its ferry header (`None`: the record
    /// has no such header).
    Last(Option<i64>),
}

/// Why the resume point of a partition could not be decided (see [`resume_point`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResumeRefusal {
    /// The target's last record has no source-offset header.
    ForeignRecord,
    /// Source offsets `lost_from..=lost_to` were deleted before they were copied, and the
    /// configuration does not accept losing them.
    RetentionGap { lost_from: i64, lost_to: i64 },
    /// The next offset to copy is past the source's end.
    BeyondSourceEnd { next: i64 },
    /// Retention emptied the target partition, and the state's record of the copy does not
    /// reach its end: an interrupted run copied records it did not record, and they are gone.
    EmptiedUnrecorded { recorded_target_end: i64 },
}

/// Where a partition's copy continues, and the accepted gap it skips to get there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResumeDecision {
    pub next: i64,
    pub skipped_gap: Option<(i64, i64)>,
}

/// The next source offset to copy into a partition, from what the target holds.
///
/// The target's last record decides when there is one. A partition retention emptied keeps
/// no record to read the copy's end from: the state's record of the copy (`job.recorded`)
/// decides then, if it reaches the target's end; if it does not, restarting from `job.start`
/// would copy everything again, so the copy stops. A target partition never written, or
/// emptied with no copy recorded, starts at `job.start`. `source_log_start` and `source_end` are the source partition's low and high
/// watermarks; a gap between the next offset and the log start stops the copy unless one of
/// `job.accepted_gaps` covers it.
///
/// This decision is a pure function, table-tested below case by case; tests/copy_kafka.rs and
/// tests/retention_e2e.rs produce the retention cases on real Kafka.
pub fn resume_point(
    target: TargetEnd,
    job: &CopyJob,
    source_log_start: i64,
    source_end: i64,
) -> Result<ResumeDecision, ResumeRefusal> {
    let next = match target {
        TargetEnd::Empty => job.start,
        TargetEnd::Emptied { end } => match job.recorded {
            Some(recorded) if recorded.target_end == end => recorded.next_source_offset,
            Some(recorded) => {
                return Err(ResumeRefusal::EmptiedUnrecorded {
                    recorded_target_end: recorded.target_end,
                });
            }
            // No copy of this partition was recorded: the target topic held records of its
            // own once, which are gone; nothing of the copy is there to continue.
            None => job.start,
        },
        TargetEnd::Last(None) => return Err(ResumeRefusal::ForeignRecord),
        TargetEnd::Last(Some(last_copied)) => last_copied + 1,
    };
    if next > source_end {
        return Err(ResumeRefusal::BeyondSourceEnd { next });
    }
    if source_log_start > next {
        let (lost_from, lost_to) = (next, source_log_start - 1);
        let accepted = job
            .accepted_gaps
            .iter()
            .any(|gap| gap.covers(&job.source_topic, job.partition, lost_from, lost_to));
        if !accepted {
            return Err(ResumeRefusal::RetentionGap { lost_from, lost_to });
        }
        return Ok(ResumeDecision {
            next: source_log_start,
            skipped_gap: Some((lost_from, lost_to)),
        });
    }
    Ok(ResumeDecision {
        next,
        skipped_gap: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::AcceptedGap;

    fn job(start: i64) -> CopyJob {
        CopyJob {
            source_topic: "orders".into(),
            target_topic: "orders".into(),
            partition: 3,
            start,
            ..CopyJob::default()
        }
    }

    fn ok(next: i64) -> Result<ResumeDecision, ResumeRefusal> {
        Ok(ResumeDecision {
            next,
            skipped_gap: None,
        })
    }

    /// Every case of the decision; the retention cases against a real broker are in
    /// tests/copy_kafka.rs and tests/retention_e2e.rs.
    #[test]
    fn resume_point_table() {
        use ResumeRefusal::*;
        use TargetEnd::*;
        type Case = (
            TargetEnd,
            i64,
            i64,
            i64,
            Result<ResumeDecision, ResumeRefusal>,
        );
        let cases: &[Case] = &[
            // Empty target: start at the job's start.
            (Empty, 0, 0, 10, ok(0)),
            (Empty, 4, 0, 10, ok(4)),
            (Empty, 10, 0, 10, ok(10)),
            (Empty, 0, 0, 0, ok(0)),
            // Empty target, start already deleted by retention.
            (
                Empty,
                2,
                5,
                10,
                Err(RetentionGap {
                    lost_from: 2,
                    lost_to: 4,
                }),
            ),
            (Empty, 11, 0, 10, Err(BeyondSourceEnd { next: 11 })),
            // Emptied by retention with no copy recorded: its old records were not ferry's.
            (Emptied { end: 7 }, 2, 0, 10, ok(2)),
            // Target holds copies: continue after the last one.
            (Last(Some(3)), 0, 0, 10, ok(4)),
            (Last(Some(9)), 0, 0, 10, ok(10)),
            (Last(Some(4)), 0, 5, 10, ok(5)),
            (
                Last(Some(3)),
                0,
                5,
                10,
                Err(RetentionGap {
                    lost_from: 4,
                    lost_to: 4,
                }),
            ),
            (
                Last(Some(3)),
                0,
                10,
                10,
                Err(RetentionGap {
                    lost_from: 4,
                    lost_to: 9,
                }),
            ),
            // The job's start does not matter once the target holds copies.
            (Last(Some(3)), 8, 0, 10, ok(4)),
            // Source recreated: shorter than what was copied.
            (Last(Some(10)), 0, 0, 10, Err(BeyondSourceEnd { next: 11 })),
            (Last(Some(50)), 0, 0, 3, Err(BeyondSourceEnd { next: 51 })),
            // Someone else wrote the last record.
            (Last(None), 0, 0, 10, Err(ForeignRecord)),
            (Last(None), 0, 5, 10, Err(ForeignRecord)),
        ];
        for &(target, start, log_start, end, expected) in cases {
            assert_eq!(
                resume_point(target, &job(start), log_start, end),
                expected,
                "target={target:?} start={start} log_start={log_start} end={end}"
            );
        }
    }

    /// A target partition retention emptied continues where the state recorded the copy, not
    /// at the job's start (which would copy everything again); a record that does not reach
    /// the target's end stops the copy.
    #[test]
    fn an_emptied_target_resumes_from_the_recorded_copy() {
        let mut recorded = job(0);
        recorded.recorded = Some(RecordedEnd {
            target_end: 120,
            next_source_offset: 130,
        });
        let emptied = TargetEnd::Emptied { end: 120 };
        assert_eq!(resume_point(emptied, &recorded, 0, 200), ok(130));
        assert_eq!(resume_point(emptied, &recorded, 130, 200), ok(130));
        // The state lags the target: records copied after it are gone with their headers.
        let ahead = TargetEnd::Emptied { end: 125 };
        assert_eq!(
            resume_point(ahead, &recorded, 0, 200),
            Err(ResumeRefusal::EmptiedUnrecorded {
                recorded_target_end: 120
            })
        );
        // Records on the target decide, whatever the state says.
        assert_eq!(
            resume_point(TargetEnd::Last(Some(140)), &recorded, 0, 200),
            ok(141)
        );
    }

    /// A retention gap is skipped only where `accept_gaps` covers all of it.
    #[test]
    fn an_accepted_gap_is_skipped_and_a_larger_one_is_not() {
        let mut accepting = job(0);
        accepting.accepted_gaps = vec![AcceptedGap {
            topic: "orders".into(),
            partition: 3,
            from: 40,
            to: 54,
        }];
        let last = TargetEnd::Last(Some(39));
        assert_eq!(
            resume_point(last, &accepting, 55, 100),
            Ok(ResumeDecision {
                next: 55,
                skipped_gap: Some((40, 54)),
            })
        );
        assert_eq!(
            resume_point(last, &accepting, 50, 100),
            Ok(ResumeDecision {
                next: 50,
                skipped_gap: Some((40, 49)),
            })
        );
        assert_eq!(
            resume_point(last, &accepting, 60, 100),
            Err(ResumeRefusal::RetentionGap {
                lost_from: 40,
                lost_to: 59
            })
        );
        // Another partition's gap is not accepted.
        let mut other = accepting.clone();
        other.partition = 2;
        assert_eq!(
            resume_point(last, &other, 55, 100),
            Err(ResumeRefusal::RetentionGap {
                lost_from: 40,
                lost_to: 54
            })
        );
    }
}
