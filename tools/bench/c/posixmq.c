/* posixmq.c: two POSIX message queues (mq_open/mq_send/mq_receive/mq_unlink), one per
 * direction, 10 messages deep, message size = SIZE. */
#include "bench.h"
#include <fcntl.h>
#include <mqueue.h>

static char na[64], nb[64];
static mqd_t qa, qb;
static size_t msgsize;

static void mech_setup(size_t size) {
    struct mq_attr attr = {0};
    attr.mq_maxmsg = 10;
    attr.mq_msgsize = (long)size;
    msgsize = size;
    snprintf(na, sizeof na, "/ipc-pairs-bench-c-%d-a", getpid());
    snprintf(nb, sizeof nb, "/ipc-pairs-bench-c-%d-b", getpid());
    qa = mq_open(na, O_RDWR | O_CREAT | O_EXCL, 0600, &attr);
    qb = mq_open(nb, O_RDWR | O_CREAT | O_EXCL, 0600, &attr);
    if (qa == (mqd_t)-1 || qb == (mqd_t)-1) die("mq_open");
}
static void mech_open(int side) { (void)side; }
static void mech_send(int side, const void *buf, size_t len) {
    while (mq_send(side == 0 ? qa : qb, buf, len, 0) != 0) if (errno != EINTR) die("mq_send");
}
static void mech_recv(int side, void *buf, size_t len) {
    ssize_t n;
    while ((n = mq_receive(side == 0 ? qb : qa, buf, msgsize, 0)) < 0) if (errno != EINTR) die("mq_receive");
    if ((size_t)n != len) { fprintf(stderr, "c-bench: error: short message\n"); exit(1); }
}
static void mech_cleanup(void) { mq_unlink(na); mq_unlink(nb); }
