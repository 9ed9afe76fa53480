//! Client settings shared by the copy engines (`copy_partitions` and `replicate`): the safe
//! producer, the explicit-offset consumer, and the error wrapper for client failures. Every
//! client logs through [`kafka_log`], at the librdkafka log level the subscriber can show.

use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::consumer::BaseConsumer;
use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaErrorCode;

use super::CopyError;
use crate::cluster::KafkaLog;
use crate::cluster::kafka_log;

/// Timeout of one metadata or watermark request.
pub(super) const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a final flush may wait for delivery reports.
pub(super) const FLUSH_TIMEOUT: Duration = Duration::from_secs(300);
/// Records buffered in the producer at most (with [`PRODUCER_QUEUE_KBYTES`], bounds memory).
const PRODUCER_QUEUE_MESSAGES: &str = "50000";
const PRODUCER_QUEUE_KBYTES: &str = "32768";
/// Prefetched records per consumer at most, in KiB.
pub(super) const CONSUMER_QUEUE_KBYTES: &str = "8192";
/// How long a partition waits before fetching again once the prefetch queue is full. librdkafka's
/// default (1000 ms) is meant for consumers whose application is slow; a copy empties its queue
/// as fast as the producer takes records, so with the default each partition stalled for a second
/// every time the queue filled: `ferry replicate` copied 16 MB/s on the copy bench, 4x below the
/// naive loop (whose 64 MiB default queue rarely fills).
pub(super) const FETCH_QUEUE_BACKOFF_MS: &str = "5";
/// Prefetched records per partition before the queue counts as full (librdkafka's default,
/// 100,000, lets small records fill memory with per-message overhead long before
/// [`CONSUMER_QUEUE_KBYTES`] is reached).
pub(super) const CONSUMER_QUEUE_MESSAGES: &str = "5000";
/// The largest fetch response per consumer, in bytes (librdkafka's default, 50 MiB, would let four
/// readers hold 200 MiB of responses: peak RSS measured 268 MiB on the copy bench with it).
pub(super) const FETCH_MAX_BYTES: &str = "8388608";
/// The largest record the copy producer accepts, in bytes: librdkafka's most. Its default
/// (1,000,000) is below Kafka's own default topic limit (1,048,588) and far below what a topic
/// may allow, so records the source took would fail before they left ferry; the target's
/// `max.message.bytes` is the limit that matters, and the broker enforces it.
const PRODUCER_MESSAGE_MAX_BYTES: &str = "1000000000";
/// Group id of the copy consumers. Needed by librdkafka for `assign`; nothing is ever committed
/// and no group is joined.
const COPY_GROUP: &str = "ferry-copy";

/// A client for watermarks. Its high watermark is the log end, what every record was appended
/// below (`read_uncommitted`): a `read_committed` client reports the last stable offset, which
/// an open transaction holds back, and a copy that stopped there would count the records after
/// it as copied.
pub(super) fn metadata_consumer(
    settings: &ClientConfig,
    side: &str,
) -> Result<BaseConsumer<KafkaLog>, CopyError> {
    kafka_log::set_log_level(settings.clone().remove("compression.type"))
        .set("isolation.level", "read_uncommitted")
        .create_with_context(KafkaLog)
        .map_err(|error| kafka(format!("creating a {side} client"), error))
}

/// A consumer reading assigned partitions from explicit offsets: no commits, no group joined,
/// stopping with an error instead of jumping when an offset falls out of range.
pub(super) fn copy_consumer(settings: &ClientConfig) -> Result<BaseConsumer<KafkaLog>, CopyError> {
    let mut config = settings.clone();
    kafka_log::set_log_level(&mut config)
        .remove("compression.type")
        .set("group.id", COPY_GROUP)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("enable.partition.eof", "true")
        .set("auto.offset.reset", "error")
        .set("queued.max.messages.kbytes", CONSUMER_QUEUE_KBYTES)
        .set("queued.min.messages", CONSUMER_QUEUE_MESSAGES)
        .set("fetch.queue.backoff.ms", FETCH_QUEUE_BACKOFF_MS)
        .set("fetch.max.bytes", FETCH_MAX_BYTES)
        .create_with_context(KafkaLog)
        .map_err(|error| kafka("creating a consumer".into(), error))
}

/// The producer of every copy: idempotent with the gapless guarantee and `acks=all`, so the
/// target never holds record `n + 1` of a run without record `n`.
pub(super) fn producer_config(settings: &ClientConfig) -> ClientConfig {
    let mut config = settings.clone();
    if config.get("compression.type").is_none() {
        config.set("compression.type", "none");
    }
    kafka_log::set_log_level(&mut config)
        .set("enable.idempotence", "true")
        .set("enable.gapless.guarantee", "true")
        .set("acks", "all")
        .set("linger.ms", "5")
        .set("message.max.bytes", PRODUCER_MESSAGE_MAX_BYTES)
        .set("queue.buffering.max.messages", PRODUCER_QUEUE_MESSAGES)
        .set("queue.buffering.max.kbytes", PRODUCER_QUEUE_KBYTES);
    config
}

pub(super) fn kafka(what: String, error: KafkaError) -> CopyError {
    CopyError::Kafka {
        what,
        detail: error.to_string(),
    }
}

/// Whether a consumer error ends the copy. An offset out of range means the next record to copy
/// was deleted while copying (retention); `auto.offset.reset=error` turns it into this error
/// instead of a silent jump, and the next run reports the exact lost range.
pub(super) fn stops_copy(code: RDKafkaErrorCode) -> bool {
    matches!(
        code,
        RDKafkaErrorCode::AutoOffsetReset
            | RDKafkaErrorCode::OffsetOutOfRange
            | RDKafkaErrorCode::UnknownTopicOrPartition
            | RDKafkaErrorCode::UnknownPartition
            | RDKafkaErrorCode::UnknownTopic
            | RDKafkaErrorCode::TopicAuthorizationFailed
            | RDKafkaErrorCode::Fatal
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn producer_is_safe() {
        let config = producer_config(&ClientConfig::new());
        assert_eq!(config.get("enable.idempotence"), Some("true"));
        assert_eq!(config.get("enable.gapless.guarantee"), Some("true"));
        assert_eq!(config.get("acks"), Some("all"));
    }

    #[test]
    fn compression_is_none_unless_configured() {
        assert_eq!(
            producer_config(&ClientConfig::new()).get("compression.type"),
            Some("none")
        );
        let mut settings = ClientConfig::new();
        settings.set("compression.type", "zstd");
        assert_eq!(
            producer_config(&settings).get("compression.type"),
            Some("zstd")
        );
    }
}
