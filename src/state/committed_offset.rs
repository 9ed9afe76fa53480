//! One offset ferry committed for a group, as the state file records it.

use serde::{Deserialize, Serialize};

use crate::cluster::PartitionOffsets;

/// A flat record: JSON object keys are strings, and a map keyed by partition number inside the
/// tagged `StepOutcome` would not read back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommittedOffset {
    pub group: String,
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

impl CommittedOffset {
    pub fn list(group: &str, offsets: &PartitionOffsets) -> Vec<CommittedOffset> {
        offsets
            .iter()
            .flat_map(|(topic, parts)| {
                parts
                    .iter()
                    .map(move |(&partition, &offset)| CommittedOffset {
                        group: group.to_string(),
                        topic: topic.clone(),
                        partition,
                        offset,
                    })
            })
            .collect()
    }

    /// The offsets of one group, back in the shape cluster access uses.
    pub fn of_group(all: &[CommittedOffset], group: &str) -> PartitionOffsets {
        let mut offsets = PartitionOffsets::new();
        for c in all.iter().filter(|c| c.group == group) {
            offsets
                .entry(c.topic.clone())
                .or_default()
                .insert(c.partition, c.offset);
        }
        offsets
    }
}
