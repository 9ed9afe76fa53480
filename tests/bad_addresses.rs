//! `ferry validate` checks offline what would otherwise fail only when a cluster is contacted:
//! every bootstrap server is `host:port` with a port in 1..=65535 (IPv6 in brackets), and every
//! TLS file exists and is a regular file ferry can open. Errors name file, line, column and key.

mod bad_input;

use std::path::Path;

use bad_input::{MAIN_HCL, config_dir, ferry, mkfifo};

const SOURCE_SERVERS: &str = r#"bootstrap_servers = ["127.0.0.1:1"]"#;

/// `(bootstrap_servers of cluster "source", column of the bad element, fragment; "" when valid)`.
/// Line 6 of MAIN_HCL; the first element starts at column 24.
#[rustfmt::skip]
const ADDRESSES: &[(&str, usize, &str)] = &[
    (r#"["broker"]"#, 24, "[0]: \"broker\" has no port; write it as host:port"),
    (r#"["broker:"]"#, 24, "[0]: \"broker:\" has a port that is not a number"),
    (r#"[":9092"]"#, 24, "[0]: \":9092\" has no host before the port"),
    (r#"["a:1", "broker:0"]"#, 31, "[1]: \"broker:0\" has a port out of range: ports go from 1 to 65535"),
    (r#"["broker:65536"]"#, 24, "[0]: \"broker:65536\" has a port out of range"),
    (r#"["broker:70000"]"#, 24, "has a port out of range"),
    (r#"["broker:99999999999999999999999"]"#, 24, "has a port out of range"),
    (r#"["::1:9092"]"#, 24, "has an IPv6 address without brackets"),
    (r#"["[::1]"]"#, 24, "has no port after the address"),
    (r#"["[::1:9092"]"#, 24, "has an IPv6 address without its closing bracket"),
    (r#"["SASL_SSL://broker:9092"]"#, 24, "has a protocol prefix"),
    (r#"["a:1,,b:2"]"#, 24, "has an empty server between commas"),
    (r#"["bro ker:9092"]"#, 24, "has a host name with characters other than"),
    (r#"["broker-1.example.com:9092", "10.0.0.5:65535", "[::1]:1", "a:1, b:2"]"#, 0, ""),
];

#[test]
fn bootstrap_servers_need_host_and_port_in_range() {
    let mut failures = Vec::new();
    for &(servers, column, fragment) in ADDRESSES {
        let text = MAIN_HCL.replacen(SOURCE_SERVERS, &format!("bootstrap_servers = {servers}"), 1);
        let at = format!("main.hcl:6:{column}: cluster \"source\".bootstrap_servers");
        check(&text, &at, fragment, |_| {}, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn a_sensitive_address_is_not_printed() {
    let text = format!(
        "{}\nvariable \"servers\" {{\n  sensitive = true\n  default   = \"secret-broker\"\n}}\n",
        MAIN_HCL.replacen(SOURCE_SERVERS, "bootstrap_servers = [var.servers]", 1)
    );
    let mut failures = Vec::new();
    check(
        &text,
        "main.hcl:6:24: cluster \"source\".bootstrap_servers[0]",
        "(sensitive value) has no port",
        |_| {},
        &mut failures,
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    let dir = config_dir();
    std::fs::write(dir.path().join("main.hcl"), &text).unwrap();
    let out = ferry(dir.path(), &["validate"]);
    assert!(!out.stderr.contains("secret-broker"), "{}", out.describe());
}

fn fifo(dir: &Path) {
    mkfifo(&dir.join("ca.fifo"));
}

fn cert_dir(dir: &Path) {
    std::fs::create_dir(dir.join("certs")).unwrap();
}

fn key_only(dir: &Path) {
    std::fs::write(dir.join("client.key"), "placeholder").unwrap();
}

fn ca_absolute(dir: &Path) {
    std::fs::write(dir.join("ca.pem"), "placeholder").unwrap();
}

/// Makes the files a case needs in the configuration directory.
type Make = fn(&Path);

/// `(tls block of cluster "source", files to make, line, key, fragment; "" when valid)`.
#[rustfmt::skip]
const TLS: &[(&str, Make, usize, &str, &str)] = &[
    ("ca_file = \"missing.pem\"", |_| {}, 8, "tls.ca_file", "missing.pem\" not found: a relative path is taken from the configuration directory"),
    ("ca_file = \"certs\"", cert_dir, 8, "tls.ca_file", "certs\" cannot be used: it is a directory, not a regular file; point the key at the PEM file itself"),
    ("ca_file = \"ca.fifo\"", fifo, 8, "tls.ca_file", "ca.fifo\" cannot be used: it is a FIFO (named pipe), not a regular file"),
    ("ca_file = \"/dev/zero\"", |_| {}, 8, "tls.ca_file", "\"/dev/zero\" cannot be used: it is a character device"),
    ("cert_file = \"client.pem\"\n    key_file = \"client.key\"", key_only, 8, "tls.cert_file", "client.pem\" not found"),
    ("cert_file = \"client.key\"\n    key_file = \"nokey.key\"", key_only, 9, "tls.key_file", "nokey.key\" not found"),
    ("ca_file = \"ABSOLUTE/ca.pem\"", ca_absolute, 0, "", ""),
];

#[test]
fn tls_files_must_exist_and_be_regular_files() {
    let mut failures = Vec::new();
    for &(tls, make, line, key, fragment) in TLS {
        let block = |dir: &Path| {
            let tls = tls.replace("ABSOLUTE", &dir.display().to_string());
            MAIN_HCL.replacen(
                SOURCE_SERVERS,
                &format!("{SOURCE_SERVERS}\n  tls {{\n    {tls}\n  }}"),
                1,
            )
        };
        let at = format!("main.hcl:{line}:5: cluster \"source\".{key}");
        check_in(block, &at, fragment, make, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn check(text: &str, at: &str, fragment: &str, make: Make, failures: &mut Vec<String>) {
    check_in(|_| text.to_string(), at, fragment, make, failures);
}

/// Writes the configuration `text(dir)` after `make(dir)`, runs `ferry validate`, and records a
/// failure unless one error line has `at` and `fragment` (or, with an empty fragment, unless it
/// validates).
fn check_in(
    text: impl Fn(&Path) -> String,
    at: &str,
    fragment: &str,
    make: Make,
    failures: &mut Vec<String>,
) {
    let dir = config_dir();
    make(dir.path());
    let text = text(dir.path());
    std::fs::write(dir.path().join("main.hcl"), &text).unwrap();
    let out = ferry(dir.path(), &["validate"]);
    let ok = if fragment.is_empty() {
        out.code == Some(0)
    } else {
        out.code == Some(1)
            && out
                .stderr
                .lines()
                .any(|l| l.contains(at) && l.contains(fragment))
    };
    if !ok {
        failures.push(format!(
            "{text}\nwant {at:?} with {fragment:?}; got {}",
            out.describe()
        ));
    }
}
