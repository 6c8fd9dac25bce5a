/*
 * q2q certificates: X.509 v3, ECDSA P-256 / SHA-256, one CA per domain.
 * A node certificate binds an identity to its overlay addresses and to the
 * subnets it may route for; peers check those bindings on every packet.
 * The encoding of the bindings is described at the top of identity/cert.c.
 *
 * Memory: every uint8_t **der output is malloc'd and owned by the caller.
 * Messages go to err/errlen (either may be NULL/0) and never contain key
 * material.
 */
#ifndef Q2Q_IDENTITY_CERT_H
#define Q2Q_IDENTITY_CERT_H

#include <stddef.h>
#include <stdint.h>

#include "identity/addr.h"
#include "identity/file.h"
#include "identity/name.h"

struct id_key;

#define CERT_MAX_ROUTES 16
#define CERT_DER_MAX 8192       /* largest certificate or CSR we accept */

struct cert_info {
	char identity[ID_NAME_MAX + 1]; /* user@domain for nodes, the domain for a CA */
	int is_ca;
	int has_v4;
	uint8_t v4[4];
	int has_v6;
	uint8_t v6[16];
	int n_routes;
	struct addr_prefix routes[CERT_MAX_ROUTES];     /* subnets the holder may route for */
	int64_t not_before, not_after;  /* unix seconds */
	char serial[41];                /* lower-case hex */
	uint8_t fingerprint[32];        /* SHA-256 of the DER */
};

/* PKCS#10 request with subject CN=identity (a user@domain), signed by k. */
int cert_csr_make(const struct id_key *k, const char *identity,
		  uint8_t **der, size_t *len);
/*
 * Checks the CSR's self-signature and that its CN is a valid user@domain;
 * copies the CN to identity. 0 or -EBADMSG / -EKEYREJECTED / -EINVAL.
 */
int cert_csr_parse(const uint8_t *der, size_t len,
		   char identity[ID_NAME_MAX + 1], char *err, size_t errlen);

/*
 * New key (*key, free with key_free) and self-signed CA certificate for
 * domain, valid from five minutes ago for days days. basicConstraints
 * CA:TRUE, keyUsage keyCertSign|cRLSign.
 */
int cert_ca_create(const char *domain, int days, struct id_key **key,
		   uint8_t **der, size_t *len);
/*
 * Signs a node certificate for the CSR's public key with the bindings in
 * *bind: identity, v4 (required), v6, routes, not_before/not_after, serial.
 * If bind->has_v6 is 0 the derived overlay address is used; if
 * bind->serial is "" a random 128-bit serial is chosen (read it back with
 * cert_parse). Refuses (-EINVAL / -EPERM with a message) if the CSR CN
 * differs from bind->identity, the identity's domain differs from the CA's
 * CN, bind->v6 is not addr_overlay_v6(identity), ca_key does not match the
 * CA certificate, or a binding is malformed.
 */
int cert_issue(const struct id_key *ca_key, const uint8_t *ca_der,
	       size_t ca_len, const uint8_t *csr, size_t csr_len,
	       const struct cert_info *bind, uint8_t **der, size_t *len,
	       char *err, size_t errlen);
/*
 * The authority's TLS serving certificate for key, signed by the CA: subject
 * CN = the CA's domain (a bare domain names its authority), issuer the CA,
 * valid from a day ago (slow clocks) for days days (1..3650), random serial.
 * basicConstraints critical cA FALSE, keyUsage digitalSignature,
 * extKeyUsage serverAuth, subject/authority key ids, and no
 * subjectAltName: it binds no overlay address and cannot pass for a node's
 * certificate (cert_parse refuses a non-CA certificate without user@domain).
 * -EINVAL with a message if ca_key does not match the CA certificate.
 */
int cert_serving_issue(const struct id_key *ca_key, const uint8_t *ca_der,
		       size_t ca_len, const struct id_key *key, int days,
		       uint8_t **der, size_t *len, char *err, size_t errlen);
/*
 * Verifies an authority's serving certificate at now against the CA
 * certificate of domain: the CA is a valid self-signed CA for domain; the
 * certificate is signed by it, inside its validity window, not a CA, names
 * exactly domain, and carries no subjectAltName (no q2q bindings).
 * Returns 0, -EKEYREJECTED (not signed by that CA), -ETIME, -EPERM (a CA,
 * another name, bindings) or -EBADMSG (malformed, or the CA is not domain's).
 */
int cert_serving_verify(const uint8_t *der, size_t len, const uint8_t *ca_der,
			size_t ca_len, const char *domain, int64_t now,
			char *err, size_t errlen);
/*
 * Extracts the bindings. Checks structure and well-formedness only (the
 * DER, the names, the addresses); verifies no signature or date.
 */
int cert_parse(const uint8_t *der, size_t len, struct cert_info *out,
	       char *err, size_t errlen);
/*
 * Verifies a node certificate against its domain's CA certificate at time
 * now: CA signature, validity window (of both), leaf is not a CA, the
 * identity's domain equals the CA's domain, v6 is the derived address, v4
 * present, every binding well-formed. Fills *out (zeroed on failure).
 * Returns 0, -EKEYREJECTED (bad signature / wrong CA), -ETIME (outside
 * validity), -EPERM (binding rules) or -EBADMSG (malformed).
 */
int cert_verify(const uint8_t *der, size_t len, const uint8_t *ca_der,
		size_t ca_len, int64_t now, struct cert_info *out,
		char *err, size_t errlen);

int cert_fingerprint(const uint8_t *der, size_t len, uint8_t out[32]);
/* 64 lower-case hex digits and a NUL. */
int cert_fingerprint_hex(const uint8_t *fp, char out[65]);
/* 64 hex digits, either case, optionally "ab:cd:..." colon-separated. */
int cert_fingerprint_parse(const char *hex, uint8_t out[32]);
/*
 * 1 if an inner packet from src (4 or 16 bytes per family) is allowed from
 * this peer: src == v4, src == v6, or inside one of routes. Else 0.
 */
int cert_binds_source(const struct cert_info *ci, int family,
		      const uint8_t *src);

#endif
