/*
 * Whether what a gateway granted can be a candidate, and when to renew
 * it. Whatever protocol answered (PCP, NAT-PMP), the router is untrusted:
 * an address that can never be anyone's endpoint, port 0 or a zero
 * lifetime is refused, and a huge lifetime is capped so a router cannot
 * make us forget to renew. A mapping that passes but does not forward
 * costs a candidate that never answers. Pure.
 */
#ifndef Q2Q_MAPPING_H
#define Q2Q_MAPPING_H

#include <stddef.h>
#include <stdint.h>

#define MAPPING_LIFETIME_ASK	7200	/* seconds we ask for (RFC 6887 suggests 2 h) */
#define MAPPING_LIFETIME_MAX	86400	/* longer grants are treated as this */
#define MAPPING_RENEW_MIN	5	/* never renew more often than this */

/* addr: 4 bytes of IPv4. 0 if usable; else -EINVAL with why. */
int mapping_check(const uint8_t addr[4], uint16_t port, uint32_t lifetime, char *why, size_t whylen);

/* Seconds after a grant of lifetime seconds to renew it: half of it
 * (RFC 6887 11.2.1: between 1/2 and 5/8), capped and at least
 * MAPPING_RENEW_MIN. */
uint32_t mapping_renew_after(uint32_t lifetime);

/* The IPv4 default gateway in the text of /proc/net/route: 0 with *gw (4
 * bytes, network order) or -ENOENT. */
int mapping_gateway_parse(const char *text, size_t len, uint8_t gw[4]);

#endif
