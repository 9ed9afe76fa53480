//! One Apache Kafka broker process: a single-node KRaft cluster (combined broker and
//! controller) on free loopback ports, with readiness, stop, kill and restart on the same data.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use base64::Engine as _;

use crate::broker_config::{self, BrokerOptions, Ports, Security, TlsPaths};
use crate::distribution::Distribution;
use crate::procnet;
use crate::spawn::spawn_tied_to_process;
use crate::tls;

/// How long a freshly spawned broker may take to answer a metadata request. A JVM broker starts
/// in 3-6 s here; CI runs several test binaries' brokers at once on two cores.
const READY_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a broker may take to shut down after SIGTERM before it gets SIGKILL.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);
/// Start-up attempts when a port was taken between picking and binding it.
const START_ATTEMPTS: u32 = 4;
/// Lines of the broker log quoted in start-up errors.
const LOG_TAIL_LINES: usize = 25;

/// JVM options of a test broker, unless `FERRY_KAFKA_JVM_OPTS` replaces them: a small heap, the
/// serial collector and only the quick JIT tier, because start-up CPU matters more to a test
/// than peak throughput. The benchmarks set `FERRY_KAFKA_JVM_OPTS` to the full JIT.
const LEAN_JVM_OPTIONS: &[&str] = &[
    "-Xms64m",
    "-Xmx512m",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-Xss512k",
];

/// A running Kafka broker, a single-node cluster.
///
/// Its directory (`DATA_DIR/NAME`) holds `server.properties`, the storage (`data/`) and the
/// log (`NAME.log` beside it in `DATA_DIR`: standard output and error, appended across
/// restarts). Dropping the broker kills it.
#[derive(Debug)]
pub struct Broker {
    pub name: String,
    /// The KRaft cluster id (22 characters of URL-safe base64), unique per broker.
    pub cluster_id: String,
    /// The PLAINTEXT listener's port.
    pub port: u16,
    /// `127.0.0.1:PORT` of the PLAINTEXT listener: the test bed's own seeding and reading.
    pub bootstrap: String,
    /// Where clients with the broker's [`Security`] connect: the CLIENT listener for SASL and
    /// TLS brokers, else [`Broker::bootstrap`].
    pub client_bootstrap: String,
    /// Wall time from spawning the JVM until the broker answered a metadata request.
    pub startup: Duration,
    options: BrokerOptions,
    ports: Ports,
    distribution: Distribution,
    dir: PathBuf,
    /// The test bed's directory: `dir`'s parent, where the log lives.
    bed_dir: PathBuf,
    child: Option<Child>,
}

/// Why one start-up attempt failed.
enum LaunchError {
    /// The JVM exited before it was ready, its port taken: worth other ports.
    PortTaken(anyhow::Error),
    /// Anything else.
    Failed(anyhow::Error),
}

impl Broker {
    /// Starts a PLAINTEXT broker named `name` with its files under `data_dir`.
    pub fn start(name: &str, data_dir: &Path) -> Result<Broker> {
        Broker::start_with(name, data_dir, &BrokerOptions::default())
    }

    /// Starts a broker with `options` (listener security, ACLs, extra properties) from the
    /// installed release ([`Distribution::locate`]).
    pub fn start_with(name: &str, data_dir: &Path, options: &BrokerOptions) -> Result<Broker> {
        let distribution = Distribution::locate()?;
        Broker::start_from(&distribution, name, data_dir, options)
    }

    /// Starts a broker of a given release (the compatibility run mixes two).
    pub fn start_from(
        distribution: &Distribution,
        name: &str,
        data_dir: &Path,
        options: &BrokerOptions,
    ) -> Result<Broker> {
        let mut broker = Broker::prepare(distribution, name, data_dir, options)?;
        let mut last = None;
        for _ in 0..START_ATTEMPTS {
            broker.ports = pick_ports(options)?;
            broker.set_addresses();
            match broker.launch() {
                Ok(()) => return Ok(broker),
                Err(LaunchError::PortTaken(error)) => last = Some(error),
                Err(LaunchError::Failed(error)) => return Err(error),
            }
        }
        Err(last.unwrap_or_else(|| anyhow!("no attempt made")).context(format!(
            "Kafka broker {name} found its ports taken {START_ATTEMPTS} times, each on fresh ports"
        )))
    }

    /// Test seam: one start-up attempt with the PLAINTEXT listener on `port`, no retry.
    #[doc(hidden)]
    pub fn start_on_port(name: &str, data_dir: &Path, port: u16) -> Result<Broker> {
        let distribution = Distribution::locate()?;
        let options = BrokerOptions::default();
        let mut broker = Broker::prepare(&distribution, name, data_dir, &options)?;
        broker.ports = Ports {
            internal: port,
            controller: free_port()?,
            client: None,
        };
        broker.set_addresses();
        match broker.launch() {
            Ok(()) => Ok(broker),
            Err(LaunchError::PortTaken(error) | LaunchError::Failed(error)) => Err(error),
        }
    }

    fn prepare(
        distribution: &Distribution,
        name: &str,
        data_dir: &Path,
        options: &BrokerOptions,
    ) -> Result<Broker> {
        let valid = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !valid {
            bail!("broker name {name:?} must be non-empty ASCII letters, digits, '-', '_' or '.'");
        }
        let dir = data_dir.join(name);
        if dir.exists() {
            bail!(
                "{} already exists: a broker directory is used once",
                dir.display()
            );
        }
        fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let cluster_id = new_cluster_id();
        let storage = dir.join("data");
        let scram = options.security.scram_credentials();
        if scram.is_empty() {
            distribution.clone_formatted(&storage, &cluster_id)?;
        } else {
            // SCRAM users are records of the bootstrap checkpoint: format this broker for real.
            let config = dir.join("format.properties");
            fs::write(
                &config,
                broker_config::server_properties(
                    options,
                    Ports {
                        internal: 9,
                        controller: 10,
                        client: Some(11),
                    },
                    &storage,
                    None,
                ),
            )?;
            distribution.format(&config, &cluster_id, &scram)?;
        }
        if options.security == Security::Ssl {
            tls::write_server_files(&dir)?;
        }
        fs::write(
            dir.join("log4j.properties"),
            broker_config::logging_config(distribution.uses_log4j1()),
        )?;
        Ok(Broker {
            name: name.to_owned(),
            cluster_id,
            port: 0,
            bootstrap: String::new(),
            client_bootstrap: String::new(),
            startup: Duration::ZERO,
            options: options.clone(),
            ports: Ports {
                internal: 0,
                controller: 0,
                client: None,
            },
            distribution: distribution.clone(),
            dir,
            bed_dir: data_dir.to_owned(),
            child: None,
        })
    }

    fn set_addresses(&mut self) {
        self.port = self.ports.internal;
        self.bootstrap = format!("127.0.0.1:{}", self.ports.internal);
        self.client_bootstrap = match self.ports.client {
            Some(port) => format!("127.0.0.1:{port}"),
            None => self.bootstrap.clone(),
        };
    }

    /// Stops the broker: SIGTERM (a controlled shutdown), SIGKILL after a timeout. Idempotent.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            terminate(&mut child, libc::SIGTERM);
        }
    }

    /// Kills the broker with SIGKILL, as a crash would: it recovers its log on restart.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            terminate(&mut child, libc::SIGKILL);
        }
    }

    /// Stops the broker (if running) and starts it again on the same ports with the same data.
    pub fn restart(&mut self) -> Result<()> {
        self.stop();
        let mut last = None;
        for attempt in 1..=START_ATTEMPTS {
            match self.launch() {
                Ok(()) => return Ok(()),
                // The old process's sockets may linger for a moment.
                Err(LaunchError::PortTaken(error)) => {
                    last = Some(error);
                    sleep(Duration::from_millis(250) * attempt);
                }
                Err(LaunchError::Failed(error)) => return Err(error),
            }
        }
        Err(last
            .unwrap_or_else(|| anyhow!("no attempt made"))
            .context(format!(
                "restarting Kafka broker {} on port {} failed {START_ATTEMPTS} times",
                self.name, self.port
            )))
    }

    /// The broker's pid while it runs; `None` once stopped.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The directory holding the broker's config and storage.
    pub fn data_dir(&self) -> &Path {
        &self.dir
    }

    /// The broker's log file (the JVM's standard output and error).
    pub fn log_path(&self) -> PathBuf {
        self.bed_dir.join(format!("{}.log", self.name))
    }

    /// The release this broker runs.
    pub fn version(&self) -> &str {
        &self.distribution.version
    }

    /// The options it was started with.
    pub fn options(&self) -> &BrokerOptions {
        &self.options
    }

    /// Allows `principal` (`User:ferry`) `operations` on one resource (AclCommand's own
    /// arguments: `["--topic", "*"]`, `["--group", "*"]`, `["--cluster"]`), through the
    /// PLAINTEXT listener, whose principal is a super user on a broker with ACLs.
    pub fn allow(&self, principal: &str, resource: &[&str], operations: &[&str]) -> Result<()> {
        let mut args: Vec<String> = vec![
            "--bootstrap-server".into(),
            self.bootstrap.clone(),
            "--add".into(),
            "--allow-principal".into(),
            principal.into(),
        ];
        args.extend(resource.iter().map(|r| r.to_string()));
        for op in operations {
            args.extend(["--operation".to_string(), op.to_string()]);
        }
        self.distribution
            .run_tool("org.apache.kafka.tools.AclCommand", &args)
            .with_context(|| format!("allowing {principal} {operations:?} on {resource:?}"))
    }

    /// The CA certificate (PEM) that signed a TLS broker's certificate.
    pub fn ca_path(&self) -> Option<PathBuf> {
        (self.options.security == Security::Ssl).then(|| self.dir.join(tls::CA_FILE))
    }

    /// The broker process's resident memory now, in KiB (from `/proc/PID/status`).
    pub fn rss_kib(&self) -> Option<u64> {
        let status = fs::read_to_string(format!("/proc/{}/status", self.pid()?)).ok()?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
    }

    /// Writes the config for the current ports, spawns the JVM and waits until it is ready.
    fn launch(&mut self) -> Result<(), LaunchError> {
        let keystore = self.dir.join(tls::KEYSTORE_FILE);
        let tls_paths = (self.options.security == Security::Ssl).then(|| TlsPaths {
            keystore: &keystore,
        });
        let config = self.dir.join("server.properties");
        fs::write(
            &config,
            broker_config::server_properties(
                &self.options,
                self.ports,
                &self.dir.join("data"),
                tls_paths,
            ),
        )
        .context("cannot write server.properties")
        .map_err(LaunchError::Failed)?;

        let log_file = self.log_path();
        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_file)
            .with_context(|| format!("cannot open broker log {}", log_file.display()))
            .map_err(LaunchError::Failed)?;
        let marker = format!(
            "--- ferry-testbed: starting {} (Kafka {}) on {}",
            self.name, self.distribution.version, self.bootstrap
        );
        let _ = writeln!(log, "{marker}");
        let stderr = log
            .try_clone()
            .context("cannot duplicate the log file handle")
            .map_err(LaunchError::Failed)?;

        let mut jvm = jvm_options();
        let logging = self.dir.join("log4j.properties");
        if self.distribution.uses_log4j1() {
            jvm.push(format!("-Dlog4j.configuration=file:{}", logging.display()));
        } else {
            jvm.push(format!("-Dlog4j2.configurationFile={}", logging.display()));
        }
        let mut command = self.distribution.java_command(&jvm, "kafka.Kafka");
        command
            .arg(&config)
            .env_remove("KAFKA_OPTS")
            .env_remove("JAVA_TOOL_OPTIONS")
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(stderr);
        let started = Instant::now();
        let mut child = spawn_tied_to_process(command)
            .with_context(|| {
                format!(
                    "cannot run {}: install Java 17 or newer, or set JAVA_HOME or FERRY_JAVA",
                    self.distribution.java.display()
                )
            })
            .map_err(LaunchError::Failed)?;
        let pid = child.id();
        let probe = crate::client::config(&self.bootstrap)
            .set("socket.connection.setup.timeout.ms", "1000")
            .set("reconnect.backoff.max.ms", "200")
            .set("log_level", "0")
            .create::<rdkafka::consumer::BaseConsumer>()
            .context("cannot create a metadata client")
            .map_err(LaunchError::Failed)?;
        let deadline = started + READY_TIMEOUT;
        loop {
            match child.try_wait() {
                Ok(Some(status)) => {
                    let tail = log_tail(&log_file, &marker);
                    let error = anyhow!(
                        "Kafka broker {} (pid {pid}) exited ({status}) before it was ready on {}{}\n{tail}",
                        self.name,
                        self.bootstrap,
                        port_holders(self.ports.internal, pid),
                    );
                    return Err(if tail.contains("Address already in use") {
                        LaunchError::PortTaken(error)
                    } else {
                        LaunchError::Failed(error)
                    });
                }
                Ok(None) => {}
                Err(error) => {
                    terminate(&mut child, libc::SIGKILL);
                    return Err(LaunchError::Failed(
                        anyhow!(error)
                            .context(format!("cannot wait for Kafka broker {}", self.name)),
                    ));
                }
            }
            match crate::client::cluster_id(&probe, Duration::from_millis(500)) {
                Some(id) if id == self.cluster_id => break,
                Some(other) => {
                    terminate(&mut child, libc::SIGKILL);
                    return Err(LaunchError::Failed(anyhow!(
                        "{} answers with cluster id {other}, not {}'s {}: another broker holds the port{}",
                        self.bootstrap,
                        self.name,
                        self.cluster_id,
                        port_holders(self.ports.internal, pid)
                    )));
                }
                None => {}
            }
            if Instant::now() >= deadline {
                terminate(&mut child, libc::SIGKILL);
                return Err(LaunchError::Failed(anyhow!(
                    "Kafka broker {} (pid {pid}) did not answer a metadata request on {} within {}s\n{}",
                    self.name,
                    self.bootstrap,
                    READY_TIMEOUT.as_secs(),
                    log_tail(&log_file, &marker)
                )));
            }
            sleep(Duration::from_millis(50));
        }
        self.startup = started.elapsed();
        self.child = Some(child);
        Ok(())
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        // Its data goes with the test bed's directory: no need for a controlled shutdown.
        self.kill();
    }
}

fn jvm_options() -> Vec<String> {
    let mut options: Vec<String> = match std::env::var("FERRY_KAFKA_JVM_OPTS") {
        Ok(custom) if !custom.trim().is_empty() => {
            custom.split_whitespace().map(String::from).collect()
        }
        _ => LEAN_JVM_OPTIONS.iter().map(|s| (*s).to_owned()).collect(),
    };
    options.extend(
        [
            "-XX:+ExitOnOutOfMemoryError",
            "-XX:-UsePerfData",
            "-Djava.awt.headless=true",
        ]
        .map(String::from),
    );
    options
}

/// A fresh KRaft cluster id: 16 random bytes in URL-safe base64 without padding, never
/// starting with '-' (Kafka's own rule, so the id can be passed on a command line).
fn new_cluster_id() -> String {
    loop {
        let id = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(uuid::Uuid::new_v4().as_bytes());
        if !id.starts_with('-') {
            return id;
        }
    }
}

fn pick_ports(options: &BrokerOptions) -> Result<Ports> {
    // Hold all listeners at once so that the ports picked differ.
    let internal = std::net::TcpListener::bind("127.0.0.1:0")?;
    let controller = std::net::TcpListener::bind("127.0.0.1:0")?;
    let client = match options.security {
        Security::Plaintext => None,
        _ => Some(std::net::TcpListener::bind("127.0.0.1:0")?),
    };
    Ok(Ports {
        internal: internal.local_addr()?.port(),
        controller: controller.local_addr()?.port(),
        client: client
            .map(|l| l.local_addr().map(|a| a.port()))
            .transpose()?,
    })
}

/// A loopback port that is free right now (bind port 0, read it, release it).
fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("cannot bind 127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
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

/// The first error and the last lines the broker wrote since `marker`, for error messages (a
/// JVM that fails logs its cause, then many lines of orderly shutdown).
fn log_tail(log_file: &Path, marker: &str) -> String {
    let text = fs::read_to_string(log_file).unwrap_or_default();
    let run = text.rfind(marker).map_or(&text[..], |at| &text[at..]);
    let lines: Vec<&str> = run.lines().collect();
    let first_error = lines
        .iter()
        .position(|line| line.contains(" ERROR ") || line.starts_with("Exception"))
        .filter(|&at| at + LOG_TAIL_LINES < lines.len())
        .map(|at| {
            let end = (at + 3).min(lines.len());
            format!("first error:\n{}\n", lines[at..end].join("\n"))
        })
        .unwrap_or_default();
    let tail = &lines[lines.len().saturating_sub(LOG_TAIL_LINES)..];
    format!(
        "{first_error}log tail ({}):\n{}",
        log_file.display(),
        tail.join("\n")
    )
}

/// Sends `signal`, waits up to [`STOP_TIMEOUT`], then SIGKILL; always reaps the child.
fn terminate(child: &mut Child, signal: libc::c_int) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    // The child is not reaped yet, so its pid cannot have been reused.
    // SAFETY: kill(2) with a pid we own and a valid signal number.
    unsafe {
        libc::kill(child.id() as libc::pid_t, signal);
    }
    let deadline = Instant::now() + STOP_TIMEOUT;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
}
