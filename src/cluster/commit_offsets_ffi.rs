//! A group offset commit with a deadline and per-partition errors.
//!
//! rdkafka's `commit(list, CommitMode::Sync)` sends the same OffsetCommit request (from a consumer
//! with `group.id` that never subscribed: generation -1, no member id) but waits without a
//! deadline and reports one error code for the whole commit. `rd_kafka_commit_queue` delivers the
//! committed list, with each partition's error, to a queue we poll until our deadline.

use std::time::Duration;

use rdkafka::bindings as rd;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};

use super::PartitionOffsets;
use super::native::{AdminFailure, Queue, cstr, single_result};

/// One partition the broker refused to commit.
pub(super) type PartitionFailure = (String, i32, AdminFailure);

/// Commits `offsets` for the consumer's group. `Ok` lists the partitions the broker refused
/// (empty: all committed); `Err` is a failure of the commit as a whole (including not finishing
/// within `timeout`).
pub(super) fn commit_offsets<C: ConsumerContext>(
    consumer: &BaseConsumer<C>,
    offsets: &PartitionOffsets,
    timeout: Duration,
) -> Result<Vec<PartitionFailure>, AdminFailure> {
    let deadline = crate::limits::deadline_in(timeout);
    let list = commit_list(offsets)?;
    let queue = Queue::new(consumer.client());
    // SAFETY: client, list and queue are valid; librdkafka copies the list; the opaque (0) is
    // an integer matched by `collect_results`, never dereferenced.
    let code = unsafe {
        rd::rd_kafka_commit_queue(
            consumer.client().native_ptr(),
            list.ptr(),
            queue.ptr(),
            None,
            std::ptr::null_mut(),
        )
    };
    if code != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
        let code: RDKafkaErrorCode = code.into();
        return Err(AdminFailure {
            code,
            message: code.to_string(),
        });
    }
    let event = single_result(&queue, deadline)?;
    let mut refused = Vec::new();
    // SAFETY: the list is owned by the event, which outlives the reads; strings are copied.
    unsafe {
        let committed = rd::rd_kafka_event_topic_partition_list(event.ptr());
        if !committed.is_null() {
            for i in 0..(*committed).cnt.max(0) as usize {
                let elem = &*(*committed).elems.add(i);
                if elem.err != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
                    let code: RDKafkaErrorCode = elem.err.into();
                    let failure = AdminFailure {
                        code,
                        message: code.to_string(),
                    };
                    refused.push((cstr(elem.topic), elem.partition, failure));
                }
            }
        }
    }
    // When every partition failed, librdkafka also reports the last one's error for the whole
    // commit; the partitions say more.
    match event.error() {
        Some((code, message)) if refused.is_empty() => Err(AdminFailure { code, message }),
        _ => Ok(refused),
    }
}

/// The list to commit; offsets must be real positions (librdkafka silently skips negative,
/// "logical" ones).
fn commit_list(offsets: &PartitionOffsets) -> Result<TopicPartitionList, AdminFailure> {
    let mut list = TopicPartitionList::new();
    for (topic, partitions) in offsets {
        for (&partition, &offset) in partitions {
            if offset < 0 {
                return Err(AdminFailure::invalid(format!(
                    "{topic}[{partition}]: offset {offset} cannot be committed"
                )));
            }
            list.add_partition_offset(topic, partition, Offset::Offset(offset))
                .map_err(|e| AdminFailure::invalid(format!("{topic}[{partition}]: {e}")))?;
        }
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn commit_list_holds_every_offset_and_refuses_negative_ones() {
        let offsets = BTreeMap::from([
            ("a".to_string(), BTreeMap::from([(0, 5), (1, 0)])),
            ("b".to_string(), BTreeMap::from([(2, 7)])),
        ]);
        let list = commit_list(&offsets).unwrap();
        let listed: Vec<_> = list
            .elements()
            .iter()
            .map(|e| (e.topic().to_string(), e.partition(), e.offset()))
            .collect();
        assert_eq!(
            listed,
            [
                ("a".to_string(), 0, Offset::Offset(5)),
                ("a".to_string(), 1, Offset::Offset(0)),
                ("b".to_string(), 2, Offset::Offset(7)),
            ]
        );
        let negative = BTreeMap::from([("a".to_string(), BTreeMap::from([(3, -1)]))]);
        assert!(commit_list(&negative).unwrap_err().message.contains("a[3]"));
    }
}
