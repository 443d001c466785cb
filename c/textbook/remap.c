/*
 * remap.c - not a textbook program: the tests' LD_PRELOAD shim.
 *
 * The textbook's programs hard-code their kernel names: System V key 1234, TCP port 9734 and
 * the FIFO path /tmp/my_fifo. Tests run in parallel, so each needs its own. Rather than edit
 * the programs (they are kept exactly as printed), the tests start them with
 *
 *     LD_PRELOAD=c/textbook/build/libremap.so IPC_PAIRS_KEY=0x5... IPC_PAIRS_PORT=40123 ./build/msg1
 *     LD_PRELOAD=c/textbook/build/libremap.so IPC_PAIRS_FIFO=/tmp/ipt-... ./build/fifo_reader
 *
 * and this library, loaded first, replaces key 1234 in msgget/semget/shmget, port 9734 in
 * bind/connect, and the path "/tmp/my_fifo" in mkfifo/open/open64/access/unlink with the
 * test's own before calling the real function (dlsym(RTLD_NEXT)). Every other key, port and
 * path, and every call when the variables are unset, passes unchanged.
 * The same works for the Rust examples, whose nix calls go through the same libc functions.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* The test's FIFO path in place of the tutorial's "/tmp/my_fifo"; other paths unchanged. */
static const char *remap_path(const char *path)
{
    const char *to = getenv("IPC_PAIRS_FIFO");
    return (to != NULL && path != NULL && strcmp(path, "/tmp/my_fifo") == 0) ? to : path;
}

int mkfifo(const char *path, mode_t mode)
{
    int (*real)(const char *, mode_t) = (int (*)(const char *, mode_t))dlsym(RTLD_NEXT, "mkfifo");
    return real(remap_path(path), mode);
}

int access(const char *path, int how)
{
    int (*real)(const char *, int) = (int (*)(const char *, int))dlsym(RTLD_NEXT, "access");
    return real(remap_path(path), how);
}

int unlink(const char *path)
{
    int (*real)(const char *) = (int (*)(const char *))dlsym(RTLD_NEXT, "unlink");
    return real(remap_path(path));
}

/* open's third argument exists only with O_CREAT or O_TMPFILE; passing it always is harmless
 * (the kernel ignores it otherwise), but it must be read only when it was given. */
static mode_t open_mode(int flags, va_list args)
{
    return (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(args, int) : 0;
}

int open(const char *path, int flags, ...)
{
    int (*real)(const char *, int, ...) = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
    va_list args;
    va_start(args, flags);
    mode_t mode = open_mode(flags, args);
    va_end(args);
    return real(remap_path(path), flags, mode);
}

int open64(const char *path, int flags, ...)
{
    int (*real)(const char *, int, ...) =
        (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open64");
    va_list args;
    va_start(args, flags);
    mode_t mode = open_mode(flags, args);
    va_end(args);
    return real(remap_path(path), flags, mode);
}
