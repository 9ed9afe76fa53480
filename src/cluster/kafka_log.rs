//! librdkafka's log lines and global errors, routed into `tracing` (target `librdkafka`) at the
//! level they deserve for a ferry user.
//!
//! rdkafka's default context sends every line to the `log` crate at librdkafka's own level, and
//! every global error at `error`. For ferry that put noise into every copy pass:
//!
//! - `CONFWARN ... enable.gapless.guarantee is experimental`: ferry sets that property on purpose
//!   (it is what keeps the target free of gaps), so the warning tells the user nothing;
//! - `Global error: PartitionEOF`: the copy consumers ask for end-of-partition events
//!   (`enable.partition.eof`) to know when a partition is caught up, and rdkafka hands each one to
//!   the global error callback as well as to the consumer's poll;
//! - `FAIL ... Connection refused` and `BrokerTransportFailure` while a broker restarts:
//!   librdkafka reconnects by itself, and ferry's own deadlines report to the user, with the
//!   cause, when it gives up.
//!
//! So every client ferry creates uses [`KafkaLog`] as its context, or a context of its own that
//! delegates its `log` and `error` callbacks to [`log`] and [`error`]. Which tracing level a line
//! gets is decided by the pure functions [`log_level`] and [`error_level`]:
//!
//! | librdkafka says | tracing level | why |
//! |---|---|---|
//! | log, Emerg, Alert, Critical, Error | error | |
//! | log, Warning | warn | |
//! | log, Notice, Info | info | |
//! | log, Debug | debug | |
//! | log, `CONFWARN` "is experimental", "will be ignored by this ... instance" | debug | ferry sets those properties on purpose, or shares one cluster's settings between its producer and consumers |
//! | log, `CONFWARN` "is deprecated" | info | the property still works; it is the user's own, and repeating it for every client of a run helps nobody (`-v` shows it) |
//! | log, `CONFWARN` anything else (SASL settings that do not fit, backoffs) | librdkafka's level | a real configuration mistake |
//! | log, `FAIL` at Error or above | debug | librdkafka sends the same text as a global error right after (every ferry client serves its error events), which is where it is judged: no line twice |
//! | log, `FAIL` below Error, or `REQTMOUT`, with a connection drop librdkafka retries | info | a broker restart or an idle connection reaped |
//! | log, `GETPID` "...: retrying" (the idempotent producer's id, e.g. "Coordinator load in progress") | info | librdkafka retries; a fatal refusal comes as a global error |
//! | error, `PartitionEOF` (and any end-of-partition notice) | trace | not an error: the copy asked for it |
//! | error, `AllBrokersDown`, or a refused connection | warn | librdkafka keeps reconnecting and ferry waits, but the user sees which broker is gone and why the copy stands still |
//! | error, `BrokerTransportFailure` with a retried connection drop ("Disconnected", resets, time-outs) | info | an idle connection reaped or a slow connect: retried, nothing to see |
//! | error, `BrokerTransportFailure` "SaslAuthenticateRequest failed: Local: Broker transport failure" | info | the connection closed mid-handshake (a short-lived reader destroyed while its coordinator connection authenticated); no credential was refused |
//! | error, anything else (authentication, TLS, resolving, a transport failure that names a misconfiguration, fatal errors) | error | a real error: shown in a normal run |
//!
//! A connection drop counts as retried only when its text names a transient cause and no
//! misconfiguration (`security.protocol`, SSL handshake, SASL, authentication, certificates,
//! invalid response size, a name that does not resolve): those stay errors, since no retry fixes
//! them.
//!
//! ferry's default filter is `warn` (`-v`: `librdkafka=info`, `-vv`: everything), so a normal run
//! shows exactly the lines that need a user, `-v` shows connection trouble, and `-vv` (or
//! `RUST_LOG=librdkafka=debug`) shows the rest. [`client_log_level`] tells librdkafka to
//! produce only the levels that can be shown.

use std::fmt;

use rdkafka::ClientConfig;
use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::ConsumerContext;
use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaErrorCode;
use tracing::Level;

/// The tracing target of every librdkafka line.
pub const TARGET: &str = "librdkafka";

/// A client context that routes librdkafka's log lines and global errors through [`log`] and
/// [`error`]. Statistics, when someone enables them with `statistics.interval.ms`, are traced.
#[derive(Debug, Clone, Copy, Default)]
pub struct KafkaLog;

impl ClientContext for KafkaLog {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, log_message: &str) {
        log(level, fac, log_message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        self::error(&error, reason);
    }

    fn stats_raw(&self, statistics: &[u8]) {
        tracing::trace!(target: TARGET, "statistics: {}", String::from_utf8_lossy(statistics));
    }
}

impl ConsumerContext for KafkaLog {}

/// Emits `$args` at the runtime tracing level `$level` with target [`TARGET`].
macro_rules! event_at {
    ($level:expr, $($args:tt)+) => {
        match $level {
            Level::ERROR => tracing::error!(target: TARGET, $($args)+),
            Level::WARN => tracing::warn!(target: TARGET, $($args)+),
            Level::INFO => tracing::info!(target: TARGET, $($args)+),
            Level::DEBUG => tracing::debug!(target: TARGET, $($args)+),
            _ => tracing::trace!(target: TARGET, $($args)+),
        }
    };
}

/// Traces one librdkafka log line at the level [`log_level`] gives it.
pub fn log(level: RDKafkaLogLevel, facility: &str, message: &str) {
    event_at!(
        log_level(level, facility, message),
        "librdkafka: {facility} {message}"
    );
}

/// As [`log`], for a client of cluster `role` (`source`, `target`), named in the event.
pub(crate) fn log_as(role: &str, level: RDKafkaLogLevel, facility: &str, message: &str) {
    event_at!(
        log_level(level, facility, message),
        client = role,
        "librdkafka: {facility} {message}"
    );
}

/// Traces one global error of librdkafka at the level [`error_level`] gives it.
pub fn error(error: &KafkaError, reason: &str) {
    event_at!(
        error_level(code_of(error), reason),
        "librdkafka: {}",
        Shown(error, reason)
    );
}

/// As [`error`], for a client of cluster `role`, named in the event.
pub(crate) fn error_as(role: &str, error: &KafkaError, reason: &str) {
    event_at!(
        error_level(code_of(error), reason),
        client = role,
        "librdkafka: {}",
        Shown(error, reason)
    );
}

/// `error: reason`, or only the error when librdkafka gave no reason.
struct Shown<'a>(&'a KafkaError, &'a str);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.1.trim() {
            "" => write!(f, "{}", self.0),
            reason => write!(f, "{}: {reason}", self.0),
        }
    }
}

/// The librdkafka error code of `error`; end-of-partition notices count as `PartitionEOF`.
pub(crate) fn code_of(error: &KafkaError) -> Option<RDKafkaErrorCode> {
    match error {
        KafkaError::PartitionEOF(_) => Some(RDKafkaErrorCode::PartitionEOF),
        other => other.rdkafka_error_code(),
    }
}

/// The tracing level of a librdkafka log line (see the module's table).
pub fn log_level(level: RDKafkaLogLevel, facility: &str, message: &str) -> Level {
    let base = match level {
        RDKafkaLogLevel::Emerg
        | RDKafkaLogLevel::Alert
        | RDKafkaLogLevel::Critical
        | RDKafkaLogLevel::Error => Level::ERROR,
        RDKafkaLogLevel::Warning => Level::WARN,
        RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info => Level::INFO,
        RDKafkaLogLevel::Debug => Level::DEBUG,
    };
    let at_most = |quieter: Level| base.max(quieter);
    match facility {
        "CONFWARN" if harmless_config_warning(message) => at_most(Level::DEBUG),
        "CONFWARN" if message.contains(" is deprecated") => at_most(Level::INFO),
        // Every FAIL line at Error or above is followed by a global error with the same text.
        "FAIL" if base == Level::ERROR => at_most(Level::DEBUG),
        "FAIL" | "REQTMOUT" if retried_connection_trouble(message) => at_most(Level::INFO),
        // The idempotent producer's id, refused for now (a coordinator still loading on a
        // fresh or restarted broker): librdkafka says it retries; fatal refusals come as
        // global errors.
        "GETPID" if message.trim_end().ends_with(": retrying") => at_most(Level::INFO),
        _ => base,
    }
}

/// The tracing level of a global error librdkafka reported with `code` (`None`: an error that
/// carries no librdkafka code) and `reason` (see the module's table).
pub fn error_level(code: Option<RDKafkaErrorCode>, reason: &str) -> Level {
    match code {
        Some(RDKafkaErrorCode::PartitionEOF) => Level::TRACE,
        // A broker lost mid-run: librdkafka reconnects and ferry waits, but the user should
        // see why the copy stands still (it names the broker).
        Some(RDKafkaErrorCode::AllBrokersDown) => Level::WARN,
        Some(RDKafkaErrorCode::BrokerTransportFailure)
            if retried_connection_trouble(reason) && reason.to_lowercase().contains("refused") =>
        {
            Level::WARN
        }
        // Idle connections the broker closed, resets, slow connects: retried, nothing to see.
        Some(RDKafkaErrorCode::BrokerTransportFailure) if retried_connection_trouble(reason) => {
            Level::INFO
        }
        // The connection went away in the middle of the SASL exchange (a short-lived client
        // destroyed while its coordinator connection authenticated, or a broker restarting):
        // no credential was judged; a refusal says so in words of its own.
        Some(RDKafkaErrorCode::BrokerTransportFailure)
            if reason
                .contains("SaslAuthenticateRequest failed: Local: Broker transport failure") =>
        {
            Level::INFO
        }
        _ => Level::ERROR,
    }
}

/// A configuration warning about a property that does what ferry asked for anyway.
fn harmless_config_warning(message: &str) -> bool {
    let experimental = message.contains(" is experimental") && !message.contains("deprecated");
    experimental || message.contains(" will be ignored by this ")
}

/// A dropped or refused connection that librdkafka retries by itself, and that names no
/// misconfiguration a retry cannot fix.
fn retried_connection_trouble(text: &str) -> bool {
    const TRANSIENT: &[&str] = &[
        "connection refused",
        "connection reset",
        "disconnected",
        "broken pipe",
        "timed out",
        "no route to host",
        "network is unreachable",
        "brokers are down",
    ];
    const MISCONFIGURED: &[&str] = &[
        "security.protocol",
        "ssl handshake",
        "ssl error",
        "sasl",
        "authenticat",
        "certificate",
        "invalid response size",
        "resolve",
    ];
    // Broker names carry the protocol ("sasl_ssl://host:9093/1"), which names no mistake.
    let mut text = text.to_lowercase();
    for protocol in ["sasl_ssl://", "sasl_plaintext://", "ssl://", "plaintext://"] {
        text = text.replace(protocol, "");
    }
    TRANSIENT.iter().any(|t| text.contains(t)) && !MISCONFIGURED.iter().any(|m| text.contains(m))
}

/// The librdkafka log level of a syslog level number, as rdkafka maps it.
pub(crate) fn level_from_syslog(level: i32) -> RDKafkaLogLevel {
    match level {
        i32::MIN..=0 => RDKafkaLogLevel::Emerg,
        1 => RDKafkaLogLevel::Alert,
        2 => RDKafkaLogLevel::Critical,
        3 => RDKafkaLogLevel::Error,
        4 => RDKafkaLogLevel::Warning,
        5 => RDKafkaLogLevel::Notice,
        6 => RDKafkaLogLevel::Info,
        _ => RDKafkaLogLevel::Debug,
    }
}

/// The most verbose librdkafka level whose lines the current subscriber can show: librdkafka
/// does not render the others.
pub fn client_log_level() -> RDKafkaLogLevel {
    if tracing::enabled!(target: TARGET, Level::DEBUG) {
        RDKafkaLogLevel::Debug
    } else if tracing::enabled!(target: TARGET, Level::INFO) {
        RDKafkaLogLevel::Info
    } else if tracing::enabled!(target: TARGET, Level::WARN) {
        RDKafkaLogLevel::Warning
    } else {
        RDKafkaLogLevel::Error
    }
}

/// Sets `config`'s librdkafka log level to [`client_log_level`].
pub fn set_log_level(config: &mut ClientConfig) -> &mut ClientConfig {
    config.set_log_level(client_log_level())
}

#[cfg(test)]
mod tests {
    use super::*;

    use RDKafkaLogLevel as L;

    #[test]
    fn log_levels() {
        let cases: &[(RDKafkaLogLevel, &str, &str, Level)] = &[
            // librdkafka's own levels.
            (L::Emerg, "X", "m", Level::ERROR),
            (L::Alert, "X", "m", Level::ERROR),
            (L::Critical, "X", "m", Level::ERROR),
            (L::Error, "X", "m", Level::ERROR),
            (L::Warning, "X", "m", Level::WARN),
            (L::Notice, "X", "m", Level::INFO),
            (L::Info, "X", "m", Level::INFO),
            (L::Debug, "X", "m", Level::DEBUG),
            // Configuration warnings ferry causes on purpose.
            (
                L::Warning,
                "CONFWARN",
                "[thrd:app]: Configuration property enable.gapless.guarantee is experimental: \
                 When set to `true`, any error that could result in a gap in the produced \
                 message series when a batch of messages fails, will raise a fatal error",
                Level::DEBUG,
            ),
            (
                L::Warning,
                "CONFWARN",
                "[thrd:app]: Configuration property fetch.max.bytes is a consumer property and \
                 will be ignored by this producer instance",
                Level::DEBUG,
            ),
            (
                L::Warning,
                "CONFWARN",
                "[thrd:app]: Configuration property linger.ms is a producer property and will be \
                 ignored by this consumer instance",
                Level::DEBUG,
            ),
            (
                L::Warning,
                "CONFWARN",
                "[thrd:app]: Configuration property queuing.strategy is deprecated and \
                 experimental: Producer queuing strategy.",
                Level::INFO,
            ),
            (
                L::Warning,
                "CONFWARN",
                "[thrd:app]: Configuration property api.version.request is deprecated: ...",
                Level::INFO,
            ),
            // Configuration warnings that name a real mistake.
            (
                L::Warning,
                "CONFWARN",
                "[thrd:app]: Configuration property `sasl.mechanism` set to `PLAIN` but \
                 `security.protocol` is not configured for SASL: recommend setting \
                 `security.protocol` to SASL_SSL or SASL_PLAINTEXT",
                Level::WARN,
            ),
            (
                L::Notice,
                "CONFWARN",
                "[thrd:app]: No `bootstrap.servers` configured: client will not be able to \
                 connect to Kafka cluster",
                Level::INFO,
            ),
            // A connection failure at Error comes back as a global error: judged there.
            (
                L::Error,
                "FAIL",
                "127.0.0.1:9092/1: Connect to ipv4#127.0.0.1:9092 failed: Connection refused \
                 (after 0ms in state CONNECT)",
                Level::DEBUG,
            ),
            (
                L::Error,
                "FAIL",
                "sasl_ssl://b:9093/bootstrap: SASL authentication error: Authentication failed",
                Level::DEBUG,
            ),
            // Disconnects below Error (no global error follows).
            (
                L::Warning,
                "FAIL",
                "127.0.0.1:9092/1: Disconnected (after 5012ms in state UP, 1 identical \
                 error(s) suppressed)",
                Level::INFO,
            ),
            (
                L::Info,
                "FAIL",
                "[thrd:sasl_ssl://b:9093/1]: sasl_ssl://b:9093/1: Disconnected (after 60001ms in \
                 state UP)",
                Level::INFO,
            ),
            (
                L::Warning,
                "FAIL",
                "127.0.0.1:9092/bootstrap: Disconnected while requesting ApiVersion: might be \
                 caused by incorrect security.protocol configuration",
                Level::WARN,
            ),
            (
                L::Warning,
                "REQTMOUT",
                "127.0.0.1:9092/1: Timed out 1 in-flight, 0 retry-queued, 0 out-queue, 0 \
                 partially-sent requests",
                Level::INFO,
            ),
            // The producer id, not yet available on a fresh broker.
            (
                L::Warning,
                "GETPID",
                "[thrd:main]: Failed to acquire idempotence PID from broker 127.0.0.1:33273/1: \
                 Broker: Coordinator load in progress: retrying",
                Level::INFO,
            ),
            (
                L::Warning,
                "GETPID",
                "[thrd:main]: something else about the producer id",
                Level::WARN,
            ),
            // Debug lines stay debug whatever they say.
            (L::Debug, "FAIL", "b:1/1: Connection refused", Level::DEBUG),
            (L::Debug, "CONFWARN", "x is experimental: y", Level::DEBUG),
            // Anything else keeps librdkafka's level.
            (
                L::Error,
                "GAPLESS",
                "Fatal: gapless guarantee broken",
                Level::ERROR,
            ),
            (
                L::Warning,
                "SESSTMOUT",
                "Consumer group session timed out",
                Level::WARN,
            ),
        ];
        for (level, facility, message, expected) in cases {
            assert_eq!(
                log_level(*level, facility, message),
                *expected,
                "{level:?} {facility} {message}"
            );
        }
    }

    #[test]
    fn error_levels() {
        use RDKafkaErrorCode as C;
        let cases: &[(Option<RDKafkaErrorCode>, &str, Level)] = &[
            (
                Some(C::PartitionEOF),
                "Fetch from broker 1 reached end of partition at offset 5 (HighwaterMark 5)",
                Level::TRACE,
            ),
            (Some(C::AllBrokersDown), "1/1 brokers are down", Level::WARN),
            (
                Some(C::BrokerTransportFailure),
                "127.0.0.1:9092/1: Connect to ipv4#127.0.0.1:9092 failed: Connection refused \
                 (after 0ms in state CONNECT)",
                Level::WARN,
            ),
            (
                Some(C::BrokerTransportFailure),
                "sasl_ssl://ckafka-abc.tencentcloudmq.com:50000/1: Disconnected (after 300012ms \
                 in state UP)",
                Level::INFO,
            ),
            (
                Some(C::BrokerTransportFailure),
                "127.0.0.1:9092/1: Connection setup timed out in state CONNECT (after 30029ms in \
                 state CONNECT)",
                Level::INFO,
            ),
            (
                Some(C::BrokerTransportFailure),
                "127.0.0.1:9093/bootstrap: Disconnected while requesting ApiVersion: might be \
                 caused by incorrect security.protocol configuration (connecting to a SSL \
                 listener?) or broker version is < 0.10 (see api.version.request)",
                Level::ERROR,
            ),
            (
                Some(C::BrokerTransportFailure),
                "127.0.0.1:9093/bootstrap: Receive failed: Invalid response size 352518912 \
                 (0..100000000): increase receive.message.max.bytes",
                Level::ERROR,
            ),
            (
                Some(C::BrokerTransportFailure),
                "GroupCoordinator: SASL authentication error: SaslAuthenticateRequest failed: \
                 Local: Broker transport failure (after 0ms in state DOWN)",
                Level::INFO,
            ),
            (
                Some(C::Authentication),
                "sasl_plaintext://127.0.0.1:9092/bootstrap: SASL authentication error: \
                 Authentication failed during authentication due to invalid credentials",
                Level::ERROR,
            ),
            (
                Some(C::SSL),
                "ssl://127.0.0.1:9093/bootstrap: SSL handshake failed: certificate verify failed",
                Level::ERROR,
            ),
            (
                Some(C::Resolve),
                "nowhere:9092/bootstrap: Failed to resolve 'nowhere:9092': Name or service not \
                 known",
                Level::ERROR,
            ),
            (Some(C::Fatal), "gapless guarantee broken", Level::ERROR),
            (
                Some(C::PollExceeded),
                "Application maximum poll interval exceeded",
                Level::ERROR,
            ),
            (None, "anything", Level::ERROR),
        ];
        for (code, reason, expected) in cases {
            assert_eq!(error_level(*code, reason), *expected, "{code:?} {reason}");
        }
    }

    #[test]
    fn every_end_of_partition_notice_is_trace() {
        let notices = [
            KafkaError::PartitionEOF(3),
            KafkaError::Global(RDKafkaErrorCode::PartitionEOF),
            KafkaError::MessageConsumption(RDKafkaErrorCode::PartitionEOF),
        ];
        for notice in notices {
            assert_eq!(error_level(code_of(&notice), ""), Level::TRACE, "{notice}");
        }
        let real = KafkaError::Global(RDKafkaErrorCode::Authentication);
        assert_eq!(error_level(code_of(&real), "x"), Level::ERROR);
    }

    #[test]
    fn syslog_levels_map_like_rdkafka() {
        let cases = [
            (0, L::Emerg),
            (3, L::Error),
            (4, L::Warning),
            (5, L::Notice),
            (6, L::Info),
            (7, L::Debug),
            (9, L::Debug),
        ];
        for (syslog, expected) in cases {
            assert_eq!(
                level_from_syslog(syslog) as i32,
                expected as i32,
                "{syslog}"
            );
        }
    }

    #[test]
    fn shown_leaves_out_an_empty_reason() {
        let error = KafkaError::Global(RDKafkaErrorCode::AllBrokersDown);
        assert_eq!(
            Shown(&error, "1/1 brokers are down").to_string(),
            format!("{error}: 1/1 brokers are down")
        );
        assert_eq!(Shown(&error, " ").to_string(), error.to_string());
    }
}
