//! One way a live cluster differs from what ferry declared or applied: plain data.

use serde::{Deserialize, Serialize};

/// What kind of difference; the order is the order findings are listed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftKind {
    /// A topic ferry created or applied is gone from the target.
    TopicDeleted,
    /// A topic config on the target differs from the declared (or source) value.
    ConfigChanged,
    /// The target topic has another partition count than declared (or the source's).
    PartitionsChanged,
    /// A group's committed offset on the target is below the offset ferry committed, or gone.
    GroupMovedBackwards,
    /// A target topic that no configuration selects.
    UnmanagedTopic,
    /// A source topic the configuration selects that the migration's recorded steps do not
    /// cover: it appeared after the migration started.
    NewSourceTopic,
}

impl DriftKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DriftKind::TopicDeleted => "topic_deleted",
            DriftKind::ConfigChanged => "config_changed",
            DriftKind::PartitionsChanged => "partitions_changed",
            DriftKind::GroupMovedBackwards => "group_moved_backwards",
            DriftKind::UnmanagedTopic => "unmanaged_topic",
            DriftKind::NewSourceTopic => "new_source_topic",
        }
    }

    /// Like the plan's action symbols: `-` gone, `~` changed, `<` moved back, `+` appeared.
    pub fn symbol(self) -> &'static str {
        match self {
            DriftKind::TopicDeleted => "-",
            DriftKind::ConfigChanged | DriftKind::PartitionsChanged => "~",
            DriftKind::GroupMovedBackwards => "<",
            DriftKind::UnmanagedTopic | DriftKind::NewSourceTopic => "+",
        }
    }
}

/// Which cluster a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Target,
    Source,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DriftFinding {
    pub cluster: Side,
    pub kind: DriftKind,
    /// Topic name on `cluster`.
    pub topic: Option<String>,
    pub group: Option<String>,
    pub partition: Option<i32>,
    /// Topic config key, for `config_changed`.
    pub key: Option<String>,
    /// What ferry declared or committed.
    pub expected: Option<String>,
    /// What the cluster has now (`None`: nothing).
    pub actual: Option<String>,
    /// One line for people, with what to do.
    pub message: String,
}
