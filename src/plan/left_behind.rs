//! What a mirror copy leaves behind where the target keeps records for less time than the
//! source (issue 15), as plan warnings: the figures per topic, and every group that had not
//! read what stays behind, with where it resumes.

use crate::diff::{GroupMove, TopicChange};
use crate::domain::{GroupBehind, duration_ms, rfc3339_ms, thousands};

/// Fills each cut's `groups`: the committed offsets below the first record kept.
pub fn attach_groups(topics: &mut [TopicChange], groups: &[GroupMove]) {
    for topic in topics {
        let Some(cut) = topic.retention_cut.as_mut().filter(|c| c.applies) else {
            continue;
        };
        for g in groups {
            for gp in g.partitions.iter().filter(|gp| gp.topic == topic.name) {
                let kept = cut.partitions.iter().find(|p| p.partition == gp.partition);
                if let Some(kept) = kept
                    && gp.committed >= 0
                    && gp.committed < kept.first_kept
                {
                    cut.groups.push(GroupBehind {
                        group: g.name.clone(),
                        partition: gp.partition,
                        committed: gp.committed,
                        resumes_at: kept.first_kept,
                    });
                }
            }
        }
    }
}

/// One warning per topic whose copy leaves records behind (or, with `start_from` declared,
/// copies records the target deletes soon after), and one per group of those left behind.
pub fn warnings(topics: &[TopicChange]) -> Vec<String> {
    let mut w = Vec::new();
    for t in topics {
        let Some(cut) = &t.retention_cut else {
            continue;
        };
        let left = cut.left_behind();
        if left == 0 {
            continue;
        }
        let keeps = format!(
            "the target keeps {} for {} (retention.ms = {}), the source {}",
            t.target_name,
            duration_ms(cut.target_retention_ms),
            cut.target_retention_ms,
            cut.source_retention_ms
                .map_or("forever".to_string(), |ms| format!(
                    "for {}",
                    duration_ms(ms)
                ))
        );
        let records = format!(
            "{} older than {}",
            cut.left_behind_text(),
            rfc3339_ms(cut.older_than_ms)
        );
        if cut.applies {
            w.push(format!(
                "{keeps}: {records} would be deleted on arrival, so the copy leaves them on the source and starts at the first record the target keeps ({}). To copy from another point, declare replication.start_from",
                cut.first_kept()
            ));
            for g in &cut.groups {
                w.push(format!(
                    "group {} committed {}[{}] at {}, in what stays behind: on the target it resumes at {} (the copy of source offset {}), and the {} record{} between are not delivered to it",
                    g.group,
                    t.name,
                    g.partition,
                    g.committed,
                    g.resumes_at,
                    g.resumes_at,
                    thousands((g.resumes_at - g.committed) as u64),
                    if g.resumes_at - g.committed == 1 { "" } else { "s" }
                ));
            }
        } else {
            w.push(format!(
                "{keeps}: replication.start_from is declared, so the copy includes {records}, which the target deletes soon after they arrive; a group committed among them then resumes where its auto.offset.reset sends it. Without start_from, the copy would start at the first record the target keeps ({})",
                cut.first_kept()
            ));
        }
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::{Action, GroupPartition};
    use crate::domain::{ByteCount, PartitionCut, RetentionCut};

    fn topic(applies: bool) -> TopicChange {
        TopicChange {
            action: Action::Create,
            source_partitions: Some(2),
            retention_cut: Some(RetentionCut {
                target_retention_ms: 86_400_000,
                source_retention_ms: None,
                older_than_ms: 1_764_547_200_000,
                applies,
                partitions: vec![
                    PartitionCut {
                        partition: 0,
                        first_kept: 120,
                        left_behind: 120,
                        bytes: Some(ByteCount {
                            bytes: 52_000,
                            exact: true,
                        }),
                    },
                    PartitionCut {
                        partition: 1,
                        first_kept: 0,
                        left_behind: 0,
                        bytes: None,
                    },
                ],
                groups: vec![],
            }),
            ..TopicChange::new("orders", "orders")
        }
    }

    fn group(name: &str, partition: i32, committed: i64) -> GroupMove {
        GroupMove {
            name: name.into(),
            source_state: "Empty".into(),
            source_members: 0,
            target_state: None,
            target_members: 0,
            partitions: vec![GroupPartition {
                topic: "orders".into(),
                target_topic: "orders".into(),
                partition,
                committed,
                end_offset: 200,
            }],
        }
    }

    #[test]
    fn only_groups_committed_below_the_first_record_kept_are_named() {
        let mut topics = [topic(true)];
        let groups = [
            group("behind", 0, 100),
            group("at", 0, 120),
            group("other-partition", 1, 0),
            group("nothing-committed", 0, -1),
        ];
        attach_groups(&mut topics, &groups);
        let cut = topics[0].retention_cut.as_ref().unwrap();
        assert_eq!(
            cut.groups,
            [GroupBehind {
                group: "behind".into(),
                partition: 0,
                committed: 100,
                resumes_at: 120,
            }]
        );
        let w = warnings(&topics);
        assert_eq!(w.len(), 2, "{w:#?}");
        assert_eq!(
            w[0],
            "the target keeps orders for 1 day (retention.ms = 86400000), the source forever: 120 records (52,000 bytes, about 50.8 KiB) older than 2025-12-01T00:00:00Z would be deleted on arrival, so the copy leaves them on the source and starts at the first record the target keeps ([0] 120). To copy from another point, declare replication.start_from"
        );
        assert!(
            w[1].starts_with("group behind committed orders[0] at 100, in what stays behind: on the target it resumes at 120"),
            "{}",
            w[1]
        );
        assert!(
            w[1].ends_with("the 20 records between are not delivered to it"),
            "{}",
            w[1]
        );
    }

    #[test]
    fn a_declared_start_from_copies_everything_and_warns_of_the_deletion() {
        let mut topics = [topic(false)];
        attach_groups(&mut topics, &[group("behind", 0, 100)]);
        assert!(topics[0].retention_cut.as_ref().unwrap().groups.is_empty());
        let w = warnings(&topics);
        assert_eq!(w.len(), 1);
        assert!(
            w[0].contains("replication.start_from is declared, so the copy includes 120 records (52,000 bytes, about 50.8 KiB) older than 2025-12-01T00:00:00Z, which the target deletes soon after they arrive"),
            "{}",
            w[0]
        );
    }

    #[test]
    fn unread_bytes_leave_only_the_record_count() {
        let mut t = topic(true);
        t.retention_cut.as_mut().unwrap().partitions[0].bytes = None;
        let w = warnings(&[t]);
        assert!(
            w[0].contains("the source forever: 120 records older than 2025-12-01T00:00:00Z would"),
            "{}",
            w[0]
        );
    }

    #[test]
    fn nothing_left_behind_says_nothing() {
        let mut t = topic(true);
        let cut = t.retention_cut.as_mut().unwrap();
        cut.partitions[0].first_kept = 0;
        cut.partitions[0].left_behind = 0;
        assert!(warnings(&[t]).is_empty());
    }
}
