//! A small real Kafka client application, for end-to-end tests of ferry's client switches.
//!
//! `ferry-testbed app produce` writes a numbered stream (value and key = the decimal sequence
//! number, round-robin over the partitions, acks=all, idempotent) and keeps the last number
//! acknowledged in a progress file; `ferry-testbed app consume` reads a topic in a consumer group
//! and appends every number it processes to an output file, committing after processing
//! (at-least-once). Both stop cleanly on SIGTERM, which is how a deployment system stops them.
//!
//! Hooks "repoint" them the way a deployment system would: stop the process, change its
//! configuration (the bootstrap file), start it again. [`App`] is one such deployed application
//! in a directory of its own:
//!
//! | file        | content                                                                  |
//! |-------------|--------------------------------------------------------------------------|
//! | `bootstrap` | the cluster to use, read by the app when it starts                       |
//! | `pid`       | pid of the running process (absent when stopped)                         |
//! | `log`       | the app's stdout and stderr, across restarts                             |
//! | `start.sh`  | starts the app in the background against `bootstrap`, writes `pid`       |
//! | `stop.sh`   | SIGTERM to `pid`, waits until the process is gone                        |
//! | `progress`  | producer: last acknowledged number (every lower number is acknowledged)  |
//! | `runs`      | producer: one line per finished run, `BOOTSTRAP FIRST LAST`              |
//! | `out`       | consumer: every number processed, one per line, across restarts          |
//!
//! [`write_hook`] writes a hook script for ferry out of [`HookAction`]s on such apps, using the
//! `FERRY_TARGET_BOOTSTRAP` variable ferry sets for hooks.
//!
//! Every app started through this module watches the test process that created its [`App`]
//! (`--watch-pid`) and exits when it is gone, so a test killed outright leaves none behind, also of
//! those a hook restarted (which are not the test's children).

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::thread::sleep;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use rdkafka::client::ClientContext;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::message::Message;
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

use crate::spawn::spawn_tied_to_process;

/// Timeout of one request to the broker.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a stopping producer waits for the acknowledgements of records in flight.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(30);
/// How long [`App::stop`] waits after SIGTERM before SIGKILL.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);
/// How often the apps check the watched pid.
const WATCH_INTERVAL: Duration = Duration::from_millis(500);
/// Most records a consumer processes before it commits.
const MAX_BATCH: usize = 500;

// ---------------------------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------------------------

/// `ferry-testbed app ...`
#[derive(Debug, Clone, clap::Subcommand)]
pub enum AppCommand {
    /// Produce a numbered stream: values (and keys) K..K+C as decimal text, round-robin over
    /// the partitions, at about R records per second; acks=all, idempotent. Exits when every
    /// record is acknowledged, or on SIGTERM after the records in flight are.
    Produce(ProduceArgs),
    /// Consume a topic in a group (auto.offset.reset=latest), appending each number to a file
    /// and committing after processing; runs until SIGTERM.
    Consume(ConsumeArgs),
}

/// Where the cluster is: given directly, or read from a file when the app starts.
#[derive(Debug, Clone, clap::Args)]
#[group(required = true, multiple = false)]
pub struct BootstrapArgs {
    /// Bootstrap servers, `host:port[,host:port]`.
    #[arg(long)]
    pub bootstrap: Option<String>,
    /// A file holding the bootstrap servers, read once at start (a hook rewrites it and
    /// restarts the app to repoint it).
    #[arg(long)]
    pub bootstrap_file: Option<PathBuf>,
}

impl BootstrapArgs {
    fn resolve(&self) -> Result<String> {
        let text = match (&self.bootstrap, &self.bootstrap_file) {
            (Some(servers), _) => servers.clone(),
            (None, Some(path)) => fs::read_to_string(path)
                .with_context(|| format!("cannot read the bootstrap file {}", path.display()))?,
            (None, None) => bail!("give --bootstrap or --bootstrap-file"),
        };
        let servers = text.trim();
        if servers.is_empty() {
            bail!("the bootstrap servers are empty");
        }
        Ok(servers.to_owned())
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct ProduceArgs {
    #[command(flatten)]
    pub bootstrap: BootstrapArgs,
    /// The topic to produce to (it must exist).
    #[arg(long)]
    pub topic: String,
    /// Record n goes to partition n % N.
    #[arg(long)]
    pub partitions: i32,
    /// First number of the stream.
    #[arg(long, default_value_t = 0)]
    pub from: u64,
    /// How many numbers the stream has: K..K+C.
    #[arg(long)]
    pub count: u64,
    /// Records per second, `R` or `R/s`.
    #[arg(long, default_value = "500/s", value_parser = parse_rate)]
    pub rate: f64,
    /// Keeps the last acknowledged number (every lower number of this run is acknowledged too),
    /// replaced atomically as acknowledgements arrive; `K-1` before the first.
    #[arg(long)]
    pub progress: Option<PathBuf>,
    /// Continue the stream after the number in --progress (when the file exists) instead of
    /// starting at --from: a restarted producer does not repeat or skip numbers.
    #[arg(long, requires = "progress")]
    pub resume: bool,
    /// Appends `BOOTSTRAP FIRST LAST` (LAST: last acknowledged) when the run ends.
    #[arg(long)]
    pub runs: Option<PathBuf>,
    /// Stop (as on SIGTERM) once this process is gone.
    #[arg(long)]
    pub watch_pid: Option<u32>,
}

#[derive(Debug, Clone, clap::Args)]
pub struct ConsumeArgs {
    #[command(flatten)]
    pub bootstrap: BootstrapArgs,
    /// The consumer group (group.id).
    #[arg(long)]
    pub group: String,
    /// The topic to subscribe to.
    #[arg(long)]
    pub topic: String,
    /// Every processed number is appended here, one per line.
    #[arg(long)]
    pub out: PathBuf,
    /// Stop (as on SIGTERM) once this process is gone.
    #[arg(long)]
    pub watch_pid: Option<u32>,
    /// Before joining the group, wait while this file exists: lets a test choose the moment the
    /// consumer joins (and commits), independently of when a hook started it.
    #[arg(long)]
    pub hold_while: Option<PathBuf>,
}

fn parse_rate(text: &str) -> Result<f64, String> {
    let number = text.trim().trim_end_matches("/s");
    match number.parse::<f64>() {
        Ok(rate) if rate > 0.0 && rate.is_finite() => Ok(rate),
        _ => Err(format!(
            "expected a positive number of records per second, like 500 or 500/s, got {text:?}"
        )),
    }
}

/// Runs `ferry-testbed app ...`; returns the exit code.
pub fn run(command: AppCommand) -> Result<u8> {
    install_stop_handlers();
    match command {
        AppCommand::Produce(args) => produce(&args),
        AppCommand::Consume(args) => consume(&args),
    }
}

// ---------------------------------------------------------------------------------------------
// Stopping: SIGTERM/SIGINT, or the watched process is gone
// ---------------------------------------------------------------------------------------------

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_stop_signal(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

fn install_stop_handlers() {
    for signal in [libc::SIGTERM, libc::SIGINT] {
        // SAFETY: the handler only stores into an atomic, which is async-signal-safe.
        unsafe {
            libc::signal(
                signal,
                on_stop_signal as extern "C" fn(libc::c_int) as libc::sighandler_t,
            );
        }
    }
}

/// Tells when the app should stop.
struct Stopper {
    watch_pid: Option<u32>,
    checked: Instant,
}

impl Stopper {
    fn new(watch_pid: Option<u32>) -> Stopper {
        Stopper {
            watch_pid,
            checked: Instant::now(),
        }
    }

    fn requested(&mut self) -> bool {
        if STOP.load(Ordering::SeqCst) {
            return true;
        }
        if let Some(pid) = self.watch_pid
            && self.checked.elapsed() >= WATCH_INTERVAL
        {
            self.checked = Instant::now();
            if !process_alive(pid) {
                eprintln!("app: watched process {pid} is gone: stopping");
                STOP.store(true, Ordering::SeqCst);
                return true;
            }
        }
        false
    }
}

/// True while `pid` exists and is not a zombie (an exited child nobody reaped yet, or an orphan
/// whose adoptive parent does not reap).
pub fn process_alive(pid: u32) -> bool {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // "PID (COMM) STATE ...": COMM may hold spaces and parentheses, so split at the last ") ".
    match stat.rsplit_once(") ") {
        Some((_, rest)) => !matches!(rest.chars().next(), Some('Z' | 'X')),
        None => false,
    }
}

// ---------------------------------------------------------------------------------------------
// Producer
// ---------------------------------------------------------------------------------------------

/// Which numbers of this run are acknowledged.
#[derive(Debug)]
struct Acks {
    /// Every number up to and including this one is acknowledged (first - 1 before any).
    contiguous: i64,
    /// Acknowledged numbers above `contiguous + 1` (acknowledgements of different partitions
    /// arrive in any order).
    above: BTreeSet<i64>,
    failed: u64,
}

impl Acks {
    fn ack(&mut self, number: i64) {
        if number <= self.contiguous {
            return;
        }
        self.above.insert(number);
        while self.above.remove(&(self.contiguous + 1)) {
            self.contiguous += 1;
        }
    }
}

struct ProduceContext {
    acks: Arc<Mutex<Acks>>,
}

impl ClientContext for ProduceContext {}

impl ProducerContext for ProduceContext {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        match result {
            Ok(message) => match message.payload().and_then(number_of) {
                Some(number) => lock(&self.acks).ack(number),
                None => eprintln!("app: acknowledged a record that holds no number"),
            },
            Err((error, message)) => {
                let number = message.payload().and_then(number_of);
                eprintln!("app: delivery of {number:?} failed: {error}");
                lock(&self.acks).failed += 1;
            }
        }
    }
}

fn number_of(payload: &[u8]) -> Option<i64> {
    std::str::from_utf8(payload).ok()?.trim().parse().ok()
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn produce(args: &ProduceArgs) -> Result<u8> {
    if args.partitions < 1 {
        bail!("--partitions must be at least 1");
    }
    let bootstrap = args.bootstrap.resolve()?;
    let end = args
        .from
        .checked_add(args.count)
        .context("--from + --count overflows")? as i64;
    let mut first = args.from as i64;
    if args.resume
        && let Some(path) = &args.progress
        && let Some(last) = read_number(path)?
    {
        first = first.max(last + 1);
    }
    let acks = Arc::new(Mutex::new(Acks {
        contiguous: first - 1,
        above: BTreeSet::new(),
        failed: 0,
    }));
    let producer: BaseProducer<ProduceContext> = client_config(&bootstrap)
        .set("acks", "all")
        .set("enable.idempotence", "true")
        .set("linger.ms", "5")
        .create_with_context(ProduceContext {
            acks: Arc::clone(&acks),
        })
        .context("cannot create the producer")?;
    eprintln!(
        "app: producing {first}..{end} to {} on {bootstrap} ({} partitions, {}/s)",
        args.topic, args.partitions, args.rate
    );

    let mut progress = ProgressWriter::new(args.progress.clone());
    progress.write(first - 1, true)?;
    let mut stopper = Stopper::new(args.watch_pid);
    let started = Instant::now();
    let mut next = first;
    'produce: while next < end {
        // Pace the stream: record `next` is due (next - first) / rate seconds after the start.
        let due = started + Duration::from_secs_f64((next - first) as f64 / args.rate);
        loop {
            if stopper.requested() {
                break 'produce;
            }
            let now = Instant::now();
            if now >= due {
                break;
            }
            producer.poll((due - now).min(Duration::from_millis(10)));
            progress.write(lock(&acks).contiguous, false)?;
        }
        let text = next.to_string();
        let partition = (next % i64::from(args.partitions)) as i32;
        let mut record = BaseRecord::to(&args.topic)
            .partition(partition)
            .key(&text)
            .payload(&text);
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((error, returned))
                    if error.rdkafka_error_code() == Some(RDKafkaErrorCode::QueueFull) =>
                {
                    record = returned;
                    producer.poll(Duration::from_millis(50));
                }
                Err((error, _)) => {
                    return Err(anyhow!(error).context(format!("cannot produce {next}")));
                }
            }
        }
        next += 1;
        producer.poll(Duration::ZERO);
        progress.write(lock(&acks).contiguous, false)?;
    }

    // Stopping (done, or asked to): every record handed to librdkafka is acknowledged first.
    let flush_deadline = Instant::now() + FLUSH_TIMEOUT;
    while producer.in_flight_count() > 0 && Instant::now() < flush_deadline {
        producer.poll(Duration::from_millis(50));
    }
    let in_flight = producer.in_flight_count();
    let (last, failed) = {
        let acks = lock(&acks);
        (acks.contiguous, acks.failed)
    };
    progress.write(last, true)?;
    if let Some(path) = &args.runs {
        let mut runs = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        writeln!(runs, "{bootstrap} {first} {last}")
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let stopped = if next < end { " (stopped)" } else { "" };
    eprintln!(
        "app: sent {first}..{next}{stopped}, acknowledged through {last}, {failed} failed, {in_flight} unacknowledged"
    );
    Ok(if failed > 0 || in_flight > 0 { 1 } else { 0 })
}

/// Replaces the progress file atomically (temp file, rename) when the number changed.
struct ProgressWriter {
    path: Option<PathBuf>,
    written: Option<i64>,
    at: Instant,
}

impl ProgressWriter {
    fn new(path: Option<PathBuf>) -> ProgressWriter {
        ProgressWriter {
            path,
            written: None,
            at: Instant::now(),
        }
    }

    /// Writes `last` if it changed; unless `now`, at most every 20 ms.
    fn write(&mut self, last: i64, now: bool) -> Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        if self.written == Some(last) || (!now && self.at.elapsed() < Duration::from_millis(20)) {
            return Ok(());
        }
        write_atomically(path, &format!("{last}\n"))?;
        self.written = Some(last);
        self.at = Instant::now();
        Ok(())
    }
}

fn write_atomically(path: &Path, text: &str) -> Result<()> {
    let mut temp = path.as_os_str().to_owned();
    temp.push(".tmp");
    let temp = PathBuf::from(temp);
    fs::write(&temp, text).with_context(|| format!("cannot write {}", temp.display()))?;
    fs::rename(&temp, path).with_context(|| format!("cannot replace {}", path.display()))
}

/// The number in a file holding one, None when the file does not exist.
fn read_number(path: &Path) -> Result<Option<i64>> {
    match fs::read_to_string(path) {
        Ok(text) => text
            .trim()
            .parse()
            .map(Some)
            .with_context(|| format!("{} holds no number: {text:?}", path.display())),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(anyhow!(error).context(format!("cannot read {}", path.display()))),
    }
}

fn client_config(bootstrap: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", bootstrap)
        .set("client.id", "ferry-testbed-app")
        .set("socket.timeout.ms", "30000");
    config
}

// ---------------------------------------------------------------------------------------------
// Consumer
// ---------------------------------------------------------------------------------------------

/// Hands the latest assignment from the rebalance callback to the consume loop.
struct ConsumeContext {
    assigned: Mutex<Option<TopicPartitionList>>,
}

impl ClientContext for ConsumeContext {}

impl ConsumerContext for ConsumeContext {
    fn post_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(partitions) => {
                *lock(&self.assigned) = Some((*partitions).clone());
            }
            Rebalance::Revoke(_) => *lock(&self.assigned) = None,
            Rebalance::Error(error) => eprintln!("app: rebalance error: {error}"),
        }
    }
}

fn consume(args: &ConsumeArgs) -> Result<u8> {
    if let Some(hold) = &args.hold_while {
        while hold.exists() {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    let bootstrap = args.bootstrap.resolve()?;
    let consumer: BaseConsumer<ConsumeContext> = client_config(&bootstrap)
        .set("group.id", &args.group)
        // Deliberately latest: the trap of a group that first appears on a new cluster.
        // single_consume's start-offset commit must keep this consumer from skipping a backlog.
        .set("auto.offset.reset", "latest")
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("session.timeout.ms", "10000")
        .create_with_context(ConsumeContext {
            assigned: Mutex::new(None),
        })
        .context("cannot create the consumer")?;
    consumer
        .subscribe(&[&args.topic])
        .with_context(|| format!("cannot subscribe to {}", args.topic))?;
    let mut out = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&args.out)
        .with_context(|| format!("cannot open {}", args.out.display()))?;
    eprintln!(
        "app: consuming {} in group {} on {bootstrap}",
        args.topic, args.group
    );

    let mut stopper = Stopper::new(args.watch_pid);
    let mut processed = 0u64;
    while !stopper.requested() {
        let assigned = lock(&consumer.context().assigned).take();
        if let Some(assigned) = assigned
            && let Err(error) = commit_assigned_positions(&consumer, &assigned)
        {
            // Tried again on the next round, unless a rebalance replaced the assignment meanwhile.
            eprintln!("app: cannot commit the assigned positions (trying again): {error:#}");
            lock(&consumer.context().assigned).get_or_insert(assigned);
        }
        let mut batch: BTreeMap<(String, i32), i64> = BTreeMap::new();
        let mut wait = Duration::from_millis(100);
        while batch.len() < MAX_BATCH {
            let Some(result) = consumer.poll(wait) else {
                break;
            };
            wait = Duration::ZERO;
            let message = match result {
                Ok(message) => message,
                Err(error) => {
                    eprintln!("app: consume error: {error}");
                    break;
                }
            };
            let Some(number) = message.payload().and_then(number_of) else {
                eprintln!(
                    "app: {}[{}]@{} holds no number",
                    message.topic(),
                    message.partition(),
                    message.offset()
                );
                continue;
            };
            // Processing: the number is appended and flushed (one write) before it is committed.
            out.write_all(format!("{number}\n").as_bytes())
                .with_context(|| format!("cannot write {}", args.out.display()))?;
            processed += 1;
            batch.insert(
                (message.topic().to_owned(), message.partition()),
                message.offset() + 1,
            );
        }
        if !batch.is_empty() {
            let mut offsets = TopicPartitionList::new();
            for ((topic, partition), offset) in &batch {
                offsets.add_partition_offset(topic, *partition, Offset::Offset(*offset))?;
            }
            // A commit can fail across a rebalance; the records are then processed again by the
            // partition's next owner (at-least-once), so it is reported, not fatal.
            if let Err(error) = consumer.commit(&offsets, CommitMode::Sync) {
                eprintln!("app: commit failed: {error}");
            }
        }
    }
    consumer.unsubscribe();
    eprintln!("app: stopped after processing {processed} records");
    Ok(0)
}

/// Commits the position the consumer starts at on each newly assigned partition: its committed
/// offset, or where auto.offset.reset=latest puts it (the end of the partition).
///
/// Why: a real application commits where it starts, and ferry's "group has active members" wait
/// reads membership from DescribeGroups, falling back to "the group's committed offsets on that
/// cluster moved" only on a broker that cannot describe groups. A new consumer of an idle topic
/// (dual_consume's target consumers, before producers move) would commit nothing until records
/// arrive, so without this commit such a broker could not see it is alive.
fn commit_assigned_positions(
    consumer: &BaseConsumer<ConsumeContext>,
    assigned: &TopicPartitionList,
) -> Result<()> {
    if assigned.count() == 0 {
        return Ok(());
    }
    let committed = consumer
        .committed_offsets(assigned.clone(), REQUEST_TIMEOUT)
        .context("cannot read the group's committed offsets")?;
    let mut positions = TopicPartitionList::new();
    let mut shown = Vec::new();
    for element in committed.elements() {
        let (topic, partition) = (element.topic(), element.partition());
        let position = match element.offset() {
            Offset::Offset(offset) => offset,
            _ => {
                consumer
                    .fetch_watermarks(topic, partition, REQUEST_TIMEOUT)
                    .with_context(|| format!("cannot read the end of {topic}[{partition}]"))?
                    .1
            }
        };
        positions.add_partition_offset(topic, partition, Offset::Offset(position))?;
        shown.push(format!("{topic}[{partition}]@{position}"));
    }
    consumer
        .commit(&positions, CommitMode::Sync)
        .context("cannot commit")?;
    eprintln!("app: assigned, committed positions {}", shown.join(" "));
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Test helpers: deployed apps, hook scripts
// ---------------------------------------------------------------------------------------------

/// The `ferry-testbed` binary: `$FERRY_TESTBED_BIN` if set, else built (once per process) by
/// cargo in the profile of the running test, so that it is never an outdated build.
pub fn binary() -> Result<PathBuf> {
    static BINARY: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BINARY
        .get_or_init(|| {
            if let Some(path) = std::env::var_os("FERRY_TESTBED_BIN").filter(|p| !p.is_empty()) {
                return Ok(PathBuf::from(path));
            }
            build_binary().map_err(|error| format!("{error:#}"))
        })
        .clone()
        .map_err(|error| anyhow!(error))
}

fn build_binary() -> Result<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let mut command = Command::new(&cargo);
    command
        .arg("build")
        .arg("--manifest-path")
        .arg(&manifest)
        .args([
            "--bin",
            "ferry-testbed",
            "--message-format=json-render-diagnostics",
        ]);
    // Test executables live in target/PROFILE/deps: build the same profile.
    let exe = std::env::current_exe().context("cannot find the running executable")?;
    let profile_dir = exe
        .parent()
        .filter(|dir| dir.file_name().is_some_and(|name| name == "deps"))
        .and_then(Path::parent)
        .or_else(|| exe.parent())
        .and_then(Path::file_name)
        .and_then(|name| name.to_str())
        .unwrap_or("debug");
    match profile_dir {
        "debug" => {}
        "release" => {
            command.arg("--release");
        }
        other => {
            command.args(["--profile", other]);
        }
    }
    let output = command
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("cannot run {}", Path::new(&cargo).display()))?;
    if !output.status.success() {
        bail!(
            "building ferry-testbed failed ({}); set FERRY_TESTBED_BIN to use a built one",
            output.status
        );
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .filter(|line| line.contains("\"name\":\"ferry-testbed\"") && line.contains("\"bin\""))
        .find_map(|line| {
            let start = line.find("\"executable\":\"")? + "\"executable\":\"".len();
            let end = start + line[start..].find('"')?;
            Some(PathBuf::from(&line[start..end]))
        })
        .context("cargo did not report the ferry-testbed executable")
}

/// What an [`App`] runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppKind {
    /// `app produce`: the numbers `from..from+count` to `topic`, `rate` per second, resuming
    /// after its progress file when restarted.
    Producer {
        topic: String,
        partitions: i32,
        from: u64,
        count: u64,
        rate: u32,
    },
    /// `app consume`: `topic` in `group`.
    Consumer { group: String, topic: String },
}

/// One finished producer run, from the `runs` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProducerRun {
    pub bootstrap: String,
    pub first: i64,
    /// Last acknowledged number (every number `first..=last` was acknowledged).
    pub last: i64,
}

/// A deployed test application: its directory, scripts and (while running) its process.
///
/// Dropping it stops the process, whoever started it (the test or a hook).
#[derive(Debug)]
pub struct App {
    name: String,
    dir: PathBuf,
    kind: AppKind,
    /// The process, when the test started it (a hook's restart is not our child).
    child: Option<Child>,
}

impl App {
    /// Writes the app's directory `parent/NAME` (configured for `bootstrap`, scripts included);
    /// starts nothing.
    pub fn create(parent: &Path, name: &str, bootstrap: &str, kind: AppKind) -> Result<App> {
        adopt_orphans();
        let dir = parent.join(name);
        fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let dir = dir
            .canonicalize()
            .with_context(|| format!("cannot resolve {}", dir.display()))?;
        let app = App {
            name: name.to_owned(),
            dir,
            kind,
            child: None,
        };
        app.set_bootstrap(bootstrap)?;
        app.write_scripts()?;
        Ok(app)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn kind(&self) -> &AppKind {
        &self.kind
    }

    pub fn start_script(&self) -> PathBuf {
        self.dir.join("start.sh")
    }

    pub fn stop_script(&self) -> PathBuf {
        self.dir.join("stop.sh")
    }

    /// A consumer started from now on waits to join its group until [`App::release`].
    pub fn hold(&self) -> Result<()> {
        write_atomically(&self.dir.join("hold"), "")
    }

    /// Lets a held consumer join its group.
    pub fn release(&self) -> Result<()> {
        let path = self.dir.join("hold");
        fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))
    }

    /// Points the app at `bootstrap` from its next start on.
    pub fn set_bootstrap(&self, bootstrap: &str) -> Result<()> {
        write_atomically(&self.dir.join("bootstrap"), &format!("{bootstrap}\n"))
    }

    /// The bootstrap servers the app uses from its next start on.
    pub fn bootstrap(&self) -> Result<String> {
        let path = self.dir.join("bootstrap");
        Ok(fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?
            .trim()
            .to_owned())
    }

    /// The command line of the app (the program is [`binary`]).
    fn args(&self) -> Vec<String> {
        let file = |name: &str| self.dir.join(name).display().to_string();
        let mut args = vec!["app".to_owned()];
        match &self.kind {
            AppKind::Producer {
                topic,
                partitions,
                from,
                count,
                rate,
            } => args.extend([
                "produce".into(),
                "--topic".into(),
                topic.clone(),
                "--partitions".into(),
                partitions.to_string(),
                "--from".into(),
                from.to_string(),
                "--count".into(),
                count.to_string(),
                "--rate".into(),
                format!("{rate}/s"),
                "--progress".into(),
                file("progress"),
                "--resume".into(),
                "--runs".into(),
                file("runs"),
            ]),
            AppKind::Consumer { group, topic } => args.extend([
                "consume".into(),
                "--group".into(),
                group.clone(),
                "--topic".into(),
                topic.clone(),
                "--out".into(),
                file("out"),
                "--hold-while".into(),
                file("hold"),
            ]),
        }
        args.extend([
            "--bootstrap-file".into(),
            file("bootstrap"),
            "--watch-pid".into(),
            std::process::id().to_string(),
        ]);
        args
    }

    fn write_scripts(&self) -> Result<()> {
        let binary = binary()?;
        let dir = quote(&self.dir.display().to_string());
        let name = quote(&self.name);
        let command = std::iter::once(binary.display().to_string())
            .chain(self.args())
            .map(|arg| quote(&arg))
            .collect::<Vec<_>>()
            .join(" ");
        let start = format!(
            "#!/bin/sh\n\
             # Starts {name} in the background against the servers in ./bootstrap; its pid goes to\n\
             # ./pid, its output to ./log. Nothing to do when it already runs: a hook run again\n\
             # (after an interrupted migration) must not start a second one. Generated by\n\
             # ferry_testbed::app.\n\
             set -eu\n\
             cd {dir}\n\
             {ALIVE}\n\
             if [ -s pid ] && alive \"$(cat pid)\"; then\n\
             \x20 echo {name}\" is already running (pid $(cat pid)): nothing to do\"\n\
             \x20 exit 0\n\
             fi\n\
             {command} >> log 2>&1 < /dev/null &\n\
             echo \"$!\" > pid.tmp\n\
             mv pid.tmp pid\n\
             echo \"started \"{name}\" (pid $!) against $(cat bootstrap)\"\n"
        );
        let stop = format!(
            "#!/bin/sh\n\
             # Stops {name}: SIGTERM, then waits until the process is gone (SIGKILL after 30s).\n\
             # Generated by ferry_testbed::app.\n\
             set -eu\n\
             cd {dir}\n\
             {ALIVE}\n\
             if [ ! -s pid ]; then\n\
             \x20 echo {name}\" is not running\"\n\
             \x20 exit 0\n\
             fi\n\
             pid=$(cat pid)\n\
             if alive \"$pid\"; then\n\
             \x20 kill -TERM \"$pid\" 2>/dev/null || true\n\
             \x20 n=0\n\
             \x20 while alive \"$pid\"; do\n\
             \x20   n=$((n + 1))\n\
             \x20   if [ \"$n\" -eq 600 ]; then\n\
             \x20     echo {name}\" (pid $pid) still runs 30s after SIGTERM: SIGKILL\"\n\
             \x20     kill -KILL \"$pid\" 2>/dev/null || true\n\
             \x20   fi\n\
             \x20   sleep 0.05\n\
             \x20 done\n\
             fi\n\
             rm -f pid\n\
             echo \"stopped \"{name}\" (pid $pid)\"\n"
        );
        write_script(&self.start_script(), &start)?;
        write_script(&self.stop_script(), &stop)
    }

    /// Starts the app as a child of this process, against the servers in its bootstrap file.
    pub fn start(&mut self) -> Result<()> {
        if let Some(pid) = self.pid() {
            bail!("app {} is already running (pid {pid})", self.name);
        }
        self.reap();
        let log_path = self.dir.join("log");
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .with_context(|| format!("cannot open {}", log_path.display()))?;
        let stderr = log.try_clone().context("cannot duplicate the log handle")?;
        let mut command = Command::new(binary()?);
        command
            .args(self.args())
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(stderr);
        let child = spawn_tied_to_process(command)
            .with_context(|| format!("cannot start app {}", self.name))?;
        write_atomically(&self.dir.join("pid"), &format!("{}\n", child.id()))?;
        self.child = Some(child);
        Ok(())
    }

    /// The pid of the running process (started by the test or by a hook), if one runs.
    pub fn pid(&self) -> Option<u32> {
        pid_in(&self.dir).filter(|&pid| process_alive(pid))
    }

    pub fn is_running(&self) -> bool {
        self.pid().is_some()
    }

    /// Stops the running process (SIGTERM; SIGKILL after a timeout) and waits until it is gone.
    /// Nothing to do when none runs.
    pub fn stop(&mut self) -> Result<()> {
        self.stop_within(STOP_TIMEOUT)
    }

    fn stop_within(&mut self, timeout: Duration) -> Result<()> {
        if let Some(pid) = self.pid() {
            signal(pid, libc::SIGTERM);
            if !wait_until(timeout, || !process_alive(pid)) {
                signal(pid, libc::SIGKILL);
                if !wait_until(Duration::from_secs(5), || !process_alive(pid)) {
                    bail!("app {} (pid {pid}) survives SIGKILL", self.name);
                }
            }
        }
        if let Some(pid) = pid_in(&self.dir) {
            reap_pid(pid);
        }
        let _ = fs::remove_file(self.dir.join("pid"));
        self.reap();
        Ok(())
    }

    /// Waits until the process exits by itself (a producer at the end of its stream).
    pub fn wait_for_exit(&mut self, timeout: Duration) -> Result<()> {
        if !wait_until(timeout, || !self.is_running()) {
            bail!(
                "app {} still runs after {}s; log:\n{}",
                self.name,
                timeout.as_secs(),
                self.log()
            );
        }
        if let Some(pid) = pid_in(&self.dir) {
            reap_pid(pid);
        }
        self.reap();
        Ok(())
    }

    /// Reaps an exited child of ours.
    fn reap(&mut self) {
        if let Some(child) = &mut self.child
            && !matches!(child.try_wait(), Ok(None))
        {
            self.child = None;
        }
    }

    /// The app's log (every run).
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.join("log")).unwrap_or_default()
    }

    /// Producer: the last acknowledged number, None before the first run.
    pub fn progress(&self) -> Result<Option<i64>> {
        read_number(&self.dir.join("progress"))
    }

    /// Producer: its finished runs, in order.
    pub fn runs(&self) -> Result<Vec<ProducerRun>> {
        let path = self.dir.join("runs");
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(anyhow!(error).context(format!("reading {}", path.display()))),
        };
        text.lines()
            .map(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                match fields.as_slice() {
                    [bootstrap, first, last] => Ok(ProducerRun {
                        bootstrap: (*bootstrap).to_owned(),
                        first: first.parse()?,
                        last: last.parse()?,
                    }),
                    _ => bail!("malformed line in {}: {line:?}", path.display()),
                }
            })
            .collect()
    }

    /// Consumer: every number it processed, in processing order, over all its runs.
    pub fn consumed(&self) -> Result<Vec<i64>> {
        let path = self.dir.join("out");
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(anyhow!(error).context(format!("reading {}", path.display()))),
        };
        // A line being written right now may be incomplete: only whole lines count.
        let complete = text.rfind('\n').map_or("", |end| &text[..end]);
        complete
            .lines()
            .map(|line| {
                line.parse()
                    .with_context(|| format!("malformed line in {}: {line:?}", path.display()))
            })
            .collect()
    }
}

impl Drop for App {
    fn drop(&mut self) {
        if let Err(error) = self.stop_within(Duration::from_secs(5)) {
            eprintln!("ferry-testbed: {error:#}");
        }
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The pid in the app directory's pid file, alive or not.
fn pid_in(dir: &Path) -> Option<u32> {
    fs::read_to_string(dir.join("pid"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Makes this process a child subreaper (once): an app a hook restarted is orphaned when the
/// hook's shell exits, and would otherwise end as a zombie under a pid 1 that may never reap it
/// (as in a container). Adopted, it is reaped by [`reap_pid`] once it exited.
fn adopt_orphans() {
    static ADOPTED: OnceLock<()> = OnceLock::new();
    ADOPTED.get_or_init(|| {
        // SAFETY: prctl(2) with PR_SET_CHILD_SUBREAPER and an integer argument.
        unsafe {
            libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1 as libc::c_ulong);
        }
    });
}

/// Reaps `pid` if it is an exited child of this process (adopted or not); otherwise nothing.
fn reap_pid(pid: u32) {
    let mut status = 0;
    // SAFETY: waitpid(2) with WNOHANG on one pid: returns at once, ECHILD when not our child.
    unsafe {
        libc::waitpid(pid as libc::pid_t, &mut status, libc::WNOHANG);
    }
}

/// `alive PID`: the process exists and is not a zombie. Orphans restarted by hooks may never be
/// reaped (the container's pid 1 need not reap), so `kill -0` alone would wait forever.
const ALIVE: &str = "alive() {\n\
  [ -r \"/proc/$1/stat\" ] || return 1\n\
  state=$(sed 's/.*) //' \"/proc/$1/stat\" | cut -c1)\n\
  [ \"$state\" != Z ] && [ \"$state\" != X ]\n\
}";

/// One thing a hook does to an [`App`].
#[derive(Debug, Clone, Copy)]
pub enum HookAction<'a> {
    /// Stop the app (nothing to do when it is not running).
    Stop(&'a App),
    /// Point the app at `$FERRY_TARGET_BOOTSTRAP` and start it.
    StartOnTarget(&'a App),
    /// Stop the app, point it at `$FERRY_TARGET_BOOTSTRAP`, start it again (a producer resumes
    /// its numbering from its progress file).
    RestartOnTarget(&'a App),
}

/// Writes an executable hook script at `path` that carries out `actions` in order and fails
/// (non-zero exit) at the first one that fails. It needs `FERRY_TARGET_BOOTSTRAP`, which ferry
/// sets for every hook.
pub fn write_hook(path: &Path, actions: &[HookAction<'_>]) -> Result<()> {
    let mut script = String::from(
        "#!/bin/sh\n\
         # A client switch for ferry, generated by ferry_testbed::app::write_hook.\n\
         set -eu\n\
         : \"${FERRY_TARGET_BOOTSTRAP:?ferry sets it for hooks}\"\n\
         echo \"hook ${FERRY_HOOK:-?} (step ${FERRY_STEP:-?}): target is $FERRY_TARGET_BOOTSTRAP\"\n",
    );
    let point = |app: &App| {
        let file = quote(&app.dir.join("bootstrap").display().to_string());
        let temp = quote(&app.dir.join("bootstrap.tmp").display().to_string());
        format!("printf '%s\\n' \"$FERRY_TARGET_BOOTSTRAP\" > {temp}\nmv {temp} {file}\n")
    };
    for action in actions {
        match action {
            HookAction::Stop(app) => {
                script.push_str(&format!(
                    "{}\n",
                    quote(&app.stop_script().display().to_string())
                ));
            }
            HookAction::StartOnTarget(app) => {
                script.push_str(&point(app));
                script.push_str(&format!(
                    "{}\n",
                    quote(&app.start_script().display().to_string())
                ));
            }
            HookAction::RestartOnTarget(app) => {
                script.push_str(&format!(
                    "{}\n",
                    quote(&app.stop_script().display().to_string())
                ));
                script.push_str(&point(app));
                script.push_str(&format!(
                    "{}\n",
                    quote(&app.start_script().display().to_string())
                ));
            }
        }
    }
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    write_script(path, &script)
}

fn write_script(path: &Path, text: &str) -> Result<()> {
    let mut file =
        File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.set_permissions(fs::Permissions::from_mode(0o755))
        .with_context(|| format!("cannot make {} executable", path.display()))
}

/// `text` as one shell word.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

fn signal(pid: u32, signal: libc::c_int) {
    // SAFETY: kill(2) with a valid signal number; a pid that is gone gives ESRCH, ignored.
    unsafe {
        libc::kill(pid as libc::pid_t, signal);
    }
}

/// Polls `condition` until it holds (true) or `timeout` passes (false).
fn wait_until(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        sleep(Duration::from_millis(20));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acks_advance_only_over_contiguous_numbers() {
        let mut acks = Acks {
            contiguous: 9,
            above: BTreeSet::new(),
            failed: 0,
        };
        acks.ack(11);
        acks.ack(12);
        assert_eq!(acks.contiguous, 9, "10 is not acknowledged yet");
        acks.ack(10);
        assert_eq!(acks.contiguous, 12);
        acks.ack(5);
        assert_eq!(acks.contiguous, 12);
        assert!(acks.above.is_empty());
    }

    #[test]
    fn rate_takes_a_number_with_or_without_per_second() {
        assert_eq!(parse_rate("500"), Ok(500.0));
        assert_eq!(parse_rate("2.5/s"), Ok(2.5));
        assert!(parse_rate("0").is_err());
        assert!(parse_rate("fast").is_err());
    }

    #[test]
    fn quote_makes_one_shell_word() {
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), r"'it'\''s'");
    }

    #[test]
    fn this_process_is_alive_and_a_made_up_one_is_not() {
        assert!(process_alive(std::process::id()));
        assert!(!process_alive(u32::MAX - 1));
    }
}
