/* pipe.c: two pipes (pipe(2)) between parent and child, one per direction. */
#include "bench.h"

static int a[2], b[2]; /* a: parent -> child, b: child -> parent */

static void mech_setup(size_t size) { (void)size; if (pipe(a) || pipe(b)) die("pipe"); }
static void mech_open(int side) {
    if (side == 0) { close(a[0]); close(b[1]); } else { close(a[1]); close(b[0]); }
}
static void mech_send(int side, const void *buf, size_t len) { write_all(side == 0 ? a[1] : b[1], buf, len); }
static void mech_recv(int side, void *buf, size_t len) { read_all(side == 0 ? b[0] : a[0], buf, len); }
static void mech_cleanup(void) {}
