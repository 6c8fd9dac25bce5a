/*
 * The node's standing link to its authority: TLS 1.3 over TCP with the
 * node's certificate. It registers the node's endpoints, answers lookups
 * (who is bob@example.com, who owns 100.64.0.7), and passes on revocation
 * news. It reconnects by itself, with backoff, when the link drops.
 */
#ifndef Q2Q_AUTHLINK_H
#define Q2Q_AUTHLINK_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

struct authlink;
struct loop;
struct msg_reader;
struct node;

/* What the authority tells about a node (valid during the callback). */
struct authlink_peer {
	const char *identity;
	const uint8_t *cert;
	size_t certlen;
	uint32_t node_id;		/* at the authority's UDP service (relay) */
	uint32_t nat;			/* NAT_* flags, tund/link/proto.h */
	uint8_t token[16];		/* for PUNCH datagrams between the two */
	const struct sockaddr_in6 *eps;	/* candidate endpoints, best first */
	int neps;
	const uint8_t *ca;		/* the node's domain CA, if sent */
	size_t calen;
	int via;			/* (overlay's) the link it came by, whose authority
					 * knows node_id; -1: none */
};

struct authlink_ops {
	/* Registered; node_id and key are for the UDP service. */
	void (*on_up)(void *arg, uint32_t node_id, const uint8_t key[32]);
	/* The authority revoked serial, a certificate of its own domain
	 * valid until not_after (Unix time). */
	void (*on_revoked)(void *arg, const char *serial, int64_t not_after);
	/* The authority named its domain's IPv4 pool (checked: /8../30,
	 * no host bits); may be NULL. */
	void (*on_pool)(void *arg, const uint8_t net[4], uint8_t plen);
	/* caller wants to connect; answer with authlink_broker_answer. */
	void (*on_broker)(void *arg, uint32_t id, const struct authlink_peer *caller);
	/* MSG_POLICY (tund/policy/polmsg.h), from our own authority only. */
	void (*on_policy)(void *arg, const struct msg_reader *r);
	/* A connection attempt came to an end: registered (after on_up and
	 * on_pool), or closed before that, why saying how (the authority
	 * refused us, or could not be reached); the link keeps trying by
	 * itself. May be NULL. */
	void (*on_attempt)(void *arg, int registered, const char *why);
};

/* A lookup's answer: err 0 and the peer, or err < 0 with a message.
 * Called exactly once per lookup. */
typedef void authlink_lookup_fn(void *arg, int err, const char *msg, const struct authlink_peer *peer);

/* Our gateway's port mapping (NULL: none): offered first among our
 * endpoints, now if registered, and at every later REGISTER. */
void authlink_set_mapped(struct authlink *al, const struct sockaddr_in6 *ep);

/* Drops the connection and reconnects now (our address changed). */
void authlink_restart(struct authlink *al);

void authlink_broker_answer(struct authlink *al, uint32_t id, int accept);

/* domain NULL: our own authority; else another domain's, at addr. */
int authlink_start(struct loop *l, struct node *n, int udp_port, const char *domain,
    const struct sockaddr_in6 *addr, const struct authlink_ops *ops, void *arg, struct authlink **out);
void authlink_stop(struct authlink *al);
int authlink_is_up(const struct authlink *al);
/* The authority's TCP address; its UDP service listens on the same port. */
const struct sockaddr_in6 *authlink_addr(const struct authlink *al);
const char *authlink_state(const struct authlink *al);

/* identity != NULL: by name; else by overlay address (family, addr).
 * Asked at once when registered; otherwise when the link registers, if
 * it does within 5 s (a lookup a dropped connection carried waits again
 * as long for the next one); then, or at once if the authority refused
 * us, fn hears -ENOTCONN and why. */
void authlink_lookup(struct authlink *al, const char *identity, int family, const uint8_t *addr,
    authlink_lookup_fn *fn, void *arg);

/* When this link last had fresh revocation news (Unix time; 0 never): the
 * list caught up with the authority's, or a PONG behind which no newer
 * REVOKED could be (the authority sends them at once, on the same
 * ordered stream). *cursor: the authority's number we are at. */
int64_t authlink_revocation_news(const struct authlink *al, uint64_t *cursor);

/* Drops every pending lookup whose arg is arg (its owner is going away). */
void authlink_forget(struct authlink *al, void *arg);

#endif
