//! How much a mirror copy would move, from offsets alone.

use crate::config::Replication;
use crate::diff::GroupMove;
use crate::domain::{CopyVolume, StartFrom};
use crate::snapshot::{PartitionSnapshot, TopicSnapshot};

/// Records from each partition's start position (per `start_from`, and the first record the
/// target keeps) to its end offset.
pub fn copy_volume(
    topic: &str,
    snapshot: &TopicSnapshot,
    replication: &Replication,
    groups: &[GroupMove],
) -> CopyVolume {
    let mut v = CopyVolume {
        partitions: snapshot.partitions.len(),
        records: 0,
        bytes: None,
    };
    for p in &snapshot.partitions {
        let from = copy_start(topic, p, replication, groups);
        v.records += (p.end_offset - from).max(0) as u64;
    }
    v
}

/// Where the copy of one partition starts: per `start_from`, never before the log start, and at
/// the first record the target keeps where that is later and `start_from` was not declared.
pub fn copy_start(
    topic: &str,
    p: &PartitionSnapshot,
    replication: &Replication,
    groups: &[GroupMove],
) -> i64 {
    let from = match replication.start_from {
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
    p.retained_start(from.max(p.start_offset), replication.start_from_declared)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::GroupPartition;

    fn topic() -> TopicSnapshot {
        TopicSnapshot {
            replication_factor: 1,
            partitions: vec![
                PartitionSnapshot {
                    id: 0,
                    start_offset: 10,
                    end_offset: 110,
                    timestamp_offset: Some(60),
                    kept_from: None,
                },
                PartitionSnapshot {
                    id: 1,
                    start_offset: 0,
                    end_offset: 50,
                    timestamp_offset: None,
                    kept_from: None,
                },
            ],
            config: Default::default(),
            retention_probe: None,
            size_probe: None,
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
            let replication = Replication {
                start_from: start,
                ..Replication::default()
            };
            assert_eq!(
                copy_volume("t", &t, &replication, &groups).records,
                want,
                "{start:?}"
            );
        }
    }

    #[test]
    fn the_first_record_the_target_keeps_bounds_the_copy_unless_start_from_is_declared() {
        let mut t = topic();
        t.partitions[0].kept_from = Some(90);
        t.partitions[1].kept_from = Some(50);
        let cases = [
            (StartFrom::Earliest, false, 20),
            (StartFrom::Earliest, true, 150),
            (StartFrom::Timestamp(1), false, 20),
            (StartFrom::Latest, false, 0),
        ];
        for (start_from, start_from_declared, want) in cases {
            let replication = Replication {
                start_from,
                start_from_declared,
                ..Replication::default()
            };
            assert_eq!(
                copy_volume("t", &t, &replication, &[]).records,
                want,
                "{start_from:?} declared: {start_from_declared}"
            );
        }
    }
}
