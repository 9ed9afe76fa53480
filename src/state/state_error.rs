//! Why the state file or its lock cannot be used, each with what the user should do next.

use std::path::{Path, PathBuf};

use thiserror::Error;

use super::LockInfo;
use crate::config::Scheme;

#[derive(Debug, Error)]
pub enum StateError {
    #[error(
        "the state file {path} cannot be read: {detail}. ferry changed nothing. {hint}",
        hint = corrupt_hint(.path, .backup.as_deref())
    )]
    Corrupt {
        path: PathBuf,
        /// The backup beside the state file, when there is one.
        backup: Option<PathBuf>,
        detail: String,
    },

    #[error(
        "the state file {path} cannot be used: {problem}. ferry changed nothing. Check that `state {{ path = ... }}` names the state file ferry writes (a regular file of at most {limit}); if something else is in its place, move it away and put the state file back."
    )]
    NotAStateFile {
        path: PathBuf,
        problem: String,
        limit: String,
    },

    #[error(
        "the state lock file {lock_path} is {kind}, not a regular file. ferry changed nothing. Move it away so that ferry can create its lock file there, then run the command again."
    )]
    NotALockFile {
        lock_path: PathBuf,
        kind: &'static str,
    },

    #[error(
        "the new version of the state file {path} would be larger than {limit}, the most ferry reads back, so it was not written: the file on disk is the last version saved, and `ferry apply` resumes from it. A state this large comes from offset maps with millions of gaps; migrate fewer topics per migration (each with its own state file)."
    )]
    TooLargeToSave { path: PathBuf, limit: String },

    #[error(
        "the state file {path} has format version {found}, but this ferry reads only version {supported}{why}. ferry changed nothing: run the ferry release that wrote this file (or a newer one) instead.",
        why = if .found > .supported { ": it was written by a newer ferry" } else { ", and no ferry writes version 0" }
    )]
    UnknownVersion {
        path: PathBuf,
        found: u32,
        supported: u32,
    },

    #[error(
        "the state file {path} records a migration between other clusters: {detail}. ferry refuses to continue a migration on clusters it did not start on, and changed nothing. Check bootstrap_servers in the cluster blocks; if this really is a new migration, point `state {{ path = ... }}` at a new file or move {path} away.",
        detail = cluster_detail(.recorded_source.as_deref(), .recorded_target.as_deref(), .live_source.as_deref(), .live_target.as_deref())
    )]
    OtherClusters {
        path: PathBuf,
        recorded_source: Option<String>,
        recorded_target: Option<String>,
        live_source: Option<String>,
        live_target: Option<String>,
    },

    #[error(
        "the state file {path} records migration \"{recorded}\" (scheme {recorded_scheme}), but the configuration declares migration \"{declared}\". ferry changed nothing and contacted no cluster. If this configuration is another migration, give it its own state file with `state {{ path = \"...\" }}`; if it is the same migration under a new name, declare it as migration \"{recorded}\" again. `ferry state show` prints what the file holds."
    )]
    OtherMigration {
        path: PathBuf,
        recorded: String,
        recorded_scheme: Scheme,
        declared: String,
    },

    #[error(
        "the state file {path} records migration \"{migration}\" started with scheme {recorded}, but the configuration now declares scheme {declared}. A started migration keeps its scheme: its recorded steps are that scheme's cutover order. ferry changed nothing and contacted no cluster. Write scheme = \"{recorded}\" again to continue it; to migrate with {declared} instead, declare a new migration with its own state file (`state {{ path = \"...\" }}`)."
    )]
    OtherScheme {
        path: PathBuf,
        migration: String,
        recorded: Scheme,
        declared: Scheme,
    },

    #[error(
        "the state file {path} records a migration whose {role} cluster has id {recorded}, but cluster \"{role}\" pins cluster_id = \"{pinned}\". ferry changed nothing and contacted no cluster. If the pin is right, this state file belongs to another migration: point `state {{ path = \"...\" }}` at this migration's own file; if the state file is right, correct cluster_id in cluster \"{role}\"."
    )]
    PinnedOtherCluster {
        path: PathBuf,
        role: &'static str,
        recorded: String,
        pinned: String,
    },

    #[error(
        "the state file {path} on disk has lineage {found}, but the state ferry was about to save has lineage {ours}: the file was created or replaced by another run since ferry read it. ferry did not overwrite it. Look at what is in it (`ferry state show`), then run the command again."
    )]
    OtherLineage {
        path: PathBuf,
        found: String,
        ours: String,
    },

    #[error(
        "the state file {path} was written by someone else meanwhile (its serial is {found}, this run last saw {ours}). ferry did not overwrite it. Another ferry may have run without the lock; check `ferry state show`, then run the command again."
    )]
    StaleSerial {
        path: PathBuf,
        found: u64,
        ours: u64,
    },

    #[error(
        "the state file {path} is locked: {info}. Another ferry is working on this migration. Wait for it to finish, or let this command wait for the lock with --lock-timeout (for example --lock-timeout 5m). If that process is gone, remove the lock with `ferry force-unlock {id}`.",
        id = .info.id
    )]
    Locked { path: PathBuf, info: Box<LockInfo> },

    #[error(
        "the state file {path} is locked by another process that has not (or not yet) said who it is: its lock file {lock_path} holds no lock info. Wait for it to finish, or let this command wait for the lock with --lock-timeout (for example --lock-timeout 5m)."
    )]
    LockedUnknown { path: PathBuf, lock_path: PathBuf },

    #[error(
        "the state file {path} is not locked (its lock file {lock_path} holds no lock info), so there is nothing to unlock. ferry changed nothing."
    )]
    NotLocked { path: PathBuf, lock_path: PathBuf },

    #[error(
        "the lock on the state file {path} has id {id}, not {given}: {info}. ferry removed nothing. Copy the id from the message of the command that was refused, and check that the process holding the lock is really gone.",
        id = .info.id
    )]
    WrongLockId {
        path: PathBuf,
        given: String,
        info: Box<LockInfo>,
    },

    #[error(
        "cannot {action} {path}: {source}. Check that the directory exists, that ferry may read and write it, and that the disk is not full."
    )]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

impl StateError {
    pub(crate) fn io(action: &'static str, path: &Path, source: std::io::Error) -> StateError {
        StateError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }
}

fn corrupt_hint(path: &Path, backup: Option<&Path>) -> String {
    match backup {
        Some(backup) => format!(
            "The version before the last save is kept in {}: compare the two, and if the backup is good, copy it over {} and run the command again (apply then repeats the last finished step; steps are idempotent).",
            backup.display(),
            path.display()
        ),
        None => format!(
            "There is no backup beside it. Restore {} from wherever you keep it (it is not safe to delete it: apply would start the migration from the first step).",
            path.display()
        ),
    }
}

fn cluster_detail(
    recorded_source: Option<&str>,
    recorded_target: Option<&str>,
    live_source: Option<&str>,
    live_target: Option<&str>,
) -> String {
    let mut parts = Vec::new();
    for (role, recorded, live) in [
        ("source", recorded_source, live_source),
        ("target", recorded_target, live_target),
    ] {
        if let (Some(recorded), Some(live)) = (recorded, live)
            && recorded != live
        {
            parts.push(format!(
                "it was made against {role} cluster \"{recorded}\", but the live {role} cluster is \"{live}\""
            ));
        }
    }
    parts.join("; ")
}
