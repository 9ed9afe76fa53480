//! Mirror cutover benchmark (issue 11): `cargo bench --bench cutover`, or
//! `scripts/bench-cutover.sh`, which also writes the results file.
//!
//! The write pause (producers stopped on the source to started on the target) must not grow
//! with the data: the copy follows the source in the background and the history is verified
//! alongside it, so the pause covers the source's quiet period, the tail's copy and the tail's
//! verification. This runs the live migration of tests/mirror_live.rs (a producer at 600
//! records/s and a committing consumer, moved by hooks) over histories of different sizes, each
//! twice, and reports the pauses and the verify step's time from the state file. Every run's
//! data is checked as the tests check it: each acknowledged record on the target once and in
//! order, each consumed once.
//!
//! Environment: BENCH_HISTORIES (comma-separated record counts, default 3000,600000),
//! BENCH_RUNS (default 2), BENCH_OUT (a file to write the results to).

#[allow(dead_code)]
#[path = "../tests/support/apply_process.rs"]
mod apply_process;
#[allow(dead_code)]
#[path = "../tests/support/live_mirror.rs"]
mod live_mirror;
#[path = "../tests/support/state_json.rs"]
mod state_json;

use std::env;
use std::fmt::Write as _;
use std::process::ExitCode;

use ferry_testbed::Testbed;
use live_mirror::{LiveMigration, SETTLE_SECONDS, steps};

struct Run {
    history: i64,
    write_pause: f64,
    consumer_pause: f64,
    verify_seconds: f64,
    apply_seconds: f64,
}

fn main() -> ExitCode {
    let histories: Vec<i64> = env::var("BENCH_HISTORIES")
        .unwrap_or_else(|_| "3000,600000".into())
        .split(',')
        .map(|h| {
            h.trim()
                .parse()
                .expect("BENCH_HISTORIES holds record counts")
        })
        .collect();
    let runs: usize = env::var("BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(2);
    let bed = Testbed::start().expect("the test bed starts");
    let mut results = Vec::new();
    for &history in &histories {
        for run in 0..runs {
            let name = format!("bench-{history}-{run}");
            let mut migration = LiveMigration::start_with_history(&bed, &name, history);
            let started = std::time::Instant::now();
            migration.apply_to_completion("apply");
            let apply_seconds = started.elapsed().as_secs_f64();
            let (write_pause, consumer_pause) = migration.assert_completed_state(1);
            let state = migration.state();
            let verify_seconds = steps(&state)
                .iter()
                .find(|s| s["kind"] == "verify")
                .and_then(|s| s["outcome"]["seconds"].as_f64())
                .unwrap_or(f64::NAN);
            let (last_on_source, last) = migration.stop_producer_after_it_wrote_to_the_target();
            migration.assert_topics_hold(last_on_source, last);
            migration.assert_consumed_exactly_once(last);
            eprintln!(
                "bench cutover: history {history} run {}: write pause {write_pause:.2}s, consumer pause {consumer_pause:.2}s, verify {verify_seconds:.2}s, apply {apply_seconds:.1}s",
                run + 1
            );
            results.push(Run {
                history,
                write_pause,
                consumer_pause,
                verify_seconds,
                apply_seconds,
            });
        }
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# ferry mirror cutover: pauses by history size (live producer at 600 records/s over 6 partitions, settle_period {SETTLE_SECONDS}s)"
    );
    let _ = writeln!(
        out,
        "history_records  run  write_pause_s  consumer_pause_s  verify_step_s  apply_s"
    );
    for (i, r) in results.iter().enumerate() {
        let _ = writeln!(
            out,
            "{:>15}  {:>3}  {:>13.2}  {:>16.2}  {:>13.2}  {:>7.1}",
            r.history,
            i % runs + 1,
            r.write_pause,
            r.consumer_pause,
            r.verify_seconds,
            r.apply_seconds
        );
    }
    print!("{out}");
    if let Ok(path) = env::var("BENCH_OUT") {
        std::fs::write(&path, &out).expect("the results file is written");
        eprintln!("bench cutover: results in {path}");
    }
    ExitCode::SUCCESS
}
