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
use super::compacted::{CompactedVerification, verify_compacted};
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
    /// read is latency-bound), reported in order. Compacted topics are compared record by
    /// record instead ([`super::compacted`]).
    pub fn verify(&self, state: &State) -> Result<StepOutcome, Error> {
        let started = Instant::now();
        let copies: Vec<PartitionCopy> = recorded_copies(state).into_values().collect();
        let restamped = self.log_append_time_topics(&copies)?;
        let compacted = self.compacted_topics(&copies)?;
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
        let results = parallel(&work, |(copy, prefix)| -> Result<Checked, Error> {
            if compacted.contains(&copy.topic) {
                let timestamps = !restamped.contains(&copy.target_topic);
                return Ok(Checked::Keyed(verify_compacted(
                    copy,
                    timestamps,
                    &passes.source,
                    &passes.target,
                )?));
            }
            let mut prefix = prefix.clone();
            prefix.extend_to(copy, &passes.source, &passes.target)?;
            Ok(Checked::Chained(prefix))
        });
        let mut verified = Vec::new();
        let mut mismatches = Vec::new();
        for (copy, result) in copies.iter().zip(results) {
            let name = format!(
                "{}[{}] -> {}[{}]",
                copy.topic, copy.partition, copy.target_topic, copy.partition
            );
            let timestamps_not_compared = restamped.contains(&copy.target_topic);
            let without = if timestamps_not_compared {
                " (timestamps not compared: the target stamps LogAppendTime)"
            } else {
                ""
            };
            let outcome = match result? {
                Checked::Chained(p) => self.chained(&name, copy, p, without),
                Checked::Keyed(k) => self.keyed(&name, copy, k, without),
            };
            match outcome {
                Ok(mut v) => {
                    v.timestamps_not_compared = timestamps_not_compared;
                    verified.push(v);
                }
                Err(line) => {
                    self.reporter.line(&format!("  MISMATCH {line}"));
                    mismatches.push(line);
                }
            }
        }
        if !mismatches.is_empty() {
            return Err(ApplyError::VerifyFailed { mismatches }.into());
        }
        let records: u64 = verified.iter().map(|v| v.records).sum();
        self.reporter.line(&format!(
            "  verified {} partitions, {records} records in {:.1}s ({before} of them alongside the copy, the tail now): every copied range equals its source \
             (record counts and checksums of key, value, headers and timestamp; of key, value \
             and headers only where the target stamps LogAppendTime; compacted topics record by \
             record, allowing what compaction removed)",
            verified.len(),
            started.elapsed().as_secs_f64()
        ));
        Ok(StepOutcome::Verified {
            partitions: verified,
            seconds: started.elapsed().as_secs_f64(),
        })
    }

    /// The verdict on a partition compared by running checksums.
    fn chained(
        &self,
        name: &str,
        copy: &PartitionCopy,
        p: VerifiedPrefix,
        without: &str,
    ) -> Result<PartitionVerified, String> {
        if p.on_source != p.on_target {
            return Err(format!(
                "{name}: source offsets {}..{} give {}, target offsets {}..{} give {}",
                p.source_from, p.source_to, p.on_source, p.target_from, p.target_to, p.on_target
            ));
        }
        let range = left_out(p.compared_from(), p.source_to, &p.not_compared);
        self.reporter
            .line(&format!("  {name}: {}, equal{range}{without}", p.on_source));
        Ok(PartitionVerified {
            topic: copy.topic.clone(),
            target_topic: copy.target_topic.clone(),
            partition: copy.partition,
            source_from: p.source_from,
            source_to: p.source_to,
            target_from: p.target_from,
            target_to: p.target_to,
            records: p.on_source.count(),
            checksum: p.on_source.hex(),
            timestamps_not_compared: false,
            not_compared: p.not_compared,
            compaction: None,
        })
    }

    /// The verdict on a compacted partition compared record by record.
    fn keyed(
        &self,
        name: &str,
        copy: &PartitionCopy,
        k: CompactedVerification,
        without: &str,
    ) -> Result<PartitionVerified, String> {
        let (source_to, target_to) = (copy.next_source_offset, copy.map.target_end());
        let compared = k.result.map_err(|why| {
            format!(
                "{name}: source offsets {}..{} against target offsets {}..{} (compacted, compared record by record): {why}",
                k.source_from, source_to, k.target_from, target_to
            )
        })?;
        let not_compared: Vec<(i64, i64)> = k.not_compared.into_iter().collect();
        let range = left_out(k.source_from, source_to, &not_compared);
        self.reporter.line(&format!(
            "  {name}: {} records equal{range}; compacted: {} only on the source, {} only on the target, each superseded by a later record of its key or a tombstone{without}",
            compared.compared, compared.seen.only_on_source, compared.seen.only_on_target
        ));
        Ok(PartitionVerified {
            topic: copy.topic.clone(),
            target_topic: copy.target_topic.clone(),
            partition: copy.partition,
            source_from: copy.map.source_start(),
            source_to,
            target_from: copy.map.target_start(),
            target_to,
            records: compared.compared,
            checksum: compared.checksum,
            timestamps_not_compared: false,
            not_compared,
            compaction: Some(compared.seen),
        })
    }

    /// Target topics that stamp records with their append time, as a set for lookups.
    pub(crate) fn restamped(&self, copies: &[PartitionCopy]) -> Result<BTreeSet<String>, Error> {
        self.log_append_time_topics(copies)
    }

    /// Source topics that compact on either side, left out of the background verification.
    pub(crate) fn compacted(&self, copies: &[PartitionCopy]) -> Result<BTreeSet<String>, Error> {
        self.compacted_topics(copies)
    }
}

/// How one partition was checked.
enum Checked {
    Chained(VerifiedPrefix),
    Keyed(CompactedVerification),
}

/// `" over source offsets a..b (offsets ... not compared: ...)"` when ranges were left out.
fn left_out(from: i64, to: i64, not_compared: &[(i64, i64)]) -> String {
    if not_compared.is_empty() {
        return String::new();
    }
    let ranges: Vec<String> = not_compared
        .iter()
        .map(|(from, to)| format!("{from}..{to}"))
        .collect();
    format!(
        " over source offsets {from}..{to} (offsets {} not compared: retention deleted them before verification read them)",
        ranges.join(", ")
    )
}
