//! Desired x Snapshot -> one [`TopicChange`] per migrated topic.

use crate::ckafka::adjust;
use crate::cluster::Support;
use crate::config::{Desired, Scheme, TopicBlock};
use crate::platform::Platform;
use crate::snapshot::{ClusterSnapshot, Snapshot, TopicSnapshot, target_name};

use super::{
    Action, ConfigChange, Origin, TopicChange, Valued, config_changes, not_carried, retention,
};
use crate::domain::COPY_HEADER_ALLOWANCE;

/// How a mirror's "target not empty" blocker begins: a resumed mirror apply lifts it for the
/// topics its own copy filled ([`crate::plan::Plan::accept_own_copy`]).
pub const MIRROR_TARGET_NOT_EMPTY: &str = "target topic already holds";

/// Declared partitions win; else the source's count; `None` when neither exists.
pub fn desired_partitions(
    block: Option<&TopicBlock>,
    source: Option<&TopicSnapshot>,
) -> Option<Valued<i32>> {
    match (block.and_then(|b| b.partitions), source) {
        (Some(p), _) => Some(Valued {
            value: p,
            origin: Origin::Declared,
        }),
        (None, Some(s)) => Some(Valued {
            value: s.partitions.len() as i32,
            origin: Origin::Source,
        }),
        (None, None) => None,
    }
}

fn desired_replication(
    desired: &Desired,
    block: Option<&TopicBlock>,
    source: Option<&TopicSnapshot>,
) -> Option<Valued<i32>> {
    let declared = block
        .and_then(|b| b.replication_factor)
        .or(desired.topics.replication_factor);
    match (declared, source) {
        (Some(r), _) => Some(Valued {
            value: r,
            origin: Origin::Declared,
        }),
        (None, Some(s)) => Some(Valued {
            value: s.replication_factor,
            origin: Origin::Source,
        }),
        (None, None) => None,
    }
}

/// Every migrated topic: the selected source topics plus declared topic blocks, by name.
pub fn diff_topics(desired: &Desired, snapshot: &Snapshot, platform: Platform) -> Vec<TopicChange> {
    let mut names: Vec<&str> = snapshot.source.topics.keys().map(String::as_str).collect();
    names.extend(desired.topic_blocks.iter().map(|b| b.name.as_str()));
    names.sort_unstable();
    names.dedup();
    names
        .into_iter()
        .map(|n| diff_topic(desired, snapshot, platform, n))
        .collect()
}

fn diff_topic(
    desired: &Desired,
    snapshot: &Snapshot,
    platform: Platform,
    name: &str,
) -> TopicChange {
    let block = desired.topic_block(name);
    let source = snapshot.source.topics.get(name);
    let target_name = target_name(desired, name);
    let target = snapshot.target.topics.get(&target_name);
    let exists = snapshot.target.topic_names.contains(&target_name);

    let mut change = TopicChange {
        exists_on_target: exists,
        source_partitions: source.map(|s| s.partitions.len() as i32),
        target_partitions: target.map(|t| t.partitions.len() as i32),
        not_carried: source
            .map(|s| not_carried(platform, &s.config))
            .unwrap_or_default(),
        ..TopicChange::new(name, &target_name)
    };

    let partitions = desired_partitions(block, source);
    let replication = desired_replication(desired, block, source);
    let (Some(partitions), Some(mut replication)) = (partitions, replication) else {
        change.action = Action::Blocked;
        change.blocked.push("not found on the source cluster; declare partitions and replication_factor to create it".into());
        return change;
    };
    change.config = config_changes(
        platform,
        block,
        &desired.topics,
        source.map(|s| &s.config),
        target.map(|t| &t.config),
        &snapshot.target,
    );
    if platform == Platform::Ckafka {
        change
            .not_carried
            .retain(|n| platform.is_broker_specific(&n.key));
        let mut declared = desired.topics.config.clone();
        declared.extend(block.map(|b| b.config.clone()).unwrap_or_default());
        change.adjustments = adjust::dropped_keys(source.map(|s| &s.config), &declared);
        replication = adjust::adjust_replication(
            name,
            replication,
            &mut change.adjustments,
            &mut change.blocked,
        );
        adjust::adjust_config(
            name,
            &mut change.config,
            &mut change.adjustments,
            &mut change.blocked,
            source
                .and_then(|s| retention::ckafka_facts(s, platform))
                .as_ref(),
        );
        change
            .blocked
            .extend(adjust::blockers(&target_name, name, Some(partitions.value)));
    }

    if desired.migration.scheme == Scheme::Mirror {
        mirror_partition_count(&mut change, partitions, target);
        if let Some(source) = source {
            mirror_message_size(&mut change, platform, source, &snapshot.target);
        }
    }

    match target {
        None => {
            change.partitions = Some(partitions);
            change.replication_factor = Some(replication);
            // CKafka's Kafka endpoints are virtual: replicas are checked against its own limit.
            let brokers = snapshot.target.brokers.len() as i32;
            if platform == Platform::Kafka && brokers > 0 && replication.value > brokers {
                change.blocked.push(format!(
                    "replication factor {} exceeds the target's {brokers} broker{}",
                    replication.value,
                    if brokers == 1 { "" } else { "s" }
                ));
            }
        }
        Some(t) => check_existing(
            desired.migration.scheme,
            snapshot,
            &mut change,
            t,
            partitions,
            replication,
        ),
    }

    if platform == Platform::Ckafka {
        adjust::settle(&mut change, desired.accepts_adjustments(name));
    }
    if desired.migration.scheme == Scheme::Mirror
        && change.value_after_apply("message.timestamp.type", &snapshot.target, platform)
            == Some("LogAppendTime")
    {
        change.notes.push(LOG_APPEND_TIME_NOTE.into());
    }
    if desired.migration.scheme == Scheme::Mirror
        && change.blocked.is_empty()
        && let Some(source) = source
    {
        change.retention_cut = retention::cut(desired, source);
    }
    change.action = if !change.blocked.is_empty() {
        Action::Blocked
    } else if target.is_none() {
        Action::Create
    } else if change.partitions.is_some() || !change.config.is_empty() {
        Action::Update
    } else {
        Action::NoOp
    };
    change
}

/// A mirror copy writes source partition `i` to target partition `i`: the target needs every
/// source partition (a missing one would make the copy retry until `wait_timeout`). More is
/// allowed, but keyed records that producers write after the switch are hashed over more
/// partitions than the copied history was.
fn mirror_partition_count(
    change: &mut TopicChange,
    partitions: Valued<i32>,
    target: Option<&TopicSnapshot>,
) {
    let Some(source) = change.source_partitions else {
        return;
    };
    let will_have = partitions
        .value
        .max(target.map_or(0, |t| t.partitions.len() as i32));
    if will_have < source {
        change.blocked.push(format!(
            "a mirror copy writes each source partition to the same partition on the target: the source has {source} partitions, the target would have {will_have}; declare partitions = {source} (or more) in topic \"{}\"",
            change.name
        ));
    } else if will_have > source {
        change.notes.push(format!(
            "the target will have {will_have} partitions, the source has {source}: the copy keeps every record in its partition, but keyed records produced after the switch hash over {will_have} partitions, so a key's new records may land in another partition than its history (consumers that rely on per-key order across the switch see it broken)"
        ));
    }
}

/// A mirror copy adds ferry's header to every record, so the target topic must take the
/// source's largest record plus [`COPY_HEADER_ALLOWANCE`]: a value the plan takes from the
/// source (or the target's default) is raised to that, with a note; a declared value below it
/// blocks, since the target would refuse records the source holds.
fn mirror_message_size(
    change: &mut TopicChange,
    platform: Platform,
    source: &TopicSnapshot,
    target: &ClusterSnapshot,
) {
    const KEY: &str = "max.message.bytes";
    if platform.key(KEY).is_none() {
        return;
    }
    let number = |v: Option<&str>| v.and_then(|v| v.trim().parse::<i64>().ok());
    let source_limit = number(source.config.value(KEY).or(Platform::Kafka.default_of(KEY)));
    let Some(source_limit) = source_limit else {
        return;
    };
    let needed = source_limit + COPY_HEADER_ALLOWANCE;
    let planned = change.config.iter().position(|c| c.key == KEY);
    let (will_have, declared) = match planned {
        Some(i) => (
            number(Some(&change.config[i].after)),
            change.config[i].origin == Origin::Declared,
        ),
        None => (
            number(change.value_after_apply(KEY, target, platform)),
            false,
        ),
    };
    let Some(will_have) = will_have else {
        return;
    };
    if will_have >= needed {
        return;
    }
    if declared {
        change.blocked.push(format!(
            "max.message.bytes = {will_have} is declared, but the source topic takes records up to {source_limit} bytes and each copy carries ferry's header (up to {COPY_HEADER_ALLOWANCE} bytes): the target would refuse the largest records; declare max.message.bytes = {needed} or more"
        ));
        return;
    }
    let raised = |before| ConfigChange {
        key: KEY.to_string(),
        before,
        after: needed.to_string(),
        origin: Origin::Source,
    };
    match planned {
        // The target has it already: the carried value was below it, nothing to change.
        Some(i) if number(change.config[i].before.as_deref()) == Some(needed) => {
            change.config.remove(i);
            return;
        }
        Some(i) => change.config[i] = raised(change.config[i].before.clone()),
        None => change.config.push(raised(Some(will_have.to_string()))),
    }
    change.notes.push(format!(
        "max.message.bytes is {needed} on the target: the source's {source_limit} plus {COPY_HEADER_ALLOWANCE} bytes for the header each copy carries, so that every record the source took fits"
    ));
}

/// What a mirror copy into a LogAppendTime topic keeps and verifies.
pub const LOG_APPEND_TIME_NOTE: &str = "the target stamps copied records with their append time \
(message.timestamp.type = LogAppendTime): the source's timestamps are not kept, and verification \
compares key, value, headers and order without them";

/// A topic that already exists on the target: what may grow, what conflicts.
fn check_existing(
    scheme: Scheme,
    snapshot: &Snapshot,
    change: &mut TopicChange,
    target: &TopicSnapshot,
    partitions: Valued<i32>,
    replication: Valued<i32>,
) {
    let have = target.partitions.len() as i32;
    if partitions.value > have {
        change.partitions = Some(partitions);
        if let Some(Support::Unsupported { reason }) = &snapshot.target_partition_support {
            change.blocked.push(format!("needs {} partitions but the target has {have} and cannot add partitions ({reason})", partitions.value));
        }
    } else if partitions.value < have {
        match partitions.origin {
            Origin::Declared => change.blocked.push(format!(
                "target has {have} partitions, declared {} (partitions cannot shrink)",
                partitions.value
            )),
            // A mirror plan says more about it (see `mirror_partition_count`).
            Origin::Source if scheme == Scheme::Mirror => {}
            Origin::Source => change.notes.push(format!(
                "target has {have} partitions, source {}; records keep their source partition",
                partitions.value
            )),
        }
    }

    if replication.value != target.replication_factor {
        let text = format!(
            "replication factor is {} on the target, {} wanted",
            target.replication_factor, replication.value
        );
        match replication.origin {
            Origin::Declared => change
                .blocked
                .push(format!("{text}; ferry does not reassign replicas")),
            Origin::Source => change.notes.push(format!("{text} (source); left as it is")),
        }
    }

    let records: i64 = target.partitions.iter().map(|p| p.records()).sum();
    if records > 0 {
        if scheme == Scheme::Mirror {
            change.blocked.push(format!(
                "{MIRROR_TARGET_NOT_EMPTY} {records} records; a mirror copy needs an empty topic so offsets and order match the source"
            ));
        }
        if let Some(c) = change.config.iter().find(|c| c.key == "cleanup.policy") {
            change.blocked.push(format!(
                "cleanup.policy would change from {} to {} on a topic that holds data, which changes which records survive",
                c.before.as_deref().unwrap_or("?"),
                c.after
            ));
        }
    }
}
