//! The verification report of a mirror migration, from the state file's verify step.

use std::fmt::Write;

use super::thousands;
use crate::state::PartitionVerified;

/// One row per partition (source and target partition, record count, offset ranges, checksum
/// prefix), then a total line. Only partitions that matched are ever recorded: a mismatch fails
/// the step.
pub fn verification_report(partitions: &[PartitionVerified]) -> String {
    let rows: Vec<[String; 6]> = partitions
        .iter()
        .map(|p| {
            [
                format!("{}[{}]", p.topic, p.partition),
                format!("{}[{}]", p.target_topic, p.partition),
                thousands(p.records),
                format!("{}..{}", p.source_from, p.source_to),
                format!("{}..{}", p.target_from, p.target_to),
                p.checksum.chars().take(16).collect(),
            ]
        })
        .collect();
    let header = [
        "source",
        "target",
        "records",
        "source offsets",
        "target offsets",
        "sha256",
    ]
    .map(String::from);
    let mut widths = header.clone().map(|h| h.len());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.len());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let _ = writeln!(
            out,
            "  {:<w0$}  {:<w1$}  {:>w2$}  {:<w3$}  {:<w4$}  {}",
            row[0],
            row[1],
            row[2],
            row[3],
            row[4],
            row[5],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3],
            w4 = widths[4],
        );
    }
    for p in partitions {
        for (from, to) in &p.not_compared {
            let _ = writeln!(
                out,
                "  {}[{}]: source offsets {from}..{to} not compared (retention deleted them before verification read them)",
                p.topic, p.partition
            );
        }
    }
    let total: u64 = partitions.iter().map(|p| p.records).sum();
    let _ = writeln!(
        out,
        "  {} partitions, {} records: each target range equals its source range (count and \
         order-sensitive checksum of key, value, headers and timestamp).",
        partitions.len(),
        thousands(total)
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_aligned_and_totalled() {
        let p = |partition, records: u64, checksum: &str| PartitionVerified {
            topic: "orders".into(),
            target_topic: "orders.v2".into(),
            partition,
            source_from: 5,
            source_to: 5 + records as i64,
            target_from: 0,
            target_to: records as i64,
            records,
            checksum: checksum.into(),
            timestamps_not_compared: false,
            not_compared: Vec::new(),
            compaction: None,
        };
        let report = verification_report(&[
            p(0, 1200, "0123456789abcdef0123"),
            p(1, 7, "fedcba9876543210ffff"),
        ]);
        assert_eq!(
            report,
            "  source     target        records  source offsets  target offsets  sha256\n  \
             orders[0]  orders.v2[0]    1,200  5..1205         0..1200         0123456789abcdef\n  \
             orders[1]  orders.v2[1]        7  5..12           0..7            fedcba9876543210\n  \
             2 partitions, 1,207 records: each target range equals its source range (count and \
             order-sensitive checksum of key, value, headers and timestamp).\n"
        );
    }
}
