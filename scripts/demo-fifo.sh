#!/usr/bin/env bash
# make demo-fifo: the tutorial's named-pipe reader and writer, either one started first, then
# four senders sharing one FIFO, then a sender with no receiver giving up (--timeout).
source "$(dirname "$0")/lib.sh"

# A FIFO of the demo's own (not /tmp/my_fifo, which a student may be using in a terminal);
# lib.sh removes $DEMO_TMP at the end, but the programs should already have removed the FIFO.
FIFO="$DEMO_TMP/my_fifo"

section "fifo-receiver first: it makes the FIFO (mkfifo, mode 0600) and waits; fifo-sender writes"
start receiver fifo-receiver --path "$FIFO"
wait_ready receiver "waiting for a sender" 10
run sender fifo-sender --path "$FIFO" --message "Hello Linux" --message "a line with  spaces" --message "end of lesson one"
finish receiver

section "fifo-sender first: it makes the FIFO and its open waits until a receiver comes"
start sender fifo-sender --path "$FIFO" --message "I was here first" --message "and waited for you"
wait_ready sender "waiting for a receiver" 10
run receiver fifo-receiver --path "$FIFO"
finish sender

section "four senders at once into one FIFO: 5000 x 1000-byte messages each, one atomic write per message"
echo "([rx] is fifo-receiver --senders 4, [tx1]..[tx4] are four fifo-sender --count 5000 --size 1000)"
start rx fifo-receiver --path "$FIFO" --senders 4
wait_ready rx "waiting for a sender" 10
for n in 1 2 3 4; do
  start "tx$n" fifo-sender --path "$FIFO" --count 5000 --size 1000
done
for n in 1 2 3 4; do finish "tx$n"; done
finish rx

section "no receiver at all: fifo-sender --timeout 1 gives up instead of waiting for ever"
if run sender fifo-sender --path "$FIFO" --timeout 1 --message "is anybody there?"; then
  echo "demo: fifo-sender should have failed without a receiver" >&2
  exit 1
fi
echo "(fifo-sender exited 1, as expected)"

section "nothing left behind"
if [ -e "$FIFO" ] || [ -L "$FIFO" ]; then
  echo "demo: $FIFO was left behind" >&2
  exit 1
fi
echo "$FIFO is gone: each FIFO was removed by the program that created it"
