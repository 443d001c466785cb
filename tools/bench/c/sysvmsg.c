/* sysvmsg.c: one System V message queue (msgget/msgsnd/msgrcv/msgctl), mtype 1 for
 * parent -> child, 2 for child -> parent. */
#include "bench.h"
#include <sys/ipc.h>
#include <sys/msg.h>

static int q;
static struct { long mtype; char text[65536]; } mb;

static void mech_setup(size_t size) {
    if (size > sizeof mb.text) { errno = EMSGSIZE; die("size"); }
    q = msgget(IPC_PRIVATE, 0600 | IPC_CREAT);
    if (q < 0) die("msgget");
    /* The same depth as the Rust paths (transport.rs, equal_depth): as many whole messages of
     * size + 64 bytes (the typed envelope's allowance) as msgmnb holds. */
    struct msqid_ds ds;
    if (msgctl(q, IPC_STAT, &ds) != 0) die("msgctl(IPC_STAT)");
    msglen_t per = (msglen_t)(size + 64), n = ds.msg_qbytes / per;
    ds.msg_qbytes = (n ? n : 1) * per;
    if (msgctl(q, IPC_SET, &ds) != 0) die("msgctl(IPC_SET)");
}
static void mech_open(int side) { (void)side; }
static void mech_send(int side, const void *buf, size_t len) {
    mb.mtype = side == 0 ? 1 : 2;
    memcpy(mb.text, buf, len);
    while (msgsnd(q, &mb, len, 0) != 0) if (errno != EINTR) die("msgsnd");
}
static void mech_recv(int side, void *buf, size_t len) {
    ssize_t n;
    while ((n = msgrcv(q, &mb, sizeof mb.text, side == 0 ? 2 : 1, 0)) < 0) if (errno != EINTR) die("msgrcv");
    if ((size_t)n != len) { fprintf(stderr, "c-bench: error: short message\n"); exit(1); }
    memcpy(buf, mb.text, len);
}
static void mech_cleanup(void) { msgctl(q, IPC_RMID, 0); }
