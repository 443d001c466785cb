# shellcheck shell=bash
# Shared helpers of the demo scripts: run both ends with labelled output, wait for a ready
# line with a timeout (never a blind sleep), and clean up on exit, Ctrl-C or SIGTERM.
#
#   source "$(dirname "$0")/lib.sh"
#   start receiver msgq-receiver --key 1234      # background, output labelled [receiver]
#   wait_ready receiver "waiting" 10             # until its log shows the ready line
#   run sender msgq-sender --message hi          # foreground, labelled [sender]
#   finish receiver                              # wait for it, return its exit code

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="${IPC_BIN:-$ROOT/target/debug}:$PATH"
DEMO_TMP=$(mktemp -d /tmp/ipc-demo.XXXXXX)
declare -A PIDS=()

# Prefixes every line of stdin with [NAME].
label() { sed -u "s/^/[$1] /"; }

# Prints a heading between the steps of a demo.
section() { printf '\n== %s ==\n' "$*"; }

# start NAME CMD...: runs CMD in the background; its stdout and stderr, merged so that lines
# keep their order, are labelled [NAME] and logged for wait_ready.
start() {
  local name=$1; shift
  "$@" > >(tee -a "$DEMO_TMP/$name.log" | label "$name") 2>&1 </dev/null &
  PIDS[$name]=$!
}

# run NAME CMD...: runs CMD in the foreground with labelled output; returns its exit code.
run() {
  local name=$1; shift
  "$@" 2>&1 </dev/null | label "$name"
}

# wait_ready NAME PATTERN [SECONDS]: waits until NAME's output contains PATTERN.
wait_ready() {
  local name=$1 pattern=$2 seconds=${3:-10}
  local deadline=$((SECONDS + seconds))
  until grep -q -- "$pattern" "$DEMO_TMP/$name.log" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      echo "demo: $name did not print '$pattern' within ${seconds}s" >&2
      return 1
    fi
    if ! kill -0 "${PIDS[$name]}" 2>/dev/null; then
      echo "demo: $name exited before printing '$pattern'" >&2
      return 1
    fi
    sleep 0.02
  done
}

# finish NAME: waits for a started program and returns its exit code.
finish() {
  local name=$1 code=0
  wait "${PIDS[$name]}" || code=$?
  unset "PIDS[$name]"
  return "$code"
}

# On any exit: interrupt what is still running (each program then removes what it owns).
demo_cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$DEMO_TMP"
}
trap demo_cleanup EXIT
trap 'exit 130' INT TERM
