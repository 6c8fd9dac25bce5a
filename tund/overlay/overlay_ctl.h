/*
 * Control requests about the overlay that wait on the network
 * (overlay_ctl.c): a ping waits for a session and a pong, a resolve for a
 * lookup. These are the events the rest of the overlay tells it about.
 */
#ifndef Q2Q_OVERLAY_CTL_H
#define Q2Q_OVERLAY_CTL_H

#include <stddef.h>
#include <stdint.h>

struct overlay;
struct peer;

/* A q2q message (not an IP packet) arrived inside p's session. */
void ovctl_rx_message(struct overlay *o, struct peer *p, const uint8_t *m, size_t len);
/* A session with p can send now: pings waiting for it go. */
void ovctl_session_ready(struct overlay *o, struct peer *p);
/* Fails requests past their deadline. */
void ovctl_tick(struct overlay *o);
/* Fails every waiting request: the overlay is going down. */
void ovctl_cancel_all(struct overlay *o);

#endif
