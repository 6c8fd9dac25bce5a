/*
 * Peers and their sessions, without I/O: who we know (identity,
 * certificate, endpoints), the data sessions keyed by our receiver index,
 * and the small queue of packets waiting for a session. The overlay
 * (tund/overlay/overlay.c) does the sockets and the handshakes around it.
 */
#ifndef Q2Q_PEER_H
#define Q2Q_PEER_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include "identity/cert.h"
#include "netstack/replay.h"
#include "tund/overlay/plpmtu.h"
#include "tund/overlay/timers.h"

#define PEER_MAX_EPS 16
#define PEER_QUEUE_MAX 32
#define PEER_PKT_MAX 2048

struct aead;
struct claims_self;
struct hs;
struct peer;

/* Where a peer is reached: directly at sa, or (relay != 0) through an
 * authority's relay to the node with that id there: our own authority's
 * (via 0) or another domain's (via: the index of our link to it;
 * paths.h). sock is the local socket (0: the data port; others:
 * birthday-probe sockets). */
struct ep {
	struct sockaddr_in6 sa;
	uint32_t relay;
	int sock;
	int via;
};

int ep_equal(const struct ep *a, const struct ep *b);
/* "192.0.2.12:8789" or "relay" */
int ep_format(const struct ep *e, char *buf, size_t cap);

/* One direction-pair of data keys from one handshake. */
struct session {
	struct peer *peer;
	uint32_t local_index;		/* what the peer puts in DATA to us */
	uint32_t remote_index;		/* what we put in DATA to the peer */
	struct aead *send_aead;		/* netstack/aead.h: the keys */
	struct aead *recv_aead;
	uint64_t send_ctr;
	struct replay replay;
	uint64_t born_ms;
	int initiator;
	int can_send;			/* initiator: once the peer has our Finished */
};

/* A handshake in flight, as initiator or responder. After TLS completes
 * (AT_FLUSH) its local index belongs to the new session; the attempt stays
 * a few seconds to acknowledge or resend the last handshake bytes. */
enum attempt_stage { AT_HELLO, AT_TLS, AT_FLUSH };

/* An initiator's TLS on trial with one endpoint that sent a COOKIE. Anyone
 * who saw our HELLO can send one, so the attempt commits to an endpoint
 * only when its TLS proves the peer (attempt.c). */
#define ATTEMPT_TRIALS 8
struct attempt_trial {
	struct ep ep;
	struct hs *hs;
	uint32_t remote_index;		/* 0 until ep answered */
	uint8_t cookie[16];
	uint64_t seen_ms;		/* its first COOKIE */
	uint64_t started_ms;		/* its TLS; hs NULL: waiting its turn */
};

struct attempt {
	struct peer *peer;		/* NULL for a responder until done */
	struct hs *hs;
	int initiator;
	int stage;
	uint32_t local_index;
	uint32_t remote_index;
	struct ep ep;			/* where the handshake runs */
	uint8_t nonce[16];		/* HELLO nonce, initiator */
	uint8_t cookie[16];		/* from COOKIE, initiator */
	uint64_t started_ms;
	uint64_t next_hello_ms;
	uint64_t done_ms;		/* AT_FLUSH: when TLS completed */
	int n_trials;			/* initiator, AT_HELLO */
	struct attempt_trial trial[ATTEMPT_TRIALS];
};

struct queued {
	size_t len;
	uint8_t data[PEER_PKT_MAX];
};

struct peer {
	struct peer *next;		/* the table's list, for walks (peer_first) */
	struct peer *prev_peer;
	char identity[ID_NAME_MAX + 1];
	int have_cert;
	struct cert_info ci;
	/* Of another domain: the IPv4 this node shows for it (localv4.h),
	 * translated to and from ci.v4 on the way (routing/xlat4.h). */
	int has_local_v4;
	uint8_t local_v4[4];
	int pinned;			/* from config: keep trying */
	int n_eps;
	struct sockaddr_in6 eps[PEER_MAX_EPS];	/* direct candidates */
	uint32_t relay_id;			/* its id at relay_via's authority, 0 = unknown */
	int relay_via;				/* the authority that introduced us relays (paths.h) */
	uint32_t nat;				/* NAT_* flags the authority saw */
	/* PUNCH between us, for the latest introduction (paths.c). */
	int have_token;
	uint8_t punch_tx_key[32];		/* us -> it */
	uint8_t punch_rx_key[32];		/* it -> us */
	uint32_t punch_tx;			/* last counter sent */
	struct replay punch_rx;			/* counters taken: each PUNCH once */
	int have_ep;
	struct ep ep;				/* in use */
	/* Birthday probing against an endpoint-dependent ("hard") NAT. */
	int have_bday_ep;
	struct ep bday_ep;			/* we are hard: the socket the peer reached */
	int spray_sent;				/* we are not: probes sent to the peer's NAT */
	int spray_total;			/* probes sent to this peer, all rounds */
	int reintros;				/* re-introductions asked while on the relay */
	int bday_hit;
	struct session *cur, *prev;
	struct attempt *init;			/* our initiation, if any */
	int nq;
	struct queued *q[PEER_QUEUE_MAX];
	uint64_t rx_bytes, tx_bytes, rx_packets, tx_packets;
	uint64_t relay_rx_bytes, relay_tx_bytes;
	uint64_t fw_denied;		/* packets the identity firewall dropped */
	struct peer_timers t;			/* timers.c: its deadlines */
	/* pmtu.c: the direct path's MTU, found by probing pmtu_ep. */
	int pmtu_on;
	struct ep pmtu_ep;
	struct plpmtu pmtu;
	uint16_t frag_id;			/* the next packet we split */
	int64_t hs_done_wall;
};

/* The table: peers by identity (a hash, tund/base/hmap.h, and a list to
 * walk), sessions and attempts by local index. */
struct peer_table;

int peer_table_init(struct peer_table **out);
void peer_table_free(struct peer_table *t);	/* frees peers, sessions; not attempts' hs */

struct peer *peer_find(struct peer_table *t, const char *identity);
struct peer *peer_add(struct peer_table *t, const char *identity);	/* or the existing one */
struct peer *peer_first(struct peer_table *t);
void peer_remove(struct peer_table *t, struct peer *p);	/* drops its sessions and queue */
/* Removes a peer a refused certificate or handshake leaves behind, unless
 * something still holds it: a certificate, a session, an attempt in
 * progress (whose tick would use the freed peer), or the config (pinned).
 * Returns 1 when it was removed. */
int peer_release(struct peer_table *t, struct peer *p);

/* A fresh random receiver index not in use (never 0). */
uint32_t peer_new_index(struct peer_table *t);

enum { IDX_SESSION = 1, IDX_ATTEMPT = 2 };
int peer_index_add(struct peer_table *t, uint32_t idx, int kind, void *obj);
void peer_index_del(struct peer_table *t, uint32_t idx);
void *peer_index_get(struct peer_table *t, uint32_t idx, int *kind);
/* Slots the last lookup examined, so tests can bound probe chains. */
int peer_index_probes(const struct peer_table *t);

/* Session lifecycle: installs s as p's current (old current becomes
 * previous, old previous is freed). */
void peer_session_install(struct peer_table *t, struct peer *p, struct session *s);
void peer_session_free(struct peer_table *t, struct session *s);
void peer_drop_sessions(struct peer_table *t, struct peer *p);

/* Adds the addresses not yet among p's direct candidates (up to
 * PEER_MAX_EPS). */
void peer_merge_eps(struct peer *p, const struct sockaddr_in6 *eps, int neps);
/* Whether addr (any port) is a candidate or the endpoint of a peer: an
 * address an authority told us of over TLS, or one a session proved. */
int peer_table_expects(struct peer_table *t, const struct sockaddr_in6 *addr);
/* Call after changing any peer's ep, have_ep or eps (peer_merge_eps and
 * peer_remove call it themselves). */
void peer_eps_changed(void);

/* Queue a packet for when a session exists; drops the oldest when full. */
void peer_queue(struct peer *p, const uint8_t *pkt, size_t len);
void peer_queue_clear(struct peer *p);

/* claims_check (claims.h) of ci against the other peers' certificates
 * (a peer named like ci is its older self), each with the IPv4 this node
 * shows for it: CLAIMS_OK, another verdict with why, or -ENOMEM. */
int peer_claims(struct peer_table *t, const struct claims_self *self,
    const struct addr_prefix *allowed, int n_allowed, const struct cert_info *ci, char *why,
    size_t whylen);

/* Revoked certificate serials, each under the domain whose authority
 * reported it (tund/node/revlist.h): revlist_add's answer. */
int peer_revoked_add(struct peer_table *t, const char *domain, const char *serial,
    int64_t not_after);
void peer_revoked_expire(struct peer_table *t, int64_t now);
/* 1 if ci's own domain revoked its serial. */
int peer_revoked(const struct peer_table *t, const struct cert_info *ci);

#endif
