//! Loads the fixtures under `fixtures/config/`: one complete valid configuration, and one
//! directory per kind of mistake with the error it must produce.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/config")
        .join(rel)
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Loads `valid/full`; `FERRY_TEST_KEY_PASSWORD` (read by `env()` without a default) is always set.
fn load_full(vars: &[(&str, &str)], env: &[(&str, &str)]) -> Result<Desired, ConfigErrors> {
    let mut env = map(env);
    env.entry("FERRY_TEST_KEY_PASSWORD".into())
        .or_insert_with(|| "key-pass-123".into());
    load_with_env(
        &fixture("valid/full"),
        &LoadOptions { vars: map(vars) },
        env,
    )
}

fn full() -> Desired {
    load_full(
        &[("ckafka_password", "s3cret-pw")],
        &[
            ("FERRY_VAR_retention_days", "7"),
            ("FERRY_TEST_KEY_PASSWORD", "key-pass-123"),
        ],
    )
    .unwrap_or_else(|e| panic!("valid/full must load:\n{e}"))
}

#[test]
fn full_example_loads_every_block() {
    let dir = fixture("valid/full");
    let d = full();

    assert_eq!(d.migration.name, "orders-to-ckafka");
    assert_eq!(d.migration.scheme, Scheme::DualConsume);
    assert_eq!(
        (d.migration.location.file.clone(), d.migration.location.line),
        (dir.join("main.hcl"), 3)
    );

    // Source: list default of a variable, properties as Kafka strings, TLS paths resolved.
    assert_eq!(
        d.source.bootstrap_servers,
        ["10.0.0.11:9092", "10.0.0.12:9092"]
    );
    assert_eq!(d.source.cluster_id.as_deref(), Some("kR4xSourceCluster"));
    assert_eq!(
        d.source.properties,
        map(&[
            ("client.id", "ferry"),
            ("enable.ssl.certificate.verification", "false"),
            ("socket.timeout.ms", "30000")
        ])
    );
    let tls = d.source.tls.as_ref().unwrap();
    assert_eq!(tls.ca_file.as_deref(), Some(dir.join("ca.pem").as_path()));
    assert_eq!(
        tls.cert_file.as_deref(),
        Some(dir.join("client.pem").as_path())
    );
    assert_eq!(
        tls.key_file.as_deref(),
        Some(dir.join("client.key").as_path())
    );
    assert_eq!(
        tls.key_password.as_ref().map(Secret::expose),
        Some("key-pass-123")
    );
    assert!(!tls.insecure_skip_verify);
    assert!(d.source.sasl.is_none() && d.source.ckafka.is_none());

    // Target: interpolation, SASL with the password from --var, env() falling back to its default.
    assert_eq!(
        d.target.bootstrap_servers,
        ["ckafka-abc123.ap-guangzhou.ckafka.tencentcloudmq.com:50000"]
    );
    let sasl = d.target.sasl.as_ref().unwrap();
    assert_eq!(sasl.mechanism, SaslMechanism::ScramSha512);
    assert_eq!(sasl.username, "ckafka-abc123#ferry");
    assert_eq!(sasl.password.expose(), "s3cret-pw");
    let ckafka = d.target.ckafka.as_ref().unwrap();
    assert_eq!(ckafka.instance_id, "ckafka-abc123");
    assert_eq!(ckafka.region, "ap-guangzhou");
    assert!(ckafka.accept_adjustments && !ckafka.offsets_through_api);
    assert_eq!(ckafka.route_bandwidth_mbps, Some(3.0));
    assert_eq!(
        ckafka.secret_key.as_ref().map(|s| s.expose()),
        Some("tc-secret-key-xyz")
    );
    assert_eq!(
        ckafka.endpoint.as_deref(),
        Some("ckafka.tencentcloudapi.com")
    );
    assert_eq!(d.target.location.line, 43);

    // Topic defaults: numbers (including arithmetic on a variable from FERRY_VAR_*) as exact strings.
    let patterns = |ps: &[Pattern]| {
        ps.iter()
            .map(|p| p.0.as_str().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(patterns(&d.topics.include), ["orders.*", "payments"]);
    assert_eq!(patterns(&d.topics.exclude), ["^__", "^_schemas$"]);
    assert_eq!(d.topics.replication_factor, Some(3));
    assert_eq!(
        d.topics.config,
        map(&[
            ("cleanup.policy", "delete"),
            ("min.cleanable.dirty.ratio", "0.5"),
            ("preallocate", "true"),
            ("retention.ms", "604800000"),
        ])
    );

    // Topic blocks sorted by name, whatever the file order.
    let names: Vec<&str> = d.topic_blocks.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["orders.v1", "payments"]);
    let orders = d.topic_block("orders.v1").unwrap();
    assert_eq!(orders.target_name.as_deref(), Some("orders"));
    assert_eq!(
        (orders.partitions, orders.replication_factor),
        (Some(24), Some(2))
    );
    assert_eq!(
        orders.config,
        map(&[
            ("cleanup.policy", "compact"),
            ("max.message.bytes", "2097152")
        ])
    );
    assert_eq!(orders.location.file, dir.join("topics.hcl"));
    assert_eq!(orders.location.line, 17);
    let payments = d.topic_block("payments").unwrap();
    assert_eq!(
        (
            payments.partitions,
            payments.replication_factor,
            payments.target_name.clone()
        ),
        (Some(12), None, None)
    );
    assert!(payments.config.is_empty());

    assert_eq!(patterns(&d.groups.include), ["billing-.*", "shipping"]);
    assert!(d.selects_group("billing-eu") && !d.selects_group("billing-eu-test"));

    // Hooks: a string command plus args, env values as strings, humantime timeouts, default 10m.
    let start = &d.hooks["start_target_consumers"];
    assert_eq!(start.command, ["./deploy/start.sh", "consumers", "target"]);
    assert_eq!(start.env, map(&[("DEPLOY_ENV", "prod"), ("REPLICAS", "3")]));
    assert_eq!(start.timeout, Duration::from_secs(15 * 60));
    assert_eq!(
        d.hooks["switch_producers"].timeout,
        Duration::from_secs(600)
    );
    assert_eq!(
        d.hooks["stop_source_consumers"].timeout,
        Duration::from_secs(90)
    );
    assert_eq!(d.hooks.len(), 3);

    assert_eq!(
        d.replication.start_from,
        StartFrom::Timestamp(1_714_521_600_000)
    );
    assert_eq!(d.state.path, dir.join("state/ferry.state.json"));

    assert_eq!(d.fingerprint.len(), 64);
    assert!(d.fingerprint.bytes().all(|b| b.is_ascii_hexdigit()));
}

#[test]
fn secrets_never_show_in_debug_or_json() {
    let d = full();
    for text in [format!("{d:?}"), serde_json::to_string(&d).unwrap()] {
        assert!(!text.contains("s3cret-pw"), "SASL password leaked");
        assert!(!text.contains("key-pass-123"), "TLS key password leaked");
        assert!(
            !text.contains("tc-secret-key-xyz"),
            "CKafka secret key leaked"
        );
        assert!(!text.contains("AKIDexample"), "CKafka secret id leaked");
        assert!(text.contains("(sensitive)"));
    }
}

#[test]
fn variable_values_prefer_var_then_env_then_default() {
    let region = |vars: &[(&str, &str)], env: &[(&str, &str)]| {
        let mut vars = vars.to_vec();
        vars.push(("ckafka_password", "pw"));
        load_full(&vars, env).unwrap().target.ckafka.unwrap().region
    };
    assert_eq!(region(&[], &[]), "ap-guangzhou");
    assert_eq!(
        region(&[], &[("FERRY_VAR_region", "ap-beijing")]),
        "ap-beijing"
    );
    assert_eq!(
        region(
            &[("region", "ap-shanghai")],
            &[("FERRY_VAR_region", "ap-beijing")]
        ),
        "ap-shanghai"
    );

    // A list default makes the text an HCL list; a number default makes it a number.
    let d = load_full(
        &[
            ("ckafka_password", "pw"),
            ("source_servers", r#"["a:9092", "b:9092"]"#),
        ],
        &[],
    )
    .unwrap();
    assert_eq!(d.source.bootstrap_servers, ["a:9092", "b:9092"]);
    assert_eq!(d.topics.config["retention.ms"], "259200000");
    assert_eq!(
        d.target.ckafka.unwrap().endpoint.as_deref(),
        Some("ckafka.tencentcloudapi.com")
    );
    let d = load_full(
        &[("ckafka_password", "pw")],
        &[("FERRY_TEST_CKAFKA_ENDPOINT", "ckafka.internal")],
    )
    .unwrap();
    assert_eq!(
        d.target.ckafka.unwrap().endpoint.as_deref(),
        Some("ckafka.internal")
    );
}

#[test]
fn unknown_var_option_is_an_error() {
    let e = load_full(&[("ckafka_password", "pw"), ("regoin", "x")], &[]).unwrap_err();
    assert_eq!(e.0.len(), 1, "{e}");
    assert_eq!(e.0[0].key, "var.regoin");
    assert!(e.0[0].message.contains("did you mean \"region\"?"), "{e}");
}

#[test]
fn missing_secret_variable_is_reported_at_the_reference() {
    let e = load_full(&[], &[]).unwrap_err();
    let first = &e.0[0];
    assert_eq!(first.key, "cluster \"target\".sasl.password");
    assert_eq!(first.location.line, 48);
    assert!(
        first
            .message
            .contains("variable \"ckafka_password\" has no value"),
        "{e}"
    );
}

#[test]
fn fingerprint_follows_file_names_and_contents() {
    let tmp = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(fixture("valid/full")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), tmp.path().join(entry.file_name())).unwrap();
    }
    let opts = LoadOptions {
        vars: map(&[("ckafka_password", "pw")]),
    };
    let env = || map(&[("FERRY_TEST_KEY_PASSWORD", "k")]);
    let a = load_with_env(tmp.path(), &opts, env()).unwrap().fingerprint;
    // Same files elsewhere: same fingerprint (the directory is not part of it).
    assert_eq!(
        a,
        load_with_env(&fixture("valid/full"), &opts, env())
            .unwrap()
            .fingerprint
    );
    let main = tmp.path().join("main.hcl");
    let text = std::fs::read_to_string(&main).unwrap();
    std::fs::write(&main, format!("{text}\n# a comment\n")).unwrap();
    let b = load_with_env(tmp.path(), &opts, env()).unwrap().fingerprint;
    assert_ne!(a, b);
    std::fs::rename(&main, tmp.path().join("a_main.hcl")).unwrap();
    let c = load_with_env(tmp.path(), &opts, env()).unwrap().fingerprint;
    assert_ne!(b, c);
}

/// A reviewed plan cannot silently change: the fingerprint covers the values the files read
/// (`--var`, `env()`), not only their text, and nothing they do not read.
#[test]
fn fingerprint_follows_the_values_the_files_read() {
    let dir = fixture("valid/full");
    let with = |vars: &[(&str, &str)], env: &[(&str, &str)]| {
        let opts = LoadOptions { vars: map(vars) };
        load_with_env(&dir, &opts, map(env)).unwrap().fingerprint
    };
    let base = with(
        &[("ckafka_password", "pw")],
        &[("FERRY_TEST_KEY_PASSWORD", "k")],
    );
    assert_ne!(
        base,
        with(
            &[("ckafka_password", "other")],
            &[("FERRY_TEST_KEY_PASSWORD", "k")]
        ),
        "a --var value"
    );
    assert_ne!(
        base,
        with(
            &[("ckafka_password", "pw")],
            &[("FERRY_TEST_KEY_PASSWORD", "k2")]
        ),
        "an env() value"
    );
    assert_eq!(
        base,
        with(
            &[("ckafka_password", "pw")],
            &[("FERRY_TEST_KEY_PASSWORD", "k"), ("UNRELATED", "x")]
        ),
        "an environment variable the files do not read"
    );
}

#[test]
fn defaults_apply_when_optional_blocks_are_absent() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("main.hcl"),
        r#"
migration "m" { scheme = "dual_consume" }
cluster "source" { bootstrap_servers = ["s:9092"] }
cluster "target" { bootstrap_servers = ["t:9092"] }
hook "switch_producers" { command = "./switch.sh" }
"#,
    )
    .unwrap();
    let d = load_with_env(tmp.path(), &LoadOptions::default(), BTreeMap::new()).unwrap();
    assert_eq!(d.replication.start_from, StartFrom::Earliest);
    assert_eq!(d.state.path, tmp.path().join("ferry.state.json"));
    assert!(
        d.topic_blocks.is_empty() && d.topics.include.is_empty() && d.groups.include.is_empty()
    );
    assert_eq!(d.hooks["switch_producers"].command, ["./switch.sh"]);
}

/// `(case directory, file of the first error, line, key, fragment of the message)`.
#[rustfmt::skip]
const INVALID: &[(&str, &str, usize, &str, &str)] = &[
    ("syntax_error", "main.hcl", 2, "", "syntax error: "),
    ("unknown_block", "main.hcl", 21, "topicz", "unknown block; did you mean \"topics\"?"),
    ("unknown_key", "main.hcl", 6, "cluster \"source\".bootstrap_server", "unknown key; did you mean \"bootstrap_servers\"?"),
    ("wrong_type", "main.hcl", 6, "cluster \"source\".bootstrap_servers", "expected a list of strings, found string"),
    ("duplicate_topic", "b.hcl", 5, "topic \"orders\"", "declared twice; the first is at a.hcl:21"),
    ("colliding_target_names", "main.hcl", 25, "topic \"orders-old\".target_name", "is also the target of topic \"orders\" (main.hcl:21)"),
    ("unknown_scheme", "main.hcl", 2, "migration \"m\".scheme", "unknown scheme \"mirrors\"; did you mean \"mirror\"?"),
    ("bad_regex", "main.hcl", 22, "topics.include[1]", "invalid regular expression \"orders(\": unclosed group"),
    ("missing_cluster_target", "missing_cluster_target", 0, "cluster \"target\"", "missing; declare it"),
    ("missing_migration", "missing_migration", 0, "migration", "missing; declare it"),
    ("undeclared_variable", "main.hcl", 7, "cluster \"source\".cluster_id", "undeclared variable \"source_id\""),
    ("unset_variable", "main.hcl", 9, "cluster \"source\".cluster_id", "variable \"source_id\" has no value: pass --var source_id=VALUE, set FERRY_VAR_source_id"),
    ("env_unset", "main.hcl", 7, "cluster \"source\".cluster_id", "environment variable FERRY_TEST_NEVER_SET is not set"),
    ("unknown_topic_config_key", "main.hcl", 25, "topic \"orders\".config[\"retention.msec\"]", "did you mean \"retention.ms\"?"),
    ("partitions_zero", "main.hcl", 22, "topic \"orders\".partitions", "must be between 1 and 100000, found 0"),
    ("fractional_partitions", "main.hcl", 22, "topic \"orders\".partitions", "expected a whole number, found a fraction"),
    ("unknown_hook_name", "main.hcl", 21, "hook \"stop_source_producer\"", "did you mean \"stop_source_producers\"? (it calls stop_source_consumers, start_target_consumers, stop_source_producers, start_target_producers)"),
    ("missing_required_hook", "main.hcl", 1, "migration \"m\"", "scheme mirror needs hook \"stop_source_producers\""),
    ("ckafka_in_source", "main.hcl", 7, "cluster \"source\".ckafka", "only allowed in cluster \"target\""),
    ("unknown_cluster", "main.hcl", 21, "cluster \"destination\"", "unknown cluster"),
    ("sensitive_value_hidden", "main.hcl", 17, "cluster \"target\".sasl.mechanism", "unknown SASL mechanism (sensitive value)"),
    ("bad_timeout", "main.hcl", 19, "hook \"start_target_producers\".timeout", "not a duration"),
    ("bad_start_from", "main.hcl", 22, "replication.start_from", "expected \"earliest\", \"latest\", \"committed\", an RFC 3339 timestamp"),
    ("adjustments_without_ckafka", "main.hcl", 22, "topic \"orders\".accept_adjustments", "accept_adjustments only applies to a CKafka target"),
    ("bad_compression", "main.hcl", 22, "replication.compression", "expected one of \"none\", \"gzip\", \"snappy\", \"lz4\", \"zstd\""),
    ("invalid_topic_name", "main.hcl", 21, "topic \"orders v1\"", "not a valid Kafka topic name: ' ' is not allowed"),
    ("attribute_as_block", "main.hcl", 7, "cluster \"source\".sasl", "sasl is a block"),
    ("missing_required_key", "main.hcl", 11, "cluster \"target\".ckafka.region", "missing; this key is required"),
    ("duplicate_key", "main.hcl", 3, "", "syntax error: invalid attribute; expected unique attribute key; found redefined attribute"),
    ("no_hcl_files", "no_hcl_files", 0, "", "no *.hcl files in this directory"),
];

#[test]
fn each_invalid_case_reports_its_error_first() {
    let mut failures = Vec::new();
    for &(case, file, line, key, fragment) in INVALID {
        let dir = fixture("invalid").join(case);
        let errors = match load_with_env(&dir, &LoadOptions::default(), BTreeMap::new()) {
            Ok(_) => {
                failures.push(format!("{case}: loaded without errors"));
                continue;
            }
            Err(e) => e,
        };
        let first = &errors.0[0];
        let got_file = first
            .location
            .file
            .file_name()
            .unwrap()
            .to_string_lossy()
            .to_string();
        if (got_file.as_str(), first.location.line, first.key.as_str()) != (file, line, key)
            || !first.message.contains(fragment)
        {
            failures.push(format!(
                "{case}: expected {file}:{line}: {key}: ...{fragment}...\n  got:\n{errors}"
            ));
        }
        if errors.to_string().contains("hunter2") {
            failures.push(format!("{case}: a sensitive value appears in the messages"));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn every_invalid_case_is_in_the_table_and_the_readme() {
    let readme = std::fs::read_to_string(fixture("invalid/README.md")).unwrap();
    for entry in std::fs::read_dir(fixture("invalid")).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            let name = entry.file_name().to_string_lossy().to_string();
            assert!(
                INVALID.iter().any(|c| c.0 == name),
                "{name} has no row in INVALID"
            );
            assert!(
                readme.contains(&format!("`{name}`")),
                "{name} is not in invalid/README.md"
            );
        }
    }
}

#[test]
fn errors_print_file_line_column_key_message() {
    let e = load_with_env(
        &fixture("invalid/unknown_key"),
        &LoadOptions::default(),
        BTreeMap::new(),
    )
    .unwrap_err();
    let path = fixture("invalid/unknown_key/main.hcl");
    assert_eq!(
        e.to_string(),
        format!(
            "{}:6:3: cluster \"source\".bootstrap_server: unknown key; did you mean \"bootstrap_servers\"?",
            path.display()
        )
    );
    let e = load_with_env(
        &fixture("invalid/missing_migration"),
        &LoadOptions::default(),
        BTreeMap::new(),
    )
    .unwrap_err();
    assert!(e.to_string().starts_with(&format!(
        "{}: migration: missing;",
        fixture("invalid/missing_migration").display()
    )));
}

#[test]
fn all_errors_are_collected_in_order() {
    let e = load_text(
        r#"migration "m" { scheme = "mirror" }
cluster "source" { bootstrap_servers = [1] }
cluster "target" { bootstrap_servers = ["t:9092"] }
topic "a" { partitions = 0 }
topic "b" { replication_factor = 1.5 }
"#,
    )
    .unwrap_err();
    let lines: Vec<usize> = e.iter().map(|e| e.location.line).collect();
    assert_eq!(lines, [1, 1, 1, 1, 2, 4, 5], "{e}");
    assert_eq!(
        e.0[4].message,
        "expected a list of strings, found number at index 0"
    );
}

#[test]
fn a_file_with_a_syntax_error_does_not_make_its_blocks_missing() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("a.hcl"),
        "cluster \"source\" { bootstrap_servers = [\"s:9092\"] }\n\
         cluster \"target\" { bootstrap_servers = [\"t:9092\"] }\n",
    )
    .unwrap();
    std::fs::write(
        tmp.path().join("b.hcl"),
        "migration \"m\" {\n  scheme = \"mirror\n}\n",
    )
    .unwrap();
    let e = load_with_env(tmp.path(), &LoadOptions::default(), BTreeMap::new()).unwrap_err();
    assert_eq!(e.0.len(), 1, "{e}");
    assert_eq!(e.0[0].location.file, tmp.path().join("b.hcl"));
    assert!(e.0[0].message.starts_with("syntax error: "), "{e}");
}

#[test]
fn variable_names_must_be_identifiers() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("main.hcl"),
        "variable \"my var\" {}\n\
         migration \"m\" { scheme = \"dual_consume\" }\n\
         cluster \"source\" { bootstrap_servers = [\"s:9092\"] }\n\
         cluster \"target\" { bootstrap_servers = [\"t:9092\"] }\n\
         hook \"switch_producers\" { command = \"./switch.sh\" }\n",
    )
    .unwrap();
    let e = load_with_env(tmp.path(), &LoadOptions::default(), BTreeMap::new()).unwrap_err();
    assert_eq!(
        (e.0.len(), e.0[0].key.as_str()),
        (1, "variable \"my var\""),
        "{e}"
    );
}

#[test]
fn an_old_mirror_switch_hook_is_refused_with_the_two_hooks_that_replace_it() {
    let e = load_text(
        r#"migration "m" { scheme = "mirror" }
cluster "source" { bootstrap_servers = ["s:9092"] }
cluster "target" { bootstrap_servers = ["t:9092"] }
hook "switch_consumers" { command = ["./switch.sh", "consumers"] }
hook "stop_source_producers" { command = ["true"] }
hook "start_target_producers" { command = ["true"] }
"#,
    )
    .unwrap_err();
    assert_eq!(
        e.0.len(),
        1,
        "one error, no 'needs hook' for the pair it names: {e}"
    );
    assert_eq!(e.0[0].location.line, 4);
    let message = &e.0[0].message;
    for part in [
        "replace hook \"switch_consumers\" with",
        "hook \"stop_source_consumers\" { command = [\"...\"] }",
        "hook \"start_target_consumers\" { command = [\"...\"] }",
    ] {
        assert!(message.contains(part), "{message}");
    }
}

#[test]
fn the_lag_bound_is_read_from_the_replication_block() {
    let d = load_text(
        r#"migration "m" { scheme = "dual_consume" }
cluster "source" { bootstrap_servers = ["s:9092"] }
cluster "target" { bootstrap_servers = ["t:9092"] }
hook "switch_producers" { command = "./switch.sh" }
replication {
  max_lag      = 250
  max_lag_time = "3s"
}
"#,
    )
    .unwrap();
    assert_eq!(d.replication.max_lag, 250);
    assert_eq!(
        d.replication.max_lag_time,
        std::time::Duration::from_secs(3)
    );
}

#[test]
fn hooks_know_the_sensitive_variables_values_to_mask_and_never_serialize_them() {
    let d = load_text(
        r#"migration "m" { scheme = "dual_consume" }
cluster "source" { bootstrap_servers = ["s:9092"] }
cluster "target" { bootstrap_servers = ["t:9092"] }
variable "deploy_token" {
  sensitive = true
  default   = "tok-3141592653"
}
variable "region" { default = "eu-frankfurt" }
hook "switch_producers" { command = ["./switch.sh", "--token=${var.deploy_token}", var.region] }
"#,
    )
    .unwrap();
    let hook = &d.hooks["switch_producers"];
    assert_eq!(
        hook.secrets.iter().map(|s| s.expose()).collect::<Vec<_>>(),
        ["tok-3141592653"]
    );
    assert!(!format!("{d:?}").contains("tok-3141592653"));
    assert!(
        !serde_json::to_string(&d)
            .unwrap()
            .contains("tok-3141592653")
    );
}

/// Loads a configuration of one `main.hcl` holding `text`, with no variables and no environment.
fn load_text(text: &str) -> Result<Desired, ConfigErrors> {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("main.hcl"), text).unwrap();
    load_with_env(tmp.path(), &LoadOptions::default(), BTreeMap::new())
}
