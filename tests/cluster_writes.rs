//! The write side of the cluster-access interface (create topics, set configs, add partitions,
//! commit group offsets, group activity) against real Apache Kafka brokers started by the test
//! bed; the calls go to the target broker, as in an apply. No test here stops or reconfigures a
//! broker, so all share one test bed ([`Testbed::shared`]), each with topic and group names of
//! its own (prefixed with the test's subject).
//!
//! Unit-tested instead: the metadata wait in `src/cluster/rdkafka_cluster.rs`, and the answers of
//! a group with members other than UNKNOWN_MEMBER_ID (a rebalance under way, another
//! generation) over librdkafka's mock cluster in `src/cluster/group_active_tests.rs`.

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
    RdKafkaCluster::connect("target", &settings(bootstrap), TIMEOUT).expect("connect to Kafka")
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
/// (it waits for them), and carry the configs given at creation as their overrides.
#[test]
fn create_topics_with_configs_shows_partitions_and_configs() {
    let bed = Testbed::shared();
    let bootstrap = &bed.target.bootstrap;
    let cluster = connect(bootstrap);
    let orders_config = [("cleanup.policy", "delete"), ("retention.ms", "86400000")];
    let specs = [
        topic("create.orders", 3, &orders_config),
        topic("create.audit", 2, &[("cleanup.policy", "compact")]),
        topic("create.plain", 1, &[]),
    ];

    let before = cluster.request_counts();
    let results = cluster.create_topics(&specs).unwrap();
    let sent = delta(&before, &cluster.request_counts());

    assert_eq!(
        results,
        ["create.orders", "create.audit", "create.plain"]
            .map(|t| TopicResult::Created(t.to_string()))
    );
    assert_eq!(sent.get("CreateTopics"), Some(&1), "{sent:?}");

    // No waiting here: create_topics returned only once metadata showed them.
    let topics = inspect::topics(bootstrap).unwrap();
    assert_eq!(topics.get("create.orders"), Some(&3), "{topics:?}");
    assert_eq!(topics.get("create.audit"), Some(&2), "{topics:?}");
    assert_eq!(topics.get("create.plain"), Some(&1), "{topics:?}");
    let md = cluster.metadata().unwrap();
    let ids: Vec<i32> = md.topics["create.orders"]
        .partitions
        .iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(ids, [0, 1, 2]);

    assert_eq!(
        inspect::topic_overrides(bootstrap, "create.orders").unwrap(),
        strings(&orders_config)
    );
    assert_eq!(
        inspect::topic_overrides(bootstrap, "create.audit").unwrap(),
        strings(&[("cleanup.policy", "compact")])
    );
    assert_eq!(
        inspect::topic_overrides(bootstrap, "create.plain").unwrap(),
        strings(&[])
    );
}

/// TOPIC_ALREADY_EXISTS is an outcome, not an error; the other topic of the same call is
/// created.
#[test]
fn creating_an_existing_topic_reports_already_exists() {
    let bed = Testbed::shared();
    let bootstrap = &bed.target.bootstrap;
    seed::create_topic(bootstrap, "exists.orders", 2, &[]).unwrap();
    let cluster = connect(bootstrap);
    let specs = [
        topic("exists.orders", 2, &[]),
        topic("exists.payments", 4, &[]),
    ];

    let results = cluster.create_topics(&specs).unwrap();
    assert_eq!(
        results,
        [
            TopicResult::AlreadyExists("exists.orders".to_string()),
            TopicResult::Created("exists.payments".to_string()),
        ]
    );
    assert_eq!(
        inspect::topics(bootstrap).unwrap().get("exists.payments"),
        Some(&4)
    );

    // The same call again (a resumed apply): both exist now.
    let again = cluster.create_topics(&specs).unwrap();
    assert_eq!(
        again,
        ["exists.orders", "exists.payments"].map(|t| TopicResult::AlreadyExists(t.to_string()))
    );
}

/// Two keys on each of two topics in one call; overrides not named keep their values (a legacy
/// AlterConfigs would have dropped them, see the next test).
///
/// librdkafka's statistics never count IncrementalAlterConfigs requests (it filters that type
/// out for every client), so "one request" is by construction (one
/// `rd_kafka_IncrementalAlterConfigs` call with all resources); what is checked here is that
/// no legacy AlterConfigs went out.
#[test]
fn alter_topic_configs_sets_keys_on_two_topics_in_one_call() {
    let bed = Testbed::shared();
    let bootstrap = &bed.target.bootstrap;
    let (orders, audit) = ("alter.orders", "alter.audit");
    seed::create_topic(
        bootstrap,
        orders,
        1,
        &[("cleanup.policy", "compact"), ("retention.ms", "1000")],
    )
    .unwrap();
    seed::create_topic(bootstrap, audit, 1, &[("segment.bytes", "1048576")]).unwrap();
    let cluster = connect(bootstrap);

    let changes = BTreeMap::from([
        (
            orders.to_string(),
            strings(&[("retention.ms", "2000"), ("max.message.bytes", "2097152")]),
        ),
        (
            audit.to_string(),
            strings(&[("cleanup.policy", "compact"), ("retention.ms", "5000")]),
        ),
    ]);
    let before = cluster.request_counts();
    cluster.alter_topic_configs(&changes).unwrap();
    let sent = delta(&before, &cluster.request_counts());
    assert_eq!(sent.get("AlterConfigs"), None, "{sent:?}");

    assert_eq!(
        inspect::topic_overrides(bootstrap, orders).unwrap(),
        strings(&[
            ("cleanup.policy", "compact"),
            ("max.message.bytes", "2097152"),
            ("retention.ms", "2000"),
        ])
    );
    assert_eq!(
        inspect::topic_overrides(bootstrap, audit).unwrap(),
        strings(&[
            ("cleanup.policy", "compact"),
            ("retention.ms", "5000"),
            ("segment.bytes", "1048576"),
        ])
    );

    // Nothing to change: no request at all.
    cluster.alter_topic_configs(&BTreeMap::new()).unwrap();
}

/// Legacy against incremental config changes on Kafka, from the same starting point (two
/// overrides): the legacy AlterConfigs replaces the topic's whole config, so the overrides it
/// does not list go back to their defaults; ferry's change (IncrementalAlterConfigs, SET) sets
/// the key it is given and leaves the other overrides in place.
#[test]
fn incremental_config_change_keeps_the_overrides_a_legacy_alter_configs_resets() {
    let bed = Testbed::shared();
    let bootstrap = &bed.target.bootstrap;
    let start = [("cleanup.policy", "compact"), ("segment.bytes", "1048576")];
    let (legacy, incremental) = ("configs.legacy", "configs.incremental");
    seed::create_topic(bootstrap, legacy, 1, &start).unwrap();
    seed::create_topic(bootstrap, incremental, 1, &start).unwrap();

    seed::legacy_alter_topic_config(bootstrap, legacy, &[("retention.ms", "2000")]).unwrap();
    assert_eq!(
        inspect::topic_overrides(bootstrap, legacy).unwrap(),
        strings(&[("retention.ms", "2000")]),
        "the legacy request resets the keys it does not list"
    );
    assert_eq!(
        inspect::topic_config(bootstrap, legacy).unwrap()["cleanup.policy"],
        "delete"
    );

    let cluster = connect(bootstrap);
    let change = BTreeMap::from([(
        incremental.to_string(),
        strings(&[("retention.ms", "2000")]),
    )]);
    cluster.alter_topic_configs(&change).unwrap();
    assert_eq!(
        inspect::topic_overrides(bootstrap, incremental).unwrap(),
        strings(&[
            ("cleanup.policy", "compact"),
            ("retention.ms", "2000"),
            ("segment.bytes", "1048576"),
        ])
    );
}

/// Kafka adds partitions (CreatePartitions): `add_partitions` raises two topics in one call and
/// returns once metadata shows the new partitions, which take records at once. Lowering a
/// topic's count is refused, naming the topic.
#[test]
fn add_partitions_raises_the_partition_counts() {
    let bed = Testbed::shared();
    let bootstrap = &bed.target.bootstrap;
    let (orders, payments) = ("grow.orders", "grow.payments");
    seed::create_topic(bootstrap, orders, 2, &[]).unwrap();
    seed::create_topic(bootstrap, payments, 1, &[]).unwrap();
    let cluster = connect(bootstrap);

    let totals = BTreeMap::from([(orders.to_string(), 4), (payments.to_string(), 3)]);
    cluster.add_partitions(&totals).unwrap();
    // Repeated with the same totals (an apply run again), the call is a no-op, not an error.
    cluster.add_partitions(&totals).unwrap();

    // No waiting here: add_partitions returned only once metadata showed them.
    let topics = inspect::topics(bootstrap).unwrap();
    assert_eq!(
        (topics.get(orders), topics.get(payments)),
        (Some(&4), Some(&3)),
        "{topics:?}"
    );
    let md = cluster.metadata().unwrap();
    let ids: Vec<i32> = md.topics[orders].partitions.iter().map(|p| p.id).collect();
    assert_eq!(ids, [0, 1, 2, 3]);
    seed::produce(bootstrap, orders, 3, 5, 20).unwrap();
    assert_eq!(inspect::watermarks(bootstrap, orders, 3).unwrap(), (0, 5));

    let error = cluster
        .add_partitions(&BTreeMap::from([(orders.to_string(), 2)]))
        .unwrap_err();
    match &error {
        ClusterError::Kafka {
            role,
            operation,
            detail,
        } => {
            assert_eq!(role, "target");
            assert_eq!(operation, "adding partitions (CreatePartitions)");
            assert!(detail.contains("topic grow.orders"), "{detail}");
        }
        other => panic!("expected a Kafka error, got {other:?}"),
    }
    assert_eq!(inspect::topics(bootstrap).unwrap().get(orders), Some(&4));
}

/// Offsets committed by ferry are what the group's consumers read back; committing again
/// overwrites them (a resumed apply repeats the step).
#[test]
fn commit_group_offsets_then_read_back() {
    let bed = Testbed::shared();
    let bootstrap = &bed.target.bootstrap;
    let (orders, payments, billing) = ("commit.orders", "commit.payments", "commit.billing");
    seed::create_topic(bootstrap, orders, 3, &[]).unwrap();
    seed::create_topic(bootstrap, payments, 1, &[]).unwrap();
    for partition in 0..3 {
        seed::produce(bootstrap, orders, partition, 10, 20).unwrap();
    }
    let cluster = connect(bootstrap);
    let partitions = [(orders, 0), (orders, 1), (orders, 2), (payments, 0)];

    let first = offsets(&[(orders, &[(0, 5), (1, 0), (2, 10)]), (payments, &[(0, 0)])]);
    cluster.commit_group_offsets(billing, &first).unwrap();
    assert_eq!(
        inspect::committed_offsets(bootstrap, billing, &partitions).unwrap(),
        [Some(5), Some(0), Some(10), Some(0)]
    );

    let second = offsets(&[(orders, &[(0, 7), (1, 0), (2, 10)]), (payments, &[(0, 0)])]);
    cluster.commit_group_offsets(billing, &second).unwrap();
    assert_eq!(
        inspect::committed_offsets(bootstrap, billing, &partitions).unwrap(),
        [Some(7), Some(0), Some(10), Some(0)]
    );
    assert_eq!(
        cluster.group_offsets(&[billing.to_string()]).unwrap()[billing],
        second
    );

    // Nothing to commit: no consumer, no request.
    cluster
        .commit_group_offsets(billing, &BTreeMap::new())
        .unwrap();

    // A partition the broker does not have: the error names it.
    let error = cluster
        .commit_group_offsets(billing, &offsets(&[(orders, &[(0, 1), (5, 1)])]))
        .unwrap_err();
    match &error {
        ClusterError::Kafka {
            operation, detail, ..
        } => {
            assert_eq!(operation, "OffsetCommit");
            assert!(
                detail.contains("group commit.billing") && detail.contains("commit.orders[5]"),
                "{detail}"
            );
        }
        other => panic!("expected a Kafka error, got {other:?}"),
    }
}

/// A consumer of `group` subscribed to `topic`, polled until it has an assignment.
fn live_member(bootstrap: &str, group: &str, topic: &str) -> BaseConsumer {
    let mut config = ClientConfig::new();
    config.set("session.timeout.ms", "30000");
    config.set("client.id", format!("{group}-member"));
    subscribed(config, bootstrap, group, topic)
}

/// A consumer of `group` subscribed to `topic` with the consumer group protocol of KIP-848
/// (`group.protocol=consumer`, Kafka 4's new protocol; the session timeout is the broker's),
/// polled until it has an assignment.
fn live_member_of_a_consumer_protocol_group(
    bootstrap: &str,
    group: &str,
    topic: &str,
) -> BaseConsumer {
    let mut config = ClientConfig::new();
    config.set("group.protocol", "consumer");
    subscribed(config, bootstrap, group, topic)
}

fn subscribed(mut config: ClientConfig, bootstrap: &str, group: &str, topic: &str) -> BaseConsumer {
    let consumer: BaseConsumer = config
        .set("bootstrap.servers", bootstrap)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    consumer.subscribe(&[topic]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while consumer.assignment().unwrap().count() == 0 {
        assert!(Instant::now() < deadline, "no assignment within 30s");
        let _ = consumer.poll(Duration::from_millis(100));
    }
    consumer
}

/// Polls `group_activity` until it reports `want` members, at most 30 s.
fn wait_for_members(cluster: &RdKafkaCluster, group: &str, want: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let activity = cluster.group_activity(group).unwrap();
        if activity == GroupActivity::Members(want) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "group {group}: still {activity:?} after 30s, want {want} members"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Kafka refuses a commit from outside the group's generation (generation -1, no member id) to a
/// group with a live, assigned member (UNKNOWN_MEMBER_ID), and ferry turns that into
/// [`ClusterError::GroupActive`]: nothing is stored and the member keeps its assignment. Once the
/// member has left, the same commit is taken.
#[test]
fn commit_to_a_group_with_a_live_member_is_refused() {
    let bed = Testbed::shared();
    let bootstrap = &bed.target.bootstrap;
    let (orders, app) = ("refused.orders", "refused.app");
    seed::create_topic(bootstrap, orders, 2, &[]).unwrap();
    seed::produce(bootstrap, orders, 0, 10, 20).unwrap();
    let member = live_member(bootstrap, app, orders);
    let cluster = connect(bootstrap);
    let commit = offsets(&[(orders, &[(0, 3), (1, 0)])]);

    let error = cluster.commit_group_offsets(app, &commit).unwrap_err();
    match &error {
        ClusterError::GroupActive {
            role,
            group,
            detail,
        } => {
            assert_eq!((role.as_str(), group.as_str()), ("target", app));
            assert!(detail.contains("refused.orders[0]"), "{detail}");
        }
        other => panic!("expected GroupActive, got {other:?}"),
    }
    let message = error.to_string();
    assert!(
        message.starts_with(
            "group refused.app has active members on the target cluster; stop them before \
             ferry commits offsets"
        ),
        "{message}"
    );
    assert_eq!(
        inspect::committed_offsets(bootstrap, app, &[(orders, 0), (orders, 1)]).unwrap(),
        [None, None]
    );
    // The member keeps its assignment and has no committed offset from ferry.
    assert_eq!(member.assignment().unwrap().count(), 2);
    // (The list is dropped within the statement: librdkafka cannot destroy a client while a
    // partition list it returned is alive.)
    let seen = member
        .committed(TIMEOUT)
        .unwrap()
        .find_partition(orders, 0)
        .map(|e| e.offset());
    assert_eq!(seen, Some(Offset::Invalid));

    // The member leaves the group (LeaveGroup on close): now the commit is taken.
    drop(member);
    wait_for_members(&cluster, app, 0);
    cluster.commit_group_offsets(app, &commit).unwrap();
    assert_eq!(
        inspect::committed_offsets(bootstrap, app, &[(orders, 0), (orders, 1)]).unwrap(),
        [Some(3), Some(0)]
    );
}

/// Kafka describes a group that has only committed offsets (no member ever joined): no members.
/// A group that does not exist is described too (DescribeGroups v6 answers GROUP_ID_NOT_FOUND):
/// no members either.
#[test]
fn group_activity_of_a_group_with_only_committed_offsets_is_no_members() {
    let bed = Testbed::shared();
    let bootstrap = &bed.target.bootstrap;
    seed::create_topic(bootstrap, "idle.orders", 1, &[]).unwrap();
    seed::commit_offsets(bootstrap, "idle.billing", &[("idle.orders", 0, 0)]).unwrap();
    let cluster = connect(bootstrap);

    assert_eq!(
        cluster.group_activity("idle.billing").unwrap(),
        GroupActivity::Members(0)
    );
    assert_eq!(
        cluster.group_activity("idle.never-seen").unwrap(),
        GroupActivity::Members(0)
    );
}

/// A group with a live, assigned member is described (DescribeGroups) with that member: the
/// count ferry's "group has active members" wait relies on.
#[test]
fn group_activity_of_a_group_with_a_live_member_counts_it() {
    let bed = Testbed::shared();
    let bootstrap = &bed.target.bootstrap;
    seed::create_topic(bootstrap, "active.orders", 1, &[]).unwrap();
    let member = live_member(bootstrap, "active.app", "active.orders");
    let cluster = connect(bootstrap);

    assert_eq!(
        cluster.group_activity("active.app").unwrap(),
        GroupActivity::Members(1)
    );
    // Messages that refuse to act while a group has members name them.
    let members = cluster.group_members("active.app").unwrap();
    assert_eq!(members.len(), 1, "{members:?}");
    assert!(
        members[0].starts_with("active.app-member@"),
        "client.id@host: {members:?}"
    );
    drop(member);
    wait_for_members(&cluster, "active.app", 0);
    assert_eq!(
        cluster.group_members("active.app").unwrap(),
        Vec::<String>::new()
    );
}

/// A group of Kafka 4's consumer group protocol (KIP-848), which DescribeGroups does not
/// describe (librdkafka asks with ConsumerGroupDescribe): its live member is counted and listed,
/// and a commit from outside the group is refused as for a classic group.
#[test]
fn a_live_member_of_a_consumer_protocol_group_is_counted_and_refuses_commits() {
    let bed = Testbed::shared();
    let bootstrap = &bed.target.bootstrap;
    let (orders, app) = ("kip848.orders", "kip848.app");
    seed::create_topic(bootstrap, orders, 2, &[]).unwrap();
    let member = live_member_of_a_consumer_protocol_group(bootstrap, app, orders);
    let cluster = connect(bootstrap);

    assert_eq!(
        cluster.group_activity(app).unwrap(),
        GroupActivity::Members(1)
    );
    let listed = cluster.list_groups().unwrap();
    let group = listed.iter().find(|g| g.name == app);
    let group = group.unwrap_or_else(|| panic!("{app} not in {listed:?}"));
    assert_eq!(
        (group.state.as_str(), group.members),
        ("Stable", 1),
        "{group:?}"
    );

    let error = cluster
        .commit_group_offsets(app, &offsets(&[(orders, &[(0, 0)])]))
        .unwrap_err();
    assert!(
        matches!(&error, ClusterError::GroupActive { group, .. } if group == app),
        "{error:?}"
    );
    drop(member);
    wait_for_members(&cluster, app, 0);
}
