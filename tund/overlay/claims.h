/*
 * What a peer's certificate may claim here (DESIGN.md, Federation): its
 * overlay addresses must be nobody else's, and its routes must be ones its
 * CA may grant and must cover no address or range another holder relies
 * on. Pure decisions over the bindings; the overlay asks before a peer's
 * routes enter the routing table (a lookup or broker answer, a completed
 * handshake) and refuses the peer otherwise.
 */
#ifndef Q2Q_CLAIMS_H
#define Q2Q_CLAIMS_H

#include <stddef.h>

#include "identity/addr.h"
#include "identity/cert.h"

struct config;

/* This node: its identity (for its domain) and overlay addresses, and
 * the block its local IPv4s for other domains' peers come from (NULL:
 * none). */
struct claims_self {
	const char *identity;
	const uint8_t *v4;		/* 4 bytes */
	const uint8_t *v6;		/* 16 bytes */
	const struct addr_prefix *foreign;
};

enum claims_verdict {
	CLAIMS_OK,
	CLAIMS_OWN_ADDRESS,	/* its IPv4 or IPv6 is this node's */
	CLAIMS_ADDRESS_TAKEN,	/* ... or another peer's */
	CLAIMS_ADDRESS_ROUTED,	/* ... or lies inside another peer's route */
	CLAIMS_NOT_GRANTABLE,	/* a foreign route outside its trust entry's list */
	CLAIMS_OVERLAY_RANGE,	/* a route covering 100.64.0.0/10 or fd00::/8 */
	CLAIMS_COVERS_OWN,	/* a route covering this node's address */
	CLAIMS_COVERS_PEER,	/* a route covering another peer's address */
	CLAIMS_ROUTE_TAKEN,	/* a route identical to another peer's */
	CLAIMS_ROUTE_OVERLAP,	/* ... or nested with one of another domain's peer */
	CLAIMS_FOREIGN_POOL,	/* a route overlapping self->foreign */
};

/*
 * Whether ci may be a peer here, next to others[0..n_others) (the other
 * peers' verified certificates, with the IPv4 this node shows for each:
 * a foreign peer's local one; one naming ci's identity is ci's older
 * self and is skipped). ci's own IPv4 is checked only when ci is of this
 * node's domain: a foreign peer gets a local one. allowed[0..n_allowed) are the prefixes ci's CA may
 * grant when ci's domain is not this node's (claims_allowed); a route of
 * this node's own domain needs no list. On refusal why says which address
 * or prefix and whose, e.g. "route 100.64.0.2/32 covers bob@example.com's
 * address". The first rule broken wins, addresses before routes.
 */
enum claims_verdict claims_check(const struct claims_self *self, const struct addr_prefix *allowed,
    int n_allowed, const struct cert_info *const *others, int n_others, const struct cert_info *ci,
    char *why, size_t whylen);

/* The routes cfg's trust entry for domain lists (*n = 0 without one);
 * *out points into cfg. */
void claims_allowed(const struct config *cfg, const char *domain, const struct addr_prefix **out,
    int *n);

#endif
