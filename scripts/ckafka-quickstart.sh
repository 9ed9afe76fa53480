#!/usr/bin/env bash
# The CKafka quickstart: starts a source and a target Apache Kafka broker plus the CKafka API emulator
# for the target (testbed/src/ckafka_emulator), seeds the source with the quickstart data set,
# then runs examples/ckafka (a mirror migration whose topic metadata goes through the emulated
# CKafka API): `ferry plan`, `ferry apply --auto-approve`, and `ferry plan` once more, which
# finds nothing left to do. The example is copied to a temporary directory so that its state
# file does not land in the repository. Extra arguments go to the first `ferry plan`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

cargo_home="${CARGO_HOME:-$HOME/.cargo}"
if ! command -v cargo >/dev/null 2>&1 && [[ -x "$cargo_home/bin/cargo" ]]; then
  PATH="$cargo_home/bin:$PATH"
fi

scripts/install-kafka.sh >/dev/null

cargo build --locked --workspace --bin ferry --bin ferry-testbed

work="$(mktemp -d -t ferry-ckafka-XXXXXX)"
trap 'rm -rf "$work"' EXIT
cp examples/ckafka/main.hcl "$work/"
ferry="$PWD/target/debug/ferry"

target/debug/ferry-testbed run --seed quickstart --ckafka-emulator -- \
  bash -c 'set -e; "$0" -C "$1" plan "${@:2}"; "$0" -C "$1" apply --auto-approve; "$0" -C "$1" plan' \
  "$ferry" "$work" "$@"
