/*
 * Paths to peers (paths.c): NAT traversal and path upkeep. It keeps what
 * the authority's UDP service tells us of our NAT (struct paths_nat) and
 * our birthday sockets and local addresses (struct paths_local). The
 * decisions about a peer's endpoint need no I/O: whether an authenticated
 * packet moves it (roaming, upgrades from the relay to a direct path) and
 * the move itself. When a direct path has gone quiet and when candidates
 * are probed again is timers.h's to say.
 */
#ifndef Q2Q_PATHS_H
#define Q2Q_PATHS_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include "netstack/authwire.h"
#include "netstack/replay.h"
#include "tund/base/loop.h"

struct ep;
struct overlay;
struct peer;
struct peer_table;

/* Birthday probing: the hard side opens this many mappings towards the
 * peer; the other side probes random ports of the hard side's address.
 * With 256 mappings among ~64k ports, 1000 probes hit with ~98% odds. */
#define PATHS_BDAY_SOCKETS	256

/* Another domain's authority, which relays between its own nodes and us
 * (PROTOCOL.md, "Relays across domains"): our id and key from our
 * registration there as a foreign node, and that relay's counters. Its
 * ports P and P+2 are probed with the key, so the relay knows where to
 * send (what P saw) and can tell its nodes how our NAT maps. */
struct paths_relay {
	int have_udp;
	uint32_t node_id;
	uint8_t udp_key[AW_KEY_LEN];
	struct sockaddr_in6 auth_udp[2];	/* its ports P (the relay) and P+2 */
	uint64_t probe_sent_txid[2];
	int answered;			/* a probe of this registration came back from P */
	struct replay relay_replay;
	uint64_t relay_ctr;
};

/* Relays by the index of the authority link they came with (overlay.c's
 * links; at least as many). 0 is our own authority: struct paths_nat's
 * own fields below, never xr[0]. */
#define PATHS_RELAYS 49

/* The authority's UDP service: our id and key there, what it saw of us
 * from its two ports, and the relay's counters; other domains' relays. */
struct paths_nat {
	int have_udp;
	uint32_t node_id;
	uint8_t udp_key[AW_KEY_LEN];
	struct sockaddr_in6 auth_udp[2];
	uint64_t probe_txid, probe_sent_txid[2];
	int have_reflexive[2];
	struct sockaddr_in6 reflexive[2];
	struct replay relay_replay;
	uint64_t relay_ctr;
	struct paths_relay xr[PATHS_RELAYS];
};

struct paths_bday_sock {
	struct loop_io io;
	struct overlay *o;
	int idx;
};

/* Our side of the paths: birthday sockets (index 1..n_bday; 0 is the
 * data port) and the local addresses, to notice a move. */
struct paths_local {
	struct paths_bday_sock bday[PATHS_BDAY_SOCKETS + 1];
	int n_bday;
	void (*bday_io_fn)(struct loop_io *io, uint32_t events);	/* the loop's, for new sockets */
	uint64_t addr_hash;
};

/* Probes both of the authority's UDP ports for our public address, and
 * port P of every other domain's authority we are registered with. */
void paths_probe(struct overlay *o);

/* Relays. via names the authority (0 ours, else the index of the link to
 * another domain's). The link to via registered us with node_id and key
 * (auth: its TCP address, whose port P is the UDP service's): we may
 * relay there from now on (and a new session there means new ids: the
 * caller refreshes its peers). paths_relay_gone: that link is closed;
 * peers relayed there lose the relay. Keys are wiped when dropped. */
void paths_relay_up(struct overlay *o, int via, uint32_t node_id, const uint8_t key[AW_KEY_LEN],
    const struct sockaddr_in6 *auth);
void paths_relay_gone(struct overlay *o, int via);
/* Pure, on our registrations alone (nat): where datagrams for relay via
 * go, NULL if we are not registered there; */
const struct sockaddr_in6 *paths_relay_addr(const struct paths_nat *nat, int via);
/* the RELAY header for a payload of len bytes already at buf +
 * AW_RELAY_HDR (buf holds cap) towards node target at relay via: the
 * datagram's length, or -errno; */
int paths_relay_seal(struct paths_nat *nat, int via, uint32_t target, uint8_t *buf, size_t len,
    size_t cap);
/* a RELAYED datagram from sa: 0 with from naming the sender at the relay
 * that sent it, once per counter, or -EBADMSG for anything that is not
 * exactly that (another source, id, key, a replay). */
int paths_relay_open(struct paths_nat *nat, const uint8_t *b, size_t len, const struct sockaddr_in6 *sa,
    struct ep *from);
void paths_rx_probe_reply(struct overlay *o, const uint8_t *b, size_t len, const struct sockaddr_in6 *sa);
void paths_rx_punch(struct overlay *o, const uint8_t *b, size_t len, const struct ep *from);
/* PUNCH without I/O. An introduction's token (self is our identity) gives
 * the peer its PUNCH keys and a fresh counter and window; 0 or -errno.
 * paths_punch_build writes a PUNCH or PUNCH_ACK with the next counter
 * (AW_PUNCH_LEN bytes, or -errno). paths_punch_open returns the peer whose
 * introduction authenticates the datagram, once per counter: NULL for a
 * forgery, a replay, one reflected back to us, or one of an old
 * introduction. */
int paths_punch_keys(struct peer *p, const char *self, const uint8_t *token);
int paths_punch_build(struct peer *p, int type, uint8_t *buf, size_t cap);
struct peer *paths_punch_open(struct peer_table *t, const uint8_t *b, size_t len);
/* The authority introduced p: punch, and start a birthday round if one
 * side's NAT maps each destination anew. */
void paths_punch_start(struct overlay *o, struct peer *p);
/* On the loop timer: birthday sockets, probes (when, timers.h decides). */
void paths_tick(struct overlay *o, uint64_t now);
/* Path upkeep for p on the loop timer. It returns what it wants of the
 * caller: PATHS_WANT_REINTRO, p has been on the relay a while since an
 * introduction, so ask our authority to introduce us again (and tell
 * timers_reintro_sent if it was asked). */
enum paths_want { PATHS_WANT_NOTHING, PATHS_WANT_REINTRO };
enum paths_want paths_tick_peer(struct overlay *o, struct peer *p, uint64_t now);
/* What birthday socket bs holds now, handled (for the loop's callback). */
void paths_rx_bday(struct paths_bday_sock *bs);
/* Closes the birthday sockets; keep_used keeps those a peer's path uses. */
void paths_bday_close(struct overlay *o, int keep_used);
/* Looks at our local addresses (on the loop timer, when
 * timers_addr_check_due says): 1 if they changed since the last look, so
 * the caller must re-register with the authorities, else 0. */
int paths_addresses_changed(struct overlay *o, uint64_t now);

/* A candidate that is one of our own public mappings is ourselves: behind
 * an address many customers share (a CGNAT) the authority's guess at a
 * peer's port (its TCP source with its local UDP port) can be our own
 * mapping, and what we send there the NAT hairpins back to us. Drops such
 * candidates from p (order kept); returns how many went. Pure. */
int paths_drop_own_mappings(const struct paths_nat *nat, struct peer *p);

/* Is sa behind our own public address (the address of one of our
 * mappings, another port)? Then the path to it turns in the NAT we share
 * with it (a hairpin), if that NAT hairpins at all. Pure. */
int paths_shares_public_address(const struct paths_nat *nat, const struct sockaddr_in6 *sa);

/* Does an authenticated, fresh packet from `from` move p there? A direct
 * packet always does; a relayed one only when p has no endpoint, is on
 * the relay already, or its direct path has been quiet for 2 s (the peer
 * gave up on direct, so our direct packets are likely lost too). Call
 * after timers_data_received, never for a packet not yet authenticated. */
int paths_roam_due(const struct peer *p, const struct ep *from);
/* Moves p's endpoint to `from`; back from the relay, `from` becomes a
 * direct candidate and a later relay spell may ask for introductions anew. */
void paths_roam(struct peer *p, const struct ep *from, uint64_t now);

#endif
