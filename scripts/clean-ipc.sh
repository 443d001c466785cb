#!/usr/bin/env bash
# make clean-ipc: removes the IPC objects and files our programs and tests may have left,
# owned by the current user, and nothing else:
#   - System V queues, semaphore sets and segments with the tutorial's key 1234 (0x000004d2)
#     or a test key (0x50000000-0x5fffffff, see crates/testkit);
#   - the default FIFO /tmp/my_fifo (only if it is a FIFO), test paths /tmp/ipt-*;
#   - POSIX queues and segments named /ipc-pairs* or /ipt-*.
set -uo pipefail
me=$(id -u)
removed=0
for kind in msg sem shm; do
  flag=$(case $kind in msg) echo -q ;; sem) echo -s ;; shm) echo -m ;; esac)
  # /proc/sysvipc/KIND columns: key id ... uid is column 8 (msg), 5 (sem), 8 (shm).
  uidcol=$(case $kind in sem) echo 5 ;; *) echo 8 ;; esac)
  while read -r key id; do
    if ipcrm "$flag" "$id" 2>/dev/null; then
      printf 'removed System V %s key %d (0x%08x) id %s\n' "$kind" "$key" "$key" "$id"
      removed=$((removed + 1))
    fi
  done < <(awk -v me="$me" -v col="$uidcol" 'NR > 1 && $col == me &&
             ($1 == 1234 || ($1 >= 1342177280 && $1 <= 1610612735)) { print $1, $2 }' "/proc/sysvipc/$kind")
done
for path in /tmp/my_fifo /tmp/ipt-*; do
  if [ -p "$path" ] || [ -S "$path" ]; then
    if [ -O "$path" ] && rm -f -- "$path"; then echo "removed $path"; removed=$((removed + 1)); fi
  fi
done
for path in /dev/mqueue/ipc-pairs* /dev/mqueue/ipt-* /dev/shm/ipc-pairs* /dev/shm/ipt-*; do
  if [ -e "$path" ] && [ -O "$path" ] && rm -f -- "$path"; then echo "removed $path"; removed=$((removed + 1)); fi
done
echo "clean-ipc: removed $removed object(s)"
