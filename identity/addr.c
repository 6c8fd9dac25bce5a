/*
 * Overlay address derivation and the prefix type used for routed subnets in
 * certificates. Prefix parsing insists on zero host bits so that a prefix
 * has one spelling: "203.0.113.7/24" is almost always a typo for either the
 * host or the network, and a certificate must not guess which.
 */
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/hash.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "identity/addr.h"

void addr_overlay_v6(const char *identity, uint8_t out[16])
{
	uint8_t h[WC_SHA256_DIGEST_SIZE];

	wc_Sha256Hash((const byte *)identity, (word32)strlen(identity), h);
	out[0] = 0xfd;
	memcpy(out + 1, h, 15);
}

static int addr_bytes(int family)
{
	if (family == AF_INET)
		return 4;
	if (family == AF_INET6)
		return 16;
	return 0;
}

int addr_format(int family, const uint8_t *a, char *buf, size_t len)
{
	if (!addr_bytes(family))
		return -EAFNOSUPPORT;
	if (!inet_ntop(family, a, buf, (socklen_t)len))
		return -ENOSPC;
	return 0;
}

/* 1 if all bits of a from bit plen on are zero. */
static int host_bits_zero(const uint8_t *a, int nbytes, int plen)
{
	int i = plen / 8;

	if (plen % 8) {
		if (a[i] & (0xff >> (plen % 8)))
			return 0;
		i++;
	}
	for (; i < nbytes; i++)
		if (a[i])
			return 0;
	return 1;
}

int addr_prefix_valid(const struct addr_prefix *p)
{
	int nb = addr_bytes(p->family);

	if (!nb || p->plen > nb * 8)
		return 0;
	if (nb == 4 && (p->addr[4] || memcmp(p->addr + 4, p->addr + 5, 11)))
		return 0;
	return host_bits_zero(p->addr, nb, p->plen);
}

int addr_prefix_parse(const char *s, struct addr_prefix *out)
{
	char buf[INET6_ADDRSTRLEN + 1];
	const char *slash;
	size_t n, alen;
	int plen = -1, nb;
	struct addr_prefix p;

	if (!s)
		return -EINVAL;
	n = strnlen(s, sizeof(buf) + 4);
	if (n > sizeof(buf) + 3)
		return -EINVAL;
	slash = memchr(s, '/', n);
	alen = slash ? (size_t)(slash - s) : n;
	if (alen == 0 || alen >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, alen);
	buf[alen] = '\0';

	memset(&p, 0, sizeof(p));
	if (inet_pton(AF_INET, buf, p.addr) == 1)
		p.family = AF_INET;
	else if (inet_pton(AF_INET6, buf, p.addr) == 1)
		p.family = AF_INET6;
	else
		return -EINVAL;
	nb = addr_bytes(p.family);

	if (slash) {
		const char *d = slash + 1;
		size_t dl = n - alen - 1;

		/* Decimal, 1-3 digits, no sign, no leading zero. */
		if (dl == 0 || dl > 3 || (dl > 1 && d[0] == '0'))
			return -EINVAL;
		plen = 0;
		for (size_t i = 0; i < dl; i++) {
			if (d[i] < '0' || d[i] > '9')
				return -EINVAL;
			plen = plen * 10 + (d[i] - '0');
		}
		if (plen > nb * 8)
			return -EINVAL;
	} else {
		plen = nb * 8;
	}
	p.plen = (uint8_t)plen;
	if (!host_bits_zero(p.addr, nb, plen))
		return -EINVAL;
	if (out)
		*out = p;
	return 0;
}

int addr_prefix_format(const struct addr_prefix *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	int rc, n;

	if (!addr_prefix_valid(p))
		return -EINVAL;
	rc = addr_format(p->family, p->addr, a, sizeof(a));
	if (rc)
		return rc;
	n = snprintf(buf, len, "%s/%u", a, p->plen);
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	return 0;
}

int addr_prefix_contains(const struct addr_prefix *p, int family,
			 const uint8_t *a)
{
	int whole, rest;

	if (p->family != family)
		return 0;
	whole = p->plen / 8;
	rest = p->plen % 8;
	if (memcmp(p->addr, a, (size_t)whole))
		return 0;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));

		if ((p->addr[whole] ^ a[whole]) & mask)
			return 0;
	}
	return 1;
}
