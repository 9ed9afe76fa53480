//! The state lock: an OS lock on `<path>.lock`, plus who holds it written into that file.
//!
//! The OS lock is what excludes: it dies with its process, so a killed apply leaves at most stale
//! info behind, which the next command overwrites (with a warning). The info is only there to tell
//! a refused user who holds the lock, and to name it for `ferry force-unlock ID`.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{LockInfo, StateError, StateStore};
use crate::limits::LOCK_INFO_MAX_BYTES;

/// How often a waiting command tries the lock again.
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// Holds the state lock; dropping it releases the lock and clears the info.
#[derive(Debug)]
pub struct LockGuard {
    file: File,
    lock_path: PathBuf,
    info: LockInfo,
}

impl LockGuard {
    pub fn info(&self) -> &LockInfo {
        &self.info
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        // Removing the file while still holding the lock is safe: whoever opened it meanwhile
        // notices after locking that it is no longer the file at the path, and opens the new one.
        // After a force-unlock the path may hold another command's lock file: leave that alone.
        #[cfg(unix)]
        let cleared = if is_file_at(&self.file, &self.lock_path) {
            fs::remove_file(&self.lock_path)
        } else {
            Ok(())
        };
        #[cfg(not(unix))]
        let cleared = self.file.set_len(0);
        if let Err(e) = cleared {
            tracing::warn!(
                file = %self.lock_path.display(),
                error = %e,
                "cannot clear the state lock info; the next command will replace it"
            );
        }
        let _ = self.file.unlock();
    }
}

impl StateStore {
    /// Takes the state lock for `operation` (`apply`, ...), trying again until `wait` has passed
    /// (`Duration::ZERO`: try once). Refused with [`StateError::Locked`], naming the holder, when
    /// another process holds it.
    pub fn lock(&self, operation: &str, wait: Duration) -> Result<LockGuard, StateError> {
        self.lock_with(operation, wait, |_| {})
    }

    /// [`StateStore::lock`], calling `on_busy` with the holder's info (if it could be read) each time
    /// the lock is found held and there is time left to wait: the caller can say what it waits for.
    pub fn lock_with(
        &self,
        operation: &str,
        wait: Duration,
        mut on_busy: impl FnMut(Option<&LockInfo>),
    ) -> Result<LockGuard, StateError> {
        let lock_path = self.lock_path();
        // A wait too long to represent means: wait as long as it takes.
        let deadline = Instant::now().checked_add(wait);
        loop {
            if let Some(file) = try_lock_file(&lock_path)? {
                return self.claim(file, lock_path, operation);
            }
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if left == Some(Duration::ZERO) {
                return Err(match read_info_settled(&lock_path) {
                    Some(info) => StateError::Locked {
                        path: self.path().to_path_buf(),
                        info: Box::new(info),
                    },
                    None => StateError::LockedUnknown {
                        path: self.path().to_path_buf(),
                        lock_path,
                    },
                });
            }
            on_busy(read_info(&lock_path).as_ref());
            std::thread::sleep(left.map_or(POLL_INTERVAL, |left| left.min(POLL_INTERVAL)));
        }
    }

    /// Removes the lock whose id is `id` (as a refused command printed it). The holder is meant
    /// to be gone; if it is still running it keeps running, unlocked. Returns the removed info.
    pub fn force_unlock(&self, id: &str) -> Result<LockInfo, StateError> {
        let lock_path = self.lock_path();
        let not_locked = || StateError::NotLocked {
            path: self.path().to_path_buf(),
            lock_path: lock_path.clone(),
        };
        let file = match OpenOptions::new().read(true).write(true).open(&lock_path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(not_locked()),
            Err(e) => return Err(StateError::io("open", &lock_path, e)),
        };
        let info = read_info_from(&file).ok_or_else(not_locked)?;
        if info.id != id {
            return Err(StateError::WrongLockId {
                path: self.path().to_path_buf(),
                given: id.to_string(),
                info: Box::new(info),
            });
        }
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => tracing::warn!(
                pid = info.pid,
                who = %info.who,
                "process {} of {} still holds the state lock for `ferry {}`; its lock is removed, but make sure it is stopped: two commands changing one migration at once can undo each other",
                info.pid,
                info.who,
                info.operation
            ),
            Err(TryLockError::Error(e)) => return Err(StateError::io("lock", &lock_path, e)),
        }
        fs::remove_file(&lock_path).map_err(|e| StateError::io("remove", &lock_path, e))?;
        let _ = file.unlock();
        Ok(info)
    }

    /// The OS lock is ours: note a stale holder, and write our info.
    fn claim(
        &self,
        mut file: File,
        lock_path: PathBuf,
        operation: &str,
    ) -> Result<LockGuard, StateError> {
        match read_contents(&file) {
            Ok(previous) if previous.trim().is_empty() => {}
            Ok(previous) => match serde_json::from_str::<LockInfo>(&previous) {
                Ok(stale) => tracing::warn!(
                    pid = stale.pid,
                    who = %stale.who,
                    "cleared a stale state lock from pid {} ({}, `ferry {}` since {}): that process is gone",
                    stale.pid,
                    stale.who,
                    stale.operation,
                    stale.created
                ),
                Err(_) => tracing::warn!(
                    file = %lock_path.display(),
                    "cleared an unreadable stale state lock: the process that held it is gone"
                ),
            },
            Err(e) => return Err(StateError::io("read", &lock_path, e)),
        }
        let info = LockInfo::for_this_process(operation);
        let mut json = serde_json::to_vec_pretty(&info).expect("lock info serializes to JSON");
        json.push(b'\n');
        let written = (|| {
            file.set_len(0)?;
            file.seek(SeekFrom::Start(0))?;
            file.write_all(&json)?;
            file.sync_data()
        })();
        let guard = LockGuard {
            file,
            lock_path,
            info,
        };
        // On failure the guard's drop releases the lock again.
        written.map_err(|e| StateError::io("write", &guard.lock_path, e))?;
        Ok(guard)
    }
}

/// Opens (creating it if needed) and OS-locks the lock file. None when someone else holds it.
fn try_lock_file(lock_path: &Path) -> Result<Option<File>, StateError> {
    loop {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(lock_path)
            .map_err(|e| StateError::io("open", lock_path, e))?;
        // A FIFO or device in the lock file's place would make the info read block or never
        // end (opening it read-write does not block).
        let meta = file
            .metadata()
            .map_err(|e| StateError::io("open", lock_path, e))?;
        if !meta.is_file() {
            return Err(StateError::NotALockFile {
                lock_path: lock_path.to_path_buf(),
                kind: crate::bounded_file::kind(&meta),
            });
        }
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Ok(None),
            Err(TryLockError::Error(e)) => return Err(StateError::io("lock", lock_path, e)),
        }
        // The holder before us may have removed the file between our open and our lock: then we
        // hold a lock on a file nobody else will open. Start again with the one at the path.
        if is_file_at(&file, lock_path) {
            return Ok(Some(file));
        }
    }
}

#[cfg(unix)]
fn is_file_at(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::metadata(path)) {
        (Ok(open), Ok(at_path)) => open.dev() == at_path.dev() && open.ino() == at_path.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn is_file_at(_file: &File, path: &Path) -> bool {
    path.exists()
}

/// The lock info ferry wrote is a few hundred bytes: read no more than LOCK_INFO_MAX_BYTES of
/// whatever is there.
fn read_contents(mut file: &File) -> io::Result<String> {
    file.seek(SeekFrom::Start(0))?;
    let mut text = String::new();
    file.take(LOCK_INFO_MAX_BYTES).read_to_string(&mut text)?;
    Ok(text)
}

fn read_info_from(file: &File) -> Option<LockInfo> {
    serde_json::from_str(&read_contents(file).ok()?).ok()
}

fn read_info(lock_path: &Path) -> Option<LockInfo> {
    let text = crate::bounded_file::read_text(lock_path, LOCK_INFO_MAX_BYTES).ok()?;
    serde_json::from_str(&text).ok()
}

/// The holder writes its info right after taking the lock: give it a moment before reporting
/// that there is none.
fn read_info_settled(lock_path: &Path) -> Option<LockInfo> {
    for _ in 0..10 {
        if let Some(info) = read_info(lock_path) {
            return Some(info);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}
