//! The batched group path of one cluster: whether it can be used, and what it sent.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use super::batched_group_offsets::batched_group_offsets;
use super::wire_settings::WireSettings;
use crate::cluster::PartitionOffsets;
use crate::config::ClusterSettings;

pub struct GroupBatcher {
    role: String,
    /// ferry's own connection, or why this cluster has none.
    settings: Result<WireSettings, String>,
    /// Requests sent on it, which librdkafka's statistics do not see.
    sent: Mutex<BTreeMap<String, u64>>,
}

impl GroupBatcher {
    pub fn new(role: &str, settings: &ClusterSettings) -> GroupBatcher {
        GroupBatcher {
            role: role.to_string(),
            settings: WireSettings::for_cluster(settings, &format!("ferry-{role}")),
            sent: Mutex::new(BTreeMap::new()),
        }
    }

    /// The offsets of the groups the batched requests answered, and the groups left to ask one
    /// at a time (all of them when this cluster cannot be batched).
    pub fn group_offsets(
        &self,
        groups: &[String],
        timeout: Duration,
    ) -> (BTreeMap<String, PartitionOffsets>, Vec<String>) {
        let all = || (BTreeMap::new(), groups.to_vec());
        let role = &self.role;
        let settings = match &self.settings {
            _ if groups.is_empty() => return all(),
            Ok(settings) => settings,
            Err(reason) => {
                tracing::debug!(
                    "the {role} cluster's group offsets go one group at a time: {reason}"
                );
                return all();
            }
        };
        let deadline = crate::limits::deadline_in(timeout);
        match batched_group_offsets(settings, groups, deadline) {
            Ok(batch) => {
                let mut sent = self.sent.lock().unwrap();
                add(&mut sent, &batch.sent);
                if !batch.left.is_empty() {
                    tracing::debug!(
                        "{} group(s) on the {role} cluster go one at a time",
                        batch.left.len()
                    );
                }
                (batch.offsets, batch.left)
            }
            Err(reason) => {
                tracing::debug!(
                    "batched OffsetFetch on the {role} cluster failed ({reason}); asking one group \
                     at a time"
                );
                all()
            }
        }
    }

    /// Adds what this path sent to librdkafka's counts.
    pub fn add_sent(&self, counts: &mut BTreeMap<String, u64>) {
        add(counts, &self.sent.lock().unwrap());
    }
}

pub(super) fn add(total: &mut BTreeMap<String, u64>, more: &BTreeMap<String, u64>) {
    for (kind, n) in more {
        *total.entry(kind.clone()).or_default() += n;
    }
}
