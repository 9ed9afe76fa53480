//! `ferry-testbed run [--seed ...] -- CMD ARGS...`: start a source and a target Apache Kafka broker,
//! seed the source, run CMD against them, stop both brokers, exit with CMD's exit code.
//!
//! `ferry-testbed app produce|consume ...`: the test application of `ferry_testbed::app`.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitCode, ExitStatus};
use std::sync::atomic::{AtomicI32, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use clap::{Parser, Subcommand, ValueEnum};
use ferry_testbed::ckafka_emulator::{Emulator, EmulatorConfig};
use ferry_testbed::{Testbed, seed};

#[derive(Parser)]
#[command(
    name = "ferry-testbed",
    version,
    about = "Real two-broker test bed for ferry"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Start source and target brokers, seed the source, run CMD, stop the brokers.
    ///
    /// CMD sees FERRY_SOURCE_BOOTSTRAP, FERRY_TARGET_BOOTSTRAP (127.0.0.1:PORT),
    /// FERRY_SOURCE_CLUSTER_ID, FERRY_TARGET_CLUSTER_ID,
    /// FERRY_SOURCE_PID, FERRY_TARGET_PID, FERRY_TESTBED_DIR and FERRY_TESTBED_SEED_SECONDS.
    /// The exit code is CMD's (128+N when CMD or ferry-testbed was ended by signal N).
    Run(RunArgs),
    /// A small test application (producer or consumer) that hooks repoint by restarting it.
    #[command(subcommand)]
    App(ferry_testbed::app::AppCommand),
    /// Serve the CKafka API emulator for a broker until killed (prints its URL first).
    CkafkaEmulator(EmulatorArgs),
}

#[derive(clap::Args)]
struct EmulatorArgs {
    /// The broker the emulator applies changes to (host:port).
    #[arg(long)]
    broker: String,
    /// Port to listen on (127.0.0.1); 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
}

#[derive(clap::Args)]
struct RunArgs {
    /// Data to create on the source broker before CMD runs.
    #[arg(long, value_enum, default_value_t = SeedKind::None)]
    seed: SeedKind,
    /// Number of topics for --seed bench.
    #[arg(long, default_value_t = 2000)]
    bench_topics: usize,
    /// Partitions per topic for --seed bench.
    #[arg(long, default_value_t = 6)]
    bench_partitions: i32,
    /// Number of consumer groups for --seed bench.
    #[arg(long, default_value_t = 200)]
    bench_groups: usize,
    /// Also serve the CKafka API emulator for the target broker; CMD then sees
    /// FERRY_CKAFKA_ENDPOINT, FERRY_CKAFKA_INSTANCE_ID, TENCENTCLOUD_SECRET_ID and _KEY.
    #[arg(long)]
    ckafka_emulator: bool,
    /// The command to run, after `--`.
    #[arg(last = true, required = true, num_args = 1.., value_name = "CMD")]
    command: Vec<OsString>,
}

#[derive(Clone, Copy, ValueEnum)]
enum SeedKind {
    /// Topics, records and groups of the quickstart (see ferry_testbed::seed).
    Quickstart,
    /// Nothing.
    None,
    /// Many topics and groups (--bench-topics/--bench-partitions/--bench-groups).
    Bench,
}

/// The last termination signal received (0: none).
static SIGNAL: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(signal: libc::c_int) {
    SIGNAL.store(signal, Ordering::SeqCst);
}

fn install_signal_handlers() {
    for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: the handler only stores into an atomic, which is async-signal-safe.
        unsafe {
            libc::signal(
                signal,
                on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t,
            );
        }
    }
}

fn received_signal() -> Option<i32> {
    match SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        signal => Some(signal),
    }
}

fn main() -> ExitCode {
    let args = match Cli::parse().command {
        Cmd::Run(args) => args,
        Cmd::CkafkaEmulator(args) => {
            let mut config = EmulatorConfig::new(&args.broker);
            config.port = args.port;
            return match Emulator::start(config) {
                Ok(emulator) => {
                    println!("{}", emulator.url());
                    emulator.wait();
                    ExitCode::SUCCESS
                }
                Err(error) => {
                    eprintln!("ferry-testbed ckafka-emulator: error: {error:#}");
                    ExitCode::FAILURE
                }
            };
        }
        Cmd::App(command) => {
            return match ferry_testbed::app::run(command) {
                Ok(code) => ExitCode::from(code),
                Err(error) => {
                    eprintln!("ferry-testbed app: error: {error:#}");
                    ExitCode::FAILURE
                }
            };
        }
    };
    install_signal_handlers();
    match run(args) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("ferry-testbed: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs everything; the testbed is dropped (brokers stopped, directory removed) before returning.
fn run(args: RunArgs) -> Result<u8> {
    let testbed = Testbed::start()?;
    for broker in [&testbed.source, &testbed.target] {
        eprintln!(
            "ferry-testbed: {} broker up: Kafka {} on {} (pid {}, cluster id {}), ready in {:.1} s, RSS {} MiB",
            broker.name,
            broker.version(),
            broker.bootstrap,
            broker.pid().unwrap_or(0),
            broker.cluster_id,
            broker.startup.as_secs_f64(),
            broker.rss_kib().unwrap_or(0) / 1024
        );
    }
    eprintln!("ferry-testbed: data in {}", testbed.dir().display());
    if let Some(signal) = received_signal() {
        return Ok(signal_exit_code(signal));
    }

    let seed_seconds = match seed_source(&args, &testbed.source.bootstrap)? {
        Seeded::Interrupted(code) => return Ok(code),
        Seeded::Done(seconds) => seconds,
    };

    let emulator = if args.ckafka_emulator {
        let emulator = Emulator::start(EmulatorConfig::new(&testbed.target.bootstrap))
            .context("starting the CKafka API emulator")?;
        eprintln!(
            "ferry-testbed: CKafka API emulator for the target at {}",
            emulator.url()
        );
        Some(emulator)
    } else {
        None
    };

    let (program, rest) = args.command.split_first().expect("clap requires CMD");
    let mut command = Command::new(program);
    if let Some(emulator) = &emulator {
        let c = emulator.config();
        command
            .env("FERRY_CKAFKA_ENDPOINT", emulator.url())
            .env("FERRY_CKAFKA_INSTANCE_ID", &c.instance_id)
            .env("TENCENTCLOUD_SECRET_ID", &c.secret_id)
            .env("TENCENTCLOUD_SECRET_KEY", &c.secret_key);
    }
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: between fork and exec, only async-signal-safe calls (prctl, getppid).
    unsafe {
        command.pre_exec(move || {
            // If ferry-testbed is killed outright, CMD gets SIGTERM instead of running on
            // against brokers that are gone (the main thread lives as long as the process).
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            if libc::getppid() != parent {
                libc::raise(libc::SIGTERM);
            }
            Ok(())
        });
    }
    let child = command
        .args(rest)
        .env("FERRY_SOURCE_BOOTSTRAP", &testbed.source.bootstrap)
        .env("FERRY_TARGET_BOOTSTRAP", &testbed.target.bootstrap)
        .env("FERRY_SOURCE_CLUSTER_ID", &testbed.source.cluster_id)
        .env("FERRY_TARGET_CLUSTER_ID", &testbed.target.cluster_id)
        .env("FERRY_SOURCE_PID", pid_string(testbed.source.pid()))
        .env("FERRY_TARGET_PID", pid_string(testbed.target.pid()))
        .env("FERRY_TESTBED_DIR", testbed.dir())
        .env("FERRY_TESTBED_SEED_SECONDS", format!("{seed_seconds:.3}"))
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(error) => {
            eprintln!(
                "ferry-testbed: cannot run {}: {error}",
                program.to_string_lossy()
            );
            return Ok(if error.kind() == std::io::ErrorKind::NotFound {
                127
            } else {
                126
            });
        }
    };
    let status = wait_for_command(&mut child)?;
    drop(emulator);
    drop(testbed);
    Ok(match received_signal() {
        Some(signal) => signal_exit_code(signal),
        None => status_exit_code(status),
    })
}

enum Seeded {
    /// Seeding took this many seconds (0 for `--seed none`).
    Done(f64),
    /// A signal arrived: exit with this code.
    Interrupted(u8),
}

/// Seeds the source on a worker thread so that a signal can end the run meanwhile.
fn seed_source(args: &RunArgs, bootstrap: &str) -> Result<Seeded> {
    let (kind, description): (SeedKind, String) = match args.seed {
        SeedKind::None => return Ok(Seeded::Done(0.0)),
        SeedKind::Quickstart => (SeedKind::Quickstart, "quickstart".into()),
        SeedKind::Bench => (
            SeedKind::Bench,
            format!(
                "bench ({} topics x {} partitions, {} groups)",
                args.bench_topics, args.bench_partitions, args.bench_groups
            ),
        ),
    };
    let (topics, partitions, groups) =
        (args.bench_topics, args.bench_partitions, args.bench_groups);
    let bootstrap_owned = bootstrap.to_owned();
    let started = Instant::now();
    let worker = thread::spawn(move || match kind {
        SeedKind::Quickstart => seed::quickstart(&bootstrap_owned),
        SeedKind::Bench => seed::bench(&bootstrap_owned, topics, partitions, groups),
        SeedKind::None => Ok(()),
    });
    while !worker.is_finished() {
        if let Some(signal) = received_signal() {
            // The worker is abandoned; the process exits once the testbed is dropped.
            return Ok(Seeded::Interrupted(signal_exit_code(signal)));
        }
        thread::sleep(Duration::from_millis(20));
    }
    worker
        .join()
        .map_err(|_| anyhow!("seeding thread panicked"))?
        .with_context(|| format!("seeding the source with {description}"))?;
    let seconds = started.elapsed().as_secs_f64();
    eprintln!("ferry-testbed: seeded source with {description} in {seconds:.2}s");
    Ok(Seeded::Done(seconds))
}

/// Waits for CMD. On SIGTERM/SIGHUP the signal is passed on at once; on SIGINT (which a
/// terminal already delivers to CMD, in our process group) CMD gets 2s before it is passed on.
/// CMD then has 5s to exit before it is killed.
fn wait_for_command(child: &mut Child) -> Result<ExitStatus> {
    loop {
        if let Some(status) = child.try_wait().context("waiting for CMD")? {
            return Ok(status);
        }
        if let Some(signal) = received_signal() {
            let grace = if signal == libc::SIGINT {
                Duration::from_secs(2)
            } else {
                Duration::ZERO
            };
            if let Some(status) = wait_timeout(child, grace)? {
                return Ok(status);
            }
            // SAFETY: kill(2) on our unreaped child, with the signal we received.
            unsafe {
                libc::kill(child.id() as libc::pid_t, signal);
            }
            if let Some(status) = wait_timeout(child, Duration::from_secs(5))? {
                return Ok(status);
            }
            let _ = child.kill();
            return child.wait().context("waiting for CMD");
        }
        thread::sleep(Duration::from_millis(20));
    }
}

fn wait_timeout(child: &mut Child, timeout: Duration) -> Result<Option<ExitStatus>> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().context("waiting for CMD")? {
            return Ok(Some(status));
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        thread::sleep(Duration::from_millis(20));
    }
}

fn pid_string(pid: Option<u32>) -> String {
    pid.map(|pid| pid.to_string()).unwrap_or_default()
}

fn signal_exit_code(signal: i32) -> u8 {
    (128 + signal).clamp(0, 255) as u8
}

fn status_exit_code(status: ExitStatus) -> u8 {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => code.clamp(0, 255) as u8,
        (None, Some(signal)) => signal_exit_code(signal),
        (None, None) => 1,
    }
}
