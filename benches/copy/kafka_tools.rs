//! Apache Kafka's own programs, from the jars `scripts/install-kafka.sh` installed: the perf
//! tools that measure the brokers' ceiling (kafka-producer-perf-test, kafka-consumer-perf-test),
//! and MirrorMaker 2 in dedicated mode (connect-mirror-maker.sh), with the JVM options their
//! start scripts use.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::Result;
use ferry_testbed::Distribution;
use ferry_testbed::broker_config::logging_config;

use crate::clients::DataSet;

/// kafka-producer-perf-test.sh and kafka-consumer-perf-test.sh set `-Xmx512M`.
const PERF_HEAP: &str = "-Xmx512M";
/// connect-mirror-maker.sh sets `-Xms256M -Xmx2G`.
const MIRROR_HEAP: [&str; 2] = ["-Xms256M", "-Xmx2G"];

/// The producer settings of the perf-test ceiling: those ferry's producer uses.
pub const PERF_PRODUCER_PROPS: &str =
    "acks=all linger.ms=5 batch.size=1048576 compression.type=none enable.idempotence=true";

fn java(
    release: &Distribution,
    work: &Path,
    heap: &[&str],
    main: &str,
    log: &str,
) -> Result<Command> {
    let logging = work.join("tools-log4j2.properties");
    fs::write(&logging, logging_config(false).replace("INFO", "WARN"))?;
    let mut options: Vec<String> = heap.iter().map(|s| s.to_string()).collect();
    options.push("-XX:+UseG1GC".into());
    options.push(format!("-Dlog4j2.configurationFile={}", logging.display()));
    let mut command = release.java_command(&options, main);
    command
        .stdin(Stdio::null())
        .stdout(fs::File::create(work.join(log))?)
        .stderr(fs::File::create(work.join(format!("{log}.err")))?);
    Ok(command)
}

/// kafka-producer-perf-test: the data set's record count and value size, as fast as it goes.
pub fn producer_perf(
    release: &Distribution,
    work: &Path,
    bootstrap: &str,
    topic: &str,
    data: &DataSet,
) -> Result<Command> {
    let mut command = java(
        release,
        work,
        &[PERF_HEAP],
        "org.apache.kafka.tools.ProducerPerformance",
        "producer-perf.log",
    )?;
    command
        .args(["--topic", topic])
        .args(["--num-records", &data.records.to_string()])
        .args(["--record-size", &data.value_size.to_string()])
        .args(["--throughput", "-1", "--producer-props"])
        .arg(format!("bootstrap.servers={bootstrap}"))
        .args(PERF_PRODUCER_PROPS.split(' '));
    Ok(command)
}

/// A group of its own for each consumer perf test: the tool commits, and a second run in the
/// same group would start at the end.
fn next_group() -> usize {
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// kafka-consumer-perf-test: reads the whole topic once.
pub fn consumer_perf(
    release: &Distribution,
    work: &Path,
    bootstrap: &str,
    topic: &str,
    data: &DataSet,
) -> Result<Command> {
    let mut command = java(
        release,
        work,
        &[PERF_HEAP],
        "org.apache.kafka.tools.ConsumerPerformance",
        "consumer-perf.log",
    )?;
    command
        .args(["--bootstrap-server", bootstrap, "--topic", topic])
        .args(["--num-records", &data.records.to_string()])
        .args(["--timeout", "120000", "--group"])
        .arg(format!("bench-consumer-perf-{}", next_group()));
    Ok(command)
}

/// MirrorMaker 2's throughput settings, written into the results file. They follow the
/// MirrorMaker 2 docs (KIP-382, "Geo-Replication" in Kafka's docs) and the usual tuning advice
/// for bulk replication: a task per partition, large producer batches with a short linger, large
/// fetches and polls, compression off (the values are incompressible). Checkpoints and group
/// offset sync every 5 s instead of the 60 s default, so that the translated offsets show within
/// the run; `offset.lag.max` keeps its default (100), which decides how often offsets are synced.
pub fn mirror_settings(partitions: i32) -> Vec<(String, String)> {
    [
        ("tasks.max", partitions.to_string()),
        ("target.producer.batch.size", "1048576".into()),
        ("target.producer.linger.ms", "5".into()),
        ("target.producer.buffer.memory", "67108864".into()),
        ("target.producer.compression.type", "none".into()),
        ("target.producer.acks", "all".into()),
        ("source.consumer.max.poll.records", "2000".into()),
        ("source.consumer.fetch.min.bytes", "1".into()),
        (
            "source.consumer.max.partition.fetch.bytes",
            "4194304".into(),
        ),
        ("emit.checkpoints.interval.seconds", "5".into()),
        ("sync.group.offsets.enabled", "true".into()),
        ("sync.group.offsets.interval.seconds", "5".into()),
        ("refresh.groups.interval.seconds", "5".into()),
        ("offset.lag.max", "100 (default)".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// MirrorMaker 2, dedicated mode, replicating `topic` and the groups matching `groups` from
/// `source` to `target` (the target topic is `source.TOPIC`, the default replication policy).
pub fn mirror_maker(
    release: &Distribution,
    work: &Path,
    source: &str,
    target: &str,
    topic: &str,
    groups: &str,
    partitions: i32,
) -> Result<Command> {
    let mut config = format!(
        "clusters = source, target\n\
         source.bootstrap.servers = {source}\n\
         target.bootstrap.servers = {target}\n\
         source->target.enabled = true\n\
         target->source.enabled = false\n\
         source->target.topics = {topic}\n\
         source->target.groups = {groups}\n\
         replication.factor = 1\n\
         checkpoints.topic.replication.factor = 1\n\
         heartbeats.topic.replication.factor = 1\n\
         offset-syncs.topic.replication.factor = 1\n\
         offset.storage.replication.factor = 1\n\
         status.storage.replication.factor = 1\n\
         config.storage.replication.factor = 1\n\
         sync.topic.configs.enabled = false\n\
         sync.topic.acls.enabled = false\n\
         refresh.topics.interval.seconds = 5\n"
    );
    for (key, value) in mirror_settings(partitions) {
        let value = value.split(' ').next().unwrap_or_default().to_owned();
        config.push_str(&format!("{key} = {value}\n"));
    }
    let file = work.join("mm2.properties");
    fs::write(&file, config)?;
    let mut command = java(
        release,
        work,
        &MIRROR_HEAP,
        "org.apache.kafka.connect.mirror.MirrorMaker",
        "mirror-maker.log",
    )?;
    command.arg(file);
    Ok(command)
}
