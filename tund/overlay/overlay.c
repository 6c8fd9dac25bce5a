/*
 * The overlay's life and bookkeeping. overlay_up creates q2q0 with its
 * addresses and routes, the UDP data port and the links to authorities
 * (ours, and other domains' for reaching their nodes); overlay_down takes
 * it all away. In between, this file keeps what the authorities tell us
 * about peers (certificates checked against the trust store, endpoints,
 * the routes the certificates bind), answers lookups, broker requests and
 * revocations, and runs the loop timer behind handshakes, path upkeep,
 * keepalives and rekeying; what is due when, timers.c decides.
 *
 * The rest of the overlay: datapath.c (packets), attempt.c (handshakes),
 * paths.c (NAT traversal), timers.c (what is due when), overlay_ctl.c
 * (control requests), each with its header; struct overlay, in
 * overlay_int.h, holds their parts. Calls go one way: this file calls
 * down into attempt.c, paths.c and datapath.c, they into timers.c and
 * peer.c; what they must tell this file comes back through the hooks
 * it fills (hooks.h) or as return values.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "identity/trust.h"
#include "netstack/handshake.h"
#include "routing/table.h"
#include "tund/node/authlink.h"
#include "tund/ctl/control.h"
#include "tund/base/log.h"
#include "tund/node/domtrust.h"
#include "tund/node/node.h"
#include "tund/overlay/claims.h"
#include "tund/overlay/firewall.h"
#include "tund/overlay/foreign.h"
#include "tund/overlay/overlay.h"
#include "tund/overlay/overlay_ctl.h"
#include "tund/overlay/overlay_int.h"
#include "tund/overlay/pmtu.h"
#include "tund/overlay/policy.h"
#include "tund/priv/privclient.h"

#define TICK_MS			500
#define LOOKUP_QUEUE		8
#define OVERLAY_DISCOVERED	16	/* links to authorities found in DNS */
#define OVERLAY_LINKS_MAX	(CONFIG_MAX_TRUST + 1 + OVERLAY_DISCOVERED)
_Static_assert(OVERLAY_LINKS_MAX <= PATHS_RELAYS, "every link may relay (paths.h)");
/* How long a domain whose authority could not be found for its
 * revocation news waits before it is looked up again. */
#define OVERLAY_SUBSCRIBE_RETRY_MS 60000

/* A link to an authority: ours first, then other domains' (trust entries
 * with an authority address) for reaching their nodes. */
struct overlay_link {
	struct overlay *o;
	struct authlink *al;
	int own;
	char domain[ID_DOMAIN_MAX + 1];
	/* Found in DNS: where, and until when that answer holds (its TTL);
	 * then it is looked up again and the link follows a move. */
	struct sockaddr_in6 addr;
	uint64_t expires;		/* loop ms; 0: not from DNS */
	int refreshing;
	int ups;			/* registrations so far (a new one: new relay ids) */
};

/* Packets for an overlay address nobody is known for yet. */
struct addr_wait {
	struct addr_wait *next;
	struct overlay *o;
	int family;
	uint8_t addr[16];
	uint64_t until;			/* negative: unreachable until then (timers.c) */
	int negative;
	int by_name;			/* a foreign peer's address: looked up by its identity */
	int nq;
	struct queued *q[LOOKUP_QUEUE];
};

/* ------------------------------------------------- peers & routes */

static int overlay_family_len(int family) { return family == AF_INET ? 4 : 16; }

static void overlay_peer_routes(struct overlay *o, struct peer *p)
{
	const uint8_t *v4 = foreign_route_v4(o, p);

	route_table_remove_peer(o->routes, p);
	if (!p->have_cert)
		return;
	if (v4)
		route_table_insert(o->routes, AF_INET, v4, 32, p);
	route_table_insert(o->routes, AF_INET6, p->ci.v6, 128, p);
	for (int i = 0; i < p->ci.n_routes; i++) {
		/* A default route only for the exit node we chose (claims.c). */
		if (p->ci.routes[i].plen == 0 && !routes_is_exit(o, p->identity))
			continue;
		route_table_insert(o->routes, p->ci.routes[i].family, p->ci.routes[i].addr,
		    p->ci.routes[i].plen, p);
	}
}

static void overlay_subscribe(struct overlay *o, const char *identity);

/* Also the peer_cert hook: a handshake proved ci. */
static void overlay_peer_set_cert(struct overlay *o, struct peer *p, const struct cert_info *ci)
{
	overlay_subscribe(o, ci->identity);
	if (p->have_cert && strcmp(p->ci.serial, ci->serial) != 0)
		log_info("peer %s: certificate %s replaces %s", p->identity, ci->serial, p->ci.serial);
	p->ci = *ci;
	p->have_cert = 1;
	foreign_peer_cert(o, p);
	overlay_peer_routes(o, p);
}

/* Checks a certificate from the authority against our trust store. */
static int overlay_check_cert(struct overlay *o, const uint8_t *der, size_t len, struct cert_info *ci,
    char *err, size_t errlen)
{
	const uint8_t *ca;
	size_t calen;
	struct cert_info tmp;
	const char *at;

	if (cert_parse(der, len, &tmp, err, errlen) < 0)
		return -EINVAL;
	at = strchr(tmp.identity, '@');
	if (!at || trust_get(node_trust(o->node), at + 1, &ca, &calen) < 0) {
		snprintf(err, errlen, "no trusted CA for %.100s", tmp.identity);
		return -EPERM;
	}
	if (cert_verify(der, len, ca, calen, (int64_t)time(NULL), ci, err, errlen) < 0)
		return -EPERM;
	if (peer_revoked(o->peers, ci)) {
		snprintf(err, errlen, "%.100s's certificate is revoked", ci->identity);
		return -EPERM;
	}
	return 0;
}

/* -------------------------------------------------------- lookups */

static const struct authlink_ops overlay_link_ops;
static struct overlay_link *overlay_link_for(struct overlay *o, const char *identity);
static void overlay_broker_go(struct overlay_link *lk, uint32_t id, const struct authlink_peer *caller);

/* A lookup of a foreign identity, or a broker request from one, waiting
 * for DNS to say where that domain's authority is and which CA it has
 * (tund/node/domtrust.c). The broker's caller is a deep copy: the frame
 * it came in is gone by the time DNS answers. */
struct overlay_dwait {
	struct overlay_dwait *next;
	struct overlay *o;
	char domain[ID_DOMAIN_MAX + 1];
	char identity[ID_NAME_MAX + 1];
	authlink_lookup_fn *fn;		/* a lookup; else a broker request: */
	void *arg;
	struct overlay_link *lk;
	int subscribe;			/* only a link for revocation news */
	uint64_t retry_at;		/* a subscription that failed: kept till then */
	uint32_t id;
	struct authlink_peer pe;
	uint8_t *cert, *ca;
	struct sockaddr_in6 *eps;
};

static void overlay_dwait_free(struct overlay *o, struct overlay_dwait *dw)
{
	for (struct overlay_dwait **pp = &o->dwaits; *pp; pp = &(*pp)->next)
		if (*pp == dw) {
			*pp = dw->next;
			break;
		}
	free(dw->cert);
	free(dw->ca);
	free(dw->eps);
	free(dw);
}

static struct overlay_dwait *overlay_dwait_new(struct overlay *o, const char *identity)
{
	struct overlay_dwait *dw = calloc(1, sizeof(*dw));
	const char *at = strchr(identity, '@');

	if (!dw)
		return NULL;
	dw->o = o;
	snprintf(dw->identity, sizeof(dw->identity), "%s", identity);
	snprintf(dw->domain, sizeof(dw->domain), "%s", at ? at + 1 : "");
	dw->next = o->dwaits;
	o->dwaits = dw;
	return dw;
}

/* A link to the authority DNS named for domain. */
static struct overlay_link *overlay_link_add(struct overlay *o, const char *domain,
    const struct discover_answer *a)
{
	const struct sockaddr_in6 *addr = &a->authority;
	struct overlay_link *lk = NULL;
	struct sockaddr_in6 mapped;

	/* A slot whose link was closed (trust forget) first. */
	for (int i = 1; i < o->n_links && !lk; i++)
		if (!o->links[i].al)
			lk = &o->links[i];
	if (!lk && o->n_links >= OVERLAY_LINKS_MAX)
		return NULL;
	if (!lk)
		lk = &o->links[o->n_links++];
	memset(lk, 0, sizeof(*lk));
	lk->o = o;
	snprintf(lk->domain, sizeof(lk->domain), "%s", domain);
	if (authlink_start(o->loop, o->node, o->port, lk->domain, addr, &overlay_link_ops, lk, &lk->al) < 0) {
		lk->al = NULL;
		return NULL;
	}
	lk->addr = *addr;
	lk->expires = now_ms() + 1000ull * a->ttl;
	/* A domain found later hears of our port mapping as the others did. */
	if (portmap_endpoint(o->portmap, &mapped) == 0)
		authlink_set_mapped(lk->al, &mapped);
	return lk;
}

static void overlay_dw_lookup_done(void *arg, int err, const char *why, const struct discover_answer *a)
{
	struct overlay_dwait *dw = arg;
	struct overlay *o = dw->o;
	struct overlay_link *lk;
	int pinned = trust_known(node_trust(o->node), dw->domain);

	if (err < 0) {
		dw->fn(dw->arg, err, why, NULL);
	} else if (!pinned && o->cfg->trust_policy == CONFIG_TRUST_DNSSEC && !a->secure) {
		char m[1024];

		snprintf(m, sizeof(m), "%s: %s; trust_policy = \"dnssec\" takes DNSSEC-validated CAs "
		    "only; nothing pinned", dw->domain, a->insecure_why);
		dw->fn(dw->arg, -EPERM, m, NULL);
	} else if (!pinned && o->cfg->trust_policy == CONFIG_TRUST_DNSSEC && !a->ntlsa) {
		char m[1024];

		snprintf(m, sizeof(m), "%s: no TLSA record at %s for its CA; nothing pinned",
		    dw->domain, a->tlsa_name);
		dw->fn(dw->arg, -EPERM, m, NULL);
	} else if (!(lk = overlay_link_for(o, dw->identity)) &&
	    !(lk = overlay_link_add(o, dw->domain, a))) {
		dw->fn(dw->arg, -ENOSPC, "cannot start a link to its authority", NULL);
	} else {
		authlink_lookup(lk->al, dw->identity, 0, NULL, dw->fn, dw->arg);
	}
	overlay_dwait_free(o, dw);
}

static void overlay_dw_broker_done(void *arg, int err, const char *why, const struct discover_answer *a)
{
	struct overlay_dwait *dw = arg;
	struct overlay *o = dw->o;

	/* Whatever DNS said is now evidence: the broker path judges it
	 * (unless the link it came by was closed meanwhile: trust forget). */
	dw->pe.identity = dw->identity;
	if (dw->lk->al)
		overlay_broker_go(dw->lk, dw->id, &dw->pe);
	overlay_dwait_free(o, dw);
}

static void overlay_dw_subscribe_done(void *arg, int err, const char *why,
    const struct discover_answer *a)
{
	struct overlay_dwait *dw = arg;
	struct overlay *o = dw->o;

	if (err < 0) {
		/* Said once a minute, not at every handshake with its peers. */
		log_warnx("revocation news from %s: cannot find its authority: %s; trying again in %d s",
		    dw->domain, why, OVERLAY_SUBSCRIBE_RETRY_MS / 1000);
		dw->retry_at = now_ms() + OVERLAY_SUBSCRIBE_RETRY_MS;
		return;
	}
	if (!overlay_link_for(o, dw->identity) && overlay_link_add(o, dw->domain, a))
		log_info("authority link to %s: for its revocation news (we have a peer there)", dw->domain);
	overlay_dwait_free(o, dw);
}

/*
 * A peer of another domain: keep a link to that domain's authority, so
 * the moment it revokes the peer we hear of it (its REVOKED goes to every
 * node registered there; PROTOCOL.md, "Revocation"). Our own authority
 * cannot say: it speaks only for our domain's certificates. Found as a
 * lookup finds it (a trust entry's address, else DNS).
 */
static void overlay_subscribe(struct overlay *o, const char *identity)
{
	const char *at = strchr(identity, '@');
	struct overlay_dwait *dw;

	if (!at || strcmp(at + 1, o->domain) == 0 || overlay_link_for(o, identity))
		return;
	for (dw = o->dwaits; dw; dw = dw->next) {
		if (strcmp(dw->domain, at + 1) != 0)
			continue;
		if (!dw->retry_at || now_ms() < dw->retry_at)
			return;		/* under way (a lookup makes the link too), or failed lately */
		overlay_dwait_free(o, dw);
		break;
	}
	dw = overlay_dwait_new(o, identity);
	if (!dw)
		return;
	dw->subscribe = 1;
	domtrust_discover(node_domtrust(o->node), dw->domain, overlay_dw_subscribe_done, dw);
}

/* Keeps a broker request until DNS has spoken about the caller's domain. */
static int overlay_broker_defer(struct overlay_link *lk, uint32_t id, const struct authlink_peer *c)
{
	struct overlay *o = lk->o;
	struct overlay_dwait *dw = overlay_dwait_new(o, c->identity);

	if (!dw)
		return -ENOMEM;
	dw->lk = lk;
	dw->id = id;
	dw->pe = *c;
	dw->cert = malloc(c->certlen ? c->certlen : 1);
	dw->ca = malloc(c->calen ? c->calen : 1);
	dw->eps = calloc((size_t)c->neps + 1, sizeof(*dw->eps));
	if (!dw->cert || !dw->ca || !dw->eps) {
		overlay_dwait_free(o, dw);
		return -ENOMEM;
	}
	memcpy(dw->cert, c->cert, c->certlen);
	memcpy(dw->ca, c->ca, c->calen);
	memcpy(dw->eps, c->eps, (size_t)c->neps * sizeof(*dw->eps));
	dw->pe.cert = dw->cert;
	dw->pe.ca = dw->ca;
	dw->pe.eps = dw->eps;
	domtrust_discover(node_domtrust(o->node), dw->domain, overlay_dw_broker_done, dw);
	return 0;
}

/* The link to ask about identity: our authority for our domain, or the
 * other domain's authority if the config names one. */
static struct overlay_link *overlay_link_for(struct overlay *o, const char *identity)
{
	const char *at = strchr(identity, '@');

	for (int i = 0; i < o->n_links; i++)
		if (at && o->links[i].al && strcmp(o->links[i].domain, at + 1) == 0)
			return &o->links[i];
	return NULL;
}

/* A node the authority described (lookup answer or broker request). */
static struct peer *overlay_peer_from_authority(struct overlay *o, const struct authlink_peer *pe,
    char *err, size_t errlen)
{
	struct claims_self self = overlay_claims_self(o);
	const struct addr_prefix *allowed;
	struct cert_info ci;
	struct peer *p;
	const char *at = strchr(pe->identity, '@');
	int foreign = at && strcmp(at + 1, o->domain) != 0;
	int n_allowed;

	/* A node of another domain: its CA came along; trust it by pin or
	 * on first use, and let handshakes accept it. */
	if (foreign && pe->ca && pe->calen) {
		if (node_trust_peer_ca(o->node, at + 1, pe->ca, pe->calen, err, errlen) < 0)
			return NULL;
		if (hs_ctx_add_ca(o->hs, pe->ca, pe->calen, err, errlen) < 0)
			log_warnx("%s", err);
	}
	if (overlay_check_cert(o, pe->cert, pe->certlen, &ci, err, errlen) < 0)
		return NULL;
	if (strcmp(ci.identity, pe->identity) != 0 || strcmp(ci.identity, o->identity) == 0) {
		snprintf(err, errlen, "authority answered with an unexpected identity");
		return NULL;
	}
	p = peer_add(o->peers, ci.identity);
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/* What it may claim, before its routes enter the table (claims.c). */
	claims_allowed(o->cfg, at ? at + 1 : "", &allowed, &n_allowed);
	if (peer_claims(o->peers, &self, allowed, n_allowed, &ci, err, errlen) != CLAIMS_OK) {
		log_warnx("peer %s: %s; refused", ci.identity, err);
		peer_release(o->peers, p);
		return NULL;
	}
	overlay_peer_set_cert(o, p, &ci);
	peer_merge_eps(p, pe->eps, pe->neps);
	paths_drop_own_mappings(&o->nat, p);
	/* A relay id names a node at the authority that described it: that
	 * one introduced us, so it has both of us registered and relays
	 * (PROTOCOL.md, "Relays across domains"). */
	p->relay_id = pe->via >= 0 && pe->via < PATHS_RELAYS ? pe->node_id : 0;
	p->relay_via = p->relay_id ? pe->via : 0;
	p->nat = pe->nat;
	if (paths_punch_keys(p, o->identity, pe->token) < 0)
		log_warnx("peer %s: cannot derive PUNCH keys; not punching", p->identity);
	paths_punch_start(o, p);
	return p;
}

/* A lookup answer, by the link to the peer's domain (a lookup by name
 * always goes there): its relay ids are good at that authority. */
struct peer *overlay_peer_from_lookup(struct overlay *o, const struct authlink_peer *pe,
    char *err, size_t errlen)
{
	struct authlink_peer pe2 = *pe;
	struct overlay_link *lk = overlay_link_for(o, pe->identity);

	pe2.via = lk ? (int)(lk - o->links) : -1;
	return overlay_peer_from_authority(o, &pe2, err, errlen);
}

int overlay_lookup(struct overlay *o, const char *identity, authlink_lookup_fn *fn, void *arg)
{
	struct overlay_link *lk = overlay_link_for(o, identity);
	const char *at = strchr(identity, '@');
	struct overlay_dwait *dw;

	if (!lk && (!at || strcmp(at + 1, o->domain) == 0))
		return -ENOENT;
	if (!lk) {
		/* Another domain nobody configured: ask DNS where it is. */
		dw = overlay_dwait_new(o, identity);
		if (!dw)
			return -ENOMEM;
		dw->fn = fn;
		dw->arg = arg;
		domtrust_discover(node_domtrust(o->node), dw->domain, overlay_dw_lookup_done, dw);
		return 0;
	}
	authlink_lookup(lk->al, identity, 0, NULL, fn, arg);
	return 0;
}

static void overlay_addr_wait_free(struct overlay *o, struct addr_wait *w)
{
	struct addr_wait **pp;

	for (pp = &o->waits; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	}
	for (int i = 0; i < w->nq; i++)
		free(w->q[i]);
	free(w);
}

static void overlay_addr_lookup_done(void *arg, int err, const char *msg, const struct authlink_peer *pe)
{
	struct addr_wait *w = arg;
	struct overlay *o = w->o;
	struct peer *p = NULL;
	char e[256];

	if (err == 0 && w->by_name) {
		p = overlay_peer_from_lookup(o, pe, e, sizeof(e));
	} else if (err == 0) {
		struct authlink_peer own = *pe;
		own.via = 0;
		p = overlay_peer_from_authority(o, &own, e, sizeof(e));
	}
	if (!p) {
		o->drops_noroute += (uint64_t)w->nq;
		for (int i = 0; i < w->nq; i++) {
			datapath_icmp_unreach(o, w->q[i]->data, w->q[i]->len);
			free(w->q[i]);
		}
		w->nq = 0;
		w->negative = 1;
		timers_lookup_failed(&w->until, now_ms());
		return;
	}
	/* They left q2q0 for an address no route named: as the data path
	 * would have, show them to p as it knows itself. */
	for (int i = 0; i < w->nq; i++)
		if (foreign_tx(p, w->q[i]->data, w->q[i]->len) == 0)
			datapath_send(o, p, w->q[i]->data, w->q[i]->len);
	datapath_flush(o);
	overlay_addr_wait_free(o, w);
	overlay_arm(o);
}

static int overlay_in_overlay(const struct overlay *o, int family, const uint8_t *dst)
{
	if (family == AF_INET6)
		return dst[0] == 0xfd;
	return 1;	/* v4: anything routed to q2q0 is ours to resolve */
}

/* The route_unknown hook: look the address up, queue the packet meanwhile. */
static void overlay_route_unknown(struct overlay *o, const uint8_t *pkt, size_t len, int family,
    const uint8_t *dst)
{
	struct addr_wait *w;
	int alen = overlay_family_len(family), rc;
	const char *id;

	for (w = o->waits; w; w = w->next) {
		if (w->family != family || memcmp(w->addr, dst, (size_t)alen) != 0)
			continue;
		if (w->negative) {
			if (timers_lookup_negative(w->until, now_ms())) {
				o->drops_noroute++;
				datapath_icmp_unreach(o, pkt, len);
				return;
			}
			break;	/* expired: ask again */
		}
		if (w->nq < LOOKUP_QUEUE && (w->q[w->nq] = malloc(sizeof(struct queued)))) {
			w->q[w->nq]->len = len;
			memcpy(w->q[w->nq]->data, pkt, len);
			w->nq++;
		}
		return;
	}
	if (!o->link || !overlay_in_overlay(o, family, dst)) {
		o->drops_noroute++;
		datapath_icmp_unreach(o, pkt, len);
		return;
	}
	if (!w) {
		w = calloc(1, sizeof(*w));
		if (!w)
			return;
		w->o = o;
		w->family = family;
		memcpy(w->addr, dst, (size_t)alen);
		w->next = o->waits;
		o->waits = w;
	}
	w->negative = 0;
	if ((w->q[0] = malloc(sizeof(struct queued)))) {
		w->q[0]->len = len;
		memcpy(w->q[0]->data, pkt, len);
		w->nq = 1;
	}
	/* An address this node gave another domain's peer (before a restart,
	 * say): that domain's authority knows the identity, not our address. */
	id = foreign_identity_of(o, family, dst, NULL);
	w->by_name = id != NULL;
	if (!id)
		authlink_lookup(o->link, NULL, family, dst, overlay_addr_lookup_done, w);
	else if ((rc = overlay_lookup(o, id, overlay_addr_lookup_done, w)) < 0)
		overlay_addr_lookup_done(w, rc, "cannot look it up", NULL);
}

/* ------------------------------------------ authority link events */

static void overlay_refresh_done(void *arg, int err, const char *msg, const struct authlink_peer *pe)
{
	struct overlay *o = arg;
	char e[256];
	struct peer *p;

	if (err < 0 || !pe)
		return;
	p = overlay_peer_from_lookup(o, pe, e, sizeof(e));
	if (!p)
		log_debug("refreshing %s: %s", pe->identity, e);
}

/* Looks p up again at its domain's authority (a fresh broker
 * introduction, with fresh relay ids there). */
static int overlay_reintroduce(struct overlay *o, struct peer *p)
{
	struct overlay_link *lk = overlay_link_for(o, p->identity);

	if (!lk || !authlink_is_up(lk->al))
		return -ENOTCONN;
	authlink_lookup(lk->al, p->identity, 0, NULL, overlay_refresh_done, o);
	return 0;
}

static void overlay_link_up(void *arg, uint32_t node_id, const uint8_t key[32])
{
	struct overlay_link *lk = arg;
	struct overlay *o = lk->o;
	const struct sockaddr_in6 *auth = node_authority_addr(o->node);
	const uint8_t *ca;
	size_t calen;
	char err[128];
	int via = (int)(lk - o->links);

	if (!lk->own) {
		/* Its CA is trusted now (checked on connect): accept its nodes. */
		if (trust_get(node_trust(o->node), lk->domain, &ca, &calen) == 0 &&
		    hs_ctx_add_ca(o->hs, ca, calen, err, sizeof(err)) < 0)
			log_warnx("%s", err);
		/* It relays between its nodes and us. */
		paths_relay_up(o, via, node_id, key, authlink_addr(lk->al));
	} else {
		if (!o->nat.have_udp || o->nat.node_id != node_id)
			replay_init(&o->nat.relay_replay);
		o->nat.node_id = node_id;
		memcpy(o->nat.udp_key, key, sizeof(o->nat.udp_key));
		o->nat.have_udp = 1;
		for (int k = 0; k < 2; k++) {
			o->nat.auth_udp[k] = *auth;
			o->nat.auth_udp[k].sin6_port = htons((uint16_t)(ntohs(auth->sin6_port) + 2 * k));
		}
		o->nat.have_reflexive[0] = o->nat.have_reflexive[1] = 0;
		paths_probe(o);
	}
	/* Relay ids are per authority session: peers of its domain, and
	 * peers it relays for, are introduced again (at their own domain's
	 * authority, which then relays). Another domain's link the first
	 * time has nothing to renew: what we know came by other links. */
	if (lk->own || lk->ups++ > 0)
		for (struct peer *p = peer_first(o->peers); p; p = p->next)
			if (p->have_cert && !p->pinned && (overlay_link_for(o, p->identity) == lk ||
			    (p->relay_id && p->relay_via == via)))
				overlay_lookup(o, p->identity, overlay_refresh_done, o);
	overlay_arm(o);
}

/* Someone asked the authority for us. Answer only after checking them,
 * and start punching towards them so their HELLOs get through our NAT. */
static void overlay_link_broker(void *arg, uint32_t id, const struct authlink_peer *caller)
{
	struct overlay_link *lk = arg;
	struct overlay *o = lk->o;
	const char *at = strchr(caller->identity, '@');
	char err[256];

	/* A caller of a domain we know nothing of yet, under a policy that
	 * wants DNS: answer once DNS has spoken. */
	if (at && strcmp(at + 1, o->domain) != 0 && caller->ca && caller->calen &&
	    node_trust_peer_ca(o->node, at + 1, caller->ca, caller->calen, err, sizeof(err)) == -EAGAIN &&
	    overlay_broker_defer(lk, id, caller) == 0)
		return;
	overlay_broker_go(lk, id, caller);
}

static void overlay_broker_go(struct overlay_link *lk, uint32_t id, const struct authlink_peer *caller)
{
	struct overlay *o = lk->o;
	struct authlink_peer pe = *caller;
	char err[256];
	struct peer *p;

	if (!policy_allows(o->cfg, caller->identity)) {
		log_info("refusing a connection from %s (policy)", caller->identity);
		authlink_broker_answer(lk->al, id, 0);
		return;
	}
	pe.via = (int)(lk - o->links);
	p = overlay_peer_from_authority(o, &pe, err, sizeof(err));
	if (!p) {
		log_warnx("refusing a connection from %s: %s", caller->identity, err);
		authlink_broker_answer(lk->al, id, 0);
		return;
	}
	authlink_broker_answer(lk->al, id, 1);
	overlay_arm(o);
}

/* News from lk's authority: it speaks for its own domain's certificates
 * only, so the serial is kept under that domain (tund/node/revlist.h) and
 * cuts off only that domain's peers. */
static void overlay_link_revoked(void *arg, const char *serial, int64_t not_after)
{
	struct overlay_link *lk = arg;
	struct overlay *o = lk->o;
	int64_t now = (int64_t)time(NULL);
	int rc;

	if (not_after <= now)
		return;		/* expired: refused anyway */
	rc = peer_revoked_add(o->peers, lk->domain, serial, not_after);
	if (rc == -ENOSPC || rc == -ENOMEM)
		log_warnx("authority link (%s): no room for revoked serial %s: %s", lk->domain, serial,
		    strerror(-rc));
	if (rc <= 0)
		return;
	if (now >= o->revoked_expired_at + 60) {
		peer_revoked_expire(o->peers, now);
		o->revoked_expired_at = now;
	}
	for (struct peer *p = peer_first(o->peers); p; p = p->next) {
		if (p->have_cert && peer_revoked(o->peers, &p->ci)) {
			log_info("peer %s: certificate %s revoked by %s, dropping its sessions",
			    p->identity, p->ci.serial, lk->domain);
			peer_drop_sessions(o->peers, p);
			route_table_remove_peer(o->routes, p);
			p->have_cert = 0;
			timers_handshake_revoked(p, now_ms());
		}
	}
}

void overlay_policy_reload(struct overlay *o)
{
	firewall_reload(o);
}

const struct fw *overlay_policy_state(const struct overlay *o)
{
	return firewall_state(o);
}

/* Only our own authority speaks for who may reach us. */
static void overlay_link_policy(void *arg, const struct msg_reader *r)
{
	struct overlay_link *lk = arg;

	if (lk->own)
		firewall_authority(lk->o, r);
}

/* Only our own authority's pool is routed here; other domains' pools may
 * overlap ours and are the federation's to present. */
static void overlay_link_pool(void *arg, const uint8_t net[4], uint8_t plen)
{
	struct overlay_link *lk = arg;

	if (lk->own)
		routes_pool(lk->o, net, plen);
}

/* The gateway mapped our port, or the mapping went: every authority
 * passes it on as our best candidate. */
static void overlay_portmap_changed(void *arg, const struct sockaddr_in6 *ep)
{
	struct overlay *o = arg;

	for (int i = 0; i < o->n_links; i++)
		authlink_set_mapped(o->links[i].al, ep);
	/* Peers introduced before the mapping hold candidates without it: a
	 * new introduction (after the REGISTER on the same link) hands it to
	 * them, and a peer on the relay can then come to us directly. */
	if (!ep)
		return;
	for (struct peer *p = peer_first(o->peers); p; p = p->next)
		if (p->have_cert && !p->pinned && (!p->have_ep || p->ep.relay) && overlay_reintroduce(o, p) == 0)
			timers_reintro_sent(p, now_ms());
}

/* How our own authority's link fared: `up` may be waiting to hear. */
static void overlay_link_attempt(void *arg, int registered, const char *why)
{
	struct overlay_link *lk = arg;

	if (lk->own)
		ovctl_registration(lk->o, registered, why);
}

static const struct authlink_ops overlay_link_ops = {
	.on_up = overlay_link_up,
	.on_pool = overlay_link_pool,
	.on_broker = overlay_link_broker,
	.on_revoked = overlay_link_revoked,
	.on_policy = overlay_link_policy,
	.on_attempt = overlay_link_attempt,
};

const char *overlay_link_domain(const struct overlay *o, int via)
{
	return via >= 0 && via < o->n_links && o->links[via].al ? o->links[via].domain : NULL;
}

void overlay_links_info(const struct overlay *o, struct overlay_status_info *out)
{
	out->n_links = 0;
	for (int i = 0; i < o->n_links && out->n_links < OVERLAY_STATUS_LINKS; i++) {
		const struct overlay_link *lk = &o->links[i];
		struct overlay_link_info *li = &out->links[out->n_links];

		if (!lk->al)
			continue;
		snprintf(li->domain, sizeof(li->domain), "%s", lk->domain);
		li->state = authlink_state(lk->al);
		li->revocation_news = authlink_revocation_news(lk->al, &li->revocation_cursor);
		out->n_links++;
	}
}

/* What DNS says now of a discovered link's domain: the same authority
 * keeps its link; a moved one gets a new link at its new address. A
 * failed lookup keeps the link as it is (the authority may well still be
 * there) and asks again soon. */
static void overlay_link_refreshed(void *arg, int err, const char *why, const struct discover_answer *a)
{
	struct overlay_link *lk = arg;
	struct overlay *o = lk->o;
	char was[UDP_ADDR_STRLEN], now[UDP_ADDR_STRLEN];
	struct sockaddr_in6 mapped;

	lk->refreshing = 0;
	if (!lk->al)
		return;		/* closed meanwhile (trust forget) */
	if (err < 0) {
		log_warnx("authority of %s: looking it up again failed: %s; keeping the link", lk->domain, why);
		lk->expires = now_ms() + 1000ull * DISCOVER_TTL_MIN;
		return;
	}
	lk->expires = now_ms() + 1000ull * a->ttl;
	if (udp_addr_equal(&lk->addr, &a->authority))
		return;
	udp_addr_format(&lk->addr, was, sizeof(was));
	udp_addr_format(&a->authority, now, sizeof(now));
	log_info("authority of %s moved from %s to %s (DNS): linking there", lk->domain, was, now);
	authlink_stop(lk->al);
	lk->al = NULL;
	paths_relay_gone(o, (int)(lk - o->links));
	if (authlink_start(o->loop, o->node, o->port, lk->domain, &a->authority, &overlay_link_ops, lk,
	    &lk->al) < 0) {
		lk->al = NULL;
		log_warnx("authority of %s: cannot start a link to %s", lk->domain, now);
		return;
	}
	lk->addr = a->authority;
	if (portmap_endpoint(o->portmap, &mapped) == 0)
		authlink_set_mapped(lk->al, &mapped);
}

/* Discovered links whose DNS answer has outlived its TTL ask again. */
static void overlay_links_tick(struct overlay *o, uint64_t now)
{
	for (int i = 1; i < o->n_links; i++) {
		struct overlay_link *lk = &o->links[i];

		if (!lk->al || !lk->expires || lk->refreshing || now < lk->expires)
			continue;
		lk->refreshing = 1;
		domtrust_discover(node_domtrust(o->node), lk->domain, overlay_link_refreshed, lk);
	}
}

/* --------------------------------------------------------- timers */

static void overlay_tick(struct overlay *o)
{
	struct timers_cfg tc = timers_cfg_of(o->cfg);
	uint64_t now = now_ms();

	attempt_tick(o, now);
	/* Moved (new address, new network): tell the authorities again, and
	 * learn our public address anew. */
	if (timers_addr_check_due(&o->t, now) && paths_addresses_changed(o, now_ms()) && o->link) {
		log_info("local addresses changed: re-registering with the authority");
		o->nat.have_reflexive[0] = o->nat.have_reflexive[1] = 0;
		/* A new network, perhaps a new gateway: the old mapping is
		 * not ours to offer. */
		portmap_restart(o->portmap);
		for (int i = 0; i < o->n_links; i++)
			if (o->links[i].al)
				authlink_restart(o->links[i].al);
	}
	paths_tick(o, now);
	overlay_links_tick(o, now);
	for (struct peer *p = peer_first(o->peers); p; p = p->next) {
		if (paths_tick_peer(o, p, now) == PATHS_WANT_REINTRO && overlay_reintroduce(o, p) == 0)
			timers_reintro_sent(p, now);
		if (p->prev && timers_session_expired(&tc, p->prev, now)) {
			peer_session_free(o->peers, p->prev);
			p->prev = NULL;
		}
		if (p->cur && timers_session_expired(&tc, p->cur, now)) {
			peer_session_free(o->peers, p->cur);
			p->cur = NULL;
		}
		if (timers_keepalive_due(&tc, p, now))
			datapath_seal(o, p, NULL, 0);
		pmtu_tick(o, p, now);
		if (p->pinned && !p->cur && !p->init)
			attempt_initiate(o, p);
		/* The peer stays silent about indices it does not know, so an
		 * unanswered session is how a restarted peer shows. */
		if (timers_unanswered(p, now)) {
			log_info("peer %s: no answer for %d s, handshaking again", p->identity,
			    TIMERS_UNANSWERED_MS / 1000);
			timers_unanswered_handled(p);
			attempt_initiate(o, p);
		}
	}
	datapath_flush(o);
	ovctl_tick(o);
	for (struct addr_wait *w = o->waits, *nx; w; w = nx) {
		nx = w->next;
		if (w->negative && timers_lookup_expired(w->until, now))
			overlay_addr_wait_free(o, w);
	}
}

static void overlay_timer(struct loop_timer *t)
{
	struct overlay *o = (struct overlay *)((char *)t - offsetof(struct overlay, timer));

	overlay_tick(o);
	overlay_arm(o);
}

void overlay_arm(struct overlay *o)
{
	uint64_t now = now_ms(), next = now + TICK_MS;

	next = attempt_next(&o->att, next);
	next = timers_overlay_next(&o->t, o->nat.have_udp, next);
	for (struct peer *p = peer_first(o->peers); p; p = p->next) {
		next = timers_peer_next(p, next, now);
		next = pmtu_next(o, p, next, now);
	}
	if (o->timer.deadline == 0 || o->timer.deadline > next || o->timer.deadline < now)
		loop_timer_arm(o->loop, &o->timer, next);
}

/* Reads the data port; after a call of strays alone (rxrest.c) leaves
 * it out of epoll until rest_timer. */
static void overlay_udp_read(struct overlay *o)
{
	struct rxrest_call c;
	int ms;

	datapath_rx_udp(o, &c);
	ms = rxrest_after(&o->rest, &c, now_ms());
	if (ms > 0 && loop_mod(o->loop, &o->io.udp_io, 0) == 0)
		loop_timer_arm(o->loop, &o->rest_timer, now_ms() + (uint64_t)ms);
}

static void overlay_udp_wake(struct overlay *o)
{
	if (loop_mod(o->loop, &o->io.udp_io, EPOLLIN) < 0) {
		/* Not expected (MOD allocates nothing); the port must not
		 * stay deaf, so try again shortly. */
		log_warn("overlay: cannot watch the data port again");
		loop_timer_arm(o->loop, &o->rest_timer, now_ms() + RXREST_MS);
		return;
	}
	overlay_udp_read(o);
}

static void overlay_rest_timer(struct loop_timer *t)
{
	struct overlay *o = (struct overlay *)((char *)t - offsetof(struct overlay, rest_timer));

	overlay_udp_wake(o);
	overlay_arm(o);
}

/* The loop's callbacks: the files below read and decide, and the timer
 * is re-armed here, once the event is handled. */
static void overlay_udp_io(struct loop_io *io, uint32_t events)
{
	struct overlay *o = (struct overlay *)((char *)io - offsetof(struct overlay, io.udp_io));

	if (o->rest_timer.deadline) {
		/* An error event while resting (epoll reports those anyway):
		 * the rest ends now, or the loop would spin on it. */
		loop_timer_cancel(o->loop, &o->rest_timer);
		overlay_udp_wake(o);
	} else {
		overlay_udp_read(o);
	}
	overlay_arm(o);
}

static void overlay_tun_io(struct loop_io *io, uint32_t events)
{
	struct overlay *o = (struct overlay *)((char *)io - offsetof(struct overlay, io.tun_io));

	datapath_rx_tun(o);
	overlay_arm(o);
}

static void overlay_bday_io(struct loop_io *io, uint32_t events)
{
	struct paths_bday_sock *bs = (struct paths_bday_sock *)io;

	paths_rx_bday(bs);
	overlay_arm(bs->o);
}

/* ---------------------------------------------------------- hooks */

/* What the files below this one tell it (hooks.h); what a session or a
 * q2q message means for control requests, overlay_ctl.c knows. */
static const struct overlay_hooks overlay_hooks = {
	.peer_cert = overlay_peer_set_cert,
	.session_ready = ovctl_session_ready,
	.route_unknown = overlay_route_unknown,
	.rx_message = ovctl_rx_message,
};

/* ------------------------------------------------------ up / down */

static int overlay_add_ca(const char *domain, const uint8_t *der, size_t len, void *arg)
{
	char err[128];

	/* One unusable CA must not keep the others out of handshakes. */
	if (hs_ctx_add_ca(arg, der, len, err, sizeof(err)) < 0)
		log_warnx("%s (trust store entry %s)", err, domain);
	return 0;
}

static int overlay_iface(struct overlay *o, const struct cert_info *ci, char *err, size_t errlen)
{
	int rc, fd;

	/* The privileged part opens and configures the device (tund/priv/). */
	rc = privclient_tun_open(o->cfg->interface, o->cfg->offload, o->ifname, &o->ifindex, &fd);
	if (rc < 0 && o->cfg->offload) {
		log_warnx("%s: no TUN offload (%s); carrying packets one by one", o->cfg->interface,
		    strerror(-rc));
		rc = privclient_tun_open(o->cfg->interface, 0, o->ifname, &o->ifindex, &fd);
	} else if (rc == 0) {
		o->io.vnet = o->cfg->offload;
	}
	if (rc == 0 && o->io.vnet && !(o->io.rxbuf = malloc((size_t)DATAPATH_RXQ_MAX * (GRO_VNET_HDR_LEN + DATAPATH_SEG_STRIDE)))) {
		close(fd);
		rc = -ENOMEM;
	}
	if (rc < 0) {
		snprintf(err, errlen, "cannot create interface %s: %s", o->cfg->interface, strerror(-rc));
		return rc;
	}
	o->io.tun_io.fd = fd;
	if ((rc = privclient_link_set(1, o->mtu)) < 0 ||
	    (rc = privclient_addr_add(AF_INET, ci->v4, 32)) < 0 ||
	    (rc = privclient_addr_add(AF_INET6, ci->v6, 128)) < 0)
		goto fail;
	/* q2q's own table and rules (routes.c); the pool as last learned. */
	if ((rc = routes_up(o, NULL, 0, err, errlen)) < 0)
		goto out;
	return 0;
fail:
	snprintf(err, errlen, "cannot configure %s: %s", o->ifname, strerror(-rc));
out:
	close(fd);	/* the interface, its addresses and routes go with it */
	o->io.tun_io.fd = -1;
	return rc;
}

int overlay_up(struct loop *l, const struct config *cfg, struct node *n, struct overlay **out,
    char *err, size_t errlen)
{
	const struct cert_info *ci = node_cert(n);
	struct overlay *o;
	uint8_t *kder = NULL;
	size_t klen = 0;
	const uint8_t *cder;
	uint8_t mac1_key[COOKIE_KEY_LEN];
	size_t clen;
	int rc;

	if (!ci) {
		snprintf(err, errlen, "not enrolled: run q2qctl enroll first");
		return -ENOENT;
	}
	if (ci->not_after <= (int64_t)time(NULL)) {
		snprintf(err, errlen, "this node's certificate expired; renew or enroll again");
		return -EKEYEXPIRED;
	}
	o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	o->loop = l;
	o->cfg = cfg;
	o->hooks = &overlay_hooks;
	o->node = n;
	o->io.tun_io.fd = o->io.udp_io.fd = -1;
	o->io.tun_io.fn = overlay_tun_io;
	o->io.udp_io.fn = overlay_udp_io;
	o->paths.bday_io_fn = overlay_bday_io;
	o->timer.fn = overlay_timer;
	o->rest_timer.fn = overlay_rest_timer;
	o->mtu = cfg->mtu;
	frag_table_init(&o->frag);
	if (o->mtu > UDP_BUF_SIZE - DATAPATH_OVERHEAD)
		o->mtu = UDP_BUF_SIZE - DATAPATH_OVERHEAD;
	snprintf(o->identity, sizeof(o->identity), "%s", ci->identity);
	memcpy(o->v4, ci->v4, 4);
	memcpy(o->v6, ci->v6, 16);
	o->io.rx = calloc(1, sizeof(*o->io.rx));
	o->io.tx = calloc(1, sizeof(*o->io.tx));
	o->links = calloc(OVERLAY_LINKS_MAX, sizeof(*o->links));
	rc = -ENOMEM;
	if (!o->io.rx || !o->io.tx || !o->links || peer_table_init(&o->peers) < 0 || route_table_init(&o->routes) < 0 ||
	    foreign_init(o) < 0)
		goto fail;
	if ((rc = cookie_mac1_key(o->identity, mac1_key)) < 0 || (rc = cookie_hmac_new(mac1_key, &o->mac1)) < 0)
		goto fail;
	if ((rc = firewall_up(o)) < 0)
		goto fail;
	if ((rc = cookie_jar_init(&o->jar, now_ms())) < 0 || (rc = ratelimit_init(&o->cookie_rl, now_ms())) < 0)
		goto fail;
	node_cert_der(n, &cder, &clen);
	if ((rc = node_key_der(n, &kder, &klen)) < 0 ||
	    (rc = hs_ctx_new(kder, klen, cder, clen, &o->hs, err, errlen)) < 0)
		goto fail;
	trust_foreach(node_trust(n), overlay_add_ca, o->hs);
	rc = udp_open(cfg->port, &o->io.udp_io.fd);
	if (rc < 0) {
		snprintf(err, errlen, "cannot open UDP port %d: %s", cfg->port, strerror(-rc));
		goto fail;
	}
	o->port = udp_local_port(o->io.udp_io.fd);
	/* Batching in the kernel too: many datagrams per trip through the
	 * UDP stack each way, when the kernel can (config offload). */
	o->io.gso = cfg->offload;
	if (cfg->offload && udp_enable_gro(o->io.udp_io.fd) == 0)
		o->io.grx = malloc(sizeof(*o->io.grx));
	if ((rc = overlay_iface(o, ci, err, errlen)) < 0)
		goto fail;
	if ((rc = loop_add(l, &o->io.tun_io, EPOLLIN)) < 0 || (rc = loop_add(l, &o->io.udp_io, EPOLLIN)) < 0) {
		snprintf(err, errlen, "event loop: %s", strerror(-rc));
		goto fail;
	}
	for (int i = 0; i < cfg->n_peers; i++) {
		struct peer *p = peer_add(o->peers, cfg->peers[i].identity);
		if (!p)
			continue;
		p->pinned = 1;
		peer_merge_eps(p, cfg->peers[i].endpoints, cfg->peers[i].n_endpoints);
	}
	{
		const char *at = strchr(o->identity, '@');
		snprintf(o->domain, sizeof(o->domain), "%s", at ? at + 1 : "");
	}
	o->links[0].o = o;
	o->links[0].own = 1;
	snprintf(o->links[0].domain, sizeof(o->links[0].domain), "%s", o->domain);
	if (authlink_start(l, n, o->port, NULL, NULL, &overlay_link_ops, &o->links[0], &o->links[0].al) < 0)
		log_warnx("cannot start the authority link; peers must be pinned in the config");
	o->link = o->links[0].al;
	o->n_links = 1;
	for (int i = 0; i < cfg->n_trust; i++) {
		struct overlay_link *lk = &o->links[o->n_links];

		if (!cfg->trust[i].has_authority || strcmp(cfg->trust[i].domain, o->domain) == 0)
			continue;
		lk->o = o;
		snprintf(lk->domain, sizeof(lk->domain), "%s", cfg->trust[i].domain);
		if (authlink_start(l, n, o->port, lk->domain, &cfg->trust[i].authority, &overlay_link_ops, lk,
		    &lk->al) == 0)
			o->n_links++;
	}
	if (portmap_start(l, cfg->portmap, o->port, overlay_portmap_changed, o, &o->portmap) < 0)
		log_warnx("portmap: out of memory; no port mapping");
	overlay_arm(o);
	log_info("%s up: %s, UDP port %d", o->ifname, o->identity, o->port);
	explicit_bzero(kder, klen);
	free(kder);
	*out = o;
	return 0;
fail:
	if (kder) {
		explicit_bzero(kder, klen);
		free(kder);
	}
	overlay_down(o);
	return rc;
}

void overlay_use_workers(struct overlay *o, struct workers *w)
{
	if (datapath_use_workers(&o->io, w) < 0)
		log_warnx("data path: out of memory for the worker threads' batches; one thread");
}

void overlay_down(struct overlay *o)
{
	if (!o)
		return;
	loop_timer_cancel(o->loop, &o->timer);
	loop_timer_cancel(o->loop, &o->rest_timer);
	/* Lookups waiting for DNS answer before the waiters they name go. */
	while (o->dwaits) {
		struct overlay_dwait *dw = o->dwaits;

		domtrust_cancel(node_domtrust(o->node), dw);
		if (dw->fn)
			dw->fn(dw->arg, -ECANCELED, "the overlay went down", NULL);
		overlay_dwait_free(o, dw);
	}
	/* The gateway forgets the mapping now, not at its expiry. */
	portmap_stop(o->portmap);
	o->portmap = NULL;
	/* First: it settles pending lookups, whose callbacks use waiters. */
	for (int i = 0; i < o->n_links; i++) {
		domtrust_cancel(node_domtrust(o->node), &o->links[i]);
		authlink_stop(o->links[i].al);
	}
	o->n_links = 0;
	o->link = NULL;
	ovctl_cancel_all(o);
	while (o->waits)
		overlay_addr_wait_free(o, o->waits);
	while (o->att.n)
		attempt_free(o, o->att.a[0]);
	if (o->peers)
		paths_bday_close(o, 0);
	routes_down(o);
	if (o->io.tun_io.fd >= 0) {
		loop_del(o->loop, &o->io.tun_io);
		close(o->io.tun_io.fd);
	}
	if (o->io.udp_io.fd >= 0) {
		loop_del(o->loop, &o->io.udp_io);
		close(o->io.udp_io.fd);
	}
	foreign_free(o);
	peer_table_free(o->peers);
	route_table_free(o->routes);
	firewall_down(o);
	hs_ctx_free(o->hs);
	cookie_jar_free(&o->jar);
	cookie_hmac_free(o->mac1);
	free(o->io.rx);
	free(o->io.tx);
	free(o->io.grx);
	free(o->io.rxbuf);
	datapath_io_free(&o->io);
	free(o->links);
	/* The authority's UDP key: it authenticates our probes and relaying. */
	explicit_bzero(o->nat.udp_key, sizeof(o->nat.udp_key));
	explicit_bzero(o->nat.xr, sizeof(o->nat.xr));
	free(o);
}

int overlay_forget_domain(struct overlay *o, const char *domain)
{
	int cut = 0;

	hs_ctx_forget_domain(o->hs, domain);
	for (int i = 0; i < o->n_links; i++) {
		struct overlay_link *lk = &o->links[i];

		if (lk->own || !lk->al || strcmp(lk->domain, domain) != 0)
			continue;
		domtrust_cancel(node_domtrust(o->node), lk);
		lk->refreshing = 0;
		authlink_stop(lk->al);
		lk->al = NULL;
		paths_relay_gone(o, i);
		log_info("authority link to %s closed: its CA is no longer trusted", domain);
	}
	for (struct peer *p = peer_first(o->peers); p; p = p->next) {
		const char *at = strchr(p->identity, '@');

		if (!at || strcmp(at + 1, domain) != 0 || (!p->have_cert && !p->cur && !p->prev))
			continue;
		log_info("peer %s: its domain's CA is no longer trusted, dropping its sessions", p->identity);
		peer_drop_sessions(o->peers, p);
		route_table_remove_peer(o->routes, p);
		p->have_cert = 0;
		cut++;
	}
	foreign_forget_domain(o, domain);
	return cut;
}

int overlay_registered(const struct overlay *o)
{
	return authlink_is_up(o->link);
}
