/*
 * Fuzz target for routing/xlat4.c: inner packets from q2q0 (any program
 * may write any bytes to a raw socket) and decrypted ones from a peer,
 * translated in place. Input: a flags byte (bit 0: out, else in; bit 1:
 * plant the address to translate in the outer header; bit 2: in the
 * quoted header of an ICMP error; bit 3: make every checksum right
 * first), then the packet. Invariants: the result is -EINVAL, 0 or 1; a
 * packet is changed only by 1, and then only in the address fields and
 * checksums translation may touch; a checksum right before is right after
 * (the IPv4 header's, the whole TCP/UDP segment's, the ICMP message's,
 * the quoted header's).
 */
#include <errno.h>

#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/fuzz_pkt.h"
#include "routing/xlat4.h"

static const uint8_t REAL[4] = { 100, 64, 0, 1 }, LOCAL[4] = { 100, 127, 0, 9 };

/* The shape of a packet as the checks see it; 0 fields when absent. */
struct shape {
	int ok;			/* a whole IPv4 packet */
	size_t ihl, end;
	int first, proto;
	int icmp_err;		/* an ICMP error quoting an IPv4 header: */
	size_t qihl;
};

static void shape_of(const uint8_t *p, size_t len, struct shape *s)
{
	size_t tot;

	memset(s, 0, sizeof(*s));
	if (len < 20 || (p[0] >> 4) != 4)
		return;
	s->ihl = (size_t)(p[0] & 15) * 4;
	tot = pkt_be16(p + 2);
	if (s->ihl < 20 || s->ihl > len || tot < s->ihl || tot > len)
		return;
	s->ok = 1;
	s->end = tot;
	s->first = (pkt_be16(p + 6) & 0x1fff) == 0;
	s->proto = p[9];
	if (s->proto == 1 && s->first && tot - s->ihl >= 28) {
		const uint8_t *q = p + s->ihl + 8;
		uint8_t t = p[s->ihl];

		s->qihl = (size_t)(q[0] & 15) * 4;
		s->icmp_err = (t == 3 || t == 4 || t == 5 || t == 11 || t == 12) && (q[0] >> 4) == 4 &&
		    s->qihl >= 20 && s->qihl <= tot - s->ihl - 8 && pkt_be16(q + 2) >= s->qihl;
	}
}

static int ip_ok(const uint8_t *p, size_t ihl) { return pkt_fold(pkt_sum(0, p, ihl)) == 0xffff; }

/* Whether the whole TCP/UDP segment's checksum is right (-1: not one). */
static int l4_ok(const uint8_t *p, const struct shape *s)
{
	size_t n = s->end - s->ihl;
	uint64_t acc;

	if (!s->first || (s->proto != 6 && s->proto != 17) || n < (s->proto == 6 ? 20u : 8u))
		return -1;
	if (s->proto == 17 && pkt_be16(p + s->ihl + 6) == 0)
		return -1;
	acc = pkt_sum(pkt_sum(0, p + 12, 8), (const uint8_t[]){ 0, (uint8_t)s->proto }, 2) + (uint32_t)n;
	return pkt_fold(pkt_sum(acc, p + s->ihl, n)) == 0xffff;
}

static int icmp_ok(const uint8_t *p, const struct shape *s)
{
	if (s->proto != 1 || !s->first || s->end - s->ihl < 4)
		return -1;
	return pkt_fold(pkt_sum(0, p + s->ihl, s->end - s->ihl)) == 0xffff;
}

/* Makes every checksum right, innermost first. */
static void fix_all(uint8_t *p, const struct shape *s)
{
	uint8_t *l4 = p + s->ihl;
	size_t n = s->end - s->ihl;

	if (s->icmp_err) {
		pkt_put16(l4 + 8 + 10, 0);
		pkt_put16(l4 + 8 + 10, (uint16_t)~pkt_fold(pkt_sum(0, l4 + 8, s->qihl)));
	}
	if (l4_ok(p, s) >= 0) {
		uint8_t *c = l4 + (s->proto == 6 ? 16 : 6);
		uint64_t acc;

		pkt_put16(c, 0);
		acc = pkt_sum(pkt_sum(0, p + 12, 8), (const uint8_t[]){ 0, (uint8_t)s->proto }, 2) + (uint32_t)n;
		pkt_put16(c, (uint16_t)~pkt_fold(pkt_sum(acc, l4, n)));
		if (s->proto == 17 && pkt_be16(c) == 0)
			pkt_put16(c, 0xffff);
	}
	if (icmp_ok(p, s) >= 0) {
		pkt_put16(l4 + 2, 0);
		pkt_put16(l4 + 2, (uint16_t)~pkt_fold(pkt_sum(0, l4, n)));
	}
	pkt_put16(p + 10, 0);
	pkt_put16(p + 10, (uint16_t)~pkt_fold(pkt_sum(0, p, s->ihl)));
}

/* Whether byte i may differ after a translation of this shape. */
static int may_change(const struct shape *s, size_t i, int out)
{
	size_t l4 = s->ihl, q = s->ihl + 8, f = out ? 16 : 12, qf = out ? 12 : 16;

	if ((i >= f && i < f + 4) || i == 10 || i == 11)
		return 1;
	if (s->first && (s->proto == 6 || s->proto == 17)) {
		size_t c = l4 + (s->proto == 6 ? 16 : 6);

		if (i == c || i == c + 1)
			return 1;
	}
	if (s->icmp_err) {
		size_t qt = q + s->qihl;	/* the quoted transport header */

		if (i == l4 + 2 || i == l4 + 3 || (i >= q + qf && i < q + qf + 4) || i == q + 10 || i == q + 11)
			return 1;
		return i == qt + 16 || i == qt + 17 || i == qt + 6 || i == qt + 7;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct shape s;
	uint8_t *pkt, *before;
	struct fz f;
	size_t len;
	int flags, out, r, ipok = 0, l4ok = -1, icok = -1, qok = 0;

	fz_init(&f, data, size);
	flags = fz_u8(&f);
	out = flags & 1;
	len = f.left;
	pkt = fz_dup(f.p, len);
	shape_of(pkt, len, &s);
	if (s.ok && (flags & 2))
		memcpy(pkt + (out ? 16 : 12), out ? LOCAL : REAL, 4);
	if (s.icmp_err && (flags & 4))
		memcpy(pkt + s.ihl + 8 + (out ? 12 : 16), out ? LOCAL : REAL, 4);
	if (s.ok && (flags & 8))
		fix_all(pkt, &s);
	if (s.ok) {
		ipok = ip_ok(pkt, s.ihl);
		l4ok = l4_ok(pkt, &s);
		icok = icmp_ok(pkt, &s);
		qok = s.icmp_err && ip_ok(pkt + s.ihl + 8, s.qihl);
	}
	before = fz_dup(pkt, len);
	r = out ? xlat4_out(pkt, len, REAL, LOCAL) : xlat4_in(pkt, len, REAL, LOCAL);
	FZ_CHECK(r == -EINVAL || r == 0 || r == 1);
	FZ_CHECK((r == -EINVAL) == !s.ok);
	if (r <= 0)
		FZ_CHECK(memcmp(pkt, before, len) == 0);
	for (size_t i = 0; r == 1 && i < len; i++)
		FZ_CHECK(pkt[i] == before[i] || may_change(&s, i, out));
	if (r == 1) {
		FZ_CHECK(!ipok || ip_ok(pkt, s.ihl));
		FZ_CHECK(l4ok != 1 || l4_ok(pkt, &s) == 1);
		FZ_CHECK(icok != 1 || icmp_ok(pkt, &s) == 1);
		FZ_CHECK(!qok || ip_ok(pkt + s.ihl + 8, s.qihl));
	}
	if (s.ok && (flags & 2))
		FZ_CHECK(r == 1 && memcmp(pkt + (out ? 16 : 12), out ? REAL : LOCAL, 4) == 0);
	free(before);
	free(pkt);
	return 0;
}

static void seeds(const char *dir)
{
	/* flags 0x0a (in, plant, fix), then a UDP packet from carol */
	static const uint8_t udp4[] = {
		0x0a,
		0x45, 0x00, 0x00, 0x24, 0x12, 0x34, 0x40, 0x00, 0x40, 0x11,
		0x00, 0x00, 100, 64, 0, 1, 100, 64, 0, 1,
		0x9c, 0x40, 0x00, 0x35, 0x00, 0x10, 0x00, 0x00,
		'q', '2', 'q', ' ', 'x', 'l', 'a', 't',
	};
	/* flags 0x0e: in, port unreachable quoting a UDP packet to carol */
	static const uint8_t err4[] = {
		0x0e,
		0x45, 0x00, 0x00, 0x38, 0x00, 0x01, 0x00, 0x00, 0x40, 0x01,
		0x00, 0x00, 100, 64, 0, 1, 100, 64, 0, 1,
		0x03, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x45, 0x00, 0x00, 0x24, 0x12, 0x34, 0x40, 0x00, 0x40, 0x11,
		0x00, 0x00, 100, 64, 0, 1, 100, 64, 0, 1,
		0x9c, 0x40, 0x00, 0x35, 0x00, 0x10, 0x00, 0x00,
	};
	/* flags 0x0b: out, a TCP SYN to the local address */
	static const uint8_t tcp4[] = {
		0x0b,
		0x45, 0x00, 0x00, 0x28, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06,
		0x00, 0x00, 100, 64, 0, 1, 100, 127, 0, 9,
		0x9c, 0x40, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0,
		0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0,
	};

	fz_write_seed(dir, "udp4-in", udp4, sizeof(udp4));
	fz_write_seed(dir, "err4-in", err4, sizeof(err4));
	fz_write_seed(dir, "tcp4-out", tcp4, sizeof(tcp4));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fz_seed_mode(seeds);
	return 0;
}
