//! What librdkafka tells a cluster's clients outside of request results: log lines (routed into
//! `tracing` by [`kafka_log`]), global errors (routed the same way, and kept for precise error
//! messages) and statistics (kept for request accounting).

use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rdkafka::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::ConsumerContext;
use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaErrorCode;

use super::broker_failures::BrokerFailures;
use super::kafka_log;

/// The two clients of one cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum ClientKind {
    Admin = 0,
    Consumer = 1,
}

/// Request counts and broker states from one statistics event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct ClientStats {
    /// Broker name -> request type (librdkafka's name, e.g. "Metadata", "ListOffsets") ->
    /// requests sent. Zero counts are left out.
    pub requests: BTreeMap<String, BTreeMap<String, u64>>,
    /// Brokers (not librdkafka's internal one) whose connection is up.
    pub brokers_up: usize,
}

impl ClientStats {
    /// Reads librdkafka's statistics JSON (`brokers.*.req`, `brokers.*.state`).
    pub fn parse(json: &str) -> Option<ClientStats> {
        let value: serde_json::Value = serde_json::from_str(json).ok()?;
        let mut stats = ClientStats::default();
        for (name, broker) in value.get("brokers")?.as_object()? {
            if broker.get("source").and_then(|s| s.as_str()) == Some("internal") {
                continue;
            }
            if broker.get("state").and_then(|s| s.as_str()) == Some("UP") {
                stats.brokers_up += 1;
            }
            let Some(reqs) = broker.get("req").and_then(|r| r.as_object()) else {
                continue;
            };
            let sent: BTreeMap<String, u64> = reqs
                .iter()
                .filter_map(|(kind, count)| Some((kind.clone(), count.as_u64()?)))
                .filter(|(_, count)| *count > 0)
                .collect();
            if !sent.is_empty() {
                stats.requests.insert(name.clone(), sent);
            }
        }
        Some(stats)
    }
}

/// A global error librdkafka reported (e.g. all brokers down, authentication failed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct GlobalError {
    pub code: RDKafkaErrorCode,
    pub reason: String,
    pub at: Instant,
}

#[derive(Default)]
struct Recorded {
    last_error: Option<GlobalError>,
    /// The latest error other than "all brokers down", which says why they are down.
    last_cause: Option<GlobalError>,
    /// Brokers up, from each client's latest statistics.
    brokers_up: [Option<usize>; 2],
    /// Requests per client and broker, from the latest statistics that listed that broker.
    /// Kept when a broker leaves the statistics (librdkafka drops its bootstrap connections once
    /// it knows the real brokers), so the counts never go down.
    requests: BTreeMap<(ClientKind, String), BTreeMap<String, u64>>,
    /// Statistics events received so far, per client.
    stats_seen: [u64; 2],
    /// The latest failure of each bootstrap server, from errors and `FAIL` log lines.
    brokers: BrokerFailures,
}

/// Shared by both clients of a cluster and by the thread that serves their main queues.
#[derive(Default)]
pub(super) struct Recorder {
    recorded: Mutex<Recorded>,
    stats_arrived: Condvar,
}

impl Recorder {
    fn lock(&self) -> MutexGuard<'_, Recorded> {
        self.recorded.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A log line of a client of cluster `role`, at syslog `level`: traced by [`kafka_log`]
    /// (a `FAIL` line is also kept for [`Recorder::none_can_answer`]).
    pub fn log(&self, role: &str, level: i32, facility: &str, message: &str) {
        kafka_log::log_as(role, kafka_log::level_from_syslog(level), facility, message);
        if facility == "FAIL" {
            self.lock().brokers.log(facility, message);
        }
    }

    /// A global error of a client of cluster `role`: traced by [`kafka_log`], and kept for
    /// [`Recorder::error_since`].
    pub fn error(&self, role: &str, code: RDKafkaErrorCode, reason: &str) {
        kafka_log::error_as(role, &KafkaError::Global(code), reason);
        let error = GlobalError {
            code,
            reason: reason.to_string(),
            at: Instant::now(),
        };
        let mut recorded = self.lock();
        recorded.brokers.error(code, reason);
        if code != RDKafkaErrorCode::AllBrokersDown {
            recorded.last_cause = Some(error.clone());
        }
        recorded.last_error = Some(error);
    }

    pub fn stats(&self, client: ClientKind, json: &str) {
        let Some(stats) = ClientStats::parse(json) else {
            tracing::debug!(target: kafka_log::TARGET, "unreadable statistics JSON");
            return;
        };
        let mut recorded = self.lock();
        recorded.brokers_up[client as usize] = Some(stats.brokers_up);
        for (broker, sent) in stats.requests {
            recorded.requests.insert((client, broker), sent);
        }
        recorded.stats_seen[client as usize] += 1;
        drop(recorded);
        self.stats_arrived.notify_all();
    }

    /// The latest global error, if it was reported at or after `since`. For "all brokers
    /// down" it is the latest other error since then, which says why (librdkafka's own "N/M
    /// brokers are down" says little, and is often off by one after it re-bootstraps).
    pub fn error_since(&self, since: Instant) -> Option<GlobalError> {
        let recorded = self.lock();
        let error = recorded.last_error.as_ref().filter(|e| e.at >= since)?;
        let cause = recorded.last_cause.as_ref().filter(|c| c.at >= since);
        match cause {
            Some(cause) if error.code == RDKafkaErrorCode::AllBrokersDown => Some(cause.clone()),
            _ => Some(error.clone()),
        }
    }

    /// When every server of `servers` last refused the connection or does not resolve: what
    /// each answered (see [`BrokerFailures::none_can_answer`]).
    pub fn none_can_answer(&self, servers: &str) -> Option<String> {
        self.lock().brokers.none_can_answer(servers)
    }

    /// "no broker answered within Ns", with the servers that refused or do not resolve.
    pub fn no_answer(&self, servers: &str, seconds: u64) -> String {
        self.lock().brokers.no_answer(servers, seconds)
    }

    /// Brokers up according to the latest statistics of either client (`None` before the first).
    pub fn brokers_up(&self) -> Option<usize> {
        let recorded = self.lock();
        recorded.brokers_up.iter().flatten().copied().max()
    }

    /// Statistics events received so far, per client.
    pub fn stats_seen(&self) -> [u64; 2] {
        self.lock().stats_seen
    }

    /// Request counts summed over both clients, once each client has delivered `after[i] + 2`
    /// statistics events or `deadline` has passed (then the latest ones are used). Two new events
    /// rather than one: the first may have been produced just before the caller's requests.
    pub fn requests_after(&self, after: [u64; 2], deadline: Instant) -> BTreeMap<String, u64> {
        let mut recorded = self.lock();
        while recorded
            .stats_seen
            .iter()
            .zip(after)
            .any(|(seen, before)| *seen < before + 2)
        {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                tracing::debug!(
                    "request counts: statistics did not arrive in time, using the latest"
                );
                break;
            }
            recorded = self
                .stats_arrived
                .wait_timeout(recorded, left.min(Duration::from_millis(50)))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        let mut total = BTreeMap::new();
        for sent in recorded.requests.values() {
            for (kind, count) in sent {
                *total.entry(kind.clone()).or_default() += count;
            }
        }
        total
    }
}

/// The rdkafka context of one client. rdkafka calls it only when it serves a queue itself;
/// ferry serves the main queues in its own thread and calls the [`Recorder`] directly, so both
/// paths end up in the same place.
pub(super) struct ClusterContext {
    pub role: String,
    pub client: ClientKind,
    pub recorder: Arc<Recorder>,
}

impl ClientContext for ClusterContext {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, log_message: &str) {
        self.recorder
            .log(&self.role, level as i32, fac, log_message);
    }

    fn stats_raw(&self, statistics: &[u8]) {
        if let Ok(json) = std::str::from_utf8(statistics) {
            self.recorder.stats(self.client, json);
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        let code = kafka_log::code_of(&error).unwrap_or(RDKafkaErrorCode::Fail);
        self.recorder.error(&self.role, code, reason);
    }
}

impl ConsumerContext for ClusterContext {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_sum_requests_over_brokers_and_skip_internal() {
        let json = r#"{
          "brokers": {
            "GroupCoordinator": {"source": "logical", "state": "UP", "req": {"OffsetFetch": 2, "Produce": 0}},
            "127.0.0.1:9092/1": {"source": "learned", "state": "UP", "req": {"Metadata": 3, "OffsetFetch": 1}},
            "127.0.0.1:9092/bootstrap": {"source": "configured", "state": "INIT", "req": {"Metadata": 1, "ApiVersion": 1}},
            ":0/internal": {"source": "internal", "state": "UP", "req": {"Metadata": 7}}
          }
        }"#;
        let stats = ClientStats::parse(json).unwrap();
        let recorder = Recorder::default();
        recorder.stats(ClientKind::Consumer, json);
        let summed = recorder.requests_after([0, 0], Instant::now());
        let expected: BTreeMap<String, u64> =
            [("ApiVersion", 1), ("Metadata", 4), ("OffsetFetch", 3)]
                .map(|(k, v)| (k.to_string(), v))
                .into();
        assert_eq!(summed, expected);
        assert_eq!(stats.brokers_up, 2);
        assert_eq!(stats.requests.len(), 3, "per broker, internal left out");
    }

    #[test]
    fn counts_of_a_broker_that_left_the_statistics_are_kept() {
        let recorder = Recorder::default();
        recorder.stats(
            ClientKind::Admin,
            r#"{"brokers": {"b/bootstrap": {"state": "UP", "req": {"Metadata": 1}}}}"#,
        );
        recorder.stats(
            ClientKind::Admin,
            r#"{"brokers": {"b/1": {"state": "UP", "req": {"Metadata": 1, "DescribeConfigs": 1}}}}"#,
        );
        let counts = recorder.requests_after([0, 0], Instant::now());
        assert_eq!(counts.get("Metadata"), Some(&2));
        assert_eq!(recorder.brokers_up(), Some(1));
    }

    #[test]
    fn all_brokers_down_comes_with_its_cause() {
        let recorder = Recorder::default();
        let since = Instant::now();
        recorder.error(
            "source",
            RDKafkaErrorCode::BrokerTransportFailure,
            "b:1/bootstrap: Connection refused",
        );
        recorder.error(
            "source",
            RDKafkaErrorCode::AllBrokersDown,
            "1/1 brokers are down",
        );
        let error = recorder.error_since(since).unwrap();
        assert_eq!(error.code, RDKafkaErrorCode::BrokerTransportFailure);
        assert_eq!(error.reason, "b:1/bootstrap: Connection refused");
        assert_eq!(recorder.error_since(Instant::now()), None);
    }

    #[test]
    fn requests_after_returns_latest_when_stats_stop() {
        let recorder = Recorder::default();
        recorder.stats(
            ClientKind::Admin,
            r#"{"brokers": {"b/1": {"state": "UP", "req": {"DescribeConfigs": 1}}}}"#,
        );
        let counts = recorder.requests_after([5, 5], Instant::now() + Duration::from_millis(20));
        assert_eq!(counts.get("DescribeConfigs"), Some(&1));
    }
}
