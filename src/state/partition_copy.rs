//! What the mirror copy did to one partition, as the state file records it.

use serde::{Deserialize, Serialize};

use crate::domain::OffsetMap;

/// One copied partition: a flat record (a map keyed by partition number inside the tagged
/// `StepOutcome` would not read back).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionCopy {
    /// The source topic.
    pub topic: String,
    pub target_topic: String,
    pub partition: i32,
    /// The source offset after the last record copied so far: the copy covers the source up to
    /// here (exclusive).
    pub next_source_offset: i64,
    /// Source offset -> target offset of every record copied, over all runs of the copy.
    pub map: OffsetMap,
    /// Source ranges (inclusive) retention deleted before they were copied, skipped because
    /// `replication.accept_gaps` accepts them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped_gaps: Vec<(i64, i64)>,
    /// The target partition's end offset after the copy, where it is past the map's end: a
    /// fenced copy's commit marker follows its last record (see `copy::fencing`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_high: Option<i64>,
}

impl PartitionCopy {
    /// The target offset the copy's next record gets: after the last copied record and the
    /// commit marker that may follow it. A consumer that read the whole copy commits this.
    pub fn target_next(&self) -> i64 {
        self.target_high
            .unwrap_or_default()
            .max(self.map.target_end())
    }
}

/// One group's offset translated and committed on the target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TranslatedOffset {
    pub group: String,
    /// The source topic.
    pub topic: String,
    pub target_topic: String,
    pub partition: i32,
    /// The group's committed offset on the source.
    pub source_offset: i64,
    /// The offset committed (or kept) on the target.
    pub target_offset: i64,
    /// How the target offset was found (`exact`, `exact (next copied record)`, ...).
    pub method: String,
}

/// One partition verified: the copied source range against the target range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionVerified {
    pub topic: String,
    pub target_topic: String,
    pub partition: i32,
    /// Source offsets `source_from..source_to` and target offsets `target_from..target_to`.
    pub source_from: i64,
    pub source_to: i64,
    pub target_from: i64,
    pub target_to: i64,
    pub records: u64,
    /// sha256 in hex, equal on both sides.
    pub checksum: String,
    /// The target stamps records with their append time (LogAppendTime): the checksum left
    /// timestamps out.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub timestamps_not_compared: bool,
    /// Source ranges `from..to` of the copy that were not compared: retention had deleted them
    /// on the source or the target before verification read them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_compared: Vec<(i64, i64)>,
    /// A compacted topic, compared record by record on source offsets (see
    /// `apply/mirror/compacted.rs`): the records only one side still holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compaction: Option<CompactionSeen>,
}

/// Records of a compacted partition that only one side held at verification, each superseded by
/// a later record of its key or a tombstone: what the log cleaners removed since the copy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompactionSeen {
    pub only_on_source: u64,
    pub only_on_target: u64,
}
