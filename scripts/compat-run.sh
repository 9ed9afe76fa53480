#!/usr/bin/env bash
# The compatibility run: a source broker on Apache Kafka 3.9.1 (an older self-built cluster) and a
# target on 4.3.1 (the default, standing in for CKafka), the three schemes end to end. It runs the
# schemes' own end-to-end tests with FERRY_KAFKA_SOURCE_VERSION set, so every test bed in them
# starts its source on 3.9.1:
#   tests/apply_schemes.rs  dual_consume and single_consume with live producer and consumer processes
#   tests/apply_mirror.rs   mirror: copy, offset translation, verification
#   tests/mirror_live.rs    mirror with live clients: the cutover, kills at each step, rollback
#   tests/apply_cli.rs      apply, resume, saved plans, and the quickstart's mirror migration
#   tests/plan_e2e.rs       plans of all three schemes against both clusters
# Not part of CI (it repeats those tests on another source release); results: docs/testbed.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

cargo_home="${CARGO_HOME:-$HOME/.cargo}"
if ! command -v cargo >/dev/null 2>&1 && [[ -x "$cargo_home/bin/cargo" ]]; then
  PATH="$cargo_home/bin:$PATH"
fi

readonly SOURCE_VERSION="${FERRY_KAFKA_SOURCE_VERSION:-3.9.1}"
scripts/install-kafka.sh 4.3.1 "$SOURCE_VERSION" >/dev/null

export FERRY_KAFKA_SOURCE_VERSION="$SOURCE_VERSION"
echo "compat-run: source Apache Kafka $SOURCE_VERSION, target ${FERRY_KAFKA_VERSION:-4.3.1}" >&2
cargo test --locked --test apply_schemes --test apply_mirror --test mirror_live --test apply_cli --test plan_e2e "$@"
