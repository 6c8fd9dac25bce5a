/*
 * Which UDP endpoints the authority passes on for a node. A node reports
 * its addresses in REGISTER and the authority forwards them to every peer
 * that looks it up, each of which then sends PUNCH datagrams to all of
 * them for seconds: an endpoint the node made up turns the peers into a
 * reflector aimed at someone else. So only endpoints that can be the
 * node's own are kept: the address its connection comes from (any port:
 * a port mapping may differ from the local port), another address of the
 * same IPv6 /64, and addresses of the ranges that are private by
 * definition (RFC 1918, RFC 6598 shared space, RFC 2544 benchmark space,
 * RFC 4193 unique local), which is where LAN candidates live when two
 * nodes sit behind the same NAT. Pure: bytes in, verdict out.
 */
#ifndef Q2Q_ENDPOINT_H
#define Q2Q_ENDPOINT_H

#include <stdint.h>

enum endpoint_verdict {
	ENDPOINT_OK,
	ENDPOINT_PORT_ZERO,
	ENDPOINT_UNSPECIFIED,
	ENDPOINT_LOOPBACK,
	ENDPOINT_MULTICAST,
	ENDPOINT_BROADCAST,
	ENDPOINT_LINK_LOCAL,	/* needs a scope an endpoint cannot carry */
	ENDPOINT_RESERVED,	/* 0.0.0.0/8, 240.0.0.0/4, ::/96 forms */
	ENDPOINT_NOT_OWN,	/* public, but not where the node is seen */
};

/* ep: 16-byte IPv6 address (v4-mapped for IPv4) || port, big-endian, as
 * on the wire (tund/link/proto.h); observed: the address the node's
 * connection comes from, the same form. */
enum endpoint_verdict endpoint_check(const uint8_t ep[18], const uint8_t observed[16]);

/* Words for a log line ("loopback", "port 0", ...); static storage. */
const char *endpoint_why(enum endpoint_verdict v);

#endif
