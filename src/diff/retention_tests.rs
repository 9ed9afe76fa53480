//! The target's retention against the source's: which topics the plan measures, and what the
//! diff makes of the measurement.

use crate::config::{CkafkaSettings, Scheme, TopicDefaults};
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
        let limits = retention_limits(&d, &snapshot(topic(2, 3, 10, source)), d.target_platform());
        assert_eq!(limits.get("t").copied(), want, "{name}");
    }
}

#[test]
fn a_measured_topic_gets_its_cut_and_a_ckafka_blocker_its_figures() {
    let mut source = topic(2, 3, 10, &[("retention.ms", "-1")]);
    for p in &mut source.partitions {
        p.kept_from = Some(4);
    }

    source.retention_probe = Some(RetentionProbe {
        target_retention_ms: 2 * DAY,
        older_than_ms: 1_000,
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

    source.retention_probe = Some(RetentionProbe {
        target_retention_ms: CKAFKA_MAX,
        older_than_ms: 1_000,
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
        blocked.contains("today the source holds 8 records older than 90 days"),
        "{blocked}"
    );
}
