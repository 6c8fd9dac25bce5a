/*
 * The node's identity: its key, its certificate from the domain authority,
 * and the trust store of domain CAs. Enrollment and renewal talk to the
 * authority over TLS; their results survive restarts in state_dir/node/.
 */
#ifndef Q2Q_NODE_H
#define Q2Q_NODE_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

struct config;
struct ctl_req;
struct loop;
struct node;
struct cert_info;
struct trust_store;

int node_init(struct loop *l, const struct config *cfg, struct node **out, char *err, size_t errlen);
void node_free(struct node *n);

/* Starts enrollment; replies to req when done. fp may be NULL (TOFU). */
void node_enroll(struct node *n, struct ctl_req *req, const char *identity,
    const char *authority, const char *token, const char *fp);
/* Renews now; replies to req (may be NULL) when done. */
void node_renew(struct node *n, struct ctl_req *req);

void node_status(struct node *n, json_object *obj);

/* NULL until enrolled. */
const struct cert_info *node_cert(const struct node *n);
struct trust_store *node_trust(struct node *n);

#endif
