//! The plan as data. Renderers only read it; a saved plan is this, serialized.

use serde::{Deserialize, Serialize};

use crate::config::{Scheme, StartFrom};
use crate::diff::{Action, GroupMove, TopicChange};

use super::Step;

/// Version of the plan's JSON form; bumped on any incompatible change (see docs/plan-json.md).
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub format_version: u32,
    pub migration: String,
    pub scheme: Scheme,
    pub start_from: StartFrom,
    /// `-target topic.NAME` limits: the plan covers only these source topics (empty: all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
    pub source: ClusterSummary,
    pub target: ClusterSummary,
    pub topics: Vec<TopicChange>,
    /// Target topics ferry does not manage: listed, never touched.
    pub unmanaged_target_topics: Vec<String>,
    pub groups: Vec<GroupMove>,
    pub steps: Vec<Step>,
    /// How many leading steps an earlier apply finished (steps run strictly in order).
    #[serde(default)]
    pub completed_steps: usize,
    pub warnings: Vec<String>,
    pub summary: Summary,
    pub fingerprint: Fingerprint,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterSummary {
    pub cluster_id: Option<String>,
    pub brokers: usize,
    pub topics: usize,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub create: usize,
    pub change: usize,
    pub unchanged: usize,
    pub blocked: usize,
    pub steps: usize,
}

/// What a saved plan was computed from; apply refuses it when any part differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    pub config: String,
    pub metadata: String,
}

impl Plan {
    pub fn topics_with(&self, action: Action) -> impl Iterator<Item = &TopicChange> {
        self.topics.iter().filter(move |t| t.action == action)
    }

    /// Whether the mirror copy writes in transactions (its copy step says).
    pub fn copy_fenced(&self) -> bool {
        self.steps
            .iter()
            .any(|s| matches!(s, Step::CopyData { fenced: true, .. }))
    }

    /// Continues a migration an earlier apply started: its recorded step sequence, with the
    /// finished prefix marked. The sequence is fixed at the first apply, so a resumed run does
    /// the same steps even when a fresh diff would now order fewer.
    pub fn resume(&mut self, recorded: Vec<Step>, completed: usize) {
        self.steps = recorded;
        self.completed_steps = completed.min(self.steps.len());
        self.summary.steps = self.steps.len();
    }

    /// A mirror migration whose copy already started fills its target topics itself: records
    /// there are its own (the copy engine refuses any record it did not write), so the "target
    /// not empty" blocker no longer applies. Every other blocker stays.
    pub fn accept_own_copy(&mut self) {
        if self.scheme != Scheme::Mirror {
            return;
        }
        for t in &mut self.topics {
            if t.action != Action::Blocked {
                continue;
            }
            t.blocked
                .retain(|reason| !reason.starts_with(crate::diff::MIRROR_TARGET_NOT_EMPTY));
            if t.blocked.is_empty() {
                t.action = if t.partitions.is_some() || !t.config.is_empty() {
                    Action::Update
                } else {
                    Action::NoOp
                };
            }
        }
        let count = |a: Action| self.topics.iter().filter(|t| t.action == a).count();
        self.summary.create = count(Action::Create);
        self.summary.change = count(Action::Update);
        self.summary.unchanged = count(Action::NoOp);
        self.summary.blocked = count(Action::Blocked);
    }

    /// A migration whose recorded steps hold no unfinished topic step picks up what its topics
    /// need since (a source topic that appeared, a config changed on the target behind ferry's
    /// back) with one more `apply_topics` step at the end. Returns the topics it covers.
    pub fn catch_up(&mut self) -> Vec<String> {
        let pending = self.steps[self.completed_steps.min(self.steps.len())..]
            .iter()
            .any(|s| matches!(s, Step::ApplyTopics { .. }));
        let names = |a: Action| -> Vec<String> {
            self.topics_with(a).map(|t| t.target_name.clone()).collect()
        };
        let (create, update) = (names(Action::Create), names(Action::Update));
        if pending || (create.is_empty() && update.is_empty()) {
            return Vec::new();
        }
        let covered: Vec<String> = create.iter().chain(&update).cloned().collect();
        if self.scheme == Scheme::Mirror && !create.is_empty() {
            self.warnings.push(format!(
                "the last step creates {} on the target after this mirror migration started: their metadata only, the migration's copy does not include their data",
                create.join(", ")
            ));
        }
        self.steps.push(Step::ApplyTopics { create, update });
        self.summary.steps = self.steps.len();
        covered
    }

    /// Whether apply would do anything (the meaning of exit code 2 under --detailed-exitcode).
    pub fn has_changes(&self) -> bool {
        self.steps.len() > self.completed_steps || self.summary.blocked > 0
    }
}
