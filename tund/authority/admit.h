/*
 * Who may hold one of the authority's connection slots: pure bookkeeping
 * (no sockets, no clock), so the choices are unit-tested without root.
 *
 * A source is one IPv4 address or one IPv6 /64 (a single host commonly
 * holds a whole /64, so counting whole IPv6 addresses would let one host
 * take every slot). Each source may hold a bounded number of slots, and
 * fewer that have not authenticated yet. When every slot (or every slot
 * an unauthenticated connection may take) is in use, the oldest
 * unauthenticated connection makes room for the new one: a flood then
 * churns through strangers instead of locking everyone out, and a node
 * that authenticates within the deadline is never evicted.
 */
#ifndef Q2Q_ADMIT_H
#define Q2Q_ADMIT_H

#include <stdint.h>
#include <netinet/in.h>

struct admit;

struct admit_limits {
	int slots;		/* connections in all */
	int unauth;		/* of which not authenticated yet */
	int per_source;		/* from one source */
	int per_source_unauth;	/* from one source, not authenticated yet */
};

enum admit_verdict {
	ADMIT_OK,		/* take a slot with admit_open */
	ADMIT_EVICT,		/* close *victim (admit_close its slot), then admit_open */
	ADMIT_REFUSE_SOURCE,	/* the source holds its share already */
	ADMIT_REFUSE_FULL,	/* every slot is held by authenticated nodes */
};

/* Limits must be positive with unauth <= slots and per_source_unauth <=
 * per_source; seed keys the source hash (random in the daemon, so a
 * remote cannot aim at one hash chain). -EINVAL or -ENOMEM. */
int admit_new(const struct admit_limits *lim, uint64_t seed, struct admit **out);
void admit_free(struct admit *a);

/* What to do with a new connection from `from`, counted in the
 * statistics under its verdict. On ADMIT_EVICT, *victim is the owner
 * given to admit_open for the oldest unauthenticated slot. */
enum admit_verdict admit_check(struct admit *a, const struct sockaddr_in6 *from, void **victim);

/* Takes a slot for owner (after ADMIT_OK): the slot's number, or -ENFILE
 * / -EMFILE if admit_check would not have said ADMIT_OK. */
int admit_open(struct admit *a, const struct sockaddr_in6 *from, void *owner);
/* The slot's connection proved who it is; it is no longer evictable. */
void admit_authenticated(struct admit *a, int slot);
void admit_close(struct admit *a, int slot);
/* Like admit_close, for a connection that did not authenticate within
 * the caller's deadline: counted as such. */
void admit_expire(struct admit *a, int slot);

/* What admission did since admit_new, and what it holds now. */
struct admit_stats {
	uint64_t admitted;		/* slots taken (admit_open) */
	uint64_t refused_source;	/* ADMIT_REFUSE_SOURCE */
	uint64_t refused_full;		/* ADMIT_REFUSE_FULL */
	uint64_t evicted;		/* ADMIT_EVICT: a stranger made room */
	uint64_t expired;		/* admit_expire */
	int open, unauth;		/* slots in use; of them unauthenticated */
	struct admit_limits lim;
};
void admit_stats(const struct admit *a, struct admit_stats *out);

/* Counts, for status and tests: all slots in use and the unauthenticated
 * ones; with from, only that source's. */
void admit_count(const struct admit *a, const struct sockaddr_in6 *from, int *open, int *unauth);

#endif
