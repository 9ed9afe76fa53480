//! What the plan measures on the source where a target keeps less (issue 15): by time, the
//! first offset of each partition the target keeps ([`Snapshot::probe_retention`]); by bytes,
//! what stays behind and what a size-limited target would receive
//! ([`Snapshot::measure_source_bytes`]). Not part of the fingerprint: the answers move with the
//! clock and the data.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::cluster::{ClusterAccess, ClusterError, OffsetRange, OffsetSpec};
use crate::config::Desired;
use crate::domain::{ByteCount, shorter_on_target, time_limit};

use super::{Snapshot, target_name, timed};

/// How long the target keeps a topic's records, and the timestamp that makes a record too old.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionProbe {
    pub target_retention_ms: i64,
    pub older_than_ms: i64,
    /// The bytes before each partition's `kept_from`, where the plan could read them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub left_behind_bytes: BTreeMap<i32, ByteCount>,
}

/// A source topic whose target keeps fewer bytes per partition (`retention.bytes`), and what
/// each partition holds from its first record the target keeps by time to its end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SizeProbe {
    pub target_retention_bytes: i64,
    /// Partitions the source served in time; a missing one was not measured.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub partitions: BTreeMap<i32, MeasuredRange>,
}

/// The bytes of the offsets `[from, to)` of one partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeasuredRange {
    pub from: i64,
    pub to: i64,
    pub bytes: ByteCount,
}

impl MeasuredRange {
    /// The bytes from `offset` to `to`, scaled by offsets (exact only from `from`).
    pub fn from_offset(&self, offset: i64) -> ByteCount {
        let offset = offset.clamp(self.from, self.to);
        if offset == self.from {
            return self.bytes;
        }
        ByteCount {
            bytes: (self.bytes.bytes as u128 * (self.to - offset) as u128
                / (self.to - self.from).max(1) as u128) as u64,
            exact: offset == self.to,
        }
    }
}

/// Most bytes one measuring pass reads, over every partition; each partition reads at least
/// [`MIN_READ`].
const BUDGET: u64 = 16 << 20;
const MIN_READ: u64 = 64 << 10;

impl Snapshot {
    /// For each source topic in `limits` (how long its target keeps records, where that is less
    /// than the source keeps), the first offset of every partition whose record is at most that
    /// old now: one batched ListOffsets per distinct limit. Not part of the fingerprint: the
    /// answer moves with the clock.
    pub fn probe_retention(
        &mut self,
        source: &dyn ClusterAccess,
        limits: &BTreeMap<String, i64>,
    ) -> Result<(), ClusterError> {
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        let mut by_limit: BTreeMap<i64, BTreeMap<String, Vec<i32>>> = BTreeMap::new();
        for (topic, &limit) in limits {
            if let Some(t) = self.source.topics.get(topic) {
                by_limit
                    .entry(limit)
                    .or_default()
                    .insert(topic.clone(), t.partitions.iter().map(|p| p.id).collect());
            }
        }
        for (limit, partitions) in by_limit {
            let older_than_ms = now_ms.saturating_sub(limit);
            let found = timed("ListOffsets at the target's retention", || {
                source.offsets(&partitions, OffsetSpec::Timestamp(older_than_ms))
            })?;
            for topic in partitions.keys() {
                let Some(t) = self.source.topics.get_mut(topic) else {
                    continue;
                };
                t.retention_probe = Some(RetentionProbe {
                    target_retention_ms: limit,
                    older_than_ms,
                    left_behind_bytes: BTreeMap::new(),
                });
                for p in &mut t.partitions {
                    let at = found.get(topic).and_then(|o| o.get(&p.id)).copied();
                    let at = at.filter(|o| *o >= 0).unwrap_or(p.end_offset);
                    p.kept_from = Some(at.clamp(p.start_offset, p.end_offset.max(p.start_offset)));
                }
            }
        }
        Ok(())
    }

    /// Counts bytes by reading them from the source: before `kept_from` in every partition
    /// [`Snapshot::probe_retention`] measured, and from there to the end in every partition of
    /// the topics in `size_limits` (each keyed to its target's `retention.bytes`). Each pass
    /// reads at most [`BUDGET`]; a partition read to its end is exact, a longer one estimated.
    /// For the plan's figures only (the copy goes by offsets), so a partition the source did
    /// not serve in time just has no figure.
    pub fn measure_source_bytes(
        &mut self,
        source: &dyn ClusterAccess,
        size_limits: &BTreeMap<String, i64>,
    ) {
        let left_behind = self.ranges(|name, t| t.retention_probe.is_some().then_some(name), true);
        for (r, count) in read(source, &left_behind, "reading what stays behind") {
            if let Some(probe) = self
                .topic_mut(&r.topic)
                .and_then(|t| t.retention_probe.as_mut())
            {
                probe.left_behind_bytes.insert(r.partition, count);
            }
        }
        for (topic, &limit) in size_limits {
            if let Some(t) = self.topic_mut(topic) {
                t.size_probe = Some(SizeProbe {
                    target_retention_bytes: limit,
                    partitions: BTreeMap::new(),
                });
            }
        }
        let kept = self.ranges(
            |name, _| size_limits.contains_key(name).then_some(name),
            false,
        );
        for (r, bytes) in read(source, &kept, "reading what a size-limited target receives") {
            if let Some(probe) = self.topic_mut(&r.topic).and_then(|t| t.size_probe.as_mut()) {
                let range = MeasuredRange {
                    from: r.from,
                    to: r.to,
                    bytes,
                };
                probe.partitions.insert(r.partition, range);
            }
        }
    }

    fn topic_mut(&mut self, topic: &str) -> Option<&mut super::TopicSnapshot> {
        self.source.topics.get_mut(topic)
    }

    /// Every partition of the source topics `select` picks: before the first record kept
    /// (`behind`), or from it to the end.
    fn ranges<'a>(
        &'a self,
        select: impl Fn(&'a String, &'a super::TopicSnapshot) -> Option<&'a String>,
        behind: bool,
    ) -> Vec<OffsetRange> {
        self.source
            .topics
            .iter()
            .filter_map(|(name, t)| select(name, t).map(|name| (name, t)))
            .flat_map(|(name, t)| {
                t.partitions.iter().map(move |p| {
                    let kept = p.kept_from.unwrap_or(p.start_offset);
                    let (from, to) = if behind {
                        (p.start_offset, kept)
                    } else {
                        (kept, p.end_offset)
                    };
                    OffsetRange {
                        topic: name.clone(),
                        partition: p.id,
                        from,
                        to,
                    }
                })
            })
            .collect()
    }

    /// How long each migrated topic's target keeps records, where that is less than its source
    /// keeps them, from the configs both clusters report now (the copy step: the target topics
    /// exist and have their settings). The plan predicts the same from the diff instead.
    pub fn live_retention_limits(&self, desired: &Desired) -> BTreeMap<String, i64> {
        let mut limits = BTreeMap::new();
        for (name, source) in &self.source.topics {
            let Some(target) = self.target.topics.get(&target_name(desired, name)) else {
                continue;
            };
            let (s, t) = (&source.config, &target.config);
            let source_limit = time_limit(s.value("retention.ms"), s.value("cleanup.policy"), None);
            let target_limit = time_limit(
                t.value("retention.ms"),
                t.value("cleanup.policy"),
                t.value("message.timestamp.type"),
            );
            if let Some(limit) = shorter_on_target(source_limit, target_limit) {
                limits.insert(name.clone(), limit);
            }
        }
        limits
    }
}

/// The bytes of each range the source served, within one [`BUDGET`] shared by the ranges.
fn read<'a>(
    source: &dyn ClusterAccess,
    ranges: &'a [OffsetRange],
    what: &str,
) -> Vec<(&'a OffsetRange, ByteCount)> {
    if ranges.iter().all(|r| r.to <= r.from) {
        return ranges
            .iter()
            .map(|r| {
                (
                    r,
                    ByteCount {
                        bytes: 0,
                        exact: true,
                    },
                )
            })
            .collect();
    }
    let budget = (BUDGET / ranges.len() as u64).max(MIN_READ);
    let found = timed(what, || Ok(source.read_bytes(ranges, budget))).unwrap_or_default();
    ranges
        .iter()
        .filter_map(|r| {
            let read = found.get(&(r.topic.clone(), r.partition))?;
            ByteCount::from_reading(r.from, r.to, read.read_to, read.bytes).map(|c| (r, c))
        })
        .collect()
}
