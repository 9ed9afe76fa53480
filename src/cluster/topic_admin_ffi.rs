//! CreateTopics, CreatePartitions and DescribeTopics through librdkafka directly: rdkafka 0.39's
//! wrappers keep only each topic's error code and drop the broker's message ("Replication
//! factor: 3 larger than available brokers: 1"), which is what a user needs to see; DescribeTopics
//! (a Metadata request for just the named topics) it does not wrap at all.

use std::ffi::{CString, c_char};
use std::time::Duration;

use rdkafka::bindings as rd;
use rdkafka::client::{Client, ClientContext};
use rdkafka::types::RDKafkaErrorCode;

use super::NewTopicSpec;
use super::native::{AdminFailure, AdminOptions, Queue, checked_result, cstr, wrong_type};

/// Topic name and what the broker answered for it, in the order of the answer.
pub(super) type TopicOutcomes = Vec<(String, Result<(), AdminFailure>)>;

/// Partition ids and their leaders (-1: none) of a described topic.
pub(super) type DescribedPartitions = Vec<(i32, i32)>;

/// Topic name and its partitions or why the broker would not describe it.
pub(super) type DescribedTopics = Vec<(String, Result<DescribedPartitions, AdminFailure>)>;

/// Creates all `topics` in one CreateTopics request; the broker may take up to `timeout` to
/// create them before answering. `Err` when the request as a whole failed, could not be built,
/// or did not finish in time.
pub(super) fn create_topics<C: ClientContext>(
    client: &Client<C>,
    topics: &[NewTopicSpec],
    timeout: Duration,
) -> Result<TopicOutcomes, AdminFailure> {
    let deadline = crate::limits::deadline_in(timeout.saturating_add(Duration::from_secs(1)));
    let mut requests = Owned::new(rd::rd_kafka_NewTopic_destroy);
    for spec in topics {
        requests.push(new_topic(spec)?);
    }
    let queue = Queue::new(client);
    let options = AdminOptions::new(client, timeout, 0).with_operation_timeout(timeout);
    // SAFETY: all pointers are valid; librdkafka copies the topics into the request, and ours
    // are destroyed when `requests` drops.
    unsafe {
        rd::rd_kafka_CreateTopics(
            client.native_ptr(),
            requests.as_mut_ptr(),
            requests.len(),
            options.ptr(),
            queue.ptr(),
        );
    }
    let event = checked_result(&queue, deadline)?;
    // SAFETY: the result and its topic results are owned by the event, which outlives the reads.
    unsafe {
        let result = rd::rd_kafka_event_CreateTopics_result(event.ptr());
        if result.is_null() {
            return Err(wrong_type(&event));
        }
        let mut n = 0;
        let answers = rd::rd_kafka_CreateTopics_result_topics(result, &mut n);
        Ok(read_topic_results(answers, n))
    }
}

/// The native request for one topic.
fn new_topic(spec: &NewTopicSpec) -> Result<*mut rd::rd_kafka_NewTopic_t, AdminFailure> {
    let name = c_string("topic name", &spec.name)?;
    let mut errstr = [0 as c_char; 512];
    // SAFETY: the name outlives the call, which copies it; errstr is writable for its length.
    let topic = unsafe {
        rd::rd_kafka_NewTopic_new(
            name.as_ptr(),
            spec.partitions,
            spec.replication_factor,
            errstr.as_mut_ptr(),
            errstr.len(),
        )
    };
    if topic.is_null() {
        // SAFETY: librdkafka wrote a NUL-terminated message into errstr.
        let why = unsafe { cstr(errstr.as_ptr()) };
        return Err(AdminFailure::invalid(format!("topic {}: {why}", spec.name)));
    }
    let mut guard = Owned::new(rd::rd_kafka_NewTopic_destroy);
    guard.push(topic);
    for (key, value) in &spec.config {
        let (k, v) = (
            c_string("config key", key)?,
            c_string("config value", value)?,
        );
        // SAFETY: the topic is valid; key and value outlive the call, which copies them.
        let code = unsafe { rd::rd_kafka_NewTopic_set_config(topic, k.as_ptr(), v.as_ptr()) };
        if code != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
            let code: RDKafkaErrorCode = code.into();
            let message = format!("topic {}: config {key}: {code}", spec.name);
            return Err(AdminFailure::invalid(message));
        }
    }
    Ok(guard.release().pop().expect("one topic"))
}

/// Partition totals to request, in the order given: every total must be at least 1.
pub(super) fn partition_requests<'a>(
    topic_totals: impl IntoIterator<Item = (&'a String, &'a i32)>,
) -> Result<Vec<(&'a str, usize)>, AdminFailure> {
    topic_totals
        .into_iter()
        .map(|(topic, &total)| match usize::try_from(total) {
            Ok(total) if total > 0 => Ok((topic.as_str(), total)),
            _ => Err(AdminFailure::invalid(format!(
                "topic {topic}: a partition total of {total} makes no sense"
            ))),
        })
        .collect()
}

/// Raises the partition counts of topics to the given totals in one CreatePartitions request;
/// the broker may take up to `timeout` before answering.
pub(super) fn create_partitions<C: ClientContext>(
    client: &Client<C>,
    totals: &[(&str, usize)],
    timeout: Duration,
) -> Result<TopicOutcomes, AdminFailure> {
    let deadline = crate::limits::deadline_in(timeout.saturating_add(Duration::from_secs(1)));
    let mut requests = Owned::new(rd::rd_kafka_NewPartitions_destroy);
    for &(topic, total) in totals {
        let name = c_string("topic name", topic)?;
        let mut errstr = [0 as c_char; 512];
        // SAFETY: as for `rd_kafka_NewTopic_new`.
        let request = unsafe {
            rd::rd_kafka_NewPartitions_new(name.as_ptr(), total, errstr.as_mut_ptr(), errstr.len())
        };
        if request.is_null() {
            // SAFETY: librdkafka wrote a NUL-terminated message into errstr.
            let why = unsafe { cstr(errstr.as_ptr()) };
            return Err(AdminFailure::invalid(format!("topic {topic}: {why}")));
        }
        requests.push(request);
    }
    let queue = Queue::new(client);
    let options = AdminOptions::new(client, timeout, 0).with_operation_timeout(timeout);
    // SAFETY: as in `create_topics`.
    unsafe {
        rd::rd_kafka_CreatePartitions(
            client.native_ptr(),
            requests.as_mut_ptr(),
            requests.len(),
            options.ptr(),
            queue.ptr(),
        );
    }
    let event = checked_result(&queue, deadline)?;
    // SAFETY: as in `create_topics`.
    unsafe {
        let result = rd::rd_kafka_event_CreatePartitions_result(event.ptr());
        if result.is_null() {
            return Err(wrong_type(&event));
        }
        let mut n = 0;
        let answers = rd::rd_kafka_CreatePartitions_result_topics(result, &mut n);
        Ok(read_topic_results(answers, n))
    }
}

/// Partitions (with leaders) of each of `topics`, from one Metadata request for just these
/// topics. A topic the broker does not know (yet) comes back with its error.
pub(super) fn describe_topics<C: ClientContext>(
    client: &Client<C>,
    topics: &[String],
    timeout: Duration,
) -> Result<DescribedTopics, AdminFailure> {
    let deadline = crate::limits::deadline_in(timeout.saturating_add(Duration::from_secs(1)));
    let names = topics
        .iter()
        .map(|t| c_string("topic name", t))
        .collect::<Result<Vec<_>, _>>()?;
    let mut pointers: Vec<*const c_char> = names.iter().map(|n| n.as_ptr()).collect();
    let queue = Queue::new(client);
    let options = AdminOptions::new(client, timeout, 0);
    // SAFETY: the names outlive both calls; the collection copies them and the request copies
    // the collection, so it is destroyed right after sending.
    unsafe {
        let collection =
            rd::rd_kafka_TopicCollection_of_topic_names(pointers.as_mut_ptr(), pointers.len());
        rd::rd_kafka_DescribeTopics(client.native_ptr(), collection, options.ptr(), queue.ptr());
        rd::rd_kafka_TopicCollection_destroy(collection);
    }
    let event = checked_result(&queue, deadline)?;
    // SAFETY: every pointer below is owned by the event, which outlives the reads.
    unsafe {
        let result = rd::rd_kafka_event_DescribeTopics_result(event.ptr());
        if result.is_null() {
            return Err(wrong_type(&event));
        }
        let mut n = 0;
        let descriptions = rd::rd_kafka_DescribeTopics_result_topics(result, &mut n);
        let mut described = Vec::with_capacity(n);
        for i in 0..n {
            let description = *descriptions.add(i);
            let name = cstr(rd::rd_kafka_TopicDescription_name(description));
            let error = rd::rd_kafka_TopicDescription_error(description);
            // The error belongs to the description: read, not destroyed.
            let code = if error.is_null() {
                rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR
            } else {
                rd::rd_kafka_error_code(error)
            };
            if code != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
                let failure = AdminFailure {
                    code: code.into(),
                    message: cstr(rd::rd_kafka_error_string(error)),
                };
                described.push((name, Err(failure)));
                continue;
            }
            let mut count = 0;
            let partitions = rd::rd_kafka_TopicDescription_partitions(description, &mut count);
            let partitions = (0..count)
                .map(|j| {
                    let partition = *partitions.add(j);
                    let leader = rd::rd_kafka_TopicPartitionInfo_leader(partition);
                    let leader = if leader.is_null() {
                        -1
                    } else {
                        rd::rd_kafka_Node_id(leader)
                    };
                    (rd::rd_kafka_TopicPartitionInfo_partition(partition), leader)
                })
                .collect();
            described.push((name, Ok(partitions)));
        }
        Ok(described)
    }
}

/// # Safety
/// `answers` points to `n` live topic results.
unsafe fn read_topic_results(
    answers: *mut *const rd::rd_kafka_topic_result_t,
    n: usize,
) -> TopicOutcomes {
    // SAFETY: guaranteed by the caller; strings are copied out.
    unsafe {
        (0..n)
            .map(|i| {
                let answer = *answers.add(i);
                let name = cstr(rd::rd_kafka_topic_result_name(answer));
                let failure = AdminFailure::of_resource(
                    rd::rd_kafka_topic_result_error(answer),
                    rd::rd_kafka_topic_result_error_string(answer),
                );
                (name, failure.map_or(Ok(()), Err))
            })
            .collect()
    }
}

fn c_string(what: &str, text: &str) -> Result<CString, AdminFailure> {
    CString::new(text)
        .map_err(|_| AdminFailure::invalid(format!("{what} {text:?} contains a NUL byte")))
}

/// Native request objects, destroyed on drop unless released.
struct Owned<T> {
    items: Vec<*mut T>,
    destroy: unsafe extern "C" fn(*mut T),
}

impl<T> Owned<T> {
    fn new(destroy: unsafe extern "C" fn(*mut T)) -> Self {
        Owned {
            items: Vec::new(),
            destroy,
        }
    }

    fn push(&mut self, item: *mut T) {
        self.items.push(item);
    }

    fn len(&self) -> usize {
        self.items.len()
    }

    fn as_mut_ptr(&mut self) -> *mut *mut T {
        self.items.as_mut_ptr()
    }

    fn release(mut self) -> Vec<*mut T> {
        std::mem::take(&mut self.items)
    }
}

impl<T> Drop for Owned<T> {
    fn drop(&mut self) {
        for &item in &self.items {
            // SAFETY: every item was created by librdkafka and is owned here.
            unsafe { (self.destroy)(item) }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn spec(name: &str, partitions: i32, config: &[(&str, &str)]) -> NewTopicSpec {
        NewTopicSpec {
            name: name.into(),
            partitions,
            replication_factor: 1,
            config: config
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    /// Each topic's requested total is sent as given, in the given order (adding partitions
    /// end to end against Kafka is in `tests/cluster_writes.rs`).
    #[test]
    fn partition_requests_send_the_totals_as_given() {
        let totals = BTreeMap::from([("orders".to_string(), 12), ("payments".to_string(), 4)]);
        let requests = partition_requests(&totals).unwrap();
        assert_eq!(requests, [("orders", 12), ("payments", 4)]);

        // librdkafka accepts every one of them as a request object.
        let mut owned = Owned::new(rd::rd_kafka_NewPartitions_destroy);
        for (topic, total) in requests {
            let name = CString::new(topic).unwrap();
            let mut errstr = [0 as c_char; 512];
            let request = unsafe {
                rd::rd_kafka_NewPartitions_new(name.as_ptr(), total, errstr.as_mut_ptr(), 512)
            };
            assert!(!request.is_null(), "{}", unsafe { cstr(errstr.as_ptr()) });
            owned.push(request);
        }
    }

    #[test]
    fn partition_totals_below_one_are_refused_naming_the_topic() {
        for bad in [0, -1] {
            let totals = BTreeMap::from([("orders".to_string(), bad)]);
            let failure = partition_requests(&totals).unwrap_err();
            assert_eq!(failure.code, RDKafkaErrorCode::InvalidArgument);
            assert!(failure.message.contains("topic orders"), "{failure:?}");
        }
    }

    #[test]
    fn new_topic_refuses_what_librdkafka_refuses_with_its_reason() {
        let bad_name = spec("a\0b", 1, &[]);
        assert!(new_topic(&bad_name).unwrap_err().message.contains("NUL"));
        let failure = new_topic(&spec("orders", -5, &[])).unwrap_err();
        assert!(failure.message.starts_with("topic orders: "), "{failure:?}");
        let topic = new_topic(&spec("orders", 3, &[("retention.ms", "1000")])).unwrap();
        unsafe { rd::rd_kafka_NewTopic_destroy(topic) };
    }
}
