//! What librdkafka says reaches the user only at the level ferry gives it (src/cluster/
//! kafka_log.rs): a `ferry replicate --until-caught-up` that copies records on real Apache Kafka
//! brokers prints no `CONFWARN` about the gapless producer, no `PartitionEOF` "global error" and
//! no other librdkafka error or warning, yet succeeds and copies every record; the same lines
//! are there at debug (`RUST_LOG=librdkafka=debug`) and trace (`-vv`), so they are routed, not
//! dropped.
//!
//! The test bed's brokers are not stopped or reconfigured, so the test uses the shared pair
//! ([`Testbed::shared`]) with topics of its own.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use ferry_testbed::{Testbed, seed};
use support::records::watermarks;

const PARTITIONS: i32 = 3;
const TOPIC: &str = "client-logs.events";
const TARGET_TOPIC: &str = "client-logs.events.copy";

fn write_config(dir: &Path, bed: &Testbed) {
    let text = format!(
        r#"migration "client-logs" {{
  scheme = "mirror"
}}

cluster "source" {{
  bootstrap_servers = ["{source}"]
}}

cluster "target" {{
  bootstrap_servers = ["{target}"]
}}

topics {{
  include = ["^client-logs\\.events$"]
}}

topic "{TOPIC}" {{
  target_name = "{TARGET_TOPIC}"
}}

replication {{
  start_from = "earliest"
}}

hook "stop_source_consumers" {{
  command = ["true"]
}}
hook "start_target_consumers" {{
  command = ["true"]
}}
hook "stop_source_producers" {{
  command = ["true"]
}}
hook "start_target_producers" {{
  command = ["true"]
}}
"#,
        source = bed.source.bootstrap,
        target = bed.target.bootstrap,
    );
    std::fs::write(dir.join("main.hcl"), text).unwrap();
}

/// `count` more records in every source partition.
fn produce(bed: &Testbed, count: usize) {
    for partition in 0..PARTITIONS {
        seed::produce(&bed.source.bootstrap, TOPIC, partition, count, 64).unwrap();
    }
}

/// Runs `ferry --no-color [verbosity] -C dir replicate --until-caught-up` with `RUST_LOG` set to
/// `rust_log` (unset when `None`); asserts it succeeded and copied `copied` records; returns
/// stdout and stderr together.
fn replicate(dir: &Path, verbosity: &[&str], rust_log: Option<&str>, copied: usize) -> String {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ferry"));
    command
        .arg("--no-color")
        .args(verbosity)
        .arg("-C")
        .arg(dir)
        .args(["replicate", "--until-caught-up"]);
    match rust_log {
        Some(filter) => command.env("RUST_LOG", filter),
        None => command.env_remove("RUST_LOG"),
    };
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().unwrap();
    let all = format!(
        "--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&stdout),
        String::from_utf8_lossy(&stderr)
    );
    assert!(
        status.success(),
        "ferry replicate failed ({status}):\n{all}"
    );
    assert!(
        all.contains(&format!("this process copied {copied} records")),
        "expected {copied} records copied:\n{all}"
    );
    all
}

/// The target holds as many records as the source, partition by partition.
fn assert_target_equals_source(bed: &Testbed) {
    for partition in 0..PARTITIONS {
        let (_, source) = watermarks(&bed.source.bootstrap, TOPIC, partition);
        let (_, target) = watermarks(&bed.target.bootstrap, TARGET_TOPIC, partition);
        assert_eq!(target, source, "records in {TARGET_TOPIC}[{partition}]");
    }
}

/// No librdkafka noise: no configuration warning, no end-of-partition notice, no librdkafka
/// line at error or warn level.
fn assert_quiet(output: &str) {
    assert!(!output.contains("CONFWARN"), "CONFWARN shown:\n{output}");
    assert!(
        !output.contains("PartitionEOF"),
        "PartitionEOF shown:\n{output}"
    );
    let loud: Vec<&str> = output
        .lines()
        .filter(|line| {
            line.contains("librdkafka") && (line.contains("ERROR") || line.contains("WARN"))
        })
        .collect();
    assert!(
        loud.is_empty(),
        "librdkafka errors or warnings shown: {loud:#?}\n{output}"
    );
}

/// The lines of `output` at tracing level `level` (`DEBUG`, `TRACE`) that mention `text`.
fn lines_at<'a>(output: &'a str, level: &str, text: &str) -> Vec<&'a str> {
    output
        .lines()
        .filter(|line| line.contains(text) && line.split_whitespace().nth(1) == Some(level))
        .collect()
}

#[test]
fn a_copy_prints_no_librdkafka_noise_and_the_lines_are_there_when_asked_for() {
    let bed = Testbed::shared();
    seed::create_topic(&bed.source.bootstrap, TOPIC, PARTITIONS, &[]).unwrap();
    seed::create_topic(&bed.target.bootstrap, TARGET_TOPIC, PARTITIONS, &[]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), bed);

    // A first copy into the empty target, then one that resumes from the target's tail (it
    // reads the last record of each target partition up to its end: end-of-partition events).
    produce(bed, 40);
    let first = replicate(dir.path(), &[], None, 120);
    assert_quiet(&first);
    assert_target_equals_source(bed);

    produce(bed, 10);
    let resumed = replicate(dir.path(), &[], None, 30);
    assert_quiet(&resumed);
    assert_target_equals_source(bed);

    // At debug for librdkafka: the producer's configuration warning shows, as a debug line; the
    // end-of-partition notices (trace) still do not.
    produce(bed, 5);
    let debug = replicate(dir.path(), &[], Some("warn,librdkafka=debug"), 15);
    let confwarn = lines_at(&debug, "DEBUG", "enable.gapless.guarantee is experimental");
    assert!(
        !confwarn.is_empty() && confwarn.iter().all(|line| line.contains("CONFWARN")),
        "the gapless CONFWARN at debug:\n{debug}"
    );
    assert!(!debug.contains("PartitionEOF"), "{debug}");
    assert_target_equals_source(bed);

    // -vv shows everything: end-of-partition notices, where the run met one (whether the copy
    // reaches a partition's end before it stops is timing), only ever at trace.
    produce(bed, 5);
    let trace = replicate(dir.path(), &["-vv"], None, 15);
    let eof: Vec<&str> = trace
        .lines()
        .filter(|l| l.contains("PartitionEOF"))
        .collect();
    assert!(
        eof.iter()
            .all(|line| line.split_whitespace().nth(1) == Some("TRACE")),
        "PartitionEOF only at trace with -vv: {eof:#?}"
    );
    assert!(
        !lines_at(&trace, "DEBUG", "enable.gapless.guarantee is experimental").is_empty(),
        "the gapless CONFWARN at debug with -vv:\n{trace}"
    );
    assert_target_equals_source(bed);
}
