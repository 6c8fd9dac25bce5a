/*
 * The data-plane AEAD on OpenSSL's libcrypto (EVP): a maintained,
 * constant-time implementation with assembly for every x86-64 level
 * (AES-NI/VAES and AVX2/AVX-512 ChaCha20), where our own ChaCha20 and
 * Poly1305 used to be. One EVP_CIPHER_CTX per key holds the key schedule;
 * each packet only sets the nonce and direction (EVP_CipherInit_ex2 with
 * no cipher and no key keeps both), so the batched data path allocates
 * nothing per packet. libcrypto decrypts before the tag is checked at
 * EVP_CipherFinal_ex, so a failed open wipes what it wrote: no
 * unauthenticated plaintext ever reaches the caller. The unit tests check
 * both ciphers against wolfCrypt byte for byte. Lanes serve the data
 * path's other threads: a context per thread per cipher, keyed from an
 * aead's copy of its key on a change of aead, instead of a context per
 * session per thread (1.2 KiB each, four per peer).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#if defined(__aarch64__)
#include <sys/auxv.h>
#include <asm/hwcap.h>
#endif

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "netstack/aead.h"

/* Lengths must fit libcrypto's int lengths and our int return. */
#define AEAD_MAX_LEN	((size_t)INT_MAX - AEAD_TAG_LEN)

struct aead {
	EVP_CIPHER_CTX *ctx;
	enum aead_cipher cipher;
	/* For lanes (below): a lane's context takes the key from here, and
	 * knows by id, never by address, whether it holds it already (a
	 * freed aead's memory may come back as another key's). */
	uint64_t id;
	uint8_t key[AEAD_KEY_LEN];
};

/* One thread's own context per cipher, keyed with the aead it last
 * served; id 0 is no aead's. */
struct aead_lane {
	EVP_CIPHER_CTX *ctx[AEAD_NCIPHERS];
	uint64_t keyed[AEAD_NCIPHERS];
};

static uint64_t aead_next_id;

/* Fetched once: an implicit fetch per aead_new would search the provider
 * store each time, and might try to load a configuration file after the
 * sandbox is closed. */
static EVP_CIPHER *aead_ciphers[AEAD_NCIPHERS];
static const char *const aead_fetch_names[AEAD_NCIPHERS] = {
	[AEAD_CHACHA20_POLY1305] = "ChaCha20-Poly1305",
	[AEAD_AES256_GCM] = "AES-256-GCM",
};
static const char *const aead_names[AEAD_NCIPHERS] = {
	[AEAD_CHACHA20_POLY1305] = "chacha20-poly1305",
	[AEAD_AES256_GCM] = "aes-256-gcm",
};

int aead_init(void)
{
	int i;

	if (aead_ciphers[AEAD_NCIPHERS - 1])
		return 0;
	/* The host's openssl.cnf must not choose providers for our data
	 * cipher, nor be read at all: the engine's sandbox may forbid it. */
	if (!OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL))
		return -ENOTSUP;
	for (i = 0; i < AEAD_NCIPHERS; i++) {
		if (!aead_ciphers[i])
			aead_ciphers[i] = EVP_CIPHER_fetch(NULL, aead_fetch_names[i], NULL);
		if (!aead_ciphers[i])
			return -ENOTSUP;
	}
	return 0;
}

int aead_hw_aes(void)
{
	const char *off = getenv("Q2Q_NO_HW_AES");

	if (off && *off && strcmp(off, "0") != 0)
		return 0;
#if defined(__x86_64__) || defined(__i386__)
	return __builtin_cpu_supports("aes") && __builtin_cpu_supports("pclmul");
#elif defined(__aarch64__)
	return (getauxval(AT_HWCAP) & (HWCAP_AES | HWCAP_PMULL)) == (HWCAP_AES | HWCAP_PMULL);
#else
	return 0;
#endif
}

const char *aead_cipher_name(enum aead_cipher c)
{
	return (unsigned)c < AEAD_NCIPHERS ? aead_names[c] : "?";
}

int aead_new(enum aead_cipher c, const uint8_t key[AEAD_KEY_LEN],
	     struct aead **out)
{
	struct aead *a = NULL;
	int err;

	*out = NULL;
	if ((unsigned)c >= AEAD_NCIPHERS || !key)
		return -EINVAL;
	if ((err = aead_init()) < 0)
		return err;
	err = -ENOMEM;
	a = calloc(1, sizeof(*a));
	if (!a || !(a->ctx = EVP_CIPHER_CTX_new()))
		goto fail;
	a->cipher = c;
	a->id = __atomic_add_fetch(&aead_next_id, 1, __ATOMIC_RELAXED);
	memcpy(a->key, key, AEAD_KEY_LEN);
	/* Both ciphers default to a 12-byte nonce and take it per packet. */
	err = -EIO;
	if (!EVP_CipherInit_ex2(a->ctx, aead_ciphers[c], key, NULL, 1, NULL) ||
	    EVP_CIPHER_CTX_get_key_length(a->ctx) != AEAD_KEY_LEN ||
	    EVP_CIPHER_CTX_get_iv_length(a->ctx) != AEAD_NONCE_LEN)
		goto fail;
	*out = a;
	return 0;
fail:
	aead_free(a);
	return err;
}

void aead_free(struct aead *a)
{
	if (!a)
		return;
	/* Frees the provider's context with OPENSSL_clear_free: the key
	 * schedule is wiped, not just released. */
	EVP_CIPHER_CTX_free(a->ctx);
	explicit_bzero(a, sizeof(*a));
	free(a);
}

enum aead_cipher aead_cipher_of(const struct aead *a)
{
	return a->cipher;
}

static void counter_nonce(uint64_t ctr, uint8_t nonce[AEAD_NONCE_LEN])
{
	memset(nonce, 0, 4);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(ctr >> (8 * i));
}

/* The associated data and the message through a context already set to
 * one nonce and direction; 0 or -1. */
static int aead_run(EVP_CIPHER_CTX *ctx, const uint8_t *ad, size_t adlen,
		    const uint8_t *in, size_t len, uint8_t *out)
{
	int n;

	if (adlen && (!EVP_CipherUpdate(ctx, NULL, &n, ad, (int)adlen) || n != (int)adlen))
		return -1;
	if (len && (!EVP_CipherUpdate(ctx, out, &n, in, (int)len) || n != (int)len))
		return -1;
	return 0;
}

/* Sealing and opening on one context, whichever aead or lane owns it. */
static int aead_ctx_seal(EVP_CIPHER_CTX *ctx, const uint8_t nonce[AEAD_NONCE_LEN],
			 const uint8_t *ad, size_t adlen,
			 const uint8_t *pt, size_t len, uint8_t *out)
{
	int n;

	if (!nonce || !out || len > AEAD_MAX_LEN || adlen > INT_MAX ||
	    (!pt && len) || (!ad && adlen))
		return -EINVAL;
	if (!EVP_CipherInit_ex2(ctx, NULL, NULL, nonce, 1, NULL) ||
	    aead_run(ctx, ad, adlen, pt, len, out) < 0 ||
	    !EVP_CipherFinal_ex(ctx, out + len, &n) ||
	    !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, AEAD_TAG_LEN, out + len))
		return -EIO;
	return 0;
}

static int aead_ctx_open(EVP_CIPHER_CTX *ctx, const uint8_t nonce[AEAD_NONCE_LEN],
			 const uint8_t *ad, size_t adlen,
			 const uint8_t *ct, size_t ctlen, uint8_t *out)
{
	uint8_t tag[AEAD_TAG_LEN];
	size_t len;
	int n, err = -EBADMSG;

	if (!nonce || !ct || !out || adlen > INT_MAX || (!ad && adlen))
		return -EINVAL;
	if (ctlen < AEAD_TAG_LEN || ctlen - AEAD_TAG_LEN > AEAD_MAX_LEN)
		return -EBADMSG;
	len = ctlen - AEAD_TAG_LEN;
	/* A copy: libcrypto wants it writable, and in place it must survive. */
	memcpy(tag, ct + len, AEAD_TAG_LEN);
	if (!EVP_CipherInit_ex2(ctx, NULL, NULL, nonce, 0, NULL) ||
	    !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, AEAD_TAG_LEN, tag) ||
	    aead_run(ctx, ad, adlen, ct, len, out) < 0 ||
	    EVP_CipherFinal_ex(ctx, out + len, &n) <= 0) {
		/* Never hand back anything that did not authenticate. */
		memset(out, 0, len);
		goto out;
	}
	err = (int)len;
out:
	explicit_bzero(tag, sizeof(tag));
	return err;
}

int aead_seal_nonce(struct aead *a, const uint8_t nonce[AEAD_NONCE_LEN],
		    const uint8_t *ad, size_t adlen,
		    const uint8_t *pt, size_t len, uint8_t *out)
{
	return a ? aead_ctx_seal(a->ctx, nonce, ad, adlen, pt, len, out) : -EINVAL;
}

int aead_open_nonce(struct aead *a, const uint8_t nonce[AEAD_NONCE_LEN],
		    const uint8_t *ad, size_t adlen,
		    const uint8_t *ct, size_t ctlen, uint8_t *out)
{
	return a ? aead_ctx_open(a->ctx, nonce, ad, adlen, ct, ctlen, out) : -EINVAL;
}

int aead_seal(struct aead *a, uint64_t ctr,
	      const uint8_t *ad, size_t adlen,
	      const uint8_t *pt, size_t len, uint8_t *out)
{
	uint8_t nonce[AEAD_NONCE_LEN];

	counter_nonce(ctr, nonce);
	return aead_seal_nonce(a, nonce, ad, adlen, pt, len, out);
}

int aead_open(struct aead *a, uint64_t ctr,
	      const uint8_t *ad, size_t adlen,
	      const uint8_t *ct, size_t ctlen, uint8_t *out)
{
	uint8_t nonce[AEAD_NONCE_LEN];

	counter_nonce(ctr, nonce);
	return aead_open_nonce(a, nonce, ad, adlen, ct, ctlen, out);
}

/* ------------------------------------------------------------ lanes */

int aead_lane_new(struct aead_lane **out)
{
	struct aead_lane *l;
	int err;

	*out = NULL;
	if ((err = aead_init()) < 0)
		return err;
	if (!(l = calloc(1, sizeof(*l))))
		return -ENOMEM;
	for (int i = 0; i < AEAD_NCIPHERS; i++) {
		if (!(l->ctx[i] = EVP_CIPHER_CTX_new())) {
			aead_lane_free(l);
			return -ENOMEM;
		}
	}
	*out = l;
	return 0;
}

void aead_lane_free(struct aead_lane *l)
{
	if (!l)
		return;
	for (int i = 0; i < AEAD_NCIPHERS; i++)
		EVP_CIPHER_CTX_free(l->ctx[i]);	/* wipes the key schedule */
	explicit_bzero(l, sizeof(*l));
	free(l);
}

/* l's context for a's cipher, holding a's key: set only when the last
 * aead this context served was another. */
static EVP_CIPHER_CTX *aead_lane_ctx(struct aead_lane *l, const struct aead *a)
{
	EVP_CIPHER_CTX *ctx = l->ctx[a->cipher];

	if (l->keyed[a->cipher] == a->id)
		return ctx;
	l->keyed[a->cipher] = 0;
	if (!EVP_CipherInit_ex2(ctx, aead_ciphers[a->cipher], a->key, NULL, 1, NULL))
		return NULL;
	l->keyed[a->cipher] = a->id;
	return ctx;
}

/* Seals (enc) or opens through l under a's key: the public two's body. */
static int aead_lane_run(struct aead_lane *l, const struct aead *a, uint64_t ctr, int enc,
			 const uint8_t *ad, size_t adlen,
			 const uint8_t *in, size_t len, uint8_t *out)
{
	uint8_t nonce[AEAD_NONCE_LEN];
	EVP_CIPHER_CTX *ctx;

	if (!l || !a)
		return -EINVAL;
	if (!(ctx = aead_lane_ctx(l, a)))
		return -EIO;
	counter_nonce(ctr, nonce);
	return enc ? aead_ctx_seal(ctx, nonce, ad, adlen, in, len, out) :
	    aead_ctx_open(ctx, nonce, ad, adlen, in, len, out);
}

int aead_lane_seal(struct aead_lane *l, const struct aead *a, uint64_t ctr,
		   const uint8_t *ad, size_t adlen,
		   const uint8_t *pt, size_t len, uint8_t *out)
{
	return aead_lane_run(l, a, ctr, 1, ad, adlen, pt, len, out);
}

int aead_lane_open(struct aead_lane *l, const struct aead *a, uint64_t ctr,
		   const uint8_t *ad, size_t adlen,
		   const uint8_t *ct, size_t ctlen, uint8_t *out)
{
	return aead_lane_run(l, a, ctr, 0, ad, adlen, ct, ctlen, out);
}
