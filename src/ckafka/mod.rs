//! Tencent Cloud CKafka as a target: topic metadata through the signed cloud API (API 3.0,
//! version 2019-08-19), CKafka's rules as one table, and the adjustments they force.

pub mod adjust;
pub mod api_error;
mod ckafka_cluster;
pub mod client;
pub mod limits;
pub mod requests;
pub mod signer;
pub mod warnings;

pub use ckafka_cluster::{ApiTopic, CkafkaCluster};
