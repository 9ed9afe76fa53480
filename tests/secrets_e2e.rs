//! No secret of a full SASL migration reaches anything ferry prints or writes, on real Apache
//! Kafka brokers: source and target both SASL/SCRAM-SHA-512 with the ACL authorizer, scheme
//! `mirror`, a topic with records and a group with committed offsets.
//!
//! The secrets, each reaching ferry another way:
//! - the source password, read by `env("FERRY_TEST_SOURCE_PASSWORD")` in the `sasl` block;
//! - the target password, `--var target_password=...` (a sensitive variable);
//! - a deploy token, `FERRY_VAR_hook_token` (a sensitive variable), that every hook gets in its
//!   arguments (`--token=${var.hook_token}`) and its `env`, and prints on stdout and stderr;
//! - a wrong target password, given to a plan that must fail.
//!
//! The hook token holds a quote, a double quote, a space, a backslash and a `$`, so that quoting
//! (the command line as ferry shows it, JSON) cannot hide a leak from a plain substring search:
//! the search also looks for each secret's JSON-escaped form and for each of its distinctive
//! alphanumeric pieces.
//!
//! Every command runs with `-vv`. After every command, its stdout and stderr and every file
//! under the test's directory (config, saved plan, state, hook logs, ferry's HOME and TMPDIR)
//! are searched, contents and names, so a value written and removed again is caught too.
//! The hooks record the token they were given outside that directory, so the test cannot pass
//! with a secret that was never used.

mod support;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use ferry_testbed::{BrokerOptions, Security, Testbed, User, seed};
use serde_json::Value;
use support::records::{Rec, produce, record};

const SOURCE_PASSWORD: &str = "src-Hq4Wm9Tz-Pa55-Lk2Vb7Ny";
const TARGET_PASSWORD: &str = "tgt-Rb6Xp3Qs-Pa55-Mj8Cz4Fw";
const HOOK_TOKEN: &str = "tok'Gn5Yd2Ks \"Uv7Ht3Lp\\ $Wc9Ea6Rm";
const WRONG_PASSWORD: &str = "bad'Te4Jn8Qa \"Zs3Mf7Xk";

const SECRETS: [(&str, &str); 4] = [
    ("the source password", SOURCE_PASSWORD),
    ("the target password", TARGET_PASSWORD),
    ("the hook token", HOOK_TOKEN),
    ("the wrong target password", WRONG_PASSWORD),
];

const TOPIC: &str = "payments";
const PARTITIONS: i32 = 2;
/// Records per partition.
const RECORDS: usize = 40;
const GROUP: &str = "ledger";
/// The group's committed offset on each source partition.
const COMMITTED: [i64; 2] = [17, 29];

const HOOKS: [&str; 4] = [
    "stop_source_consumers",
    "start_target_consumers",
    "stop_source_producers",
    "start_target_producers",
];

/// The hook every block runs: records the token from its argument and from its environment in
/// the witness directory (outside the searched tree), prints it on both streams, and fails the
/// first run of `stop_source_consumers` (after printing the token once more).
const SWITCH_SH: &str = r#"#!/bin/sh
set -eu
token="${1#--token=}"
witness="$2"
printf '%s\t%s\t%s\n' "$FERRY_HOOK" "$token" "$DEPLOY_TOKEN" >> "$witness/runs"
printf '%s: switching with token=%s\n' "$FERRY_HOOK" "$token"
printf '%s: env token=%s\n' "$FERRY_HOOK" "$DEPLOY_TOKEN" >&2
if [ "$FERRY_HOOK" = stop_source_consumers ] && [ ! -e "$witness/failed-once" ]; then
  : > "$witness/failed-once"
  printf 'refusing once, token=%s\n' "$token" >&2
  exit 3
fi
"#;

/// One ferry command and what it printed.
struct Run {
    label: String,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn output(&self) -> String {
        format!(
            "{} exited {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.label, self.code, self.stdout, self.stderr
        )
    }

    fn succeeded(&self) -> &Run {
        assert_eq!(self.code, Some(0), "{}", self.output());
        self
    }

    fn failed(&self) -> &Run {
        assert_eq!(self.code, Some(1), "{}", self.output());
        self
    }
}

/// The test's directory tree and every leak found in it so far.
struct Migration {
    /// Everything ferry reads or writes: searched after every command.
    root: tempfile::TempDir,
    config: PathBuf,
    /// Where the hooks record the token they got: outside `root`, never searched.
    witness: tempfile::TempDir,
    /// Each leak found: what leaked where, and for a file the first command after which it was
    /// there.
    leaks: Vec<(String, String)>,
    /// Commands run so far: each is named by its number, since some run twice.
    commands: usize,
}

impl Migration {
    fn new() -> Migration {
        let root = tempfile::tempdir().unwrap();
        let config = root.path().join("config");
        for dir in ["config", "config/state", "plans", "home", "tmp", "init"] {
            fs::create_dir(root.path().join(dir)).unwrap();
        }
        let script = config.join("switch.sh");
        fs::write(&script, SWITCH_SH).unwrap();
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
        Migration {
            root,
            config,
            witness: tempfile::tempdir().unwrap(),
            leaks: Vec::new(),
            commands: 0,
        }
    }

    fn plan_file(&self) -> PathBuf {
        self.root.path().join("plans/migration.plan")
    }

    fn state_dir(&self) -> PathBuf {
        self.config.join("state")
    }

    /// Writes `config/main.hcl`; `stop_consumers_command` is the `command` of the
    /// `stop_source_consumers` hook (every other hook runs `./switch.sh` as a list).
    fn write_config(&self, bed: &Testbed, stop_consumers_command: &str) {
        let sasl = |password: &str| {
            format!(
                "  sasl {{\n    mechanism = \"SCRAM-SHA-512\"\n    username  = \"admin\"\n    \
                 password  = {password}\n  }}\n"
            )
        };
        let hook = |name: &str, command: &str| {
            format!(
                "hook \"{name}\" {{\n  command = {command}\n  args    = [\"{witness}\"]\n  \
                 env     = {{ DEPLOY_TOKEN = var.hook_token }}\n  timeout = \"1m\"\n}}\n",
                witness = self.witness.path().display()
            )
        };
        let list_command = r#"["./switch.sh", "--token=${var.hook_token}"]"#;
        let hooks: String = HOOKS
            .iter()
            .map(|&name| match name {
                "stop_source_consumers" => hook(name, stop_consumers_command),
                _ => hook(name, list_command),
            })
            .collect();
        let text = format!(
            "migration \"secrets\" {{\n  scheme        = \"mirror\"\n  settle_period = \"1s\"\n  \
             wait_timeout  = \"1m\"\n}}\n\n\
             variable \"target_password\" {{\n  sensitive = true\n}}\n\
             variable \"hook_token\" {{\n  description = \"the deployment system's token\"\n  \
             sensitive   = true\n}}\n\n\
             cluster \"source\" {{\n  bootstrap_servers = [\"{source}\"]\n{source_sasl}}}\n\n\
             cluster \"target\" {{\n  bootstrap_servers = [\"{target}\"]\n{target_sasl}}}\n\n\
             topics {{\n  include = [\"^{TOPIC}$\"]\n}}\n\n\
             consumer_groups {{\n  include = [\"^{GROUP}$\"]\n}}\n\n\
             replication {{\n  start_from = \"earliest\"\n}}\n\n\
             {hooks}\n\
             state {{\n  path = \"state/ferry.state.json\"\n}}\n",
            source = bed.source.client_bootstrap,
            target = bed.target.client_bootstrap,
            source_sasl = sasl("env(\"FERRY_TEST_SOURCE_PASSWORD\")"),
            target_sasl = sasl("var.target_password"),
        );
        fs::write(self.config.join("main.hcl"), text).unwrap();
    }

    /// Runs `ferry -vv -C config --var target_password=PASSWORD ARGS`, with the other secrets in
    /// its environment, then searches its output and the whole tree.
    fn ferry(&mut self, target_password: &str, args: &[&str]) -> Run {
        self.commands += 1;
        let label = format!("command {} (`ferry {}`)", self.commands, args.join(" "));
        let out = Command::cargo_bin("ferry")
            .unwrap()
            .arg("-vv")
            .arg("-C")
            .arg(&self.config)
            .arg("--var")
            .arg(format!("target_password={target_password}"))
            .args(args)
            .env_remove("RUST_LOG")
            .env("NO_COLOR", "1")
            .env("FERRY_TEST_SOURCE_PASSWORD", SOURCE_PASSWORD)
            .env("FERRY_VAR_hook_token", HOOK_TOKEN)
            .env("HOME", self.root.path().join("home"))
            .env("TMPDIR", self.root.path().join("tmp"))
            .timeout(Duration::from_secs(120))
            .output()
            .unwrap();
        let run = Run {
            label,
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            self.search(bytes, &format!("the {stream} of {}", run.label), "");
        }
        self.search_tree(&format!(" (first there after {})", run.label));
        run
    }

    /// Searches every file under the root, contents and relative path.
    fn search_tree(&mut self, when: &str) {
        let root = self.root.path().to_owned();
        for (path, bytes) in files_under(&root) {
            let name = path.strip_prefix(&root).unwrap().display().to_string();
            self.search(
                name.as_bytes(),
                &format!("the name of the file {name}"),
                when,
            );
            self.search(&bytes, &format!("the file {name}"), when);
        }
    }

    /// Records each form of each secret found in `haystack`, once per `place`; `when` is added
    /// to the first report of a place that outlives the command (a file).
    fn search(&mut self, haystack: &[u8], place: &str, when: &str) {
        for (secret, value) in SECRETS {
            for (form, needle) in forms(value) {
                let leak = format!("{secret} ({form}) in {place}");
                if contains(haystack, &needle) && !self.leaks.iter().any(|(l, _)| *l == leak) {
                    self.leaks.push((leak, when.to_string()));
                }
            }
        }
    }

    /// One line per leak, in the order found.
    fn report(&self) -> String {
        self.leaks
            .iter()
            .map(|(leak, when)| format!("{leak}{when}\n"))
            .collect()
    }
}

/// What a secret may look like where it leaked: as is, JSON-escaped, and each alphanumeric
/// piece of eight or more characters (what shell quoting or another escaping leaves whole).
fn forms(value: &str) -> Vec<(String, Vec<u8>)> {
    let mut forms = vec![("as is".to_string(), value.as_bytes().to_vec())];
    let json = serde_json::to_string(value).unwrap();
    let json = &json[1..json.len() - 1];
    if json != value {
        forms.push(("JSON-escaped".to_string(), json.as_bytes().to_vec()));
    }
    for piece in value.split(|c: char| !c.is_ascii_alphanumeric()) {
        if piece.len() >= 8 {
            forms.push((format!("its piece {piece}"), piece.as_bytes().to_vec()));
        }
    }
    forms
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Every entry under `dir`, recursively, as (path, bytes to search): a regular file's contents
/// (binary or not), a symbolic link's target path followed by the contents it points to. Any
/// other kind of entry fails the test: nothing is skipped.
fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let kind = fs::symlink_metadata(&path).unwrap().file_type();
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() {
                let bytes = fs::read(&path).unwrap();
                out.push((path, bytes));
            } else if kind.is_symlink() {
                let mut bytes = fs::read_link(&path)
                    .unwrap()
                    .into_os_string()
                    .into_encoded_bytes();
                if fs::metadata(&path).is_ok_and(|m| m.is_file()) {
                    bytes.extend(fs::read(&path).unwrap());
                }
                out.push((path, bytes));
            } else {
                panic!(
                    "{} is neither a file, a directory nor a link",
                    path.display()
                );
            }
        }
    }
    out
}

#[test]
fn no_secret_of_a_sasl_mirror_migration_reaches_any_output_log_plan_or_state_file() {
    let admin = |password: &str| Security::SaslScram(vec![User::new("admin", password)]);
    let bed = Testbed::start_with(
        &BrokerOptions::security(admin(SOURCE_PASSWORD)).with_acls(),
        &BrokerOptions::security(admin(TARGET_PASSWORD)).with_acls(),
    )
    .unwrap();
    // Seeded through the brokers' own PLAINTEXT listeners; ferry only gets the SASL ones.
    let source = bed.source.bootstrap.clone();
    let target = bed.target.bootstrap.clone();
    seed::create_topic(&source, TOPIC, PARTITIONS, &[]).unwrap();
    for p in 0..PARTITIONS {
        let records: Vec<Rec> = (0..RECORDS).map(|i| record(p, i, 0)).collect();
        produce(&source, TOPIC, p, &records);
    }
    let commits: Vec<(&str, i32, i64)> = (0..PARTITIONS)
        .map(|p| (TOPIC, p, COMMITTED[p as usize]))
        .collect();
    seed::commit_offsets(&source, GROUP, &commits).unwrap();

    let mut m = Migration::new();
    assert!(!m.witness.path().starts_with(m.root.path()));
    // A common mistake first: the command as one string, which ferry runs as a program's name
    // (no shell), so that the token is part of a path that does not exist.
    m.write_config(&bed, r#""./switch.sh --token=${var.hook_token}""#);
    let plan_file = m.plan_file();
    let plan_path = plan_file.to_str().unwrap();

    m.ferry(TARGET_PASSWORD, &["validate"]).succeeded();
    let json = m.ferry(TARGET_PASSWORD, &["plan", "--format", "json"]);
    let plan: Value = serde_json::from_str(&json.succeeded().stdout).unwrap();
    assert_eq!(plan["target"]["cluster_id"], bed.target.cluster_id.as_str());
    m.ferry(TARGET_PASSWORD, &["plan", "--format", "markdown"])
        .succeeded();
    m.ferry(TARGET_PASSWORD, &["plan", "--out", plan_path])
        .succeeded();
    assert!(plan_file.is_file());

    let wrong = m.ferry(WRONG_PASSWORD, &["plan"]);
    assert!(
        wrong
            .failed()
            .stderr
            .to_lowercase()
            .contains("authentication"),
        "{}",
        wrong.output()
    );

    // The saved plan copies, catches up, and stops at the hook that cannot start.
    let apply = m.ferry(TARGET_PASSWORD, &["apply", plan_path]);
    assert!(
        apply.failed().stderr.contains("could not start"),
        "{}",
        apply.output()
    );
    m.ferry(TARGET_PASSWORD, &["status"]).succeeded();
    m.ferry(TARGET_PASSWORD, &["state", "show"]).succeeded();

    // Fixed; the hook fails once on its own, printing the token, then the migration completes.
    m.write_config(&bed, r#"["./switch.sh", "--token=${var.hook_token}"]"#);
    let apply = m.ferry(TARGET_PASSWORD, &["apply", "--auto-approve"]);
    assert!(
        apply.failed().stderr.contains("failed with exit code 3"),
        "{}",
        apply.output()
    );
    m.ferry(TARGET_PASSWORD, &["state", "list"]).succeeded();
    let apply = m.ferry(TARGET_PASSWORD, &["apply", "--auto-approve"]);
    let shown = apply.succeeded().output();
    assert!(apply.stdout.contains("Apply complete"), "{shown}");
    // The hooks printed the token, and ferry showed their lines masked.
    assert!(
        shown.contains("switching with token=(sensitive value)"),
        "{shown}"
    );
    assert!(shown.contains("env token=(sensitive value)"), "{shown}");

    m.ferry(TARGET_PASSWORD, &["status"]).succeeded();
    m.ferry(TARGET_PASSWORD, &["drift"]).succeeded();
    m.ferry(TARGET_PASSWORD, &["drift", "--format", "json"])
        .succeeded();
    m.ferry(TARGET_PASSWORD, &["state", "list"]).succeeded();
    m.ferry(TARGET_PASSWORD, &["state", "show"]).succeeded();
    m.ferry(TARGET_PASSWORD, &["plan", "--detailed-exitcode"])
        .succeeded();
    let init_dir = m.root.path().join("init");
    m.ferry(
        TARGET_PASSWORD,
        &["init", "--from-source", "--out", init_dir.to_str().unwrap()],
    )
    .succeeded();
    // Past the point of no return: refused.
    m.ferry(TARGET_PASSWORD, &["rollback"]).failed();

    assert!(m.leaks.is_empty(), "secrets leaked:\n{}", m.report());

    // The search covered what the migration wrote: config, saved plan, state, hook logs.
    let files = files_under(m.root.path());
    let names: Vec<String> = files
        .iter()
        .map(|(p, _)| p.strip_prefix(m.root.path()).unwrap().display().to_string())
        .collect();
    for expected in [
        "config/main.hcl",
        "plans/migration.plan",
        "config/state/ferry.state.json",
    ] {
        assert!(names.iter().any(|n| n == expected), "{expected}: {names:?}");
    }
    let hook_logs: Vec<&(PathBuf, Vec<u8>)> = files
        .iter()
        .filter(|(p, _)| p.starts_with(m.state_dir().join("ferry-logs")))
        .collect();
    // The spawn failure, the failed run, and one run of each hook.
    assert_eq!(hook_logs.len(), 6, "{names:?}");
    let logs: Vec<String> = hook_logs
        .iter()
        .map(|(_, bytes)| String::from_utf8_lossy(bytes).into_owned())
        .collect();
    let with = |text: &str| logs.iter().filter(|log| log.contains(text)).count();
    // Each log shows the command line masked; each hook that started logged what it printed
    // with the token masked.
    assert_eq!(
        with("# command: ./switch.sh '--token=(sensitive value)'"),
        5,
        "{logs:#?}"
    );
    assert_eq!(
        with("'./switch.sh --token=(sensitive value)'"),
        1,
        "{logs:#?}"
    );
    assert_eq!(with("[stdout] "), 5, "{logs:#?}");
    assert_eq!(
        with("switching with token=(sensitive value)"),
        5,
        "{logs:#?}"
    );
    assert_eq!(with("env token=(sensitive value)"), 5, "{logs:#?}");

    // Each hook really got the token, in its arguments and in its environment.
    let runs = fs::read_to_string(m.witness.path().join("runs")).unwrap();
    let runs: Vec<Vec<&str>> = runs
        .lines()
        .map(|line| line.split('\t').collect())
        .collect();
    let ran: Vec<&str> = runs.iter().map(|r| r[0]).collect();
    assert_eq!(
        ran,
        [
            "stop_source_consumers",
            "stop_source_consumers",
            "start_target_consumers",
            "stop_source_producers",
            "start_target_producers"
        ]
    );
    for run in &runs {
        assert_eq!(run[1..], [HOOK_TOKEN, HOOK_TOKEN], "{}", run[0]);
    }

    // The migration happened: the records are on the target, the group resumes there where it
    // stopped on the source, every step is done.
    support::records::assert_mirrored_and_group_resumes(
        &source, &target, TOPIC, RECORDS, GROUP, &COMMITTED,
    );
    let state: Value =
        serde_json::from_slice(&fs::read(m.state_dir().join("ferry.state.json")).unwrap()).unwrap();
    let steps = state["steps"].as_array().unwrap();
    assert!(steps.iter().all(|s| s["status"] == "done"), "{steps:#?}");
    assert_eq!(
        steps.iter().filter(|s| s["kind"] == "run_hook").count(),
        HOOKS.len()
    );
}
