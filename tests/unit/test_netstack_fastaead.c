/*
 * Our ChaCha20, Poly1305 and the AEAD built on them (netstack/chacha.c,
 * netstack/poly1305.c, netstack/aead.c): every RFC 8439 test vector
 * (sections 2.3.2-2.8.2 and Appendix A), then a differential test against
 * wolfCrypt's ChaCha20-Poly1305 and Poly1305 on random inputs, tampering
 * and in-place use. Every ChaCha20 implementation this CPU supports
 * (scalar, SSE2, AVX2) is run explicitly. With --bench it only prints
 * MB/s for 1312-byte packets, ours against wolfCrypt's, and asserts
 * nothing about speed.
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/chacha20_poly1305.h>
#include <wolfssl/wolfcrypt/poly1305.h>

#include "tests/unit/harness.h"
#include "netstack/aead.h"
#include "netstack/chacha.h"
#include "netstack/poly1305.h"

/* ---- helpers ---- */

static const enum chacha20_impl impls[] = {
	CHACHA20_IMPL_SCALAR, CHACHA20_IMPL_SSE2, CHACHA20_IMPL_AVX2,
};
#define NIMPLS (sizeof(impls) / sizeof(impls[0]))

/* Hex digits in s, separators (space, colon, newline) skipped. */
static size_t unhex(const char *s, uint8_t *out, size_t max)
{
	size_t n = 0;
	int hi = -1;

	for (; *s; s++) {
		int v;

		if (*s >= '0' && *s <= '9')
			v = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			v = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			v = *s - 'A' + 10;
		else
			continue;
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n == max)
			abort();
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	if (hi >= 0)
		abort();
	return n;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

/* splitmix64: deterministic, so a failure reproduces. */
static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void rnd_bytes(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
}

/* Lengths 0..2100, weighted to small packets, full-MTU packets and block edges. */
static size_t rnd_len(void)
{
	size_t n;

	switch (rnd() % 5) {
	case 0:
		return rnd() % 301;
	case 1:
		return 1200 + rnd() % 201;
	case 2:
		n = 64 * (rnd() % 33) + rnd() % 7;
		return n < 3 ? n : n - 3;
	case 3:
		n = 256 * (rnd() % 9) + rnd() % 17;
		n = n < 8 ? n : n - 8;
		return n > 2100 ? 2100 : n;
	default:
		return rnd() % 2101;
	}
}

static const char *impl_label(enum chacha20_impl impl)
{
	switch (impl) {
	case CHACHA20_IMPL_AVX2:
		return "avx2";
	case CHACHA20_IMPL_SSE2:
		return "sse2";
	case CHACHA20_IMPL_SCALAR:
		return "scalar";
	default:
		return "auto";
	}
}

/* ---- RFC 8439 vectors ---- */

static const char key_seq[] =
	"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
static const char key_80[] =
	"808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f";
static const char key_1c[] =
	"1c 92 40 a5 eb 55 d3 8a f3 33 88 86 04 f6 b5 f0"
	"47 39 17 c1 40 2b 80 09 9d ca 5c bc 20 70 75 c0";
static const char key_0[] =
	"0000000000000000000000000000000000000000000000000000000000000000";
static const char key_1[] =
	"0000000000000000000000000000000000000000000000000000000000000001";

static const char sunscreen[] =
	"Ladies and Gentlemen of the class of '99: If I could offer you "
	"only one tip for the future, sunscreen would be it.";
static const char ietf[] =
	"Any submission to the IETF intended by the Contributor for "
	"publication as all or part of an IETF Internet-Draft or RFC and any "
	"statement made within the context of an IETF activity is considered "
	"an \"IETF Contribution\". Such statements include oral statements in "
	"IETF sessions, as well as written and electronic communications made "
	"at any time or place, which are addressed to";
static const char jabberwocky[] =
	"'Twas brillig, and the slithy toves\nDid gyre and gimble in the "
	"wabe:\nAll mimsy were the borogoves,\nAnd the mome raths outgrabe.";

struct block_vec {
	const char *key, *nonce;
	uint32_t counter;
	const char *out;
};

static const struct block_vec block_vecs[] = {
	{ key_seq, "000000090000004a00000000", 1,	/* 2.3.2 */
	  "10 f1 e7 e4 d1 3b 59 15 50 0f dd 1f a3 20 71 c4"
	  "c7 d1 f4 c7 33 c0 68 03 04 22 aa 9a c3 d4 6c 4e"
	  "d2 82 64 46 07 9f aa 09 14 c2 d7 05 d9 8b 02 a2"
	  "b5 12 9c d1 de 16 4e b9 cb d0 83 e8 a2 50 3c 4e" },
	{ key_0, "000000000000000000000000", 0,	/* A.1 #1 */
	  "76 b8 e0 ad a0 f1 3d 90 40 5d 6a e5 53 86 bd 28"
	  "bd d2 19 b8 a0 8d ed 1a a8 36 ef cc 8b 77 0d c7"
	  "da 41 59 7c 51 57 48 8d 77 24 e0 3f b8 d8 4a 37"
	  "6a 43 b8 f4 15 18 a1 1c c3 87 b6 69 b2 ee 65 86" },
	{ key_0, "000000000000000000000000", 1,	/* A.1 #2 */
	  "9f 07 e7 be 55 51 38 7a 98 ba 97 7c 73 2d 08 0d"
	  "cb 0f 29 a0 48 e3 65 69 12 c6 53 3e 32 ee 7a ed"
	  "29 b7 21 76 9c e6 4e 43 d5 71 33 b0 74 d8 39 d5"
	  "31 ed 1f 28 51 0a fb 45 ac e1 0a 1f 4b 79 4d 6f" },
	{ key_1, "000000000000000000000000", 1,	/* A.1 #3 */
	  "3a eb 52 24 ec f8 49 92 9b 9d 82 8d b1 ce d4 dd"
	  "83 20 25 e8 01 8b 81 60 b8 22 84 f3 c9 49 aa 5a"
	  "8e ca 00 bb b4 a7 3b da d1 92 b5 c4 2f 73 f2 fd"
	  "4e 27 36 44 c8 b3 61 25 a6 4a dd eb 00 6c 13 a0" },
	{ "00ff000000000000000000000000000000000000000000000000000000000000",
	  "000000000000000000000000", 2,		/* A.1 #4 */
	  "72 d5 4d fb f1 2e c4 4b 36 26 92 df 94 13 7f 32"
	  "8f ea 8d a7 39 90 26 5e c1 bb be a1 ae 9a f0 ca"
	  "13 b2 5a a2 6c b4 a6 48 cb 9b 9d 1b e6 5b 2c 09"
	  "24 a6 6c 54 d5 45 ec 1b 73 74 f4 87 2e 99 f0 96" },
	{ key_0, "000000000000000000000002", 0,	/* A.1 #5 */
	  "c2 c6 4d 37 8c d5 36 37 4a e2 04 b9 ef 93 3f cd"
	  "1a 8b 22 88 b3 df a4 96 72 ab 76 5b 54 ee 27 c7"
	  "8a 97 0e 0e 95 5c 14 f3 a8 8e 74 1b 97 c2 86 f7"
	  "5f 8f c2 99 e8 14 83 62 fa 19 8a 39 53 1b ed 6d" },
};

static void test_chacha20_block_vectors(void)
{
	uint8_t key[32], nonce[12], want[64], got[64], zeros[64] = { 0 };

	for (size_t v = 0; v < sizeof(block_vecs) / sizeof(block_vecs[0]); v++) {
		const struct block_vec *bv = &block_vecs[v];

		CHECK_INT(unhex(bv->key, key, 32), 32);
		CHECK_INT(unhex(bv->nonce, nonce, 12), 12);
		CHECK_INT(unhex(bv->out, want, 64), 64);
		chacha20_block(key, bv->counter, nonce, got);
		CHECK_MEM(got, want, 64);
		/* The keystream through every implementation, too. */
		for (size_t i = 0; i < NIMPLS; i++) {
			if (chacha20_set_impl(impls[i]) != 0)
				continue;
			memset(got, 0x55, sizeof(got));
			chacha20_xor(key, bv->counter, nonce, zeros, got, 64);
			CHECK_MEM(got, want, 64);
		}
		chacha20_set_impl(CHACHA20_IMPL_AUTO);
	}
}

struct enc_vec {
	const char *key, *nonce;
	uint32_t counter;
	const char *pt;		/* text, or NULL for ptlen zero bytes */
	size_t ptlen;
	const char *ct;
};

static const struct enc_vec enc_vecs[] = {
	{ key_seq, "000000000000004a00000000", 1, sunscreen, 114,	/* 2.4.2 */
	  "6e 2e 35 9a 25 68 f9 80 41 ba 07 28 dd 0d 69 81"
	  "e9 7e 7a ec 1d 43 60 c2 0a 27 af cc fd 9f ae 0b"
	  "f9 1b 65 c5 52 47 33 ab 8f 59 3d ab cd 62 b3 57"
	  "16 39 d6 24 e6 51 52 ab 8f 53 0c 35 9f 08 61 d8"
	  "07 ca 0d bf 50 0d 6a 61 56 a3 8e 08 8a 22 b6 5e"
	  "52 bc 51 4d 16 cc f8 06 81 8c e9 1a b7 79 37 36"
	  "5a f9 0b bf 74 a3 5b e6 b4 0b 8e ed f2 78 5e 42"
	  "87 4d" },
	{ key_0, "000000000000000000000000", 0, NULL, 64,		/* A.2 #1 */
	  "76 b8 e0 ad a0 f1 3d 90 40 5d 6a e5 53 86 bd 28"
	  "bd d2 19 b8 a0 8d ed 1a a8 36 ef cc 8b 77 0d c7"
	  "da 41 59 7c 51 57 48 8d 77 24 e0 3f b8 d8 4a 37"
	  "6a 43 b8 f4 15 18 a1 1c c3 87 b6 69 b2 ee 65 86" },
	{ key_1, "000000000000000000000002", 1, ietf, 375,		/* A.2 #2 */
	  "a3 fb f0 7d f3 fa 2f de 4f 37 6c a2 3e 82 73 70"
	  "41 60 5d 9f 4f 4f 57 bd 8c ff 2c 1d 4b 79 55 ec"
	  "2a 97 94 8b d3 72 29 15 c8 f3 d3 37 f7 d3 70 05"
	  "0e 9e 96 d6 47 b7 c3 9f 56 e0 31 ca 5e b6 25 0d"
	  "40 42 e0 27 85 ec ec fa 4b 4b b5 e8 ea d0 44 0e"
	  "20 b6 e8 db 09 d8 81 a7 c6 13 2f 42 0e 52 79 50"
	  "42 bd fa 77 73 d8 a9 05 14 47 b3 29 1c e1 41 1c"
	  "68 04 65 55 2a a6 c4 05 b7 76 4d 5e 87 be a8 5a"
	  "d0 0f 84 49 ed 8f 72 d0 d6 62 ab 05 26 91 ca 66"
	  "42 4b c8 6d 2d f8 0e a4 1f 43 ab f9 37 d3 25 9d"
	  "c4 b2 d0 df b4 8a 6c 91 39 dd d7 f7 69 66 e9 28"
	  "e6 35 55 3b a7 6c 5c 87 9d 7b 35 d4 9e b2 e6 2b"
	  "08 71 cd ac 63 89 39 e2 5e 8a 1e 0e f9 d5 28 0f"
	  "a8 ca 32 8b 35 1c 3c 76 59 89 cb cf 3d aa 8b 6c"
	  "cc 3a af 9f 39 79 c9 2b 37 20 fc 88 dc 95 ed 84"
	  "a1 be 05 9c 64 99 b9 fd a2 36 e7 e8 18 b0 4b 0b"
	  "c3 9c 1e 87 6b 19 3b fe 55 69 75 3f 88 12 8c c0"
	  "8a aa 9b 63 d1 a1 6f 80 ef 25 54 d7 18 9c 41 1f"
	  "58 69 ca 52 c5 b8 3f a3 6f f2 16 b9 c1 d3 00 62"
	  "be bc fd 2d c5 bc e0 91 19 34 fd a7 9a 86 f6 e6"
	  "98 ce d7 59 c3 ff 9b 64 77 33 8f 3d a4 f9 cd 85"
	  "14 ea 99 82 cc af b3 41 b2 38 4d d9 02 f3 d1 ab"
	  "7a c6 1d d2 9c 6f 21 ba 5b 86 2f 37 30 e3 7c fd"
	  "c4 fd 80 6c 22 f2 21" },
	{ key_1c, "000000000000000000000002", 42, jabberwocky, 127,	/* A.2 #3 */
	  "62 e6 34 7f 95 ed 87 a4 5f fa e7 42 6f 27 a1 df"
	  "5f b6 91 10 04 4c 0d 73 11 8e ff a9 5b 01 e5 cf"
	  "16 6d 3d f2 d7 21 ca f9 b2 1e 5f b1 4c 61 68 71"
	  "fd 84 c5 4f 9d 65 b2 83 19 6c 7f e4 f6 05 53 eb"
	  "f3 9c 64 02 c4 22 34 e3 2a 35 6b 3e 76 43 12 a6"
	  "1a 55 32 05 57 16 ea d6 96 25 68 f8 7d 3f 3f 77"
	  "04 c6 a8 d1 bc d1 bf 4d 50 d6 15 4b 6d a7 31 b1"
	  "87 b5 8d fd 72 8a fa 36 75 7a 79 7a c1 88 d1" },
};

static void test_chacha20_encrypt_vectors(void)
{
	uint8_t key[32], nonce[12], pt[400], want[400], got[400];

	for (size_t v = 0; v < sizeof(enc_vecs) / sizeof(enc_vecs[0]); v++) {
		const struct enc_vec *ev = &enc_vecs[v];
		size_t n = ev->ptlen;

		unhex(ev->key, key, 32);
		unhex(ev->nonce, nonce, 12);
		CHECK_INT(unhex(ev->ct, want, sizeof(want)), n);
		if (ev->pt) {
			CHECK_INT(strlen(ev->pt), n);
			memcpy(pt, ev->pt, n);
		} else {
			memset(pt, 0, n);
		}
		for (size_t i = 0; i < NIMPLS; i++) {
			if (chacha20_set_impl(impls[i]) != 0)
				continue;
			chacha20_xor(key, ev->counter, nonce, pt, got, n);
			CHECK_MEM(got, want, n);
			/* In place, and back again. */
			memcpy(got, pt, n);
			chacha20_xor(key, ev->counter, nonce, got, got, n);
			CHECK_MEM(got, want, n);
			chacha20_xor(key, ev->counter, nonce, got, got, n);
			CHECK_MEM(got, pt, n);
		}
		chacha20_set_impl(CHACHA20_IMPL_AUTO);
	}
}

struct mac_vec {
	const char *key;
	const char *msg;	/* text, or NULL: msg_hex */
	const char *msg_hex;
	const char *tag;
};

static const struct mac_vec mac_vecs[] = {
	{ "85:d6:be:78:57:55:6d:33:7f:44:52:fe:42:d5:06:a8"		/* 2.5.2 */
	  "01:03:80:8a:fb:0d:b2:fd:4a:bf:f6:af:41:49:f5:1b",
	  "Cryptographic Forum Research Group", NULL,
	  "a8:06:1d:c1:30:51:36:c6:c2:2b:8b:af:0c:01:27:a9" },
	{ key_0, NULL,							/* A.3 #1 */
	  "00000000000000000000000000000000" "00000000000000000000000000000000"
	  "00000000000000000000000000000000" "00000000000000000000000000000000",
	  "00000000000000000000000000000000" },
	{ "00000000000000000000000000000000"				/* A.3 #2 */
	  "36 e5 f6 b5 c5 e0 60 70 f0 ef ca 96 22 7a 86 3e", ietf, NULL,
	  "36 e5 f6 b5 c5 e0 60 70 f0 ef ca 96 22 7a 86 3e" },
	{ "36 e5 f6 b5 c5 e0 60 70 f0 ef ca 96 22 7a 86 3e"		/* A.3 #3 */
	  "00000000000000000000000000000000", ietf, NULL,
	  "f3 47 7e 7c d9 54 17 af 89 a6 b8 79 4c 31 0c f0" },
	{ key_1c, jabberwocky, NULL,					/* A.3 #4 */
	  "45 41 66 9a 7e aa ee 61 e7 08 dc 7c bc c5 eb 62" },
	{ "02000000000000000000000000000000"				/* A.3 #5 */
	  "00000000000000000000000000000000", NULL,
	  "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",
	  "03000000000000000000000000000000" },
	{ "02000000000000000000000000000000"				/* A.3 #6 */
	  "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF", NULL,
	  "02000000000000000000000000000000",
	  "03000000000000000000000000000000" },
	{ "01000000000000000000000000000000"				/* A.3 #7 */
	  "00000000000000000000000000000000", NULL,
	  "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"
	  "F0FFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"
	  "11000000000000000000000000000000",
	  "05000000000000000000000000000000" },
	{ "01000000000000000000000000000000"				/* A.3 #8 */
	  "00000000000000000000000000000000", NULL,
	  "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"
	  "FBFEFEFEFEFEFEFEFEFEFEFEFEFEFEFE"
	  "01010101010101010101010101010101",
	  "00000000000000000000000000000000" },
	{ "02000000000000000000000000000000"				/* A.3 #9 */
	  "00000000000000000000000000000000", NULL,
	  "FDFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",
	  "FAFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF" },
	{ "01000000000000000400000000000000"				/* A.3 #10 */
	  "00000000000000000000000000000000", NULL,
	  "E33594D7505E43B90000000000000000"
	  "3394D7505E4379CD0100000000000000"
	  "00000000000000000000000000000000"
	  "01000000000000000000000000000000",
	  "14000000000000005500000000000000" },
	{ "01000000000000000400000000000000"				/* A.3 #11 */
	  "00000000000000000000000000000000", NULL,
	  "E33594D7505E43B90000000000000000"
	  "3394D7505E4379CD0100000000000000"
	  "00000000000000000000000000000000",
	  "13000000000000000000000000000000" },
	/*
	 * Not from the RFC: found by searching a model of our radix-2^64
	 * code for a message where dropping the carry into h2 after the
	 * "times 5" fold changes the tag (checked against the RFC formula).
	 */
	{ "05000000000000000000000000000000"
	  "00000000000000000000000000000000", NULL,
	  "ffffffffffffffffffffffffffffffff"
	  "ffffffffffffffff0000000000000000"
	  "feffffffffffffffffffffffffffffff"
	  "00000000000000000000000000000000"
	  "0000000000000000ffffffffffffffff",
	  "56130000000000006c02000000000000" },
};

static void test_poly1305_vectors(void)
{
	uint8_t key[32], msg[400], want[16], got[16];

	for (size_t v = 0; v < sizeof(mac_vecs) / sizeof(mac_vecs[0]); v++) {
		const struct mac_vec *mv = &mac_vecs[v];
		struct poly1305 p;
		size_t n;

		CHECK_INT(unhex(mv->key, key, 32), 32);
		CHECK_INT(unhex(mv->tag, want, 16), 16);
		if (mv->msg) {
			n = strlen(mv->msg);
			memcpy(msg, mv->msg, n);
		} else {
			n = unhex(mv->msg_hex, msg, sizeof(msg));
		}
		poly1305_mac(key, msg, n, got);
		if (memcmp(got, want, 16) != 0)
			fprintf(stderr, "  poly1305 vector %zu\n", v);
		CHECK_MEM(got, want, 16);
		/* Byte by byte through the buffering gives the same tag. */
		poly1305_init(&p, key);
		for (size_t i = 0; i < n; i++)
			poly1305_update(&p, msg + i, 1);
		poly1305_final(&p, got);
		CHECK_MEM(got, want, 16);
	}
}

static void test_poly1305_keygen_vectors(void)
{
	static const struct { const char *key, *nonce, *otk; } kv[] = {
		{ key_80, "000000000001020304050607",		/* 2.6.2 */
		  "8a d5 a0 8b 90 5f 81 cc 81 50 40 27 4a b2 94 71"
		  "a8 33 b6 37 e3 fd 0d a5 08 db b8 e2 fd d1 a6 46" },
		{ key_0, "000000000000000000000000",		/* A.4 #1 */
		  "76 b8 e0 ad a0 f1 3d 90 40 5d 6a e5 53 86 bd 28"
		  "bd d2 19 b8 a0 8d ed 1a a8 36 ef cc 8b 77 0d c7" },
		{ key_1, "000000000000000000000002",		/* A.4 #2 */
		  "ec fa 25 4f 84 5f 64 74 73 d3 cb 14 0d a9 e8 76"
		  "06 cb 33 06 6c 44 7b 87 bc 26 66 dd e3 fb b7 39" },
		{ key_1c, "000000000000000000000002",		/* A.4 #3 */
		  "96 5e 3b c6 f9 ec 7e d9 56 08 08 f4 d2 29 f9 4b"
		  "13 7f f2 75 ca 9b 3f cb dd 59 de aa d2 33 10 ae" },
	};
	uint8_t key[32], nonce[12], want[32], block[64];

	for (size_t v = 0; v < sizeof(kv) / sizeof(kv[0]); v++) {
		unhex(kv[v].key, key, 32);
		unhex(kv[v].nonce, nonce, 12);
		CHECK_INT(unhex(kv[v].otk, want, 32), 32);
		/* Section 2.6: the first 32 bytes of block 0. */
		chacha20_block(key, 0, nonce, block);
		CHECK_MEM(block, want, 32);
	}
}

static const char a5_ct[] =
	"64 a0 86 15 75 86 1a f4 60 f0 62 c7 9b e6 43 bd"
	"5e 80 5c fd 34 5c f3 89 f1 08 67 0a c7 6c 8c b2"
	"4c 6c fc 18 75 5d 43 ee a0 9e e9 4e 38 2d 26 b0"
	"bd b7 b7 3c 32 1b 01 00 d4 f0 3b 7f 35 58 94 cf"
	"33 2f 83 0e 71 0b 97 ce 98 c8 a8 4a bd 0b 94 81"
	"14 ad 17 6e 00 8d 33 bd 60 f9 82 b1 ff 37 c8 55"
	"97 97 a0 6e f4 f0 ef 61 c1 86 32 4e 2b 35 06 38"
	"36 06 90 7b 6a 7c 02 b0 f9 f6 15 7b 53 c8 67 e4"
	"b9 16 6c 76 7b 80 4d 46 a5 9b 52 16 cd e7 a4 e9"
	"90 40 c5 a4 04 33 22 5e e2 82 a1 b0 a0 6c 52 3e"
	"af 45 34 d7 f8 3f a1 15 5b 00 47 71 8c bc 54 6a"
	"0d 07 2b 04 b3 56 4e ea 1b 42 22 73 f5 48 27 1a"
	"0b b2 31 60 53 fa 76 99 19 55 eb d6 31 59 43 4e"
	"ce bb 4e 46 6d ae 5a 10 73 a6 72 76 27 09 7a 10"
	"49 e6 17 d9 1d 36 10 94 fa 68 f0 ff 77 98 71 30"
	"30 5b ea ba 2e da 04 df 99 7b 71 4d 6c 6f 2c 29"
	"a6 ad 5c b4 02 2b 02 70 9b"
	"ee ad 9d 67 89 0c bb 22 39 23 36 fe a1 85 1f 38";	/* tag */

static const char a5_pt[] =
	"Internet-Drafts are draft documents valid for a maximum of six "
	"months and may be updated, replaced, or obsoleted by other documents "
	"at any time. It is inappropriate to use Internet-Drafts as reference "
	"material or to cite them other than as /\xe2\x80\x9cwork in progress."
	"/\xe2\x80\x9d";

static void test_aead_vectors(void)
{
	static const char ct_282[] =
		"d3 1a 8d 34 64 8e 60 db 7b 86 af bc 53 ef 7e c2"
		"a4 ad ed 51 29 6e 08 fe a9 e2 b5 a7 36 ee 62 d6"
		"3d be a4 5e 8c a9 67 12 82 fa fb 69 da 92 72 8b"
		"1a 71 de 0a 9e 06 0b 29 05 d6 a5 b6 7e cd 3b 36"
		"92 dd bd 7f 2d 77 8b 8c 98 03 ae e3 28 09 1b 58"
		"fa b3 24 e4 fa d6 75 94 55 85 80 8b 48 31 d7 bc"
		"3f f4 de f0 8e 4b 7a 9d e5 76 d2 65 86 ce c6 4b"
		"61 16"
		"1a:e1:0b:59:4f:09:e2:6a:7e:90:2e:cb:d0:60:06:91";
	uint8_t key[32], nonce[12], ad[12], want[300], got[300], back[300];
	size_t n;

	for (size_t i = 0; i < NIMPLS; i++) {
		if (chacha20_set_impl(impls[i]) != 0)
			continue;
		/* 2.8.2: seal. */
		unhex(key_80, key, 32);
		unhex("07000000 4041424344454647", nonce, 12);
		unhex("50515253c0c1c2c3c4c5c6c7", ad, 12);
		CHECK_INT(unhex(ct_282, want, sizeof(want)), 114 + 16);
		CHECK_INT(aead_seal_nonce(key, nonce, ad, 12,
					  (const uint8_t *)sunscreen, 114, got), 0);
		CHECK_MEM(got, want, 130);
		CHECK_INT(aead_open_nonce(key, nonce, ad, 12, got, 130, back), 114);
		CHECK_MEM(back, sunscreen, 114);
		/* A.5: open. */
		unhex(key_1c, key, 32);
		unhex("000000000102030405060708", nonce, 12);
		unhex("f3 33 88 86 00 00 00 00 00 00 4e 91", ad, 12);
		n = unhex(a5_ct, want, sizeof(want));
		CHECK_INT(n, 265 + 16);
		CHECK_INT(strlen(a5_pt), 265);
		memset(back, 0xcc, sizeof(back));
		CHECK_INT(aead_open_nonce(key, nonce, ad, 12, want, n, back), 265);
		CHECK_MEM(back, a5_pt, 265);
		CHECK_INT(aead_seal_nonce(key, nonce, ad, 12,
					  (const uint8_t *)a5_pt, 265, got), 0);
		CHECK_MEM(got, want, n);
	}
	chacha20_set_impl(CHACHA20_IMPL_AUTO);
}

/* ---- differential tests against wolfCrypt ---- */

static int wolf_seal(const uint8_t key[32], const uint8_t nonce[12],
		     const uint8_t *ad, size_t adlen,
		     const uint8_t *pt, size_t len, uint8_t *out)
{
	return wc_ChaCha20Poly1305_Encrypt(key, nonce, ad, (word32)adlen,
					   pt, (word32)len, out, out + len);
}

static int wolf_open(const uint8_t key[32], const uint8_t nonce[12],
		     const uint8_t *ad, size_t adlen,
		     const uint8_t *ct, size_t ctlen, uint8_t *out)
{
	return wc_ChaCha20Poly1305_Decrypt(key, nonce, ad, (word32)adlen,
					   ct, (word32)(ctlen - 16),
					   ct + ctlen - 16, out);
}

static int all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

/* Every 64th case: every tag bit, some ciphertext and AD bits. */
static void tamper_case(const uint8_t key[32], const uint8_t nonce[12],
			uint8_t *ad, size_t adlen, uint8_t *ct, size_t ctlen)
{
	uint8_t out[2200];
	size_t len = ctlen - 16;

	for (size_t bit = 0; bit < 128; bit++) {
		ct[len + bit / 8] ^= (uint8_t)(1 << (bit % 8));
		memset(out, 0xee, len);
		CHECK_INT(aead_open_nonce(key, nonce, ad, adlen, ct, ctlen, out),
			  -EBADMSG);
		if (!all_zero(out, len))
			H_FAIL("plaintext left after bad tag bit %zu", bit);
		ct[len + bit / 8] ^= (uint8_t)(1 << (bit % 8));
	}
	for (int k = 0; k < 8 && len; k++) {
		size_t bit = rnd() % (8 * len);

		ct[bit / 8] ^= (uint8_t)(1 << (bit % 8));
		memset(out, 0xee, len);
		CHECK_INT(aead_open_nonce(key, nonce, ad, adlen, ct, ctlen, out),
			  -EBADMSG);
		if (!all_zero(out, len))
			H_FAIL("plaintext left after bad ciphertext bit %zu", bit);
		ct[bit / 8] ^= (uint8_t)(1 << (bit % 8));
	}
	for (int k = 0; k < 4 && adlen; k++) {
		size_t bit = rnd() % (8 * adlen);

		ad[bit / 8] ^= (uint8_t)(1 << (bit % 8));
		CHECK_INT(aead_open_nonce(key, nonce, ad, adlen, ct, ctlen, out),
			  -EBADMSG);
		ad[bit / 8] ^= (uint8_t)(1 << (bit % 8));
	}
	/* A truncated or extended message does not verify either. */
	if (len)
		CHECK_INT(aead_open_nonce(key, nonce, ad, adlen, ct, ctlen - 1,
					  out), -EBADMSG);
	if (adlen)
		CHECK_INT(aead_open_nonce(key, nonce, ad, adlen - 1, ct, ctlen,
					  out), -EBADMSG);
	/* Untouched, it still opens. */
	CHECK_INT(aead_open_nonce(key, nonce, ad, adlen, ct, ctlen, out),
		  (int)len);
}

#define DIFF_CASES	200000

static void test_aead_vs_wolfcrypt(void)
{
	static uint8_t pt[2200], ours[2200], theirs[2200], back[2200], buf[2200];
	uint8_t key[32], nonce[12], ad[64];
	unsigned long ran[NIMPLS] = { 0 }, failed = 0;
	enum chacha20_impl usable[NIMPLS];
	size_t nusable = 0;

	for (size_t i = 0; i < NIMPLS; i++)
		if (chacha20_set_impl(impls[i]) == 0)
			usable[nusable++] = impls[i];
	for (unsigned long c = 0; c < DIFF_CASES && failed < 5; c++) {
		size_t which = c % nusable, adlen = rnd() % 65, len = rnd_len();
		int before = h_cur_failed;

		chacha20_set_impl(usable[which]);
		rnd_bytes(key, sizeof(key));
		rnd_bytes(nonce, sizeof(nonce));
		rnd_bytes(ad, adlen);
		rnd_bytes(pt, len);
		CHECK_INT(aead_seal_nonce(key, nonce, ad, adlen, pt, len, ours), 0);
		CHECK_INT(wolf_seal(key, nonce, ad, adlen, pt, len, theirs), 0);
		CHECK_MEM(ours, theirs, len + 16);
		/* Each opens the other's. */
		memset(back, 0, len);
		CHECK_INT(wolf_open(key, nonce, ad, adlen, ours, len + 16, back), 0);
		CHECK_MEM(back, pt, len);
		memset(back, 0, len);
		CHECK_INT(aead_open_nonce(key, nonce, ad, adlen, theirs, len + 16,
					  back), (int)len);
		CHECK_MEM(back, pt, len);
		/* In place: seal and open within one buffer. */
		memcpy(buf, pt, len);
		CHECK_INT(aead_seal_nonce(key, nonce, ad, adlen, buf, len, buf), 0);
		CHECK_MEM(buf, theirs, len + 16);
		CHECK_INT(aead_open_nonce(key, nonce, ad, adlen, buf, len + 16, buf),
			  (int)len);
		CHECK_MEM(buf, pt, len);
		if (c % 64 == 0)
			tamper_case(key, nonce, ad, adlen, ours, len + 16);
		if (h_cur_failed != before) {
			fprintf(stderr, "  case %lu: %s, adlen %zu, len %zu\n", c,
				impl_label(usable[which]), adlen, len);
			failed++;
		}
		ran[which]++;
	}
	chacha20_set_impl(CHACHA20_IMPL_AUTO);
	for (size_t i = 0; i < nusable; i++)
		printf("# aead vs wolfCrypt: %lu cases with %s\n", ran[i],
		       impl_label(usable[i]));
}

/* Each SIMD path against the scalar one, also across 32-bit counter wrap. */
static void test_chacha20_impls_agree(void)
{
	static uint8_t in[2200], want[2200], got[2200];
	uint8_t key[32], nonce[12];

	for (int c = 0; c < 20000; c++) {
		size_t len = rnd_len();
		uint32_t ctr = (uint32_t)rnd();

		if (c % 4 == 0)
			ctr = 0xffffffffu - (uint32_t)(rnd() % 40);
		rnd_bytes(key, sizeof(key));
		rnd_bytes(nonce, sizeof(nonce));
		rnd_bytes(in, len);
		chacha20_set_impl(CHACHA20_IMPL_SCALAR);
		chacha20_xor(key, ctr, nonce, in, want, len);
		for (size_t i = 1; i < NIMPLS; i++) {
			if (chacha20_set_impl(impls[i]) != 0)
				continue;
			/* Bytes past len must stay untouched. */
			memset(got, 0xa5, len + 64 < sizeof(got) ? len + 64 : sizeof(got));
			chacha20_xor(key, ctr, nonce, in, got, len);
			CHECK_MEM(got, want, len);
			for (size_t j = len; j < len + 64 && j < sizeof(got); j++)
				if (got[j] != 0xa5) {
					H_FAIL("%s wrote past %zu", impl_label(impls[i]), len);
					break;
				}
		}
		if (h_cur_failed) {
			fprintf(stderr, "  case %d: len %zu counter %u\n", c, len, ctr);
			break;
		}
	}
	chacha20_set_impl(CHACHA20_IMPL_AUTO);
}

/* Poly1305 against wolfCrypt's, with keys and messages biased to all-ones. */
static void test_poly1305_vs_wolfcrypt(void)
{
	static uint8_t msg[2200];
	uint8_t key[32], ours[16], theirs[16];

	for (int c = 0; c < 50000; c++) {
		size_t len = rnd_len();
		struct poly1305 p;
		Poly1305 wp;
		size_t cut;

		rnd_bytes(key, sizeof(key));
		rnd_bytes(msg, len);
		if (c % 3 == 0)
			memset(key, 0xff, 16 + (rnd() % 2) * 16);
		if (c % 5 == 0)
			memset(msg, 0xff, len);
		poly1305_mac(key, msg, len, ours);
		CHECK_INT(wc_Poly1305SetKey(&wp, key, 32), 0);
		CHECK_INT(wc_Poly1305Update(&wp, msg, (word32)len), 0);
		CHECK_INT(wc_Poly1305Final(&wp, theirs), 0);
		CHECK_MEM(ours, theirs, 16);
		/* Split at a random point: same tag. */
		cut = len ? rnd() % (len + 1) : 0;
		poly1305_init(&p, key);
		poly1305_update(&p, msg, cut);
		poly1305_update(&p, msg + cut, len - cut);
		poly1305_final(&p, ours);
		CHECK_MEM(ours, theirs, 16);
		if (h_cur_failed) {
			fprintf(stderr, "  case %d: len %zu\n", c, len);
			break;
		}
	}
}

/* Long messages: the fused open's size limit and the two-pass path past it. */
static void test_aead_long_vs_wolfcrypt(void)
{
	static uint8_t pt[9000], ours[9016], theirs[9016], back[9016];
	uint8_t key[32], nonce[12], ad[64];

	for (int c = 0; c < 600; c++) {
		size_t len = c % 3 ? 4096 - 40 + rnd() % 80 : rnd() % 9001;
		size_t adlen = rnd() % 65;

		if (chacha20_set_impl(impls[c % NIMPLS]) != 0)
			chacha20_set_impl(CHACHA20_IMPL_AUTO);
		rnd_bytes(key, sizeof(key));
		rnd_bytes(nonce, sizeof(nonce));
		rnd_bytes(ad, adlen);
		rnd_bytes(pt, len);
		CHECK_INT(aead_seal_nonce(key, nonce, ad, adlen, pt, len, ours), 0);
		CHECK_INT(wolf_seal(key, nonce, ad, adlen, pt, len, theirs), 0);
		CHECK_MEM(ours, theirs, len + 16);
		CHECK_INT(aead_open_nonce(key, nonce, ad, adlen, theirs, len + 16,
					  back), (int)len);
		CHECK_MEM(back, pt, len);
		theirs[rnd() % (len + 16)] ^= 0x10;
		CHECK_INT(aead_open_nonce(key, nonce, ad, adlen, theirs, len + 16,
					  back), -EBADMSG);
		if (!all_zero(back, len))
			H_FAIL("plaintext left, len %zu", len);
		if (h_cur_failed) {
			fprintf(stderr, "  case %d: len %zu adlen %zu\n", c, len, adlen);
			break;
		}
	}
	chacha20_set_impl(CHACHA20_IMPL_AUTO);
}

/* The fused keystream+MAC call equals the two calls it replaces. */
static void test_xor_poly1305_fused(void)
{
	static uint8_t in[3000], mac[3000], want[3000], got[3000];
	uint8_t key[32], nonce[12], pkey[32], t1[16], t2[16];

	for (int c = 0; c < 6000; c++) {
		size_t len = rnd() % 3000, maclen = 16 * (rnd() % 188);
		uint32_t ctr = (uint32_t)rnd();
		struct poly1305 a, b;

		if (chacha20_set_impl(impls[c % NIMPLS]) != 0)
			continue;
		rnd_bytes(key, sizeof(key));
		rnd_bytes(nonce, sizeof(nonce));
		rnd_bytes(pkey, sizeof(pkey));
		rnd_bytes(in, len);
		rnd_bytes(mac, maclen);
		poly1305_init(&a, pkey);
		poly1305_init(&b, pkey);
		chacha20_xor(key, ctr, nonce, in, want, len);
		poly1305_update(&a, mac, maclen);
		chacha20_xor_poly1305(key, ctr, nonce, in, got, len, &b, mac, maclen);
		poly1305_final(&a, t1);
		poly1305_final(&b, t2);
		CHECK_MEM(got, want, len);
		CHECK_MEM(t2, t1, 16);
		if (h_cur_failed) {
			fprintf(stderr, "  case %d: %s len %zu maclen %zu\n", c,
				impl_label(impls[c % NIMPLS]), len, maclen);
			break;
		}
	}
	chacha20_set_impl(CHACHA20_IMPL_AUTO);
}

static void test_bad_args(void)
{
	uint8_t key[32] = { 0 }, nonce[12] = { 0 }, buf[64] = { 0 };

	CHECK_INT(aead_seal_nonce(NULL, nonce, NULL, 0, buf, 1, buf), -EINVAL);
	CHECK_INT(aead_seal_nonce(key, nonce, NULL, 1, buf, 1, buf), -EINVAL);
	CHECK_INT(aead_seal_nonce(key, nonce, NULL, 0, NULL, 1, buf), -EINVAL);
	CHECK_INT(aead_open_nonce(key, nonce, NULL, 0, buf, 15, buf), -EBADMSG);
	CHECK_INT(aead_open_nonce(key, NULL, NULL, 0, buf, 16, buf), -EINVAL);
	/* Empty plaintext and AD: a tag only, as wolfCrypt makes it. */
	CHECK_INT(aead_seal_nonce(key, nonce, NULL, 0, NULL, 0, buf), 0);
	CHECK_INT(wolf_seal(key, nonce, buf + 32, 0, buf + 32, 0, buf + 16), 0);
	CHECK_MEM(buf, buf + 16, 16);
	CHECK_INT(aead_open_nonce(key, nonce, NULL, 0, buf, 16, buf + 32), 0);
	CHECK_INT(chacha20_set_impl((enum chacha20_impl)99), -ENOTSUP);
}

/* ---- benchmark ---- */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

#define BENCH_LEN	1312
#define BENCH_AD	16

enum bench_op { B_WOLF_SEAL, B_WOLF_OPEN, B_SEAL, B_OPEN, B_CHACHA, B_POLY };

static double bench_one(enum bench_op op)
{
	static uint8_t pt[BENCH_LEN], ct[BENCH_LEN + 16], out[BENCH_LEN + 16];
	uint8_t key[32] = { 1 }, nonce[12] = { 2 }, ad[BENCH_AD] = { 3 }, tag[16];
	unsigned long iters = 0;
	double t0 = now_s(), t;
	volatile uint8_t sink;

	aead_seal_nonce(key, nonce, ad, BENCH_AD, pt, BENCH_LEN, ct);
	do {
		for (int i = 0; i < 1000; i++) {
			switch (op) {
			case B_WOLF_SEAL:
				wolf_seal(key, nonce, ad, BENCH_AD, pt, BENCH_LEN, out);
				break;
			case B_WOLF_OPEN:
				wolf_open(key, nonce, ad, BENCH_AD, ct, sizeof(ct), out);
				break;
			case B_SEAL:
				aead_seal_nonce(key, nonce, ad, BENCH_AD, pt, BENCH_LEN, out);
				break;
			case B_OPEN:
				aead_open_nonce(key, nonce, ad, BENCH_AD, ct, sizeof(ct), out);
				break;
			case B_CHACHA:
				chacha20_xor(key, 1, nonce, pt, out, BENCH_LEN);
				break;
			case B_POLY:
				poly1305_mac(key, pt, BENCH_LEN, tag);
				out[0] = tag[0];
				break;
			}
		}
		iters += 1000;
		t = now_s() - t0;
	} while (t < 0.5);
	sink = out[0];
	(void)sink;
	return (double)iters * BENCH_LEN / t / 1e6;
}

static int bench(void)
{
	printf("1312-byte packets, 16 bytes AD, one core, MB/s of plaintext\n");
	printf("  wolfCrypt seal %8.0f   open %8.0f\n",
	       bench_one(B_WOLF_SEAL), bench_one(B_WOLF_OPEN));
	for (size_t i = 0; i < NIMPLS; i++) {
		if (chacha20_set_impl(impls[i]) != 0) {
			printf("  %-9s (not supported by this CPU)\n",
			       impl_label(impls[i]));
			continue;
		}
		printf("  %-9s seal %8.0f   open %8.0f   chacha20 only %8.0f\n",
		       impl_label(impls[i]), bench_one(B_SEAL), bench_one(B_OPEN),
		       bench_one(B_CHACHA));
	}
	chacha20_set_impl(CHACHA20_IMPL_AUTO);
	printf("  poly1305 only %8.0f\n", bench_one(B_POLY));
	printf("  default implementation: %s\n", chacha20_impl_name());
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--bench") == 0)
		return bench();
	printf("# chacha20 default: %s; tested:", chacha20_impl_name());
	for (size_t i = 0; i < NIMPLS; i++)
		if (chacha20_set_impl(impls[i]) == 0)
			printf(" %s", impl_label(impls[i]));
	chacha20_set_impl(CHACHA20_IMPL_AUTO);
	printf("\n");
	RUN(test_chacha20_block_vectors);
	RUN(test_chacha20_encrypt_vectors);
	RUN(test_poly1305_vectors);
	RUN(test_poly1305_keygen_vectors);
	RUN(test_aead_vectors);
	RUN(test_bad_args);
	RUN(test_chacha20_impls_agree);
	RUN(test_poly1305_vs_wolfcrypt);
	RUN(test_xor_poly1305_fused);
	RUN(test_aead_vs_wolfcrypt);
	RUN(test_aead_long_vs_wolfcrypt);
	return HARNESS_END();
}
