//! The state file's content: which migration, against which clusters, and how far apply got.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::{Cutover, StepOutcome, StepRecord, StepStatus};
use crate::config::Scheme;

/// The only state format this ferry reads and writes.
pub const STATE_FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub format_version: u32,
    /// A UUID fixed when the state is created: every later version of the file carries it, so a file
    /// replaced by another migration's is recognised.
    pub lineage: String,
    /// Raised by one on every save.
    pub serial: u64,
    pub migration: String,
    pub scheme: Scheme,
    /// Cluster ids the migration was started against (None where the broker reports none).
    pub source_cluster_id: Option<String>,
    pub target_cluster_id: Option<String>,
    pub steps: Vec<StepRecord>,
    /// When clients moved and the pauses they had (mirror).
    #[serde(default, skip_serializing_if = "Cutover::is_empty")]
    pub cutover: Cutover,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// RFC 3339, UTC; set by every save.
    pub updated_at: String,
}

impl State {
    /// A fresh state with a new lineage, serial 0 and no steps; the first save makes it serial 1.
    pub fn new(
        migration: impl Into<String>,
        scheme: Scheme,
        source_cluster_id: Option<String>,
        target_cluster_id: Option<String>,
    ) -> Self {
        let now = now_rfc3339();
        State {
            format_version: STATE_FORMAT_VERSION,
            lineage: uuid::Uuid::new_v4().to_string(),
            serial: 0,
            migration: migration.into(),
            scheme,
            source_cluster_id,
            target_cluster_id,
            steps: Vec::new(),
            cutover: Cutover::default(),
            created_at: now.clone(),
            updated_at: now,
        }
    }

    /// Appends a pending step and returns its index.
    pub fn push_step(&mut self, kind: impl Into<String>, description: impl Into<String>) -> usize {
        let index = self.steps.len();
        self.steps
            .push(StepRecord::pending(index, kind, description));
        index
    }

    pub fn record(&self, index: usize) -> Option<&StepRecord> {
        self.steps.get(index)
    }

    pub fn record_mut(&mut self, index: usize) -> Option<&mut StepRecord> {
        self.steps.get_mut(index)
    }

    /// The first step that is not done (pending, running when a run stopped, or failed): where apply
    /// resumes. None when every step is done.
    pub fn first_unfinished(&self) -> Option<usize> {
        self.steps.iter().position(|s| !s.is_done())
    }

    /// How many leading steps are done.
    pub fn completed_steps(&self) -> usize {
        self.first_unfinished().unwrap_or(self.steps.len())
    }

    /// Marks a step as started now; clears what an earlier, failed attempt left.
    ///
    /// # Panics
    /// When there is no step `index` (a bug in the caller).
    pub fn mark_running(&mut self, index: usize) {
        let record = self.expect_record(index);
        record.status = StepStatus::Running;
        record.started_at = Some(now_rfc3339());
        record.finished_at = None;
        record.outcome = None;
        record.error = None;
    }

    /// Marks a step as finished now, with what it did.
    ///
    /// # Panics
    /// When there is no step `index` (a bug in the caller).
    pub fn mark_done(&mut self, index: usize, outcome: StepOutcome) {
        let record = self.expect_record(index);
        record.status = StepStatus::Done;
        record.finished_at = Some(now_rfc3339());
        record.outcome = Some(outcome);
        record.error = None;
    }

    /// Marks a step as failed now. An outcome set before (for example a hook's exit code) is kept.
    ///
    /// # Panics
    /// When there is no step `index` (a bug in the caller).
    pub fn mark_failed(&mut self, index: usize, error: impl Into<String>) {
        let record = self.expect_record(index);
        record.status = StepStatus::Failed;
        record.finished_at = Some(now_rfc3339());
        record.error = Some(error.into());
    }

    fn expect_record(&mut self, index: usize) -> &mut StepRecord {
        let len = self.steps.len();
        self.steps
            .get_mut(index)
            .unwrap_or_else(|| panic!("state has {len} steps, no step {index}"))
    }
}

/// Now, as RFC 3339 in UTC with whole seconds (`2025-01-31T12:00:00Z`).
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}
