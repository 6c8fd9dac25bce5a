/*
 * The overlay routing table: longest-prefix match from an inner IPv4 or IPv6
 * destination to an opaque peer handle. The table never looks inside a peer
 * handle and never frees one; the caller owns the peers and must remove a
 * peer's prefixes (route_table_remove_peer) before freeing it. Addresses are
 * raw network-order bytes (4 for AF_INET, 16 for AF_INET6). Not thread-safe:
 * the daemon's single event loop owns it.
 */
#ifndef Q2Q_ROUTING_TABLE_H
#define Q2Q_ROUTING_TABLE_H

#include <stddef.h>
#include <stdint.h>

struct route_table;

/* Allocate an empty table into *out. 0 or -ENOMEM. Free with route_table_free. */
int route_table_init(struct route_table **out);
void route_table_free(struct route_table *t);

/*
 * Map family/addr/plen to peer. An identical prefix is replaced (the count
 * does not grow); host bits beyond plen are ignored. 0, -EAFNOSUPPORT for a
 * family other than AF_INET/AF_INET6, -EINVAL for plen beyond 32/128 or a
 * NULL peer (NULL means "no route"), -ENOMEM.
 */
int route_table_insert(struct route_table *t, int family, const uint8_t *addr,
		       uint8_t plen, void *peer);

/* Remove exactly this prefix (host bits ignored). 0, -ENOENT if absent, -EAFNOSUPPORT, -EINVAL. */
int route_table_remove(struct route_table *t, int family, const uint8_t *addr,
		       uint8_t plen);

/* Drop every prefix, of both families, that maps to peer. */
void route_table_remove_peer(struct route_table *t, void *peer);

/* The peer of the longest prefix containing addr, or NULL (also for a bad family). */
void *route_table_lookup(const struct route_table *t, int family, const uint8_t *addr);

/* Number of prefixes held, both families together. */
size_t route_table_count(const struct route_table *t);

/*
 * Call cb for every prefix (IPv4 first, then IPv6, each in address order,
 * shorter prefixes before longer ones at the same address). addr points at
 * the masked prefix, valid only during the call. The table must not be
 * changed from inside cb. A non-zero return from cb stops the walk and is
 * returned; otherwise 0.
 */
int route_table_walk(const struct route_table *t,
		     int (*cb)(int family, const uint8_t *addr, uint8_t plen,
			       void *peer, void *arg),
		     void *arg);

#endif
