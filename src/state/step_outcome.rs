//! What a step did, as recorded in the state file. Names and numbers only: never secrets.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{CommittedOffset, PartitionCopy, PartitionVerified, TranslatedOffset};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StepOutcome {
    /// Topic metadata on the target (target topic names).
    TopicsApplied {
        created: Vec<String>,
        updated: Vec<String>,
        /// topic -> key -> value that ferry set.
        configs_set: BTreeMap<String, BTreeMap<String, String>>,
        /// Topics that already existed exactly as declared: they count as created.
        already_as_declared: Vec<String>,
    },
    /// Offsets committed on the target.
    OffsetsCommitted {
        groups: Vec<String>,
        offsets: Vec<CommittedOffset>,
    },
    /// A client-switch hook ran.
    HookRan {
        hook: String,
        /// None when the hook was killed (timeout, signal).
        exit_code: Option<i32>,
        /// Where its output was kept.
        log_file: String,
        seconds: f64,
    },
    /// A wait condition held.
    ConditionMet { condition: String, seconds: f64 },
    /// Records copied (mirror): the whole offset map so far of every copied partition.
    Copied {
        partitions: Vec<PartitionCopy>,
        /// Records copied by this step.
        records: u64,
        seconds: f64,
    },
    /// Group offsets translated through the offset map and committed on the target (mirror).
    OffsetsTranslated {
        offsets: Vec<TranslatedOffset>,
        /// The copy, including the pass this step made before translating.
        partitions: Vec<PartitionCopy>,
    },
    /// Source and target agree over the copied range of every partition (mirror).
    Verified {
        partitions: Vec<PartitionVerified>,
        /// How long the step took: only the tail is read here when the history was verified
        /// alongside the copy (absent in states written before it was recorded).
        #[serde(default)]
        seconds: f64,
    },
}
