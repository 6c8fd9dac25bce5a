/*
 * Whether this host's own underlay addresses clash with the overlay's
 * ranges, decided before `up` installs q2q's routes. q2q's table sends
 * the whole pool (and fd00::/8) into q2q0 ahead of the main table; that
 * is harmless to the engine's own traffic when its sockets skip the table
 * (a uid rule, tund/priv/priv.h), so an underlay inside the pool (behind
 * a carrier-grade NAT) works. It is a clash that cannot be resolved when
 * an underlay address is the node's own overlay address, or when the
 * engine's sockets cannot skip the table and an underlay prefix overlaps
 * an overlay range: then its authority and peers would be routed into
 * the tunnel that needs them. Pure: no I/O.
 */
#ifndef Q2Q_ROUTING_CLASH_H
#define Q2Q_ROUTING_CLASH_H

#include <stdint.h>

struct clash_pfx {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t addr[16];	/* AF_INET uses addr[0..3] */
	uint8_t plen;
};

enum clash_kind { CLASH_NONE = 0, CLASH_SAME_ADDR, CLASH_OVERLAP };

/*
 * Checks the n underlay addresses (the host's, without q2q0's and the
 * loopback's) against the overlay ranges ranges[0..nr) and the node's own
 * overlay addresses own[0..no). exempt: the engine's sockets skip q2q's
 * table. Returns the kind of the first clash and its index in under (in
 * *which), or CLASH_NONE. *range gets the index of the overlapping range.
 */
enum clash_kind clash_find(const struct clash_pfx *under, int n, const struct clash_pfx *ranges,
			   int nr, const struct clash_pfx *own, int no, int exempt, int *which,
			   int *range);

/* addr/plen lies wholly inside the space an IPv4 pool may take: never
 * routed on the public internet (100.64.0.0/10 RFC 6598, 198.18.0.0/15
 * RFC 2544, 10/8, 172.16/12, 192.168/16 RFC 1918). The privileged part
 * routes nothing else into q2q0; the authority's config takes nothing
 * else as its pool. */
#define CLASH_POOL_SPACE_TEXT "100.64.0.0/10, 198.18.0.0/15, 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16"
int clash_pool_space(const uint8_t addr[4], int plen);

/* The two prefixes share an address (same family). */
int clash_overlap(const struct clash_pfx *a, const struct clash_pfx *b);

#endif
