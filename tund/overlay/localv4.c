/*
 * The book of node-local IPv4 addresses for foreign identities. At most
 * LOCALV4_MAX entries in a flat array: a lookup is a scan of a few hundred
 * entries, made when a certificate arrives or an unknown address is
 * routed, never per packet (the routing table holds the live ones).
 * Addresses are handed out round the block from a cursor, so an address
 * freed by forgetting an identity comes back only after every other free
 * one: a program that still holds it reaches nobody else for as long as
 * the block allows.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tund/overlay/localv4.h"

static uint32_t localv4_hosts(const struct localv4 *b)
{
	return ((uint32_t)1 << (32 - b->block.plen)) - 2;
}

static uint32_t localv4_net(const struct localv4 *b)
{
	const uint8_t *a = b->block.addr;

	return (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
}

static void localv4_addr(const struct localv4 *b, uint32_t off, uint8_t out[4])
{
	uint32_t v = localv4_net(b) + off;

	out[0] = (uint8_t)(v >> 24);
	out[1] = (uint8_t)(v >> 16);
	out[2] = (uint8_t)(v >> 8);
	out[3] = (uint8_t)v;
}

/* The host offset of a inside the block, or 0 if it is none of its hosts. */
static uint32_t localv4_offset(const struct localv4 *b, const uint8_t a[4])
{
	uint32_t v = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
	uint32_t off = v - localv4_net(b);

	if (!addr_prefix_contains(&b->block, AF_INET, a) || off == 0 || off > localv4_hosts(b))
		return 0;
	return off;
}

void localv4_init(struct localv4 *b, const struct addr_prefix *block)
{
	/* The header alone: an entry is read only below n and written whole
	 * by localv4_add, and a book of LOCALV4_MAX entries (360 KB) that most
	 * nodes never fill then costs no memory until it is written (zeroing
	 * it was 360 KB of an idle engine's private memory; bench/README.md). */
	b->block = *block;
	b->next = 1;
	b->n = 0;
}

const struct localv4_entry *localv4_find(const struct localv4 *b, const char *identity)
{
	for (int i = 0; i < b->n; i++)
		if (strcmp(b->e[i].identity, identity) == 0)
			return &b->e[i];
	return NULL;
}

const struct localv4_entry *localv4_by_addr(const struct localv4 *b, int family, const uint8_t *a)
{
	for (int i = 0; i < b->n; i++)
		if ((family == AF_INET && memcmp(b->e[i].v4, a, 4) == 0) ||
		    (family == AF_INET6 && memcmp(b->e[i].v6, a, 16) == 0))
			return &b->e[i];
	return NULL;
}

int localv4_forget_domain(struct localv4 *b, const char *domain)
{
	int gone = 0;

	for (int i = 0; i < b->n;) {
		const char *at = strchr(b->e[i].identity, '@');

		if (at && strcmp(at + 1, domain) == 0) {
			b->e[i] = b->e[--b->n];
			gone++;
		} else
			i++;
	}
	return gone;
}

static struct localv4_entry *localv4_add(struct localv4 *b, const char *identity, const uint8_t v4[4],
    int64_t used)
{
	struct localv4_entry *e = &b->e[b->n++];

	snprintf(e->identity, sizeof(e->identity), "%s", identity);
	memcpy(e->v4, v4, 4);
	addr_overlay_v6(identity, e->v6);
	e->used = used;
	return e;
}

/* Room for one more: forgets the least recently used identity that is not
 * a peer now. */
static int localv4_make_room(struct localv4 *b, localv4_live_fn *live, void *arg)
{
	int victim = -1;

	if (b->n < LOCALV4_MAX)
		return 0;
	for (int i = 0; i < b->n; i++)
		if (!live(arg, b->e[i].identity) && (victim < 0 || b->e[i].used < b->e[victim].used))
			victim = i;
	if (victim < 0)
		return -ENOSPC;
	b->e[victim] = b->e[--b->n];
	return 0;
}

int localv4_assign(struct localv4 *b, const char *identity, int64_t now, localv4_busy_fn *busy,
    localv4_live_fn *live, void *arg, uint8_t out[4])
{
	struct localv4_entry *e = (struct localv4_entry *)localv4_find(b, identity);
	uint32_t hosts = localv4_hosts(b);
	uint8_t a[4];

	/* An address our own domain has come to use meanwhile is its: the
	 * identity gets another (a peer of our domain is never displaced). */
	if (e && busy(arg, e->v4))
		*e = b->e[--b->n];
	else if (e) {
		e->used = now;
		memcpy(out, e->v4, 4);
		return 0;
	}
	if (localv4_make_room(b, live, arg) < 0)
		return -ENOSPC;
	for (uint32_t tries = 0; tries < hosts; tries++) {
		uint32_t off = b->next;

		b->next = off % hosts + 1;
		localv4_addr(b, off, a);
		if (localv4_by_addr(b, AF_INET, a) || busy(arg, a))
			continue;
		e = localv4_add(b, identity, a, now);
		memcpy(out, e->v4, 4);
		return 1;
	}
	return -ENOSPC;
}

int localv4_format(const struct localv4 *b, char *buf, size_t cap)
{
	char a[INET_ADDRSTRLEN];
	uint8_t nx[4];
	size_t off;
	int n;

	localv4_addr(b, b->next, nx);
	inet_ntop(AF_INET, nx, a, sizeof(a));
	n = snprintf(buf, cap, "# q2qd: node-local IPv4 addresses of foreign identities\nnext %s\n", a);
	if (n < 0 || (size_t)n >= cap)
		return -ENOSPC;
	off = (size_t)n;
	for (int i = 0; i < b->n; i++) {
		inet_ntop(AF_INET, b->e[i].v4, a, sizeof(a));
		n = snprintf(buf + off, cap - off, "%s %s %lld\n", b->e[i].identity, a,
		    (long long)b->e[i].used);
		if (n < 0 || (size_t)n >= cap - off)
			return -ENOSPC;
		off += (size_t)n;
	}
	return (int)off;
}

/* One line (NUL-terminated, no newline): 0, or -EINVAL with why. */
static int localv4_line(struct localv4 *b, char *line, char *why, size_t whylen)
{
	char *tok[4], *save = NULL, *end;
	struct id_name name;
	uint8_t a[4];
	long long used;
	int n = 0;

	for (char *t = strtok_r(line, " \t", &save); t; t = strtok_r(NULL, " \t", &save))
		if (n < 4)
			tok[n++] = t;
		else
			n++;
	if (n == 2 && strcmp(tok[0], "next") == 0) {
		uint32_t off;

		if (inet_pton(AF_INET, tok[1], a) != 1 || !(off = localv4_offset(b, a))) {
			snprintf(why, whylen, "'next %.20s' is no address of the block", tok[1]);
			return -EINVAL;
		}
		b->next = off;
		return 0;
	}
	if (n != 3) {
		snprintf(why, whylen, "expected 'identity address last-used'");
		return -EINVAL;
	}
	if (id_parse_user(tok[0], &name, why, whylen) < 0)
		return -EINVAL;
	if (inet_pton(AF_INET, tok[1], a) != 1 || !localv4_offset(b, a)) {
		snprintf(why, whylen, "'%.20s' is no host address of the block", tok[1]);
		return -EINVAL;
	}
	used = strtoll(tok[2], &end, 10);
	if (*end || end == tok[2] || used < 0) {
		snprintf(why, whylen, "'%.20s' is no time", tok[2]);
		return -EINVAL;
	}
	if (localv4_find(b, tok[0]) || localv4_by_addr(b, AF_INET, a)) {
		snprintf(why, whylen, "%.100s or %.20s is listed twice", tok[0], tok[1]);
		return -EINVAL;
	}
	if (b->n >= LOCALV4_MAX) {
		snprintf(why, whylen, "more than %d entries", LOCALV4_MAX);
		return -EINVAL;
	}
	localv4_add(b, tok[0], a, used);
	return 0;
}

int localv4_parse(struct localv4 *b, const char *text, size_t len, char *err, size_t errlen)
{
	char line[ID_NAME_MAX + 64], why[256];
	size_t i = 0;
	int lineno = 0, bad = 0;

	while (i < len) {
		size_t j = i, n;
		int r = 0;

		while (j < len && text[j] != '\n')
			j++;
		n = j - i;
		lineno++;
		if (n >= sizeof(line) || memchr(text + i, '\0', n)) {
			snprintf(why, sizeof(why), "line too long or not text");
			r = -EINVAL;
		} else {
			memcpy(line, text + i, n);
			line[n] = 0;
			if (n && line[0] != '#')
				r = localv4_line(b, line, why, sizeof(why));
		}
		if (r < 0 && !bad++)
			snprintf(err, errlen, "line %d: %s", lineno, why);
		i = j + 1;
	}
	return bad;
}
