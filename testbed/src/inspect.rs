//! Reading back what is on a broker, for tests and checks.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use rdkafka::admin::{AdminClient, AdminOptions, ConfigSource, ResourceSpecifier};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

use crate::client::{self, REQUEST_TIMEOUT, block_on};

/// One record as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub offset: i64,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
}

/// Partition count of every topic the broker reports, except Kafka's internal `__` topics
/// (topics with an error are left out).
pub fn topics(bootstrap: &str) -> Result<BTreeMap<String, i32>> {
    let consumer: BaseConsumer = client::config(bootstrap)
        .create()
        .context("cannot create a metadata client")?;
    let metadata = consumer
        .fetch_metadata(None, REQUEST_TIMEOUT)
        .with_context(|| format!("metadata from {bootstrap}"))?;
    Ok(metadata
        .topics()
        .iter()
        .filter(|topic| topic.error().is_none() && !topic.name().starts_with("__"))
        .map(|topic| (topic.name().to_owned(), topic.partitions().len() as i32))
        .collect())
}

/// The topic configs the broker describes for `topic` (DescribeConfigs), as key/value pairs.
///
/// Kafka describes every topic key (about 30), defaults included; [`topic_overrides`] gives only
/// the keys set on the topic itself.
pub fn topic_config(bootstrap: &str, topic: &str) -> Result<BTreeMap<String, String>> {
    described_entries(bootstrap, topic, |_| true)
}

/// The topic-level overrides of `topic`: the DescribeConfigs entries whose source is the
/// topic's own config (set at creation or altered since), as key/value pairs, without the broker
/// settings and Kafka defaults that [`topic_config`] also returns. A key set explicitly to its
/// default value is an override too.
pub fn topic_overrides(bootstrap: &str, topic: &str) -> Result<BTreeMap<String, String>> {
    described_entries(bootstrap, topic, |source| {
        source == ConfigSource::DynamicTopic
    })
}

/// The entries with a value whose config source `keep` accepts, from one DescribeConfigs.
fn described_entries(
    bootstrap: &str,
    topic: &str,
    keep: impl Fn(ConfigSource) -> bool,
) -> Result<BTreeMap<String, String>> {
    let admin: AdminClient<DefaultClientContext> = client::config(bootstrap)
        .create()
        .context("cannot create an admin client")?;
    let options = AdminOptions::new().request_timeout(Some(REQUEST_TIMEOUT));
    let results = block_on(admin.describe_configs([&ResourceSpecifier::Topic(topic)], &options))
        .with_context(|| format!("DescribeConfigs of {topic} on {bootstrap}"))?;
    let mut config = BTreeMap::new();
    for result in results {
        let resource =
            result.map_err(|code| anyhow::anyhow!("DescribeConfigs of {topic}: {code}"))?;
        for entry in resource.entries {
            if keep(entry.source)
                && let Some(value) = entry.value
            {
                config.insert(entry.name, value);
            }
        }
    }
    Ok(config)
}

/// `(low, high)` watermarks of one partition.
pub fn watermarks(bootstrap: &str, topic: &str, partition: i32) -> Result<(i64, i64)> {
    let consumer: BaseConsumer = client::config(bootstrap)
        .create()
        .context("cannot create a consumer")?;
    consumer
        .fetch_watermarks(topic, partition, REQUEST_TIMEOUT)
        .with_context(|| format!("watermarks of {topic}[{partition}] on {bootstrap}"))
}

/// Committed offset of `group` on each given partition (`None`: nothing committed).
pub fn committed_offsets(
    bootstrap: &str,
    group: &str,
    partitions: &[(&str, i32)],
) -> Result<Vec<Option<i64>>> {
    let consumer: BaseConsumer = group_consumer(bootstrap, group)?;
    let mut list = TopicPartitionList::with_capacity(partitions.len());
    for &(topic, partition) in partitions {
        list.add_partition(topic, partition);
    }
    let committed = consumer
        .committed_offsets(list, REQUEST_TIMEOUT)
        .with_context(|| format!("committed offsets of group {group} on {bootstrap}"))?;
    partitions
        .iter()
        .map(|&(topic, partition)| {
            let element = committed
                .find_partition(topic, partition)
                .with_context(|| format!("no committed offset reply for {topic}[{partition}]"))?;
            element
                .error()
                .with_context(|| format!("committed offset of {topic}[{partition}]"))?;
            Ok(match element.offset() {
                Offset::Offset(offset) => Some(offset),
                _ => None,
            })
        })
        .collect()
}

/// Every record of one partition, from its low watermark to its high watermark at call time.
pub fn read_partition(bootstrap: &str, topic: &str, partition: i32) -> Result<Vec<Record>> {
    // librdkafka refuses assign() without a group.id; nothing is ever committed for it.
    let consumer: BaseConsumer = client::config(bootstrap)
        .set("group.id", "ferry-testbed-inspect")
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("enable.partition.eof", "true")
        .create()
        .context("cannot create a consumer")?;
    let (low, high) = consumer
        .fetch_watermarks(topic, partition, REQUEST_TIMEOUT)
        .with_context(|| format!("watermarks of {topic}[{partition}] on {bootstrap}"))?;
    let mut records = Vec::new();
    if high <= low {
        return Ok(records);
    }
    let mut assignment = TopicPartitionList::new();
    assignment.add_partition_offset(topic, partition, Offset::Offset(low))?;
    consumer.assign(&assignment)?;
    let deadline = Instant::now() + REQUEST_TIMEOUT;
    let mut next = low;
    while next < high {
        if Instant::now() >= deadline {
            bail!("reading {topic}[{partition}] on {bootstrap}: stuck at offset {next} of {high}");
        }
        let message = match consumer.poll(Duration::from_millis(200)) {
            None => continue,
            // Transaction markers at the end are never returned: the position passes them.
            Some(Err(rdkafka::error::KafkaError::PartitionEOF(_))) => {
                let position = consumer.position()?;
                if let Some(at) = position
                    .find_partition(topic, partition)
                    .and_then(|e| e.offset().to_raw())
                {
                    next = next.max(at);
                }
                continue;
            }
            Some(message) => message.with_context(|| format!("reading {topic}[{partition}]"))?,
        };
        next = message.offset() + 1;
        records.push(Record {
            offset: message.offset(),
            key: message.key().map(<[u8]>::to_vec),
            value: message.payload().map(<[u8]>::to_vec),
        });
    }
    Ok(records)
}

pub(crate) fn group_consumer(bootstrap: &str, group: &str) -> Result<BaseConsumer> {
    let config: ClientConfig = {
        let mut config = client::config(bootstrap);
        config
            .set("group.id", group)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false");
        config
    };
    config
        .create()
        .with_context(|| format!("cannot create a consumer for group {group}"))
}
