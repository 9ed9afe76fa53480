//! Records with everything a copy must preserve: written to and read back from real brokers.

use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

const TIMEOUT: Duration = Duration::from_secs(30);

pub type HeaderList = Vec<(String, Option<Vec<u8>>)>;

/// One record as written or read back, with everything the copy must preserve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rec {
    pub offset: i64,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub headers: HeaderList,
    pub timestamp: i64,
}

pub fn client(bootstrap: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", bootstrap);
    config
}

/// The base of every [`record`]'s timestamp: one day before this test process first asked, in
/// whole seconds, the same for every call of the process.
///
/// Not a fixed date: a real Kafka broker deletes a segment as soon as its newest record is older
/// than `retention.ms` (7 days by default, checked every second on the test bed), active segment
/// included, so records stamped years ago vanish from source and target within a second. Not
/// now either: Kafka 4 refuses CreateTime more than `message.timestamp.after.max.ms` (1 hour)
/// ahead of the broker's clock, and the spread below adds up to 6 hours.
pub fn timestamp_base() -> i64 {
    static BASE: OnceLock<i64> = OnceLock::new();
    *BASE.get_or_init(|| {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("the clock is after 1970")
            .as_secs() as i64;
        (now - 86_400) * 1000
    })
}

/// Record `i` of partition `p` in a generation `generation`: keys and values sometimes null,
/// headers absent, several (one null, one empty, a repeated name) or one, timestamps not
/// monotonic (so a LogAppendTime or a re-stamp would show), within a day before now (see
/// [`timestamp_base`]).
pub fn record(p: i32, i: usize, generation: u8) -> Rec {
    let tag = format!("{generation}-{p}-{i}");
    let headers = match i % 3 {
        0 => Vec::new(),
        1 => vec![
            ("trace".to_string(), Some(format!("t-{tag}").into_bytes())),
            ("empty".to_string(), Some(Vec::new())),
        ],
        _ => vec![
            ("nullh".to_string(), None),
            ("trace".to_string(), Some(b"first".to_vec())),
            ("trace".to_string(), Some(b"second".to_vec())),
        ],
    };
    Rec {
        offset: -1,
        key: (i % 5 != 4).then(|| format!("k-{tag}").into_bytes()),
        value: (i % 4 != 3).then(|| format!("v-{tag}").into_bytes()),
        headers,
        timestamp: timestamp_base() + (i as i64 % 7) * 3_600_000 + i64::from(p),
    }
}

/// Produces `records` to `topic[partition]` in order and waits until all are on the broker.
pub fn produce(bootstrap: &str, topic: &str, partition: i32, records: &[Rec]) {
    produce_interleaved(bootstrap, topic, &[(partition, records)]);
}

/// Produces each partition's records to `topic[partition]` in order, with one producer and the
/// partitions taking turns record by record (so that all of them grow at once, as fast as the
/// broker takes records), and waits until all are on the broker.
pub fn produce_interleaved(bootstrap: &str, topic: &str, partitions: &[(i32, &[Rec])]) {
    let producer: BaseProducer = client(bootstrap)
        .set("enable.idempotence", "true")
        .set("linger.ms", "5")
        .create()
        .unwrap();
    let before: Vec<i64> = partitions
        .iter()
        .map(|&(partition, _)| watermarks(bootstrap, topic, partition).1)
        .collect();
    let longest = partitions.iter().map(|(_, records)| records.len()).max();
    for index in 0..longest.unwrap_or(0) {
        for &(partition, records) in partitions {
            let Some(rec) = records.get(index) else {
                continue;
            };
            let mut headers = OwnedHeaders::new();
            for (key, value) in &rec.headers {
                headers = headers.insert(Header {
                    key,
                    value: value.as_deref(),
                });
            }
            let mut out: BaseRecord<'_, [u8], [u8]> = BaseRecord::to(topic)
                .partition(partition)
                .timestamp(rec.timestamp)
                .headers(headers);
            if let Some(key) = &rec.key {
                out = out.key(key);
            }
            if let Some(value) = &rec.value {
                out = out.payload(value);
            }
            loop {
                match producer.send(out) {
                    Ok(()) => break,
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                        out = back;
                        producer.poll(Duration::from_millis(10));
                    }
                    Err((error, _)) => panic!("producing to {topic}[{partition}]: {error}"),
                }
            }
        }
    }
    producer.flush(TIMEOUT).unwrap();
    for (&(partition, records), before) in partitions.iter().zip(before) {
        let (_, after) = watermarks(bootstrap, topic, partition);
        assert_eq!(
            after - before,
            records.len() as i64,
            "not every record reached {topic}[{partition}]"
        );
    }
}

/// Log start and log end of `topic[partition]` (the end past open transactions too).
pub fn watermarks(bootstrap: &str, topic: &str, partition: i32) -> (i64, i64) {
    let consumer: BaseConsumer = client(bootstrap)
        .set("isolation.level", "read_uncommitted")
        .create()
        .unwrap();
    consumer
        .fetch_watermarks(topic, partition, TIMEOUT)
        .unwrap()
}

/// Every record of `topic[partition]` from offset `from` on, with offsets, headers (ferry's
/// included) and timestamps, up to the end read first (past trailing transaction markers).
pub fn read_from(bootstrap: &str, topic: &str, partition: i32, from: i64) -> Vec<Rec> {
    let consumer: BaseConsumer = client(bootstrap)
        .set("group.id", "ferry-test-reader")
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "true")
        .create()
        .unwrap();
    let (low, high) = consumer
        .fetch_watermarks(topic, partition, TIMEOUT)
        .unwrap();
    let low = from.max(low);
    let mut records = Vec::new();
    if high <= low {
        return records;
    }
    let mut assignment = TopicPartitionList::new();
    assignment
        .add_partition_offset(topic, partition, Offset::Offset(low))
        .unwrap();
    consumer.assign(&assignment).unwrap();
    let deadline = Instant::now() + TIMEOUT;
    let mut next = low;
    while next < high {
        assert!(
            Instant::now() < deadline,
            "reading {topic}[{partition}] stuck at {next}"
        );
        let message = match consumer.poll(Duration::from_millis(100)) {
            None => continue,
            // The last offsets may be transaction markers, which no consumer returns: the
            // position passing them ends the read.
            Some(Err(KafkaError::PartitionEOF(_))) => {
                let position = consumer.position().unwrap();
                let at = position
                    .find_partition(topic, partition)
                    .and_then(|e| e.offset().to_raw())
                    .unwrap_or(next);
                next = next.max(at);
                continue;
            }
            Some(message) => message.unwrap(),
        };
        next = message.offset() + 1;
        records.push(Rec {
            offset: message.offset(),
            key: message.key().map(<[u8]>::to_vec),
            value: message.payload().map(<[u8]>::to_vec),
            headers: message.headers().map_or_else(Vec::new, |headers| {
                headers
                    .iter()
                    .map(|h| (h.key.to_string(), h.value.map(<[u8]>::to_vec)))
                    .collect()
            }),
            timestamp: message.timestamp().to_millis().unwrap(),
        });
    }
    records
}

/// Every record of `topic[partition]` with `isolation.level` = `isolation` (`read_committed` or
/// `read_uncommitted`), read until the consumer reports the end of the partition: unlike
/// [`read_from`], this ends on a partition whose last offsets hold no record a consumer sees
/// (transaction markers, aborted records).
pub fn read_isolated(bootstrap: &str, topic: &str, partition: i32, isolation: &str) -> Vec<Rec> {
    let consumer: BaseConsumer = client(bootstrap)
        .set("group.id", "ferry-test-reader")
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "true")
        .set("isolation.level", isolation)
        .create()
        .unwrap();
    let (low, high) = consumer
        .fetch_watermarks(topic, partition, TIMEOUT)
        .unwrap();
    let mut records = Vec::new();
    if high <= low {
        return records;
    }
    let mut assignment = TopicPartitionList::new();
    assignment
        .add_partition_offset(topic, partition, Offset::Offset(low))
        .unwrap();
    consumer.assign(&assignment).unwrap();
    let deadline = Instant::now() + TIMEOUT;
    loop {
        assert!(
            Instant::now() < deadline,
            "reading {topic}[{partition}] ({isolation}) found no end"
        );
        let message = match consumer.poll(Duration::from_millis(100)) {
            None => continue,
            Some(Err(KafkaError::PartitionEOF(_))) => return records,
            Some(message) => message.unwrap(),
        };
        records.push(Rec {
            offset: message.offset(),
            key: message.key().map(<[u8]>::to_vec),
            value: message.payload().map(<[u8]>::to_vec),
            headers: message.headers().map_or_else(Vec::new, |headers| {
                headers
                    .iter()
                    .map(|h| (h.key.to_string(), h.value.map(<[u8]>::to_vec)))
                    .collect()
            }),
            timestamp: message.timestamp().to_millis().unwrap(),
        });
    }
}

/// What the target must hold for `source` after a copy: the same records in order at consecutive
/// offsets from 0 (no duplicate, no gap), each with ferry's source-offset header appended.
pub fn expected_copy(source: &[Rec]) -> Vec<Rec> {
    source
        .iter()
        .enumerate()
        .map(|(index, rec)| {
            let mut copy = rec.clone();
            copy.offset = index as i64;
            copy.headers.push((
                ferry::copy::SOURCE_OFFSET_HEADER.to_string(),
                Some(ferry::copy::encode_source_offset(rec.offset).to_vec()),
            ));
            copy
        })
        .collect()
}

/// `len` incompressible-looking bytes, so that no codec could hide a record's size.
pub fn incompressible(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

/// Now, in milliseconds since the epoch.
pub fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_millis() as i64
}

/// Topic configs under which the test bed's cleaner compacts within seconds: closed segments
/// every 100 ms, any dirty ratio, no lag.
pub const FAST_COMPACTION: &[(&str, &str)] = &[
    ("cleanup.policy", "compact"),
    ("segment.ms", "100"),
    ("min.cleanable.dirty.ratio", "0.01"),
    ("min.compaction.lag.ms", "0"),
];

/// Every record of `topic[partition]` from `from` on, ferry's source-offset header left out.
pub fn read_without_ferry_header(
    bootstrap: &str,
    topic: &str,
    partition: i32,
    from: i64,
) -> Vec<Rec> {
    let mut records = read_from(bootstrap, topic, partition, from);
    for rec in &mut records {
        rec.headers
            .retain(|(key, _)| key != ferry::copy::SOURCE_OFFSET_HEADER);
    }
    records
}

/// The target holds the source's `records` records of every partition of `topic`, and `group`
/// reads next on the target the record it would have read next on the source (`committed`,
/// per partition).
pub fn assert_mirrored_and_group_resumes(
    source: &str,
    target: &str,
    topic: &str,
    records: usize,
    group: &str,
    committed: &[i64],
) {
    let read = |bootstrap, p, from| read_without_ferry_header(bootstrap, topic, p, from);
    let partitions: Vec<(&str, i32)> = (0..committed.len() as i32).map(|p| (topic, p)).collect();
    for &(_, p) in &partitions {
        let on_source = read(source, p, 0);
        assert_eq!(on_source.len(), records, "source partition {p}");
        assert_eq!(read(target, p, 0), on_source, "partition {p}");
    }
    let on_target = ferry_testbed::inspect::committed_offsets(target, group, &partitions).unwrap();
    for &(_, p) in &partitions {
        let offset = on_target[p as usize].expect("the group has an offset on the target");
        assert_eq!(
            read(target, p, offset).first(),
            read(source, p, committed[p as usize]).first(),
            "partition {p}: target offset {offset}"
        );
    }
}

/// The source offset ferry's header on a copy names.
pub fn source_offset(rec: &Rec) -> i64 {
    rec.headers
        .iter()
        .rev()
        .find(|(k, _)| k == ferry::copy::SOURCE_OFFSET_HEADER)
        .and_then(|(_, v)| v.as_deref().and_then(ferry::copy::decode_source_offset))
        .expect("every copy carries ferry's header")
}

/// The copies in `topic[partition]` from its log start, each as (the source offset in ferry's
/// header, the record without that header and without its own offset).
pub fn copies_by_source_offset(bootstrap: &str, topic: &str, partition: i32) -> Vec<(i64, Rec)> {
    read_from(bootstrap, topic, partition, 0)
        .into_iter()
        .map(|mut rec| {
            let source_offset = source_offset(&rec);
            rec.headers
                .retain(|(k, _)| k != ferry::copy::SOURCE_OFFSET_HEADER);
            rec.offset = -1;
            (source_offset, rec)
        })
        .collect()
}
