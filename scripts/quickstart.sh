#!/usr/bin/env bash
# The quickstart: starts a source and a target tansu broker, seeds the source with the quickstart
# data set (see testbed/src/seed.rs), and runs scripts/quickstart-demo.sh against them:
# `ferry plan -C examples/quickstart`, then a single_consume migration of a live application
# applied end to end with `ferry apply -C examples/quickstart-apply`, checked for lost records.
# Extra arguments go to `ferry plan`. ferry-testbed stops the brokers and removes their temporary
# directory when the demo ends, fails, or is interrupted.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

cargo_home="${CARGO_HOME:-$HOME/.cargo}"
if ! command -v cargo >/dev/null 2>&1 && [[ -x "$cargo_home/bin/cargo" ]]; then
  PATH="$cargo_home/bin:$PATH"
fi

FERRY_TANSU="$(scripts/install-tansu.sh)"
export FERRY_TANSU

# Debug profile, the same as scripts/test.sh, so that one build serves both.
cargo build --locked --workspace --bin ferry --bin ferry-testbed

exec target/debug/ferry-testbed run --seed quickstart -- scripts/quickstart-demo.sh "$@"
