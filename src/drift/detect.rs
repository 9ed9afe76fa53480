//! Desired x Snapshot x State -> drift findings. Reuses the plan's diff: a topic the diff would
//! update is a topic whose config drifted.

use std::collections::{BTreeMap, BTreeSet};

use crate::config::Desired;
use crate::diff::{Origin, desired_partitions, diff_topics};
use crate::plan::Step;
use crate::platform::Platform;
use crate::snapshot::{Snapshot, managed_target_names, target_name};
use crate::state::{State, StepOutcome};

use super::{DriftFinding, DriftKind, Side};

/// Every difference between the live clusters and what ferry declared or applied.
///
/// With a state file, only target topics ferry applied are compared (a topic not created yet is
/// pending, not drift), a applied topic that is gone is drift, and so is a group offset below
/// the one ferry committed. Without one, every declared topic that exists on the target is
/// compared. Unmanaged target topics are always reported; whether they count is the caller's.
pub fn detect(
    desired: &Desired,
    snapshot: &Snapshot,
    state: Option<&State>,
    platform: Platform,
) -> Vec<DriftFinding> {
    let applied = state.map(applied_topics);
    let mut out = Vec::new();
    for change in diff_topics(desired, snapshot, platform) {
        let name = &change.target_name;
        let was_applied = applied.as_ref().is_some_and(|a| a.contains(name));
        if !change.exists_on_target {
            if was_applied {
                out.push(finding(
                    DriftKind::TopicDeleted,
                    Side::Target,
                    name,
                    format!("topic \"{name}\" was applied by ferry and is gone from the target; `ferry apply` creates it again (empty)"),
                ));
            }
            continue;
        }
        if applied.is_some() && !was_applied {
            continue;
        }
        for c in &change.config {
            let declared = match c.origin {
                Origin::Declared => "declared",
                Origin::Source => "the source has",
            };
            let now = c.before.as_deref().unwrap_or("(unknown)");
            out.push(DriftFinding {
                key: Some(c.key.clone()),
                expected: Some(c.after.clone()),
                actual: c.before.clone(),
                ..finding(
                    DriftKind::ConfigChanged,
                    Side::Target,
                    name,
                    format!(
                        "topic \"{name}\": config.{} is \"{now}\" on the target, {declared} \"{}\"",
                        c.key, c.after
                    ),
                )
            });
        }
        let want = desired_partitions(
            desired.topic_block(&change.name),
            snapshot.source.topics.get(&change.name),
        );
        if let (Some(want), Some(have)) = (want, change.target_partitions)
            && want.value != have
        {
            let whose = match want.origin {
                Origin::Declared => "declared",
                Origin::Source => "the source has",
            };
            let what = if have > want.value {
                "partitions were added outside ferry"
            } else {
                "the target has fewer partitions"
            };
            out.push(DriftFinding {
                expected: Some(want.value.to_string()),
                actual: Some(have.to_string()),
                ..finding(
                    DriftKind::PartitionsChanged,
                    Side::Target,
                    name,
                    format!(
                        "topic \"{name}\": {what}: {have} on the target, {whose} {}",
                        want.value
                    ),
                )
            });
        }
    }

    let managed = managed_target_names(desired, &snapshot.source);
    for topic in snapshot.target.topic_names.difference(&managed) {
        out.push(finding(
            DriftKind::UnmanagedTopic,
            Side::Target,
            topic,
            format!("topic \"{topic}\" is on the target but no configuration selects it; ferry never touches it"),
        ));
    }

    if let Some(state) = state {
        out.extend(groups_moved_backwards(snapshot, state));
        let covered = covered_topics(state);
        for source_topic in snapshot.source.topics.keys() {
            let target = target_name(desired, source_topic);
            if !covered.contains(&target) {
                out.push(finding(
                    DriftKind::NewSourceTopic,
                    Side::Source,
                    source_topic,
                    format!("source topic \"{source_topic}\" matches the configuration but appeared after the migration started; `ferry plan` shows the step that picks it up"),
                ));
            }
        }
    }
    out.sort();
    out
}

fn finding(kind: DriftKind, cluster: Side, topic: &str, message: String) -> DriftFinding {
    DriftFinding {
        cluster,
        kind,
        topic: Some(topic.to_string()),
        group: None,
        partition: None,
        key: None,
        expected: None,
        actual: None,
        message,
    }
}

/// Target topics an apply created, updated or found already as declared.
fn applied_topics(state: &State) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for record in &state.steps {
        if let Some(StepOutcome::TopicsApplied {
            created,
            updated,
            already_as_declared,
            ..
        }) = &record.outcome
        {
            names.extend(created.iter().cloned());
            names.extend(updated.iter().cloned());
            names.extend(already_as_declared.iter().cloned());
        }
    }
    names
}

/// Target topics the migration knows: applied ones and every topic its recorded steps name.
fn covered_topics(state: &State) -> BTreeSet<String> {
    let mut names = applied_topics(state);
    for step in state.steps.iter().filter_map(|r| r.step.as_ref()) {
        match step {
            Step::ApplyTopics { create, update } => {
                names.extend(create.iter().cloned());
                names.extend(update.iter().cloned());
            }
            Step::CopyData { topics, .. }
            | Step::WaitReplicationCaughtUp { topics, .. }
            | Step::WaitSourceQuiet { topics }
            | Step::DrainReplication { topics }
            | Step::Verify { topics, .. } => names.extend(topics.iter().cloned()),
            _ => {}
        }
    }
    names
}

/// The highest offset ferry committed on the target, per group, target topic and partition.
pub(crate) fn ferry_offsets(state: &State) -> BTreeMap<(String, String, i32), i64> {
    let mut offsets: BTreeMap<(String, String, i32), i64> = BTreeMap::new();
    let mut put = |group: &str, topic: &str, partition: i32, offset: i64| {
        let slot = offsets
            .entry((group.to_string(), topic.to_string(), partition))
            .or_insert(offset);
        *slot = (*slot).max(offset);
    };
    for record in state.steps.iter().filter(|r| r.is_done()) {
        match &record.outcome {
            Some(StepOutcome::OffsetsCommitted { offsets, .. }) => {
                for c in offsets {
                    put(&c.group, &c.topic, c.partition, c.offset);
                }
            }
            Some(StepOutcome::OffsetsTranslated { offsets, .. }) => {
                for t in offsets {
                    put(&t.group, &t.target_topic, t.partition, t.target_offset);
                }
            }
            _ => {}
        }
    }
    offsets
}

/// A group whose committed offset on the target is below what ferry committed would re-read
/// (or, gone, fall back to auto.offset.reset): consumers moved backwards behind ferry's back.
fn groups_moved_backwards(snapshot: &Snapshot, state: &State) -> Vec<DriftFinding> {
    let mut out = Vec::new();
    for ((group, topic, partition), ours) in ferry_offsets(state) {
        if !snapshot.target.topics.contains_key(&topic) {
            // The topic itself is gone: reported as such.
            continue;
        }
        let now = snapshot
            .target
            .groups
            .get(&group)
            .and_then(|g| g.offsets.get(&topic))
            .and_then(|p| p.get(&partition))
            .copied();
        let message = match now {
            Some(now) if now < ours => format!(
                "group \"{group}\" is at offset {now} on {topic}[{partition}], below the {ours} ferry committed: its consumers will re-read {} records",
                ours - now
            ),
            Some(_) => continue,
            None => format!(
                "group \"{group}\" has no committed offset on {topic}[{partition}] any more (ferry committed {ours}): its consumers fall back to auto.offset.reset"
            ),
        };
        out.push(DriftFinding {
            cluster: Side::Target,
            kind: DriftKind::GroupMovedBackwards,
            topic: Some(topic),
            group: Some(group),
            partition: Some(partition),
            key: None,
            expected: Some(ours.to_string()),
            actual: now.map(|n| n.to_string()),
            message,
        });
    }
    out
}
