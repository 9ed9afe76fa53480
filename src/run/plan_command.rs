//! `ferry plan`, and the plan apply works from: built afresh or continued from the state.

use std::process::ExitCode;

use super::colors;
use crate::cli::{Cli, Format, PlanArgs};
use crate::config::Desired;
use crate::error::Error;
use crate::plan::{self, Plan, SAVED_PLAN_VERSION, SavedPlan};
use crate::render::{self, Theme};
use crate::snapshot::Snapshot;
use crate::state::{State, StateStore, StepRecord};
use crate::targeting;

use super::session::{check_state, connect, own_state};

/// The plan, continued from the state when an earlier apply started this migration, limited
/// to `targets` (source topic names) when there are any.
pub(super) fn current_plan(
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
        check_state(store, state, snapshot)?;
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
pub(super) fn scoped(desired: &Desired, targets: &[String]) -> Desired {
    if targets.is_empty() {
        desired.clone()
    } else {
        targeting::narrow_desired(desired, targets)
    }
}

/// Records steps the state does not have yet (the first apply's whole sequence, or a catch-up
/// step appended to a finished one).
pub(super) fn record_steps(state: &mut State, plan: &Plan) {
    for (i, step) in plan.steps.iter().enumerate().skip(state.steps.len()) {
        let mut record = StepRecord::pending(i, step.kind(), render::describe_step(step));
        record.step = Some(step.clone());
        state.steps.push(record);
    }
}

pub(super) fn plan(
    cli: &Cli,
    desired: &Desired,
    store: &StateStore,
    args: &PlanArgs,
) -> Result<ExitCode, Error> {
    let state = own_state(desired, store)?;
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
