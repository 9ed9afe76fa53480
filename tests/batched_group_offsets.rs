//! Committed offsets of many groups in one batched FindCoordinator and one OffsetFetch, through
//! ferry's own connection, on Apache Kafka listeners that authenticate (SCRAM-SHA-256, PLAIN),
//! encrypt (TLS with the test bed's CA) and authorize. Each test starts its own pair: each needs a differently secured target.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use ferry::cluster::{ClusterAccess, ClusterError, RdKafkaCluster};
use ferry::config::{ClusterSettings, Sasl, SaslMechanism, Secret, Tls};
use ferry_testbed::{BrokerOptions, Security, Testbed, User, seed};
use support::delta;

const TIMEOUT: Duration = Duration::from_secs(30);
const PASSWORD: &str = "gr0up-Pa55-never-printed";
const GROUPS: usize = 12;

type PartitionsByTopic = BTreeMap<String, BTreeMap<i32, i64>>;

/// A plaintext source and a `target` where groups `batch-group-00..` (committed on its plaintext
/// listener) each hold their own offsets on both partitions of `orders`; with what each committed.
fn target_with_groups(target: &BrokerOptions) -> (Testbed, BTreeMap<String, PartitionsByTopic>) {
    let bed = Testbed::start_with(&BrokerOptions::default(), target).unwrap();
    let bootstrap = &bed.target.bootstrap;
    seed::create_topic(bootstrap, "orders", 2, &[]).unwrap();
    seed::produce(bootstrap, "orders", 0, 40, 16).unwrap();
    seed::produce(bootstrap, "orders", 1, 40, 16).unwrap();
    let expected = (0..GROUPS)
        .map(|g| {
            let group = format!("batch-group-{g:02}");
            let at = |p: i32| i64::try_from(g).unwrap() + i64::from(p) * 3;
            seed::commit_offsets(
                bootstrap,
                &group,
                &[("orders", 0, at(0)), ("orders", 1, at(1))],
            )
            .unwrap();
            let offsets = BTreeMap::from([(0, at(0)), (1, at(1))]);
            (group, BTreeMap::from([("orders".to_string(), offsets)]))
        })
        .collect();
    (bed, expected)
}

fn sasl_settings(bed: &Testbed, mechanism: SaslMechanism, user: &str) -> ClusterSettings {
    let mut settings = support::settings(&bed.target.client_bootstrap);
    settings.sasl = Some(Sasl {
        mechanism,
        username: user.to_string(),
        password: Secret::new(PASSWORD),
    });
    settings
}

/// Reads every group's offsets and checks them, and that they took one request of each kind.
fn assert_batched(settings: &ClusterSettings, expected: &BTreeMap<String, PartitionsByTopic>) {
    let cluster = RdKafkaCluster::connect("target", settings, TIMEOUT).unwrap();
    let groups: Vec<String> = expected.keys().cloned().collect();
    let before = cluster.request_counts();
    let committed = cluster.group_offsets(&groups).unwrap();
    let sent = delta(&before, &cluster.request_counts());
    assert_eq!(&committed, expected);
    assert_eq!(sent.get("FindCoordinator"), Some(&1), "{sent:?}");
    assert_eq!(sent.get("OffsetFetch"), Some(&1), "{sent:?}");
    // ferry's own connection authenticated too (librdkafka's were up before `before`).
    if settings.sasl.is_some() {
        assert!(
            sent.get("SaslAuthenticate").is_some_and(|n| *n >= 1),
            "{sent:?}"
        );
    }
}

#[test]
fn scram_sha_256_groups_are_read_in_one_offset_fetch() {
    let target = BrokerOptions::security(Security::SaslScram(vec![User::new("admin", PASSWORD)]));
    let (bed, expected) = target_with_groups(&target);
    assert_batched(
        &sasl_settings(&bed, SaslMechanism::ScramSha256, "admin"),
        &expected,
    );
}

#[test]
fn sasl_plain_groups_are_read_in_one_offset_fetch() {
    let target = BrokerOptions::security(Security::SaslPlain(vec![User::new(
        "ckafka-abc123#ferry",
        PASSWORD,
    )]));
    let (bed, expected) = target_with_groups(&target);
    assert_batched(
        &sasl_settings(&bed, SaslMechanism::Plain, "ckafka-abc123#ferry"),
        &expected,
    );
}

#[test]
fn tls_groups_are_read_in_one_offset_fetch() {
    let (bed, expected) = target_with_groups(&BrokerOptions::security(Security::Ssl));
    let mut settings = support::settings(&bed.target.client_bootstrap);
    settings.tls = Some(Tls {
        ca_file: bed.target.ca_path(),
        ..Tls::default()
    });
    assert_batched(&settings, &expected);
}

/// A group the user may not describe is refused in the batch; ferry asks it again on its own,
/// which names it in the same authorisation error the one-group request always gave.
#[test]
fn a_group_the_user_may_not_describe_is_named_in_the_error() {
    let target = BrokerOptions::security(Security::SaslScram(vec![
        User::new("admin", PASSWORD),
        User::new("ferry", PASSWORD),
    ]))
    .with_acls();
    let (bed, expected) = target_with_groups(&target);
    bed.target
        .allow("User:ferry", &["--topic", "*"], &["Describe"])
        .unwrap();
    bed.target
        .allow(
            "User:ferry",
            &[
                "--group",
                "batch-group-",
                "--resource-pattern-type",
                "prefixed",
            ],
            &["Describe"],
        )
        .unwrap();
    let settings = sasl_settings(&bed, SaslMechanism::ScramSha512, "ferry");
    assert_batched(&settings, &expected);

    let cluster = RdKafkaCluster::connect("target", &settings, TIMEOUT).unwrap();
    let mut groups: Vec<String> = expected.keys().cloned().collect();
    groups.push("hidden-group".to_string());
    let before = cluster.request_counts();
    let error = cluster.group_offsets(&groups).unwrap_err();
    let sent = delta(&before, &cluster.request_counts());
    // The twelve it may describe still went in one batch.
    assert_eq!(sent.get("OffsetFetch"), Some(&1), "{sent:?}");
    assert!(
        matches!(error, ClusterError::Unauthorized { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("hidden-group"), "{error}");
}
