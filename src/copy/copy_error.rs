//! Why a partition copy stopped.

use thiserror::Error;

use super::offset_map::OffsetMapError;

/// A copy that could not go on. Every variant names the topic and partition concerned, and none
/// is ever skipped: the copy stops rather than lose or duplicate a record.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum CopyError {
    /// The target holds a record ferry did not write where its copies should be.
    #[error(
        "target partition {topic}[{partition}] holds a record at offset {offset} that has no \
         `ferry.source.offset` header: ferry did not copy it, so the partition no longer shows \
         where ferry's copy ends, and ferry stopped rather than guess. The record stays where \
         it is. Something else writes to {topic} on the target (a producer pointed at it, \
         another migration or tool copying into it): find out who and stop it. Then point the \
         mirror at a target topic that holds only ferry's copies: give the topic block a \
         `target_name` that does not exist on the target yet, and `ferry apply` creates it and \
         copies into it."
    )]
    ForeignRecord {
        topic: String,
        partition: i32,
        offset: i64,
    },

    /// Retention deleted source records before they were copied.
    #[error(
        "source partition {topic}[{partition}] no longer holds offsets {lost_from}..={lost_to}: \
         retention (or DeleteRecords) removed them before they were copied, so the target would \
         miss them. Nothing was skipped, and the state and the target are as they were. To go on \
         without them, accept exactly this loss in the replication block: `accept_gaps = \
         [{{ topic = \"{topic}\", partition = {partition}, from = {lost_from}, to = {lost_to} }}]` \
         (the plan then shows it, and groups committed inside the gap resume at the next copied \
         record); then run the copy again. To keep the records instead, raise \
         `retention.ms`/`retention.bytes` on the source topic before more are deleted."
    )]
    RetentionGap {
        topic: String,
        partition: i32,
        lost_from: i64,
        lost_to: i64,
    },

    /// Retention emptied a target partition past what the state recorded of the copy.
    #[error(
        "target partition {topic}[{partition}] holds no records any more (retention removed \
         everything below offset {target_end}), and the state records the copy only up to target \
         offset {recorded_target_end}: the records between were copied by a run that stopped \
         before recording them, and they are gone with the headers that said which source offset \
         comes next. ferry stopped rather than guess, which could copy records twice or skip \
         some; nothing was written. Raise `retention.ms` on the target topic so that copies \
         survive until the migration ends, then copy the topic into a target topic that does not \
         exist yet (a `target_name` in its topic block) and run `ferry apply` again."
    )]
    TargetEmptied {
        topic: String,
        partition: i32,
        target_end: i64,
        recorded_target_end: i64,
    },

    /// The next offset to copy lies beyond the source's end.
    #[error(
        "source partition {topic}[{partition}] ends at offset {source_end}, but the copy would \
         continue at offset {next}: the target already holds source offsets the source does not \
         have (or the requested start is past the end). The source topic was most likely deleted \
         and recreated since the last copy; the copied data no longer matches it. ferry stopped \
         and left both topics as they are. Check what happened to the source topic; to copy \
         it as it is now, give its topic block a `target_name` that does not exist on the \
         target yet, so the earlier copy stays intact beside the new one."
    )]
    BeyondSourceEnd {
        topic: String,
        partition: i32,
        next: i64,
        source_end: i64,
    },

    /// The target put a copied record somewhere other than right after the previous one.
    #[error(
        "target partition {topic}[{partition}] took a copied record at offset {found}, but the \
         copy's previous record ends at offset {expected}: something else wrote to the partition \
         during the copy (another `ferry apply` or `ferry replicate` of this migration, a producer \
         pointed at the target, or a produce request of a killed earlier run that the broker \
         appended late). The partition may now hold records twice, so ferry stopped rather than \
         go on. Stop the other writer; then run `ferry apply` again: its verify step compares the \
         partition with the source. If it reports a mismatch, copy the topic again into a new \
         target topic (a `target_name` in its topic block that does not exist on the target \
         yet); the current one stays as it is, to find out what the other writer wrote."
    )]
    ConcurrentWrite {
        topic: String,
        partition: i32,
        expected: i64,
        found: i64,
    },

    /// Nothing moved for the stall timeout.
    #[error(
        "the copy made no progress for {seconds}s (still waiting on {partition}): no record was \
         delivered to the target and no partition finished. A broker is most likely unreachable \
         or refusing requests; check both clusters (ferry's log with -v names the failing \
         requests), then run apply again: the copy resumes exactly where the target ends."
    )]
    Stalled { seconds: u64, partition: String },

    /// An open transaction held a partition and nothing else moved for the stall timeout.
    #[error(
        "the copy made no progress for {seconds}s: source partition {topic}[{partition}] is held by \
         an open transaction. `read_committed` reads stop at offset {offset} (the last stable \
         offset) while the partition ends at {end}: a producer began a transaction there and \
         has neither committed nor aborted it (a hung or killed transactional producer; the \
         broker aborts it after the producer's `transaction.timeout.ms`). Nothing was skipped, \
         and everything before offset {offset} is copied. Find the transaction with \
         `kafka-transactions.sh --bootstrap-server ... find-hanging --topic {topic} --partition \
         {partition}` and let its producer finish it, or abort it with `kafka-transactions.sh \
         abort`; then run the copy again: it resumes exactly where the target ends."
    )]
    OpenTransaction {
        topic: String,
        partition: i32,
        offset: i64,
        end: i64,
        seconds: u64,
    },

    #[error("the copy was cancelled; the next copy resumes from the target's tail")]
    Cancelled,

    /// Two jobs read the same source partition or write the same target partition.
    #[error(
        "partition {topic}[{partition}] appears in more than one copy job; each source partition \
         is copied to exactly one target partition and each target partition has one writer. \
         This is a bug in the caller: report it."
    )]
    DuplicateJob { topic: String, partition: i32 },

    /// The target broker did not take a record.
    #[error(
        "producing to target partition {topic}[{partition}] failed: {detail}. librdkafka already \
         retried; the copy stopped with every earlier record in place. Fix the cause (target \
         reachable? topic exists with enough partitions? quota or size limits?) and run the copy \
         again: it resumes from the target's last record, with no duplicate."
    )]
    Produce {
        topic: String,
        partition: i32,
        detail: String,
    },

    /// A delivery report did not fit the offset map (a bug: records were written out of order).
    #[error(
        "recording the offset map of target partition {topic}[{partition}] failed: {source} \
         The records already copied are in place and the next run resumes after them, but \
         consumer offsets cannot be translated for this run: report the bug."
    )]
    OffsetMap {
        topic: String,
        partition: i32,
        source: OffsetMapError,
    },

    /// Any other client failure: creating a client, reading watermarks, fetching records.
    #[error(
        "{what}: {detail}. Check that the cluster is reachable and the topic exists, then run the \
         copy again: it resumes where the target ends."
    )]
    Kafka { what: String, detail: String },
}
