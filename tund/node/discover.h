/*
 * Finding a foreign domain's authority in DNS, validated with DNSSEC
 * (libunbound): "_q2q._tcp.<domain>" SRV for where it listens, then the
 * TLSA at "_<port>._tcp.<target>" for its CA, then the target's AAAA and
 * A. Asynchronous: libunbound's worker thread does the resolving, its
 * descriptor sits in the daemon's event loop, and answers come back as
 * callbacks from there. See PROTOCOL.md, "Finding a domain's authority".
 */
#ifndef Q2Q_NODE_DISCOVER_H
#define Q2Q_NODE_DISCOVER_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "tund/node/dnsrr.h"

struct discover;
struct loop;
struct config;

#define DISCOVER_MAX_TLSA 8

/* What DNS said about a domain (valid during the callback). */
struct discover_answer {
	const char *domain;
	struct sockaddr_in6 authority;		/* the SRV target's address (v4 as v4-mapped) */
	char target[DNSRR_NAME_MAX + 1];
	int secure;				/* SRV and TLSA both DNSSEC-validated */
	char tlsa_name[DNSRR_NAME_MAX + 1];
	int ntlsa;				/* 0: no TLSA (or not secure) */
	struct dnsrr_tlsa tlsa[DISCOVER_MAX_TLSA];
	char insecure_why[320];			/* why !secure, for first-use logs */
	/* How long the answer may be kept (seconds): the smallest TTL of the
	 * records it rests on, within DISCOVER_TTL_MIN..DISCOVER_TTL_MAX. */
	uint32_t ttl;
};

/* A TTL of 0 must not make us ask on every packet, nor a huge one keep a
 * moved authority forever. */
#define DISCOVER_TTL_MIN 10
#define DISCOVER_TTL_MAX 86400

/* err 0 and the answer, or err < 0 and why (naming the domain); then
 * only a->domain is meaningful. */
typedef void discover_fn(void *arg, int err, const char *why, const struct discover_answer *a);

/*
 * Sets up the resolver from cfg (dns_anchor, dns_resolver) and starts its
 * worker thread now, before the engine's seccomp filter forbids threads.
 * Reads the trust anchor file now too. NULL *out with
 * trust_policy = "pinned": nothing is ever looked up.
 */
int discover_init(struct loop *l, const struct config *cfg, struct discover **out,
    char *err, size_t errlen);
void discover_free(struct discover *d);

/* Looks domain up (d not NULL); fn is called exactly once, from the
 * loop, except when the query cannot even be sent. */
void discover_domain(struct discover *d, const char *domain, discover_fn *fn, void *arg);
/* Drops the callbacks of every lookup whose arg is arg. */
void discover_cancel(struct discover *d, void *arg);

#endif
