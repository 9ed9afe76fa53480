//! One copy pass: the copy engine run up to the source's current end, its offset maps merged
//! into the copy recorded so far. The apply's first copy, the background copy and the drain all
//! run passes, on any thread (a pass holds only client settings).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;

use crate::cluster::client_config;
use crate::config::Desired;
use crate::copy::{
    CopyError, CopyJob, CopyOptions, CopyProgress, HeldPartition, OffsetMap, Until,
    copy_partitions_with,
};
use crate::error::Error;
use crate::state::PartitionCopy;

use super::super::reporter::Reporter;
use super::read_range::fill_from_target;

/// The copied partitions, by (source topic, partition).
pub type Copies = BTreeMap<(String, i32), PartitionCopy>;

/// Pause before a copy pass that failed on broker trouble runs again.
const PASS_RETRY_PAUSE: Duration = Duration::from_secs(1);

/// What a pass needs: client settings and how long broker trouble may last.
pub struct Passes<'a> {
    pub source: ClientConfig,
    /// The target's settings with the copy producer's compression.
    pub target: ClientConfig,
    pub wait_timeout: Duration,
    pub reporter: &'a dyn Reporter,
    /// Whether each pass reports its progress line (the background copy does not: it would
    /// bury the hooks' output).
    pub show_progress: bool,
    /// The partitions an open source transaction holds in the running pass, for the steps that
    /// wait on the background copy to name them.
    pub held: Arc<Mutex<Vec<HeldPartition>>>,
    /// How the copy writes: fenced in transactions where the plan found the target supports them.
    pub options: CopyOptions,
}

impl Passes<'_> {
    /// Passes of `desired`'s copy, fenced (see `copy::fencing`) when `fenced`.
    pub fn new<'a>(desired: &Desired, reporter: &'a dyn Reporter, fenced: bool) -> Passes<'a> {
        let mut target = client_config(&desired.target);
        target.set("compression.type", desired.replication.compression.as_str());
        Passes {
            source: client_config(&desired.source),
            target,
            wait_timeout: desired.migration.wait_timeout,
            reporter,
            show_progress: true,
            held: Arc::default(),
            options: CopyOptions {
                fenced_for: fenced.then(|| desired.migration.name.clone()),
            },
        }
    }

    /// One copy pass; merges its maps into `copies`. Returns the records copied.
    ///
    /// A pass that fails on broker trouble (a delivery failed, a request timed out: a broker
    /// restarting answers in-flight requests with errors) runs again after a pause, as a rerun of
    /// apply would: the copy resumes from the target's last record, so nothing is copied twice or
    /// skipped, and records the failed attempt delivered are read back from the target. It gives
    /// up when `wait_timeout` has passed since the first failure.
    pub fn pass(&self, jobs: &[CopyJob], copies: &mut Copies) -> Result<u64, Error> {
        self.pass_until(jobs, copies, Until::CaughtUp)
    }

    /// [`Passes::pass`], given up with [`CopyError::Cancelled`] as soon as `cancel` is set
    /// (also between attempts).
    pub fn pass_unless(
        &self,
        jobs: &[CopyJob],
        copies: &mut Copies,
        cancel: &AtomicBool,
    ) -> Result<u64, Error> {
        self.pass_until(jobs, copies, Until::CaughtUpUnless(cancel))
    }

    fn pass_until(
        &self,
        jobs: &[CopyJob],
        copies: &mut Copies,
        until: Until<'_>,
    ) -> Result<u64, Error> {
        let mut failing_since: Option<Instant> = None;
        loop {
            match self.pass_once(jobs, copies, until) {
                Err(PassError::Copy(error)) if retriable(&error) => {
                    if let Until::CaughtUpUnless(cancel) = until
                        && cancel.load(Ordering::Relaxed)
                    {
                        return Err(CopyError::Cancelled.into());
                    }
                    let since = *failing_since.get_or_insert_with(Instant::now);
                    if since.elapsed() >= self.wait_timeout {
                        return Err(error.into());
                    }
                    self.reporter.line(&format!(
                        "  the copy stopped ({error}); trying again in {}s, from the target's last record",
                        PASS_RETRY_PAUSE.as_secs()
                    ));
                    std::thread::sleep(PASS_RETRY_PAUSE);
                }
                Err(PassError::Copy(error)) => return Err(error.into()),
                Err(PassError::Other(error)) => return Err(error),
                Ok(records) => return Ok(records),
            }
        }
    }

    /// One attempt of [`Passes::pass`]. Returns the records copied, including those an earlier
    /// attempt or run delivered without recording them.
    fn pass_once(
        &self,
        jobs: &[CopyJob],
        copies: &mut Copies,
        until: Until<'_>,
    ) -> Result<u64, PassError> {
        let reporter = self.reporter;
        let started = Instant::now();
        let show = self.show_progress;
        let progress = |p: &CopyProgress| {
            *self.held.lock().unwrap_or_else(|e| e.into_inner()) = p.held.clone();
            if show {
                reporter.progress(&p.summary(started.elapsed()))
            }
        };
        let outcomes = copy_partitions_with(
            &self.source,
            &self.target,
            jobs,
            until,
            self.wait_timeout,
            &progress,
            &self.options,
        )
        .map_err(PassError::Copy)?;
        self.held.lock().unwrap_or_else(|e| e.into_inner()).clear();
        let mut records = 0;
        for (job, outcome) in jobs.iter().zip(outcomes) {
            records += outcome.copied;
            let key = (job.source_topic.clone(), job.partition);
            let mut merged = match copies.get(&key) {
                Some(copy) => copy.map.clone(),
                None => OffsetMap::new(job.start, 0),
            };
            let mut skipped_gaps = copies
                .get(&key)
                .map(|copy| copy.skipped_gaps.clone())
                .unwrap_or_default();
            if let Some((from, to)) = outcome.skipped_gap {
                self.reporter.line(&format!(
                    "  {}[{}]: source offsets {from}..={to} were deleted by retention before they were copied; \
                     skipped, as replication.accept_gaps allows",
                    job.source_topic, job.partition
                ));
                skipped_gaps.push((from, to));
            }
            // Records copied by a run the state did not record: read their map from the target.
            let recorded_next = copies
                .get(&key)
                .map_or(merged.target_end(), PartitionCopy::target_next);
            if recorded_next < outcome.map.target_start() {
                let before = merged.records();
                merged = fill_from_target(&self.target, job, merged, outcome.map.target_start())
                    .map_err(PassError::Other)?;
                records += (merged.records() - before).max(0) as u64;
            }
            merged
                .append(&outcome.map)
                .map_err(|source| CopyError::OffsetMap {
                    topic: job.target_topic.clone(),
                    partition: job.partition,
                    source,
                })
                .map_err(PassError::Copy)?;
            copies.insert(
                key,
                PartitionCopy {
                    topic: job.source_topic.clone(),
                    target_topic: job.target_topic.clone(),
                    partition: job.partition,
                    next_source_offset: outcome.next_source_offset,
                    target_high: (outcome.target_high > merged.target_end())
                        .then_some(outcome.target_high),
                    map: merged,
                    skipped_gaps,
                },
            );
        }
        Ok(records)
    }
}

/// Why a pass attempt failed: a copy error (which may be worth another attempt) or anything else.
enum PassError {
    Copy(CopyError),
    Other(Error),
}

/// Whether a pass that failed with `error` may simply run again. Delivery failures and client
/// request failures come from brokers going away and coming back; the copy resumes exactly from
/// the target, so another attempt is safe. A foreign record, a retention gap, a source behind the
/// target, a stall (which already waited `wait_timeout`) or a bug would fail again the same way.
fn retriable(error: &CopyError) -> bool {
    matches!(error, CopyError::Produce { .. } | CopyError::Kafka { .. })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_broker_trouble_makes_a_pass_run_again() {
        let produce = CopyError::Produce {
            topic: "a".into(),
            partition: 0,
            detail: "Unknown broker error".into(),
        };
        let request = CopyError::Kafka {
            what: "reading the last records of the target".into(),
            detail: "AllBrokersDown".into(),
        };
        assert!(retriable(&produce));
        assert!(retriable(&request));
        for fatal in [
            CopyError::ForeignRecord {
                topic: "a".into(),
                partition: 0,
                offset: 3,
            },
            CopyError::RetentionGap {
                topic: "a".into(),
                partition: 0,
                lost_from: 1,
                lost_to: 2,
            },
            CopyError::BeyondSourceEnd {
                topic: "a".into(),
                partition: 0,
                next: 5,
                source_end: 4,
            },
            CopyError::Stalled {
                seconds: 60,
                partition: "a[0] at offset 3".into(),
            },
            CopyError::DuplicateJob {
                topic: "a".into(),
                partition: 0,
            },
        ] {
            assert!(!retriable(&fatal), "{fatal:?}");
        }
    }
}
