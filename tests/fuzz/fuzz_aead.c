/*
 * Fuzz target for the data-plane AEAD (netstack/aead.c over our own
 * ChaCha20 and Poly1305). Input: a flags byte (which ChaCha20
 * implementation, in place or not), a key byte, the u64 counter, the
 * associated data length, then the associated data and the message.
 * The message taken as a received ciphertext must fail to open, with the
 * output zeroed. Sealed, it must equal wolfCrypt's ChaCha20-Poly1305 byte
 * for byte, open back to itself, and fail to open again once any single
 * bit of the ciphertext, tag, associated data or counter is changed. The
 * lengths run past the 448-byte first chunk and the 4096-byte fused-open
 * limit, where the code changes strategy.
 */
#include <errno.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/chacha20_poly1305.h>

#include "tests/fuzz/fuzz.h"
#include "netstack/aead.h"
#include "netstack/chacha.h"

static int all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum chacha20_impl impls[] = {
		CHACHA20_IMPL_AUTO, CHACHA20_IMPL_SCALAR, CHACHA20_IMPL_SSE2,
		CHACHA20_IMPL_AVX2,
	};
	uint8_t key[AEAD_KEY_LEN], nonce[AEAD_NONCE_LEN];
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
	if (chacha20_set_impl(impls[flags & 3]) != 0)
		chacha20_set_impl(CHACHA20_IMPL_AUTO);
	adc = fz_dup(ad, adlen);
	pt = fz_dup(msg, len);
	ct = malloc(len + AEAD_TAG_LEN);
	out = malloc(len ? len : 1);
	wolf = malloc(len + AEAD_TAG_LEN);
	FZ_CHECK(ct && out && wolf);

	/* Random bytes as a ciphertext: a forgery would need 2^-106 luck. */
	if (len >= AEAD_TAG_LEN) {
		memset(out, 0xaa, len - AEAD_TAG_LEN);
		r = aead_open(key, ctr, adc, adlen, pt, len, out);
		FZ_CHECK(r == -EBADMSG);
		FZ_CHECK(all_zero(out, len - AEAD_TAG_LEN));
	} else {
		FZ_CHECK(aead_open(key, ctr, adc, adlen, pt, len, out) == -EBADMSG);
	}

	/* Seal, in place or not, and compare with wolfCrypt. */
	if (flags & 4) {
		memcpy(ct, pt, len);
		FZ_CHECK(aead_seal(key, ctr, adc, adlen, ct, len, ct) == 0);
	} else {
		FZ_CHECK(aead_seal(key, ctr, adc, adlen, pt, len, ct) == 0);
	}
	memset(nonce, 0, 4);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(ctr >> (8 * i));
	if (wc_ChaCha20Poly1305_Encrypt(key, nonce, adlen ? adc : NULL,
					(word32)adlen, len ? pt : NULL,
					(word32)len, wolf, wolf + len) == 0)
		FZ_CHECK(memcmp(ct, wolf, len + AEAD_TAG_LEN) == 0);
	else
		FZ_CHECK(len == 0);	/* wolfCrypt refuses some empty input */

	/* Open it back. */
	r = aead_open(key, ctr, adc, adlen, ct, len + AEAD_TAG_LEN, out);
	FZ_CHECK(r == (int)len);
	FZ_CHECK(len == 0 || memcmp(out, pt, len) == 0);
	if (flags & 4) {
		memcpy(wolf, ct, len + AEAD_TAG_LEN);
		r = aead_open(key, ctr, adc, adlen, wolf, len + AEAD_TAG_LEN, wolf);
		FZ_CHECK(r == (int)len);
		FZ_CHECK(len == 0 || memcmp(wolf, pt, len) == 0);
	}

	/* One bit changed anywhere the tag covers must be refused. */
	bit %= (len + AEAD_TAG_LEN + adlen) * 8 + 64;
	if (bit < (len + AEAD_TAG_LEN) * 8) {
		ct[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		r = aead_open(key, ctr, adc, adlen, ct, len + AEAD_TAG_LEN, out);
	} else if ((bit -= (len + AEAD_TAG_LEN) * 8) < adlen * 8) {
		adc[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		r = aead_open(key, ctr, adc, adlen, ct, len + AEAD_TAG_LEN, out);
	} else {
		bit -= adlen * 8;
		r = aead_open(key, ctr ^ (1ull << bit), adc, adlen, ct,
			      len + AEAD_TAG_LEN, out);
	}
	FZ_CHECK(r == -EBADMSG);
	FZ_CHECK(all_zero(out, len));

	chacha20_set_impl(CHACHA20_IMPL_AUTO);
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
	seed(dir, "packet", 1, 16, 1300);
	seed(dir, "head-edge", 2 | 4, 16, 449);
	seed(dir, "past-fused", 3, 16, 4200);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fz_seed_mode(seeds);
	return 0;
}
