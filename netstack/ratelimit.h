/*
 * Token buckets for answers we give to unauthenticated senders (COOKIE),
 * pure: time is an argument, in milliseconds of a monotonic clock. A
 * bucket holds up to `burst` tokens and gains `rate` per second; an answer
 * costs one.
 *
 * The COOKIE limiter has a global bucket (a hard cap on what we send to
 * anyone, so we are never a reflector beyond it) and, under load, a bucket
 * per source prefix (an IPv4 address, an IPv6 /64, hashed with a random
 * secret into a fixed table), so one network flooding us cannot take all
 * of it. Load is demand, not what we answered: more than RL_LOAD_RATE
 * asks a second (a bucket every ask drains), and it lasts RL_LOAD_HOLD_MS
 * after the last sign of it, as WireGuard holds its "under load" for a
 * second (judged by answers, rationing would lift itself at once). Sources the caller
 * vouches for (a peer's candidates the authority gave us over TLS) draw
 * on a bucket of their own, so a flood from elsewhere cannot starve a
 * peer we expect, and spoofing those addresses reflects only to them.
 */
#ifndef Q2Q_RATELIMIT_H
#define Q2Q_RATELIMIT_H

#include <stdint.h>

struct sockaddr_in6;

struct tbucket {
	uint64_t milli;		/* tokens x 1000 */
	uint64_t last_ms;
};

/* Starts full. */
void tbucket_init(struct tbucket *b, uint32_t burst, uint64_t now_ms);
/* 1 and one token spent, or 0 when empty. */
int tbucket_take(struct tbucket *b, uint32_t rate, uint32_t burst, uint64_t now_ms);
/* 1 and n tokens spent, or 0 (nothing spent) when fewer are left. */
int tbucket_spend(struct tbucket *b, uint32_t n, uint32_t rate, uint32_t burst, uint64_t now_ms);
/* Tokens now (refilled), rounded down. */
uint32_t tbucket_level(struct tbucket *b, uint32_t rate, uint32_t burst, uint64_t now_ms);

#define RL_COOKIE_RATE		2000	/* COOKIEs per second, in all */
#define RL_COOKIE_BURST		400
#define RL_SOURCE_RATE		5	/* per source prefix, under load */
#define RL_SOURCE_BURST		5
#define RL_SOURCE_SLOTS		1024
#define RL_VOUCHED_RATE		200	/* to known peers' candidates */
#define RL_VOUCHED_BURST	50
#define RL_LOAD_RATE		500	/* asks per second before "under load" */
#define RL_LOAD_BURST		500
#define RL_LOAD_HOLD_MS		1000

struct ratelimit {
	struct tbucket global;
	struct tbucket vouched;
	struct tbucket demand;
	uint64_t loaded_until_ms;
	struct tbucket src[RL_SOURCE_SLOTS];
	uint64_t key[2];
	uint64_t refused;	/* answers not given */
};

/* 0 or -errno (getrandom). */
int ratelimit_init(struct ratelimit *r, uint64_t now_ms);
/* Whether to answer src now; vouched: src is a known peer's candidate. */
int ratelimit_allow(struct ratelimit *r, const struct sockaddr_in6 *src, int vouched, uint64_t now_ms);
/* Whether answers are being rationed per source. */
int ratelimit_under_load(struct ratelimit *r, uint64_t now_ms);

#endif
