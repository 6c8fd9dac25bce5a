/*
 * Interface configuration over rtnetlink (libmnl): link state and MTU,
 * addresses, and routes on the overlay interface. Each call opens its own
 * NETLINK_ROUTE socket, sends one request, waits for the kernel's answer
 * and closes; the daemon configures rarely, so no socket is kept. All
 * return 0 or the kernel's -errno. Addresses are raw network-order bytes
 * (4 for AF_INET, 16 for AF_INET6). Needs CAP_NET_ADMIN except the lookups.
 */
#ifndef Q2Q_ROUTING_NETLINK_H
#define Q2Q_ROUTING_NETLINK_H

#include <stdint.h>

/* Interface index of ifname (> 0), or -ENODEV; -EINVAL for a bad name. */
int nl_link_index(const char *ifname);

/*
 * Set the link up (up != 0) or down, and its MTU unless mtu <= 0. Going
 * up also sets the transmit queue to NL_LINK_TXQLEN packets: a TUN
 * device's default of 500 overflows (and drops) while the daemon is busy
 * sealing a batch, measured in bench/ with UDP at 200 Mbit/s.
 */
#define NL_LINK_TXQLEN	1000
int nl_link_set(int ifindex, int up, int mtu);

int nl_link_delete(int ifindex);

/*
 * Add addr/plen to the interface (the kernel adds the prefix route).
 * Fails with -EEXIST if present. IPv6 addresses get IFA_F_NODAD so they are
 * usable at once; the link must be up for the kernel to accept one, and the
 * call waits (up to 1 s) until the kernel delivers packets sent to it.
 */
int nl_addr_add(int ifindex, int family, const uint8_t *addr, uint8_t plen);
int nl_addr_del(int ifindex, int family, const uint8_t *addr, uint8_t plen);

/*
 * Route dst/plen through the interface in routing table `table` (254 is
 * the main table; local 255, default 253 and 0 are refused with -EINVAL),
 * scope link, protocol RTPROT_STATIC. Host bits of dst are ignored.
 * -EEXIST if present.
 */
int nl_route_add(int ifindex, int family, const uint8_t *dst, uint8_t plen, uint32_t table);
int nl_route_del(int ifindex, int family, const uint8_t *dst, uint8_t plen, uint32_t table);

/*
 * A throw route for dst/plen in `table` (not main, local, default or 0):
 * a lookup that matches it leaves the table and goes on with the next
 * policy rule. Not tied to an interface, so it outlives one; delete it.
 */
int nl_route_throw_add(int family, const uint8_t *dst, uint8_t plen, uint32_t table);
int nl_route_throw_del(int family, const uint8_t *dst, uint8_t plen, uint32_t table);

/*
 * A policy rule at priority pref sending the family's traffic to `table`
 * (not main, local, default or 0: -EINVAL). With uid >= 0 the rule is
 * "not uidrange uid-uid lookup table": that user's sockets skip it. -EEXIST
 * if a rule with that priority and table exists. nl_rule_del removes the
 * rule with that priority and table whatever its selectors (-ENOENT if
 * none).
 */
int nl_rule_add(int family, uint32_t table, uint32_t pref, long uid);
int nl_rule_del(int family, uint32_t table, uint32_t pref);

/*
 * Call cb for every unicast route of the main table that leaves through
 * ifindex, both families: the daemon's own, the kernel's prefix routes for
 * its addresses, and any a user added with `ip route add ... dev q2q0`.
 * dst is valid only during the call. A non-zero return from cb stops the
 * dump and is returned; otherwise 0 or -errno.
 */
int nl_route_dump(int ifindex,
		  int (*cb)(int family, const uint8_t *dst, uint8_t plen, void *arg),
		  void *arg);

#endif
