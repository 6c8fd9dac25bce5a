/*
 * The node's identity: its key, its certificate from the domain authority,
 * and the trust store of domain CAs. Enrollment and renewal talk to the
 * authority over TLS; their results survive restarts in state_dir/node/.
 *
 * What the control socket asks of it, it answers in plain C snapshots,
 * copies the caller keeps; the control protocol (tund/ctl/) decides how
 * they look on the wire. Enrollment and renewal answer through a
 * callback, exactly once, perhaps before they return.
 */
#ifndef Q2Q_NODE_H
#define Q2Q_NODE_H

#include <stddef.h>
#include <stdint.h>

#include "identity/cert.h"

struct config;
struct loop;
struct node;
struct tlsconn;
struct trust_store;
struct sockaddr_in6;
struct WOLFSSL_CTX;

int node_init(struct loop *l, const struct config *cfg, struct node **out, char *err, size_t errlen);
/* An enrollment or renewal still waiting is answered with a failure first. */
void node_free(struct node *n);

/* What q2qctl status shows of the node. */
struct node_status_info {
	int enrolled;
	/* With enrolled: */
	struct cert_info ci;		/* identity, addresses, routes, serial, validity */
	int cert_expired;		/* now past ci.not_after */
	char authority[64];		/* "192.0.2.10:8788" */
	int have_ca;			/* the domain's CA is in the trust store: */
	uint8_t ca_fingerprint[32];	/* SHA-256 of its certificate */
};

void node_status_info(const struct node *n, struct node_status_info *out);

/* Answer codes besides 0: the request was wrong, or it failed. */
enum { NODE_EUSAGE = 1, NODE_EFAIL };

/* code 0 with the node's status after the change and a message saying
 * what was done ("enrolled alice@example.com: ..."), or a NODE_E* code
 * with why not. st is valid only during the call. */
typedef void node_done_fn(void *arg, int code, const char *msg, const struct node_status_info *st);

/* Starts enrollment; fp may be NULL (TOFU). */
void node_enroll(struct node *n, const char *identity, const char *authority, const char *token,
    const char *fp, node_done_fn *fn, void *arg);
/* Renews now; fn may be NULL when nobody waits for the answer. */
void node_renew(struct node *n, node_done_fn *fn, void *arg);

/* For the authority link: the authority's address, a TLS client context
 * with the node's certificate (caller frees with wolfSSL_CTX_free), and the
 * check of the chain the server presented on c: a serving certificate for
 * domain (NULL: our own) under that domain's CA, which must be the pinned
 * one (another domain's is learned on first use). */
const struct sockaddr_in6 *node_authority_addr(const struct node *n);
int node_client_ctx(struct node *n, struct WOLFSSL_CTX **out);
int node_check_authority(struct node *n, const char *domain, struct tlsconn *c,
    char *err, size_t errlen);
/* Another domain's CA, offered by an authority: pinned, or as the trust
 * policy allows (domtrust.h); -EAGAIN: look the domain up in DNS
 * (node_domtrust, domtrust_discover) and ask again. A different CA for a
 * known domain is refused. */
int node_trust_peer_ca(struct node *n, const char *domain, const uint8_t *der, size_t len,
    char *err, size_t errlen);

/* The node's key and certificate DER (key: caller frees and wipes). */
int node_key_der(const struct node *n, uint8_t **der, size_t *len);
void node_cert_der(const struct node *n, const uint8_t **der, size_t *len);

/* Whether the node wants the overlay up (q2qctl up/down, kept on disk),
 * and through which exit node (exit_node NULL or out "": none). */
int node_want_up(const struct node *n);
int node_set_want_up(struct node *n, int up, const char *exit_node);
void node_want_exit(const struct node *n, char *out, size_t len);

/* NULL until enrolled. */
const struct cert_info *node_cert(const struct node *n);
struct trust_store *node_trust(struct node *n);
struct domtrust;
struct domtrust *node_domtrust(struct node *n);

#endif
