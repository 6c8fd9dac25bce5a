/*
 * NAT traversal and path upkeep. Probes to the authority's two UDP ports
 * tell us our public address as each sees it; the same mapping for both
 * means endpoint-independent mapping. After the authority introduces two
 * nodes, both send PUNCH to each other's candidates so their packets cross
 * each other's NATs; when exactly one side's NAT maps each destination
 * anew, that side opens many birthday sockets and the other probes random
 * ports. On the relay, direct candidates are tried again now and then; a
 * direct path gone quiet falls back to the relay. A change of our local
 * addresses is noticed here; overlay.c re-registers us with the
 * authorities.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tund/base/log.h"
#include "tund/overlay/datapath.h"
#include "tund/overlay/overlay_int.h"
#include "tund/overlay/paths.h"
#include "tund/link/proto.h"

#define BDAY_BURST		20	/* birthday probes per pacing step (timers.c): 800/s */

/* ----------------------------------------------- authority probes */

/* One probe to each of an authority's two UDP ports, as node_id under
 * key; sent[k] gets the txid of the one port k got. */
static void paths_probe_pair(struct overlay *o, uint32_t node_id, const uint8_t *key,
    const struct sockaddr_in6 udp[2], uint64_t sent[2])
{
	uint8_t buf[AW_PROBE_LEN];

	for (int k = 0; k < 2; k++) {
		struct aw_probe pr = { .node_id = node_id, .txid = ++o->nat.probe_txid };

		if (aw_build_probe(&pr, key, buf, sizeof(buf)) > 0 &&
		    udp_send_one(o->io.udp_io.fd, &udp[k], buf, sizeof(buf)) == 0)
			sent[k] = pr.txid;
	}
}

/* Another domain's relay learns where we are from our probes of its port
 * P (the relay sends to what that port saw, through our NAT's mapping
 * towards it); our own NAT's behaviour is our own authority's to tell.
 * 1 once every such relay has answered. */
static int paths_probe_relays(struct overlay *o)
{
	int all = 1;

	for (int v = 1; v < PATHS_RELAYS; v++) {
		struct paths_relay *r = &o->nat.xr[v];

		if (!r->have_udp)
			continue;
		all &= r->answered;
		paths_probe_pair(o, r->node_id, r->udp_key, r->auth_udp, r->probe_sent_txid);
	}
	return all;
}

void paths_probe(struct overlay *o)
{
	int relays;

	paths_probe_pair(o, o->nat.node_id, o->nat.udp_key, o->nat.auth_udp, o->nat.probe_sent_txid);
	relays = paths_probe_relays(o);
	timers_probe_sent(&o->t, o->nat.have_reflexive[0] && o->nat.have_reflexive[1] && relays, now_ms());
}

/* The answer to a probe of another domain's relay: it knows where we are. */
static void paths_rx_relay_probe_reply(struct overlay *o, const uint8_t *b, size_t len,
    const struct sockaddr_in6 *sa)
{
	struct aw_probe pr;

	if (aw_parse_probe(AW_PROBE_REPLY, b, len, &pr) < 0)
		return;
	for (int v = 1; v < PATHS_RELAYS; v++) {
		struct paths_relay *r = &o->nat.xr[v];

		if (r->have_udp && pr.node_id == r->node_id && pr.txid == r->probe_sent_txid[0] &&
		    udp_addr_equal(sa, &r->auth_udp[0]) && aw_verify(b, len, r->udp_key) == 0)
			r->answered = 1;
	}
}

void paths_rx_probe_reply(struct overlay *o, const uint8_t *b, size_t len, const struct sockaddr_in6 *sa)
{
	struct aw_probe pr;

	if (!o->nat.have_udp || (!udp_addr_equal(sa, &o->nat.auth_udp[0]) &&
	    !udp_addr_equal(sa, &o->nat.auth_udp[1]))) {
		paths_rx_relay_probe_reply(o, b, len, sa);
		return;
	}
	if (aw_parse_probe(AW_PROBE_REPLY, b, len, &pr) < 0 || pr.node_id != o->nat.node_id ||
	    aw_verify(b, len, o->nat.udp_key) < 0)
		return;
	for (int k = 0; k < 2; k++) {
		if (pr.txid != o->nat.probe_sent_txid[k] || !udp_addr_equal(sa, &o->nat.auth_udp[k]))
			continue;
		struct sockaddr_in6 seen = { .sin6_family = AF_INET6, .sin6_port = htons(pr.port) };
		memcpy(&seen.sin6_addr, pr.addr, 16);
		if (!o->nat.have_reflexive[k] || !udp_addr_equal(&seen, &o->nat.reflexive[k])) {
			char a[UDP_ADDR_STRLEN];
			udp_addr_format(&seen, a, sizeof(a));
			log_info("netcheck: the authority's port %d sees us as %s", ntohs(o->nat.auth_udp[k].sin6_port), a);
		}
		o->nat.reflexive[k] = seen;
		o->nat.have_reflexive[k] = 1;
	}
	/* Peers introduced before we knew our mapping may hold it. */
	for (struct peer *p = peer_first(o->peers); p; p = p->next)
		paths_drop_own_mappings(&o->nat, p);
}

/* ---------------------------------------------------------- relays */

/* What the data path needs of relay via; 0, or -ENOENT while we are not
 * registered there. */
struct paths_relay_ref {
	uint32_t node_id;
	const uint8_t *key;
	const struct sockaddr_in6 *udp;
	struct replay *replay;
	uint64_t *ctr;
};

static int paths_relay_ref(struct paths_nat *nat, int via, struct paths_relay_ref *ref)
{
	struct paths_relay *r;

	if (via == 0) {
		if (!nat->have_udp)
			return -ENOENT;
		*ref = (struct paths_relay_ref){ nat->node_id, nat->udp_key, &nat->auth_udp[0],
		    &nat->relay_replay, &nat->relay_ctr };
		return 0;
	}
	if (via < 0 || via >= PATHS_RELAYS || !nat->xr[via].have_udp)
		return -ENOENT;
	r = &nat->xr[via];
	*ref = (struct paths_relay_ref){ r->node_id, r->udp_key, &r->auth_udp[0], &r->relay_replay,
	    &r->relay_ctr };
	return 0;
}

void paths_relay_up(struct overlay *o, int via, uint32_t node_id, const uint8_t key[AW_KEY_LEN],
    const struct sockaddr_in6 *auth)
{
	struct paths_relay *r;

	if (via <= 0 || via >= PATHS_RELAYS)
		return;
	r = &o->nat.xr[via];
	/* Its counters are per session there: a new id starts afresh. */
	if (!r->have_udp || r->node_id != node_id) {
		replay_init(&r->relay_replay);
		r->relay_ctr = 0;
	}
	r->node_id = node_id;
	memcpy(r->udp_key, key, AW_KEY_LEN);
	for (int k = 0; k < 2; k++) {
		r->auth_udp[k] = *auth;
		r->auth_udp[k].sin6_port = htons((uint16_t)(ntohs(auth->sin6_port) + 2 * k));
	}
	r->answered = 0;
	r->have_udp = 1;
	paths_probe_relays(o);
}

void paths_relay_gone(struct overlay *o, int via)
{
	if (via <= 0 || via >= PATHS_RELAYS)
		return;
	explicit_bzero(&o->nat.xr[via], sizeof(o->nat.xr[via]));
	for (struct peer *p = peer_first(o->peers); p; p = p->next) {
		if (p->relay_via == via)
			p->relay_id = 0;
		if (p->have_ep && p->ep.relay && p->ep.via == via)
			p->have_ep = 0;
	}
	peer_eps_changed();
}

const struct sockaddr_in6 *paths_relay_addr(const struct paths_nat *nat, int via)
{
	struct paths_relay_ref ref;

	/* The reference is read here, nothing through it is written. */
	return paths_relay_ref((struct paths_nat *)nat, via, &ref) == 0 ? ref.udp : NULL;
}

int paths_relay_seal(struct paths_nat *nat, int via, uint32_t target, uint8_t *buf, size_t len,
    size_t cap)
{
	struct paths_relay_ref ref;
	struct aw_relay r = { .target_id = target };

	if (paths_relay_ref(nat, via, &ref) < 0)
		return -ENOENT;
	r.sender_id = ref.node_id;
	r.counter = ++*ref.ctr;
	return aw_seal_relay(AW_RELAY, &r, len, ref.key, buf, cap);
}

/* Which relay sent it is told by its source: each relay's key is tried
 * only on datagrams from that relay's own address. */
int paths_relay_open(struct paths_nat *nat, const uint8_t *b, size_t len, const struct sockaddr_in6 *sa,
    struct ep *from)
{
	struct paths_relay_ref ref;
	struct aw_relay r;

	if (len == 0 || b[0] != AW_RELAYED || aw_parse_relay(b, len, &r) < 0 || r.sender_id == 0)
		return -EBADMSG;
	for (int via = 0; via < PATHS_RELAYS; via++) {
		if (paths_relay_ref(nat, via, &ref) < 0 || !udp_addr_equal(sa, ref.udp) ||
		    r.target_id != ref.node_id)
			continue;
		if (aw_verify(b, len, ref.key) < 0 || !replay_check(ref.replay, r.counter) ||
		    replay_update(ref.replay, r.counter) < 0)
			return -EBADMSG;
		memset(from, 0, sizeof(*from));
		from->relay = r.sender_id;
		from->via = via;
		return 0;
	}
	return -EBADMSG;
}

int paths_shares_public_address(const struct paths_nat *nat, const struct sockaddr_in6 *sa)
{
	for (int k = 0; k < 2; k++)
		if (nat->have_reflexive[k] && !udp_addr_equal(sa, &nat->reflexive[k]) &&
		    memcmp(&sa->sin6_addr, &nat->reflexive[k].sin6_addr, 16) == 0)
			return 1;
	return 0;
}

int paths_drop_own_mappings(const struct paths_nat *nat, struct peer *p)
{
	int kept = 0, n = p->n_eps;

	for (int i = 0; i < n; i++) {
		int own = 0;
		for (int k = 0; k < 2; k++)
			own |= nat->have_reflexive[k] && udp_addr_equal(&p->eps[i], &nat->reflexive[k]);
		if (!own)
			p->eps[kept++] = p->eps[i];
	}
	p->n_eps = kept;
	if (kept != n)
		peer_eps_changed();
	return n - kept;
}

/* ------------------------------------------------------- punching */

int paths_punch_keys(struct peer *p, const char *self, const uint8_t *token)
{
	int rc;

	p->have_token = 0;
	if ((rc = aw_punch_key(token, self, p->identity, p->punch_tx_key)) < 0 ||
	    (rc = aw_punch_key(token, p->identity, self, p->punch_rx_key)) < 0)
		return rc;
	/* A new introduction: the old one's PUNCHes no longer authenticate,
	 * so its counters need not be remembered. */
	p->punch_tx = 0;
	replay_init(&p->punch_rx);
	p->have_token = 1;
	return 0;
}

int paths_punch_build(struct peer *p, int type, uint8_t *buf, size_t cap)
{
	if (!p->have_token || p->punch_tx == UINT32_MAX)
		return -ENOKEY;
	return aw_build_punch(type, ++p->punch_tx, p->punch_tx_key, buf, cap);
}

struct peer *paths_punch_open(struct peer_table *t, const uint8_t *b, size_t len)
{
	uint32_t ctr;

	if (aw_parse_punch(b, len, &ctr) < 0 || ctr == 0)
		return NULL;
	for (struct peer *p = peer_first(t); p; p = p->next) {
		if (!p->have_token || aw_verify(b, len, p->punch_rx_key) != 0)
			continue;
		/* Authentic: taken once, whatever source it comes from. */
		return replay_update(&p->punch_rx, ctr) == 0 ? p : NULL;
	}
	return NULL;
}

/* Each datagram its own counter: the receiver takes each once. */
static void paths_send_punches(struct overlay *o, struct peer *p)
{
	uint8_t buf[AW_PUNCH_LEN];

	for (int i = 0; i < p->n_eps; i++)
		if (paths_punch_build(p, AW_PUNCH, buf, sizeof(buf)) > 0)
			udp_send_one(o->io.udp_io.fd, &p->eps[i], buf, sizeof(buf));
}

/* PUNCH opens NAT mappings. Its mac (keys from the broker's token) proves
 * the sender is the peer the authority introduced, and its counter that
 * it was not taken before, so answering it and trying where it came from
 * as a candidate neither reflects nor lets a captured one plant spoofed
 * addresses. */
void paths_rx_punch(struct overlay *o, const uint8_t *b, size_t len, const struct ep *from)
{
	uint8_t out[AW_PUNCH_LEN];
	struct peer *p = paths_punch_open(o->peers, b, len);

	if (!p)
		return;
	if (b[0] == AW_PUNCH) {
		int fd = from->sock ? o->paths.bday[from->sock].io.fd : o->io.udp_io.fd;

		if (from->sock) {
			/* A probe found one of our birthday mappings. */
			if (!p->have_bday_ep)
				log_info("peer %s: birthday probe reached our port (socket %d)", p->identity, from->sock);
			p->bday_ep = *from;
			p->have_bday_ep = 1;
			p->bday_hit = 1;
		} else {
			peer_merge_eps(p, &from->sa, 1);
		}
		if (paths_punch_build(p, AW_PUNCH_ACK, out, sizeof(out)) > 0)
			udp_send_one(fd, &from->sa, out, sizeof(out));
	} else {
		if (p->t.spray_until_ms && !p->bday_hit) {
			char a[UDP_ADDR_STRLEN];
			udp_addr_format(&from->sa, a, sizeof(a));
			log_info("peer %s: birthday probe hit %s after %d probes", p->identity, a, p->spray_sent);
		}
		if (p->t.spray_until_ms)
			p->bday_hit = 1;
		peer_merge_eps(p, &from->sa, 1);
	}
	if (p->init && p->init->stage == AT_HELLO)
		timers_hello_now(p->init);	/* this path works: say HELLO now */
}

/* ----------------------------------------------- birthday sockets */

static int paths_we_are_hard(const struct overlay *o)
{
	return o->nat.have_reflexive[0] && o->nat.have_reflexive[1] &&
	    !udp_addr_equal(&o->nat.reflexive[0], &o->nat.reflexive[1]);
}

void paths_rx_bday(struct paths_bday_sock *bs)
{
	struct overlay *o = bs->o;

	for (int i = 0; i < 16; i++) {
		struct sockaddr_in6 sa;
		socklen_t sl = sizeof(sa);
		ssize_t n = recvfrom(bs->io.fd, o->io.one_buf, sizeof(o->io.one_buf), 0, (struct sockaddr *)&sa, &sl);
		struct ep from = { .sock = bs->idx };

		if (n <= 0)
			break;
		if (udp_addr_from_sockaddr((struct sockaddr *)&sa, sl, &from.sa) < 0)
			continue;
		datapath_rx(o, o->io.one_buf, (size_t)n, &from);
	}
	datapath_flush(o);
}

void paths_bday_close(struct overlay *o, int keep_used)
{
	int used[PATHS_BDAY_SOCKETS + 1] = { 0 };

	for (struct peer *p = peer_first(o->peers); p; p = p->next) {
		if (p->have_ep && !p->ep.relay && p->ep.sock)
			used[p->ep.sock] = keep_used;
		if (!keep_used || !p->have_ep || p->ep.sock != p->bday_ep.sock)
			p->have_bday_ep = 0;
	}
	for (int i = 1; i <= o->paths.n_bday; i++) {
		if (used[i] || o->paths.bday[i].io.fd < 0)
			continue;
		loop_del(o->loop, &o->paths.bday[i].io);
		close(o->paths.bday[i].io.fd);
		o->paths.bday[i].io.fd = -1;
	}
	timers_bday_closed(&o->t);
}

/* We are behind an endpoint-dependent NAT: open many mappings towards the
 * peer's public address, one per socket, for its probes to find. */
static void paths_bday_open(struct overlay *o, struct peer *p)
{
	uint8_t buf[AW_PUNCH_LEN];
	int opened = 0;

	if (p->n_eps == 0 || !p->have_token)
		return;
	for (int i = 1; i <= PATHS_BDAY_SOCKETS; i++) {
		if (i > o->paths.n_bday || o->paths.bday[i].io.fd < 0) {
			int fd;
			if (udp_open(0, &fd) < 0)
				break;
			o->paths.bday[i].io.fd = fd;
			o->paths.bday[i].io.fn = o->paths.bday_io_fn;
			o->paths.bday[i].o = o;
			o->paths.bday[i].idx = i;
			if (loop_add(o->loop, &o->paths.bday[i].io, EPOLLIN) < 0) {
				close(fd);
				o->paths.bday[i].io.fd = -1;
				break;
			}
			if (i > o->paths.n_bday)
				o->paths.n_bday = i;
			opened++;
		}
		if (paths_punch_build(p, AW_PUNCH, buf, sizeof(buf)) > 0)
			udp_send_one(o->paths.bday[i].io.fd, &p->eps[0], buf, sizeof(buf));
	}
	timers_bday_opened(&o->t, now_ms());
	log_info("peer %s: our NAT maps each destination anew; punching from %d birthday sockets "
	    "(%d newly opened)", p->identity, o->paths.n_bday, opened);
}

/* The peer is behind an endpoint-dependent NAT: probe random ports of its
 * public address, paced, until one of its birthday mappings answers. */
static void paths_bday_spray(struct overlay *o, struct peer *p)
{
	uint8_t buf[AW_PUNCH_LEN];
	uint16_t ports[BDAY_BURST];
	struct sockaddr_in6 to = p->eps[0];

	if (getrandom(ports, sizeof(ports), 0) != sizeof(ports))
		return;
	for (int i = 0; i < BDAY_BURST && p->spray_sent < TIMERS_SPRAY_PROBES &&
	    p->spray_total < TIMERS_SPRAY_PROBES * TIMERS_SPRAY_ROUNDS; i++) {
		to.sin6_port = htons((uint16_t)(1024 + ports[i] % (65536 - 1024)));
		if (paths_punch_build(p, AW_PUNCH, buf, sizeof(buf)) > 0)
			udp_send_one(o->io.udp_io.fd, &to, buf, sizeof(buf));
		p->spray_sent++;
		p->spray_total++;
	}
}

/* The authority introduced p (lookup answer or broker request). Where
 * exactly one side's NAT maps each destination anew, that side opens
 * birthday sockets and the other probes its ports. */
void paths_punch_start(struct overlay *o, struct peer *p)
{
	/* Open our NAT towards the peer's candidates while it says HELLO. */
	timers_punch_start(p, now_ms());
	if (o->cfg->nat_birthday && p->n_eps && !(p->cur && p->have_ep && !p->ep.relay)) {
		int we_hard = paths_we_are_hard(o), they_hard = !!(p->nat & NAT_VARIES);

		if (we_hard && !they_hard)
			paths_bday_open(o, p);
		else if (they_hard && !we_hard && p->spray_total < TIMERS_SPRAY_PROBES * TIMERS_SPRAY_ROUNDS) {
			/* The hard side opens its mappings when its own answer from
			 * the authority arrives, which may be a little after ours:
			 * probes sent before would find nothing. */
			p->spray_sent = 0;
			p->bday_hit = 0;
			timers_spray_start(p, now_ms());
		}
	}
}

/* ------------------------------------------------------- roaming */

int paths_roam_due(const struct peer *p, const struct ep *from)
{
	if (ep_equal(&p->ep, from))
		return 0;
	return !from->relay || !p->have_ep || p->ep.relay ||
	    p->t.last_rx_ms - p->t.last_rx_direct_ms > 2000;
}

void paths_roam(struct peer *p, const struct ep *from, uint64_t now)
{
	if (p->have_ep && p->ep.relay && !from->relay) {
		peer_merge_eps(p, &from->sa, 1);
		timers_reintro_reset(p);
	}
	p->ep = *from;
	p->have_ep = 1;
	peer_eps_changed();
	if (from->relay)
		timers_relay_entered(p, now);
}

/* ---------------------------------------------------- path upkeep */

/* Path upkeep for one peer: punching after a broker introduction, trying
 * direct candidates again while on the relay (both sides do, so their
 * packets cross each other's NATs), and falling back to the relay when the
 * direct path has gone quiet. A new introduction is the caller's to ask
 * for: it holds the authority links. */
enum paths_want paths_tick_peer(struct overlay *o, struct peer *p, uint64_t now)
{
	struct timers_cfg tc = timers_cfg_of(o->cfg);
	enum paths_want want = PATHS_WANT_NOTHING;

	if (timers_punch_due(p, now)) {
		paths_send_punches(o, p);
		timers_punch_sent(p, now);
	}
	if (timers_spray_due(p, now))
		paths_bday_spray(o, p);
	if (!p->cur || !p->cur->can_send || !p->have_ep)
		return want;
	/* Still on the relay a while after an introduction: ask the authority
	 * to introduce us again. The first time, one side's NAT behaviour may
	 * not have been known yet, so no birthday round ran; a new round stays
	 * within the same probe budget. */
	if (timers_reintro_due(p, now))
		want = PATHS_WANT_REINTRO;
	if (timers_direct_probe_due(p, now)) {
		struct ep saved = p->ep;

		for (int i = -1; i < p->n_eps; i++) {
			if (i < 0 && !p->have_bday_ep)
				continue;
			if (i < 0) {
				p->ep = p->bday_ep;
			} else {
				p->ep.relay = 0;
				p->ep.sock = 0;
				p->ep.sa = p->eps[i];
			}
			datapath_seal(o, p, NULL, 0);	/* an authenticated keepalive, direct */
		}
		p->ep = saved;
		if (p->have_token)
			paths_send_punches(o, p);
		timers_direct_probe_sent(p, now);
	}
	if (timers_direct_dead(&tc, p, paths_relay_addr(&o->nat, p->relay_via) != NULL, now)) {
		log_info("peer %s: direct path silent for %d s, switching to the relay", p->identity,
		    TIMERS_DIRECT_DEAD_MS / 1000);
		p->ep.relay = p->relay_id;
		p->ep.via = p->relay_via;
		peer_eps_changed();
		timers_relay_fallback(p, now);
	}
	return want;
}

/* ------------------------------------------------------ the timer */

void paths_tick(struct overlay *o, uint64_t now)
{
	if (timers_bday_close_due(&o->t, now))
		paths_bday_close(o, 1);
	if (timers_probe_due(&o->t, o->nat.have_udp, now))
		paths_probe(o);
}

/* ------------------------------------------------ address changes */

/* FNV-1a over our interfaces' addresses, the overlay's own excluded. */
static uint64_t paths_addr_hash(struct overlay *o)
{
	struct ifaddrs *ifa, *i;
	uint64_t h = 1469598103934665603ull;

	if (getifaddrs(&ifa) < 0)
		return 0;
	for (i = ifa; i; i = i->ifa_next) {
		const uint8_t *a;
		size_t n;

		if (!i->ifa_addr || strcmp(i->ifa_name, o->ifname) == 0)
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			a = (const uint8_t *)&((struct sockaddr_in *)i->ifa_addr)->sin_addr;
			n = 4;
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			a = (const uint8_t *)&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
			n = 16;
		} else {
			continue;
		}
		for (size_t k = 0; k < n; k++)
			h = (h ^ a[k]) * 1099511628211ull;
	}
	freeifaddrs(ifa);
	return h;
}

/* A moved node (new address, new network) must tell the authority and
 * learn its new public address; peers follow by themselves, since they
 * accept our next authenticated packet from wherever it comes. */
int paths_addresses_changed(struct overlay *o, uint64_t now)
{
	uint64_t h = paths_addr_hash(o);
	int changed = o->paths.addr_hash && h != o->paths.addr_hash;

	timers_addr_checked(&o->t, now);
	o->paths.addr_hash = h;
	return changed;
}
