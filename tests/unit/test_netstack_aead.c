/*
 * The data-plane AEAD: the RFC 8439 section 2.8.2 vector, the counter
 * nonce layout, in-place use, empty payloads and tamper detection.
 */
#include <errno.h>

#include "tests/unit/harness.h"
#include "netstack/aead.h"

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

static void test_rfc8439_vector(void)
{
	uint8_t key[32], out[114 + 16], back[114];

	rfc_key(key);
	CHECK_INT(sizeof(rfc_pt) - 1, 114);
	CHECK_INT(aead_seal_nonce(key, rfc_nonce, rfc_aad, 12,
				  (const uint8_t *)rfc_pt, 114, out), 0);
	CHECK_MEM(out, rfc_ct, 114);
	CHECK_MEM(out + 114, rfc_tag, 16);
	CHECK_INT(aead_open_nonce(key, rfc_nonce, rfc_aad, 12, out, 130, back),
		  114);
	CHECK_MEM(back, rfc_pt, 114);
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
	CHECK_INT(aead_seal(key, ctr, rfc_aad, 12, pt, 64, a), 0);
	CHECK_INT(aead_seal_nonce(key, nonce, rfc_aad, 12, pt, 64, b), 0);
	CHECK_MEM(a, b, sizeof(a));
	/* Another counter gives another ciphertext, and does not open. */
	CHECK_INT(aead_seal(key, ctr + 1, rfc_aad, 12, pt, 64, b), 0);
	CHECK(memcmp(a, b, 64) != 0);
	CHECK_INT(aead_open(key, ctr + 1, rfc_aad, 12, a, 80, b), -EBADMSG);
	CHECK_INT(aead_open(key, ctr, rfc_aad, 12, a, 80, b), 64);
	CHECK_MEM(b, pt, 64);
}

static void test_in_place_and_empty(void)
{
	uint8_t key[32], buf[1500 + 16], orig[1500], tag_only[16], none[1];

	rfc_key(key);
	for (int i = 0; i < 1500; i++)
		orig[i] = buf[i] = (uint8_t)(i * 31);
	CHECK_INT(aead_seal(key, 9, buf, 16, buf + 16, 1484, buf + 16), 0);
	CHECK(memcmp(buf + 16, orig + 16, 1484) != 0);
	CHECK_INT(aead_open(key, 9, buf, 16, buf + 16, 1500, buf + 16), 1484);
	CHECK_MEM(buf, orig, 1500);
	/* Keepalive: empty plaintext, tag only. */
	CHECK_INT(aead_seal(key, 10, rfc_aad, 12, NULL, 0, tag_only), 0);
	CHECK_INT(aead_open(key, 10, rfc_aad, 12, tag_only, 16, none), 0);
	tag_only[3] ^= 1;
	CHECK_INT(aead_open(key, 10, rfc_aad, 12, tag_only, 16, none), -EBADMSG);
	/* Shorter than a tag. */
	for (size_t n = 0; n < 16; n++)
		CHECK_INT(aead_open(key, 10, rfc_aad, 12, tag_only, n, none),
			  -EBADMSG);
}

static void test_tamper(void)
{
	uint8_t key[32], ct[100 + 16], out[100], ad[16], pt[100];

	rfc_key(key);
	memset(pt, 0x5a, sizeof(pt));
	memset(ad, 0x11, sizeof(ad));
	CHECK_INT(aead_seal(key, 77, ad, 16, pt, 100, ct), 0);
	for (size_t i = 0; i < sizeof(ct); i++) {
		for (int bit = 0; bit < 8; bit += 3) {
			ct[i] ^= (uint8_t)(1 << bit);
			memset(out, 0xee, sizeof(out));
			CHECK_INT(aead_open(key, 77, ad, 16, ct, sizeof(ct), out),
				  -EBADMSG);
			/* No unauthenticated plaintext leaks out. */
			for (size_t j = 0; j < sizeof(out); j++)
				if (out[j]) { H_FAIL("plaintext left at %zu", j); break; }
			ct[i] ^= (uint8_t)(1 << bit);
		}
	}
	for (size_t i = 0; i < sizeof(ad); i++) {
		ad[i] ^= 0x80;
		CHECK_INT(aead_open(key, 77, ad, 16, ct, sizeof(ct), out), -EBADMSG);
		ad[i] ^= 0x80;
	}
	CHECK_INT(aead_open(key, 77, ad, 15, ct, sizeof(ct), out), -EBADMSG);
	key[31] ^= 1;
	CHECK_INT(aead_open(key, 77, ad, 16, ct, sizeof(ct), out), -EBADMSG);
	key[31] ^= 1;
	CHECK_INT(aead_open(key, 77, ad, 16, ct, sizeof(ct), out), 100);
	CHECK_MEM(out, pt, 100);
}

int main(void)
{
	RUN(test_rfc8439_vector);
	RUN(test_counter_nonce);
	RUN(test_in_place_and_empty);
	RUN(test_tamper);
	return HARNESS_END();
}
