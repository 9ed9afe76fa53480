//! Copy throughput benchmark (issue 4, docs/benchmarks.md): `cargo bench --bench copy`, or
//! `scripts/bench-copy.sh`, which also writes the results file.
//!
//! Starts a source and a target tansu broker, seeds one 12-partition source topic with
//! incompressible records, then measures in the same run, each into a fresh target topic:
//! - the brokers' ceiling: raw fetch from the source with 1, 2, 4 and 6 parallel consumers (fetch
//!   is latency-bound per connection, so the best aggregate counts), and raw produce to the
//!   target with ferry's producer settings; then fetch and produce at the same time, since a copy
//!   makes both brokers work at once and on one machine they share its cores;
//! - naive consume-then-produce loops: the one of rdkafka's examples (each send awaited, run for
//!   20 s since it is far too slow for the whole data set) and a better one (sends handed over
//!   as records arrive, one flush at the end);
//! - ferry's copy engine, in a child process so that its peak RSS is its own; its copy is then
//!   compared with the source partition by partition (count and checksum).
//!
//! Environment: BENCH_RECORDS (default 1000000), BENCH_VALUE_SIZE (default 1024),
//! BENCH_PARTITIONS (default 12), BENCH_OUT (a file to write the results to).

use std::env;
use std::fmt::Write as _;
use std::process::{Command, ExitCode};
use std::thread;
use std::time::{Duration, Instant};

use ferry::copy::{CopyJob, PartitionChecksum, Until, copy_partitions};
use ferry_testbed::Testbed;
use ferry_testbed::seed::create_topic;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

const SOURCE_TOPIC: &str = "bench";
const CHILD_ENV: &str = "FERRY_BENCH_CHILD";
const TIMEOUT: Duration = Duration::from_secs(60);

fn main() -> ExitCode {
    if let Ok(spec) = env::var(CHILD_ENV) {
        return child(&spec);
    }
    // `cargo bench` passes `--bench`; a filter argument that does not name this bench skips it.
    if env::args()
        .skip(1)
        .any(|arg| !arg.starts_with('-') && !"copy".contains(arg.as_str()))
    {
        return ExitCode::SUCCESS;
    }
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("bench copy: {error:#}");
            ExitCode::FAILURE
        }
    }
}

struct Params {
    records: usize,
    value_size: usize,
    partitions: i32,
}

fn env_number(name: &str, default: usize) -> usize {
    env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn run() -> anyhow::Result<()> {
    let p = Params {
        records: env_number("BENCH_RECORDS", 1_000_000),
        value_size: env_number("BENCH_VALUE_SIZE", 1024),
        partitions: env_number("BENCH_PARTITIONS", 12) as i32,
    };
    let bytes = (p.records * p.value_size) as f64;
    let bed = Testbed::start()?;
    let (source, target) = (bed.source.bootstrap.clone(), bed.target.bootstrap.clone());
    let mut out = String::new();
    let mut line = |text: String| {
        eprintln!("bench copy: {text}");
        out.push_str(&text);
        out.push('\n');
    };
    line(format!(
        "data set: {} records x {} B values (incompressible) in {} partitions, {:.0} MiB",
        p.records,
        p.value_size,
        p.partitions,
        bytes / 1048576.0
    ));

    create_topic(&source, SOURCE_TOPIC, p.partitions, &[])?;
    let seconds = produce(&source, SOURCE_TOPIC, &p, &ClientConfig::new())?;
    line(format!(
        "seed (produce to source):        {}",
        rate(&p, seconds)
    ));

    create_topic(&target, "produce-ceiling", p.partitions, &[])?;
    let produce_seconds = produce(&target, "produce-ceiling", &p, &ferry_producer())?;
    line(format!(
        "raw produce to target:           {}",
        rate(&p, produce_seconds)
    ));

    let mut best_fetch = f64::MAX;
    for consumers in [1, 2, 4, 6] {
        let seconds = fetch(&source, &p, consumers)?;
        best_fetch = best_fetch.min(seconds);
        line(format!(
            "raw fetch, {consumers} consumer(s):          {}",
            rate(&p, seconds)
        ));
    }
    let ceiling = best_fetch.max(produce_seconds);
    line(format!(
        "ceiling min(best fetch, produce): {}",
        rate(&p, ceiling)
    ));
    // A copy makes both brokers work at once; on a machine they share, each runs slower than
    // alone. The same raw fetch (4 consumers) and raw produce, run at the same time, measure that.
    create_topic(&target, "produce-shared", p.partitions, &[])?;
    let shared = thread::scope(|scope| -> anyhow::Result<f64> {
        let fetching = scope.spawn(|| fetch(&source, &p, 4));
        let producing = produce(&target, "produce-shared", &p, &ferry_producer())?;
        let fetching = fetching.join().expect("fetch thread")?;
        Ok(fetching.max(producing))
    })?;
    line(format!(
        "ceiling, fetch and produce at once: {}",
        rate(&p, shared)
    ));

    create_topic(&target, "await-copy", p.partitions, &[])?;
    let (awaited, await_seconds) = await_each_copy(&source, &target, "await-copy", AWAIT_BUDGET)?;
    let await_rate = awaited as f64 / await_seconds;
    line(format!(
        "naive loop awaiting each send:   {:>8.1} MB/s {:>9.0} records/s ({awaited} records in {await_seconds:.1} s)",
        await_rate * p.value_size as f64 / 1e6,
        await_rate
    ));
    create_topic(&target, "naive-copy", p.partitions, &[])?;
    let naive = naive_copy(&source, &target, "naive-copy", &p)?;
    line(format!(
        "naive loop, send and flush once: {}",
        rate(&p, naive)
    ));

    create_topic(&target, "ferry-copy", p.partitions, &[])?;
    let (ferry, rss_kib) = ferry_copy(&source, &target, "ferry-copy", &p)?;
    line(format!(
        "ferry copy engine:               {}",
        rate(&p, ferry)
    ));
    line(format!(
        "ferry peak RSS:                  {} MiB",
        rss_kib / 1024
    ));
    check_copy(&source, &target, "ferry-copy", &p)?;
    line(format!(
        "ferry copy verified: {} partitions, counts and checksums equal to the source",
        p.partitions
    ));
    line(format!(
        "ratio to ceiling: {:.2} (goal >= 0.8), {:.2} to the ceiling at once; to the naive loop: {:.2} awaiting each send, {:.2} with one flush (goal >= 2)",
        ceiling / ferry,
        shared / ferry,
        (p.records as f64 / ferry) / await_rate,
        naive / ferry
    ));

    if let Ok(path) = env::var("BENCH_OUT") {
        std::fs::write(&path, out)?;
    }
    Ok(())
}

fn rate(p: &Params, seconds: f64) -> String {
    format!(
        "{:>8.1} MB/s {:>9.0} records/s ({seconds:.1} s)",
        (p.records * p.value_size) as f64 / 1e6 / seconds,
        p.records as f64 / seconds
    )
}

fn client(bootstrap: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", bootstrap);
    if let Ok(debug) = env::var("BENCH_DEBUG") {
        config.set("debug", debug);
    }
    config
}

/// The producer settings ferry's copy engine uses, for a like-for-like produce ceiling.
fn ferry_producer() -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("enable.gapless.guarantee", "true")
        .set("compression.type", "none")
        .set("linger.ms", "5");
    config
}

/// Incompressible bytes (xorshift), different per record.
fn value(n: usize, size: usize) -> Vec<u8> {
    let mut x = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..size)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Produces the data set to `topic`, records spread round-robin over partitions; returns seconds.
fn produce(bootstrap: &str, topic: &str, p: &Params, extra: &ClientConfig) -> anyhow::Result<f64> {
    let mut config = client(bootstrap);
    for (key, value) in extra.config_map().iter() {
        config.set(*key, *value);
    }
    let producer: BaseProducer = config.create()?;
    let started = Instant::now();
    for n in 0..p.records {
        let key = format!("k-{n}");
        let payload = value(n, p.value_size);
        let mut record = BaseRecord::to(topic)
            .partition((n % p.partitions as usize) as i32)
            .key(&key)
            .payload(&payload);
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    record = back;
                    producer.poll(Duration::from_millis(10));
                }
                Err((error, _)) => return Err(error.into()),
            }
        }
        producer.poll(Duration::ZERO);
    }
    producer.flush(Duration::from_secs(600))?;
    Ok(started.elapsed().as_secs_f64())
}

/// The end offset of every partition of `topic`.
fn ends(bootstrap: &str, topic: &str, partitions: i32) -> anyhow::Result<Vec<i64>> {
    let consumer: BaseConsumer = client(bootstrap).create()?;
    (0..partitions)
        .map(|partition| Ok(consumer.fetch_watermarks(topic, partition, TIMEOUT)?.1))
        .collect()
}

fn assigned_consumer(
    bootstrap: &str,
    topic: &str,
    partitions: &[i32],
) -> anyhow::Result<BaseConsumer> {
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

/// Reads the whole source topic with `consumers` consumers in parallel threads, partitions shared
/// round-robin; returns seconds.
fn fetch(bootstrap: &str, p: &Params, consumers: usize) -> anyhow::Result<f64> {
    let ends = ends(bootstrap, SOURCE_TOPIC, p.partitions)?;
    let started = Instant::now();
    thread::scope(|scope| {
        let handles: Vec<_> = (0..consumers)
            .map(|c| {
                let ends = &ends;
                scope.spawn(move || -> anyhow::Result<()> {
                    let mine: Vec<i32> = (0..p.partitions)
                        .filter(|partition| *partition as usize % consumers == c)
                        .collect();
                    let consumer = assigned_consumer(bootstrap, SOURCE_TOPIC, &mine)?;
                    let mut left: i64 = mine.iter().map(|&q| ends[q as usize]).sum();
                    while left > 0 {
                        match consumer.poll(TIMEOUT) {
                            Some(Ok(message)) => {
                                std::hint::black_box(message.payload());
                                left -= 1;
                            }
                            Some(Err(error)) => return Err(error.into()),
                            None => anyhow::bail!("fetch stalled with {left} records left"),
                        }
                    }
                    Ok(())
                })
            })
            .collect();
        handles
            .into_iter()
            .try_for_each(|handle| handle.join().expect("fetch thread"))
    })?;
    Ok(started.elapsed().as_secs_f64())
}

/// How long the await-each-send loop runs: it is far too slow to copy the whole data set.
const AWAIT_BUDGET: Duration = Duration::from_secs(20);

/// The loop of rdkafka's own examples: one consumer, a `FutureProducer`, each record's send
/// awaited before the next is read. Runs for `budget`; returns records copied and seconds.
fn await_each_copy(
    source: &str,
    target: &str,
    topic: &str,
    budget: Duration,
) -> anyhow::Result<(u64, f64)> {
    use rdkafka::producer::{FutureProducer, FutureRecord};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let partitions: Vec<i32> = (0..env_number("BENCH_PARTITIONS", 12) as i32).collect();
    let consumer = assigned_consumer(source, SOURCE_TOPIC, &partitions)?;
    let producer: FutureProducer = client(target).create()?;
    let started = Instant::now();
    let mut copied = 0;
    while started.elapsed() < budget {
        let message = match consumer.poll(TIMEOUT) {
            Some(Ok(message)) => message,
            Some(Err(error)) => return Err(error.into()),
            None => break,
        };
        let mut record = FutureRecord::<[u8], [u8]>::to(topic).partition(message.partition());
        if let Some(key) = message.key() {
            record = record.key(key);
        }
        if let Some(payload) = message.payload() {
            record = record.payload(payload);
        }
        runtime
            .block_on(producer.send(record, TIMEOUT))
            .map_err(|(error, _)| error)?;
        copied += 1;
    }
    Ok((copied, started.elapsed().as_secs_f64()))
}

/// One consumer, one producer with default settings, each record handed over as it arrives and
/// one flush at the end: the obvious loop once one knows sends are asynchronous. Returns seconds.
fn naive_copy(source: &str, target: &str, topic: &str, p: &Params) -> anyhow::Result<f64> {
    let all: Vec<i32> = (0..p.partitions).collect();
    let mut left: i64 = ends(source, SOURCE_TOPIC, p.partitions)?.iter().sum();
    let started = Instant::now();
    let consumer = assigned_consumer(source, SOURCE_TOPIC, &all)?;
    let producer: BaseProducer = client(target).create()?;
    while left > 0 {
        let message = match consumer.poll(TIMEOUT) {
            Some(Ok(message)) => message,
            Some(Err(error)) => return Err(error.into()),
            None => anyhow::bail!("naive copy stalled with {left} records left"),
        };
        let mut record = BaseRecord::<[u8], [u8]>::to(topic).partition(message.partition());
        if let Some(key) = message.key() {
            record = record.key(key);
        }
        if let Some(payload) = message.payload() {
            record = record.payload(payload);
        }
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    record = back;
                    producer.poll(Duration::from_millis(10));
                }
                Err((error, _)) => return Err(error.into()),
            }
        }
        producer.poll(Duration::ZERO);
        left -= 1;
    }
    producer.flush(Duration::from_secs(600))?;
    Ok(started.elapsed().as_secs_f64())
}

/// Runs ferry's copy in a child process (this binary again); returns its seconds and peak RSS.
fn ferry_copy(source: &str, target: &str, topic: &str, p: &Params) -> anyhow::Result<(f64, i64)> {
    let spec = format!("{source} {target} {topic} {}", p.partitions);
    let started = Instant::now();
    let status = Command::new(env::current_exe()?)
        .env(CHILD_ENV, spec)
        .status()?;
    let seconds = started.elapsed().as_secs_f64();
    anyhow::ensure!(status.success(), "the ferry copy child failed: {status}");
    // SAFETY: getrusage only writes the struct it is given.
    let usage = unsafe {
        let mut usage = std::mem::zeroed::<libc::rusage>();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage
    };
    eprintln!(
        "bench copy: ferry child cpu user {}s sys {}s",
        usage.ru_utime.tv_sec, usage.ru_stime.tv_sec
    );
    Ok((seconds, usage.ru_maxrss))
}

fn child(spec: &str) -> ExitCode {
    let parts: Vec<&str> = spec.split(' ').collect();
    let [source, target, topic, partitions] = parts[..] else {
        eprintln!("bad {CHILD_ENV}: {spec}");
        return ExitCode::FAILURE;
    };
    let partitions: i32 = partitions.parse().expect("partition count");
    let jobs: Vec<CopyJob> = (0..partitions)
        .map(|partition| CopyJob {
            source_topic: SOURCE_TOPIC.into(),
            target_topic: topic.into(),
            partition,
            start: 0,
            ..CopyJob::default()
        })
        .collect();
    let started = Instant::now();
    let progress = |p: &ferry::copy::CopyProgress| {
        eprintln!("bench copy:   ferry {}", p.summary(started.elapsed()));
    };
    match copy_partitions(
        &client(source),
        &client(target),
        &jobs,
        Until::CaughtUp,
        Duration::from_secs(300),
        &progress,
    ) {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("ferry copy failed: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Compares ferry's copy with the source partition by partition: record count and an
/// order-sensitive checksum of key, value, headers (without ferry's own) and timestamp.
fn check_copy(source: &str, target: &str, topic: &str, p: &Params) -> anyhow::Result<()> {
    for partition in 0..p.partitions {
        let a = checksum(source, SOURCE_TOPIC, partition)?;
        let b = checksum(target, topic, partition)?;
        anyhow::ensure!(
            a == b,
            "partition {partition}: source {a:?}, copy {b:?} (count, checksum)"
        );
    }
    Ok(())
}

fn checksum(bootstrap: &str, topic: &str, partition: i32) -> anyhow::Result<(u64, String)> {
    let end = ends(bootstrap, topic, partition + 1)?[partition as usize];
    let consumer = assigned_consumer(bootstrap, topic, &[partition])?;
    let mut sum = PartitionChecksum::default();
    let mut seen = 0;
    while seen < end {
        match consumer.poll(TIMEOUT) {
            Some(Ok(message)) => {
                sum.update_from(&message);
                seen = message.offset() + 1;
            }
            Some(Err(error)) => return Err(error.into()),
            None => anyhow::bail!("reading {topic}[{partition}] stalled at {seen}"),
        }
    }
    let mut text = String::new();
    write!(text, "{:x?}", sum.digest())?;
    Ok((sum.count(), text))
}
