/*
 * Packet helpers shared by the TUN offload fuzz targets (fuzz_tso.c,
 * fuzz_gro.c): building a plain TCP/IPv4 or TCP/IPv6 packet and setting
 * the IPv4 header and TCP checksums the way a sender would, so the fuzzer
 * can reach the paths that only well-formed packets take.
 */
#ifndef Q2Q_TESTS_FUZZ_PKT_H
#define Q2Q_TESTS_FUZZ_PKT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint16_t pkt_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t pkt_be32(const uint8_t *p)
{
	return (uint32_t)pkt_be16(p) << 16 | pkt_be16(p + 2);
}

static inline void pkt_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void pkt_put32(uint8_t *p, uint32_t v)
{
	pkt_put16(p, (uint16_t)(v >> 16));
	pkt_put16(p + 2, (uint16_t)v);
}

/*
 * The one's-complement sum's running total over n bytes. Eight bytes a
 * turn: the targets sum every packet they build or check, and a turn per
 * 16-bit word cost fuzz_gro nearly a tenth of its time.
 */
static inline uint64_t pkt_sum(uint64_t acc, const uint8_t *p, size_t n)
{
	for (; n >= 8; p += 8, n -= 8)
		acc += (uint64_t)pkt_be16(p) + pkt_be16(p + 2) +
		       pkt_be16(p + 4) + pkt_be16(p + 6);
	for (; n >= 2; p += 2, n -= 2)
		acc += pkt_be16(p);
	if (n)
		acc += (uint64_t)p[0] << 8;
	return acc;
}

static inline uint16_t pkt_fold(uint64_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

/*
 * Sets whatever checksums the bytes allow: the IPv4 header checksum if the
 * header fits, and the TCP checksum over the segment the IP length names
 * (cut to len) if that holds a TCP header. Lengths are left alone.
 */
static inline void pkt_fix_csums(uint8_t *p, size_t len)
{
	size_t ihl, end;
	uint64_t acc;

	if (len >= 20 && p[0] >> 4 == 4) {
		ihl = (size_t)(p[0] & 0x0f) * 4;
		if (ihl < 20 || ihl > len)
			return;
		pkt_put16(p + 10, 0);
		pkt_put16(p + 10, (uint16_t)~pkt_fold(pkt_sum(0, p, ihl)));
		if (p[9] != 6)
			return;
		end = pkt_be16(p + 2) < len ? pkt_be16(p + 2) : len;
		acc = pkt_sum(0, p + 12, 8);
	} else if (len >= 40 && p[0] >> 4 == 6 && p[6] == 6) {
		ihl = 40;
		end = 40 + (size_t)pkt_be16(p + 4) < len ?
		      40 + (size_t)pkt_be16(p + 4) : len;
		acc = pkt_sum(0, p + 8, 32);
	} else {
		return;
	}
	if (end < ihl + 20)
		return;
	acc += 6 + (end - ihl);
	pkt_put16(p + ihl + 16, 0);
	pkt_put16(p + ihl + 16,
		  (uint16_t)~pkt_fold(pkt_sum(acc, p + ihl, end - ihl)));
}

/*
 * The payload of the segment that starts at sequence number seq: byte i
 * is (seq + i) * 7, so a byte taken from the wrong offset shows. Copied
 * from a table in pieces of 256 (the pattern's period) instead of made
 * byte by byte.
 */
static inline void pkt_pattern(uint8_t *p, uint32_t seq, size_t n)
{
	static uint8_t pat[512];

	if (!pat[1])
		for (size_t k = 0; k < sizeof(pat); k++)
			pat[k] = (uint8_t)(k * 7);
	while (n) {
		size_t k = n < 256 ? n : 256;

		memcpy(p, pat + (seq & 255), k);
		p += k;
		seq += (uint32_t)k;
		n -= k;
	}
}

/*
 * A TCP packet (ACK, or ACK|PSH with psh) into p with payload bytes of
 * pattern, optional timestamp option; port picks the flow. Returns its
 * length. Checksums are set.
 */
static inline size_t pkt_make_tcp(uint8_t *p, int v6, uint16_t port,
				  uint32_t seq, size_t payload, int opts,
				  int psh)
{
	size_t ip = v6 ? 40 : 20, doff = opts ? 32 : 20;
	size_t len = ip + doff + payload;

	memset(p, 0, ip + doff);
	if (v6) {
		p[0] = 0x60;
		pkt_put16(p + 4, (uint16_t)(len - 40));
		p[6] = 6;
		p[7] = 64;
		p[8] = 0xfd;
		p[23] = 1;
		p[24] = 0xfd;
		p[39] = 2;
	} else {
		p[0] = 0x45;
		pkt_put16(p + 2, (uint16_t)len);
		p[6] = 0x40;
		p[8] = 64;
		p[9] = 6;
		memcpy(p + 12, "\x64\x40\x00\x07\x64\x40\x00\x09", 8);
	}
	pkt_put16(p + ip, port);
	pkt_put16(p + ip + 2, 80);
	pkt_put32(p + ip + 4, seq);
	pkt_put32(p + ip + 8, 1);
	p[ip + 12] = (uint8_t)(doff / 4 << 4);
	p[ip + 13] = psh ? 0x18 : 0x10;
	p[ip + 15] = 0xff;
	if (opts)	/* NOP NOP timestamp */
		memcpy(p + ip + 20, "\x01\x01\x08\x0a\0\0\0\1\0\0\0\2", 12);
	pkt_pattern(p + ip + doff, seq, payload);
	pkt_fix_csums(p, len);
	return len;
}

#endif
