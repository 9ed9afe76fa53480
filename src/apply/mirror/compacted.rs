//! Verification of compacted topics (`cleanup.policy` with `compact` on the source or the
//! target): the log cleaner of either cluster may remove records between the copy and the
//! verification, each on its own schedule, so the two sides need not hold the same records and
//! an order-sensitive checksum over a range would differ without anything being wrong.
//!
//! Instead every record is identified by its source offset (the target's copies carry it in
//! ferry's header) and the two sides are joined on it:
//! - a record both sides hold must be equal (key, value, headers, timestamp unless the target
//!   stamps LogAppendTime), and the copies must be in source order;
//! - a record only one side holds is what a cleaner may remove: it passes when a later record
//!   with the same key exists on either side (compaction keeps only the latest per key), or when
//!   it is a tombstone (the cleaner drops tombstones after `delete.retention.ms`). Anything else,
//!   a record with no key included, is a mismatch.
//!
//! So for a compacted topic verification means: the latest record of every key, and every record
//! both sides still hold, is equal and in the same order; nothing is missing that compaction
//! would not remove. It reads the whole copied range at the verify step (the background
//! verification skips these partitions), keeping about 64 bytes per record and side.

use std::collections::HashMap;

use rdkafka::ClientConfig;
use rdkafka::message::{BorrowedMessage, Message};
use sha2::{Digest, Sha256};

use crate::copy::PartitionChecksum;
use crate::error::Error;
use crate::state::{CompactionSeen, PartitionCopy};

use super::read_range::{copied_from, read_range, watermarks};

/// One record as the comparison needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    /// Its source offset.
    pub offset: i64,
    /// SHA-256 of the key, truncated; `None` for a null key.
    pub key: Option<[u8; 16]>,
    pub tombstone: bool,
    /// The record's checksum (key, value, headers, and timestamp where compared).
    pub digest: [u8; 32],
}

/// What [`compare`] found when both sides agree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyedComparison {
    /// Records both sides hold, equal.
    pub compared: u64,
    pub seen: CompactionSeen,
    /// SHA-256 over the digests of the records compared, in order, in hex.
    pub checksum: String,
}

/// Joins `source` and `target` (each in source-offset order as read) on source offset; the
/// first disagreement as a sentence, else the counts.
pub fn compare(source: &[Seen], target: &[Seen]) -> Result<KeyedComparison, String> {
    if let Some(pair) = target.windows(2).find(|w| w[1].offset <= w[0].offset) {
        return Err(format!(
            "the target holds the copy of source offset {} after that of {}: out of order",
            pair[1].offset, pair[0].offset
        ));
    }
    let mut latest: HashMap<[u8; 16], i64> = HashMap::new();
    for seen in source.iter().chain(target) {
        if let Some(key) = seen.key {
            let at = latest.entry(key).or_insert(seen.offset);
            *at = (*at).max(seen.offset);
        }
    }
    let superseded =
        |seen: &Seen| seen.tombstone || seen.key.is_some_and(|key| latest[&key] > seen.offset);
    let mut chain = Sha256::new();
    let (mut compared, mut seen) = (0, CompactionSeen::default());
    let (mut i, mut j) = (0, 0);
    while i < source.len() || j < target.len() {
        let (s, t) = (source.get(i), target.get(j));
        let source_first = match (s, t) {
            (Some(s), Some(t)) => s.offset < t.offset,
            (s, _) => s.is_some(),
        };
        match (s, t) {
            (Some(s), Some(t)) if s.offset == t.offset => {
                if s.digest != t.digest {
                    return Err(format!(
                        "source offset {} and its copy differ in key, value, headers or timestamp",
                        s.offset
                    ));
                }
                chain.update(s.digest);
                compared += 1;
                i += 1;
                j += 1;
            }
            (Some(s), _) if source_first => {
                if !superseded(s) {
                    return Err(format!(
                        "source offset {} is not on the target, and no later record has its key",
                        s.offset
                    ));
                }
                seen.only_on_source += 1;
                i += 1;
            }
            (_, Some(t)) => {
                if !superseded(t) {
                    return Err(format!(
                        "the copy of source offset {} is on the target only, and no later record has its key",
                        t.offset
                    ));
                }
                seen.only_on_target += 1;
                j += 1;
            }
            _ => unreachable!("the loop ends when both sides are done"),
        }
    }
    Ok(KeyedComparison {
        compared,
        seen,
        checksum: hex(&chain.finalize()),
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn seen(message: &BorrowedMessage<'_>, offset: i64, timestamps: bool) -> Seen {
    let mut checksum = if timestamps {
        PartitionChecksum::new()
    } else {
        PartitionChecksum::without_timestamps()
    };
    checksum.update_from(message);
    Seen {
        offset,
        key: message.key().map(|key| {
            let digest = Sha256::digest(key);
            digest[..16].try_into().expect("16 of 32 bytes")
        }),
        tombstone: message.payload().is_none(),
        digest: *checksum.digest(),
    }
}

/// The outcome of verifying one compacted partition.
pub struct CompactedVerification {
    pub source_from: i64,
    pub target_from: i64,
    /// A source range `from..to` left out: retention deleted it before it was read.
    pub not_compared: Option<(i64, i64)>,
    pub result: Result<KeyedComparison, String>,
}

/// Reads the copied range of `copy` on both sides (from the first copied record both still
/// hold) and compares them with [`compare`].
pub fn verify_compacted(
    copy: &PartitionCopy,
    timestamps: bool,
    source: &ClientConfig,
    target: &ClientConfig,
) -> Result<CompactedVerification, Error> {
    let (start, target_start) = (copy.map.source_start(), copy.map.target_start());
    let (source_low, _) = watermarks(source, &copy.topic, copy.partition)?;
    let (target_low, _) = watermarks(target, &copy.target_topic, copy.partition)?;
    let (from, target_from) = if source_low > start || target_low > target_start {
        copy.map
            .first_pair_from(source_low.max(start), target_low.max(target_start))
            .unwrap_or((copy.next_source_offset, copy.map.target_end()))
    } else {
        (start, target_start)
    };
    let mut on_source = Vec::new();
    read_range(
        source,
        &copy.topic,
        copy.partition,
        from,
        copy.next_source_offset,
        |m| {
            on_source.push(seen(m, m.offset(), timestamps));
            Ok(())
        },
    )?;
    let mut on_target = Vec::new();
    read_range(
        target,
        &copy.target_topic,
        copy.partition,
        target_from,
        copy.map.target_end(),
        |m| {
            let offset = copied_from(m).unwrap_or(-1);
            on_target.push(seen(m, offset, timestamps));
            Ok(())
        },
    )?;
    Ok(CompactedVerification {
        source_from: from,
        target_from,
        not_compared: (from > start).then_some((start, from)),
        result: compare(&on_source, &on_target),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Record at source offset `offset` with key `key` (0 = null key) and value `value`
    /// (`None` = tombstone).
    fn rec(offset: i64, key: u8, value: Option<u8>) -> Seen {
        Seen {
            offset,
            key: (key != 0).then_some([key; 16]),
            tombstone: value.is_none(),
            digest: [key.wrapping_mul(31).wrapping_add(value.unwrap_or(255)); 32],
        }
    }

    fn counts(only_on_source: u64, only_on_target: u64) -> CompactionSeen {
        CompactionSeen {
            only_on_source,
            only_on_target,
        }
    }

    #[test]
    fn compaction_on_either_side_is_accepted_and_anything_else_is_not() {
        let (a1, a2, b1, b2) = (
            rec(0, 1, Some(1)),
            rec(1, 1, Some(2)),
            rec(2, 2, Some(1)),
            rec(3, 2, Some(2)),
        );
        let tomb = rec(4, 3, None);
        type Case = (
            &'static str,
            Vec<Seen>,
            Vec<Seen>,
            Result<(u64, CompactionSeen), &'static str>,
        );
        let cases: Vec<Case> = vec![
            (
                "identical",
                vec![a1, a2, b1],
                vec![a1, a2, b1],
                Ok((3, counts(0, 0))),
            ),
            (
                "source compacted after the copy",
                vec![a2, b1],
                vec![a1, a2, b1],
                Ok((2, counts(0, 1))),
            ),
            (
                "target compacted",
                vec![a1, a2, b1, b2],
                vec![a2, b2],
                Ok((2, counts(2, 0))),
            ),
            (
                "each compacted differently",
                vec![a2, b1, b2],
                vec![a1, a2, b2],
                Ok((2, counts(1, 1))),
            ),
            (
                "the source lacks its own latest record",
                vec![a1],
                vec![a2],
                Err("the copy of source offset 1 is on the target only"),
            ),
            (
                "a tombstone the source dropped",
                vec![a1],
                vec![a1, tomb],
                Ok((1, counts(0, 1))),
            ),
            (
                "a tombstone the target dropped",
                vec![tomb],
                vec![],
                Ok((0, counts(1, 0))),
            ),
            (
                "a latest record missing on the target",
                vec![a1, a2, b1],
                vec![a1, a2],
                Err("source offset 2 is not on the target"),
            ),
            (
                "a latest record only on the target",
                vec![a2],
                vec![a2, b2],
                Err("the copy of source offset 3 is on the target only"),
            ),
            (
                "a changed value",
                vec![a1, a2],
                vec![a1, rec(1, 1, Some(9))],
                Err("source offset 1 and its copy differ"),
            ),
            (
                "a keyless record missing",
                vec![a1, rec(5, 0, Some(1))],
                vec![a1],
                Err("source offset 5 is not on the target"),
            ),
            (
                "copies out of order",
                vec![a1, b1],
                vec![b1, a1],
                Err("out of order"),
            ),
        ];
        for (name, source, target, expected) in cases {
            let got = compare(&source, &target);
            match (got, expected) {
                (Ok(got), Ok((compared, seen))) => {
                    assert_eq!((got.compared, got.seen), (compared, seen), "{name}");
                }
                (Err(why), Err(expected)) => assert!(why.contains(expected), "{name}: {why}"),
                (got, expected) => panic!("{name}: got {got:?}, expected {expected:?}"),
            }
        }
    }

    #[test]
    fn the_checksum_covers_the_records_compared_in_order() {
        let (a, b) = (rec(0, 1, Some(1)), rec(1, 2, Some(1)));
        let both = compare(&[a, b], &[a, b]).unwrap();
        let only_b = compare(&[b], &[b]).unwrap();
        assert_ne!(both.checksum, only_b.checksum);
        assert_eq!(both.checksum.len(), 64);
    }
}
