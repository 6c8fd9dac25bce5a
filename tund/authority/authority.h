/*
 * Authority mode: the domain's registry, and the TLS service on
 * TCP 8788 that enrolls identities, renews their certificates, and (later)
 * tells nodes about each other. Enabled by the config's authority section.
 * The CA key is not in this process: the CA process (ca.h) signs.
 *
 * What the control socket asks of it, it answers in plain C snapshots,
 * copies the caller keeps; the control protocol (tund/ctl/) decides how
 * they look on the wire.
 */
#ifndef Q2Q_AUTHORITY_H
#define Q2Q_AUTHORITY_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include "identity/addr.h"
#include "identity/name.h"
#include "tund/authority/admit.h"
#include "tund/authority/relay.h"

struct authority;
struct config;
struct loop;
struct domtrust;

/*
 * Gets the CA certificate and a serving certificate from the CA process
 * on ca_fd (tund/authority/ca.h; ca_fd is taken over and closed by
 * authority_stop, or here on failure), opens the registry
 * (state_dir/authority/) and starts listening. dt: the daemon's trust
 * policy (not owned), which alone decides whether a node of another domain
 * is taken. Error text in err.
 */
int authority_start(struct loop *l, const struct config *cfg, struct domtrust *dt,
    int ca_fd, struct authority **out, char *err, size_t errlen);
void authority_stop(struct authority *a);

/* The config's policy was reloaded: every registered node of the domain
 * gets the rules naming it now, over the link it has (no reconnect). */
void authority_policy_changed(struct authority *a);

/* One-time enrollment token for identity; token is NUL-terminated text. */
int authority_invite(struct authority *a, const char *identity, char *token, size_t tokcap,
    int64_t *expires, char *err, size_t errlen);
int authority_revoke(struct authority *a, const char *identity, char *err, size_t errlen);

/* The service as configured and its CA (q2qctl status, accounts). */
struct authority_status_info {
	char domain[ID_DOMAIN_MAX + 1];
	uint8_t ca_fingerprint[32];	/* SHA-256 of the CA certificate */
	struct sockaddr_in6 listen;
	struct addr_prefix pool;
	struct admit_stats admission;	/* TLS connections: slots and verdicts */
};

/* One account of the registry. */
struct authority_account_info {
	char identity[ID_NAME_MAX + 1];
	uint8_t v4[4];
	int revoked;
	int64_t cert_not_after;		/* 0: no live certificate */
};

void authority_status_info(const struct authority *a, struct authority_status_info *out);
/* Every account, in the registry's order: 0 with *out, n entries, the
 * caller's to free() (NULL when there are none), or -errno. */
int authority_accounts_info(struct authority *a, struct authority_account_info **out, int *n);

/* What the service did since it started (q2qctl metrics): plain
 * counters, bumped where it happens. Broker latency is the time from a
 * LOOKUP to the callee's BROKER_OK, counted in buckets whose upper bounds
 * (milliseconds) are authority_broker_bounds_ms; the last bucket is above
 * them all. */
#define AUTHORITY_BROKER_BUCKETS 10
extern const uint32_t authority_broker_bounds_ms[AUTHORITY_BROKER_BUCKETS];

struct authority_metrics_info {
	int clients;			/* TLS connections open */
	int registered;			/* of them, nodes registered online */
	uint64_t enroll_accepted;	/* enrollment requests whose token was good */
	uint64_t enroll_refused;	/* refused: identity, domain, CSR or token */
	uint64_t renewals;		/* renewal requests with a good CSR */
	uint64_t certs_issued;		/* certificates the CA signed and we sent */
	uint64_t lookups_found, lookups_unknown;	/* by identity or address */
	uint64_t broker_ok, broker_refused, broker_timeout;
	uint64_t broker_buckets[AUTHORITY_BROKER_BUCKETS + 1];
	uint64_t broker_ms_sum;
	uint64_t relayed_packets, relayed_bytes;	/* UDP relay, node to node */
	/* Authenticated datagrams the relay did not forward, by
	 * enum relay_verdict (relay.h; [0], forwarded, stays 0). */
	uint64_t relay_refused[RELAY_VERDICTS];
};

void authority_metrics_info(const struct authority *a, struct authority_metrics_info *out);

/* The CA certificate (DER), for a node in the same daemon. */
void authority_ca(const struct authority *a, const uint8_t **der, size_t *len);

#endif
