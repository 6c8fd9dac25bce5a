/*
 * The names socket: where libnss_q2q (nss/) asks q2qd which addresses an
 * identity has and which identity has an address. Unlike the control
 * socket it is open to every local user (mode 0666), so it answers those
 * two questions and nothing else, in the fixed format of nss/wire.h.
 */
#ifndef Q2Q_CTL_NAMES_H
#define Q2Q_CTL_NAMES_H

#include <stddef.h>

struct daemon;
struct loop;
struct names;

/* Listens on path; answers from d's overlay and node. 0 or -errno with err. */
int names_open(struct loop *l, const char *path, struct daemon *d, struct names **out,
    char *err, size_t errlen);
/* Unlinks the socket and drops the clients. Call after daemon_down: the
 * overlay answers the look-ups it keeps waiting before it goes. */
void names_close(struct names *n);

#endif
