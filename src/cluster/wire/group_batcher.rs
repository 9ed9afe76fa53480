//! The batched group path of one cluster: whether it can be used, and what it sent.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use super::batched_group_offsets::batched_group_offsets;
use super::wire_settings::WireSettings;
use crate::cluster::PartitionOffsets;
use crate::config::ClusterSettings;

/// The most the batched requests may take before the groups go one at a time: two round trips
/// and a handshake, so this only matters when a broker accepts connections and stays silent.
const BATCH_TIMEOUT: Duration = Duration::from_secs(10);

pub struct GroupBatcher {
    role: String,
    /// ferry's own connection, or why this cluster has none.
    settings: Result<WireSettings, String>,
    /// Why the batch failed as a whole, once it has: later calls (a wait polls) do not pay for
    /// the same failure again.
    failed: Mutex<Option<String>>,
    /// Requests sent on it, which librdkafka's statistics do not see.
    sent: Mutex<BTreeMap<String, u64>>,
}

impl GroupBatcher {
    pub fn new(role: &str, settings: &ClusterSettings) -> GroupBatcher {
        GroupBatcher {
            role: role.to_string(),
            settings: WireSettings::for_cluster(settings, &format!("ferry-{role}")),
            failed: Mutex::new(None),
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
        if self.failed.lock().unwrap().is_some() {
            return all();
        }
        let deadline = crate::limits::deadline_in(timeout.min(BATCH_TIMEOUT));
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
                    "batched OffsetFetch on the {role} cluster failed ({reason}); its groups go \
                     one at a time from now on"
                );
                *self.failed.lock().unwrap() = Some(reason);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A batch that cannot connect leaves every group to the one-group path, and the next call
    /// does not try again.
    #[test]
    fn a_failed_batch_is_not_tried_again() {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let settings = ClusterSettings::plaintext(&format!("127.0.0.1:{port}"));
        let batcher = GroupBatcher::new("source", &settings);
        let groups = vec!["a".to_string(), "b".to_string()];

        let (offsets, left) = batcher.group_offsets(&groups, Duration::from_secs(5));
        assert!(offsets.is_empty());
        assert_eq!(left, groups);
        let reason = batcher
            .failed
            .lock()
            .unwrap()
            .clone()
            .expect("the failure is kept");
        assert!(reason.contains(&port.to_string()), "{reason}");

        // The port answers now; the batcher must not knock.
        let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
        listener.set_nonblocking(true).unwrap();
        let (_, left) = batcher.group_offsets(&groups, Duration::from_secs(5));
        assert_eq!(left, groups);
        let knocked = listener.accept();
        assert!(
            knocked
                .as_ref()
                .is_err_and(|e| e.kind() == std::io::ErrorKind::WouldBlock),
            "{knocked:?}"
        );
    }

    #[test]
    fn no_groups_ask_nothing() {
        let batcher = GroupBatcher::new("source", &ClusterSettings::plaintext("127.0.0.1:1"));
        let (offsets, left) = batcher.group_offsets(&[], Duration::from_secs(5));
        assert!(offsets.is_empty() && left.is_empty());
        assert!(batcher.failed.lock().unwrap().is_none());
    }
}
