//! The batched group path of one cluster: whether it can be used, and what it sent.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use super::batched_group_offsets::batched_group_offsets;
use super::connection::add_counts;
use super::wire_settings::WireSettings;
use crate::cluster::PartitionOffsets;
use crate::config::ClusterSettings;

/// The most the batched requests may take before the groups go one at a time: two round trips
/// and a handshake, so this only matters when a broker accepts connections and stays silent.
const BATCH_TIMEOUT: Duration = Duration::from_secs(10);

pub struct GroupBatcher {
    role: String,
    /// ferry's own connection, or why this cluster's groups go one at a time: it cannot be
    /// reached that way, or the batch failed as a whole once (later calls, a wait's polls, do
    /// not pay for the same failure again).
    wire: Mutex<Result<WireSettings, String>>,
    /// Requests sent on it, which librdkafka's statistics do not see.
    sent: Mutex<BTreeMap<String, u64>>,
}

impl GroupBatcher {
    pub fn new(role: &str, settings: &ClusterSettings) -> GroupBatcher {
        let wire = WireSettings::for_cluster(settings, &format!("ferry-{role}"));
        if let Err(reason) = &wire {
            tracing::debug!("the {role} cluster's group offsets go one group at a time: {reason}");
        }
        GroupBatcher {
            role: role.to_string(),
            wire: Mutex::new(wire),
            sent: Mutex::new(BTreeMap::new()),
        }
    }

    /// The offsets of the groups the batched requests answered, and the groups left to ask one
    /// at a time (all of them when this cluster is not batched).
    pub fn group_offsets(
        &self,
        groups: &[String],
        timeout: Duration,
    ) -> (BTreeMap<String, PartitionOffsets>, Vec<String>) {
        let all = || (BTreeMap::new(), groups.to_vec());
        // Cloned out: the lock is not held across the network.
        let Ok(settings) = self.wire.lock().unwrap().clone() else {
            return all();
        };
        if groups.is_empty() {
            return all();
        }
        let role = &self.role;
        let deadline = crate::limits::deadline_in(timeout.min(BATCH_TIMEOUT));
        match batched_group_offsets(&settings, groups, deadline) {
            Ok(batch) => {
                add_counts(&mut self.sent.lock().unwrap(), &batch.sent);
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
                *self.wire.lock().unwrap() = Err(reason);
                all()
            }
        }
    }

    /// Adds what this path sent to librdkafka's counts.
    pub fn add_sent(&self, counts: &mut BTreeMap<String, u64>) {
        add_counts(counts, &self.sent.lock().unwrap());
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
            .wire
            .lock()
            .unwrap()
            .clone()
            .err()
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
        assert!(batcher.wire.lock().unwrap().is_ok());
    }
}
