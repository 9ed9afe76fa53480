//! Consumer groups whose offsets the migration carries over.

use serde::{Deserialize, Serialize};

use crate::config::Desired;
use crate::snapshot::{Snapshot, target_name};

/// One group with its committed position on every migrated partition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupMove {
    pub name: String,
    pub source_state: String,
    pub source_members: usize,
    /// State on the target, when the group already exists there.
    pub target_state: Option<String>,
    pub target_members: usize,
    pub partitions: Vec<GroupPartition>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupPartition {
    pub topic: String,
    pub target_topic: String,
    pub partition: i32,
    pub committed: i64,
    pub end_offset: i64,
}

impl GroupMove {
    /// Records the group has yet to consume on the source.
    pub fn lag(&self) -> i64 {
        self.partitions
            .iter()
            .map(|p| (p.end_offset - p.committed).max(0))
            .sum()
    }
}

/// Groups selected by `consumer_groups` that committed offsets on migrated topics.
pub fn group_moves(desired: &Desired, snapshot: &Snapshot) -> Vec<GroupMove> {
    snapshot
        .source
        .groups
        .iter()
        .filter(|(_, g)| g.offsets.values().any(|p| !p.is_empty()))
        .map(|(name, g)| {
            let on_target = snapshot.target.groups.get(name);
            let partitions = g
                .offsets
                .iter()
                .flat_map(|(topic, parts)| {
                    let ends = snapshot.source.topics.get(topic);
                    parts
                        .iter()
                        .map(move |(&partition, &committed)| GroupPartition {
                            topic: topic.clone(),
                            target_topic: target_name(desired, topic),
                            partition,
                            committed,
                            end_offset: ends
                                .and_then(|t| t.partitions.iter().find(|p| p.id == partition))
                                .map_or(committed, |p| p.end_offset),
                        })
                })
                .collect();
            GroupMove {
                name: name.clone(),
                source_state: g.state.clone(),
                source_members: g.members,
                target_state: on_target.map(|t| t.state.clone()),
                target_members: on_target.map_or(0, |t| t.members),
                partitions,
            }
        })
        .collect()
}
