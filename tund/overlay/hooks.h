/*
 * What the overlay's lower files tell the file above them. attempt.c and
 * datapath.c learn things deep inside a receive round (a handshake proved
 * a certificate, a session can send, a packet has no route, a q2q message
 * arrived) that only overlay.c knows what to do with: it keeps the routes
 * and the lookups, and hands control requests to overlay_ctl.c. Rather
 * than call up into it, they call through this table, which overlay.c
 * fills at overlay_up; so dependencies point one way, overlay.c down to
 * attempt.c, paths.c and datapath.c, and those down to timers.c and
 * peer.c. Where the caller is overlay.c itself (the loop timer), a return
 * value says what is wanted instead (paths_tick_peer).
 *
 * Every hook runs on the event loop, may send, and must not free p.
 */
#ifndef Q2Q_OVERLAY_HOOKS_H
#define Q2Q_OVERLAY_HOOKS_H

#include <stddef.h>
#include <stdint.h>

struct cert_info;
struct overlay;
struct peer;

struct overlay_hooks {
	/* A handshake with p proved its certificate ci: take it as p's and
	 * route what it binds to p. */
	void (*peer_cert)(struct overlay *o, struct peer *p, const struct cert_info *ci);
	/* A session with p can send now; p's queue has gone out already. */
	void (*session_ready)(struct overlay *o, struct peer *p);
	/* A packet from q2q0 (len bytes) for an address no route names. */
	void (*route_unknown)(struct overlay *o, const uint8_t *pkt, size_t len, int family,
	    const uint8_t *dst);
	/* A q2q message (not an IP packet) arrived inside p's session. */
	void (*rx_message)(struct overlay *o, struct peer *p, const uint8_t *m, size_t len);
};

#endif
