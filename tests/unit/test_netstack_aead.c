/*
 * The data-plane AEAD through netstack/aead.h, for both ciphers: the
 * RFC 8439 section 2.8.2 vector and AES-256-GCM vectors from the GCM
 * specification (McGrew and Viega, test cases 13 and 14), the counter
 * nonce layout, one context reused across many packets and both
 * directions, in-place use, empty payloads, tamper detection and bad
 * arguments.
 */
#include <errno.h>

#include "tests/unit/harness.h"
#include "netstack/aead.h"

static const enum aead_cipher ciphers[] = { AEAD_CHACHA20_POLY1305, AEAD_AES256_GCM };
#define NCIPHERS (sizeof(ciphers) / sizeof(ciphers[0]))

static const char rfc_pt[] =
	"Ladies and Gentlemen of the class of '99: If I could offer you "
	"only one tip for the future, sunscreen would be it.";

static const uint8_t rfc_aad[12] = {
	0x50, 0x51, 0x52, 0x53, 0xc0, 0xc1, 0xc2, 0xc3,
	0xc4, 0xc5, 0xc6, 0xc7,
};

static const uint8_t rfc_nonce[12] = {
	0x07, 0x00, 0x00, 0x00, 0x40, 0x41, 0x42, 0x43,
	0x44, 0x45, 0x46, 0x47,
};

static const uint8_t rfc_ct[114] = {
	0xd3, 0x1a, 0x8d, 0x34, 0x64, 0x8e, 0x60, 0xdb, 0x7b, 0x86, 0xaf, 0xbc,
	0x53, 0xef, 0x7e, 0xc2, 0xa4, 0xad, 0xed, 0x51, 0x29, 0x6e, 0x08, 0xfe,
	0xa9, 0xe2, 0xb5, 0xa7, 0x36, 0xee, 0x62, 0xd6, 0x3d, 0xbe, 0xa4, 0x5e,
	0x8c, 0xa9, 0x67, 0x12, 0x82, 0xfa, 0xfb, 0x69, 0xda, 0x92, 0x72, 0x8b,
	0x1a, 0x71, 0xde, 0x0a, 0x9e, 0x06, 0x0b, 0x29, 0x05, 0xd6, 0xa5, 0xb6,
	0x7e, 0xcd, 0x3b, 0x36, 0x92, 0xdd, 0xbd, 0x7f, 0x2d, 0x77, 0x8b, 0x8c,
	0x98, 0x03, 0xae, 0xe3, 0x28, 0x09, 0x1b, 0x58, 0xfa, 0xb3, 0x24, 0xe4,
	0xfa, 0xd6, 0x75, 0x94, 0x55, 0x85, 0x80, 0x8b, 0x48, 0x31, 0xd7, 0xbc,
	0x3f, 0xf4, 0xde, 0xf0, 0x8e, 0x4b, 0x7a, 0x9d, 0xe5, 0x76, 0xd2, 0x65,
	0x86, 0xce, 0xc6, 0x4b, 0x61, 0x16,
};

static const uint8_t rfc_tag[16] = {
	0x1a, 0xe1, 0x0b, 0x59, 0x4f, 0x09, 0xe2, 0x6a,
	0x7e, 0x90, 0x2e, 0xcb, 0xd0, 0x60, 0x06, 0x91,
};

static void rfc_key(uint8_t key[32])
{
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)(0x80 + i);
}

static struct aead *new_aead(enum aead_cipher c, const uint8_t key[32])
{
	struct aead *a = NULL;

	CHECK_INT(aead_new(c, key, &a), 0);
	return a;
}

static void test_rfc8439_vector(void)
{
	uint8_t key[32], out[114 + 16], back[114];
	struct aead *a;

	rfc_key(key);
	a = new_aead(AEAD_CHACHA20_POLY1305, key);
	if (!a)
		return;
	CHECK_INT(sizeof(rfc_pt) - 1, 114);
	CHECK_INT(aead_seal_nonce(a, rfc_nonce, rfc_aad, 12,
				  (const uint8_t *)rfc_pt, 114, out), 0);
	CHECK_MEM(out, rfc_ct, 114);
	CHECK_MEM(out + 114, rfc_tag, 16);
	CHECK_INT(aead_open_nonce(a, rfc_nonce, rfc_aad, 12, out, 130, back),
		  114);
	CHECK_MEM(back, rfc_pt, 114);
	aead_free(a);
}

/* GCM specification, test cases 13 and 14: 256-bit zero key, zero IV. */
static void test_gcm_vectors(void)
{
	static const uint8_t tag13[16] = {
		0x53, 0x0f, 0x8a, 0xfb, 0xc7, 0x45, 0x36, 0xb9,
		0xa9, 0x63, 0xb4, 0xf1, 0xc4, 0xcb, 0x73, 0x8b,
	};
	static const uint8_t ct14[32] = {
		0xce, 0xa7, 0x40, 0x3d, 0x4d, 0x60, 0x6b, 0x6e,
		0x07, 0x4e, 0xc5, 0xd3, 0xba, 0xf3, 0x9d, 0x18,
		0xd0, 0xd1, 0xc8, 0xa7, 0x99, 0x99, 0x6b, 0xf0,
		0x26, 0x5b, 0x98, 0xb5, 0xd4, 0x8a, 0xb9, 0x19,
	};
	uint8_t key[32] = { 0 }, nonce[12] = { 0 }, zeros[16] = { 0 }, out[32], back[16];
	struct aead *a = new_aead(AEAD_AES256_GCM, key);

	if (!a)
		return;
	CHECK_INT(aead_seal_nonce(a, nonce, NULL, 0, NULL, 0, out), 0);
	CHECK_MEM(out, tag13, 16);
	CHECK_INT(aead_open_nonce(a, nonce, NULL, 0, out, 16, back), 0);
	CHECK_INT(aead_seal_nonce(a, nonce, NULL, 0, zeros, 16, out), 0);
	CHECK_MEM(out, ct14, 32);
	CHECK_INT(aead_open_nonce(a, nonce, NULL, 0, ct14, 32, back), 16);
	CHECK_MEM(back, zeros, 16);
	/* The counter nonce of counter 0 is the all-zero nonce. */
	CHECK_INT(aead_seal(a, 0, NULL, 0, zeros, 16, out), 0);
	CHECK_MEM(out, ct14, 32);
	aead_free(a);
}

static void test_counter_nonce(void)
{
	uint8_t key[32], a[64 + 16], b[64 + 16], pt[64], nonce[12] = { 0 };
	uint64_t ctr = 0x0102030405060708ull;

	rfc_key(key);
	memset(pt, 0xab, sizeof(pt));
	/* Nonce = 4 zero bytes || counter little-endian. */
	for (int i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(ctr >> (8 * i));
	for (size_t c = 0; c < NCIPHERS; c++) {
		struct aead *x = new_aead(ciphers[c], key);

		if (!x)
			continue;
		CHECK_INT(aead_seal(x, ctr, rfc_aad, 12, pt, 64, a), 0);
		CHECK_INT(aead_seal_nonce(x, nonce, rfc_aad, 12, pt, 64, b), 0);
		CHECK_MEM(a, b, sizeof(a));
		/* Another counter gives another ciphertext, and does not open. */
		CHECK_INT(aead_seal(x, ctr + 1, rfc_aad, 12, pt, 64, b), 0);
		CHECK(memcmp(a, b, 64) != 0);
		CHECK_INT(aead_open(x, ctr + 1, rfc_aad, 12, a, 80, b), -EBADMSG);
		CHECK_INT(aead_open(x, ctr, rfc_aad, 12, a, 80, b), 64);
		CHECK_MEM(b, pt, 64);
		aead_free(x);
	}
}

/* The two ciphers are not the same function: nothing sealed with one opens
 * with the other, so two sides that disagreed would fail, not misread. */
static void test_ciphers_differ(void)
{
	uint8_t key[32], pt[100], ct[116], out[100];
	struct aead *c, *g;

	rfc_key(key);
	memset(pt, 0x42, sizeof(pt));
	c = new_aead(AEAD_CHACHA20_POLY1305, key);
	g = new_aead(AEAD_AES256_GCM, key);
	if (c && g) {
		CHECK_INT(aead_seal(c, 5, rfc_aad, 12, pt, 100, ct), 0);
		CHECK_INT(aead_open(g, 5, rfc_aad, 12, ct, 116, out), -EBADMSG);
		CHECK_INT(aead_seal(g, 5, rfc_aad, 12, pt, 100, ct), 0);
		CHECK_INT(aead_open(c, 5, rfc_aad, 12, ct, 116, out), -EBADMSG);
		CHECK_INT(aead_open(g, 5, rfc_aad, 12, ct, 116, out), 100);
		CHECK_INT(aead_cipher_of(c), AEAD_CHACHA20_POLY1305);
		CHECK_INT(aead_cipher_of(g), AEAD_AES256_GCM);
	}
	CHECK_STR(aead_cipher_name(AEAD_AES256_GCM), "aes-256-gcm");
	CHECK_STR(aead_cipher_name(AEAD_CHACHA20_POLY1305), "chacha20-poly1305");
	aead_free(c);
	aead_free(g);
}

/* One context, as a session uses it: many packets in a row, seals and
 * opens interleaved, a failed open in between; each result equals that of
 * a fresh context. */
static void test_context_reuse(void)
{
	uint8_t key[32], pt[1400], ct[1416], want[1416], out[1400];

	rfc_key(key);
	for (size_t i = 0; i < sizeof(pt); i++)
		pt[i] = (uint8_t)(i * 7);
	for (size_t c = 0; c < NCIPHERS; c++) {
		struct aead *x = new_aead(ciphers[c], key), *y;

		if (!x)
			continue;
		for (uint64_t ctr = 0; ctr < 300; ctr++) {
			size_t len = (size_t)(ctr * 37) % sizeof(pt);

			CHECK_INT(aead_seal(x, ctr, rfc_aad, 12, pt, len, ct), 0);
			y = new_aead(ciphers[c], key);
			if (!y)
				break;
			CHECK_INT(aead_seal(y, ctr, rfc_aad, 12, pt, len, want), 0);
			aead_free(y);
			CHECK_MEM(ct, want, len + 16);
			if (ctr % 3 == 0) {
				ct[len] ^= 1;
				CHECK_INT(aead_open(x, ctr, rfc_aad, 12, ct, len + 16, out), -EBADMSG);
				ct[len] ^= 1;
			}
			CHECK_INT(aead_open(x, ctr, rfc_aad, 12, ct, len + 16, out), (int)len);
			CHECK_MEM(out, pt, len);
			if (h_cur_failed) {
				fprintf(stderr, "  %s counter %llu len %zu\n", aead_cipher_name(ciphers[c]),
					(unsigned long long)ctr, len);
				break;
			}
		}
		aead_free(x);
	}
}

static void test_in_place_and_empty(void)
{
	uint8_t key[32], buf[1500 + 16], orig[1500], tag_only[16], none[1];

	rfc_key(key);
	for (size_t c = 0; c < NCIPHERS; c++) {
		struct aead *x = new_aead(ciphers[c], key);

		if (!x)
			continue;
		for (int i = 0; i < 1500; i++)
			orig[i] = buf[i] = (uint8_t)(i * 31);
		CHECK_INT(aead_seal(x, 9, buf, 16, buf + 16, 1484, buf + 16), 0);
		CHECK(memcmp(buf + 16, orig + 16, 1484) != 0);
		CHECK_INT(aead_open(x, 9, buf, 16, buf + 16, 1500, buf + 16), 1484);
		CHECK_MEM(buf, orig, 1500);
		/* Keepalive: empty plaintext, tag only. */
		CHECK_INT(aead_seal(x, 10, rfc_aad, 12, NULL, 0, tag_only), 0);
		CHECK_INT(aead_open(x, 10, rfc_aad, 12, tag_only, 16, none), 0);
		tag_only[3] ^= 1;
		CHECK_INT(aead_open(x, 10, rfc_aad, 12, tag_only, 16, none), -EBADMSG);
		/* Shorter than a tag. */
		for (size_t n = 0; n < 16; n++)
			CHECK_INT(aead_open(x, 10, rfc_aad, 12, tag_only, n, none),
				  -EBADMSG);
		aead_free(x);
	}
}

static void test_tamper(void)
{
	uint8_t key[32], ct[100 + 16], out[100], ad[16], pt[100];

	rfc_key(key);
	memset(pt, 0x5a, sizeof(pt));
	memset(ad, 0x11, sizeof(ad));
	for (size_t c = 0; c < NCIPHERS; c++) {
		struct aead *x = new_aead(ciphers[c], key), *y;

		if (!x)
			continue;
		CHECK_INT(aead_seal(x, 77, ad, 16, pt, 100, ct), 0);
		for (size_t i = 0; i < sizeof(ct); i++) {
			for (int bit = 0; bit < 8; bit += 3) {
				ct[i] ^= (uint8_t)(1 << bit);
				memset(out, 0xee, sizeof(out));
				CHECK_INT(aead_open(x, 77, ad, 16, ct, sizeof(ct), out),
					  -EBADMSG);
				/* No unauthenticated plaintext leaks out. */
				for (size_t j = 0; j < sizeof(out); j++)
					if (out[j]) { H_FAIL("plaintext left at %zu", j); break; }
				ct[i] ^= (uint8_t)(1 << bit);
			}
		}
		for (size_t i = 0; i < sizeof(ad); i++) {
			ad[i] ^= 0x80;
			CHECK_INT(aead_open(x, 77, ad, 16, ct, sizeof(ct), out), -EBADMSG);
			ad[i] ^= 0x80;
		}
		CHECK_INT(aead_open(x, 77, ad, 15, ct, sizeof(ct), out), -EBADMSG);
		key[31] ^= 1;
		y = new_aead(ciphers[c], key);
		key[31] ^= 1;
		if (y)
			CHECK_INT(aead_open(y, 77, ad, 16, ct, sizeof(ct), out), -EBADMSG);
		aead_free(y);
		CHECK_INT(aead_open(x, 77, ad, 16, ct, sizeof(ct), out), 100);
		CHECK_MEM(out, pt, 100);
		aead_free(x);
	}
}

static void test_bad_args(void)
{
	uint8_t key[32] = { 0 }, nonce[12] = { 0 }, buf[64] = { 0 };
	struct aead *x = (struct aead *)buf;

	CHECK_INT(aead_new((enum aead_cipher)7, key, &x), -EINVAL);
	CHECK(x == NULL);
	CHECK_INT(aead_new(AEAD_AES256_GCM, NULL, &x), -EINVAL);
	CHECK_STR(aead_cipher_name((enum aead_cipher)7), "?");
	aead_free(NULL);
	x = new_aead(AEAD_CHACHA20_POLY1305, key);
	if (!x)
		return;
	CHECK_INT(aead_seal_nonce(NULL, nonce, NULL, 0, buf, 1, buf), -EINVAL);
	CHECK_INT(aead_seal_nonce(x, nonce, NULL, 1, buf, 1, buf), -EINVAL);
	CHECK_INT(aead_seal_nonce(x, nonce, NULL, 0, NULL, 1, buf), -EINVAL);
	CHECK_INT(aead_open_nonce(x, nonce, NULL, 0, buf, 15, buf), -EBADMSG);
	CHECK_INT(aead_open_nonce(x, NULL, NULL, 0, buf, 16, buf), -EINVAL);
	aead_free(x);
}

int main(void)
{
	RUN(test_rfc8439_vector);
	RUN(test_gcm_vectors);
	RUN(test_counter_nonce);
	RUN(test_ciphers_differ);
	RUN(test_context_reuse);
	RUN(test_in_place_and_empty);
	RUN(test_tamper);
	RUN(test_bad_args);
	return HARNESS_END();
}
