//! Desired x Snapshot -> Plan: the diff, then the scheme's steps in order.

use std::collections::BTreeSet;

use crate::cluster::Support;
use crate::config::{Desired, Scheme, StartFrom};
use crate::diff::{Action, GroupMove, TopicChange, diff_topics, group_moves};
use crate::domain::KEYS_SET_WHEN_UNREAD;
use crate::platform::Platform;
use crate::snapshot::{ClusterSnapshot, Snapshot, managed_target_names};

use super::{
    ClusterSummary, CopyVolume, FORMAT_VERSION, Fingerprint, GroupsOn, Plan, Step, Summary,
    copy_volume, left_behind, size_limit,
};

pub fn build(desired: &Desired, snapshot: &Snapshot, platform: Platform) -> Plan {
    let mut topics = diff_topics(desired, snapshot, platform);
    let groups = group_moves(desired, snapshot);
    left_behind::attach_groups(&mut topics, &groups);
    let managed = managed_target_names(desired, &snapshot.source);
    let unmanaged_target_topics = snapshot
        .target
        .topic_names
        .iter()
        .filter(|t| !managed.contains(*t))
        .cloned()
        .collect();

    let inputs = StepInputs::new(desired, snapshot, &topics, &groups);
    let steps = order(desired.migration.scheme, &inputs);
    let mut warnings = warnings(desired, snapshot, &topics, &groups);
    warnings.extend(left_behind::warnings(&topics));
    warnings.extend(size_limit::warnings(
        &desired.replication,
        snapshot,
        &topics,
        &groups,
    ));
    warnings.extend(crate::ckafka::warnings::warnings(
        desired,
        &topics,
        inputs.volume,
    ));

    let count = |a: Action| topics.iter().filter(|t| t.action == a).count();
    let summary = Summary {
        create: count(Action::Create),
        change: count(Action::Update),
        unchanged: count(Action::NoOp),
        blocked: count(Action::Blocked),
        steps: steps.len(),
    };
    Plan {
        format_version: FORMAT_VERSION,
        migration: desired.migration.name.clone(),
        scheme: desired.migration.scheme,
        start_from: desired.replication.start_from,
        targets: Vec::new(),
        source: summarize(&snapshot.source),
        target: summarize(&snapshot.target),
        topics,
        unmanaged_target_topics,
        groups,
        steps,
        completed_steps: 0,
        warnings,
        summary,
        fingerprint: Fingerprint {
            config: desired.fingerprint.clone(),
            metadata: snapshot.fingerprint(),
        },
    }
}

fn summarize(c: &ClusterSnapshot) -> ClusterSummary {
    ClusterSummary {
        cluster_id: c.cluster_id.clone(),
        brokers: c.brokers.len(),
        topics: c.topic_names.len(),
    }
}

/// What the step ordering needs to know, reduced to plain lists.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StepInputs {
    pub create: Vec<String>,
    pub update: Vec<String>,
    /// Target names of every topic that migrates (not blocked).
    pub topics: Vec<String>,
    pub groups: Vec<String>,
    /// Groups with members on the source when the plan was made: mirror waits for members of
    /// these on the target after moving consumers (a group nobody consumes in now, a nightly
    /// job's, would hold the apply forever).
    pub live_groups: Vec<String>,
    /// Group partitions on migrating topics, summed over groups.
    pub group_partitions: usize,
    /// Every target partition of the migrating topics each group consumes, summed over groups.
    pub group_target_partitions: usize,
    pub hooks: BTreeSet<String>,
    pub start_from: StartFrom,
    pub max_lag: i64,
    pub max_lag_time_ms: u64,
    pub volume: CopyVolume,
    /// The target takes transactions: the mirror copy is fenced.
    pub fenced: bool,
}

impl StepInputs {
    fn new(
        desired: &Desired,
        snapshot: &Snapshot,
        topics: &[TopicChange],
        groups: &[GroupMove],
    ) -> StepInputs {
        let migrating: Vec<&TopicChange> = topics
            .iter()
            .filter(|t| t.action != Action::Blocked)
            .collect();
        let names = |a: Action| {
            topics
                .iter()
                .filter(|t| t.action == a)
                .map(|t| t.target_name.clone())
                .collect()
        };
        let moving: BTreeSet<&str> = migrating.iter().map(|t| t.name.as_str()).collect();
        let mut volume = CopyVolume::default();
        for t in &migrating {
            if let Some(s) = snapshot.source.topics.get(&t.name) {
                let v = copy_volume(&t.name, s, &desired.replication, groups);
                volume.partitions += v.partitions;
                volume.records += v.records;
            }
        }
        StepInputs {
            create: names(Action::Create),
            update: names(Action::Update),
            topics: migrating.iter().map(|t| t.target_name.clone()).collect(),
            groups: groups.iter().map(|g| g.name.clone()).collect(),
            live_groups: groups
                .iter()
                .filter(|g| g.source_members > 0)
                .map(|g| g.name.clone())
                .collect(),
            group_partitions: groups
                .iter()
                .flat_map(|g| &g.partitions)
                .filter(|p| moving.contains(p.topic.as_str()))
                .count(),
            group_target_partitions: groups
                .iter()
                .map(|g| {
                    let consumed: BTreeSet<&str> =
                        g.partitions.iter().map(|p| p.topic.as_str()).collect();
                    migrating
                        .iter()
                        .filter(|t| consumed.contains(t.name.as_str()))
                        .map(|t| target_partition_count(t))
                        .sum::<usize>()
                })
                .sum(),
            hooks: desired.hooks.keys().cloned().collect(),
            start_from: desired.replication.start_from,
            max_lag: desired.replication.max_lag,
            max_lag_time_ms: desired.replication.max_lag_time.as_millis() as u64,
            volume,
            fenced: snapshot.target_transactions == Some(Support::Supported),
        }
    }
}

/// Partitions the topic will have on the target once its metadata step ran.
fn target_partition_count(t: &TopicChange) -> usize {
    t.partitions
        .map(|p| p.value)
        .or(t.target_partitions)
        .or(t.source_partitions)
        .unwrap_or(0)
        .max(0) as usize
}

/// The scheme's steps, as design.md orders them. Pure, so every scheme is table-tested.
pub(crate) fn order(scheme: Scheme, i: &StepInputs) -> Vec<Step> {
    if i.topics.is_empty() {
        return Vec::new();
    }
    let mut steps = Vec::new();
    if !i.create.is_empty() || !i.update.is_empty() {
        steps.push(Step::ApplyTopics {
            create: i.create.clone(),
            update: i.update.clone(),
        });
    }
    let hook = |name: &str| {
        let declared = i.hooks.contains(name);
        let required = scheme.hooks().iter().any(|(h, req)| *h == name && *req);
        (declared || required).then(|| Step::RunHook {
            hook: name.to_string(),
            declared,
        })
    };
    let groups =
        |make: fn(Vec<String>) -> Step| (!i.groups.is_empty()).then(|| make(i.groups.clone()));
    let topics = i.topics.clone();
    match scheme {
        Scheme::DualConsume => steps.extend(
            [
                hook("start_target_consumers"),
                groups(|groups| Step::WaitGroupsActive {
                    groups,
                    on: GroupsOn::Target,
                }),
                hook("switch_producers"),
                groups(|groups| Step::WaitGroupsDrained { groups }),
                hook("stop_source_consumers"),
            ]
            .into_iter()
            .flatten(),
        ),
        Scheme::SingleConsume => steps.extend(
            [
                (!i.groups.is_empty()).then(|| Step::CommitStartOffsets {
                    groups: i.groups.clone(),
                    partitions: i.group_target_partitions,
                }),
                hook("switch_producers"),
                groups(|groups| Step::WaitGroupsDrained { groups }),
                hook("switch_consumers"),
                groups(|groups| Step::WaitGroupsActive {
                    groups,
                    on: GroupsOn::Target,
                }),
            ]
            .into_iter()
            .flatten(),
        ),
        Scheme::Mirror => steps.extend(
            [
                Some(Step::CopyData {
                    topics: topics.clone(),
                    start_from: i.start_from,
                    volume: i.volume,
                    fenced: i.fenced,
                }),
                Some(Step::WaitReplicationCaughtUp {
                    topics: topics.clone(),
                    max_lag: i.max_lag,
                    max_lag_time_ms: i.max_lag_time_ms,
                }),
                hook("stop_source_consumers"),
                groups(|groups| Step::WaitGroupsStopped { groups }),
                (!i.groups.is_empty()).then(|| Step::TranslateOffsets {
                    groups: i.groups.clone(),
                    partitions: i.group_partitions,
                }),
                hook("start_target_consumers"),
                (!i.live_groups.is_empty()).then(|| Step::WaitGroupsActive {
                    groups: i.live_groups.clone(),
                    on: GroupsOn::Target,
                }),
                hook("stop_source_producers"),
                Some(Step::WaitSourceQuiet {
                    topics: topics.clone(),
                }),
                Some(Step::DrainReplication {
                    topics: topics.clone(),
                }),
                Some(Step::Verify {
                    topics,
                    partitions: i.volume.partitions,
                }),
                hook("start_target_producers"),
            ]
            .into_iter()
            .flatten(),
        ),
    }
    steps
}

fn warnings(
    desired: &Desired,
    snapshot: &Snapshot,
    topics: &[TopicChange],
    groups: &[GroupMove],
) -> Vec<String> {
    let mut w = Vec::new();
    if topics.is_empty() {
        w.push(
            "no source topic matches the topics block or a topic block: nothing to migrate"
                .to_string(),
        );
    }
    if groups.is_empty() {
        w.push(format!(
            "no consumer group with committed offsets on the migrated topics matches consumer_groups: \
             ferry cannot {} for any group",
            match desired.migration.scheme {
                Scheme::Mirror => "translate offsets",
                Scheme::SingleConsume => "commit start offsets",
                Scheme::DualConsume => "wait on consumers",
            }
        ));
    }
    let idle: Vec<&str> = groups
        .iter()
        .filter(|g| g.source_members == 0)
        .map(|g| g.name.as_str())
        .collect();
    if desired.migration.scheme == Scheme::Mirror && !idle.is_empty() {
        w.push(format!(
            "no member consumes in {} on the source now: {} offsets are translated, but apply does not wait for consumers of {} on the target",
            idle.join(", "),
            if idle.len() == 1 { "its" } else { "their" },
            if idle.len() == 1 { "it" } else { "them" }
        ));
    }
    if desired.migration.scheme == Scheme::Mirror {
        for gap in &desired.replication.accept_gaps {
            w.push(format!(
                "replication.accept_gaps: source offsets {}..={} of {}[{}] are not copied where retention deleted them before the copy got there; groups committed inside resume at the next copied record",
                gap.from, gap.to, gap.topic, gap.partition
            ));
        }
        if let Some(Support::Unsupported { reason }) = &snapshot.target_transactions {
            w.push(format!(
                "the copy is not fenced: {reason}. It resumes from the source offsets its copies carry, \
                 which is exact after a crash, except that a produce request of a killed apply can \
                 still land after the next apply started; the copy then stops with a concurrent-write \
                 error rather than keep a duplicate unnoticed. Where the target takes transactions, \
                 the copy writes in them and fences the killed run (docs/replication.md, Fencing)"
            ));
        }
    }
    if let Some(reason) = snapshot
        .target
        .new_topic_defaults
        .as_ref()
        .and_then(|d| d.unread.as_deref())
    {
        w.push(format!(
            "ferry could not read the target brokers' settings ({reason}), so it does not know what a created topic keeps by default: topics it creates get {} set from the source. Allow DescribeConfigs on the target's cluster resource for the plan to leave brokers' defaults in force where they match",
            KEYS_SET_WHEN_UNREAD.join(", ")
        ));
    }
    if snapshot.source.cluster_id.is_some()
        && snapshot.source.cluster_id == snapshot.target.cluster_id
    {
        w.push("source and target report the same cluster id: check bootstrap_servers of both clusters".to_string());
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs() -> StepInputs {
        StepInputs {
            create: vec!["a".into()],
            update: vec![],
            topics: vec!["a".into()],
            groups: vec!["g".into()],
            live_groups: vec!["g".into()],
            group_partitions: 3,
            group_target_partitions: 6,
            hooks: ["switch_consumers", "switch_producers"]
                .map(String::from)
                .into(),
            start_from: StartFrom::Earliest,
            max_lag: 1000,
            max_lag_time_ms: 10_000,
            volume: CopyVolume {
                partitions: 3,
                records: 30,
                bytes: None,
            },
            fenced: false,
        }
    }

    fn kinds(steps: &[Step]) -> Vec<String> {
        steps
            .iter()
            .map(|s| match s {
                Step::RunHook { hook, .. } => format!("hook:{hook}"),
                Step::WaitGroupsActive { on, .. } => format!("wait_groups_active:{on:?}"),
                other => other.kind().to_string(),
            })
            .collect()
    }

    #[test]
    fn each_scheme_orders_its_steps_as_designed() {
        let cases: [(Scheme, &[&str]); 3] = [
            (
                Scheme::Mirror,
                &[
                    "apply_topics",
                    "copy_data",
                    "wait_replication_caught_up",
                    "hook:stop_source_consumers",
                    "wait_groups_stopped",
                    "translate_offsets",
                    "hook:start_target_consumers",
                    "wait_groups_active:Target",
                    "hook:stop_source_producers",
                    "wait_source_quiet",
                    "drain_replication",
                    "verify",
                    "hook:start_target_producers",
                ],
            ),
            (
                Scheme::SingleConsume,
                &[
                    "apply_topics",
                    "commit_start_offsets",
                    "hook:switch_producers",
                    "wait_groups_drained",
                    "hook:switch_consumers",
                    "wait_groups_active:Target",
                ],
            ),
            (
                Scheme::DualConsume,
                &[
                    "apply_topics",
                    "wait_groups_active:Target",
                    "hook:switch_producers",
                    "wait_groups_drained",
                ],
            ),
        ];
        for (scheme, want) in cases {
            assert_eq!(kinds(&order(scheme, &inputs())), want, "{scheme}");
        }
    }

    #[test]
    fn start_offsets_cover_every_target_partition_and_translation_only_committed_ones() {
        let single = order(Scheme::SingleConsume, &inputs());
        assert!(single.contains(&Step::CommitStartOffsets {
            groups: vec!["g".into()],
            partitions: 6
        }));
        let mirror = order(Scheme::Mirror, &inputs());
        assert!(mirror.contains(&Step::TranslateOffsets {
            groups: vec!["g".into()],
            partitions: 3
        }));
    }

    #[test]
    fn optional_hooks_appear_only_when_declared() {
        let mut i = inputs();
        i.hooks.insert("start_target_consumers".into());
        i.hooks.insert("stop_source_consumers".into());
        let k = kinds(&order(Scheme::DualConsume, &i));
        assert_eq!(k.first().map(String::as_str), Some("apply_topics"));
        assert_eq!(k[1], "hook:start_target_consumers");
        assert_eq!(
            k.last().map(String::as_str),
            Some("hook:stop_source_consumers")
        );
    }

    #[test]
    fn mirror_waits_on_the_target_only_for_groups_consuming_on_the_source() {
        let idle = StepInputs {
            live_groups: vec![],
            ..inputs()
        };
        let k = kinds(&order(Scheme::Mirror, &idle));
        assert!(k.contains(&"translate_offsets".to_string()));
        assert!(
            !k.contains(&"wait_groups_active:Target".to_string()),
            "{k:?}"
        );
        assert!(
            kinds(&order(Scheme::Mirror, &inputs()))
                .contains(&"wait_groups_active:Target".to_string())
        );
    }

    #[test]
    fn nothing_to_migrate_means_no_steps() {
        let i = StepInputs {
            topics: vec![],
            create: vec![],
            ..inputs()
        };
        for scheme in Scheme::ALL {
            assert!(order(scheme, &i).is_empty());
        }
    }

    #[test]
    fn topics_that_exist_as_declared_skip_the_metadata_step() {
        let i = StepInputs {
            create: vec![],
            ..inputs()
        };
        assert_eq!(kinds(&order(Scheme::Mirror, &i))[0], "copy_data");
    }

    #[test]
    fn without_groups_no_group_steps_are_planned() {
        let i = StepInputs {
            groups: vec![],
            live_groups: vec![],
            group_partitions: 0,
            group_target_partitions: 0,
            ..inputs()
        };
        assert_eq!(
            kinds(&order(Scheme::SingleConsume, &i)),
            [
                "apply_topics",
                "hook:switch_producers",
                "hook:switch_consumers"
            ]
        );
        assert!(!kinds(&order(Scheme::Mirror, &i)).contains(&"translate_offsets".to_string()));
    }
}
