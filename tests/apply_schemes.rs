//! `ferry apply` end to end for the dual_consume and single_consume schemes: two real brokers
//! (Apache Kafka source and target, from the test bed) and real client processes (`ferry-testbed app`, a
//! producer of a numbered stream and a consumer group), which the migration's hooks repoint by
//! restarting them against the target, as a deployment system would.
//!
//! Each test checks the application's view (every produced number consumed at least once across
//! the switch, none skipped), the brokers' view (what each topic holds, where the group's offsets
//! are) and ferry's record (the state file).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use ferry_testbed::app::{App, AppKind, HookAction, write_hook};
use ferry_testbed::{Testbed, inspect, seed};
use serde_json::Value;

const TOPIC: &str = "events";
const PARTITIONS: i32 = 3;
const GROUP: &str = "billing";
/// The stream: numbers 0..TOTAL at RATE per second (30 s), so producers move mid-stream: an
/// apply reaches its producer switch in 5-15 s here, JVM brokers and all, on two cores.
const TOTAL: i64 = 12000;
const RATE: u32 = 400;
/// How long a whole `ferry apply` may take.
const APPLY_TIMEOUT: Duration = Duration::from_secs(300);
/// How long the applications may take to catch up after apply.
const CATCH_UP: Duration = Duration::from_secs(90);
/// How long a rerun of `ferry apply` after a kill may take (it resumes mid-plan).
const RESUME_TIMEOUT: Duration = Duration::from_secs(120);
/// How soon a resumed "groups active" wait must see a consumer that committed before it began:
/// at its first polls, far below the wait's timeout.
const ACTIVE_WITHIN: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    DualConsume,
    SingleConsume,
}

impl Scheme {
    fn name(self) -> &'static str {
        match self {
            Scheme::DualConsume => "dual_consume",
            Scheme::SingleConsume => "single_consume",
        }
    }

    /// The plan's steps, as `kind` or `run_hook:NAME`.
    fn steps(self) -> Vec<&'static str> {
        match self {
            Scheme::DualConsume => vec![
                "apply_topics",
                "run_hook:start_target_consumers",
                "wait_groups_active",
                "run_hook:switch_producers",
                "wait_groups_drained",
                "run_hook:stop_source_consumers",
            ],
            Scheme::SingleConsume => vec![
                "apply_topics",
                "commit_start_offsets",
                "run_hook:switch_producers",
                "wait_groups_drained",
                "run_hook:switch_consumers",
                "wait_groups_active",
            ],
        }
    }
}

/// A migration in progress: brokers, the running application, the config directory.
///
/// Field order is drop order: the applications stop before the brokers, the brokers before
/// their directory and the config directory go.
struct Migration {
    producer: App,
    /// The application's consumers: on the source, and (dual_consume) the second fleet on the
    /// target.
    consumers: Vec<App>,
    bed: Testbed,
    dir: tempfile::TempDir,
    scheme: Scheme,
}

impl Migration {
    /// Starts both brokers, creates the topic on the source, starts the application on the source
    /// (consumer first, so that with auto.offset.reset=latest it sees the whole stream), writes
    /// the hooks and the HCL.
    fn start(scheme: Scheme) -> Migration {
        let bed = Testbed::start().unwrap();
        let source = bed.source.bootstrap.clone();
        seed::create_topic(&source, TOPIC, PARTITIONS, &[]).unwrap();
        let dir = tempfile::Builder::new()
            .prefix("ferry-apply-schemes-")
            .tempdir()
            .unwrap();
        let apps = dir.path().join("apps");
        let consumer_kind = AppKind::Consumer {
            group: GROUP.into(),
            topic: TOPIC.into(),
        };

        let mut consumer = App::create(&apps, "consumer", &source, consumer_kind.clone()).unwrap();
        consumer.start().unwrap();
        // The consumer commits its position when it is assigned partitions: then it is in the
        // group and reads everything produced from now on.
        wait_for(
            "the consumer to join its group on the source",
            CATCH_UP,
            || {
                let committed = committed(&source)?;
                Ok(committed.iter().all(Option::is_some).then_some(()))
            },
        );
        let mut consumers = vec![consumer];
        if scheme == Scheme::DualConsume {
            // Deployed but not running: start_target_consumers points it at the target.
            consumers.push(App::create(&apps, "consumer-target", &source, consumer_kind).unwrap());
        }

        let mut producer = App::create(
            &apps,
            "producer",
            &source,
            AppKind::Producer {
                topic: TOPIC.into(),
                partitions: PARTITIONS,
                from: 0,
                count: TOTAL as u64,
                rate: RATE,
            },
        )
        .unwrap();
        producer.start().unwrap();
        // Let a second of the stream reach the source consumer, so that some of it is consumed
        // on each side of the switch.
        wait_for(
            "the first second of the stream to be consumed",
            CATCH_UP,
            || Ok((consumers[0].consumed()?.len() >= RATE as usize).then_some(())),
        );

        let migration = Migration {
            producer,
            consumers,
            bed,
            dir,
            scheme,
        };
        migration.write_config();
        migration
    }

    fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn source(&self) -> &str {
        &self.bed.source.bootstrap
    }

    fn target(&self) -> &str {
        &self.bed.target.bootstrap
    }

    fn write_config(&self) {
        let hooks = self.dir().join("hooks");
        let hook = |name: &str, actions: &[HookAction<'_>]| {
            write_hook(&hooks.join(format!("{name}.sh")), actions).unwrap();
            format!(
                "hook \"{name}\" {{\n  command = [\"./hooks/{name}.sh\"]\n  timeout = \"1m\"\n}}\n"
            )
        };
        let consumer = &self.consumers[0];
        let hook_blocks = match self.scheme {
            Scheme::DualConsume => [
                hook(
                    "start_target_consumers",
                    &[HookAction::StartOnTarget(&self.consumers[1])],
                ),
                hook(
                    "switch_producers",
                    &[HookAction::RestartOnTarget(&self.producer)],
                ),
                hook("stop_source_consumers", &[HookAction::Stop(consumer)]),
            ]
            .concat(),
            Scheme::SingleConsume => [
                hook(
                    "switch_producers",
                    &[HookAction::RestartOnTarget(&self.producer)],
                ),
                hook("switch_consumers", &[HookAction::RestartOnTarget(consumer)]),
            ]
            .concat(),
        };
        let text = format!(
            r#"migration "events-to-target" {{
  scheme        = "{scheme}"
  settle_period = "2s"
  wait_timeout  = "2m"
}}

cluster "source" {{
  bootstrap_servers = ["{source}"]
}}

cluster "target" {{
  bootstrap_servers = ["{target}"]
}}

topics {{
  include = ["^{TOPIC}$"]
}}

consumer_groups {{
  include = ["^{GROUP}$"]
}}

{hook_blocks}
state {{
  path = "ferry.state.json"
}}
"#,
            scheme = self.scheme.name(),
            source = self.source(),
            target = self.target(),
        );
        fs::write(self.dir().join("main.hcl"), text).unwrap();
    }

    /// Replaces the migration block's settle_period and wait_timeout.
    fn set_timing(&self, settle_period: &str, wait_timeout: &str) {
        let path = self.dir().join("main.hcl");
        let mut text = fs::read_to_string(&path).unwrap();
        for (from, to) in [
            (
                "settle_period = \"2s\"",
                format!("settle_period = \"{settle_period}\""),
            ),
            (
                "wait_timeout  = \"2m\"",
                format!("wait_timeout  = \"{wait_timeout}\""),
            ),
        ] {
            assert!(text.contains(from), "{from} in {text}");
            text = text.replace(from, &to);
        }
        fs::write(path, text).unwrap();
    }

    fn ferry(&self) -> Command {
        let mut command = Command::cargo_bin("ferry").unwrap();
        command
            .arg("-C")
            .arg(self.dir())
            .args(["apply", "--auto-approve"])
            .timeout(APPLY_TIMEOUT);
        command
    }

    /// Runs `ferry apply --auto-approve` to the end; panics (with every log) unless it succeeds.
    fn apply(&self) -> String {
        let output = self.ferry().output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "ferry apply failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}\n{}",
            output.status,
            self.app_logs()
        );
        assert!(stdout.contains("Apply complete"), "{stdout}");
        format!("{stdout}{stderr}")
    }

    fn state(&self) -> Value {
        read_state(&self.dir().join("ferry.state.json")).expect("ferry apply writes the state file")
    }

    fn hook_logs(&self) -> BTreeSet<String> {
        let Ok(entries) = fs::read_dir(self.dir().join("ferry-logs")) else {
            return BTreeSet::new();
        };
        entries
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    }

    fn app_logs(&self) -> String {
        std::iter::once(&self.producer)
            .chain(&self.consumers)
            .map(|app| format!("--- app {} log\n{}", app.name(), app.log()))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// What must hold once apply finished: the application's, the brokers' and ferry's view.
    fn assert_migrated(&mut self) {
        // The producer, restarted on the target, runs to the end of its stream.
        self.producer.wait_for_exit(CATCH_UP).unwrap();
        let runs = self.producer.runs().unwrap();
        assert_eq!(runs.len(), 2, "one run per cluster: {runs:?}");
        let (before, after) = (&runs[0], &runs[1]);
        assert_eq!(before.bootstrap, self.source(), "{runs:?}");
        assert_eq!(after.bootstrap, self.target(), "{runs:?}");
        assert_eq!(before.first, 0, "{runs:?}");
        let switch = after.first;
        assert_eq!(
            switch,
            before.last + 1,
            "the restarted producer continues the numbering: {runs:?}"
        );
        assert_eq!(after.last, TOTAL - 1, "{runs:?}");
        assert!(
            0 < switch && switch < TOTAL,
            "producers must move in the middle of the stream for this test to mean anything: {runs:?}"
        );

        // Every produced number was consumed at least once by the group, on one cluster or the
        // other: none was skipped across the switch.
        let produced: BTreeSet<i64> = (0..TOTAL).collect();
        let consumed = wait_for(
            "the consumers to process the whole stream",
            CATCH_UP,
            || {
                let consumed = self.consumed();
                Ok(produced.is_subset(&consumed).then_some(consumed))
            },
        );
        assert_eq!(
            consumed, produced,
            "the consumers processed numbers nobody produced"
        );
        let processed: usize = self
            .consumers
            .iter()
            .map(|c| c.consumed().unwrap().len())
            .sum();
        eprintln!(
            "{}: producers moved at {switch} of {TOTAL}; {processed} records processed ({} again)",
            self.scheme.name(),
            processed - consumed.len()
        );

        // The source holds exactly what was produced before the switch, the target exactly what
        // was produced after it: each record once, on partition number % 3.
        assert_eq!(
            topic_numbers(self.source()),
            (0..switch).collect::<Vec<_>>(),
            "the source topic"
        );
        assert_eq!(
            topic_numbers(self.target()),
            (switch..TOTAL).collect::<Vec<_>>(),
            "the target topic"
        );

        // The group's offsets: at the end of every partition on the target once the consumer
        // caught up, and at the end of every source partition (it drained the source).
        let target = self.target().to_owned();
        let ends = end_offsets(&target);
        wait_for(
            "the group's offsets on the target to reach the end of every partition",
            CATCH_UP,
            || {
                let committed = committed(&target)?;
                Ok((committed == ends.iter().copied().map(Some).collect::<Vec<_>>()).then_some(()))
            },
        );
        assert_eq!(
            committed(self.source()).unwrap(),
            end_offsets(self.source())
                .into_iter()
                .map(Some)
                .collect::<Vec<_>>(),
            "the group drained the source"
        );

        // The state file: every step done, in the scheme's order, hooks exited with 0.
        let state = self.state();
        assert_eq!(state["migration"], "events-to-target");
        assert_eq!(state["scheme"], self.scheme.name());
        assert_eq!(step_kinds(&state), self.scheme.steps(), "{state:#}");
        for step in steps(&state) {
            assert_eq!(step["status"], "done", "{step:#}");
            assert!(step["finished_at"].is_string(), "{step:#}");
            if step["kind"] == "run_hook" {
                assert_eq!(step["outcome"]["kind"], "hook_ran", "{step:#}");
                assert_eq!(step["outcome"]["exit_code"], 0, "{step:#}");
            }
        }
        if self.scheme == Scheme::SingleConsume {
            assert_start_offsets_committed_before_producers_moved(&state);
        }
        let timings: Vec<String> = step_kinds(&state)
            .iter()
            .zip(steps(&state))
            .map(|(kind, step)| match step["outcome"]["seconds"].as_f64() {
                Some(seconds) => format!("{kind} {seconds:.2}s"),
                None => kind.clone(),
            })
            .collect();
        eprintln!("{}: {}", self.scheme.name(), timings.join(", "));
    }

    /// Every number the application's consumers processed, over all their runs.
    fn consumed(&self) -> BTreeSet<i64> {
        self.consumers
            .iter()
            .flat_map(|consumer| consumer.consumed().unwrap())
            .collect()
    }
}

/// single_consume's trap closed: the state shows the group committed at offset 0 on every target
/// partition (the target was still empty), in a step that finished before switch_producers ran.
fn assert_start_offsets_committed_before_producers_moved(state: &Value) {
    let steps = steps(state);
    let commit = steps
        .iter()
        .position(|s| s["kind"] == "commit_start_offsets")
        .expect("a commit_start_offsets step");
    let switch = steps
        .iter()
        .position(|s| s["kind"] == "run_hook" && s["outcome"]["hook"] == "switch_producers")
        .expect("a switch_producers step");
    assert!(commit < switch, "{state:#}");
    let outcome = &steps[commit]["outcome"];
    assert_eq!(outcome["kind"], "offsets_committed", "{outcome:#}");
    let expected: BTreeMap<i64, i64> = (0..PARTITIONS).map(|p| (p as i64, 0)).collect();
    let recorded: BTreeMap<i64, i64> = outcome["offsets"]
        .as_array()
        .unwrap_or_else(|| panic!("offsets in {outcome:#}"))
        .iter()
        .filter(|o| o["group"] == GROUP && o["topic"] == TOPIC)
        .map(|o| {
            (
                o["partition"].as_i64().unwrap(),
                o["offset"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(recorded, expected, "{outcome:#}");
    let committed_at = steps[commit]["finished_at"].as_str().unwrap();
    let switched_at = steps[switch]["started_at"].as_str().unwrap();
    assert!(committed_at <= switched_at, "{state:#}");
}

fn read_state(path: &Path) -> Option<Value> {
    // The file is replaced atomically, so a read sees a whole version or none.
    serde_json::from_str(&fs::read_to_string(path).ok()?).ok()
}

fn steps(state: &Value) -> &Vec<Value> {
    state["steps"].as_array().expect("steps in the state")
}

fn step_kinds(state: &Value) -> Vec<String> {
    steps(state)
        .iter()
        .map(|s| match (&s["kind"], &s["step"]["hook"]) {
            (kind, Value::String(hook)) if kind == "run_hook" => format!("run_hook:{hook}"),
            (kind, _) => kind.as_str().unwrap().to_string(),
        })
        .collect()
}

/// The group's committed offset on each partition of the topic (None: none committed).
fn committed(bootstrap: &str) -> anyhow::Result<Vec<Option<i64>>> {
    let partitions: Vec<(&str, i32)> = (0..PARTITIONS).map(|p| (TOPIC, p)).collect();
    inspect::committed_offsets(bootstrap, GROUP, &partitions)
}

fn end_offsets(bootstrap: &str) -> Vec<i64> {
    (0..PARTITIONS)
        .map(|p| inspect::watermarks(bootstrap, TOPIC, p).unwrap().1)
        .collect()
}

/// Every number in the topic, sorted; each record checked to sit on partition number % 3 with
/// its number as key.
fn topic_numbers(bootstrap: &str) -> Vec<i64> {
    let mut numbers = Vec::new();
    for partition in 0..PARTITIONS {
        for record in inspect::read_partition(bootstrap, TOPIC, partition).unwrap() {
            let value = String::from_utf8(record.value.clone().unwrap()).unwrap();
            let number: i64 = value.parse().unwrap();
            assert_eq!(
                number % i64::from(PARTITIONS),
                i64::from(partition),
                "{record:?}"
            );
            assert_eq!(record.key.as_deref(), Some(value.as_bytes()), "{record:?}");
            numbers.push(number);
        }
    }
    numbers.sort_unstable();
    numbers
}

/// Polls `probe` until it returns a value; panics after `timeout` naming what it waited for.
fn wait_for<T>(
    what: &str,
    timeout: Duration,
    mut probe: impl FnMut() -> anyhow::Result<Option<T>>,
) -> T {
    let deadline = Instant::now() + timeout;
    let mut last_error = None;
    loop {
        match probe() {
            Ok(Some(value)) => return value,
            Ok(None) => {}
            Err(error) => last_error = Some(error),
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {}s waiting for {what} (last error: {last_error:?})",
            timeout.as_secs()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A `ferry apply` process started in the background; killed (SIGKILL) and reaped on drop.
struct ApplyProcess {
    child: Child,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl ApplyProcess {
    fn start(dir: &Path, name: &str) -> ApplyProcess {
        let stdout = dir.join(format!("{name}.stdout"));
        let stderr = dir.join(format!("{name}.stderr"));
        let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("ferry"))
            .arg("-C")
            .arg(dir)
            .args(["apply", "--auto-approve"])
            .stdin(Stdio::null())
            .stdout(fs::File::create(&stdout).unwrap())
            .stderr(fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        ApplyProcess {
            child,
            stdout,
            stderr,
        }
    }

    fn output(&self) -> String {
        format!(
            "--- stdout\n{}\n--- stderr\n{}",
            fs::read_to_string(&self.stdout).unwrap_or_default(),
            fs::read_to_string(&self.stderr).unwrap_or_default()
        )
    }
}

impl Drop for ApplyProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn dual_consume_apply_moves_a_live_stream_to_the_target_without_skipping_a_record() {
    let mut migration = Migration::start(Scheme::DualConsume);

    migration.apply();

    migration.assert_migrated();
    assert!(
        !migration.consumers[0].is_running(),
        "stop_source_consumers stopped the source consumer"
    );
    assert_eq!(
        migration.consumers[1].bootstrap().unwrap(),
        migration.target()
    );
    assert!(migration.consumers[1].is_running());
}

#[test]
fn single_consume_apply_commits_start_offsets_before_producers_move_so_the_backlog_is_consumed() {
    let mut migration = Migration::start(Scheme::SingleConsume);

    migration.apply();

    migration.assert_migrated();
    let consumer = &migration.consumers[0];
    assert_eq!(consumer.bootstrap().unwrap(), migration.target());
    assert!(consumer.is_running());
}

#[test]
fn apply_killed_while_waiting_for_the_source_to_drain_resumes_at_that_step_and_finishes() {
    let mut migration = Migration::start(Scheme::SingleConsume);
    let state_path = migration.dir().join("ferry.state.json");

    let mut first = ApplyProcess::start(migration.dir(), "apply-killed");
    let drain = wait_for(
        "ferry apply to reach \"wait until groups drained\"",
        APPLY_TIMEOUT,
        || {
            if let Some(status) = first.child.try_wait()? {
                panic!(
                    "ferry apply ended ({status}) before it waited for the drain:\n{}",
                    first.output()
                );
            }
            Ok(read_state(&state_path).and_then(|state| {
                steps(&state)
                    .iter()
                    .position(|s| s["kind"] == "wait_groups_drained" && s["status"] == "running")
            }))
        },
    );
    first.child.kill().unwrap();
    let status = first.child.wait().unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9),
        "{}",
        first.output()
    );
    let killed = migration.state();
    let hooks_run = migration.hook_logs();
    for (index, step) in steps(&killed).iter().enumerate() {
        let expected = match index.cmp(&drain) {
            std::cmp::Ordering::Less => "done",
            std::cmp::Ordering::Equal => "running",
            std::cmp::Ordering::Greater => "pending",
        };
        assert_eq!(step["status"], expected, "{killed:#}");
    }
    assert_eq!(
        hooks_run.len(),
        1,
        "switch_producers ran once: {hooks_run:?}"
    );
    assert!(
        hooks_run.iter().all(|log| log.contains("switch_producers")),
        "{hooks_run:?}"
    );

    let output = migration.apply();

    // It resumed at the drain wait: the earlier steps neither ran again nor were reported.
    let total = steps(&killed).len();
    for index in 0..drain {
        assert!(
            !output.contains(&format!("Step {}/{total}:", index + 1)),
            "step {} ran again:\n{output}",
            index + 1
        );
    }
    assert!(
        output.contains(&format!("Step {}/{total}:", drain + 1)),
        "{output}"
    );
    let hooks_after = migration.hook_logs();
    assert!(
        hooks_run.is_subset(&hooks_after),
        "{hooks_run:?} {hooks_after:?}"
    );
    let new_hooks: Vec<&String> = hooks_after.difference(&hooks_run).collect();
    assert_eq!(
        new_hooks.len(),
        1,
        "only switch_consumers ran: {new_hooks:?}"
    );
    assert!(new_hooks[0].contains("switch_consumers"), "{new_hooks:?}");
    let resumed = migration.state();
    assert_eq!(resumed["lineage"], killed["lineage"]);
    for index in 0..drain {
        assert_eq!(
            steps(&resumed)[index],
            steps(&killed)[index],
            "step {} was not repeated",
            index + 1
        );
    }

    migration.assert_migrated();
}

#[test]
fn dual_consume_apply_killed_while_waiting_for_target_consumers_sees_their_earlier_commit_on_rerun()
{
    let mut migration = Migration::start(Scheme::DualConsume);
    // The target consumer is held back from joining its group until ferry has been killed, so
    // the first apply is certainly still waiting when it dies, and the commit certainly comes
    // before the rerun's wait begins. A shorter wait_timeout makes a rerun that cannot see the
    // commit fail fast, with ferry's own message.
    migration.consumers[1].hold().unwrap();
    migration.set_timing("2s", "40s");
    let state_path = migration.dir().join("ferry.state.json");

    let mut first = ApplyProcess::start(migration.dir(), "apply-killed");
    let active = wait_for(
        "ferry apply to reach \"wait until group ... has active members on the target\"",
        APPLY_TIMEOUT,
        || {
            if let Some(status) = first.child.try_wait()? {
                panic!(
                    "ferry apply ended ({status}) before it waited for the target consumers:\n{}",
                    first.output()
                );
            }
            let Some(state) = read_state(&state_path) else {
                return Ok(None);
            };
            let Some(wait) = steps(&state)
                .iter()
                .position(|s| s["kind"] == "wait_groups_active")
            else {
                return Ok(None);
            };
            match steps(&state)[wait]["status"].as_str() {
                Some("running") => Ok(Some(wait)),
                Some("pending") => Ok(None),
                status => panic!(
                    "the wait for active target consumers was {status:?} before ferry apply could \
                     be killed while it waited:\n{state:#}"
                ),
            }
        },
    );
    first.child.kill().unwrap();
    let status = first.child.wait().unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9),
        "{}",
        first.output()
    );
    let killed = migration.state();
    assert_eq!(
        step_kinds(&killed)[active - 1],
        "run_hook:start_target_consumers",
        "{killed:#}"
    );
    for (index, step) in steps(&killed).iter().enumerate() {
        let expected = match index.cmp(&active) {
            std::cmp::Ordering::Less => "done",
            std::cmp::Ordering::Equal => "running",
            std::cmp::Ordering::Greater => "pending",
        };
        assert_eq!(step["status"], expected, "{killed:#}");
    }
    let hooks_run = migration.hook_logs();
    assert_eq!(
        hooks_run.len(),
        1,
        "start_target_consumers ran once: {hooks_run:?}"
    );
    assert!(
        hooks_run
            .iter()
            .all(|log| log.contains("start_target_consumers")),
        "{hooks_run:?}"
    );
    let target_consumer = &migration.consumers[1];
    assert_eq!(target_consumer.bootstrap().unwrap(), migration.target());
    let target_consumer_pid = target_consumer
        .pid()
        .expect("start_target_consumers started the target consumer");

    // The trap: the target consumer commits its position on assignment, before the rerun's wait
    // begins, and nothing moves that commit until producers switch, which comes after the wait.
    // Only a baseline of ferry's own commits (none, in dual_consume) sees the group as active.
    migration.consumers[1].release().unwrap();
    let target = migration.target().to_owned();
    let committed_on_target = wait_for(
        "the target consumer to commit its position on the target",
        CATCH_UP,
        || {
            let committed = committed(&target)?;
            Ok(committed.iter().all(Option::is_some).then_some(committed))
        },
    );
    assert_eq!(
        committed_on_target,
        vec![Some(0); PARTITIONS as usize],
        "the target topic is still empty"
    );

    let started = Instant::now();
    let mut rerun = ApplyProcess::start(migration.dir(), "apply-resumed");
    let status = wait_for("the rerun of ferry apply to finish", RESUME_TIMEOUT, || {
        Ok(rerun.child.try_wait()?)
    });
    let resumed_in = started.elapsed();
    let output = rerun.output();
    assert!(
        status.success(),
        "the rerun of ferry apply failed ({status}):\n{output}\n{}",
        migration.app_logs()
    );
    assert!(output.contains("Apply complete"), "{output}");
    eprintln!(
        "dual_consume: the rerun finished in {:.2}s",
        resumed_in.as_secs_f64()
    );

    // It resumed at the wait, which saw the consumer's earlier commit at once.
    let total = steps(&killed).len();
    for index in 0..active {
        assert!(
            !output.contains(&format!("Step {}/{total}:", index + 1)),
            "step {} ran again:\n{output}",
            index + 1
        );
    }
    assert!(
        output.contains(&format!("Step {}/{total}:", active + 1)),
        "{output}"
    );
    let resumed = migration.state();
    assert_eq!(resumed["lineage"], killed["lineage"]);
    for index in 0..active {
        assert_eq!(
            steps(&resumed)[index],
            steps(&killed)[index],
            "step {} was not repeated",
            index + 1
        );
    }
    let wait = &steps(&resumed)[active];
    assert_eq!(wait["status"], "done", "{wait:#}");
    assert_eq!(wait["outcome"]["kind"], "condition_met", "{wait:#}");
    let condition = wait["outcome"]["condition"].as_str().unwrap_or_default();
    assert!(
        condition.contains("groups active on the target") && condition.contains(GROUP),
        "{wait:#}"
    );
    let waited = wait["outcome"]["seconds"].as_f64().unwrap();
    assert!(
        waited < ACTIVE_WITHIN.as_secs_f64(),
        "the resumed wait took {waited:.2}s to see a consumer that had already committed: {wait:#}"
    );

    // start_target_consumers did not run again: one log, one run of the target consumer.
    let hooks_after = migration.hook_logs();
    assert!(
        hooks_run.is_subset(&hooks_after),
        "{hooks_run:?} {hooks_after:?}"
    );
    let start_hooks: Vec<&String> = hooks_after
        .iter()
        .filter(|log| log.contains("start_target_consumers"))
        .collect();
    assert_eq!(start_hooks.len(), 1, "{hooks_after:?}");
    let new_hooks: Vec<&String> = hooks_after.difference(&hooks_run).collect();
    assert_eq!(
        new_hooks.len(),
        2,
        "switch_producers and stop_source_consumers ran: {new_hooks:?}"
    );
    let target_consumer = &migration.consumers[1];
    assert_eq!(
        target_consumer.pid(),
        Some(target_consumer_pid),
        "the target consumer started once and still runs:\n{}",
        target_consumer.log()
    );
    assert_eq!(
        target_consumer.log().matches("app: consuming").count(),
        1,
        "{}",
        target_consumer.log()
    );

    migration.assert_migrated();
    assert!(
        !migration.consumers[0].is_running(),
        "stop_source_consumers stopped the source consumer"
    );
}
