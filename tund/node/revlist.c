/*
 * The revocation set of revlist.h: a hash table with chaining, keyed by
 * (domain, serial) under a random seed, since the serials come from the
 * network. It doubles as it fills; domains are few and kept once each.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "identity/name.h"
#include "tund/node/revlist.h"

#define RL_SERIAL_MAX 40

struct rl_entry {
	struct rl_entry *next;
	int64_t not_after;
	uint32_t dom;			/* index into domains */
	char serial[RL_SERIAL_MAX + 1];
};

struct revlist {
	struct rl_entry **b;
	size_t nb, n;
	uint64_t seed;
	char **domains;
	uint32_t ndom;
};

int revlist_new(struct revlist **out)
{
	struct revlist *rl = calloc(1, sizeof(*rl));

	if (!rl)
		return -ENOMEM;
	rl->nb = 64;
	rl->b = calloc(rl->nb, sizeof(*rl->b));
	if (!rl->b) {
		free(rl);
		return -ENOMEM;
	}
	if (getrandom(&rl->seed, sizeof(rl->seed), GRND_NONBLOCK) != sizeof(rl->seed))
		rl->seed = (uint64_t)(uintptr_t)rl ^ 0x9e3779b97f4a7c15ull;
	*out = rl;
	return 0;
}

void revlist_free(struct revlist *rl)
{
	if (!rl)
		return;
	for (size_t i = 0; i < rl->nb; i++) {
		while (rl->b[i]) {
			struct rl_entry *e = rl->b[i];

			rl->b[i] = e->next;
			free(e);
		}
	}
	for (uint32_t i = 0; i < rl->ndom; i++)
		free(rl->domains[i]);
	free(rl->domains);
	free(rl->b);
	free(rl);
}

/* Lower-cases a serial into out; -EINVAL unless 1..40 hex digits. */
static int rl_norm(const char *serial, char out[RL_SERIAL_MAX + 1])
{
	size_t n = strnlen(serial, RL_SERIAL_MAX + 1);

	if (n == 0 || n > RL_SERIAL_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (!isxdigit((unsigned char)serial[i]))
			return -EINVAL;
		out[i] = (char)tolower((unsigned char)serial[i]);
	}
	out[n] = 0;
	return 0;
}

/* FNV-1a over seed, domain index and serial, then mixed. */
static size_t rl_hash(const struct revlist *rl, uint32_t dom, const char *serial)
{
	uint64_t h = 0xcbf29ce484222325ull ^ rl->seed;

	h = (h ^ dom) * 0x100000001b3ull;
	for (const char *p = serial; *p; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 32;
	return (size_t)(h & (rl->nb - 1));
}

/* The domain's index, or -1 (unknown, and not added unless add). */
static int64_t rl_domain(struct revlist *rl, const char *domain, int add)
{
	char **v;

	for (uint32_t i = 0; i < rl->ndom; i++)
		if (strcmp(rl->domains[i], domain) == 0)
			return i;
	if (!add)
		return -1;
	v = reallocarray(rl->domains, rl->ndom + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	rl->domains = v;
	if (!(v[rl->ndom] = strdup(domain)))
		return -ENOMEM;
	return rl->ndom++;
}

static void rl_grow(struct revlist *rl)
{
	size_t nb = rl->nb * 2;
	struct rl_entry **b = calloc(nb, sizeof(*b)), **old = rl->b;
	size_t onb = rl->nb;

	if (!b)
		return;		/* longer chains, still correct */
	rl->b = b;
	rl->nb = nb;
	for (size_t i = 0; i < onb; i++) {
		while (old[i]) {
			struct rl_entry *e = old[i];
			size_t h = rl_hash(rl, e->dom, e->serial);

			old[i] = e->next;
			e->next = b[h];
			b[h] = e;
		}
	}
	free(old);
}

int revlist_add(struct revlist *rl, const char *domain, const char *serial, int64_t not_after)
{
	char s[RL_SERIAL_MAX + 1], why[128];
	struct rl_entry *e;
	int64_t dom;
	size_t h;

	if (rl_norm(serial, s) < 0 || id_parse_domain(domain, why, sizeof(why)) < 0)
		return -EINVAL;
	if (revlist_has(rl, domain, s))
		return 0;
	if (rl->n >= REVLIST_MAX)
		return -ENOSPC;
	dom = rl_domain(rl, domain, 1);
	if (dom < 0)
		return (int)dom;
	if (rl->n >= rl->nb)
		rl_grow(rl);
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->dom = (uint32_t)dom;
	e->not_after = not_after;
	memcpy(e->serial, s, sizeof(s));
	h = rl_hash(rl, e->dom, s);
	e->next = rl->b[h];
	rl->b[h] = e;
	rl->n++;
	return 1;
}

int revlist_has(const struct revlist *rl, const char *domain, const char *serial)
{
	char s[RL_SERIAL_MAX + 1];
	int64_t dom;

	if (!rl || rl_norm(serial, s) < 0 || (dom = rl_domain((struct revlist *)rl, domain, 0)) < 0)
		return 0;
	for (const struct rl_entry *e = rl->b[rl_hash(rl, (uint32_t)dom, s)]; e; e = e->next)
		if (e->dom == (uint32_t)dom && strcmp(e->serial, s) == 0)
			return 1;
	return 0;
}

size_t revlist_expire(struct revlist *rl, int64_t now)
{
	size_t gone = 0;

	for (size_t i = 0; i < rl->nb; i++) {
		for (struct rl_entry **pp = &rl->b[i]; *pp;) {
			struct rl_entry *e = *pp;

			if (e->not_after > now) {
				pp = &e->next;
				continue;
			}
			*pp = e->next;
			free(e);
			gone++;
		}
	}
	rl->n -= gone;
	return gone;
}

size_t revlist_count(const struct revlist *rl) { return rl ? rl->n : 0; }
