/*
 * The parts of X.509 that both certificates and certificate requests need:
 * single-CN names, UTCTime/GeneralizedTime, ECDSA-SHA256 signature
 * envelopes, and a structural certificate parser that turns DER into
 * pointers plus a few decoded fields. The parser is written for hostile
 * input: every element is read through the bounds-checked DER cursor,
 * unknown critical extensions and duplicate extensions are refused, and a
 * certificate must be the whole buffer with nothing trailing.
 */
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/hash.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "identity/key.h"
#include "identity/x509.h"

static const uint8_t oid_cn[] = { 0x55, 0x04, 0x03 };
static const uint8_t oid_ecdsa_sha256[] = {
	0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02 };
static const uint8_t oid_basic_constraints[] = { 0x55, 0x1d, 0x13 };
static const uint8_t oid_key_usage[] = { 0x55, 0x1d, 0x0f };
static const uint8_t oid_ext_key_usage[] = { 0x55, 0x1d, 0x25 };
static const uint8_t oid_san[] = { 0x55, 0x1d, 0x11 };
static const uint8_t oid_skid[] = { 0x55, 0x1d, 0x0e };
static const uint8_t oid_akid[] = { 0x55, 0x1d, 0x23 };

int x509_err(int rc, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static int oid_is(const struct der_r *oid, const uint8_t *want, size_t n)
{
	return oid->left == n && memcmp(oid->p, want, n) == 0;
}

void x509_put_name(struct der_w *w, const char *cn)
{
	size_t name = der_begin(w, DER_SEQUENCE);
	size_t set = der_begin(w, DER_SET);
	size_t atv = der_begin(w, DER_SEQUENCE);

	der_put(w, DER_OID, oid_cn, sizeof(oid_cn));
	der_put(w, DER_UTF8, cn, strlen(cn));
	der_end(w, atv);
	der_end(w, set);
	der_end(w, name);
}

int x509_get_name_cn(struct der_r *r, char cn[ID_NAME_MAX + 1])
{
	struct der_r name, set, atv, oid, val;
	uint8_t tag;
	int found = 0;

	if (der_get(r, DER_SEQUENCE, &name, NULL, NULL))
		return -EBADMSG;
	while (name.left) {
		if (der_get(&name, DER_SET, &set, NULL, NULL) || !set.left)
			return -EBADMSG;
		while (set.left) {
			if (der_get(&set, DER_SEQUENCE, &atv, NULL, NULL) ||
			    der_get(&atv, DER_OID, &oid, NULL, NULL) ||
			    der_get_any(&atv, &tag, &val, NULL, NULL) ||
			    atv.left)
				return -EBADMSG;
			if (!oid_is(&oid, oid_cn, sizeof(oid_cn)))
				continue;
			if (found++)
				return -EBADMSG;
			if (tag != DER_UTF8 && tag != DER_PRINTABLE &&
			    tag != DER_IA5)
				return -EBADMSG;
			if (val.left == 0 || val.left > ID_NAME_MAX ||
			    memchr(val.p, 0, val.left))
				return -EBADMSG;
			memcpy(cn, val.p, val.left);
			cn[val.left] = '\0';
		}
	}
	return found ? 0 : -EBADMSG;
}

void x509_put_time(struct der_w *w, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char buf[32];
	int n;

	if (!gmtime_r(&tt, &tm) || tm.tm_year + 1900 < 0 ||
	    tm.tm_year + 1900 > 9999) {
		if (!w->err)
			w->err = -ERANGE;
		return;
	}
	/* RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime after. */
	if (tm.tm_year + 1900 >= 1950 && tm.tm_year + 1900 < 2050) {
		n = snprintf(buf, sizeof(buf), "%02d%02d%02d%02d%02d%02dZ",
			     tm.tm_year % 100, tm.tm_mon + 1, tm.tm_mday,
			     tm.tm_hour, tm.tm_min, tm.tm_sec);
		der_put(w, DER_UTCTIME, buf, (size_t)n);
	} else {
		n = snprintf(buf, sizeof(buf), "%04d%02d%02d%02d%02d%02dZ",
			     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			     tm.tm_hour, tm.tm_min, tm.tm_sec);
		der_put(w, DER_GENTIME, buf, (size_t)n);
	}
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int digits(const uint8_t *p, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

int x509_get_time(struct der_r *r, int64_t *t)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	struct der_r v;
	uint8_t tag;
	int y, mo, d, h, mi, s, yl;

	if (der_get_any(r, &tag, &v, NULL, NULL))
		return -EBADMSG;
	if (tag == DER_UTCTIME && v.left == 13)
		yl = 2;
	else if (tag == DER_GENTIME && v.left == 15)
		yl = 4;
	else
		return -EBADMSG;
	if (v.p[v.left - 1] != 'Z')
		return -EBADMSG;
	y = digits(v.p, yl);
	mo = digits(v.p + yl, 2);
	d = digits(v.p + yl + 2, 2);
	h = digits(v.p + yl + 4, 2);
	mi = digits(v.p + yl + 6, 2);
	s = digits(v.p + yl + 8, 2);
	if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59)
		return -EBADMSG;
	if (yl == 2)
		y += y >= 50 ? 1900 : 2000;
	if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return -EBADMSG;
	*t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
	return 0;
}

void x509_put_sigalg(struct der_w *w)
{
	size_t m = der_begin(w, DER_SEQUENCE);

	der_put(w, DER_OID, oid_ecdsa_sha256, sizeof(oid_ecdsa_sha256));
	der_end(w, m);
}

int x509_get_sigalg(struct der_r *r)
{
	struct der_r alg, oid;

	/* RFC 5758: ecdsa-with-SHA256 has no parameters, not even NULL. */
	if (der_get(r, DER_SEQUENCE, &alg, NULL, NULL) ||
	    der_get(&alg, DER_OID, &oid, NULL, NULL) || alg.left ||
	    !oid_is(&oid, oid_ecdsa_sha256, sizeof(oid_ecdsa_sha256)))
		return -EBADMSG;
	return 0;
}

int x509_sign(const struct id_key *k, const uint8_t *tbs, size_t tbs_len,
	      uint8_t **der, size_t *len)
{
	uint8_t bits[1 + KEY_SIG_MAX];
	size_t siglen = 0, cap, m;
	struct der_w w;
	uint8_t *buf;
	int rc;

	*der = NULL;
	*len = 0;
	rc = key_sign(k, tbs, tbs_len, bits + 1, &siglen);
	if (rc)
		return rc;
	bits[0] = 0;            /* no unused bits */
	cap = tbs_len + sizeof(bits) + 32;
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	der_w_init(&w, buf, cap);
	m = der_begin(&w, DER_SEQUENCE);
	der_raw(&w, tbs, tbs_len);
	x509_put_sigalg(&w);
	der_put(&w, DER_BIT_STRING, bits, 1 + siglen);
	der_end(&w, m);
	if (w.err) {
		free(buf);
		return w.err;
	}
	*der = buf;
	*len = w.len;
	return 0;
}

int x509_split_signed(const uint8_t *der, size_t len, const uint8_t **tbs,
		      size_t *tbs_len, const uint8_t **sig, size_t *sig_len)
{
	struct der_r r, outer, bits;

	der_r_init(&r, der, len);
	if (der_get(&r, DER_SEQUENCE, &outer, NULL, NULL) || r.left)
		return -EBADMSG;
	if (der_get(&outer, DER_SEQUENCE, NULL, tbs, tbs_len) ||
	    x509_get_sigalg(&outer) ||
	    der_get(&outer, DER_BIT_STRING, &bits, NULL, NULL) || outer.left)
		return -EBADMSG;
	if (bits.left < 2 || bits.p[0] != 0)
		return -EBADMSG;
	*sig = bits.p + 1;
	*sig_len = bits.left - 1;
	return 0;
}

/* Reads the extensions SEQUENCE of a certificate into c. */
static int x509_get_exts(struct der_r *r, struct x509_cert *c,
			 char *err, size_t errlen)
{
	struct der_r exts, ext, oid, crit, val, bc, b;
	unsigned seen = 0, bit;
	int critical;

	if (der_get(r, DER_SEQUENCE, &exts, NULL, NULL) || !exts.left)
		return x509_err(-EBADMSG, err, errlen, "malformed extensions");
	while (exts.left) {
		if (der_get(&exts, DER_SEQUENCE, &ext, NULL, NULL) ||
		    der_get(&ext, DER_OID, &oid, NULL, NULL))
			return x509_err(-EBADMSG, err, errlen,
					"malformed extension");
		critical = 0;
		if (der_peek(&ext) == DER_BOOLEAN) {
			/* DER omits the default FALSE, so only TRUE may appear. */
			if (der_get(&ext, DER_BOOLEAN, &crit, NULL, NULL) ||
			    crit.left != 1 || crit.p[0] != 0xff)
				return x509_err(-EBADMSG, err, errlen,
						"malformed extension flag");
			critical = 1;
		}
		if (der_get(&ext, DER_OCTET_STRING, &val, NULL, NULL) ||
		    ext.left)
			return x509_err(-EBADMSG, err, errlen,
					"malformed extension");

		if (oid_is(&oid, oid_basic_constraints, 3)) {
			bit = 1;
			if (der_get(&val, DER_SEQUENCE, &bc, NULL, NULL) ||
			    val.left)
				goto bad;
			if (der_peek(&bc) == DER_BOOLEAN) {
				if (der_get(&bc, DER_BOOLEAN, &b, NULL, NULL) ||
				    b.left != 1 || b.p[0] != 0xff)
					goto bad;
				c->is_ca = 1;
			}
			/* An optional pathLenConstraint may follow. */
			if (bc.left && (der_get(&bc, DER_INTEGER, NULL, NULL,
						NULL) || bc.left))
				goto bad;
		} else if (oid_is(&oid, oid_san, 3)) {
			bit = 2;
			if (der_get(&val, DER_SEQUENCE, &b, NULL, NULL) ||
			    val.left || !b.left)
				goto bad;
			c->san = b.p;
			c->san_len = b.left;
			c->has_san = 1;
		} else if (oid_is(&oid, oid_skid, 3)) {
			bit = 4;
			if (der_get(&val, DER_OCTET_STRING, &b, NULL, NULL) ||
			    val.left || !b.left)
				goto bad;
			c->skid = b.p;
			c->skid_len = b.left;
		} else if (oid_is(&oid, oid_key_usage, 3)) {
			bit = 8;
		} else if (oid_is(&oid, oid_ext_key_usage, 3)) {
			bit = 16;
		} else if (oid_is(&oid, oid_akid, 3)) {
			bit = 32;
		} else {
			if (critical)
				return x509_err(-EBADMSG, err, errlen,
						"unknown critical extension");
			continue;
		}
		if (seen & bit)
			return x509_err(-EBADMSG, err, errlen,
					"duplicate extension");
		seen |= bit;
	}
	return 0;
bad:
	return x509_err(-EBADMSG, err, errlen, "malformed extension value");
}

int x509_cert_parse(const uint8_t *der, size_t len, struct x509_cert *c,
		    char *err, size_t errlen)
{
	struct der_r r, tbs, ver, v, serial, validity;
	const uint8_t *tbs_tlv;
	size_t tbs_tlv_len;

	memset(c, 0, sizeof(*c));
	if (x509_split_signed(der, len, &tbs_tlv, &tbs_tlv_len, &c->sig,
			      &c->sig_len))
		return x509_err(-EBADMSG, err, errlen,
				"not a DER ECDSA-SHA256 certificate");
	c->tbs = tbs_tlv;
	c->tbs_len = tbs_tlv_len;
	der_r_init(&r, tbs_tlv, tbs_tlv_len);
	if (der_get(&r, DER_SEQUENCE, &tbs, NULL, NULL))
		return -EBADMSG;        /* split_signed already checked */

	if (der_get(&tbs, DER_CTX | DER_CONSTRUCTED | 0, &ver, NULL, NULL) ||
	    der_get(&ver, DER_INTEGER, &v, NULL, NULL) || ver.left ||
	    v.left != 1 || v.p[0] != 2)
		return x509_err(-EBADMSG, err, errlen,
				"not an X.509 v3 certificate");

	if (der_get(&tbs, DER_INTEGER, &serial, NULL, NULL) || !serial.left ||
	    (serial.p[0] & 0x80))
		return x509_err(-EBADMSG, err, errlen, "bad serial number");
	if (serial.left > 1 && serial.p[0] == 0) {
		if (!(serial.p[1] & 0x80))
			return x509_err(-EBADMSG, err, errlen,
					"bad serial number");
		serial.p++;
		serial.left--;
	}
	if (serial.left > 20)
		return x509_err(-EBADMSG, err, errlen,
				"serial number longer than 20 bytes");
	c->serial = serial.p;
	c->serial_len = serial.left;

	if (x509_get_sigalg(&tbs))
		return x509_err(-EBADMSG, err, errlen,
				"signature algorithm is not ECDSA-SHA256");
	if (x509_get_name_cn(&tbs, c->issuer_cn))
		return x509_err(-EBADMSG, err, errlen,
				"issuer is not a single common name");
	if (der_get(&tbs, DER_SEQUENCE, &validity, NULL, NULL) ||
	    x509_get_time(&validity, &c->not_before) ||
	    x509_get_time(&validity, &c->not_after) || validity.left)
		return x509_err(-EBADMSG, err, errlen, "bad validity period");
	c->subject = tbs.p;
	if (x509_get_name_cn(&tbs, c->subject_cn))
		return x509_err(-EBADMSG, err, errlen,
				"subject is not a single common name");
	c->subject_len = (size_t)(tbs.p - c->subject);
	if (der_get(&tbs, DER_SEQUENCE, NULL, &c->spki, &c->spki_len))
		return x509_err(-EBADMSG, err, errlen, "bad public key");
	if (der_peek(&tbs) == (DER_CTX | DER_CONSTRUCTED | 3)) {
		struct der_r ext;
		int rc;

		if (der_get(&tbs, DER_CTX | DER_CONSTRUCTED | 3, &ext, NULL,
			    NULL))
			return x509_err(-EBADMSG, err, errlen,
					"malformed extensions");
		rc = x509_get_exts(&ext, c, err, errlen);
		if (rc)
			return rc;
		if (ext.left)
			return x509_err(-EBADMSG, err, errlen,
					"malformed extensions");
	}
	/* Unique identifiers or anything else: not something we issue. */
	if (tbs.left)
		return x509_err(-EBADMSG, err, errlen,
				"unexpected fields in certificate");
	return 0;
}

int x509_key_id(const uint8_t *spki, size_t len, uint8_t out[X509_KEYID_LEN])
{
	uint8_t h[WC_SHA256_DIGEST_SIZE];
	struct der_r r, s, bits;

	der_r_init(&r, spki, len);
	if (der_get(&r, DER_SEQUENCE, &s, NULL, NULL) ||
	    der_get(&s, DER_SEQUENCE, NULL, NULL, NULL) ||
	    der_get(&s, DER_BIT_STRING, &bits, NULL, NULL) ||
	    bits.left < 2 || bits.p[0] != 0)
		return -EBADMSG;
	if (wc_Sha256Hash(bits.p + 1, (word32)(bits.left - 1), h) != 0)
		return -EIO;
	memcpy(out, h, X509_KEYID_LEN);
	return 0;
}

int x509_ca_check(const uint8_t *ca_der, size_t ca_len, const char *domain,
		  int64_t now, struct x509_cert *c, char *err, size_t errlen)
{
	char e[128];
	int rc;

	rc = x509_cert_parse(ca_der, ca_len, c, e, sizeof(e));
	if (rc)
		return x509_err(rc, err, errlen, "CA certificate: %s", e);
	/* Check the name first: only a validated name may go into messages. */
	if (id_parse_domain(c->subject_cn, e, sizeof(e)))
		return x509_err(-EBADMSG, err, errlen,
				"CA certificate names no domain: %s", e);
	if (!c->is_ca)
		return x509_err(-EBADMSG, err, errlen,
				"'%s' is not a CA certificate", c->subject_cn);
	if (domain && strcmp(domain, c->subject_cn) != 0)
		return x509_err(-EBADMSG, err, errlen,
				"CA certificate is for '%s', expected '%s'",
				c->subject_cn, domain);
	if (strcmp(c->issuer_cn, c->subject_cn) != 0)
		return x509_err(-EBADMSG, err, errlen,
				"CA certificate for '%s' is not self-signed",
				c->subject_cn);
	if (key_verify_spki(c->spki, c->spki_len, c->tbs, c->tbs_len, c->sig,
			    c->sig_len))
		return x509_err(-EKEYREJECTED, err, errlen,
				"CA certificate for '%s' has a bad self-signature",
				c->subject_cn);
	if (now && now < c->not_before)
		return x509_err(-ETIME, err, errlen,
				"the %s CA certificate is not yet valid",
				c->subject_cn);
	if (now && now > c->not_after)
		return x509_err(-ETIME, err, errlen,
				"the %s CA certificate expired", c->subject_cn);
	return 0;
}
