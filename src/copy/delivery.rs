//! Handing copied records to the target producer, and the delivery reports coming back:
//! shared by `copy_partitions` and `replicate`.

use std::sync::Mutex;
use std::time::Duration;

use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::KafkaError;
use rdkafka::message::{BorrowedMessage, Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::types::RDKafkaErrorCode;

use super::header::{SOURCE_OFFSET_HEADER, encode_source_offset};
use super::offset_map::OffsetMap;
use super::{CopyError, CopyJob};
use crate::cluster::kafka_log;

/// How long [`send`] waits for room in a full producer queue before trying again.
const QUEUE_FULL_WAIT: Duration = Duration::from_millis(10);

/// What [`send`] does while the producer queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum WhenFull {
    /// Serve delivery reports itself: the caller is the only thread that polls the producer
    /// (`replicate`'s loop).
    Poll,
    /// Wait for the thread that polls the producer to serve them (`copy_partitions`' readers).
    /// Two threads polling one producer serve consecutive batches of a partition at the same
    /// time, so [`Deliveries`] would see their reports out of order: a record landing after the
    /// previous one looks like another writer's ([`CopyError::ConcurrentWrite`]).
    Wait,
}

/// Enqueues the copy of `message`, waiting for deliveries while the producer queue is full.
///
/// The copy goes to the same partition number with the same key, value (null stays null),
/// headers in order plus [`SOURCE_OFFSET_HEADER`], and the timestamp as CreateTime.
pub(super) fn send(
    producer: &BaseProducer<Deliveries>,
    message: &BorrowedMessage<'_>,
    job: &CopyJob,
    index: usize,
    when_full: WhenFull,
) -> Result<(), CopyError> {
    let offset = message.offset();
    let source_headers = message.headers();
    let mut headers =
        OwnedHeaders::new_with_capacity(source_headers.map_or(0, |headers| headers.count()) + 1);
    if let Some(source_headers) = source_headers {
        for header in source_headers.iter() {
            headers = headers.insert(header);
        }
    }
    let encoded = encode_source_offset(offset);
    headers = headers.insert(Header {
        key: SOURCE_OFFSET_HEADER,
        value: Some(&encoded),
    });
    let bytes = message.key().map_or(0, <[u8]>::len) + message.payload().map_or(0, <[u8]>::len);
    let mut record: BaseRecord<'_, [u8], [u8], Box<Sent>> = BaseRecord::with_opaque_to(
        &job.target_topic,
        Box::new(Sent {
            index,
            offset,
            bytes: bytes as u64,
        }),
    )
    .partition(message.partition())
    .headers(headers);
    if let Some(key) = message.key() {
        record = record.key(key);
    }
    if let Some(value) = message.payload() {
        record = record.payload(value);
    }
    if let Some(timestamp) = message.timestamp().to_millis() {
        record = record.timestamp(timestamp);
    }
    loop {
        match producer.send(record) {
            Ok(()) => return Ok(()),
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                record = back;
                match when_full {
                    WhenFull::Poll => producer.poll(QUEUE_FULL_WAIT),
                    WhenFull::Wait => std::thread::sleep(QUEUE_FULL_WAIT),
                }
                producer.context().check()?;
            }
            Err((error, _)) => {
                return Err(CopyError::Produce {
                    topic: job.target_topic.clone(),
                    partition: job.partition,
                    detail: error.to_string(),
                });
            }
        }
    }
}

/// What a delivery report refers to.
pub(super) struct Sent {
    index: usize,
    offset: i64,
    bytes: u64,
}

/// Delivery reports, gathered by the producer's context.
pub(super) struct Deliveries {
    pub(super) state: Mutex<Delivered>,
}

pub(super) struct Delivered {
    pub(super) copied: Vec<u64>,
    /// Key and value bytes delivered.
    pub(super) bytes: u64,
    pub(super) maps: Vec<OffsetMap>,
    pub(super) error: Option<CopyError>,
    /// Per job: records were delivered in the open transaction (a fenced copy).
    in_transaction: Vec<bool>,
    /// Per job: a commit marker follows the last delivered record, so the next record lands one
    /// offset further.
    marker: Vec<bool>,
}

impl Deliveries {
    pub(super) fn new(maps: Vec<OffsetMap>) -> Deliveries {
        Deliveries {
            state: Mutex::new(Delivered {
                copied: vec![0; maps.len()],
                bytes: 0,
                in_transaction: vec![false; maps.len()],
                marker: vec![false; maps.len()],
                maps,
                error: None,
            }),
        }
    }

    /// Starts the record of a copy at these maps, one per job.
    pub(super) fn start(&self, maps: Vec<OffsetMap>) {
        *self.state.lock().unwrap() = Deliveries::new(maps).state.into_inner().unwrap();
    }

    /// The open transaction committed: each partition it wrote to now ends with a marker.
    pub(super) fn committed(&self) {
        let mut state = self.state.lock().unwrap();
        let Delivered {
            in_transaction,
            marker,
            ..
        } = &mut *state;
        for (written, marker) in in_transaction.iter_mut().zip(marker.iter_mut()) {
            if std::mem::take(written) {
                *marker = true;
            }
        }
    }

    /// The first delivery error, if any.
    pub(super) fn check(&self) -> Result<(), CopyError> {
        match &self.state.lock().unwrap().error {
            Some(error) => Err(error.clone()),
            None => Ok(()),
        }
    }
}

/// Logs like every ferry client ([`kafka_log`]).
impl ClientContext for Deliveries {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, log_message: &str) {
        kafka_log::log(level, fac, log_message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        kafka_log::error(&error, reason);
    }
}

impl ProducerContext for Deliveries {
    type DeliveryOpaque = Box<Sent>;

    fn delivery(&self, result: &DeliveryResult<'_>, sent: Box<Sent>) {
        let mut state = self.state.lock().unwrap();
        match result {
            Ok(message) => {
                state.copied[sent.index] += 1;
                state.bytes += sent.bytes;
                // The copy is the partition's only writer, so each record lands right after the
                // previous one (or after the commit marker that follows it); anything else means
                // another writer, and possibly duplicates.
                let expected =
                    state.maps[sent.index].target_end() + i64::from(state.marker[sent.index]);
                if message.offset() != expected {
                    state
                        .error
                        .get_or_insert_with(|| CopyError::ConcurrentWrite {
                            topic: message.topic().to_string(),
                            partition: message.partition(),
                            expected,
                            found: message.offset(),
                        });
                } else if let Err(error) =
                    state.maps[sent.index].push(sent.offset, message.offset())
                {
                    state.error.get_or_insert_with(|| CopyError::OffsetMap {
                        topic: message.topic().to_string(),
                        partition: message.partition(),
                        source: error,
                    });
                }
                state.marker[sent.index] = false;
                state.in_transaction[sent.index] = true;
            }
            Err((error, message)) => {
                state.error.get_or_insert_with(|| CopyError::Produce {
                    topic: message.topic().to_string(),
                    partition: message.partition(),
                    detail: format!("record from source offset {}: {error}", sent.offset),
                });
            }
        }
    }
}
