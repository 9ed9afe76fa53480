#!/usr/bin/env bash
# The quickstart's part that runs against the brokers: `scripts/quickstart.sh` runs it inside
# `ferry-testbed run --seed quickstart`, which sets FERRY_SOURCE_BOOTSTRAP and
# FERRY_TARGET_BOOTSTRAP.
#
#   1. `ferry plan` on examples/quickstart: a mirror migration of the seeded orders system;
#   2. `ferry apply` of that plan: topics created, every partition copied record by record,
#      consumer offsets translated and committed on the target, hooks run, the tail drained;
#   3. `ferry plan` once more: nothing left to do (exit 0 with --detailed-exitcode);
#   4. `ferry status`: the recorded steps and, last, the verification report: each copied
#      partition compared with its source (record count and an order-sensitive checksum of key,
#      value, headers and timestamp), as the apply's verify step recorded it in the state file.
#
# The state file and hook logs live in a temporary directory, removed at exit.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ferry="$root/target/debug/ferry"
dir=examples/quickstart

: "${FERRY_SOURCE_BOOTSTRAP:?run this through scripts/quickstart.sh}"
: "${FERRY_TARGET_BOOTSTRAP:?run this through scripts/quickstart.sh}"

cd "$root"
work="$(mktemp -d "${TMPDIR:-/tmp}/ferry-quickstart.XXXXXX")"
trap 'rm -rf "$work"' EXIT
state=(--var "state_path=$work/ferry.state.json")

section() { printf '\n==> %s\n\n' "$*"; }

section "1/4  ferry plan -C $dir"
plan_status=0
"$ferry" plan -C "$dir" "${state[@]}" --detailed-exitcode || plan_status=$?
((plan_status == 2)) || { echo "quickstart: expected pending changes (exit 2), got $plan_status" >&2; exit 1; }

section "2/4  ferry apply --auto-approve -C $dir"
"$ferry" apply --auto-approve -C "$dir" "${state[@]}"

section "3/4  ferry plan -C $dir again: nothing left to do"
"$ferry" plan -C "$dir" "${state[@]}" --detailed-exitcode

section "4/4  ferry status -C $dir: the steps and the verification report"
"$ferry" status -C "$dir" "${state[@]}"
