//! Which partitions `ferry replicate` copies, to which target topic, and where an empty target
//! partition starts: a pure function of the configuration and a snapshot of both clusters.

use crate::config::{Desired, Scheme, StartFrom};
use crate::snapshot::{Snapshot, target_name};

use super::ApplyError;
use super::mirror::start_offset;
use crate::copy::CopyJob;

/// One job per partition of every selected source topic, to the same partition of the topic the
/// plan maps it to.
///
/// Refused when the migration does not copy data (scheme other than `mirror`), when a target
/// topic is missing or has fewer partitions than its source (`ferry apply` creates them), and
/// when `replication.start_from` is `latest` or `committed` while some target partition is
/// still empty: those starts move as the source moves, so two processes, or one restarted
/// later, would start the same partition at different offsets and skip records. A target
/// partition that holds copies resumes from its tail, whatever `start_from` says.
pub fn replicate_jobs(desired: &Desired, snapshot: &Snapshot) -> Result<Vec<CopyJob>, ApplyError> {
    if desired.migration.scheme != Scheme::Mirror {
        return Err(ApplyError::ReplicateNeedsMirror {
            migration: desired.migration.name.clone(),
            scheme: desired.migration.scheme.to_string(),
        });
    }
    if snapshot.source.topics.is_empty() {
        return Err(ApplyError::ReplicateNothingSelected);
    }
    let start_from = desired.replication.start_from;
    let moving = matches!(start_from, StartFrom::Latest | StartFrom::Committed);
    let mut jobs = Vec::new();
    let mut missing = Vec::new();
    let mut empty = Vec::new();
    for (topic, source) in &snapshot.source.topics {
        let target_topic = target_name(desired, topic);
        let Some(target) = snapshot.target.topics.get(&target_topic) else {
            missing.push(format!("{target_topic} (does not exist)"));
            continue;
        };
        if target.partitions.len() < source.partitions.len() {
            missing.push(format!(
                "{target_topic} (has {} partitions, the source {})",
                target.partitions.len(),
                source.partitions.len()
            ));
            continue;
        }
        for p in &source.partitions {
            let target_empty = target
                .partitions
                .iter()
                .find(|t| t.id == p.id)
                .is_none_or(|t| t.end_offset <= 0);
            if moving && target_empty {
                empty.push(format!("{target_topic}[{}]", p.id));
            }
            jobs.push(CopyJob {
                source_topic: topic.clone(),
                target_topic: target_topic.clone(),
                partition: p.id,
                start: start_offset(
                    snapshot,
                    topic,
                    p.id,
                    start_from,
                    desired.replication.start_from_declared,
                ),
                accepted_gaps: desired.replication.gaps_of(topic, p.id),
                ..CopyJob::default()
            });
        }
    }
    if !missing.is_empty() {
        return Err(ApplyError::ReplicateTargetMissing { topics: missing });
    }
    if !empty.is_empty() {
        return Err(ApplyError::ReplicateMovingStart {
            start_from: match start_from {
                StartFrom::Latest => "latest",
                _ => "committed",
            }
            .into(),
            partitions: empty,
        });
    }
    Ok(jobs)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::config::{self, LoadOptions};
    use crate::snapshot::{ClusterSnapshot, PartitionSnapshot, TopicSnapshot};

    fn desired(scheme: &str, start_from: &str) -> Desired {
        let hooks: String = Scheme::ALL
            .iter()
            .filter(|s| s.as_str() == scheme)
            .flat_map(|s| s.hooks())
            .map(|(h, _)| format!("hook \"{h}\" {{\n  command = [\"true\"]\n}}\n"))
            .collect();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("main.hcl"),
            format!(
                r#"
migration "m" {{
  scheme = "{scheme}"
}}
cluster "source" {{
  bootstrap_servers = ["s:9092"]
}}
cluster "target" {{
  bootstrap_servers = ["t:9092"]
}}
topics {{
  include = ["^orders", "^events$"]
}}
topic "events" {{
  target_name = "events.copy"
}}
replication {{
  start_from = "{start_from}"
}}
{hooks}"#
            ),
        )
        .unwrap();
        config::load(dir.path(), &LoadOptions::default()).expect("test config loads")
    }

    /// A topic with `ends[i]` records in partition `i`, log start 2 where it has records.
    fn topic(ends: &[i64]) -> TopicSnapshot {
        TopicSnapshot {
            replication_factor: 1,
            partitions: ends
                .iter()
                .enumerate()
                .map(|(id, &end)| PartitionSnapshot {
                    id: id as i32,
                    start_offset: end.min(2),
                    end_offset: end,
                    timestamp_offset: None,
                    kept_from: None,
                })
                .collect(),
            config: Default::default(),
            retention_probe: None,
            size_probe: None,
        }
    }

    fn snapshot(source: &[(&str, &[i64])], target: &[(&str, &[i64])]) -> Snapshot {
        let cluster = |topics: &[(&str, &[i64])]| ClusterSnapshot {
            topics: topics
                .iter()
                .map(|(name, ends)| (name.to_string(), topic(ends)))
                .collect(),
            ..Default::default()
        };
        Snapshot {
            source: cluster(source),
            target: cluster(target),
            target_partition_support: None,
            target_transactions: None,
        }
    }

    fn job(source: &str, target: &str, partition: i32, start: i64) -> CopyJob {
        CopyJob {
            source_topic: source.into(),
            target_topic: target.into(),
            partition,
            start,
            ..CopyJob::default()
        }
    }

    #[test]
    fn every_source_partition_goes_to_its_mapped_target_topic() {
        let jobs = replicate_jobs(
            &desired("mirror", "earliest"),
            &snapshot(
                &[("events", &[5]), ("orders", &[10, 0])],
                &[("events.copy", &[0]), ("orders", &[0, 0, 0])],
            ),
        )
        .unwrap();
        assert_eq!(
            jobs,
            vec![
                job("events", "events.copy", 0, 2),
                job("orders", "orders", 0, 2),
                job("orders", "orders", 1, 0),
            ]
        );
    }

    #[test]
    fn missing_or_smaller_target_topics_are_named() {
        let error = replicate_jobs(
            &desired("mirror", "earliest"),
            &snapshot(
                &[("events", &[5]), ("orders", &[1, 1])],
                &[("orders", &[0])],
            ),
        )
        .unwrap_err();
        let ApplyError::ReplicateTargetMissing { topics } = &error else {
            panic!("{error:?}");
        };
        assert_eq!(
            topics,
            &[
                "events.copy (does not exist)",
                "orders (has 1 partitions, the source 2)"
            ]
        );
        assert!(error.to_string().contains("ferry apply"), "{error}");
    }

    #[test]
    fn only_the_mirror_scheme_copies_data() {
        let error = replicate_jobs(
            &desired("single_consume", "earliest"),
            &snapshot(&[("orders", &[1])], &[("orders", &[0])]),
        )
        .unwrap_err();
        assert!(matches!(error, ApplyError::ReplicateNeedsMirror { .. }));
    }

    #[test]
    fn nothing_selected_is_an_error() {
        let error =
            replicate_jobs(&desired("mirror", "earliest"), &snapshot(&[], &[])).unwrap_err();
        assert!(matches!(error, ApplyError::ReplicateNothingSelected));
    }

    /// `latest` moves with the source: allowed only once every target partition holds copies
    /// (the copy then resumes from the target's tail and the start no longer matters).
    #[test]
    fn a_moving_start_needs_every_target_partition_started() {
        let config = desired("mirror", "latest");
        let error = replicate_jobs(
            &config,
            &snapshot(&[("orders", &[10, 10])], &[("orders", &[3, 0])]),
        )
        .unwrap_err();
        let ApplyError::ReplicateMovingStart { partitions, .. } = &error else {
            panic!("{error:?}");
        };
        assert_eq!(partitions, &["orders[1]"]);
        assert!(
            replicate_jobs(
                &config,
                &snapshot(&[("orders", &[10, 10])], &[("orders", &[3, 1])])
            )
            .is_ok()
        );
    }
}
