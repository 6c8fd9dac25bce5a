/*
 * Fuzz target for netstack/gro.c: a batch of decrypted packets, which a
 * peer controls completely. The input is a script that builds the batch:
 * raw packets, raw packets with their checksums made valid, fresh TCP
 * segments, and segments that continue an earlier packet's flow (same
 * headers, next sequence number, optionally one header byte changed), so
 * the merge paths are reached as easily as the refusals.
 *
 * Checks: with the buffer and out[] sizes gro.h promises are enough, the
 * call succeeds and the writes tile the buffer; every write is either one
 * input packet unchanged behind a zero virtio header, or a merged
 * super-packet whose virtio fields are consistent and which
 * netstack/tso.c cuts back into exactly the input segments (IPv4 id and
 * header checksum aside); every input packet comes out exactly once, and
 * writes come in the order of their first packets. With a fuzzed smaller
 * buffer or out[] the call gives the same result or -ENOSPC, never a
 * write past either.
 */
#include <errno.h>

#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/fuzz_pkt.h"
#include "netstack/gro.h"
#include "netstack/tso.h"

#define MAX_PKTS	128
#define MAX_LEN		2000

struct batch {
	struct gro_pkt in[MAX_PKTS];
	uint8_t *mem[MAX_PKTS];
	int n;
	size_t need;	/* the capacity gro.h says always suffices */
};

/* TCP header offsets of p if it looks like TCP over IPv4/IPv6, else -1. */
static int tcp_layout(const uint8_t *p, size_t len, size_t *iphl, size_t *hdrs)
{
	size_t ip, doff;

	if (len >= 20 && p[0] >> 4 == 4 && p[9] == 6)
		ip = (size_t)(p[0] & 0x0f) * 4;
	else if (len >= 40 && p[0] >> 4 == 6 && p[6] == 6)
		ip = 40;
	else
		return -1;
	if (ip < 20 || len < ip + 20)
		return -1;
	doff = (size_t)(p[ip + 12] >> 4) * 4;
	if (doff < 20 || ip + doff > len)
		return -1;
	*iphl = ip;
	*hdrs = ip + doff;
	return 0;
}

/* A segment continuing packet prev: same headers, the next sequence number. */
static size_t derive(struct fz *f, const uint8_t *prev, size_t plen,
		     uint8_t *out, uint8_t op)
{
	size_t iphl, hdrs, payload, len;
	uint32_t seq;

	if (tcp_layout(prev, plen, &iphl, &hdrs) < 0)
		return 0;
	payload = fz_u16(f) % 1500;
	if (hdrs + payload > MAX_LEN)
		payload = MAX_LEN - hdrs;
	len = hdrs + payload;
	memcpy(out, prev, hdrs);
	seq = pkt_be32(prev + iphl + 4) + (uint32_t)(plen - hdrs);
	pkt_put32(out + iphl + 4, seq);
	pkt_pattern(out + hdrs, seq, payload);
	if (iphl == 40)
		pkt_put16(out + 4, (uint16_t)(len - 40));
	else
		pkt_put16(out + 2, (uint16_t)len);
	switch (op >> 3 & 3) {
	case 1:
		out[iphl + 13] = 0x10;		/* ACK */
		break;
	case 2:
		out[iphl + 13] = 0x18;		/* ACK PSH */
		break;
	case 3: {				/* one header byte changed */
		size_t pos = fz_u8(f) % hdrs;

		out[pos] ^= fz_u8(f);
		break;
	}
	}
	if (!(op & 0x20))
		pkt_fix_csums(out, len);
	return len;
}

static void batch_build(struct batch *b, struct fz *f)
{
	uint8_t tmp[MAX_LEN];

	b->n = 0;
	b->need = 0;
	while (f->left && b->n < MAX_PKTS) {
		uint8_t op = fz_u8(f);
		size_t len = 0, got;
		const uint8_t *raw;

		switch (op & 3) {
		case 0:		/* raw bytes */
		case 1:		/* raw bytes, checksums made valid */
			raw = fz_bytes(f, fz_u16(f) % MAX_LEN, &got);
			memcpy(tmp, raw, got);
			len = got;
			if (op & 3)
				pkt_fix_csums(tmp, len);
			break;
		case 2:		/* a fresh segment */
			len = pkt_make_tcp(tmp, op >> 2 & 1, fz_u8(f) & 3,
					   fz_u32(f), fz_u16(f) % 1400,
					   op >> 3 & 1, op >> 4 & 1);
			break;
		default:	/* continue an earlier packet's flow */
			if (b->n == 0)
				continue;
			{
				int k = b->n - 1 - fz_u8(f) % b->n;

				len = derive(f, b->in[k].data, b->in[k].len,
					     tmp, op);
			}
			break;
		}
		/* Exact-size copies; an empty packet may even be NULL. */
		b->mem[b->n] = len ? fz_dup(tmp, len) : NULL;
		b->in[b->n].data = b->mem[b->n];
		b->in[b->n].len = len;
		b->need += GRO_VNET_HDR_LEN + len;
		b->n++;
	}
}

/* Input index of the first unused packet equal to p (IPv4 id and header
 * checksum ignored if masked), or -1. */
static int match(const struct batch *b, const uint8_t *used, const uint8_t *p,
		 size_t len, int masked)
{
	for (int i = 0; i < b->n; i++) {
		const uint8_t *q = b->in[i].data;

		if (used[i] || b->in[i].len != len)
			continue;
		if (!masked) {
			if (len == 0 || memcmp(p, q, len) == 0)
				return i;
			continue;
		}
		if (memcmp(p, q, 4) == 0 && memcmp(p + 6, q + 6, 4) == 0 &&
		    memcmp(p + 12, q + 12, len - 12) == 0)
			return i;
	}
	return -1;
}

static int all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

/* Cuts merged write w back into segments and matches each to the input. */
static int check_merged(const struct batch *b, uint8_t *used,
			const uint8_t *w, size_t wlen)
{
	const uint8_t *pkt = w + GRO_VNET_HDR_LEN;
	size_t len = wlen - GRO_VNET_HDR_LEN, iphl, hdrs, gso, stride;
	size_t seg_len[GRO_MAX_SEGS];
	int v6, nseg, first = -1, last = -1;
	uint8_t *segs;

	FZ_CHECK(w[0] == 1);			/* NEEDS_CSUM */
	FZ_CHECK(w[1] == 1 || w[1] == 4);	/* TCPV4, TCPV6 */
	v6 = w[1] == 4;
	FZ_CHECK(tcp_layout(pkt, len, &iphl, &hdrs) == 0);
	FZ_CHECK((pkt[0] >> 4) == (v6 ? 6 : 4));
	FZ_CHECK((size_t)(w[2] | w[3] << 8) == hdrs);
	gso = (size_t)(w[4] | w[5] << 8);
	FZ_CHECK((size_t)(w[6] | w[7] << 8) == iphl && (w[8] | w[9] << 8) == 16);
	FZ_CHECK(gso > 0 && len - hdrs > gso);	/* at least two segments */
	if (v6)
		FZ_CHECK(pkt_be16(pkt + 4) + 40u == len);
	else
		FZ_CHECK(pkt_be16(pkt + 2) == len &&
			 pkt_fold(pkt_sum(0, pkt, iphl)) == 0xffff);
	stride = hdrs + gso;
	segs = malloc(stride * GRO_MAX_SEGS);
	FZ_CHECK(segs);
	nseg = tso_split(w, pkt, len, segs, stride, GRO_MAX_SEGS, seg_len);
	FZ_CHECK(nseg >= 2);
	for (int i = 0; i < nseg; i++) {
		int k = match(b, used, segs + (size_t)i * stride, seg_len[i], !v6);

		FZ_CHECK(k >= 0);
		FZ_CHECK(k > last);		/* a flow keeps its order */
		used[k] = 1;
		last = k;
		if (first < 0)
			first = k;
	}
	free(segs);
	return first;
}

static void check_writes(const struct batch *b, const uint8_t *buf,
			 const struct gro_out *out, int nout)
{
	uint8_t used[MAX_PKTS] = { 0 };
	size_t off = 0;
	int prev_first = -1;

	for (int i = 0; i < nout; i++) {
		const uint8_t *w = buf + out[i].off;
		int first;

		FZ_CHECK(out[i].off == off && out[i].len >= GRO_VNET_HDR_LEN);
		off += out[i].len;
		FZ_CHECK(off <= b->need);
		if (all_zero(w, GRO_VNET_HDR_LEN)) {
			first = match(b, used, w + GRO_VNET_HDR_LEN,
				      out[i].len - GRO_VNET_HDR_LEN, 0);
			FZ_CHECK(first >= 0);
			used[first] = 1;
		} else {
			first = check_merged(b, used, w, out[i].len);
		}
		FZ_CHECK(first > prev_first);
		prev_first = first;
	}
	for (int i = 0; i < b->n; i++)
		FZ_CHECK(used[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct batch b;
	struct gro_out *out, *out2;
	uint8_t *buf, *buf2;
	size_t cap2, total = 0;
	int r, r2, max_out2;
	struct fz f;

	fz_init(&f, data, size);
	cap2 = fz_u16(&f);
	max_out2 = fz_u8(&f) % (MAX_PKTS + 1);
	batch_build(&b, &f);
	if (cap2 > b.need + 64)
		cap2 %= b.need + 64;

	buf = malloc(b.need ? b.need : 1);
	out = malloc(sizeof(*out) * (size_t)(b.n ? b.n : 1));
	FZ_CHECK(buf && out);
	r = gro_coalesce(b.in, b.n, buf, b.need, out, b.n);
	FZ_CHECK(r >= 0 && r <= b.n);
	FZ_CHECK(b.n == 0 || r >= 1);
	check_writes(&b, buf, out, r);
	for (int i = 0; i < r; i++)
		total += out[i].len;

	/* The same batch with the fuzzed sizes: all or nothing. */
	buf2 = malloc(cap2 ? cap2 : 1);
	out2 = malloc(sizeof(*out2) * (size_t)(max_out2 ? max_out2 : 1));
	FZ_CHECK(buf2 && out2);
	r2 = gro_coalesce(b.in, b.n, buf2, cap2, out2, max_out2);
	if (max_out2 >= r && cap2 >= total) {
		FZ_CHECK(r2 == r);
		FZ_CHECK(memcmp(out2, out, sizeof(*out) * (size_t)r) == 0);
		FZ_CHECK(total == 0 || memcmp(buf2, buf, total) == 0);
	} else {
		FZ_CHECK(r2 == -ENOSPC);
	}

	free(out2);
	free(buf2);
	free(out);
	free(buf);
	for (int i = 0; i < b.n; i++)
		free(b.mem[i]);
	return 0;
}

static void seeds(const char *dir)
{
	/* fuzzed cap 0xffff (clamped to enough), max_out 128, then ops */
	static const uint8_t run4[] = {
		0xff, 0xff, 128,
		2, 1, 0x10, 0, 0, 0, 0xb0, 0x04,	/* v4 seg, 1200 bytes */
		3, 0, 0xb0, 0x04,			/* continue it */
		3, 0, 0xb0, 0x04,
		3 | 2 << 3, 0, 0x20, 0x03,		/* short, PSH: closes */
	};
	static const uint8_t two_flows6[] = {
		0xff, 0xff, 128,
		2 | 4 | 8, 1, 0, 0, 1, 0, 0xe8, 0x03,	/* v6 flow 1, ts option */
		2 | 4 | 8, 2, 0, 0, 9, 0, 0xe8, 0x03,	/* v6 flow 2 */
		3, 1, 0xe8, 0x03,			/* continue flow 1 */
		3, 1, 0xe8, 0x03,			/* continue flow 2 */
		3 | 3 << 3, 1, 0xe8, 0x03, 14, 0x01,	/* flow 1, one byte changed */
		1, 10, 0, 0x45, 0, 0, 10, 0, 0, 0, 0, 64, 17, /* an IPv4 UDP-ish stub */
	};

	fz_write_seed(dir, "run4", run4, sizeof(run4));
	fz_write_seed(dir, "two-flows6", two_flows6, sizeof(two_flows6));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fz_seed_mode(seeds);
	return 0;
}
