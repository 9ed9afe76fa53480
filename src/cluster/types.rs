//! Plain data returned by cluster access. Serializable so tests can keep snapshots as fixtures.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Offsets keyed by topic, then partition.
pub type PartitionOffsets = BTreeMap<String, BTreeMap<i32, i64>>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokerInfo {
    pub id: i32,
    pub host: String,
    pub port: u16,
}

/// What one Metadata request (plus the cluster id) tells.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterMetadata {
    pub cluster_id: Option<String>,
    pub brokers: Vec<BrokerInfo>,
    pub topics: BTreeMap<String, TopicMetadata>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicMetadata {
    pub partitions: Vec<PartitionMetadata>,
}

impl TopicMetadata {
    /// Replicas of the first partition; Kafka keeps it the same for all partitions of a topic.
    pub fn replication_factor(&self) -> i32 {
        self.partitions
            .first()
            .map_or(0, |p| p.replicas.len() as i32)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionMetadata {
    pub id: i32,
    pub leader: i32,
    pub replicas: Vec<i32>,
}

/// A topic's configuration as DescribeConfigs reported it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicConfig {
    pub entries: BTreeMap<String, ConfigValue>,
    /// False when the broker returned only explicitly set keys (tansu does, and flags them all as
    /// defaults): then every entry counts as explicitly set and absent keys use platform defaults.
    pub complete: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigValue {
    pub value: Option<String>,
    /// The broker says this is a default rather than a topic override.
    pub is_default: bool,
    pub sensitive: bool,
}

/// Which offset ListOffsets should return for each partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffsetSpec {
    Earliest,
    Latest,
    /// First offset whose timestamp is at or after this (ms since the epoch).
    Timestamp(i64),
}

/// A consumer group as ListGroups/DescribeGroups report it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupListing {
    pub name: String,
    /// Kafka's group state (Stable, Empty, PreparingRebalance, Dead, ...), as reported.
    pub state: String,
    pub members: usize,
}

/// Whether the broker can do an operation, found by asking it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Support {
    Supported,
    Unsupported { reason: String },
}
