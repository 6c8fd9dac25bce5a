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

#include "identity/name.h"

struct overlay;

/* State kept in struct overlay. */
struct routes_state {
	int rules;		/* the policy rules are in place */
	int exempt;		/* the engine's sockets skip q2q's table */
	int have_pool;
	uint8_t pool[4];	/* the IPv4 pool routed on q2q0 */
	uint8_t pool_plen;
	char exit_node[ID_NAME_MAX + 1];	/* "" = none */
	int serving_exit;	/* our certificate grants a default route: we are one */
	int foreign_routed;	/* foreign_pool has a route of its own */
};

/* After q2q0 has its addresses: checks for a clash, routes fd00::/8 and
 * the pool (pool/plen; plen 0: 100.64.0.0/10 when the node's address lies
 * in it, else none until the authority names it), puts the rules in place.
 * 0, or -errno with the reason in err. */
int routes_up(struct overlay *o, const uint8_t pool[4], uint8_t plen, char *err, size_t errlen);

/* The authority named its pool (REGISTERED): route it instead of the one
 * assumed, unless that one holds it already (a pool inside 100.64.0.0/10
 * keeps the /10, which other domains' default pools share). A pool that
 * does not hold the node's address, or clashes with the underlay, is
 * logged and ignored. */
int routes_pool(struct overlay *o, const uint8_t pool[4], uint8_t plen);

/* What q2qctl status shows of exit nodes. */
struct routes_exit_info {
	char chosen[ID_NAME_MAX + 1];	/* `up --exit-node`; "" = none */
	int session;		/* we hold a session with it */
	int grants;		/* its certificate grants the default route */
	int serving;		/* this node is an exit node for its peers */
};
void routes_exit_info(struct overlay *o, struct routes_exit_info *out);

/*
 * Sends everything through the peer identity (`q2qctl up --exit-node`):
 * default routes (0.0.0.0/0, ::/0) on q2q0 in q2q's table, which the
 * engine's own sockets skip, and the peer's default-route grants into the
 * overlay's routing table, where every longer route of any peer still
 * wins. Refused (-EINVAL, reason in err) for a bad name, or when the
 * engine's sockets would be captured too (engine as root). The peer is
 * looked up at once; until its certificate is known, packets wait for it
 * like any other unknown destination, nothing leaves by the LAN.
 */
int routes_exit_set(struct overlay *o, const char *identity, char *err, size_t errlen);

/* identity is the exit node chosen (its default routes may be used). */
int routes_is_exit(const struct overlay *o, const char *identity);

/* Takes the rules away; the routes go with the interface. */
void routes_down(struct overlay *o);

#endif
