//! The write side of the cluster-access interface (create topics, set configs, add partitions,
//! commit group offsets, group activity) against real tansu 0.6.0 brokers started by the test
//! bed, one testbed per test; the calls go to the target broker, as in an apply.
//!
//! What tansu cannot exercise: the partition totals sent by `add_partitions` (tansu has no
//! CreatePartitions) are unit-tested in `src/cluster/topic_admin_ffi.rs`, the metadata wait in
//! `src/cluster/rdkafka_cluster.rs`; Kafka's refusal of a commit to a group with members (tansu
//! accepts it) is a unit test over librdkafka's mock cluster in `src/cluster/group_active_tests.rs`.

mod support;

use support::{delta, offsets, settings};

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use ferry::cluster::{
    ClusterAccess, ClusterError, GroupActivity, NewTopicSpec, RdKafkaCluster, TopicResult,
};
use ferry_testbed::{Testbed, inspect, seed};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{ClientConfig, Offset};

const TIMEOUT: Duration = Duration::from_secs(10);

fn connect(bootstrap: &str) -> RdKafkaCluster {
    RdKafkaCluster::connect("target", &settings(bootstrap), TIMEOUT).expect("connect to tansu")
}

fn strings(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn topic(name: &str, partitions: i32, config: &[(&str, &str)]) -> NewTopicSpec {
    NewTopicSpec {
        name: name.to_string(),
        partitions,
        replication_factor: 1,
        config: strings(config),
    }
}

/// Created topics are in metadata, with all partitions, as soon as `create_topics` returns
/// (it waits for them), and carry the configs given at creation.
#[test]
fn create_topics_with_configs_shows_partitions_and_configs() {
    let bed = Testbed::start().unwrap();
    let bootstrap = &bed.target.bootstrap;
    let cluster = connect(bootstrap);
    let orders_config = [("cleanup.policy", "delete"), ("retention.ms", "86400000")];
    let specs = [
        topic("orders", 3, &orders_config),
        topic("audit", 2, &[("cleanup.policy", "compact")]),
        topic("plain", 1, &[]),
    ];

    let before = cluster.request_counts();
    let results = cluster.create_topics(&specs).unwrap();
    let sent = delta(&before, &cluster.request_counts());

    assert_eq!(
        results,
        ["orders", "audit", "plain"].map(|t| TopicResult::Created(t.to_string()))
    );
    assert_eq!(sent.get("CreateTopics"), Some(&1), "{sent:?}");

    // No waiting here: create_topics returned only once metadata showed them.
    let topics = inspect::topics(bootstrap).unwrap();
    assert_eq!(topics.get("orders"), Some(&3), "{topics:?}");
    assert_eq!(topics.get("audit"), Some(&2), "{topics:?}");
    assert_eq!(topics.get("plain"), Some(&1), "{topics:?}");
    let md = cluster.metadata().unwrap();
    let ids: Vec<i32> = md.topics["orders"]
        .partitions
        .iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(ids, [0, 1, 2]);

    assert_eq!(
        inspect::topic_config(bootstrap, "orders").unwrap(),
        strings(&orders_config)
    );
    assert_eq!(
        inspect::topic_config(bootstrap, "audit").unwrap(),
        strings(&[("cleanup.policy", "compact")])
    );
}

/// TOPIC_ALREADY_EXISTS is an outcome, not an error; the other topic of the same call is
/// created.
#[test]
fn creating_an_existing_topic_reports_already_exists() {
    let bed = Testbed::start().unwrap();
    let bootstrap = &bed.target.bootstrap;
    seed::create_topic(bootstrap, "orders", 2, &[]).unwrap();
    let cluster = connect(bootstrap);

    let results = cluster
        .create_topics(&[topic("orders", 2, &[]), topic("payments", 4, &[])])
        .unwrap();
    assert_eq!(
        results,
        [
            TopicResult::AlreadyExists("orders".to_string()),
            TopicResult::Created("payments".to_string()),
        ]
    );
    assert_eq!(
        inspect::topics(bootstrap).unwrap().get("payments"),
        Some(&4)
    );

    // The same call again (a resumed apply): both exist now.
    let again = cluster
        .create_topics(&[topic("orders", 2, &[]), topic("payments", 4, &[])])
        .unwrap();
    assert_eq!(
        again,
        ["orders", "payments"].map(|t| TopicResult::AlreadyExists(t.to_string()))
    );
}

/// Two keys on each of two topics in one call; keys not named keep their values (a legacy
/// AlterConfigs would have dropped them on real Kafka).
///
/// librdkafka's statistics never count IncrementalAlterConfigs requests (it filters that type
/// out for every client), so "one request" is by construction (one
/// `rd_kafka_IncrementalAlterConfigs` call with all resources); what is checked here is that
/// no legacy AlterConfigs went out.
#[test]
fn alter_topic_configs_sets_keys_on_two_topics_in_one_call() {
    let bed = Testbed::start().unwrap();
    let bootstrap = &bed.target.bootstrap;
    seed::create_topic(
        bootstrap,
        "orders",
        1,
        &[("cleanup.policy", "delete"), ("retention.ms", "1000")],
    )
    .unwrap();
    seed::create_topic(bootstrap, "audit", 1, &[("segment.bytes", "1048576")]).unwrap();
    let cluster = connect(bootstrap);

    let changes = BTreeMap::from([
        (
            "orders".to_string(),
            strings(&[("retention.ms", "2000"), ("max.message.bytes", "2097152")]),
        ),
        (
            "audit".to_string(),
            strings(&[("cleanup.policy", "compact"), ("retention.ms", "5000")]),
        ),
    ]);
    let before = cluster.request_counts();
    cluster.alter_topic_configs(&changes).unwrap();
    let sent = delta(&before, &cluster.request_counts());
    assert_eq!(sent.get("AlterConfigs"), None, "{sent:?}");

    assert_eq!(
        inspect::topic_config(bootstrap, "orders").unwrap(),
        strings(&[
            ("cleanup.policy", "delete"),
            ("max.message.bytes", "2097152"),
            ("retention.ms", "2000"),
        ])
    );
    assert_eq!(
        inspect::topic_config(bootstrap, "audit").unwrap(),
        strings(&[
            ("cleanup.policy", "compact"),
            ("retention.ms", "5000"),
            ("segment.bytes", "1048576"),
        ])
    );

    // Nothing to change: no request at all.
    cluster.alter_topic_configs(&BTreeMap::new()).unwrap();
}

/// tansu 0.6.0 answers CreatePartitions with UNSUPPORTED_FEATURE, so only the refusal can be
/// tested here; the success path (the totals sent, the request objects) is unit-tested in
/// `src/cluster/topic_admin_ffi.rs`.
#[test]
fn add_partitions_on_tansu_is_unsupported() {
    let bed = Testbed::start().unwrap();
    let bootstrap = &bed.target.bootstrap;
    seed::create_topic(bootstrap, "orders", 2, &[]).unwrap();
    let cluster = connect(bootstrap);

    let error = cluster
        .add_partitions(&BTreeMap::from([("orders".to_string(), 4)]))
        .unwrap_err();
    match &error {
        ClusterError::Unsupported {
            role, operation, ..
        } => {
            assert_eq!(role, "target");
            assert_eq!(operation, "adding partitions (CreatePartitions)");
        }
        other => panic!("expected Unsupported, got {other:?}"),
    }
    eprintln!("{error}");
    assert_eq!(inspect::topics(bootstrap).unwrap().get("orders"), Some(&2));
}

/// Offsets committed by ferry are what the group's consumers read back; committing again
/// overwrites them (a resumed apply repeats the step).
#[test]
fn commit_group_offsets_then_read_back() {
    let bed = Testbed::start().unwrap();
    let bootstrap = &bed.target.bootstrap;
    seed::create_topic(bootstrap, "orders", 3, &[]).unwrap();
    seed::create_topic(bootstrap, "payments", 1, &[]).unwrap();
    for partition in 0..3 {
        seed::produce(bootstrap, "orders", partition, 10, 20).unwrap();
    }
    let cluster = connect(bootstrap);
    let partitions = [("orders", 0), ("orders", 1), ("orders", 2), ("payments", 0)];

    let first = offsets(&[
        ("orders", &[(0, 5), (1, 0), (2, 10)]),
        ("payments", &[(0, 0)]),
    ]);
    cluster.commit_group_offsets("billing", &first).unwrap();
    assert_eq!(
        inspect::committed_offsets(bootstrap, "billing", &partitions).unwrap(),
        [Some(5), Some(0), Some(10), Some(0)]
    );

    let second = offsets(&[
        ("orders", &[(0, 7), (1, 0), (2, 10)]),
        ("payments", &[(0, 0)]),
    ]);
    cluster.commit_group_offsets("billing", &second).unwrap();
    assert_eq!(
        inspect::committed_offsets(bootstrap, "billing", &partitions).unwrap(),
        [Some(7), Some(0), Some(10), Some(0)]
    );
    assert_eq!(
        cluster.group_offsets(&["billing".to_string()]).unwrap()["billing"],
        second
    );

    // Nothing to commit: no consumer, no request.
    cluster
        .commit_group_offsets("billing", &BTreeMap::new())
        .unwrap();

    // A partition the broker does not have: the error names it.
    let error = cluster
        .commit_group_offsets("billing", &offsets(&[("orders", &[(0, 1), (5, 1)])]))
        .unwrap_err();
    match &error {
        ClusterError::Kafka {
            operation, detail, ..
        } => {
            assert_eq!(operation, "OffsetCommit");
            assert!(
                detail.contains("group billing") && detail.contains("orders[5]"),
                "{detail}"
            );
        }
        other => panic!("expected a Kafka error, got {other:?}"),
    }
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

/// What tansu 0.6.0 does with a commit from outside the group's generation (generation -1, no
/// member id) to a group with a live, assigned member: it **accepts and stores it**. Kafka
/// refuses it (UNKNOWN_MEMBER_ID), which ferry turns into [`ClusterError::GroupActive`]; that
/// path is tested against librdkafka's mock cluster below. So on tansu, `commit_group_offsets`
/// cannot protect a live group: the executor has to establish that the group is idle itself.
#[test]
fn commit_to_a_group_with_a_live_member_is_accepted_by_tansu() {
    let bed = Testbed::start().unwrap();
    let bootstrap = &bed.target.bootstrap;
    seed::create_topic(bootstrap, "orders", 2, &[]).unwrap();
    seed::produce(bootstrap, "orders", 0, 10, 20).unwrap();
    let member = live_member(bootstrap, "app", "orders");
    let cluster = connect(bootstrap);

    cluster
        .commit_group_offsets("app", &offsets(&[("orders", &[(0, 3)])]))
        .unwrap();
    assert_eq!(
        inspect::committed_offsets(bootstrap, "app", &[("orders", 0)]).unwrap(),
        [Some(3)]
    );
    // The member keeps its assignment and sees ferry's offset as its own.
    assert_eq!(member.assignment().unwrap().count(), 2);
    let seen = member.committed(TIMEOUT).unwrap();
    let seen = seen.find_partition("orders", 0).map(|e| e.offset());
    assert_eq!(seen, Some(Offset::Offset(3)));
}

/// tansu 0.6.0 with sqlite drops the connection on DescribeGroups for a group that exists (here
/// one with only committed offsets), so activity is Unknown there (the executor then watches
/// committed offsets instead). A group that does not exist it does describe, as
/// GROUP_ID_NOT_FOUND.
#[test]
fn group_activity_on_tansu_is_unknown_for_a_group_with_offsets() {
    let bed = Testbed::start().unwrap();
    let bootstrap = &bed.target.bootstrap;
    seed::create_topic(bootstrap, "orders", 1, &[]).unwrap();
    seed::commit_offsets(bootstrap, "billing", &[("orders", 0, 0)]).unwrap();
    let cluster = connect(bootstrap);

    let activity = cluster.group_activity("billing").unwrap();
    match &activity {
        GroupActivity::Unknown { reason } => {
            assert!(reason.contains("billing"), "{reason}");
            eprintln!("{reason}");
        }
        GroupActivity::Members(n) => panic!("tansu described the group: {n} members"),
    }
    // The dropped connection comes back for the next call.
    assert_eq!(cluster.metadata().unwrap().topics.len(), 1);

    // A group that does not exist is described (GROUP_ID_NOT_FOUND): no members.
    assert_eq!(
        cluster.group_activity("never-seen").unwrap(),
        GroupActivity::Members(0)
    );
}

/// tansu 0.6.0 drops the connection on DescribeGroups for a group with a live, assigned member
/// too: Unknown, never a member count.
#[test]
fn group_activity_on_tansu_is_unknown_for_a_group_with_a_live_member() {
    let bed = Testbed::start().unwrap();
    let bootstrap = &bed.target.bootstrap;
    seed::create_topic(bootstrap, "orders", 1, &[]).unwrap();
    let member = live_member(bootstrap, "app", "orders");
    let cluster = connect(bootstrap);

    let activity = cluster.group_activity("app").unwrap();
    assert!(
        matches!(&activity, GroupActivity::Unknown { reason } if reason.contains("dropped the connection")),
        "{activity:?}"
    );
    drop(member);
}
