//! How much a mirror copy moves, as plans and steps carry it.

use serde::{Deserialize, Serialize};

/// Counted from offsets alone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CopyVolume {
    pub partitions: usize,
    pub records: u64,
    /// Bytes, when the source reports log sizes; Kafka's protocol has no cheap way otherwise.
    pub bytes: Option<u64>,
}
