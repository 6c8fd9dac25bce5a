/*
 * The checks of endpoint.h, in the order that names the most specific
 * reason: what can never be anyone's endpoint first, then whether it can
 * be this node's.
 */
#include <string.h>

#include "tund/authority/endpoint.h"

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static int v4_in(const uint8_t *a, uint32_t net, int plen)
{
	uint32_t x = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
	uint32_t mask = plen ? ~0u << (32 - plen) : 0;

	return (x & mask) == net;
}

static enum endpoint_verdict endpoint_check_v4(const uint8_t *a, const uint8_t observed[16])
{
	if (v4_in(a, 0x00000000, 32))
		return ENDPOINT_UNSPECIFIED;
	if (v4_in(a, 0x7f000000, 8))
		return ENDPOINT_LOOPBACK;
	if (v4_in(a, 0xffffffff, 32))
		return ENDPOINT_BROADCAST;
	if (v4_in(a, 0xe0000000, 4))
		return ENDPOINT_MULTICAST;
	if (v4_in(a, 0xa9fe0000, 16))
		return ENDPOINT_LINK_LOCAL;
	if (v4_in(a, 0x00000000, 8) || v4_in(a, 0xf0000000, 4))
		return ENDPOINT_RESERVED;
	if (memcmp(observed, v4mapped, 12) == 0 && memcmp(observed + 12, a, 4) == 0)
		return ENDPOINT_OK;
	if (v4_in(a, 0x0a000000, 8) || v4_in(a, 0xac100000, 12) || v4_in(a, 0xc0a80000, 16) ||
	    v4_in(a, 0x64400000, 10) || v4_in(a, 0xc6120000, 15))
		return ENDPOINT_OK;
	return ENDPOINT_NOT_OWN;
}

enum endpoint_verdict endpoint_check(const uint8_t ep[18], const uint8_t observed[16])
{
	static const uint8_t zero[16];

	if (ep[16] == 0 && ep[17] == 0)
		return ENDPOINT_PORT_ZERO;
	if (memcmp(ep, v4mapped, 12) == 0)
		return endpoint_check_v4(ep + 12, observed);
	if (memcmp(ep, zero, 16) == 0)
		return ENDPOINT_UNSPECIFIED;
	if (memcmp(ep, zero, 15) == 0 && ep[15] == 1)
		return ENDPOINT_LOOPBACK;
	if (ep[0] == 0xff)
		return ENDPOINT_MULTICAST;
	if (ep[0] == 0xfe && (ep[1] & 0xc0) == 0x80)
		return ENDPOINT_LINK_LOCAL;
	/* ::/96 (IPv4-compatible, deprecated) and other ::/8 forms are not
	 * unicast addresses a host is reached at. */
	if (ep[0] == 0)
		return ENDPOINT_RESERVED;
	if (memcmp(observed, v4mapped, 12) != 0 && memcmp(ep, observed, 8) == 0)
		return ENDPOINT_OK;
	if ((ep[0] & 0xfe) == 0xfc)
		return ENDPOINT_OK;
	return ENDPOINT_NOT_OWN;
}

const char *endpoint_why(enum endpoint_verdict v)
{
	static const char *const why[] = {
		[ENDPOINT_OK] = "acceptable",
		[ENDPOINT_PORT_ZERO] = "port 0",
		[ENDPOINT_UNSPECIFIED] = "unspecified address",
		[ENDPOINT_LOOPBACK] = "loopback address",
		[ENDPOINT_MULTICAST] = "multicast address",
		[ENDPOINT_BROADCAST] = "broadcast address",
		[ENDPOINT_LINK_LOCAL] = "link-local address (no scope)",
		[ENDPOINT_RESERVED] = "reserved address",
		[ENDPOINT_NOT_OWN] = "public address other than the one the node connects from",
	};

	if ((unsigned)v >= sizeof(why) / sizeof(why[0]) || !why[v])
		return "invalid";
	return why[v];
}
