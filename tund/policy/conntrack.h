/*
 * Connection tracking for the identity firewall: which flows to and from
 * peers are open, so replies to our own connections and the rest of a
 * connection a rule let in pass without asking the rules again. A fixed
 * table (memory bounded at ct_init), open addressing with a short probe
 * window; an entry lives until its timeout passes without traffic, and
 * when a window is full the entry closest to expiry gives way. Pure: the
 * time comes in as an argument.
 */
#ifndef Q2Q_CONNTRACK_H
#define Q2Q_CONNTRACK_H

#include <stddef.h>
#include <stdint.h>

/* A flow as seen from this node: local and remote address and port
 * (ICMP echo: the identifier as both ports), protocol, and the peer's
 * identity hash, so a flow opened with one peer never admits another.
 * A fragment train (train = 1) holds the IP identification in the ports:
 * the fragments after the first of a packet the firewall let in. */
struct ct_key {		/* no implicit padding: hashed and compared as bytes */
	uint32_t peer;
	uint16_t lport, rport;
	uint8_t family, proto;	/* AF_INET/AF_INET6; 6, 17, 1 or 58 */
	uint8_t train;		/* 1: the fragments of one packet (flow.h), 0: a flow */
	uint8_t pad;		/* zero */
	uint8_t laddr[16], raddr[16];
};

enum ct_dir { CT_OUT = 1, CT_IN = 2 };	/* who opened it */
#define CT_DIR_MASK	0x7f
#define CT_CLOSING	0x80	/* or'ed into dir: a TCP flow saw FIN or RST */

struct ct_entry {
	struct ct_key k;
	uint64_t expires;	/* ms; 0 = free */
	uint32_t gen;		/* the rules' generation that let a CT_IN flow in */
	int16_t rule[2];	/* the rules that let it in, per layer; -1 none */
	uint8_t dir;
};

struct ct_table {
	struct ct_entry *e;
	uint32_t mask;		/* size - 1 */
	uint64_t seed;
	uint32_t used;		/* entries taken (some may have expired) */
	uint64_t evicted;	/* live entries pushed out by new flows */
};

/* size: a power of two; seed: secret, so flows cannot be aimed at one
 * window. 0 or -ENOMEM. */
int ct_init(struct ct_table *t, uint32_t size, uint64_t seed);
void ct_free(struct ct_table *t);
/* The live entry for k, or NULL. */
struct ct_entry *ct_find(struct ct_table *t, const struct ct_key *k, uint64_t now);
/* The entry for k, made if needed (replacing what must give way), its
 * timeout set to now + ttl_ms. Never NULL. */
struct ct_entry *ct_put(struct ct_table *t, const struct ct_key *k, uint64_t now, uint64_t ttl_ms);
/* Live entries now (a full scan; for q2qctl). */
uint32_t ct_count(const struct ct_table *t, uint64_t now);

#endif
