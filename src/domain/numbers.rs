//! Numbers as people read them: in a plan, a progress line, a report. Down here so that the copy
//! engine and the executor format counts as the renderers do without importing them.

/// 1204331 -> "1,204,331".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `ms` as a person reads it: "90 days", "about 1157.4 days", "1 minute".
pub fn duration_ms(ms: i64) -> String {
    const UNITS: [(i64, &str); 4] = [
        (86_400_000, "day"),
        (3_600_000, "hour"),
        (60_000, "minute"),
        (1_000, "second"),
    ];
    approximate(ms, &UNITS, "ms")
}

/// `bytes` as a person reads it: "1 TiB", "about 19.1 MiB".
pub fn size(bytes: i64) -> String {
    const UNITS: [(i64, &str); 4] = [
        (1 << 40, "TiB"),
        (1 << 30, "GiB"),
        (1 << 20, "MiB"),
        (1 << 10, "KiB"),
    ];
    approximate(bytes, &UNITS, "bytes")
}

/// In the largest unit `n` reaches: exact when it divides, else "about" with one decimal.
/// Units that are words ("day") take a plural; symbols ("MiB") do not.
fn approximate(n: i64, units: &[(i64, &str)], base: &str) -> String {
    let Some(&(unit, name)) = units.iter().find(|(u, _)| n.abs() >= *u) else {
        return format!("{n} {base}");
    };
    let plural = |whole: bool, one: bool| {
        if name.chars().all(|c| c.is_ascii_lowercase()) && !(whole && one) {
            "s"
        } else {
            ""
        }
    };
    if n % unit == 0 {
        let v = n / unit;
        format!("{v} {name}{}", plural(true, v == 1))
    } else {
        format!(
            "about {:.1} {name}{}",
            n as f64 / unit as f64,
            plural(false, false)
        )
    }
}

/// Milliseconds since the epoch as RFC 3339 in UTC, whole seconds (`2025-12-01T00:00:00Z`).
pub fn rfc3339_ms(ms: i64) -> String {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms.max(0) as u64);
    humantime::format_rfc3339_seconds(at).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_sizes_read_as_people_write_them() {
        assert_eq!(duration_ms(7_776_000_000), "90 days");
        assert_eq!(duration_ms(86_400_000), "1 day");
        assert_eq!(duration_ms(99_999_999_999), "about 1157.4 days");
        assert_eq!(duration_ms(60_000), "1 minute");
        assert_eq!(duration_ms(500), "500 ms");
        assert_eq!(size(1_099_511_627_776), "1 TiB");
        assert_eq!(size(12_582_912), "12 MiB");
        assert_eq!(size(20_000_000), "about 19.1 MiB");
        assert_eq!(size(100), "100 bytes");
    }

    #[test]
    fn groups_digits_by_three() {
        for (n, want) in [
            (0, "0"),
            (999, "999"),
            (1000, "1,000"),
            (1204331, "1,204,331"),
        ] {
            assert_eq!(super::thousands(n), want);
        }
    }
}
