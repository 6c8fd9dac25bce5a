/*
 * Authority mode: the domain's CA, its registry, and the TLS service on
 * TCP 8788 that enrolls identities, renews their certificates, and (later)
 * tells nodes about each other. Enabled by the config's authority section.
 */
#ifndef Q2Q_AUTHORITY_H
#define Q2Q_AUTHORITY_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

struct authority;
struct config;
struct loop;
struct trust_store;

/* Loads or creates the CA (state_dir/authority/), opens the registry and
 * starts listening. Error text in err. */
/* trust: the daemon's trust store, for nodes of other domains. */
int authority_start(struct loop *l, const struct config *cfg, struct trust_store *trust,
    struct authority **out, char *err, size_t errlen);
void authority_stop(struct authority *a);

/* One-time enrollment token for identity; token is NUL-terminated text. */
int authority_invite(struct authority *a, const char *identity, char *token, size_t tokcap,
    int64_t *expires, char *err, size_t errlen);
int authority_revoke(struct authority *a, const char *identity, char *err, size_t errlen);

/* Adds domain, CA fingerprint, listen address, accounts to obj. */
void authority_status(struct authority *a, json_object *obj, int with_accounts);

/* The CA certificate (DER), for a node in the same daemon. */
void authority_ca(const struct authority *a, const uint8_t **der, size_t *len);

#endif
