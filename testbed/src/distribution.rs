//! The installed Apache Kafka release the brokers run from: the JVM, the jars, and a formatted
//! KRaft storage template.
//!
//! `scripts/install-kafka.sh` copies a release's jars into `CACHE/VERSION/libs` (CACHE is
//! `$FERRY_KAFKA_CACHE`, default `~/.cache/ferry/kafka`) and writes `CACHE/VERSION/complete`.
//! This module only finds them; it downloads nothing.
//!
//! Formatting storage (`kafka.tools.StorageTool format`) is a JVM start of its own, about 2.5 s of
//! CPU on these machines. With a static controller quorum (`controller.quorum.voters`) the
//! formatted directory holds only `meta.properties` and `bootstrap.checkpoint`, neither of which
//! names a port, so one formatted template per release is cloned for every broker with its own
//! `cluster.id` written into `meta.properties`. Brokers with SCRAM users are formatted for real,
//! because the users are records in the bootstrap checkpoint.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

/// The release the test bed runs unless `FERRY_KAFKA_VERSION` says otherwise.
pub const DEFAULT_VERSION: &str = "4.3.1";

/// An installed Kafka release and the JVM that runs it.
#[derive(Debug, Clone)]
pub struct Distribution {
    pub version: String,
    /// The directory whose `*.jar` files make the class path.
    pub libs: PathBuf,
    pub java: PathBuf,
}

impl Distribution {
    /// The release named by `FERRY_KAFKA_VERSION` (default [`DEFAULT_VERSION`]), from
    /// `FERRY_KAFKA_LIBS` if set, else from the install script's cache.
    pub fn locate() -> Result<Distribution> {
        let version = env_nonempty("FERRY_KAFKA_VERSION").unwrap_or_else(|| DEFAULT_VERSION.into());
        Distribution::locate_version(&version)
    }

    /// Like [`Distribution::locate`] for a given release (the compatibility run uses two).
    pub fn locate_version(version: &str) -> Result<Distribution> {
        let java = java_binary();
        let libs = match env_nonempty("FERRY_KAFKA_LIBS") {
            Some(libs) if version_from_env_matches(version) => PathBuf::from(libs),
            _ => {
                let dir = cache_dir().join(version);
                if !dir.join("complete").is_file() {
                    bail!(
                        "Apache Kafka {version} is not installed in {}: run scripts/install-kafka.sh {version} \
                         (scripts/test.sh and scripts/quickstart.sh run it for the default release), \
                         or point FERRY_KAFKA_LIBS at a directory of its jars",
                        dir.display()
                    );
                }
                dir.join("libs")
            }
        };
        if !libs.join(format!("kafka_2.13-{version}.jar")).is_file() {
            bail!(
                "{} does not hold kafka_2.13-{version}.jar: reinstall with scripts/install-kafka.sh {version}",
                libs.display()
            );
        }
        Ok(Distribution {
            version: version.to_owned(),
            libs,
            java,
        })
    }

    /// The JVM's `-cp` argument: every jar in [`Distribution::libs`].
    pub fn classpath(&self) -> String {
        format!("{}/*", self.libs.display())
    }

    /// Kafka 3.x logs through log4j 1 (reload4j); 4.x through log4j2.
    pub fn uses_log4j1(&self) -> bool {
        self.version.starts_with("3.")
    }

    /// A `java` command with the class path and the given JVM options, running `main_class`.
    pub fn java_command(&self, jvm_options: &[String], main_class: &str) -> Command {
        let mut command = Command::new(&self.java);
        command
            .args(jvm_options)
            .arg("-cp")
            .arg(self.classpath())
            .arg(main_class);
        command
    }

    /// Formats KRaft storage for `config` (a server.properties naming `log.dirs`) with
    /// `cluster_id`, adding SCRAM credentials given as StorageTool `--add-scram` arguments.
    pub fn format(&self, config: &Path, cluster_id: &str, scram: &[String]) -> Result<()> {
        let mut args: Vec<String> = ["format", "-t", cluster_id, "-c"]
            .map(String::from)
            .to_vec();
        args.push(config.display().to_string());
        args.push("--ignore-formatted".into());
        for credential in scram {
            args.extend(["--add-scram".to_string(), credential.clone()]);
        }
        self.run_tool("kafka.tools.StorageTool", &args)
            .with_context(|| format!("formatting Kafka storage with {}", config.display()))
    }

    /// Runs one of the release's command-line tools (`main_class`) to its end, with the lean
    /// JVM options of a tool; its output goes into the error when it fails.
    pub fn run_tool(&self, main_class: &str, args: &[String]) -> Result<()> {
        let output = self
            .java_command(&tool_jvm_options(), main_class)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .with_context(|| {
                format!(
                    "cannot run {} (set JAVA_HOME or FERRY_JAVA)",
                    self.java.display()
                )
            })?;
        if !output.status.success() {
            bail!(
                "{main_class} failed ({}):\n{}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(())
    }

    /// Writes a freshly formatted storage directory with `cluster_id` into `data_dir`, cloned
    /// from the release's template (formatted once, the first time it is needed).
    pub fn clone_formatted(&self, data_dir: &Path, cluster_id: &str) -> Result<()> {
        let template = self.template()?;
        fs::create_dir_all(data_dir)
            .with_context(|| format!("cannot create {}", data_dir.display()))?;
        fs::copy(
            template.join("bootstrap.checkpoint"),
            data_dir.join("bootstrap.checkpoint"),
        )
        .context("cannot copy the formatted bootstrap checkpoint")?;
        let meta = fs::read_to_string(template.join("meta.properties"))
            .context("cannot read the template's meta.properties")?;
        let meta: String = meta
            .lines()
            .map(|line| {
                if line.starts_with("cluster.id=") {
                    format!("cluster.id={cluster_id}\n")
                } else {
                    format!("{line}\n")
                }
            })
            .collect();
        fs::write(data_dir.join("meta.properties"), meta).context("cannot write meta.properties")
    }

    /// The formatted template directory, made on first use. Concurrent test binaries may race
    /// to make it: each formats into its own directory and the first rename wins.
    fn template(&self) -> Result<PathBuf> {
        // One formatting at a time within a process (the source and target start in parallel).
        static FORMATTING: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _one = FORMATTING
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let parent = self.libs.parent().unwrap_or(&self.libs).to_owned();
        let template = parent.join("formatted-template");
        if template.join("meta.properties").is_file() {
            return Ok(template);
        }
        let work = parent.join(format!(
            "formatted-template.{}",
            uuid::Uuid::new_v4().simple()
        ));
        let _ = fs::remove_dir_all(&work);
        fs::create_dir_all(&work).with_context(|| format!("cannot create {}", work.display()))?;
        let data = work.join("data");
        let config = work.join("format.properties");
        fs::write(
            &config,
            format!(
                "process.roles=broker,controller\nnode.id=1\n\
                 controller.quorum.voters=1@127.0.0.1:10\n\
                 listeners=INTERNAL://127.0.0.1:9,CONTROLLER://127.0.0.1:10\n\
                 listener.security.protocol.map=INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT\n\
                 inter.broker.listener.name=INTERNAL\ncontroller.listener.names=CONTROLLER\n\
                 log.dirs={}\n",
                data.display()
            ),
        )?;
        self.format(&config, "AAAAAAAAAAAAAAAAAAAAAA", &[])?;
        match fs::rename(&data, &template) {
            Ok(()) => {}
            Err(_) if template.join("meta.properties").is_file() => {}
            Err(error) => {
                return Err(error).with_context(|| {
                    format!("cannot move the template to {}", template.display())
                });
            }
        }
        let _ = fs::remove_dir_all(&work);
        Ok(template)
    }
}

/// JVM options for short-lived tools (storage format): small heap, no optimising JIT.
fn tool_jvm_options() -> Vec<String> {
    [
        "-Xmx256m",
        "-XX:TieredStopAtLevel=1",
        "-XX:+UseSerialGC",
        "-XX:-UsePerfData",
    ]
    .map(String::from)
    .to_vec()
}

/// `FERRY_KAFKA_CACHE`, else `$XDG_CACHE_HOME/ferry/kafka`, else `~/.cache/ferry/kafka` (the
/// install script's rule).
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = env_nonempty("FERRY_KAFKA_CACHE") {
        return PathBuf::from(dir);
    }
    let base = env_nonempty("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            env_nonempty("HOME")
                .map(|home| PathBuf::from(home).join(".cache"))
                .unwrap_or_else(|| PathBuf::from("/root/.cache"))
        });
    base.join("ferry").join("kafka")
}

/// `FERRY_JAVA`, else `$JAVA_HOME/bin/java`, else `java` from `PATH`.
fn java_binary() -> PathBuf {
    if let Some(java) = env_nonempty("FERRY_JAVA") {
        return PathBuf::from(java);
    }
    if let Some(home) = env_nonempty("JAVA_HOME") {
        return PathBuf::from(home).join("bin").join("java");
    }
    PathBuf::from("java")
}

/// `FERRY_KAFKA_LIBS` applies to the release `FERRY_KAFKA_VERSION` names (or the default).
fn version_from_env_matches(version: &str) -> bool {
    env_nonempty("FERRY_KAFKA_VERSION")
        .as_deref()
        .unwrap_or(DEFAULT_VERSION)
        == version
}

fn env_nonempty(name: &str) -> Option<String> {
    env::var(name).ok().filter(|value| !value.is_empty())
}
