//! `ferry plan` against targets that authenticate and authorize, on real Apache Kafka brokers:
//! SASL/SCRAM-SHA-512 with the standard ACL authorizer, SASL/PLAIN with a CKafka-style
//! `instance#user` name, and SSL with a CA the test bed generated. Each test starts its own pair,
//! since each needs a differently configured target.

mod support;

use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;
use ferry_testbed::{BrokerOptions, Security, Testbed, User, seed};
use serde_json::Value;

const ADMIN_PASSWORD: &str = "adm1n-Pa55-never-printed";
const FERRY_PASSWORD: &str = "f3rry-Pa55-never-printed";

fn ferry(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("ferry").unwrap();
    cmd.arg("-C")
        .arg(dir)
        .env("NO_COLOR", "1")
        .timeout(Duration::from_secs(120));
    cmd
}

/// main.hcl for a dual_consume migration of topic `orders`, with `target_security` (an HCL
/// fragment: a `sasl` or `tls` block) in the target cluster block.
fn config(bed: &Testbed, target_security: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "migration \"auth\" {{\n  scheme = \"dual_consume\"\n}}\n\
         variable \"target_password\" {{\n  sensitive = true\n}}\n\
         cluster \"source\" {{\n  bootstrap_servers = [\"{}\"]\n}}\n\
         cluster \"target\" {{\n  bootstrap_servers = [\"{}\"]\n{target_security}}}\n\
         topics {{\n  include = [\"^orders$\"]\n}}\n\
         hook \"switch_producers\" {{\n  command = [\"true\"]\n}}\n",
        bed.source.bootstrap, bed.target.client_bootstrap
    );
    std::fs::write(dir.path().join("main.hcl"), text).unwrap();
    dir
}

fn sasl(mechanism: &str, username: &str) -> String {
    format!(
        "  sasl {{\n    mechanism = \"{mechanism}\"\n    username  = \"{username}\"\n    password  = var.target_password\n  }}\n"
    )
}

fn seed_orders(bed: &Testbed) {
    seed::create_topic(&bed.source.bootstrap, "orders", 2, &[]).unwrap();
    seed::produce(&bed.source.bootstrap, "orders", 0, 5, 64).unwrap();
}

/// Runs `plan --format json` with the target password; the plan on success.
fn run_plan(dir: &Path, password: &str) -> Result<Value, (Option<i32>, String)> {
    let out = ferry(dir)
        .args(["plan", "--format", "json", "--var"])
        .arg(format!("target_password={password}"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let all = format!("{}{stderr}", String::from_utf8_lossy(&out.stdout));
    for secret in [ADMIN_PASSWORD, FERRY_PASSWORD] {
        assert!(
            !all.contains(secret),
            "a password appeared in ferry's output: {all}"
        );
    }
    if out.status.success() {
        Ok(serde_json::from_slice(&out.stdout).expect("plan --format json prints JSON"))
    } else {
        Err((out.status.code(), stderr))
    }
}

/// A source with `orders` and a SCRAM-SHA-512 target with the ACL authorizer, whose users are
/// `admin` (a super user) and `ferry` (granted nothing).
fn scram_target_with_acls() -> Testbed {
    let target = BrokerOptions::security(Security::SaslScram(vec![
        User::new("admin", ADMIN_PASSWORD),
        User::new("ferry", FERRY_PASSWORD),
    ]))
    .with_acls();
    let bed = Testbed::start_with(&BrokerOptions::default(), &target).unwrap();
    seed_orders(&bed);
    bed
}

/// The plan's entry for topic `orders`.
fn orders(plan: &Value) -> &Value {
    plan["topics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "orders")
        .expect("orders in the plan")
}

fn assert_planned_against(plan: &Value, bed: &Testbed) {
    assert_eq!(
        plan["target"]["cluster_id"],
        bed.target.cluster_id.as_str(),
        "{plan}"
    );
    let orders = orders(plan);
    assert_eq!(orders["action"], "create", "{orders}");
}

/// One paragraph (no blank line inside, no backtrace) that says `expected`.
fn assert_one_paragraph(stderr: &str, expected: &str) {
    let text = stderr.trim();
    assert!(
        text.to_lowercase().contains(expected),
        "expected {expected:?} in: {text}"
    );
    assert!(!text.contains("\n\n"), "more than one paragraph: {text}");
    assert!(!text.contains("panicked"), "{text}");
}

#[test]
fn scram_sha_512_with_acls_admits_a_super_user_and_refuses_a_wrong_password_or_a_user_without_acls()
{
    let bed = scram_target_with_acls();

    let admin = config(&bed, &sasl("SCRAM-SHA-512", "admin"));
    let planned = run_plan(admin.path(), ADMIN_PASSWORD).expect("the super user can plan");
    assert_planned_against(&planned, &bed);

    let (code, stderr) = run_plan(admin.path(), "not-the-password").unwrap_err();
    assert_eq!(code, Some(1), "{stderr}");
    assert_one_paragraph(&stderr, "authentication");

    // Authenticated, but the authorizer grants this user nothing.
    let ferry_user = config(&bed, &sasl("SCRAM-SHA-512", "ferry"));
    let (code, stderr) = run_plan(ferry_user.path(), FERRY_PASSWORD).unwrap_err();
    assert_eq!(code, Some(1), "{stderr}");
    assert_one_paragraph(&stderr, "authoriz");
}

#[test]
fn sasl_plain_admits_a_ckafka_style_instance_hash_user() {
    let target = BrokerOptions::security(Security::SaslPlain(vec![User::new(
        "ckafka-abc123#ferry",
        FERRY_PASSWORD,
    )]));
    let bed = Testbed::start_with(&BrokerOptions::default(), &target).unwrap();
    seed_orders(&bed);

    let dir = config(&bed, &sasl("PLAIN", "ckafka-abc123#ferry"));
    let planned = run_plan(dir.path(), FERRY_PASSWORD).expect("the PLAIN user can plan");
    assert_planned_against(&planned, &bed);

    let (code, stderr) = run_plan(dir.path(), "wrong").unwrap_err();
    assert_eq!(code, Some(1), "{stderr}");
    assert_one_paragraph(&stderr, "authentication");
}

#[test]
fn ssl_target_is_reached_with_the_test_bed_ca_and_refused_without_it() {
    let target = BrokerOptions::security(Security::Ssl);
    let bed = Testbed::start_with(&BrokerOptions::default(), &target).unwrap();
    seed_orders(&bed);
    let ca = bed.target.ca_path().expect("an SSL broker has a CA");

    let trusted = config(
        &bed,
        &format!("  tls {{\n    ca_file = \"{}\"\n  }}\n", ca.display()),
    );
    let plan_ok = run_plan(trusted.path(), "unused").expect("the CA verifies the broker");
    assert_planned_against(&plan_ok, &bed);

    // The system trust store does not know the test bed's CA.
    let untrusted = config(&bed, "  tls {}\n");
    let (code, stderr) = run_plan(untrusted.path(), "unused").unwrap_err();
    assert_eq!(code, Some(1), "{stderr}");
    assert_one_paragraph(&stderr, "certificate");
}

/// The keys a created topic's config lists in a JSON plan.
fn created_keys(plan: &Value) -> Vec<String> {
    orders(plan)["config"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["key"].as_str().unwrap().to_string())
        .collect()
}

/// A user the authorizer lets do everything a plan needs except read the brokers' settings
/// (DescribeConfigs on the cluster): the plan still runs, warns that it does not know what a
/// created topic keeps by default, and sets the keys that decide keeping from the source, where
/// a user who may read them (the super user; both brokers have Kafka's stock defaults) leaves
/// the brokers' defaults in force.
#[test]
fn a_user_who_may_not_read_the_brokers_settings_plans_with_the_keeping_keys_set_from_the_source() {
    let bed = scram_target_with_acls();
    let ferry_principal = "User:ferry";
    for (resource, operations) in [
        (&["--topic", "*"][..], &["All"][..]),
        (&["--group", "*"][..], &["All"][..]),
        (&["--cluster"][..], &["Describe", "Create"][..]),
    ] {
        bed.target
            .allow(ferry_principal, resource, operations)
            .unwrap();
    }

    let admin = config(&bed, &sasl("SCRAM-SHA-512", "admin"));
    let read = run_plan(admin.path(), ADMIN_PASSWORD).expect("the super user can plan");
    assert!(
        !created_keys(&read).contains(&"retention.ms".to_string()),
        "the brokers' default is the source's: {read:#}"
    );

    let ferry_user = config(&bed, &sasl("SCRAM-SHA-512", "ferry"));
    let unread = run_plan(ferry_user.path(), FERRY_PASSWORD)
        .unwrap_or_else(|(code, stderr)| panic!("exit {code:?}: {stderr}"));
    assert_planned_against(&unread, &bed);
    let warnings = unread["warnings"].to_string();
    assert!(
        warnings.contains("ferry could not read the target brokers' settings")
            && warnings.contains("Allow DescribeConfigs on the target's cluster resource"),
        "{warnings}"
    );
    let keys = created_keys(&unread);
    for key in [
        "cleanup.policy",
        "max.message.bytes",
        "message.timestamp.type",
        "retention.bytes",
        "retention.ms",
    ] {
        assert!(keys.contains(&key.to_string()), "{key} not set: {keys:?}");
    }
}
