//! Committed offsets of many groups in a few requests: one batched FindCoordinator (KIP-699)
//! for all groups, then one multi-group OffsetFetch (KIP-709) per coordinator.

use std::collections::BTreeMap;
use std::time::Instant;

use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestGroup;
use kafka_protocol::messages::{FindCoordinatorRequest, GroupId, OffsetFetchRequest};
use kafka_protocol::protocol::StrBytes;

use super::connection::{Connection, add_counts};
use super::wire_settings::WireSettings;
use crate::cluster::PartitionOffsets;

/// The first versions that take many groups: FindCoordinator v4 (Kafka 3.0) and OffsetFetch v8
/// (Kafka 3.0).
const FIND_COORDINATOR_BATCHED: i16 = 4;
const OFFSET_FETCH_BATCHED: i16 = 8;

/// Groups per request. The brokers set no limit; this keeps one response to a few MiB when every
/// group committed offsets for hundreds of partitions.
const GROUPS_PER_REQUEST: usize = 500;

/// What the batched requests answered.
pub(super) struct BatchedOffsets {
    /// Offsets of every group the coordinators answered for without an error.
    pub(super) offsets: BTreeMap<String, PartitionOffsets>,
    /// Groups to ask again one at a time: their coordinator was not found, or it answered with
    /// an error (loading, moved, not authorised) that the one-group request reports in full.
    pub(super) left: Vec<String>,
    /// Requests sent, by kind.
    pub(super) sent: BTreeMap<String, u64>,
}

/// Committed offsets of `groups`, or why the batched requests could not be used at all (no
/// bootstrap server reached, a broker older than Kafka 3.0).
pub(super) fn batched_group_offsets(
    settings: &WireSettings,
    groups: &[String],
    deadline: Instant,
) -> Result<BatchedOffsets, String> {
    let mut sent = BTreeMap::new();
    let mut bootstrap = connect_any(settings, deadline)?;
    let outcome = ask(settings, &mut bootstrap, groups, deadline, &mut sent);
    add_counts(&mut sent, &bootstrap.sent);
    let (offsets, left) = outcome?;
    Ok(BatchedOffsets {
        offsets,
        left,
        sent,
    })
}

type Answer = (BTreeMap<String, PartitionOffsets>, Vec<String>);

fn ask(
    settings: &WireSettings,
    bootstrap: &mut Connection,
    groups: &[String],
    deadline: Instant,
    sent: &mut BTreeMap<String, u64>,
) -> Result<Answer, String> {
    if !bootstrap.takes::<FindCoordinatorRequest>(FIND_COORDINATOR_BATCHED)
        || !bootstrap.takes::<OffsetFetchRequest>(OFFSET_FETCH_BATCHED)
    {
        return Err("the brokers are older than Kafka 3.0 (no batched OffsetFetch)".to_string());
    }
    let mut left = Vec::new();
    // Coordinator address -> its groups.
    let mut by_coordinator: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for chunk in groups.chunks(GROUPS_PER_REQUEST) {
        let request = FindCoordinatorRequest::default()
            .with_key_type(0)
            .with_coordinator_keys(
                chunk
                    .iter()
                    .map(|g| StrBytes::from_string(g.clone()))
                    .collect(),
            );
        let response = bootstrap.send(&request, FIND_COORDINATOR_BATCHED)?;
        let mut unanswered: std::collections::BTreeSet<&String> = chunk.iter().collect();
        for coordinator in response.coordinators {
            let group = coordinator.key.to_string();
            if !unanswered.remove(&group) {
                continue;
            }
            if coordinator.error_code == 0 {
                let address = address(coordinator.host.as_str(), coordinator.port);
                by_coordinator.entry(address).or_default().push(group);
            } else {
                left.push(group);
            }
        }
        left.extend(unanswered.into_iter().cloned());
    }

    let mut offsets = BTreeMap::new();
    for (address, coordinator_groups) in by_coordinator {
        // The bootstrap broker is often a coordinator too: no second connection to it.
        let mut opened = None;
        let connection = if address == bootstrap.address {
            &mut *bootstrap
        } else {
            match Connection::open(settings, &address, deadline) {
                Ok(connection) => opened.insert(connection),
                Err(error) => {
                    tracing::debug!("coordinator {address}: {error}; its groups go one at a time");
                    left.extend(coordinator_groups);
                    continue;
                }
            }
        };
        for chunk in coordinator_groups.chunks(GROUPS_PER_REQUEST) {
            match fetch(connection, chunk) {
                Ok((answered, unanswered)) => {
                    offsets.extend(answered);
                    left.extend(unanswered);
                }
                Err(error) => {
                    tracing::debug!("coordinator {address}: {error}; its groups go one at a time");
                    left.extend(chunk.iter().cloned());
                }
            }
        }
        if let Some(connection) = opened {
            add_counts(sent, &connection.sent);
        }
    }
    Ok((offsets, left))
}

/// One multi-group OffsetFetch: the offsets of the groups answered cleanly, and the others.
fn fetch(connection: &mut Connection, groups: &[String]) -> Result<Answer, String> {
    let request = OffsetFetchRequest::default().with_groups(
        groups
            .iter()
            .map(|g| {
                OffsetFetchRequestGroup::default()
                    .with_group_id(GroupId(StrBytes::from_string(g.clone())))
                    .with_topics(None)
            })
            .collect(),
    );
    let response = connection.send(&request, OFFSET_FETCH_BATCHED)?;
    let mut offsets = BTreeMap::new();
    for group in response.groups {
        let name = group.group_id.0.to_string();
        if group.error_code != 0
            || group
                .topics
                .iter()
                .flat_map(|t| &t.partitions)
                .any(|p| p.error_code != 0)
        {
            continue;
        }
        let mut committed = PartitionOffsets::new();
        for topic in group.topics {
            for partition in topic.partitions {
                // Negative: no offset committed for this partition (as librdkafka leaves out).
                if partition.committed_offset >= 0 {
                    committed
                        .entry(topic.name.0.to_string())
                        .or_default()
                        .insert(partition.partition_index, partition.committed_offset);
                }
            }
        }
        if groups.contains(&name) {
            offsets.insert(name, committed);
        }
    }
    let left = groups
        .iter()
        .filter(|g| !offsets.contains_key(*g))
        .cloned()
        .collect();
    Ok((offsets, left))
}

/// The first bootstrap server that connects and authenticates.
fn connect_any(settings: &WireSettings, deadline: Instant) -> Result<Connection, String> {
    let mut errors = Vec::new();
    for server in &settings.bootstrap {
        match Connection::open(settings, server, deadline) {
            Ok(connection) => return Ok(connection),
            Err(error) => errors.push(error),
        }
    }
    Err(errors.join("; "))
}

/// host:port as `ToSocketAddrs` reads it: an IPv6 literal in brackets.
fn address(host: &str, port: i32) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

#[cfg(test)]
mod tests {
    use super::address;
    use std::net::ToSocketAddrs;

    #[test]
    fn coordinator_addresses_resolve_for_names_and_both_ip_families() {
        for (host, expected) in [
            ("localhost", "localhost:9092"),
            ("10.0.0.5", "10.0.0.5:9092"),
            ("::1", "[::1]:9092"),
        ] {
            let text = address(host, 9092);
            assert_eq!(text, expected);
            assert!(text.to_socket_addrs().is_ok(), "{text}");
        }
    }
}
