//! The read side of the cluster-access interface (metadata, configs, offsets, groups, the
//! add-partitions probe) over rdkafka, against real Apache Kafka brokers started by the test bed;
//! only the source broker is used. Tests that leave the brokers running share one test bed
//! ([`Testbed::shared`]) and use topic and group names of their own (prefixed with the test's
//! subject); tests that stop a broker or need a cluster to themselves start their own.
//!
//! SASL and TLS are covered by `tests/auth_e2e.rs` and by unit tests of the client-settings
//! mapping in `src/cluster/client_config.rs`.

mod support;

use support::{delta, offsets, settings};

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ferry::cluster::{
    ClusterAccess, ClusterError, OffsetRange, OffsetSpec, RangeRead, RdKafkaCluster, Support,
    TopicConfig,
};
use ferry_testbed::{Testbed, seed};
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};

const TIMEOUT: Duration = Duration::from_secs(10);

fn connect(bootstrap: &str) -> RdKafkaCluster {
    RdKafkaCluster::connect("source", &settings(bootstrap), TIMEOUT).expect("connect to Kafka")
}

fn partitions(pairs: &[(&str, &[i32])]) -> BTreeMap<String, Vec<i32>> {
    pairs
        .iter()
        .map(|(t, p)| (t.to_string(), p.to_vec()))
        .collect()
}

/// The entries a topic sets itself (not defaults), with their values.
fn overrides(config: &TopicConfig) -> BTreeMap<&str, Option<&str>> {
    config
        .entries
        .iter()
        .filter(|(_, v)| !v.is_default)
        .map(|(k, v)| (k.as_str(), v.value.as_deref()))
        .collect()
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
    let deadline = Instant::now() + Duration::from_secs(30);
    while consumer.assignment().unwrap().count() == 0 {
        assert!(Instant::now() < deadline, "no assignment within 30s");
        let _ = consumer.poll(Duration::from_millis(100));
    }
    consumer
}

#[test]
fn metadata_shows_created_topics_with_their_partitions() {
    let bed = Testbed::shared();
    let bootstrap = &bed.source.bootstrap;
    seed::create_topic(bootstrap, "metadata.orders", 3, &[]).unwrap();
    seed::create_topic(bootstrap, "metadata.payments", 1, &[]).unwrap();

    let md = connect(bootstrap).metadata().unwrap();
    assert_eq!(
        md.cluster_id.as_deref(),
        Some(bed.source.cluster_id.as_str())
    );
    assert_eq!(md.brokers.len(), 1, "{:?}", md.brokers);
    assert_eq!(md.brokers[0].port, bed.source.port);
    let ids = |t: &str| {
        md.topics[t]
            .partitions
            .iter()
            .map(|p| p.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(ids("metadata.orders"), [0, 1, 2]);
    assert_eq!(ids("metadata.payments"), [0]);
    assert_eq!(md.topics["metadata.orders"].replication_factor(), 1);
}

/// Kafka describes every key of a topic, so the answer is complete; a key the topic sets is not
/// a default (even when set to the default value), every other key is.
#[test]
fn topic_configs_are_complete_and_only_set_keys_are_not_default() {
    let bed = Testbed::shared();
    let bootstrap = &bed.source.bootstrap;
    let set = [
        ("cleanup.policy", "compact"),
        ("retention.ms", "3600000"),
        // Kafka's default value, but set on the topic: an override all the same.
        ("min.insync.replicas", "1"),
    ];
    seed::create_topic(bootstrap, "configs.audit", 2, &set).unwrap();
    seed::create_topic(bootstrap, "configs.plain", 1, &[]).unwrap();

    let cluster = connect(bootstrap);
    let asked = ["configs.audit", "configs.plain", "configs.missing"].map(String::from);
    let configs = cluster.topic_configs(&asked).unwrap();
    // A topic the broker does not know (UNKNOWN_TOPIC_OR_PARTITION) is left out.
    assert_eq!(
        configs.keys().map(String::as_str).collect::<Vec<_>>(),
        ["configs.audit", "configs.plain"]
    );

    let audit = &configs["configs.audit"];
    assert!(audit.complete, "{audit:?}");
    assert_eq!(
        overrides(audit),
        BTreeMap::from([
            ("cleanup.policy", Some("compact")),
            ("min.insync.replicas", Some("1")),
            ("retention.ms", Some("3600000")),
        ]),
        "explicitly set keys are reported as not default, the others as default"
    );
    // The keys not set are there too, with Kafka's defaults.
    assert!(audit.entries.len() > 20, "{} keys", audit.entries.len());
    let segment = &audit.entries["segment.bytes"];
    assert_eq!(
        (segment.value.as_deref(), segment.is_default),
        (Some("1073741824"), true)
    );

    let plain = &configs["configs.plain"];
    assert!(plain.complete, "{plain:?}");
    assert_eq!(overrides(plain), BTreeMap::new());
    assert_eq!(plain.entries.len(), audit.entries.len());
    let policy = &plain.entries["cleanup.policy"];
    assert_eq!(
        (policy.value.as_deref(), policy.is_default),
        (Some("delete"), true)
    );
}

#[test]
fn topic_configs_for_fifty_topics_is_one_request() {
    let bed = Testbed::shared();
    let bootstrap = &bed.source.bootstrap;
    let topics: Vec<String> = (0..50).map(|i| format!("fifty.{i:02}")).collect();
    seed::create_topics_batch(bootstrap, &topics, 1).unwrap();

    let cluster = connect(bootstrap);
    let before = cluster.request_counts();
    let configs = cluster.topic_configs(&topics).unwrap();
    let sent = delta(&before, &cluster.request_counts());
    assert_eq!(configs.len(), 50);
    assert!(configs.values().all(|c| c.complete), "{configs:?}");
    assert_eq!(sent.get("DescribeConfigs"), Some(&1), "{sent:?}");
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Earliest and latest offsets, and offsets by timestamp (records carry their CreateTime). For
/// a timestamp after the last record Kafka answers -1, and ferry gives the end offset instead
/// (where the first such record will be written).
#[test]
fn offsets_earliest_latest_and_by_timestamp() {
    let bed = Testbed::shared();
    let bootstrap = &bed.source.bootstrap;
    let topic = "offsets.events";
    seed::create_topic(bootstrap, topic, 3, &[]).unwrap();
    let before_first = now_ms();
    seed::produce(bootstrap, topic, 0, 7, 50).unwrap();
    seed::produce(bootstrap, topic, 1, 3, 50).unwrap();
    // Every record so far has a timestamp at or before `after_first`; wait for the clock to
    // pass it, so that the second batch's timestamps are all later than the first's.
    let after_first = now_ms();
    let deadline = Instant::now() + Duration::from_secs(1);
    while now_ms() <= after_first {
        assert!(Instant::now() < deadline, "the clock does not advance");
        std::hint::spin_loop();
    }
    let before_second = now_ms();
    seed::produce(bootstrap, topic, 0, 2, 50).unwrap();

    let cluster = connect(bootstrap);
    let all = partitions(&[(topic, &[0, 1, 2])]);
    let earliest = cluster.offsets(&all, OffsetSpec::Earliest).unwrap();
    let latest = cluster.offsets(&all, OffsetSpec::Latest).unwrap();
    assert_eq!(earliest, offsets(&[(topic, &[(0, 0), (1, 0), (2, 0)])]));
    assert_eq!(latest, offsets(&[(topic, &[(0, 9), (1, 3), (2, 0)])]));

    let from_start = cluster
        .offsets(&all, OffsetSpec::Timestamp(before_first - 60_000))
        .unwrap();
    assert_eq!(from_start, offsets(&[(topic, &[(0, 0), (1, 0), (2, 0)])]));
    let second_batch = cluster
        .offsets(
            &partitions(&[(topic, &[0, 1])]),
            OffsetSpec::Timestamp(before_second),
        )
        .unwrap();
    // Partition 1 has no record that late: its end offset.
    assert_eq!(second_batch, offsets(&[(topic, &[(0, 7), (1, 3)])]));
    let future = cluster
        .offsets(&all, OffsetSpec::Timestamp(now_ms() + 3_600_000))
        .unwrap();
    assert_eq!(
        future, latest,
        "a timestamp after every record gives the end offsets"
    );

    let empty = cluster
        .offsets(&BTreeMap::new(), OffsetSpec::Latest)
        .unwrap();
    assert!(empty.is_empty());
}

/// Counting the bytes of offset ranges by reading them: a range read to its end is counted to
/// the byte (keys and values; aborted records and transaction markers included, the end of the
/// log found), a range past the budget stops early with what it read, and an empty range reads
/// nothing.
#[test]
fn read_bytes_counts_ranges_to_their_end_or_the_budget() {
    let bed = Testbed::shared();
    let bootstrap = &bed.source.bootstrap;
    let topic = "bytes.events";
    seed::create_topic(bootstrap, topic, 2, &[]).unwrap();
    seed::produce(bootstrap, topic, 0, 200, 1000).unwrap();
    // Another topic's partition 0, read in the same call: librdkafka names the end of a
    // partition by its number alone.
    let other = "bytes.other";
    seed::create_topic(bootstrap, other, 1, &[]).unwrap();
    seed::produce(bootstrap, other, 0, 30, 200).unwrap();
    let written = seed::produce_transactions(
        bootstrap,
        "bytes-tx",
        topic,
        1,
        &[
            seed::Transaction {
                records: 4,
                commit: true,
            },
            seed::Transaction {
                records: 3,
                commit: false,
            },
        ],
        100,
    )
    .unwrap();
    let cluster = connect(bootstrap);
    let end_1 = cluster
        .offsets(&partitions(&[(topic, &[1])]), OffsetSpec::Latest)
        .unwrap()[topic][&1];
    let range = |partition, from, to| OffsetRange {
        topic: topic.into(),
        partition,
        from,
        to,
    };
    // Record n of partition 0: key "k-n", 1000-byte value.
    let p0_bytes = |from: usize, to: usize| -> u64 {
        (from..to)
            .map(|n| (format!("k-{n}").len() + 1000) as u64)
            .sum()
    };
    let tx_bytes: u64 = written
        .iter()
        .map(|r| (r.key.len() + r.value.len()) as u64)
        .sum();

    let read = cluster.read_bytes(
        &[
            range(0, 10, 50),
            range(1, 0, end_1),
            OffsetRange {
                topic: other.into(),
                partition: 0,
                from: 0,
                to: 30,
            },
            OffsetRange {
                topic: "bytes.nothing".into(),
                partition: 0,
                from: 5,
                to: 5,
            },
        ],
        1 << 20,
    );
    assert_eq!(
        read.get(&(topic.to_string(), 0)),
        Some(&RangeRead {
            read_to: 50,
            bytes: p0_bytes(10, 50)
        }),
        "{read:?}"
    );
    assert_eq!(
        read.get(&(topic.to_string(), 1)),
        Some(&RangeRead {
            read_to: end_1,
            bytes: tx_bytes
        }),
        "the aborted records count, and the end of the log ends the range: {read:?}"
    );
    let other_bytes: u64 = (0..30).map(|n| (format!("k-{n}").len() + 200) as u64).sum();
    assert_eq!(
        read.get(&(other.to_string(), 0)),
        Some(&RangeRead {
            read_to: 30,
            bytes: other_bytes
        }),
        "{read:?}"
    );
    assert_eq!(
        read.get(&("bytes.nothing".to_string(), 0)),
        Some(&RangeRead {
            read_to: 5,
            bytes: 0
        }),
        "an empty range is answered without reading"
    );

    // A budget of 10 records' bytes: it stops soon after, with the bytes of what it read.
    let read = cluster.read_bytes(&[range(0, 0, 200)], 10 * 1003);
    let partial = read[&(topic.to_string(), 0)];
    assert!(
        (10..200).contains(&partial.read_to)
            && partial.bytes == p0_bytes(0, partial.read_to as usize),
        "{partial:?}"
    );
}

/// Committed offsets of two groups (and of a group without any), then the group listing: groups
/// with only committed offsets are Empty with no members; a group with a live consumer is
/// described (DescribeGroups) for its member count.
#[test]
fn group_offsets_and_list_groups_for_two_groups() {
    let bed = Testbed::shared();
    let bootstrap = &bed.source.bootstrap;
    let (orders, payments) = ("listing.orders", "listing.payments");
    seed::create_topic(bootstrap, orders, 2, &[]).unwrap();
    seed::create_topic(bootstrap, payments, 1, &[]).unwrap();
    seed::produce(bootstrap, orders, 0, 10, 20).unwrap();
    seed::produce(bootstrap, orders, 1, 10, 20).unwrap();
    seed::produce(bootstrap, payments, 0, 10, 20).unwrap();
    seed::commit_offsets(
        bootstrap,
        "listing.billing",
        &[(orders, 0, 5), (orders, 1, 2), (payments, 0, 9)],
    )
    .unwrap();
    seed::commit_offsets(bootstrap, "listing.shipping", &[(orders, 0, 10)]).unwrap();
    let member = live_member(bootstrap, "listing.live", payments);

    let cluster = connect(bootstrap);
    let groups = [
        "listing.billing",
        "listing.shipping",
        "listing.never-committed",
    ]
    .map(String::from);
    let found = cluster.group_offsets(&groups).unwrap();
    assert_eq!(
        found["listing.billing"],
        offsets(&[(orders, &[(0, 5), (1, 2)]), (payments, &[(0, 9)])])
    );
    assert_eq!(found["listing.shipping"], offsets(&[(orders, &[(0, 10)])]));
    assert!(found["listing.never-committed"].is_empty(), "{found:?}");

    let listed = cluster.list_groups().unwrap();
    let listing = |name: &str| {
        let group = listed.iter().find(|g| g.name == name);
        group
            .unwrap_or_else(|| panic!("{name} not in {listed:?}"))
            .clone()
    };
    for name in ["listing.billing", "listing.shipping"] {
        let group = listing(name);
        assert_eq!(
            (group.state.as_str(), group.members),
            ("Empty", 0),
            "{group:?}"
        );
    }
    let live = listing("listing.live");
    assert_eq!(
        (live.state.as_str(), live.members),
        ("Stable", 1),
        "{live:?}"
    );
    assert!(
        listed.iter().all(|g| g.name != "listing.never-committed"),
        "{listed:?}"
    );
    drop(member);
}

/// Kafka supports CreatePartitions; the probe asks with validate-only, so nothing changes, and a
/// total the topic already has is refused (the broker validated the request), not reported as
/// unsupported.
#[test]
fn can_add_partitions_is_supported_and_changes_nothing() {
    let bed = Testbed::shared();
    let bootstrap = &bed.source.bootstrap;
    let topic = "probe.orders";
    seed::create_topic(bootstrap, topic, 2, &[]).unwrap();

    let cluster = connect(bootstrap);
    assert_eq!(
        cluster.can_add_partitions(topic, 4).unwrap(),
        Support::Supported
    );
    // Validate-only: nothing changed.
    assert_eq!(
        cluster.metadata().unwrap().topics[topic].partitions.len(),
        2
    );

    match cluster.can_add_partitions(topic, 2).unwrap_err() {
        ClusterError::Kafka {
            operation, detail, ..
        } => {
            assert_eq!(operation, "CreatePartitions");
            assert!(detail.contains("topic probe.orders"), "{detail}");
        }
        other => panic!("expected a Kafka error, got {other:?}"),
    }
}

/// A closed port: librdkafka keeps retrying, ferry gives up at the deadline.
#[test]
fn connect_to_a_closed_port_fails_unreachable_within_the_deadline() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let bootstrap = format!("127.0.0.1:{port}");
    let deadline = Duration::from_secs(2);
    let started = Instant::now();
    let result = RdKafkaCluster::connect("target", &settings(&bootstrap), deadline);
    let took = started.elapsed();
    match result {
        Err(ClusterError::Unreachable {
            role,
            servers,
            detail,
        }) => {
            assert_eq!(role, "target");
            assert_eq!(servers, bootstrap);
            assert!(!detail.is_empty());
            let message = ClusterError::Unreachable {
                role,
                servers,
                detail,
            }
            .to_string();
            assert!(message.contains(&bootstrap), "{message}");
            eprintln!("{message}");
        }
        Err(other) => panic!("expected Unreachable, got {other:?}"),
        Ok(_) => panic!("connected to a closed port"),
    }
    assert!(took < deadline + Duration::from_secs(1), "took {took:?}");
}

/// A broker that goes away after connecting: calls fail with Unreachable, none hangs.
#[test]
fn calls_fail_unreachable_when_the_broker_stops() {
    let mut bed = Testbed::start().unwrap();
    let bootstrap = bed.source.bootstrap.clone();
    seed::create_topic(&bootstrap, "orders", 1, &[]).unwrap();
    let cluster =
        RdKafkaCluster::connect("source", &settings(&bootstrap), Duration::from_secs(3)).unwrap();
    cluster.metadata().unwrap();
    bed.source.stop();

    let started = Instant::now();
    let error = cluster.metadata().unwrap_err();
    assert!(
        matches!(error, ClusterError::Unreachable { .. }),
        "{error:?}"
    );
    let error = cluster
        .offsets(&partitions(&[("orders", &[0])]), OffsetSpec::Latest)
        .unwrap_err();
    assert!(
        matches!(error, ClusterError::Unreachable { .. }),
        "{error:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(9),
        "took {:?}",
        started.elapsed()
    );
}

/// The calls a snapshot makes, on a bench data set of `topics` topics with `partitions`
/// partitions and `group_count` groups; returns the requests they sent, by type.
fn snapshot_requests(
    topics: usize,
    partitions: i32,
    group_count: usize,
    timeout: Duration,
) -> BTreeMap<String, u64> {
    let bed = Testbed::start().unwrap();
    let bootstrap = &bed.source.bootstrap;
    seed::bench(bootstrap, topics, partitions, group_count).unwrap();
    let cluster = RdKafkaCluster::connect("source", &settings(bootstrap), timeout).unwrap();
    let before = cluster.request_counts();
    let started = Instant::now();
    let md = cluster.metadata().unwrap();
    let names: Vec<String> = md
        .topics
        .keys()
        .filter(|t| !t.starts_with("__"))
        .cloned()
        .collect();
    let parts: BTreeMap<String, Vec<i32>> = names
        .iter()
        .map(|t| {
            (
                t.clone(),
                md.topics[t].partitions.iter().map(|p| p.id).collect(),
            )
        })
        .collect();
    cluster.topic_configs(&names).unwrap();
    let t = Instant::now();
    let earliest = cluster.offsets(&parts, OffsetSpec::Earliest).unwrap();
    eprintln!("earliest {:?}", t.elapsed());
    let t = Instant::now();
    let latest = cluster.offsets(&parts, OffsetSpec::Latest).unwrap();
    eprintln!("latest {:?}", t.elapsed());
    let groups: Vec<String> = cluster
        .list_groups()
        .unwrap()
        .into_iter()
        .map(|g| g.name)
        .collect();
    let committed = cluster.group_offsets(&groups).unwrap();
    let took = started.elapsed();
    let sent = delta(&before, &cluster.request_counts());
    let total = topics * partitions as usize;
    assert_eq!(earliest.values().map(BTreeMap::len).sum::<usize>(), total);
    assert_eq!(
        latest.values().flat_map(|p| p.values()).sum::<i64>(),
        total as i64
    );
    // What the seed committed: group g, topics 3g..3g+2, offset 0 on partition 0, 1 on the rest.
    let expected: BTreeMap<String, BTreeMap<String, BTreeMap<i32, i64>>> = (0..group_count)
        .map(|g| {
            let topics = (0..3.min(topics))
                .map(|i| {
                    let partitions = (0..partitions).map(|p| (p, i64::from(p != 0))).collect();
                    (seed::bench_topic((3 * g + i) % topics), partitions)
                })
                .collect();
            (seed::bench_group(g), topics)
        })
        .collect();
    assert_eq!(committed, expected);
    eprintln!(
        "{topics} topics x {partitions} partitions, {group_count} groups: {took:?}, {sent:?}"
    );
    sent
}

/// What a snapshot sends, for a small and a ten times larger cluster (topics and groups): the
/// same data requests, the committed offsets of every group read back exactly. Groups go in one
/// batched FindCoordinator and one OffsetFetch per coordinator (one broker here). Connection
/// set-up (ApiVersion, Metadata) varies a little from run to run (it depends on when librdkafka
/// opens and closes its bootstrap connections), but stays small. Each size needs a cluster of
/// its own: the snapshot covers every topic and group there is.
#[test]
fn snapshot_requests_do_not_grow_with_topics_or_groups() {
    let small = snapshot_requests(20, 4, 3, TIMEOUT);
    let large = snapshot_requests(200, 4, 30, TIMEOUT);
    let data = |sent: &BTreeMap<String, u64>| {
        let kinds = [
            "DescribeConfigs",
            "ListOffsets",
            "ListGroups",
            "FindCoordinator",
            "OffsetFetch",
        ];
        kinds.map(|k| sent.get(k).copied().unwrap_or(0))
    };
    assert_eq!(data(&small), data(&large), "{small:?} vs {large:?}");
    assert_eq!(data(&large), [1, 2, 1, 1, 1], "{large:?}");
    assert!(
        large.values().all(|n| *n <= 10),
        "800 partitions: {large:?}"
    );
}

/// The scale the plan must handle: 12,000 partitions (seeding takes a while; run with
/// `--ignored --nocapture` to see time and requests).
#[test]
#[ignore]
fn snapshot_of_twelve_thousand_partitions() {
    let sent = snapshot_requests(1000, 12, 200, Duration::from_secs(120));
    assert_eq!(sent.get("DescribeConfigs"), Some(&1), "{sent:?}");
    assert_eq!(sent.get("ListOffsets"), Some(&2), "{sent:?}");
}
