//! One step of the migration as the state file records it.

use serde::{Deserialize, Serialize};

use super::{StepOutcome, StepStatus};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    /// Position of the step in the plan, from 0.
    pub index: usize,
    /// The plan step's kind (`apply_topics`, `run_hook`, ...).
    pub kind: String,
    /// One line, as the plan shows it.
    pub description: String,
    pub status: StepStatus,
    /// RFC 3339, UTC; set when the step (last) started.
    pub started_at: Option<String>,
    /// RFC 3339, UTC; set when the step finished or failed.
    pub finished_at: Option<String>,
    pub outcome: Option<StepOutcome>,
    pub error: Option<String>,
    /// The plan step itself, so a resumed apply replays the sequence fixed at the first apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<crate::domain::Step>,
}

impl StepRecord {
    /// A step not started yet.
    pub fn pending(index: usize, kind: impl Into<String>, description: impl Into<String>) -> Self {
        StepRecord {
            index,
            kind: kind.into(),
            description: description.into(),
            status: StepStatus::Pending,
            started_at: None,
            finished_at: None,
            outcome: None,
            error: None,
            step: None,
        }
    }

    pub fn is_done(&self) -> bool {
        self.status == StepStatus::Done
    }
}
