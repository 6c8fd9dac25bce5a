/*
 * Fuzz target for the data-plane AEAD (netstack/aead.c over OpenSSL's
 * libcrypto). Input: a flags byte (which cipher, in place or not), a key
 * byte, the u64 counter, the associated data length, then the associated
 * data and the message. The message taken as a received ciphertext must
 * fail to open, with the output zeroed. Sealed, it must equal wolfCrypt's
 * ChaCha20-Poly1305 or AES-256-GCM byte for byte, open back to itself,
 * and fail to open again once any single bit of the ciphertext, tag,
 * associated data or counter is changed. One context per key lives across
 * inputs, as a session's does across packets, so state left over from one
 * message (a failed open, a long one) must not change the next.
 */
#include <errno.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/aes.h>
#include <wolfssl/wolfcrypt/chacha20_poly1305.h>

#include "tests/fuzz/fuzz.h"
#include "netstack/aead.h"

/* wolfCrypt's seal of the same message: 0, or -1 where it refuses. */
static int wolf_seal(enum aead_cipher c, const uint8_t key[AEAD_KEY_LEN],
		     const uint8_t nonce[AEAD_NONCE_LEN], const uint8_t *ad,
		     size_t adlen, const uint8_t *pt, size_t len, uint8_t *out)
{
	static const uint8_t none[1];
	Aes aes;
	int r;

	if (c == AEAD_CHACHA20_POLY1305)
		return wc_ChaCha20Poly1305_Encrypt(key, nonce, adlen ? ad : NULL,
						   (word32)adlen, len ? pt : NULL,
						   (word32)len, out, out + len) ? -1 : 0;
	if (wc_AesInit(&aes, NULL, INVALID_DEVID) != 0)
		return -1;
	r = wc_AesGcmSetKey(&aes, key, AEAD_KEY_LEN);
	if (r == 0)
		r = wc_AesGcmEncrypt(&aes, out, len ? pt : none, (word32)len, nonce,
				     AEAD_NONCE_LEN, out + len, AEAD_TAG_LEN,
				     adlen ? ad : none, (word32)adlen);
	wc_AesFree(&aes);
	return r ? -1 : 0;
}

static int all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Contexts for the last key seen, per cipher, reused while it repeats. */
	static struct aead *ctx[AEAD_NCIPHERS];
	static uint8_t ctx_key[AEAD_NCIPHERS][AEAD_KEY_LEN];
	uint8_t key[AEAD_KEY_LEN], nonce[AEAD_NONCE_LEN];
	enum aead_cipher c;
	struct aead *a;
	const uint8_t *ad, *msg;
	uint8_t *adc, *pt, *ct, *out, *wolf;
	size_t adlen, len, bit;
	uint8_t flags;
	uint64_t ctr;
	struct fz f;
	int r;

	fz_init(&f, data, size);
	flags = fz_u8(&f);
	for (int i = 0; i < AEAD_KEY_LEN; i++)
		key[i] = (uint8_t)(i * 29 + 1);
	key[flags >> 3 & 31] ^= fz_u8(&f);
	ctr = fz_u64(&f);
	bit = fz_u16(&f);
	ad = fz_bytes(&f, fz_u8(&f), &adlen);
	msg = fz_bytes(&f, SIZE_MAX, &len);
	c = (flags & 1) ? AEAD_AES256_GCM : AEAD_CHACHA20_POLY1305;
	if (!ctx[c] || memcmp(ctx_key[c], key, AEAD_KEY_LEN) != 0) {
		aead_free(ctx[c]);
		FZ_CHECK(aead_new(c, key, &ctx[c]) == 0);
		memcpy(ctx_key[c], key, AEAD_KEY_LEN);
	}
	a = ctx[c];
	adc = fz_dup(ad, adlen);
	pt = fz_dup(msg, len);
	ct = malloc(len + AEAD_TAG_LEN);
	out = malloc(len ? len : 1);
	wolf = malloc(len + AEAD_TAG_LEN);
	FZ_CHECK(ct && out && wolf);

	/* Random bytes as a ciphertext: a forgery would need 2^-106 luck. */
	if (len >= AEAD_TAG_LEN) {
		memset(out, 0xaa, len - AEAD_TAG_LEN);
		r = aead_open(a, ctr, adc, adlen, pt, len, out);
		FZ_CHECK(r == -EBADMSG);
		FZ_CHECK(all_zero(out, len - AEAD_TAG_LEN));
	} else {
		FZ_CHECK(aead_open(a, ctr, adc, adlen, pt, len, out) == -EBADMSG);
	}

	/* Seal, in place or not, and compare with wolfCrypt. */
	if (flags & 4) {
		memcpy(ct, pt, len);
		FZ_CHECK(aead_seal(a, ctr, adc, adlen, ct, len, ct) == 0);
	} else {
		FZ_CHECK(aead_seal(a, ctr, adc, adlen, pt, len, ct) == 0);
	}
	memset(nonce, 0, 4);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(ctr >> (8 * i));
	if (wolf_seal(c, key, nonce, adc, adlen, pt, len, wolf) == 0)
		FZ_CHECK(memcmp(ct, wolf, len + AEAD_TAG_LEN) == 0);
	else
		FZ_CHECK(len == 0);	/* wolfCrypt refuses some empty input */

	/* Open it back. */
	r = aead_open(a, ctr, adc, adlen, ct, len + AEAD_TAG_LEN, out);
	FZ_CHECK(r == (int)len);
	FZ_CHECK(len == 0 || memcmp(out, pt, len) == 0);
	if (flags & 4) {
		memcpy(wolf, ct, len + AEAD_TAG_LEN);
		r = aead_open(a, ctr, adc, adlen, wolf, len + AEAD_TAG_LEN, wolf);
		FZ_CHECK(r == (int)len);
		FZ_CHECK(len == 0 || memcmp(wolf, pt, len) == 0);
	}

	/* One bit changed anywhere the tag covers must be refused. */
	bit %= (len + AEAD_TAG_LEN + adlen) * 8 + 64;
	if (bit < (len + AEAD_TAG_LEN) * 8) {
		ct[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		r = aead_open(a, ctr, adc, adlen, ct, len + AEAD_TAG_LEN, out);
	} else if ((bit -= (len + AEAD_TAG_LEN) * 8) < adlen * 8) {
		adc[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		r = aead_open(a, ctr, adc, adlen, ct, len + AEAD_TAG_LEN, out);
	} else {
		bit -= adlen * 8;
		r = aead_open(a, ctr ^ (1ull << bit), adc, adlen, ct,
			      len + AEAD_TAG_LEN, out);
	}
	FZ_CHECK(r == -EBADMSG);
	FZ_CHECK(all_zero(out, len));

	free(wolf);
	free(out);
	free(ct);
	free(pt);
	free(adc);
	return 0;
}

static void seed(const char *dir, const char *name, uint8_t flags,
		 size_t adlen, size_t len)
{
	uint8_t buf[6000];
	size_t n = 0;

	buf[n++] = flags;
	buf[n++] = 0x5c;
	for (int i = 0; i < 8; i++)
		buf[n++] = (uint8_t)(i == 0 ? 7 : 0);
	buf[n++] = 0x34;
	buf[n++] = 0x12;
	buf[n++] = (uint8_t)adlen;
	for (size_t i = 0; i < adlen + len && n < sizeof(buf); i++)
		buf[n++] = (uint8_t)(i * 13);
	fz_write_seed(dir, name, buf, n);
}

static void seeds(const char *dir)
{
	seed(dir, "keepalive", 0, 16, 0);
	seed(dir, "packet", 0, 16, 1300);
	seed(dir, "packet-gcm", 1, 16, 1400);
	seed(dir, "in-place", 4, 16, 449);
	seed(dir, "in-place-gcm", 1 | 4, 16, 449);
	seed(dir, "jumbo-gcm", 1, 16, 4200);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fz_seed_mode(seeds);
	return 0;
}
