/*
 * Does an authority's lookup answer answer the question? An authority
 * speaks for its own domain's certificates, not for which one we asked
 * about: a PEER naming someone else, or a certificate that does not hold
 * the address looked up, is refused before the overlay sees it (issue 8).
 */
#ifndef Q2Q_NODE_ANSWER_H
#define Q2Q_NODE_ANSWER_H

#include <stddef.h>
#include <stdint.h>

struct cert_info;

/* The question: an identity (asked_id non-empty) or an overlay address
 * (family AF_INET or AF_INET6, addr 4 or 16 bytes). */
struct answer_question {
	const char *asked_id;
	int family;
	const uint8_t *addr;
};

/* 0 if the answer (the identity the PEER names and its certificate's
 * bindings) fits q; else -EPROTO with the reason in why. */
int answer_fits(const struct answer_question *q, const char *ident, const struct cert_info *ci,
    char *why, size_t whylen);

#endif
