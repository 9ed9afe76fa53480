//! Cluster settings -> librdkafka client properties.
use rdkafka::ClientConfig;

use crate::config::ClusterSettings;

pub fn client_config(settings: &ClusterSettings) -> ClientConfig {
    let _ = settings;
    todo!()
}
