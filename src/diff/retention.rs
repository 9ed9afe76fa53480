//! The target's retention against the source's, for the plan (issue 15): which topics the plan
//! measures ([`predicted_limits`]), the cut a mirror copy makes ([`cut`]), and the figures a
//! CKafka retention blocker quotes ([`ckafka_facts`]). The measuring itself is I/O and happens
//! in [`crate::snapshot::Snapshot::probe_retention`], between two passes of the pure diff.

use std::collections::BTreeMap;

use crate::ckafka::adjust::{Held, RetentionFacts};
use crate::config::{Desired, Scheme};
use crate::domain::{
    ByteCount, PartitionCut, RetentionCut, bytes_limit, shorter_on_target, time_limit,
};
use crate::platform::{Allowed, Platform};
use crate::snapshot::{Snapshot, TopicSnapshot};

use super::TopicChange;

/// How long the source topic keeps records by age (`None`: forever).
fn source_limit(source: &TopicSnapshot) -> Option<i64> {
    let c = &source.config;
    time_limit(c.value("retention.ms"), c.value("cleanup.policy"), None)
}

/// For every source topic whose target will keep records for less time than the source does,
/// that time: the `retention.ms` the change leaves on the target, or, where the platform cannot
/// take the value asked for (the change is blocked), the most it can take.
pub fn predicted_limits(
    changes: &[TopicChange],
    snapshot: &Snapshot,
    platform: Platform,
) -> BTreeMap<String, i64> {
    let mut limits = BTreeMap::new();
    for change in changes {
        let Some(source) = snapshot.source.topics.get(&change.name) else {
            continue;
        };
        let value = |key| change.value_after_apply(key, &snapshot.target, platform);
        let mut retention = value("retention.ms").map(str::to_string);
        if let Some(Allowed::Range { max, .. }) = platform.key("retention.ms").map(|k| k.allowed)
            && retention
                .as_deref()
                .and_then(|r| r.trim().parse::<i64>().ok())
                .is_some_and(|r| r < 0 || r > max)
        {
            retention = Some(max.to_string());
        }
        let target_limit = time_limit(
            retention.as_deref(),
            value("cleanup.policy"),
            value("message.timestamp.type"),
        );
        if let Some(limit) = shorter_on_target(source_limit(source), target_limit) {
            limits.insert(change.name.clone(), limit);
        }
    }
    limits
}

/// What a mirror copy of `source` leaves behind, when the plan measured it.
pub fn cut(desired: &Desired, source: &TopicSnapshot) -> Option<RetentionCut> {
    let probe = source.retention_probe.as_ref()?;
    let partitions: Vec<PartitionCut> = source
        .partitions
        .iter()
        .map(|p| {
            let first_kept = p.kept_from.unwrap_or(p.start_offset);
            PartitionCut {
                partition: p.id,
                first_kept,
                left_behind: (first_kept - p.start_offset).max(0) as u64,
                bytes: probe.left_behind_bytes.get(&p.id).copied(),
            }
        })
        .collect();
    Some(RetentionCut {
        target_retention_ms: probe.target_retention_ms,
        source_retention_ms: source_limit(source),
        older_than_ms: probe.older_than_ms,
        applies: !desired.replication.start_from_declared,
        partitions,
        groups: Vec::new(),
    })
}

/// The records a CKafka retention blocker quotes: those older than the most CKafka keeps, when
/// the plan measured the topic against exactly that.
pub fn ckafka_facts(source: &TopicSnapshot, platform: Platform) -> Option<RetentionFacts> {
    let probe = source.retention_probe.as_ref()?;
    let Some(Allowed::Range { max, .. }) = platform.key("retention.ms").map(|k| k.allowed) else {
        return None;
    };
    (probe.target_retention_ms == max).then(|| RetentionFacts {
        older_than_max_retention: Some(Held {
            records: source
                .partitions
                .iter()
                .map(|p| (p.kept_from.unwrap_or(p.start_offset) - p.start_offset).max(0) as u64)
                .sum(),
            bytes: ByteCount::total(
                source
                    .partitions
                    .iter()
                    .map(|p| probe.left_behind_bytes.get(&p.id).copied()),
            ),
        }),
        larger_than_max_message: None,
    })
}

/// What a plan measures on the source before it is built, per source topic whose target keeps
/// less: by time (the target's `retention.ms`) and by size (its `retention.bytes`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetLimits {
    pub by_time: BTreeMap<String, i64>,
    pub by_size: BTreeMap<String, i64>,
}

/// Source topics a plan of `desired` measures before it is built, keyed to their target's limit.
/// Only a mirror copies records, so only a mirror plan measures by size.
pub fn retention_limits(
    desired: &Desired,
    snapshot: &Snapshot,
    platform: Platform,
) -> TargetLimits {
    let changes = super::diff_topics(desired, snapshot, platform);
    TargetLimits {
        by_time: predicted_limits(&changes, snapshot, platform),
        by_size: if desired.migration.scheme == Scheme::Mirror {
            size_limits(&changes, snapshot, platform)
        } else {
            BTreeMap::new()
        },
    }
}

/// For every changed (not blocked) source topic whose target keeps fewer bytes per partition
/// than the source does, that many: the `retention.bytes` the change leaves on the target.
pub fn size_limits(
    changes: &[TopicChange],
    snapshot: &Snapshot,
    platform: Platform,
) -> BTreeMap<String, i64> {
    let mut limits = BTreeMap::new();
    for change in changes
        .iter()
        .filter(|c| c.action != super::Action::Blocked)
    {
        let Some(source) = snapshot.source.topics.get(&change.name) else {
            continue;
        };
        let on_source = |key: &str| source.config.value(key);
        let on_target = |key| change.value_after_apply(key, &snapshot.target, platform);
        let source_limit = bytes_limit(on_source("retention.bytes"), on_source("cleanup.policy"));
        let target_limit = bytes_limit(on_target("retention.bytes"), on_target("cleanup.policy"));
        if let Some(limit) = shorter_on_target(source_limit, target_limit) {
            limits.insert(change.name.clone(), limit);
        }
    }
    limits
}
