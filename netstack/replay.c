/*
 * RFC 6479 sliding window. Counter c lives in block (c / 64) % REPLAY_BLOCKS,
 * bit c % 64. Moving the top of the window forward clears the blocks it
 * enters; one block is always "spare" so the block holding the oldest
 * in-window counter is never the one being reused, which is why the window
 * is (REPLAY_BLOCKS - 1) * 64 and not REPLAY_BLOCKS * 64.
 */
#include <string.h>

#include "netstack/replay.h"

#define BLOCK_OF(c)	((size_t)(((c) >> 6) % REPLAY_BLOCKS))
#define BIT_OF(c)	((uint64_t)1 << ((c) & 63))

void replay_init(struct replay *r)
{
	memset(r, 0, sizeof(*r));
}

int replay_check(const struct replay *r, uint64_t ctr)
{
	if (ctr >= REPLAY_REJECT_AFTER)
		return 0;
	if (ctr > r->last)
		return 1;
	/* Too old: its block may already hold newer counters. */
	if (r->last - ctr >= REPLAY_WINDOW)
		return 0;
	return !(r->bitmap[BLOCK_OF(ctr)] & BIT_OF(ctr));
}

int replay_update(struct replay *r, uint64_t ctr)
{
	if (!replay_check(r, ctr))
		return -1;
	if (ctr > r->last) {
		uint64_t cur = r->last >> 6, top = ctr >> 6;
		uint64_t diff = top - cur;

		if (diff > REPLAY_BLOCKS)
			diff = REPLAY_BLOCKS;
		for (uint64_t i = 1; i <= diff; i++)
			r->bitmap[(size_t)((cur + i) % REPLAY_BLOCKS)] = 0;
		r->last = ctr;
	}
	r->bitmap[BLOCK_OF(ctr)] |= BIT_OF(ctr);
	return 0;
}
