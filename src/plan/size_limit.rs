//! Where a mirror target keeps fewer bytes per partition (`retention.bytes`) than the copy
//! brings it (issue 15): a plan warning with the figures. The copy is not cut by size the way
//! it is by time: the target deletes whole segments by their size on its own disk (batch
//! overhead, its compression, the ferry header), which the plan cannot know, so a cut made from
//! the source's bytes could leave behind records the target would have kept, or still copy
//! some it deletes. The user decides, with the figures in front of them.

use crate::config::Replication;
use crate::diff::{Action, GroupMove, TopicChange};
use crate::domain::{ByteCount, bytes_limit, size};
use crate::snapshot::Snapshot;

use super::copy_volume::copy_start;

/// One warning per migrating topic whose copy brings some partition more bytes than its
/// target keeps, or whose partitions the plan could not read to tell.
pub fn warnings(
    replication: &Replication,
    snapshot: &Snapshot,
    topics: &[TopicChange],
    groups: &[GroupMove],
) -> Vec<String> {
    let mut w = Vec::new();
    for t in topics.iter().filter(|t| t.action != Action::Blocked) {
        let Some(source) = snapshot.source.topics.get(&t.name) else {
            continue;
        };
        let Some(probe) = &source.size_probe else {
            continue;
        };
        let limit = probe.target_retention_bytes;
        let mut over: Vec<(i32, ByteCount)> = Vec::new();
        let mut unread: Vec<i32> = Vec::new();
        for p in &source.partitions {
            let from = copy_start(&t.name, p, replication, groups);
            if from >= p.end_offset {
                continue;
            }
            match probe.partitions.get(&p.id) {
                Some(m) => {
                    let bytes = m.from_offset(from);
                    if bytes.bytes > limit.max(0) as u64 {
                        over.push((p.id, bytes));
                    }
                }
                None => unread.push(p.id),
            }
        }
        let c = &source.config;
        let source_keeps = match bytes_limit(c.value("retention.bytes"), c.value("cleanup.policy"))
        {
            Some(b) => format!("at most {}", size(b)),
            None => "no limit".to_string(),
        };
        let keeps = format!(
            "the target keeps at most retention.bytes = {limit} ({}) per partition of {}, the source {source_keeps}",
            size(limit),
            t.target_name
        );
        if !over.is_empty() {
            let figures: Vec<String> = over
                .iter()
                .map(|(p, b)| format!("[{p}] {}", b.describe()))
                .collect();
            w.push(format!(
                "{keeps}: the copy brings more to {}, so the target deletes the oldest records of those partitions soon after they arrive, and a group committed among them resumes where its auto.offset.reset sends it. ferry does not cut a copy by size, since the target deletes whole segments by their size on its own disk: write a larger retention.bytes in the topic's block, or declare replication.start_from to copy less",
                figures.join(", ")
            ));
        } else if !unread.is_empty() {
            let list: Vec<String> = unread.iter().map(|p| format!("[{p}]")).collect();
            w.push(format!(
                "{keeps}: ferry could not read {} of the source in time to tell whether the copy brings more than that",
                list.join(", ")
            ));
        }
    }
    w
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::cluster::{ConfigValue, TopicConfig};
    use crate::domain::StartFrom;
    use crate::snapshot::{
        ClusterSnapshot, MeasuredRange, PartitionSnapshot, SizeProbe, TopicSnapshot,
    };

    /// `orders` with two partitions of offsets 0..1000, the target keeping 100,000 bytes a
    /// partition, and what the plan read of each (`None`: not read).
    fn snapshot(measured: [Option<(u64, bool)>; 2]) -> Snapshot {
        let partition = |id| PartitionSnapshot {
            id,
            start_offset: 0,
            end_offset: 1000,
            timestamp_offset: Some(900),
            kept_from: None,
        };
        let mut partitions = BTreeMap::new();
        for (id, m) in measured.iter().enumerate() {
            if let Some((bytes, exact)) = *m {
                let bytes = ByteCount { bytes, exact };
                partitions.insert(
                    id as i32,
                    MeasuredRange {
                        from: 0,
                        to: 1000,
                        bytes,
                    },
                );
            }
        }
        let config = TopicConfig {
            entries: BTreeMap::from([(
                "retention.bytes".to_string(),
                ConfigValue {
                    value: Some("-1".into()),
                    is_default: true,
                    sensitive: false,
                },
            )]),
            complete: true,
        };
        let topic = TopicSnapshot {
            replication_factor: 3,
            partitions: vec![partition(0), partition(1)],
            config,
            retention_probe: None,
            size_probe: Some(SizeProbe {
                target_retention_bytes: 100_000,
                partitions,
            }),
        };
        let mut source = ClusterSnapshot::default();
        source.topics.insert("orders".into(), topic);
        Snapshot {
            source,
            target: ClusterSnapshot::default(),
            target_partition_support: None,
            target_transactions: None,
        }
    }

    fn topics() -> Vec<TopicChange> {
        vec![TopicChange::new("orders", "orders")]
    }

    #[test]
    fn a_copy_bringing_a_partition_more_than_the_target_keeps_is_named_with_its_figure() {
        let snap = snapshot([Some((250_000, true)), Some((4_000_000, false))]);
        let w = warnings(&Replication::default(), &snap, &topics(), &[]);
        assert_eq!(w.len(), 1, "{w:#?}");
        assert!(
            w[0].starts_with("the target keeps at most retention.bytes = 100000 (about 97.7 KiB) per partition of orders, the source no limit: the copy brings more to [0] 250,000 bytes, about 244.1 KiB, [1] an estimated 3.8 MiB, so the target deletes the oldest records"),
            "{}",
            w[0]
        );
        assert!(
            w[0].contains("ferry does not cut a copy by size"),
            "{}",
            w[0]
        );
    }

    #[test]
    fn a_later_start_scales_what_the_copy_brings() {
        // From offset 900 of 1000: a tenth, 25,000 and 400,000 bytes.
        let snap = snapshot([Some((250_000, true)), Some((4_000_000, false))]);
        let replication = Replication {
            start_from: StartFrom::Timestamp(0),
            start_from_declared: true,
            ..Replication::default()
        };
        let w = warnings(&replication, &snap, &topics(), &[]);
        assert!(
            w[0].contains("more to [1] an estimated 390.6 KiB, so"),
            "{}",
            w[0]
        );
    }

    #[test]
    fn what_fits_says_nothing_and_what_was_not_read_says_so() {
        let fits = snapshot([Some((100_000, true)), Some((5_000, true))]);
        assert!(warnings(&Replication::default(), &fits, &topics(), &[]).is_empty());
        let unread = snapshot([Some((5_000, true)), None]);
        let w = warnings(&Replication::default(), &unread, &topics(), &[]);
        assert!(
            w[0].ends_with("ferry could not read [1] of the source in time to tell whether the copy brings more than that"),
            "{}",
            w[0]
        );
    }
}
