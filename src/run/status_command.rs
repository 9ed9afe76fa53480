//! `ferry status`: the state's steps, the cutover pauses, live lag and the last verification.

use std::process::ExitCode;
use std::time::Duration;

use super::no_state;
use super::session::own_state;
use crate::apply::group_lags;
use crate::cli::ConnectArgs;
use crate::cluster::{ClusterAccess, RdKafkaCluster};
use crate::config::Desired;
use crate::error::Error;
use crate::render;
use crate::state::{StateStore, StepOutcome};

pub(super) fn status(
    desired: &Desired,
    store: &StateStore,
    args: &ConnectArgs,
) -> Result<ExitCode, Error> {
    let state = own_state(desired, store)?.ok_or_else(|| no_state(store))?;
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
