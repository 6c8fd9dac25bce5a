/*
 * When the data port rests. Each stray datagram that arrives alone wakes
 * the engine, which reads it, drops it and sleeps again: at 10,000 a
 * second that was 6,866 wakeups, and being put to sleep and woken was
 * over half of the engine's time (bench/README.md, "Under flood"). A NIC
 * moderates its interrupts the same way. The rest is never taken while
 * authenticated data flows (RXREST_QUIET_MS after the last of it), so a
 * stream is not held up between its packets, nor after a call that had
 * anything else (a handshake, a probe) or left datagrams unread; the
 * flood cannot fake authenticated data to keep us awake, and at worst it
 * holds a peer's first packet after a quiet spell for RXREST_MS.
 */
#include "tund/overlay/rxrest.h"

int rxrest_after(struct rxrest *r, const struct rxrest_call *c, uint64_t now)
{
	if (c->authenticated > 0) {
		r->auth_ms = now;
		return 0;
	}
	if (c->datagrams <= 0 || c->strays < c->datagrams || !c->drained)
		return 0;
	if (r->auth_ms && now - r->auth_ms < RXREST_QUIET_MS)
		return 0;
	r->rests++;
	return RXREST_MS;
}
