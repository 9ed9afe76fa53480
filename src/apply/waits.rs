//! Wait conditions between client switches: observed on the clusters, polled until they hold.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::cluster::{ClusterAccess, GroupActivity, OffsetSpec, PartitionOffsets};
use crate::config::Desired;
use crate::error::Error;
use crate::state::StepOutcome;

use super::ApplyError;
use super::reporter::Reporter;

/// Timing of every wait, from the migration block.
#[derive(Debug, Clone, Copy)]
pub struct WaitTiming {
    pub settle: Duration,
    pub timeout: Duration,
    pub poll: Duration,
}

impl WaitTiming {
    pub fn from(desired: &Desired) -> WaitTiming {
        let settle = desired.migration.settle_period;
        WaitTiming {
            settle,
            timeout: desired.migration.wait_timeout,
            poll: (settle / 4).clamp(Duration::from_millis(100), Duration::from_secs(2)),
        }
    }
}

/// Lag of each group over the migrated topics it committed on: end offset minus committed.
pub fn group_lags(
    desired: &Desired,
    cluster: &dyn ClusterAccess,
    groups: &[String],
) -> Result<BTreeMap<String, i64>, Error> {
    let mut committed = cluster.group_offsets(groups)?;
    for offsets in committed.values_mut() {
        offsets.retain(|topic, _| desired.selects_topic(topic));
    }
    let mut partitions: BTreeMap<String, Vec<i32>> = BTreeMap::new();
    for offsets in committed.values() {
        for (topic, parts) in offsets {
            partitions
                .entry(topic.clone())
                .or_default()
                .extend(parts.keys());
        }
    }
    for ids in partitions.values_mut() {
        ids.sort_unstable();
        ids.dedup();
    }
    let ends = if partitions.is_empty() {
        PartitionOffsets::new()
    } else {
        cluster.offsets(&partitions, OffsetSpec::Latest)?
    };
    Ok(groups
        .iter()
        .map(|g| {
            let lag = committed.get(g).map_or(0, |offsets| {
                offsets
                    .iter()
                    .flat_map(|(t, parts)| parts.iter().map(move |(p, c)| (t, p, c)))
                    .map(|(t, p, c)| {
                        ends.get(t)
                            .and_then(|e| e.get(p))
                            .map_or(0, |end| (end - c).max(0))
                    })
                    .sum()
            });
            (g.clone(), lag)
        })
        .collect())
}

/// Every group's lag on the source is 0 and stays 0 for the settle period.
pub fn groups_drained(
    step: usize,
    desired: &Desired,
    source: &dyn ClusterAccess,
    groups: &[String],
    timing: WaitTiming,
    reporter: &dyn Reporter,
) -> Result<StepOutcome, Error> {
    let started = Instant::now();
    let mut held_since: Option<Instant> = None;
    loop {
        let lags = group_lags(desired, source, groups)?;
        let progress = lags
            .iter()
            .map(|(g, l)| format!("{g} lag {l}"))
            .collect::<Vec<_>>()
            .join(", ");
        if lags.values().all(|&l| l == 0) {
            let since = *held_since.get_or_insert_with(Instant::now);
            if since.elapsed() >= timing.settle {
                return Ok(StepOutcome::ConditionMet {
                    condition: format!("groups drained the source: {progress}"),
                    seconds: started.elapsed().as_secs_f64(),
                });
            }
            reporter.progress(&format!("drained, settling: {progress}"));
        } else {
            held_since = None;
            reporter.progress(&format!("waiting for the source to drain: {progress}"));
        }
        if started.elapsed() >= timing.timeout {
            return Err(timed_out(step, "groups drain the source", timing, progress));
        }
        std::thread::sleep(timing.poll);
    }
}

/// Every group has active members on the cluster. Where the broker cannot describe groups
/// (tansu drops the connection), a group counts as active once its committed offsets there move.
pub fn groups_active(
    step: usize,
    cluster: &dyn ClusterAccess,
    on: &str,
    groups: &[String],
    timing: WaitTiming,
    reporter: &dyn Reporter,
) -> Result<StepOutcome, Error> {
    let started = Instant::now();
    let baseline = cluster.group_offsets(groups)?;
    let mut evidence: BTreeMap<String, String> = BTreeMap::new();
    loop {
        let pending: Vec<&String> = groups
            .iter()
            .filter(|g| !evidence.contains_key(*g))
            .collect();
        for group in pending {
            match cluster.group_activity(group)? {
                GroupActivity::Members(n) if n > 0 => {
                    evidence.insert(group.clone(), format!("{n} members"));
                }
                GroupActivity::Members(_) => {}
                GroupActivity::Unknown { .. } => {
                    let now = cluster.group_offsets(std::slice::from_ref(group))?;
                    if now.get(group) != baseline.get(group)
                        && now.get(group).is_some_and(|o| !o.is_empty())
                    {
                        evidence.insert(group.clone(), "committed offsets moved".into());
                    }
                }
            }
        }
        let waiting: Vec<&str> = groups
            .iter()
            .filter(|g| !evidence.contains_key(*g))
            .map(String::as_str)
            .collect();
        if waiting.is_empty() {
            let how = evidence
                .iter()
                .map(|(g, e)| format!("{g}: {e}"))
                .collect::<Vec<_>>()
                .join(", ");
            return Ok(StepOutcome::ConditionMet {
                condition: format!("groups active on the {on}: {how}"),
                seconds: started.elapsed().as_secs_f64(),
            });
        }
        let progress = format!(
            "waiting for active members on the {on}: {}",
            waiting.join(", ")
        );
        reporter.progress(&progress);
        if started.elapsed() >= timing.timeout {
            return Err(timed_out(
                step,
                &format!("groups active on the {on}"),
                timing,
                progress,
            ));
        }
        std::thread::sleep(timing.poll);
    }
}

fn timed_out(step: usize, condition: &str, timing: WaitTiming, progress: String) -> Error {
    ApplyError::WaitTimedOut {
        step,
        condition: condition.to_string(),
        waited: timing.timeout,
        progress,
    }
    .into()
}
