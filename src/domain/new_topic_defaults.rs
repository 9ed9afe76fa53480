//! What a topic created on a cluster gets for the keys ferry does not set: the brokers' `log.*`
//! settings under their topic-level names. Kafka documents them per key ("the server default
//! property for this topic configuration") and reports them only on the broker resource, so a
//! plan that creates topics reads them there; a default assumed from Kafka's documentation
//! would miss a target configured to keep less (issue 15).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// Broker settings, as DescribeConfigs on one broker reports them (`None`: unset).
pub type BrokerConfig = BTreeMap<String, Option<String>>;

/// Topic keys ferry may need to leave unset, and the broker settings that decide them, the
/// first set one winning; `scale` turns the value into the topic key's unit (hours and minutes
/// into milliseconds). From Kafka's `ServerTopicConfigSynonyms`.
const SYNONYMS: &[(&str, &[(&str, i64)])] = &[
    ("cleanup.policy", &[("log.cleanup.policy", 1)]),
    ("compression.type", &[("compression.type", 1)]),
    (
        "delete.retention.ms",
        &[("log.cleaner.delete.retention.ms", 1)],
    ),
    (
        "file.delete.delay.ms",
        &[("log.segment.delete.delay.ms", 1)],
    ),
    ("flush.messages", &[("log.flush.interval.messages", 1)]),
    (
        "flush.ms",
        &[
            ("log.flush.interval.ms", 1),
            ("log.flush.scheduler.interval.ms", 1),
        ],
    ),
    ("index.interval.bytes", &[("log.index.interval.bytes", 1)]),
    (
        "max.compaction.lag.ms",
        &[("log.cleaner.max.compaction.lag.ms", 1)],
    ),
    ("max.message.bytes", &[("message.max.bytes", 1)]),
    (
        "message.timestamp.after.max.ms",
        &[("log.message.timestamp.after.max.ms", 1)],
    ),
    (
        "message.timestamp.before.max.ms",
        &[("log.message.timestamp.before.max.ms", 1)],
    ),
    (
        "message.timestamp.type",
        &[("log.message.timestamp.type", 1)],
    ),
    (
        "min.cleanable.dirty.ratio",
        &[("log.cleaner.min.cleanable.ratio", 1)],
    ),
    (
        "min.compaction.lag.ms",
        &[("log.cleaner.min.compaction.lag.ms", 1)],
    ),
    ("min.insync.replicas", &[("min.insync.replicas", 1)]),
    ("preallocate", &[("log.preallocate", 1)]),
    ("retention.bytes", &[("log.retention.bytes", 1)]),
    (
        "retention.ms",
        &[
            ("log.retention.ms", 1),
            ("log.retention.minutes", 60_000),
            ("log.retention.hours", 3_600_000),
        ],
    ),
    ("segment.bytes", &[("log.segment.bytes", 1)]),
    ("segment.index.bytes", &[("log.index.size.max.bytes", 1)]),
    (
        "segment.jitter.ms",
        &[
            ("log.roll.jitter.ms", 1),
            ("log.roll.jitter.hours", 3_600_000),
        ],
    ),
    (
        "segment.ms",
        &[("log.roll.ms", 1), ("log.roll.hours", 3_600_000)],
    ),
    (
        "unclean.leader.election.enable",
        &[("unclean.leader.election.enable", 1)],
    ),
];

/// Keys that decide what a topic keeps, accepts and stamps: where the brokers' defaults could
/// not be read, a created topic gets them set from the source rather than left to an unknown
/// default.
pub const KEYS_SET_WHEN_UNREAD: &[&str] = &[
    "cleanup.policy",
    "max.message.bytes",
    "message.timestamp.type",
    "retention.bytes",
    "retention.ms",
];

/// What a created topic gets for each key, as read from the cluster's brokers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewTopicDefaults {
    /// Topic key -> value, where every broker read agrees.
    pub values: BTreeMap<String, String>,
    /// Topic keys without a known default: brokers that disagree, or a read that failed.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub unknown: BTreeSet<String>,
    /// Why the brokers' settings could not be read, when they could not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unread: Option<String>,
}

/// A key's default on a created topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultValue<'a> {
    /// The brokers say.
    Read(&'a str),
    /// Nobody can say: ferry sets the key rather than leave it to chance.
    Unknown,
    /// Not among the settings read: the platform's documented default applies.
    NotRead,
}

impl NewTopicDefaults {
    /// The topic-level defaults of these brokers' settings; a key on which brokers differ
    /// (each broker's static `server.properties` is its own) is unknown.
    pub fn from_brokers(brokers: &BTreeMap<i32, BrokerConfig>) -> NewTopicDefaults {
        let mut defaults = NewTopicDefaults::default();
        for (key, synonyms) in SYNONYMS {
            let read: Vec<Option<String>> = brokers
                .values()
                .map(|config| topic_value(config, synonyms))
                .collect();
            match read.first() {
                Some(first) if read.iter().all(|v| v == first) => {
                    if let Some(v) = first {
                        defaults.values.insert(key.to_string(), v.clone());
                    }
                }
                Some(_) => {
                    defaults.unknown.insert(key.to_string());
                }
                None => {}
            }
        }
        defaults
    }

    /// The brokers' settings could not be read (`reason`): the keys in
    /// [`KEYS_SET_WHEN_UNREAD`] are unknown, the rest take the platform's defaults.
    pub fn unread(reason: String) -> NewTopicDefaults {
        NewTopicDefaults {
            values: BTreeMap::new(),
            unknown: KEYS_SET_WHEN_UNREAD.iter().map(|k| k.to_string()).collect(),
            unread: Some(reason),
        }
    }

    pub fn get(&self, key: &str) -> DefaultValue<'_> {
        match self.values.get(key) {
            Some(v) => DefaultValue::Read(v),
            None if self.unknown.contains(key) => DefaultValue::Unknown,
            None => DefaultValue::NotRead,
        }
    }
}

/// The first set synonym, in the topic key's unit.
fn topic_value(config: &BrokerConfig, synonyms: &[(&str, i64)]) -> Option<String> {
    synonyms.iter().find_map(|(name, scale)| {
        let value = config.get(*name)?.as_deref()?.trim();
        if value.is_empty() {
            return None;
        }
        if *scale == 1 {
            return Some(value.to_string());
        }
        let n: i64 = value.parse().ok()?;
        // A negative retention means "no limit" in any unit.
        Some(if n < 0 {
            "-1".into()
        } else {
            n.saturating_mul(*scale).to_string()
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn broker(settings: &[(&str, Option<&str>)]) -> BrokerConfig {
        settings
            .iter()
            .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
            .collect()
    }

    #[test]
    fn each_topic_key_takes_the_first_set_broker_setting_in_its_own_unit() {
        let unset = None;
        type Settings<'a> = &'a [(&'a str, Option<&'a str>)];
        let cases: &[(&str, Settings, &str, DefaultValue<'_>)] = &[
            (
                "Kafka's stock broker: hours only",
                &[
                    ("log.retention.ms", unset),
                    ("log.retention.minutes", unset),
                    ("log.retention.hours", Some("168")),
                ],
                "retention.ms",
                DefaultValue::Read("604800000"),
            ),
            (
                "minutes beat hours",
                &[
                    ("log.retention.minutes", Some("90")),
                    ("log.retention.hours", Some("168")),
                ],
                "retention.ms",
                DefaultValue::Read("5400000"),
            ),
            (
                "ms beat minutes",
                &[
                    ("log.retention.ms", Some("1000")),
                    ("log.retention.minutes", Some("90")),
                ],
                "retention.ms",
                DefaultValue::Read("1000"),
            ),
            (
                "keep forever in hours is -1 ms",
                &[("log.retention.hours", Some("-1"))],
                "retention.ms",
                DefaultValue::Read("-1"),
            ),
            (
                "renamed key",
                &[("log.message.timestamp.type", Some("LogAppendTime"))],
                "message.timestamp.type",
                DefaultValue::Read("LogAppendTime"),
            ),
            (
                "same name on both levels",
                &[("min.insync.replicas", Some("2"))],
                "min.insync.replicas",
                DefaultValue::Read("2"),
            ),
            (
                "not reported",
                &[],
                "retention.bytes",
                DefaultValue::NotRead,
            ),
        ];
        for (name, settings, key, want) in cases {
            let read = NewTopicDefaults::from_brokers(&BTreeMap::from([(1, broker(settings))]));
            assert_eq!(read.get(key), *want, "{name}");
        }
    }

    #[test]
    fn brokers_that_disagree_leave_the_key_unknown() {
        let one = broker(&[
            ("log.retention.hours", Some("168")),
            ("log.cleanup.policy", Some("delete")),
        ]);
        let other = broker(&[
            ("log.retention.hours", Some("24")),
            ("log.cleanup.policy", Some("delete")),
        ]);
        let unset = broker(&[("log.cleanup.policy", Some("delete"))]);
        let read = NewTopicDefaults::from_brokers(&BTreeMap::from([(1, one.clone()), (2, other)]));
        assert_eq!(read.get("retention.ms"), DefaultValue::Unknown);
        assert_eq!(read.get("cleanup.policy"), DefaultValue::Read("delete"));
        let read = NewTopicDefaults::from_brokers(&BTreeMap::from([(1, one), (2, unset)]));
        assert_eq!(read.get("retention.ms"), DefaultValue::Unknown);
    }

    #[test]
    fn an_unread_cluster_leaves_only_what_decides_keeping_unknown() {
        let read = NewTopicDefaults::unread("denied".into());
        for key in KEYS_SET_WHEN_UNREAD {
            assert_eq!(read.get(key), DefaultValue::Unknown, "{key}");
        }
        assert_eq!(read.get("segment.ms"), DefaultValue::NotRead);
        assert_eq!(read.unread.as_deref(), Some("denied"));
    }
}
