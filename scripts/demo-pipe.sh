#!/usr/bin/env bash
# make demo-pipe: the tutorial's pipe.c, then the sender/receiver pair over an anonymous pipe.
source "$(dirname "$0")/lib.sh"

section "pipe-demo: one pipe, the parent writes, the child it forked reads (pipe.c)"
run pipe-demo pipe-demo --message "Hello Linux"

section "pipe-sender | pipe-receiver: framed messages through a pipe made by the shell"
pipe-sender --stdout --message "hello" --message "a line with  spaces" --message "ünïcödé" \
  2> >(label sender) </dev/null | pipe-receiver 2>&1 | label receiver

section "pipe-sender starts pipe-receiver itself: 10000 generated messages, each verified"
run sender pipe-sender --count 10000 --size 1000
