//! IncrementalAlterConfigs (KIP-339), which rdkafka 0.39 does not wrap. Only SET operations:
//! each listed key gets its value and every other key of the topic stays as it is. (The legacy
//! AlterConfigs replaces a topic's whole config: Kafka resets every override it does not list,
//! see `tests/cluster_writes.rs`. ferry never sends it.)

use std::collections::BTreeMap;
use std::ffi::CString;
use std::time::Duration;

use rdkafka::bindings as rd;
use rdkafka::client::{Client, ClientContext};
use rdkafka::types::RDKafkaErrorCode;

use super::native::{AdminFailure, AdminOptions, Queue, cstr, single_result};

/// Topic name and whether the broker applied its changes, in the order of the answer.
pub(super) type Applied = Vec<(String, Result<(), AdminFailure>)>;

/// Sets the given keys of every topic in `changes` in one IncrementalAlterConfigs request
/// (topics without keys are left out). `Err` when the request as a whole failed, could not be
/// built, or did not finish within `timeout`.
pub(super) fn set_topic_configs<C: ClientContext>(
    client: &Client<C>,
    changes: &BTreeMap<String, BTreeMap<String, String>>,
    timeout: Duration,
) -> Result<Applied, AdminFailure> {
    let deadline = crate::limits::deadline_in(timeout.saturating_add(Duration::from_secs(1)));
    let mut resources = Resources(Vec::new());
    for (topic, keys) in changes.iter().filter(|(_, keys)| !keys.is_empty()) {
        resources.0.push(resource(topic, keys)?);
    }
    if resources.0.is_empty() {
        return Ok(Vec::new());
    }
    let queue = Queue::new(client);
    let options = AdminOptions::new(client, timeout, 0);
    // SAFETY: all pointers are valid; librdkafka copies the resources into the request, and
    // ours are destroyed when `resources` drops.
    unsafe {
        rd::rd_kafka_IncrementalAlterConfigs(
            client.native_ptr(),
            resources.0.as_mut_ptr(),
            resources.0.len(),
            options.ptr(),
            queue.ptr(),
        );
    }
    let event = single_result(&queue, deadline)?;
    if let Some((code, message)) = event.error() {
        return Err(AdminFailure { code, message });
    }
    // SAFETY: every pointer below is owned by the event, which outlives the reads.
    unsafe {
        let result = rd::rd_kafka_event_IncrementalAlterConfigs_result(event.ptr());
        if result.is_null() {
            return Err(AdminFailure {
                code: RDKafkaErrorCode::Fail,
                message: format!("unexpected event type {}", event.kind()),
            });
        }
        let mut n = 0;
        let answers = rd::rd_kafka_IncrementalAlterConfigs_result_resources(result, &mut n);
        Ok((0..n)
            .map(|i| {
                let answer = *answers.add(i);
                let name = cstr(rd::rd_kafka_ConfigResource_name(answer));
                let failure = AdminFailure::of_resource(
                    rd::rd_kafka_ConfigResource_error(answer),
                    rd::rd_kafka_ConfigResource_error_string(answer),
                );
                (name, failure.map_or(Ok(()), Err))
            })
            .collect())
    }
}

/// The topic resource with one SET operation per key.
fn resource(
    topic: &str,
    keys: &BTreeMap<String, String>,
) -> Result<*mut rd::rd_kafka_ConfigResource_t, AdminFailure> {
    let c = |what: &str, text: &str| {
        CString::new(text).map_err(|_| {
            AdminFailure::invalid(format!(
                "topic {topic}: {what} {text:?} contains a NUL byte"
            ))
        })
    };
    let name = c("name", topic)?;
    let kind = rd::rd_kafka_ResourceType_t::RD_KAFKA_RESOURCE_TOPIC;
    // SAFETY: the name outlives the call, which copies it.
    let raw = unsafe { rd::rd_kafka_ConfigResource_new(kind, name.as_ptr()) };
    // Destroys the resource if a key is refused below.
    let mut guard = Resources(vec![raw]);
    let set = rd::rd_kafka_AlterConfigOpType_t::RD_KAFKA_ALTER_CONFIG_OP_TYPE_SET;
    for (key, value) in keys {
        let (k, v) = (c("config key", key)?, c("config value", value)?);
        // SAFETY: the resource is valid; key and value outlive the call, which copies them; a
        // returned error is ours, and `take` destroys it.
        let failure = unsafe {
            let error = rd::rd_kafka_ConfigResource_add_incremental_config(
                raw,
                k.as_ptr(),
                set,
                v.as_ptr(),
            );
            AdminFailure::take(error)
        };
        if let Some(failure) = failure {
            return Err(AdminFailure {
                message: format!("topic {topic}, key {key}: {}", failure.message),
                ..failure
            });
        }
    }
    guard.0.clear();
    Ok(raw)
}

/// Config resources, destroyed on drop.
struct Resources(Vec<*mut rd::rd_kafka_ConfigResource_t>);

impl Drop for Resources {
    fn drop(&mut self) {
        for &resource in &self.0 {
            // SAFETY: created by librdkafka and owned here.
            unsafe { rd::rd_kafka_ConfigResource_destroy(resource) }
        }
    }
}
