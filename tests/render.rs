//! Rendered plans over fixture configs and a fixture snapshot (no broker): what people and
//! machines read must only change on purpose.

use std::path::Path;

use ferry::config::{self, LoadOptions};
use ferry::plan::{self, Plan};
use ferry::platform::Platform;
use ferry::render::{self, Theme};
use ferry::snapshot::Snapshot;

fn plan_for(scheme: &str) -> Plan {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/plans");
    let desired = config::load(&fixtures.join(scheme), &LoadOptions::default())
        .expect("fixture config loads");
    let snapshot: Snapshot =
        serde_json::from_str(&std::fs::read_to_string(fixtures.join("snapshot.json")).unwrap())
            .expect("fixture snapshot parses");
    plan::build(&desired, &snapshot, Platform::Kafka)
}

#[test]
fn human_plans_read_like_the_design() {
    for scheme in ["mirror", "dual_consume", "single_consume"] {
        insta::assert_snapshot!(
            format!("human_{scheme}"),
            render::human(&plan_for(scheme), &Theme::plain())
        );
    }
}

#[test]
fn json_plan_is_versioned_and_complete() {
    let plan = plan_for("mirror");
    let json = render::json(&plan);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["format_version"], 1);
    insta::assert_snapshot!("json_mirror", json);
    let back: Plan = serde_json::from_str(&json).expect("the JSON form reads back");
    assert_eq!(back, plan);
}

#[test]
fn colours_appear_only_when_asked_for() {
    let plan = plan_for("mirror");
    assert!(!render::human(&plan, &Theme::plain()).contains('\u{1b}'));
    assert!(render::human(&plan, &Theme::new(true)).contains('\u{1b}'));
}

#[test]
fn markdown_plans_are_pr_comments_with_the_summary_first() {
    for scheme in ["mirror", "dual_consume", "single_consume"] {
        let text = render::markdown(&plan_for(scheme));
        assert!(
            text.starts_with("### ferry plan: "),
            "summary line first: {text}"
        );
        assert!(text.trim_end().ends_with(render::PLAN_MARKER));
        insta::assert_snapshot!(format!("markdown_{scheme}"), text);
    }
}

/// CKafka adjustments: a callout lists each forced value change with its verdict, and the topic's
/// diff shows it too.
#[test]
fn markdown_plan_calls_out_adjustments() {
    let mut plan = plan_for("mirror");
    let topic = plan
        .topics
        .iter_mut()
        .find(|t| t.target_name == "orders.v1")
        .unwrap();
    topic.adjustments.push(ferry::diff::Adjustment {
        key: "replication_factor".into(),
        from: Some("5".into()),
        to: Some("3".into()),
        reason: "CKafka allows 1..3 replicas".into(),
        accepted: false,
    });
    let text = render::markdown(&plan);
    assert!(
        text.contains(
            "> [!IMPORTANT]\n> **1 value change** the target's rules force; each needs `accept_adjustments = true` in the HCL.\n> - `orders.v1` replication_factor: `5` -> `3` (CKafka allows 1..3 replicas; **not accepted**)"
        ),
        "{text}"
    );
    assert!(
        text.contains("~     adjusted replication_factor: 5 -> 3 (not accepted)"),
        "{text}"
    );
}

#[test]
fn markdown_plan_highlights_blocked_topics_and_folds_topic_changes() {
    let text = render::markdown(&plan_for("mirror"));
    let caution = text
        .find("> [!CAUTION]")
        .expect("blocked topics in a callout");
    let details = text.find("<details>").expect("topic changes folded");
    assert!(caution < details, "what blocks apply comes before details");
    assert!(
        text.contains("> - `audit`: target has 8 partitions"),
        "{text}"
    );
    assert!(text.contains("```diff\n+ topic \"orders.v1\""), "{text}");
    assert!(text.contains("exits **2**: changes are pending"), "{text}");
}

fn drift_report() -> ferry::drift::DriftReport {
    use ferry::drift::{DriftFinding, DriftKind, DriftReport, Side};
    let f = |cluster, kind, topic: &str, message: &str| DriftFinding {
        cluster,
        kind,
        topic: Some(topic.into()),
        group: None,
        partition: None,
        key: None,
        expected: None,
        actual: None,
        message: message.into(),
    };
    DriftReport {
        format_version: ferry::drift::DRIFT_FORMAT_VERSION,
        migration: "orders-to-ckafka".into(),
        scheme: ferry::config::Scheme::Mirror,
        state_serial: Some(12),
        source_cluster_id: Some("source-prod".into()),
        target_cluster_id: Some("ckafka-abc123".into()),
        findings: vec![
            DriftFinding {
                key: Some("retention.ms".into()),
                expected: Some("604800000".into()),
                actual: Some("1000".into()),
                ..f(
                    Side::Target,
                    DriftKind::ConfigChanged,
                    "payments",
                    "topic \"payments\": config.retention.ms is \"1000\" on the target, declared \"604800000\"",
                )
            },
            DriftFinding {
                group: Some("billing".into()),
                partition: Some(0),
                expected: Some("40".into()),
                actual: Some("12".into()),
                ..f(
                    Side::Target,
                    DriftKind::GroupMovedBackwards,
                    "orders.v1",
                    "group \"billing\" is at offset 12 on orders.v1[0], below the 40 ferry committed: its consumers will re-read 28 records",
                )
            },
            f(
                Side::Target,
                DriftKind::UnmanagedTopic,
                "legacy.events",
                "topic \"legacy.events\" is on the target but no configuration selects it; ferry never touches it",
            ),
            f(
                Side::Source,
                DriftKind::NewSourceTopic,
                "orders.v2",
                "source topic \"orders.v2\" matches the configuration but appeared after the migration started; `ferry plan` shows the step that picks it up",
            ),
        ],
        ignored: vec![],
        topics_checked: 3,
        offsets_checked: 8,
    }
}

#[test]
fn drift_reports_in_all_three_formats() {
    let report = drift_report();
    insta::assert_snapshot!("drift_human", render::drift_human(&report, &Theme::plain()));
    insta::assert_snapshot!("drift_markdown", render::drift_markdown(&report));
    let json = render::drift_json(&report);
    insta::assert_snapshot!("drift_json", json);
    let back: ferry::drift::DriftReport = serde_json::from_str(&json).unwrap();
    assert_eq!(back, report);
    let clean = ferry::drift::DriftReport {
        findings: vec![],
        ..drift_report()
    };
    insta::assert_snapshot!(
        "drift_human_clean",
        render::drift_human(&clean, &Theme::plain())
    );
}
