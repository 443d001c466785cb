#!/usr/bin/env bash
# pair-with.sh: bring your own C. Compiles YOUR_PROGRAM.c, tells from the calls it makes which
# mechanism and which end it is, starts our matching end with the right `--wire c` options, runs
# both, and says what matched and what did not.
#
#   scripts/pair-with.sh [options] YOUR_PROGRAM.c
#
#   --input FILE   the lines the sending end types (default: standard input when it is not a
#                  terminal, else three sample lines: hello / world / end). An `end` line is
#                  added if there is none: the textbook's senders loop for ever without one.
#   --key K        run both on System V key K instead of the one in your program (through the
#                  LD_PRELOAD shim c/textbook/remap.c, so your program runs unedited)
#   --port N       the same for a TCP port
#   --headless     labelled lines in this terminal, even where tmux could open two panes
#                  (the panes need tmux and script(1), and standard input on a terminal)
#   --keep         keep the work directory (your compiled program, both logs, the strace)
#
# Our end runs with --trace (each system call it makes, in C notation); your program runs under
# `strace -f` where strace is installed, so the two lists of calls can be read side by side.
# With a terminal and tmux, the two ends open in two panes (type into your program's pane) and
# the verdict follows when both have ended; otherwise both run here with labelled lines.
# The last line is the verdict: `verdict: MATCH ...` (exit 0) or `verdict: MISMATCH ...` (exit 1).
#
# Examples:
#   scripts/pair-with.sh c/textbook/msg2.c            # your sender, our msgq-receiver --wire c
#   printf 'hi\nend\n' | scripts/pair-with.sh c/textbook/shm2.c
#   scripts/pair-with.sh c/textbook/client.c           # your client, our socket-server --wire c
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${IPC_BIN:-$ROOT/target/debug}
SHIM=$ROOT/c/textbook/build/libremap.so
TIMEOUT=${PAIR_WITH_TIMEOUT:-60}

die() {
  echo "pair-with: error: $1" >&2
  if [[ -n ${2:-} ]]; then echo "hint: $2" >&2; fi
  exit "${3:-1}"
}
usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; }
say() { echo "pair-with: $*" >&2; }

input="" key="" port="" headless=0 keep=0 source_file=""
# PAIR_WITH_TMUX_SOCKET=PATH (tests): two panes on a private tmux server, without attaching.
tmux_socket=${PAIR_WITH_TMUX_SOCKET:-}
while (($#)); do
  case $1 in
    -h | --help) usage; exit 0 ;;
    --input | --key | --port)
      (($# >= 2)) || die "$1 needs a value" "" 2
      case $1 in --input) input=$2 ;; --key) key=$2 ;; --port) port=$2 ;; esac
      shift ;;
    --headless) headless=1 ;;
    --keep) keep=1 ;;
    -*) die "unknown option $1" "scripts/pair-with.sh --help" 2 ;;
    *) [[ -z $source_file ]] || die "one C file at a time" "" 2; source_file=$1 ;;
  esac
  shift
done
[[ -n $source_file ]] || die "which C program?" "scripts/pair-with.sh c/textbook/msg2.c" 2
[[ -f $source_file ]] || die "$source_file: no such file" "" 2
for program in msgq-sender socket-server; do
  [[ -x $BIN/$program ]] || die "$BIN/$program is not built" "run make build first"
done

WORK=$(mktemp -d /tmp/pair-with.XXXXXX)
declare -a PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if ((keep)); then say "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- 1. Compile, as a student does (the book's programs give warnings on a 64-bit machine). ---
if ! cc -w -I "$(dirname "$source_file")" -o "$WORK/yours" "$source_file" 2>"$WORK/cc.log"; then
  cat "$WORK/cc.log" >&2
  die "cc could not compile $source_file" "fix the errors above; we compile with: cc -w -o yours $source_file"
fi
say "compiled $source_file"

# --- 2. Which mechanism, which end: read the calls (comments stripped by the preprocessor). ---
code=$(cc -fpreprocessed -dD -E -P "$source_file" 2>/dev/null || cat "$source_file")
has() { grep -Eq "$1" <<<"$code"; }
first() { grep -Eo "$1" <<<"$code" | head -n1 || true; }
reads_stdin='fgets[[:space:]]*\(|scanf[[:space:]]*\(|getline[[:space:]]*\(|getchar[[:space:]]*\('

mech="" end=""
if has 'msgsnd[[:space:]]*\(' && has 'msgrcv[[:space:]]*\('; then
  die "your program calls both msgsnd and msgrcv" "pair one end at a time"
elif has 'msgsnd[[:space:]]*\('; then mech=msgq end=sender
elif has 'msgrcv[[:space:]]*\('; then mech=msgq end=receiver
elif has 'shmat[[:space:]]*\('; then
  mech=shm
  if has "$reads_stdin"; then end=sender; else end=receiver; fi
elif has 'semop[[:space:]]*\('; then mech=sem end=copy
elif has 'accept[[:space:]]*\('; then mech=socket end=server
elif has 'connect[[:space:]]*\('; then mech=socket end=client
elif has 'mkfifo[[:space:]]*\(|O_WRONLY|O_RDONLY'; then
  mech=fifo
  if has 'O_WRONLY'; then end=writer; else end=reader; fi
elif has 'pipe[[:space:]]*\(' && has 'fork[[:space:]]*\('; then
  die "a pipe program holds both ends itself: there is nothing of ours to pair it with" \
    "compare it with the Rust port instead: cargo run -p ipc-pipe --example pipe"
else
  die "no IPC call found (msgsnd, msgrcv, shmat, semop, accept, connect, mkfifo, open)" \
    "pair-with knows the textbook's mechanisms: message queues, shared memory, semaphores, FIFOs, sockets"
fi

# The names your program uses: its System V key, its port, its FIFO path.
c_key=$(first '\(key_t\)[[:space:]]*(0[xX][0-9a-fA-F]+|[0-9]+)' | grep -Eo '(0[xX][0-9a-fA-F]+|[0-9]+)$' || true)
c_key=${c_key:-1234}
c_port=$(first 'htons[[:space:]]*\([[:space:]]*[0-9]+' | grep -Eo '[0-9]+$' || true)
raw_port=$(first 'sin_port[[:space:]]*=[[:space:]]*[0-9]+' | grep -Eo '[0-9]+$' || true)
if [[ -z $c_port && -n $raw_port ]]; then
  # sin_port = 9734 without htons: the kernel reads the two bytes in network order.
  c_port=$(((raw_port >> 8 & 0xff) | (raw_port & 0xff) << 8))
  say "your program sets sin_port = $raw_port without htons(): it really uses port $c_port"
fi
c_port=${c_port:-9734}
c_path=$(first '"/[^"]*"' | tr -d '"')
c_path=${c_path:-/tmp/my_fifo}

# Where --key or --port was given, the shim moves your program's 1234 / 9734 there.
run_key=$c_key run_port=$c_port
declare -a C_ENV=()
if [[ -n $key || -n $port ]]; then
  [[ -f $SHIM ]] || make -s -C "$ROOT/c/textbook" build/libremap.so >/dev/null
  [[ $c_key == 1234 || -z $key ]] || die "--key moves only key 1234, and your program uses $c_key"
  [[ $c_port == 9734 || -z $port ]] || die "--port moves only port 9734, and your program uses $c_port"
  C_ENV=(env "LD_PRELOAD=$SHIM")
  if [[ -n $key ]]; then run_key=$key; C_ENV+=("IPC_PAIRS_KEY=$key"); fi
  if [[ -n $port ]]; then run_port=$port; C_ENV+=("IPC_PAIRS_PORT=$port"); fi
fi

# One-char socket exchange: the textbook's client and server read and write a single char.
one_char=0
if [[ $mech == socket ]] && has 'read[[:space:]]*\([^,]+,[[:space:]]*&[[:alnum:]_]+[[:space:]]*,[[:space:]]*1[[:space:]]*\)'; then
  one_char=1
fi

# --- 3. Our matching end. ---
declare -a OURS=() YOURS=("$WORK/yours")
feeds=""  # which end reads the input lines: yours or ours
case $mech/$end in
  msgq/sender) OURS=(msgq-receiver --wire c --key "$run_key"); feeds=yours ;;
  msgq/receiver) OURS=(msgq-sender --wire c --key "$run_key"); feeds=ours ;;
  shm/sender) OURS=(shm-receiver --wire c --key "$run_key"); feeds=yours ;;
  shm/receiver) OURS=(shm-sender --wire c --key "$run_key"); feeds=ours ;;
  sem/copy) OURS=(sem-mutex --key "$run_key"); YOURS+=(1) ;;
  fifo/writer) OURS=(fifo-receiver --wire c --path "$c_path"); feeds=yours ;;
  fifo/reader) OURS=(fifo-sender --wire c --path "$c_path"); feeds=ours ;;
  socket/client) OURS=(socket-server --wire c --clients 1 --port "$run_port"); ((one_char)) || feeds=yours ;;
  socket/server)
    if ((one_char)); then OURS=(socket-client --wire c --char A --port "$run_port" 127.0.0.1)
    else OURS=(socket-client --wire c --port "$run_port" 127.0.0.1); feeds=ours; fi ;;
esac
# Receivers and servers start first; of two semaphore copies, yours (it initialises the set).
case $end in sender | writer | client) ours_first=1 ;; *) ours_first=0 ;; esac
describe="your $mech $end"
((one_char)) && describe+=" (the one-char exchange)"
say "$describe; our end: ${OURS[*]}"

# Two tmux panes where there is a terminal to show them (or a test's private tmux server);
# the input is then what you type into the sending end's pane.
tmux_mode=0
if [[ -n $tmux_socket ]] || { ((!headless)) && [[ -z $input && -t 0 && -t 1 ]] &&
  command -v tmux >/dev/null && command -v script >/dev/null; }; then
  tmux_mode=1
fi

# --- 4. The input lines. ---
if ((tmux_mode)); then : >"$WORK/input"
elif [[ -n $input ]]; then cp -- "$input" "$WORK/input"
elif [[ ! -t 0 ]]; then cat >"$WORK/input"
else printf 'hello\nworld\nend\n' >"$WORK/input"
fi
[[ -z $(tail -c1 "$WORK/input") ]] || echo >>"$WORK/input"
if ((!tmux_mode)) && [[ -n $feeds ]] && ! grep -q '^end' "$WORK/input"; then
  echo end >>"$WORK/input"
  say "your input had no line starting with end: added one"
fi
# The texts a receiver should print: every line before the first one that starts with end.
sent_texts=$(awk '/^end/ { exit } { print }' "$WORK/input")
n_sent=$(grep -c '' <<<"$sent_texts" || true)
[[ -n $sent_texts ]] || n_sent=0

# --- 5. Run both: ours with --trace, yours under strace where there is one. ---
declare -a TRACER=()
if command -v strace >/dev/null; then
  TRACER=(strace -f -qq -o "$WORK/strace" -e 'trace=%ipc,%network,read,write,openat,mknodat,unlinkat,unlink')
fi
# Two semaphore copies print into one file, as on a shared terminal, so that their turns show.
out_of() { if [[ $mech == sem ]]; then echo "$WORK/shared.out"; else echo "$WORK/$1.out"; fi; }
: >"$(out_of ours)"; : >"$(out_of yours)"
start_end() { # NAME FEEDS_INPUT CMD...
  local name=$1 feed=$2; shift 2
  local stdin=/dev/null
  [[ $feed == 1 ]] && stdin=$WORK/input
  timeout "$TIMEOUT" "$@" <"$stdin" >>"$(out_of "$name")" 2>"$WORK/$name.err" &
  PIDS+=($!)
}
ours_feed=0 yours_feed=0
[[ $feeds == ours ]] && ours_feed=1
[[ $feeds == yours ]] && yours_feed=1
declare -a OURS_CMD=("$BIN/${OURS[0]}" --trace "${OURS[@]:1}")
declare -a YOURS_CMD=("${C_ENV[@]}" "${TRACER[@]}" "${YOURS[@]}")

tmux_() { if [[ -n $tmux_socket ]]; then tmux -S "$tmux_socket" "$@"; else tmux "$@"; fi; }
# pane_cmd NAME FEEDS CMD...: what a pane runs: CMD on a terminal recorded by script(1) (and
# what is typed into it, for the sending end), then its exit status, a signal for us, and a
# wait for Enter so that the pane can still be read.
pane_cmd() {
  local name=$1 feed=$2; shift 2
  local log_in=""
  ((feed)) && log_in="--log-in $(printf %q "$WORK/typed")"
  printf 'script -qef %s --log-out %q -c %q; echo $? >%q; %s wait-for -S %q; echo "[exited with status $(cat %q): press Enter to close this pane]"; read -r _' \
    "$log_in" "$WORK/$name.typescript" "$(printf '%q ' "$@")" "$WORK/$name.code" \
    "$(printf '%q ' tmux ${tmux_socket:+-S "$tmux_socket"})" "pw-$$-$name" "$WORK/$name.code"
}
run_in_tmux() {
  local session=pair-with-$$ first second first_feed second_feed
  if ((ours_first)); then first=ours second=yours; else first=yours second=ours; fi
  first_feed=${first}_feed second_feed=${second}_feed
  local -n first_cmd=${first^^}_CMD second_cmd=${second^^}_CMD
  tmux_ new-session -d -s "$session" -x 220 -y 50 "$(pane_cmd "$first" "${!first_feed}" "${first_cmd[@]}")"
  tmux_ set-option -t "$session" pane-border-status top >/dev/null 2>&1 || true
  tmux_ select-pane -t "$session:0.0" -T "$first: ${first_cmd[*]##*/}" 2>/dev/null || true
  sleep 1
  tmux_ split-window -h -t "$session:0" "$(pane_cmd "$second" "${!second_feed}" "${second_cmd[@]}")"
  tmux_ select-pane -t "$session:0.1" -T "$second" 2>/dev/null || true
  ((ours_feed)) && tmux_ select-pane -t "$session:0.$([[ $first == ours ]] && echo 0 || echo 1)"
  ((yours_feed)) && tmux_ select-pane -t "$session:0.$([[ $first == yours ]] && echo 0 || echo 1)"
  say "two panes in tmux session $session: type into the sending end's pane, then end"
  if [[ -z $tmux_socket ]]; then
    if [[ -n ${TMUX:-} ]]; then tmux_ switch-client -t "$session"; else tmux_ attach -t "$session" || true; fi
  fi
  tmux_ wait-for "pw-$$-ours"
  if [[ $mech/$end == socket/server ]]; then
    # The textbook server serves for ever: once our client is done, stop it.
    tmux_ send-keys -t "$session:0.$([[ $first == yours ]] && echo 0 || echo 1)" C-c
  fi
  tmux_ wait-for "pw-$$-yours"
  ours_code=$(cat "$WORK/ours.code") yours_code=$(cat "$WORK/yours.code")
  tmux_ kill-session -t "$session" 2>/dev/null || true
  # The recordings, as the headless run leaves them: a pane shows stdout and stderr together.
  local name
  for name in ours yours; do
    grep -av '^Script \(started\|done\) on' "$WORK/$name.typescript" | tr -d '\r' >>"$(out_of "$name")"
    cp "$(out_of "$name")" "$WORK/$name.err"
  done
  if [[ -f $WORK/typed ]]; then
    tr '\r' '\n' <"$WORK/typed" | tr -d '\000-\011\013-\037\177' |
      grep -av '^Script \(started\|done\) on' >"$WORK/input" || true
    sent_texts=$(awk '/^end/ { exit } { print }' "$WORK/input")
    n_sent=$(grep -c '' <<<"$sent_texts" || true)
    [[ -n $sent_texts ]] || n_sent=0
  fi
}

ours_code=0 yours_code=0
if ((tmux_mode)); then
  run_in_tmux
elif ((ours_first)); then
  start_end ours "$ours_feed" "${OURS_CMD[@]}"
  ours_pid=${PIDS[-1]}
  sleep 1
  start_end yours "$yours_feed" "${YOURS_CMD[@]}"
  yours_pid=${PIDS[-1]}
else
  start_end yours "$yours_feed" "${YOURS_CMD[@]}"
  yours_pid=${PIDS[-1]}
  sleep 1
  start_end ours "$ours_feed" "${OURS_CMD[@]}"
  ours_pid=${PIDS[-1]}
fi
if ((!tmux_mode)); then
  wait "$ours_pid" || ours_code=$?
  if [[ $mech/$end == socket/server ]]; then
    # The textbook server serves for ever: once our client is done, stop it.
    sleep 0.2
    kill -TERM "$yours_pid" 2>/dev/null || true
  fi
  wait "$yours_pid" || yours_code=$?
  PIDS=()
fi

label() { awk -v prefix="[$1] " '{ print prefix $0 }'; }
echo "== your program: ${YOURS[*]/#$WORK\//} (exit $yours_code)"
label "yours" <"$(out_of yours)"
label "yours:err" <"$WORK/yours.err"
if [[ -f $WORK/strace ]]; then
  echo "== your program's system calls (strace)"
  # Leave out the dynamic loader's opens and reads of the libraries before main.
  grep -Ev 'resumed>|exited with|killed by|\.so|ld\.so\.cache|\\177ELF' "$WORK/strace" |
    sed -E 's/^[0-9]+ +//' | label "yours:strace"
fi
echo "== our end: ${OURS[*]} --trace (exit $ours_code)"
[[ $mech == sem ]] || label "ours" <"$WORK/ours.out"
label "ours:err" <"$WORK/ours.err"

# --- 6. The verdict. ---
verdict() { echo "verdict: $*"; }
summary=$(grep -E "^summary:" "$(out_of ours)" | tail -n1 || true)
mismatch=()
case $feeds in
  yours) # your end sent; ours printed
    printed=$(sed -nE 's/^(\[[^]]*\] )?(You wrote|Data From Named Pipe Is): ?//p' "$WORK/ours.out")
    n_printed=$(grep -c '' <<<"$printed" || true)
    [[ -n $printed ]] || n_printed=0
    [[ $printed == "$sent_texts" ]] || mismatch+=("you sent $n_sent texts, we printed $n_printed")
    ((ours_code == 0)) || mismatch+=("our $mech end exited $ours_code")
    ((yours_code == 0)) || mismatch+=("your program exited $yours_code")
    sizes=""
    if [[ $mech == msgq ]]; then
      sizes=$(grep -Eo '^msgrcv\(.*\) = [0-9]+' "$WORK/ours.err" | grep -Eo '[0-9]+$' | sort -u | paste -sd/ || true)
      [[ -z $sizes ]] || sizes=" in ${sizes}-byte messages"
    fi
    newline=""
    grep -q '\\n' "$WORK/ours.err" && newline=" with the newline"
    detail="your $end sent $n_sent texts$sizes$newline; our ${OURS[0]} printed $n_printed and stopped on your end ($summary)"
    ;;
  ours) # ours sent; your end printed (up to its end line, which the C prints too)
    printed=$(sed -nE 's/^(You wrote|Data From Named Pipe Is) ?: ?//p' "$WORK/yours.out" | awk '/^end/ { exit } { print }')
    n_printed=$(grep -c '' <<<"$printed" || true)
    [[ -n $printed ]] || n_printed=0
    [[ $printed == "$sent_texts" ]] || mismatch+=("we sent $n_sent texts, your program printed $n_printed")
    ((ours_code == 0)) || mismatch+=("our ${OURS[0]} exited $ours_code")
    ((yours_code == 0)) || mismatch+=("your program exited $yours_code")
    detail="our ${OURS[0]} sent $n_sent texts and end; your $end printed $n_printed and exited $yours_code"
    ;;
  *) # the one-char exchange, or two semaphore copies
    if [[ $mech == sem ]]; then
      chars=$(tr -cd 'XO' <"$WORK/shared.out")
      # Each copy prints its char on entering and on leaving: in turns, they come in pairs.
      interleaved=$(sed -E 's/(XX|OO)//g' <<<"$chars")
      detail="your copy (X: started with an argument, it initialises, as the book starts the first) and our sem-mutex (O) printed $chars"
      ((ours_code == 0)) || mismatch+=("our sem-mutex exited $ours_code")
      ((yours_code == 0)) || mismatch+=("your program exited $yours_code")
      [[ -n $chars ]] || mismatch+=("neither printed X or O")
      [[ -z $interleaved ]] || mismatch+=("the X and O pairs interleave: the critical section was shared")
    elif [[ $end == client ]]; then
      got=$(grep -Eo 'char from server = .' "$WORK/yours.out" || true)
      [[ -n $got ]] || mismatch+=("your client printed no 'char from server'")
      ((ours_code == 0)) || mismatch+=("our socket-server exited $ours_code")
      detail="your client sent one char; our socket-server answered; your client printed: ${got:-nothing}"
    else
      got=$(grep -Eo 'char from server = .' "$WORK/ours.out" || true)
      [[ -n $got ]] || mismatch+=("our socket-client printed no 'char from server'")
      ((ours_code == 0)) || mismatch+=("our socket-client exited $ours_code")
      detail="our socket-client sent A; your server answered: ${got:-nothing}"
    fi
    ;;
esac
# A call of yours that failed (the textbook checks few of them: server.c's bind, for one).
if [[ -f $WORK/strace ]]; then
  while read -r call errno; do
    mismatch+=("your program's $call failed with $errno")
    [[ $call == bind && $errno == EADDRINUSE ]] &&
      mismatch+=("the port is taken: without SO_REUSEADDR it stays so for a minute after a connection closes; try --port")
  done < <(grep -Eo '^([0-9]+ +)?(msgget|msgsnd|msgrcv|msgctl|shmget|shmat|shmctl|semget|semop|semctl|socket|bind|listen|accept|connect|mknodat|openat)\(.*= -1 E[A-Z]+' "$WORK/strace" |
    grep -v 'openat(.*\.so' | sed -E 's/^[0-9]+ +//; s/^([a-z]+)\(.*= -1 (E[A-Z]+)$/\1 \2/' | sort -u)
fi
echo
if ((${#mismatch[@]})); then
  verdict "MISMATCH: $(IFS=';'; echo "${mismatch[*]}" | sed 's/;/; /g') ($detail)"
  exit 1
fi
verdict "MATCH: $detail"
