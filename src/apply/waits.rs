//! Wait conditions between client switches: observed on the clusters, polled until they hold.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::cluster::{ClusterAccess, ClusterError, GroupActivity, OffsetSpec, PartitionOffsets};
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

/// Lag of each group over the migrated topics it consumes (those it committed on): end offset
/// minus committed offset on every partition of those topics. A partition the group never
/// committed on counts with all its records, so "drained" cannot pass while one holds data.
pub fn group_lags(
    desired: &Desired,
    cluster: &dyn ClusterAccess,
    groups: &[String],
) -> Result<BTreeMap<String, i64>, Error> {
    let mut committed = cluster.group_offsets(groups)?;
    for offsets in committed.values_mut() {
        offsets.retain(|topic, _| desired.selects_topic(topic));
    }
    let consumed: std::collections::BTreeSet<&String> =
        committed.values().flat_map(|o| o.keys()).collect();
    if consumed.is_empty() {
        return Ok(groups.iter().map(|g| (g.clone(), 0)).collect());
    }
    let metadata = cluster.metadata()?;
    let partitions: BTreeMap<String, Vec<i32>> = consumed
        .iter()
        .filter_map(|t| {
            metadata
                .topics
                .get(*t)
                .map(|m| ((*t).clone(), m.partitions.iter().map(|p| p.id).collect()))
        })
        .collect();
    let ends = cluster.offsets(&partitions, OffsetSpec::Latest)?;
    let starts = cluster.offsets(&partitions, OffsetSpec::Earliest)?;
    let at = |map: &PartitionOffsets, t: &str, p: i32| {
        map.get(t).and_then(|o| o.get(&p)).copied().unwrap_or(0)
    };
    Ok(groups
        .iter()
        .map(|g| {
            let mine = committed.get(g);
            let lag = partitions
                .iter()
                .filter(|(t, _)| mine.is_some_and(|o| o.contains_key(*t)))
                .flat_map(|(t, ids)| ids.iter().map(move |&p| (t, p)))
                .map(|(t, p)| {
                    let from = mine
                        .and_then(|o| o.get(t))
                        .and_then(|o| o.get(&p))
                        .copied()
                        .unwrap_or_else(|| at(&starts, t, p));
                    (at(&ends, t, p) - from).max(0)
                })
                .sum();
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
        let lags = match group_lags(desired, source, groups) {
            // A slow answer under load: no reading this round, which also breaks the hold.
            Err(Error::Cluster(error @ ClusterError::Timeout { .. })) => {
                tracing::debug!(%error, "group lags not read in time; asking again");
                held_since = None;
                if started.elapsed() >= timing.timeout {
                    return Err(Error::Cluster(error));
                }
                std::thread::sleep(timing.poll);
                continue;
            }
            lags => lags?,
        };
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

/// Every group has active members on the cluster, read from DescribeGroups. Only where the
/// broker cannot describe groups (it drops the connection or does not support the request), a
/// group counts as active once it has committed offsets there
/// other than `ferry_commits`, the offsets ferry itself committed (single_consume's start
/// offsets). A commit made before this step began counts too: a resumed apply, or a consumer
/// quicker than the wait, must not be missed.
pub fn groups_active(
    step: usize,
    cluster: &dyn ClusterAccess,
    on: &str,
    groups: &[String],
    ferry_commits: &BTreeMap<String, PartitionOffsets>,
    timing: WaitTiming,
    reporter: &dyn Reporter,
) -> Result<StepOutcome, Error> {
    let started = Instant::now();
    let none = PartitionOffsets::new();
    let mut evidence: BTreeMap<String, String> = BTreeMap::new();
    loop {
        let pending: Vec<&String> = groups
            .iter()
            .filter(|g| !evidence.contains_key(*g))
            .collect();
        for group in pending {
            // One slow answer (a new group's coordinator still settling) is not the wait's
            // failure: the wait has its own timeout, and asks again on the next poll.
            let activity = match cluster.group_activity(group) {
                Err(error @ ClusterError::Timeout { .. }) => {
                    tracing::debug!(%error, group, "group not described in time; asking again");
                    continue;
                }
                answer => answer?,
            };
            match activity {
                GroupActivity::Members(n) if n > 0 => {
                    evidence.insert(group.clone(), format!("{n} members"));
                }
                GroupActivity::Members(_) => {}
                GroupActivity::Unknown { .. } => {
                    let now = cluster.group_offsets(std::slice::from_ref(group))?;
                    let now = now.get(group).unwrap_or(&none);
                    let ferrys = ferry_commits.get(group).unwrap_or(&none);
                    if !now.is_empty() && now != ferrys {
                        evidence
                            .insert(group.clone(), "committed offsets beyond ferry's own".into());
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

pub(super) fn timed_out(
    step: usize,
    condition: &str,
    timing: WaitTiming,
    progress: String,
) -> Error {
    ApplyError::WaitTimedOut {
        step,
        condition: condition.to_string(),
        waited: timing.timeout,
        progress,
    }
    .into()
}
