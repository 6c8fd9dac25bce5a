/*
 * Connection admission for the authority (admit.h): a slot table with a
 * first-in first-out list of the unauthenticated slots (the oldest is the
 * head, so eviction is O(1)) and a chained hash of per-source counters.
 * There are never more distinct sources than slots, so both pools are
 * sized once and nothing is allocated per connection.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tund/authority/admit.h"

struct admit_src {
	uint8_t key[16];
	int n, unauth;
	int next;		/* hash chain, or the free list */
};

struct admit_slot {
	void *owner;
	int src;		/* -1: free */
	int authed;
	int prev, next;		/* unauthenticated FIFO, or the free list */
};

struct admit {
	struct admit_limits lim;
	uint64_t seed;
	unsigned nbuckets;	/* a power of two */
	int *bucket;
	struct admit_src *src;
	int src_free;
	struct admit_slot *slot;
	int slot_free;
	int open, unauth;
	int oldest, youngest;	/* unauthenticated FIFO ends, -1 when empty */
	struct admit_stats st;	/* its counters; open and unauth filled on demand */
};

/* IPv4 (v4-mapped): the whole address; IPv6: its /64. */
static void admit_key(const struct sockaddr_in6 *from, uint8_t key[16])
{
	memcpy(key, &from->sin6_addr, 16);
	if (!IN6_IS_ADDR_V4MAPPED(&from->sin6_addr))
		memset(key + 8, 0, 8);
}

static unsigned admit_hash(const struct admit *a, const uint8_t key[16])
{
	uint64_t h = a->seed, w;

	for (int i = 0; i < 16; i += 8) {
		memcpy(&w, key + i, 8);
		h ^= w;
		h *= 0x9e3779b97f4a7c15ull;
		h ^= h >> 31;
	}
	return (unsigned)h & (a->nbuckets - 1);
}

static int admit_find(const struct admit *a, const uint8_t key[16])
{
	for (int i = a->bucket[admit_hash(a, key)]; i >= 0; i = a->src[i].next)
		if (memcmp(a->src[i].key, key, 16) == 0)
			return i;
	return -1;
}

int admit_new(const struct admit_limits *lim, uint64_t seed, struct admit **out)
{
	struct admit *a;
	int i;

	if (lim->slots <= 0 || lim->unauth <= 0 || lim->per_source <= 0 || lim->per_source_unauth <= 0 ||
	    lim->unauth > lim->slots || lim->per_source_unauth > lim->per_source || lim->slots > (1 << 24))
		return -EINVAL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->lim = *lim;
	a->seed = seed;
	for (a->nbuckets = 1; a->nbuckets < (unsigned)lim->slots; a->nbuckets <<= 1)
		;
	a->bucket = malloc(sizeof(*a->bucket) * a->nbuckets);
	a->src = calloc((size_t)lim->slots, sizeof(*a->src));
	a->slot = calloc((size_t)lim->slots, sizeof(*a->slot));
	if (!a->bucket || !a->src || !a->slot) {
		admit_free(a);
		return -ENOMEM;
	}
	for (unsigned b = 0; b < a->nbuckets; b++)
		a->bucket[b] = -1;
	for (i = 0; i < lim->slots; i++) {
		a->src[i].next = i + 1 < lim->slots ? i + 1 : -1;
		a->slot[i].next = i + 1 < lim->slots ? i + 1 : -1;
		a->slot[i].src = -1;
	}
	a->src_free = a->slot_free = 0;
	a->oldest = a->youngest = -1;
	*out = a;
	return 0;
}

void admit_free(struct admit *a)
{
	if (!a)
		return;
	free(a->bucket);
	free(a->src);
	free(a->slot);
	free(a);
}

/* The verdict alone, uncounted: admit_open asks it again. */
static enum admit_verdict admit_verdict_of(const struct admit *a, const struct sockaddr_in6 *from,
    void **victim)
{
	uint8_t key[16];
	int s;

	*victim = NULL;
	admit_key(from, key);
	s = admit_find(a, key);
	/* The source's own share first: a source at its limit must not make
	 * room for itself by evicting someone else's connection. */
	if (s >= 0 && (a->src[s].n >= a->lim.per_source || a->src[s].unauth >= a->lim.per_source_unauth))
		return ADMIT_REFUSE_SOURCE;
	if (a->open < a->lim.slots && a->unauth < a->lim.unauth)
		return ADMIT_OK;
	if (a->oldest < 0)
		return ADMIT_REFUSE_FULL;
	*victim = a->slot[a->oldest].owner;
	return ADMIT_EVICT;
}

enum admit_verdict admit_check(struct admit *a, const struct sockaddr_in6 *from, void **victim)
{
	enum admit_verdict v = admit_verdict_of(a, from, victim);

	switch (v) {
	case ADMIT_REFUSE_SOURCE:
		a->st.refused_source++;
		break;
	case ADMIT_REFUSE_FULL:
		a->st.refused_full++;
		break;
	case ADMIT_EVICT:
		a->st.evicted++;
		break;
	case ADMIT_OK:
		break;
	}
	return v;
}

static void admit_unlink(struct admit *a, int i)
{
	struct admit_slot *sl = &a->slot[i];

	if (sl->prev >= 0)
		a->slot[sl->prev].next = sl->next;
	else
		a->oldest = sl->next;
	if (sl->next >= 0)
		a->slot[sl->next].prev = sl->prev;
	else
		a->youngest = sl->prev;
	sl->prev = sl->next = -1;
}

int admit_open(struct admit *a, const struct sockaddr_in6 *from, void *owner)
{
	uint8_t key[16];
	struct admit_slot *sl;
	void *victim;
	int s, i;

	switch (admit_verdict_of(a, from, &victim)) {
	case ADMIT_OK:
		break;
	case ADMIT_REFUSE_SOURCE:
		return -EMFILE;
	default:
		return -ENFILE;
	}
	admit_key(from, key);
	s = admit_find(a, key);
	if (s < 0) {
		/* Free entries always exist: every entry in use counts at
		 * least one open slot, and a slot is free. */
		unsigned b = admit_hash(a, key);

		s = a->src_free;
		a->src_free = a->src[s].next;
		memcpy(a->src[s].key, key, 16);
		a->src[s].n = a->src[s].unauth = 0;
		a->src[s].next = a->bucket[b];
		a->bucket[b] = s;
	}
	i = a->slot_free;
	sl = &a->slot[i];
	a->slot_free = sl->next;
	sl->owner = owner;
	sl->src = s;
	sl->authed = 0;
	sl->next = -1;
	sl->prev = a->youngest;
	if (a->youngest >= 0)
		a->slot[a->youngest].next = i;
	else
		a->oldest = i;
	a->youngest = i;
	a->src[s].n++;
	a->src[s].unauth++;
	a->open++;
	a->unauth++;
	a->st.admitted++;
	return i;
}

void admit_authenticated(struct admit *a, int i)
{
	struct admit_slot *sl;

	if (i < 0 || i >= a->lim.slots || a->slot[i].src < 0 || a->slot[i].authed)
		return;
	sl = &a->slot[i];
	admit_unlink(a, i);
	sl->authed = 1;
	a->src[sl->src].unauth--;
	a->unauth--;
}

void admit_close(struct admit *a, int i)
{
	struct admit_slot *sl;
	struct admit_src *src;

	if (i < 0 || i >= a->lim.slots || a->slot[i].src < 0)
		return;
	sl = &a->slot[i];
	src = &a->src[sl->src];
	if (!sl->authed) {
		admit_unlink(a, i);
		src->unauth--;
		a->unauth--;
	}
	if (--src->n == 0) {
		int *pp = &a->bucket[admit_hash(a, src->key)];

		while (*pp != sl->src)
			pp = &a->src[*pp].next;
		*pp = src->next;
		src->next = a->src_free;
		a->src_free = sl->src;
	}
	a->open--;
	sl->owner = NULL;
	sl->src = -1;
	sl->next = a->slot_free;
	a->slot_free = i;
}

void admit_expire(struct admit *a, int i)
{
	if (i < 0 || i >= a->lim.slots || a->slot[i].src < 0)
		return;
	a->st.expired++;
	admit_close(a, i);
}

void admit_stats(const struct admit *a, struct admit_stats *out)
{
	*out = a->st;
	out->open = a->open;
	out->unauth = a->unauth;
	out->lim = a->lim;
}

void admit_count(const struct admit *a, const struct sockaddr_in6 *from, int *open, int *unauth)
{
	uint8_t key[16];
	int s;

	if (!from) {
		*open = a->open;
		*unauth = a->unauth;
		return;
	}
	admit_key(from, key);
	s = admit_find(a, key);
	*open = s >= 0 ? a->src[s].n : 0;
	*unauth = s >= 0 ? a->src[s].unauth : 0;
}
