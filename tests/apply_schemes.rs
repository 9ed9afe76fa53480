//! `ferry apply` end to end for the dual_consume and single_consume schemes, on the two real
//! Apache Kafka brokers of the test bed (one pair for the whole file), with a live application:
//! a producer of a numbered stream (`ferry-testbed app produce`, paced at 700 records/s over 6
//! partitions, record n on partition n % 6, writing from before apply until after it) and a
//! committing consumer group (`ferry-testbed app consume`), which the migration's hooks repoint
//! by restarting them against the target, as a deployment system would.
//!
//! Each run has its own topic, group, application and config directory, and checks:
//! - during apply, at the end of each step, Kafka's own group state (read with the test bed's
//!   clients, not ferry's): the start offsets committed on the empty target (single_consume),
//!   members on the target after the "groups active" wait, the group's offsets at the end of the
//!   source (which holds just the producer's source run) after the "drained" wait, the apps each
//!   hook switched, the group gone from the source once its consumers stopped or moved;
//! - after apply: the stream kept at least 500 records/s through the whole apply; each topic
//!   holds exactly the records acknowledged while the producer pointed at it, once each, in
//!   order, partition by partition; every acknowledged record was consumed, none skipped; the
//!   group's offsets at the end of both topics; every step done in the state file.
//!
//! Consumed means at least once. Neither scheme translates offsets: each cluster's records are
//! consumed by the group's own commits there (on the target from ferry's start offsets, for
//! single_consume), and the consumers commit after processing, so a consumer that dies before
//! its commit, or loses it in a rebalance, has its partitions' last records processed again by
//! the next owner. The schemes promise that nothing is skipped, not that nothing repeats; the
//! count of records consumed twice is printed (the hooks stop consumers with SIGTERM, after
//! which they commit what they processed, so it is 0 in practice).
//!
//! Then the same with `ferry apply` killed (SIGKILL) while each cutover step runs (a hook once
//! it switched the application, before ferry recorded it), and a rerun that resumes at that
//! step, runs its hook again, and finishes.

#[path = "support/apply_process.rs"]
#[allow(dead_code)]
mod apply_process;
#[path = "support/scheme_apply.rs"]
mod scheme_apply;
#[path = "support/scheme_checks.rs"]
mod scheme_checks;
#[path = "support/scheme_kafka.rs"]
mod scheme_kafka;
#[path = "support/scheme_run.rs"]
mod scheme_run;
#[path = "support/state_json.rs"]
mod state_json;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use apply_process::ApplyProcess;
use ferry_testbed::Testbed;
use scheme_apply::{Until, done_steps, finish, follow, steps, wait_for_hooks_to_end};
use scheme_checks::{assert_migrated, check_step_done};
use scheme_kafka::{committed, end_offsets, group_members, wait_for};
use scheme_run::{CATCH_UP, Run, Scheme};

/// The pace the stream must keep over the whole apply, records per second.
const MIN_RATE: f64 = 500.0;
/// How soon a resumed "groups active" wait must see a consumer that joined before it began: at
/// its first polls, far below the wait's timeout.
const ACTIVE_WITHIN: Duration = Duration::from_secs(10);

#[test]
fn dual_consume_moves_a_live_stream_exactly_once_without_skipping_a_record() {
    migrate(Scheme::DualConsume, None);
}

#[test]
fn single_consume_moves_a_live_stream_and_its_backlog_exactly_once_without_skipping_a_record() {
    migrate(Scheme::SingleConsume, None);
}

#[test]
fn dual_consume_apply_killed_at_each_cutover_step_resumes_there_and_moves_the_stream_exactly() {
    for step in 1..Scheme::DualConsume.steps().len() {
        migrate(Scheme::DualConsume, Some(step));
    }
}

#[test]
fn single_consume_apply_killed_at_each_cutover_step_resumes_there_and_moves_the_stream_exactly() {
    for step in 1..Scheme::SingleConsume.steps().len() {
        migrate(Scheme::SingleConsume, Some(step));
    }
}

/// One run: the application started on the source, `ferry apply` to the end (or killed while
/// step `kill_at` runs, then run again), the producer stopped once it wrote to the target, and
/// everything checked.
fn migrate(scheme: Scheme, kill_at: Option<usize>) {
    let started = Instant::now();
    let short = scheme.name().split('_').next().unwrap();
    let label = match kill_at {
        None => format!("{short}-whole"),
        Some(step) => format!("{short}-kill{step}"),
    };
    let mut run = Run::start(Testbed::shared(), scheme, &label);

    let progress = |run: &Run| run.producer.progress().unwrap().unwrap();
    let (from, apply_started) = (progress(&run), Instant::now());
    match kill_at {
        None => {
            finish(
                ApplyProcess::spawn(run.dir(), "apply"),
                &run.state_path(),
                &BTreeSet::new(),
                |index, state| check_step_done(&run, index, state),
                || run.app_logs(),
            );
            let runs = run.hook_runs();
            assert!(runs.values().all(|&n| n == 1), "each hook once: {runs:?}");
        }
        Some(step) => kill_and_rerun(&run, step),
    }
    let applied_in = apply_started.elapsed().as_secs_f64();
    let rate = (progress(&run) - from) as f64 / applied_in;

    run.stop_producer_after_it_writes_to_the_target();
    let migrated = assert_migrated(&run);
    let kind = kill_at.map_or("", |step| scheme.steps()[step]);
    eprintln!(
        "{label}: apply{} took {applied_in:.1}s at {rate:.0} records/s; producers moved at {} \
         of {} records ({} producer runs); {} consumed twice; run took {:.1}s",
        kill_at.map_or(String::new(), |_| format!(" (killed at {kind}, rerun)")),
        migrated.switch,
        migrated.acknowledged,
        migrated.producer_runs,
        migrated.consumed_again,
        started.elapsed().as_secs_f64(),
    );
    assert!(
        rate >= MIN_RATE,
        "{label}: the stream kept {rate:.0} records/s through apply, below {MIN_RATE}"
    );
    // One run on the source, one on the target, and one more when the rerun repeated
    // switch_producers (a restart on the target).
    let repeated = usize::from(kind == "run_hook:switch_producers");
    assert_eq!(
        migrated.producer_runs,
        2 + repeated,
        "{}",
        run.producer.log()
    );
    if scheme == Scheme::DualConsume {
        // Even when the rerun repeated start_target_consumers, one target fleet started.
        let log = run.target_consumer().log();
        assert_eq!(log.matches("app: consuming").count(), 1, "{log}");
    }
}

/// `ferry apply` killed with SIGKILL while step `step` runs (seen in the state file), then run
/// again: it resumes at that step (earlier steps neither run nor are reported again) and
/// finishes; each hook ran once, the interrupted one once more.
fn kill_and_rerun(run: &Run, step: usize) {
    let kinds = run.scheme.steps();
    let (kind, total) = (kinds[step], kinds.len());
    let hook = kind.strip_prefix("run_hook:");
    // The step must still run when ferry is killed. A hook is held at its end, once it switched
    // the application, so the rerun repeats a switch that happened (the hook must be harmless
    // to run again). The consumer the "groups active" wait waits for joins only after the
    // kill, so the wait is still running, and the rerun's wait begins after it joined.
    if let Some(hook) = hook {
        run.close_gate(hook);
    }
    let joins_late = kind == "wait_groups_active";
    if joins_late {
        run.target_consumer().hold().unwrap();
    }

    let mut first = ApplyProcess::spawn(run.dir(), "apply-killed");
    follow(
        &mut first,
        &run.state_path(),
        Until::Running(step),
        &BTreeSet::new(),
        |index, state| check_step_done(run, index, state),
    );
    if let Some(hook) = hook {
        first.wait_while_running(
            &format!("hook {hook} to switch the application"),
            CATCH_UP,
            || run.gate_reached(hook),
        );
    }
    first.kill9();
    let killed = run.state();
    for (index, record) in steps(&killed).iter().enumerate() {
        let expected = match index.cmp(&step) {
            std::cmp::Ordering::Less => "done",
            std::cmp::Ordering::Equal => "running",
            std::cmp::Ordering::Greater => "pending",
        };
        assert_eq!(record["status"], expected, "{killed:#}");
    }
    // The hooks up to the step's own ran once; the killed apply's hook, which waits at its
    // gate, ends once the gate opens, as it would by itself after a real crash.
    let hook_runs = |rerun: bool| -> BTreeMap<String, usize> {
        kinds
            .iter()
            .enumerate()
            .filter_map(|(index, kind)| Some((index, kind.strip_prefix("run_hook:")?)))
            .map(|(index, name)| {
                let runs = match index.cmp(&step) {
                    std::cmp::Ordering::Less => 1,
                    std::cmp::Ordering::Equal => 1 + usize::from(rerun),
                    std::cmp::Ordering::Greater => usize::from(rerun),
                };
                (name.to_string(), runs)
            })
            .collect()
    };
    assert_eq!(run.hook_runs(), hook_runs(false), "before the rerun");
    if let Some(hook) = hook {
        run.open_gate(hook);
    }
    wait_for_hooks_to_end(run.dir());
    let joined = joins_late.then(|| let_the_target_consumer_join(run));

    let rerun = ApplyProcess::spawn(run.dir(), "apply-resumed");
    let ended = finish(
        rerun,
        &run.state_path(),
        &done_steps(&killed),
        |index, state| check_step_done(run, index, state),
        || run.app_logs(),
    );
    let output = format!("{}{}", ended.stdout, ended.stderr);
    for index in 0..step {
        assert!(
            !output.contains(&format!("Step {}/{total}:", index + 1)),
            "step {} ran again:\n{output}",
            index + 1
        );
    }
    assert!(
        output.contains(&format!("Step {}/{total}:", step + 1)),
        "{output}"
    );
    let resumed = run.state();
    assert_eq!(resumed["lineage"], killed["lineage"]);
    assert_eq!(
        steps(&resumed)[..step],
        steps(&killed)[..step],
        "{resumed:#}"
    );
    assert_eq!(run.hook_runs(), hook_runs(true), "after the rerun");
    if let Some((pid, starts)) = joined {
        assert_resumed_wait_saw_the_consumer_at_once(run, &resumed, step, pid, starts);
    }
}

/// Lets the held target consumer join, and waits until Kafka lists it in the group and it
/// committed its position on every target partition; returns its pid and how many times it
/// started.
fn let_the_target_consumer_join(run: &Run) -> (u32, usize) {
    let consumer = run.target_consumer();
    assert_eq!(consumer.bootstrap().unwrap(), run.target);
    let pid = consumer
        .pid()
        .expect("the hook started the target consumer");
    consumer.release().unwrap();
    wait_for(
        "the target consumer to join its group and commit its position on the target",
        CATCH_UP,
        || {
            let committed = committed(&run.target, &run.topic, &run.group)?;
            Ok((group_members(&run.target, &run.group)? > 0
                && committed.iter().all(Option::is_some))
            .then_some(()))
        },
    );
    if run.scheme == Scheme::DualConsume {
        // The trap of the original bug: the target is still empty, so the consumer's commit
        // (offset 0 everywhere) moves no further until producers switch, after the wait.
        assert!(end_offsets(&run.target, &run.topic).iter().all(|&e| e == 0));
    }
    (pid, consumer.log().matches("app: consuming").count())
}

/// The resumed "groups active" wait saw, at its first polls, the consumer that joined before it
/// began, and the hook that started it did not run again: the same process still runs.
fn assert_resumed_wait_saw_the_consumer_at_once(
    run: &Run,
    resumed: &serde_json::Value,
    step: usize,
    pid: u32,
    starts: usize,
) {
    let wait = &steps(resumed)[step];
    assert_eq!(wait["outcome"]["kind"], "condition_met", "{wait:#}");
    let condition = wait["outcome"]["condition"].as_str().unwrap_or_default();
    assert!(
        condition.contains("groups active on the target") && condition.contains(&run.group),
        "{wait:#}"
    );
    let waited = wait["outcome"]["seconds"].as_f64().unwrap();
    assert!(
        waited < ACTIVE_WITHIN.as_secs_f64(),
        "the resumed wait took {waited:.2}s to see a consumer that had already joined: {wait:#}"
    );
    let consumer = run.target_consumer();
    assert_eq!(consumer.pid(), Some(pid), "{}", consumer.log());
    assert_eq!(
        consumer.log().matches("app: consuming").count(),
        starts,
        "{}",
        consumer.log()
    );
}
