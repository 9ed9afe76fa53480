//! The cluster-access interface. Snapshot, diff and (later) the executor talk to clusters only
//! through this trait, so their decisions can be tested without a broker.

use std::collections::BTreeMap;

use super::{
    ClusterError, ClusterMetadata, GroupListing, OffsetSpec, PartitionOffsets, Support, TopicConfig,
};

/// Every method is one batched round of requests, never one request per topic.
pub trait ClusterAccess {
    /// Cluster id, brokers, topics and their partitions (one Metadata request).
    fn metadata(&self) -> Result<ClusterMetadata, ClusterError>;

    /// Configs of these topics, in one DescribeConfigs request (topics unknown to the broker are
    /// left out of the result).
    fn topic_configs(
        &self,
        topics: &[String],
    ) -> Result<BTreeMap<String, TopicConfig>, ClusterError>;

    /// ListOffsets for every given partition, batched per leader.
    fn offsets(
        &self,
        partitions: &BTreeMap<String, Vec<i32>>,
        spec: OffsetSpec,
    ) -> Result<PartitionOffsets, ClusterError>;

    /// Every consumer group with its state and member count.
    fn list_groups(&self) -> Result<Vec<GroupListing>, ClusterError>;

    /// Committed offsets of these groups (all their partitions), requests in flight together.
    fn group_offsets(
        &self,
        groups: &[String],
    ) -> Result<BTreeMap<String, PartitionOffsets>, ClusterError>;

    /// Whether the broker accepts adding partitions to this topic, asked with a validate-only
    /// CreatePartitions so nothing changes.
    fn can_add_partitions(&self, topic: &str, total: i32) -> Result<Support, ClusterError>;
}
