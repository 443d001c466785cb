#!/usr/bin/env bash
# make demo-shm: the tutorial's shared-memory sender/receiver, synchronised by semaphores.
source "$(dirname "$0")/lib.sh"

# The tutorial's key 1234 unless DEMO_KEY says otherwise (make clean-ipc knows 1234).
KEY=${DEMO_KEY:-1234}

section "shm-receiver attaches the segment; shm-sender writes three texts, one slot (the tutorial's buffer)"
start receiver shm-receiver --key "$KEY"
wait_ready receiver "waiting for shm-sender" 10
run sender shm-sender --key "$KEY" --message "hello" --message "a line with  spaces" --message "last one"
finish receiver

section "the sender first: it creates the segment, its messages wait in 4 slots for the receiver"
run sender2 shm-sender --key "$KEY" --slots 4 --message "written before" --message "the receiver started"
start receiver2 shm-receiver --key "$KEY" --slots 4
finish receiver2

section "20000 generated messages of 1000 bytes through 8 slots of 2048 bytes, each verified"
start receiver3 shm-receiver --key "$KEY" --slots 8 --slot-size 2048
wait_ready receiver3 "waiting for shm-sender" 10
run sender3 shm-sender --key "$KEY" --slots 8 --slot-size 2048 --count 20000 --size 1000
finish receiver3
