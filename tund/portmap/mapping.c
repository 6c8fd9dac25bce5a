/*
 * The checks and arithmetic of mapping.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tund/portmap/mapping.h"

int mapping_check(const uint8_t a[4], uint16_t port, uint32_t lifetime, char *why, size_t whylen)
{
	const char *bad = NULL;

	if (a[0] == 0)
		bad = "an unspecified or 0.0.0.0/8 address";
	else if (a[0] == 127)
		bad = "a loopback address";
	else if (a[0] >= 224)
		bad = "a multicast, reserved or broadcast address";
	else if (a[0] == 169 && a[1] == 254)
		bad = "a link-local address";
	else if (port == 0)
		bad = "port 0";
	else if (lifetime == 0)
		bad = "lifetime 0 (no mapping)";
	if (!bad)
		return 0;
	snprintf(why, whylen, "the gateway granted %s", bad);
	return -EINVAL;
}

uint32_t mapping_renew_after(uint32_t lifetime)
{
	if (lifetime > MAPPING_LIFETIME_MAX)
		lifetime = MAPPING_LIFETIME_MAX;
	lifetime /= 2;
	return lifetime < MAPPING_RENEW_MIN ? MAPPING_RENEW_MIN : lifetime;
}

/* Lines: "Iface Destination Gateway Flags ..." with hex fields in host
 * order of the kernel's network-order u32.
 * The default route is destination 0, mask 0, flags RTF_UP|RTF_GATEWAY;
 * the first one wins, as the kernel's lowest metric comes first. */
int mapping_gateway_parse(const char *text, size_t len, uint8_t gw[4])
{
	const char *p = text, *end = text + len;

	/* The header line. */
	while (p < end && *p != '\n')
		p++;
	while (p < end) {
		char line[256], ifn[32];
		unsigned long dst, g, flags, mask;
		const char *nl;
		size_t n;

		p++;
		for (nl = p; nl < end && *nl != '\n'; nl++)
			;
		n = (size_t)(nl - p);
		if (n >= sizeof(line)) {
			p = nl;
			continue;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		p = nl;
		if (sscanf(line, "%31s %lx %lx %lx %*s %*s %*s %lx", ifn, &dst, &g, &flags, &mask) != 5)
			continue;
		if (dst != 0 || mask != 0 || (flags & 0x3) != 0x3 || g == 0 || g > 0xffffffffUL)
			continue;
		{
			/* The kernel prints the network-order u32 as a host
			 * integer: its bytes in memory are the address. */
			uint32_t raw = (uint32_t)g;
			memcpy(gw, &raw, 4);
		}
		return 0;
	}
	return -ENOENT;
}
