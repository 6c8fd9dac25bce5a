/*
 * Asking the gateway for a port mapping of our UDP data port, so a node
 * behind a NAT that maps each destination anew ("hard") still has one
 * public endpoint anyone can reach. PCP (our own client, pcp.h) first,
 * then NAT-PMP (libnatpmp); both are one datagram each way to the
 * gateway's port 5351, driven by the event loop on non-blocking sockets.
 * Then UPnP-IGD (libminiupnpc), whose blocking calls run in a helper
 * thread (upnp.h). Nothing here ever blocks the loop. The mapping is renewed at half its
 * lifetime and deleted on portmap_stop.
 */
#ifndef Q2Q_PORTMAP_H
#define Q2Q_PORTMAP_H

#include <stdint.h>
#include <netinet/in.h>

#include "netstack/udp.h"

struct loop;
struct portmap;

#define PORTMAP_PROTOS	3	/* PCP, NAT-PMP, then UPnP-IGD */

/* The mapping changed: ep is our public endpoint, or NULL when it went. */
typedef void portmap_change_fn(void *arg, const struct sockaddr_in6 *ep);

/* protos: the config's CONFIG_PORTMAP_* bits (0: does nothing, info says
 * "off"). port: our
 * UDP port, in host order. */
int portmap_start(struct loop *l, unsigned protos, int port, portmap_change_fn *fn, void *arg,
    struct portmap **out);
/* Our addresses changed: ask again from the start. */
void portmap_restart(struct portmap *pm);
/* Deletes the mapping at the gateway (one datagram, not waited for) and
 * frees pm. NULL is fine. */
void portmap_stop(struct portmap *pm);

struct portmap_proto_info {
	const char *name;	/* "pcp", "natpmp", "upnp" */
	const char *state;	/* "off", "untried", "asking", "mapped", "no answer", "refused", "bad answer" */
	char detail[128];	/* why, for refused and bad answer */
};

struct portmap_info {
	int enabled;
	char gateway[INET_ADDRSTRLEN];	/* "" when none was found */
	struct portmap_proto_info proto[PORTMAP_PROTOS];
	int mapped;
	const char *protocol;		/* which one holds the mapping */
	char external[UDP_ADDR_STRLEN];
	uint32_t lifetime;		/* as granted, seconds */
	uint32_t expires_in;		/* seconds from now */
};

void portmap_info(const struct portmap *pm, struct portmap_info *out);
/* 0 with the mapped public endpoint, or -ENOENT (also for pm NULL). */
int portmap_endpoint(const struct portmap *pm, struct sockaddr_in6 *ep);

#endif
