/*
 * The overlay's routes (see routes.h). The clash check reads the host's
 * addresses with getifaddrs (a NETLINK_ROUTE dump the engine's seccomp
 * list allows) and leaves the decision to routing/clash.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "routing/clash.h"
#include "tund/base/log.h"
#include "tund/node/node.h"
#include "tund/overlay/overlay_ctl.h"
#include "tund/overlay/overlay_int.h"
#include "tund/overlay/routes.h"
#include "tund/priv/privclient.h"

#define UNDERLAY_MAX 64

static int mask_len(const struct sockaddr *m, int alen)
{
	const uint8_t *b = m->sa_family == AF_INET ? (const uint8_t *)&((const struct sockaddr_in *)m)->sin_addr
	    : (const uint8_t *)&((const struct sockaddr_in6 *)m)->sin6_addr;
	int n = 0;

	for (int i = 0; i < alen; i++)
		n += __builtin_popcount(b[i]);
	return n;
}

/* The host's addresses on every interface but q2q0 and the loopback. */
static int underlay_list(const char *ifname, struct clash_pfx *out, char names[][IFNAMSIZ], int cap)
{
	struct ifaddrs *ifa, *i;
	int n = 0;

	if (getifaddrs(&ifa) < 0)
		return -errno;
	for (i = ifa; i && n < cap; i = i->ifa_next) {
		int fam = i->ifa_addr ? i->ifa_addr->sa_family : AF_UNSPEC;
		int alen = fam == AF_INET ? 4 : 16;

		if ((fam != AF_INET && fam != AF_INET6) || strcmp(i->ifa_name, ifname) == 0 ||
		    strcmp(i->ifa_name, "lo") == 0)
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		out[n].family = fam;
		memcpy(out[n].addr, fam == AF_INET ? (const void *)&((struct sockaddr_in *)i->ifa_addr)->sin_addr
		    : (const void *)&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, (size_t)alen);
		out[n].plen = (uint8_t)(i->ifa_netmask && i->ifa_netmask->sa_family == fam
		    ? mask_len(i->ifa_netmask, alen) : alen * 8);
		snprintf(names[n], IFNAMSIZ, "%s", i->ifa_name);
		n++;
	}
	freeifaddrs(ifa);
	return n;
}

static void pfx_text(const struct clash_pfx *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(p->family, p->addr, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, p->plen);
}

/* pool/plen: the IPv4 pool to be routed (plen 0: none). */
static int check_clash(struct overlay *o, const uint8_t pool[4], uint8_t plen, char *err, size_t errlen)
{
	struct clash_pfx under[UNDERLAY_MAX], ranges[2] = { { .family = AF_INET6, .addr = { 0xfd }, .plen = 8 } };
	struct clash_pfx own[2] = { { .family = AF_INET, .plen = 32 }, { .family = AF_INET6, .plen = 128 } };
	char names[UNDERLAY_MAX][IFNAMSIZ], u[INET6_ADDRSTRLEN + 8], r[INET6_ADDRSTRLEN + 8];
	int n, nr = 1, which, range;
	enum clash_kind k;

	if ((n = underlay_list(o->ifname, under, names, UNDERLAY_MAX)) < 0) {
		snprintf(err, errlen, "cannot list this host's addresses: %s", strerror(-n));
		return n;
	}
	/* ULA LANs are thrown out of q2q's table (throw_ula_lans): no clash. */
	for (int i = 0; i < n; i++) {
		if (under[i].family == AF_INET6 && under[i].addr[0] == 0xfd && under[i].plen >= 16 &&
		    under[i].plen <= 127 && memcmp(under[i].addr, o->v6, 16) != 0) {
			under[i] = under[n - 1];
			memcpy(names[i], names[n - 1], IFNAMSIZ);
			n--;
			i--;
		}
	}
	memcpy(own[0].addr, o->v4, 4);
	memcpy(own[1].addr, o->v6, 16);
	if (plen) {
		ranges[1].family = AF_INET;
		memcpy(ranges[1].addr, pool, 4);
		ranges[1].plen = plen;
		nr = 2;
	}
	k = clash_find(under, n, ranges, nr, own, 2, o->rt.exempt, &which, &range);
	if (k == CLASH_NONE)
		return 0;
	pfx_text(&under[which], u, sizeof(u));
	if (k == CLASH_SAME_ADDR) {
		snprintf(err, errlen, "the underlay address %s on %s is this node's own overlay address; "
		    "move the authority's pool (setting authority.pool) or the address", u, names[which]);
	} else {
		pfx_text(&ranges[range], r, sizeof(r));
		snprintf(err, errlen, "the underlay prefix %s on %s overlaps the overlay range %s, and the "
		    "engine runs as root so its own traffic cannot be kept out of q2q's routes; run q2qd "
		    "with its own user (-u q2q)%s", u, names[which], r,
		    ranges[range].family == AF_INET ? " or move the authority's pool (setting authority.pool)" : "");
	}
	return -EADDRINUSE;
}

static int grants_default(const struct cert_info *ci)
{
	int n = 0;

	for (int i = 0; i < ci->n_routes; i++)
		n += ci->routes[i].plen == 0;
	return n;
}

/*
 * IPv6 LANs often use ULA prefixes, which lie inside fd00::/8 as every
 * overlay address does. q2q's table would send the LAN's neighbours into
 * q2q0; a throw route for each such LAN prefix (/16 or longer) hands them
 * back to the main table. An overlay address inside a LAN's /64 would be a
 * 2^-56 coincidence per peer (120 bits of SHA-256); IPv4 LANs inside the
 * pool get no such throw, since there overlay addresses do share the
 * LAN's prefix (the overlay wins, and the LAN is the engine's alone).
 */
static void throw_ula_lans(struct overlay *o)
{
	struct clash_pfx under[UNDERLAY_MAX], done[8];
	char names[UNDERLAY_MAX][IFNAMSIZ], t[INET6_ADDRSTRLEN + 8];
	int n = underlay_list(o->ifname, under, names, UNDERLAY_MAX), nd = 0;

	for (int i = 0; i < n && nd < 8; i++) {
		struct clash_pfx p = under[i];
		int seen = 0, rc;

		if (p.family != AF_INET6 || p.addr[0] != 0xfd || p.plen < 16 || p.plen > 127)
			continue;
		for (int b = p.plen; b < 128; b++)
			p.addr[b / 8] &= (uint8_t)~(0x80 >> (b % 8));
		for (int j = 0; j < nd && !seen; j++)
			seen = done[j].plen == p.plen && !memcmp(done[j].addr, p.addr, 16);
		if (seen)
			continue;
		done[nd++] = p;
		pfx_text(&p, t, sizeof(t));
		if ((rc = privclient_route_throw(AF_INET6, p.addr, p.plen)) < 0)
			log_warnx("%s: cannot keep the LAN prefix %s on %s out of q2q's table: %s", o->ifname, t,
			    names[i], strerror(-rc));
		else
			log_info("%s: the LAN prefix %s on %s stays on %s (a ULA inside fd00::/8)", o->ifname, t,
			    names[i], names[i]);
	}
}

/* net/plen holds a (the /32 or the longer prefix at a). */
static int holds(const uint8_t net[4], uint8_t plen, const uint8_t a[4]);

/* foreign_pool, the local IPv4s of other domains' peers (foreign.c),
 * unless the pool's route already holds it (the default 100.64.0.0/10). */
static int route_foreign(struct overlay *o)
{
	const struct addr_prefix *f = &o->cfg->foreign_pool;
	int rc;

	if (o->rt.have_pool && o->rt.pool_plen <= f->plen && holds(o->rt.pool, o->rt.pool_plen, f->addr))
		return 0;
	rc = privclient_route_add(AF_INET, f->addr, (uint8_t)f->plen);
	if (rc == 0)
		o->rt.foreign_routed = 1;
	return rc == -EEXIST ? 0 : rc;
}

int routes_up(struct overlay *o, const uint8_t pool[4], uint8_t plen, char *err, size_t errlen)
{
	static const uint8_t fd00[16] = { 0xfd };
	static const uint8_t cgnat[4] = { 100, 64, 0, 0 };
	int rc;

	if (pool && plen) {
		memcpy(o->rt.pool, pool, 4);
		o->rt.pool_plen = plen;
		o->rt.have_pool = 1;
	} else if (o->v4[0] == 100 && (o->v4[1] & 0xc0) == 64) {
		/* The default pool, until the authority says otherwise. */
		memcpy(o->rt.pool, cgnat, 4);
		o->rt.pool_plen = 10;
		o->rt.have_pool = 1;
	}
	if ((rc = privclient_rules(1, o->port, &o->rt.exempt)) < 0) {
		snprintf(err, errlen, "cannot add the policy rules for routing table %d: %s",
		    o->cfg->route_table, strerror(-rc));
		return rc;
	}
	o->rt.rules = 1;
	if ((rc = check_clash(o, o->rt.pool, o->rt.have_pool ? o->rt.pool_plen : 0, err, errlen)) < 0)
		return rc;
	throw_ula_lans(o);
	if ((rc = privclient_route_add(AF_INET6, fd00, 8)) < 0 ||
	    (o->rt.have_pool && (rc = privclient_route_add(AF_INET, o->rt.pool, o->rt.pool_plen)) < 0)) {
		snprintf(err, errlen, "cannot route the overlay on %s (table %d): %s", o->ifname,
		    o->cfg->route_table, strerror(-rc));
		return rc;
	}
	if ((rc = route_foreign(o)) < 0) {
		snprintf(err, errlen, "cannot route foreign_pool on %s (table %d): %s", o->ifname,
		    o->cfg->route_table, strerror(-rc));
		return rc;
	}
	/* A certificate that grants a default route makes this node an exit
	 * node: its peers' packets go on to the uplink, masqueraded. */
	if (node_cert(o->node) && grants_default(node_cert(o->node))) {
		/* Not fatal: the node is a peer like any other without it (under
		 * the unit, ProtectKernelTunables= keeps /proc/sys read-only). */
		if ((rc = privclient_exit(1)) < 0)
			log_warnx("%s: this node's certificate grants a default route, but it cannot serve "
			    "as exit node (%s; the privileged part's log says why); its peers' traffic "
			    "beyond the overlay is not forwarded", o->ifname, strerror(-rc));
		else
			o->rt.serving_exit = 1;
	}
	/* Once more, now that the guard can name the pool and the LANs. */
	if ((rc = privclient_rules(1, o->port, &o->rt.exempt)) < 0) {
		snprintf(err, errlen, "cannot install the guard for %s: %s", o->ifname, strerror(-rc));
		return rc;
	}
	return 0;
}

/* net/plen holds a (the /32 or the longer prefix at a). */
static int holds(const uint8_t net[4], uint8_t plen, const uint8_t a[4])
{
	struct clash_pfx p = { .family = AF_INET, .plen = plen }, q = { .family = AF_INET, .plen = 32 };

	memcpy(p.addr, net, 4);
	memcpy(q.addr, a, 4);
	return clash_overlap(&p, &q);
}

int routes_pool(struct overlay *o, const uint8_t pool[4], uint8_t plen)
{
	char t[INET_ADDRSTRLEN], err[320];
	int rc;

	if (plen < 8 || plen > 30 || !holds(pool, plen, o->v4)) {
		inet_ntop(AF_INET, pool, t, sizeof(t));
		log_warnx("authority: pool %s/%u does not hold this node's address; ignored", t, plen);
		return -EINVAL;
	}
	/* Inside what is routed already (100.64.0.0/10, where every domain's
	 * default pool lies): keep the wider route, or peers of other domains
	 * allocated from the same range would lose their way back. */
	if (o->rt.have_pool && o->rt.pool_plen <= plen && holds(o->rt.pool, o->rt.pool_plen, pool))
		return 0;
	if ((rc = check_clash(o, pool, plen, err, sizeof(err))) < 0) {
		log_warnx("%s: not routing the domain's pool: %s", o->ifname, err);
		return rc;
	}
	rc = privclient_route_add(AF_INET, pool, plen);
	if (rc < 0 && rc != -EEXIST) {
		inet_ntop(AF_INET, pool, t, sizeof(t));
		log_warnx("%s: cannot route the pool %s/%u: %s", o->ifname, t, plen, strerror(-rc));
		return rc;
	}
	if (o->rt.have_pool)
		privclient_route_del(AF_INET, o->rt.pool, o->rt.pool_plen);
	memcpy(o->rt.pool, pool, 4);
	o->rt.pool_plen = plen;
	o->rt.have_pool = 1;
	/* The guard follows the pool (tund/priv/guard.h). */
	if (o->rt.rules && (rc = privclient_rules(1, o->port, &o->rt.exempt)) < 0)
		log_warnx("%s: cannot move the guard to the new pool: %s", o->ifname, strerror(-rc));
	inet_ntop(AF_INET, pool, t, sizeof(t));
	log_info("%s: routing the domain's pool %s/%u", o->ifname, t, plen);
	return 0;
}

int routes_is_exit(const struct overlay *o, const char *identity)
{
	return o->rt.exit_node[0] && strcmp(o->rt.exit_node, identity) == 0;
}

static void routes_exit_found(void *arg, int err, const char *msg, const struct authlink_peer *pe)
{
	struct overlay *o = arg;
	struct peer *p;
	char e[256];

	if (err < 0) {
		log_warnx("exit node %s: %s; its traffic waits until it can be reached", o->rt.exit_node, msg);
		return;
	}
	if (!(p = overlay_peer_from_lookup(o, pe, e, sizeof(e)))) {
		log_warnx("exit node %s: %s", o->rt.exit_node, e);
		return;
	}
	if (!grants_default(&p->ci))
		log_warnx("exit node %s: its certificate grants no default route; nothing beyond the "
		    "overlay is reachable through it", p->identity);
	else
		log_info("exit node %s: everything but the overlay's own traffic goes through it", p->identity);
	overlay_arm(o);
}

void routes_exit_info(struct overlay *o, struct routes_exit_info *out)
{
	struct peer *p;

	memset(out, 0, sizeof(*out));
	snprintf(out->chosen, sizeof(out->chosen), "%s", o->rt.exit_node);
	out->serving = o->rt.serving_exit;
	if (out->chosen[0] && (p = peer_find(o->peers, out->chosen))) {
		out->session = p->cur != NULL;
		out->grants = grants_default(&p->ci) > 0;
	}
}

int routes_exit_set(struct overlay *o, const char *identity, char *err, size_t errlen)
{
	static const uint8_t any[16];
	struct id_name id;
	char why[128];
	int rc;

	if (id_parse_user(identity, &id, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "exit node: %s", why);
		return -EINVAL;
	}
	if (strcmp(identity, o->identity) == 0) {
		snprintf(err, errlen, "exit node: %s is this node", identity);
		return -EINVAL;
	}
	if (!o->cfg->allow_exit_node) {
		snprintf(err, errlen, "exit node: set allow_exit_node = true in the configuration "
		    "(read at start) to let q2qd route everything into %s", o->ifname);
		return -EPERM;
	}
	if (!o->rt.exempt) {
		snprintf(err, errlen, "exit node: the engine runs as root, so its own traffic to peers and "
		    "authorities cannot be kept out of the default route; run q2qd with its own user (-u q2q)");
		return -EINVAL;
	}
	if ((rc = privclient_route_add(AF_INET, any, 0)) < 0 ||
	    (rc = privclient_route_add(AF_INET6, any, 0)) < 0) {
		snprintf(err, errlen, "exit node: cannot add the default routes on %s: %s", o->ifname,
		    strerror(-rc));
		return rc;
	}
	snprintf(o->rt.exit_node, sizeof(o->rt.exit_node), "%s", identity);
	if (overlay_lookup(o, identity, routes_exit_found, o) < 0)
		log_warnx("exit node %s: no authority for its domain is configured", identity);
	return 0;
}

void routes_down(struct overlay *o)
{
	if (o->rt.serving_exit && privclient_exit(0) < 0)
		log_warnx("cannot stop serving as exit node (the privileged part does when the engine exits)");
	o->rt.serving_exit = 0;
	if (o->rt.rules && privclient_rules(0, 0, NULL) < 0)
		log_warnx("cannot remove q2q's policy rules (the privileged part removes them when the engine exits)");
	o->rt.rules = 0;
	o->rt.have_pool = 0;
	o->rt.exit_node[0] = 0;
}
