/*
 * ChaCha20 (RFC 8439 sections 2.1-2.4), written from the RFC. The scalar
 * block function is the definition; the SSE2 and AVX2 versions run the
 * same quarter rounds on 4 or 8 blocks at once, one block per 32-bit
 * lane ("vertical" layout: vector i holds state word i of every block),
 * then transpose the words back into 64-byte blocks. Every operation is
 * an add, xor or fixed rotate, so timing does not depend on the key.
 * SSE2 is part of x86-64; AVX2 is compiled with a target attribute and
 * used only when the CPU reports it.
 */
#include <errno.h>
#include <string.h>

#include "netstack/chacha.h"
#include "netstack/poly1305.h"

#if defined(__x86_64__) && defined(__GNUC__)
#define CHACHA_X86 1
#include <immintrin.h>
#endif

#define ROTL32(v, n)	(((v) << (n)) | ((v) >> (32 - (n))))

#define QR(a, b, c, d) do { \
	a += b; d ^= a; d = ROTL32(d, 16); \
	c += d; b ^= c; b = ROTL32(b, 12); \
	a += b; d ^= a; d = ROTL32(d, 8); \
	c += d; b ^= c; b = ROTL32(b, 7); \
} while (0)

static enum chacha20_impl chacha_forced = CHACHA20_IMPL_AUTO;

static uint32_t load32_le(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 |
	       (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void store32_le(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* The initial state of section 2.3: constants, key, counter, nonce. */
static void chacha_setup(uint32_t st[16], const uint8_t key[32],
			 uint32_t counter, const uint8_t nonce[12])
{
	st[0] = 0x61707865;
	st[1] = 0x3320646e;
	st[2] = 0x79622d32;
	st[3] = 0x6b206574;
	for (int i = 0; i < 8; i++)
		st[4 + i] = load32_le(key + 4 * i);
	st[12] = counter;
	for (int i = 0; i < 3; i++)
		st[13 + i] = load32_le(nonce + 4 * i);
}

static void scalar_block(const uint32_t st[16], uint8_t out[64])
{
	uint32_t x[16];

	memcpy(x, st, sizeof(x));
	for (int i = 0; i < 10; i++) {
		QR(x[0], x[4], x[8], x[12]);
		QR(x[1], x[5], x[9], x[13]);
		QR(x[2], x[6], x[10], x[14]);
		QR(x[3], x[7], x[11], x[15]);
		QR(x[0], x[5], x[10], x[15]);
		QR(x[1], x[6], x[11], x[12]);
		QR(x[2], x[7], x[8], x[13]);
		QR(x[3], x[4], x[9], x[14]);
	}
	for (int i = 0; i < 16; i++)
		store32_le(out + 4 * i, x[i] + st[i]);
	explicit_bzero(x, sizeof(x));
}

/* Any length; advances st[12] by the blocks used. */
static void scalar_xor(uint32_t st[16], const uint8_t *in, uint8_t *out,
		       size_t len)
{
	uint8_t ks[64];

	while (len) {
		size_t n = len < 64 ? len : 64;

		scalar_block(st, ks);
		st[12]++;
		for (size_t i = 0; i < n; i++)
			out[i] = in[i] ^ ks[i];
		in += n;
		out += n;
		len -= n;
	}
	explicit_bzero(ks, sizeof(ks));
}

#ifdef CHACHA_X86

/*
 * SSE2 has no byte shuffle: rotating by 16 swaps the 16-bit halves of
 * each lane (two word shuffles), the other rotations are shift-or.
 */
#define S_ADD(a, b)	_mm_add_epi32(a, b)
#define S_XOR(a, b)	_mm_xor_si128(a, b)
#define S_ROT(v, n)	_mm_or_si128(_mm_slli_epi32(v, n), _mm_srli_epi32(v, 32 - (n)))
#define S_ROT16(v)	_mm_shufflehi_epi16(_mm_shufflelo_epi16(v, 0xb1), 0xb1)

#define S_QR(a, b, c, d) do { \
	a = S_ADD(a, b); d = S_XOR(d, a); d = S_ROT16(d); \
	c = S_ADD(c, d); b = S_XOR(b, c); b = S_ROT(b, 12); \
	a = S_ADD(a, b); d = S_XOR(d, a); d = S_ROT(d, 8); \
	c = S_ADD(c, d); b = S_XOR(b, c); b = S_ROT(b, 7); \
} while (0)

/* Four lanes hold words w..w+3 of blocks 0..3; afterwards one block each. */
#define S_TRANSPOSE(a, b, c, d) do { \
	__m128i t0_ = _mm_unpacklo_epi32(a, b), t1_ = _mm_unpacklo_epi32(c, d); \
	__m128i t2_ = _mm_unpackhi_epi32(a, b), t3_ = _mm_unpackhi_epi32(c, d); \
	a = _mm_unpacklo_epi64(t0_, t1_); b = _mm_unpackhi_epi64(t0_, t1_); \
	c = _mm_unpacklo_epi64(t2_, t3_); d = _mm_unpackhi_epi64(t2_, t3_); \
} while (0)

#define S_OUT(v, off) _mm_storeu_si128((__m128i *)(out + (off)), \
	_mm_xor_si128(v, _mm_loadu_si128((const __m128i *)(in + (off)))))

/* nchunks * 256 bytes, blocks st[12], st[12]+1, ... */
static void sse2_xor4(const uint32_t st[16], const uint8_t *in, uint8_t *out,
		      size_t nchunks)
{
	__m128i s[16];

	for (int i = 0; i < 16; i++)
		s[i] = _mm_set1_epi32((int)st[i]);
	s[12] = _mm_add_epi32(s[12], _mm_setr_epi32(0, 1, 2, 3));
	for (; nchunks; nchunks--, in += 256, out += 256) {
		__m128i x0 = s[0], x1 = s[1], x2 = s[2], x3 = s[3];
		__m128i x4 = s[4], x5 = s[5], x6 = s[6], x7 = s[7];
		__m128i x8 = s[8], x9 = s[9], x10 = s[10], x11 = s[11];
		__m128i x12 = s[12], x13 = s[13], x14 = s[14], x15 = s[15];

		for (int i = 0; i < 10; i++) {
			S_QR(x0, x4, x8, x12);
			S_QR(x1, x5, x9, x13);
			S_QR(x2, x6, x10, x14);
			S_QR(x3, x7, x11, x15);
			S_QR(x0, x5, x10, x15);
			S_QR(x1, x6, x11, x12);
			S_QR(x2, x7, x8, x13);
			S_QR(x3, x4, x9, x14);
		}
		x0 = S_ADD(x0, s[0]); x1 = S_ADD(x1, s[1]);
		x2 = S_ADD(x2, s[2]); x3 = S_ADD(x3, s[3]);
		x4 = S_ADD(x4, s[4]); x5 = S_ADD(x5, s[5]);
		x6 = S_ADD(x6, s[6]); x7 = S_ADD(x7, s[7]);
		x8 = S_ADD(x8, s[8]); x9 = S_ADD(x9, s[9]);
		x10 = S_ADD(x10, s[10]); x11 = S_ADD(x11, s[11]);
		x12 = S_ADD(x12, s[12]); x13 = S_ADD(x13, s[13]);
		x14 = S_ADD(x14, s[14]); x15 = S_ADD(x15, s[15]);
		S_TRANSPOSE(x0, x1, x2, x3);
		S_TRANSPOSE(x4, x5, x6, x7);
		S_TRANSPOSE(x8, x9, x10, x11);
		S_TRANSPOSE(x12, x13, x14, x15);
		/* Read each 16 bytes of input before writing them: out may be in. */
		S_OUT(x0, 0); S_OUT(x4, 16); S_OUT(x8, 32); S_OUT(x12, 48);
		S_OUT(x1, 64); S_OUT(x5, 80); S_OUT(x9, 96); S_OUT(x13, 112);
		S_OUT(x2, 128); S_OUT(x6, 144); S_OUT(x10, 160); S_OUT(x14, 176);
		S_OUT(x3, 192); S_OUT(x7, 208); S_OUT(x11, 224); S_OUT(x15, 240);
		s[12] = _mm_add_epi32(s[12], _mm_set1_epi32(4));
	}
}

#define A_ADD(a, b)	_mm256_add_epi32(a, b)
#define A_XOR(a, b)	_mm256_xor_si256(a, b)
#define A_ROT(v, n)	_mm256_or_si256(_mm256_slli_epi32(v, n), _mm256_srli_epi32(v, 32 - (n)))

/* Byte shuffles do the byte-multiple rotations in one instruction. */
#define A_QR(a, b, c, d) do { \
	a = A_ADD(a, b); d = A_XOR(d, a); d = _mm256_shuffle_epi8(d, rot16); \
	c = A_ADD(c, d); b = A_XOR(b, c); b = A_ROT(b, 12); \
	a = A_ADD(a, b); d = A_XOR(d, a); d = _mm256_shuffle_epi8(d, rot8); \
	c = A_ADD(c, d); b = A_XOR(b, c); b = A_ROT(b, 7); \
} while (0)

/* Per 128-bit lane, as S_TRANSPOSE: lane 0 has blocks 0-3, lane 1 blocks 4-7. */
#define A_TRANSPOSE(a, b, c, d) do { \
	__m256i t0_ = _mm256_unpacklo_epi32(a, b), t1_ = _mm256_unpacklo_epi32(c, d); \
	__m256i t2_ = _mm256_unpackhi_epi32(a, b), t3_ = _mm256_unpackhi_epi32(c, d); \
	a = _mm256_unpacklo_epi64(t0_, t1_); b = _mm256_unpackhi_epi64(t0_, t1_); \
	c = _mm256_unpacklo_epi64(t2_, t3_); d = _mm256_unpackhi_epi64(t2_, t3_); \
} while (0)

/*
 * lo holds words 0-3 (or 8-11) and hi words 4-7 (or 12-15) of blocks b
 * and b+4: joining their low lanes gives 32 bytes of block b, their high
 * lanes 32 bytes of block b+4.
 */
#define A_OUT(lo, hi, off) do { \
	__m256i p_ = _mm256_permute2x128_si256(lo, hi, 0x20); \
	__m256i q_ = _mm256_permute2x128_si256(lo, hi, 0x31); \
	_mm256_storeu_si256((__m256i *)(out + (off)), _mm256_xor_si256(p_, \
		_mm256_loadu_si256((const __m256i *)(in + (off))))); \
	_mm256_storeu_si256((__m256i *)(out + (off) + 256), _mm256_xor_si256(q_, \
		_mm256_loadu_si256((const __m256i *)(in + (off) + 256)))); \
} while (0)

/*
 * One 512-byte chunk (blocks s[12] lane 0..7). With nmac > 0 it also
 * feeds nmac 16-byte blocks of mac into the Poly1305 state, a few between
 * each double round: the multiplies run on the scalar units while the
 * vector units do the rounds, so the AEAD costs little more than the
 * slower of its two halves. mac must not overlap out.
 */
__attribute__((target("avx2"), always_inline))
static inline void avx2_chunk(const __m256i s[16], const uint8_t *in,
			      uint8_t *out, struct poly1305 *p,
			      const uint8_t *mac, size_t nmac)
{
	const __m256i rot16 = _mm256_setr_epi8(
		2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13,
		2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);
	const __m256i rot8 = _mm256_setr_epi8(
		3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14,
		3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14);
	__m256i x0 = s[0], x1 = s[1], x2 = s[2], x3 = s[3];
	__m256i x4 = s[4], x5 = s[5], x6 = s[6], x7 = s[7];
	__m256i x8 = s[8], x9 = s[9], x10 = s[10], x11 = s[11];
	__m256i x12 = s[12], x13 = s[13], x14 = s[14], x15 = s[15];
	size_t done = 0;

	for (size_t i = 0; i < 10; i++) {
		A_QR(x0, x4, x8, x12);
		A_QR(x1, x5, x9, x13);
		A_QR(x2, x6, x10, x14);
		A_QR(x3, x7, x11, x15);
		A_QR(x0, x5, x10, x15);
		A_QR(x1, x6, x11, x12);
		A_QR(x2, x7, x8, x13);
		A_QR(x3, x4, x9, x14);
		if (nmac) {
			size_t upto = nmac * (i + 1) / 10;

			poly1305_absorb(p, mac + 16 * done, upto - done, 1);
			done = upto;
		}
	}
	x0 = A_ADD(x0, s[0]); x1 = A_ADD(x1, s[1]);
	x2 = A_ADD(x2, s[2]); x3 = A_ADD(x3, s[3]);
	x4 = A_ADD(x4, s[4]); x5 = A_ADD(x5, s[5]);
	x6 = A_ADD(x6, s[6]); x7 = A_ADD(x7, s[7]);
	x8 = A_ADD(x8, s[8]); x9 = A_ADD(x9, s[9]);
	x10 = A_ADD(x10, s[10]); x11 = A_ADD(x11, s[11]);
	x12 = A_ADD(x12, s[12]); x13 = A_ADD(x13, s[13]);
	x14 = A_ADD(x14, s[14]); x15 = A_ADD(x15, s[15]);
	A_TRANSPOSE(x0, x1, x2, x3);
	A_TRANSPOSE(x4, x5, x6, x7);
	A_TRANSPOSE(x8, x9, x10, x11);
	A_TRANSPOSE(x12, x13, x14, x15);
	/* Block b at b*64: words 0-7 from x(b), x(b+4), 8-15 from x(b+8), x(b+12). */
	A_OUT(x0, x4, 0); A_OUT(x8, x12, 32);
	A_OUT(x1, x5, 64); A_OUT(x9, x13, 96);
	A_OUT(x2, x6, 128); A_OUT(x10, x14, 160);
	A_OUT(x3, x7, 192); A_OUT(x11, x15, 224);
}

__attribute__((target("avx2")))
static void avx2_setup(const uint32_t st[16], __m256i s[16])
{
	for (int i = 0; i < 16; i++)
		s[i] = _mm256_set1_epi32((int)st[i]);
	s[12] = _mm256_add_epi32(s[12], _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* nchunks * 512 bytes, blocks st[12], st[12]+1, ... */
__attribute__((target("avx2")))
static void avx2_xor8(const uint32_t st[16], const uint8_t *in, uint8_t *out,
		      size_t nchunks)
{
	__m256i s[16];

	avx2_setup(st, s);
	for (; nchunks; nchunks--, in += 512, out += 512) {
		avx2_chunk(s, in, out, NULL, NULL, 0);
		s[12] = _mm256_add_epi32(s[12], _mm256_set1_epi32(8));
	}
	/* Upper halves of the ymm registers slow later SSE code until cleared. */
	_mm256_zeroupper();
}

/* As avx2_xor8, spreading nmac Poly1305 blocks of mac over the chunks. */
__attribute__((target("avx2")))
static void avx2_xor8_mac(const uint32_t st[16], const uint8_t *in,
			  uint8_t *out, size_t nchunks, struct poly1305 *p,
			  const uint8_t *mac, size_t nmac)
{
	size_t done = 0;
	__m256i s[16];

	avx2_setup(st, s);
	for (size_t k = 0; k < nchunks; k++, in += 512, out += 512) {
		size_t upto = nmac * (k + 1) / nchunks;

		avx2_chunk(s, in, out, p, mac + 16 * done, upto - done);
		done = upto;
		s[12] = _mm256_add_epi32(s[12], _mm256_set1_epi32(8));
	}
	_mm256_zeroupper();
}

#endif /* CHACHA_X86 */

static enum chacha20_impl chacha_current(void)
{
	if (chacha_forced != CHACHA20_IMPL_AUTO)
		return chacha_forced;
#ifdef CHACHA_X86
	if (__builtin_cpu_supports("avx2"))
		return CHACHA20_IMPL_AVX2;
	return CHACHA20_IMPL_SSE2;
#else
	return CHACHA20_IMPL_SCALAR;
#endif
}

int chacha20_set_impl(enum chacha20_impl impl)
{
	switch (impl) {
	case CHACHA20_IMPL_AUTO:
	case CHACHA20_IMPL_SCALAR:
		break;
#ifdef CHACHA_X86
	case CHACHA20_IMPL_SSE2:
		break;
	case CHACHA20_IMPL_AVX2:
		if (!__builtin_cpu_supports("avx2"))
			return -ENOTSUP;
		break;
#endif
	default:
		return -ENOTSUP;
	}
	chacha_forced = impl;
	return 0;
}

const char *chacha20_impl_name(void)
{
	switch (chacha_current()) {
	case CHACHA20_IMPL_AVX2:
		return "avx2";
	case CHACHA20_IMPL_SSE2:
		return "sse2";
	default:
		return "scalar";
	}
}

void chacha20_block(const uint8_t key[CHACHA20_KEY_LEN], uint32_t counter,
		    const uint8_t nonce[CHACHA20_NONCE_LEN],
		    uint8_t out[CHACHA20_BLOCK_LEN])
{
	uint32_t st[16];

	chacha_setup(st, key, counter, nonce);
	scalar_block(st, out);
	explicit_bzero(st, sizeof(st));
}

void chacha20_xor(const uint8_t key[CHACHA20_KEY_LEN], uint32_t counter,
		  const uint8_t nonce[CHACHA20_NONCE_LEN],
		  const uint8_t *in, uint8_t *out, size_t len)
{
	uint32_t st[16];
#ifdef CHACHA_X86
	enum chacha20_impl impl = chacha_current();
	uint8_t tail[512];
	size_t n;
#endif

	chacha_setup(st, key, counter, nonce);
#ifdef CHACHA_X86
	/*
	 * Whole chunks go straight through; a tail worth more than one block
	 * is run as a full chunk through a stack copy, which costs less than
	 * the scalar code would for it.
	 */
	if (impl == CHACHA20_IMPL_AVX2) {
		n = len / 512;
		if (n) {
			avx2_xor8(st, in, out, n);
			st[12] += (uint32_t)(8 * n);
			in += 512 * n;
			out += 512 * n;
			len -= 512 * n;
		}
		if (len > 256) {
			memcpy(tail, in, len);
			avx2_xor8(st, tail, tail, 1);
			memcpy(out, tail, len);
			explicit_bzero(tail, sizeof(tail));
			len = 0;
		}
	}
	if (impl == CHACHA20_IMPL_AVX2 || impl == CHACHA20_IMPL_SSE2) {
		n = len / 256;
		if (n) {
			sse2_xor4(st, in, out, n);
			st[12] += (uint32_t)(4 * n);
			in += 256 * n;
			out += 256 * n;
			len -= 256 * n;
		}
		if (len > 64) {
			memcpy(tail, in, len);
			sse2_xor4(st, tail, tail, 1);
			memcpy(out, tail, len);
			explicit_bzero(tail, 256);
			len = 0;
		}
	}
#endif
	if (len)
		scalar_xor(st, in, out, len);
	explicit_bzero(st, sizeof(st));
}

void chacha20_xor_poly1305(const uint8_t key[CHACHA20_KEY_LEN],
			   uint32_t counter,
			   const uint8_t nonce[CHACHA20_NONCE_LEN],
			   const uint8_t *in, uint8_t *out, size_t len,
			   struct poly1305 *p, const uint8_t *mac, size_t maclen)
{
#ifdef CHACHA_X86
	uint32_t st[16];
	uint8_t tail[512];
	size_t n;

	/* The fused loop needs whole Poly1305 blocks and something to hide them in. */
	if (chacha_current() != CHACHA20_IMPL_AVX2 || maclen % 16 ||
	    p->buflen || len == 0)
		goto separate;
	chacha_setup(st, key, counter, nonce);
	n = len / 512;
	/* A short tail still gets a whole chunk, and its share of the MAC. */
	if (len % 512) {
		size_t upto = maclen / 16 * n / (n + 1);

		if (n)
			avx2_xor8_mac(st, in, out, n, p, mac, upto);
		st[12] += (uint32_t)(8 * n);
		memcpy(tail, in + 512 * n, len % 512);
		avx2_xor8_mac(st, tail, tail, 1, p, mac + 16 * upto,
			      maclen / 16 - upto);
		memcpy(out + 512 * n, tail, len % 512);
		explicit_bzero(tail, sizeof(tail));
	} else {
		avx2_xor8_mac(st, in, out, n, p, mac, maclen / 16);
	}
	explicit_bzero(st, sizeof(st));
	return;
separate:
#endif
	chacha20_xor(key, counter, nonce, in, out, len);
	poly1305_update(p, mac, maclen);
}
