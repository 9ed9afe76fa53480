//! The pure drift check over a config written as HCL, hand-made snapshots and state records.

use std::collections::BTreeMap;

use crate::cluster::{BrokerInfo, ConfigValue, TopicConfig};
use crate::config::{self, Desired, LoadOptions, Scheme};
use crate::plan::Step;
use crate::platform::Platform;
use crate::snapshot::{ClusterSnapshot, GroupSnapshot, PartitionSnapshot, Snapshot, TopicSnapshot};
use crate::state::{CommittedOffset, State, StepOutcome};

use super::*;

fn desired() -> Desired {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("main.hcl"),
        r#"
migration "m" {
  scheme = "single_consume"
}
cluster "source" {
  bootstrap_servers = ["s:9092"]
}
cluster "target" {
  bootstrap_servers = ["t:9092"]
}
topics {
  include = ["^orders"]
}
consumer_groups {
  include = ["^billing$"]
}
hook "switch_producers" {
  command = ["true"]
}
hook "switch_consumers" {
  command = ["true"]
}
"#,
    )
    .unwrap();
    config::load(dir.path(), &LoadOptions::default()).expect("test config loads")
}

fn topic(partitions: i32, config: &[(&str, &str)]) -> TopicSnapshot {
    TopicSnapshot {
        replication_factor: 1,
        partitions: (0..partitions)
            .map(|id| PartitionSnapshot {
                id,
                start_offset: 0,
                end_offset: 10,
                timestamp_offset: None,
                kept_from: None,
            })
            .collect(),
        config: TopicConfig {
            entries: config
                .iter()
                .map(|(k, v)| {
                    (
                        k.to_string(),
                        ConfigValue {
                            value: Some(v.to_string()),
                            is_default: false,
                            sensitive: false,
                        },
                    )
                })
                .collect(),
            complete: false,
        },
        retention_probe: None,
        size_probe: None,
    }
}

fn cluster(id: &str, topics: &[(&str, TopicSnapshot)]) -> ClusterSnapshot {
    ClusterSnapshot {
        cluster_id: Some(id.into()),
        brokers: vec![BrokerInfo {
            id: 1,
            host: "h".into(),
            port: 9092,
        }],
        topic_names: topics.iter().map(|(n, _)| n.to_string()).collect(),
        topics: topics
            .iter()
            .map(|(n, t)| (n.to_string(), t.clone()))
            .collect(),
        groups: BTreeMap::new(),
        new_topic_defaults: None,
    }
}

/// Source `orders` (2 partitions, retention 1 day); the target as ferry left it.
fn in_sync() -> Snapshot {
    let orders = topic(2, &[("retention.ms", "86400000")]);
    Snapshot {
        source: cluster("src", &[("orders", orders.clone())]),
        target: cluster("tgt", &[("orders", orders)]),
        target_partition_support: None,
        target_transactions: None,
    }
}

/// A state whose apply created `orders` and committed billing's start offsets (5 on both).
fn applied() -> State {
    let mut state = State::new("m", Scheme::SingleConsume, None, None);
    let i = state.push_step("apply_topics", "create 1 topic on target");
    state.steps[i].step = Some(Step::ApplyTopics {
        create: vec!["orders".into()],
        update: vec![],
    });
    state.mark_done(
        i,
        StepOutcome::TopicsApplied {
            created: vec!["orders".into()],
            updated: vec![],
            configs_set: BTreeMap::new(),
            already_as_declared: vec![],
        },
    );
    let j = state.push_step("commit_start_offsets", "commit");
    let offsets = BTreeMap::from([("orders".to_string(), BTreeMap::from([(0, 5), (1, 5)]))]);
    state.mark_done(
        j,
        StepOutcome::OffsetsCommitted {
            groups: vec!["billing".into()],
            offsets: CommittedOffset::list("billing", &offsets),
        },
    );
    state
}

fn with_group(mut snapshot: Snapshot, offsets: &[(i32, i64)]) -> Snapshot {
    snapshot.target.groups.insert(
        "billing".into(),
        GroupSnapshot {
            state: "Empty".into(),
            members: 0,
            offsets: BTreeMap::from([("orders".to_string(), offsets.iter().copied().collect())]),
        },
    );
    snapshot
}

fn kinds(findings: &[DriftFinding]) -> Vec<DriftKind> {
    findings.iter().map(|f| f.kind).collect()
}

#[test]
fn a_target_as_ferry_left_it_has_no_drift() {
    let snapshot = with_group(in_sync(), &[(0, 5), (1, 9)]);
    let found = detect(&desired(), &snapshot, Some(&applied()), Platform::Kafka);
    assert_eq!(found, vec![]);
}

#[test]
fn a_config_changed_on_the_target_behind_ferrys_back_is_drift_with_both_values() {
    let mut snapshot = with_group(in_sync(), &[(0, 5), (1, 5)]);
    snapshot.target.topics.get_mut("orders").unwrap().config =
        topic(2, &[("retention.ms", "1000")]).config;
    let found = detect(&desired(), &snapshot, Some(&applied()), Platform::Kafka);
    assert_eq!(kinds(&found), [DriftKind::ConfigChanged]);
    let f = &found[0];
    assert_eq!(f.topic.as_deref(), Some("orders"));
    assert_eq!(f.key.as_deref(), Some("retention.ms"));
    assert_eq!(f.expected.as_deref(), Some("86400000"));
    assert_eq!(f.actual.as_deref(), Some("1000"));
    assert!(
        f.message.contains("the source has \"86400000\""),
        "{}",
        f.message
    );
}

#[test]
fn partitions_added_on_the_target_are_drift() {
    let mut snapshot = with_group(in_sync(), &[(0, 5), (1, 5)]);
    snapshot
        .target
        .topics
        .insert("orders".into(), topic(4, &[("retention.ms", "86400000")]));
    let found = detect(&desired(), &snapshot, Some(&applied()), Platform::Kafka);
    assert_eq!(kinds(&found), [DriftKind::PartitionsChanged]);
    assert_eq!(found[0].expected.as_deref(), Some("2"));
    assert_eq!(found[0].actual.as_deref(), Some("4"));
    assert!(found[0].message.contains("added outside ferry"));
}

#[test]
fn a_topic_ferry_applied_that_is_gone_is_drift_but_one_never_created_is_pending() {
    let mut snapshot = in_sync();
    snapshot.target = cluster("tgt", &[]);
    let found = detect(&desired(), &snapshot, Some(&applied()), Platform::Kafka);
    assert_eq!(kinds(&found), [DriftKind::TopicDeleted]);
    let none = detect(&desired(), &snapshot, None, Platform::Kafka);
    assert_eq!(
        none,
        vec![],
        "without state the topic is simply not created yet"
    );
}

#[test]
fn target_topics_no_configuration_selects_are_reported_and_can_be_ignored() {
    let mut snapshot = with_group(in_sync(), &[(0, 5), (1, 5)]);
    snapshot.target.topic_names.insert("someone-elses".into());
    let d = desired();
    let state = applied();
    let found = detect(&d, &snapshot, Some(&state), Platform::Kafka);
    assert_eq!(kinds(&found), [DriftKind::UnmanagedTopic]);
    assert_eq!(found[0].topic.as_deref(), Some("someone-elses"));
    let counted = DriftReport::build(&d, &snapshot, Some(&state), found.clone(), false);
    assert!(counted.has_drift());
    let ignored = DriftReport::build(&d, &snapshot, Some(&state), found, true);
    assert!(!ignored.has_drift());
    assert_eq!(ignored.ignored.len(), 1);
    assert_eq!(ignored.offsets_checked, 2);
}

#[test]
fn a_group_below_ferrys_committed_offset_or_gone_moved_backwards() {
    let state = applied();
    let back = with_group(in_sync(), &[(0, 3), (1, 5)]);
    let found = detect(&desired(), &back, Some(&state), Platform::Kafka);
    assert_eq!(kinds(&found), [DriftKind::GroupMovedBackwards]);
    assert_eq!(found[0].partition, Some(0));
    assert_eq!(found[0].expected.as_deref(), Some("5"));
    assert_eq!(found[0].actual.as_deref(), Some("3"));

    let gone = detect(&desired(), &in_sync(), Some(&state), Platform::Kafka);
    assert_eq!(gone.len(), 2, "both partitions lost their offset: {gone:?}");
    assert!(gone.iter().all(|f| f.actual.is_none()));
}

#[test]
fn a_source_topic_that_appeared_after_the_migration_started_is_source_drift() {
    let mut snapshot = with_group(in_sync(), &[(0, 5), (1, 5)]);
    snapshot
        .source
        .topics
        .insert("orders.new".into(), topic(1, &[]));
    snapshot.source.topic_names.insert("orders.new".into());
    let found = detect(&desired(), &snapshot, Some(&applied()), Platform::Kafka);
    assert_eq!(kinds(&found), [DriftKind::NewSourceTopic]);
    assert_eq!(found[0].cluster, Side::Source);
    assert_eq!(found[0].topic.as_deref(), Some("orders.new"));
    // Before any apply every selected topic is simply part of the plan.
    let before = detect(&desired(), &snapshot, None, Platform::Kafka);
    assert!(!kinds(&before).contains(&DriftKind::NewSourceTopic));
}
