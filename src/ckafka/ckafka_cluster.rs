//! A CKafka target: topic metadata (list, partition counts, configs, create, change, add
//! partitions) through the CKafka API; data-plane calls (offsets, groups, commits) through the
//! Kafka protocol of the inner [`RdKafkaCluster`].

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::api_error::ApiError;
use super::client::{ApiClient, Credentials, SECRET_ID_ENV, SECRET_KEY_ENV};
use super::limits::PAGE_SIZE;
use super::requests;
use crate::cluster::{
    CloudApiRefusal, ClusterAccess, ClusterError, ClusterMetadata, GroupActivity, GroupListing,
    NewTopicSpec, OffsetSpec, PartitionMetadata, PartitionOffsets, RdKafkaCluster, Support,
    TopicConfig, TopicMetadata, TopicResult,
};
use crate::config::{CkafkaSettings, ClusterSettings};

/// One topic as the API describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiTopic {
    pub partitions: i32,
    pub replicas: i32,
    pub config: TopicConfig,
}

pub struct CkafkaCluster {
    role: String,
    inner: RdKafkaCluster,
    api: ApiClient,
    settings: CkafkaSettings,
    timeout: Duration,
    /// Topics read by the last `metadata()`, for `topic_configs()` of the same snapshot;
    /// cleared by every write.
    described: Mutex<Option<BTreeMap<String, ApiTopic>>>,
}

impl CkafkaCluster {
    /// Connects the Kafka clients (data plane) and prepares the API client; fails early when
    /// credentials are missing or the API refuses them.
    pub fn connect(
        role: &str,
        settings: &ClusterSettings,
        ckafka: &CkafkaSettings,
        timeout: Duration,
    ) -> Result<CkafkaCluster, ClusterError> {
        let credentials =
            Credentials::resolve(ckafka).ok_or_else(|| ClusterError::CloudCredentials {
                role: role.to_string(),
                id_env: SECRET_ID_ENV.into(),
                key_env: SECRET_KEY_ENV.into(),
            })?;
        let api =
            ApiClient::new(ckafka, credentials, timeout).map_err(|e| api_error(role, ckafka, e))?;
        let inner = RdKafkaCluster::connect(role, settings, timeout)?;
        Ok(CkafkaCluster {
            role: role.to_string(),
            inner,
            api,
            settings: ckafka.clone(),
            timeout,
            described: Mutex::new(None),
        })
    }

    /// The Kafka-protocol side (request counts, data plane).
    pub fn inner(&self) -> &RdKafkaCluster {
        &self.inner
    }

    fn call(&self, action: &str, params: &Value) -> Result<Value, ClusterError> {
        self.api
            .call(action, params)
            .map_err(|e| api_error(&self.role, &self.settings, e))
    }

    fn bad_request(&self, action: &str, detail: String) -> ClusterError {
        ClusterError::Kafka {
            role: self.role.clone(),
            operation: format!("{action} (CKafka API)"),
            detail,
        }
    }

    /// Every topic of the instance, paging through DescribeTopicDetail.
    pub fn describe_topics(&self) -> Result<BTreeMap<String, ApiTopic>, ClusterError> {
        let mut topics = BTreeMap::new();
        let mut offset = 0;
        loop {
            let params =
                requests::describe_topic_detail(&self.settings.instance_id, offset, PAGE_SIZE);
            let result = self.call("DescribeTopicDetail", &params)?;
            let list = result
                .get("TopicList")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let total = result
                .get("TotalCount")
                .and_then(Value::as_u64)
                .unwrap_or(0) as usize;
            for t in &list {
                let Some(name) = t.get("TopicName").and_then(Value::as_str) else {
                    continue;
                };
                let count = |k: &str| t.get(k).and_then(Value::as_i64).unwrap_or(0) as i32;
                topics.insert(
                    name.to_string(),
                    ApiTopic {
                        partitions: count("PartitionNum"),
                        replicas: count("ReplicaNum"),
                        config: requests::topic_config(t.get("Config").unwrap_or(&Value::Null)),
                    },
                );
            }
            offset += list.len();
            if list.is_empty() || offset >= total {
                return Ok(topics);
            }
        }
    }

    fn forget(&self) {
        *self.described.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// Waits until the Kafka protocol (what producers and the copy use) shows each topic with
    /// at least the given partitions.
    fn wait_visible(&self, want: &BTreeMap<String, i32>, what: &str) -> Result<(), ClusterError> {
        let deadline = crate::limits::deadline_in(self.timeout);
        loop {
            let meta = self.inner.metadata()?;
            let missing: Vec<&str> = want
                .iter()
                .filter(|(t, n)| {
                    meta.topics
                        .get(*t)
                        .is_none_or(|m| (m.partitions.len() as i32) < **n)
                })
                .map(|(t, _)| t.as_str())
                .collect();
            if missing.is_empty() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(ClusterError::Timeout {
                    role: self.role.clone(),
                    operation: format!("{what} (Kafka metadata of {})", missing.join(", ")),
                    seconds: self.timeout.as_secs(),
                });
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// An API failure as the error the user sees.
fn api_error(role: &str, settings: &CkafkaSettings, e: ApiError) -> ClusterError {
    let hint = e.hint().to_string();
    match e {
        ApiError::Refused {
            action,
            code,
            message,
            request_id,
        } => ClusterError::CloudApi(Box::new(CloudApiRefusal {
            role: role.to_string(),
            instance: settings.instance_id.clone(),
            action,
            code,
            message,
            request_id,
            hint,
        })),
        other => ClusterError::CloudApiFailed {
            detail: format!("the CKafka API of the {role} cluster: {other}"),
            hint,
        },
    }
}

fn is_already_exists(e: &ClusterError) -> bool {
    matches!(e, ClusterError::CloudApi(r) if r.code.starts_with("ResourceInUse"))
}

impl ClusterAccess for CkafkaCluster {
    /// Cluster id and brokers from the Kafka protocol; topics and their partition and replica
    /// counts from the API (which gives counts, not broker ids: partitions are numbered
    /// 0..count and replica ids are placeholders).
    fn metadata(&self) -> Result<ClusterMetadata, ClusterError> {
        let kafka = self.inner.metadata()?;
        let described = self.describe_topics()?;
        let topics = described
            .iter()
            .map(|(name, t)| {
                let partitions = (0..t.partitions)
                    .map(|id| PartitionMetadata {
                        id,
                        leader: -1,
                        replicas: (0..t.replicas).collect(),
                    })
                    .collect();
                (name.clone(), TopicMetadata { partitions })
            })
            .collect();
        *self.described.lock().unwrap_or_else(|e| e.into_inner()) = Some(described);
        Ok(ClusterMetadata {
            cluster_id: kafka.cluster_id,
            brokers: kafka.brokers,
            topics,
        })
    }

    fn topic_configs(
        &self,
        topics: &[String],
    ) -> Result<BTreeMap<String, TopicConfig>, ClusterError> {
        let cached = self
            .described
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let described = match cached {
            Some(d) => d,
            None => self.describe_topics()?,
        };
        Ok(topics
            .iter()
            .filter_map(|t| described.get(t).map(|d| (t.clone(), d.config.clone())))
            .collect())
    }

    fn offsets(
        &self,
        partitions: &BTreeMap<String, Vec<i32>>,
        spec: OffsetSpec,
    ) -> Result<PartitionOffsets, ClusterError> {
        self.inner.offsets(partitions, spec)
    }

    fn list_groups(&self) -> Result<Vec<GroupListing>, ClusterError> {
        self.inner.list_groups()
    }

    fn group_offsets(
        &self,
        groups: &[String],
    ) -> Result<BTreeMap<String, PartitionOffsets>, ClusterError> {
        self.inner.group_offsets(groups)
    }

    /// CKafka documents CreatePartition; the API has no validate-only form to ask first.
    fn can_add_partitions(&self, _topic: &str, _total: i32) -> Result<Support, ClusterError> {
        Ok(Support::Supported)
    }

    /// Transactions are the Kafka protocol's, whatever the instance's edition: asked there.
    fn transactions_support(&self, transactional_id: &str) -> Support {
        self.inner.transactions_support(transactional_id)
    }

    /// Topic metadata goes through the cloud API, whose credentials are checked on every call
    /// and which has no validate-only form: nothing to ask first.
    fn can_create_topic(&self, _topic: &str) -> Result<(), ClusterError> {
        Ok(())
    }

    /// One CreateTopic per topic (paced under the API's 20/s), then waits until the Kafka
    /// protocol shows every created topic.
    fn create_topics(&self, topics: &[NewTopicSpec]) -> Result<Vec<TopicResult>, ClusterError> {
        self.forget();
        let mut results = Vec::with_capacity(topics.len());
        let mut created = BTreeMap::new();
        for spec in topics {
            let params = requests::create_topic(&self.settings.instance_id, spec).map_err(|d| {
                self.bad_request("CreateTopic", format!("topic {}: {d}", spec.name))
            })?;
            match self.call("CreateTopic", &params) {
                Ok(_) => {
                    created.insert(spec.name.clone(), spec.partitions);
                    results.push(TopicResult::Created(spec.name.clone()));
                }
                Err(e) if is_already_exists(&e) => {
                    results.push(TopicResult::AlreadyExists(spec.name.clone()))
                }
                Err(e) => return Err(with_created(e, &spec.name, &created)),
            }
        }
        self.wait_visible(&created, "created topics")?;
        Ok(results)
    }

    /// One ModifyTopicAttributes per topic.
    fn alter_topic_configs(
        &self,
        changes: &BTreeMap<String, BTreeMap<String, String>>,
    ) -> Result<(), ClusterError> {
        self.forget();
        for (topic, config) in changes {
            let params =
                requests::modify_topic_attributes(&self.settings.instance_id, topic, config)
                    .map_err(|d| {
                        self.bad_request("ModifyTopicAttributes", format!("topic {topic}: {d}"))
                    })?;
            self.call("ModifyTopicAttributes", &params)
                .map_err(|e| with_created(e, topic, &BTreeMap::new()))?;
        }
        Ok(())
    }

    /// One CreatePartition per topic, with the new total; then waits for the Kafka protocol.
    fn add_partitions(&self, topic_totals: &BTreeMap<String, i32>) -> Result<(), ClusterError> {
        self.forget();
        for (topic, total) in topic_totals {
            let params = requests::create_partition(&self.settings.instance_id, topic, *total);
            self.call("CreatePartition", &params)
                .map_err(|e| with_created(e, topic, &BTreeMap::new()))?;
        }
        self.wait_visible(topic_totals, "added partitions")
    }

    /// With `offsets_through_api`, BatchModifyGroupOffsets (one request per topic); else a
    /// Kafka-protocol commit.
    fn commit_group_offsets(
        &self,
        group: &str,
        offsets: &PartitionOffsets,
    ) -> Result<(), ClusterError> {
        if !self.settings.offsets_through_api {
            return self.inner.commit_group_offsets(group, offsets);
        }
        for params in
            requests::batch_modify_group_offsets(&self.settings.instance_id, group, offsets)
        {
            self.call("BatchModifyGroupOffsets", &params)?;
        }
        Ok(())
    }

    fn group_activity(&self, group: &str) -> Result<GroupActivity, ClusterError> {
        self.inner.group_activity(group)
    }

    fn group_members(&self, group: &str) -> Result<Vec<String>, ClusterError> {
        self.inner.group_members(group)
    }
}

/// Names the topic the failed request was about, and the topics created before it.
fn with_created(e: ClusterError, topic: &str, created: &BTreeMap<String, i32>) -> ClusterError {
    let ClusterError::CloudApi(mut r) = e else {
        return e;
    };
    r.action = format!("{} of topic {topic}", r.action);
    if !created.is_empty() {
        let names: Vec<&str> = created.keys().map(String::as_str).collect();
        r.hint = format!(
            "Created before it (a rerun finds them): {}. {}",
            names.join(", "),
            r.hint
        );
    }
    ClusterError::CloudApi(r)
}
