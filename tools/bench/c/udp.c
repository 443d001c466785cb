/* udp.c: two connected UDP sockets on loopback, one datagram per message (latency only). Like
 * the Rust bench, each socket has a 2 s receive timeout (SO_RCVTIMEO): a lost datagram fails
 * the run instead of hanging it. */
#include "bench.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

static int s[2];

static void mech_setup(size_t size) {
    (void)size;
    struct sockaddr_in addr[2];
    for (int i = 0; i < 2; i++) {
        socklen_t len = sizeof addr[i];
        memset(&addr[i], 0, sizeof addr[i]);
        addr[i].sin_family = AF_INET;
        addr[i].sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        s[i] = socket(AF_INET, SOCK_DGRAM, 0);
        if (s[i] < 0 || bind(s[i], (struct sockaddr *)&addr[i], sizeof addr[i])) die("bind");
        if (getsockname(s[i], (struct sockaddr *)&addr[i], &len)) die("getsockname");
    }
    if (connect(s[0], (struct sockaddr *)&addr[1], sizeof addr[1]) ||
        connect(s[1], (struct sockaddr *)&addr[0], sizeof addr[0])) die("connect");
}
static void mech_open(int side) {
    struct timeval timeout = {2, 0};
    close(s[1 - side]);
    if (setsockopt(s[side], SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout)) die("setsockopt");
}
static void mech_send(int side, const void *buf, size_t len) {
    if (send(s[side], buf, len, 0) != (ssize_t)len) die("send");
}
static void mech_recv(int side, void *buf, size_t len) {
    ssize_t n;
    do { n = recv(s[side], buf, len, 0); } while (n < 0 && errno == EINTR);
    if (n != (ssize_t)len) die("recv (a datagram lost?)");
}
static void mech_cleanup(void) {}
