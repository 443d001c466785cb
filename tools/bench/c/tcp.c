/* tcp.c: TCP over loopback, TCP_NODELAY on both ends (as the Rust bench). */
#include "bench.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

static struct sockaddr_in addr;
static int lfd, fd;

static void mech_setup(size_t size) {
    (void)size;
    socklen_t len = sizeof addr;
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof addr) || listen(lfd, 1)) die("listen");
    if (getsockname(lfd, (struct sockaddr *)&addr, &len)) die("getsockname");
}
static void mech_open(int side) {
    int one = 1;
    if (side == 0) { fd = accept(lfd, 0, 0); if (fd < 0) die("accept"); }
    else {
        fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr)) die("connect");
    }
    close(lfd);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}
static void mech_send(int side, const void *buf, size_t len) { (void)side; write_all(fd, buf, len); }
static void mech_recv(int side, void *buf, size_t len) { (void)side; read_all(fd, buf, len); }
static void mech_cleanup(void) {}
