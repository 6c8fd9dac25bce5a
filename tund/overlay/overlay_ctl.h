/*
 * Between overlay.c and overlay_ctl.c, the control requests about the
 * overlay. Requests that wait on the network: a ping waits for a session
 * and a pong, a resolve for a lookup. First the events overlay.c tells
 * overlay_ctl.c about (some of them arrive through the hooks it fills,
 * hooks.h), then what overlay.c offers it: the loop timer and lookups at
 * the authorities. All run on the event loop.
 */
#ifndef Q2Q_OVERLAY_CTL_H
#define Q2Q_OVERLAY_CTL_H

#include <stddef.h>
#include <stdint.h>

#include "tund/node/authlink.h"

struct overlay;
struct peer;

/* ------------------------------------------------ in overlay_ctl.c */

/* A q2q message (not an IP packet) arrived inside p's session. */
void ovctl_rx_message(struct overlay *o, struct peer *p, const uint8_t *m, size_t len);
/* A session with p can send now: pings waiting for it go. */
void ovctl_session_ready(struct overlay *o, struct peer *p);
/* Our own authority registered us, or its link's attempt ended without
 * (why): `up` stops waiting. */
void ovctl_registration(struct overlay *o, int registered, const char *why);
/* Fails requests past their deadline. */
void ovctl_tick(struct overlay *o);
/* Fails every waiting request: the overlay is going down. */
void ovctl_cancel_all(struct overlay *o);

/* ---------------------------------------------------- in overlay.c */

/* Re-arms the loop timer for the earliest deadline; call after an event
 * that may have armed one. */
void overlay_arm(struct overlay *o);
/* Asks the authority for identity's domain about identity; fn answers,
 * once. -ENOENT (and fn is not called) if no authority for the domain is
 * configured. */
int overlay_lookup(struct overlay *o, const char *identity, authlink_lookup_fn *fn, void *arg);
/* The domain of the authority link via (an ep's, paths.h); NULL if none. */
const char *overlay_link_domain(const struct overlay *o, int via);
/* Each authority link's domain, state and revocation news, into out. */
struct overlay_status_info;
void overlay_links_info(const struct overlay *o, struct overlay_status_info *out);
/* The peer a lookup answer pe describes, its certificate checked; NULL
 * with err set. The peer is the overlay's. */
struct peer *overlay_peer_from_lookup(struct overlay *o, const struct authlink_peer *pe,
    char *err, size_t errlen);

#endif
