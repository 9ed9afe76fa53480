//! Usage errors exit 1, never 2: 2 means "changes pending" or "drift", and a CI job must not read
//! a typo as drift. `--help` and `--version` still print to stdout and exit 0. No cluster is
//! contacted: every case stops at the command line.

mod bad_input;

use bad_input::{config_dir, ferry, listing};

/// `(arguments, exit code, fragment of stderr for errors or of stdout for help)`.
#[rustfmt::skip]
const CASES: &[(&[&str], i32, &str)] = &[
    (&["--bogus"], 1, "unexpected argument '--bogus'"),
    (&["valdate"], 1, "unrecognized subcommand 'valdate'"),
    (&["plan", "--detailed-exitcodes"], 1, "unexpected argument '--detailed-exitcodes'"),
    (&["drift", "--ignore-unmanged"], 1, "unexpected argument '--ignore-unmanged'"),
    (&["plan", "--format", "yaml"], 1, "invalid value 'yaml' for '--format"),
    (&["apply", "--lock-timeout"], 1, "a value is required for '--lock-timeout"),
    (&["plan", "--timeout", "soon"], 1, "invalid value 'soon' for '--timeout"),
    (&["completions", "tcsh"], 1, "invalid value 'tcsh'"),
    (&["state"], 1, "Usage:"),
    (&["force-unlock"], 1, "required arguments were not provided"),
    (&[], 1, "Usage:"),
    (&["--var", "novalue", "validate"], 1, "--var expects NAME=VALUE"),
    (&["--help"], 0, "Usage:"),
    (&["help"], 0, "Usage:"),
    (&["plan", "--help"], 0, "--detailed-exitcode"),
    (&["--version"], 0, "ferry "),
];

#[test]
fn usage_errors_exit_1_and_help_and_version_exit_0() {
    let dir = config_dir();
    let before = listing(dir.path());
    let mut failures = Vec::new();
    for &(args, code, fragment) in CASES {
        let out = ferry(dir.path(), args);
        let text = if code == 0 { &out.stdout } else { &out.stderr };
        if out.code != Some(code) || !text.contains(fragment) {
            failures.push(format!(
                "ferry {}: want exit {code} with {fragment:?}; got {}",
                args.join(" "),
                out.describe()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert_eq!(listing(dir.path()), before, "a usage error wrote a file");
}
