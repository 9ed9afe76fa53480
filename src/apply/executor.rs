//! Runs a plan's unfinished steps in order, saving the state file after every step, so an
//! interrupted apply resumes at the first step that did not finish.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::cluster::{ClusterAccess, PartitionOffsets};
use crate::config::{Desired, Scheme};
use crate::error::Error;
use crate::plan::{GroupsOn, Plan, Step};
use crate::render::describe_step;
use crate::state::{
    CommittedOffset, CutoverEdge, State, StateStore, StepOutcome, now_rfc3339_millis,
};

use super::hook::{HookContext, run_hook};
use super::mirror::follow::Follow;
use super::mirror::pass::Passes;
use super::mirror::{Mirror, recorded_copies};
use super::reporter::Reporter;
use super::waits::{WaitTiming, groups_active, groups_drained};
use super::{offsets_step, topics_step};

pub struct Executor<'a> {
    pub desired: &'a Desired,
    pub source: &'a dyn ClusterAccess,
    pub target: &'a dyn ClusterAccess,
    pub store: &'a StateStore,
    pub reporter: &'a dyn Reporter,
    pub config_dir: PathBuf,
    /// Whether the mirror copy writes in transactions: the plan's copy step decided it.
    pub fenced: bool,
}

impl Executor<'_> {
    /// Runs steps `plan.completed_steps..`; each is marked running, then done or failed, and the
    /// state is saved at every change. A failed step stops the apply.
    ///
    /// For a mirror plan, the copy follows the source in the background between the first copy
    /// and the drain ([`Follow`]), also when a rerun resumes in between.
    pub fn run(&self, plan: &Plan, state: &mut State) -> Result<(), Error> {
        let window = follow_window(&plan.steps);
        std::thread::scope(|scope| {
            let mut follow: Option<Following> = None;
            let total = plan.steps.len();
            for index in plan.completed_steps..total {
                let step = &plan.steps[index];
                if let Some((copy_index, drain_index)) = window {
                    if index > drain_index + 1 {
                        follow = None;
                    } else if follow.is_none() && index > copy_index && index <= drain_index {
                        follow =
                            Some(self.start_following(scope, &plan.steps[copy_index], state)?);
                    }
                }
                self.reporter.line(&format!(
                    "Step {}/{total}: {}",
                    index + 1,
                    describe_step(step)
                ));
                let edge = match step {
                    Step::RunHook { hook, .. } => CutoverEdge::of_hook(hook),
                    _ => None,
                }
                .filter(|_| self.desired.migration.scheme == Scheme::Mirror);
                if let Some(edge) = edge.filter(|e| e.is_stop()) {
                    state.cutover.record(edge, &now_rfc3339_millis());
                }
                state.mark_running(index);
                self.store.save(state)?;
                let mirror_follow = follow.as_ref().map(|f| &*f.0);
                match self.execute(index, total, step, state, mirror_follow) {
                    Ok(outcome) => {
                        state.mark_done(index, outcome);
                        if let Some(edge) = edge.filter(|e| !e.is_stop()) {
                            let pause = state.cutover.record(edge, &now_rfc3339_millis());
                            self.report_pause(edge, pause, state);
                        }
                        self.store.save(state)?;
                    }
                    Err(e) => {
                        state.mark_failed(index, e.to_string());
                        self.store.save(state)?;
                        return Err(e);
                    }
                }
            }
            Ok(())
        })
    }

    /// Starts the background copy and verification, from the copy the state records.
    fn start_following<'scope, 'env>(
        &'env self,
        scope: &'scope std::thread::Scope<'scope, 'env>,
        copy_step: &Step,
        state: &State,
    ) -> Result<Following, Error> {
        let Step::CopyData {
            topics, start_from, ..
        } = copy_step
        else {
            unreachable!("the follow window starts at a copy step");
        };
        let copies = recorded_copies(state);
        let mirror = self.mirror(None);
        let jobs = mirror.jobs(topics, *start_from, &copies)?;
        let partitions: Vec<_> = copies.values().cloned().collect();
        let restamped = mirror.restamped(&partitions)?;
        let compacted = mirror.compacted(&partitions)?;
        let follow = Arc::new(Follow::new(copies));
        let mut passes = Passes::new(self.desired, self.reporter, self.fenced);
        passes.show_progress = false;
        passes.held = Arc::clone(&follow.held);
        let (source, target) = (passes.source.clone(), passes.target.clone());
        let copying = Arc::clone(&follow);
        scope.spawn(move || copying.copy_loop(passes, jobs));
        let verifying = Arc::clone(&follow);
        scope.spawn(move || verifying.verify_loop(source, target, restamped, compacted));
        Ok(Following(follow))
    }

    fn report_pause(&self, edge: CutoverEdge, pause: Option<f64>, state: &State) {
        let c = &state.cutover;
        let (what, from, to) = match edge {
            CutoverEdge::ConsumersStarted => (
                "consumer pause",
                &c.consumers_stopped_at,
                &c.consumers_started_at,
            ),
            CutoverEdge::ProducersStarted => (
                "write pause",
                &c.producers_stopped_at,
                &c.producers_started_at,
            ),
            _ => return,
        };
        let Some(seconds) = pause else {
            return;
        };
        self.reporter.line(&format!(
            "  {what}: {seconds:.1}s (stopped on the source at {}, started on the target at {})",
            from.as_deref().unwrap_or("?"),
            to.as_deref().unwrap_or("?")
        ));
    }

    fn execute(
        &self,
        index: usize,
        total: usize,
        step: &Step,
        state: &State,
        follow: Option<&Follow>,
    ) -> Result<StepOutcome, Error> {
        let timing = WaitTiming::from(self.desired);
        match step {
            Step::ApplyTopics { .. } => {
                topics_step::apply_topics(self.desired, self.source, self.target)
            }
            Step::RunHook { hook, .. } => {
                let Some(hook) = self.desired.hooks.get(hook) else {
                    return Err(Error::Usage(format!(
                        "step {} runs hook \"{hook}\", which is not declared; declare it in a hook block and run `ferry apply` again",
                        index + 1
                    )));
                };
                let context = HookContext {
                    migration: self.desired.migration.name.clone(),
                    scheme: self.desired.migration.scheme,
                    step_index: index + 1,
                    step_count: total,
                    config_dir: self.config_dir.clone(),
                    state_path: self.store.path().to_path_buf(),
                    source_bootstrap: self.desired.source.bootstrap_servers.join(","),
                    target_bootstrap: self.desired.target.bootstrap_servers.join(","),
                };
                let run = run_hook(hook, &context, &self.log_dir(), self.reporter)?;
                Ok(StepOutcome::HookRan {
                    hook: hook.name.clone(),
                    exit_code: Some(run.exit_code),
                    log_file: run.log_file.display().to_string(),
                    seconds: run.seconds,
                })
            }
            Step::CommitStartOffsets { groups, .. } => {
                offsets_step::commit_start_offsets(self.desired, self.source, self.target, groups)
            }
            Step::WaitGroupsDrained { groups } => groups_drained(
                index + 1,
                self.desired,
                self.source,
                groups,
                timing,
                self.reporter,
            ),
            Step::WaitGroupsActive { groups, on } => {
                let (cluster, name) = match on {
                    GroupsOn::Source => (self.source, "source"),
                    GroupsOn::Target => (self.target, "target"),
                };
                groups_active(
                    index + 1,
                    cluster,
                    name,
                    groups,
                    &ferry_commits(state),
                    timing,
                    self.reporter,
                )
            }
            Step::CopyData {
                topics, start_from, ..
            } => self.mirror(follow).copy_data(topics, *start_from, state),
            Step::WaitReplicationCaughtUp {
                max_lag,
                max_lag_time_ms,
                ..
            } => self.mirror(follow).wait_caught_up(
                index + 1,
                *max_lag,
                Duration::from_millis(*max_lag_time_ms),
                timing,
            ),
            Step::WaitGroupsStopped { groups } => {
                self.mirror(follow)
                    .wait_groups_stopped(index + 1, groups, timing)
            }
            Step::TranslateOffsets { groups, .. } => {
                self.mirror(follow).translate_offsets(groups, timing, state)
            }
            Step::WaitSourceQuiet { .. } => {
                self.mirror(follow)
                    .wait_source_quiet(index + 1, timing, state)
            }
            Step::DrainReplication { topics } => self.mirror(follow).drain(topics, state),
            Step::Verify { .. } => self.mirror(follow).verify(state),
        }
    }

    fn mirror<'m>(&'m self, follow: Option<&'m Follow>) -> Mirror<'m> {
        Mirror {
            desired: self.desired,
            source: self.source,
            target: self.target,
            reporter: self.reporter,
            follow,
            fenced: self.fenced,
        }
    }

    /// Hook logs live beside the state file, so they travel with the migration's record.
    fn log_dir(&self) -> PathBuf {
        let state = self.store.path();
        state
            .parent()
            .map_or_else(|| PathBuf::from("ferry-logs"), |d| d.join("ferry-logs"))
    }
}

/// Offsets ferry committed itself in this migration, per group (from the state's outcomes).
fn ferry_commits(state: &State) -> BTreeMap<String, PartitionOffsets> {
    let mut by_group = BTreeMap::new();
    for record in &state.steps {
        if let Some(StepOutcome::OffsetsCommitted { groups, offsets }) = &record.outcome {
            for g in groups {
                let mine: &mut PartitionOffsets = by_group.entry(g.clone()).or_default();
                for (topic, parts) in CommittedOffset::of_group(offsets, g) {
                    mine.entry(topic).or_default().extend(parts);
                }
            }
        }
    }
    by_group
}

/// The background copy of one run; dropping it tells its threads to stop (the scope that
/// spawned them then waits for them).
struct Following(Arc<Follow>);

impl Drop for Following {
    fn drop(&mut self) {
        self.0.stop_all();
    }
}

/// `(copy step, drain step)` of a mirror plan: the background copy runs for the steps after
/// the first and up to the second, and its verification through the step after the drain.
fn follow_window(steps: &[Step]) -> Option<(usize, usize)> {
    let copy = steps
        .iter()
        .position(|s| matches!(s, Step::CopyData { .. }))?;
    let drain = steps
        .iter()
        .position(|s| matches!(s, Step::DrainReplication { .. }))?;
    (copy < drain).then_some((copy, drain))
}
