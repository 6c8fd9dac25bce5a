/*
 * Overlay addresses and prefixes. An identity's IPv6 overlay address is
 * derived from its name, so any peer can check it without asking anyone:
 * fd00::/8 followed by the first 15 bytes of SHA-256(identity).
 */
#ifndef Q2Q_IDENTITY_ADDR_H
#define Q2Q_IDENTITY_ADDR_H

#include <stddef.h>
#include <stdint.h>

struct addr_prefix {
	int family;             /* AF_INET or AF_INET6 */
	uint8_t addr[16];       /* AF_INET uses addr[0..3]; host bits are zero */
	uint8_t plen;
};

/* fd || first 15 bytes of SHA-256 of the identity string's bytes. */
void addr_overlay_v6(const char *identity, uint8_t out[16]);
/* inet_ntop wrapper: 0, -EAFNOSUPPORT or -ENOSPC. */
int addr_format(int family, const uint8_t *a, char *buf, size_t len);
/*
 * "203.0.113.0/24", "fd00::/8"; a bare address is a host prefix (/32,
 * /128). Host bits must be zero. Returns 0 or -EINVAL.
 */
int addr_prefix_parse(const char *s, struct addr_prefix *out);
/* Always "addr/plen". 0, -EINVAL or -ENOSPC. */
int addr_prefix_format(const struct addr_prefix *p, char *buf, size_t len);
/* 1 if a (of family) lies inside p, else 0. */
int addr_prefix_contains(const struct addr_prefix *p, int family,
			 const uint8_t *a);
/* 1 if p is a well-formed prefix (known family, plen in range, host bits 0). */
int addr_prefix_valid(const struct addr_prefix *p);

#endif
