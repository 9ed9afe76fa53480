//! Where a mirror copy starts: chosen in the config, carried by plans and steps.

use serde::{Deserialize, Serialize};

/// Where a mirror copy starts in each source partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StartFrom {
    Earliest,
    Latest,
    /// The smallest committed offset among the declared groups.
    Committed,
    /// Milliseconds since the epoch.
    Timestamp(i64),
}
