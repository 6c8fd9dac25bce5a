/*
 * Other domains' peers as this node shows them (PROTOCOL.md, "IPv4 across
 * domains"): each gets a node-local IPv4 from foreign_pool (the book,
 * localv4.h, kept in state_dir/node/foreign-v4 across restarts), which
 * the routing table, resolve, whois and the names socket give out, and
 * the data path translates to and from its certified IPv4
 * (routing/xlat4.h). An address of the book that no peer holds now leads
 * to a lookup of the identity it was given to, so a program that kept
 * the address across a restart reaches the same peer.
 */
#ifndef Q2Q_FOREIGN_H
#define Q2Q_FOREIGN_H

#include <stddef.h>
#include <stdint.h>

struct overlay;
struct peer;

/* The book for o (o->book), read from the state directory: 0 or -ENOMEM
 * (a missing or damaged file is an empty book, or what of it is valid,
 * and is logged). foreign_free saves it and frees it. */
int foreign_init(struct overlay *o);
void foreign_free(struct overlay *o);

/* domain's CA is no longer trusted (q2qctl trust forget): the book
 * forgets its identities, so their old addresses lead nowhere. */
void foreign_forget_domain(struct overlay *o, const char *domain);

/* p's certificate was accepted: a peer of another domain gets (or keeps)
 * its local IPv4; none is left without one except when the book is
 * full of live peers (logged; p then has no IPv4 here). */
void foreign_peer_cert(struct overlay *o, struct peer *p);
/* The IPv4 to route to p: its local one, its certified one if it is of
 * this node's domain, NULL for another domain's peer without one. */
const uint8_t *foreign_route_v4(const struct overlay *o, const struct peer *p);

/* The data path's hooks, on an IP packet (len bytes) in place. From p
 * (its source already checked against the certificate): 0 to deliver,
 * <0 to drop (an IPv4 another domain certified that is not shown here).
 * To p: 0 to send, <0 to drop. */
int foreign_rx(const struct overlay *o, const struct peer *p, uint8_t *pkt, size_t len);
int foreign_tx(const struct peer *p, uint8_t *pkt, size_t len);

/* The foreign identity the book gave address a (family's: a local IPv4,
 * or the IPv6 derived from the identity), or NULL; with ci, also its
 * identity and addresses as shown here into ci (has_v4, has_v6 set). */
struct cert_info;
const char *foreign_identity_of(const struct overlay *o, int family, const uint8_t *a,
    struct cert_info *ci);

#endif
