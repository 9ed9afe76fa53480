//! Copy benchmark (issue 13, docs/benchmarks.md): `scripts/bench-copy.sh`, which runs this
//! (`cargo bench --bench copy`) for each data set and writes the results files.
//!
//! Starts a source and a target Apache Kafka broker (the test bed), seeds one source topic
//! (incompressible values with keys and a header), commits consumer groups at several points in
//! the middle of the data, then measures in the same run, each into a fresh target topic:
//! - the ceiling: Kafka's perf tools (producer and consumer) and librdkafka's raw fetch and
//!   produce, alone and at the same time (a copy makes both brokers work at once, and here they
//!   share two cores);
//! - the naive consume-then-produce loop;
//! - `ferry replicate --until-caught-up` and `ferry apply` (its copy step, and the whole run);
//! - MirrorMaker 2 in dedicated mode, from its start until the target holds every record, then
//!   its checkpoints' translated group offsets once they settled.
//!
//! Every copy is read back and compared with the source partition by partition. Each
//! measurement is a process of its own, so its CPU (user + system) and peak RSS are its own.
//!
//! Environment: BENCH_RECORDS (default 1000000), BENCH_VALUE_SIZE (default 1024),
//! BENCH_PARTITIONS (default 12), BENCH_OUT (a file to write the results to), BENCH_ONLY (a
//! comma-separated subset of ceiling, naive, replicate, apply, mm2: for profiling; no ratios),
//! FERRY_BENCH_VERBOSE (ferry runs with -vv), BENCH_KEEP (a directory to keep the work files in).

mod clients;
mod ferry_runs;
mod kafka_tools;
mod measure;
mod read_back;

use std::collections::HashSet;
use std::env;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use ferry_testbed::seed::{commit_offsets, create_topic};
use ferry_testbed::{Distribution, Testbed, inspect};
use rdkafka::consumer::{BaseConsumer, Consumer};

use clients::{DataSet, TIMEOUT};
use measure::{Measured, Usage, wait_until};
use read_back::{Commits, check_equal, read_topic, score, wanted_keys};

const SOURCE_TOPIC: &str = "bench";
const CHILD_ENV: &str = "FERRY_BENCH_CHILD";
/// Groups committed in the middle of the data, at these fractions of each partition.
const GROUP_POINTS: [f64; 4] = [0.2, 0.4, 0.6, 0.8];
const GROUP_PREFIX: &str = "bench-g";

fn main() -> ExitCode {
    let data = DataSet {
        records: env_number("BENCH_RECORDS", 1_000_000),
        value_size: env_number("BENCH_VALUE_SIZE", 1024),
        partitions: env_number("BENCH_PARTITIONS", 12) as i32,
    };
    if let Ok(spec) = env::var(CHILD_ENV) {
        return match clients::child(&spec, &data) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("bench copy child {spec}: {error:#}");
                ExitCode::FAILURE
            }
        };
    }
    // `cargo bench` passes `--bench`; a filter argument that does not name this bench skips it.
    if env::args()
        .skip(1)
        .any(|arg| !arg.starts_with('-') && !"copy".contains(arg.as_str()))
    {
        return ExitCode::SUCCESS;
    }
    match run(&data) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("bench copy: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn env_number(name: &str, default: usize) -> usize {
    env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One line of the results table.
struct Row {
    name: String,
    usage: Usage,
    records: usize,
    bytes: u64,
    note: String,
}

impl Row {
    fn mb_per_s(&self) -> f64 {
        self.bytes as f64 / 1e6 / self.usage.seconds
    }
    fn cpu_per_gib(&self) -> f64 {
        self.usage.cpu_seconds / (self.bytes as f64 / (1u64 << 30) as f64)
    }
    fn markdown(&self) -> String {
        format!(
            "| {} | {:.1} | {:.1} | {:.0} | {:.1} | {:.1} | {} | {} |",
            self.name,
            self.usage.seconds,
            self.mb_per_s(),
            self.records as f64 / self.usage.seconds,
            self.usage.cpu_seconds,
            self.cpu_per_gib(),
            self.usage.peak_rss_kib / 1024,
            self.note
        )
    }
}

struct Report {
    lines: String,
    rows: Vec<Row>,
}

impl Report {
    fn line(&mut self, text: String) {
        eprintln!("bench copy: {text}");
        self.lines.push_str(&text);
        self.lines.push('\n');
    }
    fn row(&mut self, row: Row) {
        eprintln!("bench copy: {}", row.markdown());
        self.rows.push(row);
    }
    fn find(&self, name: &str) -> &Row {
        self.rows
            .iter()
            .find(|r| r.name.starts_with(name))
            .expect("row measured")
    }
}

/// This binary again, in a child mode.
fn child(spec: String) -> Result<Command> {
    let mut command = Command::new(env::current_exe()?);
    command.env(CHILD_ENV, spec);
    Ok(command)
}

fn run(data: &DataSet) -> Result<()> {
    let bytes = data.bytes();
    let bed = Testbed::start()?;
    let release = Distribution::locate()?;
    let work = tempfile::Builder::new()
        .prefix("ferry-bench-copy-")
        .tempdir()?;
    let kept = env::var_os("BENCH_KEEP").map(std::path::PathBuf::from);
    let w = kept.as_deref().unwrap_or(work.path());
    std::fs::create_dir_all(w)?;
    let (source, target) = (bed.source.bootstrap.clone(), bed.target.bootstrap.clone());
    let mut report = Report {
        lines: String::new(),
        rows: Vec::new(),
    };
    report.line(format!(
        "data set: {} records x {} B values (incompressible), key `k-N` and one 8-byte header each, {} partitions: {:.0} MiB of keys, values and headers",
        data.records,
        data.value_size,
        data.partitions,
        bytes as f64 / 1048576.0
    ));

    create_topic(&source, SOURCE_TOPIC, data.partitions, &[])?;
    let seeding = Instant::now();
    clients::produce(&clients::ferry_producer(&source), SOURCE_TOPIC, data)?;
    report.line(format!("seed: {:.1} s", seeding.elapsed().as_secs_f64()));
    let commits = commit_groups(&source, data)?;
    let wanted = wanted_keys(&commits, data);
    let source_read = read_topic(&source, SOURCE_TOPIC, data, &wanted)?;
    let copy_row = |name: &str, usage: Usage, note: &str| Row {
        name: name.to_owned(),
        usage,
        records: data.records,
        bytes,
        note: note.to_owned(),
    };

    let only = env::var("BENCH_ONLY").unwrap_or_default();
    let wants = |section: &str| only.is_empty() || only.split(',').any(|s| s == section);

    // The ceiling.
    if wants("ceiling") {
        let perf_bytes = (data.records * data.value_size) as u64;
        create_topic(&target, "perf-produce", data.partitions, &[])?;
        let usage = Measured::spawn(
            kafka_tools::producer_perf(&release, w, &target, "perf-produce", data)?,
            "producer perf test",
        )?
        .wait()?;
        report.row(Row {
            name: "kafka-producer-perf-test (alone)".into(),
            usage,
            records: data.records,
            bytes: perf_bytes,
            note: "values only, no key or header".into(),
        });
        let usage = Measured::spawn(
            kafka_tools::consumer_perf(&release, w, &source, SOURCE_TOPIC, data)?,
            "consumer perf test",
        )?
        .wait()?;
        report.row(copy_row("kafka-consumer-perf-test (alone)", usage, ""));
        create_topic(&target, "perf-produce-shared", data.partitions, &[])?;
        let producing = Measured::spawn(
            kafka_tools::producer_perf(&release, w, &target, "perf-produce-shared", data)?,
            "producer perf test",
        )?;
        let consuming = Measured::spawn(
            kafka_tools::consumer_perf(&release, w, &source, SOURCE_TOPIC, data)?,
            "consumer perf test",
        )?;
        let usage = consuming.wait()?.alongside(producing.wait()?);
        report.row(Row {
            name: "Kafka perf tools, producer and consumer at once".into(),
            usage,
            records: data.records,
            bytes,
            note: "the slower of the two".into(),
        });

        for consumers in [1, 4] {
            let usage = Measured::spawn(
                child(format!("fetch {source} {SOURCE_TOPIC} {consumers}"))?,
                "raw fetch",
            )?
            .wait()?;
            report.row(copy_row(
                &format!("librdkafka raw fetch, {consumers} consumer(s) (alone)"),
                usage,
                "",
            ));
        }
        create_topic(&target, "raw-produce", data.partitions, &[])?;
        let usage = Measured::spawn(
            child(format!("produce {target} raw-produce"))?,
            "raw produce",
        )?
        .wait()?;
        report.row(copy_row(
            "librdkafka raw produce, ferry's settings (alone)",
            usage,
            "",
        ));
        create_topic(&target, "raw-produce-shared", data.partitions, &[])?;
        let producing = Measured::spawn(
            child(format!("produce {target} raw-produce-shared"))?,
            "raw produce",
        )?;
        let fetching = Measured::spawn(
            child(format!("fetch {source} {SOURCE_TOPIC} 4"))?,
            "raw fetch",
        )?;
        let usage = fetching.wait()?.alongside(producing.wait()?);
        report.row(copy_row(
            "librdkafka raw fetch (4) and produce at once",
            usage,
            "the slower of the two",
        ));
    }

    // The copies.
    if wants("naive") {
        create_topic(&target, "naive-copy", data.partitions, &[])?;
        let usage = Measured::spawn(
            child(format!("naive {source} {target} {SOURCE_TOPIC} naive-copy"))?,
            "naive loop",
        )?
        .wait()?;
        check_equal(
            &source_read,
            &read_topic(&target, "naive-copy", data, &HashSet::new())?,
            "the naive loop's copy",
        )?;
        report.row(copy_row(
            "naive consume-then-produce loop",
            usage,
            "verified",
        ));
    }

    let groups = format!("^{GROUP_PREFIX}");
    if wants("replicate") {
        let replicate_dir = w.join("replicate");
        ferry_runs::write_config(
            &replicate_dir,
            &source,
            &target,
            SOURCE_TOPIC,
            "ferry-replicate",
            &groups,
        )?;
        create_topic(&target, "ferry-replicate", data.partitions, &[])?;
        let usage = ferry_runs::replicate(&replicate_dir)?;
        check_equal(
            &source_read,
            &read_topic(&target, "ferry-replicate", data, &HashSet::new())?,
            "ferry replicate's copy",
        )?;
        report.row(copy_row(
            "**ferry replicate --until-caught-up**",
            usage,
            "verified; whole process",
        ));
    }
    let mut scores = Vec::new();
    if wants("apply") {
        let apply_dir = w.join("apply");
        ferry_runs::write_config(
            &apply_dir,
            &source,
            &target,
            SOURCE_TOPIC,
            "ferry-apply",
            &groups,
        )?;
        let applied = ferry_runs::apply(&apply_dir)?;
        let ferry_read = read_topic(&target, "ferry-apply", data, &wanted)?;
        check_equal(&source_read, &ferry_read, "ferry apply's copy")?;
        report.row(copy_row(
            "**ferry apply, copy step**",
            applied.copy_step,
            "verified; fenced (transactions)",
        ));
        report.row(copy_row(
            "ferry apply, whole run",
            applied.whole,
            "topic, copy, catch-up with verification, offsets, drain, verify",
        ));
        let ferry_offsets = translated(&target, &commits, "ferry-apply")?;
        scores.push(("ferry", score(&commits, &ferry_offsets, &ferry_read, data)?));
    }
    if wants("mm2") {
        let (mm2_usage, mm2_first, mm2_offsets) =
            mirror_maker(&release, w, &source, &target, data, &commits)?;
        let mm2_read = read_topic(&target, "source.bench", data, &wanted)?;
        check_equal(&source_read, &mm2_read, "MirrorMaker 2's copy")?;
        report.row(copy_row(
            "**MirrorMaker 2** (dedicated mode)",
            mm2_usage,
            &format!("verified; first record on the target after {mm2_first:.1} s"),
        ));
        scores.push((
            "MirrorMaker 2",
            score(&commits, &mm2_offsets, &mm2_read, data)?,
        ));
    }

    if only.is_empty() {
        ratios(&mut report);
    }
    for (who, s) in scores {
        report.line(format!(
            "offset translation, {who}: {} group positions, {} records would be reprocessed, {} skipped, {} positions not translated",
            s.positions, s.reprocessed, s.skipped, s.missing
        ));
    }
    report.line(format!(
        "MirrorMaker 2 settings: {}",
        kafka_tools::mirror_settings(data.partitions)
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    report.line(format!(
        "perf-test producer settings: {}",
        kafka_tools::PERF_PRODUCER_PROPS
    ));

    let mut out = String::from(
        "| measurement | seconds | MB/s | records/s | CPU s | CPU s per GiB | peak RSS MiB | note |\n|---|---|---|---|---|---|---|---|\n",
    );
    for row in &report.rows {
        out.push_str(&row.markdown());
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&report.lines);
    eprintln!("{out}");
    if let Ok(path) = env::var("BENCH_OUT") {
        std::fs::write(&path, out)?;
    }
    Ok(())
}

/// Commits one group per point of [`GROUP_POINTS`] on the source, each in the middle of every
/// partition (a little further along per partition, so no two positions coincide).
fn commit_groups(source: &str, data: &DataSet) -> Result<Commits> {
    let per_partition = (data.records / data.partitions as usize) as i64;
    let mut commits = Commits::new();
    for (g, point) in GROUP_POINTS.iter().enumerate() {
        let group = format!("{GROUP_PREFIX}{}", g + 1);
        let offsets: Vec<(&str, i32, i64)> = (0..data.partitions)
            .map(|p| {
                (
                    SOURCE_TOPIC,
                    p,
                    ((per_partition as f64 * point) as i64 + 7 * p as i64).min(per_partition - 1),
                )
            })
            .collect();
        commit_offsets(source, &group, &offsets)?;
        commits.extend(offsets.iter().map(|&(_, p, o)| (group.clone(), p, o)));
    }
    Ok(commits)
}

/// The target offsets committed for each of `commits`' groups and partitions on `topic`.
fn translated(target: &str, commits: &Commits, topic: &str) -> Result<Vec<Option<i64>>> {
    commits
        .iter()
        .map(|(group, partition, _)| {
            Ok(inspect::committed_offsets(target, group, &[(topic, *partition)])?[0])
        })
        .collect()
}

/// Runs MirrorMaker 2 until the target holds every record (its usage then, and when the first
/// record arrived), then until its translated group offsets settled (unchanged over two sync
/// intervals, or three minutes), and stops it.
fn mirror_maker(
    release: &Distribution,
    w: &std::path::Path,
    source: &str,
    target: &str,
    data: &DataSet,
    commits: &Commits,
) -> Result<(Usage, f64, Vec<Option<i64>>)> {
    const TOPIC: &str = "source.bench";
    let groups = format!("{GROUP_PREFIX}.*");
    let run = Measured::spawn(
        kafka_tools::mirror_maker(
            release,
            w,
            source,
            target,
            SOURCE_TOPIC,
            &groups,
            data.partitions,
        )?,
        "MirrorMaker 2",
    )?;
    let probe: BaseConsumer = clients::client(target)
        .set("isolation.level", "read_uncommitted")
        .create()?;
    let held = || -> i64 {
        (0..data.partitions)
            .map(|p| {
                probe
                    .fetch_watermarks(TOPIC, p, TIMEOUT)
                    .map(|(_, high)| high)
                    .unwrap_or(0)
            })
            .sum()
    };
    let mut first = None;
    let limit = Duration::from_secs(1800);
    wait_until("MirrorMaker 2 to copy every record", limit, || {
        let held = held();
        if held > 0 && first.is_none() {
            first = Some(run.started.elapsed().as_secs_f64());
        }
        Ok(held >= data.records as i64)
    })
    .with_context(|| format!("see {}", w.join("mirror-maker.log").display()))?;
    let usage = run.sample()?;
    // Checkpoints every 5 s, group offset sync every 5 s: settled once unchanged for 11 s.
    let mut last: (Vec<Option<i64>>, Instant) =
        (translated(target, commits, TOPIC)?, Instant::now());
    let deadline = Instant::now() + Duration::from_secs(180);
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_secs(1));
        let now = translated(target, commits, TOPIC)?;
        if now != last.0 {
            last = (now, Instant::now());
        } else if now.iter().all(Option::is_some) && last.1.elapsed() > Duration::from_secs(11) {
            break;
        }
    }
    run.stop();
    Ok((usage, first.unwrap_or(0.0), last.0))
}

fn ratios(report: &mut Report) {
    let mm2_row = report.find("**MirrorMaker 2**");
    let (mm2_rate, mm2_cpu) = (mm2_row.mb_per_s(), mm2_row.cpu_per_gib());
    let kafka_at_once = report
        .find("Kafka perf tools, producer and consumer at once")
        .mb_per_s();
    let raw_at_once = report
        .find("librdkafka raw fetch (4) and produce at once")
        .mb_per_s();
    let ceiling = kafka_at_once.max(raw_at_once);
    let mut lines = Vec::new();
    for name in ["**ferry replicate", "**ferry apply, copy step"] {
        let row = report.find(name);
        lines.push(format!(
            "{}: {:.2}x MirrorMaker 2's throughput (goal >= 2), {:.2}x its CPU per GiB (goal <= 0.5), {:.2} of the ceiling at once (goal >= 0.8), peak RSS {} MiB (goal < 256)",
            row.name.trim_matches('*'),
            row.mb_per_s() / mm2_rate,
            row.cpu_per_gib() / mm2_cpu,
            row.mb_per_s() / ceiling,
            row.usage.peak_rss_kib / 1024
        ));
    }
    lines.push(format!("ceiling at once: {ceiling:.1} MB/s (Kafka perf tools {kafka_at_once:.1}, librdkafka {raw_at_once:.1})"));
    for line in lines {
        report.line(line);
    }
}
