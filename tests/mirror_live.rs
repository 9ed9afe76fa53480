//! The mirror scheme as a live migration, end to end on the test bed's Apache Kafka brokers: a
//! producer of a numbered stream (600 records/s over 6 partitions, record n on partition n % 6)
//! and a committing consumer group (`ferry-testbed app`) run on the source through the whole
//! `ferry apply`, and the four cutover hooks move them to the target the way a deployment system
//! would: stop_source_consumers stops the consumer, start_target_consumers starts it on the
//! target, stop_source_producers stops the producer, start_target_producers starts it on the
//! target, where it continues its numbering.
//!
//! What a migration must show (tests/support/live_mirror.rs checks it):
//! - the target holds every acknowledged record exactly once, in order per partition: the copied
//!   range, then what the producer wrote there after the switch;
//! - the consumer processed every number exactly once: the offsets ferry translated and committed
//!   on the target make it resume exactly where it stopped on the source (the app commits what it
//!   processed before it exits on SIGTERM, and starts with auto.offset.reset=latest, so a missing
//!   or late commit skips records and a wrong one repeats them);
//! - the write pause and the consumers' pause are printed and kept in the state;
//! - no output calls the producer's new records foreign, advises deleting anything, or shows
//!   librdkafka's configuration warnings or end-of-partition "errors".
//!
//! Each test has a pair of brokers of its own (the tests run side by side on two cores); every
//! wait is on a condition: a step's status in the state file (watched with inotify), a hook
//! waiting at the gate the test holds, the apps' progress and output files, the brokers' offsets.

#[allow(dead_code)]
#[path = "support/apply_process.rs"]
mod apply_process;
#[path = "support/live_mirror.rs"]
mod live_mirror;
#[path = "support/state_json.rs"]
mod state_json;

use ferry_testbed::Testbed;
use live_mirror::{
    LiveMigration, PLAN, SETTLE_SECONDS, assert_clean, assert_stopped_at, plan_index,
    printed_seconds, steps, text, wait_for,
};

/// The cutover steps a kill must survive, in plan order: everything after the copy caught up.
const CUTOVER: &[&str] = PLAN.split_at(3).1;

/// Most the write pause may take: the source's quiet period plus the tail's copy and verify.
const MAX_WRITE_PAUSE: f64 = SETTLE_SECONDS + 20.0;

#[test]
fn mirror_apply_moves_a_live_stream_with_exact_offsets() {
    let bed = Testbed::start().unwrap();
    let mut migration = LiveMigration::start(&bed, "steady");

    let apply = migration.apply_to_completion("apply");

    assert_clean("ferry apply", &apply.output());
    let (write_pause, consumer_pause) = migration.assert_completed_state(1);
    assert_pauses_printed(&apply.stdout, write_pause, consumer_pause);
    assert!(
        write_pause < MAX_WRITE_PAUSE,
        "the write pause took {write_pause:.1}s: it must not grow with the data"
    );

    // The producer writes to the target meanwhile: ferry knows those records follow the copy.
    let again = migration.apply("apply-again");
    assert!(
        again.status.success(),
        "a second ferry apply:\n{}",
        again.output()
    );
    assert_clean("the second ferry apply", &again.output());
    migration.assert_after_completion_commands();

    let (last_on_source, last) = migration.stop_producer_after_it_wrote_to_the_target();
    migration.assert_stream_rate(last_on_source);
    migration.assert_topics_hold(last_on_source, last);
    migration.assert_consumed_exactly_once(last);
}

/// One migration killed with SIGKILL at every cutover step in turn: each rerun resumes at the
/// step the kill interrupted and is killed at the next one, the last runs to completion.
///
/// A hook step is killed once its switch is done (the hook waits at a gate the test holds): the
/// rerun runs the hook again, so the switches must be idempotent. wait_groups_active is killed
/// while the consumer, started on the target, is held back from joining its group; the other
/// steps the moment the state shows them running. While start_target_producers is running, and
/// after the last run completed, `ferry rollback` refuses: the point of no return has passed.
#[test]
fn mirror_apply_killed_at_each_cutover_step_resumes_with_exact_offsets() {
    let bed = Testbed::start().unwrap();
    let mut migration = LiveMigration::start(&bed, "killed");
    for hook in live_mirror::HOOKS {
        migration.gate(hook);
    }
    migration.consumer.hold().unwrap();

    let mut outputs = Vec::new();
    let mut resumed_at: Option<(usize, serde_json::Value)> = None;
    for (run, step) in CUTOVER.iter().enumerate() {
        let index = plan_index(step);
        let apply = migration.spawn_apply(&format!("apply-{run}"));
        let (killed, state) = migration.kill_while_running(apply, index);
        assert_stopped_at(&state, index);
        if let Some((resumed, before)) = &resumed_at {
            assert_earlier_steps_not_repeated(before, &state, *resumed);
        }
        eprintln!("killed ferry apply at step {} ({step})", index + 1);
        assert_clean(&format!("ferry apply killed at {step}"), &killed.output());
        outputs.push(killed.stdout);

        match *step {
            "wait_groups_active" => migration.consumer.release().unwrap(),
            "run_hook:start_target_producers" => {
                migration.assert_rollback_refused_after_the_point_of_no_return()
            }
            _ => {}
        }
        if let Some(hook) = step.strip_prefix("run_hook:") {
            migration.release(hook);
        }
        resumed_at = Some((index, state));
    }
    let last = migration.apply_to_completion("apply-final");
    assert_clean("the final ferry apply", &last.output());
    let (resumed, before) = resumed_at.unwrap();
    assert_earlier_steps_not_repeated(&before, &migration.state(), resumed);
    outputs.push(last.stdout);

    // Every hook ran twice: the killed run and the rerun.
    let (write_pause, consumer_pause) = migration.assert_completed_state(2);
    assert_pauses_printed(&outputs.concat(), write_pause, consumer_pause);
    migration.assert_rollback_refused_after_the_point_of_no_return();

    let (last_on_source, last) = migration.stop_producer_after_it_wrote_to_the_target();
    migration.assert_topics_hold(last_on_source, last);
    migration.assert_consumed_exactly_once(last);
}

/// Before producers move, `ferry rollback` returns the group to the source at the offsets it
/// reached on the target: restarted there, the consumer neither skips nor repeats a record. It
/// refuses while the group still has members on the target. (Its refusal once
/// start_target_producers started is checked by the two tests above, which get there anyway.)
#[test]
fn mirror_rollback_before_producers_move_returns_the_group_to_the_source_exactly() {
    let bed = Testbed::start().unwrap();
    let mut migration = LiveMigration::start(&bed, "rollback");
    // The migration is abandoned at the producer switch: the hook fails, apply stops there.
    migration.fail_hook("stop_source_producers");

    let apply = migration.apply("apply");

    assert_eq!(apply.status.code(), Some(1), "{}", apply.output());
    assert_clean("ferry apply", &apply.output());
    let state = migration.state();
    let failed = plan_index("run_hook:stop_source_producers");
    for (index, step) in steps(&state).iter().enumerate() {
        let expected = match index.cmp(&failed) {
            std::cmp::Ordering::Less => "done",
            std::cmp::Ordering::Equal => "failed",
            std::cmp::Ordering::Greater => "pending",
        };
        assert_eq!(
            step["status"],
            expected,
            "step {} ({})",
            index + 1,
            PLAN[index]
        );
    }
    assert_eq!(migration.consumer.bootstrap().unwrap(), migration.target());
    assert!(migration.consumer.is_running());
    // The consumer works through what was copied to the target (the copy stopped with ferry):
    // it commits the offset after the last copied record.
    let target = migration.target().to_owned();
    let copied: Vec<Option<i64>> = migration
        .partition_records(&target)
        .iter()
        .map(|records| records.last().map(|&(offset, _)| offset + 1))
        .collect();
    wait_for(
        "the consumer to process the copied range on the target",
        live_mirror::CATCH_UP,
        || {
            let committed = migration.committed(&target);
            let done = committed
                .iter()
                .zip(&copied)
                .all(|(committed, copied)| copied.is_none() || committed >= copied);
            Ok(done.then_some(()))
        },
    );

    let source = migration.source().to_owned();
    let before = migration.committed(&source);
    let refused = migration.ferry(&["rollback"]);
    let said = text(&refused);
    assert_eq!(
        refused.status.code(),
        Some(1),
        "rollback with members on the target:\n{said}"
    );
    assert!(said.contains(&migration.group), "names the group:\n{said}");
    assert_clean("the refused ferry rollback", &said);
    assert_eq!(
        migration.committed(&source),
        before,
        "a refused rollback moves nothing"
    );

    migration.consumer.stop().unwrap();
    let on_target = migration.committed(&target);
    let rollback = migration.ferry(&["rollback"]);
    assert!(
        rollback.status.success(),
        "ferry rollback:\n{}",
        text(&rollback)
    );
    assert_clean("ferry rollback", &text(&rollback));

    // The group's source offsets are the target's translated back: the last record it
    // processed on the target is the one before its committed offset on the source.
    let on_source = migration.committed(&source);
    let target_records = migration.partition_records(&target);
    let source_records = migration.partition_records(&source);
    let target_numbers = migration.partition_numbers(&target);
    let source_numbers = migration.partition_numbers(&source);
    for partition in 0..live_mirror::PARTITIONS as usize {
        let (t, s) = (on_target[partition].unwrap(), on_source[partition].unwrap());
        // The number of the last record before a committed offset.
        let last_on = |records: &[Vec<(i64, i64)>], committed: i64| {
            records[partition]
                .iter()
                .take_while(|&&(offset, _)| offset < committed)
                .last()
                .map(|&(_, number)| number)
        };
        assert_eq!(
            last_on(&source_records, s),
            last_on(&target_records, t),
            "partition {partition}: committed {s} on the source, {t} on the target"
        );
    }

    // Back on the source, the consumer continues with the next record; the producer never left.
    migration.consumer.set_bootstrap(&source).unwrap();
    migration.consumer.start().unwrap();
    migration.producer.stop().unwrap();
    let runs = migration.producer.runs().unwrap();
    assert!(
        runs.len() == 1 && runs[0].bootstrap == source,
        "the producer stayed on the source: {runs:?}"
    );
    let last = runs[0].last;
    migration.assert_topic_holds(&source, last);
    for (partition, copied) in target_numbers.iter().enumerate() {
        assert!(
            source_numbers[partition].starts_with(copied),
            "{}[{partition}] on the target is a copy of the source's first {} records",
            migration.topic,
            copied.len()
        );
    }
    migration.assert_consumed_exactly_once(last);
}

/// The pauses are printed on stdout (`write pause: 6.3s`), as the state keeps them.
fn assert_pauses_printed(stdout: &str, write_pause: f64, consumer_pause: f64) {
    for (label, kept) in [
        ("write pause:", write_pause),
        ("consumer pause:", consumer_pause),
    ] {
        let printed = printed_seconds(stdout, label)
            .unwrap_or_else(|| panic!("a line with \"{label} N.Ns\" on stdout:\n{stdout}"));
        assert!(
            (printed - kept).abs() <= 0.15,
            "{label} printed {printed}s, the state keeps {kept}s"
        );
    }
}

/// A rerun that resumed at step `resumed` started none of the steps before it again.
fn assert_earlier_steps_not_repeated(
    before: &serde_json::Value,
    after: &serde_json::Value,
    resumed: usize,
) {
    for (index, step) in PLAN.iter().enumerate().take(resumed) {
        assert_eq!(
            steps(after)[index]["started_at"],
            steps(before)[index]["started_at"],
            "step {} ({step}) started again after a rerun resumed at step {}",
            index + 1,
            resumed + 1
        );
        assert_eq!(
            steps(after)[index]["status"],
            "done",
            "step {} ({step})",
            index + 1
        );
    }
}
