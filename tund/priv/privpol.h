/*
 * What the privileged part lets the engine do, as a pure decision: the
 * engine is assumed compromised, so each request is checked against what
 * a q2q node ever needs and nothing more.
 *   - Only the configured interface, and only after the engine opened it.
 *   - MTU 1280..9000 (IPv6's minimum; the config's maximum).
 *   - One IPv4 /32 inside the private-use ranges an authority's pool may
 *     take (100.64.0.0/10, 198.18.0.0/15, RFC 1918) and one IPv6 /128
 *     inside fd00::/8; removing only what was added.
 *   - Routes (in q2q's own table) only for fd00::/8 and for the IPv4 pool
 *     the engine learned: a private-use prefix of /8 or longer holding the
 *     node's own overlay address; never a public prefix; a default
 *     route (an exit node's) only with allow_exit_node in the config.
 *   - ROUTE_THROW (a throw route in q2q's table) for any prefix: it only
 *     takes traffic out of the table.
 *   - RULES (the policy rules that select q2q's table) and EXIT (serving
 *     as an exit node) on after the interface was opened; off at any time.
 * Users route further subnets with `ip route`, outside q2qd.
 */
#ifndef Q2Q_PRIVPOL_H
#define Q2Q_PRIVPOL_H

#include <stddef.h>
#include <stdint.h>

#include "tund/priv/privmsg.h"

struct privpol {
	char ifname[PRIVMSG_IFNAMSIZ];	/* the configured interface */
	int opened;			/* a TUN_OPEN succeeded */
	int have_v4, have_v6;		/* addresses added since */
	int allow_default;		/* config allow_exit_node: default routes too */
	uint8_t foreign[4];		/* config foreign_pool (inside 100.64.0.0/10), */
	uint8_t foreign_plen;		/* routed whatever the node's own pool */
	uint8_t v4[4], v6[16];
};

void privpol_init(struct privpol *p, const char *ifname);

/* 0 if m may be carried out, else -EPERM with the reason in why. */
int privpol_check(const struct privpol *p, const struct privmsg *m, char *why, size_t whylen);

/* Records the effect of a request that was carried out successfully. */
void privpol_done(struct privpol *p, const struct privmsg *m);

#endif
