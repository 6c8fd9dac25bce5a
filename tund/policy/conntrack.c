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

/* A multiply-xor mix over the key's 32-bit words, started from the seed:
 * every packet of a flow hashes once, so the key is taken four bytes at
 * a time rather than byte by byte. */
static uint32_t ct_hash(const struct ct_table *t, const struct ct_key *k)
{
	const uint8_t *p = (const uint8_t *)k;
	uint64_t h = t->seed ^ 0x9e3779b97f4a7c15ULL;

	_Static_assert(sizeof(*k) % 4 == 0, "the key is whole words");
	for (size_t i = 0; i < sizeof(*k); i += 4) {
		uint32_t w;

		memcpy(&w, p + i, 4);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
	}
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 29;
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
