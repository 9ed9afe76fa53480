//! What must hold in a run of dual_consume or single_consume: at the end of each cutover step,
//! in Kafka's own group state (the condition a wait step waited on, what a hook switched); and
//! once apply finished and the producer stopped, exactly-once on both topics, every record
//! consumed, the group's offsets, and ferry's record in the state file.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use ferry_testbed::app::ProducerRun;
use serde_json::Value;

use crate::scheme_apply::{step_kinds, steps};
use crate::scheme_kafka::{committed, end_offsets, group_members, partition_numbers, wait_for};
use crate::scheme_run::{CATCH_UP, PARTITIONS, Run, Scheme};

/// How long a consumer that stopped may stay listed in its group (its LeaveGroup in flight).
const LEAVE_WITHIN: Duration = Duration::from_secs(15);

/// Checks, against the brokers, what step `index` (just seen done in `state`) must have
/// achieved.
pub fn check_step_done(run: &Run, index: usize, state: &Value) {
    let kind = &step_kinds(state)[index];
    let at = format!("{}: after step {} ({kind})", run.scheme.name(), index + 1);
    match kind.as_str() {
        "commit_start_offsets" => {
            // single_consume's trap closed: the group starts at 0 on every (still empty) target
            // partition, and nobody consumes there yet.
            assert_eq!(
                committed(&run.target, &run.topic, &run.group).unwrap(),
                vec![Some(0); PARTITIONS as usize],
                "{at}: the start offsets on the target"
            );
            assert_eq!(group_members(&run.target, &run.group).unwrap(), 0, "{at}");
        }
        "wait_groups_active" => {
            let members = group_members(&run.target, &run.group).unwrap();
            assert!(members > 0, "{at}: the group has no member on the target");
            assert_eq!(
                run.target_consumer().bootstrap().unwrap(),
                run.target,
                "{at}"
            );
        }
        "wait_groups_drained" => {
            // Producers moved before this wait, so the source holds just what the producer's
            // run there wrote, and the group's offsets must stand at its end on every partition.
            let ends = end_offsets(&run.source, &run.topic);
            let runs = run.producer.runs().unwrap();
            let written = per_partition(0..=runs[0].last);
            assert_eq!(
                ends, written,
                "{at}: the source's end offsets against {runs:?}"
            );
            let committed = committed(&run.source, &run.topic, &run.group).unwrap();
            assert_eq!(
                committed,
                ends.iter().copied().map(Some).collect::<Vec<_>>(),
                "{at}: the group's offsets on the source against its end offsets"
            );
        }
        "run_hook:start_target_consumers" => assert_runs_on_target(run.target_consumer(), run),
        "run_hook:switch_producers" => assert_runs_on_target(&run.producer, run),
        "run_hook:switch_consumers" => {
            assert_runs_on_target(run.target_consumer(), run);
            assert_left_the_source(run, &at);
        }
        "run_hook:stop_source_consumers" => {
            assert!(!run.source_consumer().is_running(), "{at}");
            assert_left_the_source(run, &at);
        }
        _ => {}
    }
}

/// How many of `numbers` go to each partition.
fn per_partition(numbers: impl IntoIterator<Item = i64>) -> Vec<i64> {
    let mut counts = vec![0; PARTITIONS as usize];
    for n in numbers {
        counts[(n % i64::from(PARTITIONS)) as usize] += 1;
    }
    counts
}

fn assert_runs_on_target(app: &ferry_testbed::app::App, run: &Run) {
    assert!(
        app.is_running(),
        "{} is not running:\n{}",
        app.name(),
        app.log()
    );
    assert_eq!(app.bootstrap().unwrap(), run.target, "{}", app.name());
}

fn assert_left_the_source(run: &Run, at: &str) {
    wait_for(
        &format!("{at}: the group to have no member on the source"),
        LEAVE_WITHIN,
        || Ok((group_members(&run.source, &run.group)? == 0).then_some(())),
    );
}

/// What a run showed, for its summary line.
pub struct Migrated {
    /// The first number produced to the target.
    pub switch: i64,
    /// Records acknowledged over the whole stream.
    pub acknowledged: i64,
    /// Records the consumers processed more than once.
    pub consumed_again: usize,
    pub producer_runs: usize,
}

/// Everything that must hold once apply finished and the producer stopped.
pub fn assert_migrated(run: &Run) -> Migrated {
    let runs = run.producer.runs().unwrap();
    let (source, target) = acknowledged(run, &runs);
    let switch = *target.first().expect("the producer wrote to the target");

    // Exactly once, in order, per partition: record n on partition n % PARTITIONS, where the
    // producer run that wrote it pointed.
    assert_partitions_hold(run, &run.source, &source);
    assert_partitions_hold(run, &run.target, &target);

    // Every acknowledged number consumed at least once, on one cluster or the other; nothing
    // else consumed.
    let all: BTreeSet<i64> = source.iter().chain(&target).copied().collect();
    let consumed = wait_for(
        "the consumers to process every acknowledged record",
        CATCH_UP,
        || {
            let consumed = consumed(run);
            let distinct: BTreeSet<i64> = consumed.iter().copied().collect();
            Ok(all.is_subset(&distinct).then_some(consumed))
        },
    );
    let distinct: BTreeSet<i64> = consumed.iter().copied().collect();
    let unknown: Vec<&i64> = distinct.difference(&all).take(10).collect();
    assert!(
        unknown.is_empty(),
        "consumed but never acknowledged: {unknown:?}"
    );
    if run.scheme == Scheme::DualConsume {
        // Each fleet read its own cluster only.
        let on_source = run.consumers[0].consumed().unwrap();
        let on_target = run.consumers[1].consumed().unwrap();
        assert!(on_source.iter().all(|n| *n < switch), "source fleet");
        assert!(on_target.iter().all(|n| *n >= switch), "target fleet");
    }

    assert_offsets_at_the_end(run);
    assert_state(run);
    Migrated {
        switch,
        acknowledged: all.len() as i64,
        consumed_again: consumed.len() - distinct.len(),
        producer_runs: runs.len(),
    }
}

/// The numbers acknowledged on the source and on the target, from the producer's runs: one
/// run on the source from 0, then runs on the target (more than one when a killed apply's rerun
/// ran switch_producers again), each continuing the numbering of the one before, every record
/// sent acknowledged.
fn acknowledged(run: &Run, runs: &[ProducerRun]) -> (Vec<i64>, Vec<i64>) {
    let log = run.producer.log();
    assert!(runs.len() >= 2, "{runs:?}\n{log}");
    assert_eq!(runs[0].bootstrap, run.source, "{runs:?}");
    assert_eq!(runs[0].first, 0, "{runs:?}");
    for pair in runs.windows(2) {
        assert_eq!(pair[1].first, pair[0].last + 1, "numbering: {runs:?}");
    }
    for later in &runs[1..] {
        assert_eq!(later.bootstrap, run.target, "{runs:?}");
    }
    let ends: Vec<&str> = log
        .lines()
        .filter(|l| l.starts_with("app: sent "))
        .collect();
    assert_eq!(ends.len(), runs.len(), "{log}");
    for end in ends {
        assert!(
            end.ends_with(" 0 failed, 0 unacknowledged"),
            "a producer run left records unacknowledged: {end}"
        );
    }
    let last = runs.last().unwrap().last;
    (
        (0..=runs[0].last).collect(),
        (runs[1].first..=last).collect(),
    )
}

/// The topic on `bootstrap` holds exactly `numbers`, each on partition n % PARTITIONS, in
/// ascending order on each.
fn assert_partitions_hold(run: &Run, bootstrap: &str, numbers: &[i64]) {
    let side = if bootstrap == run.source {
        "source"
    } else {
        "target"
    };
    for (partition, held) in partition_numbers(bootstrap, &run.topic)
        .into_iter()
        .enumerate()
    {
        let expected: Vec<i64> = numbers
            .iter()
            .copied()
            .filter(|n| n % i64::from(PARTITIONS) == partition as i64)
            .collect();
        if held != expected {
            let at = held.iter().zip(&expected).position(|(h, e)| h != e);
            let at = at.unwrap_or(held.len().min(expected.len()));
            panic!(
                "the {side} partition {partition} holds {} records, {} expected; first difference \
                 at offset {at}: {:?} held, {:?} expected",
                held.len(),
                expected.len(),
                &held[at.min(held.len())..(at + 5).min(held.len())],
                &expected[at.min(expected.len())..(at + 5).min(expected.len())],
            );
        }
    }
}

/// Every number the consumers processed, over all their runs, repeats included.
fn consumed(run: &Run) -> Vec<i64> {
    run.consumers
        .iter()
        .flat_map(|consumer| consumer.consumed().unwrap())
        .collect()
}

/// The group's offsets: at the end of every target partition once the consumer caught up, and
/// at the end of every source partition (it drained the source).
fn assert_offsets_at_the_end(run: &Run) {
    let ends = end_offsets(&run.target, &run.topic);
    wait_for(
        "the group's offsets on the target to reach the end of every partition",
        CATCH_UP,
        || {
            let committed = committed(&run.target, &run.topic, &run.group)?;
            Ok((committed == ends.iter().copied().map(Some).collect::<Vec<_>>()).then_some(()))
        },
    );
    assert_eq!(
        committed(&run.source, &run.topic, &run.group).unwrap(),
        end_offsets(&run.source, &run.topic)
            .into_iter()
            .map(Some)
            .collect::<Vec<_>>(),
        "the group drained the source"
    );
}

/// The state file: every step done, in the scheme's order, hooks exited with 0; for
/// single_consume, the start offsets committed before producers moved.
fn assert_state(run: &Run) {
    let state = run.state();
    assert_eq!(state["migration"], "events-to-target");
    assert_eq!(state["scheme"], run.scheme.name());
    assert_eq!(step_kinds(&state), run.scheme.steps(), "{state:#}");
    for step in steps(&state) {
        assert_eq!(step["status"], "done", "{step:#}");
        assert!(step["finished_at"].is_string(), "{step:#}");
        if step["kind"] == "run_hook" {
            assert_eq!(step["outcome"]["kind"], "hook_ran", "{step:#}");
            assert_eq!(step["outcome"]["exit_code"], 0, "{step:#}");
        }
    }
    if run.scheme == Scheme::SingleConsume {
        assert_start_offsets_committed_before_producers_moved(run, &state);
    }
}

/// single_consume's trap closed: the state shows the group committed at offset 0 on every target
/// partition (the target was still empty), in a step that finished before switch_producers ran.
fn assert_start_offsets_committed_before_producers_moved(run: &Run, state: &Value) {
    let kinds = step_kinds(state);
    let at = |kind: &str| kinds.iter().position(|k| k == kind).unwrap();
    let (commit, switch) = (at("commit_start_offsets"), at("run_hook:switch_producers"));
    assert!(commit < switch, "{state:#}");
    let steps = steps(state);
    let outcome = &steps[commit]["outcome"];
    assert_eq!(outcome["kind"], "offsets_committed", "{outcome:#}");
    let expected: BTreeMap<i64, i64> = (0..PARTITIONS).map(|p| (p as i64, 0)).collect();
    let recorded: BTreeMap<i64, i64> = outcome["offsets"]
        .as_array()
        .unwrap_or_else(|| panic!("offsets in {outcome:#}"))
        .iter()
        .filter(|o| o["group"] == run.group.as_str() && o["topic"] == run.topic.as_str())
        .map(|o| {
            (
                o["partition"].as_i64().unwrap(),
                o["offset"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(recorded, expected, "{outcome:#}");
    let committed_at = steps[commit]["finished_at"].as_str().unwrap();
    let switched_at = steps[switch]["started_at"].as_str().unwrap();
    assert!(committed_at <= switched_at, "{state:#}");
}
