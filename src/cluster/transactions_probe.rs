//! Whether a cluster takes transactional writes: one `InitProducerId` with a transactional id,
//! the first thing a transactional producer sends. It writes nothing to any topic; it registers
//! the id with the transaction coordinator (which forgets it after
//! `transactional.id.expiration.ms`).

use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::error::KafkaError;
use rdkafka::producer::{BaseProducer, NoCustomPartitioner, Producer, ProducerContext};
use rdkafka::types::RDKafkaErrorCode;

use super::KafkaLog;
use super::Support;
use super::kafka_log;

/// The probe's producer reports nothing: it sends no record.
impl ProducerContext<NoCustomPartitioner> for KafkaLog {
    type DeliveryOpaque = ();
    fn delivery(&self, _: &rdkafka::producer::DeliveryResult<'_>, _: ()) {}
}

/// Asks the cluster `settings` reach to initialise `transactional_id`, for at most `timeout`.
/// Anything but success is [`Support::Unsupported`] with the reason: the copy then runs
/// unfenced, and the plan says why.
pub(super) fn transactions_support(
    settings: &ClientConfig,
    transactional_id: &str,
    timeout: Duration,
) -> Support {
    let mut config = settings.clone();
    kafka_log::set_log_level(&mut config).set("transactional.id", transactional_id);
    let producer: BaseProducer<KafkaLog> = match config.create_with_context(KafkaLog) {
        Ok(producer) => producer,
        Err(error) => {
            return Support::Unsupported {
                reason: format!("a transactional producer could not be created: {error}"),
            };
        }
    };
    match producer.init_transactions(timeout) {
        Ok(()) => Support::Supported,
        Err(error) => Support::Unsupported {
            reason: reason(&error, transactional_id, timeout),
        },
    }
}

fn reason(error: &KafkaError, transactional_id: &str, timeout: Duration) -> String {
    match error.rdkafka_error_code() {
        Some(
            RDKafkaErrorCode::TransactionalIdAuthorizationFailed
            | RDKafkaErrorCode::ClusterAuthorizationFailed,
        ) => format!(
            "the user may not use transactional id {transactional_id}: grant WRITE and DESCRIBE \
             on TransactionalId resources with the prefix `ferry-copy-` to fence the copy"
        ),
        Some(RDKafkaErrorCode::UnsupportedVersion | RDKafkaErrorCode::UnsupportedFeature) => {
            "the broker does not support transactions".into()
        }
        Some(RDKafkaErrorCode::MessageTimedOut | RDKafkaErrorCode::RequestTimedOut) => format!(
            "no transaction coordinator answered within {}s",
            timeout.as_secs()
        ),
        _ => format!("initialising a transactional producer failed: {error}"),
    }
}
