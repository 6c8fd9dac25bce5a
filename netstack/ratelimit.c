/*
 * Token buckets in fixed point (thousandths of a token), so rates below
 * one per millisecond refill exactly, and a per-source table indexed by a
 * keyed hash: an attacker who does not know the key cannot aim many
 * prefixes at the slot a victim's prefix uses.
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/random.h>

#include "netstack/ratelimit.h"

static void tbucket_refill(struct tbucket *b, uint32_t rate, uint32_t burst, uint64_t now_ms)
{
	uint64_t cap = (uint64_t)burst * 1000;

	if (now_ms > b->last_ms) {
		uint64_t dt = now_ms - b->last_ms;

		/* rate tokens per second = rate thousandths per millisecond;
		 * a gap of cap ms fills any bucket (rate >= 1), and so the
		 * product below cannot overflow. */
		b->milli = dt >= cap ? cap : b->milli + dt * rate;
		if (b->milli > cap)
			b->milli = cap;
	}
	b->last_ms = now_ms > b->last_ms ? now_ms : b->last_ms;
}

void tbucket_init(struct tbucket *b, uint32_t burst, uint64_t now_ms)
{
	b->milli = (uint64_t)burst * 1000;
	b->last_ms = now_ms;
}

int tbucket_spend(struct tbucket *b, uint32_t n, uint32_t rate, uint32_t burst, uint64_t now_ms)
{
	tbucket_refill(b, rate, burst, now_ms);
	if (b->milli < (uint64_t)n * 1000)
		return 0;
	b->milli -= (uint64_t)n * 1000;
	return 1;
}

int tbucket_take(struct tbucket *b, uint32_t rate, uint32_t burst, uint64_t now_ms)
{
	return tbucket_spend(b, 1, rate, burst, now_ms);
}

uint32_t tbucket_level(struct tbucket *b, uint32_t rate, uint32_t burst, uint64_t now_ms)
{
	tbucket_refill(b, rate, burst, now_ms);
	return (uint32_t)(b->milli / 1000);
}

int ratelimit_init(struct ratelimit *r, uint64_t now_ms)
{
	memset(r, 0, sizeof(*r));
	if (getrandom(r->key, sizeof(r->key), 0) != sizeof(r->key))
		return -EIO;
	tbucket_init(&r->global, RL_COOKIE_BURST, now_ms);
	tbucket_init(&r->vouched, RL_VOUCHED_BURST, now_ms);
	tbucket_init(&r->demand, RL_LOAD_BURST, now_ms);
	for (int i = 0; i < RL_SOURCE_SLOTS; i++)
		tbucket_init(&r->src[i], RL_SOURCE_BURST, now_ms);
	return 0;
}

static uint64_t rl_mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* The prefix one host may be expected to own: an IPv4 address (kept
 * v4-mapped) or an IPv6 /64. */
static unsigned rl_slot(const struct ratelimit *r, const struct sockaddr_in6 *src)
{
	const uint8_t *a = src->sin6_addr.s6_addr;
	int v4 = IN6_IS_ADDR_V4MAPPED(&src->sin6_addr);
	uint64_t hi = 0, lo = 0;

	for (int i = 0; i < 8; i++)
		hi = hi << 8 | a[i];
	if (v4)
		for (int i = 8; i < 16; i++)
			lo = lo << 8 | a[i];
	return (unsigned)(rl_mix(rl_mix(hi ^ r->key[0]) ^ lo ^ r->key[1]) % RL_SOURCE_SLOTS);
}

int ratelimit_under_load(struct ratelimit *r, uint64_t now_ms)
{
	return now_ms < r->loaded_until_ms;
}

/* Every ask counts, answered or not. */
static void rl_note_ask(struct ratelimit *r, uint64_t now_ms)
{
	if (!tbucket_take(&r->demand, RL_LOAD_RATE, RL_LOAD_BURST, now_ms) ||
	    r->demand.milli < (uint64_t)RL_LOAD_BURST * 500)
		r->loaded_until_ms = now_ms + RL_LOAD_HOLD_MS;
}

int ratelimit_allow(struct ratelimit *r, const struct sockaddr_in6 *src, int vouched, uint64_t now_ms)
{
	int ok;

	rl_note_ask(r, now_ms);
	if (vouched)
		ok = tbucket_take(&r->vouched, RL_VOUCHED_RATE, RL_VOUCHED_BURST, now_ms);
	else if (ratelimit_under_load(r, now_ms) &&
	    !tbucket_take(&r->src[rl_slot(r, src)], RL_SOURCE_RATE, RL_SOURCE_BURST, now_ms))
		ok = 0;
	else
		ok = tbucket_take(&r->global, RL_COOKIE_RATE, RL_COOKIE_BURST, now_ms);
	if (!ok)
		r->refused++;
	return ok;
}
