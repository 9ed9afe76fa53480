//! Bootstrap servers that cannot answer fail at once: when every one refused the connection
//! (nothing listens there) or does not resolve, ferry says so without waiting `--timeout`. The
//! commands here run with `--timeout 10m` under the helper's 30 s limit, so a run that waited
//! would be killed and fail the case: fail-fast is shown by behaviour, not by measuring time.
//! A server that accepts the connection but never answers still gets the whole timeout, also
//! beside one that refuses, and ends with the no-answer message.

mod bad_input;

use std::net::{SocketAddr, TcpListener};

use bad_input::{MAIN_HCL, config_dir, ferry, listing};

const SOURCE_SERVERS: &str = r#"bootstrap_servers = ["127.0.0.1:1"]"#;
const TARGET_SERVERS: &str = r#"bootstrap_servers = ["127.0.0.1:2"]"#;

/// `(bootstrap_servers of cluster "source", of cluster "target", fragment expected in stderr)`.
/// The source is connected first, so its failure is the one reported.
#[rustfmt::skip]
const CASES: &[(&str, &str, &str)] = &[
    (r#"["127.0.0.1:1"]"#, r#"["127.0.0.1:2"]"#,
     "cannot reach the source cluster at 127.0.0.1:1: 127.0.0.1:1 refused the connection (Connect to ipv4#127.0.0.1:1 failed: Connection refused); no broker can answer there, so ferry did not wait for --timeout"),
    (r#"["no-such-host.invalid:9092"]"#, r#"["127.0.0.1:2"]"#,
     "cannot reach the source cluster at no-such-host.invalid:9092: no-such-host.invalid:9092 does not resolve (Failed to resolve 'no-such-host.invalid:9092'"),
    (r#"["127.0.0.1:1", "127.0.0.1:3"]"#, r#"["no-such-host.invalid:9092"]"#,
     "127.0.0.1:1 refused the connection (Connect to ipv4#127.0.0.1:1 failed: Connection refused); 127.0.0.1:3 refused the connection (Connect to ipv4#127.0.0.1:3 failed: Connection refused); no broker can answer there"),
    (r#"["127.0.0.1:1", "no-such-host.invalid:9092"]"#, r#"["127.0.0.1:2"]"#,
     "127.0.0.1:1 refused the connection (Connect to ipv4#127.0.0.1:1 failed: Connection refused); no-such-host.invalid:9092 does not resolve"),
];

/// The commands that connect and take `--timeout` without needing a state file (`status` and
/// `rollback` stop before connecting when there is none).
const COMMANDS: &[&[&str]] = &[
    &["plan"],
    &["drift"],
    &["init", "--from-source"],
    &["apply", "--auto-approve"],
];

/// What every refusal must also say: what to check next.
const NEXT_STEPS: &[&str] = &[
    "Each host:port must be one the brokers listen on (their listeners and advertised.listeners)",
    "Check that the brokers are running and that bootstrap_servers in cluster \"source\" is right.",
];

#[test]
fn refused_and_unresolvable_servers_fail_at_once() {
    let mut failures = Vec::new();
    for &(source, target, fragment) in CASES {
        for command in COMMANDS {
            let mut args = command.to_vec();
            args.extend(["--timeout", "10m"]);
            let expected: Vec<&str> = [fragment]
                .into_iter()
                .chain(NEXT_STEPS.iter().copied())
                .collect();
            run(source, target, &args, &expected, &[], &mut failures);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn a_server_that_accepts_but_never_answers_gets_the_whole_timeout() {
    let silent = silent_listener();
    let mut failures = Vec::new();
    let args = ["plan", "--timeout", "3s"];
    let alone = format!(r#"["{silent}"]"#);
    run(
        &alone,
        r#"["127.0.0.1:2"]"#,
        &args,
        &[&format!(
            "cannot reach the source cluster at {silent}: no broker answered within 3s."
        )],
        &["refused", "did not wait"],
        &mut failures,
    );
    // The refused server alone would fail at once: the silent one is waited for.
    let mixed = format!(r#"["{silent}", "127.0.0.1:1"]"#);
    run(
        &mixed,
        r#"["127.0.0.1:2"]"#,
        &args,
        &[&format!(
            "cannot reach the source cluster at {silent},127.0.0.1:1: no broker answered within 3s; 127.0.0.1:1 refused the connection"
        )],
        &["did not wait"],
        &mut failures,
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// A listener on 127.0.0.1 that accepts every connection and never answers: the accepted
/// sockets stay open in a thread that lives as long as the test process.
fn silent_listener() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut open = Vec::new();
        for stream in listener.incoming() {
            match stream {
                Ok(stream) => open.push(stream),
                Err(_) => continue,
            }
        }
    });
    addr
}

/// Runs `ferry ARGS` on MAIN_HCL with the given servers and records a failure unless it exits 1
/// with every `expected` fragment in stderr, none of `unexpected`, and the directory as it was.
fn run(
    source: &str,
    target: &str,
    args: &[&str],
    expected: &[&str],
    unexpected: &[&str],
    failures: &mut Vec<String>,
) {
    let text = MAIN_HCL
        .replacen(SOURCE_SERVERS, &format!("bootstrap_servers = {source}"), 1)
        .replacen(TARGET_SERVERS, &format!("bootstrap_servers = {target}"), 1);
    let dir = config_dir();
    std::fs::write(dir.path().join("main.hcl"), &text).unwrap();
    let before = listing(dir.path());
    let out = ferry(dir.path(), args);
    let mut wrong = Vec::new();
    if out.code != Some(1) {
        wrong.push("exit code is not 1".to_string());
    }
    for fragment in expected {
        if !out.stderr.contains(fragment) {
            wrong.push(format!("stderr lacks {fragment:?}"));
        }
    }
    for fragment in unexpected {
        if out.stderr.contains(fragment) {
            wrong.push(format!("stderr has {fragment:?}"));
        }
    }
    if listing(dir.path()) != before {
        wrong.push("the directory changed".to_string());
    }
    if !wrong.is_empty() {
        failures.push(format!(
            "ferry {} with source {source}, target {target}: {}\n{}",
            args.join(" "),
            wrong.join("; "),
            out.describe()
        ));
    }
}
