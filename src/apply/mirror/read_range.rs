//! Reading partition ranges back for verification and for rebuilding an offset map from the
//! target's headers. Hand-written over rdkafka's consumer because it reads an exact offset range
//! of one partition and must tell "the range ended" from "the broker is slow".

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{BorrowedMessage, Headers, Message};
use rdkafka::{Offset, TopicPartitionList};

use crate::cluster::{KafkaLog, kafka_log};
use crate::copy::{CopyError, CopyJob, OffsetMap, SOURCE_OFFSET_HEADER, decode_source_offset};
use crate::error::Error;

/// Partitions read at the same time by [`parallel`].
const PARALLEL_READS: usize = 4;

/// `work` applied to every item on up to [`PARALLEL_READS`] threads; results in item order.
pub(super) fn parallel<T: Sync, R: Send>(items: &[T], work: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let results: Vec<Mutex<Option<R>>> = items.iter().map(|_| Mutex::new(None)).collect();
    thread::scope(|scope| {
        for _ in 0..PARALLEL_READS.min(items.len()) {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(index) else {
                        break;
                    };
                    *results[index].lock().unwrap() = Some(work(item));
                }
            });
        }
    });
    results
        .into_iter()
        .map(|r| r.into_inner().unwrap().expect("every item was worked on"))
        .collect()
}

/// How long reading a range may go without a record before it fails.
const READ_STALL: Duration = Duration::from_secs(60);

/// `map` extended with the records the target holds at offsets `map.target_end()..until`, each
/// mapped from the source offset in its ferry header. An empty `map` that starts at target 0 is
/// rebuilt from the target partition's first record.
pub(crate) fn fill_from_target(
    target: &ClientConfig,
    job: &CopyJob,
    map: OffsetMap,
    until: i64,
) -> Result<OffsetMap, Error> {
    // What retention deleted on the target cannot be read back (nor consumed there).
    let (low, _) = watermarks(target, &job.target_topic, job.partition)?;
    let from = low.max(map.target_end());
    let mut merged = (!map.is_empty()).then_some(map);
    let start = job.start;
    read_range(target, &job.target_topic, job.partition, from, until, |m| {
        let Some(source_offset) = copied_from(m) else {
            return Err(CopyError::ForeignRecord {
                topic: job.target_topic.clone(),
                partition: job.partition,
                offset: m.offset(),
            }
            .into());
        };
        let map =
            merged.get_or_insert_with(|| OffsetMap::new(start.min(source_offset), m.offset()));
        map.push(source_offset, m.offset())
            .map_err(|source| CopyError::OffsetMap {
                topic: job.target_topic.clone(),
                partition: job.partition,
                source,
            })?;
        Ok(())
    })?;
    Ok(merged.unwrap_or_else(|| OffsetMap::new(start, from)))
}

/// The source offset in a copied record's last ferry header.
pub(super) fn copied_from(message: &BorrowedMessage<'_>) -> Option<i64> {
    message.headers().and_then(|headers| {
        headers
            .iter()
            .filter(|h| h.key == SOURCE_OFFSET_HEADER)
            .last()
            .and_then(|h| h.value.and_then(decode_source_offset))
    })
}

fn reading(what: String, error: impl std::fmt::Display) -> Error {
    CopyError::Kafka {
        what,
        detail: error.to_string(),
    }
    .into()
}

pub(super) fn reader(config: &ClientConfig) -> Result<BaseConsumer<KafkaLog>, Error> {
    let mut config = config.clone();
    kafka_log::set_log_level(&mut config);
    config
        .set("group.id", "ferry-verify")
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("enable.partition.eof", "true")
        .set("auto.offset.reset", "error")
        .set("isolation.level", "read_committed")
        .create_with_context(KafkaLog)
        .map_err(|e| reading("creating a reader".into(), e))
}

pub(super) fn watermarks(
    config: &ClientConfig,
    topic: &str,
    partition: i32,
) -> Result<(i64, i64), Error> {
    reader(config)?
        .fetch_watermarks(topic, partition, Duration::from_secs(30))
        .map_err(|e| reading(format!("reading the watermarks of {topic}[{partition}]"), e))
}

/// Calls `each` for every record of `topic[partition]` at offsets `from..to`, in order.
pub(super) fn read_range(
    config: &ClientConfig,
    topic: &str,
    partition: i32,
    from: i64,
    to: i64,
    mut each: impl FnMut(&BorrowedMessage<'_>) -> Result<(), Error>,
) -> Result<(), Error> {
    if from >= to {
        return Ok(());
    }
    let consumer = reader(config)?;
    let mut assignment = TopicPartitionList::new();
    assignment
        .add_partition_offset(topic, partition, Offset::Offset(from))
        .map_err(|e| reading(format!("assigning {topic}[{partition}]"), e))?;
    consumer
        .assign(&assignment)
        .map_err(|e| reading(format!("assigning {topic}[{partition}]"), e))?;
    let mut last_seen = Instant::now();
    loop {
        if last_seen.elapsed() >= READ_STALL {
            return Err(reading(
                format!("reading {topic}[{partition}] offsets {from}..{to}"),
                format!("no record for {}s", READ_STALL.as_secs()),
            ));
        }
        match consumer.poll(Duration::from_millis(100)) {
            None => {}
            Some(Err(KafkaError::PartitionEOF(_))) => {
                // Offsets a reader never sees (transaction markers, aborted records) may end
                // the range: the position passing its end says it was read.
                let position = consumer.position().map_err(|e| {
                    reading(format!("reading the position in {topic}[{partition}]"), e)
                })?;
                if position
                    .find_partition(topic, partition)
                    .and_then(|e| e.offset().to_raw())
                    .is_some_and(|at| at >= to)
                {
                    return Ok(());
                }
                let (_, high) = consumer
                    .fetch_watermarks(topic, partition, Duration::from_secs(30))
                    .map_err(|e| {
                        reading(format!("reading the watermarks of {topic}[{partition}]"), e)
                    })?;
                if high <= to {
                    return Ok(());
                }
            }
            Some(Err(error)) => {
                return Err(reading(format!("reading {topic}[{partition}]"), error));
            }
            Some(Ok(message)) => {
                last_seen = Instant::now();
                if message.offset() >= to {
                    return Ok(());
                }
                if message.offset() >= from {
                    each(&message)?;
                }
                if message.offset() + 1 >= to {
                    return Ok(());
                }
            }
        }
    }
}
