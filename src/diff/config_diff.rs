//! Which topic config keys the target must get so that the topic behaves as on the source.

use crate::cluster::TopicConfig;
use crate::config::{TopicBlock, TopicDefaults};
use crate::platform::Platform;

use super::{ConfigChange, NotCarried, Origin, TopicChange};
use crate::snapshot::ClusterSnapshot;

impl TopicChange {
    /// The value the target topic has for `key` once apply ran: the change's, else what the
    /// existing topic uses, else what the target gives a topic being created.
    pub fn value_after_apply<'a>(
        &'a self,
        key: &str,
        target: &'a ClusterSnapshot,
        platform: Platform,
    ) -> Option<&'a str> {
        match self.config.iter().find(|c| c.key == key) {
            Some(set) => Some(set.after.as_str()),
            None => match target.topics.get(&self.target_name) {
                Some(t) => effective(&t.config, platform, key),
                None => target.created_default(platform, key),
            },
        }
    }
}

/// The value a topic actually uses for `key`: its reported value, or the platform default when
/// the broker reported only explicitly set keys and this one is not among them.
fn effective<'a>(config: &'a TopicConfig, platform: Platform, key: &str) -> Option<&'a str> {
    match config.entries.get(key) {
        Some(v) => v.value.as_deref(),
        None if config.complete => None,
        None => platform.default_of(key),
    }
}

/// For every key the target platform accepts: the HCL value if declared (topic block, then the
/// `topics` defaults), else the source's effective value; a change wherever that differs from
/// what the target has now (`existing`) or would give a topic being created (`target`'s
/// brokers, else the platform's defaults; a key whose default nobody knows is always set).
pub fn config_changes(
    target_platform: Platform,
    block: Option<&TopicBlock>,
    defaults: &TopicDefaults,
    source: Option<&TopicConfig>,
    existing: Option<&TopicConfig>,
    target: &ClusterSnapshot,
) -> Vec<ConfigChange> {
    let mut changes = Vec::new();
    for spec in target_platform.keys() {
        let key = spec.key;
        let declared = block
            .and_then(|b| b.config.get(key))
            .or_else(|| defaults.config.get(key));
        let (want, origin) = match (declared, source) {
            (Some(v), _) => (v.as_str(), Origin::Declared),
            (None, Some(src)) => match effective(src, Platform::Kafka, key) {
                Some(v) => (v, Origin::Source),
                None => continue,
            },
            (None, None) => continue,
        };
        let now = match existing {
            Some(t) => effective(t, target_platform, key),
            None => target.created_default(target_platform, key),
        };
        if now.is_some_and(|n| target_platform.same_value(key, n, want)) {
            continue;
        }
        changes.push(ConfigChange {
            key: key.to_string(),
            before: now.map(str::to_string),
            after: want.to_string(),
            origin,
        });
    }
    changes
}

/// Source keys set on the topic that the target will not get.
pub fn not_carried(target_platform: Platform, source: &TopicConfig) -> Vec<NotCarried> {
    source
        .entries
        .iter()
        .filter(|(_, v)| !v.is_default)
        .filter_map(|(k, v)| {
            target_platform.why_not_carried(k).map(|reason| NotCarried {
                key: k.clone(),
                value: if v.sensitive { None } else { v.value.clone() },
                reason: reason.to_string(),
            })
        })
        .collect()
}
