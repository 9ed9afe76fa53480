//! Both live clusters -> [`Snapshot`]: only what the plan needs, fetched in batches.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

mod retention_probe;

pub use retention_probe::{MeasuredRange, RetentionProbe, SizeProbe};

use crate::cluster::{
    BrokerInfo, ClusterAccess, ClusterError, OffsetSpec, PartitionOffsets, Support, TopicConfig,
};
use crate::config::{Desired, Scheme, StartFrom};
use crate::diff::desired_partitions;
use crate::domain::{DefaultValue, NewTopicDefaults};
use crate::platform::Platform;

/// What ferry saw on both clusters when it planned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub source: ClusterSnapshot,
    pub target: ClusterSnapshot,
    /// Whether the target can add partitions; asked only when some topic would need it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_partition_support: Option<Support>,
    /// Whether the target takes transactional writes, which fence the mirror copy; asked only
    /// for a mirror plan ([`Snapshot::probe_transactions`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_transactions: Option<Support>,
}

/// One cluster, narrowed to the migrated topics and groups.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterSnapshot {
    pub cluster_id: Option<String>,
    pub brokers: Vec<BrokerInfo>,
    /// Every topic name on the cluster (internal `__` topics left out).
    pub topic_names: BTreeSet<String>,
    /// Details of the topics that matter to this migration.
    pub topics: BTreeMap<String, TopicSnapshot>,
    pub groups: BTreeMap<String, GroupSnapshot>,
    /// What a topic created here gets for the keys ferry does not set; read from the brokers
    /// only when the plan creates a topic ([`Snapshot::take`]). `None`: the platform's
    /// documented defaults apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_topic_defaults: Option<NewTopicDefaults>,
}

impl ClusterSnapshot {
    /// What a topic created on this cluster uses for `key` when ferry does not set it, `None`
    /// when nobody can say (ferry then sets it).
    pub fn created_default(&self, platform: Platform, key: &str) -> Option<&str> {
        match self.new_topic_defaults.as_ref().map(|d| d.get(key)) {
            Some(DefaultValue::Read(value)) => Some(value),
            Some(DefaultValue::Unknown) => None,
            Some(DefaultValue::NotRead) | None => platform.default_of(key),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicSnapshot {
    pub replication_factor: i32,
    pub partitions: Vec<PartitionSnapshot>,
    pub config: TopicConfig,
    /// Set on a source topic whose target keeps records for less time
    /// ([`Snapshot::probe_retention`]); each partition's `kept_from` then holds the answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_probe: Option<RetentionProbe>,
    /// Set on a source topic whose target keeps fewer bytes per partition
    /// ([`Snapshot::measure_source_bytes`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_probe: Option<SizeProbe>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionSnapshot {
    pub id: i32,
    pub start_offset: i64,
    pub end_offset: i64,
    /// First offset at or after `replication.start_from`'s timestamp, when one is declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp_offset: Option<i64>,
    /// First offset with a timestamp at or after the topic's `retention_probe` (the end offset
    /// when every record is older).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept_from: Option<i64>,
}

impl PartitionSnapshot {
    pub fn records(&self) -> i64 {
        (self.end_offset - self.start_offset).max(0)
    }

    /// Where a copy that `start_from` would start at `from` starts: at the first record the
    /// target keeps, when that is later and `start_from` was not declared.
    pub fn retained_start(&self, from: i64, start_from_declared: bool) -> i64 {
        match self.kept_from {
            Some(kept) if !start_from_declared => from.max(kept),
            _ => from,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupSnapshot {
    pub state: String,
    pub members: usize,
    /// Committed offsets on the migrated topics only.
    pub offsets: PartitionOffsets,
}

/// Internal topics (`__consumer_offsets`, `__transaction_state`, ...) are never migrated or listed.
pub fn is_internal(topic: &str) -> bool {
    topic.starts_with("__")
}

impl Snapshot {
    /// Reads both clusters. Source first: its topics decide what to read on the target.
    pub fn take(
        desired: &Desired,
        source: &dyn ClusterAccess,
        target: &dyn ClusterAccess,
    ) -> Result<Snapshot, ClusterError> {
        let source_meta = timed("source metadata", || source.metadata())?;
        let selected: Vec<String> = source_meta
            .topics
            .keys()
            .filter(|t| !is_internal(t) && desired.selects_topic(t))
            .cloned()
            .collect();
        let source_snap = read_cluster(
            desired,
            source,
            source_meta,
            &selected,
            desired.replication.start_from,
        )?;

        let target_meta = timed("target metadata", || target.metadata())?;
        let managed_targets: Vec<String> = managed_target_names(desired, &source_snap)
            .into_iter()
            .filter(|t| target_meta.topics.contains_key(t))
            .collect();
        let mut target_snap = read_cluster(
            desired,
            target,
            target_meta,
            &managed_targets,
            StartFrom::Earliest,
        )?;

        // A topic the plan would create: ask whether the target lets ferry create it, and what
        // its brokers give a topic for the keys ferry leaves unset.
        if let Some(missing) = managed_target_names(desired, &source_snap)
            .into_iter()
            .find(|t| !target_snap.topic_names.contains(t))
        {
            timed("target create check", || target.can_create_topic(&missing))?;
            target_snap.new_topic_defaults = new_topic_defaults(target, &target_snap.brokers)?;
        }
        let target_partition_support =
            match needs_partition_increase(desired, &source_snap, &target_snap) {
                Some((topic, total)) => Some(target.can_add_partitions(&topic, total)?),
                None => None,
            };
        Ok(Snapshot {
            source: source_snap,
            target: target_snap,
            target_partition_support,
            target_transactions: None,
        })
    }

    /// Asks the target whether it takes transactions, for a mirror plan: the copy is fenced
    /// where it does. Asked once per plan, not by every pass that reads the clusters. The id
    /// has the prefix of the copy's own (`copy::transactional_id`), so one ACL on the prefix
    /// `ferry-copy-` allows both.
    pub fn probe_transactions(&mut self, desired: &Desired, target: &dyn ClusterAccess) {
        if desired.migration.scheme == Scheme::Mirror {
            let id = format!("ferry-copy-{}-probe", desired.migration.name);
            let support = timed("target transactions", || {
                Ok(target.transactions_support(&id))
            });
            self.target_transactions = support.ok();
        }
    }

    /// sha256 over the metadata a plan depends on (ids, topics, partitions, configs, group
    /// names), not over offsets and group states, which move all the time.
    pub fn fingerprint(&self) -> String {
        let mut h = Sha256::new();
        for c in [&self.source, &self.target] {
            h.update(format!("{:?}|{:?}|", c.cluster_id, c.topic_names));
            for (name, t) in &c.topics {
                h.update(format!(
                    "{name}|{}|{}|",
                    t.replication_factor,
                    t.partitions.len()
                ));
                for (k, v) in &t.config.entries {
                    h.update(format!("{k}={:?};", v.value));
                }
            }
            h.update(format!("{:?}", c.groups.keys().collect::<Vec<_>>()));
            if let Some(d) = &c.new_topic_defaults {
                h.update(format!("|{:?}|{:?}", d.values, d.unknown));
            }
        }
        format!("{:x}", h.finalize())
    }
}

/// Target names of every migrated source topic and of every declared topic block.
pub fn managed_target_names(desired: &Desired, source: &ClusterSnapshot) -> BTreeSet<String> {
    let mut names: BTreeSet<String> = source
        .topics
        .keys()
        .map(|t| target_name(desired, t))
        .collect();
    names.extend(
        desired
            .topic_blocks
            .iter()
            .map(|b| b.target_name.clone().unwrap_or_else(|| b.name.clone())),
    );
    names
}

pub fn target_name(desired: &Desired, source_topic: &str) -> String {
    desired
        .topic_block(source_topic)
        .and_then(|b| b.target_name.clone())
        .unwrap_or_else(|| source_topic.to_string())
}

/// The first topic whose target would need more partitions, with the new total.
fn needs_partition_increase(
    desired: &Desired,
    source: &ClusterSnapshot,
    target: &ClusterSnapshot,
) -> Option<(String, i32)> {
    source.topics.iter().find_map(|(name, topic)| {
        let t = target.topics.get(&target_name(desired, name))?;
        let want = desired_partitions(desired.topic_block(name), Some(topic))?.value;
        (want > t.partitions.len() as i32).then(|| (target_name(desired, name), want))
    })
}

fn read_cluster(
    desired: &Desired,
    cluster: &dyn ClusterAccess,
    meta: crate::cluster::ClusterMetadata,
    topics: &[String],
    start_from: StartFrom,
) -> Result<ClusterSnapshot, ClusterError> {
    let configs = if topics.is_empty() {
        BTreeMap::new()
    } else {
        timed("DescribeConfigs", || cluster.topic_configs(topics))?
    };
    let partitions: BTreeMap<String, Vec<i32>> = topics
        .iter()
        .filter_map(|t| {
            meta.topics
                .get(t)
                .map(|m| (t.clone(), m.partitions.iter().map(|p| p.id).collect()))
        })
        .collect();
    let (starts, ends, at_ts) = if partitions.is_empty() {
        Default::default()
    } else {
        let at_ts = match start_from {
            StartFrom::Timestamp(ms) => Some(timed("ListOffsets by timestamp", || {
                cluster.offsets(&partitions, OffsetSpec::Timestamp(ms))
            })?),
            _ => None,
        };
        (
            timed("ListOffsets earliest", || {
                cluster.offsets(&partitions, OffsetSpec::Earliest)
            })?,
            timed("ListOffsets latest", || {
                cluster.offsets(&partitions, OffsetSpec::Latest)
            })?,
            at_ts,
        )
    };

    let mut snap = ClusterSnapshot {
        cluster_id: meta.cluster_id.clone(),
        brokers: meta.brokers.clone(),
        topic_names: meta
            .topics
            .keys()
            .filter(|t| !is_internal(t))
            .cloned()
            .collect(),
        ..Default::default()
    };
    for name in topics {
        let Some(m) = meta.topics.get(name) else {
            continue;
        };
        let offset =
            |map: &PartitionOffsets, p: i32| map.get(name).and_then(|o| o.get(&p)).copied();
        let parts = m
            .partitions
            .iter()
            .map(|p| PartitionSnapshot {
                id: p.id,
                start_offset: offset(&starts, p.id).unwrap_or(0),
                end_offset: offset(&ends, p.id).unwrap_or(0),
                timestamp_offset: at_ts.as_ref().and_then(|a| offset(a, p.id)),
                kept_from: None,
            })
            .collect();
        snap.topics.insert(
            name.clone(),
            TopicSnapshot {
                replication_factor: m.replication_factor(),
                partitions: parts,
                config: configs.get(name).cloned().unwrap_or_default(),
                retention_probe: None,
                size_probe: None,
            },
        );
    }

    let groups: Vec<_> = timed("list groups", || cluster.list_groups())?
        .into_iter()
        .filter(|g| desired.selects_group(&g.name))
        .collect();
    if !groups.is_empty() {
        let names: Vec<String> = groups.iter().map(|g| g.name.clone()).collect();
        let mut offsets = timed("group offsets", || cluster.group_offsets(&names))?;
        for g in groups {
            let mut committed = offsets.remove(&g.name).unwrap_or_default();
            committed.retain(|t, _| snap.topics.contains_key(t));
            snap.groups.insert(
                g.name,
                GroupSnapshot {
                    state: g.state,
                    members: g.members,
                    offsets: committed,
                },
            );
        }
    }
    Ok(snap)
}

/// The brokers' defaults for created topics. A broker that will not describe its settings
/// (no DescribeConfigs permission on the cluster, an old or non-Kafka broker) is not an error:
/// the plan then sets the keys that decide what a topic keeps and says why.
fn new_topic_defaults(
    cluster: &dyn ClusterAccess,
    brokers: &[BrokerInfo],
) -> Result<Option<NewTopicDefaults>, ClusterError> {
    let ids: Vec<i32> = brokers.iter().map(|b| b.id).collect();
    match timed("DescribeConfigs (brokers)", || cluster.broker_configs(&ids)) {
        Ok(configs) if configs.is_empty() => Ok(None),
        Ok(configs) => Ok(Some(NewTopicDefaults::from_brokers(&configs))),
        Err(
            ClusterError::Unauthorized { detail, .. }
            | ClusterError::Unsupported { detail, .. }
            | ClusterError::Kafka { detail, .. },
        ) => Ok(Some(NewTopicDefaults::unread(detail))),
        Err(e) => Err(e),
    }
}

/// Runs one batched cluster call, logging how long it took (-v): where plan time goes.
fn timed<T>(what: &str, call: impl FnOnce() -> Result<T, ClusterError>) -> Result<T, ClusterError> {
    let started = std::time::Instant::now();
    let result = call();
    tracing::debug!(
        call = what,
        ms = started.elapsed().as_millis() as u64,
        "cluster call"
    );
    result
}
