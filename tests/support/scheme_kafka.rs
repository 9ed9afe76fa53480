//! What the brokers say about one run's topic and consumer group: committed offsets, end
//! offsets, each partition's records, the group's live members. Read with the test bed's own
//! clients (librdkafka), never through ferry, so they check ferry against Kafka itself.

use std::time::Duration;

use anyhow::Context;
use ferry_testbed::inspect;
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};

use crate::scheme_run::PARTITIONS;

/// How long one group listing may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The group's committed offset on each partition of the topic (None: none committed).
pub fn committed(bootstrap: &str, topic: &str, group: &str) -> anyhow::Result<Vec<Option<i64>>> {
    let partitions: Vec<(&str, i32)> = (0..PARTITIONS).map(|p| (topic, p)).collect();
    inspect::committed_offsets(bootstrap, group, &partitions)
}

/// The end offset (high watermark) of each partition of the topic.
pub fn end_offsets(bootstrap: &str, topic: &str) -> Vec<i64> {
    (0..PARTITIONS)
        .map(|p| inspect::watermarks(bootstrap, topic, p).unwrap().1)
        .collect()
}

/// The numbers each partition holds, in offset order; every record's key is checked to be its
/// value.
pub fn partition_numbers(bootstrap: &str, topic: &str) -> Vec<Vec<i64>> {
    (0..PARTITIONS)
        .map(|partition| {
            inspect::read_partition(bootstrap, topic, partition)
                .unwrap()
                .into_iter()
                .map(|record| {
                    let value = String::from_utf8(record.value.clone().unwrap()).unwrap();
                    assert_eq!(record.key.as_deref(), Some(value.as_bytes()), "{record:?}");
                    value.parse().unwrap()
                })
                .collect()
        })
        .collect()
}

/// How many live members the group has on the cluster, as the group coordinator describes it
/// (ListGroups and DescribeGroups through librdkafka); 0 for a group the broker does not know.
pub fn group_members(bootstrap: &str, group: &str) -> anyhow::Result<usize> {
    let client: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .context("cannot create a client")?;
    let list = client
        .fetch_group_list(Some(group), REQUEST_TIMEOUT)
        .with_context(|| format!("describing group {group} on {bootstrap}"))?;
    Ok(list
        .groups()
        .iter()
        .filter(|g| g.name() == group)
        .map(|g| g.members().len())
        .sum())
}

pub use crate::state_json::wait_for;
