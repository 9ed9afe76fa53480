//! `ferry replicate`: the mirror copy as a long-running, shared service.

use std::process::ExitCode;
use std::time::Duration;

use super::plural;
use super::session::{connect, own_state};
use crate::apply::replicate_jobs;
use crate::cli::ReplicateArgs;
use crate::cluster::client_config;
use crate::config::Desired;
use crate::copy::{ReplicateEvent, ReplicateOptions};
use crate::error::Error;
use crate::render;
use crate::state::StateStore;

/// Why there is nothing left to copy, when this migration's producers already write to the
/// target: the target's partitions then hold their records after the copied range, which the
/// copy must never take for a foreign writer's.
pub(super) fn copy_finished(
    desired: &Desired,
    store: &StateStore,
) -> Result<Option<String>, Error> {
    let Some(state) = own_state(desired, store)? else {
        return Ok(None);
    };
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

/// `ferry replicate`: the mirror copy as a service, sharing the partitions with every other
/// process in the same group, until SIGINT/SIGTERM (or, with --until-caught-up, until what this
/// process holds reached the ends read at start). Reads no state and takes no lock: each
/// partition's resume point is the target's own tail.
pub(super) fn replicate(
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
