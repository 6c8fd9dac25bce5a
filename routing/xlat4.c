/*
 * 1:1 translation of one IPv4 address in a packet, in place. Checksums are
 * updated incrementally (RFC 1624, eqn. 3), never recomputed: a packet
 * whose checksum was wrong stays wrong, so the receiving stack still
 * drops what was corrupted on the way, and a packet costs a few additions
 * whatever its size. Every offset a checksum adjustment touches is 16-bit
 * aligned with the data that checksum covers (addresses at 12 and 16 of an
 * IP header, checksums at even offsets), which the arithmetic needs.
 */
#include <errno.h>
#include <string.h>

#include "netstack/bytes.h"
#include "routing/xlat4.h"

#define IP_SRC	12
#define IP_DST	16
#define IP_CSUM	10


/* The checksum at c, after the n bytes (n even) old became new. */
static void xlat4_csum_fix(uint8_t *c, const uint8_t *old, const uint8_t *new, size_t n)
{
	uint32_t acc = (uint16_t)~be16_get(c);

	for (size_t i = 0; i < n; i += 2)
		acc += (uint32_t)(uint16_t)~be16_get(old + i) + be16_get(new + i);
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	be16_put(c, (uint16_t)~acc);
}

struct xlat4_hdr {
	size_t ihl;		/* header length */
	size_t end;		/* bytes of the packet present: total length, or the quote's */
	int first;		/* fragment offset 0: the transport header follows */
	int proto;
};

/* An IPv4 header at p (len bytes). A quoted one (inside an ICMP error)
 * may be cut short after its header; an outer one must be whole. */
static int xlat4_parse(const uint8_t *p, size_t len, int quoted, struct xlat4_hdr *h)
{
	size_t tot;

	if (len < 20 || (p[0] >> 4) != 4)
		return -EINVAL;
	h->ihl = (size_t)(p[0] & 15) * 4;
	tot = be16_get(p + 2);
	if (h->ihl < 20 || h->ihl > len || tot < h->ihl || (!quoted && tot > len))
		return -EINVAL;
	h->end = tot < len ? tot : len;
	h->first = (be16_get(p + 6) & 0x1fff) == 0;
	h->proto = p[9];
	return 0;
}

/* Where the TCP or UDP checksum of a first fragment lies, if its bytes
 * are present; NULL otherwise. */
static uint8_t *xlat4_l4_csum(uint8_t *p, const struct xlat4_hdr *h)
{
	size_t at;

	if (!h->first)
		return NULL;
	if (h->proto == 6)
		at = h->ihl + 16;
	else if (h->proto == 17)
		at = h->ihl + 6;
	else
		return NULL;
	return at + 2 <= h->end ? p + at : NULL;
}

/* The IP header at p had address field off changed from old to its
 * present value: fix its own checksum and its transport checksum (whose
 * pseudo-header holds it). The transport checksum's value before is left
 * in before[2] for a checksum that covers it in turn. Returns the
 * transport checksum's place, or NULL. */
static uint8_t *xlat4_fix_hdr(uint8_t *p, const struct xlat4_hdr *h, int off, const uint8_t old[4],
    uint8_t before[2])
{
	uint8_t *c = xlat4_l4_csum(p, h);

	xlat4_csum_fix(p + IP_CSUM, old, p + off, 4);
	if (!c)
		return NULL;
	memcpy(before, c, 2);
	/* UDP's 0 means "no checksum", and a computed 0 is sent as 0xffff. */
	if (h->proto == 17 && be16_get(c) == 0)
		return c;
	xlat4_csum_fix(c, old, p + off, 4);
	if (h->proto == 17 && be16_get(c) == 0)
		be16_put(c, 0xffff);
	return c;
}

static int xlat4_icmp_error(uint8_t type)
{
	return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

/* The quoted packet of an ICMP error at icmp (len bytes): its address
 * field off, if from, becomes to; the ICMP checksum follows every byte
 * that changed. 1 if rewritten. */
static int xlat4_quoted(uint8_t *icmp, size_t len, int off, const uint8_t from[4], const uint8_t to[4])
{
	uint8_t *q = icmp + 8, old[4], oldsum[2], l4before[2], *c;
	struct xlat4_hdr h;

	if (len < 8 + 20 || xlat4_parse(q, len - 8, 1, &h) < 0 || memcmp(q + off, from, 4) != 0)
		return 0;
	memcpy(old, q + off, 4);
	memcpy(oldsum, q + IP_CSUM, 2);
	memcpy(q + off, to, 4);
	c = xlat4_fix_hdr(q, &h, off, old, l4before);
	xlat4_csum_fix(icmp + 2, old, to, 4);
	xlat4_csum_fix(icmp + 2, oldsum, q + IP_CSUM, 2);
	if (c)
		xlat4_csum_fix(icmp + 2, l4before, c, 2);
	return 1;
}

/* Rewrites the outer field off (from -> to) and, in an ICMP error, the
 * quoted packet's field qoff. */
static int xlat4_rewrite(uint8_t *pkt, size_t len, int off, int qoff, const uint8_t from[4],
    const uint8_t to[4])
{
	uint8_t old[4], l4before[2];
	struct xlat4_hdr h;
	int changed = 0;

	if (xlat4_parse(pkt, len, 0, &h) < 0)
		return -EINVAL;
	if (memcmp(pkt + off, from, 4) == 0) {
		memcpy(old, pkt + off, 4);
		memcpy(pkt + off, to, 4);
		xlat4_fix_hdr(pkt, &h, off, old, l4before);
		changed = 1;
	}
	/* ICMP's checksum has no pseudo-header: only a quote changes it. */
	if (h.proto == 1 && h.first && h.end - h.ihl >= 8 && xlat4_icmp_error(pkt[h.ihl]))
		changed |= xlat4_quoted(pkt + h.ihl, h.end - h.ihl, qoff, from, to);
	return changed;
}

int xlat4_in(uint8_t *pkt, size_t len, const uint8_t real[4], const uint8_t local[4])
{
	return xlat4_rewrite(pkt, len, IP_SRC, IP_DST, real, local);
}

int xlat4_out(uint8_t *pkt, size_t len, const uint8_t real[4], const uint8_t local[4])
{
	return xlat4_rewrite(pkt, len, IP_DST, IP_SRC, local, real);
}
