//! CKafka's rules as one table: topic names, partition and replica limits, the topic config keys
//! CKafka accepts with their ranges, defaults and API field names, and the API's rate limits.
//! Collected from Tencent Cloud's public docs and SDK models (see docs/ckafka.md); where sources
//! disagree the stricter range is used.

use crate::platform::{Allowed, ApiField, ApiKind, KeySpec, Lowering};

/// Longest topic name CKafka accepts.
pub const TOPIC_NAME_MAX: usize = 128;

/// Partitions per topic.
pub const PARTITIONS_MAX: i32 = 3000;

/// Replicas per partition.
pub const REPLICAS_MIN: i32 = 1;
pub const REPLICAS_MAX: i32 = 3;

/// CreateTopic requests per second the API allows.
pub const CREATE_TOPIC_PER_SECOND: u32 = 20;

/// Metadata requests per second ferry sends to one instance (the API allows at most 20
/// concurrent ones; ferry sends one at a time and paces them at this rate).
pub const METADATA_PER_SECOND: u32 = 20;

/// How far the signing timestamp may be from the server's clock.
pub const TIMESTAMP_WINDOW_SECONDS: i64 = 300;

/// Page size of DescribeTopicDetail.
pub const PAGE_SIZE: usize = 50;

const fn key(
    key: &'static str,
    default: &'static str,
    allowed: Allowed,
    request: &'static str,
    describe: &'static str,
    kind: ApiKind,
) -> KeySpec {
    KeySpec {
        key,
        default,
        allowed,
        api: Some(ApiField {
            request,
            describe,
            kind,
        }),
    }
}

/// Topic config keys CKafka accepts through API 3.0: what a topic uses when the key is not set,
/// the allowed values, and the request / `Config` field names. A ranged key's `lowering` says
/// which clamps block: one towards less retention, smaller records or fewer in-sync replicas is
/// a blocker `accept_adjustments` does not clear (docs/ckafka.md, "Which clamps block").
pub const TOPIC_KEYS: &[KeySpec] = &[
    key(
        "cleanup.policy",
        "delete",
        Allowed::OneOf(&["delete", "compact", "compact,delete"]),
        "CleanUpPolicy",
        "CleanUpPolicy",
        ApiKind::Text,
    ),
    key(
        "max.message.bytes",
        "1048588",
        Allowed::Range {
            min: 1024,
            max: 12_582_912,
            or: None,
            lowering: Lowering::Loses,
        },
        "MaxMessageBytes",
        "MaxMessageBytes",
        ApiKind::Integer,
    ),
    key(
        "min.insync.replicas",
        "1",
        Allowed::Range {
            min: 1,
            max: REPLICAS_MAX as i64,
            or: None,
            lowering: Lowering::Loses,
        },
        "MinInsyncReplicas",
        "MinInsyncReplicas",
        ApiKind::Integer,
    ),
    key(
        "retention.bytes",
        "-1",
        Allowed::Range {
            min: 1_073_741_824,
            max: 1_099_511_627_776,
            or: Some(-1),
            lowering: Lowering::LosesNegativeIsUnlimited,
        },
        "RetentionBytes",
        "RetentionBytes",
        ApiKind::Integer,
    ),
    // CKafka's default retention is 2 hours, not Kafka's 7 days: why effective values carry.
    key(
        "retention.ms",
        "7200000",
        Allowed::Range {
            min: 60_000,
            max: 7_776_000_000,
            or: None,
            lowering: Lowering::LosesNegativeIsUnlimited,
        },
        "RetentionMs",
        "Retention",
        ApiKind::Integer,
    ),
    key(
        "segment.ms",
        "604800000",
        Allowed::Range {
            min: 86_400_000,
            max: 7_776_000_000,
            or: None,
            lowering: Lowering::Neutral,
        },
        "SegmentMs",
        "SegmentMs",
        ApiKind::Integer,
    ),
    key(
        "unclean.leader.election.enable",
        "false",
        Allowed::OneOf(&["true", "false"]),
        "UncleanLeaderElectionEnable",
        "UncleanLeaderElectionEnable",
        ApiKind::Flag,
    ),
];

/// Kafka keys CKafka takes in some form but ferry cannot set through API 3.0, with the reason.
const NOT_SETTABLE: &[(&str, &str)] = &[
    (
        "segment.bytes",
        "CKafka reports segment.bytes but API 3.0 has no field to set it",
    ),
    (
        "message.timestamp.type",
        "CKafka's console takes message.timestamp.type but API 3.0 has no field to set it",
    ),
    (
        "compression.type",
        "CKafka has no topic-level compression.type (producers choose; gzip is not supported)",
    ),
];

/// Why CKafka will not get a Kafka topic key that is not in [`TOPIC_KEYS`].
pub fn why_not_accepted(key: &str) -> &'static str {
    NOT_SETTABLE
        .iter()
        .find(|(k, _)| *k == key)
        .map_or("CKafka does not accept this topic config", |(_, why)| why)
}

/// The API field spec of an accepted key.
pub fn api_field(key: &str) -> Option<ApiField> {
    TOPIC_KEYS.iter().find(|k| k.key == key).and_then(|k| k.api)
}

/// CKafka's topic name rule: letters, digits, `_`, `-`, `.`; no leading `__`; at most 128
/// characters. `Err` says what is wrong.
pub fn check_topic_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("it is empty".into());
    }
    if name.starts_with("__") {
        return Err("it starts with \"__\", which CKafka reserves".into());
    }
    if name.len() > TOPIC_NAME_MAX {
        return Err(format!(
            "it has {} characters, CKafka allows at most {TOPIC_NAME_MAX}",
            name.len()
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(format!(
            "{c:?} is not allowed; CKafka takes letters, digits, '.', '_' and '-'"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_accepted_key_has_an_api_field_and_an_allowed_default() {
        for k in TOPIC_KEYS {
            assert!(k.api.is_some(), "{}", k.key);
            assert!(
                crate::ckafka::adjust::check_value(k, k.default).is_ok(),
                "default of {} breaks its own range",
                k.key
            );
        }
    }

    #[test]
    fn topic_names_follow_ckafka_rules() {
        assert!(check_topic_name("orders.v1_2-x").is_ok());
        assert!(check_topic_name("__orders").unwrap_err().contains("__"));
        assert!(check_topic_name(&"x".repeat(128)).is_ok());
        assert!(
            check_topic_name(&"x".repeat(129))
                .unwrap_err()
                .contains("128")
        );
        assert!(check_topic_name("a+b").unwrap_err().contains("'+'"));
    }

    #[test]
    fn keys_without_an_api_field_say_why() {
        assert!(why_not_accepted("segment.bytes").contains("no field"));
        assert!(why_not_accepted("compression.type").contains("gzip"));
        assert_eq!(
            why_not_accepted("preallocate"),
            "CKafka does not accept this topic config"
        );
    }
}
