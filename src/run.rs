//! Resolves the command line and runs a command: the only place that joins config, clusters,
//! plan, state and output.

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use crate::apply::reporter::TerminalReporter;
use crate::apply::{ApplyError, Executor, group_lags};
use crate::ckafka::CkafkaCluster;
use crate::cli::{ApplyArgs, Cli, Command, ConnectArgs, Format, PlanArgs, StateCommand};
use crate::cluster::{ClusterAccess, RdKafkaCluster};
use crate::config::{self, ClusterSettings, Desired, LoadOptions};
use crate::error::Error;
use crate::plan::{self, Plan, SAVED_PLAN_VERSION, SavedPlan};
use crate::render::{self, Theme};
use crate::snapshot::{ClusterSnapshot, Snapshot};
use crate::state::{State, StateStore, StepRecord};

pub fn run(cli: Cli) -> Result<ExitCode, Error> {
    let desired = load(&cli)?;
    let store = StateStore::new(desired.state.path.clone());
    match &cli.command {
        Command::Validate => {
            println!(
                "The configuration is valid: migration \"{}\" (scheme {}), {} topic block{}, {} hook{}.",
                desired.migration.name,
                desired.migration.scheme,
                desired.topic_blocks.len(),
                plural(desired.topic_blocks.len()),
                desired.hooks.len(),
                plural(desired.hooks.len()),
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Plan(args) => plan(&cli, &desired, &store, args),
        Command::Apply(args) => apply(&cli, &desired, &store, args),
        Command::Status(args) => status(&desired, &store, args),
        Command::ForceUnlock { id } => {
            store.force_unlock(id)?;
            println!("Lock {id} on {} removed.", store.path().display());
            Ok(ExitCode::SUCCESS)
        }
        Command::State(cmd) => {
            let state = store.load()?.ok_or_else(|| no_state(&store))?;
            match cmd {
                StateCommand::Show => println!(
                    "{}",
                    serde_json::to_string_pretty(&state).expect("state serializes")
                ),
                StateCommand::List => {
                    for r in &state.steps {
                        println!(
                            "{:>2}. {:<8} {:<26} {}",
                            r.index + 1,
                            r.status.as_str(),
                            r.kind,
                            r.description
                        );
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn no_state(store: &StateStore) -> Error {
    Error::Usage(format!(
        "there is no state file at {}: no apply has run for this migration yet",
        store.path().display()
    ))
}

fn load(cli: &Cli) -> Result<Desired, Error> {
    let mut vars = BTreeMap::new();
    for v in &cli.vars {
        let (name, value) = v.split_once('=').ok_or_else(|| {
            Error::Usage(format!(
                "--var expects NAME=VALUE, got \"{}\"",
                v.split('=').next().unwrap_or("")
            ))
        })?;
        vars.insert(name.to_string(), value.to_string());
    }
    Ok(config::load(&cli.dir, &LoadOptions { vars })?)
}

/// Both clusters connected and read, pins checked.
struct Session {
    source: RdKafkaCluster,
    target: Target,
    snapshot: Snapshot,
}

/// The target: a Kafka cluster, or CKafka with its topic metadata through the cloud API.
enum Target {
    Kafka(RdKafkaCluster),
    Ckafka(Box<CkafkaCluster>),
}

impl Target {
    fn connect(desired: &Desired, timeout: Duration) -> Result<Target, Error> {
        Ok(match &desired.target.ckafka {
            Some(ckafka) => Target::Ckafka(Box::new(CkafkaCluster::connect(
                "target",
                &desired.target,
                ckafka,
                timeout,
            )?)),
            None => Target::Kafka(RdKafkaCluster::connect("target", &desired.target, timeout)?),
        })
    }

    fn access(&self) -> &dyn ClusterAccess {
        match self {
            Target::Kafka(k) => k,
            Target::Ckafka(c) => c.as_ref(),
        }
    }

    fn kafka(&self) -> &RdKafkaCluster {
        match self {
            Target::Kafka(k) => k,
            Target::Ckafka(c) => c.inner(),
        }
    }
}

fn connect(desired: &Desired, args: &ConnectArgs) -> Result<Session, Error> {
    let source = RdKafkaCluster::connect("source", &desired.source, args.timeout)?;
    let target = Target::connect(desired, args.timeout)?;
    let snapshot = Snapshot::take(desired, &source, target.access())?;
    // Counting waits for fresh librdkafka statistics, so only when someone reads it.
    if tracing::enabled!(tracing::Level::DEBUG) {
        tracing::debug!(requests = ?source.request_counts(), "source cluster requests");
        tracing::debug!(requests = ?target.kafka().request_counts(), "target cluster requests");
    }
    check_pin("source", &desired.source, &snapshot.source)?;
    check_pin("target", &desired.target, &snapshot.target)?;
    Ok(Session {
        source,
        target,
        snapshot,
    })
}

/// The plan, continued from the state when an earlier apply started this migration.
fn current_plan(
    desired: &Desired,
    store: &StateStore,
    state: Option<&State>,
    snapshot: &Snapshot,
) -> Result<Plan, Error> {
    let mut plan = plan::build(desired, snapshot, desired.target_platform());
    if let Some(state) = state {
        if state.migration != desired.migration.name {
            return Err(ApplyError::OtherMigration {
                recorded: state.migration.clone(),
                declared: desired.migration.name.clone(),
            }
            .into());
        }
        store.check_clusters(
            state,
            snapshot.source.cluster_id.as_deref(),
            snapshot.target.cluster_id.as_deref(),
        )?;
        let recorded: Vec<_> = state.steps.iter().filter_map(|r| r.step.clone()).collect();
        if recorded.len() == state.steps.len() {
            plan.resume(recorded, state.completed_steps());
        }
        let copy_started = state
            .steps
            .iter()
            .any(|r| r.kind == "copy_data" && r.started_at.is_some());
        if copy_started {
            plan.accept_own_copy();
        }
    }
    Ok(plan)
}

fn plan(
    cli: &Cli,
    desired: &Desired,
    store: &StateStore,
    args: &PlanArgs,
) -> Result<ExitCode, Error> {
    let state = store.load()?;
    let session = connect(desired, &args.connect)?;
    let plan = current_plan(desired, store, state.as_ref(), &session.snapshot)?;
    let text = match args.format {
        Format::Human => render::human(&plan, &Theme::new(colors(cli))),
        Format::Json => render::json(&plan),
    };
    print!("{text}");
    if let Some(out) = &args.out {
        let saved = SavedPlan {
            saved_plan_version: SAVED_PLAN_VERSION,
            state_lineage: state.as_ref().map(|s| s.lineage.clone()),
            state_serial: state.as_ref().map(|s| s.serial),
            plan: plan.clone(),
        };
        let json = serde_json::to_string_pretty(&saved).expect("a plan always serializes");
        std::fs::write(out, json).map_err(|source| Error::Write {
            path: out.clone(),
            source,
        })?;
        if args.format == Format::Human {
            println!(
                "\nSaved the plan to {}; run `ferry apply {}` to carry out exactly this plan.",
                out.display(),
                out.display()
            );
        }
    }
    Ok(if args.detailed_exitcode && plan.has_changes() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

fn apply(
    cli: &Cli,
    desired: &Desired,
    store: &StateStore,
    args: &ApplyArgs,
) -> Result<ExitCode, Error> {
    let _lock = store.lock("apply", args.lock_timeout)?;
    let state = store.load()?;
    let session = connect(desired, &args.connect)?;
    let mut plan = current_plan(desired, store, state.as_ref(), &session.snapshot)?;

    match &args.plan_file {
        Some(path) => {
            let saved = SavedPlan::read(path).map_err(ApplyError::SavedPlan)?;
            let stale = saved.staleness(
                &desired.fingerprint,
                state.as_ref().map(|s| s.serial),
                &session.snapshot.fingerprint(),
            );
            if !stale.is_empty() {
                return Err(ApplyError::StalePlan {
                    path: path.clone(),
                    reasons: stale.iter().map(|s| s.to_string()).collect(),
                }
                .into());
            }
            plan = saved.plan;
        }
        None => {
            print!("{}", render::human(&plan, &Theme::new(colors(cli))));
            if plan.summary.blocked == 0 && plan.has_changes() && !args.auto_approve {
                confirm()?;
            }
        }
    }
    let blocked: Vec<String> = plan
        .topics_with(crate::diff::Action::Blocked)
        .map(|t| t.target_name.clone())
        .collect();
    if !blocked.is_empty() {
        return Err(ApplyError::Blocked { topics: blocked }.into());
    }
    if !plan.has_changes() {
        println!(
            "Nothing to do: every step of migration \"{}\" is done.",
            desired.migration.name
        );
        return Ok(ExitCode::SUCCESS);
    }

    let mut state = match state {
        Some(s) => s,
        None => new_state(desired, &session, &plan),
    };
    let reporter = TerminalReporter::new();
    let executor = Executor {
        desired,
        source: &session.source,
        target: session.target.access(),
        store,
        reporter: &reporter,
        config_dir: cli.dir.clone(),
    };
    executor.run(&plan, &mut state)?;
    println!(
        "Apply complete: {} of {} steps done; the state is in {}.",
        plan.steps.len(),
        plan.steps.len(),
        store.path().display()
    );
    Ok(ExitCode::SUCCESS)
}

fn new_state(desired: &Desired, session: &Session, plan: &Plan) -> State {
    let mut state = State::new(
        &desired.migration.name,
        desired.migration.scheme,
        session.snapshot.source.cluster_id.clone(),
        session.snapshot.target.cluster_id.clone(),
    );
    for (i, step) in plan.steps.iter().enumerate() {
        let mut record = StepRecord::pending(i, step.kind(), render::describe_step(step));
        record.step = Some(step.clone());
        state.steps.push(record);
    }
    state
}

/// Asks on the terminal; only `yes` proceeds, and never without a terminal to ask on.
fn confirm() -> Result<(), Error> {
    if !std::io::stdin().is_terminal() {
        return Err(ApplyError::NoTerminal.into());
    }
    print!(
        "\nDo you want to carry out this migration? Only 'yes' will be accepted.\n  Enter a value: "
    );
    std::io::stdout().flush().ok();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|_| ApplyError::NotConfirmed)?;
    if answer.trim() == "yes" {
        Ok(())
    } else {
        Err(ApplyError::NotConfirmed.into())
    }
}

fn status(desired: &Desired, store: &StateStore, args: &ConnectArgs) -> Result<ExitCode, Error> {
    let state = store.load()?.ok_or_else(|| no_state(store))?;
    println!(
        "Migration \"{}\" ({}), state serial {}, last written {}.",
        state.migration, state.scheme, state.serial, state.updated_at
    );
    for r in &state.steps {
        let when = r
            .finished_at
            .as_deref()
            .or(r.started_at.as_deref())
            .unwrap_or("");
        println!(
            "  {:>2}. {:<8} {}  {when}",
            r.index + 1,
            r.status.as_str(),
            r.description
        );
        if let Some(e) = &r.error {
            println!("      error: {e}");
        }
    }
    println!(
        "{} of {} steps done.",
        state.completed_steps(),
        state.steps.len()
    );
    let timeout = args.timeout.min(Duration::from_secs(10));
    match RdKafkaCluster::connect("source", &desired.source, timeout) {
        Ok(source) => {
            let groups: Vec<String> = source
                .list_groups()?
                .into_iter()
                .map(|g| g.name)
                .filter(|g| desired.selects_group(g))
                .collect();
            if !groups.is_empty() {
                println!("Live lag on the source:");
                for (g, lag) in group_lags(desired, &source, &groups)? {
                    println!("  {g}: {lag}");
                }
            }
        }
        Err(e) => println!("Live lag unavailable: {e}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// A pinned cluster id must match: running against the wrong cluster is the costliest mistake.
fn check_pin(role: &str, settings: &ClusterSettings, snap: &ClusterSnapshot) -> Result<(), Error> {
    match (&settings.cluster_id, &snap.cluster_id) {
        (Some(pinned), Some(actual)) if pinned != actual => Err(Error::ClusterIdMismatch {
            role: role.into(),
            pinned: pinned.clone(),
            actual: actual.clone(),
        }),
        _ => Ok(()),
    }
}

fn colors(cli: &Cli) -> bool {
    !cli.no_color
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::io::stdout().is_terminal()
}
