/*
 * Node and CA certificates: issuing, parsing the q2q bindings back out, and
 * verifying a node certificate against its domain's CA.
 *
 * Encoding of the bindings (X.509 v3, ECDSA P-256 with SHA-256):
 *   subject        CN = identity (UTF8String); a CA's CN is its domain
 *   issuer         the CA certificate's subject Name, byte for byte
 *   serialNumber   16 random bytes, positive (or chosen by the authority)
 *   validity       UTCTime through 2049, GeneralizedTime after, in UTC
 *   extensions of a node certificate:
 *     basicConstraints   critical, cA FALSE (empty SEQUENCE)
 *     keyUsage           critical, digitalSignature
 *     extKeyUsage        serverAuth, clientAuth (both ends run TLS both ways)
 *     subjectKeyId       first 20 bytes of SHA-256 of the public key bits
 *     authorityKeyId     the CA's subjectKeyId
 *     subjectAltName     GeneralNames, in this order:
 *       uniformResourceIdentifier  "q2q:" identity      (exactly one)
 *       iPAddress                  the IPv4 overlay address (4 bytes)
 *       iPAddress                  the IPv6 overlay address (16 bytes),
 *                                  always fd || SHA-256(identity)[0..14]
 *       uniformResourceIdentifier  "q2q-route:" prefix, one per routed
 *                                  subnet, e.g. "q2q-route:203.0.113.0/24"
 *   extensions of a CA certificate: basicConstraints critical cA TRUE,
 *   keyUsage critical keyCertSign|cRLSign, subjectKeyId.
 * The SAN is our own encoding, parsed by our own bounds-checked reader (in
 * identity/x509.c), because wolfSSL 5.5.4 drops iPAddress names unless it
 * was built with WOLFSSL_IP_ALT_NAME. A parser ignores GeneralNames and
 * URIs of other kinds, but refuses a second IPv4, IPv6 or q2q: name.
 */
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/hash.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "identity/cert.h"
#include "identity/key.h"
#include "identity/x509.h"

#define TBS_MAX 4096
#define SAN_MAX 2048
#define URI_ID "q2q:"
#define URI_ROUTE "q2q-route:"
#define SERIAL_LEN 16
#define CA_BACKDATE 300         /* tolerate a little clock skew at creation */
/* A serving certificate is made daily with a fresh key, so backdating it
 * costs nothing and keeps nodes with a slow clock from refusing the
 * authority for a while after every change. */
#define SERVING_BACKDATE 86400

static const uint8_t oid_basic_constraints[] = { 0x55, 0x1d, 0x13 };
static const uint8_t oid_key_usage[] = { 0x55, 0x1d, 0x0f };
static const uint8_t oid_ext_key_usage[] = { 0x55, 0x1d, 0x25 };
static const uint8_t oid_san[] = { 0x55, 0x1d, 0x11 };
static const uint8_t oid_skid[] = { 0x55, 0x1d, 0x0e };
static const uint8_t oid_akid[] = { 0x55, 0x1d, 0x23 };
static const uint8_t oid_server_auth[] = {
	0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01 };
static const uint8_t oid_client_auth[] = {
	0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02 };

/* Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, OCTET STRING } */
static void put_ext(struct der_w *w, const uint8_t *oid, size_t oidlen,
		    int critical, const uint8_t *val, size_t vlen)
{
	size_t m = der_begin(w, DER_SEQUENCE);

	der_put(w, DER_OID, oid, oidlen);
	if (critical)
		der_put(w, DER_BOOLEAN, "\xff", 1);
	der_put(w, DER_OCTET_STRING, val, vlen);
	der_end(w, m);
}

static int random_serial(uint8_t s[SERIAL_LEN])
{
	WC_RNG rng;
	int rc = 0;

	if (wc_InitRng(&rng) != 0)
		return -EIO;
	if (wc_RNG_GenerateBlock(&rng, s, SERIAL_LEN) != 0)
		rc = -EIO;
	wc_FreeRng(&rng);
	/* Positive, and a nonzero top byte keeps the INTEGER minimal. */
	s[0] = (uint8_t)((s[0] & 0x7f) | 0x40);
	return rc;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void hex_encode(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Authority-chosen serial: 1..20 bytes of hex, not zero. */
static int serial_from_hex(const char *hex, uint8_t *out, size_t *len)
{
	size_t n = strnlen(hex, 41), i, skip = 0;

	if (n == 0 || n > 40 || n % 2)
		return -EINVAL;
	for (i = 0; i < n / 2; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	while (skip < n / 2 && out[skip] == 0)
		skip++;
	if (skip == n / 2)
		return -EINVAL;
	memmove(out, out + skip, n / 2 - skip);
	*len = n / 2 - skip;
	return 0;
}

static void put_serial(struct der_w *w, const uint8_t *s, size_t n)
{
	uint8_t buf[21];

	buf[0] = 0;
	memcpy(buf + 1, s, n);
	if (s[0] & 0x80)
		der_put(w, DER_INTEGER, buf, n + 1);
	else
		der_put(w, DER_INTEGER, s, n);
}

static void put_uri(struct der_w *w, const char *scheme, const char *rest)
{
	char buf[ID_NAME_MAX + 32];
	int n = snprintf(buf, sizeof(buf), "%s%s", scheme, rest);

	if (n < 0 || (size_t)n >= sizeof(buf)) {
		if (!w->err)
			w->err = -EOVERFLOW;
		return;
	}
	der_put(w, DER_CTX | 6, buf, (size_t)n);
}

/* GeneralNames for a node certificate (see the comment at the top). */
static int san_build(const struct cert_info *b, const uint8_t v6[16],
		     uint8_t *out, size_t cap, size_t *len)
{
	char pfx[64];
	struct der_w w;
	size_t m;
	int i, rc;

	der_w_init(&w, out, cap);
	m = der_begin(&w, DER_SEQUENCE);
	put_uri(&w, URI_ID, b->identity);
	der_put(&w, DER_CTX | 7, b->v4, 4);
	der_put(&w, DER_CTX | 7, v6, 16);
	for (i = 0; i < b->n_routes; i++) {
		rc = addr_prefix_format(&b->routes[i], pfx, sizeof(pfx));
		if (rc)
			return rc;
		put_uri(&w, URI_ROUTE, pfx);
	}
	der_end(&w, m);
	if (w.err)
		return w.err;
	*len = w.len;
	return 0;
}

int cert_ca_create(const char *domain, int days, struct id_key **key,
		   uint8_t **der, size_t *len)
{
	uint8_t tbs[TBS_MAX], spki[KEY_SPKI_MAX], serial[SERIAL_LEN];
	uint8_t skid[X509_KEYID_LEN], ext[64];
	size_t spki_len = 0, m, e, x;
	struct id_key *k = NULL;
	struct der_w w, xw;
	int64_t now = (int64_t)time(NULL);
	int rc;

	*key = NULL;
	*der = NULL;
	*len = 0;
	if (id_parse_domain(domain, NULL, 0))
		return -EINVAL;
	if (days < 1 || days > 36500)
		return -EINVAL;
	rc = key_generate(&k);
	if (rc)
		return rc;
	rc = key_spki(k, spki, sizeof(spki), &spki_len);
	if (!rc)
		rc = x509_key_id(spki, spki_len, skid);
	if (!rc)
		rc = random_serial(serial);
	if (rc)
		goto out;

	der_w_init(&w, tbs, sizeof(tbs));
	m = der_begin(&w, DER_SEQUENCE);
	der_put(&w, DER_CTX | DER_CONSTRUCTED | 0, "\x02\x01\x02", 3);
	put_serial(&w, serial, sizeof(serial));
	x509_put_sigalg(&w);
	x509_put_name(&w, domain);
	x = der_begin(&w, DER_SEQUENCE);
	x509_put_time(&w, now - CA_BACKDATE);
	x509_put_time(&w, now + (int64_t)days * 86400);
	der_end(&w, x);
	x509_put_name(&w, domain);
	der_raw(&w, spki, spki_len);
	e = der_begin(&w, DER_CTX | DER_CONSTRUCTED | 3);
	x = der_begin(&w, DER_SEQUENCE);
	put_ext(&w, oid_basic_constraints, 3, 1,
		(const uint8_t *)"\x30\x03\x01\x01\xff", 5);
	/* keyCertSign (bit 5) | cRLSign (bit 6); one unused bit. */
	put_ext(&w, oid_key_usage, 3, 1, (const uint8_t *)"\x03\x02\x01\x06", 4);
	der_w_init(&xw, ext, sizeof(ext));
	der_put(&xw, DER_OCTET_STRING, skid, sizeof(skid));
	put_ext(&w, oid_skid, 3, 0, ext, xw.len);
	der_end(&w, x);
	der_end(&w, e);
	der_end(&w, m);
	if (w.err || xw.err) {
		rc = w.err ? w.err : xw.err;
		goto out;
	}
	rc = x509_sign(k, tbs, w.len, der, len);
	if (rc)
		goto out;
	*key = k;
	k = NULL;
out:
	key_free(k);
	return rc;
}

/* The CA certificate parses as a CA and ca_key is its key. */
static int ca_with_key(const struct id_key *ca_key, const uint8_t *ca_der, size_t ca_len,
		       struct x509_cert *ca, char *err, size_t errlen)
{
	uint8_t ca_spki[KEY_SPKI_MAX];
	size_t ca_spki_len = 0;
	char e_[160];
	int rc;

	rc = x509_ca_check(ca_der, ca_len, NULL, 0, ca, e_, sizeof(e_));
	if (rc)
		return x509_err(-EINVAL, err, errlen, "%s", e_);
	rc = key_spki(ca_key, ca_spki, sizeof(ca_spki), &ca_spki_len);
	if (rc || ca_spki_len != ca->spki_len ||
	    memcmp(ca_spki, ca->spki, ca_spki_len) != 0)
		return x509_err(-EINVAL, err, errlen,
				"CA key does not match the %s CA certificate",
				ca->subject_cn);
	return 0;
}

/* What a leaf certificate under the CA says; san NULL for none. */
struct leaf {
	const uint8_t *serial;
	size_t serial_len;
	int64_t not_before, not_after;
	const char *subject;
	const uint8_t *spki;
	size_t spki_len;
	int client_auth;		/* extendedKeyUsage clientAuth besides serverAuth */
	const uint8_t *san;
	size_t san_len;
};

/* Encodes the leaf's TBSCertificate (not a CA, digitalSignature, its key
 * ids) and signs it with the CA's key into *der (caller frees). */
static int leaf_sign(const struct id_key *ca_key, const struct x509_cert *ca,
		     const struct leaf *l, uint8_t **der, size_t *len,
		     char *err, size_t errlen)
{
	uint8_t tbs[TBS_MAX], ext[64], skid[X509_KEYID_LEN], akid[X509_KEYID_LEN];
	size_t m, x, e, s;
	struct der_w w, xw;
	int rc;

	if (ca->skid && ca->skid_len == X509_KEYID_LEN)
		memcpy(akid, ca->skid, X509_KEYID_LEN);
	else if (x509_key_id(ca->spki, ca->spki_len, akid))
		return x509_err(-EINVAL, err, errlen, "bad CA public key");
	if (x509_key_id(l->spki, l->spki_len, skid))
		return x509_err(-EINVAL, err, errlen, "bad public key");
	der_w_init(&w, tbs, sizeof(tbs));
	m = der_begin(&w, DER_SEQUENCE);
	der_put(&w, DER_CTX | DER_CONSTRUCTED | 0, "\x02\x01\x02", 3);
	put_serial(&w, l->serial, l->serial_len);
	x509_put_sigalg(&w);
	der_raw(&w, ca->subject, ca->subject_len);
	x = der_begin(&w, DER_SEQUENCE);
	x509_put_time(&w, l->not_before);
	x509_put_time(&w, l->not_after);
	der_end(&w, x);
	x509_put_name(&w, l->subject);
	der_raw(&w, l->spki, l->spki_len);
	e = der_begin(&w, DER_CTX | DER_CONSTRUCTED | 3);
	x = der_begin(&w, DER_SEQUENCE);
	put_ext(&w, oid_basic_constraints, 3, 1, (const uint8_t *)"\x30\x00", 2);
	/* digitalSignature (bit 0); seven unused bits. */
	put_ext(&w, oid_key_usage, 3, 1, (const uint8_t *)"\x03\x02\x07\x80", 4);
	der_w_init(&xw, ext, sizeof(ext));
	s = der_begin(&xw, DER_SEQUENCE);
	der_put(&xw, DER_OID, oid_server_auth, sizeof(oid_server_auth));
	if (l->client_auth)
		der_put(&xw, DER_OID, oid_client_auth, sizeof(oid_client_auth));
	der_end(&xw, s);
	put_ext(&w, oid_ext_key_usage, 3, 0, ext, xw.len);
	der_w_init(&xw, ext, sizeof(ext));
	der_put(&xw, DER_OCTET_STRING, skid, sizeof(skid));
	put_ext(&w, oid_skid, 3, 0, ext, xw.len);
	der_w_init(&xw, ext, sizeof(ext));
	s = der_begin(&xw, DER_SEQUENCE);
	der_put(&xw, DER_CTX | 0, akid, sizeof(akid));
	der_end(&xw, s);
	put_ext(&w, oid_akid, 3, 0, ext, xw.len);
	if (l->san)
		put_ext(&w, oid_san, 3, 0, l->san, l->san_len);
	der_end(&w, x);
	der_end(&w, e);
	der_end(&w, m);
	if (w.err || xw.err)
		return x509_err(w.err ? w.err : xw.err, err, errlen,
				"certificate too large");
	rc = x509_sign(ca_key, tbs, w.len, der, len);
	if (rc)
		return x509_err(rc, err, errlen, "signing failed");
	return 0;
}

int cert_issue(const struct id_key *ca_key, const uint8_t *ca_der,
	       size_t ca_len, const uint8_t *csr, size_t csr_len,
	       const struct cert_info *bind, uint8_t **der, size_t *len,
	       char *err, size_t errlen)
{
	uint8_t san[SAN_MAX], v6[16], serial[20];
	size_t san_len = 0, serial_len, spki_len;
	const uint8_t *spki;
	char csr_id[ID_NAME_MAX + 1], e_[160];
	struct x509_cert ca;
	struct id_name name;
	struct leaf l;
	int i, rc;

	*der = NULL;
	*len = 0;
	if ((rc = ca_with_key(ca_key, ca_der, ca_len, &ca, err, errlen)) < 0)
		return rc;
	rc = x509_csr_read(csr, csr_len, csr_id, &spki, &spki_len, e_,
			   sizeof(e_));
	if (rc)
		return x509_err(rc, err, errlen, "%s", e_);
	if (id_parse_user(bind->identity, &name, e_, sizeof(e_)))
		return x509_err(-EINVAL, err, errlen, "binding: %s", e_);
	if (strcmp(csr_id, bind->identity) != 0)
		return x509_err(-EPERM, err, errlen,
				"CSR is for '%s', not '%s'", csr_id,
				bind->identity);
	if (strcmp(name.domain, ca.subject_cn) != 0)
		return x509_err(-EPERM, err, errlen,
				"'%s' is not in the %s domain", bind->identity,
				ca.subject_cn);

	if (!bind->has_v4)
		return x509_err(-EINVAL, err, errlen,
				"no IPv4 overlay address for '%s'",
				bind->identity);
	addr_overlay_v6(bind->identity, v6);
	if (bind->has_v6 && memcmp(bind->v6, v6, 16) != 0) {
		char want[64];

		addr_format(AF_INET6, v6, want, sizeof(want));
		return x509_err(-EPERM, err, errlen,
				"IPv6 address is not the overlay address of '%s' (%s)",
				bind->identity, want);
	}
	if (bind->n_routes < 0 || bind->n_routes > CERT_MAX_ROUTES)
		return x509_err(-EINVAL, err, errlen,
				"%d routes (at most %d)", bind->n_routes,
				CERT_MAX_ROUTES);
	for (i = 0; i < bind->n_routes; i++)
		if (!addr_prefix_valid(&bind->routes[i]))
			return x509_err(-EINVAL, err, errlen,
					"route %d is not a valid prefix", i);
	if (bind->not_before >= bind->not_after)
		return x509_err(-EINVAL, err, errlen,
				"not_before is not before not_after");

	if (bind->serial[0]) {
		if (serial_from_hex(bind->serial, serial, &serial_len))
			return x509_err(-EINVAL, err, errlen,
					"serial is not 1-20 bytes of hex");
	} else {
		serial_len = SERIAL_LEN;
		if (random_serial(serial))
			return x509_err(-EIO, err, errlen, "no randomness");
	}
	rc = san_build(bind, v6, san, sizeof(san), &san_len);
	if (rc)
		return x509_err(rc, err, errlen, "cannot encode the bindings");
	l = (struct leaf){ .serial = serial, .serial_len = serial_len,
		.not_before = bind->not_before, .not_after = bind->not_after,
		.subject = bind->identity, .spki = spki, .spki_len = spki_len,
		.client_auth = 1, .san = san, .san_len = san_len };
	return leaf_sign(ca_key, &ca, &l, der, len, err, errlen);
}

int cert_serving_issue(const struct id_key *ca_key, const uint8_t *ca_der,
		       size_t ca_len, const struct id_key *key, int days,
		       uint8_t **der, size_t *len, char *err, size_t errlen)
{
	uint8_t spki[KEY_SPKI_MAX], serial[SERIAL_LEN];
	size_t spki_len = 0;
	int64_t now = (int64_t)time(NULL);
	struct x509_cert ca;
	struct leaf l;
	int rc;

	*der = NULL;
	*len = 0;
	if (days < 1 || days > 3650)
		return x509_err(-EINVAL, err, errlen, "%d days (expected 1..3650)", days);
	if ((rc = ca_with_key(ca_key, ca_der, ca_len, &ca, err, errlen)) < 0)
		return rc;
	if (key_spki(key, spki, sizeof(spki), &spki_len))
		return x509_err(-EINVAL, err, errlen, "bad serving key");
	if (random_serial(serial))
		return x509_err(-EIO, err, errlen, "no randomness");
	/* Server authentication only, and no bindings: it names the
	 * authority (the bare domain) and may speak for nothing else. */
	l = (struct leaf){ .serial = serial, .serial_len = sizeof(serial),
		.not_before = now - SERVING_BACKDATE, .not_after = now + (int64_t)days * 86400,
		.subject = ca.subject_cn, .spki = spki, .spki_len = spki_len };
	return leaf_sign(ca_key, &ca, &l, der, len, err, errlen);
}

int cert_serving_verify(const uint8_t *der, size_t len, const uint8_t *ca_der,
			size_t ca_len, const char *domain, int64_t now,
			char *err, size_t errlen)
{
	struct x509_cert ca, c;
	char e[160];
	int rc;

	rc = x509_ca_check(ca_der, ca_len, domain, now, &ca, e, sizeof(e));
	if (rc)
		return x509_err(rc, err, errlen, "%s", e);
	if (len > CERT_DER_MAX)
		return x509_err(-EBADMSG, err, errlen,
				"certificate larger than %d bytes", CERT_DER_MAX);
	rc = x509_cert_parse(der, len, &c, e, sizeof(e));
	if (rc)
		return x509_err(rc, err, errlen, "serving certificate: %s", e);
	/* Only a validated name may go into messages. */
	if (id_parse_domain(c.subject_cn, NULL, 0) || strcmp(c.subject_cn, domain) != 0)
		return x509_err(-EPERM, err, errlen,
				"serving certificate does not name the authority of %s",
				ca.subject_cn);
	if (strcmp(c.issuer_cn, ca.subject_cn) != 0 ||
	    key_verify_spki(ca.spki, ca.spki_len, c.tbs, c.tbs_len, c.sig,
			    c.sig_len) != 0)
		return x509_err(-EKEYREJECTED, err, errlen,
				"serving certificate of %s is not signed by its CA",
				ca.subject_cn);
	if (now < c.not_before)
		return x509_err(-ETIME, err, errlen,
				"serving certificate of %s is not yet valid",
				ca.subject_cn);
	if (now > c.not_after)
		return x509_err(-ETIME, err, errlen,
				"serving certificate of %s expired", ca.subject_cn);
	if (c.is_ca)
		return x509_err(-EPERM, err, errlen,
				"the authority of %s serves with a CA certificate, "
				"not one its CA issued for serving", ca.subject_cn);
	if (c.has_san)
		return x509_err(-EPERM, err, errlen,
				"serving certificate of %s carries subjectAltNames",
				ca.subject_cn);
	return 0;
}

/*
 * Walks the subjectAltName and fills the address and route bindings.
 * *has_uri tells whether the "q2q:" name was there (and matched).
 */
static int san_parse(const struct x509_cert *c, struct cert_info *out,
		     int *has_uri, char *err, size_t errlen)
{
	struct der_r r, v;
	uint8_t tag;
	char buf[64];

	*has_uri = 0;
	der_r_init(&r, c->san, c->san_len);
	while (r.left) {
		if (der_get_any(&r, &tag, &v, NULL, NULL))
			return x509_err(-EBADMSG, err, errlen,
					"malformed subjectAltName");
		if (tag == (DER_CTX | 7)) {
			if (v.left == 4 && !out->has_v4) {
				memcpy(out->v4, v.p, 4);
				out->has_v4 = 1;
			} else if (v.left == 16 && !out->has_v6) {
				memcpy(out->v6, v.p, 16);
				out->has_v6 = 1;
			} else {
				return x509_err(-EBADMSG, err, errlen,
						"extra or malformed IP address in subjectAltName");
			}
		} else if (tag == (DER_CTX | 6)) {
			size_t il = sizeof(URI_ID) - 1, rl = sizeof(URI_ROUTE) - 1;

			if (v.left > il && memcmp(v.p, URI_ID, il) == 0) {
				if (*has_uri || v.left - il != strlen(out->identity) ||
				    memcmp(v.p + il, out->identity, v.left - il))
					return x509_err(-EBADMSG, err, errlen,
							"q2q: name does not match the subject");
				*has_uri = 1;
			} else if (v.left > rl && memcmp(v.p, URI_ROUTE, rl) == 0) {
				if (v.left - rl >= sizeof(buf) ||
				    memchr(v.p, 0, v.left))
					return x509_err(-EBADMSG, err, errlen,
							"malformed route in subjectAltName");
				memcpy(buf, v.p + rl, v.left - rl);
				buf[v.left - rl] = '\0';
				if (out->n_routes >= CERT_MAX_ROUTES)
					return x509_err(-EBADMSG, err, errlen,
							"more than %d routes",
							CERT_MAX_ROUTES);
				if (addr_prefix_parse(buf,
						      &out->routes[out->n_routes]))
					return x509_err(-EBADMSG, err, errlen,
							"malformed route in subjectAltName");
				out->n_routes++;
			}
		}
		/* Other kinds of names mean nothing to q2q. */
	}
	return 0;
}

static int cert_parse_ex(const uint8_t *der, size_t len, struct cert_info *out,
			 struct x509_cert *c, int *has_uri, char *err,
			 size_t errlen)
{
	char e[160];
	int rc;

	memset(out, 0, sizeof(*out));
	*has_uri = 0;
	if (len > CERT_DER_MAX)
		return x509_err(-EBADMSG, err, errlen,
				"certificate larger than %d bytes", CERT_DER_MAX);
	rc = x509_cert_parse(der, len, c, err, errlen);
	if (rc)
		return rc;
	if (c->is_ca)
		rc = id_parse_domain(c->subject_cn, e, sizeof(e));
	else
		rc = id_parse_user(c->subject_cn, NULL, e, sizeof(e));
	if (rc)
		return x509_err(-EBADMSG, err, errlen, "subject %s", e);
	memcpy(out->identity, c->subject_cn, strlen(c->subject_cn) + 1);
	out->is_ca = c->is_ca;
	if (c->has_san) {
		rc = san_parse(c, out, has_uri, err, errlen);
		if (rc)
			return rc;
	}
	out->not_before = c->not_before;
	out->not_after = c->not_after;
	hex_encode(c->serial, c->serial_len, out->serial);
	return cert_fingerprint(der, len, out->fingerprint);
}

int cert_parse(const uint8_t *der, size_t len, struct cert_info *out,
	       char *err, size_t errlen)
{
	struct x509_cert c;
	int has_uri, rc;

	rc = cert_parse_ex(der, len, out, &c, &has_uri, err, errlen);
	if (rc)
		memset(out, 0, sizeof(*out));
	return rc;
}

static int verify(const uint8_t *der, size_t len, const uint8_t *ca_der,
		  size_t ca_len, int64_t now, struct cert_info *out,
		  char *err, size_t errlen)
{
	struct x509_cert ca, c;
	struct id_name name;
	uint8_t v6[16];
	char e[160];
	int has_uri, rc;

	rc = x509_ca_check(ca_der, ca_len, NULL, now, &ca, e, sizeof(e));
	if (rc)
		return x509_err(rc, err, errlen, "%s", e);
	rc = cert_parse_ex(der, len, out, &c, &has_uri, e, sizeof(e));
	if (rc)
		return x509_err(rc, err, errlen, "certificate: %s", e);
	if (strcmp(c.issuer_cn, ca.subject_cn) != 0 ||
	    key_verify_spki(ca.spki, ca.spki_len, c.tbs, c.tbs_len, c.sig,
			    c.sig_len) != 0)
		return x509_err(-EKEYREJECTED, err, errlen,
				"certificate for '%s' is not signed by the %s CA",
				out->identity, ca.subject_cn);
	if (now < out->not_before)
		return x509_err(-ETIME, err, errlen,
				"certificate for '%s' is not yet valid",
				out->identity);
	if (now > out->not_after)
		return x509_err(-ETIME, err, errlen,
				"certificate for '%s' expired", out->identity);
	if (out->is_ca)
		return x509_err(-EPERM, err, errlen,
				"'%s' is a CA certificate, not a node's",
				out->identity);
	id_parse_user(out->identity, &name, NULL, 0);  /* checked by parse */
	if (strcmp(name.domain, ca.subject_cn) != 0)
		return x509_err(-EPERM, err, errlen,
				"'%s' is not in the %s domain", out->identity,
				ca.subject_cn);
	if (!has_uri)
		return x509_err(-EPERM, err, errlen,
				"certificate for '%s' lacks its q2q: name",
				out->identity);
	addr_overlay_v6(out->identity, v6);
	if (!out->has_v6 || memcmp(out->v6, v6, 16) != 0)
		return x509_err(-EPERM, err, errlen,
				"IPv6 address in the certificate is not the overlay address of '%s'",
				out->identity);
	if (!out->has_v4)
		return x509_err(-EPERM, err, errlen,
				"certificate for '%s' binds no IPv4 address",
				out->identity);
	return 0;
}

int cert_verify(const uint8_t *der, size_t len, const uint8_t *ca_der,
		size_t ca_len, int64_t now, struct cert_info *out,
		char *err, size_t errlen)
{
	int rc = verify(der, len, ca_der, ca_len, now, out, err, errlen);

	if (rc)
		memset(out, 0, sizeof(*out));
	return rc;
}

int cert_fingerprint(const uint8_t *der, size_t len, uint8_t out[32])
{
	return wc_Sha256Hash(der, (word32)len, out) == 0 ? 0 : -EIO;
}

int cert_fingerprint_hex(const uint8_t *fp, char out[65])
{
	hex_encode(fp, 32, out);
	return 0;
}

int cert_fingerprint_parse(const char *hex, uint8_t out[32])
{
	uint8_t tmp[32];
	size_t i = 0, n = 0;
	int colons = -1;        /* unknown until the first separator position */

	if (!hex)
		return -EINVAL;
	while (n < 32) {
		int hi = hexval((unsigned char)hex[i]);
		int lo = hi < 0 ? -1 : hexval((unsigned char)hex[i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		tmp[n++] = (uint8_t)(hi << 4 | lo);
		i += 2;
		if (n == 32)
			break;
		/* Either colons between every pair or none at all. */
		if (colons < 0)
			colons = hex[i] == ':';
		if (colons) {
			if (hex[i] != ':')
				return -EINVAL;
			i++;
		}
	}
	if (hex[i] != '\0')
		return -EINVAL;
	memcpy(out, tmp, 32);
	return 0;
}

int cert_binds_source(const struct cert_info *ci, int family,
		      const uint8_t *src)
{
	int i;

	if (family == AF_INET) {
		if (ci->has_v4 && memcmp(src, ci->v4, 4) == 0)
			return 1;
	} else if (family == AF_INET6) {
		if (ci->has_v6 && memcmp(src, ci->v6, 16) == 0)
			return 1;
	} else {
		return 0;
	}
	for (i = 0; i < ci->n_routes; i++)
		if (addr_prefix_contains(&ci->routes[i], family, src))
			return 1;
	return 0;
}
