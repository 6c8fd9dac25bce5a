/*
 * The NSS module's memory of recent answers, so that a program that looks
 * a name up several times in a row (getaddrinfo, then getnameinfo for the
 * reply's sender, as ping does) asks q2qd once. A few entries, a few
 * seconds: an identity's addresses are bound in its certificate and
 * rarely change, but a revoked or renamed peer should not linger. Pure:
 * time comes in as an argument and the caller does the locking.
 */
#ifndef Q2Q_NSS_CACHE_H
#define Q2Q_NSS_CACHE_H

#include <stdint.h>

#include "nss/wire.h"

#define NAMES_CACHE_SLOTS	16
#define NAMES_CACHE_OK_MS	5000	/* found */
#define NAMES_CACHE_MISS_MS	1000	/* not found (other statuses are not kept) */

struct names_cache_slot {
	uint64_t expires;		/* 0 = empty */
	struct names_req key;
	struct names_reply val;
};

struct names_cache {
	struct names_cache_slot slot[NAMES_CACHE_SLOTS];
};

/* 1 with *out filled if a live answer to req is kept, else 0. */
int names_cache_get(const struct names_cache *c, const struct names_req *req, uint64_t now_ms,
    struct names_reply *out);
/* Keeps rep as the answer to req (only NAMES_OK and NAMES_NOTFOUND),
 * replacing the same question's entry, else an empty or the oldest one. */
void names_cache_put(struct names_cache *c, const struct names_req *req,
    const struct names_reply *rep, uint64_t now_ms);

#endif
