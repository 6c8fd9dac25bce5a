/*
 * Packing answers into the caller's buffer (nss/hostent.h). A bump
 * allocator over buf hands out aligned pieces and says when it ran out.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "nss/alias.h"
#include "nss/hostent.h"

struct bump {
	char *p;
	size_t left;
};

static void *bump_take(struct bump *b, size_t n, size_t align)
{
	size_t pad = (align - ((uintptr_t)b->p % align)) % align;
	void *r;

	if (pad > b->left || n > b->left - pad)
		return NULL;
	r = b->p + pad;
	b->p += pad + n;
	b->left -= pad + n;
	return r;
}

static char *bump_str(struct bump *b, const char *s)
{
	size_t n = strlen(s) + 1;
	char *r = bump_take(b, n, 1);

	if (r)
		memcpy(r, s, n);
	return r;
}

static size_t fam_len(int af)
{
	return af == AF_INET ? 4 : 16;
}

int names_hostent_fill(const struct names_reply *r, int af, struct hostent *h,
    char *buf, size_t len)
{
	struct bump b = { buf, len };
	const struct names_addr *a = NULL;
	char alias[NAMES_ALIAS_MAX + 1];
	char **aliases, **addrs, *ab;
	int i, have_alias;

	for (i = 0; i < r->n_addr; i++)
		if (r->addr[i].family == af)
			a = &r->addr[i];
	if (!a)
		return -ENOENT;
	have_alias = names_alias_from_identity(r->name, alias, sizeof(alias)) == 0;
	aliases = bump_take(&b, 2 * sizeof(char *), sizeof(char *));
	addrs = bump_take(&b, 2 * sizeof(char *), sizeof(char *));
	ab = bump_take(&b, fam_len(af), sizeof(uint32_t));
	if (!aliases || !addrs || !ab)
		return -ERANGE;
	memcpy(ab, a->a, fam_len(af));
	addrs[0] = ab;
	addrs[1] = NULL;
	aliases[0] = aliases[1] = NULL;
	if (have_alias && !(aliases[0] = bump_str(&b, alias)))
		return -ERANGE;
	if (!(h->h_name = bump_str(&b, r->name)))
		return -ERANGE;
	h->h_aliases = aliases;
	h->h_addrtype = af;
	h->h_length = (int)fam_len(af);
	h->h_addr_list = addrs;
	return 0;
}

int names_tuples_fill(const struct names_reply *r, struct gaih_addrtuple **pat,
    char *buf, size_t len)
{
	struct bump b = { buf, len };
	struct gaih_addrtuple *first = NULL, *prev = NULL;
	char *name = bump_str(&b, r->name);
	int pass, i;

	if (!name)
		return -ERANGE;
	/* IPv6 first, as DNS sources answer: getaddrinfo sorts by RFC 6724 anyway. */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < r->n_addr; i++) {
			const struct names_addr *a = &r->addr[i];
			struct gaih_addrtuple *t;

			if ((a->family == AF_INET6) != (pass == 0))
				continue;
			if (!first && *pat)
				t = *pat;
			else if (!(t = bump_take(&b, sizeof(*t), _Alignof(struct gaih_addrtuple))))
				return -ERANGE;
			memset(t, 0, sizeof(*t));
			t->name = name;
			t->family = a->family;
			memcpy(t->addr, a->a, fam_len(a->family));
			if (prev)
				prev->next = t;
			else
				first = t;
			prev = t;
		}
	}
	if (!first)
		return -ENOENT;
	*pat = first;
	return 0;
}
