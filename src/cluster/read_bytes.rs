//! Counting the bytes of runs of records by reading them ([`crate::domain::ByteCount`] says
//! why there is no request for it): one short-lived consumer, every range in one assignment,
//! each partition on a queue of its own (librdkafka reports the end of a partition by its
//! number only, which two topics share), each paused once its run or its share of the budget is
//! read.

use std::collections::BTreeMap;
use std::sync::Arc;
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
    let consumer = Arc::new(consumer);
    let mut open = Vec::new();
    let mut tpl = TopicPartitionList::new();
    for r in ranges {
        let read = RangeRead {
            read_to: r.from,
            bytes: 0,
        };
        if r.to <= r.from {
            found.insert((r.topic.clone(), r.partition), read);
        } else if tpl
            .add_partition_offset(&r.topic, r.partition, Offset::Offset(r.from))
            .is_ok()
        {
            open.push((r, read));
        }
    }
    if open.is_empty() {
        return found;
    }
    if let Err(e) = consumer.assign(&tpl) {
        tracing::warn!(error = %e, "counting bytes: the partitions could not be assigned");
        return found;
    }
    // Split after assigning: an assignment deactivates earlier partition queues.
    let mut queues = Vec::with_capacity(open.len());
    for (r, read) in open {
        match consumer.split_partition_queue(&r.topic, r.partition) {
            Some(queue) => queues.push(Some((r, read, queue))),
            None => {
                tracing::warn!(topic = %r.topic, partition = r.partition, "counting bytes: no queue")
            }
        }
    }
    let mut left = queues.len();
    while left > 0 && Instant::now() < deadline {
        // Serves librdkafka's events; records arrive on the partition queues (those of a
        // partition already done, whose queue is gone, may come here and are left alone).
        match consumer.poll(Duration::ZERO) {
            Some(Err(e)) if !about_the_group(&e) && !matches!(e, KafkaError::PartitionEOF(_)) => {
                tracing::warn!(error = %e, "counting the bytes left behind stopped");
                break;
            }
            _ => {}
        }
        let mut idle = true;
        for slot in &mut queues {
            let Some((r, read, queue)) = slot else {
                continue;
            };
            let finished = loop {
                match queue.poll(Duration::ZERO) {
                    None => break false,
                    // The end of the log, past `to` (which was at most the end when planned).
                    Some(Err(KafkaError::PartitionEOF(_))) => {
                        read.read_to = r.to;
                        break true;
                    }
                    Some(Err(e)) => {
                        tracing::warn!(topic = %r.topic, partition = r.partition, error = %e, "counting bytes stopped");
                        break true;
                    }
                    Some(Ok(m)) => {
                        idle = false;
                        if m.offset() >= r.to {
                            read.read_to = r.to;
                            break true;
                        }
                        read.bytes += record_bytes(&m);
                        read.read_to = m.offset() + 1;
                        if read.read_to >= r.to || read.bytes >= budget {
                            break true;
                        }
                    }
                }
            };
            if finished {
                let mut one = TopicPartitionList::new();
                let _ = one.add_partition_offset(&r.topic, r.partition, Offset::Invalid);
                let _ = consumer.pause(&one);
                found.insert((r.topic.clone(), r.partition), *read);
                *slot = None;
                left -= 1;
            }
        }
        if idle {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    // What was read of a run cut short by the deadline still counts, as an estimate.
    for (r, read, _) in queues.into_iter().flatten() {
        found.insert((r.topic.clone(), r.partition), read);
    }
    let _ = consumer.unassign();
    found
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
