//! The desired model: what the HCL files declare, evaluated and validated.
//!
//! Everything downstream (diff, plan, apply) reads only this, never the HCL itself.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use regex::Regex;
use serde::{Serialize, Serializer};

use crate::masking::Masker;

pub use crate::domain::StartFrom;

/// The whole declared migration.
#[derive(Debug, Clone, Serialize)]
pub struct Desired {
    pub migration: Migration,
    pub source: ClusterSettings,
    pub target: ClusterSettings,
    pub topics: TopicDefaults,
    /// Explicit `topic "NAME"` blocks, sorted by name.
    pub topic_blocks: Vec<TopicBlock>,
    pub groups: GroupSelection,
    pub hooks: BTreeMap<String, Hook>,
    pub replication: Replication,
    pub state: StateSettings,
    /// SHA-256 over every HCL file (name and bytes, sorted by name) and the values they read
    /// (variables, `env()`): a saved plan is stale when it changes.
    pub fingerprint: String,
    /// Every sensitive variable's value, masked in every message ([`Desired::masker`]).
    #[serde(skip)]
    pub secrets: Vec<Secret>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Migration {
    pub name: String,
    pub scheme: Scheme,
    /// How long a wait condition must hold before apply moves on.
    #[serde(with = "humantime_serde_compat")]
    pub settle_period: Duration,
    /// How long apply waits on one condition before it stops with an error.
    #[serde(with = "humantime_serde_compat")]
    pub wait_timeout: Duration,
    pub location: Location,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scheme {
    DualConsume,
    SingleConsume,
    Mirror,
}

impl Scheme {
    pub const ALL: [Scheme; 3] = [Scheme::DualConsume, Scheme::SingleConsume, Scheme::Mirror];

    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::DualConsume => "dual_consume",
            Scheme::SingleConsume => "single_consume",
            Scheme::Mirror => "mirror",
        }
    }

    /// Hooks the scheme's step list calls; `true` means the migration cannot run without it.
    pub fn hooks(self) -> &'static [(&'static str, bool)] {
        match self {
            Scheme::DualConsume => &[
                ("start_target_consumers", false),
                ("switch_producers", true),
                ("stop_source_consumers", false),
            ],
            Scheme::SingleConsume => &[("switch_producers", true), ("switch_consumers", true)],
            Scheme::Mirror => &[
                ("stop_source_consumers", true),
                ("start_target_consumers", true),
                ("stop_source_producers", true),
                ("start_target_producers", true),
            ],
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Connection settings of one cluster.
#[derive(Debug, Clone, Serialize)]
pub struct ClusterSettings {
    pub bootstrap_servers: Vec<String>,
    /// Optional pin: refuse to run against a cluster with another id.
    pub cluster_id: Option<String>,
    pub sasl: Option<Sasl>,
    pub tls: Option<Tls>,
    /// Raw librdkafka client properties, passed through unchanged.
    pub properties: BTreeMap<String, String>,
    pub ckafka: Option<CkafkaSettings>,
    pub location: Location,
}

impl ClusterSettings {
    /// A cluster reached in plaintext with nothing else set, as tests and generated configs need.
    pub fn plaintext(bootstrap: &str) -> ClusterSettings {
        ClusterSettings {
            bootstrap_servers: vec![bootstrap.to_string()],
            cluster_id: None,
            sasl: None,
            tls: None,
            properties: BTreeMap::new(),
            ckafka: None,
            location: Location::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Sasl {
    pub mechanism: SaslMechanism,
    pub username: String,
    pub password: Secret,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SaslMechanism {
    #[serde(rename = "PLAIN")]
    Plain,
    #[serde(rename = "SCRAM-SHA-256")]
    ScramSha256,
    #[serde(rename = "SCRAM-SHA-512")]
    ScramSha512,
}

impl SaslMechanism {
    pub fn as_str(self) -> &'static str {
        match self {
            SaslMechanism::Plain => "PLAIN",
            SaslMechanism::ScramSha256 => "SCRAM-SHA-256",
            SaslMechanism::ScramSha512 => "SCRAM-SHA-512",
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Tls {
    pub ca_file: Option<PathBuf>,
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
    pub key_password: Option<Secret>,
    /// Skip server certificate verification (testing only).
    pub insecure_skip_verify: bool,
}

/// The `ckafka` block of cluster "target": topic metadata goes through the CKafka cloud API.
#[derive(Debug, Clone, Serialize)]
pub struct CkafkaSettings {
    pub instance_id: String,
    pub region: String,
    /// API endpoint (host, or URL with scheme and port) instead of ckafka.tencentcloudapi.com.
    pub endpoint: Option<String>,
    /// API credentials from the HCL; when unset, TENCENTCLOUD_SECRET_ID / _KEY are read at connect.
    pub secret_id: Option<Secret>,
    pub secret_key: Option<Secret>,
    /// Approves every topic's adjustments (a topic block's own setting wins).
    pub accept_adjustments: bool,
    /// Commit group offsets with BatchModifyGroupOffsets instead of a Kafka-protocol commit.
    pub offsets_through_api: bool,
    /// Bandwidth of the route to the instance in Mbit/s, for the copy-time estimate.
    pub route_bandwidth_mbps: Option<f64>,
}

impl CkafkaSettings {
    pub fn new(instance_id: &str, region: &str) -> CkafkaSettings {
        CkafkaSettings {
            instance_id: instance_id.to_string(),
            region: region.to_string(),
            endpoint: None,
            secret_id: None,
            secret_key: None,
            accept_adjustments: false,
            offsets_through_api: false,
            route_bandwidth_mbps: None,
        }
    }
}

/// A value that must never reach output, plans, state or logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The only way to read the value: call sites are easy to audit.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(sensitive)")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("(sensitive)")
    }
}

/// A regular expression that keeps its source text for output.
#[derive(Debug, Clone)]
pub struct Pattern(pub Regex);

impl Pattern {
    pub fn is_match(&self, name: &str) -> bool {
        self.0.is_match(name)
    }
}

impl Serialize for Pattern {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.as_str())
    }
}

/// The `topics` block: which source topics migrate and their defaults.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TopicDefaults {
    pub include: Vec<Pattern>,
    pub exclude: Vec<Pattern>,
    pub replication_factor: Option<i32>,
    /// Topic config values as Kafka wants them (strings), for every selected topic.
    pub config: BTreeMap<String, String>,
}

/// A `topic "NAME"` block.
#[derive(Debug, Clone, Serialize)]
pub struct TopicBlock {
    /// Source topic name.
    pub name: String,
    /// Name on the target when it differs.
    pub target_name: Option<String>,
    pub partitions: Option<i32>,
    pub replication_factor: Option<i32>,
    pub config: BTreeMap<String, String>,
    /// Approves this topic's adjustments on a CKafka target; `None`: the ckafka block decides.
    pub accept_adjustments: Option<bool>,
    pub location: Location,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct GroupSelection {
    pub include: Vec<Pattern>,
    pub exclude: Vec<Pattern>,
}

/// A client-switch command run at its step of the migration. Serialized and debug-printed with
/// the sensitive variables' values masked in its command line, and without its env values.
#[derive(Clone)]
pub struct Hook {
    pub name: String,
    /// Program followed by its arguments.
    pub command: Vec<String>,
    /// Extra environment; values may hold secrets, so never rendered.
    pub env: BTreeMap<String, String>,
    /// Values of the configuration's sensitive variables: the hook runner masks them wherever
    /// they appear (the command line it prints, the hook's log and output), since a hook's
    /// `command` or `args` may use one.
    pub secrets: Vec<Secret>,
    pub timeout: Duration,
    pub location: Location,
}

impl Hook {
    /// The command line with every sensitive variable's value masked.
    pub fn masked_command(&self) -> Vec<String> {
        let masker = Masker::new(self.secrets.iter().map(Secret::expose));
        self.command
            .iter()
            .map(|part| masker.mask(part).into_owned())
            .collect()
    }
}

impl fmt::Debug for Hook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hook")
            .field("name", &self.name)
            .field("command", &self.masked_command())
            .field("env", &self.env.keys().collect::<Vec<_>>())
            .field("timeout", &self.timeout)
            .field("location", &self.location)
            .finish()
    }
}

impl Serialize for Hook {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut h = s.serialize_struct("Hook", 4)?;
        h.serialize_field("name", &self.name)?;
        h.serialize_field("command", &self.masked_command())?;
        h.serialize_field(
            "timeout",
            &humantime::format_duration(self.timeout).to_string(),
        )?;
        h.serialize_field("location", &self.location)?;
        h.end()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Replication {
    pub start_from: StartFrom,
    /// `start_from` is written in the HCL: the copy starts there even where the target's
    /// retention would delete what it copies; by default it starts at the first record the
    /// target keeps (issue 15).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub start_from_declared: bool,
    /// The copy producer's `compression.type`: none by default, since compressing costs CPU on
    /// both ends and pays off only over a slow route with compressible data.
    pub compression: String,
    /// Caught up (mirror) means no partition is more than this many source offsets behind...
    pub max_lag: i64,
    /// ...and the copy holds everything the source held this long ago, both for the settle
    /// period: a live source always has something new, so "nothing left to copy" never holds.
    #[serde(with = "humantime_serde_compat")]
    pub max_lag_time: Duration,
    /// Source ranges retention deleted before they were copied that the copy may skip.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accept_gaps: Vec<crate::domain::AcceptedGap>,
}

/// Default of `replication.max_lag`: about two seconds of a busy partition.
pub const DEFAULT_MAX_LAG: i64 = 1000;
/// Default of `replication.max_lag_time`.
pub const DEFAULT_MAX_LAG_TIME: Duration = Duration::from_secs(10);

/// The values `replication.compression` takes (librdkafka's `compression.type`).
pub const COMPRESSIONS: &[&str] = &["none", "gzip", "snappy", "lz4", "zstd"];

impl Replication {
    /// The accepted gaps of source partition `topic[partition]`.
    pub fn gaps_of(&self, topic: &str, partition: i32) -> Vec<crate::domain::AcceptedGap> {
        self.accept_gaps
            .iter()
            .filter(|gap| gap.topic == topic && gap.partition == partition)
            .cloned()
            .collect()
    }
}

impl Default for Replication {
    fn default() -> Self {
        Replication {
            start_from: StartFrom::Earliest,
            start_from_declared: false,
            compression: "none".to_string(),
            max_lag: DEFAULT_MAX_LAG,
            max_lag_time: DEFAULT_MAX_LAG_TIME,
            accept_gaps: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct StateSettings {
    /// Resolved against the config directory.
    pub path: PathBuf,
}

/// Where something was declared, for error messages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Location {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

mod humantime_serde_compat {
    use std::time::Duration;

    use serde::Serializer;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*d).to_string())
    }
}

impl Desired {
    /// What no message may show: the sensitive variables' values and every secret key's value
    /// (passwords, API keys), whether or not a variable holds it.
    pub fn masker(&self) -> crate::masking::Masker {
        let cluster = |c: &ClusterSettings| {
            let sasl = c.sasl.as_ref().map(|s| &s.password);
            let tls = c.tls.as_ref().and_then(|t| t.key_password.as_ref());
            let api = c
                .ckafka
                .iter()
                .flat_map(|k| [k.secret_id.as_ref(), k.secret_key.as_ref()]);
            sasl.into_iter()
                .chain(tls)
                .chain(api.flatten())
                .cloned()
                .collect::<Vec<_>>()
        };
        crate::masking::Masker::new(
            self.secrets
                .iter()
                .chain(&cluster(&self.source))
                .chain(&cluster(&self.target))
                .map(|s| s.expose().to_string()),
        )
    }

    /// Whether a source topic is migrated: an explicit block, or include minus exclude.
    pub fn selects_topic(&self, name: &str) -> bool {
        self.topic_block(name).is_some()
            || (self.topics.include.iter().any(|p| p.is_match(name))
                && !self.topics.exclude.iter().any(|p| p.is_match(name)))
    }

    pub fn topic_block(&self, name: &str) -> Option<&TopicBlock> {
        self.topic_blocks.iter().find(|b| b.name == name)
    }

    /// The platform the target's topic metadata is managed on.
    pub fn target_platform(&self) -> crate::platform::Platform {
        match self.target.ckafka {
            Some(_) => crate::platform::Platform::Ckafka,
            None => crate::platform::Platform::Kafka,
        }
    }

    /// Whether this source topic's adjustments are approved.
    pub fn accepts_adjustments(&self, source_topic: &str) -> bool {
        self.topic_block(source_topic)
            .and_then(|b| b.accept_adjustments)
            .or_else(|| self.target.ckafka.as_ref().map(|c| c.accept_adjustments))
            .unwrap_or(false)
    }

    pub fn selects_group(&self, name: &str) -> bool {
        self.groups.include.iter().any(|p| p.is_match(name))
            && !self.groups.exclude.iter().any(|p| p.is_match(name))
    }
}
