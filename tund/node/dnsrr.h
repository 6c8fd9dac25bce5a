/*
 * The DNS records that lead to a foreign domain's authority, read from
 * their wire-format RDATA (as libunbound hands it over) and checked
 * without any I/O: SRV (where the authority listens), TLSA (which CA
 * speaks for it, DANE-TA style) and A/AAAA (the SRV target's address).
 * See PROTOCOL.md, "Finding a domain's authority".
 */
#ifndef Q2Q_NODE_DNSRR_H
#define Q2Q_NODE_DNSRR_H

#include <stddef.h>
#include <stdint.h>

#define DNSRR_NAME_MAX 253

struct dnsrr_srv {
	uint16_t priority, weight, port;
	char target[DNSRR_NAME_MAX + 1];	/* dotted, no final dot, lower case */
};

#define DNSRR_TLSA_DATA_MAX 64

struct dnsrr_tlsa {
	uint8_t usage, selector, mtype;
	uint8_t data[DNSRR_TLSA_DATA_MAX];
	size_t len;
};

/* 0, or -EBADMSG with the reason in why. */
int dnsrr_srv_parse(const uint8_t *rd, size_t len, struct dnsrr_srv *out, char *why, size_t whylen);
int dnsrr_tlsa_parse(const uint8_t *rd, size_t len, struct dnsrr_tlsa *out, char *why, size_t whylen);

/*
 * Does ca_der (a CA certificate) match t? Only DANE-TA (usage 2) with
 * matching type 1 (SHA-256) counts: selector 0 hashes the whole
 * certificate, which is exactly q2q's CA fingerprint (cert_fingerprint),
 * selector 1 its SubjectPublicKeyInfo. 1 match, 0 no match, -ENOTSUP a
 * record of another kind (the caller skips it).
 */
int dnsrr_tlsa_match(const struct dnsrr_tlsa *t, const uint8_t *ca_der, size_t len);

/* The name the TLSA for an SRV target lives at (RFC 7673):
 * "_<port>._tcp.<target>". -ENAMETOOLONG if it does not fit. */
int dnsrr_tlsa_name(const struct dnsrr_srv *s, char *buf, size_t len);

/* Picks the SRV to use from v[0..n): lowest priority, then highest
 * weight (no random spread: a node talks to one authority per domain).
 * A "." target (service not offered) is never picked. NULL if none. */
const struct dnsrr_srv *dnsrr_srv_pick(const struct dnsrr_srv *v, int n);

#endif
