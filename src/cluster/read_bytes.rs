//! Counting the bytes of runs of records by reading them ([`crate::domain::ByteCount`] says
//! why there is no request for it): one short-lived consumer without a group, one topic at a
//! time (librdkafka reports the end of a partition by number only), each partition paused once
//! its run or its share of the budget is read.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Headers, Message};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

use super::kafka_log::{self, KafkaLog};
use super::{OffsetRange, RangeRead};

/// Most bytes librdkafka fetches ahead per partition; a run stops soon after its budget.
const FETCH_BYTES: u64 = 256 * 1024;

pub(super) fn read_bytes(
    settings: &ClientConfig,
    ranges: &[OffsetRange],
    budget: u64,
    timeout: Duration,
) -> BTreeMap<(String, i32), RangeRead> {
    let deadline = Instant::now() + timeout;
    let mut found = BTreeMap::new();
    let mut config = settings.clone();
    // librdkafka assigns partitions only to a consumer with a group id; this one never joins
    // nor commits.
    kafka_log::set_log_level(&mut config)
        .set("group.id", "ferry-plan")
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "error")
        .set("enable.partition.eof", "true")
        // Aborted transactions take room in the log as well.
        .set("isolation.level", "read_uncommitted")
        .set(
            "fetch.message.max.bytes",
            FETCH_BYTES.min(budget.max(1)).to_string(),
        )
        .set("queued.max.messages.kbytes", "1024")
        .set("statistics.interval.ms", "0");
    let consumer: BaseConsumer<KafkaLog> = match config.create_with_context(KafkaLog) {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "a consumer to count bytes could not be created");
            return found;
        }
    };
    let mut by_topic: BTreeMap<&str, Vec<&OffsetRange>> = BTreeMap::new();
    for r in ranges {
        if r.to <= r.from {
            found.insert(
                (r.topic.clone(), r.partition),
                RangeRead {
                    read_to: r.from,
                    bytes: 0,
                },
            );
        } else {
            by_topic.entry(&r.topic).or_default().push(r);
        }
    }
    for (topic, ranges) in by_topic {
        if let Err(e) = read_topic(&consumer, topic, &ranges, budget, deadline, &mut found) {
            tracing::warn!(topic, error = %e, "counting the bytes left behind stopped");
            break;
        }
    }
    found
}

/// Reads `ranges` (all of `topic`) until each reached its end or `budget`, or `deadline`.
fn read_topic(
    consumer: &BaseConsumer<KafkaLog>,
    topic: &str,
    ranges: &[&OffsetRange],
    budget: u64,
    deadline: Instant,
    found: &mut BTreeMap<(String, i32), RangeRead>,
) -> Result<(), KafkaError> {
    let mut tpl = TopicPartitionList::new();
    let mut open: BTreeMap<i32, (i64, RangeRead)> = BTreeMap::new();
    for r in ranges {
        tpl.add_partition_offset(topic, r.partition, Offset::Offset(r.from))?;
        let read = RangeRead {
            read_to: r.from,
            bytes: 0,
        };
        open.insert(r.partition, (r.to, read));
    }
    consumer.assign(&tpl)?;
    let mut done = |partition: i32, open: &mut BTreeMap<i32, (i64, RangeRead)>| {
        if let Some((_, read)) = open.remove(&partition) {
            found.insert((topic.to_string(), partition), read);
            let mut one = TopicPartitionList::new();
            one.add_partition(topic, partition);
            let _ = consumer.pause(&one);
        }
    };
    let outcome = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if open.is_empty() || left.is_zero() {
            break Ok(());
        }
        match consumer.poll(left.min(Duration::from_millis(200))) {
            None => {}
            // The end of the log, past `to` (which was at most the end when planned).
            Some(Err(KafkaError::PartitionEOF(partition))) => {
                if let Some((to, read)) = open.get_mut(&partition) {
                    read.read_to = *to;
                }
                done(partition, &mut open)
            }
            // The group is only there for librdkafka: its coordinator does not matter here.
            Some(Err(e)) if about_the_group(&e) => {
                tracing::debug!(error = %e, "counting bytes: group error ignored");
            }
            Some(Err(e)) => break Err(e),
            Some(Ok(m)) => {
                let Some((to, read)) = open.get_mut(&m.partition()) else {
                    continue;
                };
                if m.offset() >= *to {
                    read.read_to = *to;
                    done(m.partition(), &mut open);
                    continue;
                }
                read.bytes += record_bytes(&m);
                read.read_to = m.offset() + 1;
                if read.bytes >= budget {
                    done(m.partition(), &mut open);
                }
            }
        }
    };
    // What was read of a run cut short by the deadline still counts, as an estimate.
    for (partition, (_, read)) in open {
        found.insert((topic.to_string(), partition), read);
    }
    consumer.unassign()?;
    outcome
}

/// An error of the group's coordinator (a user without DESCRIBE on the group `ferry-plan`),
/// which an assign-only consumer that never commits does not need.
fn about_the_group(e: &KafkaError) -> bool {
    matches!(
        e.rdkafka_error_code(),
        Some(
            RDKafkaErrorCode::GroupAuthorizationFailed
                | RDKafkaErrorCode::CoordinatorNotAvailable
                | RDKafkaErrorCode::NotCoordinator
                | RDKafkaErrorCode::CoordinatorLoadInProgress
        )
    )
}

/// Key, value and header bytes, as the producer gave them.
fn record_bytes(m: &impl Message) -> u64 {
    let headers = m.headers().map_or(0, |h| {
        h.iter()
            .map(|h| h.key.len() + h.value.map_or(0, <[u8]>::len))
            .sum()
    });
    (m.key().map_or(0, <[u8]>::len) + m.payload().map_or(0, <[u8]>::len) + headers) as u64
}
