//! Table-driven tests of the pure diff: one source topic, maybe one target topic, a declaration.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::cluster::{BrokerInfo, ConfigValue, Support, TopicConfig};
use crate::config::*;
use crate::platform::Platform;
use crate::snapshot::{ClusterSnapshot, PartitionSnapshot, Snapshot, TopicSnapshot};

use super::*;

pub(super) fn desired(
    scheme: Scheme,
    block: Option<TopicBlock>,
    defaults: TopicDefaults,
) -> Desired {
    let cluster = ClusterSettings::plaintext("x:9092");
    Desired {
        migration: Migration {
            name: "m".into(),
            scheme,
            settle_period: Duration::from_secs(1),
            wait_timeout: Duration::from_secs(10),
            location: Location::default(),
        },
        source: cluster.clone(),
        target: cluster,
        topics: defaults,
        topic_blocks: block.into_iter().collect(),
        groups: GroupSelection::default(),
        hooks: BTreeMap::from([(
            "switch_producers".to_string(),
            Hook {
                name: "switch_producers".into(),
                command: vec!["true".into()],
                env: BTreeMap::new(),
                secrets: Vec::new(),
                timeout: Duration::from_secs(1),
                location: Location::default(),
            },
        )]),
        replication: Replication::default(),
        state: StateSettings {
            path: "ferry.state.json".into(),
        },
        fingerprint: String::new(),
        secrets: Vec::new(),
    }
}

pub(super) fn block(
    partitions: Option<i32>,
    rf: Option<i32>,
    config: &[(&str, &str)],
) -> TopicBlock {
    TopicBlock {
        name: "t".into(),
        target_name: None,
        partitions,
        replication_factor: rf,
        config: config
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        accept_adjustments: None,
        location: Location::default(),
    }
}

pub(super) fn topic(
    partitions: i32,
    rf: i32,
    records: i64,
    config: &[(&str, &str)],
) -> TopicSnapshot {
    TopicSnapshot {
        replication_factor: rf,
        partitions: (0..partitions)
            .map(|id| PartitionSnapshot {
                id,
                start_offset: 0,
                end_offset: records,
                timestamp_offset: None,
                kept_from: None,
            })
            .collect(),
        config: TopicConfig {
            entries: config
                .iter()
                .map(|(k, v)| {
                    (
                        k.to_string(),
                        ConfigValue {
                            value: Some(v.to_string()),
                            is_default: false,
                            sensitive: false,
                        },
                    )
                })
                .collect(),
            complete: false,
        },
        retention_probe: None,
        size_probe: None,
    }
}

pub(super) fn cluster(topic: Option<TopicSnapshot>, brokers: i32) -> ClusterSnapshot {
    ClusterSnapshot {
        cluster_id: None,
        brokers: (0..brokers)
            .map(|id| BrokerInfo {
                id,
                host: "h".into(),
                port: 9092,
            })
            .collect(),
        topic_names: topic.iter().map(|_| "t".to_string()).collect(),
        topics: topic.into_iter().map(|t| ("t".to_string(), t)).collect(),
        groups: BTreeMap::new(),
        new_topic_defaults: None,
    }
}

struct Case {
    name: &'static str,
    scheme: Scheme,
    block: Option<TopicBlock>,
    defaults: TopicDefaults,
    source: Option<TopicSnapshot>,
    target: Option<TopicSnapshot>,
    brokers: i32,
    partition_support: Option<Support>,
}

fn case(name: &'static str, source: Option<TopicSnapshot>, target: Option<TopicSnapshot>) -> Case {
    Case {
        name,
        scheme: Scheme::DualConsume,
        block: None,
        defaults: TopicDefaults::default(),
        source,
        target,
        brokers: 3,
        partition_support: None,
    }
}

fn run(c: Case) -> TopicChange {
    let d = desired(c.scheme, c.block, c.defaults);
    let snap = Snapshot {
        source: cluster(c.source, 3),
        target: cluster(c.target, c.brokers),
        target_partition_support: c.partition_support,
        target_transactions: None,
    };
    let mut changes = diff_topics(&d, &snap, Platform::Kafka);
    assert_eq!(changes.len(), 1, "{}", c.name);
    changes.remove(0)
}

fn keys(t: &TopicChange) -> Vec<(String, Option<String>, String)> {
    t.config
        .iter()
        .map(|c| (c.key.clone(), c.before.clone(), c.after.clone()))
        .collect()
}

#[test]
fn actions_follow_from_source_target_and_declaration() {
    use Action::*;
    let cases: Vec<(Case, Action, &str)> = vec![
        (
            case("new topic", Some(topic(6, 3, 10, &[])), None),
            Create,
            "",
        ),
        (
            case(
                "same on both",
                Some(topic(6, 3, 10, &[])),
                Some(topic(6, 3, 0, &[])),
            ),
            NoOp,
            "",
        ),
        (
            case(
                "config differs",
                Some(topic(6, 3, 10, &[("retention.ms", "1000")])),
                Some(topic(6, 3, 0, &[])),
            ),
            Update,
            "",
        ),
        (
            Case {
                block: Some(block(Some(4), None, &[])),
                ..case(
                    "declared shrink",
                    Some(topic(6, 3, 0, &[])),
                    Some(topic(8, 3, 0, &[])),
                )
            },
            Blocked,
            "partitions cannot shrink",
        ),
        (
            Case {
                block: Some(block(Some(12), None, &[])),
                partition_support: Some(Support::Unsupported {
                    reason: "UNSUPPORTED_FEATURE".into(),
                }),
                ..case(
                    "growth unsupported",
                    Some(topic(6, 3, 0, &[])),
                    Some(topic(6, 3, 0, &[])),
                )
            },
            Blocked,
            "cannot add partitions",
        ),
        (
            Case {
                block: Some(block(Some(12), None, &[])),
                partition_support: Some(Support::Supported),
                ..case(
                    "growth supported",
                    Some(topic(6, 3, 0, &[])),
                    Some(topic(6, 3, 0, &[])),
                )
            },
            Update,
            "",
        ),
        (
            Case {
                block: Some(block(None, Some(2), &[])),
                ..case(
                    "declared rf differs",
                    Some(topic(6, 3, 0, &[])),
                    Some(topic(6, 3, 0, &[])),
                )
            },
            Blocked,
            "does not reassign replicas",
        ),
        (
            Case {
                brokers: 1,
                ..case("rf above broker count", Some(topic(6, 3, 0, &[])), None)
            },
            Blocked,
            "exceeds the target's 1 broker",
        ),
        (
            Case {
                scheme: Scheme::Mirror,
                ..case(
                    "mirror into non-empty",
                    Some(topic(6, 3, 10, &[])),
                    Some(topic(6, 3, 5, &[])),
                )
            },
            Blocked,
            "already holds 30 records",
        ),
        (
            case(
                "dual into non-empty",
                Some(topic(6, 3, 10, &[])),
                Some(topic(6, 3, 5, &[])),
            ),
            NoOp,
            "",
        ),
        (
            case(
                "policy change on data",
                Some(topic(6, 3, 10, &[("cleanup.policy", "compact")])),
                Some(topic(6, 3, 5, &[("cleanup.policy", "delete")])),
            ),
            Blocked,
            "cleanup.policy would change from delete to compact",
        ),
        (
            Case {
                block: Some(block(None, None, &[])),
                ..case("declared but not on source", None, None)
            },
            Blocked,
            "not found on the source",
        ),
        (
            Case {
                block: Some(block(Some(3), Some(1), &[])),
                ..case("declared and not on source, with partitions", None, None)
            },
            Create,
            "",
        ),
    ];
    for (c, want, reason) in cases {
        let name = c.name;
        let got = run(c);
        assert_eq!(got.action, want, "{name}: {got:?}");
        assert!(
            got.blocked.join("; ").contains(reason),
            "{name}: {:?}",
            got.blocked
        );
    }
}

#[test]
fn desired_values_come_from_declaration_then_defaults_then_source() {
    let defaults = TopicDefaults {
        replication_factor: Some(2),
        config: BTreeMap::from([("retention.ms".to_string(), "604800000".to_string())]),
        ..Default::default()
    };
    let c = Case {
        block: Some(block(Some(24), None, &[("cleanup.policy", "compact")])),
        defaults,
        ..case(
            "create",
            Some(topic(
                12,
                3,
                0,
                &[("retention.ms", "86400000"), ("segment.bytes", "1000000")],
            )),
            None,
        )
    };
    let got = run(c);
    assert_eq!(
        got.partitions,
        Some(Valued {
            value: 24,
            origin: Origin::Declared
        })
    );
    assert_eq!(
        got.replication_factor,
        Some(Valued {
            value: 2,
            origin: Origin::Declared
        })
    );
    // retention.ms declared 604800000 equals the Kafka default, so nothing to set for it.
    assert_eq!(
        keys(&got),
        vec![
            (
                "cleanup.policy".into(),
                Some("delete".into()),
                "compact".into()
            ),
            (
                "segment.bytes".into(),
                Some("1073741824".into()),
                "1000000".into()
            ),
        ]
    );
    assert_eq!(got.config[1].origin, Origin::Source);
}

#[test]
fn existing_target_is_compared_with_its_effective_values() {
    // The target reports only what is set: retention.ms=1000 there, default elsewhere.
    let got = run(case(
        "update",
        Some(topic(6, 3, 0, &[])),
        Some(topic(6, 3, 0, &[("retention.ms", "1000")])),
    ));
    assert_eq!(got.action, Action::Update);
    assert_eq!(
        keys(&got),
        vec![(
            "retention.ms".into(),
            Some("1000".into()),
            "604800000".into()
        )]
    );
}

#[test]
fn a_complete_source_response_is_read_by_value_and_its_defaults_are_not_overrides() {
    let mut source = topic(6, 3, 0, &[]);
    source.config = TopicConfig {
        complete: true,
        entries: BTreeMap::from([
            (
                "retention.ms".to_string(),
                ConfigValue {
                    value: Some("604800000".into()),
                    is_default: true,
                    sensitive: false,
                },
            ),
            (
                "message.format.version".to_string(),
                ConfigValue {
                    value: Some("3.0".into()),
                    is_default: true,
                    sensitive: false,
                },
            ),
            (
                "max.message.bytes".to_string(),
                ConfigValue {
                    value: Some("2000000".into()),
                    is_default: false,
                    sensitive: false,
                },
            ),
        ]),
    };
    let got = run(case("complete", Some(source), None));
    assert_eq!(
        keys(&got),
        vec![(
            "max.message.bytes".into(),
            Some("1048588".into()),
            "2000000".into()
        )]
    );
    assert!(
        got.not_carried.is_empty(),
        "a broker default is not an override: {:?}",
        got.not_carried
    );
}

#[test]
fn broker_specific_and_unknown_source_keys_are_listed_not_dropped() {
    let got = run(case(
        "not carried",
        Some(topic(
            1,
            3,
            0,
            &[
                ("message.format.version", "2.8"),
                ("confluent.tier.enable", "true"),
                ("retention.ms", "1"),
            ],
        )),
        None,
    ));
    let listed: Vec<(&str, &str)> = got
        .not_carried
        .iter()
        .map(|n| (n.key.as_str(), n.reason.as_str()))
        .collect();
    assert_eq!(
        listed,
        vec![
            (
                "confluent.tier.enable",
                "not a topic config the target accepts"
            ),
            ("message.format.version", "broker-specific")
        ]
    );
}

#[test]
fn undeclared_partition_and_replica_differences_on_an_existing_topic_are_notes() {
    let got = run(case(
        "notes",
        Some(topic(6, 3, 0, &[])),
        Some(topic(8, 2, 0, &[])),
    ));
    assert_eq!(got.action, Action::NoOp);
    assert_eq!(got.notes.len(), 2, "{:?}", got.notes);
}

#[test]
fn a_renamed_topic_is_looked_up_under_its_target_name() {
    let mut b = block(None, None, &[]);
    b.target_name = Some("t2".into());
    let d = desired(Scheme::DualConsume, Some(b), TopicDefaults::default());
    let mut target = cluster(Some(topic(6, 3, 0, &[])), 3);
    target.topic_names = ["t2".to_string()].into();
    target.topics = BTreeMap::from([("t2".to_string(), topic(6, 3, 0, &[]))]);
    let snap = Snapshot {
        source: cluster(Some(topic(6, 3, 0, &[])), 3),
        target,
        target_partition_support: None,
        target_transactions: None,
    };
    let got = &diff_topics(&d, &snap, Platform::Kafka)[0];
    assert_eq!((got.target_name.as_str(), got.action), ("t2", Action::NoOp));
}

/// A CKafka target: the same case, diffed under CKafka's rules, accepted or not.
fn run_ckafka(c: Case, accept: bool) -> TopicChange {
    let mut d = desired(c.scheme, c.block, c.defaults);
    let mut ckafka = CkafkaSettings::new("ckafka-abc123", "ap-guangzhou");
    ckafka.accept_adjustments = accept;
    d.target.ckafka = Some(ckafka);
    let snap = Snapshot {
        source: cluster(c.source, 3),
        target: cluster(c.target, c.brokers),
        target_partition_support: c.partition_support,
        target_transactions: None,
    };
    diff_topics(&d, &snap, d.target_platform()).remove(0)
}

#[test]
fn ckafka_rules_turn_every_forced_change_into_a_labelled_adjustment() {
    let source = topic(
        6,
        1,
        10,
        &[
            ("retention.ms", "1000"),
            ("compression.type", "gzip"),
            ("message.format.version", "2.8"),
        ],
    );
    let t = run_ckafka(case("breaks the rules", Some(source.clone()), None), false);
    assert_eq!(t.action, Action::Blocked);
    let adjusted: Vec<(&str, Option<&str>, Option<&str>, bool)> = t
        .adjustments
        .iter()
        .map(|a| {
            (
                a.key.as_str(),
                a.from.as_deref(),
                a.to.as_deref(),
                a.accepted,
            )
        })
        .collect();
    assert_eq!(
        adjusted,
        [
            ("config.compression.type", Some("gzip"), None, false),
            ("config.retention.ms", Some("1000"), Some("60000"), false),
        ]
    );
    assert!(t.blocked[0].contains("accept_adjustments = true"));
    // Broker-specific keys stay "not carried", never an adjustment.
    assert_eq!(t.not_carried.len(), 1);
    assert_eq!(t.not_carried[0].key, "message.format.version");

    let t = run_ckafka(case("accepted", Some(source), None), true);
    assert_eq!(t.action, Action::Create);
    let retention = t.config.iter().find(|c| c.key == "retention.ms").unwrap();
    assert_eq!(retention.after, "60000");
    assert!(t.adjustments.iter().all(|a| a.accepted));
}

/// Issue 15: what keeps less (forever to 90 days, five replicas to three) is no adjustment
/// `accept_adjustments` approves; only the value written in the topic's block clears it.
#[test]
fn keeping_less_blocks_even_when_adjustments_are_accepted() {
    let source = topic(6, 5, 10, &[("retention.ms", "-1")]);
    let t = run_ckafka(case("forever", Some(source.clone()), None), true);
    assert_eq!(t.action, Action::Blocked);
    assert!(t.adjustments.is_empty(), "{:?}", t.adjustments);
    let blocked = t.blocked.join("\n");
    for part in [
        r#"topic "t" { replication_factor = 3 }"#,
        r#"topic "t" { config = { "retention.ms" = "7776000000" } }"#,
    ] {
        assert!(blocked.contains(part), "{part:?} missing from {blocked}");
    }

    let c = Case {
        block: Some(block(None, Some(3), &[("retention.ms", "7776000000")])),
        ..case("written", Some(source), None)
    };
    let t = run_ckafka(c, false);
    assert_eq!(t.action, Action::Create, "{:?}", t.blocked);
    let retention = t.config.iter().find(|c| c.key == "retention.ms").unwrap();
    assert_eq!(retention.after, "7776000000");
}

#[test]
fn a_topic_block_overrides_the_global_acceptance() {
    let mut b = block(None, None, &[]);
    b.accept_adjustments = Some(false);
    let c = Case {
        block: Some(b),
        ..case(
            "topic says no",
            Some(topic(1, 1, 0, &[("retention.ms", "1000")])),
            None,
        )
    };
    let t = run_ckafka(c, true);
    assert_eq!(t.action, Action::Blocked);
    assert_eq!(t.adjustments[0].key, "config.retention.ms");
}

#[test]
fn ckafka_defaults_make_kafkas_default_retention_carry() {
    // Kafka's 7 days is CKafka's 2 hours unless ferry sets it: the effective value carries.
    let t = run_ckafka(case("default", Some(topic(1, 1, 0, &[])), None), false);
    assert_eq!(t.action, Action::Create);
    assert!(t.adjustments.is_empty());
    let retention = t.config.iter().find(|c| c.key == "retention.ms").unwrap();
    assert_eq!(
        (retention.before.as_deref(), retention.after.as_str()),
        (Some("7200000"), "604800000")
    );
}

#[test]
fn names_and_partition_counts_ckafka_refuses_block_without_adjustment() {
    let c = Case {
        block: Some(block(Some(4000), None, &[])),
        ..case("too many", Some(topic(1, 1, 0, &[])), None)
    };
    let t = run_ckafka(c, true);
    assert_eq!(t.action, Action::Blocked);
    assert!(
        t.blocked.iter().any(|b| b.contains("at most 3000")),
        "{t:?}"
    );
}

/// A mirror copy into a topic that stamps LogAppendTime keeps no source timestamps: the plan
/// says so where the target will stamp (the type carried from the source).
#[test]
fn a_mirror_into_a_log_append_time_topic_notes_that_timestamps_are_not_kept() {
    let log_append = [("message.timestamp.type", "LogAppendTime")];
    let noted = |c: Case| {
        run(c)
            .notes
            .iter()
            .any(|n| n == super::topic_diff::LOG_APPEND_TIME_NOTE)
    };
    let mirror = |name, source, target| Case {
        scheme: Scheme::Mirror,
        ..case(name, source, target)
    };
    assert!(noted(mirror(
        "carried",
        Some(topic(3, 1, 5, &log_append)),
        None
    )));
    // A CreateTime source carries its type: the plan sets it back, and timestamps are kept.
    let reset = run(mirror(
        "on the target",
        Some(topic(3, 1, 5, &[])),
        Some(topic(3, 1, 0, &log_append)),
    ));
    assert!(
        keys(&reset)
            .iter()
            .any(|(k, _, after)| k == "message.timestamp.type" && after == "CreateTime"),
        "{reset:?}"
    );
    assert!(
        !reset
            .notes
            .iter()
            .any(|n| n == super::topic_diff::LOG_APPEND_TIME_NOTE)
    );
    assert!(!noted(mirror(
        "create time",
        Some(topic(3, 1, 5, &[])),
        None
    )));
    // Other schemes copy nothing: producers write the target themselves.
    assert!(!noted(case(
        "dual",
        Some(topic(3, 1, 5, &log_append)),
        None
    )));
}

#[test]
fn a_mirror_target_needs_every_source_partition_and_more_is_a_note() {
    struct Row {
        name: &'static str,
        declared: Option<i32>,
        target: Option<i32>,
        blocked: bool,
        note: bool,
    }
    let rows = [
        Row {
            name: "declared below the source, new topic",
            declared: Some(2),
            target: None,
            blocked: true,
            note: false,
        },
        Row {
            name: "as the source",
            declared: None,
            target: None,
            blocked: false,
            note: false,
        },
        Row {
            name: "declared above the source",
            declared: Some(6),
            target: None,
            blocked: false,
            note: true,
        },
        Row {
            name: "existing target with more",
            declared: None,
            target: Some(5),
            blocked: false,
            note: true,
        },
        Row {
            name: "existing target with fewer grows to the source's",
            declared: None,
            target: Some(2),
            blocked: false,
            note: false,
        },
    ];
    for row in rows {
        let mut c = case(
            row.name,
            Some(topic(3, 1, 10, &[])),
            row.target.map(|p| topic(p, 1, 0, &[])),
        );
        c.scheme = Scheme::Mirror;
        c.block = row.declared.map(|p| block(Some(p), None, &[]));
        let got = run(c);
        let blocked = got
            .blocked
            .iter()
            .any(|b| b.contains("writes each source partition to the same partition"));
        let note = got.notes.iter().any(|n| n.contains("hash over"));
        assert_eq!(
            (blocked, note),
            (row.blocked, row.note),
            "{}: {got:?}",
            row.name
        );
    }
}

#[test]
fn a_mirror_target_takes_the_sources_largest_record_plus_ferrys_header() {
    const KEY: &str = "max.message.bytes";
    // (name, source override, target topic's value (None: created), declared, planned value,
    // blocked)
    type Row = (
        &'static str,
        Option<&'static str>,
        Option<&'static str>,
        Option<&'static str>,
        Option<&'static str>,
        bool,
    );
    let rows: &[Row] = &[
        (
            "defaults on both sides",
            None,
            None,
            None,
            Some("1048652"),
            false,
        ),
        (
            "a larger source limit",
            Some("2097152"),
            None,
            None,
            Some("2097216"),
            false,
        ),
        (
            "an existing target at the default",
            None,
            Some("1048588"),
            None,
            Some("1048652"),
            false,
        ),
        (
            "an existing target with room gets the source's, plus the header",
            None,
            Some("5000000"),
            None,
            Some("1048652"),
            false,
        ),
        (
            "an existing target already right",
            None,
            Some("1048652"),
            None,
            None,
            false,
        ),
        (
            "declared with room",
            None,
            None,
            Some("2000000"),
            Some("2000000"),
            false,
        ),
        (
            "declared at the source's limit",
            Some("2097152"),
            None,
            Some("2097152"),
            Some("2097152"),
            true,
        ),
    ];
    for &(name, source, target, declared, planned, blocked) in rows {
        let with = |v: Option<&'static str>| v.map(|v| vec![(KEY, v)]).unwrap_or_default();
        let mut c = case(
            name,
            Some(topic(3, 1, 10, &with(source))),
            target.map(|v| topic(3, 1, 0, &[(KEY, v)])),
        );
        c.scheme = Scheme::Mirror;
        c.block = declared.map(|v| block(None, None, &[(KEY, v)]));
        let got = run(c);
        let after = got
            .config
            .iter()
            .find(|c| c.key == KEY)
            .map(|c| c.after.as_str());
        let is_blocked = got.blocked.iter().any(|b| b.contains("max.message.bytes"));
        assert_eq!((after, is_blocked), (planned, blocked), "{name}: {got:?}");
    }
    // Other schemes copy nothing: producers write the target themselves.
    let dual = run(case("dual", Some(topic(3, 1, 10, &[])), None));
    assert!(dual.config.iter().all(|c| c.key != KEY), "{dual:?}");
}
