//! ListConsumerGroupOffsets, which rdkafka 0.39 does not wrap.
//!
//! librdkafka takes one group per request, so every group gets its own request, all in flight
//! at once on one private queue; each result is matched back to its group by the request's
//! opaque (the group's index).

use std::ffi::CString;
use std::time::Duration;

use rdkafka::bindings as rd;
use rdkafka::client::{Client, ClientContext};
use rdkafka::types::RDKafkaErrorCode;

use super::PartitionOffsets;
use super::native::{AdminFailure, AdminOptions, Event, Queue, collect_results, cstr};

/// Committed offsets of each group, in the order of `groups`. Partitions without a committed
/// offset (negative) are left out. A group whose result did not arrive within `timeout` fails
/// with `OperationTimedOut`.
pub(super) fn list_consumer_group_offsets<C: ClientContext>(
    client: &Client<C>,
    groups: &[String],
    timeout: Duration,
) -> Vec<Result<PartitionOffsets, AdminFailure>> {
    let deadline = crate::limits::deadline_in(timeout.saturating_add(Duration::from_secs(1)));
    let queue = Queue::new(client);
    for (index, group) in groups.iter().enumerate() {
        let options = AdminOptions::new(client, timeout, index);
        // Group ids never contain NUL in Kafka; such a name cannot exist on the broker either.
        let name = CString::new(group.as_str()).unwrap_or_default();
        // SAFETY: `name` outlives the call; NULL partitions means "all partitions". librdkafka
        // copies the request object, so we destroy ours right after sending.
        unsafe {
            let mut request =
                rd::rd_kafka_ListConsumerGroupOffsets_new(name.as_ptr(), std::ptr::null());
            rd::rd_kafka_ListConsumerGroupOffsets(
                client.native_ptr(),
                &mut request,
                1,
                options.ptr(),
                queue.ptr(),
            );
            rd::rd_kafka_ListConsumerGroupOffsets_destroy(request);
        }
    }
    collect_results(&queue, groups.len(), deadline)
        .into_iter()
        .map(|event| event.map_or_else(|| Err(AdminFailure::timed_out()), |e| read_result(&e)))
        .collect()
}

/// The offsets in one ListConsumerGroupOffsets result event.
fn read_result(event: &Event<'_>) -> Result<PartitionOffsets, AdminFailure> {
    if let Some((code, message)) = event.error() {
        return Err(AdminFailure { code, message });
    }
    // SAFETY: every pointer below is owned by the event, which outlives this function's reads;
    // strings are copied out.
    unsafe {
        let result = rd::rd_kafka_event_ListConsumerGroupOffsets_result(event.ptr());
        if result.is_null() {
            return Err(AdminFailure {
                code: RDKafkaErrorCode::Fail,
                message: format!("unexpected event type {}", event.kind()),
            });
        }
        let mut count = 0;
        let groups = rd::rd_kafka_ListConsumerGroupOffsets_result_groups(result, &mut count);
        let mut offsets = PartitionOffsets::new();
        for i in 0..count {
            let group = *groups.add(i);
            let error = rd::rd_kafka_group_result_error(group);
            if !error.is_null() {
                let code = rd::rd_kafka_error_code(error).into();
                let name = cstr(rd::rd_kafka_group_result_name(group));
                let message = format!("group {name}: {}", cstr(rd::rd_kafka_error_string(error)));
                return Err(AdminFailure { code, message });
            }
            let list = rd::rd_kafka_group_result_partitions(group);
            if list.is_null() {
                continue;
            }
            for p in 0..(*list).cnt.max(0) as usize {
                let elem = &*(*list).elems.add(p);
                let topic = cstr(elem.topic);
                if elem.err != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
                    let code: RDKafkaErrorCode = elem.err.into();
                    let message = format!("{topic}[{}]: {code}", elem.partition);
                    return Err(AdminFailure { code, message });
                }
                if elem.offset >= 0 {
                    offsets
                        .entry(topic)
                        .or_default()
                        .insert(elem.partition, elem.offset);
                }
            }
        }
        Ok(offsets)
    }
}
