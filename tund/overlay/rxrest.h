/*
 * Resting the data port under a flood (rxrest.c): after a receive call
 * that drained the socket and found nothing but datagrams dropped before
 * any crypto (unknown type, DATA refused by index, replay window or key
 * age), while no authenticated data has come for a while, the socket is
 * left unread for a millisecond, so a flood's datagrams are read in
 * batches instead of each waking the engine. Pure: the caller reads the
 * socket and keeps the timer.
 */
#ifndef Q2Q_RXREST_H
#define Q2Q_RXREST_H

#include <stdint.h>

#define RXREST_MS	1	/* how long the socket rests */
#define RXREST_QUIET_MS	50	/* no rest so soon after authenticated data */

struct rxrest {
	uint64_t auth_ms;	/* when authenticated data last came; 0 never */
	uint64_t rests;		/* receive calls after which the socket rested */
};

/* What one receive call found. */
struct rxrest_call {
	int datagrams;		/* read */
	int strays;		/* of them, dropped before any crypto */
	int authenticated;	/* of them, DATA that opened */
	int drained;		/* the last read found the socket short of a batch */
};

/* How long to leave the socket unread after call c at now: 0 or RXREST_MS. */
int rxrest_after(struct rxrest *r, const struct rxrest_call *c, uint64_t now);

#endif
