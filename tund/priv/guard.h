/*
 * The guard: nftables rules, in tables of q2q's own, that keep packets
 * meant for the overlay from arriving any other way (the CVE-2019-14899
 * class). On every interface but q2q0:
 *   - a packet to the node's own overlay address is dropped (so nobody on
 *     the LAN can probe or inject into the overlay's connections), and an
 *     ARP request for it goes unanswered (Linux would answer for an
 *     address of any interface);
 *   - a packet with a source inside the overlay ranges (the pool,
 *     fd00::/8) is dropped unless it belongs to a connection this host
 *     made (conntrack: established, related) or goes to the engine's own
 *     ports (its UDP data port; an authority's TCP/UDP port P and UDP
 *     P+2). So an underlay inside the pool (CGNAT) still reaches the
 *     engine, and spoofed overlay sources reach no other socket; a LAN
 *     prefix the engine threw out of q2q's table (a ULA LAN inside
 *     fd00::/8, tund/overlay/routes.h) is the LAN's, and passes.
 * rp_filter cannot do this: its reverse lookup runs through q2q's policy
 * rule, which sends every pool address to q2q0 and would drop the
 * authority's own replies on a CGNAT underlay.
 * guard_script is pure; guard_apply/guard_remove run it through libnftables
 * (one atomic batch each).
 */
#ifndef Q2Q_PRIV_GUARD_H
#define Q2Q_PRIV_GUARD_H

#include <stddef.h>
#include <stdint.h>

#define GUARD_TABLE "q2q_guard"
#define GUARD_PORTS_MAX 3
#define GUARD_EXEMPT_MAX 8

struct guard_spec {
	char ifname[16];		/* q2q0: the only way in for the overlay */
	int have_v4, have_v6;
	uint8_t v4[4], v6[16];		/* the node's overlay addresses */
	int have_pool;
	uint8_t pool[4];		/* the IPv4 pool routed on q2q0 */
	uint8_t pool_plen;
	int n_udp, n_tcp;
	uint16_t udp[GUARD_PORTS_MAX], tcp[GUARD_PORTS_MAX];	/* the engine's ports */
	int n_exempt;			/* LAN prefixes thrown out of q2q's table */
	struct { int family; uint8_t addr[16]; uint8_t plen; } exempt[GUARD_EXEMPT_MAX];
};

/* Writes the nft script for spec into buf (replacing any guard there is).
 * Returns its length, -EINVAL for a bad interface name or -ENOSPC. */
int guard_script(const struct guard_spec *spec, char *buf, size_t cap);

/* An interface name safe inside an nft script's quotes: 1..15 of
 * [A-Za-z0-9_.-], as the config takes them. */
int guard_ifname_ok(const char *name);

/* The script that removes the guard tables, whether or not they exist. */
const char *guard_remove_script(void);

/* Makes the nftables context; call before the seccomp list goes on.
 * 0 or -ENOMEM. */
int guard_init(void);

/* Runs script; 0 or -errno, with nft's message in err. */
int guard_run(const char *script, char *err, size_t errlen);

#endif
