/*
 * The privileged part's checks on engine requests (see privpol.h). Kept
 * apart from the I/O so every rule has a unit test without root.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "routing/clash.h"
#include "tund/priv/privpol.h"

static const uint8_t pool6[16] = { 0xfd };		/* fd00::/8 */


void privpol_init(struct privpol *p, const char *ifname)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->ifname, sizeof(p->ifname), "%s", ifname);
}

static int in_prefix(const uint8_t *a, const uint8_t *net, int plen)
{
	int bytes = plen / 8, bits = plen % 8;

	if (memcmp(a, net, (size_t)bytes) != 0)
		return 0;
	return bits == 0 || ((a[bytes] ^ net[bytes]) & (0xff << (8 - bits))) == 0;
}


static void pfx_text(const struct privmsg *m, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(m->family, m->addr, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, m->plen);
}

static int refuse(char *why, size_t whylen, const char *fmt, const char *arg)
{
	snprintf(why, whylen, fmt, arg);
	return -EPERM;
}

static int check_addr(const struct privpol *p, const struct privmsg *m, char *why, size_t whylen)
{
	char t[INET6_ADDRSTRLEN + 8];
	int v4 = m->family == AF_INET;

	pfx_text(m, t, sizeof(t));
	if (m->type == PRIV_ADDR_DEL) {
		if (v4 ? p->have_v4 && !memcmp(p->v4, m->addr, 4) : p->have_v6 && !memcmp(p->v6, m->addr, 16))
			return 0;
		return refuse(why, whylen, "address %s was not added by q2qd", t);
	}
	if (m->plen != (v4 ? 32 : 128))
		return refuse(why, whylen, "address %s is not a single host", t);
	if (v4 ? !clash_pool_space(m->addr, 32) : !in_prefix(m->addr, pool6, 8))
		return refuse(why, whylen, v4 ? "address %s is outside the private-use ranges an "
		    "overlay pool may take (" CLASH_POOL_SPACE_TEXT ")"
		    : "address %s is outside fd00::/8", t);
	if (v4 ? p->have_v4 : p->have_v6)
		return refuse(why, whylen, "address %s: the interface already has its overlay address", t);
	return 0;
}

/*
 * IPv6: exactly fd00::/8, where every identity's address lies. IPv4: the
 * domain's pool, which the engine learned from its authority and this
 * process cannot verify; so the narrowest sound test: the prefix holds the
 * node's own overlay address (added before), is no wider than /8 and lies
 * inside the pool space (routing/clash.h). A compromised engine can then
 * steer only private-use space around its own address into q2q0, never
 * a public prefix.
 * A default route (0.0.0.0/0, ::/0: `up --exit-node`) is the one wider
 * route, taken only when the configuration this process read itself says
 * allow_exit_node: the user's request for it reaches only the engine, so
 * this process cannot tell it from a forged one, and it hands the engine
 * all of the host's traffic.
 */
static int check_route(const struct privpol *p, const struct privmsg *m, char *why, size_t whylen)
{
	char t[INET6_ADDRSTRLEN + 8];

	pfx_text(m, t, sizeof(t));
	if (m->plen == 0) {
		if (p->allow_default)
			return 0;	/* an exit node's default route, see below */
		return refuse(why, whylen, "route %s: a default route needs allow_exit_node = true "
		    "in the configuration", t);
	}
	if (m->family == AF_INET6) {
		if (m->plen == 8 && in_prefix(m->addr, pool6, 8))
			return 0;
		return refuse(why, whylen, "route %s is not the overlay range fd00::/8", t);
	}
	/* The node-local IPv4s of other domains' peers (the config checks
	 * that foreign_pool lies inside 100.64.0.0/10): exactly that prefix. */
	if (p->foreign_plen && m->plen == p->foreign_plen && !memcmp(m->addr, p->foreign, 4))
		return 0;
	if (!p->have_v4)
		return refuse(why, whylen, "route %s before the interface has its IPv4 address", t);
	if (m->plen < 8 || !clash_pool_space(m->addr, m->plen) || !in_prefix(p->v4, m->addr, m->plen))
		return refuse(why, whylen, "route %s is not a private-use prefix (/8 or longer) "
		    "holding this node's overlay address", t);
	return 0;
}

int privpol_check(const struct privpol *p, const struct privmsg *m, char *why, size_t whylen)
{
	char t[16];

	switch (m->type) {
	case PRIV_TUN_OPEN:
		if (strncmp(m->ifname, p->ifname, sizeof(p->ifname)) != 0)
			return refuse(why, whylen, "interface '%s' is not the configured one", m->ifname);
		return 0;
	case PRIV_NOTIFY:
		return 0;
	case PRIV_RULES:
	case PRIV_EXIT:
		/* Off always; on only for an interface the rules may lead to. */
		if (m->flag && !p->opened)
			return refuse(why, whylen, "%s before the interface was opened", privmsg_name(m->type));
		return 0;
	case PRIV_REPLY:
	case PRIV_SIGNAL:
		return refuse(why, whylen, "%s is not a request", privmsg_name(m->type));
	default:
		break;
	}
	if (!p->opened)
		return refuse(why, whylen, "%s before the interface was opened", privmsg_name(m->type));
	switch (m->type) {
	case PRIV_LINK_SET:
		if (m->mtu < 1280 || m->mtu > 9000) {
			snprintf(t, sizeof(t), "%u", m->mtu);
			return refuse(why, whylen, "MTU %s is outside 1280..9000", t);
		}
		return 0;
	case PRIV_ADDR_ADD:
	case PRIV_ADDR_DEL:
		return check_addr(p, m, why, whylen);
	case PRIV_ROUTE_ADD:
	case PRIV_ROUTE_DEL:
		return check_route(p, m, why, whylen);
	case PRIV_ROUTE_THROW:
		/* A throw only hands a lookup back to the host's own rules: it can
		 * take traffic out of q2q's table, never put any in. */
		return 0;
	default:
		return refuse(why, whylen, "%s is not a request", privmsg_name(m->type));
	}
}

void privpol_done(struct privpol *p, const struct privmsg *m)
{
	int v4 = m->family == AF_INET;

	switch (m->type) {
	case PRIV_TUN_OPEN:
		/* A fresh device: nothing of an earlier one's remains. */
		p->opened = 1;
		p->have_v4 = p->have_v6 = 0;
		break;
	case PRIV_ADDR_ADD:
		if (v4) {
			p->have_v4 = 1;
			memcpy(p->v4, m->addr, 4);
		} else {
			p->have_v6 = 1;
			memcpy(p->v6, m->addr, 16);
		}
		break;
	case PRIV_ADDR_DEL:
		if (v4)
			p->have_v4 = 0;
		else
			p->have_v6 = 0;
		break;

	default:
		break;
	}
}
