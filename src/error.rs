//! Error kinds with what the user should do next; every one exits with code 1.

use std::path::PathBuf;

use thiserror::Error;

use crate::apply::{ApplyError, HookError};
use crate::cluster::ClusterError;
use crate::config::ConfigErrors;
use crate::copy::CopyError;
use crate::state::StateError;

#[derive(Debug, Error)]
pub enum Error {
    #[error(
        "the configuration has {count} problem{s}:\n{0}\nFix {them} and run `ferry validate` again.",
        count = .0.0.len(),
        s = if .0.0.len() == 1 { "" } else { "s" },
        them = if .0.0.len() == 1 { "it" } else { "them" }
    )]
    Config(ConfigErrors),

    #[error(transparent)]
    Cluster(#[from] ClusterError),

    #[error(transparent)]
    State(#[from] StateError),

    #[error(transparent)]
    Apply(#[from] ApplyError),

    #[error(transparent)]
    Hook(#[from] HookError),

    #[error(transparent)]
    Copy(#[from] CopyError),

    #[error(
        "the {role} cluster reports id \"{actual}\" but cluster \"{role}\" pins cluster_id = \"{pinned}\". ferry refuses to run against another cluster: check bootstrap_servers, or update the pin if the cluster was rebuilt on purpose."
    )]
    ClusterIdMismatch {
        role: String,
        pinned: String,
        actual: String,
    },

    #[error("cannot write {path}: {source}. Check that the directory exists and is writable.")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("{0}")]
    Usage(String),
}

impl From<ConfigErrors> for Error {
    fn from(e: ConfigErrors) -> Self {
        Error::Config(e)
    }
}
