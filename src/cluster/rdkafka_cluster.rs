//! The cluster-access interface over rdkafka: one admin client and one consumer (no group) per
//! cluster, created once. Every call is one batched round of requests with a deadline.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, JoinHandle, Thread};
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewPartitions};
use rdkafka::bindings as rd;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

use super::client_config::{client_config, redacted};
use super::context::{ClientKind, ClusterContext, Recorder};
use super::describe_configs_ffi::describe_topic_configs;
use super::group_offsets_ffi::list_consumer_group_offsets;
use super::list_groups_ffi::{describe_consumer_groups, list_consumer_groups};
use super::native::{self, AdminFailure, Queue};
use super::{
    BrokerInfo, ClusterAccess, ClusterError, ClusterMetadata, ConfigValue, GroupListing,
    OffsetSpec, PartitionMetadata, PartitionOffsets, Support, TopicConfig, TopicMetadata,
};
use crate::config::ClusterSettings;

/// Keys every real Kafka broker returns for a topic. A response without all of them holds only
/// the explicitly set keys (tansu does this).
const USUAL_TOPIC_KEYS: [&str; 5] = [
    "retention.ms",
    "cleanup.policy",
    "segment.bytes",
    "max.message.bytes",
    "min.insync.replicas",
];

/// Statistics period: request accounting waits for fresh statistics, so keep it short.
const STATS_INTERVAL_MS: u64 = 100;

/// A Kafka cluster reached through librdkafka.
pub struct RdKafkaCluster {
    role: String,
    servers: String,
    timeout: Duration,
    stats_interval: Duration,
    admin: Arc<AdminClient<ClusterContext>>,
    consumer: Arc<BaseConsumer<ClusterContext>>,
    recorder: Arc<Recorder>,
    events: Option<EventThread>,
}

/// Partitions per ListOffsets call (see `offsets`).
const LIST_OFFSETS_CHUNK: usize = 1000;

impl RdKafkaCluster {
    /// Creates the clients of the `role` cluster ("source" or "target") and waits until it
    /// answers, at most `timeout`, which is also the deadline of every later call. Fails with
    /// [`ClusterError::Unreachable`] when no broker answered in time and with
    /// [`ClusterError::Unauthorized`] as soon as authentication fails.
    pub fn connect(
        role: &str,
        settings: &ClusterSettings,
        timeout: Duration,
    ) -> Result<Self, ClusterError> {
        let servers = settings.bootstrap_servers.join(",");
        let mut cfg = client_config(settings);
        set_default(&mut cfg, "client.id", &format!("ferry-{role}"));
        // Statistics (the source of request_counts) cost CPU on large clusters: librdkafka
        // renders every partition into JSON each interval. Only when someone reads them.
        if tracing::enabled!(tracing::Level::DEBUG) {
            set_default(
                &mut cfg,
                "statistics.interval.ms",
                &STATS_INTERVAL_MS.to_string(),
            );
        }
        // No client-metrics pushes (KIP-714): ferry's requests should be only its own.
        set_default(&mut cfg, "enable.metrics.push", "false");
        cfg.set_log_level(
            if tracing::enabled!(target: "librdkafka", tracing::Level::DEBUG) {
                RDKafkaLogLevel::Debug
            } else {
                RDKafkaLogLevel::Warning
            },
        );
        tracing::debug!(role, config = ?redacted(&cfg), "creating kafka clients");
        let stats_interval = Duration::from_millis(
            cfg.get("statistics.interval.ms")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
        );

        let recorder = Arc::new(Recorder::default());
        let context = |client| ClusterContext {
            role: role.to_string(),
            client,
            recorder: recorder.clone(),
        };
        let creation = |e: KafkaError| ClusterError::Kafka {
            role: role.to_string(),
            operation: "creating the client".into(),
            detail: e.to_string(),
        };
        // The admin client is a producer underneath, which reports global errors only as log
        // lines unless error events are enabled.
        let mut admin_cfg = cfg.clone();
        admin_cfg.set("enabled_events", rd::RD_KAFKA_EVENT_ERROR.to_string());
        let admin: AdminClient<_> = admin_cfg
            .create_with_context(context(ClientKind::Admin))
            .map_err(creation)?;
        let consumer: BaseConsumer<_> = cfg
            .create_with_context(context(ClientKind::Consumer))
            .map_err(creation)?;
        let admin = Arc::new(admin);
        let consumer = Arc::new(consumer);
        let events = EventThread::start(role, admin.clone(), consumer.clone(), recorder.clone());

        let cluster = RdKafkaCluster {
            role: role.to_string(),
            servers,
            timeout,
            stats_interval,
            admin,
            consumer,
            recorder,
            events: Some(events),
        };
        cluster.wait_until_reachable()?;
        Ok(cluster)
    }

    /// Requests sent so far by both clients, by request type (librdkafka's names: "Metadata",
    /// "DescribeConfigs", "ListOffsets", "OffsetFetch", ...), summed over brokers. Statistics are
    /// periodic, so this waits (about 200 ms; at most 3 intervals + 0.5 s) for statistics
    /// produced after the call began: requests of calls that returned before are counted.
    ///
    /// Not counted: the first requests of each client (ApiVersion, Metadata) when they go over
    /// a bootstrap connection that librdkafka closes before its first statistics, a few
    /// milliseconds after connecting.
    pub fn request_counts(&self) -> BTreeMap<String, u64> {
        let seen = self.recorder.stats_seen();
        let wait = if self.stats_interval.is_zero() {
            Duration::ZERO
        } else {
            self.stats_interval * 3 + Duration::from_millis(500)
        };
        self.recorder.requests_after(seen, Instant::now() + wait)
    }

    /// Waits until the consumer has learnt the cluster id (its first Metadata response) or a
    /// broker connection is up, failing early only on authentication errors.
    fn wait_until_reachable(&self) -> Result<(), ClusterError> {
        let started = Instant::now();
        let deadline = started + self.timeout;
        loop {
            if let Some(failure) = self.recorder.error_since(started)
                && is_auth_error(failure.code)
            {
                return Err(self.unauthorized(failure.reason));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                let detail = match self.recorder.error_since(started) {
                    Some(e) => e.reason,
                    None => format!("no broker answered within {}s", self.timeout.as_secs()),
                };
                return Err(self.unreachable(detail));
            }
            let slice = left.min(Duration::from_millis(100));
            if native::cluster_id(self.consumer.client(), slice).is_some()
                || self.recorder.brokers_up() > Some(0)
            {
                return Ok(());
            }
        }
    }

    /// Turns a failure of `operation` into the error the user should see.
    fn error(
        &self,
        operation: &str,
        code: RDKafkaErrorCode,
        detail: String,
        started: Instant,
    ) -> ClusterError {
        use RDKafkaErrorCode as C;
        let recent = self.recorder.error_since(started);
        match code {
            C::UnsupportedVersion | C::UnsupportedFeature => ClusterError::Unsupported {
                role: self.role.clone(),
                operation: operation.to_string(),
                detail,
            },
            code if is_auth_error(code) => self.unauthorized(detail),
            // A recorded error usually says more (which broker, why) than the call's own.
            code if is_unreachable_error(code) => self.unreachable(match recent {
                Some(e) if e.code != C::AllBrokersDown => e.reason,
                _ => detail,
            }),
            C::OperationTimedOut | C::RequestTimedOut | C::TimedOutQueue => match recent {
                Some(e) if is_auth_error(e.code) => self.unauthorized(e.reason),
                Some(e) if is_unreachable_error(e.code) => self.unreachable(e.reason),
                _ if self.recorder.brokers_up() == Some(0) => {
                    self.unreachable(format!("no broker is up ({detail})"))
                }
                _ => ClusterError::Timeout {
                    role: self.role.clone(),
                    operation: operation.to_string(),
                    seconds: self.timeout.as_secs(),
                },
            },
            code => ClusterError::Kafka {
                role: self.role.clone(),
                operation: operation.to_string(),
                detail: if detail.is_empty() {
                    code.to_string()
                } else {
                    detail
                },
            },
        }
    }

    fn kafka_error(&self, operation: &str, error: KafkaError, started: Instant) -> ClusterError {
        match error_code(&error) {
            Some(code) => self.error(operation, code, code.to_string(), started),
            None => ClusterError::Kafka {
                role: self.role.clone(),
                operation: operation.to_string(),
                detail: error.to_string(),
            },
        }
    }

    fn admin_error(
        &self,
        operation: &str,
        failure: AdminFailure,
        started: Instant,
    ) -> ClusterError {
        self.error(operation, failure.code, failure.message, started)
    }

    fn unreachable(&self, detail: String) -> ClusterError {
        ClusterError::Unreachable {
            role: self.role.clone(),
            servers: self.servers.clone(),
            detail,
        }
    }

    fn unauthorized(&self, detail: String) -> ClusterError {
        ClusterError::Unauthorized {
            role: self.role.clone(),
            detail,
        }
    }

    /// ListOffsets for every partition in `tpl`, whose offsets carry the timestamps to look up,
    /// finishing by `started` + the cluster's timeout.
    fn list_offsets(
        &self,
        tpl: TopicPartitionList,
        started: Instant,
    ) -> Result<TopicPartitionList, ClusterError> {
        let left = (started + self.timeout).saturating_duration_since(Instant::now());
        if left.is_zero() {
            let code = RDKafkaErrorCode::OperationTimedOut;
            return Err(self.error("ListOffsets", code, String::new(), started));
        }
        let result = self
            .consumer
            .offsets_for_times(tpl, left)
            .map_err(|e| self.kafka_error("ListOffsets", e, started))?;
        for elem in result.elements() {
            if let Err(e) = elem.error() {
                let code = error_code(&e).unwrap_or(RDKafkaErrorCode::Fail);
                let detail = format!("{}[{}]: {code}", elem.topic(), elem.partition());
                return Err(self.error("ListOffsets", code, detail, started));
            }
        }
        Ok(result)
    }
}

impl ClusterAccess for RdKafkaCluster {
    fn metadata(&self) -> Result<ClusterMetadata, ClusterError> {
        let started = Instant::now();
        let md = self
            .consumer
            .fetch_metadata(None, self.timeout)
            .map_err(|e| self.kafka_error("Metadata", e, started))?;
        let mut brokers: Vec<BrokerInfo> = md
            .brokers()
            .iter()
            .map(|b| BrokerInfo {
                id: b.id(),
                host: b.host().to_string(),
                port: u16::try_from(b.port()).unwrap_or(0),
            })
            .collect();
        brokers.sort_by_key(|b| b.id);
        let topics = md
            .topics()
            .iter()
            .map(|t| {
                let mut partitions: Vec<PartitionMetadata> = t
                    .partitions()
                    .iter()
                    .map(|p| PartitionMetadata {
                        id: p.id(),
                        leader: p.leader(),
                        replicas: p.replicas().to_vec(),
                    })
                    .collect();
                partitions.sort_by_key(|p| p.id);
                (t.name().to_string(), TopicMetadata { partitions })
            })
            .collect();
        // The Metadata response just received carries the id; this reads librdkafka's cache.
        let cluster_id = native::cluster_id(self.consumer.client(), self.timeout);
        Ok(ClusterMetadata {
            cluster_id,
            brokers,
            topics,
        })
    }

    fn topic_configs(
        &self,
        topics: &[String],
    ) -> Result<BTreeMap<String, TopicConfig>, ClusterError> {
        if topics.is_empty() {
            return Ok(BTreeMap::new());
        }
        let started = Instant::now();
        let described = describe_topic_configs(self.admin.inner(), topics, self.timeout)
            .map_err(|f| self.admin_error("DescribeConfigs", f, started))?;
        let mut configs = BTreeMap::new();
        for (topic, result) in described {
            let entries = match result {
                Ok(entries) => entries,
                Err(f) if f.code == RDKafkaErrorCode::UnknownTopicOrPartition => continue,
                Err(f) => {
                    let failure = AdminFailure {
                        message: format!("topic {topic}: {}", f.message),
                        ..f
                    };
                    return Err(self.admin_error("DescribeConfigs", failure, started));
                }
            };
            let complete = USUAL_TOPIC_KEYS
                .iter()
                .all(|k| entries.iter().any(|e| e.name == *k));
            let entries = entries
                .into_iter()
                .map(|e| {
                    let value = ConfigValue {
                        value: e.value,
                        // An incomplete answer lists only explicitly set keys, whatever
                        // the broker's flags say.
                        is_default: complete && e.is_default,
                        sensitive: e.sensitive,
                    };
                    (e.name, value)
                })
                .collect();
            configs.insert(topic, TopicConfig { entries, complete });
        }
        Ok(configs)
    }

    /// For [`OffsetSpec::Timestamp`], a partition without a record at or after the timestamp
    /// gets its end offset (where the first such record will be written), asked in one more
    /// batched ListOffsets for just those partitions.
    fn offsets(
        &self,
        partitions: &BTreeMap<String, Vec<i32>>,
        spec: OffsetSpec,
    ) -> Result<PartitionOffsets, ClusterError> {
        let started = Instant::now();
        let wanted = match spec {
            OffsetSpec::Earliest => Offset::Beginning,
            OffsetSpec::Latest => Offset::End,
            OffsetSpec::Timestamp(ts) => Offset::Offset(ts),
        };
        let all: Vec<(&String, i32)> = partitions
            .iter()
            .flat_map(|(topic, ids)| ids.iter().map(move |&id| (topic, id)))
            .collect();
        let by_timestamp = matches!(spec, OffsetSpec::Timestamp(_));
        let mut offsets = PartitionOffsets::new();
        let mut past_the_end = TopicPartitionList::new();
        // librdkafka matches each answer to its request partition by a linear search, so one
        // list of 12,000 partitions costs seconds of client CPU; chunks keep that linear.
        for chunk in all.chunks(LIST_OFFSETS_CHUNK) {
            let mut tpl = TopicPartitionList::with_capacity(chunk.len());
            for &(topic, id) in chunk {
                tpl.add_partition_offset(topic, id, wanted)
                    .map_err(|e| self.kafka_error("ListOffsets", e, started))?;
            }
            // The deadline is per request: a large cluster needs many, each answered in time.
            let answer = self.list_offsets(tpl, Instant::now())?;
            let (found, beyond) = split_answer(&answer, by_timestamp).map_err(|detail| {
                self.error("ListOffsets", RDKafkaErrorCode::Fail, detail, started)
            })?;
            for (topic, parts) in found {
                offsets.entry(topic).or_default().extend(parts);
            }
            for elem in beyond.elements() {
                past_the_end
                    .add_partition_offset(elem.topic(), elem.partition(), Offset::End)
                    .map_err(|e| self.kafka_error("ListOffsets", e, started))?;
            }
        }
        if past_the_end.count() > 0 {
            for elem in self.list_offsets(past_the_end, started)?.elements() {
                if let Offset::Offset(end) = elem.offset() {
                    offsets
                        .entry(elem.topic().to_string())
                        .or_default()
                        .insert(elem.partition(), end);
                }
            }
        }
        Ok(offsets)
    }

    /// Lists groups with their state (ListGroups, one request per broker), then describes the
    /// groups that may have members (state not Empty or Dead; "Unknown" when the broker does
    /// not report states) for their member count.
    ///
    /// A broker that drops the connection on DescribeGroups (tansu 0.6.0 does, for every group)
    /// does not fail the listing: those groups keep their listed state with 0 members, and a
    /// warning says so.
    fn list_groups(&self) -> Result<Vec<GroupListing>, ClusterError> {
        let started = Instant::now();
        let client = self.consumer.client();
        let listed = list_consumer_groups(client, self.timeout)
            .map_err(|f| self.admin_error("ListGroups", f, started))?;
        tracing::debug!(role = %self.role, groups = ?listed, "listed consumer groups");
        let mut groups: Vec<GroupListing> = listed
            .into_iter()
            .map(|(name, state)| GroupListing {
                name,
                state,
                members: 0,
            })
            .collect();
        groups.sort_by(|a, b| a.name.cmp(&b.name));
        let to_describe: Vec<String> = groups
            .iter()
            .filter(|g| g.state != "Empty" && g.state != "Dead")
            .map(|g| g.name.clone())
            .collect();
        if to_describe.is_empty() {
            return Ok(groups);
        }
        let dropped = |code| code == RDKafkaErrorCode::BrokerTransportFailure;
        let left = (started + self.timeout).saturating_duration_since(Instant::now());
        let described = match describe_consumer_groups(client, &to_describe, left) {
            Ok(described) => described,
            Err(f) if dropped(f.code) => vec![Err(f); to_describe.len()],
            Err(f) => return Err(self.admin_error("DescribeGroups", f, started)),
        };
        let described: BTreeMap<&String, _> = to_describe.iter().zip(described).collect();
        let mut undescribed = 0;
        for group in &mut groups {
            match described.get(&group.name) {
                None => {}
                Some(Ok((state, members))) => {
                    group.state.clone_from(state);
                    group.members = *members;
                }
                Some(Err(f)) if dropped(f.code) => undescribed += 1,
                Some(Err(f)) => {
                    let failure = AdminFailure {
                        message: format!("group {}: {}", group.name, f.message),
                        ..f.clone()
                    };
                    return Err(self.admin_error("DescribeGroups", failure, started));
                }
            }
        }
        if undescribed > 0 {
            tracing::warn!(
                "the {} cluster dropped the connection on DescribeGroups for {undescribed} group(s); \
                 their member counts are unknown and shown as 0",
                self.role
            );
        }
        Ok(groups)
    }

    fn group_offsets(
        &self,
        groups: &[String],
    ) -> Result<BTreeMap<String, PartitionOffsets>, ClusterError> {
        let started = Instant::now();
        // Sent through the consumer handle: librdkafka's statistics leave OffsetFetch out for
        // producer-type clients such as the admin client, and request accounting needs it.
        let results = list_consumer_group_offsets(self.consumer.client(), groups, self.timeout);
        let mut offsets = BTreeMap::new();
        for (group, result) in groups.iter().zip(results) {
            let group_offsets = result.map_err(|f| {
                let failure = AdminFailure {
                    message: format!("group {group}: {}", f.message),
                    ..f
                };
                self.admin_error("ListConsumerGroupOffsets", failure, started)
            })?;
            offsets.insert(group.clone(), group_offsets);
        }
        Ok(offsets)
    }

    fn can_add_partitions(&self, topic: &str, total: i32) -> Result<Support, ClusterError> {
        let started = Instant::now();
        let operation = "CreatePartitions";
        let request = NewPartitions::new(topic, usize::try_from(total).unwrap_or(0));
        let options = AdminOptions::new()
            .validate_only(true)
            .request_timeout(Some(self.timeout));
        let future = self.admin.create_partitions([&request], &options);
        let failure = match block_on_until(future, started + self.timeout + Duration::from_secs(1))
        {
            None => {
                return Err(self.error(
                    operation,
                    RDKafkaErrorCode::OperationTimedOut,
                    String::new(),
                    started,
                ));
            }
            Some(Ok(results)) => match results.into_iter().find_map(Result::err) {
                None => return Ok(Support::Supported),
                Some((_, code)) => code,
            },
            Some(Err(e)) => match error_code(&e) {
                Some(code) => code,
                None => return Err(self.kafka_error(operation, e, started)),
            },
        };
        match failure {
            RDKafkaErrorCode::UnsupportedVersion | RDKafkaErrorCode::UnsupportedFeature => {
                Ok(Support::Unsupported {
                    reason: format!("the broker does not support CreatePartitions ({failure})"),
                })
            }
            code => Err(self.error(operation, code, format!("topic {topic}: {code}"), started)),
        }
    }
}

impl Drop for RdKafkaCluster {
    fn drop(&mut self) {
        if let Some(events) = self.events.take() {
            events.stop();
        }
    }
}

/// Splits a ListOffsets answer into the offsets found and, for a timestamp lookup, the
/// partitions without a record at or after the timestamp (answered -1, "end"), to be asked for
/// their end offset. `Err` names a partition with an offset that makes no sense for the lookup.
fn split_answer(
    answer: &TopicPartitionList,
    by_timestamp: bool,
) -> Result<(PartitionOffsets, TopicPartitionList), String> {
    let mut offsets = PartitionOffsets::new();
    let mut past_the_end = TopicPartitionList::new();
    for elem in answer.elements() {
        match elem.offset() {
            Offset::Offset(offset) => {
                offsets
                    .entry(elem.topic().to_string())
                    .or_default()
                    .insert(elem.partition(), offset);
            }
            Offset::End if by_timestamp => {
                past_the_end.add_partition(elem.topic(), elem.partition());
            }
            other => {
                let (topic, partition) = (elem.topic(), elem.partition());
                return Err(format!("{topic}[{partition}]: unexpected offset {other:?}"));
            }
        }
    }
    // `add_partition` leaves the offset invalid; the follow-up asks for the end.
    past_the_end
        .set_all_offsets(Offset::End)
        .map_err(|e| e.to_string())?;
    Ok((offsets, past_the_end))
}

/// The librdkafka error code inside `error` (rdkafka's own `rdkafka_error_code` has none for
/// admin operation errors).
fn error_code(error: &KafkaError) -> Option<RDKafkaErrorCode> {
    match error {
        KafkaError::AdminOp(code) => Some(*code),
        other => other.rdkafka_error_code(),
    }
}

fn set_default(cfg: &mut ClientConfig, key: &str, value: &str) {
    if cfg.get(key).is_none() {
        cfg.set(key, value);
    }
}

fn is_auth_error(code: RDKafkaErrorCode) -> bool {
    use RDKafkaErrorCode as C;
    matches!(
        code,
        C::Authentication
            | C::SaslAuthenticationFailed
            | C::TopicAuthorizationFailed
            | C::GroupAuthorizationFailed
            | C::ClusterAuthorizationFailed
    )
}

fn is_unreachable_error(code: RDKafkaErrorCode) -> bool {
    use RDKafkaErrorCode as C;
    matches!(
        code,
        C::BrokerTransportFailure | C::AllBrokersDown | C::Resolve | C::SSL
    )
}

/// Serves the main queues of both clients: librdkafka puts logs, statistics and global errors
/// there, and nothing else polls them (rdkafka's admin client only polls its result queue).
struct EventThread {
    stop: Arc<AtomicBool>,
    handle: JoinHandle<()>,
}

impl EventThread {
    fn start(
        role: &str,
        admin: Arc<AdminClient<ClusterContext>>,
        consumer: Arc<BaseConsumer<ClusterContext>>,
        recorder: Arc<Recorder>,
    ) -> EventThread {
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let role = role.to_string();
        let handle = thread::Builder::new()
            .name(format!("ferry-{role}-events"))
            .spawn(move || {
                // Declared after the clients, so dropped before them.
                let queues = [
                    (ClientKind::Admin, Queue::main(admin.inner())),
                    (ClientKind::Consumer, Queue::main(consumer.client())),
                ];
                while !stopping.load(Ordering::Relaxed) {
                    for (kind, queue) in &queues {
                        while let Some(event) = queue.poll(Duration::from_millis(25)) {
                            match event.kind() {
                                rd::RD_KAFKA_EVENT_LOG => {
                                    if let Some((fac, msg, level)) = event.log() {
                                        recorder.log(&role, level, &fac, &msg);
                                    }
                                }
                                rd::RD_KAFKA_EVENT_STATS => {
                                    if let Some(json) = event.stats() {
                                        recorder.stats(*kind, json);
                                    }
                                }
                                rd::RD_KAFKA_EVENT_ERROR => {
                                    if let Some((code, reason)) = event.error() {
                                        recorder.error(&role, code, &reason);
                                    }
                                }
                                _ => {}
                            }
                        }
                    }
                }
            })
            .expect("cannot start a thread");
        EventThread { stop, handle }
    }

    fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.handle.join();
    }
}

/// Runs `future` on this thread until it completes or `deadline` passes.
fn block_on_until<F: Future>(future: F, deadline: Instant) -> Option<F::Output> {
    struct Unpark(Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return Some(output);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return None;
        }
        thread::park_timeout(left);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_can_be_shared_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<RdKafkaCluster>();
    }

    #[test]
    fn block_on_until_gives_up_at_the_deadline() {
        let started = Instant::now();
        let never = std::future::pending::<()>();
        assert_eq!(
            block_on_until(never, started + Duration::from_millis(50)),
            None
        );
        assert!(started.elapsed() >= Duration::from_millis(50));
        assert_eq!(block_on_until(async { 7 }, started), Some(7));
    }

    /// Kafka answers -1 for a timestamp after the last record; tansu 0.6.0 answers 0 instead,
    /// so this mapping is only testable here.
    #[test]
    fn timestamp_past_the_last_record_asks_for_the_end() {
        let mut answer = TopicPartitionList::new();
        answer
            .add_partition_offset("t", 0, Offset::Offset(5))
            .unwrap();
        answer.add_partition_offset("t", 1, Offset::End).unwrap();
        let (found, follow_up) = split_answer(&answer, true).unwrap();
        assert_eq!(
            found,
            BTreeMap::from([("t".to_string(), BTreeMap::from([(0, 5)]))])
        );
        let asked: Vec<_> = follow_up
            .elements()
            .iter()
            .map(|e| (e.topic().to_string(), e.partition(), e.offset()))
            .collect();
        assert_eq!(asked, [("t".to_string(), 1, Offset::End)]);

        // Earliest/latest lookups never answer "end".
        assert!(split_answer(&answer, false).unwrap_err().contains("t[1]"));
    }

    #[test]
    fn error_codes_are_classified() {
        use RDKafkaErrorCode as C;
        assert!(is_auth_error(C::SaslAuthenticationFailed));
        assert!(is_auth_error(C::TopicAuthorizationFailed));
        assert!(is_unreachable_error(C::AllBrokersDown));
        assert!(is_unreachable_error(C::Resolve));
        assert!(!is_unreachable_error(C::OperationTimedOut));
    }
}
