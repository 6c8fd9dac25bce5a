/*
 * The data plane and the handshakes around it.
 *
 * Packets from q2q0 are read in batches, routed by longest-prefix match to
 * a peer, sealed with the peer's current session key and sent with one
 * sendmmsg. Datagrams from the UDP port are received in batches; DATA is
 * opened, checked against the replay window and against the addresses the
 * sender's certificate binds, and written to q2q0.
 *
 * Handshakes (wire.h): the initiator sends HELLO to every candidate
 * endpoint; the first COOKIE names the endpoint and proves the responder
 * holds state for nobody yet. TLS 1.3 then runs in HS segments
 * (netstack/handshake.c); its exporter gives the session keys. The
 * responder installs its session when TLS completes; the initiator waits
 * until its last flight is acknowledged, so its first DATA never reaches a
 * responder that has no keys yet. Sessions are replaced on WireGuard's
 * timers: a new handshake after 120 s, keys refused after 180 s.
 *
 * Inside a session, a plaintext whose first nibble is not an IP version is
 * a q2q message: 0x01 ping, 0x02 pong (q2qctl ping), empty = keepalive.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "identity/addr.h"
#include "identity/cert.h"
#include "identity/name.h"
#include "identity/trust.h"
#include "netstack/aead.h"
#include "netstack/authwire.h"
#include "netstack/cookie.h"
#include "netstack/handshake.h"
#include "netstack/gro.h"
#include "netstack/tso.h"
#include "netstack/udp.h"
#include "netstack/wire.h"
#include "routing/icmp.h"
#include "routing/netlink.h"
#include "routing/table.h"
#include "tund/authlink.h"
#include "tund/config.h"
#include "tund/control.h"
#include "tund/log.h"
#include "tund/loop.h"
#include "tund/node.h"
#include "tund/overlay.h"
#include "tund/peer.h"
#include "tund/proto.h"
#include "tund/tun.h"

/* WireGuard's timers: rekey after 120 s (config rekey_after, lower only for
 * tests), the responder 15 s later if the initiator did not, keys refused
 * 60 s after the rekey point. */
#define REKEY_AFTER_MS		((uint64_t)o->cfg->rekey_after * 1000)
#define REKEY_RESPONDER_MS	(REKEY_AFTER_MS + 15000)
#define REJECT_AFTER_MS		(REKEY_AFTER_MS + 60000)
#define REJECT_AFTER_MSGS	((uint64_t)1 << 60)
#define KEEPALIVE_MS		2000	/* answer received data within this, even with nothing to say */
/* Data out, nothing back: the peer lost our session (restarted). A live
 * peer answers within KEEPALIVE_MS even with nothing to say. */
#define UNANSWERED_MS		5000
#define HELLO_RETRY_MS		1000
#define ATTEMPT_GIVEUP_MS	10000
#define INIT_BACKOFF_MS		2000
#define TICK_MS			500
#define MAX_ATTEMPTS		256
#define TUN_BATCH		64	/* reads per wakeup */
#define SEG_STRIDE		2048	/* >= the largest MTU we carry */
#define RXQ_MAX			256	/* packets coalesced per TUN flush */
#define SEG_MAX			160	/* a 64 KB super-packet cut at an MSS down to ~400 */
#define OVERHEAD		(WIRE_DATA_HDR_LEN + AEAD_TAG_LEN)
#define NEGATIVE_MS		3000
#define PROBE_MS		25000	/* refresh the reflexive address */
#define PROBE_RETRY_MS		1000
#define RELAY_HELLO_AFTER_MS	1000	/* direct HELLOs first, then the relay too */
#define DIRECT_DEAD_MS		6000	/* nothing direct for this long: use the relay */
#define DIRECT_PROBE_FAST_MS	1000
#define DIRECT_PROBE_SLOW_MS	5000
#define PUNCH_MS		5000
#define PUNCH_EVERY_MS		200
/* Birthday probing: the hard side opens BDAY_SOCKETS mappings towards the
 * peer; the other side probes random ports of the hard side's address.
 * With 256 mappings among ~64k ports, 1000 probes hit with ~98% odds. */
#define BDAY_SOCKETS		256
#define BDAY_PROBES		1000
#define BDAY_BURST		50	/* probes per pacing step */
#define BDAY_STEP_MS		25
#define BDAY_SPRAY_MS		4000
#define BDAY_KEEP_MS		60000
#define LOOKUP_QUEUE		8

enum { MSG_PING_REQ = 0x01, MSG_PING_REP = 0x02 };

/* Packets for an overlay address nobody is known for yet. */
struct addr_wait {
	struct addr_wait *next;
	struct overlay *o;
	int family;
	uint8_t addr[16];
	uint64_t until;			/* negative: unreachable until then */
	int negative;
	int nq;
	struct queued *q[LOOKUP_QUEUE];
};

/* A control request waiting for a lookup, a session or a pong. */
struct waiter {
	struct waiter *next;
	struct overlay *o;
	struct ctl_req *req;
	int kind;			/* W_RESOLVE, W_PING, W_WHOIS */
	char identity[ID_NAME_MAX + 1];
	uint64_t deadline;
	uint64_t ping_id;
	uint64_t sent_ns;
	int sent;
};
enum { W_RESOLVE = 1, W_PING, W_WHOIS };

struct overlay {
	struct loop *loop;
	const struct config *cfg;
	struct node *node;
	struct loop_io tun_io;
	struct loop_io udp_io;
	struct loop_timer timer;
	char ifname[IFNAMSIZ];
	int ifindex;
	int port;
	int mtu;
	char identity[ID_NAME_MAX + 1];
	uint8_t v4[4], v6[16];
	struct hs_ctx *hs;
	struct peer_table *peers;
	struct route_table *routes;
	struct authlink *link;		/* our own authority (links[0]) */
	/* Links to authorities: ours first, then other domains' (trust
	 * entries with an authority address) for reaching their nodes. */
	struct ov_link {
		struct overlay *o;
		struct authlink *al;
		int own;
		char domain[ID_DOMAIN_MAX + 1];
	} links[CONFIG_MAX_TRUST + 1];
	int n_links;
	char domain[ID_DOMAIN_MAX + 1];
	struct cookie_jar jar;
	uint8_t mac1_key[COOKIE_KEY_LEN];
	struct udp_batch *rx, *tx;
	int ntx;
	uint32_t tx_relay[UDP_BATCH_MAX];	/* per send slot: relay target, 0 = direct */
	/* The authority's UDP service: our id and key there, what it saw. */
	int have_udp;
	uint32_t node_id;
	uint8_t udp_key[AW_KEY_LEN];
	struct sockaddr_in6 auth_udp[2];
	uint64_t probe_txid, probe_sent_txid[2];
	uint64_t next_probe_ms;
	int have_reflexive[2];
	struct sockaddr_in6 reflexive[2];
	struct replay relay_replay;
	uint64_t relay_ctr;
	/* Birthday sockets (index 1..n_bday; 0 is the data port). */
	struct bday_sock {
		struct loop_io io;
		struct overlay *o;
		int idx;
	} bday[BDAY_SOCKETS + 1];
	int n_bday;
	uint64_t bday_close_ms;
	int one_sock;			/* ov_tx_slot chose a birthday socket */
	struct sockaddr_in6 one_to;
	uint8_t one_buf[UDP_BUF_SIZE];
	uint64_t addr_hash;		/* of our local addresses, to notice moves */
	uint64_t next_addr_check_ms;
	int n_attempts;
	struct attempt *attempts[MAX_ATTEMPTS];
	struct addr_wait *waits;
	struct waiter *waiters;
	int pool_routed;
	int vnet;			/* TUN offload: virtio_net_hdr on reads and writes */
	int gso;			/* UDP GSO on sends (until the kernel refuses) */
	/* Decrypted packets of one receive round, coalesced for q2q0. */
	int rxq_on, nrxq;
	struct gro_pkt rxq[RXQ_MAX];
	struct gro_out rxout[RXQ_MAX];
	uint8_t *rxbuf;			/* RXQ_MAX * (vnet header + SEG_STRIDE) */
	struct udp_gro_batch *grx;	/* UDP GRO receive batch, NULL without GRO */
	uint8_t tunbuf[TSO_VNET_HDR_LEN + 65536];
	uint8_t segs[SEG_MAX][SEG_STRIDE];
	size_t seglen[SEG_MAX];
	uint64_t drops_auth, drops_replay, drops_source, drops_noroute;
};

static uint64_t now_ms(void) { return loop_now_ms(); }

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void ov_arm(struct overlay *o);
static void ov_probe(struct overlay *o);
static void ov_tun_packet(struct overlay *o, uint8_t *pkt, size_t n);
static void ov_check_addresses(struct overlay *o);
static int ov_policy_allows(struct overlay *o, const char *identity);
static void ov_start_initiation(struct overlay *o, struct peer *p);
static void ov_waiters_session(struct overlay *o, struct peer *p);

/* ---------------------------------------------------------------- sending */

static void ov_flush_tx(struct overlay *o)
{
	int done = 0;

	while (done < o->ntx) {
		int n = udp_send_batch_gso(o->udp_io.fd, o->tx, o->ntx, &o->gso);
		if (n <= 0)
			break;
		if (n < o->ntx) {
			/* Socket buffer full: keep order, retry the rest once. */
			memmove(&o->tx->len[0], &o->tx->len[n], sizeof(o->tx->len[0]) * (size_t)(o->ntx - n));
			memmove(&o->tx->peer[0], &o->tx->peer[n], sizeof(o->tx->peer[0]) * (size_t)(o->ntx - n));
			memmove(&o->tx->buf[0], &o->tx->buf[n], sizeof(o->tx->buf[0]) * (size_t)(o->ntx - n));
			o->ntx -= n;
			continue;
		}
		done = o->ntx;
	}
	o->ntx = 0;
}

/* Where the next datagram to `to` is written; NULL if `to` is the relay
 * and we have no relay. Relayed datagrams get their RELAY header on commit. */
static uint8_t *ov_tx_slot(struct overlay *o, const struct ep *to)
{
	if (to->relay && !o->have_udp)
		return NULL;
	if (!to->relay && to->sock) {
		/* Birthday sockets are few and rare: send those one by one. */
		if (to->sock > o->n_bday || o->bday[to->sock].io.fd < 0)
			return NULL;
		o->one_sock = to->sock;
		o->one_to = to->sa;
		return o->one_buf;
	}
	if (o->ntx == UDP_BATCH_MAX)
		ov_flush_tx(o);
	o->tx_relay[o->ntx] = to->relay;
	if (to->relay) {
		o->tx->peer[o->ntx] = o->auth_udp[0];
		return o->tx->buf[o->ntx] + AW_RELAY_HDR;
	}
	o->tx->peer[o->ntx] = to->sa;
	return o->tx->buf[o->ntx];
}

static void ov_tx_commit(struct overlay *o, size_t len)
{
	if (o->one_sock) {
		udp_send_one(o->bday[o->one_sock].io.fd, &o->one_to, o->one_buf, len);
		o->one_sock = 0;
		return;
	}
	if (o->tx_relay[o->ntx]) {
		struct aw_relay r = { .sender_id = o->node_id, .target_id = o->tx_relay[o->ntx],
		    .counter = ++o->relay_ctr };
		int n = aw_seal_relay(AW_RELAY, &r, len, o->udp_key, o->tx->buf[o->ntx], UDP_BUF_SIZE);
		if (n < 0)
			return;
		len = (size_t)n;
	}
	o->tx->len[o->ntx++] = len;
}

/* Seals one plaintext for p's current session into the send batch. */
static int ov_seal(struct overlay *o, struct peer *p, const uint8_t *pt, size_t len)
{
	struct session *s = p->cur && p->cur->can_send ? p->cur : p->prev;
	uint8_t *b;

	if (!s || !s->can_send || now_ms() - s->born_ms >= REJECT_AFTER_MS || !p->have_ep || s->send_ctr >= REJECT_AFTER_MSGS ||
	    len + OVERHEAD > UDP_BUF_SIZE)
		return -EAGAIN;
	b = ov_tx_slot(o, &p->ep);
	if (!b)
		return -EAGAIN;
	wire_build_data_header(s->remote_index, s->send_ctr, b, WIRE_DATA_HDR_LEN);
	if (aead_seal(s->send_key, s->send_ctr, b, WIRE_DATA_HDR_LEN, pt, len, b + WIRE_DATA_HDR_LEN) < 0)
		return -EIO;
	s->send_ctr++;
	ov_tx_commit(o, WIRE_DATA_HDR_LEN + len + AEAD_TAG_LEN);
	p->tx_bytes += len;
	p->tx_packets++;
	p->last_tx_ms = now_ms();
	if (len && !p->unanswered_ms)
		p->unanswered_ms = p->last_tx_ms;
	if (len && !p->ep.relay && !p->direct_unanswered_ms)
		p->direct_unanswered_ms = p->last_tx_ms;
	return 0;
}

/* Sends (or queues) one inner packet to p, starting a handshake if needed. */
static void ov_send_to_peer(struct overlay *o, struct peer *p, const uint8_t *pkt, size_t len)
{
	uint64_t now = now_ms();

	if (p->cur && ov_seal(o, p, pkt, len) == 0) {
		uint64_t age = now - p->cur->born_ms;
		if (!p->init && (age > (p->cur->initiator ? REKEY_AFTER_MS : REKEY_RESPONDER_MS) ||
		    p->cur->send_ctr > REJECT_AFTER_MSGS / 2))
			ov_start_initiation(o, p);
		return;
	}
	peer_queue(p, pkt, len);
	if (!p->init)
		ov_start_initiation(o, p);
}

static void ov_flush_queue(struct overlay *o, struct peer *p)
{
	int i, n = p->nq;

	for (i = 0; i < n; i++) {
		if (ov_seal(o, p, p->q[i]->data, p->q[i]->len) < 0)
			break;
	}
	for (int j = 0; j < i; j++)
		free(p->q[j]);
	memmove(&p->q[0], &p->q[i], sizeof(p->q[0]) * (size_t)(n - i));
	p->nq = n - i;
	ov_flush_tx(o);
}

static void ov_tun_write(struct overlay *o, const uint8_t *pkt, size_t len)
{
	uint8_t hdr[TSO_VNET_HDR_LEN];
	struct iovec iov[2] = { { hdr, sizeof(hdr) }, { (void *)pkt, len } };

	tso_hdr_none(hdr);
	if (writev(o->tun_io.fd, o->vnet ? iov : iov + 1, o->vnet ? 2 : 1) < 0 && errno != EAGAIN)
		log_debug("write to %s: %s", o->ifname, strerror(errno));
}

/* Writes the queued packets of this receive round to q2q0, TCP segments
 * of one flow merged into super-packets: one write for many packets. */
static void ov_rxq_flush(struct overlay *o)
{
	int n;

	if (!o->nrxq)
		return;
	n = gro_coalesce(o->rxq, o->nrxq, o->rxbuf, (size_t)RXQ_MAX * (GRO_VNET_HDR_LEN + SEG_STRIDE),
	    o->rxout, RXQ_MAX);
	for (int i = 0; i < n; i++)
		if (write(o->tun_io.fd, o->rxbuf + o->rxout[i].off, o->rxout[i].len) < 0 && errno != EAGAIN)
			log_debug("write to %s: %s", o->ifname, strerror(errno));
	if (n < 0)	/* cannot happen with these sizes; deliver one by one */
		for (int i = 0; i < o->nrxq; i++)
			ov_tun_write(o, o->rxq[i].data, o->rxq[i].len);
	o->nrxq = 0;
}

/* A decrypted packet for q2q0: queued while a receive round runs (its
 * bytes stay in the receive buffers until the round ends), else written. */
static void ov_tun_deliver(struct overlay *o, const uint8_t *pkt, size_t len)
{
	if (!o->rxq_on || !o->rxbuf || len > SEG_STRIDE) {
		ov_tun_write(o, pkt, len);
		return;
	}
	if (o->nrxq == RXQ_MAX)
		ov_rxq_flush(o);
	o->rxq[o->nrxq].data = pkt;
	o->rxq[o->nrxq].len = len;
	o->nrxq++;
}

static void ov_icmp_unreach(struct overlay *o, const uint8_t *pkt, size_t len)
{
	uint8_t out[ICMP_ERROR_MAX];
	int n = icmp_unreachable(pkt, len, out, sizeof(out));

	if (n > 0)
		ov_tun_write(o, out, (size_t)n);
}

/* ------------------------------------------------------------ peers & routes */

static int ov_family_len(int family) { return family == AF_INET ? 4 : 16; }

static void ov_peer_routes(struct overlay *o, struct peer *p)
{
	route_table_remove_peer(o->routes, p);
	if (!p->have_cert)
		return;
	route_table_insert(o->routes, AF_INET, p->ci.v4, 32, p);
	route_table_insert(o->routes, AF_INET6, p->ci.v6, 128, p);
	for (int i = 0; i < p->ci.n_routes; i++)
		route_table_insert(o->routes, p->ci.routes[i].family, p->ci.routes[i].addr,
		    p->ci.routes[i].plen, p);
}

/* Another live peer (or we) already holds ci's IPv4? Pools are per
 * domain, so two domains can hand out the same address; the first one
 * keeps it and the newcomer is refused, loudly. */
static int ov_v4_clash(struct overlay *o, const struct peer *p, const struct cert_info *ci,
    char *err, size_t errlen)
{
	char a[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, ci->v4, a, sizeof(a));
	if (memcmp(ci->v4, o->v4, 4) == 0) {
		snprintf(err, errlen, "%.100s's address %s is this node's own", ci->identity, a);
		return 1;
	}
	for (struct peer *q = peer_first(o->peers); q; q = q->next) {
		if (q != p && q->have_cert && memcmp(q->ci.v4, ci->v4, 4) == 0) {
			snprintf(err, errlen, "%.100s's address %s clashes with %.100s", ci->identity, a,
			    q->identity);
			return 1;
		}
	}
	return 0;
}

static void ov_peer_set_cert(struct overlay *o, struct peer *p, const struct cert_info *ci)
{
	if (p->have_cert && strcmp(p->ci.serial, ci->serial) != 0)
		log_info("peer %s: certificate %s replaces %s", p->identity, ci->serial, p->ci.serial);
	p->ci = *ci;
	p->have_cert = 1;
	ov_peer_routes(o, p);
}

/* Checks a certificate from the authority against our trust store. */
static int ov_check_cert(struct overlay *o, const uint8_t *der, size_t len, struct cert_info *ci,
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
	if (peer_revoked(o->peers, ci->serial)) {
		snprintf(err, errlen, "%.100s's certificate is revoked", ci->identity);
		return -EPERM;
	}
	return 0;
}

static void ov_peer_merge_eps(struct peer *p, const struct sockaddr_in6 *eps, int neps)
{
	for (int i = 0; i < neps; i++) {
		int dup = 0;
		for (int j = 0; j < p->n_eps; j++)
			dup |= udp_addr_equal(&p->eps[j], &eps[i]);
		if (!dup && p->n_eps < PEER_MAX_EPS)
			p->eps[p->n_eps++] = eps[i];
	}
}

/* --------------------------------------------------------------- attempts */

static void ov_attempt_free(struct overlay *o, struct attempt *a)
{
	for (int i = 0; i < o->n_attempts; i++) {
		if (o->attempts[i] == a) {
			o->attempts[i] = o->attempts[--o->n_attempts];
			break;
		}
	}
	if (a->peer && a->peer->init == a)
		a->peer->init = NULL;
	/* In AT_FLUSH the index is the session's now. */
	if (a->stage != AT_FLUSH)
		peer_index_del(o->peers, a->local_index);
	hs_free(a->hs);
	free(a);
}

static struct attempt *ov_attempt_new(struct overlay *o, int initiator)
{
	struct attempt *a;

	if (o->n_attempts >= MAX_ATTEMPTS)
		return NULL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->initiator = initiator;
	a->local_index = peer_new_index(o->peers);
	a->started_ms = now_ms();
	if (peer_index_add(o->peers, a->local_index, IDX_ATTEMPT, a) < 0) {
		free(a);
		return NULL;
	}
	o->attempts[o->n_attempts++] = a;
	return a;
}

static void ov_send_hellos(struct overlay *o, struct peer *p, struct attempt *a)
{
	struct wire_hello h;
	uint8_t key[COOKIE_KEY_LEN];

	memset(&h, 0, sizeof(h));
	h.sender_index = a->local_index;
	memcpy(h.nonce, a->nonce, sizeof(h.nonce));
	cookie_mac1_key(p->identity, key);
	for (int i = -1; i <= p->n_eps; i++) {
		struct ep to = { .sock = 0 };
		uint8_t *b;
		int n;

		if (i < 0) {
			/* The birthday socket the peer's probe reached, first. */
			if (!p->have_bday_ep)
				continue;
			to = p->bday_ep;
		} else if (i < p->n_eps) {
			to.sa = p->eps[i];
		} else {
			/* The relay too, once direct had its chance (or there is
			 * nothing direct to try). */
			if (!p->relay_id || (p->n_eps && now_ms() - a->started_ms < RELAY_HELLO_AFTER_MS))
				break;
			to.relay = p->relay_id;
		}
		b = ov_tx_slot(o, &to);
		if (!b || (n = wire_build_hello(&h, b, UDP_BUF_SIZE)) < 0)
			continue;
		cookie_mac1_stamp(key, b, WIRE_HELLO_MAC1_OFF);
		ov_tx_commit(o, (size_t)n);
	}
	ov_flush_tx(o);
	/* Faster at first: a punch needs both sides' packets to cross. */
	a->next_hello_ms = now_ms() + (now_ms() - a->started_ms < 3000 ? HELLO_RETRY_MS / 4 : HELLO_RETRY_MS);
}

static void ov_start_initiation(struct overlay *o, struct peer *p)
{
	struct attempt *a;

	if (p->init || now_ms() < p->next_init_ms)
		return;
	if (p->n_eps == 0 && !p->relay_id)
		return;		/* nowhere to send: a lookup will tell */
	a = ov_attempt_new(o, 1);
	if (!a)
		return;
	a->peer = p;
	a->stage = AT_HELLO;
	if (getrandom(a->nonce, sizeof(a->nonce), 0) != sizeof(a->nonce)) {
		ov_attempt_free(o, a);
		return;
	}
	p->init = a;
	log_debug("handshake with %s: sending HELLO to %d endpoint(s)", p->identity, p->n_eps);
	ov_send_hellos(o, p, a);
	ov_arm(o);
}

/* Sends whatever the handshake has to send. */
static void ov_pump(struct overlay *o, struct attempt *a)
{
	struct stream_seg seg;
	uint64_t now = now_ms();
	uint8_t mkey[COOKIE_KEY_LEN];
	int have_key = 0;

	while (hs_poll(a->hs, now, &seg) == 1) {
		struct wire_hs h;
		uint8_t *b = ov_tx_slot(o, &a->ep);
		int n;

		if (!b)
			continue;
		memset(&h, 0, sizeof(h));
		h.sender_index = a->local_index;
		h.receiver_index = a->remote_index;
		h.seq = seg.seq;
		h.ack = seg.ack;
		h.data = seg.data;
		h.data_len = seg.len;
		if (a->initiator && a->remote_index == 0)
			memcpy(h.cookie, a->cookie, sizeof(h.cookie));
		n = wire_build_hs(&h, b, UDP_BUF_SIZE);
		if (n < 0)
			continue;
		if (a->initiator && a->remote_index == 0) {
			if (!have_key)
				cookie_mac1_key(a->peer->identity, mkey);
			have_key = 1;
			cookie_mac1_stamp(mkey, b, WIRE_HS_MAC1_OFF);
		}
		ov_tx_commit(o, (size_t)n);
	}
	ov_flush_tx(o);
}

/* Session keys from a completed handshake; the session takes over the
 * attempt's local index, which the peer already uses to reach us. */
static struct session *ov_session_from(struct overlay *o, struct attempt *a, char *peer_id)
{
	struct session *s = calloc(1, sizeof(*s));
	size_t clen = 0;

	if (!s)
		return NULL;
	if (hs_result(a->hs, peer_id, NULL, &clen, s->send_key, s->recv_key) < 0) {
		free(s);
		return NULL;
	}
	s->local_index = a->local_index;
	s->remote_index = a->remote_index;
	s->initiator = a->initiator;
	s->born_ms = now_ms();
	replay_init(&s->replay);
	peer_index_del(o->peers, a->local_index);
	if (peer_index_add(o->peers, s->local_index, IDX_SESSION, s) < 0) {
		memset(s, 0, sizeof(*s));
		free(s);
		return NULL;
	}
	return s;
}

static void ov_session_ready(struct overlay *o, struct peer *p)
{
	ov_flush_queue(o, p);
	ov_waiters_session(o, p);
}

/* A handshake finished: both sides have accepted each other (the
 * responder's final "ok" record tells the initiator). Make the session. */
static void ov_attempt_done(struct overlay *o, struct attempt *a)
{
	char peer_id[ID_NAME_MAX + 1], ep[UDP_ADDR_STRLEN];
	struct cert_info ci;
	struct peer *p;
	struct session *s;

	if (hs_peer_info(a->hs, &ci) < 0) {
		ov_attempt_free(o, a);
		return;
	}
	if (peer_revoked(o->peers, ci.serial)) {
		log_warnx("handshake: refusing %s: its certificate %s is revoked", ci.identity, ci.serial);
		if (a->peer)
			a->peer->next_init_ms = now_ms() + INIT_BACKOFF_MS;
		ov_attempt_free(o, a);
		return;
	}
	if (!a->initiator && !ov_policy_allows(o, ci.identity)) {
		log_info("handshake: refusing %s (policy)", ci.identity);
		ov_attempt_free(o, a);
		return;
	}
	p = a->peer ? a->peer : peer_add(o->peers, ci.identity);
	if (p && ov_v4_clash(o, p, &ci, peer_id, sizeof(peer_id))) {
		log_warnx("handshake: refusing %s: %s", ci.identity, peer_id);
		ov_attempt_free(o, a);
		if (!p->have_cert && !p->cur && !p->init)
			peer_remove(o->peers, p);
		return;
	}
	s = p ? ov_session_from(o, a, peer_id) : NULL;
	if (!s) {
		ov_attempt_free(o, a);
		return;
	}
	a->stage = AT_FLUSH;
	a->done_ms = now_ms();
	if (p->init == a)
		p->init = NULL;
	a->peer = NULL;
	ov_peer_set_cert(o, p, &ci);
	p->ep = a->ep;
	p->have_ep = 1;
	if (a->ep.relay) {
		p->relay_since_ms = now_ms();
		p->next_direct_probe_ms = now_ms();
	} else {
		ov_peer_merge_eps(p, &a->ep.sa, 1);
		p->last_rx_direct_ms = now_ms();
	}
	p->hs_done_ms = now_ms();
	p->hs_done_wall = (int64_t)time(NULL);
	peer_session_install(o->peers, p, s);
	ep_format(&a->ep, ep, sizeof(ep));
	/* The initiator completes last, so the responder has its keys: send
	 * now. The responder waits until its last flight is acknowledged. */
	s->can_send = a->initiator;
	log_info("session with %s %s %s (%s)", p->identity, a->ep.relay ? "through the" : "at", ep,
	    a->initiator ? "initiator" : "responder");
	if (s->can_send)
		ov_session_ready(o, p);
}

static void ov_attempt_progress(struct overlay *o, struct attempt *a)
{
	const char *why = NULL;
	enum hs_state st;

	ov_pump(o, a);
	st = hs_state(a->hs, &why);
	if (st == HS_FAILED) {
		log_warnx("handshake with %s failed: %s", a->peer ? a->peer->identity : "a peer", why);
		if (a->peer)
			a->peer->next_init_ms = now_ms() + INIT_BACKOFF_MS;
		ov_attempt_free(o, a);
		return;
	}
	if (st == HS_DONE && a->stage == AT_TLS)
		ov_attempt_done(o, a);
	if (a->stage == AT_FLUSH && !a->initiator && hs_flushed(a->hs)) {
		int kind;
		struct session *s = peer_index_get(o->peers, a->local_index, &kind);

		if (s && kind == IDX_SESSION && !s->can_send) {
			s->can_send = 1;
			ov_session_ready(o, s->peer);
		}
	}
}

/* ------------------------------------------------------------ receiving */

/* The address a cookie is bound to: the sender's, or for the relay a
 * pseudo address naming the relayed node (the relay proves it is
 * registered; the cookie still proves it receives). */
static struct sockaddr_in6 ov_cookie_addr(const struct ep *e)
{
	struct sockaddr_in6 sa = e->sa;

	if (e->relay) {
		memset(&sa, 0, sizeof(sa));
		sa.sin6_family = AF_INET6;
		sa.sin6_addr.s6_addr[0] = 0xfe;
		sa.sin6_addr.s6_addr[1] = 0x80;
		memcpy(&sa.sin6_addr.s6_addr[12], &e->relay, 4);
	}
	return sa;
}

static void ov_rx_hello(struct overlay *o, const uint8_t *b, size_t len, const struct ep *from)
{
	struct sockaddr_in6 ca = ov_cookie_addr(from);
	struct wire_hello h;
	struct wire_cookie c;
	uint8_t *out;
	int n;

	if (wire_parse_hello(b, len, &h) < 0 || cookie_mac1_check(o->mac1_key, b, len, WIRE_HELLO_MAC1_OFF) < 0)
		return;		/* silence: not for us, or not from someone who knows us */
	memset(&c, 0, sizeof(c));
	c.receiver_index = h.sender_index;
	memcpy(c.nonce, h.nonce, sizeof(c.nonce));
	if (cookie_make(&o->jar, &ca, h.sender_index, now_ms(), c.cookie) < 0)
		return;
	out = ov_tx_slot(o, from);
	if (!out)
		return;
	n = wire_build_cookie(&c, out, UDP_BUF_SIZE);
	if (n > 0)
		ov_tx_commit(o, (size_t)n);
}

static void ov_rx_cookie(struct overlay *o, const uint8_t *b, size_t len, const struct ep *from)
{
	struct wire_cookie c;
	struct attempt *a;
	int kind;

	if (wire_parse_cookie(b, len, &c) < 0)
		return;
	a = peer_index_get(o->peers, c.receiver_index, &kind);
	if (!a || kind != IDX_ATTEMPT || !a->initiator || a->stage != AT_HELLO ||
	    memcmp(c.nonce, a->nonce, sizeof(a->nonce)) != 0)
		return;
	memcpy(a->cookie, c.cookie, sizeof(a->cookie));
	a->ep = *from;
	if (hs_new(o->hs, 1, o->identity, a->peer->identity, now_ms(), &a->hs) < 0) {
		ov_attempt_free(o, a);
		return;
	}
	a->stage = AT_TLS;
	ov_attempt_progress(o, a);
}

static struct attempt *ov_find_responder(struct overlay *o, const struct ep *from, uint32_t remote)
{
	for (int i = 0; i < o->n_attempts; i++) {
		struct attempt *a = o->attempts[i];
		if (!a->initiator && a->remote_index == remote && ep_equal(&a->ep, from))
			return a;
	}
	return NULL;
}

static struct attempt *ov_find_flushing(struct overlay *o, uint32_t local_index)
{
	for (int i = 0; i < o->n_attempts; i++)
		if (o->attempts[i]->stage == AT_FLUSH && o->attempts[i]->local_index == local_index)
			return o->attempts[i];
	return NULL;
}

static void ov_rx_hs(struct overlay *o, const uint8_t *b, size_t len, const struct ep *from)
{
	struct sockaddr_in6 ca = ov_cookie_addr(from);
	struct wire_hs h;
	struct attempt *a;
	int kind = 0;

	if (wire_parse_hs(b, len, &h) < 0)
		return;
	if (h.receiver_index == 0) {
		/* An initiator's segment: it must prove it knows us (mac1) and
		 * that it receives at its address (cookie) before we keep state. */
		if (cookie_mac1_check(o->mac1_key, b, len, WIRE_HS_MAC1_OFF) < 0 ||
		    cookie_verify(&o->jar, &ca, h.sender_index, h.cookie, now_ms()) < 0)
			return;
		a = ov_find_responder(o, from, h.sender_index);
		if (!a) {
			a = ov_attempt_new(o, 0);
			if (!a)
				return;
			a->remote_index = h.sender_index;
			a->ep = *from;
			a->stage = AT_TLS;
			if (hs_new(o->hs, 0, o->identity, NULL, now_ms(), &a->hs) < 0) {
				ov_attempt_free(o, a);
				return;
			}
		}
	} else {
		a = peer_index_get(o->peers, h.receiver_index, &kind);
		if (a && kind == IDX_SESSION)
			a = ov_find_flushing(o, h.receiver_index);
		else if (kind != IDX_ATTEMPT)
			a = NULL;
		if (!a)
			return;
		if (a->initiator && a->remote_index == 0)
			a->remote_index = h.sender_index;
		if (h.sender_index != a->remote_index || !ep_equal(&a->ep, from))
			return;
	}
	hs_input(a->hs, h.seq, h.ack, h.data, h.data_len, now_ms());
	ov_attempt_progress(o, a);
}

static void ov_rx_message(struct overlay *o, struct peer *p, const uint8_t *m, size_t len)
{
	uint8_t rep[17];

	if (len != 17)
		return;
	if (m[0] == MSG_PING_REQ) {
		memcpy(rep, m, sizeof(rep));
		rep[0] = MSG_PING_REP;
		ov_seal(o, p, rep, sizeof(rep));
		return;
	}
	if (m[0] == MSG_PING_REP) {
		uint64_t id;
		memcpy(&id, m + 1, 8);
		for (struct waiter *w = o->waiters; w; w = w->next) {
			if (w->kind == W_PING && w->sent && w->ping_id == id) {
				w->deadline = 0;	/* answered: settled in ov_waiters_tick */
				w->ping_id = now_ns() - w->sent_ns;
				w->kind = -W_PING;
			}
		}
		ov_arm(o);
	}
}

static void ov_rx_data(struct overlay *o, uint8_t *b, size_t len, const struct ep *from)
{
	struct wire_data d;
	struct session *s;
	struct peer *p;
	uint8_t *pt = b + WIRE_DATA_HDR_LEN;
	const uint8_t *src, *dst;
	int kind, family, n;

	if (wire_parse_data(b, len, &d) < 0)
		return;
	s = peer_index_get(o->peers, d.receiver_index, &kind);
	if (!s || kind != IDX_SESSION || !replay_check(&s->replay, d.counter)) {
		o->drops_replay += s != NULL;
		return;
	}
	if (now_ms() - s->born_ms > REJECT_AFTER_MS)
		return;
	/* Decrypt in place: the plaintext lands where the ciphertext was. */
	n = aead_open(s->recv_key, d.counter, d.header, WIRE_DATA_HDR_LEN, d.ct, d.ct_len, pt);
	if (n < 0) {
		o->drops_auth++;
		return;
	}
	if (replay_update(&s->replay, d.counter) < 0) {
		o->drops_replay++;
		return;
	}
	p = s->peer;
	p->last_rx_ms = now_ms();
	p->unanswered_ms = 0;
	/* Roaming and path upgrades: only an authenticated, fresh packet moves
	 * the endpoint. A direct one always wins; a relayed one never
	 * replaces a direct path (that happens when direct goes quiet). */
	if (!from->relay) {
		p->last_rx_direct_ms = p->last_rx_ms;
		p->direct_unanswered_ms = 0;
	}
	/* A relayed packet takes over from a direct path that went quiet: the
	 * peer gave up on direct, so our direct packets are likely lost too. */
	if (!ep_equal(&p->ep, from) && (!from->relay || !p->have_ep || p->ep.relay ||
	    p->last_rx_ms - p->last_rx_direct_ms > 2000)) {
		char a[UDP_ADDR_STRLEN];
		ep_format(from, a, sizeof(a));
		log_info("peer %s: now %s %s", p->identity, from->relay ? "through the" : "direct at", a);
		if (p->have_ep && p->ep.relay && !from->relay)
			ov_peer_merge_eps(p, &from->sa, 1);
		p->ep = *from;
		p->have_ep = 1;
		if (from->relay)
			p->relay_since_ms = p->last_rx_ms;
	}
	if (n == 0)
		return;		/* keepalive */
	p->last_rx_data_ms = p->last_rx_ms;
	if ((pt[0] >> 4) != 4 && (pt[0] >> 4) != 6) {
		ov_rx_message(o, p, pt, (size_t)n);
		return;
	}
	if (ip_packet_addrs(pt, (size_t)n, &family, &src, &dst) < 0)
		return;
	if (!cert_binds_source(&p->ci, family, src)) {
		o->drops_source++;
		return;
	}
	p->rx_bytes += (uint64_t)n;
	p->rx_packets++;
	ov_tun_deliver(o, pt, (size_t)n);
}

static void ov_rx_datagram(struct overlay *o, uint8_t *b, size_t len, const struct ep *from);

/* A datagram the authority relayed to us from another node. */
static void ov_rx_relayed(struct overlay *o, uint8_t *b, size_t len, const struct sockaddr_in6 *sa)
{
	struct aw_relay r;
	struct ep from = { .sock = 0 };

	if (!o->have_udp || !udp_addr_equal(sa, &o->auth_udp[0]) || aw_parse_relay(b, len, &r) < 0 ||
	    r.target_id != o->node_id || r.sender_id == 0 || aw_verify(b, len, o->udp_key) < 0 ||
	    !replay_check(&o->relay_replay, r.counter) || replay_update(&o->relay_replay, r.counter) < 0)
		return;
	from.relay = r.sender_id;
	if (r.payload_len && (r.payload[0] == WIRE_HELLO || r.payload[0] == WIRE_COOKIE ||
	    r.payload[0] == WIRE_HS || r.payload[0] == WIRE_DATA))
		ov_rx_datagram(o, b + AW_RELAY_HDR, r.payload_len, &from);
}

static void ov_rx_probe_reply(struct overlay *o, const uint8_t *b, size_t len, const struct sockaddr_in6 *sa)
{
	struct aw_probe pr;

	if (!o->have_udp || aw_parse_probe(AW_PROBE_REPLY, b, len, &pr) < 0 || pr.node_id != o->node_id ||
	    aw_verify(b, len, o->udp_key) < 0)
		return;
	for (int k = 0; k < 2; k++) {
		if (pr.txid != o->probe_sent_txid[k] || !udp_addr_equal(sa, &o->auth_udp[k]))
			continue;
		struct sockaddr_in6 seen = { .sin6_family = AF_INET6, .sin6_port = htons(pr.port) };
		memcpy(&seen.sin6_addr, pr.addr, 16);
		if (!o->have_reflexive[k] || !udp_addr_equal(&seen, &o->reflexive[k])) {
			char a[UDP_ADDR_STRLEN];
			udp_addr_format(&seen, a, sizeof(a));
			log_info("netcheck: the authority's port %d sees us as %s", ntohs(o->auth_udp[k].sin6_port), a);
		}
		o->reflexive[k] = seen;
		o->have_reflexive[k] = 1;
	}
}

/* PUNCH opens NAT mappings; the token (from the broker) proves the sender
 * is the peer the authority introduced, so answering it is no leak. */
static void ov_rx_punch(struct overlay *o, const uint8_t *b, size_t len, const struct ep *from)
{
	uint8_t token[AW_TOKEN_LEN], out[AW_PUNCH_LEN];
	struct peer *p;

	if (aw_parse_punch(b, len, token) < 0)
		return;
	for (p = peer_first(o->peers); p; p = p->next)
		if (p->have_token && memcmp(p->token, token, sizeof(token)) == 0)
			break;
	if (!p)
		return;
	if (b[0] == AW_PUNCH) {
		int fd = from->sock ? o->bday[from->sock].io.fd : o->udp_io.fd;

		if (from->sock) {
			/* A probe found one of our birthday mappings. */
			if (!p->have_bday_ep)
				log_info("peer %s: birthday probe reached our port (socket %d)", p->identity, from->sock);
			p->bday_ep = *from;
			p->have_bday_ep = 1;
			p->bday_hit = 1;
		} else {
			ov_peer_merge_eps(p, &from->sa, 1);
		}
		if (aw_build_punch(AW_PUNCH_ACK, token, out, sizeof(out)) > 0)
			udp_send_one(fd, &from->sa, out, sizeof(out));
	} else {
		if (p->spray_until_ms && !p->bday_hit) {
			char a[UDP_ADDR_STRLEN];
			udp_addr_format(&from->sa, a, sizeof(a));
			log_info("peer %s: birthday probe hit %s after %d probes", p->identity, a, p->spray_sent);
		}
		if (p->spray_until_ms)
			p->bday_hit = 1;
		ov_peer_merge_eps(p, &from->sa, 1);
	}
	if (p->init && p->init->stage == AT_HELLO)
		p->init->next_hello_ms = 0;	/* this path works: say HELLO now */
}

static void ov_rx_datagram(struct overlay *o, uint8_t *b, size_t len, const struct ep *from)
{
	switch (wire_type(b, len)) {
	case WIRE_DATA: ov_rx_data(o, b, len, from); break;
	case WIRE_HELLO: ov_rx_hello(o, b, len, from); break;
	case WIRE_COOKIE: ov_rx_cookie(o, b, len, from); break;
	case WIRE_HS: ov_rx_hs(o, b, len, from); break;
	case AW_RELAYED:
		if (!from->relay)
			ov_rx_relayed(o, b, len, &from->sa);
		break;
	case AW_PROBE_REPLY:
		if (!from->relay)
			ov_rx_probe_reply(o, b, len, &from->sa);
		break;
	case AW_PUNCH:
	case AW_PUNCH_ACK:
		if (!from->relay)
			ov_rx_punch(o, b, len, from);
		break;
	default:
		break;	/* silence */
	}
}

static void ov_bday_io(struct loop_io *io, uint32_t events)
{
	struct bday_sock *bs = (struct bday_sock *)io;
	struct overlay *o = bs->o;

	for (int i = 0; i < 16; i++) {
		struct sockaddr_in6 sa;
		socklen_t sl = sizeof(sa);
		ssize_t n = recvfrom(io->fd, o->one_buf, sizeof(o->one_buf), 0, (struct sockaddr *)&sa, &sl);
		struct ep from = { .sock = bs->idx };

		if (n <= 0)
			break;
		if (udp_addr_from_sockaddr((struct sockaddr *)&sa, sl, &from.sa) < 0)
			continue;
		ov_rx_datagram(o, o->one_buf, (size_t)n, &from);
	}
	ov_flush_tx(o);
	ov_arm(o);
}

static void ov_bday_close(struct overlay *o, int keep_used)
{
	int used[BDAY_SOCKETS + 1] = { 0 };

	for (struct peer *p = peer_first(o->peers); p; p = p->next) {
		if (p->have_ep && !p->ep.relay && p->ep.sock)
			used[p->ep.sock] = keep_used;
		if (!keep_used || !p->have_ep || p->ep.sock != p->bday_ep.sock)
			p->have_bday_ep = 0;
	}
	for (int i = 1; i <= o->n_bday; i++) {
		if (used[i] || o->bday[i].io.fd < 0)
			continue;
		loop_del(o->loop, &o->bday[i].io);
		close(o->bday[i].io.fd);
		o->bday[i].io.fd = -1;
	}
	o->bday_close_ms = 0;
}

/* We are behind an endpoint-dependent NAT: open many mappings towards the
 * peer's public address, one per socket, for its probes to find. */
static void ov_bday_open(struct overlay *o, struct peer *p)
{
	uint8_t buf[AW_PUNCH_LEN];
	int opened = 0;

	if (p->n_eps == 0 || aw_build_punch(AW_PUNCH, p->token, buf, sizeof(buf)) < 0)
		return;
	for (int i = 1; i <= BDAY_SOCKETS; i++) {
		if (i > o->n_bday || o->bday[i].io.fd < 0) {
			int fd;
			if (udp_open(0, &fd) < 0)
				break;
			o->bday[i].io.fd = fd;
			o->bday[i].io.fn = ov_bday_io;
			o->bday[i].o = o;
			o->bday[i].idx = i;
			if (loop_add(o->loop, &o->bday[i].io, EPOLLIN) < 0) {
				close(fd);
				o->bday[i].io.fd = -1;
				break;
			}
			if (i > o->n_bday)
				o->n_bday = i;
			opened++;
		}
		udp_send_one(o->bday[i].io.fd, &p->eps[0], buf, sizeof(buf));
	}
	o->bday_close_ms = now_ms() + BDAY_KEEP_MS;
	log_info("peer %s: our NAT maps each destination anew; opened %d birthday sockets towards it",
	    p->identity, o->n_bday);
	(void)opened;
}

/* The peer is behind an endpoint-dependent NAT: probe random ports of its
 * public address, paced, until one of its birthday mappings answers. */
static void ov_bday_spray(struct overlay *o, struct peer *p)
{
	uint8_t buf[AW_PUNCH_LEN];
	uint16_t ports[BDAY_BURST];
	struct sockaddr_in6 to = p->eps[0];

	if (aw_build_punch(AW_PUNCH, p->token, buf, sizeof(buf)) < 0 ||
	    getrandom(ports, sizeof(ports), 0) != sizeof(ports))
		return;
	for (int i = 0; i < BDAY_BURST && p->spray_sent < BDAY_PROBES; i++) {
		to.sin6_port = htons((uint16_t)(1024 + ports[i] % (65536 - 1024)));
		udp_send_one(o->udp_io.fd, &to, buf, sizeof(buf));
		p->spray_sent++;
	}
}

/* Receiving with UDP GRO: each buffer is a run of datagrams from one
 * peer, cut at seg bytes. */
static void ov_udp_io_gro(struct overlay *o, int fd)
{
	for (int round = 0; round < 8; round++) {
		int n = udp_recv_gro(fd, o->grx);

		if (n <= 0)
			break;
		o->rxq_on = 1;
		for (int i = 0; i < n; i++) {
			struct ep from = { .sa = o->grx->peer[i], .sock = 0 };
			size_t len = o->grx->len[i], seg = o->grx->seg[i];

			for (size_t off = 0; off < len; off += seg)
				ov_rx_datagram(o, o->grx->buf[i] + off, len - off < seg ? len - off : seg, &from);
		}
		ov_rxq_flush(o);
		o->rxq_on = 0;
		ov_flush_tx(o);
		if (n < UDP_GRO_MAX)
			break;
	}
	ov_arm(o);
}

static void ov_udp_io(struct loop_io *io, uint32_t events)
{
	struct overlay *o = (struct overlay *)((char *)io - offsetof(struct overlay, udp_io));

	if (o->grx) {
		ov_udp_io_gro(o, io->fd);
		return;
	}
	for (int round = 0; round < 8; round++) {
		int n = udp_recv_batch(io->fd, o->rx);
		if (n <= 0)
			break;
		o->rxq_on = 1;
		for (int i = 0; i < n; i++) {
			struct ep from = { .sa = o->rx->peer[i], .sock = 0 };

			ov_rx_datagram(o, o->rx->buf[i], o->rx->len[i], &from);
		}
		ov_rxq_flush(o);
		o->rxq_on = 0;
		ov_flush_tx(o);
		if (n < UDP_BATCH_MAX)
			break;
	}
	ov_arm(o);
}

/* ---------------------------------------------------------- from q2q0 */

static int ov_in_overlay(const struct overlay *o, int family, const uint8_t *dst)
{
	if (family == AF_INET6)
		return dst[0] == 0xfd;
	return 1;	/* v4: anything routed to q2q0 is ours to resolve */
}

static void ov_addr_lookup_done(void *arg, int err, const char *msg, const struct authlink_peer *pe);

static void ov_route_unknown(struct overlay *o, const uint8_t *pkt, size_t len, int family, const uint8_t *dst)
{
	struct addr_wait *w;
	int alen = ov_family_len(family);

	for (w = o->waits; w; w = w->next) {
		if (w->family != family || memcmp(w->addr, dst, (size_t)alen) != 0)
			continue;
		if (w->negative) {
			if (now_ms() < w->until) {
				ov_icmp_unreach(o, pkt, len);
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
	if (!o->link || !ov_in_overlay(o, family, dst)) {
		o->drops_noroute++;
		ov_icmp_unreach(o, pkt, len);
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
	w->until = now_ms() + 5000;
	if ((w->q[0] = malloc(sizeof(struct queued)))) {
		w->q[0]->len = len;
		memcpy(w->q[0]->data, pkt, len);
		w->nq = 1;
	}
	authlink_lookup(o->link, NULL, family, dst, ov_addr_lookup_done, w);
}

static void ov_tun_io(struct loop_io *io, uint32_t events)
{
	struct overlay *o = (struct overlay *)((char *)io - offsetof(struct overlay, tun_io));

	for (int i = 0; i < TUN_BATCH; i++) {
		ssize_t n = read(io->fd, o->tunbuf, sizeof(o->tunbuf));
		int nseg = 1;

		if (n <= 0)
			break;
		if (o->vnet) {
			/* Cut TCP super-packets into MTU-sized segments and complete
			 * partial checksums: peers get ordinary IP packets. */
			if (n < TSO_VNET_HDR_LEN)
				continue;
			nseg = tso_split(o->tunbuf, o->tunbuf + TSO_VNET_HDR_LEN, (size_t)n - TSO_VNET_HDR_LEN,
			    o->segs[0], SEG_STRIDE, SEG_MAX, o->seglen);
			if (nseg <= 0)
				continue;
		} else {
			memcpy(o->segs[0], o->tunbuf, (size_t)n);
			o->seglen[0] = (size_t)n;
		}
		for (int k = 0; k < nseg; k++)
			ov_tun_packet(o, o->segs[k], o->seglen[k]);
	}
	ov_flush_tx(o);
	ov_arm(o);
}

/* One IP packet from q2q0: route it to a peer, or answer it. */
static void ov_tun_packet(struct overlay *o, uint8_t *pkt, size_t n)
{
	{
		const uint8_t *src, *dst;
		int family;
		struct peer *p;

		if (ip_packet_addrs(pkt, (size_t)n, &family, &src, &dst) < 0)
			return;
		if ((size_t)n > (size_t)o->mtu) {
			/* Someone raised q2q0's MTU past what we carry. */
			uint8_t out[ICMP_ERROR_MAX];
			int m = icmp_too_big(pkt, (size_t)n, (uint32_t)o->mtu, out, sizeof(out));
			if (m > 0)
				ov_tun_write(o, out, (size_t)m);
			return;
		}
		p = route_table_lookup(o->routes, family, dst);
		if (!p) {
			ov_route_unknown(o, pkt, (size_t)n, family, dst);
			return;
		}
		ov_send_to_peer(o, p, pkt, (size_t)n);
	}
}

/* ------------------------------------------------------- lookups */

static int ov_we_are_hard(const struct overlay *o)
{
	return o->have_reflexive[0] && o->have_reflexive[1] &&
	    !udp_addr_equal(&o->reflexive[0], &o->reflexive[1]);
}

static void ov_bday_open(struct overlay *o, struct peer *p);

/* A node the authority described (lookup answer or broker request). */
/* The link to ask about identity: our authority for our domain, or the
 * other domain's authority if the config names one. */
static struct ov_link *ov_link_for(struct overlay *o, const char *identity)
{
	const char *at = strchr(identity, '@');

	for (int i = 0; i < o->n_links; i++)
		if (at && o->links[i].al && strcmp(o->links[i].domain, at + 1) == 0)
			return &o->links[i];
	return NULL;
}

static struct peer *ov_peer_from_authority(struct overlay *o, const struct authlink_peer *pe,
    char *err, size_t errlen)
{
	struct cert_info ci;
	struct peer *p;
	const char *at = strchr(pe->identity, '@');
	int foreign = at && strcmp(at + 1, o->domain) != 0;

	/* A node of another domain: its CA came along; trust it by pin or
	 * on first use, and let handshakes accept it. */
	if (foreign && pe->ca && pe->calen) {
		if (node_trust_peer_ca(o->node, at + 1, pe->ca, pe->calen, err, errlen) < 0)
			return NULL;
		hs_ctx_add_ca(o->hs, pe->ca, pe->calen, err, errlen);
	}
	if (ov_check_cert(o, pe->cert, pe->certlen, &ci, err, errlen) < 0)
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
	if (ov_v4_clash(o, p, &ci, err, errlen)) {
		log_warnx("refusing %s: %s", ci.identity, err);
		if (!p->have_cert)
			peer_remove(o->peers, p);
		return NULL;
	}
	ov_peer_set_cert(o, p, &ci);
	ov_peer_merge_eps(p, pe->eps, pe->neps);
	/* Relay ids name nodes at our own authority only. */
	p->relay_id = pe->via_own ? pe->node_id : 0;
	p->nat = pe->nat;
	memcpy(p->token, pe->token, sizeof(p->token));
	p->have_token = 1;
	/* Open our NAT towards the peer's candidates while it says HELLO. */
	p->punch_until_ms = now_ms() + PUNCH_MS;
	p->next_punch_ms = 0;
	if (o->cfg->nat_birthday && p->n_eps && !(p->cur && p->have_ep && !p->ep.relay)) {
		int we_hard = ov_we_are_hard(o), they_hard = !!(p->nat & NAT_VARIES);

		if (we_hard && !they_hard)
			ov_bday_open(o, p);
		else if (they_hard && !we_hard) {
			p->spray_sent = 0;
			p->bday_hit = 0;
			p->spray_until_ms = now_ms() + BDAY_SPRAY_MS;
		}
	}
	return p;
}

static void ov_addr_wait_free(struct overlay *o, struct addr_wait *w)
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

static void ov_addr_lookup_done(void *arg, int err, const char *msg, const struct authlink_peer *pe)
{
	struct addr_wait *w = arg;
	struct overlay *o = w->o;
	struct peer *p = NULL;
	char e[256];

	if (err == 0) {
		struct authlink_peer own = *pe;
		own.via_own = 1;
		p = ov_peer_from_authority(o, &own, e, sizeof(e));
	}
	if (!p) {
		for (int i = 0; i < w->nq; i++) {
			ov_icmp_unreach(o, w->q[i]->data, w->q[i]->len);
			free(w->q[i]);
		}
		w->nq = 0;
		w->negative = 1;
		w->until = now_ms() + NEGATIVE_MS;
		return;
	}
	for (int i = 0; i < w->nq; i++)
		ov_send_to_peer(o, p, w->q[i]->data, w->q[i]->len);
	ov_flush_tx(o);
	ov_addr_wait_free(o, w);
	ov_arm(o);
}

/* ------------------------------------------------------- control waiters */

static void ov_waiter_free(struct overlay *o, struct waiter *w)
{
	struct waiter **pp;

	for (pp = &o->waiters; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	}
	free(w);
}

static json_object *ov_peer_json(struct peer *p)
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

static void ov_reply_ping(struct overlay *o, struct waiter *w, double rtt_ms)
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

static void ov_ping_send(struct overlay *o, struct waiter *w, struct peer *p)
{
	uint8_t m[17];

	m[0] = MSG_PING_REQ;
	if (getrandom(&w->ping_id, sizeof(w->ping_id), 0) != sizeof(w->ping_id))
		w->ping_id = now_ns();
	memcpy(m + 1, &w->ping_id, 8);
	w->sent_ns = now_ns();
	memcpy(m + 9, &w->sent_ns, 8);
	if (ov_seal(o, p, m, sizeof(m)) == 0) {
		w->sent = 1;
		ov_flush_tx(o);
	}
}

/* A session with p now exists: pings waiting for it can go. */
static void ov_waiters_session(struct overlay *o, struct peer *p)
{
	for (struct waiter *w = o->waiters; w; w = w->next)
		if (w->kind == W_PING && !w->sent && strcmp(w->identity, p->identity) == 0)
			ov_ping_send(o, w, p);
}

static void ov_waiters_tick(struct overlay *o)
{
	uint64_t now = now_ms();
	struct waiter *w, *next;

	for (w = o->waiters; w; w = next) {
		next = w->next;
		if (w->kind == -W_PING) {
			ov_reply_ping(o, w, (double)w->ping_id / 1e6);
			ov_waiter_free(o, w);
		} else if (w->deadline && now >= w->deadline) {
			ctl_reply_err(w->req, CTL_EXIT_FAIL, "no reply from %s within %d s",
			    w->identity, 3);
			ov_waiter_free(o, w);
		}
	}
}

static void ov_name_lookup_done(void *arg, int err, const char *msg, const struct authlink_peer *pe)
{
	struct waiter *w = arg;
	struct overlay *o = w->o;
	struct peer *p = NULL;
	char e[256];

	if (err == 0) {
		struct authlink_peer pe2 = *pe;
		struct ov_link *lk = ov_link_for(o, pe->identity);
		pe2.via_own = lk && lk->own;
		p = ov_peer_from_authority(o, &pe2, e, sizeof(e));
	} else {
		snprintf(e, sizeof(e), "%s", msg ? msg : "lookup failed");
	}
	if (!p) {
		ctl_reply_err(w->req, CTL_EXIT_FAIL, "%s: %s", w->identity, e);
		ov_waiter_free(o, w);
		return;
	}
	if (w->kind == W_RESOLVE) {
		ctl_reply_ok(w->req, ov_peer_json(p));
		ov_waiter_free(o, w);
		return;
	}
	/* W_PING: needs a session. */
	if (p->cur && p->cur->can_send)
		ov_ping_send(o, w, p);
	else
		ov_start_initiation(o, p);
	ov_arm(o);
}

static struct waiter *ov_waiter_new(struct overlay *o, struct ctl_req *req, int kind, const char *identity)
{
	struct waiter *w = calloc(1, sizeof(*w));

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

static int ov_check_name(struct overlay *o, struct ctl_req *req, const char *identity)
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
	struct waiter *w;

	if (ov_check_name(o, req, identity) < 0)
		return;
	p = peer_find(o->peers, identity);
	if (p && p->have_cert && p->n_eps) {
		ctl_reply_ok(req, ov_peer_json(p));
		return;
	}
	if (!ov_link_for(o, identity)) {
		ctl_reply_err(req, CTL_EXIT_FAIL, "%s is unknown and no authority for its domain is "
		    "configured (a trust entry with authority = \"ip:port\")", identity);
		return;
	}
	w = ov_waiter_new(o, req, W_RESOLVE, identity);
	if (w)
		authlink_lookup(ov_link_for(o, identity)->al, identity, 0, NULL, ov_name_lookup_done, w);
}

void overlay_ping(struct overlay *o, struct ctl_req *req, const char *identity)
{
	struct peer *p;
	struct waiter *w;

	if (ov_check_name(o, req, identity) < 0)
		return;
	w = ov_waiter_new(o, req, W_PING, identity);
	if (!w)
		return;
	w->deadline = now_ms() + 3000;
	p = peer_find(o->peers, identity);
	if (p && p->cur && p->cur->can_send)
		ov_ping_send(o, w, p);
	else if (p && p->n_eps)
		ov_start_initiation(o, p);
	else if (ov_link_for(o, identity))
		authlink_lookup(ov_link_for(o, identity)->al, identity, 0, NULL, ov_name_lookup_done, w);
	ov_arm(o);
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
	ctl_reply_ok(req, ov_peer_json(p));
}

/* Is this one of our own addresses (no NAT between us and the authority)? */
static int ov_is_local_addr(const struct sockaddr_in6 *sa)
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

static json_object *ov_nat_json(uint32_t nat)
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
static json_object *ov_netcheck_json(struct overlay *o)
{
	json_object *j = json_object_new_object(), *refl = json_object_new_array();
	char a[UDP_ADDR_STRLEN];

	json_object_object_add(j, "local_port", json_object_new_int(o->port));
	for (int k = 0; k < 2; k++) {
		if (!o->have_reflexive[k])
			continue;
		udp_addr_format(&o->reflexive[k], a, sizeof(a));
		json_object_array_add(refl, json_object_new_string(a));
	}
	json_object_object_add(j, "reflexive", refl);
	json_object_object_add(j, "authority_udp", json_object_new_boolean(o->have_reflexive[0]));
	if (o->have_reflexive[0] && o->have_reflexive[1]) {
		int varies = !udp_addr_equal(&o->reflexive[0], &o->reflexive[1]);
		json_object_object_add(j, "mapping_varies_by_destination", json_object_new_boolean(varies));
		json_object_object_add(j, "port_preserved",
		    json_object_new_boolean(ntohs(o->reflexive[0].sin6_port) == o->port));
		json_object_object_add(j, "behind_nat", json_object_new_boolean(
		    ntohs(o->reflexive[0].sin6_port) != o->port || !ov_is_local_addr(&o->reflexive[0])));
	}
	return j;
}

void overlay_netcheck(struct overlay *o, struct ctl_req *req)
{
	ctl_reply_ok(req, ov_netcheck_json(o));
}

void overlay_peers(struct overlay *o, struct ctl_req *req)
{
	json_object *r = json_object_new_object(), *arr = json_object_new_array();
	uint64_t now = now_ms();

	for (struct peer *p = peer_first(o->peers); p; p = p->next) {
		json_object *j = ov_peer_json(p), *eps = json_object_new_array();
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
		json_object_object_add(j, "peer_nat", ov_nat_json(p->nat));
		if (p->spray_until_ms || p->have_bday_ep) {
			json_object *b = json_object_new_object();
			json_object_object_add(b, "role", json_object_new_string(p->spray_until_ms ?
			    "prober" : "mapper"));
			json_object_object_add(b, "probes_sent", json_object_new_int(p->spray_sent));
			json_object_object_add(b, "sockets", json_object_new_int(o->n_bday));
			json_object_object_add(b, "hit", json_object_new_boolean(p->bday_hit));
			json_object_object_add(j, "birthday", b);
		}
		json_object_object_add(j, "session", json_object_new_boolean(p->cur != NULL));
		json_object_object_add(j, "handshake_age", p->hs_done_ms ?
		    json_object_new_int64((int64_t)((now - p->hs_done_ms) / 1000)) : NULL);
		json_object_object_add(j, "rx_bytes", json_object_new_int64((int64_t)p->rx_bytes));
		json_object_object_add(j, "tx_bytes", json_object_new_int64((int64_t)p->tx_bytes));
		json_object_object_add(j, "rx_packets", json_object_new_int64((int64_t)p->rx_packets));
		json_object_object_add(j, "tx_packets", json_object_new_int64((int64_t)p->tx_packets));
		json_object_array_add(arr, j);
	}
	json_object_object_add(r, "peers", arr);
	json_object_object_add(r, "nat", ov_netcheck_json(o));
	ctl_reply_ok(req, r);
}

int overlay_registered(const struct overlay *o)
{
	return authlink_is_up(o->link);
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

/* ------------------------------------------------------------- timers */

/* FNV-1a over our interfaces' addresses, the overlay's own excluded. */
static uint64_t ov_addr_hash(struct overlay *o)
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
static void ov_check_addresses(struct overlay *o)
{
	uint64_t h = ov_addr_hash(o);

	o->next_addr_check_ms = now_ms() + 2000;
	if (o->addr_hash && h != o->addr_hash && o->link) {
		log_info("local addresses changed: re-registering with the authority");
		o->have_reflexive[0] = o->have_reflexive[1] = 0;
		for (int i = 0; i < o->n_links; i++)
			if (o->links[i].al)
				authlink_restart(o->links[i].al);
	}
	o->addr_hash = h;
}

static void ov_send_punches(struct overlay *o, struct peer *p)
{
	uint8_t buf[AW_PUNCH_LEN];

	if (aw_build_punch(AW_PUNCH, p->token, buf, sizeof(buf)) < 0)
		return;
	for (int i = 0; i < p->n_eps; i++)
		udp_send_one(o->udp_io.fd, &p->eps[i], buf, sizeof(buf));
}

/* Path upkeep for one peer: punching after a broker introduction, trying
 * direct candidates again while on the relay (both sides do, so their
 * packets cross each other's NATs), and falling back to the relay when the
 * direct path has gone quiet. */
static void ov_peer_paths(struct overlay *o, struct peer *p, uint64_t now)
{
	if (p->have_token && now < p->punch_until_ms && now >= p->next_punch_ms) {
		ov_send_punches(o, p);
		p->next_punch_ms = now + PUNCH_EVERY_MS;
	}
	if (p->spray_until_ms && now < p->spray_until_ms && !p->bday_hit && p->spray_sent < BDAY_PROBES &&
	    p->n_eps)
		ov_bday_spray(o, p);
	if (!p->cur || !p->cur->can_send || !p->have_ep)
		return;
	if (p->ep.relay && now >= p->next_direct_probe_ms && (p->n_eps || p->have_bday_ep)) {
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
			ov_seal(o, p, NULL, 0);	/* an authenticated keepalive, direct */
		}
		p->ep = saved;
		if (p->have_token)
			ov_send_punches(o, p);
		p->next_direct_probe_ms = now + (now - p->relay_since_ms < 30000 ?
		    DIRECT_PROBE_FAST_MS : DIRECT_PROBE_SLOW_MS);
	}
	if (!p->ep.relay && p->relay_id && o->have_udp &&
	    ((p->direct_unanswered_ms && now - p->direct_unanswered_ms > DIRECT_DEAD_MS) ||
	     (o->cfg->keepalive && now - p->last_rx_direct_ms > (uint64_t)o->cfg->keepalive * 2000 + 2000))) {
		p->direct_unanswered_ms = 0;
		log_info("peer %s: direct path silent for %d s, switching to the relay", p->identity,
		    DIRECT_DEAD_MS / 1000);
		p->ep.relay = p->relay_id;
		p->relay_since_ms = now;
		p->next_direct_probe_ms = now + DIRECT_PROBE_FAST_MS;
	}
}

static void ov_tick(struct overlay *o)
{
	uint64_t now = now_ms();

	for (int i = 0; i < o->n_attempts; i++) {
		struct attempt *a = o->attempts[i];

		if ((a->stage != AT_FLUSH && now - a->started_ms > ATTEMPT_GIVEUP_MS) ||
		    (a->stage == AT_FLUSH && now - a->done_ms > 5000)) {
			if (a->initiator && a->peer) {
				log_info("handshake with %s: no answer, giving up for now", a->peer->identity);
				a->peer->next_init_ms = now + INIT_BACKOFF_MS;
				peer_queue_clear(a->peer);
			}
			ov_attempt_free(o, a);
			i--;
			continue;
		}
		if (a->stage == AT_HELLO && now >= a->next_hello_ms)
			ov_send_hellos(o, a->peer, a);
		else if (a->hs && hs_next_deadline(a->hs) <= now)
			ov_attempt_progress(o, a);
		/* ov_attempt_progress may have freed a: re-check the slot. */
		if (i < o->n_attempts && o->attempts[i] != a)
			i--;
	}
	if (now >= o->next_addr_check_ms)
		ov_check_addresses(o);
	if (o->bday_close_ms && now >= o->bday_close_ms)
		ov_bday_close(o, 1);
	if (o->have_udp && now >= o->next_probe_ms)
		ov_probe(o);
	for (struct peer *p = peer_first(o->peers); p; p = p->next) {
		ov_peer_paths(o, p, now);
		if (p->prev && now - p->prev->born_ms > REJECT_AFTER_MS) {
			peer_session_free(o->peers, p->prev);
			p->prev = NULL;
		}
		if (p->cur && now - p->cur->born_ms > REJECT_AFTER_MS) {
			peer_session_free(o->peers, p->cur);
			p->cur = NULL;
		}
		/* Passive keepalive: we heard from the peer but said nothing;
		 * persistent keepalive: hold NAT mappings open while idle. */
		if (p->cur && p->cur->can_send &&
		    ((p->last_rx_data_ms > p->last_tx_ms && now - p->last_tx_ms > KEEPALIVE_MS &&
		      now - p->last_rx_data_ms < KEEPALIVE_MS * 2) ||
		     (o->cfg->keepalive && now - p->last_tx_ms >= (uint64_t)o->cfg->keepalive * 1000)))
			ov_seal(o, p, NULL, 0);
		if (p->pinned && !p->cur && !p->init)
			ov_start_initiation(o, p);
		/* Sent data but heard nothing: the peer may have restarted and
		 * lost our session (it stays silent about unknown indices). */
		if (p->cur && p->unanswered_ms && now - p->unanswered_ms > UNANSWERED_MS && !p->init) {
			log_info("peer %s: no answer for %d s, handshaking again", p->identity, UNANSWERED_MS / 1000);
			p->unanswered_ms = 0;
			ov_start_initiation(o, p);
		}
	}
	ov_flush_tx(o);
	ov_waiters_tick(o);
	for (struct addr_wait *w = o->waits, *nx; w; w = nx) {
		nx = w->next;
		if (w->negative && now > w->until)
			ov_addr_wait_free(o, w);
	}
}

static void ov_timer(struct loop_timer *t)
{
	struct overlay *o = (struct overlay *)((char *)t - offsetof(struct overlay, timer));

	ov_tick(o);
	ov_arm(o);
}

static void ov_arm(struct overlay *o)
{
	uint64_t now = now_ms(), next = now + TICK_MS;

	for (int i = 0; i < o->n_attempts; i++) {
		struct attempt *a = o->attempts[i];
		uint64_t d = a->stage == AT_HELLO ? a->next_hello_ms : a->hs ? hs_next_deadline(a->hs) : next;
		if (d < next)
			next = d;
	}
	for (struct waiter *w = o->waiters; w; w = w->next)
		if (w->kind == -W_PING)
			next = now;
	if (o->have_udp && o->next_probe_ms < next)
		next = o->next_probe_ms;
	for (struct peer *p = peer_first(o->peers); p; p = p->next)
	{
		if (p->have_token && now < p->punch_until_ms && p->next_punch_ms < next)
			next = p->next_punch_ms;
		if (p->spray_until_ms && now < p->spray_until_ms && !p->bday_hit &&
		    p->spray_sent < BDAY_PROBES && now + BDAY_STEP_MS < next)
			next = now + BDAY_STEP_MS;
	}
	if (o->timer.deadline == 0 || o->timer.deadline > next || o->timer.deadline < now)
		loop_timer_arm(o->loop, &o->timer, next);
}

/* -------------------------------------------------- authority link events */

static void ov_probe(struct overlay *o)
{
	uint8_t buf[AW_PROBE_LEN];

	for (int k = 0; k < 2; k++) {
		struct aw_probe pr = { .node_id = o->node_id, .txid = ++o->probe_txid };
		if (aw_build_probe(&pr, o->udp_key, buf, sizeof(buf)) > 0 &&
		    udp_send_one(o->udp_io.fd, &o->auth_udp[k], buf, sizeof(buf)) == 0)
			o->probe_sent_txid[k] = pr.txid;
	}
	/* Retry soon until both ports answered, then refresh now and then. */
	o->next_probe_ms = now_ms() + (o->have_reflexive[0] && o->have_reflexive[1] ? PROBE_MS : PROBE_RETRY_MS);
}

static void ov_refresh_done(void *arg, int err, const char *msg, const struct authlink_peer *pe)
{
	struct overlay *o = arg;
	char e[256];
	struct peer *p;

	if (err < 0 || !pe)
		return;
	{
		struct authlink_peer pe2 = *pe;
		struct ov_link *lk = ov_link_for(o, pe->identity);
		pe2.via_own = lk && lk->own;
		p = ov_peer_from_authority(o, &pe2, e, sizeof(e));
	}
	if (!p)
		log_debug("refreshing %s: %s", pe->identity, e);
}

static void ov_link_up(void *arg, uint32_t node_id, const uint8_t key[32])
{
	struct ov_link *lk = arg;
	struct overlay *o = lk->o;
	const struct sockaddr_in6 *auth = node_authority_addr(o->node);
	const uint8_t *ca;
	size_t calen;
	char err[128];

	if (!lk->own) {
		/* Its CA is trusted now (checked on connect): accept its nodes. */
		if (trust_get(node_trust(o->node), lk->domain, &ca, &calen) == 0)
			hs_ctx_add_ca(o->hs, ca, calen, err, sizeof(err));
		return;
	}

	if (!o->have_udp || o->node_id != node_id)
		replay_init(&o->relay_replay);
	o->node_id = node_id;
	memcpy(o->udp_key, key, sizeof(o->udp_key));
	o->have_udp = 1;
	for (int k = 0; k < 2; k++) {
		o->auth_udp[k] = *auth;
		o->auth_udp[k].sin6_port = htons((uint16_t)(ntohs(auth->sin6_port) + 2 * k));
	}
	o->have_reflexive[0] = o->have_reflexive[1] = 0;
	ov_probe(o);
	/* Peers' relay ids are per authority session: refresh what we know. */
	for (struct peer *p = peer_first(o->peers); p; p = p->next)
		if (p->have_cert && !p->pinned && ov_link_for(o, p->identity) == lk)
			authlink_lookup(o->link, p->identity, 0, NULL, ov_refresh_done, o);
	ov_arm(o);
}

/* Does our policy let identity connect to us? */
static int ov_policy_allows(struct overlay *o, const char *identity)
{
	const char *at = strchr(identity, '@');

	for (int i = 0; i < o->cfg->n_refuse; i++) {
		const char *r = o->cfg->refuse[i];
		if (strcmp(r, identity) == 0 || (r[0] == '*' && at && strcmp(r + 1, at) == 0))
			return 0;
	}
	return 1;
}

/* Someone asked the authority for us. Answer only after checking them,
 * and start punching towards them so their HELLOs get through our NAT. */
static void ov_link_broker(void *arg, uint32_t id, const struct authlink_peer *caller)
{
	struct ov_link *lk = arg;
	struct overlay *o = lk->o;
	struct authlink_peer pe = *caller;
	char err[256];
	struct peer *p;

	if (!ov_policy_allows(o, caller->identity)) {
		log_info("refusing a connection from %s (policy)", caller->identity);
		authlink_broker_answer(lk->al, id, 0);
		return;
	}
	pe.via_own = lk->own;
	p = ov_peer_from_authority(o, &pe, err, sizeof(err));
	if (!p) {
		log_warnx("refusing a connection from %s: %s", caller->identity, err);
		authlink_broker_answer(lk->al, id, 0);
		return;
	}
	authlink_broker_answer(lk->al, id, 1);
	ov_arm(o);
}

static void ov_link_revoked(void *arg, const char *serial)
{
	struct overlay *o = ((struct ov_link *)arg)->o;

	if (peer_revoked(o->peers, serial))
		return;
	peer_revoked_add(o->peers, serial);
	for (struct peer *p = peer_first(o->peers); p; p = p->next) {
		if (p->have_cert && strcmp(p->ci.serial, serial) == 0) {
			log_info("peer %s: certificate %s revoked, dropping its sessions", p->identity, serial);
			peer_drop_sessions(o->peers, p);
			route_table_remove_peer(o->routes, p);
			p->have_cert = 0;
			p->next_init_ms = now_ms() + 3600 * 1000ull;
		}
	}
}

static const struct authlink_ops ov_link_ops = {
	.on_up = ov_link_up,
	.on_broker = ov_link_broker,
	.on_revoked = ov_link_revoked,
};

/* ------------------------------------------------------------- up / down */

static int ov_add_ca(const char *domain, const uint8_t *der, size_t len, void *arg)
{
	char err[128];

	hs_ctx_add_ca(arg, der, len, err, sizeof(err));
	return 0;
}

static int ov_iface(struct overlay *o, const struct cert_info *ci, char *err, size_t errlen)
{
	static const uint8_t fd00[16] = { 0xfd };
	static const uint8_t cgnat[4] = { 100, 64, 0, 0 };
	int rc, fd;

	rc = tun_open_offload(o->cfg->interface, o->ifname, &fd, o->cfg->offload);
	if (rc < 0 && o->cfg->offload) {
		log_warnx("%s: no TUN offload (%s); carrying packets one by one", o->cfg->interface,
		    strerror(-rc));
		rc = tun_open(o->cfg->interface, o->ifname, &fd);
	} else if (rc == 0) {
		o->vnet = o->cfg->offload;
	}
	if (rc == 0 && o->vnet && !(o->rxbuf = malloc((size_t)RXQ_MAX * (GRO_VNET_HDR_LEN + SEG_STRIDE)))) {
		close(fd);
		rc = -ENOMEM;
	}
	if (rc < 0) {
		snprintf(err, errlen, "cannot create interface %s: %s", o->cfg->interface, strerror(-rc));
		return rc;
	}
	o->tun_io.fd = fd;
	o->ifindex = nl_link_index(o->ifname);
	if (o->ifindex < 0) {
		rc = o->ifindex;
		goto fail;
	}
	if ((rc = nl_link_set(o->ifindex, 1, o->mtu)) < 0 ||
	    (rc = nl_addr_add(o->ifindex, AF_INET, ci->v4, 32)) < 0 ||
	    (rc = nl_addr_add(o->ifindex, AF_INET6, ci->v6, 128)) < 0 ||
	    (rc = nl_route_add(o->ifindex, AF_INET6, fd00, 8)) < 0)
		goto fail;
	/* The authority's pool; 100.64.0.0/10 unless the address says otherwise. */
	if (ci->v4[0] == 100 && (ci->v4[1] & 0xc0) == 64)
		rc = nl_route_add(o->ifindex, AF_INET, cgnat, 10);
	if (rc < 0 && rc != -EEXIST)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "cannot configure %s: %s", o->ifname, strerror(-rc));
	close(fd);	/* the interface, its addresses and routes go with it */
	o->tun_io.fd = -1;
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
	o->node = n;
	o->tun_io.fd = o->udp_io.fd = -1;
	o->tun_io.fn = ov_tun_io;
	o->udp_io.fn = ov_udp_io;
	o->timer.fn = ov_timer;
	o->mtu = cfg->mtu;
	if (o->mtu > UDP_BUF_SIZE - OVERHEAD)
		o->mtu = UDP_BUF_SIZE - OVERHEAD;
	snprintf(o->identity, sizeof(o->identity), "%s", ci->identity);
	memcpy(o->v4, ci->v4, 4);
	memcpy(o->v6, ci->v6, 16);
	o->rx = calloc(1, sizeof(*o->rx));
	o->tx = calloc(1, sizeof(*o->tx));
	rc = -ENOMEM;
	if (!o->rx || !o->tx || peer_table_init(&o->peers) < 0 || route_table_init(&o->routes) < 0)
		goto fail;
	cookie_mac1_key(o->identity, o->mac1_key);
	if ((rc = cookie_jar_init(&o->jar, now_ms())) < 0)
		goto fail;
	node_cert_der(n, &cder, &clen);
	if ((rc = node_key_der(n, &kder, &klen)) < 0 ||
	    (rc = hs_ctx_new(kder, klen, cder, clen, &o->hs, err, errlen)) < 0)
		goto fail;
	trust_foreach(node_trust(n), ov_add_ca, o->hs);
	rc = udp_open(cfg->port, &o->udp_io.fd);
	if (rc < 0) {
		snprintf(err, errlen, "cannot open UDP port %d: %s", cfg->port, strerror(-rc));
		goto fail;
	}
	o->port = udp_local_port(o->udp_io.fd);
	/* Batching in the kernel too: many datagrams per trip through the
	 * UDP stack each way, when the kernel can (config offload). */
	o->gso = cfg->offload;
	if (cfg->offload && udp_enable_gro(o->udp_io.fd) == 0)
		o->grx = malloc(sizeof(*o->grx));
	if ((rc = ov_iface(o, ci, err, errlen)) < 0)
		goto fail;
	if ((rc = loop_add(l, &o->tun_io, EPOLLIN)) < 0 || (rc = loop_add(l, &o->udp_io, EPOLLIN)) < 0) {
		snprintf(err, errlen, "event loop: %s", strerror(-rc));
		goto fail;
	}
	for (int i = 0; i < cfg->n_peers; i++) {
		struct peer *p = peer_add(o->peers, cfg->peers[i].identity);
		if (!p)
			continue;
		p->pinned = 1;
		ov_peer_merge_eps(p, cfg->peers[i].endpoints, cfg->peers[i].n_endpoints);
	}
	{
		const char *at = strchr(o->identity, '@');
		snprintf(o->domain, sizeof(o->domain), "%s", at ? at + 1 : "");
	}
	o->links[0].o = o;
	o->links[0].own = 1;
	snprintf(o->links[0].domain, sizeof(o->links[0].domain), "%s", o->domain);
	if (authlink_start(l, n, o->port, NULL, NULL, &ov_link_ops, &o->links[0], &o->links[0].al) < 0)
		log_warnx("cannot start the authority link; peers must be pinned in the config");
	o->link = o->links[0].al;
	o->n_links = 1;
	for (int i = 0; i < cfg->n_trust; i++) {
		struct ov_link *lk = &o->links[o->n_links];

		if (!cfg->trust[i].has_authority || strcmp(cfg->trust[i].domain, o->domain) == 0)
			continue;
		lk->o = o;
		snprintf(lk->domain, sizeof(lk->domain), "%s", cfg->trust[i].domain);
		if (authlink_start(l, n, o->port, lk->domain, &cfg->trust[i].authority, &ov_link_ops, lk,
		    &lk->al) == 0)
			o->n_links++;
	}
	ov_arm(o);
	log_info("%s up: %s, UDP port %d", o->ifname, o->identity, o->port);
	memset(kder, 0, klen);
	free(kder);
	*out = o;
	return 0;
fail:
	if (kder) {
		memset(kder, 0, klen);
		free(kder);
	}
	overlay_down(o);
	return rc;
}

void overlay_down(struct overlay *o)
{
	if (!o)
		return;
	loop_timer_cancel(o->loop, &o->timer);
	/* First: it settles pending lookups, whose callbacks use waiters. */
	for (int i = 0; i < o->n_links; i++)
		authlink_stop(o->links[i].al);
	o->n_links = 0;
	o->link = NULL;
	while (o->waiters) {
		ctl_reply_err(o->waiters->req, CTL_EXIT_FAIL, "the overlay went down");
		ov_waiter_free(o, o->waiters);
	}
	while (o->waits)
		ov_addr_wait_free(o, o->waits);
	while (o->n_attempts)
		ov_attempt_free(o, o->attempts[0]);
	if (o->peers)
		ov_bday_close(o, 0);
	if (o->tun_io.fd >= 0) {
		loop_del(o->loop, &o->tun_io);
		close(o->tun_io.fd);
	}
	if (o->udp_io.fd >= 0) {
		loop_del(o->loop, &o->udp_io);
		close(o->udp_io.fd);
	}
	peer_table_free(o->peers);
	route_table_free(o->routes);
	hs_ctx_free(o->hs);
	cookie_jar_free(&o->jar);
	free(o->rx);
	free(o->tx);
	free(o->grx);
	free(o->rxbuf);
	free(o);
}
