# The other user's side of tests/other_users.rs: raw System V, POSIX and FIFO calls through
# ctypes, run as `nobody` with setpriv. It uses no ipc-pairs program on purpose: our programs
# refuse objects of another user, an intruder does not.
#
# usage: intruder.py OP TARGET [HEX]
#   msg-read KEY | msg-write KEY HEX | mq-read NAME | mq-write NAME HEX
#   shm-read KEY | shm-write KEY | sem-read KEY | sem-write KEY INDEX DELTA
#   fifo-read PATH | fifo-write PATH HEX | unix-connect PATH
# exit 0: the call succeeded ("ok"); 13: refused with EACCES or EPERM; 1: any other failure.
import ctypes
import errno
import os
import socket
import sys

libc = ctypes.CDLL("libc.so.6", use_errno=True)
try:
    libc.mq_open
    librt = libc
except AttributeError:
    librt = ctypes.CDLL("librt.so.1", use_errno=True)

IPC_NOWAIT = 0o4000
MSG_NOERROR = 0o10000
SHM_RDONLY = 0o10000
GETVAL = 12


def fail(what, err):
    print(f"{what}: {errno.errorcode.get(err, err)}")
    sys.exit(13 if err in (errno.EACCES, errno.EPERM) else 1)


def check(what, result, bad=-1):
    if result == bad:
        fail(what, ctypes.get_errno())
    return result


def main():
    op, target = sys.argv[1], sys.argv[2]
    data = bytes.fromhex(sys.argv[3]) if op in ("msg-write", "mq-write", "fifo-write") else b""
    if op in ("msg-read", "msg-write"):
        qid = check("msgget", libc.msgget(int(target, 0), 0))
        if op == "msg-read":
            buf = ctypes.create_string_buffer(8 + 65536)
            check("msgrcv", libc.msgrcv(qid, buf, 65536, ctypes.c_long(0), IPC_NOWAIT | MSG_NOERROR))
        else:
            buf = ctypes.create_string_buffer((1).to_bytes(8, "little") + data)
            check("msgsnd", libc.msgsnd(qid, buf, len(data), IPC_NOWAIT))
    elif op in ("mq-read", "mq-write"):
        librt.mq_open.restype = ctypes.c_int
        flags = (os.O_RDONLY if op == "mq-read" else os.O_WRONLY) | os.O_NONBLOCK
        mqd = check("mq_open", librt.mq_open(target.encode(), flags))
        if op == "mq-write":
            check("mq_send", librt.mq_send(mqd, data, len(data), 0))
        librt.mq_close(mqd)
    elif op in ("shm-read", "shm-write"):
        shmid = check("shmget", libc.shmget(int(target, 0), 0, 0))
        libc.shmat.restype = ctypes.c_void_p
        addr = libc.shmat(shmid, None, SHM_RDONLY if op == "shm-read" else 0)
        if addr is None or addr == ctypes.c_void_p(-1).value:
            fail("shmat", ctypes.get_errno())
        libc.shmdt(ctypes.c_void_p(addr))
    elif op in ("sem-read", "sem-write"):
        semid = check("semget", libc.semget(int(target, 0), 0, 0))
        if op == "sem-read":
            check("semctl GETVAL", libc.semctl(semid, 0, GETVAL))
        else:
            index, delta = int(sys.argv[3]), int(sys.argv[4])
            sembuf = (ctypes.c_short * 3)(index, delta, IPC_NOWAIT)  # {sem_num, sem_op, sem_flg}
            check("semop", libc.semop(semid, sembuf, 1))
    elif op in ("fifo-read", "fifo-write"):
        flags = (os.O_RDONLY if op == "fifo-read" else os.O_WRONLY) | os.O_NONBLOCK
        try:
            fd = os.open(target, flags)
            if data:
                os.write(fd, data)
            os.close(fd)
        except OSError as err:
            fail("open", err.errno)
    elif op == "unix-connect":
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(target)
        except OSError as err:
            fail("connect", err.errno)
        sock.close()
    else:
        print(f"unknown operation {op}")
        sys.exit(2)
    print("ok")


main()
