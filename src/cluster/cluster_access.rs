//! The cluster-access interface. Snapshot, diff and (later) the executor talk to clusters only
//! through this trait, so their decisions can be tested without a broker.

use std::collections::BTreeMap;

use crate::domain::BrokerConfig;

use super::{
    ClusterError, ClusterMetadata, GroupActivity, GroupListing, NewTopicSpec, OffsetRange,
    OffsetSpec, PartitionOffsets, RangeRead, Support, TopicConfig, TopicResult,
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

    /// The settings of these brokers, one DescribeConfigs per broker, in flight together: what
    /// a topic created without a key gets ([`crate::domain::NewTopicDefaults`]). Empty where
    /// the cluster's topic defaults are its platform's, not its brokers' (CKafka's API).
    fn broker_configs(&self, brokers: &[i32]) -> Result<BTreeMap<i32, BrokerConfig>, ClusterError> {
        let _ = brokers;
        Ok(BTreeMap::new())
    }

    /// ListOffsets for every given partition, batched per leader.
    fn offsets(
        &self,
        partitions: &BTreeMap<String, Vec<i32>>,
        spec: OffsetSpec,
    ) -> Result<PartitionOffsets, ClusterError>;

    /// Reads each range (one per partition) from its start, at most `budget` bytes of it, and counts the bytes of
    /// its records: how much a copy leaves behind ([`crate::domain::ByteCount`]). Best effort
    /// within the cluster's timeout: a range the cluster did not serve is left out of the
    /// answer (and so is every range of a cluster ferry does not read records from).
    fn read_bytes(
        &self,
        ranges: &[OffsetRange],
        budget: u64,
    ) -> BTreeMap<(String, i32), RangeRead> {
        let _ = (ranges, budget);
        BTreeMap::new()
    }

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

    /// Whether the broker would let ferry create `topic`, asked with a validate-only
    /// CreateTopics so nothing changes. An authorizer hides what a user may not see instead of
    /// refusing a read, so without this a plan could promise creations that apply cannot make:
    /// a missing permission is an [`ClusterError::Unauthorized`] error here.
    fn can_create_topic(&self, topic: &str) -> Result<(), ClusterError>;

    /// Whether the cluster takes transactional writes under `transactional_id`: one
    /// InitProducerId, which writes nothing. A refusal (no coordinator, no permission, an old
    /// broker) is [`Support::Unsupported`] with the reason, not an error: the copy then runs
    /// unfenced.
    fn transactions_support(&self, transactional_id: &str) -> Support;

    // Writes. Each is idempotent when repeated with the same arguments, so an interrupted apply
    // can simply run its step again.

    /// Creates these topics in one CreateTopics request, then waits (at most the timeout,
    /// polling metadata of just these topics) until metadata shows every created topic with
    /// all its partitions, each with a leader. One result per topic, in the given order; a
    /// topic that exists already is [`TopicResult::AlreadyExists`], not an error. Any other
    /// refusal fails the call, naming the refused topics and those created by the same request;
    /// so does a request that failed as a whole or created topics that do not show up in time.
    fn create_topics(&self, topics: &[NewTopicSpec]) -> Result<Vec<TopicResult>, ClusterError>;

    /// Sets the given config keys of these topics, all in one IncrementalAlterConfigs request
    /// (SET operations only: keys not listed keep their values). A topic the broker refused
    /// fails the call with an error naming the topic and the keys (the other topics may have
    /// been changed).
    fn alter_topic_configs(
        &self,
        changes: &BTreeMap<String, BTreeMap<String, String>>,
    ) -> Result<(), ClusterError>;

    /// Raises these topics to the given partition totals in one CreatePartitions request,
    /// then waits (at most the timeout) until metadata shows the new partitions. A broker
    /// without CreatePartitions gives [`ClusterError::Unsupported`].
    fn add_partitions(&self, topic_totals: &BTreeMap<String, i32>) -> Result<(), ClusterError>;

    /// Commits these offsets for `group` outside any group generation (what a consumer that
    /// never subscribed does). A group with live members refuses that:
    /// [`ClusterError::GroupActive`]. Any partition the broker refused fails the call, naming
    /// the partitions.
    fn commit_group_offsets(
        &self,
        group: &str,
        offsets: &PartitionOffsets,
    ) -> Result<(), ClusterError>;

    /// How many members `group` has right now (one DescribeGroups request), or
    /// [`GroupActivity::Unknown`] when the broker would not describe it.
    fn group_activity(&self, group: &str) -> Result<GroupActivity, ClusterError>;

    /// The members of `group`, as `client.id@host`, for messages that name who is still
    /// consuming; empty where the broker does not say.
    fn group_members(&self, group: &str) -> Result<Vec<String>, ClusterError> {
        let _ = group;
        Ok(Vec::new())
    }
}
