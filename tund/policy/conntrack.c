/*
 * The flow table: a power-of-two array probed from a keyed hash over at
 * most CT_PROBE slots. Bounded work per packet and bounded memory matter
 * more here than never forgetting a flow: a forgotten flow of our own is
 * re-opened by its next outgoing packet, one let in by a rule by the
 * rule; only replies that come while we are silent can be lost.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tund/policy/conntrack.h"

#define CT_PROBE 8

int ct_init(struct ct_table *t, uint32_t size, uint64_t seed)
{
	memset(t, 0, sizeof(*t));
	if (size < CT_PROBE || (size & (size - 1)))
		return -EINVAL;
	t->e = calloc(size, sizeof(*t->e));
	if (!t->e)
		return -ENOMEM;
	t->mask = size - 1;
	t->seed = seed;
	return 0;
}

void ct_free(struct ct_table *t)
{
	free(t->e);
	t->e = NULL;
}

/* FNV-1a over the key, started from the seed and mixed at the end. */
static uint32_t ct_hash(const struct ct_table *t, const struct ct_key *k)
{
	const uint8_t *p = (const uint8_t *)k;
	uint64_t h = 0xcbf29ce484222325ULL ^ t->seed;

	for (size_t i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	return (uint32_t)h;
}

static int ct_key_eq(const struct ct_key *a, const struct ct_key *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

struct ct_entry *ct_find(struct ct_table *t, const struct ct_key *k, uint64_t now)
{
	uint32_t h = ct_hash(t, k);

	for (uint32_t i = 0; i < CT_PROBE; i++) {
		struct ct_entry *e = &t->e[(h + i) & t->mask];

		if (e->expires > now && ct_key_eq(&e->k, k))
			return e;
	}
	return NULL;
}

struct ct_entry *ct_put(struct ct_table *t, const struct ct_key *k, uint64_t now, uint64_t ttl_ms)
{
	uint32_t h = ct_hash(t, k);
	struct ct_entry *e, *free_slot = NULL, *oldest = NULL;

	for (uint32_t i = 0; i < CT_PROBE; i++) {
		e = &t->e[(h + i) & t->mask];
		if (e->expires > now && ct_key_eq(&e->k, k)) {
			e->expires = now + ttl_ms;
			return e;
		}
		if (e->expires <= now) {
			if (!free_slot)
				free_slot = e;
		} else if (!oldest || e->expires < oldest->expires)
			oldest = e;
	}
	e = free_slot;
	if (!e) {
		e = oldest;
		t->evicted++;
	} else if (e->expires == 0)
		t->used++;
	memset(e, 0, sizeof(*e));
	memcpy(&e->k, k, sizeof(e->k));
	e->expires = now + ttl_ms;
	e->rule[0] = e->rule[1] = -1;
	return e;
}

uint32_t ct_count(const struct ct_table *t, uint64_t now)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i <= t->mask; i++)
		if (t->e[i].expires > now)
			n++;
	return n;
}
