//! Where the target's retention cuts a mirror copy (issue 15). A target that keeps records for
//! less time than the source deletes every copied record older than its `retention.ms` soon
//! after it arrives; ferry does not copy those (unless `replication.start_from` is declared), so
//! no translated offset points below the target's log start, and the plan says beforehand what
//! stays behind and which groups had not read it yet.

use serde::{Deserialize, Serialize};

use super::{ByteCount, thousands};

/// How long a topic keeps records by age, from its effective settings; `None` when it never
/// deletes by age (a negative `retention.ms`, a `cleanup.policy` without `delete`) or stamps
/// what it receives with the time of arrival (`LogAppendTime`: a copied record is new there).
pub fn time_limit(
    retention_ms: Option<&str>,
    cleanup_policy: Option<&str>,
    timestamp_type: Option<&str>,
) -> Option<i64> {
    if timestamp_type.is_some_and(|t| t.trim() == "LogAppendTime") {
        return None;
    }
    if !deletes(cleanup_policy) {
        return None;
    }
    let ms = retention_ms?.trim().parse::<i64>().ok()?;
    (ms >= 0).then_some(ms)
}

/// How many bytes a topic keeps per partition, from its effective settings; `None` when it
/// never deletes by size (a negative `retention.bytes`, a `cleanup.policy` without `delete`).
pub fn bytes_limit(retention_bytes: Option<&str>, cleanup_policy: Option<&str>) -> Option<i64> {
    if !deletes(cleanup_policy) {
        return None;
    }
    let bytes = retention_bytes?.trim().parse::<i64>().ok()?;
    (bytes >= 0).then_some(bytes)
}

/// Whether `cleanup.policy` deletes old segments (Kafka's default, when unset, does).
fn deletes(cleanup_policy: Option<&str>) -> bool {
    cleanup_policy.is_none_or(|p| p.split(',').any(|x| x.trim() == "delete"))
}

/// The target's limit, when it keeps records for less time than the source (`None`: forever):
/// records older than it are the ones the target would delete on arrival.
pub fn shorter_on_target(source: Option<i64>, target: Option<i64>) -> Option<i64> {
    let target = target?;
    source.is_none_or(|s| s > target).then_some(target)
}

/// A topic whose target keeps records for less time than its source, as the plan measured it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionCut {
    /// `retention.ms` the target topic has once apply set it.
    pub target_retention_ms: i64,
    /// The source topic's; `None`: it keeps records forever.
    pub source_retention_ms: Option<i64>,
    /// Records with a timestamp before this (ms since the epoch, when the plan was made) are
    /// the ones the target would delete on arrival.
    pub older_than_ms: i64,
    /// False when `replication.start_from` is declared: the copy starts there, older records
    /// included, and the target deletes them soon after they arrive.
    pub applies: bool,
    pub partitions: Vec<PartitionCut>,
    /// Groups whose committed offset lies in the part left behind (filled when `applies`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<GroupBehind>,
}

/// One source partition's first record the target keeps, and the records before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionCut {
    pub partition: i32,
    /// The first source offset with a timestamp at or after the cut (the end offset when none).
    pub first_kept: i64,
    /// Records from the source's log start up to `first_kept`.
    pub left_behind: u64,
    /// Their bytes, where the plan could read them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<ByteCount>,
}

/// A group that had not read part of what stays behind: on the target it resumes at the first
/// record kept, so the records between its offset and that one are never delivered to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupBehind {
    pub group: String,
    pub partition: i32,
    pub committed: i64,
    pub resumes_at: i64,
}

impl RetentionCut {
    /// Records left behind over every partition.
    pub fn left_behind(&self) -> u64 {
        self.partitions.iter().map(|p| p.left_behind).sum()
    }

    /// Bytes left behind over every partition, when each partition that leaves records behind
    /// was measured.
    pub fn bytes_left_behind(&self) -> Option<ByteCount> {
        ByteCount::total(
            self.partitions
                .iter()
                .filter(|p| p.left_behind > 0)
                .map(|p| p.bytes),
        )
    }

    /// `60 records (6,200 bytes, about 6.1 KiB)`, or the records alone when unmeasured.
    pub fn left_behind_text(&self) -> String {
        let left = self.left_behind();
        let records = format!(
            "{} record{}",
            thousands(left),
            if left == 1 { "" } else { "s" }
        );
        match self.bytes_left_behind() {
            Some(b) => format!("{records} ({})", b.describe()),
            None => records,
        }
    }

    /// `[0] 120, [1] 98`: the first record kept of each partition that leaves some behind.
    pub fn first_kept(&self) -> String {
        self.partitions
            .iter()
            .filter(|p| p.left_behind > 0)
            .map(|p| format!("[{}] {}", p.partition, p.first_kept))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_topic_limits_by_age_only_when_it_deletes_by_age_and_keeps_the_record_time() {
        #[rustfmt::skip]
        let cases = [
            ((Some("86400000"), Some("delete"), Some("CreateTime")), Some(86_400_000)),
            ((Some("86400000"), None, None), Some(86_400_000)),
            ((Some("86400000"), Some("compact, delete"), None), Some(86_400_000)),
            ((Some("86400000"), Some("compact"), None), None),
            ((Some("86400000"), Some("delete"), Some("LogAppendTime")), None),
            ((Some("-1"), Some("delete"), None), None),
            ((Some("not a number"), None, None), None),
            ((None, None, None), None),
        ];
        for ((ms, policy, stamps), want) in cases {
            assert_eq!(
                time_limit(ms, policy, stamps),
                want,
                "{ms:?} {policy:?} {stamps:?}"
            );
        }
    }

    #[test]
    fn only_a_target_keeping_less_than_the_source_cuts() {
        #[rustfmt::skip]
        let cases = [
            ((None, Some(10)), Some(10)),      // the source keeps forever
            ((Some(20), Some(10)), Some(10)),  // the source keeps longer
            ((Some(10), Some(10)), None),      // the same: the source deletes them as soon
            ((Some(5), Some(10)), None),       // the target keeps longer
            ((Some(5), None), None),           // the target keeps forever
            ((None, None), None),
        ];
        for ((source, target), want) in cases {
            assert_eq!(
                shorter_on_target(source, target),
                want,
                "{source:?} {target:?}"
            );
        }
    }
}
