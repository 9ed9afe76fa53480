//! How many bytes a run of source records holds, as the plan can know it. Kafka has no request
//! that answers "bytes between two offsets" (DescribeLogDirs gives a whole partition's size on
//! disk, and librdkafka does not send it), so the plan reads the records from the start of the
//! run, up to a budget: a run read to its end is counted exactly, a longer one is estimated
//! from what was read, and the figure says which.

use serde::{Deserialize, Serialize};

use super::{size, thousands};

/// Keys, values and headers of the records as produced: no batch overhead, no compression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ByteCount {
    pub bytes: u64,
    /// False: scaled from the first records of the run, by offsets.
    pub exact: bool,
}

impl ByteCount {
    /// The bytes of the offsets `[from, to)` from reading `[from, read_to)` and finding
    /// `bytes_read` there: exact when the reading reached `to`, else scaled by offsets;
    /// `None` when nothing was read of a run that is not empty.
    pub fn from_reading(from: i64, to: i64, read_to: i64, bytes_read: u64) -> Option<ByteCount> {
        if read_to >= to {
            return Some(ByteCount {
                bytes: bytes_read,
                exact: true,
            });
        }
        let read = read_to - from;
        (read > 0).then(|| ByteCount {
            bytes: (bytes_read as u128 * (to - from) as u128 / read as u128) as u64,
            exact: false,
        })
    }

    /// The sum over runs; `None` when one of them was not measured.
    pub fn total(counts: impl IntoIterator<Item = Option<ByteCount>>) -> Option<ByteCount> {
        counts.into_iter().try_fold(
            ByteCount {
                bytes: 0,
                exact: true,
            },
            |sum, c| {
                c.map(|c| ByteCount {
                    bytes: sum.bytes + c.bytes,
                    exact: sum.exact && c.exact,
                })
            },
        )
    }

    /// `1,000 bytes`, `52,000 bytes, about 50.8 KiB`, or `an estimated 1.2 GiB`.
    pub fn describe(&self) -> String {
        let rounded = size(self.bytes.min(i64::MAX as u64) as i64);
        if !self.exact {
            return format!("an estimated {}", rounded.trim_start_matches("about "));
        }
        let exact = format!(
            "{} byte{}",
            thousands(self.bytes),
            if self.bytes == 1 { "" } else { "s" }
        );
        if self.bytes < 1024 {
            exact
        } else {
            format!("{exact}, {rounded}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_read_to_its_end_is_exact_and_a_longer_one_is_scaled_by_offsets() {
        #[rustfmt::skip]
        let cases = [
            // from, to, read_to, bytes read -> bytes, exact
            ((0, 30, 30, 4_000), Some((4_000, true))),
            ((0, 30, 31, 4_000), Some((4_000, true))),
            ((10, 10, 10, 0), Some((0, true))),         // nothing to read
            ((100, 1_100, 200, 5_000), Some((50_000, false))),
            ((0, 1_000, 0, 0), None),                     // nothing read
        ];
        for ((from, to, read_to, bytes), want) in cases {
            let got = ByteCount::from_reading(from, to, read_to, bytes).map(|c| (c.bytes, c.exact));
            assert_eq!(got, want, "{from}..{to} read to {read_to}");
        }
    }

    #[test]
    fn a_total_is_exact_only_when_every_run_is_and_unknown_when_one_is_unmeasured() {
        let exact = |b| {
            Some(ByteCount {
                bytes: b,
                exact: true,
            })
        };
        let estimated = |b| {
            Some(ByteCount {
                bytes: b,
                exact: false,
            })
        };
        assert_eq!(ByteCount::total([exact(1), exact(2)]), exact(3));
        assert_eq!(ByteCount::total([exact(1), estimated(2)]), estimated(3));
        assert_eq!(ByteCount::total([exact(1), None]), None);
        assert_eq!(ByteCount::total([]), exact(0));
    }

    #[test]
    fn the_figure_says_whether_it_was_counted_or_estimated() {
        let c = |bytes, exact| ByteCount { bytes, exact }.describe();
        assert_eq!(c(1, true), "1 byte");
        assert_eq!(c(1_000, true), "1,000 bytes");
        assert_eq!(c(2_048, true), "2,048 bytes, 2 KiB");
        assert_eq!(c(52_000, true), "52,000 bytes, about 50.8 KiB");
        assert_eq!(c(1_288_490_188, false), "an estimated 1.2 GiB");
        assert_eq!(c(3 << 20, false), "an estimated 3 MiB");
    }
}
