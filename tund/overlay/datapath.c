/*
 * The data path: packets between q2q0 and peers.
 *
 * Packets from q2q0 are read in batches, routed by longest-prefix match to
 * a peer, sealed with the peer's current session key and sent with one
 * sendmmsg. Datagrams from the UDP port are received in batches; DATA is
 * opened, checked against the replay window and against the addresses the
 * sender's certificate binds, and written to q2q0.
 *
 * Every datagram, from the data port, a birthday socket or the relay, is
 * dispatched here by type: handshake messages go to attempt.c, probe
 * replies and punches to paths.c; a decrypted plaintext that is no IP
 * packet is a q2q message, and a packet from q2q0 that no route names
 * needs a lookup: both go up through o->hooks (hooks.h). A send slot can name the
 * relay; the datagram is then wrapped in a RELAY header when committed.
 *
 * With a worker pool (workers.c), the crypto of a batch is done by
 * several threads and nothing else is: packets read from q2q0 get their
 * counter and send slot here, on the loop thread, in order, and are
 * sealed all at once when the batch is flushed; DATA datagrams of a
 * receive round are checked (index, replay window, key age), opened
 * all at once, and then, in the order they came, recorded in the replay
 * window and handled as before. Any other datagram first finishes what
 * was read before it, so a handshake never changes sessions under a
 * pending open. Relayed and birthday-socket datagrams, keepalives and
 * timers' sends stay on the loop thread as they were.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "routing/icmp.h"
#include "routing/table.h"
#include "tund/base/log.h"
#include "tund/overlay/attempt.h"
#include "tund/overlay/cryptobatch.h"
#include "tund/overlay/datapath.h"
#include "tund/overlay/firewall.h"
#include "tund/overlay/foreign.h"
#include "tund/overlay/overlay_int.h"
#include "tund/overlay/paths.h"
#include "tund/overlay/pmtu.h"
#include "tund/overlay/rxrest.h"

#define TUN_BATCH		64	/* reads per wakeup */

/* The batches handed to the worker pool, and what the loop thread keeps
 * of each pending open to finish it. */
struct datapath_par {
	struct cryptobatch tx, rx;
	struct session *rx_s[CRYPTOBATCH_MAX];
	struct ep rx_from[CRYPTOBATCH_MAX];
};

int datapath_use_workers(struct datapath_io *io, struct workers *w)
{
	struct datapath_par *par;
	int rc;

	io->workers = w;
	if (workers_count(w) < 2)
		return 0;
	if (!(par = calloc(1, sizeof(*par))))
		return -ENOMEM;
	if ((rc = cryptobatch_init(&par->tx, 0, workers_count(w))) < 0 ||
	    (rc = cryptobatch_init(&par->rx, 1, workers_count(w))) < 0) {
		cryptobatch_free(&par->tx);
		free(par);
		return rc;
	}
	io->par = par;
	return 0;
}

void datapath_io_free(struct datapath_io *io)
{
	if (!io->par)
		return;
	cryptobatch_free(&io->par->tx);
	cryptobatch_free(&io->par->rx);
	free(io->par);
	io->par = NULL;
	io->workers = NULL;
}

/* The seals of this batch, across the pool, before anything is sent. */
static void datapath_seal_pending(struct overlay *o)
{
	struct datapath_par *par = o->io.par;

	if (!par || !par->tx.n)
		return;
	cryptobatch_run(&par->tx, o->io.workers);
	par->tx.n = 0;
}

/* -------------------------------------------------------- sending */

void datapath_flush(struct overlay *o)
{
	int done = 0;

	datapath_seal_pending(o);
	while (done < o->io.ntx) {
		int n = udp_send_batch_gso(o->io.udp_io.fd, o->io.tx, o->io.ntx, &o->io.gso);

		if (n <= 0)
			break;
		if (n < o->io.ntx) {
			/* Socket buffer full: keep order, retry the rest once. */
			memmove(&o->io.tx->len[0], &o->io.tx->len[n], sizeof(o->io.tx->len[0]) * (size_t)(o->io.ntx - n));
			memmove(&o->io.tx->peer[0], &o->io.tx->peer[n], sizeof(o->io.tx->peer[0]) * (size_t)(o->io.ntx - n));
			memmove(&o->io.tx->buf[0], &o->io.tx->buf[n], sizeof(o->io.tx->buf[0]) * (size_t)(o->io.ntx - n));
			o->io.ntx -= n;
			continue;
		}
		done = o->io.ntx;
	}
	o->io.ntx = 0;
}

/* Whether a sealed plaintext of pt_len bytes fits a send slot: a relayed
 * datagram shares its UDP_BUF_SIZE slot with the RELAY header written in
 * front of it on commit, so it has AW_RELAY_HDR bytes less. */
int datapath_slot_fits(size_t pt_len, int relayed)
{
	size_t room = UDP_BUF_SIZE - (relayed ? AW_RELAY_HDR : 0);

	return pt_len <= room - DATAPATH_OVERHEAD;
}

/* Where the next datagram to `to` is written; NULL if `to` is the relay
 * and we have no relay. Relayed datagrams get their RELAY header on commit. */
uint8_t *datapath_tx_slot(struct overlay *o, const struct ep *to)
{
	const struct sockaddr_in6 *relay = to->relay ? paths_relay_addr(&o->nat, to->via) : NULL;

	if (to->relay && !relay)
		return NULL;
	if (!to->relay && to->sock) {
		/* Birthday sockets are few and rare: send those one by one. */
		if (to->sock > o->paths.n_bday || o->paths.bday[to->sock].io.fd < 0)
			return NULL;
		o->io.one_sock = to->sock;
		o->io.one_to = to->sa;
		return o->io.one_buf;
	}
	if (o->io.ntx == UDP_BATCH_MAX)
		datapath_flush(o);
	o->io.tx_relay[o->io.ntx] = to->relay;
	o->io.tx_via[o->io.ntx] = to->via;
	if (to->relay) {
		o->io.tx->peer[o->io.ntx] = *relay;
		return o->io.tx->buf[o->io.ntx] + AW_RELAY_HDR;
	}
	o->io.tx->peer[o->io.ntx] = to->sa;
	return o->io.tx->buf[o->io.ntx];
}

void datapath_tx_commit(struct overlay *o, size_t len)
{
	if (o->io.one_sock) {
		udp_send_one(o->paths.bday[o->io.one_sock].io.fd, &o->io.one_to, o->io.one_buf, len);
		o->io.one_sock = 0;
		return;
	}
	if (o->io.tx_relay[o->io.ntx]) {
		int n = paths_relay_seal(&o->nat, o->io.tx_via[o->io.ntx], o->io.tx_relay[o->io.ntx],
		    o->io.tx->buf[o->io.ntx], len, UDP_BUF_SIZE);
		if (n < 0)
			return;
		len = (size_t)n;
	}
	o->io.tx->len[o->io.ntx++] = len;
}

/* The session p's packets are sealed with now, NULL if none can send. */
static struct session *datapath_send_session(struct overlay *o, struct peer *p, uint64_t now)
{
	struct session *s = p->cur && p->cur->can_send ? p->cur : p->prev;
	struct timers_cfg tc = timers_cfg_of(o->cfg);

	return p->have_ep && timers_session_can_send(&tc, s, now) ? s : NULL;
}

int datapath_can_seal(struct overlay *o, struct peer *p)
{
	return datapath_send_session(o, p, now_ms()) != NULL;
}

/* Seals one plaintext for p's current session into the send batch. */
int datapath_seal(struct overlay *o, struct peer *p, const uint8_t *pt, size_t len)
{
	uint64_t now = now_ms();
	struct session *s = datapath_send_session(o, p, now);
	uint8_t *b;

	if (!s)
		return -EAGAIN;
	if (!datapath_slot_fits(len, p->ep.relay != 0))
		return -EMSGSIZE;
	b = datapath_tx_slot(o, &p->ep);
	if (!b)
		return -EAGAIN;
	wire_build_data_header(s->remote_index, s->send_ctr, b, WIRE_DATA_HDR_LEN);
	if (o->io.defer && !p->ep.relay && !p->ep.sock) {
		/* Sealed in place at the flush, with the counter given now;
		 * the batch never outgrows the send slots it seals. */
		if (len)
			memcpy(b + WIRE_DATA_HDR_LEN, pt, len);
		if (cryptobatch_add(&o->io.par->tx, s->send_aead, s->send_ctr, b, len) < 0)
			return -EIO;
	} else if (aead_seal(s->send_aead, s->send_ctr, b, WIRE_DATA_HDR_LEN, pt, len, b + WIRE_DATA_HDR_LEN) < 0)
		return -EIO;
	s->send_ctr++;
	datapath_tx_commit(o, WIRE_DATA_HDR_LEN + len + AEAD_TAG_LEN);
	p->tx_bytes += len;
	p->tx_packets++;
	if (p->ep.relay)
		p->relay_tx_bytes += len;
	timers_data_sent(p, len, now);
	return 0;
}

/* Sends (or queues) one inner packet to p, starting a handshake if needed. */
void datapath_send(struct overlay *o, struct peer *p, const uint8_t *pkt, size_t len)
{
	struct timers_cfg tc = timers_cfg_of(o->cfg);

	int r = p->cur ? datapath_seal(o, p, pkt, len) : -EAGAIN;

	if (r == 0 || r == -EMSGSIZE) {
		/* Too big for the path it would take (over the relay, with an
		 * mtu above what a relayed slot holds): lost, never queued,
		 * as a link drops what exceeds its MTU. */
		if (r == 0 && !p->init && timers_rekey_due(&tc, p->cur, now_ms()))
			attempt_initiate(o, p);
		return;
	}
	peer_queue(p, pkt, len);
	if (!p->init)
		attempt_initiate(o, p);
}

void datapath_flush_queue(struct overlay *o, struct peer *p)
{
	int i, n = p->nq;

	for (i = 0; i < n; i++) {
		int r = datapath_seal(o, p, p->q[i]->data, p->q[i]->len);

		/* One that can never fit must not hold the queue back. */
		if (r < 0 && r != -EMSGSIZE)
			break;
	}
	for (int j = 0; j < i; j++)
		free(p->q[j]);
	memmove(&p->q[0], &p->q[i], sizeof(p->q[0]) * (size_t)(n - i));
	p->nq = n - i;
	datapath_flush(o);
}

/* -------------------------------------------------------- to q2q0 */

static void datapath_tun_write(struct overlay *o, const uint8_t *pkt, size_t len)
{
	uint8_t hdr[TSO_VNET_HDR_LEN];
	struct iovec iov[2] = { { hdr, sizeof(hdr) }, { (void *)pkt, len } };

	tso_hdr_none(hdr);
	if (writev(o->io.tun_io.fd, o->io.vnet ? iov : iov + 1, o->io.vnet ? 2 : 1) < 0 && errno != EAGAIN)
		log_debug("write to %s: %s", o->ifname, strerror(errno));
}

/* Writes the queued packets of this receive round to q2q0, TCP segments
 * of one flow merged into super-packets: one write for many packets. */
static void datapath_rxq_flush(struct overlay *o)
{
	int n;

	if (!o->io.nrxq)
		return;
	n = gro_coalesce(o->io.rxq, o->io.nrxq, o->io.rxbuf, (size_t)DATAPATH_RXQ_MAX * (GRO_VNET_HDR_LEN + DATAPATH_SEG_STRIDE),
	    o->io.rxout, DATAPATH_RXQ_MAX);
	for (int i = 0; i < n; i++)
		if (write(o->io.tun_io.fd, o->io.rxbuf + o->io.rxout[i].off, o->io.rxout[i].len) < 0 && errno != EAGAIN)
			log_debug("write to %s: %s", o->ifname, strerror(errno));
	if (n < 0)	/* cannot happen with these sizes; deliver one by one */
		for (int i = 0; i < o->io.nrxq; i++)
			datapath_tun_write(o, o->io.rxq[i].data, o->io.rxq[i].len);
	o->io.nrxq = 0;
}

/* A decrypted packet for q2q0: queued while a receive round runs (its
 * bytes stay in the receive buffers until the round ends), else written. */
static void datapath_tun_deliver(struct overlay *o, const uint8_t *pkt, size_t len)
{
	if (!o->io.rxq_on || !o->io.rxbuf || len > DATAPATH_SEG_STRIDE) {
		datapath_tun_write(o, pkt, len);
		return;
	}
	if (o->io.nrxq == DATAPATH_RXQ_MAX)
		datapath_rxq_flush(o);
	o->io.rxq[o->io.nrxq].data = pkt;
	o->io.rxq[o->io.nrxq].len = len;
	o->io.nrxq++;
}

void datapath_icmp_too_big(struct overlay *o, const uint8_t *pkt, size_t len, size_t mtu)
{
	uint8_t out[ICMP_ERROR_MAX];
	int n = icmp_too_big(pkt, len, (uint32_t)mtu, out, sizeof(out));

	if (n > 0)
		datapath_tun_write(o, out, (size_t)n);
}

void datapath_icmp_unreach(struct overlay *o, const uint8_t *pkt, size_t len)
{
	uint8_t out[ICMP_ERROR_MAX];
	int n = icmp_unreachable(pkt, len, out, sizeof(out));

	if (n > 0)
		datapath_tun_write(o, out, (size_t)n);
}

/* ------------------------------------------------------ receiving */

/* What is checked before a DATA datagram is opened: 0 and *out, or
 * datapath_receive's errors; nothing changes. */
static int datapath_receive_check(struct peer_table *t, const struct timers_cfg *tc, const uint8_t *b, size_t len,
    uint64_t now, struct wire_data *d, struct session **out)
{
	struct session *s;
	int kind;

	if (wire_parse_data(b, len, d) < 0)
		return -EINVAL;
	s = peer_index_get(t, d->receiver_index, &kind);
	if (!s)
		return -ENOENT;
	if (kind != IDX_SESSION || !replay_check(&s->replay, d->counter))
		return -EALREADY;
	if (timers_session_expired(tc, s, now))
		return -EKEYEXPIRED;
	*out = s;
	return 0;
}

/* An opened datagram of n plaintext bytes under counter ctr: recorded,
 * unless a copy of it came first. n or -EALREADY. */
static int datapath_receive_done(struct session *s, uint64_t ctr, int n, const struct ep *from, uint64_t now)
{
	struct peer *p;

	if (replay_update(&s->replay, ctr) < 0)
		return -EALREADY;
	p = s->peer;
	timers_data_received(p, (size_t)n, from->relay != 0, now);
	/* Roaming and path upgrades: only an authenticated, fresh packet moves
	 * the endpoint. */
	if (paths_roam_due(p, from)) {
		char a[UDP_ADDR_STRLEN];
		ep_format(from, a, sizeof(a));
		log_info("peer %s: now %s %s", p->identity, from->relay ? "through the" : "direct at", a);
		paths_roam(p, from, now);
	}
	return n;
}

/* A datagram that passed datapath_receive_check, decrypted in place (the
 * plaintext lands where the ciphertext was) and recorded: its plaintext
 * length, -EBADMSG or -EALREADY. */
static int datapath_receive_open(struct session *s, const struct wire_data *d, uint8_t *b, const struct ep *from,
    uint64_t now)
{
	int n = aead_open(s->recv_aead, d->counter, d->header, WIRE_DATA_HDR_LEN, d->ct, d->ct_len,
	    b + WIRE_DATA_HDR_LEN);

	if (n < 0)
		return -EBADMSG;
	return datapath_receive_done(s, d->counter, n, from, now);
}

int datapath_receive(struct peer_table *t, const struct timers_cfg *tc, uint8_t *b, size_t len,
    const struct ep *from, uint64_t now, struct session **out)
{
	struct wire_data d;
	struct session *s;
	int n;

	if ((n = datapath_receive_check(t, tc, b, len, now, &d, &s)) < 0)
		return n;
	if ((n = datapath_receive_open(s, &d, b, from, now)) < 0)
		return n;
	*out = s;
	return n;
}

static void datapath_count_drop(struct overlay *o, int err)
{
	if (err == -EALREADY)
		o->drops_replay++;
	else if (err == -EBADMSG)
		o->drops_auth++;
	else if (err == -ENOENT)
		o->drops_session++;
	else if (err == -EKEYEXPIRED)
		o->drops_expired++;
}

/* A DATA datagram b, opened and recorded, n plaintext bytes: to q2q0. */
static void datapath_rx_plain(struct overlay *o, struct session *s, uint8_t *b, int n, const struct ep *from)
{
	struct peer *p = s->peer;
	uint8_t *pt = b + WIRE_DATA_HDR_LEN;
	const uint8_t *src, *dst;
	int family, whole = 0;

	o->io.opened++;
	if (n == 0)
		return;		/* keepalive */
	if ((pt[0] >> 4) != 4 && (pt[0] >> 4) != 6) {
		size_t len2 = (size_t)n;

		/* Probes and fragments are the path's business; a fragment
		 * that completes a packet goes on as one. */
		whole = pmtu_rx(o, s, &pt, &len2);
		if (whole < 0)
			o->hooks->rx_message(o, p, pt, (size_t)n);
		if (whole <= 0 || ((pt[0] >> 4) != 4 && (pt[0] >> 4) != 6))
			return;
		n = (int)len2;
	}
	if (ip_packet_addrs(pt, (size_t)n, &family, &src, &dst) < 0)
		return;
	if (!cert_binds_source(&p->ci, family, src) || foreign_rx(o, p, pt, (size_t)n) < 0) {
		o->drops_source++;
		return;
	}
	if (!firewall_rx(o, p, pt, (size_t)n))
		return;
	p->rx_bytes += (uint64_t)n;
	p->rx_packets++;
	if (from->relay)
		p->relay_rx_bytes += (uint64_t)n;
	if (whole) {
		/* In the reassembly buffer, which the next fragment reuses:
		 * out now, after what this round queued before it. */
		datapath_rxq_flush(o);
		datapath_tun_write(o, pt, (size_t)n);
		return;
	}
	datapath_tun_deliver(o, pt, (size_t)n);
}

/* A DATA datagram that passed datapath_receive_check, opened here. */
static void datapath_rx_open(struct overlay *o, struct session *s, const struct wire_data *d, uint8_t *b,
    const struct ep *from)
{
	int n = datapath_receive_open(s, d, b, from, now_ms());

	if (n < 0)
		datapath_count_drop(o, n);
	else
		datapath_rx_plain(o, s, b, n, from);
}

static void datapath_rx_data(struct overlay *o, uint8_t *b, size_t len, const struct ep *from)
{
	struct timers_cfg tc = timers_cfg_of(o->cfg);
	struct wire_data d;
	struct session *s;
	int rc = datapath_receive_check(o->peers, &tc, b, len, now_ms(), &d, &s);

	if (rc < 0)
		datapath_count_drop(o, rc);
	else
		datapath_rx_open(o, s, &d, b, from);
}

/* The opens of this round so far, across the pool, then each in order
 * as datapath_rx_data would have done it. */
static void datapath_open_pending(struct overlay *o)
{
	struct datapath_par *par = o->io.par;
	uint64_t now = now_ms();
	int n;

	if (!par || !par->rx.n)
		return;
	cryptobatch_run(&par->rx, o->io.workers);
	n = par->rx.n;
	par->rx.n = 0;
	for (int i = 0; i < n; i++) {
		struct cryptobatch_job *j = &par->rx.job[i];
		int r = j->rc < 0 ? -EBADMSG : datapath_receive_done(par->rx_s[i], j->ctr, j->rc, &par->rx_from[i], now);

		if (r < 0)
			datapath_count_drop(o, r);
		else
			datapath_rx_plain(o, par->rx_s[i], j->b, r, &par->rx_from[i]);
	}
}

/* One datagram of a receive round: DATA waits in the open batch, with
 * all that can be checked before opening done now; anything else goes
 * after what came before it. What is dropped before any crypto counts
 * as a stray in c, for rxrest.c. */
static void datapath_rx_batched(struct overlay *o, uint8_t *b, size_t len, const struct ep *from,
    struct rxrest_call *c)
{
	struct datapath_par *par = o->io.par;
	struct timers_cfg tc;
	struct wire_data d;
	struct session *s;
	int i, type = wire_type(b, len);

	c->datagrams++;
	if (type < 0) {
		c->strays++;
		return;		/* silence */
	}
	if (type != WIRE_DATA) {
		datapath_open_pending(o);
		datapath_rx(o, b, len, from);
		return;
	}
	tc = timers_cfg_of(o->cfg);
	if ((i = datapath_receive_check(o->peers, &tc, b, len, now_ms(), &d, &s)) < 0) {
		datapath_count_drop(o, i);
		c->strays++;
		return;
	}
	if (!par) {
		datapath_rx_open(o, s, &d, b, from);
		return;
	}
	if (par->rx.n == CRYPTOBATCH_MAX)
		datapath_open_pending(o);
	i = cryptobatch_add(&par->rx, s->recv_aead, d.counter, b, d.ct_len);
	par->rx_s[i] = s;
	par->rx_from[i] = *from;
}

/* A datagram the authority relayed to us from another node. */
static void datapath_rx_relayed(struct overlay *o, uint8_t *b, size_t len, const struct sockaddr_in6 *sa)
{
	struct ep from;
	uint8_t *pl = b + AW_RELAY_HDR;

	if (paths_relay_open(&o->nat, b, len, sa, &from) < 0)
		return;
	if (pl[0] == WIRE_HELLO || pl[0] == WIRE_COOKIE || pl[0] == WIRE_HS || pl[0] == WIRE_DATA)
		datapath_rx(o, pl, len - AW_RELAY_HDR, &from);
}

void datapath_rx(struct overlay *o, uint8_t *b, size_t len, const struct ep *from)
{
	switch (wire_type(b, len)) {
	case WIRE_DATA: datapath_rx_data(o, b, len, from); break;
	case WIRE_HELLO: attempt_rx_hello(o, b, len, from); break;
	case WIRE_COOKIE: attempt_rx_cookie(o, b, len, from); break;
	case WIRE_HS: attempt_rx_hs(o, b, len, from); break;
	case AW_RELAYED:
		if (!from->relay)
			datapath_rx_relayed(o, b, len, &from->sa);
		break;
	case AW_PROBE_REPLY:
		if (!from->relay)
			paths_rx_probe_reply(o, b, len, &from->sa);
		break;
	case AW_PUNCH:
	case AW_PUNCH_ACK:
		if (!from->relay)
			paths_rx_punch(o, b, len, from);
		break;
	default:
		break;	/* silence */
	}
}

/* Receiving with UDP GRO: each buffer is a run of datagrams from one
 * peer, cut at seg bytes. */
static void datapath_udp_io_gro(struct overlay *o, int fd, struct rxrest_call *c)
{
	for (int round = 0; round < 8; round++) {
		int n = udp_recv_gro(fd, o->io.grx);

		c->drained = n < UDP_GRO_MAX;
		if (n <= 0)
			break;
		o->io.rxq_on = 1;
		for (int i = 0; i < n; i++) {
			struct ep from = { .sa = o->io.grx->peer[i], .sock = 0 };
			size_t len = o->io.grx->len[i], seg = o->io.grx->seg[i];

			for (size_t off = 0; off < len; off += seg)
				datapath_rx_batched(o, o->io.grx->buf[i] + off, len - off < seg ? len - off : seg, &from, c);
		}
		datapath_open_pending(o);
		datapath_rxq_flush(o);
		o->io.rxq_on = 0;
		datapath_flush(o);
		if (n < UDP_GRO_MAX)
			break;
	}
}

/* Receiving without UDP GRO: a datagram to a buffer. */
static void datapath_udp_io_plain(struct overlay *o, int fd, struct rxrest_call *c)
{
	for (int round = 0; round < 8; round++) {
		int n = udp_recv_batch(fd, o->io.rx);

		c->drained = n < UDP_BATCH_MAX;
		if (n <= 0)
			break;
		o->io.rxq_on = 1;
		for (int i = 0; i < n; i++) {
			struct ep from = { .sa = o->io.rx->peer[i], .sock = 0 };

			datapath_rx_batched(o, o->io.rx->buf[i], o->io.rx->len[i], &from, c);
		}
		datapath_open_pending(o);
		datapath_rxq_flush(o);
		o->io.rxq_on = 0;
		datapath_flush(o);
		if (n < UDP_BATCH_MAX)
			break;
	}
}

void datapath_rx_udp(struct overlay *o, struct rxrest_call *c)
{
	int fd = o->io.udp_io.fd;
	uint64_t opened = o->io.opened;

	memset(c, 0, sizeof(*c));
	if (o->io.grx)
		datapath_udp_io_gro(o, fd, c);
	else
		datapath_udp_io_plain(o, fd, c);
	c->authenticated = (int)(o->io.opened - opened);
}

/* ------------------------------------------------------ from q2q0 */

/* One IP packet from q2q0: route it to a peer, or answer it. */
static void datapath_tun_packet(struct overlay *o, uint8_t *pkt, size_t n)
{
	{
		const uint8_t *src, *dst;
		int family;
		struct peer *p;

		if (ip_packet_addrs(pkt, (size_t)n, &family, &src, &dst) < 0)
			return;
		if ((size_t)n > (size_t)o->mtu) {
			/* Someone raised q2q0's MTU past what we carry. */
			datapath_icmp_too_big(o, pkt, (size_t)n, (size_t)o->mtu);
			return;
		}
		p = route_table_lookup(o->routes, family, dst);
		if (!p) {
			o->hooks->route_unknown(o, pkt, (size_t)n, family, dst);
			return;
		}
		firewall_tx(o, p, pkt, (size_t)n);
		if (pmtu_admit(o, p, pkt, (size_t)n) < 0 || foreign_tx(p, pkt, (size_t)n) < 0)
			return;
		pmtu_send(o, p, pkt, (size_t)n);
	}
}

/* A TCP super-packet in tunbuf for a peer whose path has a smaller MTU
 * than q2q0 (pmtu.c): lower its segment size so every segment goes
 * whole, none needs splitting or an ICMP error. */
static void datapath_tun_fit(struct overlay *o, size_t len)
{
	const uint8_t *pkt = o->io.tunbuf + TSO_VNET_HDR_LEN, *src, *dst;
	struct peer *p;
	size_t inner;
	int family;

	if (ip_packet_addrs(pkt, len, &family, &src, &dst) < 0)
		return;
	p = route_table_lookup(o->routes, family, dst);
	if (!p || !p->have_ep)
		return;
	inner = pmtu_inner_max(o, p);
	if (inner < (size_t)o->mtu)
		tso_cap_mss(o->io.tunbuf, pkt, len, inner);
}

void datapath_rx_tun(struct overlay *o)
{
	/* Seals wait for the flush below, which hands them to the pool. */
	o->io.defer = o->io.par != NULL;
	for (int i = 0; i < TUN_BATCH; i++) {
		ssize_t n = read(o->io.tun_io.fd, o->io.tunbuf, sizeof(o->io.tunbuf));
		int nseg = 1;

		if (n <= 0)
			break;
		if (o->io.vnet) {
			/* Cut TCP super-packets into MTU-sized segments and complete
			 * partial checksums: peers get ordinary IP packets. */
			if (n < TSO_VNET_HDR_LEN)
				continue;
			datapath_tun_fit(o, (size_t)n - TSO_VNET_HDR_LEN);
			nseg = tso_split(o->io.tunbuf, o->io.tunbuf + TSO_VNET_HDR_LEN, (size_t)n - TSO_VNET_HDR_LEN,
			    o->io.segs[0], DATAPATH_SEG_STRIDE, DATAPATH_SEG_MAX, o->io.seglen);
			if (nseg <= 0)
				continue;
		} else {
			memcpy(o->io.segs[0], o->io.tunbuf, (size_t)n);
			o->io.seglen[0] = (size_t)n;
		}
		for (int k = 0; k < nseg; k++)
			datapath_tun_packet(o, o->io.segs[k], o->io.seglen[k]);
	}
	datapath_flush(o);
	o->io.defer = 0;
}
