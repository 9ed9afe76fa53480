//! The copy engine (`ferry::copy::copy_partitions`) against what only a real Kafka broker
//! does, on the test bed's shared pair (every test has topics of its own): a source whose log
//! start DeleteRecords moved past the copy, a transactional source with committed and aborted
//! transactions, and a compacted source whose cleaner really removed records. Each test reads
//! the target back and compares it with the source partition by partition.

mod support;

use support::mirror_config::write_mirror_config;

use support::apply_process::wait_until;
use support::copying::{copied, copy};

use support::records::{Rec, client, expected_copy, produce, read_from, read_isolated, record};

use std::time::{Duration, Instant};

use ferry::copy::{CopyError, CopyJob, CopyOutcome, Run, Translation};
use ferry_testbed::seed::{self, Transaction};
use ferry_testbed::{Testbed, inspect};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::{Offset, TopicPartitionList};

/// How long the broker's log cleaner may take to compact a partition.
const COMPACTION_TIMEOUT: Duration = Duration::from_secs(90);

fn jobs(topic: &str, partitions: i32) -> Vec<CopyJob> {
    (0..partitions)
        .map(|partition| CopyJob {
            source_topic: topic.into(),
            target_topic: topic.into(),
            partition,
            start: 0,
            ..CopyJob::default()
        })
        .collect()
}

/// The runs an exact offset map of a copy of `source` (into an empty target partition) has:
/// consecutive source offsets to consecutive target offsets, a new run after every gap.
fn runs_of(source: &[Rec]) -> Vec<Run> {
    let mut runs: Vec<Run> = Vec::new();
    for (target_offset, rec) in (0..).zip(source) {
        match runs.last_mut() {
            Some(run) if run.source_end() == rec.offset => run.len += 1,
            _ => runs.push(Run {
                source_start: rec.offset,
                target_start: target_offset,
                len: 1,
            }),
        }
    }
    runs
}

/// The target partition holds exactly `source` (what a consumer sees on the source partition
/// now), in order, at offsets from 0, each copy carrying its source offset in ferry's header.
fn assert_target_holds(bed: &Testbed, topic: &str, partition: i32, source: &[Rec]) {
    let target = read_from(&bed.target.bootstrap, topic, partition, 0);
    let expected = expected_copy(source);
    if let Some(first) = target.iter().zip(&expected).position(|(t, e)| t != e) {
        panic!(
            "{topic}[{partition}] differs first at target offset {first}:\n  target {:?}\n  wanted {:?}",
            target[first], expected[first]
        );
    }
    assert_eq!(
        target.len(),
        expected.len(),
        "record count of target {topic}[{partition}]"
    );
}

// ---------------------------------------------------------------------------------------------
// Retention gap

/// DeleteRecords moves the source's log start past where the copy of a partition stands (the
/// next source offset after the target's last copied record): the next copy stops before
/// copying anything, on any partition, with an error naming the topic, the partition and the
/// exact range of source offsets lost. The same holds for an empty target whose copy would start
/// before the new log start.
#[test]
fn a_retention_gap_stops_the_copy_naming_the_lost_range() {
    let bed = Testbed::shared();
    let (src, tgt) = (&bed.source.bootstrap, &bed.target.bootstrap);
    const TOPIC: &str = "gap.events";
    seed::create_topic(src, TOPIC, 2, &[]).unwrap();
    seed::create_topic(tgt, TOPIC, 2, &[]).unwrap();
    for partition in 0..2 {
        let records: Vec<Rec> = (0..40).map(|i| record(partition, i, 0)).collect();
        produce(src, TOPIC, partition, &records);
    }
    assert_eq!(copied(&copy(bed, &jobs(TOPIC, 2)).unwrap()), [40, 40]);

    // More records arrive; before they are copied, DeleteRecords removes 40..=54 of partition 0.
    for partition in 0..2 {
        let records: Vec<Rec> = (40..70).map(|i| record(partition, i, 1)).collect();
        produce(src, TOPIC, partition, &records);
    }
    assert_eq!(seed::delete_records(src, TOPIC, 0, 55).unwrap(), 55);
    assert_eq!(inspect::watermarks(src, TOPIC, 0).unwrap(), (55, 70));

    let error = copy(bed, &jobs(TOPIC, 2)).unwrap_err();
    assert_eq!(
        error,
        CopyError::RetentionGap {
            topic: TOPIC.into(),
            partition: 0,
            lost_from: 40,
            lost_to: 54,
        }
    );
    let message = error.to_string();
    assert!(
        message.contains("gap.events[0]") && message.contains("40..=54"),
        "the message names the partition and the lost range: {message}"
    );
    // Nothing was copied, not even into the partition that lost nothing.
    for partition in 0..2 {
        assert_eq!(
            inspect::watermarks(tgt, TOPIC, partition).unwrap(),
            (0, 40),
            "target {TOPIC}[{partition}] is as the first copy left it"
        );
    }

    // A copy into an empty target topic that would start at offset 0 loses 0..=54.
    const FRESH: &str = "gap.events.fresh";
    seed::create_topic(tgt, FRESH, 2, &[]).unwrap();
    let fresh: Vec<CopyJob> = jobs(TOPIC, 2)
        .into_iter()
        .map(|job| CopyJob {
            target_topic: FRESH.into(),
            ..job
        })
        .collect();
    assert_eq!(
        copy(bed, &fresh).unwrap_err(),
        CopyError::RetentionGap {
            topic: TOPIC.into(),
            partition: 0,
            lost_from: 0,
            lost_to: 54,
        }
    );
    assert_eq!(inspect::watermarks(tgt, FRESH, 0).unwrap(), (0, 0));
    assert_eq!(inspect::watermarks(tgt, FRESH, 1).unwrap(), (0, 0));
}

// ---------------------------------------------------------------------------------------------
// Transactions

/// Partition 0 ends with a committed transaction, partition 1 with an aborted one. Each
/// transaction's end is a marker that takes an offset.
const TRANSACTIONS: [&[Transaction]; 2] = [
    &[
        Transaction {
            records: 5,
            commit: true,
        },
        Transaction {
            records: 3,
            commit: false,
        },
        Transaction {
            records: 4,
            commit: true,
        },
        Transaction {
            records: 2,
            commit: false,
        },
        Transaction {
            records: 6,
            commit: true,
        },
    ],
    &[
        Transaction {
            records: 3,
            commit: true,
        },
        Transaction {
            records: 4,
            commit: false,
        },
    ],
];

/// Creates `topic` on both clusters (2 partitions) and writes [`TRANSACTIONS`] to the source;
/// checks that the source log really holds the aborted records and the markers, and returns
/// what a `read_committed` consumer sees in each source partition.
fn seed_transactions(bed: &Testbed, topic: &str) -> Vec<Vec<Rec>> {
    let (src, tgt) = (&bed.source.bootstrap, &bed.target.bootstrap);
    seed::create_topic(src, topic, 2, &[]).unwrap();
    seed::create_topic(tgt, topic, 2, &[]).unwrap();
    (0..2)
        .map(|partition| {
            let transactions = TRANSACTIONS[partition as usize];
            let id = format!("{topic}-{partition}");
            let written =
                seed::produce_transactions(src, &id, topic, partition, transactions, 20).unwrap();
            // Records, then one marker per transaction: the end offset counts both.
            let end = (written.len() + transactions.len()) as i64;
            assert_eq!(
                inspect::watermarks(src, topic, partition).unwrap(),
                (0, end),
                "source {topic}[{partition}]"
            );
            let keys = |records: &[Rec]| -> Vec<Vec<u8>> {
                records.iter().filter_map(|r| r.key.clone()).collect()
            };
            let everything = read_isolated(src, topic, partition, "read_uncommitted");
            let written_keys: Vec<Vec<u8>> =
                written.iter().map(|r| r.key.clone().into_bytes()).collect();
            assert_eq!(
                keys(&everything),
                written_keys,
                "the source log of {topic}[{partition}] holds the aborted records too"
            );
            let committed = read_isolated(src, topic, partition, "read_committed");
            let committed_written: Vec<(i64, Vec<u8>)> = written
                .iter()
                .filter(|r| r.committed)
                .map(|r| (r.offset, r.key.clone().into_bytes()))
                .collect();
            let seen: Vec<(i64, Vec<u8>)> = committed
                .iter()
                .map(|r| (r.offset, r.key.clone().unwrap()))
                .collect();
            assert_eq!(
                seen, committed_written,
                "read_committed {topic}[{partition}]"
            );
            committed
        })
        .collect()
}

/// Of a transactional source, the copy takes every committed record, in order, and no aborted
/// one; it ends on partitions whose last offsets are a commit marker and an aborted transaction
/// with its abort marker (offsets no consumer sees); the offset map has a run per stretch of
/// committed records between markers; and a second copy copies nothing.
#[test]
fn a_transactional_source_is_copied_committed_records_only_in_order() {
    let bed = Testbed::shared();
    const TOPIC: &str = "txn.events";
    let committed = seed_transactions(bed, TOPIC);

    let started = Instant::now();
    let outcomes = copy(bed, &jobs(TOPIC, 2)).unwrap();
    eprintln!("copied in {:?}", started.elapsed());
    assert_eq!(copied(&outcomes), [15, 3]);
    for (partition, outcome) in (0..2).zip(&outcomes) {
        let source = &committed[partition as usize];
        assert_target_holds(bed, TOPIC, partition, source);
        assert_eq!(
            outcome.map.runs(),
            runs_of(source).as_slice(),
            "offset map of {TOPIC}[{partition}]"
        );
        let aborted: Vec<String> = (0..)
            .zip(TRANSACTIONS[partition as usize])
            .filter(|(_, transaction)| !transaction.commit)
            .map(|(t, _)| format!("t{t}-"))
            .collect();
        for rec in read_from(&bed.target.bootstrap, TOPIC, partition, 0) {
            let key = String::from_utf8(rec.key.clone().unwrap()).unwrap();
            assert!(
                !aborted.iter().any(|prefix| key.starts_with(prefix)),
                "{key}, a record of an aborted transaction, is on the target"
            );
        }
    }
    // Partition 0: 0..=4 | commit 5 | aborted 6..=8, abort 9 | 10..=13 | commit 14 | ...
    assert_eq!(
        outcomes[0].map.runs(),
        [
            Run::from((0, 0, 5)),
            Run::from((10, 5, 4)),
            Run::from((18, 9, 6))
        ]
    );

    // Resumed after the trailing markers: nothing more to copy, nothing copied twice.
    assert_eq!(copied(&copy(bed, &jobs(TOPIC, 2)).unwrap()), [0, 0]);
    for partition in 0..2 {
        assert_target_holds(bed, TOPIC, partition, &committed[partition as usize]);
    }
}

/// The offset a `read_committed` consumer of `group` commits on the source after reading all of
/// `topic[partition]`: its position, past the last transaction marker.
fn consume_all_and_commit(bootstrap: &str, group: &str, topic: &str, partition: i32) -> i64 {
    let consumer: BaseConsumer = client(bootstrap)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "true")
        .set("isolation.level", "read_committed")
        .create()
        .unwrap();
    let mut assignment = TopicPartitionList::new();
    assignment
        .add_partition_offset(topic, partition, Offset::Beginning)
        .unwrap();
    consumer.assign(&assignment).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        assert!(Instant::now() < deadline, "{topic}[{partition}] has no end");
        match consumer.poll(Duration::from_millis(100)) {
            Some(Err(KafkaError::PartitionEOF(_))) => break,
            Some(other) => {
                other.unwrap();
            }
            None => {}
        }
    }
    consumer.commit_consumer_state(CommitMode::Sync).unwrap();
    let committed = inspect::committed_offsets(bootstrap, group, &[(topic, partition)]).unwrap();
    committed[0].expect("the group committed an offset")
}

/// A group's committed source offset translates to the target offset of the record it would
/// read next, also where the offset is a transaction marker or inside an aborted transaction,
/// and where the group read everything: Kafka consumers then commit the offset after the last
/// marker (the source end), which must translate to the end of the copy.
#[test]
fn committed_offsets_at_transaction_markers_translate_to_the_next_copied_record() {
    let bed = Testbed::shared();
    const TOPIC: &str = "txn.offsets";
    seed_transactions(bed, TOPIC);
    let outcomes = copy(bed, &jobs(TOPIC, 2)).unwrap();
    let (p0, p1) = (&outcomes[0], &outcomes[1]);

    // What a consumer that read every committed record commits: the end, past the markers.
    let (_, end0) = inspect::watermarks(&bed.source.bootstrap, TOPIC, 0).unwrap();
    let (_, end1) = inspect::watermarks(&bed.source.bootstrap, TOPIC, 1).unwrap();
    let group = "txn-offsets-reader";
    assert_eq!(
        consume_all_and_commit(&bed.source.bootstrap, group, TOPIC, 0),
        end0
    );
    assert_eq!(
        consume_all_and_commit(&bed.source.bootstrap, group, TOPIC, 1),
        end1
    );
    assert_eq!((end0, end1), (25, 9));

    // The copy covered its partitions to their ends, trailing markers included.
    assert_eq!(p0.next_source_offset, end0, "{p0:?}");
    assert_eq!(p1.next_source_offset, end1, "{p1:?}");

    let translate = |outcome: &CopyOutcome, committed: i64| {
        outcome.map.translate(committed, outcome.next_source_offset)
    };
    // Partition 0: 0..=4 -> 0..=4 | commit 5 | aborted 6..=8, abort 9 | 10..=13 -> 5..=8 |
    // commit 14 | aborted 15..=16, abort 17 | 18..=23 -> 9..=14 | commit 24.
    let cases = [
        (3, Translation::Copied { target_offset: 3 }),
        (
            5,
            Translation::Gap {
                next_source_offset: 10,
                target_offset: 5,
            },
        ),
        (
            7,
            Translation::Gap {
                next_source_offset: 10,
                target_offset: 5,
            },
        ),
        (11, Translation::Copied { target_offset: 6 }),
        (
            16,
            Translation::Gap {
                next_source_offset: 18,
                target_offset: 9,
            },
        ),
        (24, Translation::End { target_offset: 15 }),
        (25, Translation::End { target_offset: 15 }),
    ];
    for (committed, expected) in cases {
        assert_eq!(
            translate(p0, committed),
            expected,
            "committed {committed} on partition 0"
        );
    }
    // Partition 1: 0..=2 -> 0..=2 | commit 3 | aborted 4..=7, abort 8.
    for committed in [3, 5, 8, 9] {
        assert_eq!(
            translate(p1, committed),
            Translation::End { target_offset: 3 },
            "committed {committed} on partition 1"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Compaction

use support::records::now_millis;

/// Records produced before compaction.
const COMPACTED_RECORDS: usize = 120;

/// The key number of compacted record `i`: eight keys take turns up to record 99, then three of
/// them, so that the latest record of each key (what compaction keeps) lies at 92..=95, 99 and
/// 117..=119, with gaps between.
fn compacted_key(i: usize) -> usize {
    if i < 100 { i % 8 } else { i % 3 }
}

/// A record of the compacted topic: key `key-<compacted_key(i)>`, value `v-<i>`, null (a
/// tombstone, which the cleaner keeps for `delete.retention.ms`) for every 10th record.
fn compacted_record(i: usize) -> Rec {
    let mut rec = record(0, i, 0);
    rec.key = Some(format!("key-{}", compacted_key(i)).into_bytes());
    rec.value = (i % 10 != 9).then(|| format!("v-{i}").into_bytes());
    rec
}

/// A topic whose cleaner really compacted it (fewer records than offsets, gaps between them) is
/// copied with exactly the records the source holds now, in order, each mapped from its own
/// source offset: the offset map has one run per stretch between gaps, and a committed offset
/// on a removed record translates to the copy of the next record kept.
#[test]
fn a_compacted_source_is_copied_with_its_offset_gaps_mapped_exactly() {
    let bed = Testbed::shared();
    let (src, tgt) = (&bed.source.bootstrap, &bed.target.bootstrap);
    const TOPIC: &str = "compacted.events";
    seed::create_topic(src, TOPIC, 1, support::records::FAST_COMPACTION).unwrap();
    seed::create_topic(tgt, TOPIC, 1, &[]).unwrap();
    let records: Vec<Rec> = (0..COMPACTED_RECORDS).map(compacted_record).collect();
    produce(src, TOPIC, 0, &records);

    // The cleaner only compacts closed segments, and a segment closes when a record arrives
    // after `segment.ms`: keep appending a record of a fresh key (never compacted away) until
    // the cleaner left one record per original key, the latest. Then no later cleaning can
    // remove anything more while the test copies and compares.
    let latest: Vec<Rec> = (0..COMPACTED_RECORDS)
        .filter(|&i| (i + 1..COMPACTED_RECORDS).all(|j| compacted_key(j) != compacted_key(i)))
        .map(compacted_record)
        .collect();
    assert_eq!(latest.len(), 8);
    let deadline = Instant::now() + COMPACTION_TIMEOUT;
    let mut appended = COMPACTED_RECORDS;
    let source = loop {
        let now = read_from(src, TOPIC, 0, 0);
        let originals: Vec<Rec> = now
            .iter()
            .filter(|rec| rec.key.as_ref().is_some_and(|key| key.starts_with(b"key-")))
            .map(|rec| Rec {
                offset: -1,
                ..rec.clone()
            })
            .collect();
        if originals == latest {
            break now;
        }
        assert!(
            Instant::now() < deadline,
            "the cleaner did not compact {TOPIC}[0] within {}s: {} of its records remain",
            COMPACTION_TIMEOUT.as_secs(),
            originals.len()
        );
        // Kafka rolls by record timestamps (this one's against the newest of the segment's
        // first batch), and record()'s lie within 6 hours from a day ago: stamp it now.
        let mut roll = record(0, appended, 1);
        roll.key = Some(format!("roll-{appended}").into_bytes());
        roll.timestamp = now_millis();
        produce(src, TOPIC, 0, &[roll]);
        appended += 1;
        std::thread::sleep(Duration::from_millis(200));
    };
    let (_, end) = inspect::watermarks(src, TOPIC, 0).unwrap();
    eprintln!(
        "{TOPIC}[0]: {} records in offsets 0..{end} after compaction",
        source.len()
    );
    assert!(
        (source.len() as i64) < end && runs_of(&source).len() > 1,
        "the source has gaps in its offsets: {:?}",
        runs_of(&source)
    );

    let outcomes = copy(bed, &jobs(TOPIC, 1)).unwrap();
    let outcome = &outcomes[0];
    assert_eq!(outcome.copied, source.len() as u64);
    assert_eq!(outcome.next_source_offset, end);
    assert_target_holds(bed, TOPIC, 0, &source);
    assert_eq!(outcome.map.runs(), runs_of(&source).as_slice());

    // Every kept record translates to its copy; every removed offset to the next kept one.
    for (target_offset, rec) in (0..).zip(&source) {
        assert_eq!(
            outcome.map.translate(rec.offset, end),
            Translation::Copied { target_offset },
            "source offset {}",
            rec.offset
        );
    }
    let mut removed = 0;
    for offset in 0..end {
        let Some(next) = source.iter().position(|rec| rec.offset >= offset) else {
            continue;
        };
        if source[next].offset == offset {
            continue;
        }
        removed += 1;
        assert_eq!(
            outcome.map.translate(offset, end),
            Translation::Gap {
                next_source_offset: source[next].offset,
                target_offset: next as i64,
            },
            "removed source offset {offset}"
        );
    }
    assert_eq!(removed as i64, end - source.len() as i64);
    assert_eq!(
        outcome.map.translate(end, end),
        Translation::End {
            target_offset: source.len() as i64
        }
    );
}

/// `ferry apply` of a transactional source whose group read everything on partition 0 (it
/// committed the end, past the last commit marker) and stopped inside the aborted transaction
/// that ends partition 1: the apply completes, the group resumes on the target at the end of
/// each copy, and the verify step finds the committed records on both sides.
#[test]
fn a_mirror_apply_of_a_transactional_source_translates_a_group_that_read_everything() {
    let bed = Testbed::shared();
    let (src, tgt) = (&bed.source.bootstrap, &bed.target.bootstrap);
    const TOPIC: &str = "txn.apply";
    const GROUP: &str = "txn-apply-group";
    let committed = seed_transactions(bed, TOPIC);
    let end0 = consume_all_and_commit(src, GROUP, TOPIC, 0);
    assert_eq!(end0, 25);
    seed::commit_offsets(src, GROUP, &[(TOPIC, 1, 5)]).unwrap();

    let dir = tempfile::tempdir().unwrap();
    write_mirror_config(dir.path(), bed, "txn-apply", &[TOPIC], &[GROUP]);
    let output = assert_cmd::Command::cargo_bin("ferry")
        .unwrap()
        .arg("-C")
        .arg(dir.path())
        .args(["apply", "--auto-approve"])
        .timeout(Duration::from_secs(300))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "ferry apply failed:\n--- stdout\n{}\n--- stderr\n{stderr}",
        String::from_utf8_lossy(&output.stdout)
    );
    for partition in 0..2 {
        assert_target_holds(bed, TOPIC, partition, &committed[partition as usize]);
    }
    let on_target = inspect::committed_offsets(tgt, GROUP, &[(TOPIC, 0), (TOPIC, 1)]).unwrap();
    assert_eq!(
        on_target,
        [Some(15), Some(3)],
        "the group resumes at the end of each copy: {stderr}"
    );
    assert!(
        stderr.contains(&format!("{GROUP} {TOPIC}[0]: source 25 -> target 15")),
        "{stderr}"
    );
}

/// Records larger than librdkafka's own `message.max.bytes` default (1,000,000 bytes) copy, up
/// to the topic's `max.message.bytes`, ferry's source-offset header included: one near 1 MiB
/// and one a few KiB below a 2 MiB topic limit.
#[test]
fn a_record_near_one_mebibyte_and_one_near_the_topics_limit_are_copied() {
    use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
    let bed = Testbed::shared();
    const TOPIC: &str = "large.events";
    const LIMIT: usize = 2 * 1024 * 1024;
    let config = [("max.message.bytes", "2097152")];
    seed::create_topic(&bed.source.bootstrap, TOPIC, 1, &config).unwrap();
    seed::create_topic(&bed.target.bootstrap, TOPIC, 1, &config).unwrap();
    let producer: BaseProducer = client(&bed.source.bootstrap)
        .set("message.max.bytes", "10000000")
        .create()
        .unwrap();
    let value = support::records::incompressible;
    for (key, len) in [("near-1MiB", 1_040_000), ("near-limit", LIMIT - 8 * 1024)] {
        producer
            .send(
                BaseRecord::to(TOPIC)
                    .partition(0)
                    .key(key)
                    .payload(&value(len)),
            )
            .map_err(|(e, _)| e)
            .unwrap();
    }
    producer.flush(Duration::from_secs(30)).unwrap();
    let source = read_from(&bed.source.bootstrap, TOPIC, 0, 0);
    assert_eq!(source.len(), 2, "both large records are on the source");

    assert_eq!(copied(&copy(bed, &jobs(TOPIC, 1)).unwrap()), [2]);
    assert_target_holds(bed, TOPIC, 0, &source);
}

// ---------------------------------------------------------------------------------------------
// An open transaction

/// A transaction left open on the source holds `read_committed` below the high watermark: the
/// copy takes everything before it, names the partition and the stuck offset while it waits
/// (progress) and when nothing else moves (its error, instead of a bare stall), and copies the
/// rest once the transaction commits.
#[test]
fn an_open_transaction_is_reported_with_its_partition_and_stuck_offset_and_copied_once_committed() {
    use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
    use std::sync::Mutex;

    let bed = Testbed::shared();
    let (src, tgt) = (&bed.source.bootstrap, &bed.target.bootstrap);
    const TOPIC: &str = "transactions.open";
    seed::create_topic(src, TOPIC, 1, &[]).unwrap();
    seed::create_topic(tgt, TOPIC, 1, &[]).unwrap();
    let before: Vec<Rec> = (0..10).map(|i| record(0, i, 0)).collect();
    produce(src, TOPIC, 0, &before);

    let open: BaseProducer = client(src)
        .set("transactional.id", "ferry-test-open-transaction")
        .set("transaction.timeout.ms", "300000")
        .create()
        .unwrap();
    let timeout = Duration::from_secs(30);
    open.init_transactions(timeout).unwrap();
    open.begin_transaction().unwrap();
    for n in 0..5 {
        let key = format!("open-{n}");
        open.send(
            BaseRecord::to(TOPIC)
                .partition(0)
                .key(&key)
                .payload("in a transaction"),
        )
        .unwrap();
    }
    open.flush(timeout).unwrap();
    // Committed by another producer, but after the open transaction's first record.
    let after: Vec<Rec> = (15..20).map(|i| record(0, i, 0)).collect();
    produce(src, TOPIC, 0, &after);
    assert_eq!(support::records::watermarks(src, TOPIC, 0), (0, 20));

    let lines = Mutex::new(Vec::new());
    let error = ferry::copy::copy_partitions(
        &client(src),
        &client(tgt),
        &jobs(TOPIC, 1),
        ferry::copy::Until::CaughtUp,
        Duration::from_secs(10),
        &|p| {
            lines
                .lock()
                .unwrap()
                .push(p.summary(Duration::from_secs(1)))
        },
    )
    .unwrap_err();
    match &error {
        CopyError::OpenTransaction {
            topic,
            partition,
            offset,
            end,
            ..
        } => assert_eq!(
            (topic.as_str(), *partition, *offset, *end),
            (TOPIC, 0, 10, 20)
        ),
        other => panic!("expected an open transaction, got {other:?}"),
    }
    assert!(error.to_string().contains("find-hanging"), "{error}");
    let lines = lines.into_inner().unwrap();
    assert!(
        lines.iter().any(|l| l.contains(&format!(
            "held by an open transaction: {TOPIC}[0] at offset 10 (end 20)"
        ))),
        "progress names the held partition: {lines:?}"
    );
    // Everything before the transaction is on the target, nothing after it.
    assert_target_holds(bed, TOPIC, 0, &read_from(src, TOPIC, 0, 0)[..10]);

    open.commit_transaction(timeout).unwrap();
    let outcomes = copy(bed, &jobs(TOPIC, 1)).unwrap();
    assert_eq!(copied(&outcomes), vec![10]);
    let source = read_isolated(src, TOPIC, 0, "read_committed");
    assert_eq!(source.len(), 20);
    assert_target_holds(bed, TOPIC, 0, &source);
}

// ---------------------------------------------------------------------------------------------
// Fenced copy

/// The target partition holds exactly `source` in order, each copy carrying its source offset,
/// whatever target offsets the commit markers of a fenced copy took.
fn assert_target_holds_in_order(bed: &Testbed, topic: &str, partition: i32, source: &[Rec]) {
    let strip = |recs: Vec<Rec>| -> Vec<Rec> {
        recs.into_iter()
            .map(|mut r| {
                r.offset = 0;
                r
            })
            .collect()
    };
    let target = strip(read_from(&bed.target.bootstrap, topic, partition, 0));
    let expected = strip(expected_copy(source));
    assert_eq!(
        target.len(),
        expected.len(),
        "record count of target {topic}[{partition}]"
    );
    if let Some(first) = target.iter().zip(&expected).position(|(t, e)| t != e) {
        panic!(
            "{topic}[{partition}] differs first at record {first}:\n  target {:?}\n  wanted {:?}",
            target[first], expected[first]
        );
    }
}

/// A fenced copy writes in transactions: its records are committed (a `read_committed`
/// consumer sees them), a commit marker follows them, and the next copy finds its tail behind
/// that marker. A run killed with a transaction open (here: a producer with the copy's
/// transactional id that sent copies of later source records and never committed) is fenced
/// by the next run: its records stay aborted, the next run copies those source records once,
/// and the old producer can no longer commit.
#[test]
fn a_fenced_copy_resumes_behind_its_commit_markers_and_fences_a_killed_runs_open_transaction() {
    use rdkafka::message::{Header, OwnedHeaders};
    use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
    use support::copying::copy_fenced;

    let bed = Testbed::shared();
    let (src, tgt) = (&bed.source.bootstrap, &bed.target.bootstrap);
    const TOPIC: &str = "fenced.copy";
    const MIGRATION: &str = "fenced-test";
    seed::create_topic(src, TOPIC, 2, &[]).unwrap();
    seed::create_topic(tgt, TOPIC, 2, &[]).unwrap();
    let first: Vec<Rec> = (0..30).map(|i| record(0, i, 0)).collect();
    for p in 0..2 {
        produce(src, TOPIC, p, &first);
    }
    let outcomes = copy_fenced(bed, &jobs(TOPIC, 2), MIGRATION).unwrap();
    assert_eq!(copied(&outcomes), vec![30, 30]);
    for (p, outcome) in (0..2).zip(&outcomes) {
        // 30 records and the commit marker after them (the coordinator writes markers just
        // after the commit returns).
        wait_until("the commit marker", Duration::from_secs(30), || {
            support::records::watermarks(tgt, TOPIC, p) == (0, 31)
        });
        assert_eq!(outcome.target_high, 31);
        assert_target_holds_in_order(bed, TOPIC, p, &read_from(src, TOPIC, p, 0));
    }

    // More on the source; a "killed run" with the copy's transactional id sends copies of
    // source records 30..35 of partition 0 and dies without committing.
    let more: Vec<Rec> = (30..50).map(|i| record(0, i, 0)).collect();
    for p in 0..2 {
        produce(src, TOPIC, p, &more);
    }
    let zombie: BaseProducer = client(tgt)
        .set(
            "transactional.id",
            ferry::copy::transactional_id(MIGRATION, &jobs(TOPIC, 2)),
        )
        .set("transaction.timeout.ms", "300000")
        .create()
        .unwrap();
    let timeout = Duration::from_secs(30);
    zombie.init_transactions(timeout).unwrap();
    zombie.begin_transaction().unwrap();
    for offset in 30..35i64 {
        let header = ferry::copy::encode_source_offset(offset);
        zombie
            .send(
                BaseRecord::to(TOPIC)
                    .partition(0)
                    .key("zombie")
                    .payload("a late write of a killed run")
                    .headers(OwnedHeaders::new().insert(Header {
                        key: ferry::copy::SOURCE_OFFSET_HEADER,
                        value: Some(&header),
                    })),
            )
            .unwrap();
    }
    zombie.flush(timeout).unwrap();
    assert_eq!(support::records::watermarks(tgt, TOPIC, 0), (0, 36));

    let outcomes = copy_fenced(bed, &jobs(TOPIC, 2), MIGRATION).unwrap();
    assert_eq!(copied(&outcomes), vec![20, 20], "each source record once");
    let zombie_commit = zombie.commit_transaction(timeout);
    assert!(
        zombie_commit.is_err(),
        "the killed run's producer was fenced, yet it committed"
    );
    for p in 0..2 {
        let source = read_from(src, TOPIC, p, 0);
        assert_eq!(source.len(), 50);
        assert_target_holds_in_order(bed, TOPIC, p, &source);
        // Nothing the zombie sent is visible, even to a consumer that reads every record.
        let committed = read_isolated(tgt, TOPIC, p, "read_committed");
        assert!(
            committed
                .iter()
                .all(|r| r.key.as_deref() != Some(b"zombie"))
        );
    }
    // Partition 0: 30 records, a marker, 5 aborted records, an abort marker, 20 records, a marker.
    assert_eq!(outcomes[0].map.target_start(), 37);
    wait_until("the commit marker", Duration::from_secs(30), || {
        support::records::watermarks(tgt, TOPIC, 0) == (0, 58)
    });

    // A third run with nothing new copies nothing and finds its tail behind the markers.
    let outcomes = copy_fenced(bed, &jobs(TOPIC, 2), MIGRATION).unwrap();
    assert_eq!(copied(&outcomes), vec![0, 0]);
    assert_eq!(
        outcomes
            .iter()
            .map(|o| o.next_source_offset)
            .collect::<Vec<_>>(),
        vec![50, 50]
    );
}
