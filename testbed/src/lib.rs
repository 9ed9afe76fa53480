//! Real two-broker test bed for ferry.
//!
//! [`Testbed::start`] runs two Apache Kafka brokers on loopback ports, a *source* and a
//! *target* cluster, each a single-node KRaft cluster (combined broker and controller) with its
//! storage in a temporary directory owned by the [`Testbed`]. Every testbed gets its own
//! directory, ports and cluster ids, so tests may run in parallel; [`Testbed::shared`] gives the
//! tests of one binary that do not disturb each other one pair to share. [`seed`] fills a broker
//! with topics, records and committed group offsets.
//!
//! The Kafka release comes from `scripts/install-kafka.sh` (see [`distribution`]):
//! `FERRY_KAFKA_VERSION` picks a pinned release, `FERRY_KAFKA_SOURCE_VERSION` another one for
//! the source alone, `FERRY_KAFKA_JVM_OPTS` replaces the brokers' lean JVM options. Brokers are killed when their [`Broker`] is dropped, and tied to the life of
//! the process that started them (see `spawn`), so a killed test binary leaves none behind.
//! `FERRY_TESTBED_KEEP=1` keeps a testbed's directory (storage, configs, broker logs); a testbed
//! dropped while its test panics keeps it too, and says where.
//!
//! Linux only: error messages name the pids holding a port from `/proc` (see [`procnet`]).

pub mod app;
mod broker;
pub mod broker_config;
pub mod ckafka_emulator;
mod client;
pub mod distribution;
pub mod inspect;
pub mod procnet;
pub mod seed;
mod spawn;
mod tls;

use std::env;
use std::path::Path;
use std::sync::OnceLock;

use anyhow::{Context, Result, anyhow};
use tempfile::TempDir;

pub use broker::Broker;
pub use broker_config::{BrokerOptions, Security, User};
pub use distribution::Distribution;

/// A source and a target broker, each its own single-node cluster, with their data in a
/// temporary directory that is removed when the testbed is dropped (after both brokers stopped),
/// unless a test panicked.
#[derive(Debug)]
pub struct Testbed {
    // Field order matters: fields drop in declaration order, so both brokers stop before the
    // directory holding their data is removed.
    pub source: Broker,
    pub target: Broker,
    dir: TempDir,
}

impl Testbed {
    /// Starts a PLAINTEXT source and target broker of the installed release, side by side.
    pub fn start() -> Result<Testbed> {
        Testbed::start_with(&BrokerOptions::default(), &BrokerOptions::default())
    }

    /// Starts the source and target brokers with the given options (listener security, ACLs,
    /// extra broker properties), side by side.
    ///
    /// The target runs the release [`Distribution::locate`] picks; the source too, unless
    /// `FERRY_KAFKA_SOURCE_VERSION` names another (the compatibility run: a 3.x source).
    pub fn start_with(source: &BrokerOptions, target: &BrokerOptions) -> Result<Testbed> {
        let target_release = Distribution::locate()?;
        let source_release = match env::var("FERRY_KAFKA_SOURCE_VERSION") {
            Ok(version) if !version.is_empty() => Distribution::locate_version(&version)?,
            _ => target_release.clone(),
        };
        Testbed::start_from(&source_release, source, &target_release, target)
    }

    /// Starts brokers of two releases (the compatibility run: a 3.x source, a 4.x target).
    pub fn start_from(
        source_release: &Distribution,
        source: &BrokerOptions,
        target_release: &Distribution,
        target: &BrokerOptions,
    ) -> Result<Testbed> {
        let mut dir = tempfile::Builder::new()
            .prefix("ferry-testbed-")
            .tempdir()
            .context("cannot create the testbed's temporary directory")?;
        if env::var_os("FERRY_TESTBED_KEEP").is_some_and(|keep| !keep.is_empty() && keep != "0") {
            dir.disable_cleanup(true);
            eprintln!("ferry-testbed: keeping {}", dir.path().display());
        }
        let path = dir.path().to_owned();
        let (source, target) = std::thread::scope(|scope| {
            let target =
                scope.spawn(|| Broker::start_from(target_release, "target", &path, target));
            let source = Broker::start_from(source_release, "source", &path, source);
            let target = target
                .join()
                .unwrap_or_else(|_| Err(anyhow!("the target broker's start-up thread panicked")));
            (source, target)
        });
        let mut keep_logs = |error: anyhow::Error, role: &str| {
            dir.disable_cleanup(true);
            error.context(format!(
                "starting the {role} broker (its files are kept in {})",
                dir.path().display()
            ))
        };
        let source = match source {
            Ok(source) => source,
            Err(error) => return Err(keep_logs(error, "source")),
        };
        let target = match target {
            Ok(target) => target,
            Err(error) => return Err(keep_logs(error, "target")),
        };
        Ok(Testbed {
            source,
            target,
            dir,
        })
    }

    /// One PLAINTEXT pair for every test of this process that does not stop, restart or
    /// reconfigure a broker: such tests must use topic and group names of their own. Started on
    /// first use; its brokers end with the process.
    pub fn shared() -> &'static Testbed {
        static SHARED: OnceLock<Testbed> = OnceLock::new();
        SHARED.get_or_init(|| {
            let bed = Testbed::start().expect("start the shared test bed");
            // A static is never dropped: the brokers die with the process (parent-death
            // signal); the directory is left for the temp cleaner, and named for a post-mortem.
            eprintln!("ferry-testbed: shared brokers in {}", bed.dir().display());
            bed
        })
    }

    /// The directory holding both brokers' directories (`source/`, `target/`) and logs
    /// (`source.log`, `target.log`).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Testbed {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.dir.disable_cleanup(true);
            eprintln!(
                "ferry-testbed: a test failed; broker logs and data kept in {}",
                self.dir.path().display()
            );
        }
    }
}
