//! What the emulator does to the real broker behind it (the test bed's target Kafka broker): it
//! reads and changes the broker over the Kafka protocol, and keeps of its own only what a
//! single test broker cannot hold, the replica count CKafka was asked for (a CKafka instance has
//! the brokers for 3 replicas; the test broker has one, so every topic gets one replica there).

use std::collections::BTreeMap;
use std::ffi::{CStr, CString};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use rdkafka::admin::{
    AdminClient, AdminOptions, NewPartitions, NewTopic, ResourceSpecifier, TopicReplication,
};
use rdkafka::bindings as rd;
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::types::RDKafkaErrorCode;

use crate::client::{self, REQUEST_TIMEOUT, block_on};

/// A topic as the broker reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerTopic {
    pub partitions: i32,
    pub replicas: i32,
}

pub struct Broker {
    bootstrap: String,
    admin: AdminClient<DefaultClientContext>,
    consumer: BaseConsumer,
    /// ReplicaNum of each topic created through the API.
    replica_counts: std::sync::Mutex<BTreeMap<String, i32>>,
}

/// Why the broker refused a change: its Kafka error code and text.
#[derive(Debug)]
pub struct Refusal {
    pub code: RDKafkaErrorCode,
    pub message: String,
}

impl Broker {
    pub fn connect(bootstrap: &str) -> Result<Broker> {
        Ok(Broker {
            bootstrap: bootstrap.to_string(),
            admin: client::config(bootstrap)
                .create()
                .context("cannot create an admin client")?,
            consumer: client::config(bootstrap)
                .create()
                .context("cannot create a metadata client")?,
            replica_counts: std::sync::Mutex::new(BTreeMap::new()),
        })
    }

    /// Every topic but the internal `__` ones.
    pub fn topics(&self) -> Result<BTreeMap<String, BrokerTopic>> {
        let md = self
            .consumer
            .fetch_metadata(None, REQUEST_TIMEOUT)
            .with_context(|| format!("metadata from {}", self.bootstrap))?;
        Ok(md
            .topics()
            .iter()
            .filter(|t| t.error().is_none() && !t.name().starts_with("__"))
            .map(|t| {
                let on_broker = t
                    .partitions()
                    .first()
                    .map_or(0, |p| p.replicas().len() as i32);
                let replicas = self
                    .replica_counts()
                    .get(t.name())
                    .copied()
                    .unwrap_or(on_broker);
                (
                    t.name().to_string(),
                    BrokerTopic {
                        partitions: t.partitions().len() as i32,
                        replicas,
                    },
                )
            })
            .collect())
    }

    fn replica_counts(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, i32>> {
        self.replica_counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The explicitly set configs of these topics, in one request (Kafka describes every key;
    /// those it flags as defaults are the test broker's, not CKafka's, and are left out).
    pub fn configs(&self, topics: &[&str]) -> Result<BTreeMap<String, BTreeMap<String, String>>> {
        if topics.is_empty() {
            return Ok(BTreeMap::new());
        }
        let resources: Vec<ResourceSpecifier> =
            topics.iter().map(|t| ResourceSpecifier::Topic(t)).collect();
        let options = AdminOptions::new().request_timeout(Some(REQUEST_TIMEOUT));
        let results = block_on(self.admin.describe_configs(&resources, &options))
            .context("DescribeConfigs")?;
        let mut out = BTreeMap::new();
        for (topic, result) in topics.iter().zip(results) {
            let resource = result.map_err(|code| anyhow!("DescribeConfigs of {topic}: {code}"))?;
            let entries = resource
                .entries
                .into_iter()
                .filter(|e| !e.is_default)
                .filter_map(|e| Some((e.name, e.value?)))
                .collect();
            out.insert(topic.to_string(), entries);
        }
        Ok(out)
    }

    pub fn create_topic(
        &self,
        name: &str,
        partitions: i32,
        replicas: i32,
        config: &BTreeMap<String, String>,
    ) -> Result<(), Refusal> {
        let mut topic = NewTopic::new(name, partitions, TopicReplication::Fixed(1));
        for (k, v) in config {
            topic = topic.set(k, v);
        }
        let options = AdminOptions::new().request_timeout(Some(REQUEST_TIMEOUT));
        let results = block_on(self.admin.create_topics([&topic], &options)).map_err(refusal)?;
        for r in results {
            if let Err((_, code)) = r {
                return Err(Refusal {
                    code,
                    message: code.to_string(),
                });
            }
        }
        self.replica_counts().insert(name.to_owned(), replicas);
        self.wait_for(name, partitions)
    }

    pub fn add_partitions(&self, name: &str, total: i32) -> Result<(), Refusal> {
        let request = NewPartitions::new(name, total as usize);
        let options = AdminOptions::new().request_timeout(Some(REQUEST_TIMEOUT));
        let results =
            block_on(self.admin.create_partitions([&request], &options)).map_err(refusal)?;
        for r in results {
            if let Err((_, code)) = r {
                return Err(Refusal {
                    code,
                    message: code.to_string(),
                });
            }
        }
        self.wait_for(name, total)
    }

    /// Commits offsets for a group outside any generation, as CKafka's offset API does.
    pub fn commit_offsets(&self, group: &str, offsets: &[(&str, i32, i64)]) -> Result<()> {
        crate::seed::commit_offsets(&self.bootstrap, group, offsets)
    }

    /// Metadata shows the topic with its partitions (the data plane may use it).
    fn wait_for(&self, name: &str, partitions: i32) -> Result<(), Refusal> {
        let deadline = std::time::Instant::now() + REQUEST_TIMEOUT;
        loop {
            let seen = self
                .topics()
                .ok()
                .and_then(|t| t.get(name).map(|t| t.partitions));
            if seen.is_some_and(|p| p >= partitions) {
                return Ok(());
            }
            if std::time::Instant::now() > deadline {
                return Err(Refusal {
                    code: RDKafkaErrorCode::OperationTimedOut,
                    message: format!("metadata does not show {name} with {partitions} partitions"),
                });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// IncrementalAlterConfigs SET of these keys (rdkafka 0.39 does not wrap it; the legacy
    /// AlterConfigs it does wrap would reset every key not listed).
    pub fn set_configs(&self, topic: &str, keys: &BTreeMap<String, String>) -> Result<()> {
        if keys.is_empty() {
            return Ok(());
        }
        let client = self.admin.inner().native_ptr();
        let name = CString::new(topic)?;
        let texts: Vec<(CString, CString)> = keys
            .iter()
            .map(|(k, v)| Ok((CString::new(k.as_str())?, CString::new(v.as_str())?)))
            .collect::<Result<_>>()?;
        // SAFETY: every pointer is created here and destroyed before returning; librdkafka
        // copies names and values.
        unsafe {
            let mut resource = rd::rd_kafka_ConfigResource_new(
                rd::rd_kafka_ResourceType_t::RD_KAFKA_RESOURCE_TOPIC,
                name.as_ptr(),
            );
            for (k, v) in &texts {
                let error = rd::rd_kafka_ConfigResource_add_incremental_config(
                    resource,
                    k.as_ptr(),
                    rd::rd_kafka_AlterConfigOpType_t::RD_KAFKA_ALTER_CONFIG_OP_TYPE_SET,
                    v.as_ptr(),
                );
                if !error.is_null() {
                    let text = CStr::from_ptr(rd::rd_kafka_error_string(error))
                        .to_string_lossy()
                        .to_string();
                    rd::rd_kafka_error_destroy(error);
                    rd::rd_kafka_ConfigResource_destroy(resource);
                    bail!("config {k:?}: {text}");
                }
            }
            let queue = rd::rd_kafka_queue_new(client);
            let options = rd::rd_kafka_AdminOptions_new(
                client,
                rd::rd_kafka_admin_op_t::RD_KAFKA_ADMIN_OP_INCREMENTALALTERCONFIGS,
            );
            rd::rd_kafka_IncrementalAlterConfigs(client, &mut resource, 1, options, queue);
            let event = rd::rd_kafka_queue_poll(queue, REQUEST_TIMEOUT.as_millis() as i32);
            let outcome = if event.is_null() {
                Err(anyhow!("IncrementalAlterConfigs timed out"))
            } else if rd::rd_kafka_event_error(event)
                != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR
            {
                Err(anyhow!(
                    "IncrementalAlterConfigs: {}",
                    CStr::from_ptr(rd::rd_kafka_event_error_string(event)).to_string_lossy()
                ))
            } else {
                let result = rd::rd_kafka_event_IncrementalAlterConfigs_result(event);
                let mut n = 0;
                let answers = rd::rd_kafka_IncrementalAlterConfigs_result_resources(result, &mut n);
                let mut outcome = Ok(());
                for i in 0..n {
                    let answer = *answers.add(i);
                    if rd::rd_kafka_ConfigResource_error(answer)
                        != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR
                    {
                        let text = rd::rd_kafka_ConfigResource_error_string(answer);
                        let text = if text.is_null() {
                            "refused".to_string()
                        } else {
                            CStr::from_ptr(text).to_string_lossy().to_string()
                        };
                        outcome = Err(anyhow!("IncrementalAlterConfigs of {topic}: {text}"));
                    }
                }
                outcome
            };
            if !event.is_null() {
                rd::rd_kafka_event_destroy(event);
            }
            rd::rd_kafka_AdminOptions_destroy(options);
            rd::rd_kafka_queue_destroy(queue);
            rd::rd_kafka_ConfigResource_destroy(resource);
            outcome
        }
    }
}

fn refusal(e: rdkafka::error::KafkaError) -> Refusal {
    Refusal {
        code: e.rdkafka_error_code().unwrap_or(RDKafkaErrorCode::Fail),
        message: e.to_string(),
    }
}
