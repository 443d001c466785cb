#!/usr/bin/env bash
# make demo-sem: the tutorial's critical section (two sem-mutex at once), then the signal pair.
source "$(dirname "$0")/lib.sh"

# The tutorial's key 1234 unless DEMO_KEY says otherwise (make clean-ipc knows 1234).
KEY=${DEMO_KEY:-1234}

section "sem-mutex X and sem-mutex O: one semaphore, one critical section, pairs never interleave"
# Both print their characters to this terminal, unlabelled, so that they share one line; what
# they say on stderr is shown, labelled, once they are done.
sem-mutex --key "$KEY" --char X --rounds 8 --hold-ms 60 --pause-ms 40 </dev/null 2>"$DEMO_TMP/x.err" &
PIDS[mutex_x]=$!
sem-mutex --key "$KEY" --char O --rounds 8 --hold-ms 60 --pause-ms 40 </dev/null 2>"$DEMO_TMP/o.err" &
PIDS[mutex_o]=$!
finish mutex_x
finish mutex_o
echo
grep -v '^$' "$DEMO_TMP/x.err" | label X
grep -v '^$' "$DEMO_TMP/o.err" | label O

section "sem-receiver creates a set; sem-sender posts one signal per message"
start receiver sem-receiver --key "$KEY"
wait_ready receiver "waiting for signals" 10
run sender sem-sender --key "$KEY" --message "hello" --message "world" --message "third"
finish receiver

section "two senders at once, one receiver waiting for both Ends (--senders 2)"
start receiver2 sem-receiver --key "$KEY" --senders 2
wait_ready receiver2 "waiting for signals" 10
start sender1 sem-sender --key "$KEY" --count 3
start sender2 sem-sender --key "$KEY" --count 2
finish sender1
finish sender2
finish receiver2
