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
