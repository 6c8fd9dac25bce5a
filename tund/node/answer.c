/*
 * Lookup answers against their questions (tund/node/answer.h). Pure: the
 * certificate has been parsed; its signature is checked later, by the
 * overlay, against the domain's CA.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "identity/cert.h"
#include "tund/node/answer.h"

int answer_fits(const struct answer_question *q, const char *ident, const struct cert_info *ci,
    char *why, size_t whylen)
{
	char a[INET6_ADDRSTRLEN];

	/* The PEER's identity field and its certificate must agree, whatever
	 * was asked: the overlay keys the peer by the former. */
	if (strcmp(ident, ci->identity) != 0) {
		snprintf(why, whylen, "the answer names %s but carries the certificate of %s",
		    ident, ci->identity);
		return -EPROTO;
	}
	if (q->asked_id && q->asked_id[0]) {
		if (strcmp(q->asked_id, ident) != 0) {
			snprintf(why, whylen, "asked for %s, the authority answered with %s",
			    q->asked_id, ident);
			return -EPROTO;
		}
		return 0;
	}
	if ((q->family != AF_INET && q->family != AF_INET6) || !q->addr) {
		snprintf(why, whylen, "a lookup with neither identity nor address");
		return -EPROTO;
	}
	if (!cert_binds_source(ci, q->family, q->addr)) {
		inet_ntop(q->family, q->addr, a, sizeof(a));
		snprintf(why, whylen, "asked who has %s, the authority answered with %s, whose "
		    "certificate does not hold it", a, ident);
		return -EPROTO;
	}
	return 0;
}
