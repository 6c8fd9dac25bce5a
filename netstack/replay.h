/*
 * Anti-replay window for data-packet counters (RFC 6479): a ring of 64-bit
 * bitmap blocks, so advancing the window clears whole words instead of
 * shifting bits. 256 blocks give a window of 255 * 64 = 16320 counters
 * behind the highest one seen (DESIGN asks for at least 8192), at 2 KiB per
 * receiving session. Counters from REPLAY_REJECT_AFTER upwards are refused
 * outright, so the window arithmetic can never wrap; senders must rekey long
 * before (DESIGN: after 2^60 messages).
 *
 * The struct is public only so it can be embedded; treat its fields as
 * private. Not thread-safe: one receiving session, one caller at a time.
 */
#ifndef Q2Q_REPLAY_H
#define Q2Q_REPLAY_H

#include <stdint.h>

#define REPLAY_BLOCKS		256
#define REPLAY_WINDOW		((REPLAY_BLOCKS - 1) * 64)
/* 2^64 - 2^13: counters >= this are rejected whatever the window says. */
#define REPLAY_REJECT_AFTER	(UINT64_MAX - 8191)

struct replay {
	uint64_t last;			/* highest counter accepted so far */
	uint64_t bitmap[REPLAY_BLOCKS];
};

void replay_init(struct replay *r);

/*
 * Cheap pre-check before decrypting: 1 if ctr may be new, 0 if it is
 * certainly a replay, too old or over the limit. Changes nothing.
 */
int replay_check(const struct replay *r, uint64_t ctr);

/*
 * Records ctr after the packet authenticated: 0 if accepted, -1 if it is a
 * replay, too old or over the limit (then nothing changes).
 */
int replay_update(struct replay *r, uint64_t ctr);

#endif
