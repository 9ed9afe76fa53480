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
    /// True for Kafka, which describes every topic key, defaults included (flagged as such).
    /// False when the broker returned only explicitly set keys (some Kafka-compatible brokers
    /// do, and flag them all as defaults): then every entry counts as explicitly set and absent
    /// keys use platform defaults.
    pub complete: bool,
}

impl TopicConfig {
    /// The reported value of `key`, `None` when it is absent or has none.
    pub fn value(&self, key: &str) -> Option<&str> {
        self.entries.get(key).and_then(|v| v.value.as_deref())
    }
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

/// A topic to create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewTopicSpec {
    pub name: String,
    /// Partition count; -1 lets the broker pick its default.
    pub partitions: i32,
    /// Replicas per partition; -1 lets the broker pick its default.
    pub replication_factor: i32,
    /// Topic configs set at creation.
    pub config: BTreeMap<String, String>,
}

/// What creating one topic came to. A topic the broker refused for any other reason fails the
/// whole call instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TopicResult {
    /// Created, and metadata shows it with all its partitions.
    Created(String),
    /// The broker answered TOPIC_ALREADY_EXISTS; whether the existing topic is as declared is
    /// for the caller to check.
    AlreadyExists(String),
}

impl TopicResult {
    pub fn name(&self) -> &str {
        match self {
            TopicResult::Created(name) | TopicResult::AlreadyExists(name) => name,
        }
    }
}

/// Whether a consumer group has live members, as far as the broker lets ferry see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum GroupActivity {
    /// Members in the group right now (0: nobody consumes).
    Members(usize),
    /// The broker cannot describe groups (it drops the connection on DescribeGroups or does
    /// not support it); watch the group's committed offsets instead.
    Unknown { reason: String },
}

/// The offsets `[from, to)` of one partition, for [`super::ClusterAccess::read_bytes`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetRange {
    pub topic: String,
    pub partition: i32,
    pub from: i64,
    pub to: i64,
}

/// What reading the start of an [`OffsetRange`] found: the bytes of its records (keys, values
/// and headers) in `[from, read_to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RangeRead {
    pub read_to: i64,
    pub bytes: u64,
}
