//! `ferry rollback`: the way back from a mirror cutover, until producers start on the target.
//!
//! Consumers that moved to the target resume on the source where they got to: each group's
//! committed target offset goes back through the offset map to the source offset of the same
//! record, and is committed on the source. Nothing is skipped (the source holds every record the
//! target has, producers never wrote to the target) and nothing is repeated. The cutover steps
//! are set back to pending, so a later `ferry apply` runs the cutover again from the start,
//! while the copy resumes from the target's tail as always.

use crate::cluster::{ClusterAccess, GroupActivity, PartitionOffsets, client_config};
use crate::config::{Desired, Scheme};
use crate::copy::CopyJob;
use crate::domain::OffsetMap;
use crate::domain::Step;
use crate::error::Error;
use crate::state::{Cutover, State, StepOutcome, StepStatus};

use super::ApplyError;
use super::mirror::read_range::fill_from_target;
use super::mirror::recorded_copies;
use super::reporter::Reporter;

/// The hook after which going back is no longer automatic.
pub const POINT_OF_NO_RETURN: &str = "start_target_producers";
/// The first step of the consumer cutover: rollback resets the state from here.
const CUTOVER_START: &str = "stop_source_consumers";

/// One group partition returned to the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Returned {
    pub group: String,
    pub topic: String,
    pub partition: i32,
    /// The group's committed offset on the target.
    pub target_offset: i64,
    /// The offset committed on the source (or kept, where the source was further).
    pub source_offset: i64,
}

/// Returns every group the state translated to the source, or refuses with what to do.
pub fn rollback(
    desired: &Desired,
    state: &mut State,
    source: &dyn ClusterAccess,
    target: &dyn ClusterAccess,
    reporter: &dyn Reporter,
) -> Result<Vec<Returned>, Error> {
    if state.scheme != Scheme::Mirror {
        return Err(refused(format!(
            "ferry rollback returns the consumer groups of a mirror migration to the source; migration \"{}\" uses scheme {}, whose consumers never moved by offset translation. Move them back with your deployment system.",
            state.migration, state.scheme
        )));
    }
    let hook_index = |name: &str| {
        state
            .steps
            .iter()
            .position(|r| matches!(&r.step, Some(Step::RunHook { hook, .. }) if hook == name))
    };
    if let Some(i) = hook_index(POINT_OF_NO_RETURN)
        && state.steps[i].status != StepStatus::Pending
    {
        return Err(refused(format!(
            "going back is no longer automatic: step {} (hook {POINT_OF_NO_RETURN}) {} at {}, so producers may write to the target, and the source lacks their records. Nothing was changed. To go back now, copy the target's new records to the source first (a mirror migration in the other direction), then move the clients.",
            i + 1,
            if state.steps[i].is_done() {
                "ran"
            } else {
                "started"
            },
            state.steps[i]
                .started_at
                .as_deref()
                .unwrap_or("an unknown time")
        )));
    }
    let translated = state.steps.iter().rev().find_map(|r| match &r.outcome {
        Some(StepOutcome::OffsetsTranslated { offsets, .. }) if r.is_done() => {
            Some(offsets.clone())
        }
        _ => None,
    });
    let Some(translated) = translated else {
        return Err(refused(
            "nothing to return: no consumer group offset was translated to the target yet, so the groups' offsets on the source are where their consumers left them. Start the consumers on the source again if they were stopped; nothing was changed.".to_string(),
        ));
    };
    let mut groups: Vec<String> = translated.iter().map(|t| t.group.clone()).collect();
    groups.dedup();
    for group in &groups {
        for (cluster, name, hook) in [
            (target, "target", "stop them there"),
            (
                source,
                "source",
                "keep them stopped there until rollback is done",
            ),
        ] {
            if let GroupActivity::Members(n) = cluster.group_activity(group)?
                && n > 0
            {
                let who = cluster.group_members(group).unwrap_or_default();
                let who = if who.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", who.join(", "))
                };
                return Err(refused(format!(
                    "group {group} has {n} member(s) on the {name}{who}: its offsets would move while ferry returns it. {} ({hook}), then run `ferry rollback` again. Nothing was changed.",
                    if name == "target" {
                        "Stop the consumers on the target"
                    } else {
                        "Stop the consumers on the source"
                    }
                )));
            }
        }
    }

    let mut copies = recorded_copies(state);
    let on_target = target.group_offsets(&groups)?;
    let on_source = source.group_offsets(&groups)?;
    let mut returned = Vec::new();
    for group in &groups {
        let mut commit = PartitionOffsets::new();
        for t in translated.iter().filter(|t| &t.group == group) {
            let target_offset = on_target
                .get(group)
                .and_then(|o| o.get(&t.target_topic))
                .and_then(|o| o.get(&t.partition))
                .copied()
                .unwrap_or(t.target_offset);
            let key = (t.topic.clone(), t.partition);
            let Some(copy) = copies.get_mut(&key) else {
                continue;
            };
            // The background copy went on after the state last recorded the map: what the group
            // read beyond it is read back from the copies' source-offset headers.
            if target_offset > copy.target_next() {
                let job = CopyJob {
                    source_topic: copy.topic.clone(),
                    target_topic: copy.target_topic.clone(),
                    partition: copy.partition,
                    start: copy.map.source_start(),
                    ..CopyJob::default()
                };
                let map = std::mem::replace(&mut copy.map, OffsetMap::new(0, 0));
                copy.map =
                    fill_from_target(&client_config(&desired.target), &job, map, target_offset)?;
                copy.next_source_offset = copy.next_source_offset.max(copy.map.source_end());
                // No record was read back between the copy's end and the committed offset:
                // what lies there is commit markers (or aborted records), which the group read
                // past without consuming anything. It read the whole copy.
                if copy.map.target_end() < target_offset {
                    copy.target_high = Some(target_offset);
                }
            }
            let copy = &copies[&key];
            // A group that read everything commits past the commit marker that follows the
            // last record of a fenced copy: the copy's end.
            let at = if target_offset <= copy.target_next() {
                target_offset.min(copy.map.target_end())
            } else {
                target_offset
            };
            let Some(back) = copy.map.translate_back(at, copy.next_source_offset) else {
                return Err(refused(format!(
                    "group {group} committed offset {target_offset} on {}[{}], past the end of the copy ({}): it read records that were not copied from the source. Going back is not automatic; nothing was changed.",
                    t.target_topic,
                    t.partition,
                    copy.map.target_end()
                )));
            };
            let current = on_source
                .get(group)
                .and_then(|o| o.get(&t.topic))
                .and_then(|o| o.get(&t.partition))
                .copied();
            let source_offset = match current {
                Some(c) if c > back => c,
                _ => {
                    commit
                        .entry(t.topic.clone())
                        .or_default()
                        .insert(t.partition, back);
                    back
                }
            };
            reporter.line(&format!(
                "  {group} {}[{}]: target {target_offset} -> source {source_offset}",
                t.target_topic, t.partition
            ));
            returned.push(Returned {
                group: group.clone(),
                topic: t.topic.clone(),
                partition: t.partition,
                target_offset,
                source_offset,
            });
        }
        if !commit.is_empty() {
            source.commit_group_offsets(group, &commit)?;
        }
    }
    let read = source.group_offsets(&groups)?;
    for r in &returned {
        let now = read
            .get(&r.group)
            .and_then(|o| o.get(&r.topic))
            .and_then(|o| o.get(&r.partition))
            .copied();
        if now != Some(r.source_offset) {
            return Err(refused(format!(
                "the source does not hold the offset ferry committed for group {} on {}[{}] (committed {}, read back {}): something else commits for this group. Stop it and run `ferry rollback` again.",
                r.group,
                r.topic,
                r.partition,
                r.source_offset,
                now.map_or("nothing".into(), |o| o.to_string())
            )));
        }
    }
    reset_cutover(state);
    Ok(returned)
}

/// Sets the cutover steps back to pending: the next apply moves the clients again.
fn reset_cutover(state: &mut State) {
    let Some(from) = state
        .steps
        .iter()
        .position(|r| matches!(&r.step, Some(Step::RunHook { hook, .. }) if hook == CUTOVER_START))
    else {
        return;
    };
    for record in &mut state.steps[from..] {
        record.status = StepStatus::Pending;
        record.started_at = None;
        record.finished_at = None;
        record.outcome = None;
        record.error = None;
    }
    state.cutover = Cutover::default();
}

fn refused(message: String) -> Error {
    ApplyError::Rollback(message).into()
}
