//! An order-sensitive running checksum over the records of one partition, computed the same way on
//! the source and on the target so verification can compare them over the copied range.

use std::fmt;

use rdkafka::message::{Headers, Message};
use sha2::{Digest, Sha256};

use super::header::SOURCE_OFFSET_HEADER;

/// Record count and chained SHA-256 over key, value, headers and CreateTime timestamp, in order.
/// [`PartitionChecksum::without_timestamps`] leaves the timestamp out, for a target that stamps
/// records with their append time (`message.timestamp.type=LogAppendTime`), which keeps none of
/// the source's timestamps.
///
/// `digest = sha256(previous digest || encoded record)`, starting from 32 zero bytes. Each field is
/// encoded unambiguously: an optional byte string is a presence tag (0 = null, 1 = present) then,
/// when present, a big-endian u64 length and the bytes, so null and empty differ and no two field
/// splits collide. Headers are hashed in order with their count first; ferry's own
/// [`SOURCE_OFFSET_HEADER`] is left out, since only copied records carry it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PartitionChecksum {
    count: u64,
    digest: [u8; 32],
    timestamps: bool,
}

impl Default for PartitionChecksum {
    fn default() -> Self {
        Self::new()
    }
}

impl PartitionChecksum {
    /// The checksum of no records.
    pub fn new() -> Self {
        PartitionChecksum {
            count: 0,
            digest: [0; 32],
            timestamps: true,
        }
    }

    /// The checksum of no records, for ranges whose timestamps are not compared.
    pub fn without_timestamps() -> Self {
        PartitionChecksum {
            timestamps: false,
            ..PartitionChecksum::new()
        }
    }

    /// Whether timestamps are part of the checksum.
    pub fn compares_timestamps(&self) -> bool {
        self.timestamps
    }

    /// Feeds the next record of the partition.
    pub fn update(
        &mut self,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[(String, Option<Vec<u8>>)],
        timestamp: i64,
    ) {
        let mut hasher = Sha256::new();
        hasher.update(self.digest);
        feed_optional(&mut hasher, key);
        feed_optional(&mut hasher, value);
        let kept = || {
            headers
                .iter()
                .filter(|(name, _)| name != SOURCE_OFFSET_HEADER)
        };
        hasher.update((kept().count() as u64).to_be_bytes());
        for (name, header_value) in kept() {
            feed_optional(&mut hasher, Some(name.as_bytes()));
            feed_optional(&mut hasher, header_value.as_deref());
        }
        if self.timestamps {
            hasher.update(timestamp.to_be_bytes());
        }
        self.digest = hasher.finalize().into();
        self.count += 1;
    }

    /// Feeds a record as read from a broker.
    pub fn update_from<M: Message>(&mut self, message: &M) {
        let headers: Vec<(String, Option<Vec<u8>>)> = message
            .headers()
            .map(|headers| {
                headers
                    .iter()
                    .map(|h| (h.key.to_string(), h.value.map(<[u8]>::to_vec)))
                    .collect()
            })
            .unwrap_or_default();
        self.update(
            message.key(),
            message.payload(),
            &headers,
            message.timestamp().to_millis().unwrap_or(-1),
        );
    }

    /// How many records were fed.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The chained digest after the last record fed.
    pub fn digest(&self) -> &[u8; 32] {
        &self.digest
    }

    /// Whether both sides saw the same records in the same order.
    pub fn equals(&self, other: &PartitionChecksum) -> bool {
        self == other
    }

    /// The digest in lowercase hex (64 characters).
    pub fn hex(&self) -> String {
        self.digest
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }
}

/// `1204 records, sha256 3f2a9c1e4b7d` (the first 12 hex digits).
impl fmt::Display for PartitionChecksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = if self.count == 1 { "" } else { "s" };
        write!(
            f,
            "{} record{plural}, sha256 {}",
            self.count,
            &self.hex()[..12]
        )
    }
}

fn feed_optional(hasher: &mut Sha256, bytes: Option<&[u8]>) {
    match bytes {
        None => hasher.update([0u8]),
        Some(bytes) => {
            hasher.update([1u8]);
            hasher.update((bytes.len() as u64).to_be_bytes());
            hasher.update(bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::header::encode_source_offset;
    use super::*;

    type Headers = Vec<(String, Option<Vec<u8>>)>;

    struct Rec {
        key: Option<&'static [u8]>,
        value: Option<&'static [u8]>,
        headers: Headers,
        timestamp: i64,
    }

    fn rec(key: &'static [u8], value: &'static [u8]) -> Rec {
        Rec {
            key: Some(key),
            value: Some(value),
            headers: Vec::new(),
            timestamp: 1_700_000_000_000,
        }
    }

    fn header(name: &str, value: Option<&[u8]>) -> (String, Option<Vec<u8>>) {
        (name.to_string(), value.map(<[u8]>::to_vec))
    }

    fn checksum(records: &[Rec]) -> PartitionChecksum {
        let mut sum = PartitionChecksum::new();
        for r in records {
            sum.update(r.key, r.value, &r.headers, r.timestamp);
        }
        sum
    }

    #[test]
    fn same_records_same_checksum() {
        let a = checksum(&[rec(b"k1", b"v1"), rec(b"k2", b"v2")]);
        let b = checksum(&[rec(b"k1", b"v1"), rec(b"k2", b"v2")]);
        assert!(a.equals(&b));
        assert_eq!(a.count(), 2);
        assert_ne!(a, PartitionChecksum::new());
    }

    #[test]
    fn order_matters() {
        let a = checksum(&[rec(b"k1", b"v1"), rec(b"k2", b"v2")]);
        let b = checksum(&[rec(b"k2", b"v2"), rec(b"k1", b"v1")]);
        assert_eq!(a.count(), b.count());
        assert!(!a.equals(&b));
    }

    #[test]
    fn null_and_empty_differ() {
        let mut null_value = rec(b"k", b"");
        null_value.value = None;
        assert_ne!(checksum(&[null_value]), checksum(&[rec(b"k", b"")]));

        let mut null_key = rec(b"", b"v");
        null_key.key = None;
        assert_ne!(checksum(&[null_key]), checksum(&[rec(b"", b"v")]));

        let mut null_header = rec(b"k", b"v");
        null_header.headers = vec![header("h", None)];
        let mut empty_header = rec(b"k", b"v");
        empty_header.headers = vec![header("h", Some(b""))];
        assert_ne!(checksum(&[null_header]), checksum(&[empty_header]));
    }

    #[test]
    fn field_boundaries_do_not_collide() {
        assert_ne!(checksum(&[rec(b"ab", b"c")]), checksum(&[rec(b"a", b"bc")]));
    }

    #[test]
    fn header_order_matters() {
        let mut a = rec(b"k", b"v");
        a.headers = vec![header("x", Some(b"1")), header("y", Some(b"2"))];
        let mut b = rec(b"k", b"v");
        b.headers = vec![header("y", Some(b"2")), header("x", Some(b"1"))];
        assert_ne!(checksum(&[a]), checksum(&[b]));
    }

    #[test]
    fn ferry_header_is_ignored() {
        let mut source = rec(b"k", b"v");
        source.headers = vec![header("trace", Some(b"abc"))];
        let mut target = rec(b"k", b"v");
        target.headers = vec![
            header("trace", Some(b"abc")),
            header(SOURCE_OFFSET_HEADER, Some(&encode_source_offset(42))),
        ];
        assert_eq!(checksum(&[source]), checksum(&[target]));
    }

    #[test]
    fn without_timestamps_only_the_timestamp_may_differ() {
        let a = rec(b"k1", b"v1");
        let mut b = rec(b"k1", b"v1");
        b.timestamp += 1;
        let sum = |r: &Rec| {
            let mut sum = PartitionChecksum::without_timestamps();
            sum.update(r.key, r.value, &r.headers, r.timestamp);
            sum
        };
        assert_eq!(sum(&a), sum(&b));
        assert_ne!(sum(&a), sum(&rec(b"k1", b"other")));
        assert_ne!(
            checksum(&[a]),
            checksum(&[b]),
            "the default compares timestamps"
        );
    }

    #[test]
    fn timestamp_matters() {
        let a = rec(b"k", b"v");
        let mut b = rec(b"k", b"v");
        b.timestamp += 1;
        assert_ne!(checksum(&[a]), checksum(&[b]));
    }

    #[test]
    fn display_shows_count_and_short_hex() {
        let sum = checksum(&[rec(b"k", b"v")]);
        let shown = sum.to_string();
        assert_eq!(shown, format!("1 record, sha256 {}", &sum.hex()[..12]));
        assert_eq!(sum.hex().len(), 64);
        assert_eq!(
            PartitionChecksum::new().to_string(),
            "0 records, sha256 000000000000"
        );
    }
}
