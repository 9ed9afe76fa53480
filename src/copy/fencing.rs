//! The fenced copy: the copy producer writes in transactions under a transactional id that is
//! the same for every run of one migration over one set of target partitions, so a new run's
//! `InitProducerId` fences the run before it.
//!
//! Without fencing, one window stays open: a produce request a killed run sent may be appended
//! after the next run read the target's tail, and the record is then on the target twice. With
//! a transactional id, the broker aborts the old run's open transaction and refuses its later
//! requests once the new run initialised, and ferry reads the tail only after that, with
//! `read_committed`, so aborted records are not the tail and nothing the old run sent can land
//! after it.
//!
//! Transactions cost a commit marker per partition per commit (an offset on the target that
//! holds no record) and make `read_committed` consumers on the target see records only once
//! committed: the copy commits every [`COMMIT_EVERY`] and at the end of each pass.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::producer::{BaseProducer, Producer};
use sha2::{Digest, Sha256};

use super::CopyError;
use super::CopyJob;
use super::clients::kafka;
use super::delivery::Deliveries;

/// How often a fenced copy commits while it copies: what `read_committed` consumers on the
/// target wait at most for a copied record, and what a killed run copies again.
pub(super) const COMMIT_EVERY: Duration = Duration::from_millis(500);
/// How long an open transaction of a killed run may hold the target's `read_committed`
/// consumers before the broker aborts it (the next run aborts it at once).
const TRANSACTION_TIMEOUT_MS: &str = "60000";
/// How long initialising, committing or aborting may take.
pub(super) const TRANSACTION_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// How long an abort after a failure may take: the target may be the reason the copy failed.
const ABORT_TIMEOUT: Duration = Duration::from_secs(5);

/// How a copy writes to the target.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopyOptions {
    /// Write in transactions under the transactional id of this migration (see
    /// [`transactional_id`]), fencing earlier runs; `None` writes idempotently only and relies on
    /// the source-offset headers alone.
    pub fenced_for: Option<String>,
}

/// The transactional id of a fenced copy of `jobs` for `migration`: the same for every run over
/// the same target partitions, whatever their order, so each run fences the one before; another
/// partition set (a pass over other partitions) gets another id and does not fence this one.
pub fn transactional_id(migration: &str, jobs: &[CopyJob]) -> String {
    let partitions: BTreeSet<(&str, i32)> = jobs
        .iter()
        .map(|job| (job.target_topic.as_str(), job.partition))
        .collect();
    let mut hash = Sha256::new();
    for (topic, partition) in partitions {
        hash.update(topic.as_bytes());
        hash.update([0]);
        hash.update(partition.to_be_bytes());
    }
    let digest = hash.finalize();
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("ferry-copy-{migration}-{hex}")
}

/// Adds the transactional settings to the copy producer's.
pub(super) fn transactional_config(config: &mut ClientConfig, id: &str) {
    config
        .set("transactional.id", id)
        .set("transaction.timeout.ms", TRANSACTION_TIMEOUT_MS);
}

/// Fences earlier runs and opens the first transaction. Must run before the target's tails are
/// read: it aborts what a killed run left open, and only then is the tail final.
pub(super) fn start(producer: &BaseProducer<Deliveries>) -> Result<OpenTransaction<'_>, CopyError> {
    producer
        .init_transactions(TRANSACTION_REQUEST_TIMEOUT)
        .map_err(|error| {
            kafka(
                "starting a transaction on the target (the plan found transactions supported; \
                 check the target's transaction coordinator and this user's TransactionalId \
                 Write permission on `ferry-copy-*`)"
                    .into(),
                error,
            )
        })?;
    begin(producer)?;
    Ok(OpenTransaction {
        producer,
        open: true,
    })
}

/// The open transaction of a fenced copy, aborted when the copy stops without committing it, so
/// that the target's `read_committed` consumers are not held until the transaction times out.
pub(super) struct OpenTransaction<'a> {
    producer: &'a BaseProducer<Deliveries>,
    open: bool,
}

impl OpenTransaction<'_> {
    /// The copy's last commit succeeded: nothing is left to abort.
    pub(super) fn committed(mut self) {
        self.open = false;
    }
}

impl Drop for OpenTransaction<'_> {
    fn drop(&mut self) {
        if self.open {
            abort(self.producer);
        }
    }
}

fn begin(producer: &BaseProducer<Deliveries>) -> Result<(), CopyError> {
    producer
        .begin_transaction()
        .map_err(|error| kafka("beginning a transaction on the target".into(), error))
}

/// Commits what was sent so far (waiting for every delivery) and, when `more`, opens the next
/// transaction. Only the thread that polls the producer calls it, with the [`Gate`] closed.
pub(super) fn commit(producer: &BaseProducer<Deliveries>, more: bool) -> Result<(), CopyError> {
    producer
        .commit_transaction(TRANSACTION_REQUEST_TIMEOUT)
        .map_err(|error| kafka("committing the copied records on the target".into(), error))?;
    producer.context().committed();
    if more { begin(producer) } else { Ok(()) }
}

/// Aborts the open transaction of a copy that failed. Best effort: the next run aborts it too.
fn abort(producer: &BaseProducer<Deliveries>) {
    if let Err(error) = producer.abort_transaction(ABORT_TIMEOUT) {
        tracing::info!("aborting the copy's transaction on the target: {error}");
    }
}

/// Keeps the readers from sending while a transaction commits: librdkafka refuses a record
/// produced during `commit_transaction`. Readers pass one at a time through [`Gate::send`];
/// the committer closes the gate and waits (serving deliveries) until no send is under way.
#[derive(Default)]
pub(super) struct Gate {
    closed: AtomicBool,
    sending: AtomicUsize,
}

impl Gate {
    /// Runs `send` when the gate is open, waiting while it is closed.
    pub(super) fn send<T>(&self, send: impl FnOnce() -> T) -> T {
        loop {
            while self.closed.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(1));
            }
            self.sending.fetch_add(1, Ordering::SeqCst);
            if !self.closed.load(Ordering::SeqCst) {
                break;
            }
            self.sending.fetch_sub(1, Ordering::SeqCst);
        }
        let result = send();
        self.sending.fetch_sub(1, Ordering::SeqCst);
        result
    }

    /// Closes the gate and runs `commit` once no send is under way, serving the producer
    /// meanwhile (a send may be waiting for room in its queue).
    pub(super) fn closed<T>(
        &self,
        producer: &BaseProducer<Deliveries>,
        commit: impl FnOnce() -> T,
    ) -> T {
        self.closed.store(true, Ordering::SeqCst);
        while self.sending.load(Ordering::SeqCst) > 0 {
            producer.poll(Duration::from_millis(1));
        }
        let result = commit();
        self.closed.store(false, Ordering::SeqCst);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(topic: &str, partition: i32) -> CopyJob {
        CopyJob {
            source_topic: format!("src-{topic}"),
            target_topic: topic.into(),
            partition,
            ..CopyJob::default()
        }
    }

    #[test]
    fn the_transactional_id_names_the_migration_and_the_target_partition_set() {
        let a = transactional_id("orders-move", &[job("orders", 0), job("orders", 1)]);
        assert!(a.starts_with("ferry-copy-orders-move-"), "{a}");
        assert_eq!(a.len(), "ferry-copy-orders-move-".len() + 16);
        // The same partitions in another order: the same id, so a rerun fences the last run.
        assert_eq!(
            a,
            transactional_id("orders-move", &[job("orders", 1), job("orders", 0)])
        );
        // Another set, another migration: another id.
        assert_ne!(a, transactional_id("orders-move", &[job("orders", 0)]));
        assert_ne!(
            a,
            transactional_id("other", &[job("orders", 0), job("orders", 1)])
        );
        // Topic and partition cannot run together ("a" 11 vs "a1" 1).
        assert_ne!(
            transactional_id("m", &[job("a", 11)]),
            transactional_id("m", &[job("a1", 1)])
        );
    }
}
