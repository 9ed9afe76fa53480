//! What a target platform accepts and uses by default, as data: one table per platform.
//!
//! The diff asks the platform which topic config keys carry over and what the target would use
//! when a key is not set; nothing else in the code hard-codes Kafka defaults.

/// A topic config key the platform accepts, with the value a topic gets when it is not set.
#[derive(Debug, Clone, Copy)]
pub struct KeySpec {
    pub key: &'static str,
    pub default: &'static str,
    /// Values the platform takes; anything else needs an adjustment (see `crate::ckafka::adjust`).
    pub allowed: Allowed,
    /// How a cloud API names the key, when the platform's metadata goes through one.
    pub api: Option<ApiField>,
}

impl KeySpec {
    /// A Kafka key: any value the broker itself accepts, set over the Kafka protocol.
    pub const fn kafka(key: &'static str, default: &'static str) -> KeySpec {
        KeySpec {
            key,
            default,
            allowed: Allowed::Any,
            api: None,
        }
    }
}

/// Which values a platform takes for a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allowed {
    Any,
    /// An integer in `min..=max`, or exactly `or` (such as -1 for "unlimited").
    Range {
        min: i64,
        max: i64,
        or: Option<i64>,
        /// What a lower value costs: whether a clamp down may be accepted as an adjustment.
        lowering: Lowering,
    },
    /// One of these texts (compared after [`normalize`]).
    OneOf(&'static [&'static str]),
}

/// What a lower value of a ranged key costs. A clamp towards less durability or less capacity
/// is a blocker that `accept_adjustments` does not clear (the user must write the value); a
/// clamp towards more is an adjustment (see `crate::ckafka::adjust` and docs/ckafka.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lowering {
    /// A lower value keeps records for less time or fewer bytes, takes smaller records, or
    /// acknowledges writes on fewer replicas.
    Loses,
    /// As [`Lowering::Loses`], and any negative value means "no limit" (Kafka's `retention.ms`
    /// and `retention.bytes`): more than every finite value, never less.
    LosesNegativeIsUnlimited,
    /// Neither way keeps less: `segment.ms` says when a segment rolls, and retention still keeps
    /// every record for `retention.ms` whatever the segment size.
    Neutral,
}

/// A key's field names in a cloud API: set in requests as `request`, read back from the topic
/// attributes' `Config` object as `describe`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiField {
    pub request: &'static str,
    pub describe: &'static str,
    pub kind: ApiKind,
}

/// How the API spells a key's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiKind {
    Integer,
    Text,
    /// Kafka's "true"/"false" as 1/0.
    Flag,
}

/// One spelling per meaning: `delete,compact` and `compact, delete` are the same policy.
pub fn normalize(key: &str, value: &str) -> String {
    if key == "cleanup.policy" {
        let mut parts: Vec<&str> = value.split(',').map(str::trim).collect();
        parts.sort_unstable();
        parts.dedup();
        return parts.join(",");
    }
    value.trim().to_string()
}

/// The kind of cluster on the other end, and its rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    /// Apache Kafka or any broker speaking its admin protocol.
    Kafka,
    /// Tencent Cloud CKafka: topic metadata through its cloud API, rules in `crate::ckafka::limits`.
    Ckafka,
}

/// Apache Kafka topic-level keys and their documented defaults, as of Kafka 4 (the release the
/// test bed pins). Kafka 3.x differs only in `message.timestamp.after.max.ms` (Long.MAX there,
/// one hour since 4.0), so a 3.x source's effective value is carried to a 4.x target.
const KAFKA_KEYS: &[KeySpec] = &[
    KeySpec::kafka("cleanup.policy", "delete"),
    KeySpec::kafka("compression.type", "producer"),
    KeySpec::kafka("delete.retention.ms", "86400000"),
    KeySpec::kafka("file.delete.delay.ms", "60000"),
    KeySpec::kafka("flush.messages", "9223372036854775807"),
    KeySpec::kafka("flush.ms", "9223372036854775807"),
    KeySpec::kafka("index.interval.bytes", "4096"),
    KeySpec::kafka("max.compaction.lag.ms", "9223372036854775807"),
    KeySpec::kafka("max.message.bytes", "1048588"),
    KeySpec::kafka("message.timestamp.after.max.ms", "3600000"),
    KeySpec::kafka("message.timestamp.before.max.ms", "9223372036854775807"),
    KeySpec::kafka("message.timestamp.type", "CreateTime"),
    KeySpec::kafka("min.cleanable.dirty.ratio", "0.5"),
    KeySpec::kafka("min.compaction.lag.ms", "0"),
    KeySpec::kafka("min.insync.replicas", "1"),
    KeySpec::kafka("preallocate", "false"),
    KeySpec::kafka("retention.bytes", "-1"),
    KeySpec::kafka("retention.ms", "604800000"),
    KeySpec::kafka("segment.bytes", "1073741824"),
    KeySpec::kafka("segment.index.bytes", "10485760"),
    KeySpec::kafka("segment.jitter.ms", "0"),
    KeySpec::kafka("segment.ms", "604800000"),
    KeySpec::kafka("unclean.leader.election.enable", "false"),
];

/// Keys a 3.x source may report that Kafka 4 no longer accepts, with what to say instead.
const REMOVED_IN_KAFKA_4: &[(&str, &str)] = &[(
    "message.timestamp.difference.max.ms",
    "removed in Kafka 4.0 (message.timestamp.before.max.ms and message.timestamp.after.max.ms replace it)",
)];

/// Keys tied to one broker's replicas, placement, storage tier or on-disk format: never carried.
const BROKER_SPECIFIC_KEYS: &[&str] = &[
    "leader.replication.throttled.replicas",
    "follower.replication.throttled.replicas",
    "message.format.version",
    "message.downconversion.enable",
    "confluent.placement.constraints",
    "remote.storage.enable",
    "local.retention.ms",
    "local.retention.bytes",
];

impl Platform {
    pub fn name(self) -> &'static str {
        match self {
            Platform::Kafka => "Kafka",
            Platform::Ckafka => "CKafka",
        }
    }

    pub fn keys(self) -> &'static [KeySpec] {
        match self {
            Platform::Kafka => KAFKA_KEYS,
            Platform::Ckafka => crate::ckafka::limits::TOPIC_KEYS,
        }
    }

    /// The spec of a key this platform accepts.
    pub fn key(self, key: &str) -> Option<&'static KeySpec> {
        self.keys().iter().find(|k| k.key == key)
    }

    /// What a topic on this platform uses for `key` when nothing sets it.
    pub fn default_of(self, key: &str) -> Option<&'static str> {
        self.key(key).map(|k| k.default)
    }

    /// Keys tied to one broker (throttles, placement, on-disk format): carried to no platform.
    pub fn is_broker_specific(self, key: &str) -> bool {
        BROKER_SPECIFIC_KEYS.contains(&key)
    }

    /// Why a source key does not carry over, or `None` when it does.
    pub fn why_not_carried(self, key: &str) -> Option<&'static str> {
        if BROKER_SPECIFIC_KEYS.contains(&key) {
            Some("broker-specific")
        } else if let Some((_, why)) = REMOVED_IN_KAFKA_4.iter().find(|(k, _)| *k == key)
            && self == Platform::Kafka
        {
            Some(why)
        } else if self.key(key).is_none() {
            Some(match self {
                Platform::Kafka => "not a topic config the target accepts",
                Platform::Ckafka => crate::ckafka::limits::why_not_accepted(key),
            })
        } else {
            None
        }
    }

    /// Values compare as the broker would read them: "1.0" and "1" differ only in text.
    pub fn same_value(self, key: &str, a: &str, b: &str) -> bool {
        if a == b || normalize(key, a) == normalize(key, b) {
            return true;
        }
        match (a.trim().parse::<f64>(), b.trim().parse::<f64>()) {
            (Ok(x), Ok(y)) => x == y,
            _ => a.trim().eq_ignore_ascii_case(b.trim()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_specific_keys_never_carry() {
        assert_eq!(
            Platform::Kafka.why_not_carried("message.format.version"),
            Some("broker-specific")
        );
        assert_eq!(Platform::Kafka.why_not_carried("retention.ms"), None);
        assert!(
            Platform::Kafka
                .why_not_carried("confluent.tier.enable")
                .is_some()
        );
    }

    /// A 3.x source reports it, a 4.x target refuses to set it (found by the 3.9 -> 4.3 run).
    #[test]
    fn a_key_removed_in_kafka_4_is_not_carried_and_says_why() {
        let why = Platform::Kafka
            .why_not_carried("message.timestamp.difference.max.ms")
            .unwrap();
        assert!(why.contains("removed in Kafka 4.0"), "{why}");
        assert!(
            Platform::Kafka
                .key("message.timestamp.difference.max.ms")
                .is_none()
        );
    }

    #[test]
    fn numeric_values_compare_by_value() {
        assert!(Platform::Kafka.same_value("min.cleanable.dirty.ratio", "0.5", "0.50"));
        assert!(!Platform::Kafka.same_value("retention.ms", "1000", "10000"));
        assert!(Platform::Kafka.same_value("cleanup.policy", "delete", "delete"));
    }
}
