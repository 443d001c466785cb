#!/usr/bin/env bash
# make demo-msgq: the tutorial's message-queue sender.c / receiver.c (key 1234), then what
# queues are good for: the queue outlives the sender, message types, a full queue, POSIX queues.
source "$(dirname "$0")/lib.sh"

KEY=${MSGQ_DEMO_KEY:-1234}
NAME=${MSGQ_DEMO_NAME:-/ipc-pairs}
HEX=$(printf '0x%08x' "$KEY")

# ipcs -q, showing only the demo's queue (header lines kept).
show_queue() { ipcs -q | awk -v hex="$HEX" 'NR <= 3 || $1 == hex' | label ipcs; }

section "msgq-sender runs alone and exits: its messages wait in the kernel (key $KEY)"
run sender msgq-sender --key "$KEY" --message "hello" --message "a line with  spaces" --message "ünïcödé"

section "ipcs -q: the queue is still there, holding 3 messages and End"
show_queue

section "msgq-receiver, started afterwards, gets every message and removes the queue"
run receiver msgq-receiver --key "$KEY"
show_queue

section "message types: msgq-receiver --type -3 takes the lowest type first (a priority queue)"
run sender-type3 msgq-sender --key "$KEY" --type 3 --message "routine (type 3, sent first)"
run sender-type1 msgq-sender --key "$KEY" --type 1 --message "urgent (type 1, sent second)"
run receiver msgq-receiver --key "$KEY" --type -3 --senders 2

section "receiver first: 100 generated messages of 1000 bytes; the sender waits whenever the queue is full"
start receiver msgq-receiver --key "$KEY"
wait_ready receiver "waiting for messages on" 10
run sender msgq-sender --key "$KEY" --count 100 --size 1000
finish receiver

section "POSIX message queue $NAME: the sender exits first, priority 5 overtakes priority 1"
run sender-prio1 msgq-sender --posix --name "$NAME" --priority 1 --message "low priority, sent first"
run sender-prio5 msgq-sender --posix --name "$NAME" --priority 5 --message "high priority, sent second"
run receiver msgq-receiver --posix --name "$NAME" --senders 2
