//! The state model and store against real files in temp directories.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use super::*;
use crate::config::Scheme;

fn store_in(dir: &tempfile::TempDir) -> StateStore {
    StateStore::new(dir.path().join("ferry.state.json"))
}

fn sample_state() -> State {
    let mut state = State::new(
        "orders-to-ckafka",
        Scheme::SingleConsume,
        Some("src-cluster".to_string()),
        Some("tgt-cluster".to_string()),
    );
    state.push_step("apply_topics", "create 1 topic on target");
    state.push_step("run_hook", "run hook switch_producers");
    state.push_step("wait_groups_drained", "wait until billing has drained");
    state
}

/// Files in `dir` other than the state file, its backup and its lock.
fn stray_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| {
            ![
                "ferry.state.json",
                "ferry.state.json.backup",
                "ferry.state.json.lock",
            ]
            .contains(&n.as_str())
        })
        .collect();
    names.sort();
    names
}

fn every_outcome() -> Vec<StepOutcome> {
    let mut configs = BTreeMap::new();
    configs.insert(
        "orders.v1".to_string(),
        BTreeMap::from([("retention.ms".to_string(), "604800000".to_string())]),
    );
    let mut offsets = crate::cluster::PartitionOffsets::new();
    offsets.insert("orders.v1".to_string(), BTreeMap::from([(0, 0), (1, 42)]));
    vec![
        StepOutcome::TopicsApplied {
            created: vec!["orders.v1".to_string()],
            updated: vec!["payments".to_string()],
            configs_set: configs,
            already_as_declared: vec!["audit".to_string()],
        },
        StepOutcome::OffsetsCommitted {
            groups: vec!["billing".to_string()],
            offsets: CommittedOffset::list("billing", &offsets),
        },
        StepOutcome::HookRan {
            hook: "switch_producers".to_string(),
            exit_code: Some(0),
            log_file: ".ferry/logs/switch_producers.log".to_string(),
            seconds: 3.5,
        },
        StepOutcome::ConditionMet {
            condition: "group billing on the source has drained".to_string(),
            seconds: 12.25,
        },
    ]
}

// ---- the model ----

#[test]
fn a_new_state_has_version_lineage_and_no_progress() {
    let state = sample_state();
    assert_eq!(state.format_version, STATE_FORMAT_VERSION);
    assert_eq!(state.serial, 0);
    assert!(uuid::Uuid::parse_str(&state.lineage).is_ok());
    assert_ne!(state.lineage, sample_state().lineage);
    assert!(humantime::parse_rfc3339(&state.created_at).is_ok());
    assert!(state.created_at.ends_with('Z'));
    assert_eq!(state.first_unfinished(), Some(0));
    assert_eq!(state.completed_steps(), 0);
    assert_eq!(
        state.steps.iter().map(|s| s.index).collect::<Vec<_>>(),
        [0, 1, 2]
    );
}

#[test]
fn marking_steps_sets_status_timestamps_and_outcome() {
    let mut state = sample_state();
    let outcomes = every_outcome();

    state.mark_running(0);
    let r = state.record(0).unwrap();
    assert_eq!(r.status, StepStatus::Running);
    assert!(r.started_at.is_some() && r.finished_at.is_none());
    assert_eq!(state.first_unfinished(), Some(0));

    state.mark_done(0, outcomes[0].clone());
    let r = state.record(0).unwrap();
    assert_eq!(r.status, StepStatus::Done);
    assert!(humantime::parse_rfc3339(r.finished_at.as_deref().unwrap()).is_ok());
    assert_eq!(r.outcome.as_ref(), Some(&outcomes[0]));
    assert_eq!(state.first_unfinished(), Some(1));

    state.mark_running(1);
    state.record_mut(1).unwrap().outcome = Some(StepOutcome::HookRan {
        hook: "switch_producers".to_string(),
        exit_code: Some(3),
        log_file: "hook.log".to_string(),
        seconds: 0.5,
    });
    state.mark_failed(1, "hook switch_producers exited with code 3");
    let r = state.record(1).unwrap();
    assert_eq!(r.status, StepStatus::Failed);
    assert_eq!(
        r.error.as_deref(),
        Some("hook switch_producers exited with code 3")
    );
    assert!(matches!(
        r.outcome,
        Some(StepOutcome::HookRan {
            exit_code: Some(3),
            ..
        })
    ));
    assert_eq!(state.first_unfinished(), Some(1), "a failed step is rerun");

    // A retry starts clean.
    state.mark_running(1);
    let r = state.record(1).unwrap();
    assert_eq!(r.status, StepStatus::Running);
    assert!(r.error.is_none() && r.outcome.is_none() && r.finished_at.is_none());

    state.mark_done(1, outcomes[2].clone());
    state.mark_running(2);
    state.mark_done(2, outcomes[3].clone());
    assert_eq!(state.first_unfinished(), None);
    assert_eq!(state.completed_steps(), 3);
    assert!(state.record_mut(3).is_none());
}

#[test]
fn outcomes_are_tagged_by_kind_in_json() {
    let json = serde_json::to_value(every_outcome()).unwrap();
    let kinds: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "topics_applied",
            "offsets_committed",
            "hook_ran",
            "condition_met"
        ]
    );
    assert_eq!(
        json[1]["offsets"][1],
        serde_json::json!({"group": "billing", "topic": "orders.v1", "partition": 1, "offset": 42})
    );
}

#[test]
fn state_json_never_has_a_secret_shaped_key() {
    let mut state = sample_state();
    state.push_step("commit_start_offsets", "commit offsets for 1 group");
    for (index, outcome) in every_outcome().into_iter().enumerate() {
        state.mark_running(index);
        state.mark_done(index, outcome);
    }
    let json = serde_json::to_value(&state).unwrap();

    fn keys(value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    out.push(k.to_lowercase());
                    keys(v, out);
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| keys(v, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    keys(&json, &mut all);
    assert!(
        all.contains(&"configs_set".to_string()),
        "walked the outcomes"
    );
    for forbidden in [
        "password",
        "secret",
        "token",
        "credential",
        "sasl",
        "username",
    ] {
        assert!(
            !all.iter().any(|k| k.contains(forbidden)),
            "state JSON has a key containing {forbidden:?}: {all:?}"
        );
    }
}

// ---- the store ----

#[test]
fn load_without_a_file_is_none() {
    let dir = tempfile::tempdir().unwrap();
    assert!(store_in(&dir).load().unwrap().is_none());
}

#[test]
fn every_outcome_reads_back_from_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(&dir);
    let mut state = sample_state();
    for (i, outcome) in every_outcome().into_iter().enumerate() {
        let index = state.push_step("step", format!("step {i}"));
        state.mark_running(index);
        state.mark_done(index, outcome);
    }
    store.save(&mut state).unwrap();
    // The next save re-reads the file first: it must parse what the last one wrote.
    store.save(&mut state).unwrap();
    assert_eq!(store.load().unwrap().unwrap(), state);
}

#[test]
fn save_then_load_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(&dir);
    let mut state = sample_state();
    state.mark_running(0);
    state.mark_done(0, every_outcome()[0].clone());
    store.save(&mut state).unwrap();

    let loaded = store.load().unwrap().unwrap();
    assert_eq!(loaded, state);
    let text = fs::read_to_string(store.path()).unwrap();
    assert!(text.ends_with("}\n"));
    assert!(text.contains("\"scheme\": \"single_consume\""));
    assert!(stray_files(dir.path()).is_empty());
}

#[test]
fn every_save_raises_the_serial_and_stamps_updated_at() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(&dir);
    let mut state = sample_state();
    for expected in 1..=3 {
        store.save(&mut state).unwrap();
        assert_eq!(state.serial, expected);
        assert_eq!(store.load().unwrap().unwrap().serial, expected);
    }
    assert!(humantime::parse_rfc3339(&state.updated_at).is_ok());
    assert!(state.updated_at >= state.created_at);
}

#[test]
fn the_backup_holds_the_previous_version() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(&dir);
    let mut state = sample_state();
    store.save(&mut state).unwrap();
    assert!(
        !store.backup_path().exists(),
        "the first save has nothing to keep"
    );
    let first = fs::read(store.path()).unwrap();

    state.mark_running(0);
    store.save(&mut state).unwrap();
    assert_eq!(fs::read(store.backup_path()).unwrap(), first);
    let second = fs::read(store.path()).unwrap();

    state.mark_done(0, every_outcome()[0].clone());
    store.save(&mut state).unwrap();
    assert_eq!(fs::read(store.backup_path()).unwrap(), second);
    let backup: State = serde_json::from_slice(&second).unwrap();
    assert_eq!(backup.serial, 2);
    assert_eq!(backup.steps[0].status, StepStatus::Running);
    assert!(stray_files(dir.path()).is_empty());
}

#[test]
fn a_corrupt_file_is_refused_and_left_untouched_with_its_backup() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(&dir);
    let mut state = sample_state();
    store.save(&mut state).unwrap();
    store.save(&mut state).unwrap();
    let half_written = br#"{ "format_version": 1, "lineage": "abc", "ser"#;
    fs::write(store.path(), half_written).unwrap();
    let backup_before = fs::read(store.backup_path()).unwrap();

    let err = store.load().unwrap_err();
    let StateError::Corrupt { backup, .. } = &err else {
        panic!("expected Corrupt, got {err:?}");
    };
    assert_eq!(backup.as_deref(), Some(store.backup_path().as_path()));
    let message = err.to_string();
    assert!(message.contains("ferry changed nothing"), "{message}");
    assert!(message.contains("ferry.state.json.backup"), "{message}");
    assert!(message.contains("not valid JSON"), "{message}");

    // Neither this run's state nor a fresh one may overwrite it.
    assert!(matches!(
        store.save(&mut state),
        Err(StateError::Corrupt { .. })
    ));
    assert!(matches!(
        store.save(&mut sample_state()),
        Err(StateError::Corrupt { .. })
    ));
    assert_eq!(fs::read(store.path()).unwrap(), half_written);
    assert_eq!(fs::read(store.backup_path()).unwrap(), backup_before);
    assert!(stray_files(dir.path()).is_empty());
}

#[test]
fn a_corrupt_file_without_backup_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(&dir);
    fs::write(store.path(), "[1, 2]").unwrap();
    let err = store.load().unwrap_err();
    assert!(matches!(err, StateError::Corrupt { backup: None, .. }));
    assert!(err.to_string().contains("There is no backup"), "{err}");

    fs::write(store.path(), r#"{"format_version": 1, "lineage": 7}"#).unwrap();
    let err = store.load().unwrap_err();
    assert!(
        err.to_string()
            .contains("does not match the state format (invalid type: integer `7`, expected a string at line 1 column 34)"),
        "says where: {err}"
    );
}

#[test]
fn an_unknown_format_version_is_refused_and_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(&dir);
    let future = br#"{ "format_version": 2, "lineage": "x", "whatever": "a newer ferry wrote" }"#;
    fs::write(store.path(), future).unwrap();

    let err = store.load().unwrap_err();
    assert!(
        matches!(
            err,
            StateError::UnknownVersion {
                found: 2,
                supported: 1,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("written by a newer ferry"),
        "{err}"
    );
    assert!(store.save(&mut sample_state()).is_err());
    assert_eq!(fs::read(store.path()).unwrap(), future);
    assert!(!store.backup_path().exists());
}

#[test]
fn state_for_other_clusters_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(&dir);
    let state = sample_state();
    store
        .check_clusters(&state, Some("src-cluster"), Some("tgt-cluster"))
        .unwrap();
    // A broker that reports no id cannot be compared.
    store.check_clusters(&state, None, None).unwrap();

    let err = store
        .check_clusters(&state, Some("src-cluster"), Some("another"))
        .unwrap_err();
    assert!(matches!(err, StateError::OtherClusters { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message
            .contains("target cluster \"tgt-cluster\", but the live target cluster is \"another\""),
        "{message}"
    );
    assert!(
        !message.contains("live source"),
        "only the mismatch is named: {message}"
    );
    assert!(
        store
            .check_clusters(&state, Some("x"), Some("tgt-cluster"))
            .is_err()
    );
}

#[test]
fn a_file_from_another_lineage_is_not_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(&dir);
    store.save(&mut sample_state()).unwrap();
    let before = fs::read(store.path()).unwrap();

    let mut other = sample_state();
    let err = store.save(&mut other).unwrap_err();
    assert!(matches!(err, StateError::OtherLineage { .. }), "{err:?}");
    assert_eq!(other.serial, 0, "a refused save leaves the state as it was");
    assert_eq!(fs::read(store.path()).unwrap(), before);
}

#[test]
fn a_newer_file_is_not_overwritten_by_an_older_copy() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(&dir);
    store.save(&mut sample_state()).unwrap();
    let mut mine = store.load().unwrap().unwrap();
    let mut theirs = mine.clone();
    store.save(&mut theirs).unwrap();

    let err = store.save(&mut mine).unwrap_err();
    assert!(
        matches!(
            err,
            StateError::StaleSerial {
                found: 2,
                ours: 1,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn only_the_rename_publishes_a_save() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(&dir);
    let mut state = sample_state();
    store.save(&mut state).unwrap();
    let published = store.load().unwrap().unwrap();

    // A save that crashed before its rename left a half-written temp file behind.
    let leftover = dir.path().join(".ferry.state.json.0123456789abcdef.tmp");
    fs::File::create(&leftover)
        .unwrap()
        .write_all(br#"{ "format_version": 1, "serial": 2, "ste"#)
        .unwrap();
    // Temp files of another state file in the same directory are not ours to remove.
    let unrelated = dir.path().join(".other.state.json.0123.tmp");
    fs::write(&unrelated, "x").unwrap();

    assert_eq!(store.load().unwrap().unwrap(), published);

    store.save(&mut state).unwrap();
    assert!(!leftover.exists(), "the next save removes it");
    assert!(unrelated.exists());
    assert_eq!(store.load().unwrap().unwrap().serial, 2);
    assert_eq!(stray_files(dir.path()), [".other.state.json.0123.tmp"]);
}

#[test]
fn a_failed_save_leaves_state_and_file_as_they_were() {
    let dir = tempfile::tempdir().unwrap();
    let store = StateStore::new(dir.path().join("missing-dir").join("ferry.state.json"));
    let mut state = sample_state();
    let err = store.save(&mut state).unwrap_err();
    assert!(matches!(err, StateError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("missing-dir"), "{err}");
    assert_eq!(state.serial, 0);
}

#[test]
fn sibling_paths_sit_beside_the_state_file() {
    // `ferry.state.json` with no directory part: the temp file and the dir sync use ".".
    let store = StateStore::new("ferry.state.json");
    assert_eq!(
        store.backup_path(),
        PathBuf::from("ferry.state.json.backup")
    );
    assert_eq!(store.lock_path(), PathBuf::from("ferry.state.json.lock"));
}

// ---- the lock ----

#[test]
fn a_second_lock_is_refused_naming_the_holder() {
    let dir = tempfile::tempdir().unwrap();
    let first = store_in(&dir);
    let second = store_in(&dir);
    let guard = first.lock("apply", Duration::ZERO).unwrap();
    assert!(first.lock_path().exists());

    let err = second.lock("apply", Duration::ZERO).unwrap_err();
    let StateError::Locked { info, .. } = &err else {
        panic!("expected Locked, got {err:?}");
    };
    assert_eq!(**info, *guard.info());
    assert_eq!(info.pid, std::process::id());
    assert_eq!(info.operation, "apply");
    assert!(info.who.contains('@'));
    let message = err.to_string();
    for part in [
        info.who.as_str(),
        info.created.as_str(),
        "`ferry apply`",
        "--lock-timeout",
        &format!("ferry force-unlock {}", info.id),
    ] {
        assert!(message.contains(part), "{part:?} missing from: {message}");
    }

    // The same store, opened again, is refused too.
    assert!(matches!(
        first.lock("plan", Duration::ZERO),
        Err(StateError::Locked { .. })
    ));
    drop(guard);
    assert!(
        !first.lock_path().exists(),
        "releasing clears the lock info"
    );
    drop(second.lock("apply", Duration::ZERO).unwrap());
}

#[test]
fn a_waiting_lock_succeeds_once_the_holder_releases() {
    let dir = tempfile::tempdir().unwrap();
    let guard = store_in(&dir).lock("apply", Duration::ZERO).unwrap();
    let holder_id = guard.info().id.clone();

    let (release, released) = mpsc::channel::<()>();
    let holder = std::thread::spawn(move || {
        released.recv().unwrap();
        drop(guard);
    });

    let mut busy = Vec::new();
    let waited = store_in(&dir)
        .lock_with("apply", Duration::from_secs(60), |info| {
            if busy.is_empty() {
                release.send(()).unwrap();
            }
            busy.push(info.map(|i| i.id.clone()));
        })
        .unwrap();
    holder.join().unwrap();
    assert!(!busy.is_empty(), "the first attempt found the lock held");
    assert_eq!(busy[0].as_deref(), Some(holder_id.as_str()));
    assert_ne!(waited.info().id, holder_id);
}

#[test]
fn a_waiting_lock_gives_up_after_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let _guard = store_in(&dir).lock("apply", Duration::ZERO).unwrap();
    let started = std::time::Instant::now();
    let err = store_in(&dir)
        .lock("apply", Duration::from_millis(250))
        .unwrap_err();
    assert!(matches!(err, StateError::Locked { .. }));
    assert!(started.elapsed() >= Duration::from_millis(250));
}

#[test]
fn force_unlock_needs_the_right_id() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(&dir);
    let err = store.force_unlock("nope").unwrap_err();
    assert!(matches!(err, StateError::NotLocked { .. }), "{err:?}");

    let guard = store.lock("apply", Duration::ZERO).unwrap();
    let err = store.force_unlock("not-the-id").unwrap_err();
    assert!(matches!(err, StateError::WrongLockId { .. }), "{err:?}");
    assert!(
        err.to_string().contains(&guard.info().id),
        "names the real id: {err}"
    );
    assert!(
        matches!(
            store.lock("apply", Duration::ZERO),
            Err(StateError::Locked { .. })
        ),
        "still locked"
    );

    // The right id removes it even though the holder (this guard) still runs.
    let removed = store.force_unlock(&guard.info().id).unwrap();
    assert_eq!(&removed, guard.info());
    let next = store.lock("apply", Duration::ZERO).unwrap();
    // The old holder letting go must not clear the new holder's lock.
    drop(guard);
    let err = store.lock("apply", Duration::ZERO).unwrap_err();
    let StateError::Locked { info, .. } = err else {
        panic!("expected Locked, got {err:?}");
    };
    assert_eq!(*info, *next.info());
}

/// Writes what a holder killed with -9 leaves: info in the lock file, no OS lock.
fn leave_dead_lock(store: &StateStore) -> LockInfo {
    let info = LockInfo {
        id: "5f0c7d8e-0000-4000-8000-000000000001".to_string(),
        operation: "apply".to_string(),
        who: "alice@build-7".to_string(),
        pid: 4_000_000,
        created: "2025-01-31T12:00:00Z".to_string(),
    };
    fs::write(store.lock_path(), serde_json::to_vec(&info).unwrap()).unwrap();
    info
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_lock_left_by_a_dead_process_does_not_block() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(&dir);
    let dead = leave_dead_lock(&store);

    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let guard = tracing::subscriber::with_default(subscriber, || {
        store.lock("apply", Duration::ZERO).unwrap()
    });
    assert_ne!(guard.info().id, dead.id);
    assert_eq!(
        serde_json::from_slice::<LockInfo>(&fs::read(store.lock_path()).unwrap()).unwrap(),
        *guard.info()
    );
    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("WARN"), "{logs}");
    assert!(
        logs.contains("cleared a stale state lock from pid 4000000"),
        "{logs}"
    );
}

#[test]
fn force_unlock_clears_a_dead_lock() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(&dir);
    let dead = leave_dead_lock(&store);
    assert!(matches!(
        store.force_unlock("other"),
        Err(StateError::WrongLockId { .. })
    ));
    assert_eq!(store.force_unlock(&dead.id).unwrap(), dead);
    assert!(!store.lock_path().exists());
    assert!(matches!(
        store.force_unlock(&dead.id),
        Err(StateError::NotLocked { .. })
    ));
}

#[test]
fn the_lock_and_the_store_work_together() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(&dir);
    let _guard = store.lock("apply", Duration::ZERO).unwrap();
    let mut state = sample_state();
    store.save(&mut state).unwrap();
    assert_eq!(store.load().unwrap().unwrap(), state);
    assert!(stray_files(dir.path()).is_empty());
}

/// The lock across processes: `flock(1)` takes the same OS lock as ferry (flock(2) on Linux), and
/// the lock dies with a process killed by SIGKILL, leaving only its info behind.
#[cfg(target_os = "linux")]
#[test]
fn a_lock_held_by_a_killed_process_is_free_again() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    if Command::new("flock").arg("--version").output().is_err() {
        eprintln!("skipped: flock(1) is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(&dir);
    let dead = leave_dead_lock(&store);
    // -o: only flock itself holds the lock; the shell just reports it and waits for stdin to close.
    let mut child = Command::new("flock")
        .arg("-o")
        .arg(store.lock_path())
        .args(["-c", "echo locked; read _"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "locked");

    let err = store.lock("apply", Duration::ZERO).unwrap_err();
    assert!(
        matches!(&err, StateError::Locked { info, .. } if **info == dead),
        "{err:?}"
    );

    child.kill().unwrap();
    child.wait().unwrap();
    drop(child.stdin.take());
    let guard = store.lock("apply", Duration::ZERO).unwrap();
    assert_ne!(guard.info().id, dead.id);
}
