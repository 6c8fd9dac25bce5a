/*
 * The trust store: which CA certificate speaks for which domain. Entries
 * come from configuration (a pinned fingerprint) or are learned on first
 * use, and persist in a directory: "<domain>.der" holds the CA certificate,
 * "<domain>.pin" its SHA-256 fingerprint (64 hex digits and a newline).
 * A known domain's CA is never replaced behind the operator's back.
 * Not thread-safe; one owner (the daemon's loop) uses it.
 */
#ifndef Q2Q_IDENTITY_TRUST_H
#define Q2Q_IDENTITY_TRUST_H

#include <stddef.h>
#include <stdint.h>

struct trust_store;

/*
 * Opens dir (created mode 0700 if missing) and loads its entries into
 * *out (free with trust_free). Files with other names are ignored; a .der
 * or .pin that is malformed or disagrees with its sibling is -EBADMSG.
 */
int trust_open(const char *dir, struct trust_store **out);
void trust_free(struct trust_store *ts);
/*
 * Pins a fingerprint for domain (from config or --ca-fingerprint). Pinning
 * the same value again is 0; a different existing pin or certificate is
 * -EEXIST. -EINVAL for a bad domain; -errno if it cannot be written.
 */
int trust_pin(struct trust_store *ts, const char *domain, const uint8_t fp[32]);

enum trust_verdict {
	TRUST_MATCH,    /* known certificate, or it matches the pin (then stored) */
	TRUST_LEARNED,  /* unknown domain, allow_tofu: stored and pinned now */
	TRUST_MISMATCH, /* a different or invalid CA for the domain: refuse */
	TRUST_UNKNOWN,  /* unknown domain without TOFU, or it could not be stored */
};

/*
 * Decides whether ca_der may speak for domain. ca_der must be a valid
 * self-signed CA certificate whose CN is domain, else TRUST_MISMATCH. Only
 * MATCH and LEARNED mean "trust it"; err explains the others.
 */
enum trust_verdict trust_check(struct trust_store *ts, const char *domain,
			       const uint8_t *ca_der, size_t len,
			       int allow_tofu, char *err, size_t errlen);
/*
 * The CA certificate known for domain; *der points into the store and
 * stays valid until the store changes or is freed. -ENOENT if none.
 */
int trust_get(const struct trust_store *ts, const char *domain,
	      const uint8_t **der, size_t *len);
/*
 * Calls fn for every CA certificate known (e.g. to load them into a
 * wolfSSL CTX). Stops at and returns the first nonzero value fn returns.
 */
int trust_foreach(const struct trust_store *ts,
		  int (*fn)(const char *domain, const uint8_t *der, size_t len,
			    void *arg),
		  void *arg);

#endif
