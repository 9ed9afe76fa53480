//! Steps "drain" and "verify": with the producers stopped on the source, the background copy
//! stops, one last pass copies the tail, and every copied range is compared with its source
//! while the source is still the authority. Verification continues the running checksums of
//! what the background verification already covered, so it reads only the tail: the write
//! pause does not grow with the data.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use crate::error::Error;
use crate::state::{PartitionCopy, PartitionVerified, State, StepOutcome};

use super::super::ApplyError;
use super::follow::VerifiedPrefix;
use super::read_range::parallel;
use super::{Mirror, copied, recorded_copies};

impl Mirror<'_> {
    /// Step "drain": the background copy stops after its pass, then one pass copies what the
    /// source holds now (the producers stopped there, so that is its end).
    pub fn drain(&self, topics: &[String], state: &State) -> Result<StepOutcome, Error> {
        let started = Instant::now();
        let mut copies = match self.follow {
            Some(follow) => {
                follow.stop_copy()?;
                follow.copies()
            }
            None => recorded_copies(state),
        };
        let jobs = self.jobs(topics, self.desired.replication.start_from, &copies)?;
        let records = self.passes().pass(&jobs, &mut copies)?;
        if let Some(follow) = self.follow {
            follow.set_copies(copies.clone());
        }
        self.reporter.line(&format!(
            "  copied the last {records} records; the copy is stopped (it ends where the producers stopped)"
        ));
        Ok(copied(copies, records, started))
    }

    /// Step "verify": per partition, the copied source range against the target range, from
    /// where the verification alongside the copy got to. Partitions are read in parallel (each
    /// read is latency-bound), reported in order.
    pub fn verify(&self, state: &State) -> Result<StepOutcome, Error> {
        let started = Instant::now();
        let copies: Vec<PartitionCopy> = recorded_copies(state).into_values().collect();
        let restamped = self.log_append_time_topics(&copies)?;
        let mut known = match self.follow {
            Some(follow) => follow.stop_verify(),
            None => BTreeMap::new(),
        };
        let prefixes: Vec<VerifiedPrefix> = copies
            .iter()
            .map(
                |copy| match known.remove(&(copy.topic.clone(), copy.partition)) {
                    Some(p) if p.fits(copy) => p,
                    _ => VerifiedPrefix::start(copy, !restamped.contains(&copy.target_topic)),
                },
            )
            .collect();
        let before: u64 = prefixes.iter().map(|p| p.on_source.count()).sum();
        let passes = self.passes();
        let work: Vec<(&PartitionCopy, VerifiedPrefix)> = copies.iter().zip(prefixes).collect();
        let results = parallel(&work, |(copy, prefix)| -> Result<VerifiedPrefix, Error> {
            let mut prefix = prefix.clone();
            prefix.extend_to(copy, &passes.source, &passes.target)?;
            Ok(prefix)
        });
        let mut verified = Vec::new();
        let mut mismatches = Vec::new();
        for (copy, result) in copies.iter().zip(results) {
            let p = result?;
            let name = format!(
                "{}[{}] -> {}[{}]",
                copy.topic, copy.partition, copy.target_topic, copy.partition
            );
            let timestamps_not_compared = !p.on_source.compares_timestamps();
            if p.on_source == p.on_target {
                let without = if timestamps_not_compared {
                    " (timestamps not compared: the target stamps LogAppendTime)"
                } else {
                    ""
                };
                let left_out: Vec<String> = p
                    .not_compared
                    .iter()
                    .map(|(from, to)| format!("{from}..{to}"))
                    .collect();
                let range = if left_out.is_empty() {
                    String::new()
                } else {
                    format!(
                        " over source offsets {}..{} (offsets {} not compared: retention deleted them \
                         before verification read them)",
                        p.compared_from(),
                        p.source_to,
                        left_out.join(", ")
                    )
                };
                self.reporter
                    .line(&format!("  {name}: {}, equal{range}{without}", p.on_source));
                verified.push(PartitionVerified {
                    topic: copy.topic.clone(),
                    target_topic: copy.target_topic.clone(),
                    partition: copy.partition,
                    source_from: p.source_from,
                    source_to: p.source_to,
                    target_from: p.target_from,
                    target_to: p.target_to,
                    records: p.on_source.count(),
                    checksum: p.on_source.hex(),
                    timestamps_not_compared,
                    not_compared: p.not_compared.clone(),
                });
            } else {
                let line = format!(
                    "{name}: source offsets {}..{} give {}, target offsets {}..{} give {}",
                    p.source_from,
                    p.source_to,
                    p.on_source,
                    p.target_from,
                    p.target_to,
                    p.on_target
                );
                self.reporter.line(&format!("  MISMATCH {line}"));
                mismatches.push(line);
            }
        }
        if !mismatches.is_empty() {
            return Err(ApplyError::VerifyFailed { mismatches }.into());
        }
        let records: u64 = verified.iter().map(|v| v.records).sum();
        self.reporter.line(&format!(
            "  verified {} partitions, {records} records in {:.1}s ({before} of them alongside the copy, the tail now): every copied range equals its source \
             (record counts and checksums of key, value, headers and timestamp; of key, value \
             and headers only where the target stamps LogAppendTime)",
            verified.len(),
            started.elapsed().as_secs_f64()
        ));
        Ok(StepOutcome::Verified {
            partitions: verified,
            seconds: started.elapsed().as_secs_f64(),
        })
    }

    /// Target topics that stamp records with their append time, as a set for lookups.
    pub(crate) fn restamped(&self, copies: &[PartitionCopy]) -> Result<BTreeSet<String>, Error> {
        self.log_append_time_topics(copies)
    }
}
