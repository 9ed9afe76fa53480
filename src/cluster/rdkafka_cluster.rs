//! The cluster-access interface over rdkafka.
pub struct RdKafkaCluster;
