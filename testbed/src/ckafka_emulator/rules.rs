//! The documented CKafka limits the emulator enforces (its own copy: the testbed cannot depend
//! on ferry, whose table is src/ckafka/limits.rs), and the attribute <-> Kafka key mapping.

use serde_json::Value;

/// A topic attribute: request field, `Config` field, Kafka key, CKafka default, allowed range.
pub struct Attribute {
    pub request: &'static str,
    pub describe: &'static str,
    pub key: &'static str,
    pub default: Value,
    pub check: fn(&Value) -> bool,
    pub flag: bool,
}

fn int_in(v: &Value, min: i64, max: i64) -> bool {
    v.as_i64().is_some_and(|n| (min..=max).contains(&n))
}

pub fn attributes() -> Vec<Attribute> {
    vec![
        Attribute {
            request: "RetentionMs",
            describe: "Retention",
            key: "retention.ms",
            default: Value::from(7_200_000),
            check: |v| int_in(v, 60_000, 7_776_000_000),
            flag: false,
        },
        Attribute {
            request: "SegmentMs",
            describe: "SegmentMs",
            key: "segment.ms",
            default: Value::from(604_800_000),
            check: |v| int_in(v, 86_400_000, 7_776_000_000),
            flag: false,
        },
        Attribute {
            request: "MaxMessageBytes",
            describe: "MaxMessageBytes",
            key: "max.message.bytes",
            default: Value::from(1_048_588),
            check: |v| int_in(v, 1024, 12_582_912),
            flag: false,
        },
        Attribute {
            request: "RetentionBytes",
            describe: "RetentionBytes",
            key: "retention.bytes",
            default: Value::from(-1),
            check: |v| v.as_i64() == Some(-1) || int_in(v, 1_073_741_824, 1_099_511_627_776),
            flag: false,
        },
        Attribute {
            request: "MinInsyncReplicas",
            describe: "MinInsyncReplicas",
            key: "min.insync.replicas",
            default: Value::from(1),
            check: |v| int_in(v, 1, 3),
            flag: false,
        },
        Attribute {
            request: "CleanUpPolicy",
            describe: "CleanUpPolicy",
            key: "cleanup.policy",
            default: Value::from("delete"),
            check: |v| {
                matches!(
                    v.as_str(),
                    Some("delete" | "compact" | "compact,delete" | "delete,compact")
                )
            },
            flag: false,
        },
        Attribute {
            request: "UncleanLeaderElectionEnable",
            describe: "UncleanLeaderElectionEnable",
            key: "unclean.leader.election.enable",
            default: Value::from(0),
            check: |v| int_in(v, 0, 1),
            flag: true,
        },
    ]
}

pub const PARTITIONS_MAX: i64 = 3000;
pub const REPLICAS: (i64, i64) = (1, 3);
pub const CREATE_TOPIC_PER_SECOND: usize = 20;
pub const TIMESTAMP_WINDOW_SECONDS: i64 = 300;
pub const PAGE_MAX: i64 = 50;

/// CKafka's topic name rule; the reason when broken.
pub fn check_topic_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 128 {
        return Err("TopicName must have 1 to 128 characters".into());
    }
    if name.starts_with("__") {
        return Err("TopicName must not start with __".into());
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return Err("TopicName may hold only letters, digits, '.', '_' and '-'".into());
    }
    Ok(())
}

/// A request attribute as the Kafka config value the broker stores.
pub fn to_kafka(attr: &Attribute, v: &Value) -> String {
    if attr.flag {
        (v.as_i64() == Some(1)).to_string()
    } else {
        match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }
}

/// A stored Kafka config value as the `Config` field.
pub fn from_kafka(attr: &Attribute, text: &str) -> Value {
    if attr.flag {
        Value::from(i64::from(text == "true"))
    } else if attr.default.is_string() {
        Value::from(text)
    } else {
        text.parse::<i64>().map_or(Value::from(text), Value::from)
    }
}
