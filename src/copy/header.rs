//! The bookkeeping header every copied record carries: its offset in the source partition.
//!
//! Why: after a crash (even `kill -9` between a produce and any state write) ferry must resume the
//! copy with no record missing and none duplicated. The target partition itself is the only record
//! that cannot lag behind what was written, so each copied record carries its source offset in this
//! header; on resume ferry reads the last record of each target partition, decodes the header and
//! continues from the next source offset. This needs no transactions and no broker feature beyond
//! record headers, so it works with any Kafka-protocol broker. The same headers let ferry rebuild
//! the source-to-target offset map for records written after the map was last persisted.

/// Name of the header holding the record's source offset (8 bytes, big-endian two's complement).
pub const SOURCE_OFFSET_HEADER: &str = "ferry.source.offset";

/// The header value for a record copied from `source_offset`.
pub fn encode_source_offset(source_offset: i64) -> [u8; 8] {
    source_offset.to_be_bytes()
}

/// The source offset in a header value, or `None` if it is not exactly 8 bytes or is negative
/// (no valid record offset is).
pub fn decode_source_offset(value: &[u8]) -> Option<i64> {
    let bytes: [u8; 8] = value.try_into().ok()?;
    let offset = i64::from_be_bytes(bytes);
    (offset >= 0).then_some(offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_offsets() {
        for offset in [0, 1, 255, 256, 1_000_000, i64::from(u32::MAX) + 1, i64::MAX] {
            assert_eq!(
                decode_source_offset(&encode_source_offset(offset)),
                Some(offset)
            );
        }
    }

    #[test]
    fn encodes_big_endian() {
        assert_eq!(
            encode_source_offset(0x0102_0304_0506_0708),
            [1, 2, 3, 4, 5, 6, 7, 8]
        );
        assert_eq!(encode_source_offset(1), [0, 0, 0, 0, 0, 0, 0, 1]);
    }

    #[test]
    fn rejects_malformed_values() {
        let cases: &[&[u8]] = &[
            &[],
            &[0; 7],
            &[0; 9],
            b"12345",
            &[0xff; 8], // -1: not a record offset
        ];
        for value in cases {
            assert_eq!(decode_source_offset(value), None, "{value:?}");
        }
    }
}
