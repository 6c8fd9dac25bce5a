/*
 * Control requests about the overlay (q2qctl resolve, whois, ping, peers,
 * status, netcheck), answered in JSON. A request that needs the network
 * becomes a waiter, settled by a lookup answer, a session or a pong, or
 * failed at its deadline by the overlay's timer.
 *
 * Inside a session, a plaintext whose first nibble is not an IP version is
 * a q2q message: 0x01 ping, 0x02 pong (q2qctl ping), empty = keepalive.
 */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <json-c/json.h>

#include "identity/addr.h"
#include "routing/table.h"
#include "tund/node/authlink.h"
#include "tund/ctl/control.h"
#include "tund/overlay/overlay.h"
#include "tund/overlay/overlay_ctl.h"
#include "tund/overlay/overlay_int.h"
#include "tund/link/proto.h"

enum { MSG_PING_REQ = 0x01, MSG_PING_REP = 0x02 };

/* A control request waiting for a lookup, a session or a pong. */
struct ovctl_waiter {
	struct ovctl_waiter *next;
	struct overlay *o;
	struct ctl_req *req;
	int kind;			/* W_RESOLVE, W_PING */
	char identity[ID_NAME_MAX + 1];
	uint64_t deadline;
	uint64_t ping_id;
	uint64_t sent_ns;
	int sent;
};
enum { W_RESOLVE = 1, W_PING };

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------ control waiters */

static void ovctl_waiter_free(struct overlay *o, struct ovctl_waiter *w)
{
	struct ovctl_waiter **pp;

	for (pp = &o->waiters; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	}
	free(w);
}

static json_object *ovctl_peer_json(struct peer *p)
{
	json_object *o = json_object_new_object();
	char buf[INET6_ADDRSTRLEN + 8];

	json_object_object_add(o, "identity", json_object_new_string(p->identity));
	if (p->have_cert) {
		json_object *r = json_object_new_array();
		inet_ntop(AF_INET, p->ci.v4, buf, sizeof(buf));
		json_object_object_add(o, "ipv4", json_object_new_string(buf));
		inet_ntop(AF_INET6, p->ci.v6, buf, sizeof(buf));
		json_object_object_add(o, "ipv6", json_object_new_string(buf));
		for (int i = 0; i < p->ci.n_routes; i++) {
			addr_prefix_format(&p->ci.routes[i], buf, sizeof(buf));
			json_object_array_add(r, json_object_new_string(buf));
		}
		json_object_object_add(o, "routes", r);
		json_object_object_add(o, "cert_not_after", json_object_new_int64(p->ci.not_after));
		json_object_object_add(o, "cert_serial", json_object_new_string(p->ci.serial));
	}
	return o;
}

static void ovctl_reply_ping(struct overlay *o, struct ovctl_waiter *w, double rtt_ms)
{
	struct peer *p = peer_find(o->peers, w->identity);
	json_object *r = json_object_new_object();
	char ep[UDP_ADDR_STRLEN] = "";

	if (p && p->have_ep)
		ep_format(&p->ep, ep, sizeof(ep));
	json_object_object_add(r, "identity", json_object_new_string(w->identity));
	json_object_object_add(r, "rtt_ms", json_object_new_double(rtt_ms));
	json_object_object_add(r, "path", json_object_new_string(p && p->have_ep && p->ep.relay ? "relay" : "direct"));
	json_object_object_add(r, "endpoint", json_object_new_string(ep));
	ctl_reply_ok(w->req, r);
}

static void ovctl_ping_send(struct overlay *o, struct ovctl_waiter *w, struct peer *p)
{
	uint8_t m[17];

	m[0] = MSG_PING_REQ;
	if (getrandom(&w->ping_id, sizeof(w->ping_id), 0) != sizeof(w->ping_id))
		w->ping_id = now_ns();
	memcpy(m + 1, &w->ping_id, 8);
	w->sent_ns = now_ns();
	memcpy(m + 9, &w->sent_ns, 8);
	if (datapath_seal(o, p, m, sizeof(m)) == 0) {
		w->sent = 1;
		datapath_flush(o);
	}
}

void ovctl_rx_message(struct overlay *o, struct peer *p, const uint8_t *m, size_t len)
{
	uint8_t rep[17];

	if (len != 17)
		return;
	if (m[0] == MSG_PING_REQ) {
		memcpy(rep, m, sizeof(rep));
		rep[0] = MSG_PING_REP;
		datapath_seal(o, p, rep, sizeof(rep));
		return;
	}
	if (m[0] == MSG_PING_REP) {
		uint64_t id;
		memcpy(&id, m + 1, 8);
		for (struct ovctl_waiter *w = o->waiters; w; w = w->next) {
			if (w->kind == W_PING && w->sent && w->ping_id == id) {
				ovctl_reply_ping(o, w, (double)(now_ns() - w->sent_ns) / 1e6);
				ovctl_waiter_free(o, w);
				break;
			}
		}
	}
}

/* A session with p now exists: pings waiting for it can go. */
void ovctl_session_ready(struct overlay *o, struct peer *p)
{
	for (struct ovctl_waiter *w = o->waiters; w; w = w->next)
		if (w->kind == W_PING && !w->sent && strcmp(w->identity, p->identity) == 0)
			ovctl_ping_send(o, w, p);
}

void ovctl_tick(struct overlay *o)
{
	uint64_t now = now_ms();
	struct ovctl_waiter *w, *next;

	for (w = o->waiters; w; w = next) {
		next = w->next;
		if (w->deadline && now >= w->deadline) {
			ctl_reply_err(w->req, CTL_EXIT_FAIL, "no reply from %s within %d s",
			    w->identity, 3);
			ovctl_waiter_free(o, w);
		}
	}
}

void ovctl_cancel_all(struct overlay *o)
{
	while (o->waiters) {
		ctl_reply_err(o->waiters->req, CTL_EXIT_FAIL, "the overlay went down");
		ovctl_waiter_free(o, o->waiters);
	}
}

static void ovctl_name_lookup_done(void *arg, int err, const char *msg, const struct authlink_peer *pe)
{
	struct ovctl_waiter *w = arg;
	struct overlay *o = w->o;
	struct peer *p = NULL;
	char e[256];

	if (err == 0) {
		struct authlink_peer pe2 = *pe;
		struct overlay_link *lk = overlay_link_for(o, pe->identity);
		pe2.via_own = lk && lk->own;
		p = overlay_peer_from_authority(o, &pe2, e, sizeof(e));
	} else {
		snprintf(e, sizeof(e), "%s", msg ? msg : "lookup failed");
	}
	if (!p) {
		ctl_reply_err(w->req, CTL_EXIT_FAIL, "%s: %s", w->identity, e);
		ovctl_waiter_free(o, w);
		return;
	}
	if (w->kind == W_RESOLVE) {
		ctl_reply_ok(w->req, ovctl_peer_json(p));
		ovctl_waiter_free(o, w);
		return;
	}
	/* W_PING: needs a session. */
	if (p->cur && p->cur->can_send)
		ovctl_ping_send(o, w, p);
	else
		attempt_initiate(o, p);
	overlay_arm(o);
}

static struct ovctl_waiter *ovctl_waiter_new(struct overlay *o, struct ctl_req *req, int kind, const char *identity)
{
	struct ovctl_waiter *w = calloc(1, sizeof(*w));

	if (!w) {
		ctl_reply_err(req, CTL_EXIT_FAIL, "out of memory");
		return NULL;
	}
	w->o = o;
	w->req = req;
	w->kind = kind;
	snprintf(w->identity, sizeof(w->identity), "%s", identity);
	w->next = o->waiters;
	o->waiters = w;
	return w;
}

static int ovctl_check_name(struct overlay *o, struct ctl_req *req, const char *identity)
{
	struct id_name n;
	char err[256];

	if (id_parse_user(identity, &n, err, sizeof(err)) < 0) {
		ctl_reply_err(req, CTL_EXIT_USAGE, "%s", err);
		return -1;
	}
	if (strcmp(identity, o->identity) == 0) {
		ctl_reply_err(req, CTL_EXIT_FAIL, "%s is this node", identity);
		return -1;
	}
	return 0;
}

void overlay_resolve(struct overlay *o, struct ctl_req *req, const char *identity)
{
	struct peer *p;
	struct ovctl_waiter *w;

	if (ovctl_check_name(o, req, identity) < 0)
		return;
	p = peer_find(o->peers, identity);
	if (p && p->have_cert && p->n_eps) {
		ctl_reply_ok(req, ovctl_peer_json(p));
		return;
	}
	if (!overlay_link_for(o, identity)) {
		ctl_reply_err(req, CTL_EXIT_FAIL, "%s is unknown and no authority for its domain is "
		    "configured (a trust entry with authority = \"ip:port\")", identity);
		return;
	}
	w = ovctl_waiter_new(o, req, W_RESOLVE, identity);
	if (w)
		authlink_lookup(overlay_link_for(o, identity)->al, identity, 0, NULL, ovctl_name_lookup_done, w);
}

void overlay_ping(struct overlay *o, struct ctl_req *req, const char *identity)
{
	struct peer *p;
	struct ovctl_waiter *w;

	if (ovctl_check_name(o, req, identity) < 0)
		return;
	w = ovctl_waiter_new(o, req, W_PING, identity);
	if (!w)
		return;
	w->deadline = now_ms() + 3000;
	p = peer_find(o->peers, identity);
	if (p && p->cur && p->cur->can_send)
		ovctl_ping_send(o, w, p);
	else if (p && p->n_eps)
		attempt_initiate(o, p);
	else if (overlay_link_for(o, identity))
		authlink_lookup(overlay_link_for(o, identity)->al, identity, 0, NULL, ovctl_name_lookup_done, w);
	overlay_arm(o);
}

void overlay_whois(struct overlay *o, struct ctl_req *req, const char *addr)
{
	uint8_t a[16];
	struct peer *p;
	int family = strchr(addr, ':') ? AF_INET6 : AF_INET;

	if (inet_pton(family, addr, a) != 1) {
		ctl_reply_err(req, CTL_EXIT_USAGE, "'%.64s' is not an IPv4 or IPv6 address", addr);
		return;
	}
	if ((family == AF_INET && memcmp(a, o->v4, 4) == 0) || (family == AF_INET6 && memcmp(a, o->v6, 16) == 0)) {
		json_object *r = json_object_new_object();
		json_object_object_add(r, "identity", json_object_new_string(o->identity));
		json_object_object_add(r, "self", json_object_new_boolean(1));
		ctl_reply_ok(req, r);
		return;
	}
	p = route_table_lookup(o->routes, family, a);
	if (!p) {
		ctl_reply_err(req, CTL_EXIT_FAIL, "no known peer has %s (try q2qctl resolve NAME first)", addr);
		return;
	}
	ctl_reply_ok(req, ovctl_peer_json(p));
}

/* --------------------------------------------------------- status */

/* Is this one of our own addresses (no NAT between us and the authority)? */
static int ovctl_is_local_addr(const struct sockaddr_in6 *sa)
{
	struct ifaddrs *ifa, *i;
	int found = 0;

	if (getifaddrs(&ifa) < 0)
		return 0;
	for (i = ifa; i && !found; i = i->ifa_next) {
		if (!i->ifa_addr)
			continue;
		if (i->ifa_addr->sa_family == AF_INET)
			found = IN6_IS_ADDR_V4MAPPED(&sa->sin6_addr) &&
			    memcmp(&sa->sin6_addr.s6_addr[12], &((struct sockaddr_in *)i->ifa_addr)->sin_addr, 4) == 0;
		else if (i->ifa_addr->sa_family == AF_INET6)
			found = memcmp(&sa->sin6_addr, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, 16) == 0;
	}
	freeifaddrs(ifa);
	return found;
}

static json_object *ovctl_nat_json(uint32_t nat)
{
	json_object *j;

	if (!(nat & NAT_KNOWN))
		return NULL;
	j = json_object_new_object();
	json_object_object_add(j, "mapping_varies_by_destination", json_object_new_boolean(!!(nat & NAT_VARIES)));
	json_object_object_add(j, "port_preserved", json_object_new_boolean(!!(nat & NAT_PRESERVES)));
	return j;
}

/* What we learned of our own NAT from the authority's two UDP ports: the
 * same mapping for both means endpoint-independent mapping. */
static json_object *ovctl_netcheck_json(struct overlay *o)
{
	json_object *j = json_object_new_object(), *refl = json_object_new_array();
	char a[UDP_ADDR_STRLEN];

	json_object_object_add(j, "local_port", json_object_new_int(o->port));
	for (int k = 0; k < 2; k++) {
		if (!o->nat.have_reflexive[k])
			continue;
		udp_addr_format(&o->nat.reflexive[k], a, sizeof(a));
		json_object_array_add(refl, json_object_new_string(a));
	}
	json_object_object_add(j, "reflexive", refl);
	json_object_object_add(j, "authority_udp", json_object_new_boolean(o->nat.have_reflexive[0]));
	if (o->nat.have_reflexive[0] && o->nat.have_reflexive[1]) {
		int varies = !udp_addr_equal(&o->nat.reflexive[0], &o->nat.reflexive[1]);
		json_object_object_add(j, "mapping_varies_by_destination", json_object_new_boolean(varies));
		json_object_object_add(j, "port_preserved",
		    json_object_new_boolean(ntohs(o->nat.reflexive[0].sin6_port) == o->port));
		json_object_object_add(j, "behind_nat", json_object_new_boolean(
		    ntohs(o->nat.reflexive[0].sin6_port) != o->port || !ovctl_is_local_addr(&o->nat.reflexive[0])));
	}
	return j;
}

void overlay_netcheck(struct overlay *o, struct ctl_req *req)
{
	ctl_reply_ok(req, ovctl_netcheck_json(o));
}

void overlay_peers(struct overlay *o, struct ctl_req *req)
{
	json_object *r = json_object_new_object(), *arr = json_object_new_array();
	uint64_t now = now_ms();

	for (struct peer *p = peer_first(o->peers); p; p = p->next) {
		json_object *j = ovctl_peer_json(p), *eps = json_object_new_array();
		char ep[UDP_ADDR_STRLEN];

		if (p->have_ep) {
			ep_format(&p->ep, ep, sizeof(ep));
			json_object_object_add(j, "endpoint", json_object_new_string(ep));
		} else {
			json_object_object_add(j, "endpoint", NULL);
		}
		for (int i = 0; i < p->n_eps; i++) {
			udp_addr_format(&p->eps[i], ep, sizeof(ep));
			json_object_array_add(eps, json_object_new_string(ep));
		}
		json_object_object_add(j, "candidates", eps);
		json_object_object_add(j, "path", json_object_new_string(!p->cur || !p->have_ep ? "none" :
		    p->ep.relay ? "relay" : "direct"));
		json_object_object_add(j, "peer_nat", ovctl_nat_json(p->nat));
		if (p->t.spray_until_ms || p->have_bday_ep) {
			json_object *b = json_object_new_object();
			json_object_object_add(b, "role", json_object_new_string(p->t.spray_until_ms ?
			    "prober" : "mapper"));
			json_object_object_add(b, "probes_sent", json_object_new_int(p->spray_sent));
			json_object_object_add(b, "sockets", json_object_new_int(o->paths.n_bday));
			json_object_object_add(b, "hit", json_object_new_boolean(p->bday_hit));
			json_object_object_add(j, "birthday", b);
		}
		json_object_object_add(j, "session", json_object_new_boolean(p->cur != NULL));
		json_object_object_add(j, "handshake_age", p->t.hs_done_ms ?
		    json_object_new_int64((int64_t)((now - p->t.hs_done_ms) / 1000)) : NULL);
		json_object_object_add(j, "rx_bytes", json_object_new_int64((int64_t)p->rx_bytes));
		json_object_object_add(j, "tx_bytes", json_object_new_int64((int64_t)p->tx_bytes));
		json_object_object_add(j, "rx_packets", json_object_new_int64((int64_t)p->rx_packets));
		json_object_object_add(j, "tx_packets", json_object_new_int64((int64_t)p->tx_packets));
		json_object_array_add(arr, j);
	}
	json_object_object_add(r, "peers", arr);
	json_object_object_add(r, "nat", ovctl_netcheck_json(o));
	ctl_reply_ok(req, r);
}

void overlay_status(struct overlay *o, json_object *obj)
{
	json_object_object_add(obj, "up", json_object_new_boolean(1));
	json_object_object_add(obj, "port", json_object_new_int(o->port));
	json_object_object_add(obj, "interface", json_object_new_string(o->ifname));
	json_object_object_add(obj, "authority_link", json_object_new_string(authlink_state(o->link)));
	json_object_object_add(obj, "drops_auth", json_object_new_int64((int64_t)o->drops_auth));
	json_object_object_add(obj, "drops_replay", json_object_new_int64((int64_t)o->drops_replay));
	json_object_object_add(obj, "drops_source", json_object_new_int64((int64_t)o->drops_source));
}
