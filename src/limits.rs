//! The bounds ferry puts on its inputs, so that no value a user types can overflow time
//! arithmetic, wait forever or make a read unbounded. docs/config.md and
//! docs/troubleshooting.md ("Bad input") state them; the errors name them.

use std::time::{Duration, Instant};

/// The longest duration ferry accepts anywhere (HCL durations and CLI flags): 7 days. Long enough
/// for any wait a migration needs, short enough that deadlines never overflow and that
/// librdkafka's millisecond timeouts (an i32, about 24.8 days) never wrap.
pub const MAX_DURATION: Duration = Duration::from_secs(7 * 24 * 3600);

/// [`MAX_DURATION`] as users write it.
pub const MAX_DURATION_TEXT: &str = "7d";

/// `--session-timeout` goes to librdkafka's `session.timeout.ms`, which stops at one hour.
pub const MAX_SESSION_TIMEOUT: Duration = Duration::from_secs(3600);

/// The most the `*.hcl` files of one configuration may hold together: 16 MiB. Parsed HCL takes
/// about 60 times its size in memory, so this keeps a load under about 1 GB; a configuration of
/// 100,000 topic blocks still fits.
pub const HCL_MAX_BYTES: u64 = 16 << 20;

/// The most a saved plan (`ferry plan --out`) may hold: 256 MiB, far beyond a plan of 100,000
/// topics. `plan --out` refuses to write a larger one, so ferry never saves what it cannot read.
pub const PLAN_MAX_BYTES: u64 = 256 << 20;

/// The most a state file may hold: 1 GiB. It grows with offset-map runs (one per gap in a
/// partition), so its bound is only there to stop a file that never ends; a save refuses to
/// write more.
pub const STATE_MAX_BYTES: u64 = 1 << 30;

/// The most ferry reads from a state lock file (a few hundred bytes of JSON when ferry wrote it).
pub const LOCK_INFO_MAX_BYTES: u64 = 64 << 10;

/// The most patterns one `include` or `exclude` list may hold: each compiled regular expression
/// takes a few KiB, so a list of a million would take gigabytes.
pub const MAX_PATTERNS: usize = 10_000;

/// `bytes` as users read a size limit: `16 MiB`, `64 KiB`, `1 GiB`.
pub fn show_bytes(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 && b % (1 << 30) == 0 => format!("{} GiB", b >> 30),
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

/// Why a parsed duration is refused, worded for both HCL and CLI errors; `None` when it is
/// within `max` (written `max_text`, like "7d").
pub fn duration_error(
    parsed: &Result<Duration, humantime::DurationError>,
    max: Duration,
    max_text: &str,
) -> Option<String> {
    let too_long = || format!("is longer than ferry accepts (at most {max_text})");
    match parsed {
        Ok(d) if *d > max => Some(too_long()),
        Ok(_) => None,
        // humantime says this of numbers too large, and of fractions finer than 1ns.
        Err(humantime::DurationError::NumberOverflow) => Some(format!(
            "is too large (at most {max_text}) or finer than a nanosecond"
        )),
        Err(e) => Some(format!(
            "is not a duration ({e}); write it like 30s, 10m or 1h"
        )),
    }
}

/// clap's parser for duration flags (`--timeout`, `--lock-timeout`, `--progress-every`).
pub fn parse_duration_flag(text: &str) -> Result<Duration, String> {
    parse_bounded(text, MAX_DURATION, MAX_DURATION_TEXT)
}

/// clap's parser for `--session-timeout`.
pub fn parse_session_timeout(text: &str) -> Result<Duration, String> {
    parse_bounded(text, MAX_SESSION_TIMEOUT, "1h")
}

fn parse_bounded(text: &str, max: Duration, max_text: &str) -> Result<Duration, String> {
    let parsed = humantime::parse_duration(text);
    match duration_error(&parsed, max, max_text) {
        Some(why) => Err(why),
        None => parsed.map_err(|e| e.to_string()),
    }
}

/// `wait` from now, saturating instead of panicking: inputs are bounded by [`MAX_DURATION`], so
/// this only guards against a caller that skipped the bound.
pub fn deadline_in(wait: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(wait.min(MAX_DURATION)).unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_take_durations_up_to_the_bound() {
        assert_eq!(parse_duration_flag("7d"), Ok(MAX_DURATION));
        assert_eq!(parse_duration_flag("0s"), Ok(Duration::ZERO));
        for text in [
            "8d",
            "100000000000000s",
            "99999999999999999999999s",
            "600000000000y",
        ] {
            let e = parse_duration_flag(text).unwrap_err();
            assert!(e.contains("at most 7d"), "{text}: {e}");
        }
        assert!(
            parse_duration_flag("soon")
                .unwrap_err()
                .contains("not a duration")
        );
        assert!(
            parse_session_timeout("2h")
                .unwrap_err()
                .contains("at most 1h")
        );
    }

    #[test]
    fn deadlines_saturate() {
        let far = deadline_in(Duration::MAX);
        assert!(far <= Instant::now() + MAX_DURATION);
    }

    #[test]
    fn sizes_read_as_users_write_them() {
        assert_eq!(show_bytes(HCL_MAX_BYTES), "16 MiB");
        assert_eq!(show_bytes(STATE_MAX_BYTES), "1 GiB");
        assert_eq!(show_bytes(LOCK_INFO_MAX_BYTES), "64 KiB");
        assert_eq!(show_bytes(100), "100 bytes");
    }
}
