//! One step of a migration, in the order apply runs them.

use serde::{Deserialize, Serialize};

use super::{CopyVolume, StartFrom};

/// Which cluster a group condition is observed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupsOn {
    Source,
    Target,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Step {
    /// Create and update topic metadata on the target (names are target names).
    ApplyTopics {
        create: Vec<String>,
        update: Vec<String>,
    },
    /// Copy records partition by partition (mirror).
    CopyData {
        topics: Vec<String>,
        start_from: StartFrom,
        volume: CopyVolume,
        /// The copy writes in transactions, fencing a killed run's late writes: the target
        /// accepted a transactional producer when the plan was made. Plans saved before this
        /// existed copy unfenced.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        fenced: bool,
    },
    /// Wait until every copied partition's replication lag is within the bound for the settle
    /// period, while the copy keeps running in the background (mirror).
    WaitReplicationCaughtUp {
        topics: Vec<String>,
        /// Most source offsets a partition may be behind.
        max_lag: i64,
        /// Longest the copy may be behind the source, in milliseconds: how long ago the source
        /// last held no more than the copy has.
        max_lag_time_ms: u64,
    },
    /// Run a client-switch hook.
    RunHook { hook: String, declared: bool },
    /// Translate each group's committed source offset through the copy's offset map and commit it
    /// on the target (mirror).
    TranslateOffsets {
        groups: Vec<String>,
        partitions: usize,
    },
    /// Commit each group's offset at the start of every target partition, so a group that first
    /// appears on the target with auto.offset.reset=latest cannot skip the backlog (single_consume).
    CommitStartOffsets {
        groups: Vec<String>,
        partitions: usize,
    },
    /// Wait until each group has active members on a cluster.
    WaitGroupsActive { groups: Vec<String>, on: GroupsOn },
    /// Wait until each group's lag on the source is 0 and stays 0 for the settle period.
    WaitGroupsDrained { groups: Vec<String> },
    /// Wait until each group has no members on the source and its committed offsets held still
    /// for the settle period (mirror: the consumers stopped there).
    WaitGroupsStopped { groups: Vec<String> },
    /// Wait until the source's end offsets held still for the settle period (mirror: the
    /// producers stopped there); a partition still growing names a producer not switched.
    WaitSourceQuiet { topics: Vec<String> },
    /// Copy the last records producers wrote to the source before they stopped, then stop the
    /// background copy (mirror).
    DrainReplication { topics: Vec<String> },
    /// Compare record counts and checksums per partition over the copied range (mirror).
    Verify {
        topics: Vec<String>,
        partitions: usize,
    },
}

impl Step {
    pub fn kind(&self) -> &'static str {
        match self {
            Step::ApplyTopics { .. } => "apply_topics",
            Step::CopyData { .. } => "copy_data",
            Step::WaitReplicationCaughtUp { .. } => "wait_replication_caught_up",
            Step::RunHook { .. } => "run_hook",
            Step::TranslateOffsets { .. } => "translate_offsets",
            Step::CommitStartOffsets { .. } => "commit_start_offsets",
            Step::WaitGroupsActive { .. } => "wait_groups_active",
            Step::WaitGroupsDrained { .. } => "wait_groups_drained",
            Step::WaitGroupsStopped { .. } => "wait_groups_stopped",
            Step::WaitSourceQuiet { .. } => "wait_source_quiet",
            Step::DrainReplication { .. } => "drain_replication",
            Step::Verify { .. } => "verify",
        }
    }
}
