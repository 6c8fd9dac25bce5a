/*
 * Four 64-bit loads a turn, each split into its two 32-bit halves so that
 * no carry is lost: the adds are independent, and a 1400-byte segment is
 * summed in about as many cycles as it has 8-byte words. The earlier
 * per-module loops took 16- or 32-bit big-endian words a turn.
 */
#include "netstack/csum.h"

static inline uint64_t csum_q(uint64_t q)
{
	return (q & 0xffffffffu) + (q >> 32);
}

static uint64_t csum_tail(uint64_t acc, const uint8_t *p, size_t n)
{
	uint32_t w;
	uint16_t h;

	if (n >= 4) {
		memcpy(&w, p, 4);
		acc += w;
		p += 4;
		n -= 4;
	}
	if (n >= 2) {
		memcpy(&h, p, 2);
		acc += h;
		p += 2;
		n -= 2;
	}
	if (n) {
		uint8_t b[2] = { p[0], 0 };

		memcpy(&h, b, 2);
		acc += h;
	}
	return acc;
}

uint64_t csum_add(uint64_t acc, const uint8_t *p, size_t n)
{
	uint64_t q[4], a = 0, b = 0;

	for (; n >= 32; p += 32, n -= 32) {
		memcpy(q, p, 32);
		a += csum_q(q[0]) + csum_q(q[1]);
		b += csum_q(q[2]) + csum_q(q[3]);
	}
	for (; n >= 8; p += 8, n -= 8) {
		memcpy(q, p, 8);
		a += csum_q(q[0]);
	}
	return csum_tail(acc + a + b, p, n);
}

uint64_t csum_copy(uint64_t acc, uint8_t *dst, const uint8_t *src, size_t n)
{
	uint64_t q[4], a = 0, b = 0;

	for (; n >= 32; src += 32, dst += 32, n -= 32) {
		memcpy(q, src, 32);
		memcpy(dst, q, 32);
		a += csum_q(q[0]) + csum_q(q[1]);
		b += csum_q(q[2]) + csum_q(q[3]);
	}
	memcpy(dst, src, n);
	return csum_add(acc + a + b, dst, n);
}
