#!/usr/bin/env bash
# Benchmarks `ferry plan` against a large source cluster: a test bed whose source is seeded with
# 2000 topics x 6 partitions and 200 consumer groups (see testbed/src/seed.rs, `bench`). Runs the
# command RUNS times, timing each (wall clock, and max RSS through GNU time when available), and
# writes the results to docs/benchmarks/plan-TOPICSxPARTITIONS.txt.
#
#   scripts/bench-plan.sh                 # runs: target/release/ferry plan -C fixtures/bench
#   scripts/bench-plan.sh CMD ARGS...     # benchmarks another command (run from the repo root)
#
# Environment: RUNS (default 3), BENCH_TOPICS, BENCH_PARTITIONS, BENCH_GROUPS.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."


# Inner mode: ferry-testbed runs this script again as its CMD, with the brokers up and seeded.
if [[ "${1:-}" == "--measure" ]]; then
  shift
  out="$1"
  shift
  runs="${RUNS:-3}"
  echo "${FERRY_TESTBED_SEED_SECONDS:-?}" >"$out/seed_seconds"
  for ((run = 1; run <= runs; run++)); do
    start="$(date +%s.%N)"
    status=0
    if [[ -x /usr/bin/time ]]; then
      /usr/bin/time -v -o "$out/time.$run" "$@" >"$out/stdout.$run" 2>"$out/stderr.$run" || status=$?
    else
      "$@" >"$out/stdout.$run" 2>"$out/stderr.$run" || status=$?
    fi
    end="$(date +%s.%N)"
    wall="$(echo "$start $end" | awk '{ printf "%.3f", $2 - $1 }')"
    rss_kib=""
    if [[ -f "$out/time.$run" ]]; then
      rss_kib="$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$out/time.$run")"
    fi
    echo "$run $wall ${rss_kib:-?} $status $(wc -l <"$out/stdout.$run") $(wc -c <"$out/stdout.$run")" \
      >>"$out/runs"
    echo "bench-plan: run $run: ${wall}s, max RSS ${rss_kib:-?} KiB, exit $status" >&2
  done
  # One more run with -v: where the time goes (per cluster call) and how many requests of each
  # kind were sent; the request counts must not grow with the number of topics.
  "$@" -v >/dev/null 2>"$out/verbose" || true
  grep -E 'cluster call|cluster requests' "$out/verbose" | sed -E 's/^[^ ]+ +DEBUG +//' >"$out/calls" || true
  exit 0
fi

topics="${BENCH_TOPICS:-2000}"
partitions="${BENCH_PARTITIONS:-6}"
groups="${BENCH_GROUPS:-200}"
RESULTS="docs/benchmarks/plan-${topics}x${partitions}.txt"
runs="${RUNS:-3}"
if (($# > 0)); then
  command=("$@")
else
  command=(target/release/ferry plan -C fixtures/bench)
  if [[ ! -f fixtures/bench/main.hcl ]]; then
    echo "bench-plan: fixtures/bench/main.hcl is missing" >&2
    exit 1
  fi
fi

cargo_home="${CARGO_HOME:-$HOME/.cargo}"
if ! command -v cargo >/dev/null 2>&1 && [[ -x "$cargo_home/bin/cargo" ]]; then
  PATH="$cargo_home/bin:$PATH"
fi

# The tree as built, before the results file is rewritten (that alone does not make it dirty).
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- . ':(exclude)docs/benchmarks' 2>/dev/null || echo ' (dirty)')"

scripts/install-kafka.sh >/dev/null
# Brokers as Kafka's own start scripts run them (kafka-server-start.sh, kafka-run-class.sh), not
# with the test bed's lean start-up settings: a benchmark measures steady throughput.
export FERRY_KAFKA_JVM_OPTS="${FERRY_KAFKA_JVM_OPTS:--Xms1g -Xmx1g -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35}"
cargo build --release --locked --workspace --bin ferry --bin ferry-testbed

work="$(mktemp -d "${TMPDIR:-/tmp}/ferry-bench-plan.XXXXXX")"
trap 'rm -rf "$work"' EXIT

echo "bench-plan: ${command[*]} x $runs against $topics topics x $partitions partitions, $groups groups" >&2
RUNS="$runs" target/release/ferry-testbed run --seed bench \
  --bench-topics "$topics" --bench-partitions "$partitions" --bench-groups "$groups" \
  -- scripts/bench-plan.sh --measure "$work" "${command[@]}"

seeding="$(cat "$work/seed_seconds")s"
mkdir -p "$(dirname "$RESULTS")"
{
  echo "# ferry plan benchmark (scripts/bench-plan.sh)"
  echo "date:      $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit:    $commit"
  echo "machine:   $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
  echo "broker:    Apache Kafka ${FERRY_KAFKA_VERSION:-4.3.1} (single-node KRaft), source and target on loopback"
  echo "data set:  $topics topics x $partitions partitions, $groups groups (seeded in $seeding)"
  echo "command:   ${command[*]}"
  echo
  printf '%-4s %10s %14s %5s %12s %12s\n' run wall_s max_rss_kib exit out_lines out_bytes
  while read -r run wall rss status lines bytes; do
    printf '%-4s %10s %14s %5s %12s %12s\n' "$run" "$wall" "$rss" "$status" "$lines" "$bytes"
  done <"$work/runs"
  echo
  awk '{ sum += $2; if (min == "" || $2 < min) min = $2; if ($2 > max) max = $2 }
       END { if (NR) printf "wall clock: min %.3fs, mean %.3fs, max %.3fs over %d runs\n", min, sum / NR, max, NR }' \
    "$work/runs"
  if [[ -s "$work/calls" ]]; then
    echo
    echo "one more run with -v (cluster calls in order, then requests sent per cluster):"
    cat "$work/calls"
  fi
} >"$RESULTS"
cat "$RESULTS"

# A plan exits 0, or 2 with --detailed-exitcode when changes are pending; anything else failed.
if awk '$4 != 0 && $4 != 2 { bad = 1 } END { exit !bad }' "$work/runs"; then
  echo "bench-plan: a run failed; its output:" >&2
  tail -n 20 "$work"/stderr.* >&2
  exit 1
fi
