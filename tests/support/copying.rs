//! Running the copy engine from the integration tests: one pass until caught up.

use std::time::Duration;

use ferry::copy::{
    CopyError, CopyJob, CopyOptions, CopyOutcome, Until, copy_partitions, copy_partitions_with,
};
use ferry_testbed::Testbed;

use super::records::client;

/// How long a pass may see no progress before it fails: generous for two JVM brokers on two
/// cores.
pub const STALL_TIMEOUT: Duration = Duration::from_secs(120);

/// One copy pass of `jobs` from the test bed's source to its target, until caught up.
pub fn copy(bed: &Testbed, jobs: &[CopyJob]) -> Result<Vec<CopyOutcome>, CopyError> {
    copy_partitions(
        &client(&bed.source.bootstrap),
        &client(&bed.target.bootstrap),
        jobs,
        Until::CaughtUp,
        STALL_TIMEOUT,
        &|_| {},
    )
}

/// [`copy`], fenced in transactions under migration `migration`'s transactional id.
pub fn copy_fenced(
    bed: &Testbed,
    jobs: &[CopyJob],
    migration: &str,
) -> Result<Vec<CopyOutcome>, CopyError> {
    copy_partitions_with(
        &client(&bed.source.bootstrap),
        &client(&bed.target.bootstrap),
        jobs,
        Until::CaughtUp,
        STALL_TIMEOUT,
        &|_| {},
        &CopyOptions {
            fenced_for: Some(migration.to_string()),
        },
    )
}

/// Records copied per job, in job order.
pub fn copied(outcomes: &[CopyOutcome]) -> Vec<u64> {
    outcomes.iter().map(|outcome| outcome.copied).collect()
}
