#!/usr/bin/env bash
# The quickstart: starts a source and a target Apache Kafka broker, seeds the source with the quickstart
# data set (see testbed/src/seed.rs), and runs scripts/quickstart-demo.sh against them: a mirror
# migration of examples/quickstart, planned, applied (copy, offset translation, verification) and
# ending with the verification report.
#
#   scripts/quickstart.sh          # the mirror migration
#   scripts/quickstart.sh --live   # instead, a single_consume migration of a live application
#                                  # (scripts/quickstart-live-demo.sh, examples/quickstart-apply)
#
# ferry-testbed stops the brokers and removes their temporary directory when the demo ends,
# fails, or is interrupted.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

cargo_home="${CARGO_HOME:-$HOME/.cargo}"
if ! command -v cargo >/dev/null 2>&1 && [[ -x "$cargo_home/bin/cargo" ]]; then
  PATH="$cargo_home/bin:$PATH"
fi

# The Apache Kafka jars the brokers run (and librdkafka's C build prerequisites).
scripts/install-kafka.sh >/dev/null

# Debug profile, the same as scripts/test.sh, so that one build serves both.
cargo build --locked --workspace --bin ferry --bin ferry-testbed

demo=scripts/quickstart-demo.sh
if [[ "${1:-}" == "--live" ]]; then
  demo=scripts/quickstart-live-demo.sh
fi
exec target/debug/ferry-testbed run --seed quickstart -- "$demo"
