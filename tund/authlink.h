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
struct node;

struct authlink_ops {
	void (*on_up)(void *arg);			/* registered */
	void (*on_revoked)(void *arg, const char *serial);
};

/* A lookup's answer: err 0 and the peer's certificate and endpoints, or
 * err < 0 with a message. Called exactly once per lookup. */
typedef void authlink_lookup_fn(void *arg, int err, const char *msg, const char *identity,
    const uint8_t *cert, size_t certlen, const struct sockaddr_in6 *eps, int neps);

int authlink_start(struct loop *l, struct node *n, int udp_port,
    const struct authlink_ops *ops, void *arg, struct authlink **out);
void authlink_stop(struct authlink *al);
int authlink_is_up(const struct authlink *al);
const char *authlink_state(const struct authlink *al);

/* identity != NULL: by name; else by overlay address (family, addr). */
void authlink_lookup(struct authlink *al, const char *identity, int family, const uint8_t *addr,
    authlink_lookup_fn *fn, void *arg);

/* Drops every pending lookup whose arg is arg (its owner is going away). */
void authlink_forget(struct authlink *al, void *arg);

#endif
