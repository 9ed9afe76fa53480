//! DescribeConfigs for many topics in one request (and for brokers), through librdkafka directly: rdkafka 0.39's
//! wrapper drops each resource's error, so an unknown topic and a topic the user may not read
//! would both look like a topic without configs.

use std::ffi::{CString, c_int};
use std::time::Duration;

use rdkafka::bindings as rd;
use rdkafka::client::{Client, ClientContext};
use rdkafka::types::RDKafkaErrorCode;

use super::native::{AdminFailure, AdminOptions, Event, Queue, cstr, single_result};

// The binding returns a Rust enum, which a broker-sent source outside the known values would make
// undefined behaviour; read the same C function as a plain integer instead.
unsafe extern "C" {
    #[link_name = "rd_kafka_ConfigEntry_source"]
    fn config_entry_source(entry: *const rd::rd_kafka_ConfigEntry_t) -> c_int;
}

const SOURCE_UNKNOWN: c_int = 0;
const SOURCE_DYNAMIC_TOPIC: c_int = 1;

/// One config entry as the broker described it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct DescribedEntry {
    pub name: String,
    pub value: Option<String>,
    /// Not a topic-level override: the source is a broker setting or Kafka's default (or, for
    /// brokers that report no source, the broker's own is-default flag).
    pub is_default: bool,
    pub sensitive: bool,
}

/// Topic name and, per topic, its entries or its error.
pub(super) type Described = Vec<(String, Result<Vec<DescribedEntry>, AdminFailure>)>;

/// Describes all `topics` in one DescribeConfigs request. `Err` when the request as a whole
/// failed (or did not finish within `timeout`).
pub(super) fn describe_topic_configs<C: ClientContext>(
    client: &Client<C>,
    topics: &[String],
    timeout: Duration,
) -> Result<Described, AdminFailure> {
    let deadline = crate::limits::deadline_in(timeout.saturating_add(Duration::from_secs(1)));
    let queue = Queue::new(client);
    let topic = rd::rd_kafka_ResourceType_t::RD_KAFKA_RESOURCE_TOPIC;
    send(client, topic, topics, timeout, &queue);
    read_result(&single_result(&queue, deadline)?)
}

/// Describes each of these brokers: librdkafka sends a broker resource to that broker, one
/// per request, so the requests go out together and are read after. Each broker's answer is
/// its entries or its error; `Err` when a request as a whole failed or timed out.
pub(super) fn describe_broker_configs<C: ClientContext>(
    client: &Client<C>,
    brokers: &[i32],
    timeout: Duration,
) -> Result<Described, AdminFailure> {
    let deadline = crate::limits::deadline_in(timeout.saturating_add(Duration::from_secs(1)));
    let broker = rd::rd_kafka_ResourceType_t::RD_KAFKA_RESOURCE_BROKER;
    let queues: Vec<Queue<'_>> = brokers
        .iter()
        .map(|id| {
            let queue = Queue::new(client);
            send(client, broker, &[id.to_string()], timeout, &queue);
            queue
        })
        .collect();
    let mut described = Vec::new();
    for queue in &queues {
        described.extend(read_result(&single_result(queue, deadline)?)?);
    }
    Ok(described)
}

/// Sends one DescribeConfigs request for `names` of one resource type; the answer arrives on
/// `queue`.
fn send<C: ClientContext>(
    client: &Client<C>,
    kind: rd::rd_kafka_ResourceType_t,
    names: &[String],
    timeout: Duration,
    queue: &Queue<'_>,
) {
    let options = AdminOptions::new(client, timeout, 0);
    let names: Vec<CString> = names
        .iter()
        .map(|t| CString::new(t.as_str()).unwrap_or_default())
        .collect();
    // SAFETY: the names outlive the calls; librdkafka copies the resources and the options
    // into the request, so we destroy ours right after sending.
    unsafe {
        let mut resources: Vec<*mut rd::rd_kafka_ConfigResource_t> = names
            .iter()
            .map(|n| rd::rd_kafka_ConfigResource_new(kind, n.as_ptr()))
            .collect();
        rd::rd_kafka_DescribeConfigs(
            client.native_ptr(),
            resources.as_mut_ptr(),
            resources.len(),
            options.ptr(),
            queue.ptr(),
        );
        rd::rd_kafka_ConfigResource_destroy_array(resources.as_mut_ptr(), resources.len());
    }
}

fn read_result(event: &Event<'_>) -> Result<Described, AdminFailure> {
    if let Some((code, message)) = event.error() {
        return Err(AdminFailure { code, message });
    }
    // SAFETY: every pointer below is owned by the event, which outlives this function's reads;
    // strings are copied out.
    unsafe {
        let result = rd::rd_kafka_event_DescribeConfigs_result(event.ptr());
        if result.is_null() {
            return Err(AdminFailure {
                code: RDKafkaErrorCode::Fail,
                message: format!("unexpected event type {}", event.kind()),
            });
        }
        let mut count = 0;
        let resources = rd::rd_kafka_DescribeConfigs_result_resources(result, &mut count);
        let mut described = Vec::with_capacity(count);
        for i in 0..count {
            let resource = *resources.add(i);
            let name = cstr(rd::rd_kafka_ConfigResource_name(resource));
            let code = rd::rd_kafka_ConfigResource_error(resource);
            if code != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
                let mut message = cstr(rd::rd_kafka_ConfigResource_error_string(resource));
                let code: RDKafkaErrorCode = code.into();
                if message.is_empty() {
                    message = code.to_string();
                }
                described.push((name, Err(AdminFailure { code, message })));
                continue;
            }
            let mut n = 0;
            let entries = rd::rd_kafka_ConfigResource_configs(resource, &mut n);
            let entries = (0..n).map(|j| read_entry(*entries.add(j))).collect();
            described.push((name, Ok(entries)));
        }
        Ok(described)
    }
}

/// # Safety
/// `entry` points to a live config entry.
unsafe fn read_entry(entry: *const rd::rd_kafka_ConfigEntry_t) -> DescribedEntry {
    // SAFETY: guaranteed by the caller; strings are copied out.
    unsafe {
        let value = rd::rd_kafka_ConfigEntry_value(entry);
        let source = config_entry_source(entry);
        let is_default = match source {
            SOURCE_UNKNOWN => rd::rd_kafka_ConfigEntry_is_default(entry) != 0,
            source => source != SOURCE_DYNAMIC_TOPIC,
        };
        DescribedEntry {
            name: cstr(rd::rd_kafka_ConfigEntry_name(entry)),
            value: (!value.is_null()).then(|| cstr(value)),
            is_default,
            sensitive: rd::rd_kafka_ConfigEntry_is_sensitive(entry) != 0,
        }
    }
}
