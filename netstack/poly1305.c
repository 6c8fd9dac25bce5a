/*
 * Poly1305 written from RFC 8439 section 2.5: key setup, buffering of
 * partial blocks, and the final constant-time reduction. The per-block
 * arithmetic is inline in poly1305.h (see there) so the AVX2 ChaCha20
 * loop can run it between its rounds.
 */
#include <string.h>

#include "netstack/poly1305.h"

typedef unsigned __int128 u128;

static void store64_le(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void poly1305_init(struct poly1305 *p, const uint8_t key[POLY1305_KEY_LEN])
{
	/* Clamp: r &= 0x0ffffffc0ffffffc0ffffffc0fffffff. */
	p->r0 = poly1305_load64(key) & 0x0ffffffc0fffffffull;
	p->r1 = poly1305_load64(key + 8) & 0x0ffffffc0ffffffcull;
	p->s1 = p->r1 + (p->r1 >> 2);
	p->h0 = p->h1 = p->h2 = 0;
	p->pad0 = poly1305_load64(key + 16);
	p->pad1 = poly1305_load64(key + 24);
	p->buflen = 0;
}

void poly1305_update(struct poly1305 *p, const uint8_t *m, size_t len)
{
	size_t n;

	if (!len)
		return;
	if (p->buflen) {
		n = 16 - p->buflen;
		if (n > len)
			n = len;
		memcpy(p->buf + p->buflen, m, n);
		p->buflen += n;
		m += n;
		len -= n;
		if (p->buflen < 16)
			return;
		poly1305_absorb(p, p->buf, 1, 1);
		p->buflen = 0;
	}
	n = len / 16;
	if (n) {
		poly1305_absorb(p, m, n, 1);
		m += 16 * n;
		len -= 16 * n;
	}
	if (len) {
		memcpy(p->buf, m, len);
		p->buflen = len;
	}
}

void poly1305_final(struct poly1305 *p, uint8_t tag[POLY1305_TAG_LEN])
{
	uint64_t h0, h1, h2, g0, g1, g2, c, mask;
	u128 t;

	if (p->buflen) {
		/* The short last block: its "one bit beyond", then zeros. */
		p->buf[p->buflen] = 1;
		memset(p->buf + p->buflen + 1, 0, 15 - p->buflen);
		poly1305_absorb(p, p->buf, 1, 0);
	}
	h0 = p->h0;
	h1 = p->h1;
	h2 = p->h2;
	/* Fold bits above 2^130 once more: then h < 2^130 + 5 < 2p. */
	c = (h2 >> 2) * 5;
	h2 &= 3;
	t = (u128)h0 + c;
	h0 = (uint64_t)t;
	t = (u128)h1 + (uint64_t)(t >> 64);
	h1 = (uint64_t)t;
	h2 += (uint64_t)(t >> 64);
	/* g = h + 5 - 2^130 = h - p; use it iff it did not go negative. */
	t = (u128)h0 + 5;
	g0 = (uint64_t)t;
	t = (u128)h1 + (uint64_t)(t >> 64);
	g1 = (uint64_t)t;
	g2 = h2 + (uint64_t)(t >> 64);
	mask = 0 - ((g2 >> 2) & 1);
	h0 = (h0 & ~mask) | (g0 & mask);
	h1 = (h1 & ~mask) | (g1 & mask);
	/* tag = (h + s) mod 2^128 */
	t = (u128)h0 + p->pad0;
	h0 = (uint64_t)t;
	h1 = h1 + p->pad1 + (uint64_t)(t >> 64);
	store64_le(tag, h0);
	store64_le(tag + 8, h1);
	explicit_bzero(p, sizeof(*p));
}

void poly1305_mac(const uint8_t key[POLY1305_KEY_LEN], const uint8_t *m,
		  size_t len, uint8_t tag[POLY1305_TAG_LEN])
{
	struct poly1305 p;

	poly1305_init(&p, key);
	poly1305_update(&p, m, len);
	poly1305_final(&p, tag);
}
