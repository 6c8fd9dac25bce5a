/*
 * Software segmentation of TCP super-packets read from a TUN with
 * IFF_VNET_HDR, and completion of offloaded checksums, done the way the
 * kernel's tcp_gso_segment and skb_checksum_help would have done them had we
 * not asked for the offload. The point of the offload is one read() per
 * 64 KB instead of per 1280 bytes; the price is this pass, so each segment's
 * payload is summed while it is copied (one pass over the bytes).
 *
 * Checksums are summed in host byte order over 32-bit loads into a 64-bit
 * accumulator (RFC 1071: the one's-complement sum is byte-order independent
 * once folded and stored back the same way), so no byte is swapped in the
 * inner loop. Constants added to a sum (lengths, protocol) are first laid out
 * as big-endian bytes and loaded the same way.
 *
 * Nothing in the virtio header is trusted beyond selecting the operation:
 * header lengths come from the IP and TCP headers, checked against len, and
 * the TCP checksum is recomputed from the IP addresses, not adjusted from the
 * partial sum the kernel left in the packet.
 */
#include <errno.h>
#include <string.h>

#include "netstack/bytes.h"
#include "netstack/csum.h"
#include "netstack/tso.h"

/* struct virtio_net_hdr, <linux/virtio_net.h>; spelled out so the parser
 * reads bytes rather than casting the buffer. */
#define VNET_F_NEEDS_CSUM	0x01
#define VNET_F_DATA_VALID	0x02
#define VNET_GSO_NONE		0
#define VNET_GSO_TCPV4		1
#define VNET_GSO_TCPV6		4
#define VNET_GSO_ECN		0x80

#define TCP_FIN			0x01
#define TCP_SYN			0x02
#define TCP_RST			0x04
#define TCP_PSH			0x08
#define TCP_CWR			0x80

#define IPPROTO_TCP_NUM		6
#define TCP_CSUM_OFF		16
/* More IPv6 extension headers than this before TCP is not a real packet. */
#define IP6_MAX_EXT		8

struct vnet {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
};

static void vnet_parse(const uint8_t *h, struct vnet *v)
{
	v->flags = h[0];
	v->gso_type = h[1];
	/* h[2..3] is hdr_len: a hint about the linear part, deliberately unused. */
	v->gso_size = le16_get(h + 4);
	v->csum_start = le16_get(h + 6);
	v->csum_offset = le16_get(h + 8);
}

/*
 * Source-route options make the TCP pseudo-header use the final destination,
 * not the header's; we would compute a wrong checksum, so refuse them.
 * Returns 0, -EINVAL for malformed options, -EOPNOTSUPP for LSRR/SSRR.
 */
static int ip4_options_check(const uint8_t *opt, size_t n)
{
	while (n > 0) {
		uint8_t type = opt[0];
		size_t olen;

		if (type == 0)			/* end of list */
			return 0;
		if (type == 1) {		/* no-op */
			opt++;
			n--;
			continue;
		}
		if (n < 2)
			return -EINVAL;
		olen = opt[1];
		if (olen < 2 || olen > n)
			return -EINVAL;
		if (type == 0x83 || type == 0x89)
			return -EOPNOTSUPP;
		opt += olen;
		n -= olen;
	}
	return 0;
}

/* IPv4 header of a TCP super-packet: its length in *iplen, or -errno. */
static int ip4_parse(const uint8_t *pkt, size_t len, size_t *iplen)
{
	size_t ihl;
	uint16_t frag;

	if (len < 20 || pkt[0] >> 4 != 4)
		return -EINVAL;
	ihl = (size_t)(pkt[0] & 0x0f) * 4;
	if (ihl < 20 || ihl > len)
		return -EINVAL;
	if (be16_get(pkt + 2) != len)
		return -EINVAL;
	frag = be16_get(pkt + 6);
	if (frag & 0xbfff)			/* reserved bit, MF, offset */
		return -EINVAL;
	if (pkt[9] != IPPROTO_TCP_NUM)
		return -EINVAL;
	*iplen = ihl;
	return ip4_options_check(pkt + 20, ihl - 20);
}

/* IPv6 header and any hop-by-hop / destination options before TCP. */
static int ip6_parse(const uint8_t *pkt, size_t len, size_t *iplen)
{
	size_t off = 40;
	uint8_t nh;

	if (len < 40 || pkt[0] >> 4 != 6)
		return -EINVAL;
	if ((size_t)be16_get(pkt + 4) + 40 != len)
		return -EINVAL;
	nh = pkt[6];
	for (int i = 0; nh != IPPROTO_TCP_NUM; i++) {
		size_t elen;

		if (i == IP6_MAX_EXT)
			return -EINVAL;
		switch (nh) {
		case 0:				/* hop-by-hop options */
		case 60:			/* destination options */
			break;
		case 43:			/* routing: pseudo-header dst changes */
			return -EOPNOTSUPP;
		default:			/* fragment, or not TCP at all */
			return -EINVAL;
		}
		if (len - off < 2)
			return -EINVAL;
		elen = ((size_t)pkt[off + 1] + 1) * 8;
		if (elen > len - off)
			return -EINVAL;
		nh = pkt[off];
		off += elen;
	}
	*iplen = off;
	return 0;
}

static int split_none(const struct vnet *v, const uint8_t *pkt, size_t len,
		      uint8_t *out, size_t seg_stride, size_t max_segs,
		      size_t *seg_len)
{
	unsigned int ver;
	uint16_t c;

	if (v->gso_type != VNET_GSO_NONE || len == 0)
		return -EINVAL;
	ver = pkt[0] >> 4;
	if (!((ver == 4 && len >= 20) || (ver == 6 && len >= 40)))
		return -EINVAL;
	if (v->flags & VNET_F_NEEDS_CSUM) {
		if (v->csum_start >= len || len - v->csum_start < 2 ||
		    v->csum_offset > len - v->csum_start - 2 ||
		    (v->csum_offset & 1))
			return -EINVAL;
	}
	if (max_segs < 1 || seg_stride < len)
		return -ENOSPC;
	memcpy(out, pkt, len);
	if (v->flags & VNET_F_NEEDS_CSUM) {
		/* The field holds the pseudo-header sum, so it is summed too. */
		c = (uint16_t)~csum_fold(csum_add(0, out + v->csum_start,
						  len - v->csum_start));
		if (c == 0)
			c = 0xffff;
		memcpy(out + v->csum_start + v->csum_offset, &c, 2);
	}
	seg_len[0] = len;
	return 1;
}

static int split_tcp(const struct vnet *v, int ver, const uint8_t *pkt,
		     size_t len, uint8_t *out, size_t seg_stride,
		     size_t max_segs, size_t *seg_len)
{
	const uint8_t *th;
	size_t iplen = 0, doff, hdrs, payload, nseg, first, off;
	uint64_t pseudo;
	uint32_t seq;
	uint16_t id;
	uint8_t flags;
	int r;

	r = ver == 4 ? ip4_parse(pkt, len, &iplen) : ip6_parse(pkt, len, &iplen);
	if (r < 0)
		return r;
	if (len - iplen < 20)
		return -EINVAL;
	th = pkt + iplen;
	doff = (size_t)(th[12] >> 4) * 4;
	if (doff < 20 || doff > len - iplen)
		return -EINVAL;
	if ((v->flags & VNET_F_NEEDS_CSUM) &&
	    (v->csum_start != iplen || v->csum_offset != TCP_CSUM_OFF))
		return -EINVAL;
	if (v->gso_size == 0)
		return -EINVAL;
	hdrs = iplen + doff;
	payload = len - hdrs;
	nseg = payload ? (payload + v->gso_size - 1) / v->gso_size : 1;
	flags = th[13];
	/* SYN takes a sequence number of its own: cutting would misnumber. */
	if (nseg > 1 && (flags & (TCP_SYN | TCP_RST)))
		return -EINVAL;
	if (nseg > max_segs)
		return -ENOSPC;
	first = payload < v->gso_size ? payload : v->gso_size;
	if (seg_stride < hdrs + first)
		return -ENOSPC;

	if (ver == 4)
		pseudo = csum_add(0, pkt + 12, 8);
	else
		pseudo = csum_add(0, pkt + 8, 32);
	pseudo += csum_be16(IPPROTO_TCP_NUM);
	seq = be32_get(th + 4);
	id = be16_get(pkt + 4);

	off = 0;
	for (size_t i = 0; i < nseg; i++) {
		uint8_t *o = out + i * seg_stride, *t = o + iplen;
		size_t plen = payload - off < v->gso_size ? payload - off :
			      v->gso_size;
		size_t seglen = hdrs + plen;
		uint8_t f = flags;
		uint64_t acc;

		memcpy(o, pkt, hdrs);
		if (ver == 4) {
			be16_put(o + 2, (uint16_t)seglen);
			be16_put(o + 4, (uint16_t)(id + i));
			o[10] = o[11] = 0;
			csum_put(o + 10, csum_add(0, o, iplen));
		} else {
			be16_put(o + 4, (uint16_t)(seglen - 40));
		}
		be32_put(t + 4, seq + (uint32_t)off);
		if (i + 1 < nseg)
			f &= (uint8_t)~(TCP_FIN | TCP_PSH);
		if (i > 0)
			f &= (uint8_t)~TCP_CWR;
		t[13] = f;
		t[TCP_CSUM_OFF] = t[TCP_CSUM_OFF + 1] = 0;
		acc = pseudo + csum_be16((uint16_t)(doff + plen));
		acc = csum_add(acc, t, doff);
		acc = csum_copy(acc, t + doff, pkt + hdrs + off, plen);
		csum_put(t + TCP_CSUM_OFF, acc);
		seg_len[i] = seglen;
		off += plen;
	}
	return (int)nseg;
}

int tso_split(const uint8_t *vnet_hdr, const uint8_t *pkt, size_t len,
	      uint8_t *out, size_t seg_stride, size_t max_segs, size_t *seg_len)
{
	struct vnet v;

	if (!vnet_hdr || !pkt || !out || !seg_len)
		return -EINVAL;
	vnet_parse(vnet_hdr, &v);
	if (v.flags & ~(VNET_F_NEEDS_CSUM | VNET_F_DATA_VALID))
		return -EINVAL;
	switch (v.gso_type & ~VNET_GSO_ECN) {
	case VNET_GSO_NONE:
		return split_none(&v, pkt, len, out, seg_stride, max_segs,
				  seg_len);
	case VNET_GSO_TCPV4:
		return split_tcp(&v, 4, pkt, len, out, seg_stride, max_segs,
				 seg_len);
	case VNET_GSO_TCPV6:
		return split_tcp(&v, 6, pkt, len, out, seg_stride, max_segs,
				 seg_len);
	default:
		return -EOPNOTSUPP;
	}
}

int tso_cap_mss(uint8_t vnet_hdr[TSO_VNET_HDR_LEN], const uint8_t *pkt, size_t len, size_t max_pkt)
{
	uint8_t type = vnet_hdr[1] & ~VNET_GSO_ECN;
	size_t cs = le16_get(vnet_hdr + 6), hdrs, mss;

	if (type != VNET_GSO_TCPV4 && type != VNET_GSO_TCPV6)
		return 0;
	if (cs > len || len - cs < 20)
		return 0;		/* malformed: tso_split says so */
	hdrs = cs + (size_t)(pkt[cs + 12] >> 4) * 4;
	if (max_pkt < hdrs + TSO_MSS_MIN)
		return 0;
	mss = max_pkt - hdrs;
	if (le16_get(vnet_hdr + 4) <= mss)
		return 0;
	vnet_hdr[4] = (uint8_t)mss;
	vnet_hdr[5] = (uint8_t)(mss >> 8);
	return 1;
}

void tso_hdr_none(uint8_t hdr[TSO_VNET_HDR_LEN])
{
	memset(hdr, 0, TSO_VNET_HDR_LEN);
}
