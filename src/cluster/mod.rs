//! Cluster access: the one interface every Kafka call sits behind, its domain types, and the
//! rdkafka implementation.

mod alter_configs_ffi;
mod broker_failures;
mod client_config;
mod cluster_access;
mod cluster_error;
mod commit_offsets_ffi;
mod context;
mod describe_configs_ffi;
mod group_offsets_ffi;
pub mod kafka_log;
mod list_groups_ffi;
mod native;
mod rdkafka_cluster;
mod read_bytes;
mod topic_admin_ffi;
mod transactions_probe;
mod types;
mod wire;

pub use client_config::{client_config, redacted};
pub use cluster_access::ClusterAccess;
pub use cluster_error::{CloudApiRefusal, ClusterError};
pub use kafka_log::KafkaLog;
pub use rdkafka_cluster::RdKafkaCluster;
pub use types::{
    BrokerInfo, ClusterMetadata, ConfigValue, GroupActivity, GroupListing, NewTopicSpec,
    OffsetRange, OffsetSpec, PartitionMetadata, PartitionOffsets, RangeRead, Support, TopicConfig,
    TopicMetadata, TopicResult,
};

#[cfg(test)]
mod group_active_tests;
