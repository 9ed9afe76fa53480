//! Steps "copy" and "wait until caught up": the first pass up to the source's end, then lag
//! within the bound for the settle period while the background copy keeps up with live traffic.

use std::time::{Duration, Instant};

use crate::config::StartFrom;
use crate::domain::thousands;
use crate::error::Error;
use crate::state::{State, StepOutcome};

use super::super::waits::{WaitTiming, timed_out};
use super::{Mirror, copied, recorded_copies};

impl Mirror<'_> {
    /// Step "copy": one pass up to the source's current end (the background copy follows).
    pub fn copy_data(
        &self,
        topics: &[String],
        start_from: StartFrom,
        state: &State,
    ) -> Result<StepOutcome, Error> {
        let started = Instant::now();
        let mut copies = recorded_copies(state);
        let jobs = self.jobs(topics, start_from, &copies)?;
        let records = self.passes().pass(&jobs, &mut copies)?;
        self.reporter.line(&format!(
            "  copied {records} records into {} partitions; the copy keeps following the source until the drain",
            jobs.len()
        ));
        Ok(copied(copies, records, started))
    }

    /// Step "wait until caught up": every background pass finds each partition at most
    /// `max_lag` source offsets behind, the copy holds what the source held `max_lag_time`
    /// ago, and the verification alongside the copy covers what the copy held `max_lag_time`
    /// ago, continuously for the settle period. "Nothing left to copy" is not the condition:
    /// a live source always has something new. The verification is part of it so that the
    /// cutover, whose write pause includes verifying what is not verified yet, starts with
    /// only a few seconds of traffic left to verify, however long the history.
    pub fn wait_caught_up(
        &self,
        step: usize,
        max_lag: i64,
        max_lag_time: Duration,
        timing: WaitTiming,
    ) -> Result<StepOutcome, Error> {
        let Some(follow) = self.follow else {
            unreachable!("the executor runs the background copy through this step");
        };
        let started = Instant::now();
        let mut held_since: Option<Instant> = None;
        let mut reading;
        loop {
            self.copy_failed()?;
            if let Some(pass) = follow.last_pass() {
                let behind = pass.started.elapsed();
                let verified = follow.verified_behind();
                reading = format!(
                    "lag {} offsets ({}), {:.1}s behind, {}{}",
                    thousands(pass.max_lag.max(0) as u64),
                    pass.most_behind,
                    behind.as_secs_f64(),
                    match verified {
                        Some(v) => format!("verified up to {:.1}s ago", v.as_secs_f64()),
                        None => "history not verified yet".to_string(),
                    },
                    follow.held_note()
                );
                let verified_enough = verified.is_some_and(|v| v <= max_lag_time);
                if pass.max_lag <= max_lag && behind <= max_lag_time && verified_enough {
                    let since = *held_since.get_or_insert_with(Instant::now);
                    if since.elapsed() >= timing.settle {
                        self.reporter.line(&format!(
                            "  replication caught up: {reading}, within {} offsets and {} for {}",
                            thousands(max_lag.max(0) as u64),
                            humantime::format_duration(max_lag_time),
                            humantime::format_duration(timing.settle)
                        ));
                        let copies = follow.copies();
                        return Ok(StepOutcome::Copied {
                            partitions: copies.into_values().collect(),
                            records: 0,
                            seconds: started.elapsed().as_secs_f64(),
                        });
                    }
                    self.reporter
                        .progress(&format!("caught up, settling: {reading}"));
                } else {
                    held_since = None;
                    self.reporter.progress(&format!("catching up: {reading}"));
                }
            } else {
                reading = format!("no pass finished yet{}", follow.held_note());
            }
            if started.elapsed() >= timing.timeout {
                return Err(timed_out(step, "replication caught up", timing, reading));
            }
            follow.wait_for_pass(timing.poll);
        }
    }
}
