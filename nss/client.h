/*
 * The NSS module's side of the names socket: one question, one answer,
 * within a deadline. q2qd being down (no socket, nobody listening), slow
 * or answering nonsense all come back as a failure in time, so that the
 * next source in nsswitch.conf gets its turn.
 */
#ifndef Q2Q_NSS_CLIENT_H
#define Q2Q_NSS_CLIENT_H

#include "nss/wire.h"

#define NAMES_SOCKET_DEFAULT	"/run/q2q/names.sock"
#define NAMES_TIMEOUT_MS	100	/* for the whole exchange */

/* 0 with *rep decoded and checked against req, or -errno: -ENOENT or
 * -ECONNREFUSED (q2qd is not running), -ETIMEDOUT, -EBADMSG (a reply that
 * failed its checks). */
int names_client_ask(const char *path, const struct names_req *req, struct names_reply *rep,
    int timeout_ms);

#endif
