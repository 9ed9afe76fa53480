//! A clamp towards less, kept apart from the adjustments because it is not one: a value CKafka
//! can take only by keeping records for less time, taking smaller records, or acknowledging
//! writes on (or keeping) fewer replicas. `accept_adjustments` never approves it (issue 15: an
//! approved plan once turned `retention.ms = -1` into one minute); only a value the user writes
//! in the topic's block does. This file words the blocker, with the figures the plan may measure.

use crate::diff::Origin;
use crate::domain::{ByteCount, duration_ms, size, thousands};

/// Records on the source, with their bytes when the plan can count them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    pub records: u64,
    /// `None`: the plan could not read them.
    pub bytes: Option<ByteCount>,
}

/// What one source topic holds today that a target keeping at most CKafka's maximum of a key
/// could not keep. Optional input to [`super::adjust_config`]: the plan does not measure the
/// source for it yet (the diff passes `None`); every figure that is `Some` is written into the
/// blocker of its key, and nothing else depends on it (the verdict is the same with or without
/// figures, so an `apply` that diffs without them agrees with the plan).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetentionFacts {
    /// Records older (by timestamp, now) than CKafka's longest `retention.ms`.
    pub older_than_max_retention: Option<Held>,
    /// Records larger than CKafka's largest `max.message.bytes`.
    pub larger_than_max_message: Option<Held>,
}

/// A value CKafka could take only by keeping less: what was asked and CKafka's range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shortening {
    /// `replication_factor` or a config key.
    pub key: String,
    /// The value asked for, as written (declared or the source's).
    pub from: String,
    /// `from` means no limit (a negative `retention.ms`).
    pub unlimited: bool,
    /// The least and the most CKafka takes for the key.
    pub min: i64,
    pub max: i64,
}

impl Shortening {
    /// One paragraph: the key and value, what it keeps, what CKafka can keep at most, what the
    /// target would lose, the figures when known, and the HCL that accepts a value for `topic`
    /// (the source topic's name, as its block is named).
    pub fn blocker(&self, topic: &str, origin: Origin, facts: Option<&RetentionFacts>) -> String {
        let origin = match origin {
            Origin::Declared => "declared",
            Origin::Source => "source",
        };
        let (label, hcl) = if self.key == "replication_factor" {
            (
                format!("replication_factor = {}", self.from),
                format!("topic \"{topic}\" {{ replication_factor = {} }}", self.max),
            )
        } else {
            (
                format!("config.{} = \"{}\"", self.key, self.from),
                format!(
                    "topic \"{topic}\" {{ config = {{ \"{}\" = \"{}\" }} }}",
                    self.key, self.max
                ),
            )
        };
        let figures = self
            .figures(facts)
            .map(|f| format!("; {f}"))
            .unwrap_or_default();
        format!(
            "{label} ({origin}) {}, CKafka {}: {}, which accept_adjustments does not approve{figures}; to accept {} for this topic, write {hcl} (or another value from {} to {})",
            self.asked(),
            self.at_most(),
            self.loss(),
            self.max,
            self.min,
            self.max
        )
    }

    /// What the asked value keeps.
    fn asked(&self) -> String {
        let n = self.from.trim();
        let number = n.parse::<i64>().unwrap_or_default();
        match self.key.as_str() {
            "retention.ms" if self.unlimited => "keeps records forever".into(),
            "retention.ms" => format!("keeps records for {n} ms ({})", duration_ms(number)),
            "max.message.bytes" => format!("takes records up to {n} bytes ({})", size(number)),
            "min.insync.replicas" => {
                format!("acknowledges an acks=all write once {n} replicas have it")
            }
            "replication_factor" => format!("keeps {n} replicas of each partition"),
            _ => format!("asks for {n}"),
        }
    }

    /// What CKafka can keep at most, worded to follow "CKafka".
    fn at_most(&self) -> String {
        let max = self.max;
        match self.key.as_str() {
            "retention.ms" => format!("keeps them at most {max} ms ({})", duration_ms(max)),
            "max.message.bytes" => format!("takes at most {max} bytes ({})", size(max)),
            "min.insync.replicas" => format!("takes at most {max}"),
            "replication_factor" => format!("keeps at most {max}"),
            _ => format!("takes at most {max}"),
        }
    }

    fn loss(&self) -> &'static str {
        match self.key.as_str() {
            "retention.ms" => "the target would delete every record older than that",
            "max.message.bytes" => "the target would refuse larger records, copied or produced",
            "min.insync.replicas" => "writes would be acknowledged on fewer replicas",
            "replication_factor" => "each partition would survive fewer broker failures",
            _ => "the target would keep less",
        }
    }

    /// The figures the plan measured for this key, or what ferry cannot know without them.
    fn figures(&self, facts: Option<&RetentionFacts>) -> Option<String> {
        let facts = facts.copied().unwrap_or_default();
        match self.key.as_str() {
            "retention.ms" => facts.older_than_max_retention.map(|h| {
                format!(
                    "today the source holds {} older than {}",
                    held(h),
                    duration_ms(self.max)
                )
            }),
            "max.message.bytes" => Some(match facts.larger_than_max_message {
                Some(h) => format!("today the source holds {} larger than {}", held(h), size(self.max)),
                None => "ferry does not know the largest record the source holds, so it cannot tell whether any would be refused".into(),
            }),
            _ => None,
        }
    }
}

fn held(h: Held) -> String {
    let records = format!(
        "{} record{}",
        thousands(h.records),
        if h.records == 1 { "" } else { "s" }
    );
    match h.bytes {
        Some(b) => format!("{records} ({})", b.describe()),
        None => records,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shortening(key: &str, from: &str, unlimited: bool, min: i64, max: i64) -> Shortening {
        Shortening {
            key: key.into(),
            from: from.into(),
            unlimited,
            min,
            max,
        }
    }

    #[test]
    fn the_blocker_says_what_is_kept_what_ckafka_keeps_and_the_hcl() {
        let text = shortening("retention.ms", "-1", true, 60_000, 7_776_000_000).blocker(
            "events",
            Origin::Source,
            None,
        );
        assert_eq!(
            text,
            "config.retention.ms = \"-1\" (source) keeps records forever, CKafka keeps them at most 7776000000 ms (90 days): the target would delete every record older than that, which accept_adjustments does not approve; to accept 7776000000 for this topic, write topic \"events\" { config = { \"retention.ms\" = \"7776000000\" } } (or another value from 60000 to 7776000000)"
        );
        let rf = shortening("replication_factor", "5", false, 1, 3).blocker(
            "wide",
            Origin::Declared,
            None,
        );
        assert!(
            rf.starts_with("replication_factor = 5 (declared) keeps 5 replicas of each partition, CKafka keeps at most 3"),
            "{rf}"
        );
        assert!(
            rf.contains("write topic \"wide\" { replication_factor = 3 }"),
            "{rf}"
        );
    }

    #[test]
    fn figures_are_written_when_the_plan_measured_them() {
        let facts = RetentionFacts {
            older_than_max_retention: Some(Held {
                records: 1_234,
                bytes: Some(ByteCount {
                    bytes: 5 << 20,
                    exact: false,
                }),
            }),
            larger_than_max_message: Some(Held {
                records: 1,
                bytes: None,
            }),
        };
        let retention = shortening("retention.ms", "-1", true, 60_000, 7_776_000_000);
        let text = retention.blocker("events", Origin::Source, Some(&facts));
        assert!(
            text.contains(
                "; today the source holds 1,234 records (an estimated 5 MiB) older than 90 days;"
            ),
            "{text}"
        );
        assert!(
            !retention
                .blocker("events", Origin::Source, None)
                .contains("today")
        );
        let size = shortening("max.message.bytes", "20000000", false, 1024, 12_582_912);
        let text = size.blocker("events", Origin::Source, Some(&facts));
        assert!(
            text.contains("today the source holds 1 record larger than 12 MiB"),
            "{text}"
        );
        let text = size.blocker("events", Origin::Source, None);
        assert!(
            text.contains("ferry does not know the largest record the source holds"),
            "{text}"
        );
    }
}
