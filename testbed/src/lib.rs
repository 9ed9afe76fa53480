//! Real two-broker test bed for ferry.
//!
//! [`Testbed::start`] runs two [tansu](https://crates.io/crates/tansu) 0.6.0 brokers on loopback
//! ports, a *source* and a *target* cluster (cluster ids `source` and `target`), each a single
//! broker with sqlite storage in a temporary directory owned by the [`Testbed`]. Every testbed
//! gets its own directory and ports, so tests may run in parallel. [`seed`] fills a broker with
//! topics, records and committed group offsets.
//!
//! Brokers are stopped by pid when their [`Broker`] is dropped; they are also tied to the life of
//! the process that started them (see `spawn`), so a killed test binary leaves none behind.
//!
//! Linux only: readiness reads `/proc` (see [`procnet`]). Set `FERRY_TANSU` to pick the tansu
//! binary, and `FERRY_TESTBED_KEEP=1` to keep a testbed's directory (databases and broker logs)
//! after it is dropped.

pub mod app;
mod broker;
pub mod ckafka_emulator;
mod client;
mod header_index;
pub mod inspect;
pub mod procnet;
pub mod seed;
mod spawn;

use std::env;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use tempfile::TempDir;

pub use broker::Broker;

/// The tansu binary to run: `$FERRY_TANSU` if set, else `tansu` found on `PATH`, else
/// `$CARGO_HOME/bin/tansu` (`~/.cargo/bin/tansu` when `CARGO_HOME` is unset).
pub fn tansu_binary() -> PathBuf {
    if let Some(path) = env::var_os("FERRY_TANSU").filter(|path| !path.is_empty()) {
        return PathBuf::from(path);
    }
    if let Some(found) = env::var_os("PATH").and_then(|paths| {
        env::split_paths(&paths)
            .map(|dir| dir.join("tansu"))
            .find(|candidate| is_executable(candidate))
    }) {
        return found;
    }
    let cargo_home = env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from("/root/.cargo"));
    cargo_home.join("bin").join("tansu")
}

fn is_executable(path: &Path) -> bool {
    path.metadata()
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

/// A source and a target broker, each its own single-node cluster, with their data in a
/// temporary directory that is removed when the testbed is dropped (after both brokers stopped).
#[derive(Debug)]
pub struct Testbed {
    // Field order matters: fields drop in declaration order, so both brokers stop before the
    // directory holding their databases is removed.
    pub source: Broker,
    pub target: Broker,
    dir: TempDir,
}

impl Testbed {
    /// Starts the source (cluster id `source`) and target (cluster id `target`) brokers, each on
    /// its own free loopback port, both storing into one fresh temporary directory.
    pub fn start() -> Result<Testbed> {
        let mut dir = tempfile::Builder::new()
            .prefix("ferry-testbed-")
            .tempdir()
            .context("cannot create the testbed's temporary directory")?;
        if env::var_os("FERRY_TESTBED_KEEP").is_some_and(|keep| !keep.is_empty() && keep != "0") {
            dir.disable_cleanup(true);
            eprintln!("ferry-testbed: keeping {}", dir.path().display());
        }
        let source = Broker::start("source", dir.path()).context("starting the source broker")?;
        let target = Broker::start("target", dir.path()).context("starting the target broker")?;
        Ok(Testbed {
            source,
            target,
            dir,
        })
    }

    /// The directory holding both brokers' databases (`source.db`, `target.db`) and logs
    /// (`source.log`, `target.log`).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}
