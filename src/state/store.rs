//! The state file on disk: refuses what it cannot trust, and publishes a new version only by rename.
//!
//! Beside `ferry.state.json` live `ferry.state.json.backup` (the version before the last save),
//! `ferry.state.json.lock` (while a command holds the lock) and, only after a crash in the middle of
//! a save, `.ferry.state.json.<uuid>.tmp` files that nothing reads and the next save removes.

use std::ffi::OsString;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::state::now_rfc3339;
use super::{STATE_FORMAT_VERSION, State, StateError};
use crate::bounded_file::{self, FileProblem};
use crate::limits::{STATE_MAX_BYTES, show_bytes};

#[derive(Debug, Clone)]
pub struct StateStore {
    path: PathBuf,
}

impl StateStore {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        StateStore { path: path.into() }
    }

    /// The state file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `<path>.backup`: the version before the last save.
    pub fn backup_path(&self) -> PathBuf {
        self.sibling(".backup")
    }

    /// `<path>.lock`: the OS lock and, while held, who holds it.
    pub fn lock_path(&self) -> PathBuf {
        self.sibling(".lock")
    }

    /// Reads the state file. `None` when there is none yet. A file that does not parse or has a
    /// format version this ferry does not know is refused, and nothing is changed.
    pub fn load(&self) -> Result<Option<State>, StateError> {
        match self.read_existing()? {
            None => Ok(None),
            Some(bytes) => self.parse(&bytes).map(Some),
        }
    }

    /// Refuses a state recorded against other clusters than the live ones. An id that is unknown
    /// on either side (a broker that reports none) is not compared.
    pub fn check_clusters(
        &self,
        state: &State,
        source_id: Option<&str>,
        target_id: Option<&str>,
    ) -> Result<(), StateError> {
        let differs = |recorded: Option<&str>, live: Option<&str>| matches!((recorded, live), (Some(r), Some(l)) if r != l);
        if differs(state.source_cluster_id.as_deref(), source_id)
            || differs(state.target_cluster_id.as_deref(), target_id)
        {
            return Err(StateError::OtherClusters {
                path: self.path.clone(),
                recorded_source: state.source_cluster_id.clone(),
                recorded_target: state.target_cluster_id.clone(),
                live_source: source_id.map(str::to_string),
                live_target: target_id.map(str::to_string),
            });
        }
        Ok(())
    }

    /// Writes `state` as the next version: raises its serial, stamps `updated_at`, keeps the
    /// current file as `<path>.backup` and publishes the new one by renaming a synced temp file
    /// over the old, so a crash leaves either the old version or the new one, never a mix.
    ///
    /// Refuses (and writes nothing) when the file on disk cannot be loaded, belongs to another
    /// lineage, or is newer than `state`. On failure `state` is left as it was.
    pub fn save(&self, state: &mut State) -> Result<(), StateError> {
        let existing = self.read_existing()?;
        if let Some(bytes) = &existing {
            let on_disk = self.parse(bytes)?;
            if on_disk.lineage != state.lineage {
                return Err(StateError::OtherLineage {
                    path: self.path.clone(),
                    found: on_disk.lineage,
                    ours: state.lineage.clone(),
                });
            }
            if on_disk.serial > state.serial {
                return Err(StateError::StaleSerial {
                    path: self.path.clone(),
                    found: on_disk.serial,
                    ours: state.serial,
                });
            }
        }
        self.remove_leftover_temp_files();

        let before = (state.serial, state.updated_at.clone());
        state.serial += 1;
        state.updated_at = now_rfc3339();
        let result = self.publish(state, existing.as_deref());
        if result.is_err() {
            (state.serial, state.updated_at) = before;
        }
        result
    }

    fn publish(&self, state: &State, previous: Option<&[u8]>) -> Result<(), StateError> {
        let mut json = serde_json::to_vec_pretty(state)
            .map_err(|e| StateError::io("serialize the state for", &self.path, e.into()))?;
        json.push(b'\n');
        // Never write what the next load would refuse.
        if json.len() as u64 > STATE_MAX_BYTES {
            return Err(StateError::TooLargeToSave {
                path: self.path.clone(),
                limit: show_bytes(STATE_MAX_BYTES),
            });
        }
        if let Some(previous) = previous {
            self.write_atomically(&self.backup_path(), previous)?;
        }
        self.write_atomically(&self.path, &json)?;
        let dir = self.dir();
        sync_dir(dir).map_err(|e| StateError::io("sync the directory", dir, e))
    }

    /// Writes `bytes` to a new temp file in the state file's directory, syncs it, and renames it
    /// to `target`.
    fn write_atomically(&self, target: &Path, bytes: &[u8]) -> Result<(), StateError> {
        let temp = self.dir().join(format!(
            "{}{}{}",
            self.temp_prefix().to_string_lossy(),
            uuid::Uuid::new_v4().simple(),
            TEMP_SUFFIX
        ));
        let written = (|| {
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&temp)?;
            file.write_all(bytes)?;
            file.sync_all()
        })();
        if let Err(e) = written {
            let _ = fs::remove_file(&temp);
            return Err(StateError::io("write", &temp, e));
        }
        if let Err(e) = fs::rename(&temp, target) {
            let _ = fs::remove_file(&temp);
            return Err(StateError::io("replace", target, e));
        }
        Ok(())
    }

    /// The file's bytes, or None when it does not exist. Only a regular file of at most
    /// [`STATE_MAX_BYTES`] is read: a FIFO or a device in its place would block or never end.
    fn read_existing(&self) -> Result<Option<Vec<u8>>, StateError> {
        match bounded_file::read(&self.path, STATE_MAX_BYTES) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(FileProblem::Missing) => Ok(None),
            Err(FileProblem::Io(e)) => Err(StateError::io("read", &self.path, e)),
            Err(problem) => Err(StateError::NotAStateFile {
                path: self.path.clone(),
                problem: problem.to_string(),
                limit: show_bytes(STATE_MAX_BYTES),
            }),
        }
    }

    fn parse(&self, bytes: &[u8]) -> Result<State, StateError> {
        let corrupt = |detail: String| StateError::Corrupt {
            path: self.path.clone(),
            backup: Some(self.backup_path()).filter(|b| b.is_file()),
            detail,
        };
        let value: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| corrupt(format!("it is not valid JSON ({e})")))?;
        let Some(object) = value.as_object() else {
            return Err(corrupt("it is not a JSON object".to_string()));
        };
        let Some(found) = object.get("format_version").and_then(|v| v.as_u64()) else {
            return Err(corrupt(
                "it has no format_version, so it is not a ferry state file".to_string(),
            ));
        };
        if found != u64::from(STATE_FORMAT_VERSION) {
            return Err(StateError::UnknownVersion {
                path: self.path.clone(),
                found: u32::try_from(found).unwrap_or(u32::MAX),
                supported: STATE_FORMAT_VERSION,
            });
        }
        let state: State = serde_json::from_slice(bytes)
            .map_err(|e| corrupt(format!("it does not match the state format ({e})")))?;
        if let Some((position, record)) = state
            .steps
            .iter()
            .enumerate()
            .find(|(position, record)| record.index != *position)
        {
            return Err(corrupt(format!(
                "step {position} in the list says it is step {}",
                record.index
            )));
        }
        Ok(state)
    }

    /// Removes temp files that a save interrupted by a crash left behind. Best effort: they are
    /// never read, so one that cannot be removed does no harm.
    fn remove_leftover_temp_files(&self) {
        let prefix = self.temp_prefix();
        let Ok(entries) = fs::read_dir(self.dir()) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if name.starts_with(prefix.to_string_lossy().as_ref()) && name.ends_with(TEMP_SUFFIX) {
                match fs::remove_file(entry.path()) {
                    Ok(()) => {
                        tracing::debug!(file = %entry.path().display(), "removed a temp file left by an interrupted save")
                    }
                    Err(e) => {
                        tracing::debug!(file = %entry.path().display(), error = %e, "cannot remove a leftover temp file")
                    }
                }
            }
        }
    }

    /// `.<file name>.`: temp files start with it.
    fn temp_prefix(&self) -> OsString {
        let mut prefix = OsString::from(".");
        prefix.push(self.path.file_name().unwrap_or_default());
        prefix.push(".");
        prefix
    }

    fn dir(&self) -> &Path {
        self.path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
    }

    fn sibling(&self, suffix: &str) -> PathBuf {
        let mut name = self.path.clone().into_os_string();
        name.push(suffix);
        PathBuf::from(name)
    }
}

const TEMP_SUFFIX: &str = ".tmp";

/// Makes the renames in `dir` durable.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}
