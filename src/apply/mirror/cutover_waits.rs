//! The waits of the mirror cutover: the consumers stopped on the source (no members, committed
//! offsets holding still), and the producers stopped there (end offsets holding still).

use std::collections::BTreeMap;
use std::time::Instant;

use crate::cluster::{ClusterError, GroupActivity, OffsetSpec, PartitionOffsets};
use crate::error::Error;
use crate::state::{State, StepOutcome};

use super::super::waits::{WaitTiming, timed_out};
use super::Mirror;

impl Mirror<'_> {
    /// Step "groups stopped": every group has no members on the source, and its committed
    /// offsets did not move for the settle period (a consumer's last commit may land after it
    /// left the group).
    pub fn wait_groups_stopped(
        &self,
        step: usize,
        groups: &[String],
        timing: WaitTiming,
    ) -> Result<StepOutcome, Error> {
        let started = Instant::now();
        let mut last: Option<BTreeMap<String, PartitionOffsets>> = None;
        let mut held_since: Option<Instant> = None;
        loop {
            self.copy_failed()?;
            let mut busy = Vec::new();
            for group in groups {
                match self.source.group_activity(group) {
                    Ok(GroupActivity::Members(n)) if n > 0 => {
                        let who = self.source.group_members(group).unwrap_or_default();
                        busy.push(if who.is_empty() {
                            format!("{group}: {n} member(s)")
                        } else {
                            format!("{group}: {n} member(s) ({})", who.join(", "))
                        });
                    }
                    Ok(_) => {}
                    Err(error @ ClusterError::Timeout { .. }) => {
                        tracing::debug!(%error, group, "group not described in time");
                        busy.push(format!("{group}: not described yet"));
                    }
                    Err(error) => return Err(error.into()),
                }
            }
            let offsets = match self.source.group_offsets(groups) {
                Ok(o) => Some(o),
                Err(error @ ClusterError::Timeout { .. }) => {
                    tracing::debug!(%error, "group offsets not read in time");
                    None
                }
                Err(error) => return Err(error.into()),
            };
            let moving: Vec<String> = match (&last, &offsets) {
                (Some(before), Some(now)) => groups
                    .iter()
                    .filter(|g| before.get(*g) != now.get(*g))
                    .map(|g| format!("{g}: committed offsets still moving"))
                    .collect(),
                _ => vec!["reading committed offsets".to_string()],
            };
            if offsets.is_some() {
                last = offsets;
            }
            let waiting: Vec<String> = busy.into_iter().chain(moving).collect();
            if waiting.is_empty() {
                let since = *held_since.get_or_insert_with(Instant::now);
                if since.elapsed() >= timing.settle {
                    return Ok(StepOutcome::ConditionMet {
                        condition: format!(
                            "consumers stopped on the source: {} without members, offsets still for {}",
                            groups.join(", "),
                            humantime::format_duration(timing.settle)
                        ),
                        seconds: started.elapsed().as_secs_f64(),
                    });
                }
                self.reporter
                    .progress("consumers stopped on the source, settling");
            } else {
                held_since = None;
                self.reporter.progress(&format!(
                    "waiting for consumers to stop on the source: {}",
                    waiting.join("; ")
                ));
            }
            if started.elapsed() >= timing.timeout {
                return Err(timed_out(
                    step,
                    "consumers stopped on the source",
                    timing,
                    format!(
                        "{}; the hook stop_source_consumers must stop every consumer of these groups on the source",
                        waiting.join("; ")
                    ),
                ));
            }
            std::thread::sleep(timing.poll);
        }
    }

    /// Step "source quiet": the end offsets of every copied source partition did not move for
    /// the settle period. A partition still growing names a producer that was not stopped.
    pub fn wait_source_quiet(
        &self,
        step: usize,
        timing: WaitTiming,
        state: &State,
    ) -> Result<StepOutcome, Error> {
        let started = Instant::now();
        let copies = self.current_copies(state);
        let mut partitions: BTreeMap<String, Vec<i32>> = BTreeMap::new();
        for (topic, partition) in copies.keys() {
            partitions
                .entry(topic.clone())
                .or_default()
                .push(*partition);
        }
        let mut last: Option<PartitionOffsets> = None;
        let mut held_since: Option<Instant> = None;
        loop {
            self.copy_failed()?;
            let ends = match self.source.offsets(&partitions, OffsetSpec::Latest) {
                Ok(ends) => Some(ends),
                Err(error @ (ClusterError::Timeout { .. } | ClusterError::Unreachable { .. })) => {
                    tracing::debug!(%error, "source end offsets not read");
                    None
                }
                Err(error) => return Err(error.into()),
            };
            let growing: Vec<String> = match (&last, &ends) {
                (Some(before), Some(now)) => growing(before, now),
                _ => vec!["reading the end offsets".to_string()],
            };
            if ends.is_some() {
                last = ends;
            }
            if growing.is_empty() {
                let since = *held_since.get_or_insert_with(Instant::now);
                if since.elapsed() >= timing.settle {
                    return Ok(StepOutcome::ConditionMet {
                        condition: format!(
                            "producers stopped on the source: end offsets of {} partitions still for {}",
                            partitions.values().map(Vec::len).sum::<usize>(),
                            humantime::format_duration(timing.settle)
                        ),
                        seconds: started.elapsed().as_secs_f64(),
                    });
                }
                self.reporter.progress("source quiet, settling");
            } else {
                held_since = None;
                self.reporter.progress(&format!(
                    "waiting for the source to stop growing: {}",
                    growing.join(", ")
                ));
            }
            if started.elapsed() >= timing.timeout {
                return Err(timed_out(
                    step,
                    "producers stopped on the source",
                    timing,
                    format!(
                        "still growing: {}; a producer writing there was not stopped by the hook stop_source_producers",
                        growing.join(", ")
                    ),
                ));
            }
            std::thread::sleep(timing.poll);
        }
    }
}

/// Partitions whose end offset moved between two readings, as `topic[partition] (+n)`.
fn growing(before: &PartitionOffsets, now: &PartitionOffsets) -> Vec<String> {
    let mut out = Vec::new();
    for (topic, parts) in now {
        for (partition, end) in parts {
            let was = before.get(topic).and_then(|p| p.get(partition)).copied();
            if was != Some(*end) {
                let delta = was.map_or(String::new(), |w| format!(" (+{})", end - w));
                out.push(format!("{topic}[{partition}]{delta}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offsets(entries: &[(&str, i32, i64)]) -> PartitionOffsets {
        let mut o = PartitionOffsets::new();
        for (t, p, v) in entries {
            o.entry(t.to_string()).or_default().insert(*p, *v);
        }
        o
    }

    #[test]
    fn only_partitions_whose_end_moved_are_named() {
        let before = offsets(&[("a", 0, 10), ("a", 1, 5), ("b", 0, 7)]);
        let now = offsets(&[("a", 0, 10), ("a", 1, 9), ("b", 0, 7)]);
        assert_eq!(growing(&before, &now), ["a[1] (+4)"]);
        assert!(growing(&now, &now).is_empty());
    }
}
