#!/usr/bin/env bash
# The quickstart's stand-in for a deployment system: starts, stops and repoints the demo
# application's processes (`ferry-testbed app produce|consume`).
#
#   app.sh start NAME              start NAME in the background against the servers in its
#                                  bootstrap file
#   app.sh stop NAME               SIGTERM, wait until it is gone (SIGKILL after 30s)
#   app.sh repoint NAME SERVERS    stop, write SERVERS to the bootstrap file, start
#
# Every app lives in $QUICKSTART_APP_DIR/NAME/: `cmdline` (its command line, one argument a
# line, written by scripts/quickstart-demo.sh), `bootstrap`, `pid`, `log`, and what the app
# itself writes (producer: `progress`, `runs`; consumer: `out`).
set -euo pipefail

usage() {
  echo "usage: app.sh start|stop NAME | app.sh repoint NAME SERVERS" >&2
  exit 2
}

[[ $# -ge 2 ]] || usage
action=$1 name=$2
: "${QUICKSTART_APP_DIR:?set it to the directory of the quickstart application}"
dir="$QUICKSTART_APP_DIR/$name"
[[ -f "$dir/cmdline" ]] || { echo "app.sh: no app $name in $QUICKSTART_APP_DIR" >&2; exit 1; }
cd "$dir"

# The process exists and is not a zombie (a restarted app is an orphan nobody may reap).
alive() {
  [[ -r "/proc/$1/stat" ]] || return 1
  local state
  state=$(sed 's/.*) //' "/proc/$1/stat" | cut -c1)
  [[ "$state" != Z && "$state" != X ]]
}

start() {
  if [[ -s pid ]] && alive "$(cat pid)"; then
    echo "app.sh: $name is already running (pid $(cat pid))" >&2
    return 1
  fi
  local -a argv
  mapfile -t argv < cmdline
  "${argv[@]}" --bootstrap-file bootstrap >> log 2>&1 < /dev/null &
  echo "$!" > pid
  echo "started $name (pid $!) against $(cat bootstrap)"
}

stop() {
  [[ -s pid ]] || return 0
  local pid n=0
  pid=$(cat pid)
  if alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    while alive "$pid"; do
      n=$((n + 1))
      if [[ $n -eq 600 ]]; then
        echo "app.sh: $name (pid $pid) still runs 30s after SIGTERM: SIGKILL" >&2
        kill -KILL "$pid" 2>/dev/null || true
      fi
      sleep 0.05
    done
    echo "stopped $name (pid $pid)"
  fi
  rm -f pid
}

case $action in
  start) start ;;
  stop) stop ;;
  repoint)
    [[ $# -eq 3 ]] || usage
    stop
    printf '%s\n' "$3" > bootstrap.tmp
    mv bootstrap.tmp bootstrap
    start
    ;;
  *) usage ;;
esac
