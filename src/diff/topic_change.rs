//! What the plan will do to one topic on the target: plain data, rendered elsewhere.

use serde::{Deserialize, Serialize};

/// The action on one topic; its symbol is what the human plan prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Update,
    NoOp,
    Blocked,
}

impl Action {
    pub fn symbol(self) -> &'static str {
        match self {
            Action::Create => "+",
            Action::Update => "~",
            Action::NoOp => " ",
            Action::Blocked => "!",
        }
    }
}

/// Where a desired value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Written in the HCL.
    Declared,
    /// Taken from the source topic.
    Source,
}

/// A desired value with its origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Valued<T> {
    pub value: T,
    pub origin: Origin,
}

/// One topic config key to set on the target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigChange {
    pub key: String,
    /// What the target has (or would use) now; `None` only when it cannot be known.
    pub before: Option<String>,
    pub after: String,
    pub origin: Origin,
}

/// A source config the target will not get, and why: never dropped silently.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotCarried {
    pub key: String,
    pub value: Option<String>,
    pub reason: String,
}

/// A value the target platform's rules force to differ from what was declared or found on the
/// source (CKafka: replicas above 3, retention below the minimum, a key it does not take).
/// Shown in the plan; unless accepted in the HCL it blocks the topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Adjustment {
    /// `replication_factor` or `config.KEY`.
    pub key: String,
    /// The value declared or taken from the source.
    pub from: Option<String>,
    /// What the target gets instead; `None`: the key is not set at all.
    pub to: Option<String>,
    pub reason: String,
    /// Approved with `accept_adjustments = true` (topic block or the target's ckafka block).
    pub accepted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicChange {
    /// Source topic name (or the declared name when the source has no such topic).
    pub name: String,
    pub target_name: String,
    pub action: Action,
    pub exists_on_target: bool,
    /// Partition count on the source, when the topic exists there.
    pub source_partitions: Option<i32>,
    /// Target partition count now, when the topic exists there.
    pub target_partitions: Option<i32>,
    /// Desired partition count (set on create, or when it grows).
    pub partitions: Option<Valued<i32>>,
    pub replication_factor: Option<Valued<i32>>,
    pub config: Vec<ConfigChange>,
    pub not_carried: Vec<NotCarried>,
    /// Values the target's rules change; empty for a plain Kafka target.
    #[serde(default)]
    pub adjustments: Vec<Adjustment>,
    /// Why the topic cannot be migrated as declared; non-empty iff action is Blocked.
    pub blocked: Vec<String>,
    /// Facts worth reading that change nothing.
    pub notes: Vec<String>,
    /// The target keeps records for less time than the source: what the copy leaves behind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_cut: Option<crate::domain::RetentionCut>,
}

impl TopicChange {
    /// A change that does nothing yet: the diff (and tests) fill in what it finds.
    pub fn new(name: &str, target_name: &str) -> TopicChange {
        TopicChange {
            name: name.to_string(),
            target_name: target_name.to_string(),
            action: Action::NoOp,
            exists_on_target: false,
            source_partitions: None,
            target_partitions: None,
            partitions: None,
            replication_factor: None,
            config: Vec::new(),
            not_carried: Vec::new(),
            adjustments: Vec::new(),
            blocked: Vec::new(),
            notes: Vec::new(),
            retention_cut: None,
        }
    }

    /// Whether the target needs more partitions than it has.
    pub fn grows_partitions(&self) -> bool {
        matches!((self.target_partitions, self.partitions), (Some(now), Some(want)) if want.value > now)
    }
}
