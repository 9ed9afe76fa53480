#!/usr/bin/env bash
# Runs ferry's whole test suite, including the integration tests against real Apache Kafka brokers.
# Extra arguments go to `cargo test` (e.g. a test name filter).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

cargo_home="${CARGO_HOME:-$HOME/.cargo}"
if ! command -v cargo >/dev/null 2>&1 && [[ -x "$cargo_home/bin/cargo" ]]; then
  PATH="$cargo_home/bin:$PATH"
fi

# The Apache Kafka jars the brokers run (and librdkafka's C build prerequisites).
scripts/install-kafka.sh >/dev/null

# Style and lints first: they fail in seconds, before the long test run.
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings

# Debug profile: scripts/quickstart.sh builds the same profile and reuses these artifacts.
# The last line sums every test binary's result, so the log closes on the whole suite's count.
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
cargo test --workspace --locked "$@" 2>&1 | tee "$log" || status=$?
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i) ~ /^passed/) p += $(i - 1); if ($(i) ~ /^failed/) f += $(i - 1); if ($(i) ~ /^ignored/) s += $(i - 1) } }
     END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$log"
exit "$status"
