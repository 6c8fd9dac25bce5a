/*
 * Wire-format RDATA of SRV and TLSA records, read with a cursor and a
 * remaining length. The bytes come from the network through libunbound,
 * which checked the signatures but not what is inside: every length is
 * checked here before it is used. SRV targets are never compressed
 * (RFC 2782), so a compression pointer is an error, not something to
 * follow.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/hash.h>

#include "identity/cert.h"
#include "identity/x509.h"
#include "tund/node/dnsrr.h"

static int dnsrr_why(char *why, size_t whylen, const char *msg)
{
	if (why && whylen)
		snprintf(why, whylen, "%s", msg);
	return -EBADMSG;
}

/* A domain name in wire format into dotted lower case: letters, digits,
 * '-' and '_' only, which is all an authority's host name needs. */
static int dnsrr_name(const uint8_t *p, size_t len, char *out, size_t cap, size_t *used,
    char *why, size_t whylen)
{
	size_t i = 0, o = 0;

	for (;;) {
		uint8_t l;

		if (i >= len)
			return dnsrr_why(why, whylen, "name runs past the record");
		l = p[i++];
		if (l == 0)
			break;
		if (l & 0xc0)
			return dnsrr_why(why, whylen, "compressed or extended label in a name");
		if (l > len - i)
			return dnsrr_why(why, whylen, "label runs past the record");
		if (o + l + 2 > cap || o + l + 1 > DNSRR_NAME_MAX)
			return dnsrr_why(why, whylen, "name too long");
		if (o)
			out[o++] = '.';
		for (uint8_t k = 0; k < l; k++) {
			char c = (char)p[i + k];

			if (c >= 'A' && c <= 'Z')
				c = (char)(c - 'A' + 'a');
			if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
				return dnsrr_why(why, whylen, "name holds a character a host name may not");
			out[o++] = c;
		}
		i += l;
	}
	out[o] = '\0';
	*used = i;
	return 0;
}

int dnsrr_srv_parse(const uint8_t *rd, size_t len, struct dnsrr_srv *out, char *why, size_t whylen)
{
	size_t used;
	int rc;

	memset(out, 0, sizeof(*out));
	if (len < 7)
		return dnsrr_why(why, whylen, "SRV record shorter than 7 bytes");
	out->priority = (uint16_t)(rd[0] << 8 | rd[1]);
	out->weight = (uint16_t)(rd[2] << 8 | rd[3]);
	out->port = (uint16_t)(rd[4] << 8 | rd[5]);
	rc = dnsrr_name(rd + 6, len - 6, out->target, sizeof(out->target), &used, why, whylen);
	if (rc < 0)
		return rc;
	if (6 + used != len)
		return dnsrr_why(why, whylen, "bytes after the SRV target");
	if (out->target[0] && out->port == 0)
		return dnsrr_why(why, whylen, "SRV port 0");
	return 0;
}

int dnsrr_tlsa_parse(const uint8_t *rd, size_t len, struct dnsrr_tlsa *out, char *why, size_t whylen)
{
	memset(out, 0, sizeof(*out));
	if (len < 4)
		return dnsrr_why(why, whylen, "TLSA record without association data");
	if (len - 3 > DNSRR_TLSA_DATA_MAX)
		return dnsrr_why(why, whylen, "TLSA association data longer than 64 bytes");
	out->usage = rd[0];
	out->selector = rd[1];
	out->mtype = rd[2];
	out->len = len - 3;
	memcpy(out->data, rd + 3, out->len);
	return 0;
}

int dnsrr_tlsa_match(const struct dnsrr_tlsa *t, const uint8_t *ca_der, size_t len)
{
	struct x509_cert c;
	uint8_t h[32];

	if (t->usage != 2 || t->mtype != 1 || t->len != 32 || t->selector > 1)
		return -ENOTSUP;
	if (t->selector == 0) {
		if (cert_fingerprint(ca_der, len, h) < 0)
			return 0;
	} else {
		if (x509_ca_check(ca_der, len, NULL, 0, &c, NULL, 0) < 0 ||
		    wc_Sha256Hash(c.spki, (word32)c.spki_len, h) != 0)
			return 0;
	}
	return memcmp(h, t->data, 32) == 0;
}

int dnsrr_tlsa_name(const struct dnsrr_srv *s, char *buf, size_t len)
{
	int n = snprintf(buf, len, "_%u._tcp.%s", s->port, s->target);

	return n < 0 || (size_t)n >= len || n > DNSRR_NAME_MAX ? -ENAMETOOLONG : 0;
}

const struct dnsrr_srv *dnsrr_srv_pick(const struct dnsrr_srv *v, int n)
{
	const struct dnsrr_srv *best = NULL;

	for (int i = 0; i < n; i++) {
		if (!v[i].target[0])
			continue;
		if (!best || v[i].priority < best->priority ||
		    (v[i].priority == best->priority && v[i].weight > best->weight))
			best = &v[i];
	}
	return best;
}
