//! One migration run of the dual_consume or single_consume scheme on the shared brokers: a topic
//! and a group of its own, a config directory (HCL, hooks, state, ferry's hook logs) and the
//! live application, a producer of a numbered stream and a committing consumer group
//! (`ferry-testbed app`), which the hooks repoint by restarting them against the target.

use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ferry_testbed::app::{App, AppKind, HookAction, write_hook};
use ferry_testbed::{Testbed, seed};
use serde_json::Value;

use crate::scheme_apply::read_state;
use crate::scheme_kafka::{committed, end_offsets, wait_for};

/// Partitions of every run's topic; record n goes to partition n % PARTITIONS.
pub const PARTITIONS: i32 = 6;
/// The producer's pace, records per second: above the 500/s a run must sustain through the
/// whole apply, so that the pauses of its restarts on the target (two when a rerun repeats
/// switch_producers) still leave it above.
pub const RATE: u32 = 700;
/// Numbers in the stream: far more than a run lasts, so the producer writes through the whole
/// apply; the test stops it once apply finished and the target received its records.
const STREAM: u64 = 1_000_000_000;
/// How long the application may take to catch up (join, drain, process the backlog).
pub const CATCH_UP: Duration = Duration::from_secs(90);
/// The migration block's settle period and wait timeout.
const SETTLE_PERIOD: &str = "2s";
const WAIT_TIMEOUT: &str = "2m";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    DualConsume,
    SingleConsume,
}

impl Scheme {
    pub fn name(self) -> &'static str {
        match self {
            Scheme::DualConsume => "dual_consume",
            Scheme::SingleConsume => "single_consume",
        }
    }

    /// The plan's steps, as `kind` or `run_hook:NAME`: apply_topics, then the cutover steps.
    pub fn steps(self) -> Vec<&'static str> {
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

/// A run's application, config directory and names.
///
/// Field order is drop order: the applications stop before their directory goes.
pub struct Run {
    pub producer: App,
    /// The application's consumers: on the source, and (dual_consume) the second fleet,
    /// deployed but started only by start_target_consumers.
    pub consumers: Vec<App>,
    pub scheme: Scheme,
    pub topic: String,
    pub group: String,
    pub source: String,
    pub target: String,
    dir: tempfile::TempDir,
}

impl Run {
    /// Creates the run's topic on the source, starts the application there (consumer first, so
    /// that with auto.offset.reset=latest it sees the whole stream; then the producer, until the
    /// consumer processed a second of the stream), writes the hooks and the HCL.
    pub fn start(bed: &Testbed, scheme: Scheme, label: &str) -> Run {
        let source = bed.source.bootstrap.clone();
        let topic = format!("events-{label}");
        let group = format!("billing-{label}");
        seed::create_topic(&source, &topic, PARTITIONS, &[]).unwrap();
        let dir = tempfile::Builder::new()
            .prefix(&format!("ferry-scheme-{label}-"))
            .tempdir()
            .unwrap();
        let apps = dir.path().join("apps");
        let consumer_kind = AppKind::Consumer {
            group: group.clone(),
            topic: topic.clone(),
        };
        let mut consumer = App::create(&apps, "consumer", &source, consumer_kind.clone()).unwrap();
        consumer.start().unwrap();
        // The consumer commits its position when it is assigned partitions: then it is in the
        // group and reads everything produced from now on.
        wait_for(
            "the consumer to join its group on the source",
            CATCH_UP,
            || {
                let committed = committed(&source, &topic, &group)?;
                Ok(committed.iter().all(Option::is_some).then_some(()))
            },
        );
        let mut consumers = vec![consumer];
        if scheme == Scheme::DualConsume {
            consumers.push(App::create(&apps, "consumer-target", &source, consumer_kind).unwrap());
        }
        let producer_kind = AppKind::Producer {
            topic: topic.clone(),
            partitions: PARTITIONS,
            from: 0,
            count: STREAM,
            rate: RATE,
        };
        let mut producer = App::create(&apps, "producer", &source, producer_kind).unwrap();
        producer.start().unwrap();
        wait_for(
            "the first second of the stream to be consumed",
            CATCH_UP,
            || Ok((consumers[0].consumed()?.len() >= RATE as usize).then_some(())),
        );

        let run = Run {
            producer,
            consumers,
            scheme,
            topic,
            group,
            source,
            target: bed.target.bootstrap.clone(),
            dir,
        };
        run.write_hooks();
        run.write_config();
        run
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn state_path(&self) -> PathBuf {
        self.dir().join("ferry.state.json")
    }

    pub fn state(&self) -> Value {
        read_state(&self.state_path()).expect("ferry apply writes the state file")
    }

    pub fn source_consumer(&self) -> &App {
        &self.consumers[0]
    }

    /// The consumer the scheme runs on the target at the end: dual_consume's second fleet,
    /// single_consume's only one.
    pub fn target_consumer(&self) -> &App {
        self.consumers.last().unwrap()
    }

    /// The hooks of the scheme with what each does to the application. Each is harmless to run
    /// again after it ran (as a rerun after a crash does): start.sh does nothing for an app
    /// that runs, stop.sh nothing for one that does not, and a restart on the target is a
    /// restart on the target.
    fn hooks(&self) -> Vec<(&'static str, Vec<HookAction<'_>>)> {
        let restart = HookAction::RestartOnTarget;
        match self.scheme {
            Scheme::DualConsume => vec![
                (
                    "start_target_consumers",
                    vec![HookAction::StartOnTarget(&self.consumers[1])],
                ),
                ("switch_producers", vec![restart(&self.producer)]),
                (
                    "stop_source_consumers",
                    vec![HookAction::Stop(&self.consumers[0])],
                ),
            ],
            Scheme::SingleConsume => vec![
                ("switch_producers", vec![restart(&self.producer)]),
                ("switch_consumers", vec![restart(&self.consumers[0])]),
            ],
        }
    }

    /// Writes `hooks/NAME.sh` for every hook. When its gate is closed ([`Run::close_gate`]), a
    /// hook, its work done, says so ([`Run::gate_reached`]) and waits until the gate opens: so
    /// a test can kill ferry while the step runs, after the hook switched the application and
    /// before ferry recorded it.
    fn write_hooks(&self) {
        for (name, actions) in self.hooks() {
            let path = self.dir().join("hooks").join(format!("{name}.sh"));
            write_hook(&path, &actions).unwrap();
            let gate = self.gate(name).display().to_string();
            let mut script = OpenOptions::new().append(true).open(&path).unwrap();
            writeln!(
                script,
                "# Held here while the test's gate is closed.\n\
                 if [ -e '{gate}' ]; then\n\
                 \x20 : > '{gate}.reached'\n\
                 \x20 while [ -e '{gate}' ]; do sleep 0.01; done\n\
                 fi"
            )
            .unwrap();
        }
    }

    fn gate(&self, hook: &str) -> PathBuf {
        self.dir().join("gates").join(hook)
    }

    /// Holds `hook`, once its work is done, until [`Run::open_gate`].
    pub fn close_gate(&self, hook: &str) {
        let gate = self.gate(hook);
        fs::create_dir_all(gate.parent().unwrap()).unwrap();
        fs::write(gate, "").unwrap();
    }

    /// Whether `hook` did its work and waits at its closed gate.
    pub fn gate_reached(&self, hook: &str) -> bool {
        self.dir()
            .join("gates")
            .join(format!("{hook}.reached"))
            .exists()
    }

    pub fn open_gate(&self, hook: &str) {
        fs::remove_file(self.gate(hook)).unwrap();
    }

    fn write_config(&self) {
        let hook_blocks: String = self
            .hooks()
            .iter()
            .map(|(name, _)| {
                format!(
                    "hook \"{name}\" {{\n  command = [\"./hooks/{name}.sh\"]\n  timeout = \"1m\"\n}}\n"
                )
            })
            .collect();
        let text = format!(
            r#"migration "events-to-target" {{
  scheme        = "{scheme}"
  settle_period = "{SETTLE_PERIOD}"
  wait_timeout  = "{WAIT_TIMEOUT}"
}}

cluster "source" {{
  bootstrap_servers = ["{source}"]
}}

cluster "target" {{
  bootstrap_servers = ["{target}"]
}}

topics {{
  include = ["^{topic}$"]
}}

consumer_groups {{
  include = ["^{group}$"]
}}

{hook_blocks}
state {{
  path = "ferry.state.json"
}}
"#,
            scheme = self.scheme.name(),
            source = self.source,
            target = self.target,
            topic = self.topic,
            group = self.group,
        );
        fs::write(self.dir().join("main.hcl"), text).unwrap();
    }

    /// How many logs ferry wrote for each hook (one per time it started the hook).
    pub fn hook_runs(&self) -> BTreeMap<String, usize> {
        let mut runs: BTreeMap<String, usize> = self
            .hooks()
            .iter()
            .map(|(name, _)| (name.to_string(), 0))
            .collect();
        let Ok(entries) = fs::read_dir(self.dir().join("ferry-logs")) else {
            return runs;
        };
        for entry in entries {
            let file = entry.unwrap().file_name().to_string_lossy().into_owned();
            let hook = runs
                .keys()
                .find(|name| file.contains(name.as_str()))
                .cloned();
            *runs
                .get_mut(&hook.unwrap_or_else(|| panic!("a log of no known hook: {file}")))
                .unwrap() += 1;
        }
        runs
    }

    /// Every app's log, for assertion messages.
    pub fn app_logs(&self) -> String {
        std::iter::once(&self.producer)
            .chain(&self.consumers)
            .map(|app| format!("--- app {} log\n{}", app.name(), app.log()))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Stops the producer once it has written a second more of the stream to the target than
    /// the target held when this was called (apply has finished by then).
    pub fn stop_producer_after_it_writes_to_the_target(&mut self) {
        let on_target = |run: &Run| end_offsets(&run.target, &run.topic).iter().sum::<i64>();
        let before = on_target(self);
        wait_for(
            "the producer to write a second of the stream to the target after apply",
            CATCH_UP,
            || Ok((on_target(self) >= before + i64::from(RATE)).then_some(())),
        );
        assert!(self.producer.is_running(), "{}", self.producer.log());
        self.producer.stop().unwrap();
    }
}
