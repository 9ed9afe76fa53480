#!/usr/bin/env bash
# Benchmarks ferry's copy beside MirrorMaker 2 and the brokers' ceiling on two Apache Kafka
# brokers (benches/copy/main.rs says what is measured): for each data set, twice, a fresh pair
# of brokers, then the results in docs/benchmarks/copy-RECORDSxSIZE-runN.txt.
#
#   scripts/bench-copy.sh                  # both data sets: 1,000,000 x 1 KiB and 5,000,000 x 100 B
#   scripts/bench-copy.sh 200000x1024      # one data set, RECORDSxVALUE_SIZE
#
# Environment: RUNS (default 2), BENCH_PARTITIONS (default 12). Run it on an otherwise idle
# machine: both brokers, MirrorMaker 2 and the copies share its cores.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

cargo_home="${CARGO_HOME:-$HOME/.cargo}"
if ! command -v cargo >/dev/null 2>&1 && [[ -x "$cargo_home/bin/cargo" ]]; then
  PATH="$cargo_home/bin:$PATH"
fi
scripts/install-kafka.sh >/dev/null
# Brokers with the heap and collector Kafka's own start scripts give them (kafka-server-start.sh),
# not the test bed's lean start-up settings: a benchmark measures steady throughput.
export FERRY_KAFKA_JVM_OPTS="${FERRY_KAFKA_JVM_OPTS:--Xms1g -Xmx1g -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35}"

sets=("$@")
((${#sets[@]} > 0)) || sets=(1000000x1024 5000000x100)
runs="${RUNS:-2}"
# The tree as built, before any results file is rewritten (those alone do not make it dirty).
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- . ':(exclude)docs/benchmarks' 2>/dev/null || echo ' (dirty)')"
cargo bench --locked --bench copy --no-run >&2
mkdir -p docs/benchmarks
for set in "${sets[@]}"; do
  records="${set%x*}"
  size="${set#*x}"
  for ((run = 1; run <= runs; run++)); do
    results="docs/benchmarks/copy-${records}x${size}-run${run}.txt"
    work="$(mktemp)"
    load="$(cut -d' ' -f1-3 /proc/loadavg)"
    echo "bench-copy: $set, run $run of $runs" >&2
    BENCH_RECORDS="$records" BENCH_VALUE_SIZE="$size" BENCH_OUT="$work" cargo bench --locked --bench copy
    {
      echo "# ferry copy benchmark (scripts/bench-copy.sh, benches/copy/main.rs), run $run of $runs"
      echo "date:    $(date -u +%Y-%m-%dT%H:%M:%SZ)"
      echo "commit:  $commit"
      echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo), load before the run: $load"
      echo "brokers: Apache Kafka ${FERRY_KAFKA_VERSION:-4.3.1}, single-node KRaft, source and target on loopback on this machine, JVM options: $FERRY_KAFKA_JVM_OPTS"
      echo "tools:   kafka-producer-perf-test, kafka-consumer-perf-test and MirrorMaker 2 (connect-mirror, dedicated mode) of the same release; ferry release build"
      echo
      cat "$work"
    } >"$results"
    rm -f "$work"
    echo "bench-copy: wrote $results" >&2
  done
done
