//! Resolves the command line and runs a command: the only place that joins config, clusters,
//! plan, state and output.

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use crate::apply::reporter::TerminalReporter;
use crate::apply::{ApplyError, Executor, group_lags, replicate_jobs};
use crate::ckafka::CkafkaCluster;
use crate::cli::{
    ApplyArgs, Cli, Command, ConnectArgs, DriftArgs, FmtArgs, Format, InitArgs, PlanArgs,
    ReplicateArgs, SchemeArg, StateCommand,
};
use crate::cluster::{ClusterAccess, RdKafkaCluster, client_config};
use crate::config::{self, ClusterSettings, Desired, LoadOptions, Scheme};
use crate::copy::{ReplicateEvent, ReplicateOptions};
use crate::drift::{self, DriftReport};
use crate::error::Error;
use crate::hcl_format;
use crate::init;
use crate::plan::{self, Plan, SAVED_PLAN_VERSION, SavedPlan};
use crate::render::{self, Theme};
use crate::snapshot::{ClusterSnapshot, Snapshot};
use crate::state::{State, StateStore, StepOutcome, StepRecord};
use crate::targeting;

pub fn run(cli: Cli) -> Result<ExitCode, Error> {
    // Commands that need no (valid) configuration.
    match &cli.command {
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(*shell, &mut cmd, "ferry", &mut std::io::stdout());
            return Ok(ExitCode::SUCCESS);
        }
        Command::Fmt(args) => return fmt(&cli, args),
        Command::Init(args) if !args.from_source => {
            let scheme = match args.scheme {
                SchemeArg::DualConsume => Scheme::DualConsume,
                SchemeArg::SingleConsume => Scheme::SingleConsume,
                SchemeArg::Mirror => Scheme::Mirror,
            };
            let out = args.out.clone().unwrap_or_else(|| cli.dir.clone());
            let files = [("main.hcl".to_string(), init::starter(scheme))];
            for path in init::write_files(&out, &files, args.force)? {
                println!(
                    "Wrote {} (scheme {scheme}). Edit it, then run `ferry init --from-source` and `ferry plan`.",
                    path.display()
                );
            }
            return Ok(ExitCode::SUCCESS);
        }
        _ => {}
    }
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
        Command::Rollback(args) => rollback(&desired, &store, args),
        Command::Replicate(args) => replicate(&desired, &store, args),
        Command::Drift(args) => drift(&cli, &desired, &store, args),
        Command::Init(args) => init_from_source(&cli, &desired, args),
        Command::Fmt(_) | Command::Completions { .. } => {
            unreachable!("handled before the configuration is loaded")
        }
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
    Ok(config::load(&cli.dir, &load_options(cli)?)?)
}

fn load_options(cli: &Cli) -> Result<LoadOptions, Error> {
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
    Ok(LoadOptions { vars })
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
    let mut snapshot = Snapshot::take(desired, &source, target.access())?;
    snapshot.probe_transactions(desired, target.access());
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

/// The plan, continued from the state when an earlier apply started this migration, limited
/// to `targets` (source topic names) when there are any.
fn current_plan(
    desired: &Desired,
    store: &StateStore,
    state: Option<&State>,
    snapshot: &Snapshot,
    targets: &[String],
) -> Result<Plan, Error> {
    let mut plan = if targets.is_empty() {
        plan::build(desired, snapshot, desired.target_platform())
    } else {
        targeting::check(desired, snapshot, targets)?;
        let scoped = targeting::narrow_desired(desired, targets);
        let mut plan = plan::build(
            &scoped,
            &targeting::narrow_snapshot(desired, snapshot, targets),
            desired.target_platform(),
        );
        plan.targets = targets.to_vec();
        plan.unmanaged_target_topics = targeting::unmanaged(desired, snapshot);
        let named = targets
            .iter()
            .map(|t| format!("topic.{t}"))
            .collect::<Vec<_>>()
            .join(", ");
        plan.warnings.push(if state.is_none() {
            format!(
                "-target limits this plan to {named}, and an apply of it records these steps as the migration's sequence: a later apply without -target only creates or updates the other topics' metadata (no copy, no hooks, no offsets for them). For a pilot, give it its own migration and state file"
            )
        } else {
            format!(
                "-target limits this plan to {named}: other topics and their changes are left out; run a plan without -target to see everything"
            )
        });
        plan
    };
    if let Some(state) = state {
        check_state(desired, store, state, snapshot)?;
        if !targets.is_empty() && state.completed_steps() < state.steps.len() {
            return Err(Error::Usage(format!(
                "-target cannot narrow migration \"{}\" while it is in progress ({} of {} recorded steps done): the recorded sequence covers all its topics. Run `ferry apply` without -target to finish it, then use -target for later changes.",
                state.migration,
                state.completed_steps(),
                state.steps.len()
            )));
        }
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
        plan.catch_up();
    }
    for (role, settings, live) in [
        ("source", &desired.source, &snapshot.source),
        ("target", &desired.target, &snapshot.target),
    ] {
        if let (None, Some(id)) = (&settings.cluster_id, &live.cluster_id) {
            plan.warnings.push(format!(
                "cluster \"{role}\" pins no cluster_id: add cluster_id = \"{id}\" so that ferry refuses to run if bootstrap_servers ever point at another cluster"
            ));
        }
    }
    Ok(plan)
}

/// The desired model apply works from: narrowed like the plan when it was limited with -target.
fn scoped(desired: &Desired, targets: &[String]) -> Desired {
    if targets.is_empty() {
        desired.clone()
    } else {
        targeting::narrow_desired(desired, targets)
    }
}

/// Records steps the state does not have yet (the first apply's whole sequence, or a catch-up
/// step appended to a finished one).
fn record_steps(state: &mut State, plan: &Plan) {
    for (i, step) in plan.steps.iter().enumerate().skip(state.steps.len()) {
        let mut record = StepRecord::pending(i, step.kind(), render::describe_step(step));
        record.step = Some(step.clone());
        state.steps.push(record);
    }
}

fn plan(
    cli: &Cli,
    desired: &Desired,
    store: &StateStore,
    args: &PlanArgs,
) -> Result<ExitCode, Error> {
    let state = store.load()?;
    let targets = targeting::parse(&args.targets)?;
    let session = connect(desired, &args.connect)?;
    let plan = current_plan(desired, store, state.as_ref(), &session.snapshot, &targets)?;
    let text = match args.format {
        Format::Human => render::human(&plan, &Theme::new(colors(cli))),
        Format::Json => render::json(&plan),
        Format::Markdown => render::markdown(&plan),
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
        // `apply FILE` reads at most PLAN_MAX_BYTES: never save what it would refuse.
        if json.len() as u64 > crate::limits::PLAN_MAX_BYTES {
            return Err(Error::Usage(format!(
                "the plan is larger than {}, the most `ferry apply FILE` reads, so it was not saved to {}. Run `ferry apply` without a saved plan, or plan part of the topics at a time with -target",
                crate::limits::show_bytes(crate::limits::PLAN_MAX_BYTES),
                out.display()
            )));
        }
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
    let mut targets = targeting::parse(&args.targets)?;
    let saved = match &args.plan_file {
        Some(path) => {
            let saved = SavedPlan::read(path).map_err(ApplyError::SavedPlan)?;
            if !targets.is_empty() && targets != saved.plan.targets {
                return Err(Error::Usage(format!(
                    "{} was planned {}; apply it without -target (a saved plan keeps its own targets)",
                    path.display(),
                    if saved.plan.targets.is_empty() {
                        "without -target".to_string()
                    } else {
                        format!("with -target topic.{}", saved.plan.targets.join(", topic."))
                    }
                )));
            }
            targets = saved.plan.targets.clone();
            Some((path, saved))
        }
        None => None,
    };
    let session = connect(desired, &args.connect)?;
    let mut plan = current_plan(desired, store, state.as_ref(), &session.snapshot, &targets)?;

    match saved {
        Some((path, saved)) => {
            let stale = saved.staleness(
                &desired.fingerprint,
                state.as_ref().map(|s| s.serial),
                &plan.fingerprint.metadata,
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
        None => new_state(desired, &session),
    };
    record_steps(&mut state, &plan);
    let scoped = scoped(desired, &targets);
    let reporter = TerminalReporter::new();
    let executor = Executor {
        desired: &scoped,
        source: &session.source,
        target: session.target.access(),
        store,
        reporter: &reporter,
        config_dir: cli.dir.clone(),
        fenced: plan.copy_fenced(),
    };
    executor.run(&plan, &mut state)?;
    println!(
        "Apply complete: {} of {} steps done; the state is in {}.",
        plan.steps.len(),
        plan.steps.len(),
        store.path().display()
    );
    let c = &state.cutover;
    for (what, seconds) in [
        ("consumer pause", c.consumer_pause_seconds),
        ("write pause", c.write_pause_seconds),
    ] {
        if let Some(seconds) = seconds {
            println!(
                "{what}: {seconds:.1}s (clients stopped on the source to started on the target)"
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Why there is nothing left to copy, when this migration's producers already write to the
/// target: the target's partitions then hold their records after the copied range, which the
/// copy must never take for a foreign writer's.
fn copy_finished(desired: &Desired, store: &StateStore) -> Result<Option<String>, Error> {
    let Some(state) = store.load()? else {
        return Ok(None);
    };
    if state.migration != desired.migration.name {
        return Ok(None);
    }
    let Some(record) = state.steps.iter().find(|r| {
        matches!(&r.step, Some(crate::plan::Step::RunHook { hook, .. }) if hook == crate::apply::POINT_OF_NO_RETURN)
    }) else {
        return Ok(None);
    };
    if record.status == crate::state::StepStatus::Pending {
        return Ok(None);
    }
    Ok(Some(format!(
        "ferry replicate: nothing to copy. Migration \"{}\" moved its producers to the target (step {}, hook {}, {}); the copy ended where they stopped on the source, and the target's later records are theirs. The state file {} records where each partition's copy ended.",
        state.migration,
        record.index + 1,
        crate::apply::POINT_OF_NO_RETURN,
        record.started_at.as_deref().unwrap_or("at an unknown time"),
        store.path().display()
    )))
}

/// `ferry rollback`: the mirror consumer groups back to the source; the state records it.
fn rollback(desired: &Desired, store: &StateStore, args: &ConnectArgs) -> Result<ExitCode, Error> {
    let _lock = store.lock("rollback", Duration::ZERO)?;
    let mut state = store.load()?.ok_or_else(|| no_state(store))?;
    let session = connect(desired, args)?;
    check_state(desired, store, &state, &session.snapshot)?;
    let reporter = TerminalReporter::new();
    let returned = crate::apply::rollback(
        desired,
        &mut state,
        &session.source,
        session.target.access(),
        &reporter,
    )?;
    store.save(&mut state)?;
    let groups: std::collections::BTreeSet<&str> =
        returned.iter().map(|r| r.group.as_str()).collect();
    println!(
        "Rolled back: {} group{} ({} partitions) committed on the source where they got to on the target; read back. Start the consumers (and producers, if they were stopped) on the source again. The cutover steps are pending again: `ferry apply` runs the cutover anew when you are ready.",
        groups.len(),
        plural(groups.len()),
        returned.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// `ferry replicate`: the mirror copy as a service, sharing the partitions with every other
/// process in the same group, until SIGINT/SIGTERM (or, with --until-caught-up, until what this
/// process holds reached the ends read at start). Reads no state and takes no lock: each
/// partition's resume point is the target's own tail.
fn replicate(
    desired: &Desired,
    store: &StateStore,
    args: &ReplicateArgs,
) -> Result<ExitCode, Error> {
    if let Some(note) = copy_finished(desired, store)? {
        println!("{note}");
        return Ok(ExitCode::SUCCESS);
    }
    let jobs = {
        let session = connect(desired, &args.connect)?;
        replicate_jobs(desired, &session.snapshot)?
    };
    let options = ReplicateOptions {
        group: args
            .group
            .clone()
            .unwrap_or_else(|| format!("ferry-replicate-{}", desired.migration.name)),
        until_caught_up: args.until_caught_up,
        session_timeout: args.session_timeout,
        progress_every: args.progress_every,
    };
    let stop = crate::stop_signal::install("ferry replicate")?;
    let topics: std::collections::BTreeSet<&str> =
        jobs.iter().map(|j| j.source_topic.as_str()).collect();
    eprintln!(
        "ferry replicate: {} partitions of {} topics, sharing them in group {} on the source; stop with Ctrl-C or SIGTERM.",
        jobs.len(),
        topics.len(),
        options.group
    );
    let started = std::time::Instant::now();
    let mut target = client_config(&desired.target);
    target.set("compression.type", desired.replication.compression.as_str());
    let summary = crate::copy::replicate(
        &client_config(&desired.source),
        &target,
        &jobs,
        &options,
        &stop,
        &mut |event| match event {
            ReplicateEvent::Assigned(partitions) if partitions.is_empty() => {
                eprintln!("ferry replicate: the group gave this process no partition");
            }
            ReplicateEvent::Assigned(partitions) => {
                let held: Vec<String> = partitions
                    .iter()
                    .map(|p| format!("{}[{}] from offset {}", p.source_topic, p.partition, p.next))
                    .collect();
                eprintln!(
                    "ferry replicate: holding {} partition{}: {}",
                    held.len(),
                    plural(held.len()),
                    held.join(", ")
                );
            }
            ReplicateEvent::Revoked { partitions } => eprintln!(
                "ferry replicate: handed {partitions} partition{} back to the group, every record sent for them on the target",
                plural(partitions)
            ),
            ReplicateEvent::Progress(progress) => {
                eprintln!("ferry replicate: {}", progress.summary(started.elapsed()));
            }
            ReplicateEvent::Warning(text) => eprintln!("ferry replicate: warning: {text}"),
        },
    )?;
    eprintln!(
        "ferry replicate: stopped ({}); this process copied {} records ({:.1} MB) in {}.",
        if summary.caught_up {
            "caught up"
        } else {
            "asked to stop"
        },
        render::thousands(summary.copied),
        summary.bytes as f64 / 1e6,
        humantime::format_duration(Duration::from_secs(started.elapsed().as_secs()))
    );
    Ok(ExitCode::SUCCESS)
}

fn new_state(desired: &Desired, session: &Session) -> State {
    State::new(
        &desired.migration.name,
        desired.migration.scheme,
        session.snapshot.source.cluster_id.clone(),
        session.snapshot.target.cluster_id.clone(),
    )
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
    let c = &state.cutover;
    if let Some(seconds) = c.consumer_pause_seconds {
        println!("Consumer pause: {seconds:.1}s (stopped on the source to started on the target).");
    }
    if let Some(seconds) = c.write_pause_seconds {
        println!(
            "Write pause: {seconds:.1}s; producers write to the target since {}: the copy ended where they stopped on the source, and the target's later records are theirs.",
            c.producers_started_at.as_deref().unwrap_or("?")
        );
    }
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
    let verified = state.steps.iter().rev().find_map(|r| match &r.outcome {
        Some(StepOutcome::Verified { partitions, .. }) => Some(partitions),
        _ => None,
    });
    if let Some(partitions) = verified {
        println!("Verification (step verify):");
        print!("{}", render::verification_report(partitions));
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

/// `ferry init --from-source`: topic blocks (and groups) from the live source, checked to load
/// with the rest of the configuration before anything is written.
fn init_from_source(cli: &Cli, desired: &Desired, args: &InitArgs) -> Result<ExitCode, Error> {
    let out = args.out.clone().unwrap_or_else(|| cli.dir.clone());
    let source = RdKafkaCluster::connect("source", &desired.source, args.connect.timeout)?;
    let view = init::read_source(desired, &source)?;
    check_pin(
        "source",
        &desired.source,
        &ClusterSnapshot {
            cluster_id: view.cluster_id.clone(),
            ..Default::default()
        },
    )?;
    let generated = init::generate(desired, &view, &out.join(init::TOPICS_FILE));
    let same_dir = out.canonicalize().ok() == cli.dir.canonicalize().ok();
    if same_dir {
        init::check_loads(&cli.dir, &generated.files, &load_options(cli)?)?;
    }
    let written = init::write_files(&out, &generated.files, args.force)?;
    println!(
        "Wrote {}: {} from the source{}.",
        written[0].display(),
        plural_count(generated.topics, "topic block"),
        if generated.not_carried > 0 {
            format!(
                " ({} that will not carry over, kept as comments)",
                plural_count(generated.not_carried, "topic config")
            )
        } else {
            String::new()
        }
    );
    if let Some(groups) = written.get(1) {
        println!(
            "Wrote {}: consumer_groups naming {}.",
            groups.display(),
            plural_count(generated.groups.len(), "group")
        );
    } else if !generated.groups.is_empty() {
        println!(
            "Consumer groups with offsets on these topics, matched by your consumer_groups block: {}.",
            generated.groups.join(", ")
        );
    }
    if !generated.already_declared.is_empty() {
        println!(
            "Left out (a topic block elsewhere declares them): {}.",
            generated.already_declared.join(", ")
        );
    }
    println!("Next: `ferry validate` and `ferry plan`.");
    Ok(ExitCode::SUCCESS)
}

fn plural_count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", plural(n))
}

/// `ferry drift`: the live clusters against the configuration and the state; exit 2 on drift.
/// Reads only: no lock, no state write.
fn drift(
    cli: &Cli,
    desired: &Desired,
    store: &StateStore,
    args: &DriftArgs,
) -> Result<ExitCode, Error> {
    let state = store.load()?;
    let session = connect(desired, &args.connect)?;
    if let Some(state) = &state {
        check_state(desired, store, state, &session.snapshot)?;
    }
    let findings = drift::detect(
        desired,
        &session.snapshot,
        state.as_ref(),
        desired.target_platform(),
    );
    let report = DriftReport::build(
        desired,
        &session.snapshot,
        state.as_ref(),
        findings,
        args.ignore_unmanaged,
    );
    let text = match args.format {
        Format::Human => render::drift_human(&report, &Theme::new(colors(cli))),
        Format::Json => render::drift_json(&report),
        Format::Markdown => render::drift_markdown(&report),
    };
    print!("{text}");
    Ok(if report.has_drift() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// The state belongs to this migration and these clusters.
fn check_state(
    desired: &Desired,
    store: &StateStore,
    state: &State,
    snapshot: &Snapshot,
) -> Result<(), Error> {
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
    Ok(())
}

/// `ferry fmt`: rewrites files not in canonical layout; `--check` changes nothing, prints the
/// diff and exits 3 when some file would change (as `terraform fmt -check` does).
fn fmt(cli: &Cli, args: &FmtArgs) -> Result<ExitCode, Error> {
    let files = hcl_format::hcl_files(&cli.dir).map_err(|e| {
        Error::Usage(format!(
            "cannot read the configuration directory {}: {e}",
            cli.dir.display()
        ))
    })?;
    let mut unformatted = Vec::new();
    let mut problems = Vec::new();
    for path in files {
        let text = crate::bounded_file::read_text(&path, crate::limits::HCL_MAX_BYTES)
            .map_err(|e| Error::Usage(format!("cannot read {}: {e}", path.display())))?;
        let formatted = match hcl_format::format_hcl(&text) {
            Ok(f) => f,
            Err(at @ hcl_format::FormatError::Syntax { .. }) => {
                problems.push(format!("{}:{at}", path.display()));
                continue;
            }
            Err(refused) => {
                problems.push(format!("{}: {refused}", path.display()));
                continue;
            }
        };
        if formatted == text {
            continue;
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        if args.check {
            print!("{}", hcl_format::unified_diff(&name, &text, &formatted));
        } else {
            std::fs::write(&path, &formatted).map_err(|source| Error::Write {
                path: path.clone(),
                source,
            })?;
            println!("{name}");
        }
        unformatted.push(name);
    }
    if !problems.is_empty() {
        return Err(Error::Usage(format!(
            "cannot format these files (nothing was changed in them):\n  {}\nFix syntax errors and run `ferry fmt` again; a file refused as unsafe to format is a ferry bug worth reporting, and stays as written.",
            problems.join("\n  ")
        )));
    }
    Ok(if args.check && !unformatted.is_empty() {
        eprintln!(
            "{} not formatted; run `ferry fmt` to fix.",
            if unformatted.len() == 1 {
                format!("{} is", unformatted[0])
            } else {
                format!("{} files are", unformatted.len())
            }
        );
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}

fn colors(cli: &Cli) -> bool {
    !cli.no_color
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::io::stdout().is_terminal()
}
