//! Progress of a running copy, and its one-line summary for people.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::domain::thousands;

/// Topics named in a summary at most (those with the most lag).
const TOPICS_SHOWN: usize = 3;

/// Progress of a running copy, over all its jobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyProgress {
    /// Records delivered to the target in this run.
    pub copied: u64,
    /// Key and value bytes delivered to the target in this run.
    pub bytes: u64,
    /// Source records not copied yet, up to the high watermarks read at the start.
    pub lag: i64,
    /// [`CopyProgress::lag`] per target topic.
    pub lag_by_topic: BTreeMap<String, i64>,
    /// Partitions that reached their end.
    pub partitions_done: usize,
    pub partitions: usize,
    /// Partitions an open transaction on the source holds below their end.
    pub held: Vec<HeldPartition>,
}

/// A source partition whose `read_committed` end (the last stable offset) has stayed below its
/// high watermark: a transaction that began at `offset` is still open, and no record from there
/// on can be copied until it commits or aborts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldPartition {
    pub topic: String,
    pub partition: i32,
    /// The last stable offset: where the open transaction's first record is.
    pub offset: i64,
    /// The high watermark.
    pub end: i64,
    /// How long the partition has been held, as far as the copy saw.
    pub seconds: u64,
}

impl HeldPartition {
    /// "orders[3] at offset 1,234 (end 1,300) for 12s".
    pub fn short(&self) -> String {
        format!(
            "{}[{}] at offset {} (end {}) for {}s",
            self.topic,
            self.partition,
            thousands(self.offset.max(0) as u64),
            thousands(self.end.max(0) as u64),
            self.seconds
        )
    }

    /// The warning printed once when the copy finds the partition held.
    pub fn warning(&self) -> String {
        format!(
            "source partition {}[{}] is held by an open transaction: read_committed stops at offset {} \
             (the last stable offset) while the partition ends at {}, for {}s now. The copy waits for \
             the transaction to commit or abort (the broker aborts it after the producer's \
             transaction.timeout.ms); `kafka-transactions.sh --bootstrap-server ... find-hanging \
             --topic {} --partition {}` names it.",
            self.topic,
            self.partition,
            self.offset,
            self.end,
            self.seconds,
            self.topic,
            self.partition
        )
    }
}

impl CopyProgress {
    /// "copying: 120,000 records (117.2 MB), 24,000 records/s, 23.4 MB/s, lag 80,000 (orders
    /// 50,000, events 30,000), ETA 3s, 4/12 partitions caught up", with rates averaged over
    /// `elapsed`, the time the copy has run.
    pub fn summary(&self, elapsed: Duration) -> String {
        let seconds = elapsed.as_secs_f64();
        let (rate, mb_rate) = if seconds > 0.0 {
            (
                self.copied as f64 / seconds,
                self.bytes as f64 / 1e6 / seconds,
            )
        } else {
            (0.0, 0.0)
        };
        let mut text = format!(
            "copying: {} records ({:.1} MB), {} records/s, {mb_rate:.1} MB/s, lag {}",
            thousands(self.copied),
            self.bytes as f64 / 1e6,
            thousands(rate as u64),
            thousands(self.lag.max(0) as u64),
        );
        let mut lagging: Vec<(&String, &i64)> = self
            .lag_by_topic
            .iter()
            .filter(|(_, lag)| **lag > 0)
            .collect();
        if lagging.len() > 1 {
            lagging.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            let shown: Vec<String> = lagging
                .iter()
                .take(TOPICS_SHOWN)
                .map(|(topic, lag)| format!("{topic} {}", thousands(**lag as u64)))
                .collect();
            let more = lagging.len().saturating_sub(TOPICS_SHOWN);
            text.push_str(&format!(
                " ({}{})",
                shown.join(", "),
                if more > 0 {
                    format!(", {more} more")
                } else {
                    String::new()
                }
            ));
        }
        if self.lag > 0 && rate >= 1.0 {
            let eta = Duration::from_secs((self.lag as f64 / rate).ceil() as u64);
            text.push_str(&format!(", ETA {}", humantime::format_duration(eta)));
        }
        text.push_str(&format!(
            ", {}/{} partitions caught up",
            self.partitions_done, self.partitions
        ));
        if !self.held.is_empty() {
            let held: Vec<String> = self.held.iter().map(HeldPartition::short).collect();
            text.push_str(&format!(
                "; held by an open transaction: {}",
                held.join(", ")
            ));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(lags: &[(&str, i64)]) -> CopyProgress {
        CopyProgress {
            copied: 120_000,
            bytes: 117_200_000,
            lag: lags.iter().map(|(_, l)| l).sum(),
            lag_by_topic: lags.iter().map(|(t, l)| (t.to_string(), *l)).collect(),
            partitions_done: 4,
            partitions: 12,
            held: Vec::new(),
        }
    }

    #[test]
    fn summary_has_rates_lag_per_topic_and_eta() {
        let p = progress(&[("events", 30_000), ("orders", 50_000), ("done", 0)]);
        assert_eq!(
            p.summary(Duration::from_secs(5)),
            "copying: 120,000 records (117.2 MB), 24,000 records/s, 23.4 MB/s, lag 80,000 \
             (orders 50,000, events 30,000), ETA 4s, 4/12 partitions caught up"
        );
    }

    #[test]
    fn one_topic_needs_no_breakdown_and_no_rate_means_no_eta() {
        let p = progress(&[("events", 10)]);
        assert_eq!(
            p.summary(Duration::ZERO),
            "copying: 120,000 records (117.2 MB), 0 records/s, 0.0 MB/s, lag 10, 4/12 \
             partitions caught up"
        );
    }

    #[test]
    fn many_lagging_topics_are_cut_short() {
        let p = progress(&[("a", 1), ("b", 2), ("c", 3), ("d", 4), ("e", 5)]);
        let text = p.summary(Duration::from_secs(1));
        assert!(text.contains("lag 15 (e 5, d 4, c 3, 2 more)"), "{text}");
    }

    #[test]
    fn partitions_held_by_an_open_transaction_are_named_with_the_stuck_offset() {
        let mut p = progress(&[("orders", 66)]);
        p.held.push(HeldPartition {
            topic: "orders".into(),
            partition: 3,
            offset: 1234,
            end: 1300,
            seconds: 12,
        });
        let text = p.summary(Duration::from_secs(1));
        assert!(
            text.ends_with(
                "; held by an open transaction: orders[3] at offset 1,234 (end 1,300) for 12s"
            ),
            "{text}"
        );
        assert!(
            p.held[0]
                .warning()
                .contains("read_committed stops at offset 1234")
        );
    }
}
