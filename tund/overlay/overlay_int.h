/*
 * struct overlay, shared by the overlay's own files and included by no
 * others (everything else uses overlay.h). Its parts belong to the files
 * that keep them: the sockets, batches and buffers (struct datapath_io)
 * to datapath.c, what the authority's UDP service tells us of our NAT
 * (struct paths_nat) and our birthday sockets and addresses (struct
 * paths_local) to paths.c, the handshakes in flight (struct attempt_set)
 * to attempt.c, the overlay-wide deadlines (struct overlay_timers) to
 * timers.c. overlay.c keeps the rest (the authority links' details are
 * its own). The files below overlay.c reach up only through o->hooks
 * (hooks.h); what overlay.c offers overlay_ctl.c is in overlay_ctl.h.
 */
#ifndef Q2Q_OVERLAY_INT_H
#define Q2Q_OVERLAY_INT_H

#include <stddef.h>
#include <stdint.h>
#include <net/if.h>

#include "identity/cert.h"
#include "identity/name.h"
#include "netstack/cookie.h"
#include "netstack/frag.h"
#include "netstack/ratelimit.h"
#include "tund/base/loop.h"
#include "tund/conf/config.h"
#include "tund/overlay/attempt.h"
#include "tund/overlay/claims.h"
#include "tund/overlay/datapath.h"
#include "tund/overlay/hooks.h"
#include "tund/overlay/overlay.h"
#include "tund/overlay/paths.h"
#include "tund/overlay/peer.h"
#include "tund/overlay/routes.h"
#include "tund/overlay/rxrest.h"
#include "tund/overlay/timers.h"

struct addr_wait;
struct authlink;
struct fw;
struct hs_ctx;
struct localv4;
struct node;
struct overlay_link;
struct ovctl_waiter;
struct peer_table;
struct route_table;

struct overlay {
	struct loop *loop;
	const struct config *cfg;
	const struct overlay_hooks *hooks;	/* overlay.c's, for the files below it */
	struct node *node;
	struct loop_timer timer;
	char ifname[IFNAMSIZ];
	int ifindex;
	int port;
	int mtu;
	char identity[ID_NAME_MAX + 1];
	char domain[ID_DOMAIN_MAX + 1];
	uint8_t v4[4], v6[16];
	struct localv4 *book;		/* foreign.c: local IPv4s of other domains' peers */
	struct routes_state rt;		/* routes.c */
	struct hs_ctx *hs;
	struct peer_table *peers;
	struct route_table *routes;
	struct authlink *link;		/* our own authority (links[0]) */
	struct overlay_link *links;	/* overlay.c: CONFIG_MAX_TRUST + 1 + OVERLAY_DISCOVERED */
	int n_links;
	struct cookie_jar jar;
	struct ratelimit cookie_rl;	/* how many COOKIEs we give, to whom */
	struct cookie_hmac *mac1;	/* our identity's mac1 key, pads hashed */
	struct datapath_io io;
	struct rxrest rest;		/* overlay.c: the data port rests under a flood */
	struct loop_timer rest_timer;	/* armed while it rests */
	struct frag_table frag;		/* pmtu.c: packets coming in fragments */
	struct paths_nat nat;
	struct paths_local paths;
	struct attempt_set att;
	struct overlay_timers t;		/* timers.c: the overlay-wide deadlines */
	struct addr_wait *waits;	/* overlay.c: packets waiting for a lookup */
	struct ovctl_waiter *waiters;	/* overlay_ctl.c: requests waiting */
	struct overlay_dwait *dwaits;	/* overlay.c: lookups and brokers waiting for DNS */
	int64_t revoked_expired_at;	/* overlay.c: when the revoked list last lost expired entries */
	struct portmap *portmap;	/* tund/portmap/: our gateway's mapping of o->port */
	uint64_t drops_auth, drops_replay, drops_source, drops_noroute;
	uint64_t drops_session, drops_expired;
	uint64_t hs_done, hs_failed[OVERLAY_HS_FAIL_N];	/* enum overlay_hs_fail */
	struct fw *fw;			/* firewall.c: the identity firewall */
	uint64_t fw_reject_at;		/* firewall.c: ICMP rejects sent this second */
	int fw_rejects;
};

static inline uint64_t now_ms(void) { return loop_now_ms(); }

/* What claims.c checks a peer against: this node, and the block of its
 * local addresses for other domains' peers. */
const struct addr_prefix *foreign_block(const struct overlay *o);

static inline struct claims_self overlay_claims_self(const struct overlay *o)
{
	struct claims_self self = { .identity = o->identity, .v4 = o->v4, .v6 = o->v6,
	    .foreign = foreign_block(o) };

	return self;
}

#endif
