//! The API actions ferry uses, with the documented request and response shapes, applied to the
//! real broker behind the emulator.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use rdkafka::types::RDKafkaErrorCode;
use serde_json::{Map, Value, json};

use super::broker::Broker;
use super::rules;

/// An API error: `Response.Error.Code` and `Message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub code: String,
    pub message: String,
}

impl Fault {
    pub fn new(code: &str, message: impl Into<String>) -> Fault {
        Fault {
            code: code.to_string(),
            message: message.into(),
        }
    }
}

pub struct Actions {
    pub broker: Broker,
    pub instance_id: String,
    /// When recent CreateTopic requests arrived, for the 20/s limit.
    create_times: VecDeque<Instant>,
}

/// Topic name, partition count, replica count.
type PageEntry = (String, i32, i32);

fn internal(e: impl std::fmt::Display) -> Fault {
    Fault::new("InternalError", format!("broker: {e}"))
}

fn str_param<'a>(params: &'a Value, name: &str) -> Result<&'a str, Fault> {
    params
        .get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| Fault::new("MissingParameter", format!("{name} is required")))
}

fn int_param(params: &Value, name: &str) -> Result<i64, Fault> {
    params
        .get(name)
        .and_then(Value::as_i64)
        .ok_or_else(|| Fault::new("MissingParameter", format!("{name} is required")))
}

fn topic_id(name: &str) -> String {
    let digest = <sha2::Sha256 as sha2::Digest>::digest(name.as_bytes());
    format!("topic-{}", &hex::encode(digest)[..8])
}

impl Actions {
    pub fn new(broker: Broker, instance_id: &str) -> Actions {
        Actions {
            broker,
            instance_id: instance_id.to_string(),
            create_times: VecDeque::new(),
        }
    }

    pub fn handle(&mut self, action: &str, params: &Value) -> Result<Value, Fault> {
        let instance = str_param(params, "InstanceId")?;
        if instance != self.instance_id {
            return Err(Fault::new(
                "ResourceNotFound.InstanceNotExist",
                format!("instance {instance} does not exist"),
            ));
        }
        match action {
            "DescribeTopic" => self.describe_topic(params),
            "DescribeTopicDetail" => self.describe_topic_detail(params),
            "DescribeTopicAttributes" => self.describe_topic_attributes(params),
            "CreateTopic" => self.create_topic(params),
            "ModifyTopicAttributes" => self.modify_topic_attributes(params),
            "CreatePartition" => self.create_partition(params),
            "BatchModifyGroupOffsets" => self.batch_modify_group_offsets(params),
            other => Err(Fault::new(
                "InvalidAction",
                format!("the emulator does not implement {other}"),
            )),
        }
    }

    /// Names on the page (`Offset`, `Limit` at most 50), filtered by `SearchWord`, and the total.
    fn page(&self, params: &Value) -> Result<(Vec<PageEntry>, usize), Fault> {
        let offset = params.get("Offset").and_then(Value::as_i64).unwrap_or(0);
        let limit = params.get("Limit").and_then(Value::as_i64).unwrap_or(20);
        if !(1..=rules::PAGE_MAX).contains(&limit) || offset < 0 {
            return Err(Fault::new(
                "InvalidParameterValue",
                format!("Limit must be 1 to {}, Offset >= 0", rules::PAGE_MAX),
            ));
        }
        let word = params
            .get("SearchWord")
            .and_then(Value::as_str)
            .unwrap_or("");
        let all: Vec<(String, i32, i32)> = self
            .broker
            .topics()
            .map_err(internal)?
            .into_iter()
            .filter(|(n, _)| n.contains(word))
            .map(|(n, t)| (n, t.partitions, t.replicas))
            .collect();
        let total = all.len();
        let page = all
            .into_iter()
            .skip(offset as usize)
            .take(limit as usize)
            .collect();
        Ok((page, total))
    }

    fn describe_topic(&self, params: &Value) -> Result<Value, Fault> {
        let (page, total) = self.page(params)?;
        let list: Vec<Value> = page
            .iter()
            .map(|(n, _, _)| json!({"TopicId": topic_id(n), "TopicName": n, "Note": ""}))
            .collect();
        Ok(json!({"TopicList": list, "TotalCount": total}))
    }

    /// The `Config` object: what the broker holds, CKafka defaults for the rest.
    fn config_objects(&self, names: &[&str]) -> Result<BTreeMap<String, Value>, Fault> {
        let stored = self.broker.configs(names).map_err(internal)?;
        Ok(names
            .iter()
            .map(|n| {
                let set = stored.get(*n).cloned().unwrap_or_default();
                let mut config = Map::new();
                for a in rules::attributes() {
                    let v = set
                        .get(a.key)
                        .map_or(a.default.clone(), |t| rules::from_kafka(&a, t));
                    config.insert(a.describe.to_string(), v);
                }
                let segment_bytes = set
                    .get("segment.bytes")
                    .and_then(|s| s.parse::<i64>().ok())
                    .unwrap_or(1_073_741_824);
                config.insert("SegmentBytes".into(), segment_bytes.into());
                (n.to_string(), Value::Object(config))
            })
            .collect())
    }

    fn describe_topic_detail(&self, params: &Value) -> Result<Value, Fault> {
        let (page, total) = self.page(params)?;
        let names: Vec<&str> = page.iter().map(|(n, _, _)| n.as_str()).collect();
        let configs = self.config_objects(&names)?;
        let list: Vec<Value> = page
            .iter()
            .map(|(n, partitions, replicas)| {
                json!({
                    "TopicName": n, "TopicId": topic_id(n), "PartitionNum": partitions,
                    "ReplicaNum": replicas, "Note": "", "CreateTime": 0,
                    "EnableWhiteList": false, "IpWhiteListCount": 0,
                    "Config": configs[n.as_str()],
                })
            })
            .collect();
        Ok(json!({"TopicList": list, "TotalCount": total}))
    }

    fn existing(&self, name: &str) -> Result<(i32, i32), Fault> {
        self.broker
            .topics()
            .map_err(internal)?
            .get(name)
            .map(|t| (t.partitions, t.replicas))
            .ok_or_else(|| {
                Fault::new(
                    "ResourceNotFound.TopicNotExist",
                    format!("topic {name} does not exist"),
                )
            })
    }

    fn describe_topic_attributes(&self, params: &Value) -> Result<Value, Fault> {
        let name = str_param(params, "TopicName")?;
        let (partitions, replicas) = self.existing(name)?;
        let configs = self.config_objects(&[name])?;
        let parts: Vec<Value> = (0..partitions)
            .map(|p| json!({"Partition": p, "LeaderStatus": 0, "IsrNum": replicas, "ReplicaNum": replicas}))
            .collect();
        Ok(json!({
            "TopicId": topic_id(name), "CreateTime": 0, "Note": "", "PartitionNum": partitions,
            "EnableWhiteList": 0, "IpWhiteList": [], "Config": configs[name], "Partitions": parts,
        }))
    }

    /// Request attributes -> Kafka configs, each checked against the documented range.
    fn attributes(params: &Value) -> Result<BTreeMap<String, String>, Fault> {
        let mut out = BTreeMap::new();
        for a in rules::attributes() {
            let Some(v) = params.get(a.request).filter(|v| !v.is_null()) else {
                continue;
            };
            if !(a.check)(v) {
                return Err(Fault::new(
                    "InvalidParameterValue",
                    format!("{} = {v} is outside the allowed range", a.request),
                ));
            }
            out.insert(a.key.to_string(), rules::to_kafka(&a, v));
        }
        Ok(out)
    }

    fn create_topic(&mut self, params: &Value) -> Result<Value, Fault> {
        let now = Instant::now();
        while self
            .create_times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
        {
            self.create_times.pop_front();
        }
        if self.create_times.len() >= rules::CREATE_TOPIC_PER_SECOND {
            return Err(Fault::new(
                "RequestLimitExceeded",
                format!(
                    "CreateTopic is limited to {} requests per second",
                    rules::CREATE_TOPIC_PER_SECOND
                ),
            ));
        }
        self.create_times.push_back(now);

        let name = str_param(params, "TopicName")?;
        rules::check_topic_name(name).map_err(|m| Fault::new("InvalidParameterValue", m))?;
        let partitions = int_param(params, "PartitionNum")?;
        if !(1..=rules::PARTITIONS_MAX).contains(&partitions) {
            return Err(Fault::new(
                "InvalidParameterValue",
                format!("PartitionNum must be 1 to {}", rules::PARTITIONS_MAX),
            ));
        }
        let replicas = int_param(params, "ReplicaNum")?;
        if !(rules::REPLICAS.0..=rules::REPLICAS.1).contains(&replicas) {
            return Err(Fault::new(
                "InvalidParameterValue",
                format!(
                    "ReplicaNum must be {} to {}, got {replicas}",
                    rules::REPLICAS.0,
                    rules::REPLICAS.1
                ),
            ));
        }
        let config = Self::attributes(params)?;
        match self
            .broker
            .create_topic(name, partitions as i32, replicas as i32, &config)
        {
            Ok(()) => Ok(json!({"TopicId": topic_id(name)})),
            Err(r) if r.code == RDKafkaErrorCode::TopicAlreadyExists => Err(Fault::new(
                "ResourceInUse.TopicExist",
                format!("topic {name} already exists"),
            )),
            Err(r) => Err(internal(r.message)),
        }
    }

    fn modify_topic_attributes(&self, params: &Value) -> Result<Value, Fault> {
        let name = str_param(params, "TopicName")?;
        self.existing(name)?;
        let config = Self::attributes(params)?;
        self.broker.set_configs(name, &config).map_err(internal)?;
        Ok(json!({"ReturnCode": "0", "ReturnMessage": "ok", "Data": null}))
    }

    /// Takes the new total (CreatePartitions on the broker); a broker that cannot add
    /// partitions answers UnsupportedOperation, as CKafka would.
    fn create_partition(&self, params: &Value) -> Result<Value, Fault> {
        let name = str_param(params, "TopicName")?;
        let total = int_param(params, "PartitionNum")?;
        let (now, _) = self.existing(name)?;
        if total <= now as i64 || total > rules::PARTITIONS_MAX {
            return Err(Fault::new(
                "InvalidParameterValue",
                format!(
                    "PartitionNum is the new total: more than the current {now}, at most {}",
                    rules::PARTITIONS_MAX
                ),
            ));
        }
        match self.broker.add_partitions(name, total as i32) {
            Ok(()) => Ok(json!({"ReturnCode": "0", "ReturnMessage": "ok", "Data": null})),
            Err(r) if r.code == RDKafkaErrorCode::UnsupportedFeature => Err(Fault::new(
                "UnsupportedOperation",
                "the emulator's broker cannot add partitions",
            )),
            Err(r) => Err(internal(r.message)),
        }
    }

    fn batch_modify_group_offsets(&self, params: &Value) -> Result<Value, Fault> {
        let group = str_param(params, "GroupName")?;
        let topics: Vec<&str> = params
            .get("TopicName")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let partitions = params
            .get("Partitions")
            .and_then(Value::as_array)
            .ok_or_else(|| Fault::new("MissingParameter", "Partitions is required"))?;
        let mut offsets = Vec::new();
        for t in &topics {
            self.existing(t)?;
            for p in partitions {
                let (Some(partition), Some(offset)) = (
                    p.get("Partition").and_then(Value::as_i64),
                    p.get("Offset").and_then(Value::as_i64),
                ) else {
                    return Err(Fault::new(
                        "InvalidParameterValue",
                        "each partition needs Partition and Offset",
                    ));
                };
                offsets.push((*t, partition as i32, offset));
            }
        }
        self.broker
            .commit_offsets(group, &offsets)
            .map_err(internal)?;
        Ok(json!({"ReturnCode": "0", "ReturnMessage": "ok", "Data": null}))
    }
}
