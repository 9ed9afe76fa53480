//! ferry's own Kafka connection, for the requests librdkafka does not batch.
//!
//! librdkafka 2.12 sends ListConsumerGroupOffsets one group per request (its header says "only
//! one group per invocation"), so a plan over 200 groups sent 200 FindCoordinator and 200
//! OffsetFetch requests. Kafka 3.0 takes many groups in one of each (KIP-699, KIP-709), as the
//! Java admin client does. The messages are `kafka-protocol`'s and TLS is OpenSSL's (the library
//! librdkafka links); the connection around them (framing, ApiVersions, SASL PLAIN and SCRAM) is
//! written here because no maintained crate offers a blocking Kafka connection without a whole
//! client.
//!
//! Only what librdkafka would reach the same way goes through here: the `sasl` and `tls`
//! settings, without raw connection properties (`security.*`, `sasl.*`, `ssl.*`, ...). Those
//! clusters, brokers before Kafka 3.0, and any group this path could not answer cleanly go
//! through librdkafka's one-group request, which also words the errors.

mod batched_group_offsets;
mod connection;
mod group_batcher;
mod scram;
mod wire_settings;

pub use group_batcher::GroupBatcher;
