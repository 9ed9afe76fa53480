//! Pure: Desired x Snapshot -> per-topic changes and the consumer groups that move.

mod config_diff;
mod group_move;
mod retention;
mod topic_change;
mod topic_diff;

pub use config_diff::{config_changes, not_carried};
pub use group_move::{GroupMove, GroupPartition, group_moves};
pub use retention::{TargetLimits, retention_limits};
pub use topic_change::{Action, Adjustment, ConfigChange, NotCarried, Origin, TopicChange, Valued};
pub use topic_diff::{MIRROR_TARGET_NOT_EMPTY, desired_partitions, diff_topics};

#[cfg(test)]
mod retention_tests;
#[cfg(test)]
mod tests;
