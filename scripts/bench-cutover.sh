#!/usr/bin/env bash
# The mirror cutover benchmark (benches/cutover.rs): the write pause and the consumers' pause of
# a live migration over histories of different sizes, each run twice, on two local Apache Kafka
# brokers. Writes docs/benchmarks/cutover.txt (quoted in docs/benchmarks.md).
#
#   scripts/bench-cutover.sh                         # histories 3,000 and 600,000 records
#   BENCH_HISTORIES=3000,1200000 scripts/bench-cutover.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo_home="${CARGO_HOME:-$HOME/.cargo}"
if ! command -v cargo >/dev/null 2>&1 && [[ -x "$cargo_home/bin/cargo" ]]; then
  PATH="$cargo_home/bin:$PATH"
fi
scripts/install-kafka.sh >/dev/null
# The debug profile: the binaries the live harness starts are the tests' own.
cargo build --locked --workspace --bin ferry --bin ferry-testbed
BENCH_OUT="${BENCH_OUT:-docs/benchmarks/cutover.txt}" \
  cargo bench --locked --profile dev --bench cutover
