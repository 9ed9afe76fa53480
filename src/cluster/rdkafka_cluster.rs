//! The cluster-access interface over rdkafka: one admin client and one consumer (no group) per
//! cluster, created once. Every call is one batched round of requests with a deadline.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, JoinHandle, Thread};
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewPartitions, NewTopic, TopicReplication};
use rdkafka::bindings as rd;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

use super::alter_configs_ffi::set_topic_configs;
use super::broker_failures::FailureKind;
use super::client_config::{client_config, redacted};
use super::commit_offsets_ffi::commit_offsets;
use super::context::{ClientKind, ClusterContext, Recorder};
use super::describe_configs_ffi::{describe_broker_configs, describe_topic_configs};
use super::group_offsets_ffi::list_consumer_group_offsets;
use super::kafka_log;
use super::list_groups_ffi::{describe_consumer_groups, list_consumer_groups};
use super::native::{self, AdminFailure, Queue};
use super::topic_admin_ffi::{
    DescribedTopics, create_partitions, create_topics, describe_topics, partition_requests,
};
use super::wire::GroupBatcher;
use super::{
    BrokerInfo, ClusterAccess, ClusterError, ClusterMetadata, ConfigValue, GroupActivity,
    GroupListing, NewTopicSpec, OffsetRange, OffsetSpec, PartitionMetadata, PartitionOffsets,
    RangeRead, Support, TopicConfig, TopicMetadata, TopicResult,
};
use crate::config::ClusterSettings;
use crate::domain::BrokerConfig;

/// Keys every real Kafka broker returns for a topic (Kafka describes every topic key, defaults
/// included). A response without all of them holds only the explicitly set keys, as some
/// Kafka-compatible brokers answer.
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
    /// The clients' settings, for the short-lived group consumers that commit offsets.
    config: ClientConfig,
    /// ferry's own connection for batched group requests (boxed: it is large and rarely used).
    batcher: Box<GroupBatcher>,
}

/// Partitions per ListOffsets call (see `offsets`).
const LIST_OFFSETS_CHUNK: usize = 1000;

impl RdKafkaCluster {
    /// Creates the clients of the `role` cluster ("source" or "target") and waits until it
    /// answers, at most `timeout`, which is also the deadline of every later call. Fails with
    /// [`ClusterError::Unreachable`] when no broker answered in time (at once when every
    /// bootstrap server refused the connection or does not resolve) and with
    /// [`ClusterError::Unauthorized`] as soon as authentication fails.
    pub fn connect(
        role: &str,
        settings: &ClusterSettings,
        timeout: Duration,
    ) -> Result<Self, ClusterError> {
        // Every deadline below is `started + timeout`: bounded, that sum cannot overflow.
        let timeout = timeout.min(crate::limits::MAX_DURATION);
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
        kafka_log::set_log_level(&mut cfg);
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
            config: cfg,
            batcher: Box::new(GroupBatcher::new(role, settings)),
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
        let mut counts = self.recorder.requests_after(seen, Instant::now() + wait);
        self.batcher.add_sent(&mut counts);
        counts
    }

    /// Waits until the consumer has learnt the cluster id (its first Metadata response) or a
    /// broker connection is up, failing early on authentication errors and as soon as every
    /// bootstrap server refused the connection or does not resolve (a server that accepts the
    /// connection but does not answer gets the whole timeout).
    fn wait_until_reachable(&self) -> Result<(), ClusterError> {
        let started = Instant::now();
        let deadline = started + self.timeout;
        loop {
            if let Some(failure) = self.recorder.error_since(started)
                && is_auth_error(failure.code)
            {
                return Err(self.unauthorized(failure.reason));
            }
            if let Some(detail) = self.recorder.none_can_answer(&self.servers) {
                return Err(self.unreachable(detail));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                // An error that says why (TLS, a disconnect) is shown as it is; a refusal of
                // some servers, or nothing but "all brokers down", means the others were silent.
                let detail = match self.recorder.error_since(started) {
                    Some(e)
                        if e.code != RDKafkaErrorCode::AllBrokersDown
                            && FailureKind::of(Some(e.code), &e.reason) == FailureKind::Other =>
                    {
                        e.reason
                    }
                    _ => self
                        .recorder
                        .no_answer(&self.servers, self.timeout.as_secs()),
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

    /// Waits for a validate-only admin request: `None` when the broker would accept it, else
    /// the code it refused with; an error when no answer came in time.
    fn validate_only_refusal(
        &self,
        operation: &str,
        future: impl std::future::Future<
            Output = rdkafka::error::KafkaResult<Vec<rdkafka::admin::TopicResult>>,
        >,
        started: Instant,
    ) -> Result<Option<RDKafkaErrorCode>, ClusterError> {
        match block_on_until(future, started + self.timeout + Duration::from_secs(1)) {
            None => Err(self.error(
                operation,
                RDKafkaErrorCode::OperationTimedOut,
                String::new(),
                started,
            )),
            Some(Ok(results)) => Ok(results
                .into_iter()
                .find_map(Result::err)
                .map(|(_, code)| code)),
            Some(Err(e)) => match error_code(&e) {
                Some(code) => Ok(Some(code)),
                None => Err(self.kafka_error(operation, e, started)),
            },
        }
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
        let mut pause = Duration::from_millis(20);
        loop {
            let left = (started + self.timeout).saturating_duration_since(Instant::now());
            if left.is_zero() {
                let code = RDKafkaErrorCode::OperationTimedOut;
                return Err(self.error("ListOffsets", code, String::new(), started));
            }
            // librdkafka reports a partition's error as the call's error too.
            let (code, detail) = match self.consumer.offsets_for_times(tpl.clone(), left) {
                Ok(result) => match result.elements().into_iter().find_map(|elem| {
                    elem.error().err().map(|e| {
                        let code = error_code(&e).unwrap_or(RDKafkaErrorCode::Fail);
                        (
                            code,
                            format!("{}[{}]: {code}", elem.topic(), elem.partition()),
                        )
                    })
                }) {
                    None => return Ok(result),
                    Some(failed) => failed,
                },
                Err(e) => match error_code(&e) {
                    Some(code) if is_retriable_partition_error(code) => (code, e.to_string()),
                    _ => return Err(self.kafka_error("ListOffsets", e, started)),
                },
            };
            // Leadership still settling (a topic just created, a broker just restarted): Kafka
            // documents these as retriable, so ask again until the deadline.
            if !is_retriable_partition_error(code)
                || Instant::now() + pause >= started + self.timeout
            {
                return Err(self.error("ListOffsets", code, detail, started));
            }
            tracing::debug!(role = %self.role, %code, "ListOffsets retried");
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(500));
        }
    }

    /// Polls metadata of just the `expected` topics (name -> partition count; `None`: any) until
    /// each shows that many partitions, every one with a leader, or the cluster's timeout
    /// passes. `operation` names what is being waited for in a timeout error.
    fn wait_for_partitions(
        &self,
        expected: &BTreeMap<String, Option<usize>>,
        operation: &str,
    ) -> Result<(), ClusterError> {
        let started = Instant::now();
        let deadline = started + self.timeout;
        let mut missing: Vec<String> = expected.keys().cloned().collect();
        let mut pause = Duration::from_millis(10);
        let timed_out = |missing: &[String]| ClusterError::Timeout {
            role: self.role.clone(),
            operation: format!("{operation} (metadata still lacks {})", missing.join(", ")),
            seconds: self.timeout.as_secs(),
        };
        while !missing.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(timed_out(&missing));
            }
            let described = match describe_topics(self.admin.inner(), &missing, left) {
                Ok(described) => described,
                Err(f) if f.code == RDKafkaErrorCode::OperationTimedOut => {
                    return Err(timed_out(&missing));
                }
                Err(f) => return Err(self.admin_error("Metadata", f, started)),
            };
            let lacking =
                lacking_partitions(expected, &missing, described).map_err(|(topic, f)| {
                    let detail = format!("topic {topic}: {}", f.message);
                    self.error("Metadata", f.code, detail, started)
                })?;
            tracing::debug!(role = %self.role, ?lacking, "waiting for partitions in metadata");
            missing = lacking.into_keys().collect();
            if !missing.is_empty() {
                // Metadata usually catches up within milliseconds; back off up to 200 ms so a
                // slow cluster is not flooded with requests.
                thread::sleep(pause.min(deadline.saturating_duration_since(Instant::now())));
                pause = (pause * 2).min(Duration::from_millis(200));
            }
        }
        Ok(())
    }

    /// A consumer in `group` that never subscribes, for committing its offsets.
    fn group_consumer(&self, group: &str) -> Result<BaseConsumer<ClusterContext>, ClusterError> {
        let mut cfg = self.config.clone();
        cfg.set("group.id", group)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            // Nobody polls this consumer's queue: no statistics piling up in it.
            .set("statistics.interval.ms", "0");
        cfg.create_with_context(ClusterContext {
            role: self.role.clone(),
            client: ClientKind::Consumer,
            recorder: self.recorder.clone(),
        })
        .map_err(|e| ClusterError::Kafka {
            role: self.role.clone(),
            operation: format!("creating a consumer of group {group}"),
            detail: e.to_string(),
        })
    }

    /// The error for a commit of `group`'s offsets that failed with `code`: a group with
    /// members refuses commits from outside its generation.
    fn commit_error(
        &self,
        group: &str,
        code: RDKafkaErrorCode,
        detail: String,
        started: Instant,
    ) -> ClusterError {
        if refused_for_active_members(code) {
            ClusterError::GroupActive {
                role: self.role.clone(),
                group: group.to_string(),
                detail,
            }
        } else {
            self.error(
                "OffsetCommit",
                code,
                format!("group {group}: {detail}"),
                started,
            )
        }
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

    fn broker_configs(&self, brokers: &[i32]) -> Result<BTreeMap<i32, BrokerConfig>, ClusterError> {
        let started = Instant::now();
        let described = describe_broker_configs(self.admin.inner(), brokers, self.timeout)
            .map_err(|f| self.admin_error("DescribeConfigs (broker)", f, started))?;
        let mut configs = BTreeMap::new();
        for (broker, result) in described {
            let entries = result.map_err(|f| {
                let failure = AdminFailure {
                    message: format!("broker {broker}: {}", f.message),
                    ..f
                };
                self.admin_error("DescribeConfigs (broker)", failure, started)
            })?;
            let id = broker.parse().unwrap_or(-1);
            let config = entries.into_iter().map(|e| (e.name, e.value)).collect();
            configs.insert(id, config);
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
    /// Kafka lists a group that only has committed offsets as Empty, so it is not described.
    /// A broker that cannot describe groups (it drops the connection on DescribeGroups, as some
    /// Kafka-compatible brokers do) does not fail the listing: those groups keep their listed
    /// state with 0 members, and a warning says so.
    fn list_groups(&self) -> Result<Vec<GroupListing>, ClusterError> {
        let started = Instant::now();
        let client = self.consumer.client();
        // A cluster's first group request creates __consumer_offsets; until its coordinator has
        // loaded, ListGroups answers a coordinator error: ask again until the deadline.
        let mut pause = Duration::from_millis(50);
        let listed = loop {
            let left = (started + self.timeout).saturating_duration_since(Instant::now());
            match list_consumer_groups(client, left) {
                Err(f) if coordinator_not_ready(f.code) && left > pause => {
                    tracing::debug!(role = %self.role, failure = ?f, "ListGroups retried");
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(500));
                }
                answer => break answer.map_err(|f| self.admin_error("ListGroups", f, started))?,
            }
        };
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
                    group.members = members.len();
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
        // Said once per run: every later snapshot and wait would repeat the same broker limit.
        static WARNED: std::sync::Once = std::sync::Once::new();
        if undescribed > 0 && !WARNED.is_completed() {
            WARNED.call_once(|| ());
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
        let (mut offsets, one_at_a_time) = self.batcher.group_offsets(groups, self.timeout);
        if one_at_a_time.is_empty() {
            return Ok(offsets);
        }
        // Sent through the consumer handle: librdkafka's statistics leave OffsetFetch out for
        // producer-type clients such as the admin client, and request accounting needs it.
        let results =
            list_consumer_group_offsets(self.consumer.client(), &one_at_a_time, self.timeout);
        for (group, result) in one_at_a_time.iter().zip(results) {
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
        let Some(failure) = self.validate_only_refusal(operation, future, started)? else {
            return Ok(Support::Supported);
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

    fn read_bytes(
        &self,
        ranges: &[OffsetRange],
        budget: u64,
    ) -> BTreeMap<(String, i32), RangeRead> {
        super::read_bytes::read_bytes(&self.config, ranges, budget, self.timeout)
    }

    fn transactions_support(&self, transactional_id: &str) -> Support {
        super::transactions_probe::transactions_support(
            &self.config,
            transactional_id,
            self.timeout,
        )
    }

    fn can_create_topic(&self, topic: &str) -> Result<(), ClusterError> {
        let started = Instant::now();
        let operation = "CreateTopics (validate only)";
        // One partition, the broker's default replication factor: only the permission and the
        // name are in question here.
        let request = NewTopic::new(topic, 1, TopicReplication::Fixed(-1));
        let options = AdminOptions::new()
            .validate_only(true)
            .request_timeout(Some(self.timeout));
        let future = self.admin.create_topics([&request], &options);
        let Some(failure) = self.validate_only_refusal(operation, future, started)? else {
            return Ok(());
        };
        match failure {
            // Created meanwhile by someone else: the permission question is moot.
            RDKafkaErrorCode::TopicAlreadyExists => Ok(()),
            code if is_auth_error(code) => Err(self.unauthorized(format!(
                "creating topic {topic} was refused ({code}); the user needs the CREATE \
                 permission on the cluster or on these topics"
            ))),
            code => Err(self.error(operation, code, format!("topic {topic}: {code}"), started)),
        }
    }

    fn create_topics(&self, topics: &[NewTopicSpec]) -> Result<Vec<TopicResult>, ClusterError> {
        let operation = "CreateTopics";
        let started = Instant::now();
        if topics.is_empty() {
            return Ok(Vec::new());
        }
        let mut names = std::collections::BTreeSet::new();
        for spec in topics {
            if !names.insert(spec.name.as_str()) {
                let detail = format!("topic {} is listed twice", spec.name);
                let code = RDKafkaErrorCode::InvalidArgument;
                return Err(self.error(operation, code, detail, started));
            }
        }
        let answers = create_topics(self.admin.inner(), topics, self.timeout)
            .map_err(|f| self.admin_error(operation, f, started))?;
        let mut answers: BTreeMap<String, Result<(), AdminFailure>> = answers.into_iter().collect();
        let mut results = Vec::with_capacity(topics.len());
        let mut refused = Vec::new();
        for spec in topics {
            let name = spec.name.clone();
            match answers.remove(&spec.name) {
                Some(Ok(())) => results.push(TopicResult::Created(name)),
                Some(Err(f)) if f.code == RDKafkaErrorCode::TopicAlreadyExists => {
                    results.push(TopicResult::AlreadyExists(name));
                }
                Some(Err(f)) => refused.push((name, f)),
                None => refused.push((
                    name,
                    AdminFailure {
                        code: RDKafkaErrorCode::Fail,
                        message: "the broker's answer does not mention it".into(),
                    },
                )),
            }
        }
        let created: BTreeMap<String, Option<usize>> = topics
            .iter()
            .filter(|spec| results.contains(&TopicResult::Created(spec.name.clone())))
            .map(|spec| (spec.name.clone(), usize::try_from(spec.partitions).ok()))
            .collect();
        if let Some((_, first)) = refused.first() {
            let mut detail = refused
                .iter()
                .map(|(topic, f)| format!("topic {topic}: {}", f.message))
                .collect::<Vec<_>>()
                .join("; ");
            if !created.is_empty() {
                let names: Vec<&str> = created.keys().map(String::as_str).collect();
                detail.push_str(&format!(
                    " (created by the same request: {})",
                    names.join(", ")
                ));
            }
            return Err(self.error(operation, first.code, detail, started));
        }
        self.wait_for_partitions(&created, "Metadata of the created topics")?;
        Ok(results)
    }

    fn alter_topic_configs(
        &self,
        changes: &BTreeMap<String, BTreeMap<String, String>>,
    ) -> Result<(), ClusterError> {
        let operation = "IncrementalAlterConfigs";
        let started = Instant::now();
        let answers = set_topic_configs(self.admin.inner(), changes, self.timeout)
            .map_err(|f| self.admin_error(operation, f, started))?;
        let refused: Vec<(String, AdminFailure)> = answers
            .into_iter()
            .filter_map(|(topic, answer)| answer.err().map(|f| (topic, f)))
            .collect();
        let Some((_, first)) = refused.first() else {
            return Ok(());
        };
        let detail = config_refusals(changes, &refused);
        Err(self.error(operation, first.code, detail, started))
    }

    fn add_partitions(&self, topic_totals: &BTreeMap<String, i32>) -> Result<(), ClusterError> {
        let operation = "adding partitions (CreatePartitions)";
        let started = Instant::now();
        let requests = partition_requests(topic_totals)
            .map_err(|f| self.admin_error(operation, f, started))?;
        if requests.is_empty() {
            return Ok(());
        }
        let answers = create_partitions(self.admin.inner(), &requests, self.timeout)
            .map_err(|f| self.admin_error(operation, f, started))?;
        let mut refused: Vec<(String, AdminFailure)> = answers
            .into_iter()
            .filter_map(|(topic, answer)| answer.err().map(|f| (topic, f)))
            .collect();
        // A repeated call (an apply run again) finds the total already there: Kafka refuses it
        // as INVALID_PARTITIONS, but the topic is as asked, so that is not a failure.
        let repeated: Vec<String> = refused
            .iter()
            .filter(|(_, f)| f.code == RDKafkaErrorCode::InvalidPartitions)
            .map(|(topic, _)| topic.clone())
            .collect();
        if !repeated.is_empty()
            && let Ok(described) = describe_topics(self.admin.inner(), &repeated, self.timeout)
        {
            let already: Vec<String> = described
                .into_iter()
                .filter_map(|(topic, answer)| {
                    let partitions = answer.ok()?;
                    let total = usize::try_from(*topic_totals.get(&topic)?).ok()?;
                    (partitions.len() == total).then_some(topic)
                })
                .collect();
            refused.retain(|(topic, _)| !already.contains(topic));
        }
        if let Some((_, first)) = refused.first() {
            let detail = refused
                .iter()
                .map(|(topic, f)| format!("topic {topic}: {}", f.message))
                .collect::<Vec<_>>()
                .join("; ");
            return Err(self.error(operation, first.code, detail, started));
        }
        let expected = requests
            .iter()
            .map(|&(topic, total)| (topic.to_string(), Some(total)))
            .collect();
        self.wait_for_partitions(&expected, "Metadata of the added partitions")
    }

    fn commit_group_offsets(
        &self,
        group: &str,
        offsets: &PartitionOffsets,
    ) -> Result<(), ClusterError> {
        let started = Instant::now();
        if offsets.values().all(BTreeMap::is_empty) {
            return Ok(());
        }
        let consumer = self.group_consumer(group)?;
        let refused = commit_offsets(&consumer, offsets, self.timeout)
            .map_err(|f| self.commit_error(group, f.code, f.message, started))?;
        let Some((_, _, first)) = refused.first() else {
            return Ok(());
        };
        let code = first.code;
        let detail = refused
            .iter()
            .map(|(topic, partition, f)| format!("{topic}[{partition}]: {}", f.message))
            .collect::<Vec<_>>()
            .join("; ");
        Err(self.commit_error(group, code, detail, started))
    }

    fn group_members(&self, group: &str) -> Result<Vec<String>, ClusterError> {
        self.describe_members(group)
    }

    /// Describes the group (one DescribeGroups request): Kafka reports its live members, none
    /// for a group that only has committed offsets. A broker that cannot describe groups (it
    /// drops the connection on DescribeGroups or does not support it) gives
    /// [`GroupActivity::Unknown`], not an error.
    fn group_activity(&self, group: &str) -> Result<GroupActivity, ClusterError> {
        let operation = "DescribeGroups";
        let started = Instant::now();
        let groups = [group.to_string()];
        let unknown = |f: &AdminFailure| GroupActivity::Unknown {
            reason: if f.code == RDKafkaErrorCode::BrokerTransportFailure {
                format!(
                    "the {} cluster dropped the connection when asked to describe group {group} \
                     ({})",
                    self.role, f.message
                )
            } else {
                format!(
                    "the {} cluster cannot describe group {group} ({})",
                    self.role, f.message
                )
            },
        };
        let answer = match describe_consumer_groups(self.consumer.client(), &groups, self.timeout) {
            Ok(mut described) => described.pop().unwrap_or_else(|| {
                Err(AdminFailure {
                    code: RDKafkaErrorCode::Fail,
                    message: format!("no description of group {group} in the answer"),
                })
            }),
            Err(f) => Err(f),
        };
        match answer {
            Ok((state, members)) => {
                tracing::debug!(role = %self.role, group, state, members = members.len(), "described group");
                Ok(GroupActivity::Members(members.len()))
            }
            // DescribeGroups v6 (Kafka 4) answers this for a group that does not exist; older
            // brokers describe it as Dead with no members.
            Err(f) if f.code == RDKafkaErrorCode::GroupIdNotFound => Ok(GroupActivity::Members(0)),
            // The group's coordinator is still starting (a cluster's first group creates
            // __consumer_offsets): nobody can be a member yet, and the wait asks again.
            Err(f) if coordinator_not_ready(f.code) => {
                tracing::debug!(role = %self.role, group, failure = ?f, "group coordinator not ready");
                Ok(GroupActivity::Members(0))
            }
            Err(f) if undescribable(f.code) => {
                tracing::debug!(role = %self.role, group, failure = ?f, "group not described");
                Ok(unknown(&f))
            }
            Err(f) => {
                let failure = AdminFailure {
                    message: format!("group {group}: {} ({})", f.message, f.code),
                    ..f
                };
                Err(self.admin_error(operation, failure, started))
            }
        }
    }
}

impl RdKafkaCluster {
    /// The members of `group` (`client.id@host`), from one DescribeGroups request; empty when
    /// the broker does not describe it.
    pub fn describe_members(&self, group: &str) -> Result<Vec<String>, ClusterError> {
        let groups = [group.to_string()];
        match describe_consumer_groups(self.consumer.client(), &groups, self.timeout) {
            Ok(mut described) => Ok(match described.pop() {
                Some(Ok((_, members))) => members,
                _ => Vec::new(),
            }),
            Err(_) => Ok(Vec::new()),
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

/// Of the `missing` topics, those whose description does not yet show the `expected`
/// partitions (with leaders), each with what it lacks. `Err` for a topic the broker will not
/// describe for a reason other than not knowing it yet.
fn lacking_partitions(
    expected: &BTreeMap<String, Option<usize>>,
    missing: &[String],
    described: DescribedTopics,
) -> Result<BTreeMap<String, String>, (String, AdminFailure)> {
    use RDKafkaErrorCode as C;
    let mut described: BTreeMap<String, _> = described.into_iter().collect();
    let mut lacking = BTreeMap::new();
    for topic in missing {
        let want = expected.get(topic).copied().flatten();
        let why = match described.remove(topic) {
            None => Some("not described yet".to_string()),
            Some(Err(f))
                if matches!(
                    f.code,
                    C::UnknownTopicOrPartition | C::UnknownTopic | C::LeaderNotAvailable
                ) =>
            {
                Some(format!("not known yet ({})", f.code))
            }
            Some(Err(f)) => return Err((topic.clone(), f)),
            Some(Ok(partitions)) => {
                let led = partitions.iter().filter(|(_, leader)| *leader >= 0).count();
                match want {
                    Some(want) if led < want => Some(format!("{led} of {want} partitions")),
                    None if partitions.is_empty() || led < partitions.len() => {
                        Some(format!("{led} of {} partitions", partitions.len()))
                    }
                    _ => None,
                }
            }
        };
        if let Some(why) = why {
            lacking.insert(topic.clone(), why);
        }
    }
    Ok(lacking)
}

/// What the broker refused of an IncrementalAlterConfigs request: each refused topic with the
/// keys ferry tried to set on it and the broker's reason.
fn config_refusals(
    changes: &BTreeMap<String, BTreeMap<String, String>>,
    refused: &[(String, AdminFailure)],
) -> String {
    refused
        .iter()
        .map(|(topic, f)| {
            let keys: Vec<&str> = changes
                .get(topic)
                .map(|keys| keys.keys().map(String::as_str).collect())
                .unwrap_or_default();
            format!("topic {topic} (setting {}): {}", keys.join(", "), f.message)
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Codes a broker answers a commit from outside the group's generation with while the group
/// has members: UNKNOWN_MEMBER_ID (a stable group), REBALANCE_IN_PROGRESS (a group assigning
/// partitions), ILLEGAL_GENERATION.
fn refused_for_active_members(code: RDKafkaErrorCode) -> bool {
    use RDKafkaErrorCode as C;
    matches!(
        code,
        C::UnknownMemberId | C::RebalanceInProgress | C::IllegalGeneration
    )
}

/// DescribeGroups failures of a group coordinator that is not serving yet (loading
/// `__consumer_offsets`, not elected, or moved).
fn coordinator_not_ready(code: RDKafkaErrorCode) -> bool {
    use RDKafkaErrorCode as C;
    matches!(
        code,
        C::CoordinatorLoadInProgress | C::CoordinatorNotAvailable | C::NotCoordinator
    )
}

/// DescribeGroups failures that mean "this broker cannot tell", not "something is wrong": a
/// broker without the capability, which drops the connection on DescribeGroups or does not
/// support the request.
fn undescribable(code: RDKafkaErrorCode) -> bool {
    use RDKafkaErrorCode as C;
    matches!(
        code,
        C::BrokerTransportFailure | C::UnsupportedVersion | C::UnsupportedFeature
    )
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

/// Partition-level answers that Kafka marks retriable while leadership moves.
fn is_retriable_partition_error(code: RDKafkaErrorCode) -> bool {
    use RDKafkaErrorCode as C;
    matches!(
        code,
        C::NotLeaderForPartition
            | C::LeaderNotAvailable
            | C::OffsetNotAvailable
            | C::UnknownLeaderEpoch
            | C::FencedLeaderEpoch
    )
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

    /// Kafka answers -1 for a timestamp after the last record (librdkafka: `Offset::End`), and
    /// ferry then asks for the end offset; end to end in `tests/cluster_access.rs`, the split
    /// itself here.
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

    fn failure(code: RDKafkaErrorCode) -> AdminFailure {
        AdminFailure {
            code,
            message: code.to_string(),
        }
    }

    /// The metadata wait after CreateTopics/CreatePartitions: a topic counts once it shows the
    /// expected partitions, every one with a leader; "not known yet" keeps waiting, other
    /// refusals end the wait.
    #[test]
    fn lacking_partitions_waits_for_every_partition_with_a_leader() {
        use RDKafkaErrorCode as C;
        let expected = BTreeMap::from([
            ("done".to_string(), Some(2)),
            ("growing".to_string(), Some(4)),
            ("leaderless".to_string(), Some(2)),
            ("unknown".to_string(), Some(1)),
            ("any".to_string(), None),
            ("unanswered".to_string(), Some(1)),
        ]);
        let missing: Vec<String> = expected.keys().cloned().collect();
        let described = vec![
            ("done".to_string(), Ok(vec![(0, 1), (1, 1)])),
            ("growing".to_string(), Ok(vec![(0, 1), (1, 1)])),
            ("leaderless".to_string(), Ok(vec![(0, 1), (1, -1)])),
            (
                "unknown".to_string(),
                Err(failure(C::UnknownTopicOrPartition)),
            ),
            ("any".to_string(), Ok(vec![(0, 1)])),
        ];
        let lacking = lacking_partitions(&expected, &missing, described).unwrap();
        assert_eq!(
            lacking.keys().map(String::as_str).collect::<Vec<_>>(),
            ["growing", "leaderless", "unanswered", "unknown"]
        );
        assert_eq!(lacking["growing"], "2 of 4 partitions");
        assert_eq!(lacking["leaderless"], "1 of 2 partitions");

        let refused = vec![(
            "done".to_string(),
            Err(failure(C::TopicAuthorizationFailed)),
        )];
        let (topic, f) = lacking_partitions(&expected, &["done".to_string()], refused).unwrap_err();
        assert_eq!(
            (topic.as_str(), f.code),
            ("done", C::TopicAuthorizationFailed)
        );
    }

    /// The message for the topics a broker refused in an IncrementalAlterConfigs answer (Kafka
    /// refuses an invalid value with INVALID_CONFIG): each topic with the keys ferry tried.
    #[test]
    fn config_refusals_name_the_topic_and_keys() {
        let changes = BTreeMap::from([
            (
                "orders".to_string(),
                BTreeMap::from([
                    ("retention.ms".to_string(), "abc".to_string()),
                    ("cleanup.policy".to_string(), "delete".to_string()),
                ]),
            ),
            ("ok".to_string(), BTreeMap::new()),
        ]);
        let refused = [(
            "orders".to_string(),
            AdminFailure {
                code: RDKafkaErrorCode::InvalidConfig,
                message: "Invalid value abc for configuration retention.ms".to_string(),
            },
        )];
        assert_eq!(
            config_refusals(&changes, &refused),
            "topic orders (setting cleanup.policy, retention.ms): Invalid value abc for \
             configuration retention.ms"
        );
    }

    /// Kafka's answers to a commit from outside the generation of a group with members.
    #[test]
    fn commits_refused_for_active_members_are_recognised() {
        use RDKafkaErrorCode as C;
        for code in [
            C::UnknownMemberId,
            C::RebalanceInProgress,
            C::IllegalGeneration,
        ] {
            assert!(refused_for_active_members(code), "{code:?}");
        }
        for code in [
            C::GroupAuthorizationFailed,
            C::UnknownTopicOrPartition,
            C::OperationTimedOut,
        ] {
            assert!(!refused_for_active_members(code), "{code:?}");
        }
        assert!(undescribable(C::BrokerTransportFailure));
        assert!(!undescribable(C::GroupAuthorizationFailed));
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
