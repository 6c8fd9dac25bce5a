/*
 * X.509 building blocks shared by identity/cert.c, identity/csr.c and
 * identity/trust.c (internal to identity/): names with a single CN,
 * validity times, signing and checking "SEQUENCE { tbs, alg, signature }",
 * and a structural parse of a certificate into pointers into its DER.
 */
#ifndef Q2Q_IDENTITY_X509_H
#define Q2Q_IDENTITY_X509_H

#include <stddef.h>
#include <stdint.h>

#include "identity/der.h"
#include "identity/name.h"

struct id_key;

#define X509_KEYID_LEN 20

/* Fields of a certificate, as pointers into the caller's DER buffer. */
struct x509_cert {
	const uint8_t *tbs;
	size_t tbs_len;
	const uint8_t *sig;
	size_t sig_len;
	const uint8_t *serial;          /* INTEGER contents, sign byte dropped */
	size_t serial_len;
	char issuer_cn[ID_NAME_MAX + 1];
	char subject_cn[ID_NAME_MAX + 1];
	int64_t not_before, not_after;
	const uint8_t *subject;         /* the subject Name TLV */
	size_t subject_len;
	const uint8_t *spki;
	size_t spki_len;
	int is_ca;                      /* basicConstraints cA */
	const uint8_t *san;             /* GeneralNames SEQUENCE contents */
	size_t san_len;
	int has_san;
	const uint8_t *skid;
	size_t skid_len;
};

/* Name ::= SEQUENCE { SET { SEQUENCE { id-at-commonName, UTF8String cn } } } */
void x509_put_name(struct der_w *w, const char *cn);
/*
 * Reads a Name that holds exactly one commonName (other attributes are
 * tolerated, a second CN is not) and copies it into cn.
 */
int x509_get_name_cn(struct der_r *r, char cn[ID_NAME_MAX + 1]);
void x509_put_time(struct der_w *w, int64_t t);
int x509_get_time(struct der_r *r, int64_t *t);
/* AlgorithmIdentifier for ecdsa-with-SHA256. */
void x509_put_sigalg(struct der_w *w);
int x509_get_sigalg(struct der_r *r);

/*
 * Wraps a to-be-signed blob: SEQUENCE { tbs, ecdsa-with-SHA256, BIT STRING
 * sig } into a new malloc'd buffer.
 */
int x509_sign(const struct id_key *k, const uint8_t *tbs, size_t tbs_len,
	      uint8_t **der, size_t *len);
/*
 * Splits a signed object into its tbs TLV and signature, insisting the
 * whole buffer is one object.
 */
int x509_split_signed(const uint8_t *der, size_t len, const uint8_t **tbs,
		      size_t *tbs_len, const uint8_t **sig, size_t *sig_len);

/* Structural parse of a certificate; verifies nothing. 0 or -EBADMSG. */
int x509_cert_parse(const uint8_t *der, size_t len, struct x509_cert *c,
		    char *err, size_t errlen);
/* Key identifier of an SPKI: first 20 bytes of SHA-256 of the key bits. */
int x509_key_id(const uint8_t *spki, size_t len, uint8_t out[X509_KEYID_LEN]);
/*
 * Parses ca_der and checks it is a self-signed CA certificate whose CN is a
 * bare domain (and equals domain if that is not NULL), valid at now unless
 * now is 0. Fills *c.
 */
int x509_ca_check(const uint8_t *ca_der, size_t ca_len, const char *domain,
		  int64_t now, struct x509_cert *c, char *err, size_t errlen);

/*
 * Reads and checks a PKCS#10 request: structure, self-signature, and a CN
 * that is a valid user@domain. *spki points into der.
 */
int x509_csr_read(const uint8_t *der, size_t len,
		  char identity[ID_NAME_MAX + 1], const uint8_t **spki,
		  size_t *spki_len, char *err, size_t errlen);

/* snprintf into err if err is set; returns rc for "return x509_err(...)". */
__attribute__((format(printf, 4, 5)))
int x509_err(int rc, char *err, size_t errlen, const char *fmt, ...);

#endif
