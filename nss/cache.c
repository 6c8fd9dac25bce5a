/*
 * A tiny fixed cache of names answers (nss/cache.h): linear search over a
 * handful of slots beats any structure at this size.
 */
#include <string.h>

#include "nss/cache.h"

static int same_question(const struct names_req *a, const struct names_req *b)
{
	if (a->op != b->op)
		return 0;
	if (a->op == NAMES_OP_RESOLVE)
		return strcmp(a->name, b->name) == 0;
	return a->addr.family == b->addr.family && memcmp(a->addr.a, b->addr.a, 16) == 0;
}

int names_cache_get(const struct names_cache *c, const struct names_req *req, uint64_t now_ms,
    struct names_reply *out)
{
	int i;

	for (i = 0; i < NAMES_CACHE_SLOTS; i++) {
		const struct names_cache_slot *s = &c->slot[i];

		if (s->expires > now_ms && same_question(&s->key, req)) {
			*out = s->val;
			return 1;
		}
	}
	return 0;
}

void names_cache_put(struct names_cache *c, const struct names_req *req,
    const struct names_reply *rep, uint64_t now_ms)
{
	struct names_cache_slot *pick = NULL;
	int i;

	if (rep->status != NAMES_OK && rep->status != NAMES_NOTFOUND)
		return;
	for (i = 0; i < NAMES_CACHE_SLOTS; i++) {
		struct names_cache_slot *s = &c->slot[i];

		if (s->expires && same_question(&s->key, req)) {
			pick = s;
			break;
		}
		if (!pick || s->expires < pick->expires)
			pick = s;	/* the empty (0) or the one expiring first */
	}
	pick->key = *req;
	pick->val = *rep;
	pick->expires = now_ms + (rep->status == NAMES_OK ? NAMES_CACHE_OK_MS : NAMES_CACHE_MISS_MS);
}
