#!/usr/bin/env bash
# side-by-side.sh: the two ends of one mechanism in two tmux panes, for the classroom.
#
#   scripts/side-by-side.sh MECH [--c-receiver | --c-sender] [options]
#
# MECH is pipe, fifo, msgq, sem, shm or socket. The left pane runs the receiving end (started
# first, and waited for until it prints its ready line), the right pane the sending end, where
# you type lines and then `end`. Both panes stay open after their program exits (the last line
# says `[exited with status N: press Enter to close this pane]`), so that you can read it all.
# Close the whole session with Ctrl-B then `:kill-session` (or `tmux kill-session -t SESSION`):
# that also stops whatever still runs (SIGHUP), and each program removes what it owns.
#
#   --c-receiver   the left pane runs the tutorial's C receiver (c/build/, built with make -C c)
#                  (sem: the initialising copy, c/build/sem_mutex -i)
#   --c-sender     the right pane runs the C sender (sem: the joining copy)
#                  A Rust end facing a C end gets --wire c (the C programs' byte layout).
#                  pipe: the left pane runs pipe-demo and the right one the C pipe.c, to compare.
#   --key K        System V key for msgq, sem and shm (default 1234, the tutorial's)
#   --path P       FIFO path (default /tmp/my_fifo)
#   --port N       TCP port for socket (default 9734)
#   --session S    tmux session name (default ipc-pairs-MECH)
#   --socket PATH  tmux server socket (tmux -S PATH): a private tmux server (tests)
#   --detach       set the session up and return instead of attaching (tests, scripts)
#
# Examples:
#   scripts/side-by-side.sh msgq                  # msgq-receiver | msgq-sender
#   scripts/side-by-side.sh shm --c-receiver      # C shm_receiver | shm-sender --wire c
#   scripts/side-by-side.sh fifo --path /tmp/f
#   scripts/side-by-side.sh socket --c-sender    # socket-server --wire c | C client
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${IPC_BIN:-$ROOT/target/debug}
C_BIN=$ROOT/c/build

die() {
  echo "side-by-side: error: $1" >&2
  if [[ -n ${2:-} ]]; then echo "hint: $2" >&2; fi
  exit "${3:-1}"
}

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
}

mech="" c_end="" key=1234 path=/tmp/my_fifo port=9734 session="" socket="" detach=0
while (($#)); do
  case $1 in
    -h | --help) usage; exit 0 ;;
    --c-receiver | --c-sender)
      [[ -z $c_end ]] || die "choose one of --c-receiver and --c-sender" "" 2
      c_end=${1#--c-} ;;
    --key | --path | --port | --session | --socket)
      (($# >= 2)) || die "$1 needs a value" "" 2
      case $1 in
        --key) key=$2 ;; --path) path=$2 ;; --port) port=$2 ;;
        --session) session=$2 ;; --socket) socket=$2 ;;
      esac
      shift ;;
    --detach) detach=1 ;;
    -*) die "unknown option $1" "scripts/side-by-side.sh --help" 2 ;;
    *)
      [[ -z $mech ]] || die "one mechanism at a time (got $mech and $1)" "" 2
      mech=$1 ;;
  esac
  shift
done
[[ -n $mech ]] || die "which mechanism?" "scripts/side-by-side.sh pipe|fifo|msgq|sem|shm|socket" 2
session=${session:-ipc-pairs-$mech}
command -v tmux >/dev/null || die "tmux is not installed" "install it (apt-get install tmux), or use two terminals as the crate's README shows"

tmux_() { if [[ -n $socket ]]; then tmux -S "$socket" "$@"; else tmux "$@"; fi; }

# q WORD...: the words quoted for the shell that tmux runs each pane's command with.
q() { printf '%q ' "$@"; }

# rust PROGRAM ARGS...: a Rust program of the workspace, built first if it is missing.
rust() {
  local program=$1; shift
  if [[ ! -x $BIN/$program ]]; then
    echo "side-by-side: building $program (cargo build --bins)" >&2
    (cd "$ROOT" && cargo build --quiet --bins) || die "cargo build failed"
  fi
  if [[ $c_end != "" && $mech != pipe && $mech != sem ]]; then
    # Facing a C program: speak its byte layout, if this program has learned it yet.
    "$BIN/$program" --help 2>/dev/null | grep -q -- '--wire' ||
      die "$program does not speak the C programs' layout yet (--wire c)" \
        "run both Rust ends (leave out --c-$c_end), or both C ends by hand (c/README.md)"
    set -- --wire c "$@"
  fi
  q "$BIN/$program" "$@"
}

# c PROGRAM ARGS...: a C program of c/, built with make -C c.
c() {
  local program=$1; shift
  make -s -C "$ROOT/c" >&2 || die "make -C c failed" "the C programs need a C compiler (cc)"
  q "$C_BIN/$program" "$@"
}

# The two ends of each mechanism: left (receiving, started first), right (sending), and the
# pattern of the left end's ready line.
left="" right="" ready=""
case $mech in
  pipe)
    # One program does both ends (parent writes, child reads): Rust beside C, or two views.
    left=$(rust pipe-demo)
    if [[ -n $c_end ]]; then right=$(c pipe); else right=$(rust pipe-sender); fi ;;
  fifo)
    ready="waiting for a"
    if [[ $c_end == receiver ]]; then left=$(c fifo_reader -p "$path"); else left=$(rust fifo-receiver --path "$path"); fi
    if [[ $c_end == sender ]]; then right=$(c fifo_writer -p "$path"); else right=$(rust fifo-sender --path "$path"); fi ;;
  msgq)
    ready="waiting for messages"
    if [[ $c_end == receiver ]]; then left=$(c msgq_receiver -k "$key"); else left=$(rust msgq-receiver --key "$key"); fi
    if [[ $c_end == sender ]]; then right=$(c msgq_sender -k "$key"); else right=$(rust msgq-sender --key "$key"); fi ;;
  shm)
    ready="waiting for"
    if [[ $c_end == receiver ]]; then left=$(c shm_receiver -k "$key"); else left=$(rust shm-receiver --key "$key"); fi
    if [[ $c_end == sender ]]; then right=$(c shm_sender -k "$key"); else right=$(rust shm-sender --key "$key"); fi ;;
  sem)
    # Both use sem1.c's set (one semaphore, SEM_UNDO): the left copy initialises it (X) and
    # removes it at the end, the right one (O) joins. The C program's side is --c-receiver
    # (it initialises) or --c-sender (it joins).
    if [[ $c_end == receiver ]]; then ready="semaphore set created"; left=$(c sem_mutex -i -k "$key")
    else ready="ready"; left=$(rust sem-mutex --key "$key" --init); fi
    if [[ $c_end == sender ]]; then right=$(c sem_mutex -k "$key"); else right=$(rust sem-mutex --key "$key"); fi ;;
  socket)
    ready="waiting"
    # Beside the C client, the Rust server stops after its client (--clients 1), as c/server.c
    # stops after the client's `end`; otherwise it serves until Ctrl-C.
    if [[ $c_end == receiver ]]; then left=$(c server -P "$port")
    elif [[ $c_end == sender ]]; then left=$(rust socket-server --port "$port" --clients 1)
    else left=$(rust socket-server --port "$port"); fi
    if [[ $c_end == sender ]]; then right=$(c client -P "$port" localhost); else right=$(rust socket-client --port "$port" localhost); fi ;;
  *) die "unknown mechanism '$mech'" "choose pipe, fifo, msgq, sem, shm or socket" 2 ;;
esac

if tmux_ has-session -t "=$session" 2>/dev/null; then
  die "a tmux session named $session exists already" "close it (tmux kill-session -t $session) or choose --session NAME"
fi

# pane CMD: what a pane runs: CMD, then a line with its exit status, then it waits for Enter,
# so that everything the program printed can still be read. (Keeping the pane's shell alive
# also matters to tmux: output written just before a pane's last process exits can be lost.)
pane() { printf '%s; echo "[exited with status $?: press Enter to close this pane]"; read -r _' "$1"; }

# The left pane first, alone, until its program says it is ready.
tmux_ new-session -d -s "$session" -x 200 -y 50 -n "$mech" "$(pane "$left")"
tmux_ set-option -t "$session" remain-on-exit on >/dev/null
tmux_ set-option -t "$session" pane-border-status top >/dev/null 2>&1 || true
tmux_ select-pane -t "$session:0.0" -T "receiving end: ${left%% *}" 2>/dev/null || true
if [[ -n $ready ]]; then
  deadline=$((SECONDS + 20))
  until tmux_ capture-pane -p -t "$session:0.0" | grep -q -- "$ready"; do
    if ((SECONDS >= deadline)); then
      echo "side-by-side: warning: the left pane did not print '$ready' within 20 s" >&2
      break
    fi
    sleep 0.05
  done
fi
tmux_ split-window -h -t "$session:0" "$(pane "$right")"
tmux_ select-pane -t "$session:0.1" -T "sending end: ${right%% *}" 2>/dev/null || true

if ((detach)) || [[ ! -t 1 ]]; then
  echo "side-by-side: session $session is ready: tmux${socket:+ -S $socket} attach -t $session"
elif [[ -n ${TMUX:-} ]]; then
  tmux_ switch-client -t "$session"
else
  tmux_ attach -t "$session"
fi
