/*
 * The daemon's listening Unix sockets (control, names): one way to take a
 * path over from a crashed daemon without taking it from a live one.
 */
#ifndef Q2Q_CTL_UNIXSOCK_H
#define Q2Q_CTL_UNIXSOCK_H

#include <stddef.h>
#include <sys/types.h>

/* A non-blocking, close-on-exec socket of TYPE (SOCK_STREAM or
 * SOCK_SEQPACKET) listening on PATH with permissions MODE from the moment
 * it exists. WHAT names it in errors ("control socket"). Returns the
 * descriptor, or -errno with ERR set; PATH is left as it was on failure
 * unless it was a stale socket. */
int unixsock_listen(const char *what, const char *path, int type, mode_t mode,
    int backlog, char *err, size_t errlen);

#endif
