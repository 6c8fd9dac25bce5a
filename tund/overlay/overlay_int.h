/*
 * The overlay's insides, shared by its own files and included by no
 * others: overlay.c (up/down, authorities, peer bookkeeping, the timer),
 * datapath.c (packets), attempt.c (handshakes), paths.c (NAT traversal)
 * and overlay_ctl.c (control requests); timers.c decides what is due
 * when. Everything else uses overlay.h. It holds struct overlay, the sizes
 * that more than one of those files needs, and the ov_ functions they call
 * across files. All run on the event loop; none returns memory for the
 * caller to free.
 */
#ifndef Q2Q_OVERLAY_INT_H
#define Q2Q_OVERLAY_INT_H

#include <stddef.h>
#include <stdint.h>
#include <net/if.h>
#include <netinet/in.h>

#include "identity/cert.h"
#include "identity/name.h"
#include "netstack/aead.h"
#include "netstack/authwire.h"
#include "netstack/cookie.h"
#include "netstack/gro.h"
#include "netstack/replay.h"
#include "netstack/tso.h"
#include "netstack/udp.h"
#include "netstack/wire.h"
#include "tund/conf/config.h"
#include "tund/base/loop.h"
#include "tund/overlay/attempt.h"
#include "tund/overlay/peer.h"
#include "tund/overlay/timers.h"

struct addr_wait;
struct authlink;
struct authlink_peer;
struct ctl_req;
struct hs_ctx;
struct node;
struct peer_table;
struct route_table;

#define SEG_STRIDE		2048	/* >= the largest MTU we carry */
#define RXQ_MAX			256	/* packets coalesced per TUN flush */
#define SEG_MAX			160	/* a 64 KB super-packet cut at an MSS down to ~400 */
#define OVERHEAD		(WIRE_DATA_HDR_LEN + AEAD_TAG_LEN)
/* Birthday probing: the hard side opens BDAY_SOCKETS mappings towards the
 * peer; the other side probes random ports of the hard side's address.
 * With 256 mappings among ~64k ports, 1000 probes hit with ~98% odds. */
#define BDAY_SOCKETS		256
#define BDAY_BURST		20	/* probes per pacing step (timers.c): 800/s */
#define BDAY_KEEP_MS		60000

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
	struct attempt_set att;
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

static inline uint64_t now_ms(void) { return loop_now_ms(); }

/* The timer settings as the config says now (a reload changes them). */
static inline struct timers_cfg ov_timers_cfg(const struct overlay *o)
{
	struct timers_cfg c = {
		.rekey_after_ms = (uint64_t)o->cfg->rekey_after * 1000,
		.keepalive_ms = (uint64_t)o->cfg->keepalive * 1000,
	};
	return c;
}

/* datapath.c: sending and receiving. ov_tx_slot says where the next
 * datagram to `to` is written (NULL: it cannot be sent), ov_tx_commit
 * queues it, ov_flush_tx sends the batch. */
uint8_t *ov_tx_slot(struct overlay *o, const struct ep *to);
void ov_tx_commit(struct overlay *o, size_t len);
void ov_flush_tx(struct overlay *o);
/* Seals one plaintext (empty: a keepalive) for p's current session into
 * the batch; -EAGAIN without a usable session or endpoint. */
int ov_seal(struct overlay *o, struct peer *p, const uint8_t *pt, size_t len);
/* Sends (or queues) one inner packet to p, starting a handshake if needed. */
void ov_send_to_peer(struct overlay *o, struct peer *p, const uint8_t *pkt, size_t len);
/* A session can send now: out with what p's queue holds. */
void ov_flush_queue(struct overlay *o, struct peer *p);
/* Answers a packet from q2q0 with an ICMP "unreachable". */
void ov_icmp_unreach(struct overlay *o, const uint8_t *pkt, size_t len);
/* One datagram from the data port, a birthday socket or the relay; DATA
 * is decrypted in place, so b must stay writable. */
void ov_rx_datagram(struct overlay *o, uint8_t *b, size_t len, const struct ep *from);
/* Event loop callbacks for o->udp_io and o->tun_io. */
void ov_udp_io(struct loop_io *io, uint32_t events);
void ov_tun_io(struct loop_io *io, uint32_t events);

/* attempt.c: handshakes. */
void ov_start_initiation(struct overlay *o, struct peer *p);
void ov_attempt_free(struct overlay *o, struct attempt *a);
void ov_attempts_tick(struct overlay *o, uint64_t now);
void ov_rx_hello(struct overlay *o, const uint8_t *b, size_t len, const struct ep *from);
void ov_rx_cookie(struct overlay *o, const uint8_t *b, size_t len, const struct ep *from);
void ov_rx_hs(struct overlay *o, const uint8_t *b, size_t len, const struct ep *from);

/* paths.c: NAT traversal and path upkeep. */
void ov_probe(struct overlay *o);
void ov_rx_probe_reply(struct overlay *o, const uint8_t *b, size_t len, const struct sockaddr_in6 *sa);
void ov_rx_punch(struct overlay *o, const uint8_t *b, size_t len, const struct ep *from);
void ov_punch_start(struct overlay *o, struct peer *p);
void ov_peer_paths(struct overlay *o, struct peer *p, uint64_t now);
/* Closes the birthday sockets; keep_used keeps those a peer's path uses. */
void ov_bday_close(struct overlay *o, int keep_used);
void ov_check_addresses(struct overlay *o);

/* overlay_ctl.c: control requests and the q2q messages they send. */
void ov_rx_message(struct overlay *o, struct peer *p, const uint8_t *m, size_t len);
void ov_waiters_session(struct overlay *o, struct peer *p);
void ov_waiters_tick(struct overlay *o);
void ov_waiter_free(struct overlay *o, struct waiter *w);

/* overlay.c: the timer, peers' certificates and routes, authorities. */
void ov_arm(struct overlay *o);
int ov_policy_allows(struct overlay *o, const char *identity);
/* 1 (with a message in err) if ci's IPv4 is ours or another peer's. */
int ov_v4_clash(struct overlay *o, const struct peer *p, const struct cert_info *ci,
    char *err, size_t errlen);
void ov_peer_set_cert(struct overlay *o, struct peer *p, const struct cert_info *ci);
/* NULL if no authority for identity's domain is configured. */
struct ov_link *ov_link_for(struct overlay *o, const char *identity);
/* The peer pe describes, its certificate checked; NULL with err set. */
/* Looks p up again at our authority (a fresh broker introduction). */
int ov_reintroduce(struct overlay *o, struct peer *p);
struct peer *ov_peer_from_authority(struct overlay *o, const struct authlink_peer *pe,
    char *err, size_t errlen);
/* A packet for an address no route names: look it up, queue it meanwhile. */
void ov_route_unknown(struct overlay *o, const uint8_t *pkt, size_t len, int family, const uint8_t *dst);

#endif
