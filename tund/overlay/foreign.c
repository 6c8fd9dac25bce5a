/*
 * Other domains' peers under node-local IPv4s: the overlay's side of
 * localv4.c (the book) and routing/xlat4.c (the translation). The book
 * is saved whenever it hands out a new address, so an address a program
 * was given is never given to anyone else after a crash; the times of
 * use (which identity to forget first when it is full) are saved at
 * overlay_down.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "identity/file.h"
#include "routing/xlat4.h"
#include "tund/base/log.h"
#include "tund/overlay/foreign.h"
#include "tund/overlay/localv4.h"
#include "tund/overlay/overlay_int.h"

#define FOREIGN_FILE "node/foreign-v4"

static void foreign_path(const struct overlay *o, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/" FOREIGN_FILE, o->cfg->state_dir);
}

static int foreign_is(const struct overlay *o, const char *identity)
{
	const char *at = strchr(identity, '@');

	return at && strcmp(at + 1, o->domain) != 0;
}

static void foreign_save(const struct overlay *o)
{
	char path[CONFIG_PATH_MAX + 32];
	char *text = malloc(LOCALV4_TEXT_MAX);
	int n = text ? localv4_format(o->book, text, LOCALV4_TEXT_MAX) : -ENOMEM;

	foreign_path(o, path, sizeof(path));
	if (n >= 0)
		n = file_write_atomic(path, text, (size_t)n, 0600);
	if (n < 0)
		log_warnx("cannot save the local addresses of foreign peers to %s: %s", path,
		    strerror(-n));
	free(text);
}

int foreign_init(struct overlay *o)
{
	char path[CONFIG_PATH_MAX + 32], err[512];
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc, bad;

	o->book = malloc(sizeof(*o->book));
	if (!o->book)
		return -ENOMEM;
	localv4_init(o->book, &o->cfg->foreign_pool);
	foreign_path(o, path, sizeof(path));
	rc = file_read_all(path, LOCALV4_TEXT_MAX, &buf, &len);
	if (rc == -ENOENT)
		return 0;
	if (rc < 0) {
		log_warnx("%s: %s; foreign peers get new local addresses", path, strerror(-rc));
		return 0;
	}
	bad = localv4_parse(o->book, (const char *)buf, len, err, sizeof(err));
	if (bad)
		log_warnx("%s: %d lines skipped (first: %s)", path, bad, err);
	free(buf);
	return 0;
}

void foreign_free(struct overlay *o)
{
	if (!o->book)
		return;
	foreign_save(o);
	free(o->book);
	o->book = NULL;
}

void foreign_forget_domain(struct overlay *o, const char *domain)
{
	if (o->book && localv4_forget_domain(o->book, domain) > 0)
		foreign_save(o);
}

const struct addr_prefix *foreign_block(const struct overlay *o)
{
	return o->book ? &o->book->block : NULL;
}

/* Whether this node uses v4 for something other than a foreign peer: its
 * own address, or one a peer of its own domain holds or routes. */
static int foreign_busy(void *arg, const uint8_t v4[4])
{
	struct overlay *o = arg;

	if (memcmp(v4, o->v4, 4) == 0)
		return 1;
	for (struct peer *p = peer_first(o->peers); p; p = p->next) {
		if (!p->have_cert || foreign_is(o, p->identity))
			continue;
		if (memcmp(p->ci.v4, v4, 4) == 0)
			return 1;
		for (int i = 0; i < p->ci.n_routes; i++)
			if (addr_prefix_contains(&p->ci.routes[i], AF_INET, v4))
				return 1;
	}
	return 0;
}

static int foreign_live(void *arg, const char *identity)
{
	struct overlay *o = arg;
	struct peer *p = peer_find(o->peers, identity);

	return p && p->have_cert;
}

void foreign_peer_cert(struct overlay *o, struct peer *p)
{
	char a[INET_ADDRSTRLEN], c[INET_ADDRSTRLEN];
	int rc;

	if (!o->book || !foreign_is(o, p->identity))
		return;
	rc = localv4_assign(o->book, p->identity, (int64_t)time(NULL), foreign_busy, foreign_live, o,
	    p->local_v4);
	p->has_local_v4 = rc >= 0;
	if (rc < 0) {
		log_warnx("peer %s: no local IPv4 free in foreign_pool; reachable over IPv6 only",
		    p->identity);
		return;
	}
	if (rc == 1) {
		inet_ntop(AF_INET, p->local_v4, a, sizeof(a));
		inet_ntop(AF_INET, p->ci.v4, c, sizeof(c));
		log_info("local IPv4 %s for %s (its certificate's: %s)", a, p->identity, c);
		foreign_save(o);
	}
}

const uint8_t *foreign_route_v4(const struct overlay *o, const struct peer *p)
{
	if (p->has_local_v4)
		return p->local_v4;
	return foreign_is(o, p->identity) ? NULL : p->ci.v4;
}

int foreign_rx(const struct overlay *o, const struct peer *p, uint8_t *pkt, size_t len)
{
	if ((pkt[0] >> 4) != 4)
		return 0;
	if (p->has_local_v4)
		return xlat4_in(pkt, len, p->ci.v4, p->local_v4) < 0 ? -EINVAL : 0;
	/* Another domain's peer with no local IPv4: its certified one may be
	 * anyone's here. */
	if (foreign_is(o, p->identity) && len >= 20 && memcmp(pkt + 12, p->ci.v4, 4) == 0)
		return -EPERM;
	return 0;
}

int foreign_tx(const struct peer *p, uint8_t *pkt, size_t len)
{
	if (!p->has_local_v4 || (pkt[0] >> 4) != 4)
		return 0;
	return xlat4_out(pkt, len, p->ci.v4, p->local_v4) < 0 ? -EINVAL : 0;
}

const char *foreign_identity_of(const struct overlay *o, int family, const uint8_t *a,
    struct cert_info *ci)
{
	const struct localv4_entry *e = o->book ? localv4_by_addr(o->book, family, a) : NULL;

	if (!e || !foreign_is(o, e->identity))
		return NULL;
	if (ci) {
		memset(ci, 0, sizeof(*ci));
		snprintf(ci->identity, sizeof(ci->identity), "%s", e->identity);
		memcpy(ci->v4, e->v4, 4);
		memcpy(ci->v6, e->v6, 16);
		ci->has_v4 = ci->has_v6 = 1;
	}
	return e->identity;
}
