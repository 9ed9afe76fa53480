//! Reads a copy back and compares it with the source partition by partition (record count and
//! ferry's order-sensitive checksum of key, value, headers without ferry's own, timestamp), and
//! scores translated consumer offsets against the exact position of the record they name.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use anyhow::{Context, Result, bail, ensure};
use ferry::copy::PartitionChecksum;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

use crate::clients::{DataSet, TIMEOUT, client, key, record_at};

/// One partition as read back.
pub struct PartitionRead {
    pub count: u64,
    pub digest: String,
    /// The offsets of the records read, in order (a transactional copy has gaps: its markers).
    pub offsets: Vec<i64>,
    /// Where the wanted keys were found.
    pub found: HashMap<String, i64>,
}

/// Reads every partition of `topic` (four at a time), looking out for `wanted` keys.
pub fn read_topic(
    bootstrap: &str,
    topic: &str,
    data: &DataSet,
    wanted: &HashSet<String>,
) -> Result<Vec<PartitionRead>> {
    let mut reads: Vec<Option<PartitionRead>> = (0..data.partitions).map(|_| None).collect();
    for chunk in (0..data.partitions).collect::<Vec<_>>().chunks(4) {
        let done = std::thread::scope(|scope| {
            let handles: Vec<_> = chunk
                .iter()
                .map(|&partition| {
                    scope.spawn(move || {
                        (
                            partition,
                            read_partition(bootstrap, topic, partition, wanted),
                        )
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("read thread"))
                .collect::<Vec<_>>()
        });
        for (partition, read) in done {
            reads[partition as usize] = Some(read?);
        }
    }
    Ok(reads
        .into_iter()
        .map(|r| r.expect("every partition read"))
        .collect())
}

fn read_partition(
    bootstrap: &str,
    topic: &str,
    partition: i32,
    wanted: &HashSet<String>,
) -> Result<PartitionRead> {
    let probe: BaseConsumer = client(bootstrap)
        .set("isolation.level", "read_uncommitted")
        .create()?;
    let (_, end) = probe
        .fetch_watermarks(topic, partition, TIMEOUT)
        .with_context(|| format!("watermarks of {topic}[{partition}]"))?;
    let consumer: BaseConsumer = client(bootstrap)
        .set("group.id", "bench-read-back")
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "true")
        .create()?;
    let mut list = TopicPartitionList::new();
    list.add_partition_offset(topic, partition, Offset::Beginning)?;
    consumer.assign(&list)?;
    let mut sum = PartitionChecksum::default();
    let mut offsets = Vec::new();
    let mut found = HashMap::new();
    let mut next = 0;
    let mut idle = Instant::now();
    while next < end {
        match consumer.poll(Duration::from_millis(500)) {
            Some(Ok(message)) => {
                idle = Instant::now();
                sum.update_from(&message);
                offsets.push(message.offset());
                if let Some(key) = message.key().and_then(|k| std::str::from_utf8(k).ok())
                    && wanted.contains(key)
                {
                    found.insert(key.to_owned(), message.offset());
                }
                next = message.offset() + 1;
            }
            // A transactional copy's trailing commit marker is never returned: the position
            // passes it.
            Some(Err(KafkaError::PartitionEOF(_))) => {
                if let Some(at) = consumer
                    .position()?
                    .find_partition(topic, partition)
                    .and_then(|e| e.offset().to_raw())
                {
                    next = next.max(at);
                }
            }
            Some(Err(error)) => return Err(error.into()),
            None if idle.elapsed() > TIMEOUT => {
                bail!("reading {topic}[{partition}] stalled at {next} of {end}")
            }
            None => {}
        }
    }
    let mut digest = String::new();
    write!(digest, "{:x?}", sum.digest())?;
    Ok(PartitionRead {
        count: sum.count(),
        digest,
        offsets,
        found,
    })
}

/// Fails unless `copy` holds exactly the source's records in every partition.
pub fn check_equal(source: &[PartitionRead], copy: &[PartitionRead], what: &str) -> Result<()> {
    for (partition, (a, b)) in source.iter().zip(copy).enumerate() {
        ensure!(
            a.count == b.count && a.digest == b.digest,
            "{what}: partition {partition} differs from the source: {} records vs {} (checksums {} / {})",
            a.count,
            b.count,
            a.digest,
            b.digest
        );
    }
    Ok(())
}

/// A source group's committed offsets: `(group, partition, source offset)`.
pub type Commits = Vec<(String, i32, i64)>;

/// The keys of the records the commits point at.
pub fn wanted_keys(commits: &Commits, data: &DataSet) -> HashSet<String> {
    commits
        .iter()
        .map(|(_, p, o)| key(record_at(*p, *o, data.partitions)))
        .collect()
}

/// How translated offsets compare with exact ones, over every group and partition.
#[derive(Debug, Default, Clone, Copy)]
pub struct TranslationScore {
    pub positions: usize,
    /// Records between the translated offset and the exact one, read again after the switch.
    pub reprocessed: u64,
    /// Records between the exact offset and the translated one, never read after the switch.
    pub skipped: u64,
    /// Positions with no translated offset at all (the group would start at auto.offset.reset).
    pub missing: usize,
}

/// Scores `translated[i]` (the target offset committed for `commits[i]`) against the target
/// offset of the record the source commit names.
pub fn score(
    commits: &Commits,
    translated: &[Option<i64>],
    copy: &[PartitionRead],
    data: &DataSet,
) -> Result<TranslationScore> {
    let mut score = TranslationScore::default();
    for ((_, partition, offset), translated) in commits.iter().zip(translated) {
        score.positions += 1;
        let read = &copy[*partition as usize];
        let wanted = key(record_at(*partition, *offset, data.partitions));
        let exact = *read
            .found
            .get(&wanted)
            .with_context(|| format!("{wanted} is not in the copy"))?;
        let Some(translated) = *translated else {
            score.missing += 1;
            continue;
        };
        let below = |o: i64| read.offsets.partition_point(|&x| x < o) as u64;
        if translated < exact {
            score.reprocessed += below(exact) - below(translated);
        } else {
            score.skipped += below(translated) - below(exact);
        }
    }
    Ok(score)
}
