/*
 * Authority mode: the domain's registry, and the TLS service on
 * TCP 8788 that enrolls identities, renews their certificates, and (later)
 * tells nodes about each other. Enabled by the config's authority section.
 * The CA key is not in this process: the CA process (ca.h) signs.
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

/*
 * Gets the CA certificate and a serving certificate from the CA process
 * on ca_fd (tund/authority/ca.h; ca_fd is taken over and closed by
 * authority_stop, or here on failure), opens the registry
 * (state_dir/authority/) and starts listening. trust: the daemon's trust
 * store, for nodes of other domains. Error text in err.
 */
int authority_start(struct loop *l, const struct config *cfg, struct trust_store *trust,
    int ca_fd, struct authority **out, char *err, size_t errlen);
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
