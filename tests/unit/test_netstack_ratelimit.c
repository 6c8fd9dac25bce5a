/* Token buckets and the COOKIE limiter (netstack/ratelimit.c) on a fake
 * clock: a bucket gives its burst then its rate; the limiter never answers
 * more than its global rate however many sources ask, rations per source
 * prefix only under load (an IPv4 address, an IPv6 /64), and keeps
 * answering vouched sources during a flood from elsewhere. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "netstack/ratelimit.h"
#include "tests/unit/harness.h"

#define T0 5000000ull

static struct sockaddr_in6 v4(uint32_t a)
{
	struct sockaddr_in6 s;

	memset(&s, 0, sizeof(s));
	s.sin6_family = AF_INET6;
	s.sin6_addr.s6_addr[10] = s.sin6_addr.s6_addr[11] = 0xff;
	a = htonl(a);
	memcpy(&s.sin6_addr.s6_addr[12], &a, 4);
	return s;
}

static struct sockaddr_in6 v6(const char *txt)
{
	struct sockaddr_in6 s;

	memset(&s, 0, sizeof(s));
	s.sin6_family = AF_INET6;
	inet_pton(AF_INET6, txt, &s.sin6_addr);
	return s;
}

static void test_bucket(void)
{
	struct tbucket b;
	int got = 0;

	tbucket_init(&b, 10, T0);
	for (int i = 0; i < 100; i++)
		got += tbucket_take(&b, 100, 10, T0);
	CHECK_INT(got, 10);
	/* 100/s: one per 10 ms, and not before. */
	CHECK_INT(tbucket_take(&b, 100, 10, T0 + 9), 0);
	CHECK_INT(tbucket_take(&b, 100, 10, T0 + 10), 1);
	got = 0;
	for (uint64_t t = T0 + 11; t < T0 + 1011; t++)
		got += tbucket_take(&b, 100, 10, t);
	CHECK_INT(got, 100);
	/* A long idle time fills it to the burst, no more. */
	CHECK_INT(tbucket_level(&b, 100, 10, T0 + 86400000ull * 365), 10);
	/* A clock that goes back gives nothing. */
	CHECK_INT(tbucket_take(&b, 100, 10, T0), 1);
}

/* 20,000 HELLOs a second from random IPv4 sources for 3 s. */
/* Spending several tokens at once: all or nothing. */
static void test_spend(void)
{
	struct tbucket b;

	tbucket_init(&b, 100, 0);
	CHECK_INT(tbucket_spend(&b, 60, 10, 100, 0), 1);
	CHECK_INT(tbucket_spend(&b, 60, 10, 100, 0), 0);	/* 40 left: nothing spent */
	CHECK_INT(tbucket_level(&b, 10, 100, 0), 40);
	CHECK_INT(tbucket_spend(&b, 50, 10, 100, 1000), 1);	/* +10 after a second */
	CHECK_INT(tbucket_level(&b, 10, 100, 1000), 0);
	CHECK_INT(tbucket_spend(&b, 0, 10, 100, 1000), 1);
}

static void test_global_cap(void)
{
	static struct ratelimit r;
	uint32_t seed = 1;
	int answered = 0;

	CHECK_INT(ratelimit_init(&r, T0), 0);
	for (int ms = 0; ms < 3000; ms++)
		for (int k = 0; k < 20; k++) {
			struct sockaddr_in6 src;

			seed = seed * 1103515245u + 12345u;
			src = v4(0xc6120000u | (seed >> 16));
			answered += ratelimit_allow(&r, &src, 0, T0 + (uint64_t)ms);
		}
	/* At most the burst plus the rate for 3 s, and not much less. */
	CHECK(answered <= RL_COOKIE_BURST + 3 * RL_COOKIE_RATE);
	CHECK(answered >= 3 * RL_COOKIE_RATE / 2);
	CHECK_INT(r.refused, 60000 - answered);
}

static void test_per_source_only_under_load(void)
{
	static struct ratelimit r;
	struct sockaddr_in6 a = v6("2001:db8:1:2::1"), b = v6("2001:db8:1:2:ffff::9");
	int got = 0, others = 0;

	CHECK_INT(ratelimit_init(&r, T0), 0);
	/* Not under load: one source may have many answers. */
	for (int i = 0; i < 50; i++)
		got += ratelimit_allow(&r, &a, 0, T0);
	CHECK_INT(got, 50);
	CHECK_INT(ratelimit_under_load(&r, T0), 0);
	/* Asks from many IPv4 sources, more than RL_LOAD_RATE allows. */
	for (uint32_t i = 0; i < RL_LOAD_BURST; i++) {
		struct sockaddr_in6 src = v4(0xc6130000u + i);
		ratelimit_allow(&r, &src, 0, T0);
	}
	CHECK_INT(ratelimit_under_load(&r, T0), 1);
	/* Now a /64 gets its own few, whichever of its addresses asks. */
	got = 0;
	for (int i = 0; i < 20; i++) {
		got += ratelimit_allow(&r, &a, 0, T0 + 1 + (uint64_t)i);
		got += ratelimit_allow(&r, &b, 0, T0 + 1 + (uint64_t)i);
	}
	CHECK(got <= RL_SOURCE_BURST);
	/* Other /64s still get answers: 8 of them, a slot shared with the
	 * first (1 in 1024 with the keyed hash) can cost one at most. */
	for (int i = 0; i < 8; i++) {
		char txt[64];
		struct sockaddr_in6 o;

		snprintf(txt, sizeof(txt), "2001:db8:%x::1", 0x100 + i);
		o = v6(txt);
		others += ratelimit_allow(&r, &o, 0, T0 + 21);
	}
	CHECK(others >= 7);
}

/* 1250 asks a second from one /64 and as many from IPv4 at large, for
 * 5 s: together more than the global rate, each alone less. The /64 must
 * stay rationed throughout, not win back its share each time rationing
 * leaves the global bucket fuller (load is judged by asks). */
static void test_rationing_holds(void)
{
	static struct ratelimit r;
	uint32_t seed = 3;
	int v6got = 0, v4got = 0;

	CHECK_INT(ratelimit_init(&r, T0), 0);
	for (int ms = 0; ms < 5000; ms++) {
		for (int k = 0; k < 5; k++) {
			struct sockaddr_in6 a, b;
			char txt[64];

			seed = seed * 1103515245u + 12345u;
			snprintf(txt, sizeof(txt), "2001:db8:66::%x:%x", seed >> 16, seed & 0xffff);
			a = v6(txt);
			b = v4(0xc6120000u | (seed >> 15));
			if (k < 4 || ms % 4 == 0) {	/* 1250/s each */
				v6got += ratelimit_allow(&r, &a, 0, T0 + (uint64_t)ms);
				v4got += ratelimit_allow(&r, &b, 0, T0 + (uint64_t)ms);
			}
		}
	}
	/* Before the load shows (the demand burst), then 5/s. */
	CHECK(v6got <= RL_LOAD_BURST + RL_SOURCE_BURST + 5 * RL_SOURCE_RATE);
	CHECK(v4got >= 4 * RL_COOKIE_RATE / 2);
	CHECK_INT(ratelimit_under_load(&r, T0 + 5000), 1);
	CHECK_INT(ratelimit_under_load(&r, T0 + 5000 + RL_LOAD_HOLD_MS + 1000), 0);
}

static void test_vouched_through_flood(void)
{
	static struct ratelimit r;
	struct sockaddr_in6 peer = v4(0xc0000215u);
	uint32_t seed = 7;
	int answered = 0, asked = 0;

	CHECK_INT(ratelimit_init(&r, T0), 0);
	for (int ms = 0; ms < 5000; ms++) {
		for (int k = 0; k < 10; k++) {
			seed = seed * 1103515245u + 12345u;
			ratelimit_allow(&r, (const struct sockaddr_in6[]){ v4(0xc6120000u | (seed >> 16)) }, 0,
			    T0 + (uint64_t)ms);
		}
		/* The peer the authority introduced says HELLO every 250 ms. */
		if (ms % 250 == 0) {
			asked++;
			answered += ratelimit_allow(&r, &peer, 1, T0 + (uint64_t)ms);
		}
	}
	CHECK_INT(answered, asked);
	/* Flooded as itself, it is still bounded. */
	answered = 0;
	for (int i = 0; i < 1000; i++)
		answered += ratelimit_allow(&r, &peer, 1, T0 + 6000);
	CHECK_INT(answered, RL_VOUCHED_BURST);
}

int main(void)
{
	RUN(test_bucket);
	RUN(test_spend);
	RUN(test_global_cap);
	RUN(test_per_source_only_under_load);
	RUN(test_rationing_holds);
	RUN(test_vouched_through_flood);
	return HARNESS_END();
}
