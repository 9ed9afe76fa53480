//! A sensitive variable's value never shows in a message, whatever position it is used in.
//! Keys that ferry prints in plans, the state file or logs (topic settings, patterns, the
//! state path) refuse a sensitive value at `ferry validate`; connection settings may hold one,
//! and every message about them (ferry's own, librdkafka's, the log lines with `-v`) shows
//! `(sensitive value)` in its place.

mod bad_input;

use bad_input::{MAIN_HCL, config_dir, ferry};

/// The sensitive values, as a string and as a number.
const SECRET_TEXT: &str = "hunter2x";
const SECRET_NUMBER: &str = "987654";

const VARIABLES: &str = r#"
variable "s" {
  sensitive = true
  default   = "hunter2x"
}

variable "n" {
  sensitive = true
  default   = 987654
}
"#;

const SOURCE_SERVERS: &str = r#"bootstrap_servers = ["127.0.0.1:1"]"#;

/// `(position, replace SOURCE_SERVERS with, append, command, fragment expected in stderr)`.
#[rustfmt::skip]
const CASES: &[(&str, &str, &str, &[&str], &str)] = &[
    ("a number shown in plans", SOURCE_SERVERS, r#"topic "t" { partitions = var.n }"#, &["validate"],
     "topic \"t\".partitions: takes no sensitive value: ferry shows this key in plans, the state file and logs. Use a variable that is not marked sensitive here, or write the value"),
    ("a number out of range shown in plans", SOURCE_SERVERS, r#"topic "t" { replication_factor = var.n }"#, &["plan"],
     "topic \"t\".replication_factor: takes no sensitive value"),
    ("a map key shown in plans", SOURCE_SERVERS, r#"topic "t" { config = { (var.s) = "1" } }"#, &["validate"],
     "topic \"t\".config: takes no sensitive value"),
    ("a map value shown in plans", SOURCE_SERVERS, r#"topics { config = { "retention.ms" = var.n } }"#, &["validate"],
     "topics.config: takes no sensitive value"),
    ("a list element shown in plans", SOURCE_SERVERS, r#"topics { include = ["^a$", var.s] }"#, &["validate"],
     "topics.include: takes no sensitive value"),
    ("a string shown in plans", SOURCE_SERVERS, r#"state { path = var.s }"#, &["validate"],
     "state.path: takes no sensitive value"),
    ("an address without a port", r#"bootstrap_servers = [var.s]"#, "", &["validate"],
     "cluster \"source\".bootstrap_servers[0]: (sensitive value) has no port"),
    ("an address that does not resolve", r#"bootstrap_servers = ["${var.s}:9092"]"#, "", &["plan"],
     "cannot reach the source cluster at (sensitive value):9092: (sensitive value):9092 does not resolve"),
    ("the same, with librdkafka's log lines", r#"bootstrap_servers = ["${var.s}:9092"]"#, "", &["-v", "plan"],
     "Failed to resolve '(sensitive value):9092'"),
    ("a number as an address port", r#"bootstrap_servers = ["127.0.0.1:${var.n}"]"#, "", &["validate"],
     "cluster \"source\".bootstrap_servers[0]: (sensitive value) has a port out of range"),
    ("a client property's key", r#"bootstrap_servers = ["127.0.0.1:1"]
  properties = { (var.s) = "1" }"#, "", &["plan"],
     "No such configuration property: \"(sensitive value)\""),
    ("a client property's value", r#"bootstrap_servers = ["127.0.0.1:1"]
  properties = { "socket.timeout.ms" = var.s }"#, "", &["plan"],
     "Invalid value for configuration property \"socket.timeout.ms\""),
    ("a number in a client property", r#"bootstrap_servers = ["127.0.0.1:1"]
  properties = { "socket.timeout.ms" = var.n }"#, "", &["plan"],
     "Configuration property \"socket.timeout.ms\" value (sensitive value) is outside allowed range"),
    ("a bool key given a secret", r#"bootstrap_servers = ["127.0.0.1:1"]
  tls {
    insecure_skip_verify = var.s
  }"#, "", &["validate"],
     "cluster \"source\".tls.insecure_skip_verify: expected true or false, found string"),
];

#[test]
fn sensitive_values_never_show_in_any_message() {
    let mut failures = Vec::new();
    for &(position, servers, append, command, fragment) in CASES {
        let dir = config_dir();
        let text = format!(
            "{}{VARIABLES}\n{append}\n",
            MAIN_HCL.replacen(SOURCE_SERVERS, servers, 1)
        );
        std::fs::write(dir.path().join("main.hcl"), text).unwrap();
        let out = ferry(dir.path(), command);
        let mut wrong = Vec::new();
        if out.code != Some(1) {
            wrong.push("exit code is not 1".to_string());
        }
        if !out.stderr.contains(fragment) {
            wrong.push(format!("stderr lacks {fragment:?}"));
        }
        for secret in [SECRET_TEXT, SECRET_NUMBER] {
            if out.stderr.contains(secret) || out.stdout.contains(secret) {
                wrong.push(format!("the output shows {secret}"));
            }
        }
        if !wrong.is_empty() {
            failures.push(format!(
                "{position} (ferry {}): {}\n{}",
                command.join(" "),
                wrong.join("; "),
                out.describe()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The control: the same positions without `sensitive = true` print the value, so the cases
/// above pass because of the masking, not because the messages never quoted it.
#[test]
fn without_sensitive_the_same_messages_quote_the_value() {
    let dir = config_dir();
    let text = format!(
        "{}{}\n",
        MAIN_HCL.replacen(
            SOURCE_SERVERS,
            r#"bootstrap_servers = ["${var.s}:9092"]"#,
            1
        ),
        VARIABLES.replace("sensitive = true", "sensitive = false")
    );
    std::fs::write(dir.path().join("main.hcl"), text).unwrap();
    let out = ferry(dir.path(), &["plan"]);
    assert_eq!(out.code, Some(1), "{}", out.describe());
    assert!(
        out.stderr
            .contains("cannot reach the source cluster at hunter2x:9092"),
        "{}",
        out.describe()
    );
}
