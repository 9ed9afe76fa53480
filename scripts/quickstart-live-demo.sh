#!/usr/bin/env bash
# The live quickstart's part that runs against the brokers: `scripts/quickstart.sh --live` runs
# it inside `ferry-testbed run --seed quickstart`, which sets FERRY_SOURCE_BOOTSTRAP and
# FERRY_TARGET_BOOTSTRAP.
#
# A single_consume migration applied end to end on examples/quickstart-apply: a consumer (group
# quickstart-app) and a producer of numbered records run on the source topic orders.v1,
# `ferry apply` moves them to the target with the hooks of that directory, and the demo checks
# that the group consumed every number produced on either cluster.
#
# Exits non-zero if a step fails or a number was not consumed. The application is stopped and
# its files, the state file and the hook logs (all in a temporary directory) are removed at exit.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ferry="$root/target/debug/ferry"
testbed="$root/target/debug/ferry-testbed"
apply_dir=examples/quickstart-apply
app_sh="$root/$apply_dir/app.sh"

readonly TOPIC=orders.v1 PARTITIONS=6 GROUP=quickstart-app
readonly TOTAL=3000 RATE=300 # numbers 0..2999, about 10 seconds of traffic
readonly TIMEOUT=120         # seconds, for each wait below

: "${FERRY_SOURCE_BOOTSTRAP:?run this through scripts/quickstart.sh}"
: "${FERRY_TARGET_BOOTSTRAP:?run this through scripts/quickstart.sh}"
source_bootstrap=$FERRY_SOURCE_BOOTSTRAP
target_bootstrap=$FERRY_TARGET_BOOTSTRAP

cd "$root"
work="$(mktemp -d "${TMPDIR:-/tmp}/ferry-quickstart.XXXXXX")"
export QUICKSTART_APP_DIR="$work/app"
state_path="$work/ferry.state.json" # the hook logs go beside it, to $work/ferry-logs

cleanup() {
  local app
  for app in producer consumer; do
    if [[ -f "$QUICKSTART_APP_DIR/$app/cmdline" ]]; then
      "$app_sh" stop "$app" >/dev/null || true
    fi
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

section() { printf '\n==> %s\n\n' "$*"; }
fail() {
  local log
  for log in "$QUICKSTART_APP_DIR"/*/log; do
    [[ -f "$log" ]] || continue
    echo "--- last lines of $(basename "$(dirname "$log")")'s log" >&2
    tail -n 15 "$log" >&2
  done
  echo "quickstart: $*" >&2
  exit 1
}

# waits until COMMAND succeeds, polling every 0.2s; fails after TIMEOUT seconds
wait_for() {
  local what=$1 deadline=$((SECONDS + TIMEOUT))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || fail "timed out after ${TIMEOUT}s waiting for $what"
    sleep 0.2
  done
}

# Deploys app NAME against the source: its directory, command line and bootstrap file.
# The app watches this script's pid and stops if it is gone.
deploy() {
  local name=$1
  shift
  mkdir -p "$QUICKSTART_APP_DIR/$name"
  printf '%s\n' "$testbed" app "$@" --watch-pid "$$" > "$QUICKSTART_APP_DIR/$name/cmdline"
  printf '%s\n' "$source_bootstrap" > "$QUICKSTART_APP_DIR/$name/bootstrap"
}

app_file() { echo "$QUICKSTART_APP_DIR/$1/$2"; }
consumer_joined() { grep -q 'assigned, committed positions' "$(app_file consumer log)" 2>/dev/null; }
consumed_lines() { if [[ -f "$(app_file consumer out)" ]]; then wc -l < "$(app_file consumer out)"; else echo 0; fi; }
consumed_some() { (($(consumed_lines) >= RATE)); }
# The producer exits at the end of its stream (a zombie counts as gone: nobody may reap it).
producer_done() {
  local pid state
  pid=$(cat "$(app_file producer pid)" 2>/dev/null) || return 0
  state=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -c1) || return 0
  [[ -z "$state" || "$state" == Z || "$state" == X ]]
}
# Numbers the producer had acknowledged (its runs) that the consumer never processed.
missing_numbers() {
  awk 'FNR == NR { seen[$1] = 1; next }
       { for (n = $2; n <= $3; n++) if (!(n in seen)) missing++ }
       END { print missing + 0 }' "$(app_file consumer out)" "$(app_file producer runs)"
}
all_consumed() { [[ -s "$(app_file producer runs)" ]] && (($(missing_numbers) == 0)); }

section "ferry apply -C $apply_dir   (scheme single_consume, on a live stream)"
echo "Starting the application on the source ($source_bootstrap): a consumer in group $GROUP,"
echo "then a producer of the numbers 0..$((TOTAL - 1)) into $TOPIC at ${RATE}/s."
deploy consumer consume --group "$GROUP" --topic "$TOPIC" --out out
deploy producer produce --topic "$TOPIC" --partitions "$PARTITIONS" --count "$TOTAL" \
  --rate "${RATE}/s" --progress progress --resume --runs runs
"$app_sh" start consumer
# The consumer starts at the end of the topic (auto.offset.reset=latest): the producer starts
# once it joined the group, so that it sees the whole stream.
wait_for "the consumer to join group $GROUP" consumer_joined
"$app_sh" start producer
wait_for "the consumer to process its first records" consumed_some
echo "The consumer has processed $(consumed_lines) records; migrating while the stream runs."
echo

echo "\$ ferry apply --auto-approve -C $apply_dir"
"$ferry" apply --auto-approve -C "$apply_dir" --var "state_path=$state_path"

echo
echo "Waiting for the producer to finish its stream on the target and the consumer to catch up..."
wait_for "the producer to finish" producer_done
deadline=$((SECONDS + TIMEOUT))
until all_consumed || ((SECONDS >= deadline)); do sleep 0.2; done

echo
echo "\$ ferry status -C $apply_dir"
"$ferry" status -C "$apply_dir" --var "state_path=$state_path"

# The summary, from the application's own files.
produced_on() {
  awk -v b="$1" '$1 == b { n += $3 - $2 + 1 } END { print n + 0 }' "$(app_file producer runs)"
}
on_source=$(produced_on "$source_bootstrap")
on_target=$(produced_on "$target_bootstrap")
processed=$(consumed_lines)
distinct=$(sort -un "$(app_file consumer out)" | wc -l)
missing=$(missing_numbers)
switched_at=$(awk -v b="$target_bootstrap" '$1 == b { print $2; exit }' "$(app_file producer runs)")

section "Result"
printf '  %-34s %s\n' \
  "produced on the source" "$on_source records (numbers 0..$((${switched_at:-$TOTAL} - 1)))" \
  "produced on the target" "$on_target records (producers switched at ${switched_at:-?})" \
  "consumed by group $GROUP" "$processed records, $distinct distinct ($((processed - distinct)) again: at-least-once)" \
  "numbers missing" "$missing"
echo
if ((missing > 0 || on_source + on_target != TOTAL)); then
  fail "$missing numbers produced were never consumed"
fi
echo "Every number produced was consumed across the switch. The quickstart cleans up on exit."
