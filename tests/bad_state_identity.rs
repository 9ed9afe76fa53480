//! A state file that is another migration's (another name, another scheme, or a cluster id a
//! pin contradicts) is refused by every command that reads it as this migration's, before any
//! cluster is contacted: the configuration's servers refuse connections, so a command that got
//! as far as connecting would say "cannot reach" instead of the identity message asserted here.
//! The state file stays byte for byte as it was. `state show` still prints any file.

mod bad_input;

use bad_input::{MAIN_HCL, config_dir, ferry, listing};

/// A state file as ferry writes it, one step recorded.
fn state_json(migration: &str, scheme: &str, source_id: &str, target_id: &str) -> String {
    format!(
        r#"{{
  "format_version": 1,
  "lineage": "6f1d2c3b-0000-4000-8000-000000000001",
  "serial": 3,
  "migration": "{migration}",
  "scheme": "{scheme}",
  "source_cluster_id": "{source_id}",
  "target_cluster_id": "{target_id}",
  "steps": [
    {{
      "index": 0,
      "kind": "apply_topics",
      "description": "create 1 topic on the target",
      "status": "done",
      "started_at": "2026-12-01T10:00:00Z",
      "finished_at": "2026-12-01T10:00:01Z",
      "outcome": null,
      "error": null
    }}
  ],
  "created_at": "2026-12-01T10:00:00Z",
  "updated_at": "2026-12-01T10:00:01Z"
}}
"#
    )
}

/// What the state file records: migration, scheme, source and target cluster ids.
type Recorded = (&'static str, &'static str, &'static str, &'static str);
/// `cluster_id` pins added to the HCL: source, target.
type Pins = (Option<&'static str>, Option<&'static str>);

/// `(case, state file, pins, fragment expected in stderr)`.
#[rustfmt::skip]
const CASES: &[(&str, Recorded, Pins, &str)] = &[
    ("another migration's name",
     ("other-migration", "dual_consume", "src-id", "tgt-id"), (None, None),
     "records migration \"other-migration\" (scheme dual_consume), but the configuration declares migration \"bad-input\""),
    ("another scheme",
     ("bad-input", "mirror", "src-id", "tgt-id"), (None, None),
     "records migration \"bad-input\" started with scheme mirror, but the configuration now declares scheme dual_consume"),
    ("a source pin the state contradicts",
     ("bad-input", "dual_consume", "src-id", "tgt-id"), (Some("pinned-src"), None),
     "whose source cluster has id src-id, but cluster \"source\" pins cluster_id = \"pinned-src\""),
    ("a target pin the state contradicts",
     ("bad-input", "dual_consume", "src-id", "tgt-id"), (Some("src-id"), Some("pinned-tgt")),
     "whose target cluster has id tgt-id, but cluster \"target\" pins cluster_id = \"pinned-tgt\""),
];

/// Every command that reads the state as this migration's.
const COMMANDS: &[&[&str]] = &[
    &["status"],
    &["state", "list"],
    &["plan"],
    &["apply", "--auto-approve"],
    &["drift"],
    &["rollback"],
    &["replicate", "--until-caught-up"],
];

/// What every refusal says besides its case: nothing happened.
const NOTHING_DONE: &str = "ferry changed nothing and contacted no cluster";

/// MAIN_HCL with `cluster_id` pins.
fn hcl(pins: Pins) -> String {
    let mut text = MAIN_HCL.to_string();
    for (pin, servers) in [(pins.0, "\"127.0.0.1:1\"]"), (pins.1, "\"127.0.0.1:2\"]")] {
        if let Some(id) = pin {
            text = text.replace(servers, &format!("{servers}\n  cluster_id = \"{id}\""));
        }
    }
    text
}

#[test]
fn another_migrations_state_is_refused_offline_by_every_command() {
    let mut failures = Vec::new();
    for &(case, (migration, scheme, source_id, target_id), pins, fragment) in CASES {
        for command in COMMANDS {
            let dir = config_dir();
            std::fs::write(dir.path().join("main.hcl"), hcl(pins)).unwrap();
            let state = state_json(migration, scheme, source_id, target_id);
            let path = dir.path().join("ferry.state.json");
            std::fs::write(&path, &state).unwrap();
            let before = listing(dir.path());
            let out = ferry(dir.path(), command);
            let mut wrong = Vec::new();
            if out.code != Some(1) {
                wrong.push("exit code is not 1".to_string());
            }
            for part in [fragment, NOTHING_DONE] {
                if !out.stderr.contains(part) {
                    wrong.push(format!("stderr lacks {part:?}"));
                }
            }
            if out.stderr.contains("cannot reach") {
                wrong.push("it tried to connect".into());
            }
            if std::fs::read_to_string(&path).unwrap() != state {
                wrong.push("the state file changed".into());
            }
            // The lock file may appear (apply and rollback lock before reading); nothing else.
            let mut after = listing(dir.path());
            after.remove("ferry.state.json.lock");
            if after != before {
                wrong.push(format!("the directory changed: {before:?} -> {after:?}"));
            }
            if !wrong.is_empty() {
                failures.push(format!(
                    "{case}, ferry {}: {}\n{}",
                    command.join(" "),
                    wrong.join("; "),
                    out.describe()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The control: the same file with this migration's identity is read, and `state show` prints
/// another migration's file as it is, so that it can be looked at.
#[test]
fn this_migrations_state_is_listed_and_any_state_can_be_shown() {
    let dir = config_dir();
    let path = dir.path().join("ferry.state.json");
    std::fs::write(
        &path,
        state_json("bad-input", "dual_consume", "src-id", "tgt-id"),
    )
    .unwrap();
    let out = ferry(dir.path(), &["state", "list"]);
    assert_eq!(out.code, Some(0), "{}", out.describe());
    assert!(
        out.stdout.contains("create 1 topic on the target"),
        "{}",
        out.describe()
    );

    std::fs::write(
        &path,
        state_json("other-migration", "mirror", "src-id", "tgt-id"),
    )
    .unwrap();
    let out = ferry(dir.path(), &["state", "show"]);
    assert_eq!(out.code, Some(0), "{}", out.describe());
    assert!(
        out.stdout.contains("\"migration\": \"other-migration\""),
        "{}",
        out.describe()
    );
}
