/*
 * ICMP errors for packets the overlay cannot deliver, written back into the
 * TUN so the local sender learns at once (a connect() fails with
 * EHOSTUNREACH, TCP lowers its MSS) instead of waiting on a black hole.
 * The error pretends to come from the packet's destination: the local
 * kernel then attributes it to that host, which is what applications expect
 * from an unreachable peer or a narrow link. The suppression rules are those
 * of RFC 1812 4.3.2.7 and RFC 4443 2.4(e): never answer an ICMP error, a
 * non-first fragment, or a source that does not name a single host, so two
 * nodes can never ping-pong errors at each other.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

#include "netstack/bytes.h"
#include "netstack/csum.h"
#include "routing/icmp.h"

#define IPV4_HDR 20
#define IPV6_HDR 40
#define ICMP_HDR 8
#define IPV4_ERROR_MAX 576	/* RFC 1812 4.3.2.3 */
#define IPV6_ERROR_MAX 1280	/* RFC 4443 2.4(c) */

#define PROTO_ICMP 1
#define PROTO_ICMPV6 58

/* A validated view of an inner packet's IP header. */
struct ip_view {
	int family;
	size_t hlen;		/* IPv4 header with options, or the fixed 40 */
	size_t total;		/* bytes that belong to the IP packet */
	const uint8_t *src, *dst;
};

static int ip_view_parse(const uint8_t *pkt, size_t len, struct ip_view *v)
{
	if (!pkt || len < 1)
		return -EINVAL;
	switch (pkt[0] >> 4) {
	case 4:
		if (len < IPV4_HDR)
			return -EINVAL;
		v->hlen = (size_t)(pkt[0] & 0x0f) * 4;
		v->total = be16_get(pkt + 2);
		if (v->hlen < IPV4_HDR || v->hlen > len ||
		    v->total < v->hlen || v->total > len)
			return -EINVAL;
		v->family = AF_INET;
		v->src = pkt + 12;
		v->dst = pkt + 16;
		return 0;
	case 6:
		if (len < IPV6_HDR)
			return -EINVAL;
		v->hlen = IPV6_HDR;
		v->total = IPV6_HDR + (size_t)be16_get(pkt + 4);
		if (v->total > len)
			return -EINVAL;
		v->family = AF_INET6;
		v->src = pkt + 8;
		v->dst = pkt + 24;
		return 0;
	default:
		return -EINVAL;
	}
}

int ip_packet_addrs(const uint8_t *pkt, size_t len, int *family,
		    const uint8_t **src, const uint8_t **dst)
{
	struct ip_view v;
	int r = ip_view_parse(pkt, len, &v);

	if (r)
		return r;
	if (family)
		*family = v.family;
	if (src)
		*src = v.src;
	if (dst)
		*dst = v.dst;
	return 0;
}

static bool v4_zero(const uint8_t *a)
{
	return !a[0] && !a[1] && !a[2] && !a[3];
}

/* 0/8, 127/8, and 224/3 (multicast, class E, limited broadcast) name no single host. */
static bool v4_bad_source(const uint8_t *a)
{
	return a[0] == 0 || a[0] == 127 || a[0] >= 224;
}

static bool v6_zero(const uint8_t *a)
{
	static const uint8_t zero[16];

	return memcmp(a, zero, 16) == 0;
}

/* ICMPv4 types that are queries or replies, not errors (RFC 792, 950, 1256). */
static bool icmp4_is_informational(uint8_t type)
{
	switch (type) {
	case 0: case 8: case 9: case 10:
	case 13: case 14: case 15: case 16: case 17: case 18:
		return true;
	default:
		/* Unknown types count as errors: when in doubt, stay quiet. */
		return false;
	}
}

/* 1: an error may be sent, 0: it must not, -EINVAL: malformed. */
static int v4_may_answer(const uint8_t *pkt, const struct ip_view *v)
{
	if (v4_bad_source(v->src) || v->dst[0] >= 224 || v4_zero(v->dst))
		return 0;
	if (be16_get(pkt + 6) & 0x1fff)	/* fragment offset */
		return 0;
	if (pkt[9] == PROTO_ICMP) {
		if (v->total < v->hlen + 1)
			return -EINVAL;
		if (!icmp4_is_informational(pkt[v->hlen]))
			return 0;
	}
	return 1;
}

/*
 * Walk the extension headers to the upper layer: an ICMPv6 error or
 * redirect is never answered, nor is a non-first fragment (whose upper
 * layer cannot be seen).
 */
static int v6_may_answer(const uint8_t *pkt, const struct ip_view *v)
{
	size_t off = IPV6_HDR;
	uint8_t nh = pkt[6];

	/* A multicast destination could not be the error's source address. */
	if (v6_zero(v->src) || v->src[0] == 0xff || v6_zero(v->dst) || v->dst[0] == 0xff)
		return 0;
	for (;;) {
		switch (nh) {
		case 0:		/* hop-by-hop options */
		case 43:	/* routing */
		case 60:	/* destination options */
			if (v->total - off < 2)
				return -EINVAL;
			nh = pkt[off];
			off += ((size_t)pkt[off + 1] + 1) * 8;
			break;
		case 44:	/* fragment */
			if (v->total - off < 8)
				return -EINVAL;
			if (be16_get(pkt + off + 2) & 0xfff8)
				return 0;
			nh = pkt[off];
			off += 8;
			break;
		case 51:	/* authentication header */
			if (v->total - off < 2)
				return -EINVAL;
			nh = pkt[off];
			off += ((size_t)pkt[off + 1] + 2) * 4;
			break;
		case PROTO_ICMPV6:
			if (v->total - off < 1)
				return -EINVAL;
			if (pkt[off] < 128 || pkt[off] == 137)
				return 0;
			return 1;
		default:	/* an upper layer, or no next header */
			return 1;
		}
		if (off > v->total)
			return -EINVAL;
	}
}

static int build_v4(const uint8_t *pkt, const struct ip_view *v, uint8_t code,
		    uint16_t mtu, uint8_t *out, size_t cap)
{
	size_t quote = v->total, n;
	uint8_t *icmp;

	if (quote > IPV4_ERROR_MAX - IPV4_HDR - ICMP_HDR)
		quote = IPV4_ERROR_MAX - IPV4_HDR - ICMP_HDR;
	n = IPV4_HDR + ICMP_HDR + quote;
	if (cap < n)
		return -ENOSPC;
	memset(out, 0, IPV4_HDR + ICMP_HDR);
	out[0] = 0x45;
	out[1] = 0xc0;		/* precedence "internetwork control", as routers send */
	be16_put(out + 2, (uint16_t)n);
	be16_put(out + 6, 0x4000);	/* DF: it is small; no ID is needed */
	out[8] = 64;
	out[9] = PROTO_ICMP;
	memcpy(out + 12, v->dst, 4);
	memcpy(out + 16, v->src, 4);
	csum_put(out + 10, csum_add(0, out, IPV4_HDR));

	icmp = out + IPV4_HDR;
	icmp[0] = 3;
	icmp[1] = code;
	be16_put(icmp + 6, mtu);
	memcpy(icmp + ICMP_HDR, pkt, quote);
	csum_put(icmp + 2, csum_add(0, icmp, ICMP_HDR + quote));
	return (int)n;
}

static int build_v6(const uint8_t *pkt, const struct ip_view *v, uint8_t type,
		    uint8_t code, uint32_t word, uint8_t *out, size_t cap)
{
	size_t quote = v->total, n, plen;
	uint8_t *icmp;
	uint64_t acc;

	if (quote > IPV6_ERROR_MAX - IPV6_HDR - ICMP_HDR)
		quote = IPV6_ERROR_MAX - IPV6_HDR - ICMP_HDR;
	plen = ICMP_HDR + quote;
	n = IPV6_HDR + plen;
	if (cap < n)
		return -ENOSPC;
	memset(out, 0, IPV6_HDR + ICMP_HDR);
	out[0] = 0x60;
	be16_put(out + 4, (uint16_t)plen);
	out[6] = PROTO_ICMPV6;
	out[7] = 64;
	memcpy(out + 8, v->dst, 16);
	memcpy(out + 24, v->src, 16);

	icmp = out + IPV6_HDR;
	icmp[0] = type;
	icmp[1] = code;
	be32_put(icmp + 4, word);
	memcpy(icmp + ICMP_HDR, pkt, quote);
	/* Pseudo-header: source, destination, upper-layer length, next header. */
	acc = csum_add(0, out + 8, 32);
	acc += csum_be32((uint32_t)plen);
	acc += csum_be16(PROTO_ICMPV6);
	acc = csum_add(acc, icmp, plen);
	csum_put(icmp + 2, acc);
	return (int)n;
}

/* "Destination unreachable" with the given IPv4 and IPv6 codes. */
static int icmp_unreach_code(const uint8_t *pkt, size_t len, uint8_t code4, uint8_t code6, uint8_t *out,
			     size_t cap)
{
	struct ip_view v;
	int r = ip_view_parse(pkt, len, &v);

	if (r)
		return r;
	if (v.family == AF_INET) {
		r = v4_may_answer(pkt, &v);
		if (r <= 0)
			return r;
		return build_v4(pkt, &v, code4, 0, out, cap);
	}
	r = v6_may_answer(pkt, &v);
	if (r <= 0)
		return r;
	return build_v6(pkt, &v, 1, code6, 0, out, cap);
}

int icmp_unreachable(const uint8_t *pkt, size_t len, uint8_t *out, size_t cap)
{
	return icmp_unreach_code(pkt, len, 1, 3, out, cap);
}

int icmp_prohibited(const uint8_t *pkt, size_t len, uint8_t *out, size_t cap)
{
	return icmp_unreach_code(pkt, len, 13, 1, out, cap);
}

int icmp_too_big(const uint8_t *pkt, size_t len, uint32_t mtu, uint8_t *out, size_t cap)
{
	struct ip_view v;
	int r = ip_view_parse(pkt, len, &v);

	if (r)
		return r;
	if (mtu == 0)
		return -EINVAL;
	if (v.family == AF_INET) {
		if (mtu > 0xffff)
			return -EINVAL;
		if (!(pkt[6] & 0x40))	/* no DF: the sender lets routers fragment */
			return 0;
		r = v4_may_answer(pkt, &v);
		if (r <= 0)
			return r;
		return build_v4(pkt, &v, 4, (uint16_t)mtu, out, cap);
	}
	r = v6_may_answer(pkt, &v);
	if (r <= 0)
		return r;
	return build_v6(pkt, &v, 2, 0, mtu, out, cap);
}
