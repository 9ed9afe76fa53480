//! A range of source offsets the configuration accepts losing: retention (or DeleteRecords)
//! removed them on the source before ferry copied them. Without one, the copy stops at such a
//! gap; with one, it skips exactly that range and no more.

use serde::{Deserialize, Serialize};

/// `replication { accept_gaps = [{ topic, partition, from, to }] }`: source offsets
/// `from..=to` of `topic[partition]` may be missing from the copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcceptedGap {
    /// The source topic.
    pub topic: String,
    pub partition: i32,
    /// First source offset that may be lost.
    pub from: i64,
    /// Last source offset that may be lost (inclusive, as the copy's error names it).
    pub to: i64,
}

impl AcceptedGap {
    /// Whether this accepts losing source offsets `lost_from..=lost_to` of `topic[partition]`.
    pub fn covers(&self, topic: &str, partition: i32, lost_from: i64, lost_to: i64) -> bool {
        self.topic == topic
            && self.partition == partition
            && self.from <= lost_from
            && lost_to <= self.to
    }

    /// The HCL that accepts exactly this gap, for messages.
    pub fn hcl(&self) -> String {
        format!(
            "{{ topic = \"{}\", partition = {}, from = {}, to = {} }}",
            self.topic, self.partition, self.from, self.to
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gap_is_accepted_only_inside_the_declared_range() {
        let gap = AcceptedGap {
            topic: "orders".into(),
            partition: 3,
            from: 40,
            to: 54,
        };
        assert!(gap.covers("orders", 3, 40, 54));
        assert!(gap.covers("orders", 3, 45, 50));
        // More was deleted since the range was written down: not accepted.
        assert!(!gap.covers("orders", 3, 40, 60));
        assert!(!gap.covers("orders", 3, 39, 54));
        assert!(!gap.covers("orders", 2, 40, 54));
        assert!(!gap.covers("payments", 3, 40, 54));
        assert_eq!(
            gap.hcl(),
            r#"{ topic = "orders", partition = 3, from = 40, to = 54 }"#
        );
    }
}
