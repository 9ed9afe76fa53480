//! CKafka's rules applied to one diffed topic, as pure functions: every value the rules force
//! to change becomes an [`Adjustment`] (or a blocker when no value would do), never a silent
//! clamp or a dropped key.

use std::collections::BTreeMap;

use crate::cluster::TopicConfig;
use crate::diff::{Adjustment, ConfigChange, Origin, TopicChange, Valued};
use crate::platform::{Allowed, KeySpec, Platform, normalize};

use super::limits::{self, PARTITIONS_MAX, REPLICAS_MAX, REPLICAS_MIN};

/// What a value outside the allowed set becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueFix {
    /// The nearest allowed value, and why.
    Clamp { to: String, reason: String },
    /// No allowed value means the same; the topic is blocked.
    Invalid { reason: String },
}

/// Whether `value` is allowed for `spec`.
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
        Allowed::Range { min, max, or } => {
            let Ok(n) = value.trim().parse::<i64>() else {
                return Err(ValueFix::Invalid {
                    reason: format!("{} must be an integer for CKafka", spec.key),
                });
            };
            if Some(n) == or || (min..=max).contains(&n) {
                return Ok(());
            }
            let (to, bound) = if n < min {
                (min, format!("below CKafka's minimum {min}"))
            } else {
                (max, format!("above CKafka's maximum {max}"))
            };
            Err(ValueFix::Clamp {
                to: to.to_string(),
                reason: bound,
            })
        }
    }
}

/// Replicas above CKafka's maximum come down to it (the data is still replicated, just by fewer
/// brokers); the adjustment says so.
pub fn adjust_replication(r: Valued<i32>, out: &mut Vec<Adjustment>) -> Valued<i32> {
    let to = r.value.clamp(REPLICAS_MIN, REPLICAS_MAX);
    if to == r.value {
        return r;
    }
    out.push(Adjustment {
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

/// Config values outside CKafka's ranges: clamped with an adjustment each, or a blocker. A
/// clamped value the target already has is no change any more (the adjustment stays).
pub fn adjust_config(
    changes: &mut Vec<ConfigChange>,
    adjustments: &mut Vec<Adjustment>,
    blocked: &mut Vec<String>,
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
            Err(ValueFix::Clamp { to, reason }) => {
                adjustments.push(Adjustment {
                    key: format!("config.{}", c.key),
                    from: Some(c.after.clone()),
                    to: Some(to.clone()),
                    reason: format!("{} is {reason}", c.after),
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
            name: name.into(),
            target_name: name.into(),
            action: crate::diff::Action::Create,
            exists_on_target: false,
            source_partitions: Some(1),
            target_partitions: None,
            partitions: None,
            replication_factor: None,
            config: vec![],
            not_carried: vec![],
            adjustments: vec![],
            blocked: vec![],
            notes: vec![],
        }
    }

    fn spec(key: &str) -> &'static KeySpec {
        Platform::Ckafka.key(key).unwrap()
    }

    #[test]
    fn values_outside_the_ranges_clamp_to_the_nearest_bound() {
        let cases = [
            ("retention.ms", "1000", Some("60000")),
            ("retention.ms", "604800000", None),
            ("retention.ms", "99999999999", Some("7776000000")),
            ("segment.ms", "3600000", Some("86400000")),
            ("max.message.bytes", "20000000", Some("12582912")),
            ("retention.bytes", "-1", None),
            ("retention.bytes", "1000", Some("1073741824")),
            ("min.insync.replicas", "0", Some("1")),
        ];
        for (key, value, want) in cases {
            let got = match check_value(spec(key), value) {
                Ok(()) => None,
                Err(ValueFix::Clamp { to, .. }) => Some(to),
                Err(other) => panic!("{key}={value}: {other:?}"),
            };
            assert_eq!(got.as_deref(), want, "{key}={value}");
        }
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
    fn five_replicas_become_three_with_an_adjustment() {
        let mut out = Vec::new();
        let r = adjust_replication(
            Valued {
                value: 5,
                origin: Origin::Source,
            },
            &mut out,
        );
        assert_eq!(r.value, 3);
        assert_eq!(out.len(), 1);
        assert_eq!(
            (out[0].from.as_deref(), out[0].to.as_deref()),
            (Some("5"), Some("3"))
        );
        let mut none = Vec::new();
        adjust_replication(
            Valued {
                value: 2,
                origin: Origin::Declared,
            },
            &mut none,
        );
        assert!(none.is_empty());
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
        adjust_config(&mut changes, &mut adj, &mut blocked);
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
