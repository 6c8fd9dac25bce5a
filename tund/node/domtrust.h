/*
 * Which CA may speak for a foreign domain. A pin (config, q2qctl trust
 * pin) or a CA trusted before always decides. Otherwise trust_policy
 * does: "dnssec" takes a CA only when a DNSSEC-validated TLSA record
 * names it, "first-use" also takes the first CA seen when DNS has no
 * validated answer, "pinned" takes nothing. What DNS said is kept per
 * domain (the evidence) between the lookup and the moment a CA is offered
 * (the authority's TLS chain, or a broker request's CA); a CA accepted
 * goes into the trust store with how it was learned. Nothing is pinned
 * on a refusal.
 */
#ifndef Q2Q_NODE_DOMTRUST_H
#define Q2Q_NODE_DOMTRUST_H

#include <stddef.h>
#include <stdint.h>

#include "tund/node/discover.h"

struct config;
struct domtrust;
struct loop;
struct trust_store;

/* ts is the node's store (not owned). A resolver that cannot start (no
 * trust anchor file, say) is logged, not fatal: pins still work. */
int domtrust_init(struct loop *l, const struct config *cfg, struct trust_store *ts,
    struct domtrust **out, char *err, size_t errlen);
void domtrust_free(struct domtrust *dt);

/*
 * May ca_der (offered by who, e.g. "authority 192.0.2.20:8788") speak for
 * domain? 0 yes (and recorded if new); -EPERM no, with the reason in
 * err; -EAGAIN: the policy wants DNSSEC and the domain has not been
 * looked up yet (domtrust_discover, then ask again).
 */
int domtrust_judge(struct domtrust *dt, const char *domain, const uint8_t *ca_der, size_t len,
    const char *who, char *err, size_t errlen);

/* Looks domain up in DNS and keeps what it says for domtrust_judge;
 * fn (may be NULL) then gets the answer, e.g. the authority's address.
 * Without DNS (trust_policy "pinned") fn gets -EPERM at once. */
void domtrust_discover(struct domtrust *dt, const char *domain, discover_fn *fn, void *arg);
void domtrust_cancel(struct domtrust *dt, void *arg);
/* Keeps what a lookup of domain said (err, why, a as discover_fn gets
 * them) for domtrust_judge; domtrust_discover does this itself. */
void domtrust_note(struct domtrust *dt, const char *domain, int err, const char *why,
    const struct discover_answer *a);

#endif
