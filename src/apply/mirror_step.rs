//! The mirror steps: copy, wait until caught up, translate offsets, drain, verify.
//!
//! Every copy pass runs the copy engine ([`copy_partitions`]) until it reaches the source high
//! watermarks read when the pass started. The engine resumes each partition from the target's last
//! record, so a pass after a crash continues exactly; the offset map of every pass is merged into
//! the map the state file holds. Where the state lacks part of a map (the apply was killed before
//! it could record a pass), that part is read back from the target, whose copied records each
//! carry their source offset: the merged map is exact whatever was interrupted.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{BorrowedMessage, Headers, Message};
use rdkafka::{Offset, TopicPartitionList};

use crate::cluster::{ClusterAccess, ClusterError, PartitionOffsets, client_config};
use crate::config::{Desired, StartFrom};
use crate::error::Error;
use crate::snapshot::{Snapshot, target_name};
use crate::state::{PartitionCopy, PartitionVerified, State, StepOutcome, TranslatedOffset};

use super::ApplyError;
use crate::copy::{
    CopyError, CopyJob, CopyProgress, OffsetMap, PartitionChecksum, SOURCE_OFFSET_HEADER,
    Translation, Until, copy_partitions, decode_source_offset,
};
use super::reporter::Reporter;
use super::waits::{WaitTiming, timed_out};

/// Partitions read at the same time by [`parallel`].
const PARALLEL_READS: usize = 4;

/// `work` applied to every item on up to [`PARALLEL_READS`] threads; results in item order.
fn parallel<T: Sync, R: Send>(items: &[T], work: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let results: Vec<Mutex<Option<R>>> = items.iter().map(|_| Mutex::new(None)).collect();
    thread::scope(|scope| {
        for _ in 0..PARALLEL_READS.min(items.len()) {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(index) else {
                        break;
                    };
                    *results[index].lock().unwrap() = Some(work(item));
                }
            });
        }
    });
    results
        .into_iter()
        .map(|r| r.into_inner().unwrap().expect("every item was worked on"))
        .collect()
}

/// How long reading a range may go without a record before it fails.
const READ_STALL: Duration = Duration::from_secs(60);

/// The copied partitions, by (source topic, partition).
type Copies = BTreeMap<(String, i32), PartitionCopy>;

pub struct Mirror<'a> {
    pub desired: &'a Desired,
    pub source: &'a dyn ClusterAccess,
    pub target: &'a dyn ClusterAccess,
    pub reporter: &'a dyn Reporter,
}

impl Mirror<'_> {
    fn source_config(&self) -> ClientConfig {
        client_config(&self.desired.source)
    }

    fn target_config(&self) -> ClientConfig {
        client_config(&self.desired.target)
    }

    /// Step "copy": one pass up to the source's current end.
    pub fn copy_data(
        &self,
        topics: &[String],
        start_from: StartFrom,
        state: &State,
    ) -> Result<StepOutcome, Error> {
        let started = Instant::now();
        let mut copies = recorded_copies(state);
        let jobs = self.jobs(topics, start_from, &copies)?;
        let records = self.pass(&jobs, &mut copies)?;
        self.reporter.line(&format!(
            "  copied {records} records into {} partitions",
            jobs.len()
        ));
        Ok(copied(copies, records, started))
    }

    /// Steps "wait until caught up" and "drain": copy passes until a whole settle period passes
    /// in which no pass copied anything.
    pub fn copy_until_quiet(
        &self,
        step: usize,
        topics: &[String],
        condition: &str,
        timing: WaitTiming,
        state: &State,
    ) -> Result<StepOutcome, Error> {
        let started = Instant::now();
        let mut copies = recorded_copies(state);
        let jobs = self.jobs(topics, self.desired.replication.start_from, &copies)?;
        let mut records = 0;
        let mut quiet_since: Option<Instant> = None;
        loop {
            let copied_now = self.pass(&jobs, &mut copies)?;
            records += copied_now;
            if copied_now == 0 {
                let since = *quiet_since.get_or_insert_with(Instant::now);
                if since.elapsed() >= timing.settle {
                    self.reporter.line(&format!(
                        "  {condition}: {records} records copied by this step, lag 0 for {}",
                        humantime::format_duration(timing.settle)
                    ));
                    return Ok(copied(copies, records, started));
                }
            } else {
                quiet_since = None;
            }
            if started.elapsed() >= timing.timeout {
                return Err(timed_out(
                    step,
                    condition,
                    timing,
                    format!("the last pass still copied {copied_now} records"),
                ));
            }
            std::thread::sleep(timing.poll);
        }
    }

    /// Step "translate offsets": a copy pass (so the map covers every committed offset), then each
    /// group's committed source offset through the map, committed on the target.
    pub fn translate_offsets(
        &self,
        groups: &[String],
        state: &State,
    ) -> Result<StepOutcome, Error> {
        let mut copies = recorded_copies(state);
        let topics: Vec<String> = copies.values().map(|c| c.target_topic.clone()).collect();
        let jobs = self.jobs(&topics, self.desired.replication.start_from, &copies)?;
        // Read the groups before the pass: the pass then covers every committed offset.
        let on_source = self.patiently("reading the groups' source offsets", || {
            Ok(self.source.group_offsets(groups)?)
        })?;
        self.pass(&jobs, &mut copies)?;
        let on_target = self.patiently("reading the groups' target offsets", || {
            Ok(self.target.group_offsets(groups)?)
        })?;

        let mut translated = Vec::new();
        for group in groups {
            let mut commit = PartitionOffsets::new();
            let Some(offsets) = on_source.get(group) else {
                continue;
            };
            for (topic, parts) in offsets {
                for (&partition, &committed) in parts {
                    let Some(copy) = copies.get(&(topic.clone(), partition)) else {
                        continue;
                    };
                    if committed < 0 {
                        continue;
                    }
                    let translation = copy.map.translate(committed, copy.next_source_offset);
                    let (target_offset, mut method) = match translation {
                        Translation::BeforeCopyStart { .. } => (
                            copy.map.target_start(),
                            format!(
                                "copy start (replication.start_from skipped source offsets {committed}..{})",
                                copy.map.source_start()
                            ),
                        ),
                        Translation::NotYetCopied { copied_until } => {
                            return Err(ApplyError::Mirror(format!(
                                "group {group} committed offset {committed} on source partition {topic}[{partition}], but the copy covers the source only up to {copied_until}: something still consumes on the source. Stop the group's consumers on the source (hook switch_consumers) and run `ferry apply` again."
                            ))
                            .into());
                        }
                        t => (
                            t.target_offset()
                                .expect("a copied translation has an offset"),
                            t.method().to_string(),
                        ),
                    };
                    let existing = on_target
                        .get(group)
                        .and_then(|o| o.get(&copy.target_topic))
                        .and_then(|o| o.get(&partition))
                        .copied();
                    let kept = match existing {
                        Some(e) if e > target_offset => {
                            method = format!(
                                "kept {e}: the group is already further on the target (translated {target_offset}); ferry never moves an offset back"
                            );
                            e
                        }
                        Some(e) if e == target_offset => target_offset,
                        _ => {
                            commit
                                .entry(copy.target_topic.clone())
                                .or_default()
                                .insert(partition, target_offset);
                            target_offset
                        }
                    };
                    self.reporter.line(&format!(
                        "  {group} {topic}[{partition}]: source {committed} -> target {kept} ({method})"
                    ));
                    translated.push(TranslatedOffset {
                        group: group.clone(),
                        topic: topic.clone(),
                        target_topic: copy.target_topic.clone(),
                        partition,
                        source_offset: committed,
                        target_offset: kept,
                        method,
                    });
                }
            }
            if !commit.is_empty() {
                self.target.commit_group_offsets(group, &commit)?;
            }
        }
        Ok(StepOutcome::OffsetsTranslated {
            offsets: translated,
            partitions: copies.into_values().collect(),
        })
    }

    /// Step "verify": per partition, the copied source range against the target range. Partitions
    /// are read in parallel (each read is latency-bound), reported in order.
    pub fn verify(&self, state: &State) -> Result<StepOutcome, Error> {
        let copies: Vec<PartitionCopy> = recorded_copies(state).into_values().collect();
        let (source, target) = (self.source_config(), self.target_config());
        let restamped = self.log_append_time_topics(&copies)?;
        let checksums = parallel(&copies, |copy| -> Result<_, Error> {
            let fresh = || {
                if restamped.contains(&copy.target_topic) {
                    PartitionChecksum::without_timestamps()
                } else {
                    PartitionChecksum::new()
                }
            };
            let mut on_source = fresh();
            read_range(
                &source,
                &copy.topic,
                copy.partition,
                copy.map.source_start(),
                copy.next_source_offset,
                |m| {
                    on_source.update_from(m);
                    Ok(())
                },
            )?;
            let mut on_target = fresh();
            read_range(
                &target,
                &copy.target_topic,
                copy.partition,
                copy.map.target_start(),
                copy.map.target_end(),
                |m| {
                    on_target.update_from(m);
                    Ok(())
                },
            )?;
            Ok((on_source, on_target))
        });
        let mut verified = Vec::new();
        let mut mismatches = Vec::new();
        for (copy, result) in copies.iter().zip(checksums) {
            let (on_source, on_target) = result?;
            let (source_from, source_to) = (copy.map.source_start(), copy.next_source_offset);
            let (target_from, target_to) = (copy.map.target_start(), copy.map.target_end());
            let name = format!(
                "{}[{}] -> {}[{}]",
                copy.topic, copy.partition, copy.target_topic, copy.partition
            );
            let timestamps_not_compared = !on_source.compares_timestamps();
            if on_source == on_target {
                let without = if timestamps_not_compared {
                    " (timestamps not compared: the target stamps LogAppendTime)"
                } else {
                    ""
                };
                self.reporter
                    .line(&format!("  {name}: {on_source}, equal{without}"));
                verified.push(PartitionVerified {
                    topic: copy.topic.clone(),
                    target_topic: copy.target_topic.clone(),
                    partition: copy.partition,
                    source_from,
                    source_to,
                    target_from,
                    target_to,
                    records: on_source.count(),
                    checksum: on_source.hex(),
                    timestamps_not_compared,
                });
            } else {
                let line = format!(
                    "{name}: source offsets {source_from}..{source_to} give {on_source}, target offsets {target_from}..{target_to} give {on_target}"
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
            "  verified {} partitions, {records} records: every copied range equals its source \
             (record counts and checksums of key, value, headers and timestamp; of key, value \
             and headers only where the target stamps LogAppendTime)",
            verified.len()
        ));
        Ok(StepOutcome::Verified {
            partitions: verified,
        })
    }

    /// Target topics that stamp records with their append time (`message.timestamp.type =
    /// LogAppendTime`): the target replaced the copies' timestamps, so they cannot be compared.
    fn log_append_time_topics(
        &self,
        copies: &[PartitionCopy],
    ) -> Result<std::collections::BTreeSet<String>, Error> {
        let topics: Vec<String> = copies
            .iter()
            .map(|c| c.target_topic.clone())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let configs = self.patiently("reading the target's topic configs", || {
            Ok(self.target.topic_configs(&topics)?)
        })?;
        Ok(configs
            .into_iter()
            .filter(|(_, config)| {
                config
                    .entries
                    .get("message.timestamp.type")
                    .and_then(|v| v.value.as_deref())
                    == Some("LogAppendTime")
            })
            .map(|(topic, _)| topic)
            .collect())
    }

    /// One job per partition of every source topic whose target name is in `topics`. A partition
    /// already in `copies` starts where its map starts; the others where `start_from` says.
    fn jobs(
        &self,
        topics: &[String],
        start_from: StartFrom,
        copies: &Copies,
    ) -> Result<Vec<CopyJob>, Error> {
        let snapshot = self.patiently("reading both clusters", || {
            Ok(Snapshot::take(self.desired, self.source, self.target)?)
        })?;
        let mut jobs = Vec::new();
        for (topic, t) in &snapshot.source.topics {
            let target_topic = target_name(self.desired, topic);
            if !topics.contains(&target_topic) {
                continue;
            }
            for p in &t.partitions {
                let start = match copies.get(&(topic.clone(), p.id)) {
                    Some(copy) => copy.map.source_start(),
                    None => start_offset(&snapshot, topic, p.id, start_from),
                };
                jobs.push(CopyJob {
                    source_topic: topic.clone(),
                    target_topic: target_topic.clone(),
                    partition: p.id,
                    start,
                });
            }
        }
        Ok(jobs)
    }

    /// One copy pass; merges its maps into `copies`. Returns the records copied.
    ///
    /// A pass that fails on broker trouble (a delivery failed, a request timed out: a broker
    /// restarting answers in-flight requests with errors) runs again after a pause, as a rerun of
    /// apply would: the copy resumes from the target's last record, so nothing is copied twice or
    /// skipped, and records the failed attempt delivered are read back from the target. It gives
    /// up when `wait_timeout` has passed since the first failure.
    fn pass(&self, jobs: &[CopyJob], copies: &mut Copies) -> Result<u64, Error> {
        let mut failing_since: Option<Instant> = None;
        loop {
            match self.pass_once(jobs, copies) {
                Err(PassError::Copy(error)) if retriable(&error) => {
                    let since = *failing_since.get_or_insert_with(Instant::now);
                    if since.elapsed() >= self.desired.migration.wait_timeout {
                        return Err(error.into());
                    }
                    self.reporter.line(&format!(
                        "  the copy stopped ({error}); trying again in {}s, from the target's last record",
                        PASS_RETRY_PAUSE.as_secs()
                    ));
                    std::thread::sleep(PASS_RETRY_PAUSE);
                }
                Err(PassError::Copy(error)) => return Err(error.into()),
                Err(PassError::Other(error)) => return Err(error),
                Ok(records) => return Ok(records),
            }
        }
    }

    /// `read` again, every [`PASS_RETRY_PAUSE`], while a cluster is unreachable or slow to
    /// answer (a broker restarting), for up to the migration's `wait_timeout`; like the copy
    /// passes, the step waits for the broker instead of failing at once.
    fn patiently<T>(
        &self,
        what: &str,
        mut read: impl FnMut() -> Result<T, Error>,
    ) -> Result<T, Error> {
        let mut failing_since: Option<Instant> = None;
        loop {
            match read() {
                Err(Error::Cluster(
                    error @ (ClusterError::Unreachable { .. } | ClusterError::Timeout { .. }),
                )) => {
                    let since = *failing_since.get_or_insert_with(Instant::now);
                    if since.elapsed() >= self.desired.migration.wait_timeout {
                        return Err(error.into());
                    }
                    self.reporter.line(&format!(
                        "  {what}: {error} Trying again in {}s.",
                        PASS_RETRY_PAUSE.as_secs()
                    ));
                    std::thread::sleep(PASS_RETRY_PAUSE);
                }
                other => return other,
            }
        }
    }

    /// One attempt of [`Mirror::pass`]. Returns the records copied, including those an earlier
    /// attempt or run delivered without recording them.
    fn pass_once(&self, jobs: &[CopyJob], copies: &mut Copies) -> Result<u64, PassError> {
        let reporter = self.reporter;
        let started = Instant::now();
        let progress = |p: &CopyProgress| reporter.progress(&p.summary(started.elapsed()));
        let target = self.target_config();
        let mut producer_side = target.clone();
        producer_side.set(
            "compression.type",
            self.desired.replication.compression.as_str(),
        );
        let outcomes = copy_partitions(
            &self.source_config(),
            &producer_side,
            jobs,
            Until::CaughtUp,
            self.desired.migration.wait_timeout,
            &progress,
        )
        .map_err(PassError::Copy)?;
        let mut records = 0;
        for (job, outcome) in jobs.iter().zip(outcomes) {
            records += outcome.copied;
            let key = (job.source_topic.clone(), job.partition);
            let mut merged = match copies.get(&key) {
                Some(copy) => copy.map.clone(),
                None => OffsetMap::new(job.start, 0),
            };
            // Records copied by a run the state did not record: read their map from the target.
            if merged.target_end() < outcome.map.target_start() {
                let before = merged.records();
                merged = fill_from_target(&target, job, merged, outcome.map.target_start())
                    .map_err(PassError::Other)?;
                records += (merged.records() - before).max(0) as u64;
            }
            merged
                .append(&outcome.map)
                .map_err(|source| CopyError::OffsetMap {
                    topic: job.target_topic.clone(),
                    partition: job.partition,
                    source,
                })
                .map_err(PassError::Copy)?;
            copies.insert(
                key,
                PartitionCopy {
                    topic: job.source_topic.clone(),
                    target_topic: job.target_topic.clone(),
                    partition: job.partition,
                    next_source_offset: outcome.next_source_offset,
                    map: merged,
                },
            );
        }
        Ok(records)
    }
}

/// Pause before a copy pass that failed on broker trouble runs again.
const PASS_RETRY_PAUSE: Duration = Duration::from_secs(1);

/// Why a pass attempt failed: a copy error (which may be worth another attempt) or anything else.
enum PassError {
    Copy(CopyError),
    Other(Error),
}

/// Whether a pass that failed with `error` may simply run again. Delivery failures and client
/// request failures come from brokers going away and coming back; the copy resumes exactly from
/// the target, so another attempt is safe. A foreign record, a retention gap, a source behind the
/// target, a stall (which already waited `wait_timeout`) or a bug would fail again the same way.
fn retriable(error: &CopyError) -> bool {
    matches!(error, CopyError::Produce { .. } | CopyError::Kafka { .. })
}

/// The source offset a partition's copy starts at, per `replication.start_from`.
pub(super) fn start_offset(
    snapshot: &Snapshot,
    topic: &str,
    partition: i32,
    start_from: StartFrom,
) -> i64 {
    let Some(p) = snapshot
        .source
        .topics
        .get(topic)
        .and_then(|t| t.partitions.iter().find(|p| p.id == partition))
    else {
        return 0;
    };
    match start_from {
        StartFrom::Earliest => p.start_offset,
        StartFrom::Latest => p.end_offset,
        StartFrom::Timestamp(_) => p.timestamp_offset.unwrap_or(p.end_offset),
        StartFrom::Committed => snapshot
            .source
            .groups
            .values()
            .filter_map(|g| g.offsets.get(topic).and_then(|o| o.get(&partition)))
            .copied()
            .filter(|&o| o >= 0)
            .min()
            .unwrap_or(p.start_offset)
            .max(p.start_offset),
    }
}

/// `map` extended with the records the target holds at offsets `map.target_end()..until`, each
/// mapped from the source offset in its ferry header. An empty `map` that starts at target 0 is
/// rebuilt from the target partition's first record.
fn fill_from_target(
    target: &ClientConfig,
    job: &CopyJob,
    map: OffsetMap,
    until: i64,
) -> Result<OffsetMap, Error> {
    let from = if map.is_empty() {
        let (low, _) = watermarks(target, &job.target_topic, job.partition)?;
        low.max(map.target_end())
    } else {
        map.target_end()
    };
    let mut merged = (!map.is_empty()).then_some(map);
    let start = job.start;
    read_range(target, &job.target_topic, job.partition, from, until, |m| {
        let Some(source_offset) = copied_from(m) else {
            return Err(CopyError::ForeignRecord {
                topic: job.target_topic.clone(),
                partition: job.partition,
                offset: m.offset(),
            }
            .into());
        };
        let map =
            merged.get_or_insert_with(|| OffsetMap::new(start.min(source_offset), m.offset()));
        map.push(source_offset, m.offset())
            .map_err(|source| CopyError::OffsetMap {
                topic: job.target_topic.clone(),
                partition: job.partition,
                source,
            })?;
        Ok(())
    })?;
    Ok(merged.unwrap_or_else(|| OffsetMap::new(start, from)))
}

/// The source offset in a copied record's last ferry header.
fn copied_from(message: &BorrowedMessage<'_>) -> Option<i64> {
    message.headers().and_then(|headers| {
        headers
            .iter()
            .filter(|h| h.key == SOURCE_OFFSET_HEADER)
            .last()
            .and_then(|h| h.value.and_then(decode_source_offset))
    })
}

fn reading(what: String, error: impl std::fmt::Display) -> Error {
    CopyError::Kafka {
        what,
        detail: error.to_string(),
    }
    .into()
}

fn reader(config: &ClientConfig) -> Result<BaseConsumer, Error> {
    config
        .clone()
        .set("group.id", "ferry-verify")
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("enable.partition.eof", "true")
        .set("auto.offset.reset", "error")
        .set("isolation.level", "read_committed")
        .create()
        .map_err(|e| reading("creating a reader".into(), e))
}

fn watermarks(config: &ClientConfig, topic: &str, partition: i32) -> Result<(i64, i64), Error> {
    reader(config)?
        .fetch_watermarks(topic, partition, Duration::from_secs(30))
        .map_err(|e| reading(format!("reading the watermarks of {topic}[{partition}]"), e))
}

/// Calls `each` for every record of `topic[partition]` at offsets `from..to`, in order.
fn read_range(
    config: &ClientConfig,
    topic: &str,
    partition: i32,
    from: i64,
    to: i64,
    mut each: impl FnMut(&BorrowedMessage<'_>) -> Result<(), Error>,
) -> Result<(), Error> {
    if from >= to {
        return Ok(());
    }
    let consumer = reader(config)?;
    let mut assignment = TopicPartitionList::new();
    assignment
        .add_partition_offset(topic, partition, Offset::Offset(from))
        .map_err(|e| reading(format!("assigning {topic}[{partition}]"), e))?;
    consumer
        .assign(&assignment)
        .map_err(|e| reading(format!("assigning {topic}[{partition}]"), e))?;
    let mut last_seen = Instant::now();
    loop {
        if last_seen.elapsed() >= READ_STALL {
            return Err(reading(
                format!("reading {topic}[{partition}] offsets {from}..{to}"),
                format!("no record for {}s", READ_STALL.as_secs()),
            ));
        }
        match consumer.poll(Duration::from_millis(100)) {
            None => {}
            Some(Err(KafkaError::PartitionEOF(_))) => {
                let (_, high) = watermarks(config, topic, partition)?;
                if high <= to {
                    return Ok(());
                }
            }
            Some(Err(error)) => {
                return Err(reading(format!("reading {topic}[{partition}]"), error));
            }
            Some(Ok(message)) => {
                last_seen = Instant::now();
                if message.offset() >= to {
                    return Ok(());
                }
                if message.offset() >= from {
                    each(&message)?;
                }
                if message.offset() + 1 >= to {
                    return Ok(());
                }
            }
        }
    }
}

/// The copy as the state records it, from the latest step that recorded one.
fn recorded_copies(state: &State) -> Copies {
    let mut copies = Copies::new();
    for record in &state.steps {
        let partitions = match &record.outcome {
            Some(StepOutcome::Copied { partitions, .. })
            | Some(StepOutcome::OffsetsTranslated { partitions, .. }) => partitions,
            _ => continue,
        };
        copies = partitions
            .iter()
            .map(|c| ((c.topic.clone(), c.partition), c.clone()))
            .collect();
    }
    copies
}

fn copied(copies: Copies, records: u64, started: Instant) -> StepOutcome {
    StepOutcome::Copied {
        partitions: copies.into_values().collect(),
        records,
        seconds: started.elapsed().as_secs_f64(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::StepRecord;

    fn copy(topic: &str, partition: i32, next: i64) -> PartitionCopy {
        let mut map = OffsetMap::new(0, 0);
        for o in 0..next {
            map.push(o, o).unwrap();
        }
        PartitionCopy {
            topic: topic.into(),
            target_topic: topic.into(),
            partition,
            next_source_offset: next,
            map,
        }
    }

    #[test]
    fn the_latest_recorded_copy_wins() {
        let mut state = State::new("m", crate::config::Scheme::Mirror, None, None);
        for (i, next) in [3, 5].into_iter().enumerate() {
            let mut r = StepRecord::pending(i, "copy_data", "copy");
            r.outcome = Some(StepOutcome::Copied {
                partitions: vec![copy("a", 0, next), copy("a", 1, next)],
                records: 0,
                seconds: 0.0,
            });
            state.steps.push(r);
        }
        state.steps.push(StepRecord::pending(2, "run_hook", "hook"));
        let copies = recorded_copies(&state);
        assert_eq!(copies.len(), 2);
        assert_eq!(copies[&("a".to_string(), 1)].next_source_offset, 5);
        assert_eq!(copies[&("a".to_string(), 1)].map.records(), 5);
    }

    #[test]
    fn only_broker_trouble_makes_a_pass_run_again() {
        let produce = CopyError::Produce {
            topic: "a".into(),
            partition: 0,
            detail: "Unknown broker error".into(),
        };
        let request = CopyError::Kafka {
            what: "reading the last records of the target".into(),
            detail: "AllBrokersDown".into(),
        };
        assert!(retriable(&produce));
        assert!(retriable(&request));
        for fatal in [
            CopyError::ForeignRecord {
                topic: "a".into(),
                partition: 0,
                offset: 3,
            },
            CopyError::RetentionGap {
                topic: "a".into(),
                partition: 0,
                lost_from: 1,
                lost_to: 2,
            },
            CopyError::BeyondSourceEnd {
                topic: "a".into(),
                partition: 0,
                next: 5,
                source_end: 4,
            },
            CopyError::Stalled {
                seconds: 60,
                partition: "a[0] at offset 3".into(),
            },
            CopyError::DuplicateJob {
                topic: "a".into(),
                partition: 0,
            },
        ] {
            assert!(!retriable(&fatal), "{fatal:?}");
        }
    }

    #[test]
    fn a_copy_outcome_reads_back() {
        let outcome = StepOutcome::Copied {
            partitions: vec![copy("a", 0, 4), copy("b", 2, 0)],
            records: 4,
            seconds: 1.5,
        };
        let json = serde_json::to_string(&outcome).unwrap();
        assert_eq!(serde_json::from_str::<StepOutcome>(&json).unwrap(), outcome);
    }
}
