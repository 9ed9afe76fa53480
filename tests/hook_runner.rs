//! `run_hook` with real processes: shell scripts written by the test into temporary config
//! directories, output checked in the reporter and the log file, timeouts checked by pid.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ferry::apply::reporter::{RecordingReporter, Stream};
use ferry::apply::{HOOK_KILL_GRACE, HookContext, HookError, HookRun, run_hook};
use ferry::config::{Hook, Location, Scheme, Secret};
use tempfile::TempDir;

const SECRET: &str = "s3cr3t-Value-42";

/// A config directory and a log directory that does not exist yet.
struct Fixture {
    config: TempDir,
    _logs_root: TempDir,
    logs: PathBuf,
}

fn fixture() -> Fixture {
    let logs_root = tempfile::tempdir().unwrap();
    let logs = logs_root.path().join(".ferry").join("logs");
    Fixture {
        config: tempfile::tempdir().unwrap(),
        _logs_root: logs_root,
        logs,
    }
}

impl Fixture {
    fn dir(&self) -> &Path {
        self.config.path()
    }

    /// Writes an executable `#!/bin/sh` script at `rel` inside the config directory.
    fn script(&self, rel: &str, body: &str) -> PathBuf {
        self.script_with_mode(rel, body, 0o755)
    }

    fn script_with_mode(&self, rel: &str, body: &str, mode: u32) -> PathBuf {
        let path = self.dir().join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
        path
    }

    fn ctx(&self) -> HookContext {
        HookContext {
            migration: "orders-to-ckafka".into(),
            scheme: Scheme::DualConsume,
            step_index: 4,
            step_count: 9,
            config_dir: self.dir().to_path_buf(),
            state_path: self.dir().join("ferry.state.json"),
            source_bootstrap: "10.0.0.11:9092,10.0.0.12:9092".into(),
            target_bootstrap: "ckafka-abc123:50000".into(),
        }
    }

    fn run(&self, hook: &Hook, reporter: &RecordingReporter) -> Result<HookRun, HookError> {
        // Exec'ing a script that was just written can fail with ETXTBSY while another test thread
        // forks with the write descriptor still open; that is the test's race, not the hook's.
        for _ in 0..20 {
            match run_hook(hook, &self.ctx(), &self.logs, reporter) {
                Err(HookError::Spawn { detail, .. }) if detail.contains("Text file busy") => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                other => return other,
            }
        }
        panic!("the script stayed busy");
    }
}

fn hook(name: &str, command: &[&str], env: &[(&str, &str)], timeout: Duration) -> Hook {
    Hook {
        name: name.into(),
        command: command.iter().map(|s| s.to_string()).collect(),
        env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
        secrets: Vec::new(),
        timeout,
        location: Location {
            file: PathBuf::from("main.hcl"),
            line: 40,
            column: 1,
        },
    }
}

const LONG: Duration = Duration::from_secs(60);

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The lines of `stream` in a hook log, without their prefix.
fn log_lines(log: &str, stream: Stream) -> Vec<String> {
    let prefix = format!("[{stream}] ");
    log.lines()
        .filter_map(|l| l.strip_prefix(&prefix).map(str::to_string))
        .collect()
}

fn read_pid(path: &Path) -> i32 {
    read(path).trim().parse().unwrap()
}

/// Running and not a zombie (an orphan nobody reaped yet is dead for our purpose).
fn alive(pid: i32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.trim_start().chars().next());
            !matches!(state, Some('Z' | 'X'))
        }
        Err(_) => false,
    }
}

fn assert_gone_soon(pids: &[i32]) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while pids.iter().any(|&p| alive(p)) {
        assert!(
            Instant::now() < deadline,
            "still running: {:?}",
            pids.iter().filter(|&&p| alive(p)).collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn assert_one_paragraph(err: &HookError, log_file: &Path) {
    let text = err.to_string();
    assert!(!text.contains('\n'), "{text}");
    assert!(text.contains(&log_file.display().to_string()), "{text}");
    assert!(text.contains("rerun `ferry apply`"), "{text}");
    eprintln!("message: {text}");
}

#[test]
fn output_of_both_streams_reaches_reporter_and_log_in_order() {
    let fx = fixture();
    fx.script(
        "print.sh",
        "echo out-1\necho err-1 >&2\necho out-2\nprintf 'err-2\\r\\n' >&2\nsleep 0.1\n\
         echo out-3\necho err-3 >&2\nprintf 'out-4 without newline'",
    );
    let h = hook("switch_consumers", &["sh", "./print.sh"], &[], LONG);
    let reporter = RecordingReporter::new();
    let run = fx.run(&h, &reporter).unwrap();

    assert_eq!(run.exit_code, 0);
    assert!(run.seconds > 0.0);
    let out = ["out-1", "out-2", "out-3", "out-4 without newline"];
    let err = ["err-1", "err-2", "err-3"];
    assert_eq!(reporter.hook_lines("switch_consumers", Stream::Stdout), out);
    assert_eq!(reporter.hook_lines("switch_consumers", Stream::Stderr), err);
    let first = &reporter.entries()[0];
    assert!(first.starts_with("running hook \"switch_consumers\": sh ./print.sh"));
    assert!(first.contains(&run.log_file.display().to_string()));

    assert_eq!(run.log_file.parent().unwrap(), fx.logs);
    let name = run.log_file.file_name().unwrap().to_str().unwrap();
    assert!(
        name.starts_with("04-switch_consumers-") && name.ends_with(".log"),
        "{name}"
    );
    let log = read(&run.log_file);
    assert_eq!(log_lines(&log, Stream::Stdout), out);
    assert_eq!(log_lines(&log, Stream::Stderr), err);
    let lines: Vec<&str> = log.lines().collect();
    assert!(lines[0].starts_with("# ferry hook \"switch_consumers\": step 4 of 9"));
    assert!(log.contains("# command: sh ./print.sh\n"), "{log}");
    assert!(log.contains("# started: "), "{log}");
    let footer = lines.last().unwrap();
    assert!(
        footer.starts_with("# finished: ") && footer.contains("exit code 0 after"),
        "{footer}"
    );
}

#[test]
fn ferry_variables_hook_env_and_config_dir_reach_the_process() {
    let fx = fixture();
    fx.script(
        "deploy/switch.sh",
        r#"echo "args=$*"
echo "pwd=$(pwd -P)"
for v in FERRY_MIGRATION FERRY_SCHEME FERRY_HOOK FERRY_STEP FERRY_STEP_COUNT FERRY_CONFIG_DIR \
         FERRY_STATE_PATH FERRY_SOURCE_BOOTSTRAP FERRY_TARGET_BOOTSTRAP REGION; do
  eval "echo $v=\"\${$v}\""
done
[ "$API_TOKEN" = "s3cr3t-Value-42" ] && echo "token=matches"
echo "home=$HOME"
[ -t 0 ] || read -r line || echo "stdin=empty""#,
    );
    // Relative to the config directory, not to the test's working directory.
    let h = hook(
        "switch_producers",
        &["./deploy/switch.sh", "producers", "target"],
        &[("REGION", "eu"), ("API_TOKEN", SECRET)],
        LONG,
    );
    let reporter = RecordingReporter::new();
    fx.run(&h, &reporter).unwrap();

    let dir = fx.dir().display().to_string();
    let expected = [
        "args=producers target".to_string(),
        format!("pwd={}", fx.dir().canonicalize().unwrap().display()),
        "FERRY_MIGRATION=orders-to-ckafka".into(),
        "FERRY_SCHEME=dual_consume".into(),
        "FERRY_HOOK=switch_producers".into(),
        "FERRY_STEP=4".into(),
        "FERRY_STEP_COUNT=9".into(),
        format!("FERRY_CONFIG_DIR={dir}"),
        format!("FERRY_STATE_PATH={dir}/ferry.state.json"),
        "FERRY_SOURCE_BOOTSTRAP=10.0.0.11:9092,10.0.0.12:9092".into(),
        "FERRY_TARGET_BOOTSTRAP=ckafka-abc123:50000".into(),
        "REGION=eu".into(),
        "token=matches".into(),
        format!("home={}", std::env::var("HOME").unwrap_or_default()),
        "stdin=empty".into(),
    ];
    assert_eq!(
        reporter.hook_lines("switch_producers", Stream::Stdout),
        expected
    );
    assert!(
        reporter
            .hook_lines("switch_producers", Stream::Stderr)
            .is_empty()
    );
}

#[test]
fn hook_env_values_never_reach_the_log_or_the_reporter() {
    let fx = fixture();
    fx.script(
        "leak.sh",
        "echo \"token is $API_TOKEN\"\necho \"$API_TOKEN\" >&2\necho \"arg $1\"\necho done",
    );
    let arg = format!("--token={SECRET}");
    let h = hook(
        "switch_consumers",
        &["sh", "./leak.sh", &arg],
        &[("API_TOKEN", SECRET)],
        LONG,
    );
    let reporter = RecordingReporter::new();
    let run = fx.run(&h, &reporter).unwrap();

    let log = read(&run.log_file);
    assert!(!log.contains(SECRET), "{log}");
    assert!(
        log.contains("[stdout] token is (sensitive value)\n"),
        "{log}"
    );
    assert!(log.contains("[stderr] (sensitive value)\n"), "{log}");
    assert!(
        log.contains("[stdout] arg --token=(sensitive value)\n"),
        "{log}"
    );
    assert!(log.contains("API_TOKEN (values not logged)"), "{log}");
    let entries = reporter.entries();
    assert!(entries.iter().all(|e| !e.contains(SECRET)), "{entries:#?}");
    assert!(entries.contains(&"[hook switch_consumers stdout] done".to_string()));
}

/// A sensitive variable used in `command` or `args` (not in `env`): the command line the log
/// header and the terminal show, and what the hook prints, have it masked.
#[test]
fn sensitive_variables_in_the_command_line_never_reach_the_log_or_the_reporter() {
    let fx = fixture();
    fx.script("deploy.sh", "echo \"deploying with $1\"\necho done");
    let secret = "vault-token-7f3a9c";
    let mut h = hook(
        "switch_producers",
        &["sh", "./deploy.sh", &format!("--token={secret}")],
        &[],
        LONG,
    );
    h.secrets = vec![Secret::new(secret)];
    let reporter = RecordingReporter::new();
    let run = fx.run(&h, &reporter).unwrap();

    let log = read(&run.log_file);
    assert!(!log.contains(secret), "{log}");
    assert!(
        log.contains("--token=(sensitive value)"),
        "the command line, masked: {log}"
    );
    assert!(
        log.contains("[stdout] deploying with --token=(sensitive value)\n"),
        "{log}"
    );
    let entries = reporter.entries();
    assert!(entries.iter().all(|e| !e.contains(secret)), "{entries:#?}");
    assert!(
        entries
            .iter()
            .any(|e| e.contains("--token=(sensitive value)")),
        "the terminal shows the masked command: {entries:#?}"
    );
}

/// A secret holding a quote is still masked in the command line shown (quoting it for the shell
/// would split it), and a secret inside the program's name (a `command` written as one string,
/// which ferry runs as one program name) stays out of the spawn error and the log.
#[test]
fn sensitive_values_with_quotes_or_inside_the_program_name_are_masked() {
    let fx = fixture();
    fx.script("deploy.sh", "echo \"deploying with $1\"");
    let secret = "it's a \"vault\" token";
    let mut h = hook(
        "switch_producers",
        &["./deploy.sh", &format!("--token={secret}")],
        &[],
        LONG,
    );
    h.secrets = vec![Secret::new(secret)];
    let reporter = RecordingReporter::new();
    let run = fx.run(&h, &reporter).unwrap();
    let log = read(&run.log_file);
    assert!(
        log.contains("# command: ./deploy.sh '--token=(sensitive value)'\n"),
        "{log}"
    );
    assert!(
        log.contains("[stdout] deploying with --token=(sensitive value)\n"),
        "{log}"
    );
    let entries = reporter.entries();
    for shown in entries.iter().chain([&log]) {
        for piece in ["it's", "vault", "token\""] {
            assert!(!shown.contains(piece), "{piece} shown: {shown}");
        }
    }

    let mut h = hook(
        "switch_producers",
        &[&format!("./deploy.sh --token={SECRET}")],
        &[],
        LONG,
    );
    h.secrets = vec![Secret::new(SECRET)];
    let reporter = RecordingReporter::new();
    let err = fx.run(&h, &reporter).unwrap_err();
    let HookError::Spawn {
        program, log_file, ..
    } = &err
    else {
        panic!("expected Spawn, got {err:?}");
    };
    assert_eq!(program, "./deploy.sh --token=(sensitive value)");
    let log = read(log_file);
    let message = err.to_string();
    assert!(message.contains("there is no file"), "{message}");
    for shown in reporter.entries().iter().chain([&log, &message]) {
        assert!(!shown.contains(SECRET), "{shown}");
    }
}

#[test]
fn non_zero_exit_is_failed_with_the_code() {
    let fx = fixture();
    fx.script("fail.sh", "echo 'deploy rejected' >&2\nexit 3");
    let h = hook("switch_producers", &["sh", "./fail.sh"], &[], LONG);
    let reporter = RecordingReporter::new();
    let err = fx.run(&h, &reporter).unwrap_err();

    let HookError::Failed {
        hook,
        exit_code,
        signal,
        log_file,
    } = &err
    else {
        panic!("expected Failed, got {err:?}");
    };
    assert_eq!(
        (hook.as_str(), *exit_code, signal),
        ("switch_producers", 3, &None)
    );
    assert_eq!(err.exit_code(), Some(3));
    assert!(err.to_string().contains("failed with exit code 3"));
    let log = read(log_file);
    assert!(log.contains("[stderr] deploy rejected\n"));
    assert!(
        log.lines().last().unwrap().contains("exit code 3 after"),
        "{log}"
    );
    assert_one_paragraph(&err, log_file);
}

#[test]
fn killed_by_a_signal_is_failed_with_the_signal_named() {
    let fx = fixture();
    fx.script("crash.sh", "kill -KILL $$");
    let h = hook("switch_producers", &["sh", "./crash.sh"], &[], LONG);
    let err = fx.run(&h, &RecordingReporter::new()).unwrap_err();

    let HookError::Failed {
        exit_code,
        signal,
        log_file,
        ..
    } = &err
    else {
        panic!("expected Failed, got {err:?}");
    };
    assert_eq!((*exit_code, signal.as_deref()), (137, Some("SIGKILL")));
    assert!(
        err.to_string().contains("killed by signal SIGKILL"),
        "{err}"
    );
    assert!(read(log_file).contains("killed by signal SIGKILL"));
    assert_one_paragraph(&err, log_file);
}

#[test]
fn missing_program_is_a_spawn_error_with_a_hint() {
    let fx = fixture();
    let h = hook("switch_consumers", &["./deploy/missing.sh", "a"], &[], LONG);
    let err = fx.run(&h, &RecordingReporter::new()).unwrap_err();
    let HookError::Spawn {
        program,
        detail,
        log_file,
        ..
    } = &err
    else {
        panic!("expected Spawn, got {err:?}");
    };
    assert_eq!(program, "./deploy/missing.sh");
    let resolved = fx.dir().join("./deploy/missing.sh");
    assert!(detail.contains(&resolved.display().to_string()), "{detail}");
    assert!(detail.contains("config directory"), "{detail}");
    assert!(err.to_string().contains("main.hcl:40:1"), "{err}");
    assert!(read(log_file).contains("could not start"));
    assert_one_paragraph(&err, log_file);

    let h = hook(
        "switch_consumers",
        &["ferry-test-no-such-program"],
        &[],
        LONG,
    );
    let err = fx.run(&h, &RecordingReporter::new()).unwrap_err();
    assert!(
        matches!(&err, HookError::Spawn { detail, .. } if detail.contains("on PATH")),
        "{err}"
    );
}

#[test]
fn bare_name_of_a_file_in_the_config_dir_suggests_dot_slash() {
    let fx = fixture();
    fx.script("switch.sh", "true");
    let h = hook("switch_consumers", &["switch.sh"], &[], LONG);
    let err = fx.run(&h, &RecordingReporter::new()).unwrap_err();
    assert!(
        matches!(&err, HookError::Spawn { detail, .. } if detail.contains("write \"./switch.sh\"")),
        "{err}"
    );
}

#[test]
fn not_executable_is_a_spawn_error_with_chmod_hint() {
    let fx = fixture();
    fx.script_with_mode("deploy/switch.sh", "true", 0o644);
    let h = hook("switch_consumers", &["./deploy/switch.sh"], &[], LONG);
    let err = fx.run(&h, &RecordingReporter::new()).unwrap_err();
    assert!(
        matches!(&err, HookError::Spawn { detail, .. } if detail.contains("not executable (chmod +x")),
        "{err}"
    );
}

#[test]
fn timeout_stops_the_whole_process_group() {
    let fx = fixture();
    fx.script(
        "hang.sh",
        "sleep 30 &\necho $! > bg.pid\necho $$ > main.pid\necho started\nsleep 30",
    );
    let timeout = Duration::from_millis(500);
    let h = hook("switch_consumers", &["sh", "./hang.sh"], &[], timeout);
    let reporter = RecordingReporter::new();
    let started = Instant::now();
    let err = fx.run(&h, &reporter).unwrap_err();
    let elapsed = started.elapsed();

    let HookError::TimedOut {
        timeout: t,
        log_file,
        ..
    } = &err
    else {
        panic!("expected TimedOut, got {err:?}");
    };
    assert_eq!(*t, timeout);
    assert!(elapsed >= timeout, "{elapsed:?}");
    assert!(
        elapsed < HOOK_KILL_GRACE,
        "SIGTERM should have sufficed: {elapsed:?}"
    );
    let pids = [
        read_pid(&fx.dir().join("main.pid")),
        read_pid(&fx.dir().join("bg.pid")),
    ];
    assert_gone_soon(&pids);

    assert_eq!(
        reporter.hook_lines("switch_consumers", Stream::Stdout),
        ["started"]
    );
    assert!(
        reporter.entries().iter().any(|e| e.contains("SIGTERM")),
        "{:#?}",
        reporter.entries()
    );
    let log = read(log_file);
    assert!(log.contains("[stdout] started\n"), "{log}");
    assert!(log.contains("timed out after"), "{log}");
    assert!(err.to_string().contains("timeout of 500ms"), "{err}");
    assert_one_paragraph(&err, log_file);
}

#[test]
fn a_hook_ignoring_sigterm_is_killed_after_the_grace_period() {
    let fx = fixture();
    fx.script(
        "stubborn.sh",
        "trap '' TERM\nsleep 30 &\necho $! > bg.pid\necho $$ > main.pid\nsleep 30",
    );
    let h = hook(
        "switch_consumers",
        &["sh", "./stubborn.sh"],
        &[],
        Duration::from_millis(300),
    );
    let reporter = RecordingReporter::new();
    let started = Instant::now();
    let err = fx.run(&h, &reporter).unwrap_err();
    let elapsed = started.elapsed();

    assert!(matches!(err, HookError::TimedOut { .. }), "{err:?}");
    assert!(elapsed >= HOOK_KILL_GRACE, "{elapsed:?}");
    assert!(
        elapsed < HOOK_KILL_GRACE + Duration::from_secs(4),
        "{elapsed:?}"
    );
    let pids = [
        read_pid(&fx.dir().join("main.pid")),
        read_pid(&fx.dir().join("bg.pid")),
    ];
    assert_gone_soon(&pids);
    assert!(read(err.log_file().unwrap()).contains("SIGKILL"));
}

#[test]
fn runs_in_the_same_second_get_their_own_log_files() {
    let fx = fixture();
    let h = hook("switch_consumers", &["true"], &[], LONG);
    let reporter = RecordingReporter::new();
    let a = fx.run(&h, &reporter).unwrap();
    let b = fx.run(&h, &reporter).unwrap();
    assert_ne!(a.log_file, b.log_file);
    assert!(a.log_file.exists() && b.log_file.exists());
}
