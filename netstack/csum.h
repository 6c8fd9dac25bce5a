/*
 * The Internet checksum (RFC 1071) for the packet code: TSO splitting,
 * GRO coalescing, ICMP errors. Sums are kept in host byte order (16-bit
 * words loaded as they lie in memory), which gives the same one's-complement
 * sum byte-swapped (RFC 1071 §2(B)), so a folded sum is stored back with
 * memcpy and never swapped; numbers that are not in the packet (a protocol,
 * a length) go in through csum_be16 / csum_be32.
 */
#ifndef Q2Q_NETSTACK_CSUM_H
#define Q2Q_NETSTACK_CSUM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Adds n bytes at p to acc. A region must start at an even offset of the
 * summed data; an odd last byte is padded with zero. The accumulator
 * cannot overflow for anything under 2^32 bytes. */
uint64_t csum_add(uint64_t acc, const uint8_t *p, size_t n);

/* csum_add over src while copying it to dst (dst and src apart): the
 * bytes are read once. */
uint64_t csum_copy(uint64_t acc, uint8_t *dst, const uint8_t *src, size_t n);

/* A 16-bit number as the packet would hold it, as a host-order word. */
static inline uint64_t csum_be16(uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };
	uint16_t h;

	memcpy(&h, b, 2);
	return h;
}

static inline uint64_t csum_be32(uint32_t v)
{
	return csum_be16((uint16_t)(v >> 16)) + csum_be16((uint16_t)v);
}

/* Folds to 16 bits, not complemented: 0xffff for data that sums right. */
static inline uint16_t csum_fold(uint64_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

/* Stores the checksum field for acc (folded and complemented) at p. */
static inline void csum_put(uint8_t *p, uint64_t acc)
{
	uint16_t c = (uint16_t)~csum_fold(acc);

	memcpy(p, &c, 2);
}

#endif
