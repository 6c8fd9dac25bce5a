/*
 * Poly1305 (RFC 8439 section 2.5), the one-time authenticator of the
 * data-plane AEAD. A key must authenticate one message only. The state
 * lives in a caller-owned struct so a message can be fed in pieces (AD,
 * padding, ciphertext, lengths) without copying it together.
 */
#ifndef Q2Q_POLY1305_H
#define Q2Q_POLY1305_H

#include <stddef.h>
#include <stdint.h>

#define POLY1305_KEY_LEN	32
#define POLY1305_TAG_LEN	16

/* Opaque to callers; declared here only so it can live on the stack. */
struct poly1305 {
	uint64_t r0, r1, s1;	/* clamped r, and s1 = r1 * 5 / 4 */
	uint64_t h0, h1, h2;	/* accumulator, partly reduced */
	uint64_t pad0, pad1;	/* s, added at the end */
	uint8_t buf[16];	/* a block not yet complete */
	size_t buflen;
};

void poly1305_init(struct poly1305 *p, const uint8_t key[POLY1305_KEY_LEN]);
void poly1305_update(struct poly1305 *p, const uint8_t *m, size_t len);
/* Writes the tag and wipes *p (including the key). */
void poly1305_final(struct poly1305 *p, uint8_t tag[POLY1305_TAG_LEN]);

/* One call: tag = Poly1305(key, m). */
void poly1305_mac(const uint8_t key[POLY1305_KEY_LEN], const uint8_t *m,
		  size_t len, uint8_t tag[POLY1305_TAG_LEN]);

/*
 * The arithmetic, inline so the AVX2 ChaCha20 loop (netstack/chacha.c)
 * can interleave it with its rounds; everyone else calls the functions
 * above. Radix 2^64: h = h0 + h1*2^64 + h2*2^128 with h2 a few bits,
 * r = r0 + r1*2^64. Clamping makes r1 divisible by 4, so product terms at
 * 2^128 and above fold back exactly with s1 = r1 + r1/4 (2^130 = 5 mod
 * p): four 64x64->128 multiplies and two small ones per block, no tables,
 * no branches on secret data. After each block h < 5*2^128, not fully
 * reduced; poly1305_final reduces it below p.
 */
typedef unsigned __int128 poly1305_u128;

static inline uint64_t poly1305_load64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/*
 * h = (h + m) * r mod (2^130 - 5), for n 16-byte blocks; hibit is 1 for
 * full blocks (the 2^128 "one bit beyond" of the RFC), 0 for a final
 * block padded by hand.
 */
static inline void poly1305_absorb(struct poly1305 *p, const uint8_t *m,
				   size_t n, uint64_t hibit)
{
	const uint64_t r0 = p->r0, r1 = p->r1, s1 = p->s1;
	uint64_t h0 = p->h0, h1 = p->h1, h2 = p->h2;

	for (; n; n--, m += 16) {
		poly1305_u128 t, d0, d1;
		uint64_t d2, c;

		t = (poly1305_u128)h0 + poly1305_load64(m);
		h0 = (uint64_t)t;
		t = (poly1305_u128)h1 + poly1305_load64(m + 8) +
		    (uint64_t)(t >> 64);
		h1 = (uint64_t)t;
		h2 += (uint64_t)(t >> 64) + hibit;
		/*
		 * h2 <= 6 here, r0 and r1 < 2^60, s1 < 2^61: every sum below
		 * stays under 2^127, d2 under 2^63.
		 */
		d0 = (poly1305_u128)h0 * r0 + (poly1305_u128)h1 * s1;
		d1 = (poly1305_u128)h0 * r1 + (poly1305_u128)h1 * r0 +
		     (poly1305_u128)h2 * s1;
		d2 = h2 * r0;
		d1 += (uint64_t)(d0 >> 64);
		d2 += (uint64_t)(d1 >> 64);
		h0 = (uint64_t)d0;
		h1 = (uint64_t)d1;
		/* Bits from 2^130 up come back times 5: (d2 >> 2) * 5. */
		c = (d2 & ~(uint64_t)3) + (d2 >> 2);
		h2 = d2 & 3;
		t = (poly1305_u128)h0 + c;
		h0 = (uint64_t)t;
		t = (poly1305_u128)h1 + (uint64_t)(t >> 64);
		h1 = (uint64_t)t;
		h2 += (uint64_t)(t >> 64);
	}
	p->h0 = h0;
	p->h1 = h1;
	p->h2 = h2;
}

#endif
