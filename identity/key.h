/*
 * A node's or authority's private key: ECDSA P-256. The struct is opaque;
 * everything that must touch key bytes lives in identity/key.c.
 */
#ifndef Q2Q_IDENTITY_KEY_H
#define Q2Q_IDENTITY_KEY_H

#include <stddef.h>
#include <stdint.h>

struct id_key;

/* New random key in *out (free with key_free). 0 or -errno. */
int key_generate(struct id_key **out);
/*
 * Loads a PEM ("EC PRIVATE KEY" or PKCS#8 "PRIVATE KEY") or DER private key
 * file; it must be a P-256 key. 0, -EINVAL for a malformed or foreign key,
 * or -errno from reading.
 */
int key_load(const char *path, struct id_key **out);
/* Writes the key as PEM ("EC PRIVATE KEY"), atomically, mode 0600. */
int key_save(const struct id_key *k, const char *path);
/*
 * Private key as SEC1 DER, for wolfSSL_CTX_use_PrivateKey_buffer(...,
 * SSL_FILETYPE_ASN1). *der is malloc'd: the caller wipes and frees it.
 */
int key_der(const struct id_key *k, uint8_t **der, size_t *len);
/* Wipes and frees; NULL is fine. */
void key_free(struct id_key *k);

/* Maximum bytes of a DER ECDSA P-256 signature. */
#define KEY_SIG_MAX 80
/* Maximum bytes of a P-256 SubjectPublicKeyInfo. */
#define KEY_SPKI_MAX 128

/* SubjectPublicKeyInfo DER of the public half into buf. 0 or -errno. */
int key_spki(const struct id_key *k, uint8_t *buf, size_t cap, size_t *len);
/*
 * ECDSA-SHA256 signature over msg, DER encoded (Ecdsa-Sig-Value) into sig,
 * which must hold KEY_SIG_MAX bytes. 0 or -errno.
 */
int key_sign(const struct id_key *k, const uint8_t *msg, size_t len,
	     uint8_t *sig, size_t *siglen);
/*
 * Checks an ECDSA-SHA256 signature over msg against a P-256 public key
 * given as SubjectPublicKeyInfo DER. 0 if valid, -EBADMSG if the key is
 * malformed or not P-256, -EKEYREJECTED if the signature does not verify.
 */
int key_verify_spki(const uint8_t *spki, size_t spki_len,
		    const uint8_t *msg, size_t len,
		    const uint8_t *sig, size_t siglen);

#endif
