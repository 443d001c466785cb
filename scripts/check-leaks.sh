#!/usr/bin/env bash
# Run after the test suite: fails if any System V object with one of the tests' keys
# (0x5xxxxxxx, see testing/testkit), test FIFO/socket (/tmp/ipt-*) or POSIX queue/segment
# (/dev/mqueue/ipt-*, /dev/shm/ipt-*) is left, or a record of ownership (see
# crates/common/src/ownership.rs) that names a test object which still exists. A record whose
# object is gone (another program removed it, e.g. a C receiver's msgctl(IPC_RMID) of our
# sender's queue) is only counted: the next program that records, or ipc-doctor --clean, drops it.
set -euo pipefail
left=$(awk 'NR > 1 && $1 >= 1342177280 && $1 <= 1610612735 { print FILENAME ": key " $1 }' \
  /proc/sysvipc/msg /proc/sysvipc/sem /proc/sysvipc/shm)
files=$(find /tmp -maxdepth 1 -name 'ipt-*' 2>/dev/null || true)
mq=$(find /dev/mqueue /dev/shm -maxdepth 1 -name 'ipt-*' 2>/dev/null || true)

# The record directories the tests' programs use: ours, and those of the other users the
# tests switch to with setpriv (/tmp/ipc-pairs-UID).
records=""
garbage=0
for dir in "${IPC_PAIRS_RECORDS:-}" "${XDG_RUNTIME_DIR:+$XDG_RUNTIME_DIR/ipc-pairs}" /tmp/ipc-pairs-*; do
  [ -n "$dir" ] && [ -d "$dir" ] && [ ! -L "$dir" ] || continue
  for record in "$dir"/*; do
    [ -f "$record" ] && [ ! -L "$record" ] || continue
    kind=$(sed -n 's/^kind=//p' "$record")
    name=$(sed -n 's/^name=//p' "$record" | sed 's/%2F/\//g; s/%25/%/g')
    id=$(sed -n 's/^id=//p' "$record")
    case "$kind" in
      msg|sem|shm)
        [ "$name" -ge 1342177280 ] 2>/dev/null && [ "$name" -le 1610612735 ] || continue
        exists=$(awk -v id="$id" 'NR > 1 && $2 == id { print "yes" }' "/proc/sysvipc/$kind")
        ;;
      mq|pshm|fifo|socket)
        case "$name" in *ipt-*) ;; *) continue ;; esac
        case "$kind" in
          mq) path="/dev/mqueue$name" ;;
          pshm) path="/dev/shm$name" ;;
          *) path="$name" ;;
        esac
        exists=$([ -e "$path" ] || [ -L "$path" ] && echo yes || true)
        ;;
      *) continue ;;
    esac
    if [ -n "$exists" ]; then
      records="$records $record"
    else
      garbage=$((garbage + 1))
    fi
  done
done

if [ -n "$left$files$mq$records" ]; then
  echo "check-leaks: the test suite left these behind:" >&2
  printf '%s\n' $left $files $mq $records >&2
  exit 1
fi
if [ "$garbage" -gt 0 ]; then
  echo "check-leaks: note: $garbage record(s) of ownership name test objects that are gone (harmless; dropped by the next program that records, or by ipc-doctor --clean)"
fi
echo "check-leaks: no System V object, POSIX queue or segment, FIFO, socket or record of the tests is left"
