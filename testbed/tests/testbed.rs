//! Tests against real Apache Kafka brokers (needs the jars: scripts/install-kafka.sh).

use std::collections::BTreeMap;
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ferry_testbed::{Broker, BrokerOptions, Distribution, Testbed, inspect, procnet, seed};
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};

const TIMEOUT: Duration = Duration::from_secs(10);

fn client(bootstrap: &str) -> BaseConsumer {
    ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .expect("client")
}

fn is_listening(port: u16) -> bool {
    !procnet::listen_inodes(port).is_empty()
}

fn process_exists(pid: u32) -> bool {
    Path::new("/proc").join(pid.to_string()).exists()
}

#[test]
fn testbed_runs_two_distinct_clusters_that_answer_metadata() {
    let testbed = Testbed::start().unwrap();
    assert_ne!(testbed.source.port, testbed.target.port);
    assert_ne!(testbed.source.pid(), testbed.target.pid());
    assert_ne!(testbed.source.cluster_id, testbed.target.cluster_id);
    for broker in [&testbed.source, &testbed.target] {
        let expected_id = broker.cluster_id.as_str();
        assert_eq!(broker.bootstrap, format!("127.0.0.1:{}", broker.port));
        assert!(procnet::pid_owns_listener(
            broker.pid().unwrap(),
            broker.port
        ));
        let consumer = client(&broker.bootstrap);
        let metadata = consumer.fetch_metadata(None, TIMEOUT).unwrap();
        let brokers: Vec<(String, i32)> = metadata
            .brokers()
            .iter()
            .map(|b| (b.host().to_owned(), b.port()))
            .collect();
        assert_eq!(
            brokers,
            vec![("127.0.0.1".to_owned(), i32::from(broker.port))]
        );
        assert_eq!(
            consumer.client().fetch_cluster_id(TIMEOUT).as_deref(),
            Some(expected_id)
        );
    }
    assert!(testbed.dir().join("source/data/meta.properties").exists());
    assert!(testbed.dir().join("target.log").exists());

    let dir = testbed.dir().to_owned();
    let pids = [testbed.source.pid().unwrap(), testbed.target.pid().unwrap()];
    drop(testbed);
    assert!(!dir.exists(), "testbed directory removed on drop");
    assert!(pids.iter().all(|&pid| !process_exists(pid)));
}

#[test]
fn stopped_broker_no_longer_listens() {
    let dir = tempfile::tempdir().unwrap();
    let mut broker = Broker::start("stopme", dir.path()).unwrap();
    let (port, pid) = (broker.port, broker.pid().unwrap());
    assert!(is_listening(port));
    broker.stop();
    assert_eq!(broker.pid(), None);
    assert!(!process_exists(pid), "broker process reaped");
    assert!(!is_listening(port));
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
    broker.stop(); // idempotent
}

#[test]
fn restart_keeps_port_and_data() {
    let dir = tempfile::tempdir().unwrap();
    let mut broker = Broker::start("durable", dir.path()).unwrap();
    seed::create_topic(
        &broker.bootstrap,
        "kept",
        2,
        &[("cleanup.policy", "compact")],
    )
    .unwrap();
    seed::produce(&broker.bootstrap, "kept", 1, 25, 64).unwrap();
    seed::commit_offsets(&broker.bootstrap, "kept-group", &[("kept", 1, 7)]).unwrap();
    let (port, old_pid) = (broker.port, broker.pid().unwrap());

    broker.restart().unwrap();
    assert_eq!(broker.port, port);
    let new_pid = broker.pid().unwrap();
    assert_ne!(new_pid, old_pid);
    assert!(procnet::pid_owns_listener(new_pid, port));

    let records = inspect::read_partition(&broker.bootstrap, "kept", 1).unwrap();
    assert_eq!(records.len(), 25);
    for (n, record) in records.iter().enumerate() {
        assert_eq!(record.offset, n as i64);
        assert_eq!(record.key.as_deref(), Some(format!("k-{n}").as_bytes()));
        let value = record.value.as_deref().unwrap();
        assert_eq!(value.len(), 64);
        assert!(value.starts_with(format!("value-{n}-").as_bytes()));
    }
    assert_eq!(
        inspect::watermarks(&broker.bootstrap, "kept", 0).unwrap(),
        (0, 0)
    );
    assert_eq!(
        inspect::committed_offsets(&broker.bootstrap, "kept-group", &[("kept", 1)]).unwrap(),
        vec![Some(7)]
    );
    assert_eq!(
        inspect::topics(&broker.bootstrap).unwrap().get("kept"),
        Some(&2)
    );
}

/// Readiness is "the broker answers a metadata request with its own cluster id", not "something answers on the port". These
/// tests point a start-up attempt (through the `start_on_port` test seam, which does not retry
/// on another port) at a port another process already listens on.
#[test]
fn readiness_refuses_a_port_held_by_another_process() {
    let dir = tempfile::tempdir().unwrap();
    let holder = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = holder.local_addr().unwrap().port();

    let error = Broker::start_on_port("blocked", dir.path(), port).unwrap_err();
    let message = format!("{error:#}");
    assert!(message.contains(&format!("127.0.0.1:{port}")), "{message}");
    assert!(
        message.contains(&format!("port held by pid {}", std::process::id())),
        "{message}"
    );
    assert!(message.contains("log tail"), "{message}");
    assert!(procnet::pid_owns_listener(std::process::id(), port));
}

#[test]
fn readiness_refuses_a_port_held_by_a_stale_broker() {
    let dir = tempfile::tempdir().unwrap();
    let stale = Broker::start("stale", &dir.path().join("stale")).unwrap();
    // A plain connect would succeed: the stale broker answers on that port.
    assert!(TcpStream::connect(("127.0.0.1", stale.port)).is_ok());

    let error = Broker::start_on_port("fresh", &dir.path().join("fresh"), stale.port).unwrap_err();
    let message = format!("{error:#}");
    assert!(
        message.contains(&format!("port held by pid {}", stale.pid().unwrap())),
        "{message}"
    );
    // The stale broker is untouched, and a normal start picks another port.
    assert!(procnet::pid_owns_listener(stale.pid().unwrap(), stale.port));
    let fresh = Broker::start("fresh", &dir.path().join("fresh-again")).unwrap();
    assert_ne!(fresh.port, stale.port);
    assert!(procnet::pid_owns_listener(fresh.pid().unwrap(), fresh.port));
}

#[test]
fn quickstart_seeds_the_documented_data_set() {
    let testbed = Testbed::start().unwrap();
    let source = &testbed.source.bootstrap;
    seed::quickstart(source).unwrap();

    let topics = inspect::topics(source).unwrap();
    let expected: BTreeMap<String, i32> = [
        ("orders.v1", 6),
        ("orders.audit", 3),
        ("payments", 4),
        ("_schemas", 1),
        ("internal.metrics", 2),
    ]
    .into_iter()
    .map(|(name, partitions)| (name.to_owned(), partitions))
    .collect();
    assert_eq!(topics, expected);
    assert!(
        inspect::topics(&testbed.target.bootstrap)
            .unwrap()
            .is_empty()
    );

    for (topic, partitions, records) in [
        ("orders.v1", 6, 40),
        ("orders.audit", 3, 30),
        ("payments", 4, 25),
    ] {
        for partition in 0..partitions {
            assert_eq!(
                inspect::watermarks(source, topic, partition).unwrap(),
                (0, records),
                "{topic}[{partition}]"
            );
        }
    }
    let orders_config = inspect::topic_config(source, "orders.v1").unwrap();
    assert_eq!(
        orders_config.get("cleanup.policy").map(String::as_str),
        Some("delete")
    );
    assert_eq!(
        orders_config.get("retention.ms").map(String::as_str),
        Some("86400000")
    );
    let audit_config = inspect::topic_config(source, "orders.audit").unwrap();
    assert_eq!(
        audit_config.get("cleanup.policy").map(String::as_str),
        Some("compact")
    );

    let orders: Vec<(&str, i32)> = (0..6).map(|p| ("orders.v1", p)).collect();
    let payments: Vec<(&str, i32)> = (0..4).map(|p| ("payments", p)).collect();
    assert_eq!(
        inspect::committed_offsets(source, "billing-service", &orders).unwrap(),
        vec![Some(20); 6]
    );
    assert_eq!(
        inspect::committed_offsets(source, "billing-service", &payments).unwrap(),
        vec![Some(12); 4]
    );
    assert_eq!(
        inspect::committed_offsets(source, "shipping", &orders).unwrap(),
        vec![Some(40), Some(40), Some(40), Some(40), Some(40), Some(0)]
    );
}

#[test]
fn bench_seeds_topics_and_groups() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start("bench", dir.path()).unwrap();
    seed::bench(&broker.bootstrap, 30, 3, 12).unwrap();
    let topics = inspect::topics(&broker.bootstrap).unwrap();
    assert_eq!(topics.len(), 30);
    assert!(
        topics
            .iter()
            .all(|(name, &partitions)| name.starts_with("bench.") && partitions == 3)
    );
    assert_eq!(
        inspect::watermarks(&broker.bootstrap, "bench.0029", 2).unwrap(),
        (0, 1)
    );
    // group 11 commits on bench.0033 mod 30 = bench.0003, bench.0004, bench.0005
    assert_eq!(
        inspect::committed_offsets(
            &broker.bootstrap,
            "bench-group-011",
            &[
                ("bench.0003", 0),
                ("bench.0004", 1),
                ("bench.0005", 2),
                ("bench.0006", 1)
            ]
        )
        .unwrap(),
        vec![Some(0), Some(1), Some(1), None]
    );
}

fn testbed_command() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ferry-testbed"))
}

#[test]
fn run_passes_bootstraps_and_exit_code_and_stops_brokers() {
    let out_dir = tempfile::tempdir().unwrap();
    let env_file = out_dir.path().join("env");
    let script = format!(
        "echo \"$FERRY_SOURCE_BOOTSTRAP $FERRY_TARGET_BOOTSTRAP $FERRY_SOURCE_PID $FERRY_TARGET_PID $FERRY_TESTBED_SEED_SECONDS\" > {}; \
         echo hello from cmd; exit 3",
        env_file.display()
    );
    let output = testbed_command()
        .args(["run", "--seed", "none", "--", "sh", "-c", &script])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&output.stdout), "hello from cmd\n");
    for role in ["source", "target"] {
        assert!(
            stderr.contains(&format!("ferry-testbed: {role} broker up: Kafka ")),
            "{stderr}"
        );
    }
    assert!(stderr.contains(" ready in "), "{stderr}");

    let env = std::fs::read_to_string(env_file).unwrap();
    let fields: Vec<&str> = env.split_whitespace().collect();
    assert_eq!(fields.len(), 5, "{env}");
    assert_eq!(fields[4], "0.000");
    assert!(fields[0].starts_with("127.0.0.1:") && fields[1].starts_with("127.0.0.1:"));
    assert_ne!(fields[0], fields[1]);
    for pid in &fields[2..4] {
        assert!(
            !process_exists(pid.parse().unwrap()),
            "broker {pid} stopped"
        );
    }
}

#[test]
fn run_stops_brokers_on_sigterm() {
    let out_dir = tempfile::tempdir().unwrap();
    let pid_file = out_dir.path().join("pids");
    let script = format!(
        "echo \"$FERRY_SOURCE_PID $FERRY_TARGET_PID $FERRY_TESTBED_DIR\" > {0}.tmp; mv {0}.tmp {0}; exec sleep 60",
        pid_file.display()
    );
    let mut child = testbed_command()
        .args(["run", "--", "sh", "-c", &script])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !pid_file.exists() {
        assert!(Instant::now() < deadline, "CMD never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    let contents = std::fs::read_to_string(&pid_file).unwrap();
    let fields: Vec<&str> = contents.split_whitespace().collect();
    let pids: Vec<u32> = fields[..2].iter().map(|pid| pid.parse().unwrap()).collect();
    assert!(pids.iter().all(|&pid| process_exists(pid)));

    let started = Instant::now();
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(128 + libc::SIGTERM));
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(
        pids.iter().all(|&pid| !process_exists(pid)),
        "brokers stopped"
    );
    assert!(!Path::new(fields[2]).exists(), "testbed directory removed");
}

/// A release that was never installed is one paragraph naming the script that installs it.
#[test]
fn a_release_that_is_not_installed_names_the_install_script() {
    let error = Distribution::locate_version("9.9.9").unwrap_err();
    let message = format!("{error:#}");
    assert!(
        message.contains("Apache Kafka 9.9.9 is not installed"),
        "{message}"
    );
    assert!(
        message.contains("scripts/install-kafka.sh 9.9.9"),
        "{message}"
    );
    assert!(!message.contains('\n'), "one paragraph: {message}");
}

/// A broker that exits during start-up (here: a property it cannot parse) is reported with the
/// broker's first error and its log file, at once, not after the readiness timeout.
#[test]
fn a_broker_that_fails_to_start_quotes_its_first_error_and_names_its_log() {
    let dir = tempfile::tempdir().unwrap();
    let options = BrokerOptions::default().with_property("num.io.threads", "many");
    let started = Instant::now();
    let error = Broker::start_with("broken", dir.path(), &options).unwrap_err();
    let message = format!("{error:#}");
    assert!(message.contains("exited"), "{message}");
    assert!(message.contains("num.io.threads"), "{message}");
    assert!(
        message.contains(&dir.path().join("broken.log").display().to_string()),
        "{message}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "took {:?}",
        started.elapsed()
    );
}

/// The install script refuses clearly, and at once, when there is no Java to run the brokers.
#[test]
fn install_script_without_java_says_what_to_install() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = Command::new("bash")
        .arg(root.join("scripts/install-kafka.sh"))
        .env("FERRY_JAVA", "/nonexistent/java")
        .env("FERRY_KAFKA_CACHE", tempfile::tempdir().unwrap().path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("no Java found"), "{stderr}");
    assert!(stderr.contains("JAVA_HOME or FERRY_JAVA"), "{stderr}");
    assert!(out.stdout.is_empty(), "nothing printed as a path");
}
