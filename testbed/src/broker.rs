//! One tansu broker process: start on a free loopback port, readiness, stop, restart.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};

use crate::header_index::index_headers;
use crate::procnet;
use crate::spawn::spawn_tied_to_process;
use crate::tansu_binary;

/// How long a freshly spawned broker may take to listen on its port.
const READY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a broker may take to exit after SIGTERM before it gets SIGKILL.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);
/// Start-up attempts when tansu exits early (its port was taken in a race).
const START_ATTEMPTS: u32 = 5;
/// Lines of the broker log quoted in start-up errors.
const LOG_TAIL_LINES: usize = 20;

/// A running tansu broker, a single-node Kafka cluster whose cluster id is its name.
///
/// Its data (`NAME.db`, sqlite) and log (`NAME.log`, stdout and stderr, appended across
/// restarts) live in the data directory given to [`Broker::start`]. Dropping the broker stops it.
#[derive(Debug)]
pub struct Broker {
    pub name: String,
    pub port: u16,
    /// `127.0.0.1:PORT`
    pub bootstrap: String,
    data_dir: PathBuf,
    child: Option<Child>,
}

/// Why one start-up attempt failed.
enum LaunchError {
    /// tansu exited before it listened (typically: address in use). Worth another port.
    Exited(anyhow::Error),
    /// Anything else: the binary is missing, it never listened, /proc is unreadable.
    Failed(anyhow::Error),
}

impl Broker {
    /// Starts a broker named `name` (also its cluster id) with its storage in `data_dir` (created
    /// if missing), on a free loopback port, and returns once it is ready: the process is alive
    /// and owns the listening socket on its port.
    ///
    /// If tansu exits during start-up (its port was taken between picking and binding it), the
    /// start is retried on a new port a few times.
    pub fn start(name: &str, data_dir: &Path) -> Result<Broker> {
        prepare(name, data_dir)?;
        let mut last_exit = None;
        for _ in 0..START_ATTEMPTS {
            let port = free_port()?;
            match launch(name, data_dir, port) {
                Ok(child) => return Ok(Broker::new(name, data_dir, port, child)),
                Err(LaunchError::Exited(error)) => last_exit = Some(error),
                Err(LaunchError::Failed(error)) => return Err(error),
            }
        }
        Err(last_exit
            .unwrap_or_else(|| anyhow!("no attempt made"))
            .context(format!(
                "tansu broker {name} exited during start-up {START_ATTEMPTS} times, each on a fresh port"
            )))
    }

    /// Test seam: one start-up attempt on the given `port`, no retry on another port.
    ///
    /// Used by the readiness tests to point a broker at a port that another process holds.
    #[doc(hidden)]
    pub fn start_on_port(name: &str, data_dir: &Path, port: u16) -> Result<Broker> {
        prepare(name, data_dir)?;
        match launch(name, data_dir, port) {
            Ok(child) => Ok(Broker::new(name, data_dir, port, child)),
            Err(LaunchError::Exited(error) | LaunchError::Failed(error)) => Err(error),
        }
    }

    fn new(name: &str, data_dir: &Path, port: u16, child: Child) -> Broker {
        Broker {
            name: name.to_owned(),
            port,
            bootstrap: format!("127.0.0.1:{port}"),
            data_dir: data_dir.to_owned(),
            child: Some(child),
        }
    }

    /// Stops the broker: SIGTERM to its pid, wait, SIGKILL after a timeout. Idempotent.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            terminate(&mut child);
        }
    }

    /// Stops the broker (if running) and starts it again on the same port with the same data.
    pub fn restart(&mut self) -> Result<()> {
        self.stop();
        let mut last_exit = None;
        for attempt in 1..=START_ATTEMPTS {
            match launch(&self.name, &self.data_dir, self.port) {
                Ok(child) => {
                    self.child = Some(child);
                    return Ok(());
                }
                Err(LaunchError::Exited(error)) => {
                    last_exit = Some(error);
                    sleep(Duration::from_millis(100) * attempt);
                }
                Err(LaunchError::Failed(error)) => return Err(error),
            }
        }
        Err(last_exit
            .unwrap_or_else(|| anyhow!("no attempt made"))
            .context(format!(
                "restarting tansu broker {} on port {} failed {START_ATTEMPTS} times",
                self.name, self.port
            )))
    }

    /// The broker's pid while it runs; `None` once stopped.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The directory holding the broker's database and log.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The broker's log file (its stdout and stderr).
    pub fn log_path(&self) -> PathBuf {
        log_path(&self.data_dir, &self.name)
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.stop();
    }
}

fn prepare(name: &str, data_dir: &Path) -> Result<()> {
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !valid {
        bail!("broker name {name:?} must be non-empty ASCII letters, digits, '-', '_' or '.'");
    }
    fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create broker data directory {}", data_dir.display()))
}

fn log_path(data_dir: &Path, name: &str) -> PathBuf {
    data_dir.join(format!("{name}.log"))
}

/// A loopback port that is free right now (bind port 0, read it, release it).
fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("cannot bind 127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// Spawns tansu on `port` and waits until it is ready.
fn launch(name: &str, data_dir: &Path, port: u16) -> Result<Child, LaunchError> {
    let tansu = tansu_binary();
    let log_file = log_path(data_dir, name);
    let mut log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_file)
        .with_context(|| format!("cannot open broker log {}", log_file.display()))
        .map_err(LaunchError::Failed)?;
    let marker = format!("--- ferry-testbed: starting {name} on 127.0.0.1:{port}");
    let _ = writeln!(log, "{marker}");
    let stderr = log
        .try_clone()
        .context("cannot duplicate the log file handle")
        .map_err(LaunchError::Failed)?;

    let url = format!("tcp://127.0.0.1:{port}");
    let mut command = Command::new(&tansu);
    command
        .arg("broker")
        .args(["--cluster-id", name])
        .args(["--listener-url", &url])
        .args(["--advertised-listener-url", &url])
        .args(["--storage-engine", &format!("sqlite://{name}.db")])
        // tansu also reads these from the environment; keep a caller's settings out.
        .env_remove("SCHEMA_REGISTRY")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .env("NO_COLOR", "1") // plain log lines, quoted in errors
        .current_dir(data_dir)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(stderr);
    let mut child = spawn_tied_to_process(command)
        .with_context(|| {
            format!(
                "cannot run tansu at {}: install it with scripts/install-tansu.sh or set FERRY_TANSU",
                tansu.display()
            )
        })
        .map_err(LaunchError::Failed)?;

    let pid = child.id();
    let deadline = Instant::now() + READY_TIMEOUT;
    let mut delay = Duration::from_millis(2);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                return Err(LaunchError::Exited(anyhow!(
                    "tansu broker {name} (pid {pid}) exited ({status}) before listening on \
                     127.0.0.1:{port}{}\n{}",
                    port_holders(port, pid),
                    log_tail(&log_file, &marker)
                )));
            }
            Ok(None) => {}
            Err(error) => {
                terminate(&mut child);
                return Err(LaunchError::Failed(
                    anyhow!(error).context(format!("cannot wait for tansu broker {name}")),
                ));
            }
        }
        if procnet::pid_owns_listener(pid, port) {
            if let Err(error) = index_headers(&data_dir.join(format!("{name}.db"))) {
                terminate(&mut child);
                return Err(LaunchError::Failed(error));
            }
            return Ok(child);
        }
        if Instant::now() >= deadline {
            terminate(&mut child);
            return Err(LaunchError::Failed(anyhow!(
                "tansu broker {name} (pid {pid}) did not listen on 127.0.0.1:{port} within {}s{}\n{}",
                READY_TIMEOUT.as_secs(),
                port_holders(port, pid),
                log_tail(&log_file, &marker)
            )));
        }
        sleep(delay);
        delay = (delay * 2).min(Duration::from_millis(25));
    }
}

/// " (port held by pid N)" when processes other than `pid` listen on `port`.
fn port_holders(port: u16, pid: u32) -> String {
    let others: Vec<String> = procnet::listener_pids(port)
        .into_iter()
        .filter(|&other| other != pid)
        .map(|other| other.to_string())
        .collect();
    if others.is_empty() {
        String::new()
    } else {
        format!(" (port held by pid {})", others.join(", "))
    }
}

/// The last lines the broker wrote since `marker`, for error messages.
fn log_tail(log_file: &Path, marker: &str) -> String {
    let text = fs::read_to_string(log_file).unwrap_or_default();
    let run = text.rfind(marker).map_or(&text[..], |at| &text[at..]);
    let lines: Vec<&str> = run.lines().collect();
    let tail = &lines[lines.len().saturating_sub(LOG_TAIL_LINES)..];
    format!("log tail ({}):\n{}", log_file.display(), tail.join("\n"))
}

/// SIGTERM, wait up to [`STOP_TIMEOUT`], then SIGKILL; always reaps the child.
fn terminate(child: &mut Child) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    // The child is not reaped yet, so its pid cannot have been reused.
    // SAFETY: kill(2) with a pid we own and a valid signal number.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
    let deadline = Instant::now() + STOP_TIMEOUT;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        sleep(Duration::from_millis(5));
    }
    let _ = child.kill();
    let _ = child.wait();
}
