/*
 * What a node knows to be revoked: certificate serials, each under the
 * domain whose authority said so. A serial counts only for certificates
 * of that domain (PROTOCOL.md, "Revocation"), so an authority's news can
 * never cut off another domain's nodes. Entries go when the certificate
 * would have expired anyway. Pure: no I/O, time is an argument.
 */
#ifndef Q2Q_NODE_REVLIST_H
#define Q2Q_NODE_REVLIST_H

#include <stddef.h>
#include <stdint.h>

struct revlist;

/* At most this many entries at once (about 80 bytes each). */
#define REVLIST_MAX (1 << 20)

int revlist_new(struct revlist **out);
void revlist_free(struct revlist *rl);

/* serial: 1..40 hex digits (either case, stored lower-case); domain as
 * the identity has it. 1 added, 0 known already, -EINVAL malformed,
 * -ENOSPC full, -ENOMEM. */
int revlist_add(struct revlist *rl, const char *domain, const char *serial, int64_t not_after);
/* 1 if serial of domain is revoked, else 0. */
int revlist_has(const struct revlist *rl, const char *domain, const char *serial);
/* Drops entries whose certificate expired by now; how many went. */
size_t revlist_expire(struct revlist *rl, int64_t now);
size_t revlist_count(const struct revlist *rl);

#endif
