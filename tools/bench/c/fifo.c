/* fifo.c: two named pipes (mkfifo(3)), one per direction. The parent opens both O_RDWR
 * (which never blocks on Linux), the child opens them O_RDONLY / O_WRONLY, as the Rust bench. */
#include "bench.h"
#include <fcntl.h>
#include <sys/stat.h>

static char pa[128], pb[128];
static int wfd, rfd;

static void mech_setup(size_t size) {
    (void)size;
    snprintf(pa, sizeof pa, "/tmp/ipc-pairs-bench-c-%d-a", getpid());
    snprintf(pb, sizeof pb, "/tmp/ipc-pairs-bench-c-%d-b", getpid());
    if (mkfifo(pa, 0600) || mkfifo(pb, 0600)) die("mkfifo");
}
static void mech_open(int side) {
    if (side == 0) { wfd = open(pa, O_RDWR); rfd = open(pb, O_RDWR); }
    else { rfd = open(pa, O_RDONLY); wfd = open(pb, O_WRONLY); }
    if (wfd < 0 || rfd < 0) die("open fifo");
}
static void mech_send(int side, const void *buf, size_t len) { (void)side; write_all(wfd, buf, len); }
static void mech_recv(int side, void *buf, size_t len) { (void)side; read_all(rfd, buf, len); }
static void mech_cleanup(void) { unlink(pa); unlink(pb); }
