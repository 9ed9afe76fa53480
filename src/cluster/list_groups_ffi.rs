//! ListConsumerGroups and DescribeConsumerGroups, which rdkafka 0.39 does not wrap.
//!
//! rdkafka's `fetch_group_list` describes every group it lists (ListGroups v0, then
//! DescribeGroups for all groups). ferry lists groups with their state (ListGroups v4) and
//! describes only groups that may have members: Kafka lists a group that only has committed
//! offsets as Empty, and a broker that cannot describe such a group (some Kafka-compatible
//! brokers close the connection) is then never asked to.

use std::ffi::{CString, c_char};
use std::time::Duration;

use rdkafka::bindings as rd;
use rdkafka::client::{Client, ClientContext};
use rdkafka::types::RDKafkaErrorCode;

use super::native::{AdminFailure, AdminOptions, Queue, checked_result, cstr, wrong_type};

/// Name and state ("Stable", "Empty", ... or "Unknown" from brokers that do not report it) of
/// every consumer group, one ListGroups request per broker. Fails if any broker failed.
pub(super) fn list_consumer_groups<C: ClientContext>(
    client: &Client<C>,
    timeout: Duration,
) -> Result<Vec<(String, String)>, AdminFailure> {
    let deadline = crate::limits::deadline_in(timeout.saturating_add(Duration::from_secs(1)));
    let queue = Queue::new(client);
    let options = AdminOptions::new(client, timeout, 0);
    // SAFETY: client, options and queue are valid; librdkafka copies the options.
    unsafe { rd::rd_kafka_ListConsumerGroups(client.native_ptr(), options.ptr(), queue.ptr()) };
    let event = checked_result(&queue, deadline)?;
    // SAFETY: every pointer below is owned by the event, which outlives the reads; strings are
    // copied out.
    unsafe {
        let result = rd::rd_kafka_event_ListConsumerGroups_result(event.ptr());
        if result.is_null() {
            return Err(wrong_type(&event));
        }
        let mut n = 0;
        let errors = rd::rd_kafka_ListConsumerGroups_result_errors(result, &mut n);
        if n > 0 {
            return Err(failure(*errors));
        }
        let listings = rd::rd_kafka_ListConsumerGroups_result_valid(result, &mut n);
        Ok((0..n)
            .map(|i| {
                let listing = *listings.add(i);
                let state = rd::rd_kafka_ConsumerGroupListing_state(listing);
                (
                    cstr(rd::rd_kafka_ConsumerGroupListing_group_id(listing)),
                    cstr(rd::rd_kafka_consumer_group_state_name(state)),
                )
            })
            .collect())
    }
}

/// A described group's state and members (`client.id@host`), or why it could not be described.
pub(super) type Described = Result<(String, Vec<String>), AdminFailure>;

/// State and member count of each of `groups`, in their order, from one DescribeConsumerGroups
/// call (librdkafka sends one DescribeGroups request per group coordinator).
pub(super) fn describe_consumer_groups<C: ClientContext>(
    client: &Client<C>,
    groups: &[String],
    timeout: Duration,
) -> Result<Vec<Described>, AdminFailure> {
    let deadline = crate::limits::deadline_in(timeout.saturating_add(Duration::from_secs(1)));
    let queue = Queue::new(client);
    let options = AdminOptions::new(client, timeout, 0);
    let names: Vec<CString> = groups
        .iter()
        .map(|g| CString::new(g.as_str()).unwrap_or_default())
        .collect();
    let mut pointers: Vec<*const c_char> = names.iter().map(|n| n.as_ptr()).collect();
    // SAFETY: the names outlive the call, which copies them.
    unsafe {
        rd::rd_kafka_DescribeConsumerGroups(
            client.native_ptr(),
            pointers.as_mut_ptr(),
            pointers.len(),
            options.ptr(),
            queue.ptr(),
        );
    }
    let event = checked_result(&queue, deadline)?;
    // SAFETY: every pointer below is owned by the event, which outlives the reads.
    unsafe {
        let result = rd::rd_kafka_event_DescribeConsumerGroups_result(event.ptr());
        if result.is_null() {
            return Err(wrong_type(&event));
        }
        let mut n = 0;
        let descriptions = rd::rd_kafka_DescribeConsumerGroups_result_groups(result, &mut n);
        let mut by_name = std::collections::BTreeMap::new();
        for i in 0..n {
            let description = *descriptions.add(i);
            let name = cstr(rd::rd_kafka_ConsumerGroupDescription_group_id(description));
            let error = rd::rd_kafka_ConsumerGroupDescription_error(description);
            let outcome = if error.is_null() {
                let state = rd::rd_kafka_ConsumerGroupDescription_state(description);
                let count = rd::rd_kafka_ConsumerGroupDescription_member_count(description);
                let members = (0..count)
                    .map(|m| {
                        let member = rd::rd_kafka_ConsumerGroupDescription_member(description, m);
                        format!(
                            "{}@{}",
                            cstr(rd::rd_kafka_MemberDescription_client_id(member)),
                            cstr(rd::rd_kafka_MemberDescription_host(member))
                        )
                    })
                    .collect();
                Ok((cstr(rd::rd_kafka_consumer_group_state_name(state)), members))
            } else {
                Err(failure(error))
            };
            by_name.insert(name, outcome);
        }
        Ok(groups
            .iter()
            .map(|g| {
                by_name.remove(g).unwrap_or_else(|| {
                    Err(AdminFailure {
                        code: RDKafkaErrorCode::Fail,
                        message: format!("no description of group {g} in the answer"),
                    })
                })
            })
            .collect())
    }
}

/// # Safety
/// `error` points to a live librdkafka error object.
unsafe fn failure(error: *const rd::rd_kafka_error_t) -> AdminFailure {
    // SAFETY: guaranteed by the caller; the string is copied out.
    unsafe {
        AdminFailure {
            code: rd::rd_kafka_error_code(error).into(),
            message: cstr(rd::rd_kafka_error_string(error)),
        }
    }
}
