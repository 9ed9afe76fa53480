//! The mirror steps: copy, wait until caught up under traffic, the consumer cutover (groups
//! stopped, offsets translated and read back), the producer cutover (source quiet, drain,
//! verify), each in a file of its own.
//!
//! Every copy pass runs the copy engine until it reaches the source high watermarks read when
//! the pass started ([`pass`]). From the first copy until the drain, passes run in the background
//! ([`follow`]) while the hooks move clients. The engine resumes each partition from the target's
//! last record, so a pass after a crash continues exactly; the offset map of every pass is merged
//! into the map the state file holds. Where the state lacks part of a map (the apply was killed
//! before it could record a pass), that part is read back from the target, whose copied records
//! each carry their source offset: the merged map is exact whatever was interrupted.

mod catch_up;
mod compacted;
mod cutover_waits;
mod drain_verify;
pub mod follow;
pub mod pass;
pub(crate) mod read_range;
mod translate;

use std::time::{Duration, Instant};

use crate::cluster::{ClusterAccess, ClusterError};
use crate::config::{Desired, StartFrom};
use crate::copy::{CopyJob, RecordedEnd};
use crate::error::Error;
use crate::snapshot::{Snapshot, target_name};
use crate::state::{PartitionCopy, State, StepOutcome};

use super::reporter::Reporter;
use follow::Follow;
use pass::{Copies, Passes};

/// Pause before a read that failed on broker trouble runs again.
const RETRY_PAUSE: Duration = Duration::from_secs(1);

pub struct Mirror<'a> {
    pub desired: &'a Desired,
    pub source: &'a dyn ClusterAccess,
    pub target: &'a dyn ClusterAccess,
    pub reporter: &'a dyn Reporter,
    /// The background copy, while it runs (from the first copy until the verification).
    pub follow: Option<&'a Follow>,
    /// Whether the copy writes in transactions (the plan's copy step says).
    pub fenced: bool,
}

impl Mirror<'_> {
    fn passes(&self) -> Passes<'_> {
        Passes::new(self.desired, self.reporter, self.fenced)
    }

    /// The copy as far as it got: the background copy's, else the state's.
    fn current_copies(&self, state: &State) -> Copies {
        match self.follow {
            Some(follow) => follow.copies(),
            None => recorded_copies(state),
        }
    }

    /// The background copy's failure, if it stopped on one: every step that relies on the copy
    /// fails with it.
    fn copy_failed(&self) -> Result<(), Error> {
        match self.follow.and_then(Follow::take_error) {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    /// Target topics that stamp records with their append time (`message.timestamp.type =
    /// LogAppendTime`): the target replaced the copies' timestamps, so they cannot be compared.
    fn log_append_time_topics(
        &self,
        copies: &[PartitionCopy],
    ) -> Result<std::collections::BTreeSet<String>, Error> {
        let topics: Vec<String> = copies
            .iter()
            .map(|c| c.target_topic.clone())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let configs = self.patiently("reading the target's topic configs", || {
            Ok(self.target.topic_configs(&topics)?)
        })?;
        Ok(configs
            .into_iter()
            .filter(|(_, config)| config.value("message.timestamp.type") == Some("LogAppendTime"))
            .map(|(topic, _)| topic)
            .collect())
    }

    /// Source topics of `copies` that compact on the source or on the target
    /// (`cleanup.policy` includes `compact`): verified record by record ([`compacted`]).
    fn compacted_topics(
        &self,
        copies: &[PartitionCopy],
    ) -> Result<std::collections::BTreeSet<String>, Error> {
        let compacts = |config: &crate::cluster::TopicConfig| {
            config
                .value("cleanup.policy")
                .is_some_and(|policy| policy.split(',').any(|p| p.trim() == "compact"))
        };
        let names = |pick: fn(&PartitionCopy) -> &String| -> Vec<String> {
            let set: std::collections::BTreeSet<String> =
                copies.iter().map(|c| pick(c).clone()).collect();
            set.into_iter().collect()
        };
        let on_source = self.patiently("reading the source's topic configs", || {
            Ok(self.source.topic_configs(&names(|c| &c.topic))?)
        })?;
        let on_target = self.patiently("reading the target's topic configs", || {
            Ok(self.target.topic_configs(&names(|c| &c.target_topic))?)
        })?;
        Ok(copies
            .iter()
            .filter(|c| {
                on_source.get(&c.topic).is_some_and(compacts)
                    || on_target.get(&c.target_topic).is_some_and(compacts)
            })
            .map(|c| c.topic.clone())
            .collect())
    }

    /// One job per partition of every source topic whose target name is in `topics`. A partition
    /// already in `copies` starts where its map starts; the others where `start_from` says.
    pub fn jobs(
        &self,
        topics: &[String],
        start_from: StartFrom,
        copies: &Copies,
    ) -> Result<Vec<CopyJob>, Error> {
        let snapshot = self.patiently("reading both clusters", || {
            let mut snapshot = Snapshot::take(self.desired, self.source, self.target)?;
            // The target topics exist now: their own retention decides what the copy skips.
            let limits = snapshot.live_retention_limits(self.desired);
            snapshot.probe_retention(self.source, &limits)?;
            Ok(snapshot)
        })?;
        let mut jobs = Vec::new();
        for (topic, t) in &snapshot.source.topics {
            let target_topic = target_name(self.desired, topic);
            if !topics.contains(&target_topic) {
                continue;
            }
            for p in &t.partitions {
                let recorded = copies.get(&(topic.clone(), p.id));
                let start = match recorded {
                    Some(copy) => copy.map.source_start(),
                    None => start_offset(
                        &snapshot,
                        topic,
                        p.id,
                        start_from,
                        self.desired.replication.start_from_declared,
                    ),
                };
                jobs.push(CopyJob {
                    source_topic: topic.clone(),
                    target_topic: target_topic.clone(),
                    partition: p.id,
                    start,
                    recorded: recorded.map(|copy| RecordedEnd {
                        target_end: copy.target_next(),
                        next_source_offset: copy.next_source_offset,
                    }),
                    accepted_gaps: self.desired.replication.gaps_of(topic, p.id),
                });
            }
        }
        Ok(jobs)
    }

    /// `read` again, every [`RETRY_PAUSE`], while a cluster is unreachable or slow to
    /// answer (a broker restarting), for up to the migration's `wait_timeout`; like the copy
    /// passes, the step waits for the broker instead of failing at once.
    fn patiently<T>(
        &self,
        what: &str,
        mut read: impl FnMut() -> Result<T, Error>,
    ) -> Result<T, Error> {
        let mut failing_since: Option<Instant> = None;
        loop {
            match read() {
                Err(Error::Cluster(
                    error @ (ClusterError::Unreachable { .. } | ClusterError::Timeout { .. }),
                )) => {
                    let since = *failing_since.get_or_insert_with(Instant::now);
                    if since.elapsed() >= self.desired.migration.wait_timeout {
                        return Err(error.into());
                    }
                    self.reporter.line(&format!(
                        "  {what}: {error} Trying again in {}s.",
                        RETRY_PAUSE.as_secs()
                    ));
                    std::thread::sleep(RETRY_PAUSE);
                }
                other => return other,
            }
        }
    }
}

/// The source offset a partition's copy starts at, per `replication.start_from`.
pub(crate) fn start_offset(
    snapshot: &Snapshot,
    topic: &str,
    partition: i32,
    start_from: StartFrom,
    start_from_declared: bool,
) -> i64 {
    let Some(p) = snapshot
        .source
        .topics
        .get(topic)
        .and_then(|t| t.partitions.iter().find(|p| p.id == partition))
    else {
        return 0;
    };
    let from = match start_from {
        StartFrom::Earliest => p.start_offset,
        StartFrom::Latest => p.end_offset,
        StartFrom::Timestamp(_) => p.timestamp_offset.unwrap_or(p.end_offset),
        StartFrom::Committed => snapshot
            .source
            .groups
            .values()
            .filter_map(|g| g.offsets.get(topic).and_then(|o| o.get(&partition)))
            .copied()
            .filter(|&o| o >= 0)
            .min()
            .unwrap_or(p.start_offset)
            .max(p.start_offset),
    };
    p.retained_start(from, start_from_declared)
}

/// The copy as the state records it, from the latest step that recorded one.
pub(crate) fn recorded_copies(state: &State) -> Copies {
    let mut copies = Copies::new();
    for record in &state.steps {
        let partitions = match &record.outcome {
            Some(StepOutcome::Copied { partitions, .. })
            | Some(StepOutcome::OffsetsTranslated { partitions, .. }) => partitions,
            _ => continue,
        };
        copies = partitions
            .iter()
            .map(|c| ((c.topic.clone(), c.partition), c.clone()))
            .collect();
    }
    copies
}

fn copied(copies: Copies, records: u64, started: Instant) -> StepOutcome {
    StepOutcome::Copied {
        partitions: copies.into_values().collect(),
        records,
        seconds: started.elapsed().as_secs_f64(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::OffsetMap;
    use crate::state::StepRecord;

    fn copy(topic: &str, partition: i32, next: i64) -> PartitionCopy {
        let mut map = OffsetMap::new(0, 0);
        for o in 0..next {
            map.push(o, o).unwrap();
        }
        PartitionCopy {
            topic: topic.into(),
            target_topic: topic.into(),
            partition,
            next_source_offset: next,
            map,
            skipped_gaps: Vec::new(),
            target_high: None,
        }
    }

    #[test]
    fn the_latest_recorded_copy_wins() {
        let mut state = State::new("m", crate::config::Scheme::Mirror, None, None);
        for (i, next) in [3, 5].into_iter().enumerate() {
            let mut r = StepRecord::pending(i, "copy_data", "copy");
            r.outcome = Some(StepOutcome::Copied {
                partitions: vec![copy("a", 0, next), copy("a", 1, next)],
                records: 0,
                seconds: 0.0,
            });
            state.steps.push(r);
        }
        state.steps.push(StepRecord::pending(2, "run_hook", "hook"));
        let copies = recorded_copies(&state);
        assert_eq!(copies.len(), 2);
        assert_eq!(copies[&("a".to_string(), 1)].next_source_offset, 5);
        assert_eq!(copies[&("a".to_string(), 1)].map.records(), 5);
    }

    #[test]
    fn a_copy_outcome_reads_back() {
        let outcome = StepOutcome::Copied {
            partitions: vec![copy("a", 0, 4), copy("b", 2, 0)],
            records: 4,
            seconds: 1.5,
        };
        let json = serde_json::to_string(&outcome).unwrap();
        assert_eq!(serde_json::from_str::<StepOutcome>(&json).unwrap(), outcome);
    }
}
