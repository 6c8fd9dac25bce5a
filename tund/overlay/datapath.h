/*
 * The data path (datapath.c): packets between q2q0 and peers, and every
 * datagram's dispatch by type. It owns the sockets, batches and buffers
 * (struct datapath_io). datapath_receive is the part of receiving DATA
 * that needs no socket, for the receive loop and for unit tests: it
 * checks, in this order, the receiver index, the replay window, the age
 * of the keys and the AEAD tag, and only then records the counter, tells
 * the peer's timers and lets the packet move the peer's endpoint.
 */
#ifndef Q2Q_DATAPATH_H
#define Q2Q_DATAPATH_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include "netstack/aead.h"
#include "netstack/gro.h"
#include "netstack/tso.h"
#include "netstack/udp.h"
#include "netstack/wire.h"
#include "tund/base/loop.h"

struct ep;
struct overlay;
struct peer;
struct peer_table;
struct session;
struct timers_cfg;
struct workers;
struct datapath_par;
struct rxrest_call;

#define DATAPATH_SEG_STRIDE	2048	/* >= the largest MTU we carry */
#define DATAPATH_RXQ_MAX	256	/* packets coalesced per TUN flush */
#define DATAPATH_SEG_MAX	160	/* a 64 KB super-packet cut at an MSS down to ~400 */
#define DATAPATH_OVERHEAD	(WIRE_DATA_HDR_LEN + AEAD_TAG_LEN)

/* q2q0, the UDP data port and what is read from and written to them. */
struct datapath_io {
	struct loop_io tun_io;
	struct loop_io udp_io;
	struct udp_batch *rx, *tx;
	int ntx;
	uint32_t tx_relay[UDP_BATCH_MAX];	/* per send slot: relay target, 0 = direct */
	int tx_via[UDP_BATCH_MAX];		/* ... at which authority (paths.h) */
	int one_sock;			/* datapath_tx_slot chose a birthday socket */
	struct sockaddr_in6 one_to;
	uint8_t one_buf[UDP_BUF_SIZE];
	int vnet;			/* TUN offload: virtio_net_hdr on reads and writes */
	int gso;			/* UDP GSO on sends (until the kernel refuses) */
	/* Decrypted packets of one receive round, coalesced for q2q0. */
	int rxq_on, nrxq;
	struct gro_pkt rxq[DATAPATH_RXQ_MAX];
	struct gro_out rxout[DATAPATH_RXQ_MAX];
	uint8_t *rxbuf;			/* DATAPATH_RXQ_MAX * (vnet header + DATAPATH_SEG_STRIDE) */
	struct udp_gro_batch *grx;	/* UDP GRO receive batch, NULL without GRO */
	uint8_t tunbuf[TSO_VNET_HDR_LEN + 65536];
	uint8_t segs[DATAPATH_SEG_MAX][DATAPATH_SEG_STRIDE];
	size_t seglen[DATAPATH_SEG_MAX];
	/* The worker pool's share (datapath.c); NULL with one thread. */
	struct workers *workers;	/* the engine's, not ours to free; NULL: none */
	struct datapath_par *par;	/* NULL: one thread, no batches */
	int defer;			/* in datapath_rx_tun: seals wait for the flush */
	uint64_t opened;		/* DATA datagrams opened, any socket */
};

/* Crypto of batches across w's threads from now on (none with fewer
 * than two); 0 or -ENOMEM, which leaves io on the loop thread alone. */
int datapath_use_workers(struct datapath_io *io, struct workers *w);
/* Frees what datapath_use_workers made; io's sockets are overlay.c's. */
void datapath_io_free(struct datapath_io *io);

/* 1 if a plaintext of pt_len bytes, sealed, fits a send slot (relayed:
 * one that also carries the RELAY header), else 0. */
int datapath_slot_fits(size_t pt_len, int relayed);
/* Where the next datagram to `to` is written (NULL: it cannot be sent);
 * datapath_tx_commit queues it, datapath_flush sends the batch. */
uint8_t *datapath_tx_slot(struct overlay *o, const struct ep *to);
void datapath_tx_commit(struct overlay *o, size_t len);
void datapath_flush(struct overlay *o);
/* Seals one plaintext (empty: a keepalive) for p's current session into
 * the batch; -EAGAIN without a usable session or endpoint, -EMSGSIZE if
 * it is too big for the slot of p's path. */
int datapath_seal(struct overlay *o, struct peer *p, const uint8_t *pt, size_t len);
/* Whether datapath_seal has a session and an endpoint for p now. */
int datapath_can_seal(struct overlay *o, struct peer *p);
/* Sends (or queues) one inner packet to p, starting a handshake if needed. */
void datapath_send(struct overlay *o, struct peer *p, const uint8_t *pkt, size_t len);
/* A session can send now: out with what p's queue holds. */
void datapath_flush_queue(struct overlay *o, struct peer *p);
/* Answers a packet from q2q0 with an ICMP "too big" naming mtu. */
void datapath_icmp_too_big(struct overlay *o, const uint8_t *pkt, size_t len, size_t mtu);
/* Answers a packet from q2q0 with an ICMP "unreachable". */
void datapath_icmp_unreach(struct overlay *o, const uint8_t *pkt, size_t len);
/* One datagram from the data port, a birthday socket or the relay; DATA
 * is decrypted in place, so b must stay writable. */
void datapath_rx(struct overlay *o, uint8_t *b, size_t len, const struct ep *from);
/* What the data port and q2q0 hold now, read in batches and handled
 * (the loop's callbacks, in overlay.c, call these); *c says what the
 * port's datagrams were, for rxrest.c. */
void datapath_rx_udp(struct overlay *o, struct rxrest_call *c);
void datapath_rx_tun(struct overlay *o);

/* One DATA datagram b (len bytes) from `from`, decrypted in place: the
 * plaintext is at b + WIRE_DATA_HDR_LEN. Returns its length (0: a
 * keepalive) with *out the session it came in, or -EINVAL (malformed),
 * -ENOENT (unknown index), -EALREADY (replayed, or an index that is no
 * session), -EKEYEXPIRED (keys too old) or -EBADMSG (forged or damaged);
 * on an error, no peer or session changes. */
int datapath_receive(struct peer_table *t, const struct timers_cfg *tc, uint8_t *b, size_t len,
    const struct ep *from, uint64_t now, struct session **out);

#endif
