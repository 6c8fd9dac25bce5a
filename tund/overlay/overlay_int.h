/*
 * struct overlay, shared by the overlay's own files and included by no
 * others (everything else uses overlay.h). Its parts belong to the files
 * that keep them: the sockets, batches and buffers (struct datapath_io)
 * to datapath.c, what the authority's UDP service tells us of our NAT
 * (struct paths_nat) and our birthday sockets and addresses (struct
 * paths_local) to paths.c, the handshakes in flight (struct attempt_set)
 * to attempt.c. overlay.c keeps the rest and offers the verbs below to the
 * other files: the loop timer, the authority links. The files below
 * overlay.c reach up only through o->hooks (hooks.h).
 * All run on the event loop; none returns memory for the caller to free.
 */
#ifndef Q2Q_OVERLAY_INT_H
#define Q2Q_OVERLAY_INT_H

#include <stddef.h>
#include <stdint.h>
#include <net/if.h>

#include "identity/cert.h"
#include "identity/name.h"
#include "netstack/cookie.h"
#include "tund/base/loop.h"
#include "tund/conf/config.h"
#include "tund/overlay/attempt.h"
#include "tund/overlay/datapath.h"
#include "tund/overlay/hooks.h"
#include "tund/overlay/paths.h"
#include "tund/overlay/peer.h"
#include "tund/overlay/timers.h"

struct addr_wait;
struct authlink;
struct authlink_peer;
struct hs_ctx;
struct node;
struct ovctl_waiter;
struct peer_table;
struct route_table;

/* A link to an authority: ours first, then other domains' (trust entries
 * with an authority address) for reaching their nodes. */
struct overlay_link {
	struct overlay *o;
	struct authlink *al;
	int own;
	char domain[ID_DOMAIN_MAX + 1];
};

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
	struct hs_ctx *hs;
	struct peer_table *peers;
	struct route_table *routes;
	struct authlink *link;		/* our own authority (links[0]) */
	struct overlay_link links[CONFIG_MAX_TRUST + 1];
	int n_links;
	struct cookie_jar jar;
	uint8_t mac1_key[COOKIE_KEY_LEN];
	struct datapath_io io;
	struct paths_nat nat;
	struct paths_local paths;
	struct attempt_set att;
	struct overlay_timers t;		/* timers.c: the overlay-wide deadlines */
	struct addr_wait *waits;	/* overlay.c: packets waiting for a lookup */
	struct ovctl_waiter *waiters;	/* overlay_ctl.c: requests waiting */
	uint64_t drops_auth, drops_replay, drops_source, drops_noroute;
};

static inline uint64_t now_ms(void) { return loop_now_ms(); }

/* Re-arms the loop timer for the earliest deadline; call after an event
 * that may have armed one. */
void overlay_arm(struct overlay *o);
/* NULL if no authority for identity's domain is configured. */
struct overlay_link *overlay_link_for(struct overlay *o, const char *identity);
/* The peer pe describes, its certificate checked; NULL with err set. */
struct peer *overlay_peer_from_authority(struct overlay *o, const struct authlink_peer *pe,
    char *err, size_t errlen);

#endif
