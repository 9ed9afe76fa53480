//! Step "commit start offsets" (single_consume): before producers move, every group gets a
//! committed offset at the start of each target partition of the topics it consumes, so a group
//! that first appears on the target with auto.offset.reset=latest cannot skip the backlog.

use crate::cluster::{ClusterAccess, PartitionOffsets};
use crate::config::Desired;
use crate::error::Error;
use crate::snapshot::{Snapshot, target_name};
use crate::state::{CommittedOffset, StepOutcome};

pub fn commit_start_offsets(
    desired: &Desired,
    source: &dyn ClusterAccess,
    target: &dyn ClusterAccess,
    groups: &[String],
) -> Result<StepOutcome, Error> {
    let snapshot = Snapshot::take(desired, source, target)?;
    let mut committed = Vec::new();
    for group in groups {
        let offsets = start_offsets(desired, &snapshot, group);
        if !offsets.is_empty() {
            target.commit_group_offsets(group, &offsets)?;
        }
        committed.extend(CommittedOffset::list(group, &offsets));
    }
    Ok(StepOutcome::OffsetsCommitted {
        groups: groups.to_vec(),
        offsets: committed,
    })
}

/// The start of every target partition of the topics `group` consumes on the source, except
/// where the group already has an offset on the target: an offset is never moved backwards.
pub fn start_offsets(desired: &Desired, snapshot: &Snapshot, group: &str) -> PartitionOffsets {
    let Some(on_source) = snapshot.source.groups.get(group) else {
        return PartitionOffsets::new();
    };
    let on_target = snapshot.target.groups.get(group);
    let mut offsets = PartitionOffsets::new();
    for topic in on_source.offsets.keys() {
        let name = target_name(desired, topic);
        let Some(t) = snapshot.target.topics.get(&name) else {
            continue;
        };
        let already = on_target.and_then(|g| g.offsets.get(&name));
        for p in &t.partitions {
            if already.is_some_and(|a| a.contains_key(&p.id)) {
                continue;
            }
            offsets
                .entry(name.clone())
                .or_default()
                .insert(p.id, p.start_offset);
        }
    }
    offsets
}
