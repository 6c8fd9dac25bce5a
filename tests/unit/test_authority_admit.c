/*
 * The authority's connection admission (tund/authority/admit.c): per
 * source limits (an IPv4 address, an IPv6 /64), the lower limit before
 * authentication, eviction of the oldest unauthenticated connection when
 * full, and a differential run against the obvious slow twin (a plain
 * list of connections scanned on every question).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>

#include "tests/unit/harness.h"
#include "tund/authority/admit.h"

static struct sockaddr_in6 sa(const char *text)
{
	struct sockaddr_in6 s;
	char buf[64];

	memset(&s, 0, sizeof(s));
	s.sin6_family = AF_INET6;
	if (!strchr(text, ':')) {
		snprintf(buf, sizeof(buf), "::ffff:%s", text);
		text = buf;
	}
	if (inet_pton(AF_INET6, text, &s.sin6_addr) != 1)
		abort();
	return s;
}

static int tags[64];

static void test_limits_rejected(void)
{
	struct admit *a = NULL;
	struct admit_limits bad[] = {
		{ 0, 1, 1, 1 }, { 4, 5, 2, 1 }, { 4, 2, 1, 2 }, { 4, 2, 0, 0 }, { 4, 0, 2, 1 },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_INT(admit_new(&bad[i], 1, &a), -EINVAL);
}

/* One host's addresses of one /64 are one source; another /64, and every
 * IPv4 address, are others. */
static void test_source_is_v4_address_or_v6_slash64(void)
{
	struct admit_limits lim = { 64, 64, 4, 2 };
	struct admit *a;
	struct sockaddr_in6 s1 = sa("2001:db8:1:2::1"), s2 = sa("2001:db8:1:2:ffff::9"),
	    s3 = sa("2001:db8:1:3::1"), v4a = sa("192.0.2.1"), v4b = sa("192.0.2.2");
	void *victim;
	int open, unauth;

	CHECK_INT(admit_new(&lim, 7, &a), 0);
	CHECK(admit_open(a, &s1, &tags[0]) >= 0);
	CHECK(admit_open(a, &s2, &tags[1]) >= 0);
	/* Two unauthenticated from the /64 already: a third address of it is refused. */
	CHECK_INT(admit_check(a, &s1, &victim), ADMIT_REFUSE_SOURCE);
	CHECK(victim == NULL);
	CHECK_INT(admit_open(a, &s2, &tags[2]), -EMFILE);
	CHECK_INT(admit_check(a, &s3, &victim), ADMIT_OK);
	CHECK(admit_open(a, &v4a, &tags[3]) >= 0);
	CHECK(admit_open(a, &v4a, &tags[4]) >= 0);
	CHECK_INT(admit_check(a, &v4a, &victim), ADMIT_REFUSE_SOURCE);
	CHECK_INT(admit_check(a, &v4b, &victim), ADMIT_OK);
	admit_count(a, &s3, &open, &unauth);
	CHECK_INT(open, 0);
	admit_count(a, &s1, &open, &unauth);
	CHECK_INT(open, 2);
	CHECK_INT(unauth, 2);
	admit_count(a, NULL, &open, &unauth);
	CHECK_INT(open, 4);
	CHECK_INT(unauth, 4);
	admit_free(a);
}

/* Authenticated connections count against the source's total only. */
static void test_authentication_frees_the_unauth_share(void)
{
	struct admit_limits lim = { 64, 64, 3, 1 };
	struct admit *a;
	struct sockaddr_in6 s = sa("198.51.100.7");
	void *victim;
	int i, j, k;

	CHECK_INT(admit_new(&lim, 7, &a), 0);
	i = admit_open(a, &s, &tags[0]);
	CHECK(i >= 0);
	CHECK_INT(admit_check(a, &s, &victim), ADMIT_REFUSE_SOURCE);
	admit_authenticated(a, i);
	j = admit_open(a, &s, &tags[1]);
	CHECK(j >= 0);
	admit_authenticated(a, j);
	k = admit_open(a, &s, &tags[2]);
	CHECK(k >= 0);
	admit_authenticated(a, k);
	/* Three in all from it: the total limit holds even for nodes. */
	CHECK_INT(admit_check(a, &s, &victim), ADMIT_REFUSE_SOURCE);
	admit_close(a, j);
	CHECK_INT(admit_check(a, &s, &victim), ADMIT_OK);
	admit_free(a);
}

/* Full: the oldest unauthenticated connection is evicted, never an
 * authenticated one; with only authenticated ones left, refuse. */
static void test_full_evicts_oldest_unauthenticated(void)
{
	struct admit_limits lim = { 4, 4, 4, 4 };
	struct admit *a;
	struct sockaddr_in6 s[6];
	void *victim;
	int slot[6], open, unauth;
	char text[32];

	for (int i = 0; i < 6; i++) {
		snprintf(text, sizeof(text), "203.0.113.%d", i + 1);
		s[i] = sa(text);
	}
	CHECK_INT(admit_new(&lim, 7, &a), 0);
	for (int i = 0; i < 4; i++)
		CHECK((slot[i] = admit_open(a, &s[i], &tags[i])) >= 0);
	admit_authenticated(a, slot[0]);
	admit_authenticated(a, slot[2]);
	CHECK_INT(admit_open(a, &s[4], &tags[4]), -ENFILE);
	CHECK_INT(admit_check(a, &s[4], &victim), ADMIT_EVICT);
	CHECK(victim == &tags[1]);
	admit_close(a, slot[1]);
	CHECK((slot[4] = admit_open(a, &s[4], &tags[4])) >= 0);
	CHECK_INT(admit_check(a, &s[5], &victim), ADMIT_EVICT);
	CHECK(victim == &tags[3]);
	admit_close(a, slot[3]);
	CHECK((slot[5] = admit_open(a, &s[5], &tags[5])) >= 0);
	CHECK_INT(admit_check(a, &s[1], &victim), ADMIT_EVICT);
	CHECK(victim == &tags[4]);
	admit_authenticated(a, slot[4]);
	admit_authenticated(a, slot[5]);
	CHECK_INT(admit_check(a, &s[1], &victim), ADMIT_REFUSE_FULL);
	CHECK(victim == NULL);
	admit_count(a, NULL, &open, &unauth);
	CHECK_INT(open, 4);
	CHECK_INT(unauth, 0);
	{
		/* Each verdict counted once by its reason; admit_open's own
		 * check and the refused admit_open count nothing. */
		struct admit_stats st;

		admit_stats(a, &st);
		CHECK_INT((int)st.admitted, 6);
		CHECK_INT((int)st.evicted, 3);
		CHECK_INT((int)st.refused_full, 1);
		CHECK_INT((int)st.refused_source, 0);
		CHECK_INT((int)st.expired, 0);
		admit_expire(a, slot[4]);
		admit_expire(a, slot[4]);	/* a free slot: not counted */
		admit_stats(a, &st);
		CHECK_INT((int)st.expired, 1);
		CHECK_INT(st.open, 3);
	}
	admit_free(a);
}

/* Free slots but the unauthenticated cap reached: evict too. */
static void test_unauth_cap_evicts_before_full(void)
{
	struct admit_limits lim = { 8, 2, 8, 8 };
	struct admit *a;
	struct sockaddr_in6 x = sa("192.0.2.9"), y = sa("192.0.2.10");
	void *victim;
	int i, j;

	CHECK_INT(admit_new(&lim, 7, &a), 0);
	CHECK((i = admit_open(a, &x, &tags[0])) >= 0);
	CHECK((j = admit_open(a, &x, &tags[1])) >= 0);
	CHECK_INT(admit_check(a, &y, &victim), ADMIT_EVICT);
	CHECK(victim == &tags[0]);
	admit_authenticated(a, i);
	CHECK_INT(admit_check(a, &y, &victim), ADMIT_OK);
	admit_close(a, i);
	admit_close(a, j);
	admit_close(a, j);	/* twice: harmless */
	admit_free(a);
}

/* ---- the slow twin ---- */

struct twin_conn {
	int live, authed, slot;
	uint8_t key[16];
	unsigned long age;
};

static void twin_key(const struct sockaddr_in6 *s, uint8_t key[16])
{
	memcpy(key, &s->sin6_addr, 16);
	if (!IN6_IS_ADDR_V4MAPPED(&s->sin6_addr))
		memset(key + 8, 0, 8);
}

static enum admit_verdict twin_check(const struct twin_conn *c, int n, const struct admit_limits *lim,
    const struct sockaddr_in6 *from, int *victim)
{
	uint8_t key[16];
	int open = 0, unauth = 0, sn = 0, su = 0, old = -1;

	twin_key(from, key);
	for (int i = 0; i < n; i++) {
		if (!c[i].live)
			continue;
		open++;
		unauth += !c[i].authed;
		if (memcmp(c[i].key, key, 16) == 0) {
			sn++;
			su += !c[i].authed;
		}
		if (!c[i].authed && (old < 0 || c[i].age < c[old].age))
			old = i;
	}
	*victim = -1;
	if (sn >= lim->per_source || su >= lim->per_source_unauth)
		return ADMIT_REFUSE_SOURCE;
	if (open < lim->slots && unauth < lim->unauth)
		return ADMIT_OK;
	if (old < 0)
		return ADMIT_REFUSE_FULL;
	*victim = old;
	return ADMIT_EVICT;
}

#define TWIN_N 4096

static void test_differential_against_twin(void)
{
	static struct twin_conn c[TWIN_N];
	struct admit_limits lim = { 48, 32, 6, 3 };
	struct admit *a;
	unsigned long age = 0;
	int n = 0, checks = 0, evicted = 0, refused = 0;

	srandom(9);
	memset(c, 0, sizeof(c));
	CHECK_INT(admit_new(&lim, 12345, &a), 0);
	for (int step = 0; step < 200000 && n < TWIN_N; step++) {
		int op = (int)(random() % 10);

		if (op < 5) {
			/* A few sources, so limits bite: 12 IPv4, 4 /64s. */
			struct sockaddr_in6 s;
			char text[64];
			int r = (int)(random() % 16), tv;
			void *victim;
			enum admit_verdict v, want;

			if (r < 12)
				snprintf(text, sizeof(text), "198.18.0.%d", r);
			else
				snprintf(text, sizeof(text), "2001:db8:%d::%lx", r, random() & 0xffff);
			s = sa(text);
			v = admit_check(a, &s, &victim);
			want = twin_check(c, n, &lim, &s, &tv);
			CHECK_INT(v, want);
			checks++;
			if (v != want)
				break;
			refused += v == ADMIT_REFUSE_SOURCE || v == ADMIT_REFUSE_FULL;
			if (v == ADMIT_EVICT) {
				evicted++;
				CHECK(victim == &c[tv]);
				admit_close(a, c[tv].slot);
				c[tv].live = 0;
				v = ADMIT_OK;
			}
			if (v == ADMIT_OK) {
				c[n].slot = admit_open(a, &s, &c[n]);
				CHECK(c[n].slot >= 0);
				c[n].live = 1;
				c[n].age = ++age;
				twin_key(&s, c[n].key);
				n++;
			}
		} else {
			int i = (int)(random() % (n ? n : 1));

			if (!n || !c[i].live)
				continue;
			if (op < 8 && !c[i].authed) {
				admit_authenticated(a, c[i].slot);
				c[i].authed = 1;
			} else {
				admit_close(a, c[i].slot);
				c[i].live = 0;
			}
		}
	}
	/* Every branch taken many times, or the run proves little. */
	CHECK(checks > 1000);
	CHECK(evicted > 100);
	CHECK(refused > 100);
	printf("# %d checks, %d evictions, %d refusals\n", checks, evicted, refused);
	{
		struct admit_stats st;
		int open, unauth;

		admit_stats(a, &st);
		admit_count(a, NULL, &open, &unauth);
		CHECK_INT((int)st.evicted, evicted);
		CHECK_INT((int)(st.refused_source + st.refused_full), refused);
		CHECK_INT((int)st.admitted, n);
		CHECK_INT(st.open, open);
		CHECK_INT(st.unauth, unauth);
		CHECK_INT(st.lim.slots, 48);
	}
	admit_free(a);
}

int main(void)
{
	RUN(test_limits_rejected);
	RUN(test_source_is_v4_address_or_v6_slash64);
	RUN(test_authentication_frees_the_unauth_share);
	RUN(test_full_evicts_oldest_unauthenticated);
	RUN(test_unauth_cap_evicts_before_full);
	RUN(test_differential_against_twin);
	return HARNESS_END();
}
