//! The target's retention against the source's: which topics the plan measures, and what the
//! diff makes of the measurement.

use std::collections::BTreeMap;

use crate::config::{CkafkaSettings, Scheme, TopicDefaults};
use crate::domain::{BrokerConfig, ByteCount, NewTopicDefaults};
use crate::platform::Platform;
use crate::snapshot::{RetentionProbe, Snapshot, TopicSnapshot};

use super::tests::{block, cluster, desired, topic};
use super::{Action, diff_topics, retention_limits};

/// Topic configs as `(key, value)` pairs.
type Configs<'a> = &'a [(&'a str, &'a str)];

const DAY: i64 = 86_400_000;
const CKAFKA_MAX: i64 = 90 * DAY;

fn snapshot(source: TopicSnapshot) -> Snapshot {
    Snapshot {
        source: cluster(Some(source), 3),
        target: cluster(None, 3),
        target_partition_support: None,
        target_transactions: None,
    }
}

#[test]
fn only_a_target_keeping_less_than_the_source_is_measured() {
    let two_days = (2 * DAY).to_string();
    #[rustfmt::skip]
    let cases: [(&str, Configs, Configs, bool, Option<i64>); 6] = [
        ("source forever, declared 2 days", &[("retention.ms", "-1")], &[("retention.ms", &two_days)], false, Some(2 * DAY)),
        ("source 7 days carried", &[("retention.ms", "604800000")], &[], false, None),
        ("declared longer than the source", &[("retention.ms", "86400000")], &[("retention.ms", &two_days)], false, None),
        ("compacted on the target", &[("retention.ms", "-1")], &[("retention.ms", &two_days), ("cleanup.policy", "compact")], false, None),
        ("restamped on the target", &[("retention.ms", "-1")], &[("retention.ms", &two_days), ("message.timestamp.type", "LogAppendTime")], false, None),
        ("CKafka cannot keep forever", &[("retention.ms", "-1")], &[], true, Some(CKAFKA_MAX)),
    ];
    for (name, source, declared, ckafka, want) in cases {
        let mut d = desired(
            Scheme::Mirror,
            Some(block(None, Some(3), declared)),
            TopicDefaults::default(),
        );
        if ckafka {
            d.target.ckafka = Some(CkafkaSettings::new("ckafka-abc123", "ap-guangzhou"));
        }
        let limits =
            retention_limits(&d, &snapshot(topic(2, 3, 10, source)), d.target_platform()).by_time;
        assert_eq!(limits.get("t").copied(), want, "{name}");
    }
}

#[test]
fn a_measured_topic_gets_its_cut_and_a_ckafka_blocker_its_figures() {
    let mut source = topic(2, 3, 10, &[("retention.ms", "-1")]);
    for p in &mut source.partitions {
        p.kept_from = Some(4);
    }

    let counted = |bytes, exact| ByteCount { bytes, exact };
    source.retention_probe = Some(RetentionProbe {
        target_retention_ms: 2 * DAY,
        older_than_ms: 1_000,
        left_behind_bytes: BTreeMap::from([(0, counted(400, true)), (1, counted(500, true))]),
    });
    let d = desired(
        Scheme::Mirror,
        Some(block(
            None,
            Some(3),
            &[("retention.ms", &(2 * DAY).to_string())],
        )),
        TopicDefaults::default(),
    );
    let t = &diff_topics(&d, &snapshot(source.clone()), Platform::Kafka)[0];
    let cut = t.retention_cut.as_ref().expect("a cut");
    assert_eq!(
        (cut.left_behind(), cut.applies, cut.source_retention_ms),
        (8, true, None)
    );
    assert_eq!(cut.first_kept(), "[0] 4, [1] 4");
    assert_eq!(cut.left_behind_text(), "8 records (900 bytes)");

    source.retention_probe = Some(RetentionProbe {
        target_retention_ms: CKAFKA_MAX,
        older_than_ms: 1_000,
        left_behind_bytes: BTreeMap::from([
            (0, counted(400, true)),
            (1, counted(2_000_000, false)),
        ]),
    });
    let mut d = desired(
        Scheme::Mirror,
        Some(block(None, Some(3), &[])),
        TopicDefaults::default(),
    );
    d.target.ckafka = Some(CkafkaSettings::new("ckafka-abc123", "ap-guangzhou"));
    let t = &diff_topics(&d, &snapshot(source), d.target_platform())[0];
    assert_eq!(t.action, Action::Blocked);
    assert!(t.retention_cut.is_none(), "a blocked topic is not copied");
    let blocked = t.blocked.join("\n");
    assert!(
        blocked
            .contains("today the source holds 8 records (an estimated 1.9 MiB) older than 90 days"),
        "{blocked}"
    );
}

/// A config change as `(key, before, after)`.
type Set<'a> = (&'a str, Option<&'a str>, &'a str);

/// A created topic gets what the target's brokers give it for keys ferry leaves unset: where
/// that keeps less than the source, ferry sets the source's value instead of leaving it to the
/// broker (and so nothing is cut); where nobody can say, it sets the keys that decide keeping.
#[test]
fn a_created_topic_is_set_wherever_the_target_brokers_default_differs_or_is_unknown() {
    let hours = |h: &str| {
        NewTopicDefaults::from_brokers(&BTreeMap::from([(
            1,
            BrokerConfig::from([("log.retention.hours".to_string(), Some(h.to_string()))]),
        )]))
    };
    #[rustfmt::skip]
    let cases: [(&str, Option<NewTopicDefaults>, Configs, Vec<Set>); 5] = [
        ("not read: Kafka's documented 7 days", None, &[("retention.ms", "604800000")], vec![]),
        ("brokers keep 7 days too", Some(hours("168")), &[("retention.ms", "604800000")], vec![]),
        ("brokers keep 1 day", Some(hours("24")), &[("retention.ms", "604800000")],
            vec![("retention.ms", Some("86400000"), "604800000")]),
        ("brokers keep forever, source 7 days", Some(hours("-1")), &[("retention.ms", "604800000")],
            vec![("retention.ms", Some("-1"), "604800000")]),
        ("brokers unreadable", Some(NewTopicDefaults::unread("denied".into())),
            &[("retention.ms", "604800000"), ("cleanup.policy", "delete"), ("retention.bytes", "-1"),
              ("max.message.bytes", "1048588"), ("message.timestamp.type", "CreateTime"), ("segment.ms", "604800000")],
            vec![("cleanup.policy", None, "delete"), ("max.message.bytes", None, "1048588"),
                 ("message.timestamp.type", None, "CreateTime"), ("retention.bytes", None, "-1"),
                 ("retention.ms", None, "604800000")]),
    ];
    for (name, defaults, source, want) in cases {
        // Not a mirror: its header allowance would raise max.message.bytes in every case.
        let d = desired(Scheme::DualConsume, None, TopicDefaults::default());
        let mut snap = snapshot(topic(2, 3, 10, source));
        snap.target.new_topic_defaults = defaults;
        let t = &diff_topics(&d, &snap, Platform::Kafka)[0];
        assert_eq!(t.action, Action::Create, "{name}");
        let got: Vec<Set> = t
            .config
            .iter()
            .map(|c| (c.key.as_str(), c.before.as_deref(), c.after.as_str()))
            .collect();
        assert_eq!(got, want, "{name}");
        assert_eq!(
            retention_limits(&d, &snap, Platform::Kafka)
                .by_time
                .get("t"),
            None,
            "{name}: the source's retention is carried, nothing is cut"
        );
    }
}

/// A declared retention shorter than the source's is what the user wrote: measured, not reset.
#[test]
fn a_declared_retention_below_the_brokers_default_is_still_measured() {
    let d = desired(
        Scheme::Mirror,
        Some(block(None, Some(3), &[("retention.ms", &DAY.to_string())])),
        TopicDefaults::default(),
    );
    let mut snap = snapshot(topic(2, 3, 10, &[("retention.ms", "-1")]));
    snap.target.new_topic_defaults = Some(NewTopicDefaults::unread("denied".into()));
    assert_eq!(
        retention_limits(&d, &snap, Platform::Kafka)
            .by_time
            .get("t")
            .copied(),
        Some(DAY)
    );
}

#[test]
fn a_mirror_target_keeping_fewer_bytes_per_partition_is_measured_by_size() {
    #[rustfmt::skip]
    let cases: [(&str, Scheme, Configs, Configs, Option<i64>); 6] = [
        ("source unlimited, declared 1000", Scheme::Mirror, &[("retention.bytes", "-1")], &[("retention.bytes", "1000")], Some(1000)),
        ("source 5000, declared 1000", Scheme::Mirror, &[("retention.bytes", "5000")], &[("retention.bytes", "1000")], Some(1000)),
        ("declared more than the source", Scheme::Mirror, &[("retention.bytes", "5000")], &[("retention.bytes", "9000")], None),
        ("the source's carried", Scheme::Mirror, &[("retention.bytes", "5000")], &[], None),
        ("compacted on the target", Scheme::Mirror, &[("retention.bytes", "-1")], &[("retention.bytes", "1000"), ("cleanup.policy", "compact")], None),
        ("no copy, nothing to measure", Scheme::DualConsume, &[("retention.bytes", "-1")], &[("retention.bytes", "1000")], None),
    ];
    for (name, scheme, source, declared, want) in cases {
        let d = desired(
            scheme,
            Some(block(None, Some(3), declared)),
            TopicDefaults::default(),
        );
        let snap = snapshot(topic(2, 3, 10, source));
        let limits = retention_limits(&d, &snap, Platform::Kafka);
        assert_eq!(limits.by_size.get("t").copied(), want, "{name}");
    }
}
