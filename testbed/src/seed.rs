//! Seeding a broker with topics, records and committed consumer-group offsets.
//!
//! # The quickstart data set ([`quickstart`])
//!
//! Created on the source broker, all with replication factor 1 (every test broker is a
//! single-node cluster):
//!
//! | topic              | partitions | topic config                                        | records                       |
//! |--------------------|-----------:|-----------------------------------------------------|-------------------------------|
//! | `orders.v1`        | 6          | `cleanup.policy=delete`, `retention.ms=86400000`    | 40 per partition (240)        |
//! | `orders.audit`     | 3          | `cleanup.policy=compact`                            | 30 per partition (90)         |
//! | `payments`         | 4          | none                                                | 25 per partition (100)        |
//! | `_schemas`         | 1          | none                                                | none                          |
//! | `internal.metrics` | 2          | none                                                | none                          |
//!
//! Records have keys `k-0`, `k-1`, ... (numbered per partition, from 0) and 200-byte values, so
//! every partition's high watermark equals its record count: 430 records, about 86 KB of values.
//!
//! Committed group offsets (no group has live members):
//!
//! | group             | topic       | partitions | committed offset | lag per partition |
//! |-------------------|-------------|------------|------------------|-------------------|
//! | `billing-service` | `orders.v1` | 0-5        | 20               | 20                |
//! | `billing-service` | `payments`  | 0-3        | 12               | 13                |
//! | `shipping`        | `orders.v1` | 0-4        | 40 (the end)     | 0                 |
//! | `shipping`        | `orders.v1` | 5          | 0                | 40                |
//!
//! # The bench data set ([`bench`])
//!
//! `topics` topics `bench.0000`, `bench.0001`, ... with `partitions` partitions each and no
//! config, one record (key `k-0`, 100-byte value) in every partition; `groups` groups
//! `bench-group-000`, `bench-group-001`, ...: group `g` commits on the (up to) three topics
//! `bench.{(3g + i) mod topics}`, `i = 0..3`, offset 0 on partition 0 and offset 1 (the end) on
//! every other partition.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use rdkafka::admin::{
    AdminClient, AdminOptions, AlterConfig, NewTopic, ResourceSpecifier, TopicReplication,
};
use rdkafka::client::{ClientContext, DefaultClientContext};
use rdkafka::consumer::{CommitMode, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};

use crate::client::{self, REQUEST_TIMEOUT, block_on};
use crate::inspect::group_consumer;

/// Topics per CreateTopics request.
const CREATE_TOPICS_CHUNK: usize = 500;
/// How long created topics may take to show up in metadata with all their partitions, plus
/// [`METADATA_TIMEOUT_PER_PARTITION`] for each: a Kafka broker on this 2-core machine creates the
/// 12,000 partitions of the plan benchmark's data set in well over 30 s (a log directory each).
const METADATA_TIMEOUT: Duration = Duration::from_secs(30);
const METADATA_TIMEOUT_PER_PARTITION: Duration = Duration::from_millis(20);
/// Parallel consumers committing group offsets in [`bench`].
const COMMIT_WORKERS: usize = 8;

/// Value size of the quickstart records.
pub const QUICKSTART_VALUE_SIZE: usize = 200;
/// Value size of the bench records.
pub const BENCH_VALUE_SIZE: usize = 100;

/// One topic to create.
struct TopicSpec<'a> {
    name: String,
    partitions: i32,
    config: &'a [(&'a str, &'a str)],
}

/// Creates `name` with `partitions` partitions, replication factor 1 and `config`, and waits
/// until the broker's metadata shows all its partitions.
pub fn create_topic(
    bootstrap: &str,
    name: &str,
    partitions: i32,
    config: &[(&str, &str)],
) -> Result<()> {
    let admin = admin(bootstrap)?;
    create_topics(
        &admin,
        &[TopicSpec {
            name: name.to_owned(),
            partitions,
            config,
        }],
    )
}

/// Creates the topics `names`, each with `partitions` partitions, replication factor 1 and no
/// config, in CreateTopics requests of up to 500 topics, and waits until metadata shows all
/// their partitions.
pub fn create_topics_batch(bootstrap: &str, names: &[String], partitions: i32) -> Result<()> {
    let specs: Vec<TopicSpec> = names
        .iter()
        .map(|name| TopicSpec {
            name: name.clone(),
            partitions,
            config: &[],
        })
        .collect();
    create_topics(&admin(bootstrap)?, &specs)
}

/// Sets `config` on `topic` with the legacy AlterConfigs request, which replaces the topic's
/// whole config: on Kafka every override not listed goes back to its default. For tests that
/// contrast it with an incremental change (IncrementalAlterConfigs).
pub fn legacy_alter_topic_config(
    bootstrap: &str,
    topic: &str,
    config: &[(&str, &str)],
) -> Result<()> {
    let change = config.iter().fold(
        AlterConfig::new(ResourceSpecifier::Topic(topic)),
        |change, &(key, value)| change.set(key, value),
    );
    let options = AdminOptions::new().request_timeout(Some(REQUEST_TIMEOUT));
    let results = block_on(admin(bootstrap)?.alter_configs([&change], &options))
        .with_context(|| format!("AlterConfigs of {topic} on {bootstrap}"))?;
    for result in results {
        result.map_err(|(_, code)| anyhow!("AlterConfigs of {topic} on {bootstrap}: {code}"))?;
    }
    Ok(())
}

/// Produces `count` records to `topic[partition]`, keys `k-0` .. `k-{count-1}`, values of
/// `value_size` bytes (`value-<n>-` padded with `.`), and waits until all are delivered.
pub fn produce(
    bootstrap: &str,
    topic: &str,
    partition: i32,
    count: usize,
    value_size: usize,
) -> Result<()> {
    let mut producer = SeedProducer::new(bootstrap)?;
    producer.send_numbered(topic, partition, count, value_size)?;
    producer.finish()
}

/// Commits `(topic, partition, offset)` for `group` with a consumer that has `group.id` set but
/// never subscribes (a synchronous commit outside any group generation), then reads the
/// offsets back to check they were stored.
pub fn commit_offsets(bootstrap: &str, group: &str, offsets: &[(&str, i32, i64)]) -> Result<()> {
    commit(bootstrap, group, offsets, true)
}

/// Commits offsets for `group`; librdkafka reports per-partition errors of the commit itself,
/// `read_back` also checks that the broker then returns the committed offsets.
fn commit(
    bootstrap: &str,
    group: &str,
    offsets: &[(&str, i32, i64)],
    read_back: bool,
) -> Result<()> {
    let consumer = group_consumer(bootstrap, group)?;
    let mut list = TopicPartitionList::with_capacity(offsets.len());
    for &(topic, partition, offset) in offsets {
        list.add_partition_offset(topic, partition, Offset::Offset(offset))
            .with_context(|| format!("offset {offset} for {topic}[{partition}]"))?;
    }
    consumer
        .commit(&list, CommitMode::Sync)
        .with_context(|| format!("committing offsets of group {group} on {bootstrap}"))?;
    if !read_back {
        return Ok(());
    }

    let mut query = TopicPartitionList::with_capacity(offsets.len());
    for &(topic, partition, _) in offsets {
        query.add_partition(topic, partition);
    }
    let committed = consumer
        .committed_offsets(query, REQUEST_TIMEOUT)
        .with_context(|| format!("reading back offsets of group {group} on {bootstrap}"))?;
    for &(topic, partition, offset) in offsets {
        let found = committed
            .find_partition(topic, partition)
            .map(|element| element.offset());
        if found != Some(Offset::Offset(offset)) {
            bail!(
                "group {group} on {bootstrap}: committed {offset} on {topic}[{partition}], \
                 broker reports {found:?}"
            );
        }
    }
    Ok(())
}

/// Seeds the quickstart data set described in the [module documentation](self).
pub fn quickstart(bootstrap: &str) -> Result<()> {
    const ORDERS: &str = "orders.v1";
    const AUDIT: &str = "orders.audit";
    const PAYMENTS: &str = "payments";
    let topics = [
        (
            ORDERS,
            6,
            &[("cleanup.policy", "delete"), ("retention.ms", "86400000")][..],
        ),
        (AUDIT, 3, &[("cleanup.policy", "compact")][..]),
        (PAYMENTS, 4, &[][..]),
        ("_schemas", 1, &[][..]),
        ("internal.metrics", 2, &[][..]),
    ];
    let specs: Vec<TopicSpec> = topics
        .iter()
        .map(|&(name, partitions, config)| TopicSpec {
            name: name.to_owned(),
            partitions,
            config,
        })
        .collect();
    create_topics(&admin(bootstrap)?, &specs)?;

    // (topic, partitions, records per partition)
    let data = [(ORDERS, 6, 40), (AUDIT, 3, 30), (PAYMENTS, 4, 25)];
    let mut producer = SeedProducer::new(bootstrap)?;
    for (topic, partitions, count) in data {
        for partition in 0..partitions {
            producer.send_numbered(topic, partition, count, QUICKSTART_VALUE_SIZE)?;
        }
    }
    producer.finish()?;

    let billing: Vec<(&str, i32, i64)> = (0..6)
        .map(|partition| (ORDERS, partition, 20))
        .chain((0..4).map(|partition| (PAYMENTS, partition, 12)))
        .collect();
    commit_offsets(bootstrap, "billing-service", &billing)?;
    let shipping: Vec<(&str, i32, i64)> = (0..6)
        .map(|partition| (ORDERS, partition, if partition == 5 { 0 } else { 40 }))
        .collect();
    commit_offsets(bootstrap, "shipping", &shipping)
}

/// Seeds the bench data set described in the [module documentation](self).
pub fn bench(bootstrap: &str, topics: usize, partitions: i32, groups: usize) -> Result<()> {
    if partitions < 1 {
        bail!("bench topics need at least one partition, got {partitions}");
    }
    let specs: Vec<TopicSpec> = (0..topics)
        .map(|index| TopicSpec {
            name: bench_topic(index),
            partitions,
            config: &[],
        })
        .collect();
    create_topics(&admin(bootstrap)?, &specs)?;

    let mut producer = SeedProducer::new(bootstrap)?;
    for spec in &specs {
        for partition in 0..partitions {
            producer.send_numbered(&spec.name, partition, 1, BENCH_VALUE_SIZE)?;
        }
    }
    producer.finish()?;

    if topics == 0 || groups == 0 {
        return Ok(());
    }
    let next_group = AtomicUsize::new(0);
    let first_error = Mutex::new(None::<anyhow::Error>);
    thread::scope(|scope| {
        for _ in 0..COMMIT_WORKERS.min(groups) {
            scope.spawn(|| {
                loop {
                    let group = next_group.fetch_add(1, Ordering::Relaxed);
                    if group >= groups || first_error.lock().unwrap().is_some() {
                        return;
                    }
                    let names: Vec<String> = (0..3.min(topics))
                        .map(|i| bench_topic((3 * group + i) % topics))
                        .collect();
                    let offsets: Vec<(&str, i32, i64)> = names
                        .iter()
                        .flat_map(|name| {
                            (0..partitions).map(move |p| (name.as_str(), p, i64::from(p != 0)))
                        })
                        .collect();
                    if let Err(error) = commit(bootstrap, &bench_group(group), &offsets, false) {
                        first_error.lock().unwrap().get_or_insert(error);
                        return;
                    }
                }
            });
        }
    });
    match first_error.into_inner().unwrap() {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

/// Name of bench topic `index`: `bench.0042`.
pub fn bench_topic(index: usize) -> String {
    format!("bench.{index:04}")
}

/// Name of bench group `index`: `bench-group-007`.
pub fn bench_group(index: usize) -> String {
    format!("bench-group-{index:03}")
}

fn admin(bootstrap: &str) -> Result<AdminClient<DefaultClientContext>> {
    client::config(bootstrap)
        .create()
        .with_context(|| format!("cannot create an admin client for {bootstrap}"))
}

/// Creates the topics in CreateTopics requests of up to [`CREATE_TOPICS_CHUNK`] topics, then
/// waits until metadata shows every one of them with all its partitions.
fn create_topics(admin: &AdminClient<DefaultClientContext>, specs: &[TopicSpec]) -> Result<()> {
    let options = AdminOptions::new()
        .request_timeout(Some(REQUEST_TIMEOUT))
        .operation_timeout(Some(REQUEST_TIMEOUT));
    for chunk in specs.chunks(CREATE_TOPICS_CHUNK) {
        let new_topics: Vec<NewTopic> = chunk
            .iter()
            .map(|spec| {
                spec.config.iter().fold(
                    NewTopic::new(&spec.name, spec.partitions, TopicReplication::Fixed(1)),
                    |topic, &(key, value)| topic.set(key, value),
                )
            })
            .collect();
        let results = block_on(admin.create_topics(&new_topics, &options))
            .context("CreateTopics request failed")?;
        let failures: Vec<String> = results
            .into_iter()
            .filter_map(Result::err)
            .map(|(topic, code)| format!("{topic}: {code}"))
            .collect();
        if !failures.is_empty() {
            bail!("creating topics failed: {}", failures.join("; "));
        }
    }
    wait_for_topics(admin, specs)
}

fn wait_for_topics(admin: &AdminClient<DefaultClientContext>, specs: &[TopicSpec]) -> Result<()> {
    let partitions: u32 = specs.iter().map(|spec| spec.partitions.max(0) as u32).sum();
    let limit = METADATA_TIMEOUT + METADATA_TIMEOUT_PER_PARTITION * partitions;
    let deadline = Instant::now() + limit;
    loop {
        let metadata = admin
            .inner()
            .fetch_metadata(None, REQUEST_TIMEOUT)
            .context("fetching metadata")?;
        let missing: Vec<&TopicSpec> = specs
            .iter()
            .filter(|spec| {
                !metadata.topics().iter().any(|topic| {
                    topic.name() == spec.name
                        && topic.error().is_none()
                        && topic.partitions().len() == spec.partitions as usize
                })
            })
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            let names: Vec<String> = missing
                .iter()
                .take(5)
                .map(|spec| format!("{} ({} partitions)", spec.name, spec.partitions))
                .collect();
            bail!(
                "after {}s, metadata still lacks {} created topic(s), e.g. {}",
                limit.as_secs(),
                missing.len(),
                names.join(", ")
            );
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// Records delivery failures reported by librdkafka.
#[derive(Default)]
struct DeliveryTracker {
    failures: AtomicUsize,
    first: Mutex<Option<String>>,
}

impl ClientContext for DeliveryTracker {}

impl ProducerContext for DeliveryTracker {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if let Err((error, message)) = result {
            use rdkafka::message::Message;
            self.failures.fetch_add(1, Ordering::Relaxed);
            self.first.lock().unwrap().get_or_insert_with(|| {
                format!("{}[{}]: {error}", message.topic(), message.partition())
            });
        }
    }
}

/// One producer reused for all records of a seeding step.
struct SeedProducer {
    producer: BaseProducer<DeliveryTracker>,
    sent: usize,
}

impl SeedProducer {
    fn new(bootstrap: &str) -> Result<SeedProducer> {
        let producer = client::config(bootstrap)
            .set("linger.ms", "5")
            .set("batch.num.messages", "10000")
            .set("queue.buffering.max.messages", "1000000")
            .set("queue.buffering.max.kbytes", "1048576")
            .set("message.timeout.ms", "60000")
            .set("acks", "all")
            .create_with_context(DeliveryTracker::default())
            .with_context(|| format!("cannot create a producer for {bootstrap}"))?;
        Ok(SeedProducer { producer, sent: 0 })
    }

    fn send_numbered(
        &mut self,
        topic: &str,
        partition: i32,
        count: usize,
        value_size: usize,
    ) -> Result<()> {
        for n in 0..count {
            self.send(topic, partition, &format!("k-{n}"), &value(n, value_size))?;
        }
        Ok(())
    }

    fn send(&mut self, topic: &str, partition: i32, key: &str, value: &[u8]) -> Result<()> {
        let mut record = BaseRecord::to(topic)
            .partition(partition)
            .key(key)
            .payload(value);
        loop {
            match self.producer.send(record) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    record = back;
                    self.producer.poll(Duration::from_millis(20));
                }
                Err((error, _)) => {
                    return Err(anyhow!(error))
                        .with_context(|| format!("producing to {topic}[{partition}]"));
                }
            }
        }
        self.sent += 1;
        if self.sent.is_multiple_of(1000) {
            self.producer.poll(Duration::ZERO);
        }
        Ok(())
    }

    /// Waits until every record is delivered; fails if any was not.
    fn finish(self) -> Result<()> {
        self.producer
            .flush(Duration::from_secs(120))
            .context("records not delivered within 120s")?;
        let context = self.producer.context();
        let failures = context.failures.load(Ordering::Relaxed);
        if failures > 0 {
            bail!(
                "{failures} of {} records were not delivered, first: {}",
                self.sent,
                context.first.lock().unwrap().as_deref().unwrap_or("?")
            );
        }
        Ok(())
    }
}

/// `value-<n>-` padded with `.` (or cut) to `size` bytes.
fn value(n: usize, size: usize) -> Vec<u8> {
    let mut value = format!("value-{n}-").into_bytes();
    value.resize(size, b'.');
    value
}

/// Deletes the records of `topic[partition]` before offset `before` (DeleteRecords), as retention
/// would: the partition's log start offset moves to `before`. Returns the log start offset the
/// broker reports afterwards.
pub fn delete_records(bootstrap: &str, topic: &str, partition: i32, before: i64) -> Result<i64> {
    let admin = admin(bootstrap)?;
    let mut offsets = TopicPartitionList::with_capacity(1);
    offsets
        .add_partition_offset(topic, partition, Offset::Offset(before))
        .with_context(|| format!("offset {before} for {topic}[{partition}]"))?;
    let options = AdminOptions::new()
        .request_timeout(Some(REQUEST_TIMEOUT))
        .operation_timeout(Some(REQUEST_TIMEOUT));
    let result = block_on(admin.delete_records(&offsets, &options))
        .with_context(|| format!("DeleteRecords before {before} on {topic}[{partition}]"))?;
    let element = result
        .find_partition(topic, partition)
        .with_context(|| format!("DeleteRecords answered nothing for {topic}[{partition}]"))?;
    element
        .error()
        .with_context(|| format!("DeleteRecords before {before} on {topic}[{partition}]"))?;
    match element.offset() {
        Offset::Offset(low) => Ok(low),
        other => bail!("DeleteRecords on {topic}[{partition}] reports log start {other:?}"),
    }
}

/// One transaction of [`produce_transactions`]: `records` records, then a commit or an abort.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transaction {
    pub records: usize,
    pub commit: bool,
}

/// One record [`produce_transactions`] wrote, where it landed, and whether its transaction
/// committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionalRecord {
    pub offset: i64,
    pub key: String,
    pub value: Vec<u8>,
    pub committed: bool,
}

/// Delivery offsets by record number, for [`produce_transactions`].
#[derive(Default)]
struct OffsetTracker {
    offsets: Mutex<Vec<Result<i64, String>>>,
}

impl ClientContext for OffsetTracker {}

impl ProducerContext for OffsetTracker {
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, index: usize) {
        use rdkafka::message::Message;
        let outcome = match result {
            Ok(message) => Ok(message.offset()),
            Err((error, _)) => Err(error.to_string()),
        };
        let mut offsets = self.offsets.lock().unwrap();
        if offsets.len() <= index {
            offsets.resize(index + 1, Err("no delivery report".to_owned()));
        }
        offsets[index] = outcome;
    }
}

/// Writes `transactions` in order to `topic[partition]` with one transactional producer
/// (`transactional.id` = `transactional_id`), committing or aborting each. Record `n` of
/// transaction `t` has key `t<t>-k-<n>` and a `value_size`-byte value `t<t>-value-<n>-...`.
///
/// Every record is delivered before its transaction ends, aborted ones included, so the log
/// holds the records of an aborted transaction followed by its abort marker just as it holds a
/// committed one's followed by its commit marker (each marker takes an offset): only a
/// `read_committed` consumer skips the aborted records. Returns every record in log order.
pub fn produce_transactions(
    bootstrap: &str,
    transactional_id: &str,
    topic: &str,
    partition: i32,
    transactions: &[Transaction],
    value_size: usize,
) -> Result<Vec<TransactionalRecord>> {
    let producer: BaseProducer<OffsetTracker> = client::config(bootstrap)
        .set("transactional.id", transactional_id)
        .set("linger.ms", "5")
        .set("message.timeout.ms", "60000")
        .create_with_context(OffsetTracker::default())
        .with_context(|| format!("cannot create a transactional producer for {bootstrap}"))?;
    producer
        .init_transactions(REQUEST_TIMEOUT)
        .with_context(|| format!("initializing transactions of {transactional_id}"))?;
    let mut written = Vec::new();
    for (t, transaction) in transactions.iter().enumerate() {
        producer
            .begin_transaction()
            .with_context(|| format!("beginning transaction {t}"))?;
        for n in 0..transaction.records {
            let key = format!("t{t}-k-{n}");
            let mut value = format!("t{t}-value-{n}-").into_bytes();
            value.resize(value_size, b'.');
            let index = written.len();
            let mut record = BaseRecord::with_opaque_to(topic, index)
                .partition(partition)
                .key(&key)
                .payload(&value);
            loop {
                match producer.send(record) {
                    Ok(()) => break,
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                        record = back;
                        producer.poll(Duration::from_millis(20));
                    }
                    Err((error, _)) => {
                        return Err(anyhow!(error)).with_context(|| {
                            format!("producing to {topic}[{partition}] in transaction {t}")
                        });
                    }
                }
            }
            written.push(TransactionalRecord {
                offset: -1,
                key,
                value,
                committed: transaction.commit,
            });
        }
        // Delivered before the end: an abort would otherwise purge records still queued.
        producer
            .flush(REQUEST_TIMEOUT)
            .with_context(|| format!("delivering the records of transaction {t}"))?;
        if transaction.commit {
            producer
                .commit_transaction(REQUEST_TIMEOUT)
                .with_context(|| format!("committing transaction {t}"))?;
        } else {
            producer
                .abort_transaction(REQUEST_TIMEOUT)
                .with_context(|| format!("aborting transaction {t}"))?;
        }
    }
    let offsets = producer.context().offsets.lock().unwrap();
    for (index, record) in written.iter_mut().enumerate() {
        match offsets.get(index) {
            Some(Ok(offset)) => record.offset = *offset,
            Some(Err(error)) => {
                bail!("record {index} ({}) was not delivered: {error}", record.key)
            }
            None => bail!("record {index} ({}) got no delivery report", record.key),
        }
    }
    Ok(written)
}
