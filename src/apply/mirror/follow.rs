//! The copy that follows the source while clients move (mirror): from the first copy until the
//! drain, passes run one after another on a background thread, so replication lag stays small
//! while the hooks run; a second thread verifies what is already copied, so that the write pause
//! covers only the tail's verification, not the whole history's.
//!
//! The apply's thread reads the latest copy and lag from [`Follow`] and tells the threads to
//! stop; it never copies while the background copy runs, so each partition has one writer.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;

use crate::copy::{CopyJob, HeldPartition, PartitionChecksum};
use crate::error::Error;
use crate::state::PartitionCopy;

use super::pass::{Copies, Passes};
use super::read_range::{parallel, read_range, watermarks};

/// How long the background copy rests after a pass that found nothing new.
const IDLE: Duration = Duration::from_millis(200);
/// How often a background verification round starts (a longer round starts the next at once):
/// each round opens two readers per partition, and what it leaves for the final verification
/// is about this much traffic.
const VERIFY_EVERY: Duration = Duration::from_secs(2);

/// What the last finished background pass saw.
#[derive(Debug, Clone)]
pub struct PassReading {
    /// When the pass read the source's ends: the copy holds everything the source held then.
    pub started: Instant,
    /// Source offsets the most lagging partition was behind when the pass started.
    pub max_lag: i64,
    /// That partition, as `topic[partition]`.
    pub most_behind: String,
}

/// A partition's copy verified from its start up to `source_to` / `target_to` (exclusive), as
/// running checksums that the final verification continues.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedPrefix {
    pub source_from: i64,
    pub target_from: i64,
    pub source_to: i64,
    pub target_to: i64,
    pub on_source: PartitionChecksum,
    pub on_target: PartitionChecksum,
    /// Source ranges `from..to` of the copy left out: retention had deleted them on the source
    /// or the target before they were read. Both checksums skip the same records, so what both
    /// sides still hold is still compared record for record.
    pub not_compared: Vec<(i64, i64)>,
}

impl VerifiedPrefix {
    /// Nothing verified yet of `copy`.
    pub fn start(copy: &PartitionCopy, compare_timestamps: bool) -> VerifiedPrefix {
        let fresh = if compare_timestamps {
            PartitionChecksum::new()
        } else {
            PartitionChecksum::without_timestamps()
        };
        VerifiedPrefix {
            source_from: copy.map.source_start(),
            target_from: copy.map.target_start(),
            source_to: copy.map.source_start(),
            target_to: copy.map.target_start(),
            on_source: fresh,
            on_target: fresh,
            not_compared: Vec::new(),
        }
    }

    /// Whether this prefix belongs to `copy` (it starts where the copy starts).
    pub fn fits(&self, copy: &PartitionCopy) -> bool {
        self.source_from == copy.map.source_start()
            && self.target_from == copy.map.target_start()
            && self.source_to <= copy.next_source_offset
            && self.target_to <= copy.map.target_end()
    }

    /// Reads both sides from where the prefix ends up to where `copy` ends. Where retention
    /// deleted the next records on either side, both sides continue at the first copied record
    /// both still hold, and the range left out is recorded in `not_compared`.
    pub fn extend_to(
        &mut self,
        copy: &PartitionCopy,
        source: &ClientConfig,
        target: &ClientConfig,
    ) -> Result<(), Error> {
        let (source_to, target_to) = (copy.next_source_offset, copy.map.target_end());
        if self.source_to < source_to {
            let (source_low, _) = watermarks(source, &copy.topic, copy.partition)?;
            let (target_low, _) = watermarks(target, &copy.target_topic, copy.partition)?;
            if source_low > self.source_to || target_low > self.target_to {
                let (from, to) = match copy.map.first_pair_from(
                    source_low.max(self.source_to),
                    target_low.max(self.target_to),
                ) {
                    Some(pair) => pair,
                    None => (source_to, target_to),
                };
                if from > self.source_to {
                    match self.not_compared.last_mut() {
                        Some(last) if last.1 == self.source_to => last.1 = from,
                        _ => self.not_compared.push((self.source_to, from)),
                    }
                }
                self.source_to = from;
                self.target_to = to;
            }
        }
        let on_source = &mut self.on_source;
        read_range(
            source,
            &copy.topic,
            copy.partition,
            self.source_to,
            source_to,
            |m| {
                on_source.update_from(m);
                Ok(())
            },
        )?;
        let on_target = &mut self.on_target;
        read_range(
            target,
            &copy.target_topic,
            copy.partition,
            self.target_to,
            target_to,
            |m| {
                on_target.update_from(m);
                Ok(())
            },
        )?;
        self.source_to = source_to;
        self.target_to = target_to;
        Ok(())
    }

    /// The first source offset compared: after the range left out at the start, if any.
    pub fn compared_from(&self) -> i64 {
        match self.not_compared.first() {
            Some(&(from, to)) if from == self.source_from => to,
            _ => self.source_from,
        }
    }
}

#[derive(Default)]
struct Shared {
    copies: Copies,
    last_pass: Option<PassReading>,
    copy_running: bool,
    copy_error: Option<Error>,
    verify_running: bool,
    verified: BTreeMap<(String, i32), VerifiedPrefix>,
    /// The start of the last verification round that covered every partition.
    verified_as_of: Option<Instant>,
}

/// The background copy and verification of one apply run.
#[derive(Default)]
pub struct Follow {
    shared: Mutex<Shared>,
    changed: Condvar,
    copy_stopping: AtomicBool,
    verify_stopping: AtomicBool,
    /// Abandon the copy's current pass at once (the apply stops on an error): unlike a stop,
    /// records in flight are not waited for, as after a crash.
    cancelled: AtomicBool,
    /// Partitions an open source transaction holds in the running pass ([`Passes::held`]).
    pub held: Arc<Mutex<Vec<HeldPartition>>>,
}

impl Follow {
    pub fn new(copies: Copies) -> Follow {
        Follow {
            shared: Mutex::new(Shared {
                copies,
                copy_running: true,
                verify_running: true,
                ..Shared::default()
            }),
            ..Follow::default()
        }
    }

    fn lock(&self) -> MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The copy as far as it got.
    pub fn copies(&self) -> Copies {
        self.lock().copies.clone()
    }

    /// "; held by an open transaction: orders[3] at offset 1,234 (end 1,300) for 12s", or "".
    pub fn held_note(&self) -> String {
        let held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        if held.is_empty() {
            return String::new();
        }
        let named: Vec<String> = held.iter().map(HeldPartition::short).collect();
        format!("; held by an open transaction: {}", named.join(", "))
    }

    /// The last finished pass, if any.
    pub fn last_pass(&self) -> Option<PassReading> {
        self.lock().last_pass.clone()
    }

    /// The background copy's error, taken (it stopped at it).
    pub fn take_error(&self) -> Option<Error> {
        self.lock().copy_error.take()
    }

    /// Passes until told to stop or a pass fails (the error is kept for the apply's thread).
    pub fn copy_loop(&self, passes: Passes<'_>, jobs: Vec<CopyJob>) {
        while !self.copy_stopping.load(Ordering::Relaxed) {
            let mut copies = self.copies();
            let before: BTreeMap<(String, i32), i64> = copies
                .iter()
                .map(|(k, c)| (k.clone(), c.next_source_offset))
                .collect();
            let started = Instant::now();
            match passes.pass_unless(&jobs, &mut copies, &self.cancelled) {
                Ok(records) => {
                    let (most_behind, max_lag) = copies
                        .iter()
                        .map(|(key, c)| {
                            let from = before
                                .get(key)
                                .copied()
                                .unwrap_or_else(|| c.map.source_start());
                            (
                                format!("{}[{}]", key.0, key.1),
                                (c.next_source_offset - from).max(0),
                            )
                        })
                        .max_by_key(|(_, lag)| *lag)
                        .unwrap_or_default();
                    let mut shared = self.lock();
                    shared.copies = copies;
                    shared.last_pass = Some(PassReading {
                        started,
                        max_lag,
                        most_behind,
                    });
                    self.changed.notify_all();
                    if records == 0 {
                        let _ = self.changed.wait_timeout(shared, IDLE);
                    }
                }
                // Cancelled in the middle of a pass: what it delivered stays on the target, and
                // the next copy resumes after it.
                Err(_) if self.cancelled.load(Ordering::Relaxed) => break,
                Err(error) => {
                    let mut shared = self.lock();
                    shared.copy_error = Some(error);
                    break;
                }
            }
        }
        self.lock().copy_running = false;
        self.changed.notify_all();
    }

    /// Stops the background copy after its current pass; returns its error if it failed.
    pub fn stop_copy(&self) -> Result<(), Error> {
        self.copy_stopping.store(true, Ordering::Relaxed);
        self.changed.notify_all();
        let mut shared = self.lock();
        while shared.copy_running {
            shared = self.changed.wait(shared).unwrap_or_else(|p| p.into_inner());
        }
        match shared.copy_error.take() {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    /// Publishes a copy made on the apply's thread (the drain), for the verification.
    pub fn set_copies(&self, copies: Copies) {
        self.lock().copies = copies;
        self.changed.notify_all();
    }

    /// Verifies the copied prefix of every partition, round after round (partitions in
    /// parallel), until told to stop. A round that read every partition up to the copy it
    /// started from marks the verification current as of the round's start. Partitions of
    /// `compacted` topics are left to the verify step. A read that fails
    /// is left for the next round (the final verification reads whatever is still missing), so
    /// broker trouble here never fails the apply.
    pub fn verify_loop(
        &self,
        source: ClientConfig,
        target: ClientConfig,
        restamped: BTreeSet<String>,
        compacted: BTreeSet<String>,
    ) {
        while !self.verify_stopping.load(Ordering::Relaxed) {
            let round_started = Instant::now();
            let copies: Vec<((String, i32), PartitionCopy)> = self.copies().into_iter().collect();
            let results = parallel(&copies, |(key, copy)| {
                if self.verify_stopping.load(Ordering::Relaxed) {
                    return Err(None::<String>);
                }
                // Compacted partitions are compared record by record at the verify step.
                if compacted.contains(&copy.topic) {
                    return Ok(());
                }
                let known = self.lock().verified.get(key).cloned();
                let mut prefix = match known {
                    Some(p) if p.fits(copy) => p,
                    _ => VerifiedPrefix::start(copy, !restamped.contains(&copy.target_topic)),
                };
                if prefix.source_to == copy.next_source_offset {
                    return Ok(());
                }
                prefix
                    .extend_to(copy, &source, &target)
                    .map_err(|error| Some(error.to_string()))?;
                self.lock().verified.insert(key.clone(), prefix);
                Ok(())
            });
            let mut complete = true;
            for ((key, _), result) in copies.iter().zip(results) {
                if let Err(why) = result {
                    complete = false;
                    if let Some(error) = why {
                        tracing::debug!(%error, partition = ?key, "verification alongside the copy: read failed, trying again next round");
                    }
                }
            }
            let mut shared = self.lock();
            if complete {
                shared.verified_as_of = Some(round_started);
            }
            while !self.verify_stopping.load(Ordering::Relaxed)
                && round_started.elapsed() < VERIFY_EVERY
            {
                let rest = VERIFY_EVERY.saturating_sub(round_started.elapsed());
                shared = self
                    .changed
                    .wait_timeout(shared, rest)
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
            }
        }
        self.lock().verify_running = false;
        self.changed.notify_all();
    }

    /// How long ago the copy held no more than what is verified: the verification alongside
    /// the copy covered everything copied when its last complete round started. `None` before
    /// the first complete round.
    pub fn verified_behind(&self) -> Option<Duration> {
        self.lock().verified_as_of.map(|at| at.elapsed())
    }

    /// Stops the verification alongside the copy; returns what it verified.
    pub fn stop_verify(&self) -> BTreeMap<(String, i32), VerifiedPrefix> {
        self.verify_stopping.store(true, Ordering::Relaxed);
        self.changed.notify_all();
        let mut shared = self.lock();
        while shared.verify_running {
            shared = self.changed.wait(shared).unwrap_or_else(|p| p.into_inner());
        }
        std::mem::take(&mut shared.verified)
    }

    /// Tells both threads to stop without waiting (the apply failed or finished); a pass in
    /// progress is abandoned, so that a broker that is down cannot hold the apply's exit.
    pub fn stop_all(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
        self.copy_stopping.store(true, Ordering::Relaxed);
        self.verify_stopping.store(true, Ordering::Relaxed);
        self.changed.notify_all();
    }

    /// Waits up to `timeout` for the background copy to publish a pass.
    pub fn wait_for_pass(&self, timeout: Duration) {
        let shared = self.lock();
        let _ = self.changed.wait_timeout(shared, timeout);
    }
}
