//! Kafka-side values <-> CKafka API JSON, as pure functions: the request bodies ferry sends and
//! the topic attributes it reads back.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::cluster::{ConfigValue, NewTopicSpec, PartitionOffsets, TopicConfig};
use crate::platform::ApiKind;

use super::limits::{TOPIC_KEYS, api_field};

/// Topic configs as request fields (`retention.ms` -> `RetentionMs`). A key without an API
/// field is an error naming it: the plan should have turned it into an adjustment.
pub fn config_fields(config: &BTreeMap<String, String>) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    for (key, value) in config {
        let field = api_field(key)
            .ok_or_else(|| format!("the CKafka API has no field for topic config {key}"))?;
        let v = match field.kind {
            ApiKind::Integer => Value::from(
                value
                    .trim()
                    .parse::<i64>()
                    .map_err(|_| format!("{key} = \"{value}\" is not an integer"))?,
            ),
            ApiKind::Flag => Value::from(i64::from(value.trim().eq_ignore_ascii_case("true"))),
            ApiKind::Text => Value::from(value.trim()),
        };
        out.insert(field.request.to_string(), v);
    }
    Ok(out)
}

pub fn create_topic(instance_id: &str, spec: &NewTopicSpec) -> Result<Value, String> {
    let mut body = config_fields(&spec.config)?;
    body.insert("InstanceId".into(), instance_id.into());
    body.insert("TopicName".into(), spec.name.clone().into());
    body.insert("PartitionNum".into(), spec.partitions.into());
    body.insert("ReplicaNum".into(), spec.replication_factor.into());
    Ok(Value::Object(body))
}

pub fn modify_topic_attributes(
    instance_id: &str,
    topic: &str,
    config: &BTreeMap<String, String>,
) -> Result<Value, String> {
    let mut body = config_fields(config)?;
    body.insert("InstanceId".into(), instance_id.into());
    body.insert("TopicName".into(), topic.into());
    Ok(Value::Object(body))
}

/// CreatePartition takes the new total, not the number to add.
pub fn create_partition(instance_id: &str, topic: &str, total: i32) -> Value {
    json!({"InstanceId": instance_id, "TopicName": topic, "PartitionNum": total})
}

pub fn describe_topic_detail(instance_id: &str, offset: usize, limit: usize) -> Value {
    json!({"InstanceId": instance_id, "Offset": offset, "Limit": limit})
}

/// One request per topic: BatchModifyGroupOffsets sets the listed partitions of the listed
/// topics to the same offsets.
pub fn batch_modify_group_offsets(
    instance_id: &str,
    group: &str,
    offsets: &PartitionOffsets,
) -> Vec<Value> {
    offsets
        .iter()
        .filter(|(_, parts)| !parts.is_empty())
        .map(|(topic, parts)| {
            let partitions: Vec<Value> = parts
                .iter()
                .map(|(p, o)| json!({"Partition": p, "Offset": o}))
                .collect();
            json!({
                "InstanceId": instance_id,
                "GroupName": group,
                "TopicName": [topic],
                "Partitions": partitions,
            })
        })
        .collect()
}

/// A topic's `Config` object -> Kafka keys. Complete when every key ferry manages is there;
/// otherwise absent keys count as CKafka defaults downstream.
pub fn topic_config(config: &Value) -> TopicConfig {
    let mut entries = BTreeMap::new();
    for spec in TOPIC_KEYS {
        let Some(field) = spec.api else { continue };
        let value = match (config.get(field.describe), field.kind) {
            (None | Some(Value::Null), _) => continue,
            (Some(v), ApiKind::Flag) => {
                (v.as_i64() == Some(1) || v.as_bool() == Some(true)).to_string()
            }
            (Some(Value::String(s)), _) => s.clone(),
            (Some(v), _) => v.to_string(),
        };
        entries.insert(
            spec.key.to_string(),
            ConfigValue {
                value: Some(value),
                is_default: false,
                sensitive: false,
            },
        );
    }
    TopicConfig {
        complete: entries.len() == TOPIC_KEYS.len(),
        entries,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn create_topic_carries_counts_and_every_config_as_its_api_field() {
        let spec = NewTopicSpec {
            name: "orders".into(),
            partitions: 6,
            replication_factor: 3,
            config: map(&[
                ("retention.ms", "604800000"),
                ("cleanup.policy", "compact"),
                ("unclean.leader.election.enable", "true"),
                ("max.message.bytes", "2097152"),
            ]),
        };
        assert_eq!(
            create_topic("ckafka-1", &spec).unwrap(),
            json!({
                "InstanceId": "ckafka-1", "TopicName": "orders", "PartitionNum": 6, "ReplicaNum": 3,
                "RetentionMs": 604800000, "CleanUpPolicy": "compact",
                "UncleanLeaderElectionEnable": 1, "MaxMessageBytes": 2097152
            })
        );
    }

    #[test]
    fn a_key_without_an_api_field_is_refused_by_name() {
        let e = modify_topic_attributes("i", "t", &map(&[("compression.type", "gzip")]));
        assert!(e.unwrap_err().contains("compression.type"));
    }

    /// The request's shape; tests/ckafka.rs adds partitions through the emulator end to end.
    #[test]
    fn create_partition_sends_the_new_total() {
        assert_eq!(
            create_partition("i", "t", 12),
            json!({"InstanceId": "i", "TopicName": "t", "PartitionNum": 12})
        );
    }

    #[test]
    fn group_offsets_go_one_request_per_topic() {
        let offsets: PartitionOffsets = BTreeMap::from([
            ("a".to_string(), BTreeMap::from([(0, 5), (1, 7)])),
            ("b".to_string(), BTreeMap::new()),
        ]);
        assert_eq!(
            batch_modify_group_offsets("i", "g", &offsets),
            vec![json!({
                "InstanceId": "i", "GroupName": "g", "TopicName": ["a"],
                "Partitions": [{"Partition": 0, "Offset": 5}, {"Partition": 1, "Offset": 7}]
            })]
        );
    }

    #[test]
    fn described_attributes_read_back_as_kafka_keys() {
        let c = topic_config(&json!({
            "Retention": 7200000, "CleanUpPolicy": "delete", "MinInsyncReplicas": 1,
            "SegmentMs": 604800000, "UncleanLeaderElectionEnable": 0,
            "MaxMessageBytes": 1048588, "RetentionBytes": -1, "SegmentBytes": 1073741824
        }));
        assert!(c.complete);
        let get = |k: &str| c.entries[k].value.clone().unwrap();
        assert_eq!(get("retention.ms"), "7200000");
        assert_eq!(get("unclean.leader.election.enable"), "false");
        assert_eq!(get("cleanup.policy"), "delete");
        assert!(!c.entries.contains_key("segment.bytes"));
        assert!(!topic_config(&json!({"Retention": 1})).complete);
    }
}
