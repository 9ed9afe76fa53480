//! `ferry apply` (a fresh plan after a yes, or a saved one checked for staleness) and `ferry rollback`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use super::plan_command::{current_plan, record_steps, scoped};
use super::session::{check_state, connect, new_state, own_state};
use super::{colors, no_state, plural};
use crate::apply::reporter::TerminalReporter;
use crate::apply::{ApplyError, Executor};
use crate::cli::{ApplyArgs, Cli, ConnectArgs};
use crate::config::Desired;
use crate::error::Error;
use crate::plan::{SavedPlan, Staleness};
use crate::render::{self, Theme};
use crate::state::StateStore;
use crate::targeting;

pub(super) fn apply(
    cli: &Cli,
    desired: &Desired,
    store: &StateStore,
    args: &ApplyArgs,
) -> Result<ExitCode, Error> {
    let _lock = store.lock("apply", args.lock_timeout)?;
    let state = own_state(desired, store)?;
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
            let stale = saved.offline_staleness(
                &desired.fingerprint,
                state.as_ref().map(|s| (s.lineage.as_str(), s.serial)),
            );
            stale_plan(path, &stale)?;
            targets = saved.plan.targets.clone();
            Some((path, saved))
        }
        None => None,
    };
    let session = connect(desired, &args.connect)?;
    let mut plan = current_plan(desired, store, state.as_ref(), &session.snapshot, &targets)?;

    match saved {
        Some((path, saved)) => {
            stale_plan(path, &saved.metadata_staleness(&plan.fingerprint.metadata))?;
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

/// Refuses a saved plan the world moved away from.
fn stale_plan(path: &Path, stale: &[Staleness]) -> Result<(), Error> {
    if stale.is_empty() {
        return Ok(());
    }
    Err(ApplyError::StalePlan {
        path: path.to_path_buf(),
        reasons: stale.iter().map(|s| s.to_string()).collect(),
    }
    .into())
}

/// Asks on the terminal; only `yes` proceeds, and never without a terminal to ask on.
pub(super) fn confirm() -> Result<(), Error> {
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

/// `ferry rollback`: the mirror consumer groups back to the source; the state records it.
pub(super) fn rollback(
    desired: &Desired,
    store: &StateStore,
    args: &ConnectArgs,
) -> Result<ExitCode, Error> {
    let _lock = store.lock("rollback", Duration::ZERO)?;
    let mut state = own_state(desired, store)?.ok_or_else(|| no_state(store))?;
    let session = connect(desired, args)?;
    check_state(store, &state, &session.snapshot)?;
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
