//! How much a mirror copy would move, from offsets alone.

use crate::diff::GroupMove;
use crate::domain::{CopyVolume, StartFrom};
use crate::snapshot::TopicSnapshot;

/// Records from each partition's start position (per `start_from`) to its end offset.
pub fn copy_volume(
    topic: &str,
    snapshot: &TopicSnapshot,
    start_from: StartFrom,
    groups: &[GroupMove],
) -> CopyVolume {
    let mut v = CopyVolume {
        partitions: snapshot.partitions.len(),
        records: 0,
        bytes: None,
    };
    for p in &snapshot.partitions {
        let from = match start_from {
            StartFrom::Earliest => p.start_offset,
            StartFrom::Latest => p.end_offset,
            StartFrom::Timestamp(_) => p.timestamp_offset.unwrap_or(p.end_offset),
            // The smallest committed offset among the declared groups; earliest where none committed.
            StartFrom::Committed => groups
                .iter()
                .flat_map(|g| g.partitions.iter())
                .filter(|gp| gp.topic == topic && gp.partition == p.id)
                .map(|gp| gp.committed)
                .min()
                .unwrap_or(p.start_offset),
        };
        v.records += (p.end_offset - from.max(p.start_offset)).max(0) as u64;
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::GroupPartition;
    use crate::snapshot::PartitionSnapshot;

    fn topic() -> TopicSnapshot {
        TopicSnapshot {
            replication_factor: 1,
            partitions: vec![
                PartitionSnapshot {
                    id: 0,
                    start_offset: 10,
                    end_offset: 110,
                    timestamp_offset: Some(60),
                },
                PartitionSnapshot {
                    id: 1,
                    start_offset: 0,
                    end_offset: 50,
                    timestamp_offset: None,
                },
            ],
            config: Default::default(),
        }
    }

    fn group(committed: i64) -> GroupMove {
        GroupMove {
            name: "g".into(),
            source_state: "Empty".into(),
            source_members: 0,
            target_state: None,
            target_members: 0,
            partitions: vec![GroupPartition {
                topic: "t".into(),
                target_topic: "t".into(),
                partition: 0,
                committed,
                end_offset: 110,
            }],
        }
    }

    #[test]
    fn start_positions_select_the_records_to_copy() {
        let t = topic();
        let cases = [
            (StartFrom::Earliest, vec![], 150),
            (StartFrom::Latest, vec![], 0),
            (StartFrom::Timestamp(1), vec![], 50),
            (StartFrom::Committed, vec![group(100)], 10 + 50),
            (StartFrom::Committed, vec![group(100), group(30)], 80 + 50),
            // A committed offset below the log start cannot copy deleted records.
            (StartFrom::Committed, vec![group(2)], 100 + 50),
        ];
        for (start, groups, want) in cases {
            assert_eq!(
                copy_volume("t", &t, start, &groups).records,
                want,
                "{start:?}"
            );
        }
    }
}
