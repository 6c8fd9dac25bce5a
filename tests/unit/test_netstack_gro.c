/*
 * Tests for netstack/gro.c. Packets are built here with checksums from
 * testnet.h's naive byte-wise routine, independent of the module. Every
 * result goes through one checker that undoes the merge the way the
 * kernel's GSO would (cut the payload into gso_size pieces, rebuild each
 * header, checksum it) and requires the pieces to be exactly the input
 * packets, each used once, in input order within a flow; merged headers,
 * vnet fields and the CHECKSUM_PARTIAL contract are checked on the way.
 * Hand-built cases then pin down which runs merge and which must not, and a
 * fuzz loop throws mutated and random batches at it with guard bytes after
 * the buffer.
 */
#include <errno.h>
#include <stdlib.h>
#include <linux/virtio_net.h>

#include "tests/unit/harness.h"
#include "netstack/gro.h"
#include "tests/unit/testnet.h"

#define MAXPKT		200
#define PKTBUF		1600
#define OUTCAP		(512 * 1024)
#define GUARD		64

/* ---- packet building (checksums: testnet.h's independent routine) ---- */

static uint16_t rd16le(const uint8_t *p)
{
	return (uint16_t)(p[1] << 8 | p[0]);
}

struct tflow {
	int v6;
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	uint32_t ack;
	uint16_t win;
	uint8_t tos, ttl;
	uint32_t label;
	uint8_t opt[40];
	size_t optlen;
	uint16_t id;		/* next IPv4 id */
};

static void flow4(struct tflow *f, uint8_t last, uint16_t sport)
{
	memset(f, 0, sizeof(*f));
	memcpy(f->src, (uint8_t[]){ 100, 64, 0, last }, 4);
	memcpy(f->dst, (uint8_t[]){ 100, 64, 0, 1 }, 4);
	f->sport = sport;
	f->dport = 443;
	f->ack = 0x11223344;
	f->win = 501;
	f->ttl = 64;
	f->id = 1000;
	/* NOP NOP timestamps, the common case on Linux */
	memcpy(f->opt, (uint8_t[]){ 1, 1, 8, 10, 0, 0, 1, 0, 0, 0, 2, 0 }, 12);
	f->optlen = 12;
}

static void flow6(struct tflow *f, uint8_t last, uint16_t sport)
{
	memset(f, 0, sizeof(*f));
	f->v6 = 1;
	f->src[0] = f->dst[0] = 0xfd;
	f->src[15] = last;
	f->dst[15] = 1;
	f->sport = sport;
	f->dport = 22;
	f->ack = 0xfffffff0;
	f->win = 1000;
	f->ttl = 64;
	f->label = 0x12345;
}

static uint8_t payload_byte(uint32_t seq, uint16_t sport)
{
	uint32_t x = seq * 2654435761u ^ sport;

	return (uint8_t)(x >> 13);
}

/* Build one segment into p; payload bytes depend on the sequence number. */
static size_t mkseg(uint8_t *p, struct tflow *f, uint32_t seq, uint8_t flags,
		    size_t plen)
{
	uint8_t data[PKTBUF];

	for (size_t i = 0; i < plen; i++)
		data[i] = payload_byte(seq + (uint32_t)i, f->sport);
	return tn_tcp_build(p, &(struct tn_tcp){
		.v6 = f->v6, .src = f->src, .dst = f->dst,
		.sport = f->sport, .dport = f->dport, .seq = seq, .ack = f->ack,
		.flags = flags, .win = f->win, .ttl = f->ttl, .tos = f->tos,
		.label = f->label, .id = f->v6 ? 0 : f->id++, .frag = 0x4000,
		.opt = f->opt, .optlen = f->optlen, .data = data, .len = plen });
}

static size_t mkudp(uint8_t *p)
{
	memset(p, 0, 48);
	p[0] = 0x45;
	tn_wr16(p + 2, 48);
	p[8] = 64;
	p[9] = 17;
	memcpy(p + 12, (uint8_t[]){ 100, 64, 0, 2, 100, 64, 0, 1 }, 8);
	tn_ip4_csum(p);
	tn_wr16(p + 20, 5000);
	tn_wr16(p + 22, 53);
	tn_wr16(p + 24, 28);
	memset(p + 28, 'u', 20);
	return 48;
}

static size_t mkicmp6(uint8_t *p)
{
	memset(p, 0, 104);
	p[0] = 0x60;
	tn_wr16(p + 4, 64);
	p[6] = 58;
	p[7] = 64;
	p[8] = p[24] = 0xfd;
	p[23] = 2;
	p[39] = 1;
	p[40] = 128;	/* echo request */
	memset(p + 48, 'i', 56);
	return 104;
}

/* ---- the batch under test ---- */

static uint8_t pk[MAXPKT][PKTBUF];
static struct gro_pkt in[MAXPKT];
static int nin;
static uint8_t *obuf;
static struct gro_out out[MAXPKT];

static void batch_reset(void)
{
	nin = 0;
}

static int add_seg(struct tflow *f, uint32_t seq, uint8_t flags, size_t plen)
{
	in[nin].data = pk[nin];
	in[nin].len = mkseg(pk[nin], f, seq, flags, plen);
	return nin++;
}

static int add_raw(size_t (*mk)(uint8_t *))
{
	in[nin].data = pk[nin];
	in[nin].len = mk(pk[nin]);
	return nin++;
}

/* ---- the checker: undo every merge and match it against the input ---- */

struct winfo {
	int merged;
	int nseg;
	int idx[GRO_MAX_SEGS + 1];
};

static struct winfo info[MAXPKT];

/* Where the TCP ports of a (len bytes) are, or 0 if it is not TCP. */
static size_t tcp_at(const uint8_t *a, size_t len)
{
	size_t h;

	if (len >= 20 && a[0] >> 4 == 4 && a[9] == 6) {
		h = (size_t)(a[0] & 15) * 4;
		return h >= 20 && h + 4 <= len ? h : 0;
	}
	if (len >= 44 && a[0] >> 4 == 6 && a[6] == 6)
		return 40;
	return 0;
}

/* Flow identity of a TCP packet for the order check: addresses and ports. */
static int same_tcp_flow(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	size_t ha = tcp_at(a, alen), hb = tcp_at(b, blen);

	if (!ha || !hb || a[0] >> 4 != b[0] >> 4)
		return 0;
	if (a[0] >> 4 == 4 ? memcmp(a + 12, b + 12, 8) : memcmp(a + 8, b + 8, 32))
		return 0;
	return memcmp(a + ha, b + hb, 4) == 0;
}

/* First unused input equal to pkt (IPv4 id and header checksum masked if ask). */
static int match_input(const uint8_t *pkt, size_t len, const uint8_t *used,
		       int mask_id)
{
	for (int i = 0; i < nin; i++) {
		const uint8_t *q = in[i].data;

		if (used[i] || in[i].len != len)
			continue;
		if (!mask_id) {
			if (len == 0 || memcmp(q, pkt, len) == 0)
				return i;
			continue;
		}
		if (memcmp(q, pkt, 4) == 0 && memcmp(q + 6, pkt + 6, 4) == 0 &&
		    memcmp(q + 12, pkt + 12, len - 12) == 0)
			return i;
	}
	return -1;
}

/*
 * Check writes out[0..nw) against in[]; fills info[]. Returns 0 if all is
 * well (failures are reported through the harness as well).
 */
static int check_writes(int nw)
{
	static uint8_t piece[70000];
	static uint8_t done[70000];
	uint8_t used[MAXPKT] = { 0 };
	int before = h_cur_failed, last_first = -1;

	for (int w = 0; w < nw; w++) {
		const uint8_t *v = obuf + out[w].off;
		const uint8_t *ip = v + GRO_VNET_HDR_LEN;
		size_t len, iphl, thl, hlen, g, pay;
		struct winfo *wi = &info[w];

		memset(wi, 0, sizeof(*wi));
		CHECK(out[w].len >= GRO_VNET_HDR_LEN);
		if (out[w].len < GRO_VNET_HDR_LEN)
			return -1;
		if (w > 0)
			CHECK_INT(out[w].off, out[w - 1].off + out[w - 1].len);
		len = out[w].len - GRO_VNET_HDR_LEN;
		if (v[1] == VIRTIO_NET_HDR_GSO_NONE) {
			static const uint8_t zero[GRO_VNET_HDR_LEN];
			int i;

			CHECK_MEM(v, zero, GRO_VNET_HDR_LEN);
			i = match_input(ip, len, used, 0);
			CHECK(i >= 0);
			if (i < 0)
				return -1;
			used[i] = 1;
			wi->nseg = 1;
			wi->idx[0] = i;
			goto order;
		}
		/* A merged write. */
		wi->merged = 1;
		CHECK_INT(v[0], VIRTIO_NET_HDR_F_NEEDS_CSUM);
		CHECK(len >= 40);
		if (len < 40)
			return -1;
		if (ip[0] >> 4 == 4) {
			CHECK_INT(v[1], VIRTIO_NET_HDR_GSO_TCPV4);
			CHECK_INT(ip[0], 0x45);
			CHECK_INT(tn_rd16(ip + 2), len);
			CHECK(tn_ip4_ok(ip));
			CHECK_INT(ip[9], 6);
			iphl = 20;
		} else {
			CHECK_INT(v[1], VIRTIO_NET_HDR_GSO_TCPV6);
			CHECK_INT(ip[0] >> 4, 6);
			CHECK_INT(tn_rd16(ip + 4), len - 40);
			CHECK_INT(ip[6], 6);
			iphl = 40;
		}
		CHECK(len - iphl <= 65535);
		thl = (size_t)(ip[iphl + 12] >> 4) * 4;
		hlen = iphl + thl;
		g = rd16le(v + 4);
		CHECK_INT(rd16le(v + 2), hlen);
		CHECK_INT(rd16le(v + 6), iphl);
		CHECK_INT(rd16le(v + 8), 16);
		CHECK(ip[iphl + 13] == 0x10 || ip[iphl + 13] == 0x18);
		CHECK(hlen < len && g > 0);
		if (hlen >= len || g == 0)
			return -1;
		pay = len - hlen;
		CHECK(pay > g);			/* at least two segments */
		/* CHECKSUM_PARTIAL: the field holds the pseudo-header sum... */
		CHECK_INT(tn_rd16(ip + iphl + 16), tn_fold(tn_pseudo(ip, 6, len - iphl)));
		/* ...and finishing it as the kernel would gives a valid checksum. */
		memcpy(done, ip, len);
		tn_wr16(done + iphl + 16, (uint16_t)~tn_fold(tn_sum(0, done + iphl, len - iphl)));
		CHECK(tn_tcp_ok(done, iphl, len));

		/* Cut it up as GSO would and find each piece among the inputs. */
		for (size_t o = 0; o < pay; o += g) {
			size_t pl = pay - o < g ? pay - o : g;
			int last = o + pl == pay, i;
			size_t plen = hlen + pl;

			memcpy(piece, ip, hlen);
			memcpy(piece + hlen, ip + hlen + o, pl);
			if (iphl == 20) {
				tn_wr16(piece + 2, (uint16_t)plen);
				tn_ip4_csum(piece);
			} else {
				tn_wr16(piece + 4, (uint16_t)(plen - 40));
			}
			tn_wr32(piece + iphl + 4, tn_rd32(ip + iphl + 4) + (uint32_t)o);
			piece[iphl + 13] = last ? ip[iphl + 13] : 0x10;
			tn_tcp_csum(piece, iphl, plen);
			i = match_input(piece, plen, used, iphl == 20);
			CHECK(i >= 0);
			if (i < 0) {
				fprintf(stderr, "  write %d piece at %zu has no input\n", w, o);
				return -1;
			}
			/* Only packets the kernel would have accepted get merged. */
			CHECK(tn_tcp_ok(in[i].data, iphl, plen));
			if (iphl == 20)
				CHECK(tn_ip4_ok(in[i].data));
			used[i] = 1;
			CHECK(wi->nseg < GRO_MAX_SEGS);
			if (wi->nseg >= GRO_MAX_SEGS)
				return -1;
			wi->idx[wi->nseg++] = i;
		}
order:
		/* Writes come in the order of their first packets... */
		CHECK(wi->idx[0] > last_first);
		last_first = wi->idx[0];
		/* ...and nothing of a flow overtakes an earlier packet of it. */
		for (int k = 1; k < wi->nseg; k++)
			CHECK(wi->idx[k] > wi->idx[k - 1]);
		for (int pw = 0; pw < w; pw++)
			for (int k = 0; k < info[pw].nseg; k++)
				if (info[pw].idx[k] > wi->idx[0] &&
				    same_tcp_flow(in[info[pw].idx[k]].data,
						  in[info[pw].idx[k]].len, ip, len))
					H_FAIL("write %d overtakes input %d", w, info[pw].idx[k]);
	}
	for (int i = 0; i < nin; i++)
		if (!used[i])
			H_FAIL("input %d missing from the output", i);
	return h_cur_failed == before ? 0 : -1;
}

/* "0,1,2|3|4,5": which inputs each write holds. */
static const char *layout(int nw)
{
	static char s[4096];
	size_t n = 0;

	s[0] = 0;
	for (int w = 0; w < nw && n < sizeof(s) - 16; w++)
		for (int k = 0; k < info[w].nseg && n < sizeof(s) - 16; k++)
			n += (size_t)snprintf(s + n, sizeof(s) - n, "%s%d",
					      k ? "," : w ? "|" : "", info[w].idx[k]);
	return s;
}

/* Coalesce the current batch, check it, and return its layout. */
static const char *run_batch(int *nw_out)
{
	int nw = gro_coalesce(in, nin, obuf, OUTCAP, out, MAXPKT);

	if (nw_out)
		*nw_out = nw;
	CHECK(nw >= 0);
	if (nw < 0 || check_writes(nw) != 0)
		return "(bad)";
	return layout(nw);
}

/* ---- cases ---- */

static void test_two_flows_udp_icmp(void)
{
	struct tflow a, b;
	uint32_t sa = 1000, sb = 0xfffff000;	/* b wraps around 2^32 */
	char want[600], la[256] = "", lb[256] = "";
	int nw, udp = -1, icmp = -1;

	flow4(&a, 2, 40000);
	flow6(&b, 2, 50000);
	batch_reset();
	for (int i = 0; i < 20; i++) {
		size_t pa = i == 19 ? 500 : 1228, pb = 1208;

		snprintf(la + strlen(la), sizeof(la) - strlen(la), "%s%d", i ? "," : "",
			 add_seg(&a, sa, i == 19 ? 0x18 : 0x10, pa));
		sa += (uint32_t)pa;
		if (i == 5)
			udp = add_raw(mkudp);
		snprintf(lb + strlen(lb), sizeof(lb) - strlen(lb), "%s%d", i ? "," : "",
			 add_seg(&b, sb, 0x10, pb));
		sb += (uint32_t)pb;
		if (i == 11)
			icmp = add_raw(mkicmp6);
	}
	snprintf(want, sizeof(want), "%s|%s|%d|%d", la, lb, udp, icmp);
	CHECK_STR(run_batch(&nw), want);
	CHECK_INT(nw, 4);
	/* Spot-check the merged IPv4 write against the first segment. */
	{
		const uint8_t *v = obuf + out[0].off, *ip = v + 10, *first = in[0].data;

		CHECK_INT(out[0].len, 10 + 52 + 19 * 1228 + 500);
		CHECK_INT(rd16le(v + 4), 1228);
		CHECK_INT(rd16le(v + 2), 52);
		CHECK_INT(tn_rd16(ip + 4), tn_rd16(first + 4));	/* id of the first */
		CHECK_INT(ip[20 + 13], 0x18);			/* PSH from the last */
		CHECK_MEM(ip + 20, first + 20, 13);		/* ports, seq, ack, doff */
		CHECK_MEM(ip + 20 + 14, first + 20 + 14, 2);
		CHECK_MEM(ip + 40, first + 40, 12);		/* options */
		v = obuf + out[1].off;
		CHECK_INT(v[1], VIRTIO_NET_HDR_GSO_TCPV6);
		CHECK_INT(rd16le(v + 4), 1208);
		CHECK_INT(rd16le(v + 6), 40);
		CHECK_INT(obuf[out[1].off + 10 + 40 + 13], 0x10);
	}
	/* The payloads, concatenated, are the streams. */
	{
		const uint8_t *ip = obuf + out[0].off + 10;
		size_t n = out[0].len - 10 - 52;
		int bad = 0;

		for (size_t i = 0; i < n; i++)
			bad += ip[52 + i] != payload_byte(1000 + (uint32_t)i, 40000);
		CHECK_INT(bad, 0);
		ip = obuf + out[1].off + 10;
		n = out[1].len - 10 - 60;
		for (size_t i = 0; i < n; i++)
			bad += ip[60 + i] != payload_byte(0xfffff000 + (uint32_t)i, 50000);
		CHECK_INT(bad, 0);
		CHECK_INT(n, 20 * 1208);
	}
}

/* Build six 1228-byte segments of one flow, letting mod change segment k. */
static void six(int v6, void (*mod)(struct tflow *, int, uint32_t *, uint8_t *, size_t *))
{
	struct tflow f;
	uint32_t seq = 7777;

	flow4(&f, 3, 1234);	/* for its timestamp option */
	if (v6) {
		struct tflow o = f;

		flow6(&f, 3, 1234);
		memcpy(f.opt, o.opt, o.optlen);
		f.optlen = o.optlen;
	}
	batch_reset();
	for (int k = 0; k < 6; k++) {
		uint32_t s = seq;
		uint8_t fl = 0x10;
		size_t pl = 1228;

		if (mod)
			mod(&f, k, &s, &fl, &pl);
		add_seg(&f, s, fl, pl);
		seq = s + (uint32_t)pl;
	}
}

static void m_gap(struct tflow *f, int k, uint32_t *s, uint8_t *fl, size_t *pl)
{
	if (k == 3)
		*s += 1;
}

static void m_dup(struct tflow *f, int k, uint32_t *s, uint8_t *fl, size_t *pl)
{
	if (k == 3)
		*s -= 1228;
}

static void m_opts(struct tflow *f, int k, uint32_t *s, uint8_t *fl, size_t *pl)
{
	if (k == 3)
		f->opt[7] = 2;	/* TSval changes from here on */
}

static void m_fin(struct tflow *f, int k, uint32_t *s, uint8_t *fl, size_t *pl)
{
	if (k == 3)
		*fl = 0x11;
}

static void m_big(struct tflow *f, int k, uint32_t *s, uint8_t *fl, size_t *pl)
{
	if (k == 3)
		*pl = 1300;
}

static void m_small(struct tflow *f, int k, uint32_t *s, uint8_t *fl, size_t *pl)
{
	if (k == 2)
		*pl = 1000;
}

static void m_psh(struct tflow *f, int k, uint32_t *s, uint8_t *fl, size_t *pl)
{
	if (k == 2)
		*fl = 0x18;
}

static void m_ack(struct tflow *f, int k, uint32_t *s, uint8_t *fl, size_t *pl)
{
	if (k == 3)
		f->ack += 1000;
}

static void m_win(struct tflow *f, int k, uint32_t *s, uint8_t *fl, size_t *pl)
{
	if (k == 3)
		f->win++;
}

static void m_tos(struct tflow *f, int k, uint32_t *s, uint8_t *fl, size_t *pl)
{
	if (k == 3)
		f->tos = 3;	/* ECN CE: must never be merged away */
}

static void m_ttl(struct tflow *f, int k, uint32_t *s, uint8_t *fl, size_t *pl)
{
	if (k == 3)
		f->ttl--;
}

static void m_label(struct tflow *f, int k, uint32_t *s, uint8_t *fl, size_t *pl)
{
	if (k == 3)
		f->label++;
}

static void m_pureack(struct tflow *f, int k, uint32_t *s, uint8_t *fl, size_t *pl)
{
	if (k == 3)
		*pl = 0;
}

static void test_merge_all(void)
{
	six(0, NULL);
	CHECK_STR(run_batch(NULL), "0,1,2,3,4,5");
	six(1, NULL);
	CHECK_STR(run_batch(NULL), "0,1,2,3,4,5");
	six(0, m_small);	/* a short segment ends the write */
	CHECK_STR(run_batch(NULL), "0,1,2|3,4,5");
	six(1, m_psh);
	CHECK_STR(run_batch(NULL), "0,1,2|3,4,5");
	CHECK_INT(obuf[out[0].off + 10 + 40 + 13], 0x18);
}

static void test_not_merged_across(void)
{
	static const struct {
		const char *name;
		void (*mod)(struct tflow *, int, uint32_t *, uint8_t *, size_t *);
		const char *want;
	} cases[] = {
		{ "gap", m_gap, "0,1,2|3,4,5" },
		{ "duplicate", m_dup, "0,1,2|3,4,5" },
		{ "options", m_opts, "0,1,2|3,4,5" },
		{ "fin", m_fin, "0,1,2|3|4,5" },
		{ "bigger", m_big, "0,1,2|3,4|5" },
		{ "ack", m_ack, "0,1,2|3,4,5" },
		{ "window", m_win, "0,1,2|3,4,5" },
		{ "tos", m_tos, "0,1,2|3,4,5" },
		{ "ttl", m_ttl, "0,1,2|3,4,5" },
		{ "pure ack", m_pureack, "0,1,2|3|4,5" },
	};

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		for (int v6 = 0; v6 < 2; v6++) {
			const char *got;

			six(v6, cases[c].mod);
			got = run_batch(NULL);
			if (strcmp(got, cases[c].want) != 0)
				H_FAIL("%s (v%d): got %s, want %s", cases[c].name,
				       v6 ? 6 : 4, got, cases[c].want);
		}
	}
	six(1, m_label);
	CHECK_STR(run_batch(NULL), "0,1,2|3,4,5");
}

static void flag_case(uint8_t flags, const char *want)
{
	struct tflow f;

	flow4(&f, 9, 999);
	batch_reset();
	for (int k = 0; k < 6; k++)
		add_seg(&f, 100 + (uint32_t)k * 1000, k == 3 ? flags : 0x10, 1000);
	if (strcmp(run_batch(NULL), want) != 0)
		H_FAIL("flags %#x: got %s, want %s", flags, layout(nin), want);
}

static void test_flags(void)
{
	flag_case(0x12, "0,1,2|3|4,5");	/* SYN */
	flag_case(0x14, "0,1,2|3|4,5");	/* RST */
	flag_case(0x30, "0,1,2|3|4,5");	/* URG */
	flag_case(0x50, "0,1,2|3|4,5");	/* ECE */
	flag_case(0x90, "0,1,2|3|4,5");	/* CWR */
	flag_case(0x00, "0,1,2|3|4,5");	/* no ACK */
	flag_case(0x18, "0,1,2,3|4,5");	/* PSH ends a write */
}

/* Segments the kernel would drop or that hide things: never merged. */
static void test_odd_packets(void)
{
	struct tflow f;
	int i;

	/* Bad TCP checksum in the middle: emitted as is, nothing merges over it. */
	six(0, NULL);
	pk[3][60] ^= 0x55;
	CHECK_STR(run_batch(NULL), "0,1,2|3|4,5");
	/* Bad IPv4 header checksum. */
	six(0, NULL);
	pk[2][11] ^= 1;
	CHECK_STR(run_batch(NULL), "0,1|2|3,4,5");

	/* IPv4 options: 0x46 header with a NOP-padded option word. */
	six(0, NULL);
	{
		uint8_t *p = pk[3];
		size_t len = in[3].len;

		memmove(p + 24, p + 20, len - 20);
		memset(p + 20, 1, 4);
		p[0] = 0x46;
		tn_wr16(p + 2, (uint16_t)(len + 4));
		tn_ip4_csum(p);		/* over the 24-byte header */
		in[3].len = len + 4;
	}
	CHECK_STR(run_batch(NULL), "0,1,2|3|4,5");

	/* A fragment of some TCP packet closes every flow. */
	flow4(&f, 3, 1);
	batch_reset();
	add_seg(&f, 0, 0x10, 1000);
	i = add_seg(&f, 1000, 0x10, 1000);
	pk[i][6] = 0x20;	/* MF */
	tn_ip4_csum(pk[i]);
	add_seg(&f, 2000, 0x10, 1000);
	add_seg(&f, 3000, 0x10, 1000);
	CHECK_STR(run_batch(NULL), "0|1|2,3");

	/* IPv6 with a hop-by-hop header: closes every flow. */
	{
		struct tflow g;

		flow6(&g, 4, 2);
		batch_reset();
		add_seg(&g, 0, 0x10, 1000);
		add_seg(&f, 0, 0x10, 1000);
		add_seg(&g, 1000, 0x10, 1000);
		i = add_seg(&g, 2000, 0x10, 1000);
		pk[i][6] = 0;	/* next header: hop-by-hop (the bytes are not) */
		add_seg(&g, 2000, 0x10, 1000);
		add_seg(&f, 1000, 0x10, 1000);
		add_seg(&g, 3000, 0x10, 1000);
		CHECK_STR(run_batch(NULL), "0,2|1|3|4,6|5");
	}

	/* Not fragmented but without DF: merges; DF changing: does not. */
	six(0, NULL);
	for (i = 0; i < 6; i++) {
		pk[i][6] = i == 4 ? 0x40 : 0;
		tn_ip4_csum(pk[i]);
	}
	CHECK_STR(run_batch(NULL), "0,1,2,3|4|5");
	/* The reserved ("evil") bit is not ours to vouch for. */
	six(0, NULL);
	for (i = 0; i < 6; i++) {
		pk[i][6] |= 0x80;
		tn_ip4_csum(pk[i]);
	}
	CHECK_STR(run_batch(NULL), "0|1|2|3|4|5");

	/* Trailing bytes after the IP packet: sent as is, not merged. */
	six(0, NULL);
	in[3].len += 3;
	CHECK_STR(run_batch(NULL), "0,1,2|3|4,5");

	/* Garbage, empty and truncated packets pass through untouched. */
	batch_reset();
	in[0].data = pk[0];
	in[0].len = 0;
	memset(pk[1], 0x45, 30);
	in[1].data = pk[1];
	in[1].len = 30;
	in[2].data = pk[2];
	in[2].len = 1;
	pk[2][0] = 0x60;
	nin = 3;
	CHECK_STR(run_batch(NULL), "0|1|2");

	/* A lone candidate is just a packet. */
	batch_reset();
	add_seg(&f, 5, 0x10, 1228);
	CHECK_STR(run_batch(NULL), "0");
	CHECK_INT(out[0].len, 10 + in[0].len);
}

static void test_limits(void)
{
	struct tflow f;
	int nw;

	/* 100 full segments: the 64 KiB limit cuts after 53 (20 + 32 + 53 * 1228). */
	flow4(&f, 5, 5);
	batch_reset();
	for (int k = 0; k < 100; k++)
		add_seg(&f, (uint32_t)k * 1228, 0x10, 1228);
	run_batch(&nw);
	CHECK_INT(nw, 2);
	CHECK_INT(info[0].nseg, 53);
	CHECK_INT(info[1].nseg, 47);
	CHECK(out[0].len - 10 <= 65535);
	CHECK(out[0].len - 10 + 1228 > 65535);

	/* IPv6 counts the payload length only: 40 + 20 + 65475 allowed. */
	flow6(&f, 5, 5);
	batch_reset();
	for (int k = 0; k < 60; k++)
		add_seg(&f, (uint32_t)k * 1091, 0x10, 1091);
	run_batch(&nw);
	CHECK_INT(nw, 1);
	CHECK_INT(out[0].len - 10 - 40, 20 + 60 * 1091);

	/* Small segments: the segment cap. */
	flow4(&f, 6, 6);
	batch_reset();
	for (int k = 0; k < 150; k++)
		add_seg(&f, (uint32_t)k * 100, 0x10, 100);
	run_batch(&nw);
	CHECK_INT(nw, 3);
	CHECK_INT(info[0].nseg, GRO_MAX_SEGS);
	CHECK_INT(info[1].nseg, GRO_MAX_SEGS);
	CHECK_INT(info[2].nseg, 150 - 2 * GRO_MAX_SEGS);
}

/* More flows than the table holds, round robin: still correct, some merging. */
static void test_many_flows(void)
{
	struct tflow f[GRO_MAX_FLOWS + 4];
	int nf = GRO_MAX_FLOWS + 4, nw;

	batch_reset();
	for (int j = 0; j < nf; j++)
		flow4(&f[j], (uint8_t)(10 + j), (uint16_t)(2000 + j));
	for (int k = 0; k < 8; k++)
		for (int j = 0; j < nf; j++)
			add_seg(&f[j], (uint32_t)k * 500, 0x10, 500);
	run_batch(&nw);
	CHECK(nw > 0 && nw <= nin);
	/* With fewer flows than slots everything of a flow merges. */
	batch_reset();
	for (int k = 0; k < 8; k++)
		for (int j = 0; j < GRO_MAX_FLOWS; j++)
			add_seg(&f[j], 4000 + (uint32_t)k * 500, 0x10, 500);
	run_batch(&nw);
	CHECK_INT(nw, GRO_MAX_FLOWS);
}

/* A new flow in a full table evicts the flow idle the longest. */
static void test_eviction(void)
{
	struct tflow f[GRO_MAX_FLOWS + 1];
	char want[512];
	int first[GRO_MAX_FLOWS + 1], a2, a3, b2, n;

	batch_reset();
	for (int j = 0; j <= GRO_MAX_FLOWS; j++)
		flow4(&f[j], (uint8_t)(10 + j), (uint16_t)(3000 + j));
	for (int j = 0; j < GRO_MAX_FLOWS; j++)
		first[j] = add_seg(&f[j], 0, 0x10, 700);
	a2 = add_seg(&f[0], 700, 0x10, 700);			/* flow 0 is busy */
	first[GRO_MAX_FLOWS] = add_seg(&f[GRO_MAX_FLOWS], 0, 0x10, 700);
	a3 = add_seg(&f[0], 1400, 0x10, 700);		/* still open */
	b2 = add_seg(&f[1], 700, 0x10, 700);		/* flow 1 was evicted */
	n = snprintf(want, sizeof(want), "%d,%d,%d", first[0], a2, a3);
	for (int j = 1; j <= GRO_MAX_FLOWS; j++)
		n += snprintf(want + n, sizeof(want) - (size_t)n, "|%d", first[j]);
	snprintf(want + n, sizeof(want) - (size_t)n, "|%d", b2);
	CHECK_STR(run_batch(NULL), want);
}

static void test_nospace(void)
{
	struct gro_out o[8];
	size_t need;
	int r;

	six(0, NULL);
	need = 10 + in[0].len + 5 * 1228;
	CHECK_INT(gro_coalesce(in, nin, obuf, need, o, 8), 1);
	CHECK_INT(gro_coalesce(in, nin, obuf, need - 1, o, 8), -ENOSPC);
	six(0, m_fin);
	CHECK_INT(gro_coalesce(in, nin, obuf, OUTCAP, o, 2), -ENOSPC);
	r = gro_coalesce(in, nin, obuf, OUTCAP, o, 3);
	CHECK_INT(r, 3);
	CHECK_INT(gro_coalesce(in, 0, NULL, 0, NULL, 0), 0);
	CHECK_INT(gro_coalesce(in, -1, obuf, OUTCAP, o, 8), -EINVAL);
	CHECK_INT(gro_coalesce(NULL, 2, obuf, OUTCAP, o, 8), -EINVAL);
}

/* ---- fuzz ---- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

/*
 * Random batches from a few flows: mostly good runs, with the edits a real
 * path makes (loss, duplicates, PSH, odd sizes, flag and header changes) and
 * some that only an attacker makes (flipped bytes with and without fixed
 * checksums, truncation). Each packet lives in its own exact-size heap block
 * so ASan sees any over-read; the output buffer has guard bytes after it.
 */
static void test_fuzz(void)
{
	uint8_t *heap[MAXPKT] = { 0 };
	struct tflow fl[4];
	uint32_t seq[4];
	size_t cap = 300 * 1024;
	uint8_t *b = malloc(cap + GUARD);
	int merged = 0, rounds = 10000;

	if (!b)
		return;
	for (int round = 0; round < rounds && h_cur_failed == 0; round++) {
		int n = 1 + (int)(rnd() % 120), nw;

		for (int j = 0; j < 4; j++) {
			if (rnd() % 2)
				flow6(&fl[j], (uint8_t)j, (uint16_t)(j * 7 + 1));
			else
				flow4(&fl[j], (uint8_t)j, (uint16_t)(j * 7 + 1));
			if (rnd() % 3 == 0)
				fl[j].optlen = 0;
			seq[j] = rnd();
		}
		batch_reset();
		for (int i = 0; i < n; i++) {
			int j = (int)(rnd() % 4), e = (int)(rnd() % 40);
			size_t g = 200 + (size_t)j * 300, pl = g;
			uint8_t flags = 0x10;
			uint8_t *p = pk[i];
			size_t len;

			if (e == 0) pl = rnd() % g;			/* short or empty */
			if (e == 1) flags |= 0x08;
			if (e == 2) flags = (uint8_t)rnd();
			if (e == 3) seq[j] -= (uint32_t)g;		/* duplicate */
			if (e == 4) seq[j] += (uint32_t)g;		/* loss */
			if (e == 5) pl = g + 1 + rnd() % 50;
			if (e == 6) fl[j].ack++;
			len = mkseg(p, &fl[j], seq[j], flags, pl);
			seq[j] += (uint32_t)pl;
			if (e == 7 || e == 8) {			/* flip a header byte */
				p[rnd() % (len < 80 ? len : 80)] ^= (uint8_t)(1 + rnd() % 255);
				if (e == 8 && !fl[j].v6 && (p[0] & 0x0f) == 5 && (p[0] >> 4) == 4) {
					size_t tl = tn_rd16(p + 2);

					tn_ip4_csum(p);
					if (tl == len && tl > 40 && p[9] == 6)
						tn_tcp_csum(p, 20, len);
				}
				if (e == 8 && (p[0] >> 4) == 6 && p[6] == 6 &&
				    40 + (size_t)tn_rd16(p + 4) == len)
					tn_tcp_csum(p, 40, len);
			}
			if (e == 9)
				len = rnd() % (len + 1);		/* truncated */
			if (e == 10)
				len = mkudp(p);
			if (e == 11) {				/* random bytes */
				len = rnd() % 200;
				for (size_t q = 0; q < len; q++)
					p[q] = (uint8_t)rnd();
				if (len)
					p[0] = (uint8_t)((rnd() % 2 ? 0x40 : 0x60) | (p[0] & 15));
			}
			heap[i] = malloc(len ? len : 1);
			if (!heap[i])
				goto out;
			memcpy(heap[i], p, len);
			in[i].data = heap[i];
			in[i].len = len;
			nin = i + 1;
		}
		memset(b, 0xa5, cap + GUARD);
		obuf = b;
		nw = gro_coalesce(in, nin, b, cap, out, MAXPKT);
		CHECK(nw > 0 && nw <= nin);
		if (nw > 0) {
			check_writes(nw);
			for (int w = 0; w < nw; w++)
				merged += info[w].merged;
			CHECK(out[nw - 1].off + out[nw - 1].len <= cap);
		}
		for (int q = 0; q < GUARD; q++)
			if (b[cap + q] != 0xa5) {
				H_FAIL("guard byte %d overwritten", q);
				break;
			}
		for (int i = 0; i < nin; i++) {
			free(heap[i]);
			heap[i] = NULL;
		}
	}
	/* The generator must actually exercise merging. */
	CHECK(merged > rounds);
out:
	for (int i = 0; i < MAXPKT; i++)
		free(heap[i]);
	free(b);
	obuf = NULL;
}

int main(void)
{
	static uint8_t big[OUTCAP];

	obuf = big;
	RUN(test_two_flows_udp_icmp);
	RUN(test_merge_all);
	RUN(test_not_merged_across);
	RUN(test_flags);
	RUN(test_odd_packets);
	RUN(test_limits);
	RUN(test_many_flows);
	RUN(test_eviction);
	RUN(test_nospace);
	RUN(test_fuzz);
	return HARNESS_END();
}
