/*
 * A certificate's CA vouches for who its holder is; what the holder may
 * take of our overlay is for us to decide. Without these checks a foreign
 * CA could grant its node a route over bob@example.com's /32 (or all of
 * fd00::/8): the routing table would send bob's packets to that node, and
 * cert_binds_source would let it answer from bob's address. So: addresses
 * are first come, first kept; no route may cover an address or overlay
 * range someone else relies on (this node's block of local addresses for
 * foreign peers included), or take over another peer's prefix (nor,
 * across domains, overlap it); and a foreign domain's routes must lie
 * inside what its trust entry lists. A foreign peer's IPv4 is never ours
 * to route (it is shown under a local one), so only its IPv6 is checked.
 * Tens of peers with a few routes each: plain loops are fast enough.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "tund/conf/config.h"
#include "tund/overlay/claims.h"

/* The overlay's own ranges: the pool every domain allocates from by
 * default, and the derived IPv6 addresses. */
static const struct addr_prefix claims_ranges[] = {
	{ .family = AF_INET, .addr = { 100, 64 }, .plen = 10 },
	{ .family = AF_INET6, .addr = { 0xfd }, .plen = 8 },
};

static struct addr_prefix claims_host(int family, const uint8_t *a)
{
	struct addr_prefix h;

	memset(&h, 0, sizeof(h));
	h.family = family;
	h.plen = family == AF_INET ? 32 : 128;
	memcpy(h.addr, a, family == AF_INET ? 4 : 16);
	return h;
}

/* 1 if inner lies inside (or is) outer. */
static int claims_inside(const struct addr_prefix *inner, const struct addr_prefix *outer)
{
	return inner->family == outer->family && outer->plen <= inner->plen &&
	    addr_prefix_contains(outer, inner->family, inner->addr);
}

static int claims_equal(const struct addr_prefix *a, const struct addr_prefix *b)
{
	return a->family == b->family && a->plen == b->plen && memcmp(a->addr, b->addr, 16) == 0;
}

/* The address of ci (family's) that r covers, or NULL. */
static const uint8_t *claims_covered(const struct addr_prefix *r, const struct cert_info *ci)
{
	if (r->family == AF_INET && addr_prefix_contains(r, AF_INET, ci->v4))
		return ci->v4;
	if (r->family == AF_INET6 && addr_prefix_contains(r, AF_INET6, ci->v6))
		return ci->v6;
	return NULL;
}

static const char *claims_domain(const char *identity)
{
	const char *at = strchr(identity, '@');

	return at ? at + 1 : identity;
}

static int claims_same_identity(const struct cert_info *a, const struct cert_info *b)
{
	return strcmp(a->identity, b->identity) == 0;
}

/* Its addresses. A peer of another domain is shown here under a local
 * IPv4 of our choosing (localv4.h), so its certified IPv4 is never routed
 * here and may be anything: only its IPv6, derived from its name, is
 * checked. Others' IPv4s are as this node shows them (the caller's). */
static enum claims_verdict claims_addresses(const struct claims_self *self,
    const struct cert_info *const *others, int n_others, const struct cert_info *ci, char *why,
    size_t whylen)
{
	int v4 = strcmp(claims_domain(ci->identity), claims_domain(self->identity)) == 0;
	int hit4 = v4 && memcmp(ci->v4, self->v4, 4) == 0;
	char a[INET6_ADDRSTRLEN], pfx[64];

	if (hit4 || memcmp(ci->v6, self->v6, 16) == 0) {
		addr_format(hit4 ? AF_INET : AF_INET6, hit4 ? ci->v4 : ci->v6, a, sizeof(a));
		snprintf(why, whylen, "%.100s's address %s is this node's own", ci->identity, a);
		return CLAIMS_OWN_ADDRESS;
	}
	for (int i = 0; i < n_others; i++) {
		const struct cert_info *q = others[i];

		if (claims_same_identity(q, ci))
			continue;
		hit4 = v4 && memcmp(q->v4, ci->v4, 4) == 0;
		if (hit4 || memcmp(q->v6, ci->v6, 16) == 0) {
			addr_format(hit4 ? AF_INET : AF_INET6, hit4 ? ci->v4 : ci->v6, a, sizeof(a));
			snprintf(why, whylen, "%.100s's address %s clashes with %.100s", ci->identity, a,
			    q->identity);
			return CLAIMS_ADDRESS_TAKEN;
		}
		for (int j = 0; j < q->n_routes; j++) {
			const uint8_t *hit = q->routes[j].plen ? claims_covered(&q->routes[j], ci) : NULL;

			/* (an exit node's default route covers all: see claims_route) */
			if (!hit || (hit == ci->v4 && !v4))
				continue;
			addr_format(q->routes[j].family, hit, a, sizeof(a));
			addr_prefix_format(&q->routes[j], pfx, sizeof(pfx));
			snprintf(why, whylen, "%.100s's address %s lies inside %.100s's route %s",
			    ci->identity, a, q->identity, pfx);
			return CLAIMS_ADDRESS_ROUTED;
		}
	}
	return CLAIMS_OK;
}

static enum claims_verdict claims_route(const struct claims_self *self, const struct addr_prefix *allowed,
    int n_allowed, const struct cert_info *const *others, int n_others, const struct cert_info *ci,
    const struct addr_prefix *r, char *why, size_t whylen)
{
	char pfx[64], a[INET6_ADDRSTRLEN];
	const char *domain = claims_domain(ci->identity);
	struct addr_prefix own;
	int ok;

	addr_prefix_format(r, pfx, sizeof(pfx));
	/* A default route is an exit-node grant (issue 13), the one route
	 * that may cover everything: it enters the routing table only on a
	 * node that chose this peer as its exit node, below every longer
	 * route (tund/overlay/routes.h), so it is judged only by who may
	 * grant it. */
	if (r->plen == 0)
		goto grantable;
	for (size_t i = 0; i < sizeof(claims_ranges) / sizeof(claims_ranges[0]); i++) {
		if (claims_inside(&claims_ranges[i], r)) {
			addr_prefix_format(&claims_ranges[i], a, sizeof(a));
			snprintf(why, whylen, "route %s covers the overlay range %s", pfx, a);
			return CLAIMS_OVERLAY_RANGE;
		}
	}
	/* Our local addresses for foreign peers are ours alone. */
	if (self->foreign && (claims_inside(r, self->foreign) || claims_inside(self->foreign, r))) {
		addr_prefix_format(self->foreign, a, sizeof(a));
		snprintf(why, whylen, "route %s overlaps %s, this node's local addresses for other "
		    "domains' peers (foreign_pool)", pfx, a);
		return CLAIMS_FOREIGN_POOL;
	}
	own = claims_host(r->family, r->family == AF_INET ? self->v4 : self->v6);
	if (claims_inside(&own, r)) {
		addr_format(own.family, own.addr, a, sizeof(a));
		snprintf(why, whylen, "route %s covers this node's address %s", pfx, a);
		return CLAIMS_COVERS_OWN;
	}
	for (int i = 0; i < n_others; i++) {
		const struct cert_info *q = others[i];

		if (claims_same_identity(q, ci))
			continue;
		if (claims_covered(r, q)) {
			snprintf(why, whylen, "route %s covers %.100s's address", pfx, q->identity);
			return CLAIMS_COVERS_PEER;
		}
		for (int j = 0; j < q->n_routes; j++) {
			const struct addr_prefix *qr = &q->routes[j];

			if (qr->plen == 0)	/* an exit node's: beneath everything */
				continue;

			if (claims_equal(r, qr)) {
				snprintf(why, whylen, "route %s is already %.100s's", pfx, q->identity);
				return CLAIMS_ROUTE_TAKEN;
			}
			/* Nested routes are one CA's design (a gateway and a
			 * subnet behind it); across domains, the wider would
			 * send from the narrower's addresses and the narrower
			 * take part of the wider's traffic. */
			if (strcmp(domain, claims_domain(q->identity)) != 0 &&
			    (claims_inside(r, qr) || claims_inside(qr, r))) {
				addr_prefix_format(qr, a, sizeof(a));
				snprintf(why, whylen, "route %s overlaps %.100s's route %s", pfx,
				    q->identity, a);
				return CLAIMS_ROUTE_OVERLAP;
			}
		}
	}
grantable:
	/* Our own domain's CA is the authority over its routes; another
	 * domain's may grant only what we listed for it. */
	if (strcmp(domain, claims_domain(self->identity)) == 0)
		return CLAIMS_OK;
	ok = 0;
	for (int i = 0; i < n_allowed && !ok; i++)
		ok = claims_inside(r, &allowed[i]);
	if (!ok) {
		snprintf(why, whylen, "route %s is not one %.100s may grant (its trust entry's routes)",
		    pfx, domain);
		return CLAIMS_NOT_GRANTABLE;
	}
	return CLAIMS_OK;
}

enum claims_verdict claims_check(const struct claims_self *self, const struct addr_prefix *allowed,
    int n_allowed, const struct cert_info *const *others, int n_others, const struct cert_info *ci,
    char *why, size_t whylen)
{
	enum claims_verdict v = claims_addresses(self, others, n_others, ci, why, whylen);

	for (int i = 0; v == CLAIMS_OK && i < ci->n_routes; i++)
		v = claims_route(self, allowed, n_allowed, others, n_others, ci, &ci->routes[i], why,
		    whylen);
	return v;
}

void claims_allowed(const struct config *cfg, const char *domain, const struct addr_prefix **out,
    int *n)
{
	*out = NULL;
	*n = 0;
	for (int i = 0; i < cfg->n_trust; i++) {
		if (strcmp(cfg->trust[i].domain, domain) == 0) {
			*out = cfg->trust[i].routes;
			*n = cfg->trust[i].n_routes;
			return;
		}
	}
}
