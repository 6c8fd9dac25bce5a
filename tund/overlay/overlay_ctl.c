/*
 * Requests about the overlay from the control socket (q2qctl resolve,
 * whois, ping, peers, status, netcheck, and up's wait for the
 * registration), answered with plain snapshots (overlay.h); the control
 * protocol makes JSON of them. A request that needs the network becomes a
 * waiter, settled by a lookup answer, a session, a pong or the
 * authority's REGISTERED, or ended at its deadline by the overlay's timer.
 *
 * Inside a session, a plaintext whose first nibble is not an IP version is
 * a q2q message: 0x01 ping, 0x02 pong (q2qctl ping), empty = keepalive.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "netstack/aead.h"
#include "routing/table.h"
#include "tund/node/authlink.h"
#include "tund/overlay/attempt.h"
#include "tund/overlay/datapath.h"
#include "tund/overlay/foreign.h"
#include "tund/overlay/overlay.h"
#include "tund/overlay/overlay_ctl.h"
#include "tund/overlay/overlay_int.h"
#include "tund/overlay/pmtu.h"
#include "tund/policy/fw.h"
#include "tund/link/proto.h"

#define PING_WAIT_MS		3000

enum { MSG_PING_REQ = 0x01, MSG_PING_REP = 0x02 };

_Static_assert(OVERLAY_MAX_CANDIDATES >= PEER_MAX_EPS, "a snapshot holds every candidate");

/* A request waiting for a lookup, a session, a pong or the registration. */
struct ovctl_waiter {
	struct ovctl_waiter *next;
	struct overlay *o;
	int kind;			/* W_RESOLVE, W_PING, W_REGISTER */
	overlay_peer_fn *peer_fn;	/* W_RESOLVE */
	overlay_ping_fn *ping_fn;	/* W_PING */
	overlay_reg_fn *reg_fn;		/* W_REGISTER */
	void *arg;
	char identity[ID_NAME_MAX + 1];
	uint64_t deadline;
	uint64_t ping_id;
	uint64_t sent_ns;
	int sent;
};
enum { W_RESOLVE = 1, W_PING, W_REGISTER };

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------ snapshots */

static int ovctl_is_local_addr(const struct sockaddr_in6 *sa);

static void ovctl_peer_info(struct overlay *o, const struct peer *p, uint64_t now,
    struct overlay_peer_info *out)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->identity, sizeof(out->identity), "%s", p->identity);
	out->have_cert = p->have_cert;
	if (p->have_cert) {
		const uint8_t *v4 = foreign_route_v4(o, p);

		out->ci = p->ci;
		/* What applications here see (foreign.h), not what the
		 * other domain's CA wrote. */
		out->no_v4 = v4 == NULL;
		if (v4)
			memcpy(out->ci.v4, v4, 4);
		else
			out->ci.has_v4 = 0;
		out->translated = p->has_local_v4;
		memcpy(out->cert_v4, p->ci.v4, 4);
	}
	out->have_endpoint = p->have_ep;
	if (p->have_ep)
		ep_format(&p->ep, out->endpoint, sizeof(out->endpoint));
	out->n_candidates = p->n_eps;
	for (int i = 0; i < p->n_eps; i++)
		udp_addr_format(&p->eps[i], out->candidates[i], sizeof(out->candidates[i]));
	out->path = !p->cur || !p->have_ep ? OVERLAY_PATH_NONE :
	    p->ep.relay ? OVERLAY_PATH_RELAY : OVERLAY_PATH_DIRECT;
	if (p->have_ep && p->ep.relay && overlay_link_domain(o, p->ep.via))
		snprintf(out->relay_authority, sizeof(out->relay_authority), "%s",
		    overlay_link_domain(o, p->ep.via));
	/* Not when that address is our own: two nodes on one host. */
	out->hairpin = out->path == OVERLAY_PATH_DIRECT && paths_shares_public_address(&o->nat, &p->ep.sa) &&
	    !ovctl_is_local_addr(&p->ep.sa);
	out->nat_known = !!(p->nat & NAT_KNOWN);
	out->nat_varies = !!(p->nat & NAT_VARIES);
	out->nat_preserves = !!(p->nat & NAT_PRESERVES);
	out->birthday = p->t.spray_until_ms || p->have_bday_ep;
	out->bday_prober = p->t.spray_until_ms != 0;
	out->bday_probes_sent = p->spray_sent;
	out->bday_sockets = o->paths.n_bday;
	out->bday_hit = p->bday_hit;
	out->session = p->cur != NULL;
	out->cipher = p->cur ? aead_cipher_name(aead_cipher_of(p->cur->send_aead)) : NULL;
	out->path_mtu = pmtu_path_mtu(p);
	out->mtu = p->cur && p->have_ep ? (int)pmtu_inner_max(o, p) : 0;
	out->have_handshake = p->t.hs_done_ms != 0;
	if (p->t.hs_done_ms)
		out->handshake_age_s = (int64_t)((now - p->t.hs_done_ms) / 1000);
	out->rx_bytes = p->rx_bytes;
	out->tx_bytes = p->tx_bytes;
	out->rx_packets = p->rx_packets;
	out->tx_packets = p->tx_packets;
	out->relay_rx_bytes = p->relay_rx_bytes;
	out->relay_tx_bytes = p->relay_tx_bytes;
	out->policy_denied = p->fw_denied;
}

int overlay_peers_info(struct overlay *o, struct overlay_peer_info **out, int *n)
{
	uint64_t now = now_ms();
	int count = 0, i = 0;

	for (struct peer *p = peer_first(o->peers); p; p = p->next)
		count++;
	*out = calloc((size_t)(count ? count : 1), sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (struct peer *p = peer_first(o->peers); p; p = p->next)
		ovctl_peer_info(o, p, now, &(*out)[i++]);
	*n = count;
	return 0;
}

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

/* What we learned of our own NAT from the authority's two UDP ports: the
 * same mapping for both means endpoint-independent mapping. */
void overlay_nat_info(struct overlay *o, struct overlay_nat_info *out)
{
	const struct paths_nat *nat = &o->nat;

	memset(out, 0, sizeof(*out));
	out->local_port = o->port;
	for (int k = 0; k < 2; k++) {
		out->have_reflexive[k] = nat->have_reflexive[k];
		if (nat->have_reflexive[k])
			udp_addr_format(&nat->reflexive[k], out->reflexive[k], sizeof(out->reflexive[k]));
	}
	if (nat->have_reflexive[0] && nat->have_reflexive[1]) {
		out->mapping_varies = !udp_addr_equal(&nat->reflexive[0], &nat->reflexive[1]);
		out->port_preserved = ntohs(nat->reflexive[0].sin6_port) == o->port;
		out->behind_nat = ntohs(nat->reflexive[0].sin6_port) != o->port ||
		    !ovctl_is_local_addr(&nat->reflexive[0]);
	}
	portmap_info(o->portmap, &out->portmap);
}

void overlay_status_info(struct overlay *o, struct overlay_status_info *out)
{
	memset(out, 0, sizeof(*out));
	out->port = o->port;
	snprintf(out->ifname, sizeof(out->ifname), "%s", o->ifname);
	out->authority_link = authlink_state(o->link);
	out->drops_auth = o->drops_auth;
	out->drops_replay = o->drops_replay;
	out->drops_source = o->drops_source;
	out->drops_noroute = o->drops_noroute;
	out->drops_session = o->drops_session;
	out->drops_expired = o->drops_expired;
	out->drops_policy = o->fw ? o->fw->denied : 0;
	out->hs_done = o->hs_done;
	memcpy(out->hs_failed, o->hs_failed, sizeof(out->hs_failed));
	out->gso_split = o->io.tx ? o->io.tx->gso_split : 0;
	out->udp_rests = o->rest.rests;
	routes_exit_info(o, &out->exit);
	out->workers = workers_count(o->io.workers);
	for (int i = 0; i < out->workers; i++)
		out->worker_packets[i] = workers_items(o->io.workers, i);
	overlay_links_info(o, out);
}

/* ------------------------------------------------------- waiters */

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

/* Answers w with a failure and frees it. */
static void ovctl_fail(struct overlay *o, struct ovctl_waiter *w, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void ovctl_fail(struct overlay *o, struct ovctl_waiter *w, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (w->kind == W_RESOLVE)
		w->peer_fn(w->arg, OVERLAY_EFAIL, msg, NULL);
	else if (w->kind == W_PING)
		w->ping_fn(w->arg, OVERLAY_EFAIL, msg, NULL);
	else
		w->reg_fn(w->arg, OVERLAY_REG_GONE, msg);
	ovctl_waiter_free(o, w);
}

/* Ends every wait for the registration with r. */
static void ovctl_registration_end(struct overlay *o, enum overlay_reg r, const char *why)
{
	struct ovctl_waiter *w, *next;

	for (w = o->waiters; w; w = next) {
		next = w->next;
		if (w->kind != W_REGISTER)
			continue;
		w->reg_fn(w->arg, r, why);
		ovctl_waiter_free(o, w);
	}
}

void ovctl_registration(struct overlay *o, int registered, const char *why)
{
	ovctl_registration_end(o, registered ? OVERLAY_REG_DONE : OVERLAY_REG_NOT_YET,
	    registered ? NULL : why);
}

static void ovctl_reply_ping(struct overlay *o, struct ovctl_waiter *w, double rtt_ms)
{
	struct peer *p = peer_find(o->peers, w->identity);
	struct overlay_ping_info pi;

	memset(&pi, 0, sizeof(pi));
	snprintf(pi.identity, sizeof(pi.identity), "%s", w->identity);
	pi.rtt_ms = rtt_ms;
	pi.path = p && p->have_ep && p->ep.relay ? OVERLAY_PATH_RELAY : OVERLAY_PATH_DIRECT;
	if (p && p->have_ep)
		ep_format(&p->ep, pi.endpoint, sizeof(pi.endpoint));
	w->ping_fn(w->arg, 0, NULL, &pi);
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
		if (!w->deadline || now < w->deadline)
			continue;
		if (w->kind == W_REGISTER) {
			w->reg_fn(w->arg, OVERLAY_REG_NOT_YET, "no answer from the authority yet");
			ovctl_waiter_free(o, w);
		} else {
			ovctl_fail(o, w, "no reply from %s within %d s", w->identity, PING_WAIT_MS / 1000);
		}
	}
}

void ovctl_cancel_all(struct overlay *o)
{
	while (o->waiters)
		ovctl_fail(o, o->waiters, "the overlay went down");
}

static void ovctl_name_lookup_done(void *arg, int err, const char *msg, const struct authlink_peer *pe)
{
	struct ovctl_waiter *w = arg;
	struct overlay *o = w->o;
	struct peer *p = NULL;
	char e[256];

	if (err == 0)
		p = overlay_peer_from_lookup(o, pe, e, sizeof(e));
	else
		snprintf(e, sizeof(e), "%s", msg ? msg : "lookup failed");
	if (!p) {
		ovctl_fail(o, w, "%s: %s", w->identity, e);
		return;
	}
	if (w->kind == W_RESOLVE) {
		struct overlay_peer_info pi;

		ovctl_peer_info(o, p, now_ms(), &pi);
		w->peer_fn(w->arg, 0, NULL, &pi);
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

/* A new waiter of kind for arg, in the list; NULL without memory. */
static struct ovctl_waiter *ovctl_waiter_add(struct overlay *o, int kind, void *arg)
{
	struct ovctl_waiter *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->o = o;
	w->kind = kind;
	w->arg = arg;
	w->next = o->waiters;
	o->waiters = w;
	return w;
}

/* A new waiter about identity; NULL (and the request answered) without memory. */
static struct ovctl_waiter *ovctl_waiter_new(struct overlay *o, int kind, const char *identity,
    overlay_peer_fn *peer_fn, overlay_ping_fn *ping_fn, void *arg)
{
	struct ovctl_waiter *w = ovctl_waiter_add(o, kind, arg);

	if (!w) {
		if (peer_fn)
			peer_fn(arg, OVERLAY_EFAIL, "out of memory", NULL);
		else
			ping_fn(arg, OVERLAY_EFAIL, "out of memory", NULL);
		return NULL;
	}
	w->peer_fn = peer_fn;
	w->ping_fn = ping_fn;
	snprintf(w->identity, sizeof(w->identity), "%s", identity);
	return w;
}

/* 0, or an OVERLAY_E* code with the reason in err. */
static int ovctl_check_name(struct overlay *o, const char *identity, char *err, size_t errlen)
{
	struct id_name n;
	char why[256];

	if (id_parse_user(identity, &n, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s", why);
		return OVERLAY_EUSAGE;
	}
	if (strcmp(identity, o->identity) == 0) {
		snprintf(err, errlen, "%s is this node", identity);
		return OVERLAY_EFAIL;
	}
	return 0;
}

/* ------------------------------------------------------- requests */

void overlay_resolve(struct overlay *o, const char *identity, overlay_peer_fn *fn, void *arg)
{
	struct peer *p;
	struct ovctl_waiter *w;
	char err[512];
	int code;

	if ((code = ovctl_check_name(o, identity, err, sizeof(err))) != 0) {
		fn(arg, code, err, NULL);
		return;
	}
	p = peer_find(o->peers, identity);
	if (p && p->have_cert && p->n_eps) {
		struct overlay_peer_info pi;

		ovctl_peer_info(o, p, now_ms(), &pi);
		fn(arg, 0, NULL, &pi);
		return;
	}
	w = ovctl_waiter_new(o, W_RESOLVE, identity, fn, NULL, arg);
	if (w && overlay_lookup(o, identity, ovctl_name_lookup_done, w) == -ENOENT)
		ovctl_fail(o, w, "%s is unknown and no authority for its domain is "
		    "configured (a trust entry with authority = \"ip:port\")", identity);
}

void overlay_ping(struct overlay *o, const char *identity, overlay_ping_fn *fn, void *arg)
{
	struct peer *p;
	struct ovctl_waiter *w;
	char err[512];
	int code;

	if ((code = ovctl_check_name(o, identity, err, sizeof(err))) != 0) {
		fn(arg, code, err, NULL);
		return;
	}
	w = ovctl_waiter_new(o, W_PING, identity, NULL, fn, arg);
	if (!w)
		return;
	w->deadline = now_ms() + PING_WAIT_MS;
	p = peer_find(o->peers, identity);
	if (p && p->cur && p->cur->can_send)
		ovctl_ping_send(o, w, p);
	else if (p && p->n_eps)
		attempt_initiate(o, p);
	else	/* without an authority for its domain, it waits in vain */
		overlay_lookup(o, identity, ovctl_name_lookup_done, w);
	overlay_arm(o);
}

void overlay_await_registration(struct overlay *o, overlay_reg_fn *fn, void *arg)
{
	struct ovctl_waiter *w;

	if (overlay_registered(o)) {
		fn(arg, OVERLAY_REG_DONE, NULL);
		return;
	}
	if (!o->link) {
		fn(arg, OVERLAY_REG_NOT_YET, "no link to the authority");
		return;
	}
	w = ovctl_waiter_add(o, W_REGISTER, arg);
	if (!w) {
		fn(arg, OVERLAY_REG_NOT_YET, "out of memory");
		return;
	}
	w->reg_fn = fn;
	w->deadline = now_ms() + OVERLAY_REG_WAIT_MS;
}

int overlay_whois(struct overlay *o, const char *addr, struct overlay_peer_info *pi, int *self,
    char *err, size_t errlen)
{
	uint8_t a[16];
	struct peer *p;
	int family = strchr(addr, ':') ? AF_INET6 : AF_INET;

	*self = 0;
	if (inet_pton(family, addr, a) != 1) {
		snprintf(err, errlen, "'%.64s' is not an IPv4 or IPv6 address", addr);
		return OVERLAY_EUSAGE;
	}
	if ((family == AF_INET && memcmp(a, o->v4, 4) == 0) || (family == AF_INET6 && memcmp(a, o->v6, 16) == 0)) {
		memset(pi, 0, sizeof(*pi));
		snprintf(pi->identity, sizeof(pi->identity), "%s", o->identity);
		*self = 1;
		return 0;
	}
	p = route_table_lookup(o->routes, family, a);
	if (!p) {
		memset(pi, 0, sizeof(*pi));
		if (foreign_identity_of(o, family, a, &pi->ci)) {
			snprintf(pi->identity, sizeof(pi->identity), "%s", pi->ci.identity);
			pi->remembered = 1;
			return 0;
		}
		snprintf(err, errlen, "no known peer has %s (try q2qctl resolve NAME first)", addr);
		return OVERLAY_EFAIL;
	}
	ovctl_peer_info(o, p, now_ms(), pi);
	return 0;
}
