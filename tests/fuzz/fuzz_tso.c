/*
 * Fuzz target for netstack/tso.c: what a TUN with IFF_VNET_HDR hands us.
 * Input: u16 segment stride, u8 max segments, the 10-byte virtio header,
 * then the packet. Segments must land inside the output buffer (sized
 * exactly max_segs * stride, so ASan sees any write past it). Beyond that,
 * every segment of a split super-packet must be a complete IP packet: its
 * IPv4 total length or IPv6 payload length matches its length, the IPv4
 * header checksum and the TCP checksum (over the pseudo-header) verify,
 * sequence numbers advance by the payload carried, and the payloads put
 * back together give the original payload. A packet that is not cut comes
 * out as it went in, but for the two checksum bytes.
 */
#include <errno.h>

#include "tests/fuzz/fuzz.h"
#include "netstack/tso.h"
#include "tests/fuzz/fuzz_pkt.h"

#define MAX_SEGS 256

/* Header lengths of the input as the kernel would see them. */
static size_t ip_hdr_len(const uint8_t *pkt, size_t len, int v6)
{
	size_t off = 40;
	uint8_t nh;

	if (!v6)
		return (size_t)(pkt[0] & 0x0f) * 4;
	nh = pkt[6];
	while (nh != 6) {	/* tso_split accepted it, so this terminates */
		nh = pkt[off];
		off += ((size_t)pkt[off + 1] + 1) * 8;
		FZ_CHECK(off <= len);
	}
	return off;
}

static void check_segments(const uint8_t *pkt, size_t len, int v6,
			   const uint8_t *out, size_t stride, int nseg,
			   const size_t *seg_len)
{
	size_t iplen = ip_hdr_len(pkt, len, v6);
	size_t doff = (size_t)(pkt[iplen + 12] >> 4) * 4, hdrs = iplen + doff;
	size_t payload = len - hdrs, off = 0;
	uint32_t seq = pkt_be32(pkt + iplen + 4);

	for (int i = 0; i < nseg; i++) {
		const uint8_t *o = out + (size_t)i * stride, *t = o + iplen;
		size_t n = seg_len[i], plen;
		uint64_t acc;
		uint8_t flags;

		FZ_CHECK(n >= hdrs && n <= stride);
		plen = n - hdrs;
		if (v6) {
			FZ_CHECK(pkt_be16(o + 4) + 40u == n);
			acc = pkt_sum(0, o + 8, 32);
		} else {
			FZ_CHECK(pkt_be16(o + 2) == n);
			FZ_CHECK(pkt_fold(pkt_sum(0, o, iplen)) == 0xffff);
			FZ_CHECK(pkt_be16(o + 4) == (uint16_t)(pkt_be16(pkt + 4) + i));
			acc = pkt_sum(0, o + 12, 8);
		}
		/* Every IP header byte but lengths, id and checksum is kept. */
		if (v6)
			FZ_CHECK(memcmp(o, pkt, 4) == 0 &&
				 memcmp(o + 6, pkt + 6, iplen - 6) == 0);
		else
			FZ_CHECK(memcmp(o, pkt, 2) == 0 &&
				 memcmp(o + 6, pkt + 6, 4) == 0 &&
				 memcmp(o + 12, pkt + 12, iplen - 12) == 0);
		/* FIN and PSH only on the last segment, CWR only on the first. */
		flags = pkt[iplen + 13];
		if (i + 1 < nseg)
			flags &= (uint8_t)~0x09;
		if (i > 0)
			flags &= (uint8_t)~0x80;
		FZ_CHECK(t[13] == flags);
		FZ_CHECK(memcmp(t + 14, pkt + iplen + 14, 2) == 0);	/* window */
		FZ_CHECK(memcmp(t + 18, pkt + iplen + 18, 2) == 0);	/* urgent */
		acc += 6 + (n - iplen);
		FZ_CHECK(pkt_fold(pkt_sum(acc, t, n - iplen)) == 0xffff);
		FZ_CHECK(pkt_be32(t + 4) == seq + (uint32_t)off);
		FZ_CHECK(memcmp(t, pkt + iplen, 4) == 0);	/* ports */
		FZ_CHECK(memcmp(t + 8, pkt + iplen + 8, 5) == 0);
		FZ_CHECK(memcmp(t + 20, pkt + iplen + 20, doff - 20) == 0);
		FZ_CHECK(off + plen <= payload);
		FZ_CHECK(memcmp(t + doff, pkt + hdrs + off, plen) == 0);
		/* All but the last carry a full gso_size; none is empty unless
		 * the whole packet is. */
		FZ_CHECK(plen > 0 || payload == 0);
		off += plen;
	}
	FZ_CHECK(off == payload);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t stride, max_segs, len, seg_len[MAX_SEGS];
	uint8_t hdr[TSO_VNET_HDR_LEN], *pkt, *out;
	struct fz f;
	int n, gso;

	fz_init(&f, data, size);
	/* Inputs are under 10 KB: a bigger stride would only slow runs down. */
	stride = fz_u16(&f) % 10000;
	max_segs = fz_u8(&f) % MAX_SEGS + 1;
	if (stride && max_segs > 262144 / stride)
		max_segs = 262144 / stride ? 262144 / stride : 1;
	for (int i = 0; i < TSO_VNET_HDR_LEN; i++)
		hdr[i] = fz_u8(&f);
	len = f.left;
	pkt = fz_dup(f.p, len);
	out = malloc(stride * max_segs ? stride * max_segs : 1);
	FZ_CHECK(out);

	n = tso_split(hdr, pkt, len, out, stride, max_segs, seg_len);
	FZ_CHECK(n == -EINVAL || n == -ENOSPC || n == -EOPNOTSUPP ||
		 (n >= 1 && (size_t)n <= max_segs));
	gso = hdr[1] & 0x7f;
	if (n >= 1 && gso == 0) {
		size_t cs = hdr[6] | hdr[7] << 8, co = hdr[8] | hdr[9] << 8;

		FZ_CHECK(n == 1 && seg_len[0] == len);
		if (hdr[0] & 1) {
			uint16_t c;

			FZ_CHECK(cs + co + 2 <= len);
			/* The field held a partial sum: it now holds the
			 * complement of the sum over csum_start..len. */
			c = (uint16_t)~pkt_fold(pkt_sum(0, pkt + cs, len - cs));
			FZ_CHECK(pkt_be16(out + cs + co) == (c ? c : 0xffff));
			FZ_CHECK(memcmp(out, pkt, cs + co) == 0);
			FZ_CHECK(memcmp(out + cs + co + 2, pkt + cs + co + 2,
					len - cs - co - 2) == 0);
		} else {
			FZ_CHECK(memcmp(out, pkt, len) == 0);
		}
	} else if (n >= 1) {
		FZ_CHECK(gso == 1 || gso == 4);
		FZ_CHECK((pkt[0] >> 4) == (gso == 1 ? 4 : 6));
		check_segments(pkt, len, gso == 4, out, stride, n, seg_len);
	}
	free(out);
	free(pkt);
	return 0;
}

static void seed(const char *dir, const char *name, int v6, size_t payload,
		 int opts, int gso_type, uint16_t gso, int csum)
{
	uint8_t buf[8192];
	size_t ip = v6 ? 40 : 20, len;

	/* stride 1500 little-endian, 16 segments */
	buf[0] = 0xdc;
	buf[1] = 0x05;
	buf[2] = 16;
	memset(buf + 3, 0, TSO_VNET_HDR_LEN);
	buf[3] = csum ? 1 : 0;
	buf[4] = (uint8_t)gso_type;
	buf[7] = (uint8_t)gso;
	buf[8] = (uint8_t)(gso >> 8);
	buf[9] = (uint8_t)ip;
	buf[11] = 16;
	/* A super-packet's TCP checksum holds the pseudo-header sum only;
	 * tso_split recomputes it anyway. */
	len = pkt_make_tcp(buf + 3 + TSO_VNET_HDR_LEN, v6, 40000, 1, payload,
			   opts, 1);
	fz_write_seed(dir, name, buf, 3 + TSO_VNET_HDR_LEN + len);
}

static void seeds(const char *dir)
{
	seed(dir, "tcp4-gso", 0, 3000, 1, 1, 1200, 1);
	seed(dir, "tcp6-gso", 1, 2500, 0, 4, 1000, 1);
	seed(dir, "tcp4-csum-only", 0, 100, 0, 0, 0, 1);
	seed(dir, "tcp6-plain", 1, 10, 1, 0, 0, 0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fz_seed_mode(seeds);
	return 0;
}
