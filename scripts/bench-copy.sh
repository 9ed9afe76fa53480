#!/usr/bin/env bash
# Benchmarks the mirror copy engine against the brokers' own ceiling (benches/copy.rs): seeds a
# source topic (default 1,000,000 records of 1 KiB in 12 partitions), then measures in one run
# raw fetch (1, 2, 4, 6 consumers), raw produce, a naive consume-then-produce loop and ferry's
# copy (peak RSS included), checks ferry's copy partition by partition, and writes the results
# to docs/benchmarks/copy-RECORDSxSIZE.txt.
#
# Environment: BENCH_RECORDS, BENCH_VALUE_SIZE, BENCH_PARTITIONS. Run it on an otherwise idle
# machine: both brokers and the copy share its cores.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

cargo_home="${CARGO_HOME:-$HOME/.cargo}"
if ! command -v cargo >/dev/null 2>&1 && [[ -x "$cargo_home/bin/cargo" ]]; then
  PATH="$cargo_home/bin:$PATH"
fi
scripts/install-kafka.sh >/dev/null
# Brokers as Kafka's own start scripts run them (kafka-server-start.sh, kafka-run-class.sh), not
# with the test bed's lean start-up settings: a benchmark measures steady throughput.
export FERRY_KAFKA_JVM_OPTS="${FERRY_KAFKA_JVM_OPTS:--Xms1g -Xmx1g -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35}"

records="${BENCH_RECORDS:-1000000}"
size="${BENCH_VALUE_SIZE:-1024}"
export BENCH_RECORDS="$records" BENCH_VALUE_SIZE="$size"
results="docs/benchmarks/copy-${records}x${size}.txt"
work="$(mktemp -d "${TMPDIR:-/tmp}/ferry-bench-copy.XXXXXX")"
trap 'rm -rf "$work"' EXIT

BENCH_OUT="$work/results" cargo bench --locked --bench copy

mkdir -p "$(dirname "$results")"
{
  echo "# ferry copy benchmark (scripts/bench-copy.sh, benches/copy.rs)"
  echo "date:    $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit:  $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (dirty)')"
  echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo), load before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "broker:  Apache Kafka ${FERRY_KAFKA_VERSION:-4.3.1} (single-node KRaft, JVM options: ${FERRY_KAFKA_JVM_OPTS:-the test bed lean defaults}), source and target on loopback, same machine"
  echo
  cat "$work/results"
} >"$results"
cat "$results"
