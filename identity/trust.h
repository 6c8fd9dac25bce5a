/*
 * The trust store: which CA certificate speaks for which domain. Entries
 * come from configuration (a pinned fingerprint) or are learned on first
 * use, and persist in a directory: "<domain>.der" holds the CA certificate,
 * "<domain>.pin" its SHA-256 fingerprint (64 hex digits and a newline),
 * "<domain>.how" how and since when it is trusted ("dnssec 1764633600\n").
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

/* How a domain's CA came to be trusted (recorded with the time). */
enum trust_source {
	TRUST_SRC_UNKNOWN,	/* a store from before sources were recorded */
	TRUST_SRC_CONFIG,	/* a trust entry's fingerprint */
	TRUST_SRC_DNSSEC,	/* a DNSSEC-validated TLSA record */
	TRUST_SRC_FIRST_USE,	/* the first CA seen (trust on first use) */
	TRUST_SRC_MANUAL,	/* q2qctl trust pin */
	TRUST_SRC_ENROLL,	/* this node's own domain, at enrollment */
};
/* "config", "dnssec", "first-use", "manual", "enrollment", "unknown". */
const char *trust_source_name(enum trust_source s);

/* trust_pin with the source and time recorded (now: seconds since 1970). */
int trust_pin_from(struct trust_store *ts, const char *domain, const uint8_t fp[32],
		   enum trust_source src, int64_t now);
/*
 * Stores ca_der for domain as learned from src (DNSSEC): the caller has
 * checked it against the evidence. Same rules as trust_check: a known
 * domain with a different CA or pin is TRUST_MISMATCH; the certificate
 * must be a valid CA for domain.
 */
enum trust_verdict trust_learn(struct trust_store *ts, const char *domain,
			       const uint8_t *ca_der, size_t len,
			       enum trust_source src, int64_t now,
			       char *err, size_t errlen);
/* Removes everything known about domain, files too. -ENOENT if nothing. */
int trust_forget(struct trust_store *ts, const char *domain);
/* Is anything (pin or certificate) known for domain? */
int trust_known(const struct trust_store *ts, const char *domain);

/* One domain as trust_list shows it. */
struct trust_info {
	const char *domain;
	uint8_t fingerprint[32];	/* the pin, or the certificate's hash */
	int have_cert;			/* the certificate itself is stored */
	enum trust_source source;
	int64_t since;			/* 0 if not recorded */
};
/* Calls fn for each known domain (in no set order). */
void trust_list(const struct trust_store *ts,
		void (*fn)(const struct trust_info *ti, void *arg), void *arg);


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
