//! The refusal of an offset commit to a group with live members, at unit level: these run
//! against librdkafka's built-in mock cluster, which follows Kafka's classic group rules, and
//! test ferry's error mapping, including answers a real broker gives only in passing (a
//! rebalance under way, another generation). Kafka's own refusal (UNKNOWN_MEMBER_ID for a live
//! member) is tested end to end in `tests/cluster_writes.rs`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::DefaultProducerContext;
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};

use crate::cluster::{ClusterAccess, ClusterError, RdKafkaCluster};
use crate::config::ClusterSettings;

const TIMEOUT: Duration = Duration::from_secs(10);

fn settings(bootstrap: &str) -> ClusterSettings {
    ClusterSettings::plaintext(bootstrap)
}

/// A mock cluster (librdkafka's, which follows Kafka's classic group rules) with topic
/// `orders` (2 partitions), and ferry connected to it as the target.
fn mock_cluster() -> (MockCluster<'static, DefaultProducerContext>, RdKafkaCluster) {
    let mock = MockCluster::new(1).unwrap();
    mock.create_topic("orders", 2, 1).unwrap();
    let bootstrap = mock.bootstrap_servers();
    let mut settings = settings(&bootstrap);
    settings.properties.clear();
    let cluster = RdKafkaCluster::connect("target", &settings, TIMEOUT).unwrap();
    (mock, cluster)
}

/// Kafka answers a commit from outside the generation of a group with members
/// UNKNOWN_MEMBER_ID: ferry refuses with the typed "active members" error (here from the mock
/// cluster; against Kafka in `tests/cluster_writes.rs`).
#[test]
fn commit_to_a_group_with_a_live_member_is_refused_by_kafka_rules() {
    let (mock, cluster) = mock_cluster();
    let member = live_member(&mock.bootstrap_servers(), "app", "orders");

    let error = cluster
        .commit_group_offsets("app", &offsets(&[("orders", &[(0, 3), (1, 4)])]))
        .unwrap_err();
    match &error {
        ClusterError::GroupActive {
            role,
            group,
            detail,
        } => {
            assert_eq!((role.as_str(), group.as_str()), ("target", "app"));
            assert!(detail.contains("orders[0]"), "{detail}");
        }
        other => panic!("expected GroupActive, got {other:?}"),
    }
    let message = error.to_string();
    assert!(
        message.starts_with(
            "group app has active members on the target cluster; stop them before ferry \
             commits offsets"
        ),
        "{message}"
    );
    drop(member);
}

/// The other answers of a group with members (a rebalance under way, another generation) are
/// the same refusal; other failures keep their own kind.
#[test]
fn commit_answers_are_mapped_to_typed_errors() {
    use RDKafkaRespErr as E;
    let (mock, cluster) = mock_cluster();
    let commit = || cluster.commit_group_offsets("idle", &offsets(&[("orders", &[(0, 1)])]));
    commit().expect("a group without members takes the commit");

    for answer in [
        E::RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS,
        E::RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION,
        E::RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID,
    ] {
        mock.request_errors(RDKafkaApiKey::OffsetCommit, &[answer]);
        let error = commit().unwrap_err();
        assert!(
            matches!(&error, ClusterError::GroupActive { group, .. } if group == "idle"),
            "{answer:?}: {error:?}"
        );
    }
    mock.request_errors(
        RDKafkaApiKey::OffsetCommit,
        &[E::RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED],
    );
    let error = commit().unwrap_err();
    assert!(
        matches!(error, ClusterError::Unauthorized { .. }),
        "{error:?}"
    );
}

/// A consumer of `group` subscribed to `topic`, polled until it has an assignment.
fn live_member(bootstrap: &str, group: &str, topic: &str) -> BaseConsumer {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("session.timeout.ms", "30000")
        .create()
        .unwrap();
    consumer.subscribe(&[topic]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while consumer.assignment().unwrap().count() == 0 {
        assert!(Instant::now() < deadline, "no assignment within 20s");
        let _ = consumer.poll(Duration::from_millis(100));
    }
    consumer
}

fn offsets(pairs: &[(&str, &[(i32, i64)])]) -> BTreeMap<String, BTreeMap<i32, i64>> {
    pairs
        .iter()
        .map(|(t, p)| (t.to_string(), p.iter().copied().collect()))
        .collect()
}
