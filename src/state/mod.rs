//! The state file: what apply did so far, written atomically after every step, with a backup and a
//! lock so that an interrupted run resumes where it stopped and two runs never overlap.
//!
//! The state holds names, ids, offsets and timestamps only: never a secret.

mod committed_offset;
mod cutover;
mod identity;
mod lock;
mod lock_info;
mod partition_copy;
#[allow(clippy::module_inception)]
mod state;
mod state_error;
mod step_outcome;
mod step_record;
mod step_status;
mod store;
#[cfg(test)]
mod tests;

pub use committed_offset::CommittedOffset;
pub use cutover::{Cutover, CutoverEdge, now_rfc3339_millis};
pub use identity::StateIdentity;
pub use lock::LockGuard;
pub use lock_info::LockInfo;
pub use partition_copy::{CompactionSeen, PartitionCopy, PartitionVerified, TranslatedOffset};
pub use state::{STATE_FORMAT_VERSION, State, now_rfc3339};
pub use state_error::StateError;
pub use step_outcome::StepOutcome;
pub use step_record::StepRecord;
pub use step_status::StepStatus;
pub use store::StateStore;
