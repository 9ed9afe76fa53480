//! Runs a plan's unfinished steps in order, saving the state file after every step, so an
//! interrupted apply resumes at the first step that did not finish.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::cluster::{ClusterAccess, PartitionOffsets};
use crate::config::Desired;
use crate::error::Error;
use crate::plan::{GroupsOn, Plan, Step};
use crate::render::describe_step;
use crate::state::{CommittedOffset, State, StateStore, StepOutcome};

use super::hook::{HookContext, run_hook};
use super::mirror_step::Mirror;
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
}

impl Executor<'_> {
    /// Runs steps `plan.completed_steps..`; each is marked running, then done or failed, and the
    /// state is saved at every change. A failed step stops the apply.
    pub fn run(&self, plan: &Plan, state: &mut State) -> Result<(), Error> {
        let total = plan.steps.len();
        for index in plan.completed_steps..total {
            let step = &plan.steps[index];
            self.reporter.line(&format!(
                "Step {}/{total}: {}",
                index + 1,
                describe_step(step)
            ));
            state.mark_running(index);
            self.store.save(state)?;
            match self.execute(index, total, step, state) {
                Ok(outcome) => {
                    state.mark_done(index, outcome);
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
    }

    fn execute(
        &self,
        index: usize,
        total: usize,
        step: &Step,
        state: &State,
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
            } => self.mirror().copy_data(topics, *start_from, state),
            Step::WaitReplicationCaughtUp { topics } => self.mirror().copy_until_quiet(
                index + 1,
                topics,
                "replication caught up",
                timing,
                state,
            ),
            Step::TranslateOffsets { groups, .. } => self.mirror().translate_offsets(groups, state),
            Step::DrainReplication { topics } => self.mirror().copy_until_quiet(
                index + 1,
                topics,
                "source tail copied",
                timing,
                state,
            ),
            Step::Verify { .. } => self.mirror().verify(state),
        }
    }

    fn mirror(&self) -> Mirror<'_> {
        Mirror {
            desired: self.desired,
            source: self.source,
            target: self.target,
            reporter: self.reporter,
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
