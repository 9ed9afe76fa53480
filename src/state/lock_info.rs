//! Who holds the state lock, written into the lock file by the holder.

use serde::{Deserialize, Serialize};

use super::state::now_rfc3339;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    /// A UUID; `ferry force-unlock ID` names it.
    pub id: String,
    /// The command holding the lock (`apply`, ...).
    pub operation: String,
    /// `user@host`.
    pub who: String,
    pub pid: u32,
    /// RFC 3339, UTC.
    pub created: String,
}

impl LockInfo {
    /// Info for a lock this process takes now.
    pub fn for_this_process(operation: &str) -> Self {
        LockInfo {
            id: uuid::Uuid::new_v4().to_string(),
            operation: operation.to_string(),
            who: format!("{}@{}", user_name(), host_name()),
            pid: std::process::id(),
            created: now_rfc3339(),
        }
    }
}

impl std::fmt::Display for LockInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "held by {} (pid {}) since {} for `ferry {}`, lock id {}",
            self.who, self.pid, self.created, self.operation, self.id
        )
    }
}

fn user_name() -> String {
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "unknown".to_string())
}

fn host_name() -> String {
    hostname::get()
        .ok()
        .map(|h| h.to_string_lossy().into_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".to_string())
}
