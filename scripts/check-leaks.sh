#!/usr/bin/env bash
# Run after the test suite: fails if any System V object with one of the tests' keys
# (0x5xxxxxxx, see testing/testkit), test FIFO/socket (/tmp/ipt-*) or POSIX queue/segment
# (/dev/mqueue/ipt-*, /dev/shm/ipt-*) is left.
set -euo pipefail
left=$(awk 'NR > 1 && $1 >= 1342177280 && $1 <= 1610612735 { print FILENAME ": key " $1 }' \
  /proc/sysvipc/msg /proc/sysvipc/sem /proc/sysvipc/shm)
files=$(find /tmp -maxdepth 1 -name 'ipt-*' 2>/dev/null || true)
mq=$(find /dev/mqueue /dev/shm -maxdepth 1 -name 'ipt-*' 2>/dev/null || true)
if [ -n "$left$files$mq" ]; then
  echo "check-leaks: the test suite left these behind:" >&2
  printf '%s\n' $left $files $mq >&2
  exit 1
fi
echo "check-leaks: no System V object, POSIX queue or segment, FIFO or socket of the tests is left"
