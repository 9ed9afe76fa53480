//! Counting the bytes of runs of records by reading them ([`crate::domain::ByteCount`] says
//! why there is no request for it): one short-lived consumer, every range in one assignment,
//! each partition on a queue of its own (librdkafka reports the end of a partition by its
//! number only, which two topics share), each paused once its run or its share of the budget is
//! read.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::consumer::base_consumer::PartitionQueue;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{BorrowedMessage, Headers, Message};
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
    // Split after assigning: an assignment deactivates earlier partition queues. Records
    // fetched before a split arrive on the consumer's own queue, which is drained first.
    let mut runs: Vec<Option<Run>> = Vec::with_capacity(open.len());
    let mut index = BTreeMap::new();
    for (range, read) in open {
        match consumer.split_partition_queue(&range.topic, range.partition) {
            Some(queue) => {
                index.insert((range.topic.as_str(), range.partition), runs.len());
                runs.push(Some(Run { range, read, queue }));
            }
            None => tracing::warn!(
                topic = %range.topic,
                partition = range.partition,
                "counting bytes: no partition queue"
            ),
        }
    }
    let mut finish = |runs: &mut Vec<Option<Run>>, i: usize| {
        if let Some(run) = runs[i].take() {
            let mut one = TopicPartitionList::new();
            let _ =
                one.add_partition_offset(&run.range.topic, run.range.partition, Offset::Invalid);
            let _ = consumer.pause(&one);
            found.insert((run.range.topic.clone(), run.range.partition), run.read);
        }
    };
    'reading: while runs.iter().any(Option::is_some) && Instant::now() < deadline {
        let mut idle = true;
        // Serves librdkafka's events, and hands on what was fetched before the split. An end
        // of partition here names no topic: the partition queue reports its own.
        while let Some(event) = consumer.poll(Duration::ZERO) {
            match event {
                Ok(m) => {
                    let Some(&i) = index.get(&(m.topic(), m.partition())) else {
                        continue;
                    };
                    idle = false;
                    if runs[i]
                        .as_mut()
                        .is_some_and(|run| take(run.range, &mut run.read, &m, budget))
                    {
                        finish(&mut runs, i);
                    }
                }
                Err(KafkaError::PartitionEOF(_)) => {}
                Err(e) if about_the_group(&e) => {
                    tracing::debug!(error = %e, "counting bytes: group error ignored");
                }
                Err(e) => {
                    tracing::warn!(error = %e, "counting the bytes left behind stopped");
                    break 'reading;
                }
            }
        }
        for i in 0..runs.len() {
            let Some(Run { range, read, queue }) = runs[i].as_mut() else {
                continue;
            };
            let finished = loop {
                match queue.poll(Duration::ZERO) {
                    None => break false,
                    // The end of the log, past `to` (which was at most the end when planned).
                    Some(Err(KafkaError::PartitionEOF(_))) => {
                        read.read_to = range.to;
                        break true;
                    }
                    Some(Err(e)) => {
                        tracing::warn!(
                            topic = %range.topic,
                            partition = range.partition,
                            error = %e,
                            "counting bytes stopped"
                        );
                        break true;
                    }
                    Some(Ok(m)) => {
                        idle = false;
                        if take(range, read, &m, budget) {
                            break true;
                        }
                    }
                }
            };
            if finished {
                finish(&mut runs, i);
            }
        }
        if idle {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    // What was read of a run cut short by the deadline still counts, as an estimate.
    for run in runs.into_iter().flatten() {
        found.insert((run.range.topic.clone(), run.range.partition), run.read);
    }
    let _ = consumer.unassign();
    found
}

/// One range being read, on its partition's own queue.
struct Run<'a> {
    range: &'a OffsetRange,
    read: RangeRead,
    queue: PartitionQueue<KafkaLog>,
}

/// Counts `m` into `read` if it lies in `range` past what was read; true once the range or
/// the budget is read.
fn take(range: &OffsetRange, read: &mut RangeRead, m: &BorrowedMessage<'_>, budget: u64) -> bool {
    if m.offset() < read.read_to {
        return false;
    }
    if m.offset() >= range.to {
        read.read_to = range.to;
        return true;
    }
    read.bytes += record_bytes(m);
    read.read_to = m.offset() + 1;
    read.read_to >= range.to || read.bytes >= budget
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
