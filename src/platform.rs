//! What a target platform accepts and uses by default, as data: one table per platform.
//!
//! The diff asks the platform which topic config keys carry over and what the target would use
//! when a key is not set; nothing else in the code hard-codes Kafka defaults.

/// A topic config key the platform accepts, with the value a topic gets when it is not set.
#[derive(Debug, Clone, Copy)]
pub struct KeySpec {
    pub key: &'static str,
    pub default: &'static str,
}

/// The kind of cluster on the other end, and its rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    /// Apache Kafka or any broker speaking its admin protocol.
    Kafka,
}

/// Apache Kafka 3.x topic-level keys and their documented defaults.
const KAFKA_KEYS: &[KeySpec] = &[
    KeySpec {
        key: "cleanup.policy",
        default: "delete",
    },
    KeySpec {
        key: "compression.type",
        default: "producer",
    },
    KeySpec {
        key: "delete.retention.ms",
        default: "86400000",
    },
    KeySpec {
        key: "file.delete.delay.ms",
        default: "60000",
    },
    KeySpec {
        key: "flush.messages",
        default: "9223372036854775807",
    },
    KeySpec {
        key: "flush.ms",
        default: "9223372036854775807",
    },
    KeySpec {
        key: "index.interval.bytes",
        default: "4096",
    },
    KeySpec {
        key: "max.compaction.lag.ms",
        default: "9223372036854775807",
    },
    KeySpec {
        key: "max.message.bytes",
        default: "1048588",
    },
    KeySpec {
        key: "message.timestamp.after.max.ms",
        default: "9223372036854775807",
    },
    KeySpec {
        key: "message.timestamp.before.max.ms",
        default: "9223372036854775807",
    },
    KeySpec {
        key: "message.timestamp.difference.max.ms",
        default: "9223372036854775807",
    },
    KeySpec {
        key: "message.timestamp.type",
        default: "CreateTime",
    },
    KeySpec {
        key: "min.cleanable.dirty.ratio",
        default: "0.5",
    },
    KeySpec {
        key: "min.compaction.lag.ms",
        default: "0",
    },
    KeySpec {
        key: "min.insync.replicas",
        default: "1",
    },
    KeySpec {
        key: "preallocate",
        default: "false",
    },
    KeySpec {
        key: "retention.bytes",
        default: "-1",
    },
    KeySpec {
        key: "retention.ms",
        default: "604800000",
    },
    KeySpec {
        key: "segment.bytes",
        default: "1073741824",
    },
    KeySpec {
        key: "segment.index.bytes",
        default: "10485760",
    },
    KeySpec {
        key: "segment.jitter.ms",
        default: "0",
    },
    KeySpec {
        key: "segment.ms",
        default: "604800000",
    },
    KeySpec {
        key: "unclean.leader.election.enable",
        default: "false",
    },
];

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
        }
    }

    pub fn keys(self) -> &'static [KeySpec] {
        match self {
            Platform::Kafka => KAFKA_KEYS,
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

    /// Why a source key does not carry over, or `None` when it does.
    pub fn why_not_carried(self, key: &str) -> Option<&'static str> {
        if BROKER_SPECIFIC_KEYS.contains(&key) {
            Some("broker-specific")
        } else if self.key(key).is_none() {
            Some("not a topic config the target accepts")
        } else {
            None
        }
    }

    /// Values compare as the broker would read them: "1.0" and "1" differ only in text.
    pub fn same_value(self, key: &str, a: &str, b: &str) -> bool {
        if a == b {
            return true;
        }
        let _ = key;
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

    #[test]
    fn numeric_values_compare_by_value() {
        assert!(Platform::Kafka.same_value("min.cleanable.dirty.ratio", "0.5", "0.50"));
        assert!(!Platform::Kafka.same_value("retention.ms", "1000", "10000"));
        assert!(Platform::Kafka.same_value("cleanup.policy", "delete", "delete"));
    }
}
