/*
 * ECDSA P-256 private keys: generation, PEM/DER files, signing, and
 * signature checks against a SubjectPublicKeyInfo. This is the only file
 * that holds private key material in memory; every buffer that saw it is
 * wiped before it is freed. The wolfCrypt key object is allocated by
 * wolfCrypt itself (wc_ecc_key_new) so its size never leaks into our ABI.
 */
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/hash.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "identity/file.h"
#include "identity/key.h"

#define KEY_FILE_MAX 16384
#define KEY_DER_MAX 256         /* SEC1 P-256 with public key is ~121 bytes */
#define KEY_PEM_MAX 1024

struct id_key {
	ecc_key *ecc;
};

/* wolfCrypt's signatures take non-const keys even for read-only use. */
static ecc_key *key_ecc(const struct id_key *k)
{
	return k->ecc;
}

static struct id_key *key_alloc(void)
{
	struct id_key *k = calloc(1, sizeof(*k));

	if (!k)
		return NULL;
	k->ecc = wc_ecc_key_new(NULL);
	if (!k->ecc) {
		free(k);
		return NULL;
	}
	return k;
}

void key_free(struct id_key *k)
{
	if (!k)
		return;
	wc_ecc_key_free(k->ecc);        /* zeroes the private scalar */
	explicit_bzero(k, sizeof(*k));
	free(k);
}

int key_generate(struct id_key **out)
{
	struct id_key *k;
	WC_RNG rng;
	int rc = 0;

	*out = NULL;
	k = key_alloc();
	if (!k)
		return -ENOMEM;
	if (wc_InitRng(&rng) != 0) {
		key_free(k);
		return -EIO;
	}
	if (wc_ecc_make_key_ex(&rng, 32, k->ecc, ECC_SECP256R1) != 0)
		rc = -EIO;
	wc_FreeRng(&rng);
	if (rc) {
		key_free(k);
		return rc;
	}
	*out = k;
	return 0;
}

/* Decodes a SEC1 or PKCS#8 DER private key; it must be a valid P-256 key. */
static int key_from_der(uint8_t *der, size_t len, struct id_key **out)
{
	struct id_key *k;
	word32 idx = 0;
	int off, rc = -EINVAL;

	if (len > KEY_FILE_MAX)
		return -EINVAL;
	/* PKCS#8 wraps SEC1: on success idx is moved to the inner key. */
	off = wc_GetPkcs8TraditionalOffset(der, &idx, (word32)len);
	if (off <= 0)
		idx = 0;
	k = key_alloc();
	if (!k)
		return -ENOMEM;
	if (wc_EccPrivateKeyDecode(der, &idx, k->ecc, (word32)len) != 0)
		goto out;
	if (wc_ecc_get_curve_id(k->ecc->idx) != ECC_SECP256R1)
		goto out;
	/* SEC1 makes the public key optional; we always need it. */
	if (k->ecc->type == ECC_PRIVATEKEY_ONLY &&
	    wc_ecc_make_pub(k->ecc, NULL) != 0)
		goto out;
	if (k->ecc->type != ECC_PRIVATEKEY)
		goto out;
	if (wc_ecc_check_key(k->ecc) != 0)
		goto out;
	*out = k;
	k = NULL;
	rc = 0;
out:
	key_free(k);
	return rc;
}

int key_load(const char *path, struct id_key **out)
{
	uint8_t *buf = NULL, *der = NULL;
	size_t len = 0;
	int rc, n;

	*out = NULL;
	rc = file_read_all(path, KEY_FILE_MAX, &buf, &len);
	if (rc)
		return rc;
	if (len >= 10 && memmem(buf, len, "-----BEGIN", 10)) {
		der = malloc(len);
		if (!der) {
			rc = -ENOMEM;
			goto out;
		}
		n = wc_KeyPemToDer(buf, (int)len, der, (int)len, NULL);
		if (n <= 0) {
			rc = -EINVAL;
			goto out;
		}
		rc = key_from_der(der, (size_t)n, out);
	} else {
		rc = key_from_der(buf, len, out);
	}
out:
	if (der) {
		explicit_bzero(der, len);
		free(der);
	}
	explicit_bzero(buf, len);
	free(buf);
	return rc;
}

int key_der(const struct id_key *k, uint8_t **der, size_t *len)
{
	uint8_t tmp[KEY_DER_MAX];
	int n;

	*der = NULL;
	*len = 0;
	n = wc_EccKeyToDer(key_ecc(k), tmp, sizeof(tmp));
	if (n <= 0)
		return -EIO;
	*der = malloc((size_t)n);
	if (!*der) {
		explicit_bzero(tmp, sizeof(tmp));
		return -ENOMEM;
	}
	memcpy(*der, tmp, (size_t)n);
	*len = (size_t)n;
	explicit_bzero(tmp, sizeof(tmp));
	return 0;
}

int key_save(const struct id_key *k, const char *path)
{
	uint8_t der[KEY_DER_MAX], pem[KEY_PEM_MAX];
	int n, p, rc;

	n = wc_EccKeyToDer(key_ecc(k), der, sizeof(der));
	if (n <= 0) {
		rc = -EIO;
		goto out;
	}
	p = wc_DerToPem(der, (word32)n, pem, sizeof(pem), ECC_PRIVATEKEY_TYPE);
	if (p <= 0) {
		rc = -EIO;
		goto out;
	}
	rc = file_write_atomic(path, pem, (size_t)p, 0600);
out:
	explicit_bzero(der, sizeof(der));
	explicit_bzero(pem, sizeof(pem));
	return rc;
}

int key_spki(const struct id_key *k, uint8_t *buf, size_t cap, size_t *len)
{
	int n;

	n = wc_EccPublicKeyToDer(key_ecc(k), buf, (word32)cap, 1);
	if (n <= 0)
		return -ENOSPC;	/* the only failure for a valid key */
	*len = (size_t)n;
	return 0;
}

int key_sign(const struct id_key *k, const uint8_t *msg, size_t len,
	     uint8_t *sig, size_t *siglen)
{
	uint8_t h[WC_SHA256_DIGEST_SIZE];
	word32 sl = KEY_SIG_MAX;
	WC_RNG rng;
	int rc = 0;

	if (wc_Sha256Hash(msg, (word32)len, h) != 0)
		return -EIO;
	if (wc_InitRng(&rng) != 0)
		return -EIO;
	if (wc_ecc_sign_hash(h, sizeof(h), sig, &sl, &rng, key_ecc(k)) != 0)
		rc = -EIO;
	wc_FreeRng(&rng);
	if (!rc)
		*siglen = sl;
	return rc;
}

int key_verify_spki(const uint8_t *spki, size_t spki_len,
		    const uint8_t *msg, size_t len,
		    const uint8_t *sig, size_t siglen)
{
	uint8_t h[WC_SHA256_DIGEST_SIZE];
	ecc_key *pub;
	word32 idx = 0;
	int res = 0, rc = -EBADMSG;

	if (spki_len > KEY_SPKI_MAX || siglen > KEY_SIG_MAX)
		return -EBADMSG;
	pub = wc_ecc_key_new(NULL);
	if (!pub)
		return -ENOMEM;
	if (wc_EccPublicKeyDecode(spki, &idx, pub, (word32)spki_len) != 0 ||
	    idx != spki_len)
		goto out;
	if (wc_ecc_get_curve_id(pub->idx) != ECC_SECP256R1)
		goto out;
	if (wc_Sha256Hash(msg, (word32)len, h) != 0) {
		rc = -EIO;
		goto out;
	}
	rc = -EKEYREJECTED;
	if (wc_ecc_verify_hash(sig, (word32)siglen, h, sizeof(h), &res, pub) == 0
	    && res == 1)
		rc = 0;
out:
	wc_ecc_key_free(pub);
	return rc;
}
