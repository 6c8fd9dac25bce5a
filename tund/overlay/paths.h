/*
 * Paths to peers (paths.c): which endpoint a peer is reached at, and how
 * it changes. The decisions here need no I/O: whether an authenticated
 * packet moves a peer's endpoint (roaming, upgrades from the relay to a
 * direct path) and the move itself. When the direct path has gone quiet
 * and when candidates are probed again is timers.h's to say.
 */
#ifndef Q2Q_PATHS_H
#define Q2Q_PATHS_H

#include <stdint.h>

struct ep;
struct peer;

/* Does an authenticated, fresh packet from `from` move p there? A direct
 * packet always does; a relayed one only when p has no endpoint, is on
 * the relay already, or its direct path has been quiet for 2 s (the peer
 * gave up on direct, so our direct packets are likely lost too). Call
 * after timers_data_received, never for a packet not yet authenticated. */
int paths_roam_due(const struct peer *p, const struct ep *from);
/* Moves p's endpoint to `from`; back from the relay, `from` becomes a
 * direct candidate and a later relay spell may ask for introductions anew. */
void paths_roam(struct peer *p, const struct ep *from, uint64_t now);

#endif
