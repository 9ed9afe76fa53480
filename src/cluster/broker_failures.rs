//! The latest failure of each bootstrap server, so that connecting gives up at once when none of
//! them can ever answer (the connection is refused, or the name does not resolve) instead of
//! waiting the whole `--timeout`, and keeps waiting while any server may still answer.
//!
//! librdkafka's "all brokers down" cannot tell these apart: it also comes when a broker that
//! accepted the connection does not answer in time, and the error before it is the latest of any
//! broker, not of each. librdkafka names every failure's broker (`host:port/bootstrap: ...`,
//! with `proto://` in front when the protocol is not plaintext), in its global errors and in its
//! `FAIL` log lines; a failure below error level (a request timed out on an accepted connection,
//! a disconnect) comes only as a log line, and replaces a refusal recorded before.

use std::collections::BTreeMap;

use rdkafka::types::RDKafkaErrorCode;

/// What kind of failure librdkafka reported for a broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FailureKind {
    /// Nothing accepted the TCP connection ("Connection refused").
    Refused,
    /// The host name does not resolve (`__RESOLVE`, "Failed to resolve ...").
    Unresolvable,
    /// Anything else: a broker that may still answer, or an error that says more by itself.
    Other,
}

impl FailureKind {
    /// The kind of a failure with librdkafka's error `code` (`None` for a log line) and text.
    pub fn of(code: Option<RDKafkaErrorCode>, reason: &str) -> FailureKind {
        use RDKafkaErrorCode as C;
        match code {
            Some(C::Resolve) => FailureKind::Unresolvable,
            Some(C::BrokerTransportFailure) | None if reason.contains("Failed to resolve") => {
                FailureKind::Unresolvable
            }
            Some(C::BrokerTransportFailure) | None if reason.contains("Connection refused") => {
                FailureKind::Refused
            }
            _ => FailureKind::Other,
        }
    }
}

/// One broker's latest failure: its kind and librdkafka's text without the broker's name and
/// the "(after Nms in state S, ...)" suffix.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Failure {
    kind: FailureKind,
    reason: String,
}

/// The latest failure of each bootstrap broker librdkafka reported, by lowercase `host:port`.
#[derive(Debug, Default)]
pub(super) struct BrokerFailures {
    latest: BTreeMap<String, Failure>,
}

impl BrokerFailures {
    /// A global error of librdkafka; errors that name no bootstrap broker are left out.
    pub fn error(&mut self, code: RDKafkaErrorCode, reason: &str) {
        self.record(Some(code), reason);
    }

    /// A log line of librdkafka; only `FAIL` lines count.
    pub fn log(&mut self, facility: &str, message: &str) {
        if facility == "FAIL" {
            self.record(None, message);
        }
    }

    fn record(&mut self, code: Option<RDKafkaErrorCode>, text: &str) {
        let Some((server, reason)) = bootstrap_failure(text) else {
            return;
        };
        let failure = Failure {
            kind: FailureKind::of(code, reason),
            reason: without_suffix(reason).to_string(),
        };
        self.latest.insert(server, failure);
    }

    /// When every server of `servers` (bootstrap.servers, comma-separated) last failed because
    /// the connection was refused or its name does not resolve: what each answered, for
    /// [`super::ClusterError::Unreachable`]. `None` while any server may still answer.
    pub fn none_can_answer(&self, servers: &str) -> Option<String> {
        let servers = configured(servers);
        if servers.is_empty() {
            return None;
        }
        let mut parts = Vec::new();
        for server in &servers {
            let failure = self.latest.get(&server.to_lowercase())?;
            parts.push(describe(server, failure)?);
        }
        Some(format!(
            "{}; no broker can answer there, so ferry did not wait for --timeout. Each host:port \
             must be one the brokers listen on (their listeners and advertised.listeners)",
            parts.join("; ")
        ))
    }

    /// What to say when no broker answered within `seconds`: that, and which servers refused
    /// the connection or do not resolve, if any did.
    pub fn no_answer(&self, servers: &str, seconds: u64) -> String {
        let known: Vec<String> = configured(servers)
            .iter()
            .filter_map(|s| describe(s, self.latest.get(&s.to_lowercase())?))
            .collect();
        let mut detail = format!("no broker answered within {seconds}s");
        for part in known {
            detail.push_str("; ");
            detail.push_str(&part);
        }
        detail
    }
}

/// The configured servers, each once, in order: elements may hold several, comma-separated.
fn configured(servers: &str) -> Vec<&str> {
    let mut seen = Vec::<&str>::new();
    for server in servers.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if !seen.iter().any(|s| s.eq_ignore_ascii_case(server)) {
            seen.push(server);
        }
    }
    seen
}

/// "127.0.0.1:1 refused the connection (...)" for a refusal or a name that does not resolve.
fn describe(server: &str, failure: &Failure) -> Option<String> {
    match failure.kind {
        FailureKind::Refused => Some(format!(
            "{server} refused the connection ({})",
            failure.reason
        )),
        FailureKind::Unresolvable => {
            Some(format!("{server} does not resolve ({})", failure.reason))
        }
        FailureKind::Other => None,
    }
}

/// The bootstrap server (lowercase `host:port`) a failure text names, and the rest of the text.
/// Log lines start with "[thrd:NAME]: "; the broker name is `[proto://]host:port/bootstrap`.
fn bootstrap_failure(text: &str) -> Option<(String, &str)> {
    let text = match text.strip_prefix("[thrd:") {
        Some(rest) => rest.split_once("]: ")?.1,
        None => text,
    };
    let (name, reason) = text.split_once(": ")?;
    let name = name.rsplit_once("://").map_or(name, |(_, rest)| rest);
    let server = name.strip_suffix("/bootstrap")?;
    Some((server.to_lowercase(), reason))
}

/// `reason` without librdkafka's trailing "(after 0ms in state CONNECT, ...)".
fn without_suffix(reason: &str) -> &str {
    match reason.rfind(" (after ") {
        Some(at) if reason.ends_with(')') => &reason[..at],
        _ => reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use RDKafkaErrorCode as C;

    const REFUSED: &str = "127.0.0.1:1/bootstrap: Connect to ipv4#127.0.0.1:1 failed: Connection \
                           refused (after 0ms in state CONNECT)";
    const UNRESOLVED: &str = "no-such-host.invalid:9092/bootstrap: Failed to resolve \
                              'no-such-host.invalid:9092': Name or service not known (after 1ms \
                              in state CONNECT, 1 identical error(s) suppressed)";

    #[test]
    fn kinds() {
        let cases: &[(Option<C>, &str, FailureKind)] = &[
            (
                Some(C::BrokerTransportFailure),
                REFUSED,
                FailureKind::Refused,
            ),
            (None, REFUSED, FailureKind::Refused),
            (Some(C::Resolve), UNRESOLVED, FailureKind::Unresolvable),
            (None, UNRESOLVED, FailureKind::Unresolvable),
            (
                Some(C::BrokerTransportFailure),
                "b:1/bootstrap: Disconnected (after 5ms in state APIVERSION_QUERY)",
                FailureKind::Other,
            ),
            (
                Some(C::SSL),
                "b:1/bootstrap: SSL handshake failed",
                FailureKind::Other,
            ),
        ];
        for &(code, reason, kind) in cases {
            assert_eq!(FailureKind::of(code, reason), kind, "{reason}");
        }
    }

    #[test]
    fn every_server_refused_or_unresolvable_means_none_can_answer() {
        let mut failures = BrokerFailures::default();
        let servers = "127.0.0.1:1,No-Such-Host.invalid:9092";
        failures.error(C::BrokerTransportFailure, REFUSED);
        assert_eq!(
            failures.none_can_answer(servers),
            None,
            "one server not tried yet"
        );
        failures.error(C::AllBrokersDown, "1/1 brokers are down");
        failures.error(C::Resolve, UNRESOLVED);
        let detail = failures.none_can_answer(servers).unwrap();
        assert!(
            detail.starts_with(
                "127.0.0.1:1 refused the connection (Connect to ipv4#127.0.0.1:1 failed: \
                 Connection refused); No-Such-Host.invalid:9092 does not resolve (Failed to \
                 resolve 'no-such-host.invalid:9092': Name or service not known); no broker"
            ),
            "{detail}"
        );
        assert!(detail.contains("advertised.listeners"), "{detail}");
    }

    #[test]
    fn a_later_failure_of_another_kind_replaces_a_refusal() {
        let mut failures = BrokerFailures::default();
        failures.error(C::BrokerTransportFailure, REFUSED);
        assert!(failures.none_can_answer("127.0.0.1:1").is_some());
        failures.log(
            "FAIL",
            "[thrd:127.0.0.1:1/bootstrap]: 127.0.0.1:1/bootstrap: ApiVersionRequest failed: \
             Local: Timed out (after 10006ms in state APIVERSION_QUERY)",
        );
        assert_eq!(failures.none_can_answer("127.0.0.1:1"), None);
        assert_eq!(
            failures.no_answer("127.0.0.1:1", 3),
            "no broker answered within 3s"
        );
    }

    #[test]
    fn log_lines_and_protocol_prefixes_name_the_server() {
        let mut failures = BrokerFailures::default();
        failures.log("REQTMOUT", REFUSED);
        assert_eq!(
            failures.none_can_answer("127.0.0.1:1"),
            None,
            "not a FAIL line"
        );
        failures.log(
            "FAIL",
            "[thrd:sasl_ssl://b:9093/bootstrap]: sasl_ssl://b:9093/bootstrap: Connect to \
             ipv4#10.0.0.5:9093 failed: Connection refused (after 0ms in state CONNECT)",
        );
        let detail = failures.none_can_answer(" b:9093 , b:9093").unwrap();
        assert!(
            detail.starts_with(
                "b:9093 refused the connection (Connect to ipv4#10.0.0.5:9093 failed: \
                 Connection refused); no broker"
            ),
            "{detail}"
        );
    }

    #[test]
    fn a_silent_server_leaves_only_the_no_answer_message() {
        let mut failures = BrokerFailures::default();
        failures.error(C::BrokerTransportFailure, REFUSED);
        let servers = "127.0.0.1:45123,127.0.0.1:1";
        assert_eq!(failures.none_can_answer(servers), None);
        assert_eq!(
            failures.no_answer(servers, 3),
            "no broker answered within 3s; 127.0.0.1:1 refused the connection (Connect to \
             ipv4#127.0.0.1:1 failed: Connection refused)"
        );
        // Failures of brokers learnt from metadata, or of none, are not the servers'.
        failures.error(
            C::BrokerTransportFailure,
            "127.0.0.1:45123/1: Connection refused",
        );
        failures.error(C::AllBrokersDown, "2/2 brokers are down");
        assert_eq!(failures.none_can_answer(servers), None);
    }
}
