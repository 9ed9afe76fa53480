//! Why an apply stopped, each with what to do next.

use std::path::PathBuf;
use std::time::Duration;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum ApplyError {
    #[error(
        "the plan has {} blocked topic{}: {}. apply changes nothing while any topic is blocked; `ferry plan` says why for each, so fix the configuration or the target first.",
        .topics.len(), if .topics.len() == 1 { "" } else { "s" }, .topics.join(", ")
    )]
    Blocked { topics: Vec<String> },

    #[error("{0}")]
    Mirror(String),

    #[error(
        "verification failed: {} partition{} differ between source and target:\n  {}\nThe state file records the step as failed, and producers have not started on the target. Find what wrote to or deleted from these partitions, then run `ferry apply` again to verify again; or return the consumers to the source with `ferry rollback` and start the producers there again.",
        .mismatches.len(), if .mismatches.len() == 1 { "" } else { "s" }, .mismatches.join("\n  ")
    )]
    VerifyFailed { mismatches: Vec<String> },

    #[error("apply cancelled: only `yes` confirms. Nothing was changed.")]
    NotConfirmed,

    #[error(
        "apply needs a confirmation but standard input is not a terminal. Review the migration with `ferry plan`, then run `ferry apply --auto-approve`, or save it with `ferry plan --out FILE` and run `ferry apply FILE`."
    )]
    NoTerminal,

    #[error(
        "the saved plan {} is stale: {}. Nothing was changed. Make a new plan with `ferry plan --out FILE`, review it, and apply that.",
        .path.display(), .reasons.join("; ")
    )]
    StalePlan { path: PathBuf, reasons: Vec<String> },

    #[error("{0}")]
    SavedPlan(String),

    #[error("{0}")]
    Rollback(String),

    #[error(
        "step {step} ({condition}) did not complete within {}: {progress}. The state file records the step as failed; fix the cause and run `ferry apply` again to continue from this step, or raise migration.wait_timeout to wait longer.",
        humantime::format_duration(*.waited)
    )]
    WaitTimedOut {
        step: usize,
        condition: String,
        waited: Duration,
        progress: String,
    },

    #[error(
        "ferry replicate copies data, which only the mirror scheme does; migration \"{migration}\" uses scheme {scheme}. Nothing was copied."
    )]
    ReplicateNeedsMirror { migration: String, scheme: String },

    #[error(
        "ferry replicate found no source topic selected by the configuration (topics and topic blocks). Check the topics include/exclude patterns with `ferry plan`."
    )]
    ReplicateNothingSelected,

    #[error(
        "ferry replicate copies into existing target topics, and these are missing or too small: {}. Run `ferry plan` and `ferry apply` first (apply creates the target topics), then start ferry replicate again. Nothing was copied.",
        .topics.join(", ")
    )]
    ReplicateTargetMissing { topics: Vec<String> },

    #[error(
        "replication.start_from = \"{start_from}\" moves as the source moves, and these target partitions hold no copy yet: {}. Processes started at different times (or one restarted) would start them at different offsets and skip records. Set start_from to \"earliest\" or a fixed timestamp (RFC 3339, e.g. the time the migration starts), then start ferry replicate again. Nothing was copied.",
        .partitions.join(", ")
    )]
    ReplicateMovingStart {
        start_from: String,
        partitions: Vec<String>,
    },
}
