//! Step "apply topics": create and update topic metadata on the target, from a fresh diff, so a
//! rerun after an interruption finds what is already there and does only the rest.

use std::collections::BTreeMap;

use crate::cluster::{ClusterAccess, NewTopicSpec, TopicResult};
use crate::config::Desired;
use crate::diff::{Action, diff_topics};
use crate::error::Error;
use crate::snapshot::Snapshot;
use crate::state::StepOutcome;

use super::ApplyError;

pub fn apply_topics(
    desired: &Desired,
    source: &dyn ClusterAccess,
    target: &dyn ClusterAccess,
) -> Result<StepOutcome, Error> {
    let snapshot = Snapshot::take(desired, source, target)?;
    let changes = diff_topics(desired, &snapshot, desired.target_platform());
    let blocked: Vec<String> = changes
        .iter()
        .filter(|t| t.action == Action::Blocked)
        .map(|t| t.target_name.clone())
        .collect();
    if !blocked.is_empty() {
        return Err(ApplyError::Blocked { topics: blocked }.into());
    }

    let creates: Vec<NewTopicSpec> = changes
        .iter()
        .filter(|t| t.action == Action::Create)
        .filter_map(|t| {
            Some(NewTopicSpec {
                name: t.target_name.clone(),
                partitions: t.partitions?.value,
                replication_factor: t.replication_factor?.value,
                config: t
                    .config
                    .iter()
                    .map(|c| (c.key.clone(), c.after.clone()))
                    .collect(),
            })
        })
        .collect();
    let mut created = Vec::new();
    if !creates.is_empty() {
        for result in target.create_topics(&creates)? {
            match result {
                TopicResult::Created(name) => created.push(name),
                // Appeared between the diff and the request: the next run diffs it like any other.
                TopicResult::AlreadyExists(name) => {
                    return Err(crate::cluster::ClusterError::Kafka {
                        role: "target".into(),
                        operation: "CreateTopics".into(),
                        detail: format!("topic {name} appeared on the target while ferry was creating it; run `ferry apply` again"),
                    }
                    .into());
                }
            }
        }
    }

    let updates: Vec<_> = changes
        .iter()
        .filter(|t| t.action == Action::Update)
        .collect();
    let configs: BTreeMap<String, BTreeMap<String, String>> = updates
        .iter()
        .filter(|t| !t.config.is_empty())
        .map(|t| {
            (
                t.target_name.clone(),
                t.config
                    .iter()
                    .map(|c| (c.key.clone(), c.after.clone()))
                    .collect(),
            )
        })
        .collect();
    if !configs.is_empty() {
        target.alter_topic_configs(&configs)?;
    }
    let grow: BTreeMap<String, i32> = updates
        .iter()
        .filter(|t| t.grows_partitions())
        .filter_map(|t| Some((t.target_name.clone(), t.partitions?.value)))
        .collect();
    if !grow.is_empty() {
        target.add_partitions(&grow)?;
    }

    let mut configs_set = configs;
    for spec in &creates {
        if !spec.config.is_empty() {
            configs_set.insert(spec.name.clone(), spec.config.clone());
        }
    }
    Ok(StepOutcome::TopicsApplied {
        created,
        updated: updates.iter().map(|t| t.target_name.clone()).collect(),
        configs_set,
        already_as_declared: changes
            .iter()
            .filter(|t| t.action == Action::NoOp)
            .map(|t| t.target_name.clone())
            .collect(),
    })
}
