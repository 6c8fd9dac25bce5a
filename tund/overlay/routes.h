/*
 * The overlay's kernel routes and the policy rules that select them
 * (tund/priv/priv.h): fd00::/8 and the domain's IPv4 pool on q2q0 in q2q's
 * own table, refused at `up` when the host's underlay clashes with them in
 * a way the rules cannot resolve (routing/clash.h).
 */
#ifndef Q2Q_OVERLAY_ROUTES_H
#define Q2Q_OVERLAY_ROUTES_H

#include <stddef.h>
#include <stdint.h>

struct overlay;

/* State kept in struct overlay. */
struct routes_state {
	int rules;		/* the policy rules are in place */
	int exempt;		/* the engine's sockets skip q2q's table */
	int have_pool;
	uint8_t pool[4];	/* the IPv4 pool routed on q2q0 */
	uint8_t pool_plen;
};

/* After q2q0 has its addresses: checks for a clash, routes fd00::/8 and
 * the pool (pool/plen; plen 0: 100.64.0.0/10 when the node's address lies
 * in it, else none until the authority names it), puts the rules in place.
 * 0, or -errno with the reason in err. */
int routes_up(struct overlay *o, const uint8_t pool[4], uint8_t plen, char *err, size_t errlen);

/* The authority named its pool (REGISTERED): route it instead of the one
 * assumed. A pool that does not hold the node's address is ignored. */
int routes_pool(struct overlay *o, const uint8_t pool[4], uint8_t plen);

/* Takes the rules away; the routes go with the interface. */
void routes_down(struct overlay *o);

#endif
