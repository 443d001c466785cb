/*
 * remap.c - not a textbook program: the tests' LD_PRELOAD shim.
 *
 * The textbook's programs hard-code their kernel names: System V key 1234 and TCP port 9734.
 * Tests run in parallel, so each needs its own. Rather than edit the programs (they are kept
 * exactly as printed), the tests start them with
 *
 *     LD_PRELOAD=c/textbook/build/libremap.so IPC_PAIRS_KEY=0x5... IPC_PAIRS_PORT=40123 ./build/msg1
 *
 * and this library, loaded first, replaces key 1234 in msgget/semget/shmget and port 9734 in
 * bind/connect with the test's own before calling the real function (dlsym(RTLD_NEXT)).
 * Every other key and port, and every call when the variables are unset, passes unchanged.
 * The same works for the Rust examples, whose nix calls go through the same libc functions.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/socket.h>

static key_t remap_key(key_t key)
{
    const char *to = getenv("IPC_PAIRS_KEY");
    return (key == 1234 && to != NULL) ? (key_t)strtoul(to, NULL, 0) : key;
}

/* A copy of an AF_INET address with port 9734 replaced; other addresses are returned as they
 * are. */
static const struct sockaddr *remap_port(const struct sockaddr *addr, socklen_t len,
                                         struct sockaddr_in *copy)
{
    const char *to = getenv("IPC_PAIRS_PORT");
    if (to == NULL || addr == NULL || addr->sa_family != AF_INET || len < sizeof *copy)
        return addr;
    *copy = *(const struct sockaddr_in *)addr;
    if (copy->sin_port != htons(9734))
        return addr;
    copy->sin_port = htons((unsigned short)strtoul(to, NULL, 0));
    return (const struct sockaddr *)copy;
}

int msgget(key_t key, int flags)
{
    int (*real)(key_t, int) = (int (*)(key_t, int))dlsym(RTLD_NEXT, "msgget");
    return real(remap_key(key), flags);
}

int semget(key_t key, int nsems, int flags)
{
    int (*real)(key_t, int, int) = (int (*)(key_t, int, int))dlsym(RTLD_NEXT, "semget");
    return real(remap_key(key), nsems, flags);
}

int shmget(key_t key, size_t size, int flags)
{
    int (*real)(key_t, size_t, int) = (int (*)(key_t, size_t, int))dlsym(RTLD_NEXT, "shmget");
    return real(remap_key(key), size, flags);
}

int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
    int (*real)(int, const struct sockaddr *, socklen_t) =
        (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "bind");
    struct sockaddr_in copy;
    return real(fd, remap_port(addr, len, &copy), len);
}

int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
    int (*real)(int, const struct sockaddr *, socklen_t) =
        (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "connect");
    struct sockaddr_in copy;
    return real(fd, remap_port(addr, len, &copy), len);
}
