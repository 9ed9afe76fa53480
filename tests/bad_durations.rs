//! Durations beyond the 7-day bound (1 hour for --session-timeout), on the command line and in
//! HCL: refused at once with exit 1 and a located message, never a panic or an endless wait.
//! Nothing here reaches a cluster.

mod bad_input;

use std::time::Duration;

use bad_input::{MAIN_HCL, config_dir, ferry, listing};

/// `(command line, fragment of the message)`.
#[rustfmt::skip]
const FLAGS: &[(&[&str], &str)] = &[
    (&["plan", "--timeout", "8d"], "invalid value '8d' for '--timeout <TIMEOUT>': is longer than ferry accepts (at most 7d)"),
    (&["plan", "--timeout", "18446744073709551616s"], "is too large (at most 7d)"),
    (&["drift", "--timeout", "100000000000000000000000000000s"], "is too large (at most 7d)"),
    (&["status", "--timeout", "500000000000y"], "'--timeout <TIMEOUT>': is longer than ferry accepts (at most 7d)"),
    (&["apply", "--auto-approve", "--lock-timeout", "1000000000y"], "'--lock-timeout <LOCK_TIMEOUT>': is longer than ferry accepts (at most 7d)"),
    (&["replicate", "--session-timeout", "2h"], "'--session-timeout <SESSION_TIMEOUT>': is longer than ferry accepts (at most 1h)"),
    (&["replicate", "--progress-every", "8d"], "'--progress-every <PROGRESS_EVERY>': is longer than ferry accepts (at most 7d)"),
    (&["init", "--from-source", "--timeout", "99999999999999999999999999h"], "is too large (at most 7d)"),
];

#[test]
fn duration_flags_beyond_the_bound_are_usage_errors() {
    let dir = config_dir();
    let before = listing(dir.path());
    let mut failures = Vec::new();
    for &(args, fragment) in FLAGS {
        let out = ferry(dir.path(), args);
        if out.code != Some(1)
            || !out.stderr.contains(fragment)
            || out.took > Duration::from_secs(10)
        {
            failures.push(format!(
                "ferry {}: want exit 1 with {fragment:?}; got {}",
                args.join(" "),
                out.describe()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert_eq!(listing(dir.path()), before);
}

/// `(HCL added to MAIN_HCL, line, key, fragment of the message; "" when it must validate)`.
#[rustfmt::skip]
const HCL: &[(&str, usize, &str, &str)] = &[
    ("replication {\n  max_lag_time = \"8d\"\n}\n", 18, "replication.max_lag_time", "\"8d\" is longer than ferry accepts (at most 7d): write a shorter duration"),
    ("replication {\n  max_lag_time = \"99999999999999999999999s\"\n}\n", 18, "replication.max_lag_time", "is too large (at most 7d)"),
    ("replication {\n  max_lag_time = \"500000000000y\"\n}\n", 18, "replication.max_lag_time", "is longer than ferry accepts (at most 7d)"),
    ("replication {\n  max_lag_time = \"7d\"\n}\n", 0, "", ""),
];

/// The migration block's own durations and the hook timeout, edited in place.
#[rustfmt::skip]
const IN_PLACE: &[(&str, &str, usize, &str, &str)] = &[
    ("  scheme = \"dual_consume\"\n", "  scheme = \"dual_consume\"\n  wait_timeout = \"30d\"\n", 3, "migration \"bad-input\".wait_timeout", "\"30d\" is longer than ferry accepts (at most 7d)"),
    ("  scheme = \"dual_consume\"\n", "  scheme = \"dual_consume\"\n  settle_period = \"100000000000000000000s\"\n", 3, "migration \"bad-input\".settle_period", "is too large (at most 7d)"),
    ("  command = [\"true\"]\n", "  command = [\"true\"]\n  timeout = \"1000000w\"\n", 15, "hook \"switch_producers\".timeout", "is longer than ferry accepts (at most 7d)"),
    ("  command = [\"true\"]\n", "  command = [\"true\"]\n  timeout = \"7d\"\n", 0, "", ""),
];

#[test]
fn hcl_durations_beyond_the_bound_are_located_errors() {
    let cases = HCL
        .iter()
        .map(|&(extra, line, key, fragment)| (format!("{MAIN_HCL}\n{extra}"), line, key, fragment))
        .chain(IN_PLACE.iter().map(|&(from, to, line, key, fragment)| {
            (MAIN_HCL.replacen(from, to, 1), line, key, fragment)
        }));
    let mut failures = Vec::new();
    for (text, line, key, fragment) in cases {
        let dir = config_dir();
        std::fs::write(dir.path().join("main.hcl"), &text).unwrap();
        let out = ferry(dir.path(), &["validate"]);
        let ok = if fragment.is_empty() {
            out.code == Some(0)
        } else {
            let at = format!("main.hcl:{line}:3: {key}: ");
            out.code == Some(1)
                && out
                    .stderr
                    .lines()
                    .any(|l| l.contains(&at) && l.contains(fragment))
        };
        if !ok {
            failures.push(format!(
                "{text}\nwant line {line} key {key:?} {fragment:?}; got {}",
                out.describe()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
