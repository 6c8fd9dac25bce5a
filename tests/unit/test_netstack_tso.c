/*
 * Tests for netstack/tso.c. Super-packets are built here the way the kernel
 * hands them to a TUN with IFF_VNET_HDR (IP header complete, TCP checksum
 * field holding only the pseudo-header sum over the whole length), split,
 * and every segment is checked with testnet.h's checksum, written
 * independently (byte by byte at its weight), never with the library's. A
 * fuzz loop feeds mutated headers and lengths and checks that nothing is
 * written past out + max_segs * stride (guard bytes, and ASan).
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "netstack/tso.h"
#include "harness.h"
#include "testnet.h"

#define F_FIN	0x01
#define F_SYN	0x02
#define F_RST	0x04
#define F_PSH	0x08
#define F_ACK	0x10
#define F_CWR	0x80

#define MAXPKT	(65535 + 40)
#define MAXSEGS	256
#define STRIDE	1600

/* ---- building packets as the kernel gives them ---- */

struct spec {
	int ver;		/* 4 or 6 */
	size_t ipopt;		/* v4 option bytes (x4) / v6 ext header (x8) */
	uint8_t ext;		/* v6: extension header type when ipopt */
	size_t tcpopt;		/* multiple of 4, <= 40 */
	size_t payload;
	uint8_t flags;
	uint32_t seq;
	uint16_t id;
};

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 31 + (i >> 9) + 7);
}

/* Writes the super-packet; returns its length, *iplen and *hdrs. */
static size_t build_tcp(const struct spec *s, uint8_t *pkt, size_t *iplen,
			size_t *hdrs)
{
	size_t ipl, doff = 20 + s->tcpopt, tcplen = doff + s->payload, len;
	uint8_t *t;

	if (s->ver == 4) {
		ipl = 20 + s->ipopt;
		len = ipl + tcplen;
		memset(pkt, 0, ipl);
		pkt[0] = (uint8_t)(0x40 | ipl / 4);
		tn_wr16(pkt + 2, (uint16_t)len);
		tn_wr16(pkt + 4, s->id);
		tn_wr16(pkt + 6, 0x4000);			/* DF */
		pkt[8] = 64;
		pkt[9] = 6;
		pkt[12] = 100; pkt[13] = 64; pkt[14] = 0; pkt[15] = 1;
		pkt[16] = 100; pkt[17] = 64; pkt[18] = 0; pkt[19] = 2;
		if (s->ipopt) {
			pkt[20] = 0x94;			/* router alert */
			pkt[21] = 4;
			memset(pkt + 24, 1, s->ipopt - 4);	/* NOPs */
		}
		tn_ip4_csum(pkt);
	} else {
		ipl = 40 + s->ipopt;
		len = ipl + tcplen;
		memset(pkt, 0, ipl);
		pkt[0] = 0x60;
		tn_wr16(pkt + 4, (uint16_t)(len - 40));
		pkt[6] = s->ipopt ? s->ext : 6;
		pkt[7] = 64;
		pkt[8] = 0xfd; pkt[23] = 1;
		pkt[24] = 0xfd; pkt[39] = 2;
		if (s->ipopt) {
			pkt[40] = 6;
			pkt[41] = (uint8_t)(s->ipopt / 8 - 1);
			pkt[42] = 1;			/* PadN */
			pkt[43] = (uint8_t)(s->ipopt - 4);
		}
	}
	t = pkt + ipl;
	memset(t, 0, doff);
	tn_wr16(t, 40000);
	tn_wr16(t + 2, 5201);
	tn_wr32(t + 4, s->seq);
	tn_wr32(t + 8, 0x01020304);
	t[12] = (uint8_t)(doff / 4 << 4);
	t[13] = s->flags;
	tn_wr16(t + 14, 512);
	if (s->tcpopt) {
		memset(t + 20, 1, s->tcpopt);	/* NOPs ... */
		if (s->tcpopt >= 12) {		/* ... then a timestamp */
			t[22] = 8;
			t[23] = 10;
			tn_wr32(t + 24, 0xa1b2c3d4);
			tn_wr32(t + 28, 0x11223344);
		}
	}
	for (size_t i = 0; i < s->payload; i++)
		t[doff + i] = pattern(i);
	/* What CHECKSUM_PARTIAL leaves: the folded pseudo-header sum only. */
	tn_wr16(t + 16, tn_fold(tn_pseudo(pkt, 6, tcplen)));
	*iplen = ipl;
	*hdrs = ipl + doff;
	return len;
}

static void vnet(uint8_t h[TSO_VNET_HDR_LEN], uint8_t flags, uint8_t gso_type,
		 uint16_t hdr_len, uint16_t gso_size, uint16_t cs_start,
		 uint16_t cs_off)
{
	h[0] = flags;
	h[1] = gso_type;
	h[2] = (uint8_t)hdr_len; h[3] = (uint8_t)(hdr_len >> 8);
	h[4] = (uint8_t)gso_size; h[5] = (uint8_t)(gso_size >> 8);
	h[6] = (uint8_t)cs_start; h[7] = (uint8_t)(cs_start >> 8);
	h[8] = (uint8_t)cs_off; h[9] = (uint8_t)(cs_off >> 8);
}

static uint8_t pkt[MAXPKT];
static uint8_t outbuf[MAXSEGS * STRIDE];
static size_t seglen[MAXSEGS];
static uint8_t joined[MAXPKT];

/*
 * Check every segment of a split super-packet against the original: lengths,
 * IP fields, checksums (reference routine), sequence numbers, the flag rule,
 * copied options, and that the payloads concatenate to the original.
 */
static void verify_split(const uint8_t *orig, size_t len, size_t iplen,
			 size_t hdrs, size_t gso, const uint8_t *out,
			 size_t stride, int n)
{
	size_t payload = len - hdrs, off = 0, want_n;
	int ver = orig[0] >> 4;
	uint8_t oflags = orig[iplen + 13];
	uint32_t seq0 = tn_rd32(orig + iplen + 4);

	want_n = payload ? (payload + gso - 1) / gso : 1;
	CHECK_INT(n, want_n);
	if (n != (int)want_n)
		return;
	for (int i = 0; i < n; i++) {
		const uint8_t *o = out + (size_t)i * stride, *t = o + iplen;
		size_t plen = payload - off < gso ? payload - off : gso;
		uint8_t want_fl = oflags;

		CHECK_INT(seglen[i], hdrs + plen);
		if (seglen[i] != hdrs + plen)
			return;
		if (ver == 4) {
			CHECK_INT(tn_rd16(o + 2), hdrs + plen);
			CHECK_INT(tn_rd16(o + 4), (uint16_t)(tn_rd16(orig + 4) + i));
			CHECK(tn_ip4_ok(o));
			CHECK_MEM(o, orig, 2);			/* ver/ihl, tos */
			CHECK_MEM(o + 6, orig + 6, 4);		/* frag, ttl, proto */
			CHECK_MEM(o + 12, orig + 12, iplen - 12);
		} else {
			CHECK_INT(tn_rd16(o + 4), hdrs + plen - 40);
			CHECK_MEM(o, orig, 4);
			CHECK_MEM(o + 6, orig + 6, iplen - 6);
		}
		CHECK_MEM(t, orig + iplen, 4);			/* ports */
		CHECK_INT(tn_rd32(t + 4), (uint32_t)(seq0 + off));
		CHECK_MEM(t + 8, orig + iplen + 8, 5);		/* ack, doff */
		if (i != n - 1)
			want_fl &= (uint8_t)~(F_FIN | F_PSH);
		if (i != 0)
			want_fl &= (uint8_t)~F_CWR;
		CHECK_INT(t[13], want_fl);
		CHECK_MEM(t + 14, orig + iplen + 14, 2);	/* window */
		CHECK_MEM(t + 18, orig + iplen + 18, hdrs - iplen - 18);
		CHECK(tn_l4_ok(o, 6, t, seglen[i] - iplen));
		memcpy(joined + off, o + hdrs, plen);
		off += plen;
	}
	CHECK_INT(off, payload);
	CHECK_MEM(joined, orig + hdrs, payload);
}

static void split_and_verify(const struct spec *s, size_t gso)
{
	uint8_t h[TSO_VNET_HDR_LEN];
	size_t iplen, hdrs, len;
	int n;

	len = build_tcp(s, pkt, &iplen, &hdrs);
	/* hdr_len as the kernel fills it (linear part) is not the headers. */
	vnet(h, 1, s->ver == 4 ? 1 : 4, (uint16_t)(hdrs + 100), (uint16_t)gso,
	     (uint16_t)iplen, 16);
	n = tso_split(h, pkt, len, outbuf, STRIDE, MAXSEGS, seglen);
	CHECK(n > 0);
	if (n > 0)
		verify_split(pkt, len, iplen, hdrs, gso, outbuf, STRIDE, n);
}

/* ---- tests ---- */

static void test_v4_super(void)
{
	struct spec s = { .ver = 4, .tcpopt = 12, .payload = 64000,
			  .flags = F_PSH | F_ACK | F_FIN | F_CWR,
			  .seq = 0xfffff000, .id = 0xfff0 };	/* both wrap */

	split_and_verify(&s, 1228);
	CHECK_INT(seglen[0], 20 + 32 + 1228);
	CHECK_INT(seglen[52], 20 + 32 + 64000 - 52 * 1228);
}

/* A path MTU below q2q0's: the segment size is lowered so every packet
 * tso_split makes is at most max_pkt, and the split is still exact; a
 * size already small enough, a non-GSO packet or a max_pkt leaving less
 * than TSO_MSS_MIN of payload are left alone. */
static void test_cap_mss(void)
{
	for (int ver = 4; ver <= 6; ver += 2) {
		struct spec s = { .ver = ver, .tcpopt = 12, .payload = 64000,
				  .flags = F_PSH | F_ACK, .seq = 9 };
		uint8_t h[TSO_VNET_HDR_LEN];
		size_t iplen, hdrs, len = build_tcp(&s, pkt, &iplen, &hdrs);
		size_t max_pkt = 1280 - 28 - 32;	/* 1280 path, IPv4 UDP, DATA overhead */
		int n;

		vnet(h, 1, ver == 4 ? 1 : 4, (uint16_t)(hdrs + 100), 1228, (uint16_t)iplen, 16);
		CHECK_INT(tso_cap_mss(h, pkt, len, max_pkt), 1);
		CHECK_INT(h[4] | h[5] << 8, max_pkt - hdrs);
		n = tso_split(h, pkt, len, outbuf, STRIDE, MAXSEGS, seglen);
		CHECK(n > 0);
		for (int i = 0; i < n; i++)
			CHECK(seglen[i] <= max_pkt);
		CHECK_INT(seglen[0], max_pkt);
		if (n > 0)
			verify_split(pkt, len, iplen, hdrs, max_pkt - hdrs, outbuf, STRIDE, n);
		CHECK_INT(tso_cap_mss(h, pkt, len, max_pkt), 0);	/* now fits */
		CHECK_INT(tso_cap_mss(h, pkt, len, hdrs + TSO_MSS_MIN - 1), 0);
		vnet(h, 1, 0, 0, 0, (uint16_t)iplen, 16);
		CHECK_INT(tso_cap_mss(h, pkt, len, max_pkt), 0);	/* no GSO */
		vnet(h, 1, ver == 4 ? 1 : 4, 0, 1228, (uint16_t)(len - 10), 16);
		CHECK_INT(tso_cap_mss(h, pkt, len, max_pkt), 0);	/* csum_start past the end */
	}
}

static void test_v6_super(void)
{
	struct spec s = { .ver = 6, .tcpopt = 12, .payload = 64000,
			  .flags = F_PSH | F_ACK | F_FIN | F_CWR, .seq = 7 };

	split_and_verify(&s, 1208);
}

static void test_sizes(void)
{
	static const size_t gsos[] = { 1, 7, 536, 1000, 1001, 1228, 1448 };
	static const size_t pays[] = { 0, 1, 2, 999, 1000, 1001, 4096, 12345 };

	for (int v = 4; v <= 6; v += 2)
		for (size_t g = 0; g < sizeof(gsos) / sizeof(gsos[0]); g++)
			for (size_t p = 0; p < sizeof(pays) / sizeof(pays[0]); p++) {
				struct spec s = { .ver = v, .payload = pays[p],
						  .flags = F_ACK | F_PSH | F_CWR,
						  .seq = (uint32_t)p * 1000, .id = 9 };

				if ((pays[p] + gsos[g] - 1) / gsos[g] > MAXSEGS)
					continue;
				split_and_verify(&s, gsos[g]);
			}
}

static void test_one_segment(void)
{
	struct spec s = { .ver = 4, .tcpopt = 12, .payload = 700,
			  .flags = F_PSH | F_ACK | F_FIN | F_CWR, .seq = 1, .id = 3 };

	split_and_verify(&s, 1228);
	/* The only segment is first and last: every flag stays. */
	CHECK_INT(outbuf[20 + 13], F_PSH | F_ACK | F_FIN | F_CWR);
	CHECK_INT(seglen[0], 20 + 32 + 700);
	s.payload = 1228;		/* exactly one gso_size */
	split_and_verify(&s, 1228);
	s.payload = 0;			/* pure ACK with GSO type set */
	split_and_verify(&s, 1228);
}

static void test_ip_options(void)
{
	struct spec s4 = { .ver = 4, .ipopt = 8, .tcpopt = 40, .payload = 5000,
			   .flags = F_ACK | F_PSH, .seq = 100, .id = 1 };
	struct spec s6 = { .ver = 6, .ipopt = 16, .ext = 60, .tcpopt = 12,
			   .payload = 5000, .flags = F_ACK | F_FIN, .seq = 100 };

	split_and_verify(&s4, 1200);
	split_and_verify(&s6, 1200);
	s6.ext = 0;			/* hop-by-hop */
	split_and_verify(&s6, 999);
}

static void test_payload_exact(void)
{
	/* Everything but the headers and checksums is the original bytes. */
	struct spec s = { .ver = 4, .payload = 3000, .flags = F_ACK, .seq = 5 };
	uint8_t h[TSO_VNET_HDR_LEN];
	size_t iplen, hdrs, len = build_tcp(&s, pkt, &iplen, &hdrs);

	vnet(h, 1, 1, 0, 1460, 20, 16);
	CHECK_INT(tso_split(h, pkt, len, outbuf, STRIDE, MAXSEGS, seglen), 3);
	CHECK_MEM(outbuf + 40, pkt + 40, 1460);
	CHECK_MEM(outbuf + STRIDE + 40, pkt + 40 + 1460, 1460);
	CHECK_MEM(outbuf + 2 * STRIDE + 40, pkt + 40 + 2920, 80);
	CHECK_INT(tn_rd32(outbuf + 2 * STRIDE + 24), 5 + 2920);
	/* A tight stride (headers + gso_size) is enough. */
	CHECK_INT(tso_split(h, pkt, len, outbuf, 1500, 3, seglen), 3);
	CHECK_INT(tso_split(h, pkt, len, outbuf, 1499, 3, seglen), -ENOSPC);
	CHECK_INT(tso_split(h, pkt, len, outbuf, 1500, 2, seglen), -ENOSPC);
}

/* Build a non-GSO UDP packet with the partial checksum, as CHECKSUM_PARTIAL. */
static size_t build_udp(int ver, uint8_t *p, size_t payload, size_t *iplen)
{
	size_t ipl = ver == 4 ? 20 : 40, ulen = 8 + payload, len = ipl + ulen;
	uint8_t *u = p + ipl;

	memset(p, 0, ipl);
	if (ver == 4) {
		p[0] = 0x45;
		tn_wr16(p + 2, (uint16_t)len);
		p[8] = 64;
		p[9] = 17;
		p[12] = 198; p[13] = 51; p[14] = 100; p[15] = 1;
		p[16] = 198; p[17] = 51; p[18] = 100; p[19] = 2;
		tn_ip4_csum(p);
	} else {
		p[0] = 0x60;
		tn_wr16(p + 4, (uint16_t)ulen);
		p[6] = 17;
		p[7] = 64;
		p[8] = 0xfd; p[23] = 1;
		p[24] = 0xfd; p[39] = 2;
	}
	tn_wr16(u, 1234);
	tn_wr16(u + 2, 4321);
	tn_wr16(u + 4, (uint16_t)ulen);
	for (size_t i = 0; i < payload; i++)
		u[8 + i] = pattern(i);
	tn_wr16(u + 6, tn_fold(tn_pseudo(p, 17, ulen)));
	*iplen = ipl;
	return len;
}

static void test_needs_csum_tcp(void)
{
	for (int v = 4; v <= 6; v += 2) {
		struct spec s = { .ver = v, .tcpopt = 12, .payload = 777,
				  .flags = F_ACK | F_PSH, .seq = 42 };
		uint8_t h[TSO_VNET_HDR_LEN];
		size_t iplen, hdrs, len = build_tcp(&s, pkt, &iplen, &hdrs);

		CHECK(!tn_l4_ok(pkt, 6, pkt + iplen, len - iplen));
		vnet(h, 1, 0, 0, 0, (uint16_t)iplen, 16);
		CHECK_INT(tso_split(h, pkt, len, outbuf, STRIDE, 1, seglen), 1);
		CHECK_INT(seglen[0], len);
		CHECK(tn_l4_ok(outbuf, 6, outbuf + iplen, len - iplen));
		/* Only the checksum field changed. */
		CHECK_MEM(outbuf, pkt, iplen + 16);
		CHECK_MEM(outbuf + iplen + 18, pkt + iplen + 18, len - iplen - 18);
		/* Without NEEDS_CSUM (or with DATA_VALID) it is a plain copy. */
		vnet(h, 2, 0, 0, 0, 0, 0);
		CHECK_INT(tso_split(h, pkt, len, outbuf, STRIDE, 1, seglen), 1);
		CHECK_MEM(outbuf, pkt, len);
		CHECK_INT(tso_split(h, pkt, len, outbuf, len - 1, 1, seglen),
			  -ENOSPC);
		CHECK_INT(tso_split(h, pkt, len, outbuf, len, 0, seglen), -ENOSPC);
	}
}

static void test_needs_csum_udp(void)
{
	for (int v = 4; v <= 6; v += 2) {
		uint8_t h[TSO_VNET_HDR_LEN];
		size_t iplen, len;
		uint32_t s;
		uint16_t w;

		for (size_t pay = 0; pay < 40; pay += 13) {
			len = build_udp(v, pkt, pay, &iplen);
			vnet(h, 1, 0, 0, 0, (uint16_t)iplen, 6);
			CHECK_INT(tso_split(h, pkt, len, outbuf, STRIDE, 4, seglen), 1);
			CHECK(tn_l4_ok(outbuf, 17, outbuf + iplen, len - iplen));
			CHECK(tn_rd16(outbuf + iplen + 6) != 0);
		}
		/* Choose the last payload word so the checksum comes out 0. */
		len = build_udp(v, pkt, 20, &iplen);
		pkt[len - 2] = pkt[len - 1] = 0;
		tn_wr16(pkt + iplen + 6, 0);
		s = tn_fold(tn_sum(tn_pseudo(pkt, 17, len - iplen),
				   pkt + iplen, len - iplen));
		w = (uint16_t)(0xffff - s);
		tn_wr16(pkt + len - 2, w);
		tn_wr16(pkt + iplen + 6, tn_fold(tn_pseudo(pkt, 17, len - iplen)));
		vnet(h, 1, 0, 0, 0, (uint16_t)iplen, 6);
		CHECK_INT(tso_split(h, pkt, len, outbuf, STRIDE, 4, seglen), 1);
		CHECK_INT(tn_rd16(outbuf + iplen + 6), 0xffff);
		CHECK(tn_l4_ok(outbuf, 17, outbuf + iplen, len - iplen));
	}
}

static void test_errors(void)
{
	struct spec s = { .ver = 4, .tcpopt = 12, .payload = 5000,
			  .flags = F_ACK, .seq = 1 };
	uint8_t h[TSO_VNET_HDR_LEN], save[64];
	size_t iplen, hdrs, len = build_tcp(&s, pkt, &iplen, &hdrs);

#define SPLIT() tso_split(h, pkt, len, outbuf, STRIDE, MAXSEGS, seglen)
	vnet(h, 1, 1, 0, 1228, 20, 16);
	CHECK_INT(SPLIT(), 5);
	vnet(h, 1, 0x81, 0, 1228, 20, 16);		/* ECN variant is fine */
	CHECK_INT(SPLIT(), 5);
	vnet(h, 1, 3, 0, 1228, 20, 6);			/* UFO */
	CHECK_INT(SPLIT(), -EOPNOTSUPP);
	vnet(h, 1, 5, 0, 1228, 20, 6);			/* USO */
	CHECK_INT(SPLIT(), -EOPNOTSUPP);
	vnet(h, 1, 0x80, 0, 1228, 20, 16);		/* ECN without GSO */
	CHECK_INT(SPLIT(), -EINVAL);
	vnet(h, 1, 4, 0, 1228, 20, 16);			/* v4 packet, TCPV6 */
	CHECK_INT(SPLIT(), -EINVAL);
	vnet(h, 0x09, 1, 0, 1228, 20, 16);		/* unknown flag bit */
	CHECK_INT(SPLIT(), -EINVAL);
	vnet(h, 1, 1, 0, 0, 20, 16);			/* gso_size 0 */
	CHECK_INT(SPLIT(), -EINVAL);
	vnet(h, 1, 1, 0, 1228, 24, 16);			/* csum_start wrong */
	CHECK_INT(SPLIT(), -EINVAL);
	vnet(h, 1, 1, 0, 1228, 20, 6);			/* csum_offset wrong */
	CHECK_INT(SPLIT(), -EINVAL);
	vnet(h, 0, 1, 0, 1228, 0, 0);			/* no NEEDS_CSUM: ok */
	CHECK_INT(SPLIT(), 5);
	CHECK_INT(tso_split(h, pkt, len, outbuf, STRIDE, 4, seglen), -ENOSPC);
	CHECK_INT(tso_split(h, pkt, len - 1, outbuf, STRIDE, 9, seglen), -EINVAL);
	CHECK_INT(tso_split(h, pkt, 19, outbuf, STRIDE, 9, seglen), -EINVAL);
	CHECK_INT(tso_split(h, pkt, 0, outbuf, STRIDE, 9, seglen), -EINVAL);
	CHECK_INT(tso_split(NULL, pkt, len, outbuf, STRIDE, 9, seglen), -EINVAL);

	memcpy(save, pkt, sizeof(save));
	pkt[6] |= 0x20;					/* MF */
	CHECK_INT(SPLIT(), -EINVAL);
	memcpy(pkt, save, sizeof(save));
	pkt[7] = 1;					/* fragment offset */
	CHECK_INT(SPLIT(), -EINVAL);
	memcpy(pkt, save, sizeof(save));
	pkt[9] = 17;					/* UDP in a TCP GSO */
	CHECK_INT(SPLIT(), -EINVAL);
	memcpy(pkt, save, sizeof(save));
	pkt[0] = 0x44;					/* IHL 16 bytes */
	CHECK_INT(SPLIT(), -EINVAL);
	memcpy(pkt, save, sizeof(save));
	pkt[20 + 12] = 0x40;				/* doff 16 bytes */
	CHECK_INT(SPLIT(), -EINVAL);
	memcpy(pkt, save, sizeof(save));
	pkt[20 + 13] |= F_SYN;				/* SYN would be cut */
	CHECK_INT(SPLIT(), -EINVAL);
	memcpy(pkt, save, sizeof(save));
	pkt[20 + 13] |= F_RST;
	CHECK_INT(SPLIT(), -EINVAL);
	memcpy(pkt, save, sizeof(save));
	tn_wr16(pkt + 2, (uint16_t)(len + 1));		/* total length */
	CHECK_INT(SPLIT(), -EINVAL);
	memcpy(pkt, save, sizeof(save));
	CHECK_INT(SPLIT(), 5);

	/* IPv4 source route: the pseudo-header would use another address. */
	s.ipopt = 8;
	len = build_tcp(&s, pkt, &iplen, &hdrs);
	vnet(h, 1, 1, 0, 1228, 28, 16);
	CHECK_INT(SPLIT(), 5);
	pkt[20] = 0x83; pkt[21] = 7; pkt[22] = 4;	/* LSRR, one hop */
	CHECK_INT(SPLIT(), -EOPNOTSUPP);
	pkt[20] = 0x44; pkt[21] = 12;			/* option overruns */
	CHECK_INT(SPLIT(), -EINVAL);

	/* IPv6: routing header unsupported, fragment header refused. */
	s.ver = 6;
	s.ipopt = 8;
	s.ext = 43;
	len = build_tcp(&s, pkt, &iplen, &hdrs);
	vnet(h, 1, 4, 0, 1228, 48, 16);
	CHECK_INT(SPLIT(), -EOPNOTSUPP);
	pkt[6] = 44;
	CHECK_INT(SPLIT(), -EINVAL);
	pkt[6] = 60;
	CHECK_INT(SPLIT(), 5);
	pkt[41] = 200;					/* ext header too long */
	CHECK_INT(SPLIT(), -EINVAL);
	pkt[41] = 0;
	pkt[6] = 58;					/* ICMPv6 */
	CHECK_INT(SPLIT(), -EINVAL);
	pkt[6] = 60;
	tn_wr16(pkt + 4, 0);				/* jumbo-style length */
	CHECK_INT(SPLIT(), -EINVAL);
	vnet(h, 1, 1, 0, 1228, 48, 16);			/* v6 packet, TCPV4 */
	CHECK_INT(SPLIT(), -EINVAL);

	/* Non-GSO NEEDS_CSUM offsets must lie inside the packet. */
	len = build_udp(4, pkt, 10, &iplen);
	vnet(h, 1, 0, 0, 0, 20, 6);
	CHECK_INT(SPLIT(), 1);
	vnet(h, 1, 0, 0, 0, (uint16_t)len, 0);
	CHECK_INT(SPLIT(), -EINVAL);
	vnet(h, 1, 0, 0, 0, (uint16_t)(len - 2), 0);
	CHECK_INT(SPLIT(), 1);
	vnet(h, 1, 0, 0, 0, (uint16_t)(len - 1), 0);
	CHECK_INT(SPLIT(), -EINVAL);
	vnet(h, 1, 0, 0, 0, 20, (uint16_t)(len - 20));	/* field at len */
	CHECK_INT(SPLIT(), -EINVAL);
	vnet(h, 1, 0, 0, 0, 20, (uint16_t)(len - 22));	/* last word: ok */
	CHECK_INT(SPLIT(), 1);
	vnet(h, 1, 0, 0, 0, 20, 0xfffe);
	CHECK_INT(SPLIT(), -EINVAL);
	vnet(h, 1, 0, 0, 0, 20, 7);			/* odd offset */
	CHECK_INT(SPLIT(), -EINVAL);
	pkt[0] = 0x15;					/* not IP */
	vnet(h, 0, 0, 0, 0, 0, 0);
	CHECK_INT(SPLIT(), -EINVAL);
#undef SPLIT
}

static void test_hdr_none(void)
{
	uint8_t h[TSO_VNET_HDR_LEN];
	static const uint8_t zero[TSO_VNET_HDR_LEN];

	memset(h, 0xee, sizeof(h));
	tso_hdr_none(h);
	CHECK_MEM(h, zero, sizeof(h));
}

/* ---- fuzz ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

#define GUARD 64

static void test_fuzz(void)
{
	static uint8_t p[MAXPKT];
	int ok = 0, errs = 0, verified = 0, csummed = 0;

	for (int it = 0; it < 50000; it++) {
		struct spec s = { .ver = rnd() & 1 ? 6 : 4,
				  .tcpopt = (rnd() % 11) * 4,
				  .payload = rnd() % 8 ? rnd() % 6000 : rnd() % 65000,
				  .flags = (uint8_t)rnd(), .seq = rnd(),
				  .id = (uint16_t)rnd() };
		uint8_t h[TSO_VNET_HDR_LEN];
		size_t iplen, hdrs, len, stride, max_segs, *sl;
		uint8_t *out;
		int n, mutated = 0;
		uint16_t gso = (uint16_t)(rnd() % 4 ? 500 + rnd() % 1500 :
					  rnd() % 70000);

		if (s.ver == 4)
			s.ipopt = rnd() % 4 ? 0 : 4 * (1 + rnd() % 10);
		else {
			s.ipopt = rnd() % 4 ? 0 : 8 * (1 + rnd() % 3);
			s.ext = rnd() & 1 ? 0 : 60;
		}
		len = build_tcp(&s, p, &iplen, &hdrs);
		if (s.ver == 4 && len > 65535)
			continue;
		vnet(h, 1, s.ver == 4 ? 1 : 4, (uint16_t)rnd(), gso,
		     (uint16_t)iplen, 16);
		if (!(rnd() % 4)) {
			/* Non-GSO checksum completion at random offsets. */
			h[1] = 0;
			vnet(h, (uint8_t)(1 + (rnd() & 1) * 2), 0, 0, 0,
			     (uint16_t)(rnd() % (len + 8)), (uint16_t)(rnd() % 80));
		}
		if (!(rnd() % 3)) {
			for (int k = 0, m = 1 + (int)(rnd() % 6); k < m; k++) {
				size_t at = rnd() % (hdrs + 4);

				if (at < TSO_VNET_HDR_LEN && rnd() & 1)
					h[at] = (uint8_t)rnd();
				else if (at < len)
					p[at] = (uint8_t)rnd();
			}
			mutated = 1;
		}
		if (!(rnd() % 8)) {
			len = rnd() % (len + 1);
			mutated = 1;
		}
		stride = rnd() % 4 ? 1500 + rnd() % 600 : rnd() % 3000;
		max_segs = rnd() % 4 ? 1 + rnd() % 140 : rnd() % 4;
		out = malloc(max_segs * stride + GUARD);
		sl = malloc((max_segs + 2) * sizeof(*sl));
		if (!out || !sl)
			abort();
		memset(out + max_segs * stride, 0xa5, GUARD);
		sl[max_segs] = sl[max_segs + 1] = 0x5a5a5a5a;

		n = tso_split(h, p, len, out, stride, max_segs, sl);

		for (size_t g = 0; g < GUARD; g++)
			if (out[max_segs * stride + g] != 0xa5) {
				H_FAIL("iteration %d wrote past out", it);
				break;
			}
		CHECK(sl[max_segs] == 0x5a5a5a5a && sl[max_segs + 1] == 0x5a5a5a5a);
		if (n > 0) {
			ok++;
			CHECK((size_t)n <= max_segs);
			for (int i = 0; i < n && (size_t)i < max_segs; i++)
				CHECK(sl[i] > 0 && sl[i] <= stride);
			/* Whatever went in, TCP segments that came out verify. */
			if ((h[1] & 0x7f) == 1 || (h[1] & 0x7f) == 4) {
				for (int i = 0; i < n; i++) {
					const uint8_t *o = out + (size_t)i * stride;
					size_t il = (size_t)(o[0] & 15) * 4;

					/* v6 extension layout may be mutated: the
					 * unmutated case is checked below. */
					if (o[0] >> 4 != 4)
						continue;
					CHECK(tn_ip4_ok(o));
					CHECK(tn_l4_ok(o, 6, o + il, sl[i] - il));
				}
			}
			if (h[1] == 0) {
				/* Only the two checksum bytes may differ. */
				size_t at = (size_t)(h[6] | h[7] << 8) +
					    (size_t)(h[8] | h[9] << 8);

				CHECK_INT(n, 1);
				CHECK_INT(sl[0], len);
				if (h[0] & 1 && at + 2 <= len) {
					CHECK_MEM(out, p, at);
					CHECK_MEM(out + at + 2, p + at + 2,
						  len - at - 2);
				} else if (!(h[0] & 1)) {
					CHECK_MEM(out, p, len);
				} else {
					H_FAIL("checksum field outside packet");
				}
				csummed++;
			} else if (!mutated) {
				memcpy(seglen, sl, (size_t)n * sizeof(*sl));
				verify_split(p, len, iplen, hdrs, gso, out,
					     stride, n);
				verified++;
			}
		} else {
			errs++;
			CHECK(n == -EINVAL || n == -ENOSPC || n == -EOPNOTSUPP);
		}
		free(out);
		free(sl);
	}
	printf("  fuzz: %d split, %d refused, %d fully verified, %d checksummed\n",
	       ok, errs, verified, csummed);
	CHECK(ok > 1000);
	CHECK(errs > 1000);
	CHECK(verified > 100);
	CHECK(csummed > 100);
}

/* Not a pass/fail test: prints the rate for the report. */
static void test_speed(void)
{
	struct spec s = { .ver = 4, .tcpopt = 12, .payload = 64000,
			  .flags = F_ACK | F_PSH, .seq = 1 };
	uint8_t h[TSO_VNET_HDR_LEN];
	size_t iplen, hdrs, len = build_tcp(&s, pkt, &iplen, &hdrs);
	struct timespec a, b;
	int iters = 2000, n = 0;
	double sec;

	vnet(h, 1, 1, 0, 1228, 20, 16);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < iters; i++)
		n += tso_split(h, pkt, len, outbuf, STRIDE, MAXSEGS, seglen);
	clock_gettime(CLOCK_MONOTONIC, &b);
	sec = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	CHECK_INT(n, iters * 53);
	printf("  speed: %.0f MB/s (%.2f Gbit/s) splitting 64000-byte super-packets\n",
	       (double)iters * (double)len / sec / 1e6,
	       (double)iters * (double)len * 8 / sec / 1e9);
}

int main(void)
{
	RUN(test_v4_super);
	RUN(test_v6_super);
	RUN(test_cap_mss);
	RUN(test_sizes);
	RUN(test_one_segment);
	RUN(test_ip_options);
	RUN(test_payload_exact);
	RUN(test_needs_csum_tcp);
	RUN(test_needs_csum_udp);
	RUN(test_errors);
	RUN(test_hdr_none);
	RUN(test_fuzz);
	RUN(test_speed);
	return HARNESS_END();
}
