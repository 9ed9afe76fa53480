//! CKafka's rules applied to one diffed topic, as pure functions: every value the rules force
//! to change becomes an [`Adjustment`] (or a blocker when no value would do), never a silent
//! clamp or a dropped key.

use std::collections::BTreeMap;

use crate::cluster::TopicConfig;
use crate::diff::{Adjustment, ConfigChange, Origin, TopicChange, Valued};
use crate::platform::{Allowed, KeySpec, Lowering, Platform, normalize};

use super::limits::{self, PARTITIONS_MAX, REPLICAS_MAX, REPLICAS_MIN};

mod shortening;

pub use shortening::{Held, RetentionFacts, Shortening};

/// What a value outside the allowed set becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueFix {
    /// The nearest allowed value that keeps at least as much (longer retention, larger records,
    /// more in-sync replicas; either way for a neutral key), and why: an adjustment.
    Clamp { to: String, reason: String },
    /// Every allowed value keeps less: a blocker that `accept_adjustments` does not clear.
    Shorten(Shortening),
    /// No allowed value means the same; the topic is blocked.
    Invalid { reason: String },
}

/// Whether `value` is allowed for `spec`. Out of range, the value moves towards more when it
/// can (below the minimum; above the maximum to an allowed "no limit"); a move towards less is
/// a [`ValueFix::Shorten`], unless the key's [`Lowering`] is neutral.
pub fn check_value(spec: &KeySpec, value: &str) -> Result<(), ValueFix> {
    match spec.allowed {
        Allowed::Any => Ok(()),
        Allowed::OneOf(values) => {
            let v = normalize(spec.key, value).to_ascii_lowercase();
            if values.iter().any(|a| a.eq_ignore_ascii_case(&v)) {
                Ok(())
            } else {
                Err(ValueFix::Invalid {
                    reason: format!("CKafka takes only {} for {}", values.join(" or "), spec.key),
                })
            }
        }
        Allowed::Range {
            min,
            max,
            or,
            lowering,
        } => {
            let Ok(n) = value.trim().parse::<i64>() else {
                return Err(ValueFix::Invalid {
                    reason: format!("{} must be an integer for CKafka", spec.key),
                });
            };
            if Some(n) == or || (min..=max).contains(&n) {
                return Ok(());
            }
            let negative_unlimited = lowering == Lowering::LosesNegativeIsUnlimited;
            // CKafka's own spelling of "no limit", when it has one.
            let unlimited = or.filter(|u| negative_unlimited && *u < 0);
            let clamp = |to: i64, reason: String| {
                Err(ValueFix::Clamp {
                    to: to.to_string(),
                    reason,
                })
            };
            let shorten = |unlimited: bool| {
                Err(ValueFix::Shorten(Shortening {
                    key: spec.key.to_string(),
                    from: value.trim().to_string(),
                    unlimited,
                    min,
                    max,
                }))
            };
            match (n < 0 && negative_unlimited, unlimited) {
                (true, Some(u)) => clamp(
                    u,
                    format!("{n} means no limit, as {u} does, which is how CKafka writes it"),
                ),
                (true, None) => shorten(true),
                (false, _) if n < min => clamp(min, format!("{n} is below CKafka's minimum {min}")),
                (false, Some(u)) => clamp(
                    u,
                    format!(
                        "{n} is above CKafka's maximum {max}; {u} (no limit) keeps at least as much"
                    ),
                ),
                (false, None) if lowering == Lowering::Neutral => {
                    clamp(max, format!("{n} is above CKafka's maximum {max}"))
                }
                (false, None) => shorten(false),
            }
        }
    }
}

/// Replicas below CKafka's minimum come up to it with an adjustment; above its maximum they
/// would survive fewer broker failures, so that blocks the topic until its block declares a
/// count CKafka takes (`accept_adjustments` does not approve it). The value is returned as
/// asked when it blocks.
pub fn adjust_replication(
    topic: &str,
    r: Valued<i32>,
    adjustments: &mut Vec<Adjustment>,
    blocked: &mut Vec<String>,
) -> Valued<i32> {
    if r.value > REPLICAS_MAX {
        let shortening = Shortening {
            key: "replication_factor".into(),
            from: r.value.to_string(),
            unlimited: false,
            min: REPLICAS_MIN.into(),
            max: REPLICAS_MAX.into(),
        };
        blocked.push(shortening.blocker(topic, r.origin, None));
        return r;
    }
    let to = r.value.max(REPLICAS_MIN);
    if to == r.value {
        return r;
    }
    adjustments.push(Adjustment {
        key: "replication_factor".into(),
        from: Some(r.value.to_string()),
        to: Some(to.to_string()),
        reason: format!(
            "CKafka keeps {REPLICAS_MIN} to {REPLICAS_MAX} replicas per partition ({} {})",
            origin_word(r.origin),
            r.value
        ),
        accepted: false,
    });
    Valued {
        value: to,
        origin: r.origin,
    }
}

/// Blockers no adjustment can fix: a name CKafka refuses, more partitions than it allows.
pub fn blockers(target_name: &str, source_name: &str, partitions: Option<i32>) -> Vec<String> {
    let mut out = Vec::new();
    if let Err(problem) = limits::check_topic_name(target_name) {
        out.push(format!(
            "CKafka refuses the topic name: {problem}; give it another name with target_name in topic \"{source_name}\" {{ ... }}"
        ));
    }
    if let Some(p) = partitions.filter(|p| *p > PARTITIONS_MAX) {
        out.push(format!(
            "{p} partitions, CKafka allows at most {PARTITIONS_MAX} per topic; records keep their source partition, so ferry cannot fold them into fewer"
        ));
    }
    out
}

/// Config values outside CKafka's ranges: clamped towards more with an adjustment each, or a
/// blocker (no value would do, or every allowed value keeps less: see [`Shortening`], worded
/// for `topic`, the source topic's name, with the plan's `facts` when it measured them). A
/// clamped value the target already has is no change any more (the adjustment stays); a
/// blocked one stays as asked.
pub fn adjust_config(
    topic: &str,
    changes: &mut Vec<ConfigChange>,
    adjustments: &mut Vec<Adjustment>,
    blocked: &mut Vec<String>,
    facts: Option<&RetentionFacts>,
) {
    changes.retain_mut(|c| {
        let Some(spec) = Platform::Ckafka.key(&c.key) else {
            return true;
        };
        match check_value(spec, &c.after) {
            Ok(()) => true,
            Err(ValueFix::Invalid { reason }) => {
                blocked.push(format!(
                    "config.{} = \"{}\" ({} {}): {reason}",
                    c.key,
                    c.after,
                    origin_word(c.origin),
                    c.after
                ));
                true
            }
            Err(ValueFix::Shorten(shortening)) => {
                blocked.push(shortening.blocker(topic, c.origin, facts));
                true
            }
            Err(ValueFix::Clamp { to, reason }) => {
                adjustments.push(Adjustment {
                    key: format!("config.{}", c.key),
                    from: Some(c.after.clone()),
                    to: Some(to.clone()),
                    reason,
                    accepted: false,
                });
                c.after = to;
                c.before
                    .as_deref()
                    .is_none_or(|b| !Platform::Ckafka.same_value(&c.key, b, &c.after))
            }
        }
    });
}

/// Keys set on the source (or declared) that CKafka will not get: one adjustment each.
/// Broker-specific keys are left to `not_carried`: they carry to no platform.
pub fn dropped_keys(
    source: Option<&TopicConfig>,
    declared: &BTreeMap<String, String>,
) -> Vec<Adjustment> {
    let mut keys: BTreeMap<&str, (Option<String>, &str)> = BTreeMap::new();
    if let Some(src) = source {
        for (k, v) in src.entries.iter().filter(|(_, v)| !v.is_default) {
            let value = if v.sensitive { None } else { v.value.clone() };
            keys.insert(k, (value, "set on the source"));
        }
    }
    for (k, v) in declared {
        keys.insert(k, (Some(v.clone()), "declared"));
    }
    keys.into_iter()
        .filter(|(k, _)| {
            Platform::Ckafka.key(k).is_none() && !Platform::Ckafka.is_broker_specific(k)
        })
        .map(|(k, (value, origin))| Adjustment {
            key: format!("config.{k}"),
            from: value,
            to: None,
            reason: format!("{origin}; {}", limits::why_not_accepted(k)),
            accepted: false,
        })
        .collect()
}

/// Marks the adjustments accepted or not; unaccepted ones block the topic with the HCL to write.
pub fn settle(change: &mut TopicChange, accepted: bool) {
    for a in &mut change.adjustments {
        a.accepted = accepted;
    }
    let n = change.adjustments.len();
    if n > 0 && !accepted {
        change.blocked.push(format!(
            "CKafka's rules need {n} adjustment{} (listed below); review {} and write accept_adjustments = true in topic \"{}\" {{ ... }} for this topic, or in the ckafka block of cluster \"target\" for every topic",
            if n == 1 { "" } else { "s" },
            if n == 1 { "it" } else { "them" },
            change.name
        ));
    }
}

fn origin_word(origin: Origin) -> &'static str {
    match origin {
        Origin::Declared => "declared",
        Origin::Source => "source:",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::ConfigValue;

    fn change(name: &str) -> TopicChange {
        TopicChange {
            action: crate::diff::Action::Create,
            source_partitions: Some(1),
            ..TopicChange::new(name, name)
        }
    }

    fn spec(key: &str) -> &'static KeySpec {
        Platform::Ckafka.key(key).unwrap()
    }

    /// What a rules-table check came to, for the table below.
    #[derive(Debug, PartialEq)]
    enum Verdict {
        Allowed,
        Adjusted(&'static str),
        Blocks,
    }

    /// Every ranged key in both directions: towards more (or neutral) is an adjustment, towards
    /// less retention, smaller records or fewer in-sync replicas is a blocker, and "no limit"
    /// is never clamped to a minimum (issue 15).
    #[test]
    fn every_clamp_towards_less_blocks_and_towards_more_adjusts() {
        use Verdict::*;
        let cases = [
            ("retention.ms", "604800000", Allowed),
            ("retention.ms", "1000", Adjusted("60000")),
            ("retention.ms", "-1", Blocks),
            ("retention.ms", "-2", Blocks),
            ("retention.ms", "99999999999", Blocks),
            ("retention.bytes", "-1", Allowed),
            ("retention.bytes", "-5", Adjusted("-1")),
            ("retention.bytes", "1000", Adjusted("1073741824")),
            ("retention.bytes", "2000000000000", Adjusted("-1")),
            ("max.message.bytes", "100", Adjusted("1024")),
            ("max.message.bytes", "20000000", Blocks),
            ("min.insync.replicas", "0", Adjusted("1")),
            ("min.insync.replicas", "4", Blocks),
            ("segment.ms", "3600000", Adjusted("86400000")),
            ("segment.ms", "99999999999", Adjusted("7776000000")),
        ];
        for (key, value, want) in cases {
            let got = match check_value(spec(key), value) {
                Ok(()) => Allowed,
                Err(ValueFix::Clamp { to, .. }) => Adjusted(Box::leak(to.into_boxed_str())),
                Err(ValueFix::Shorten(_)) => Blocks,
                Err(other) => panic!("{key}={value}: {other:?}"),
            };
            assert_eq!(got, want, "{key}={value}");
        }
    }

    #[test]
    fn keep_forever_blocks_with_the_figures_and_the_hcl_to_write() {
        let mut changes = vec![ConfigChange {
            key: "retention.ms".into(),
            before: None,
            after: "-1".into(),
            origin: Origin::Source,
        }];
        let facts = RetentionFacts {
            older_than_max_retention: Some(Held {
                records: 12_345,
                bytes: Some(crate::domain::ByteCount {
                    bytes: 3 << 20,
                    exact: true,
                }),
            }),
            larger_than_max_message: None,
        };
        let (mut adj, mut blocked) = (Vec::new(), Vec::new());
        adjust_config("events", &mut changes, &mut adj, &mut blocked, Some(&facts));
        assert!(adj.is_empty(), "not an adjustment: {adj:?}");
        assert_eq!(
            changes[0].after, "-1",
            "the value stays as asked while blocked"
        );
        let b = &blocked[0];
        for part in [
            "keeps records forever",
            "7776000000 ms (90 days)",
            "accept_adjustments does not approve",
            "12,345 records (3,145,728 bytes, 3 MiB)",
            r#"topic "events" { config = { "retention.ms" = "7776000000" } }"#,
        ] {
            assert!(b.contains(part), "{part:?} missing from {b}");
        }
        assert!(!b.contains("\"60000\""), "never the minimum: {b}");
    }

    #[test]
    fn policies_compare_by_meaning_and_unknown_ones_are_invalid() {
        assert!(check_value(spec("cleanup.policy"), "delete, compact").is_ok());
        assert!(check_value(spec("unclean.leader.election.enable"), "TRUE").is_ok());
        assert!(matches!(
            check_value(spec("cleanup.policy"), "archive"),
            Err(ValueFix::Invalid { .. })
        ));
        assert!(matches!(
            check_value(spec("retention.ms"), "forever"),
            Err(ValueFix::Invalid { .. })
        ));
    }

    #[test]
    fn five_replicas_block_and_two_are_taken_as_they_are() {
        let (mut adj, mut blocked) = (Vec::new(), Vec::new());
        let r = adjust_replication(
            "orders",
            Valued {
                value: 5,
                origin: Origin::Source,
            },
            &mut adj,
            &mut blocked,
        );
        assert_eq!(r.value, 5, "kept as asked while blocked");
        assert!(adj.is_empty());
        assert!(blocked[0].contains(r#"topic "orders" { replication_factor = 3 }"#));
        let (mut adj, mut blocked) = (Vec::new(), Vec::new());
        let r = adjust_replication(
            "orders",
            Valued {
                value: 2,
                origin: Origin::Declared,
            },
            &mut adj,
            &mut blocked,
        );
        assert_eq!(r.value, 2);
        assert!(adj.is_empty() && blocked.is_empty());
    }

    #[test]
    fn a_clamped_value_the_target_has_is_no_change_but_stays_an_adjustment() {
        let mut changes = vec![
            ConfigChange {
                key: "retention.ms".into(),
                before: Some("60000".into()),
                after: "1000".into(),
                origin: Origin::Source,
            },
            ConfigChange {
                key: "segment.ms".into(),
                before: None,
                after: "1000".into(),
                origin: Origin::Declared,
            },
        ];
        let (mut adj, mut blocked) = (Vec::new(), Vec::new());
        adjust_config("t", &mut changes, &mut adj, &mut blocked, None);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].after, "86400000");
        assert_eq!(adj.len(), 2);
        assert!(blocked.is_empty());
    }

    #[test]
    fn keys_ckafka_does_not_take_are_listed_not_dropped() {
        let mut src = TopicConfig::default();
        for (k, v, default) in [
            ("compression.type", "gzip", false),
            ("retention.ms", "1000", false),
            ("message.format.version", "2.8", false),
            ("preallocate", "true", true),
        ] {
            src.entries.insert(
                k.into(),
                ConfigValue {
                    value: Some(v.into()),
                    is_default: default,
                    sensitive: false,
                },
            );
        }
        let declared = BTreeMap::from([("segment.bytes".to_string(), "1000".to_string())]);
        let keys: Vec<String> = dropped_keys(Some(&src), &declared)
            .into_iter()
            .map(|a| a.key)
            .collect();
        assert_eq!(keys, ["config.compression.type", "config.segment.bytes"]);
    }

    #[test]
    fn unaccepted_adjustments_block_with_the_hcl_to_write() {
        let mut blocked = change("orders");
        blocked.adjustments.push(Adjustment {
            key: "replication_factor".into(),
            from: Some("5".into()),
            to: Some("3".into()),
            reason: String::new(),
            accepted: false,
        });
        settle(&mut blocked, false);
        assert!(blocked.blocked[0].contains("accept_adjustments = true"));
        assert!(blocked.blocked[0].contains("topic \"orders\""));
        let mut ok = change("orders");
        ok.adjustments = blocked.adjustments.clone();
        settle(&mut ok, true);
        assert!(ok.blocked.is_empty() && ok.adjustments[0].accepted);
    }
}
