//! The data set and the plain librdkafka clients the benchmark measures ferry against: raw
//! fetch, raw produce and the naive consume-then-produce loop. Each runs in a child process
//! (this binary again, `FERRY_BENCH_CHILD=MODE ARGS`), so its CPU and peak RSS are its own.

use std::time::Duration;

use anyhow::{Result, bail};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, Message, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

pub const TIMEOUT: Duration = Duration::from_secs(60);
/// The header every record carries (a trace id, as applications add).
pub const HEADER: &str = "trace-id";

/// The data set of one run.
#[derive(Debug, Clone, Copy)]
pub struct DataSet {
    pub records: usize,
    pub value_size: usize,
    pub partitions: i32,
}

impl DataSet {
    /// Bytes of one record's key, value and header, as the benchmark counts them.
    pub fn bytes(&self) -> u64 {
        (0..self.records)
            .map(|n| (key(n).len() + self.value_size + HEADER.len() + 8) as u64)
            .sum()
    }
}

pub fn key(n: usize) -> String {
    format!("k-{n}")
}

/// Incompressible bytes (xorshift), different per record.
pub fn value(n: usize, size: usize, into: &mut Vec<u8>) {
    into.clear();
    let mut x = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    while into.len() < size {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        into.extend_from_slice(&x.to_le_bytes());
    }
    into.truncate(size);
}

/// Record `n` goes to partition `n % partitions`, at offset `n / partitions` there.
pub fn record_at(partition: i32, offset: i64, partitions: i32) -> usize {
    offset as usize * partitions as usize + partition as usize
}

pub fn client(bootstrap: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", bootstrap);
    config
}

/// The producer settings ferry's copy engine uses, for a like-for-like produce ceiling.
pub fn ferry_producer(bootstrap: &str) -> ClientConfig {
    let mut config = client(bootstrap);
    config
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("enable.gapless.guarantee", "true")
        .set("compression.type", "none")
        .set("linger.ms", "5");
    config
}

/// Sends through a queue that may be full: waits on deliveries, never drops a record.
fn send<'a>(producer: &BaseProducer, mut record: BaseRecord<'a, [u8], [u8]>) -> Result<()> {
    loop {
        match producer.send(record) {
            Ok(()) => {
                producer.poll(Duration::ZERO);
                return Ok(());
            }
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                record = back;
                producer.poll(Duration::from_millis(5));
            }
            Err((error, _)) => return Err(error.into()),
        }
    }
}

/// Produces the data set to `topic` (records round-robin over partitions, each with its key and
/// header); the seed of the source, and the raw produce ceiling.
pub fn produce(config: &ClientConfig, topic: &str, data: &DataSet) -> Result<()> {
    let producer: BaseProducer = config.create()?;
    let mut payload = Vec::with_capacity(data.value_size);
    for n in 0..data.records {
        let key = key(n);
        value(n, data.value_size, &mut payload);
        let trace = (n as u64).to_be_bytes();
        let headers = OwnedHeaders::new().insert(Header {
            key: HEADER,
            value: Some(&trace[..]),
        });
        let record = BaseRecord::to(topic)
            .partition((n % data.partitions as usize) as i32)
            .key(key.as_bytes())
            .payload(&payload[..])
            .headers(headers);
        send(&producer, record)?;
    }
    producer.flush(Duration::from_secs(600))?;
    Ok(())
}

/// A consumer assigned to `partitions` of `topic` from the beginning.
pub fn assigned(bootstrap: &str, topic: &str, partitions: &[i32]) -> Result<BaseConsumer> {
    let consumer: BaseConsumer = client(bootstrap)
        .set("group.id", "bench")
        .set("enable.auto.commit", "false")
        .create()?;
    let mut list = TopicPartitionList::new();
    for &partition in partitions {
        list.add_partition_offset(topic, partition, Offset::Beginning)?;
    }
    consumer.assign(&list)?;
    Ok(consumer)
}

/// Reads the whole topic with `consumers` consumers in parallel threads, partitions shared
/// round-robin.
pub fn fetch(bootstrap: &str, topic: &str, data: &DataSet, consumers: usize) -> Result<()> {
    let per_partition = |partition: i32| {
        (data.records / data.partitions as usize
            + usize::from((partition as usize) < data.records % data.partitions as usize))
            as i64
    };
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..consumers)
            .map(|c| {
                scope.spawn(move || -> Result<()> {
                    let mine: Vec<i32> = (0..data.partitions)
                        .filter(|partition| *partition as usize % consumers == c)
                        .collect();
                    let consumer = assigned(bootstrap, topic, &mine)?;
                    let mut left: i64 = mine.iter().map(|&p| per_partition(p)).sum();
                    while left > 0 {
                        match consumer.poll(TIMEOUT) {
                            Some(Ok(message)) => {
                                std::hint::black_box(message.payload());
                                left -= 1;
                            }
                            Some(Err(error)) => return Err(error.into()),
                            None => bail!("fetch stalled with {left} records left"),
                        }
                    }
                    Ok(())
                })
            })
            .collect();
        handles
            .into_iter()
            .try_for_each(|handle| handle.join().expect("fetch thread"))
    })
}

/// The obvious loop once one knows sends are asynchronous: one consumer, one producer with
/// default settings, each record (key, value, headers, timestamp) handed over as it arrives,
/// one flush at the end.
pub fn naive_copy(source: &str, target: &str, from: &str, to: &str, data: &DataSet) -> Result<()> {
    let all: Vec<i32> = (0..data.partitions).collect();
    let consumer = assigned(source, from, &all)?;
    let producer: BaseProducer = client(target).create()?;
    let mut left = data.records;
    while left > 0 {
        let message = match consumer.poll(TIMEOUT) {
            Some(Ok(message)) => message,
            Some(Err(error)) => return Err(error.into()),
            None => bail!("naive copy stalled with {left} records left"),
        };
        let mut record = BaseRecord::<[u8], [u8]>::to(to).partition(message.partition());
        if let Some(key) = message.key() {
            record = record.key(key);
        }
        if let Some(payload) = message.payload() {
            record = record.payload(payload);
        }
        if let Some(millis) = message.timestamp().to_millis() {
            record = record.timestamp(millis);
        }
        if let Some(headers) = message.headers() {
            record = record.headers(headers.detach());
        }
        send(&producer, record)?;
        left -= 1;
    }
    producer.flush(Duration::from_secs(600))?;
    Ok(())
}

/// Runs a child mode: `fetch BOOTSTRAP TOPIC CONSUMERS`, `produce BOOTSTRAP TOPIC`,
/// `naive SOURCE TARGET FROM TO`; the data set comes from the environment.
pub fn child(spec: &str, data: &DataSet) -> Result<()> {
    let args: Vec<&str> = spec.split(' ').collect();
    match args[..] {
        ["fetch", bootstrap, topic, consumers] => fetch(bootstrap, topic, data, consumers.parse()?),
        ["produce", bootstrap, topic] => produce(&ferry_producer(bootstrap), topic, data),
        ["naive", source, target, from, to] => naive_copy(source, target, from, to, data),
        _ => bail!("unknown child mode: {spec}"),
    }
}
