/* unix.c: a Unix domain stream socket (socket/bind/listen/accept/connect). */
#include "bench.h"
#include <sys/socket.h>
#include <sys/un.h>

static struct sockaddr_un addr;
static int lfd, fd;

static void mech_setup(size_t size) {
    (void)size;
    addr.sun_family = AF_UNIX;
    snprintf(addr.sun_path, sizeof addr.sun_path, "/tmp/ipc-pairs-bench-c-%d.sock", getpid());
    lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof addr) || listen(lfd, 1)) die("listen");
}
static void mech_open(int side) {
    if (side == 0) { fd = accept(lfd, 0, 0); if (fd < 0) die("accept"); }
    else {
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr)) die("connect");
    }
    close(lfd);
}
static void mech_send(int side, const void *buf, size_t len) { (void)side; write_all(fd, buf, len); }
static void mech_recv(int side, void *buf, size_t len) { (void)side; read_all(fd, buf, len); }
static void mech_cleanup(void) { unlink(addr.sun_path); }
