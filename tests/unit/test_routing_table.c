/*
 * Tests for routing/table.c: hand-written cases for the corners (default
 * route, host routes, overlap, replace, glue nodes), then a differential test
 * in the style of the kernel's allowedips selftest: thousands of random
 * inserts, removes and peer removals applied both to the trie and to a naive
 * list, with every lookup compared against a linear longest-match scan.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "routing/table.h"
#include "harness.h"

static int peers[64];
#define P(i) ((void *)&peers[i])

static void v4(uint8_t out[4], const char *s)
{
	if (inet_pton(AF_INET, s, out) != 1)
		abort();
}

static void v6(uint8_t out[16], const char *s)
{
	if (inet_pton(AF_INET6, s, out) != 1)
		abort();
}

static void *look4(const struct route_table *t, const char *s)
{
	uint8_t a[4];

	v4(a, s);
	return route_table_lookup(t, AF_INET, a);
}

static void *look6(const struct route_table *t, const char *s)
{
	uint8_t a[16];

	v6(a, s);
	return route_table_lookup(t, AF_INET6, a);
}

static int ins4(struct route_table *t, const char *s, uint8_t plen, void *peer)
{
	uint8_t a[4];

	v4(a, s);
	return route_table_insert(t, AF_INET, a, plen, peer);
}

static int ins6(struct route_table *t, const char *s, uint8_t plen, void *peer)
{
	uint8_t a[16];

	v6(a, s);
	return route_table_insert(t, AF_INET6, a, plen, peer);
}

static int rm4(struct route_table *t, const char *s, uint8_t plen)
{
	uint8_t a[4];

	v4(a, s);
	return route_table_remove(t, AF_INET, a, plen);
}

static int rm6(struct route_table *t, const char *s, uint8_t plen)
{
	uint8_t a[16];

	v6(a, s);
	return route_table_remove(t, AF_INET6, a, plen);
}

static void test_empty_and_errors(void)
{
	struct route_table *t;
	uint8_t a[16] = { 0 };

	CHECK_INT(route_table_init(&t), 0);
	CHECK_INT(route_table_count(t), 0);
	CHECK(route_table_lookup(t, AF_INET, a) == NULL);
	CHECK(route_table_lookup(t, AF_INET6, a) == NULL);
	CHECK(route_table_lookup(t, AF_UNIX, a) == NULL);
	CHECK_INT(route_table_insert(t, AF_INET, a, 33, P(0)), -EINVAL);
	CHECK_INT(route_table_insert(t, AF_INET6, a, 129, P(0)), -EINVAL);
	CHECK_INT(route_table_insert(t, AF_INET, a, 8, NULL), -EINVAL);
	CHECK_INT(route_table_insert(t, AF_PACKET, a, 8, P(0)), -EAFNOSUPPORT);
	CHECK_INT(route_table_remove(t, AF_INET, a, 0), -ENOENT);
	CHECK_INT(route_table_remove(t, AF_INET, a, 40), -EINVAL);
	CHECK_INT(route_table_remove(t, 12345, a, 0), -EAFNOSUPPORT);
	CHECK_INT(route_table_count(t), 0);
	route_table_free(t);
	route_table_free(NULL);
}

static void test_default_and_host(void)
{
	struct route_table *t;

	CHECK_INT(route_table_init(&t), 0);
	CHECK_INT(ins4(t, "0.0.0.0", 0, P(1)), 0);
	CHECK(look4(t, "1.2.3.4") == P(1));
	CHECK(look4(t, "255.255.255.255") == P(1));
	CHECK(look6(t, "::1") == NULL);	/* families are separate */
	CHECK_INT(ins4(t, "100.64.0.7", 32, P(2)), 0);
	CHECK(look4(t, "100.64.0.7") == P(2));
	CHECK(look4(t, "100.64.0.6") == P(1));
	CHECK(look4(t, "100.64.0.8") == P(1));
	CHECK_INT(ins6(t, "::", 0, P(3)), 0);
	CHECK_INT(ins6(t, "fd12:3456::7", 128, P(4)), 0);
	CHECK(look6(t, "fd12:3456::7") == P(4));
	CHECK(look6(t, "fd12:3456::6") == P(3));
	CHECK(look6(t, "fd12:3456::7:0") == P(3));
	CHECK(look4(t, "100.64.0.7") == P(2));
	CHECK_INT(route_table_count(t), 4);
	/* Host bits in a /0 are ignored: this removes the default. */
	CHECK_INT(rm4(t, "9.9.9.9", 0), 0);
	CHECK(look4(t, "1.2.3.4") == NULL);
	CHECK(look4(t, "100.64.0.7") == P(2));
	CHECK_INT(rm6(t, "fd12:3456::7", 128), 0);
	CHECK_INT(rm6(t, "fd12:3456::7", 128), -ENOENT);
	CHECK(look6(t, "fd12:3456::7") == P(3));
	CHECK_INT(route_table_count(t), 2);
	route_table_free(t);
}

static void test_overlap_and_replace(void)
{
	struct route_table *t;

	CHECK_INT(route_table_init(&t), 0);
	CHECK_INT(ins4(t, "10.0.0.0", 8, P(1)), 0);
	CHECK_INT(ins4(t, "10.1.0.0", 16, P(2)), 0);
	CHECK_INT(ins4(t, "10.1.2.0", 24, P(3)), 0);
	CHECK_INT(ins4(t, "10.1.2.128", 25, P(4)), 0);
	CHECK(look4(t, "10.9.9.9") == P(1));
	CHECK(look4(t, "10.1.9.9") == P(2));
	CHECK(look4(t, "10.1.2.3") == P(3));
	CHECK(look4(t, "10.1.2.200") == P(4));
	CHECK(look4(t, "11.0.0.0") == NULL);
	/* Replace keeps the count; host bits are masked off. */
	CHECK_INT(ins4(t, "10.1.255.255", 16, P(5)), 0);
	CHECK_INT(route_table_count(t), 4);
	CHECK(look4(t, "10.1.9.9") == P(5));
	CHECK(look4(t, "10.1.2.3") == P(3));
	/* Removing a middle prefix falls back to the shorter one. */
	CHECK_INT(rm4(t, "10.1.2.0", 24), 0);
	CHECK(look4(t, "10.1.2.3") == P(5));
	CHECK(look4(t, "10.1.2.200") == P(4));
	/* Inserted in reverse order: the longer prefix first. */
	CHECK_INT(ins6(t, "fd99::1:0:0", 96, P(6)), 0);
	CHECK_INT(ins6(t, "fd99::", 64, P(7)), 0);
	CHECK_INT(ins6(t, "fd00::", 8, P(8)), 0);
	CHECK(look6(t, "fd99::1:0:5") == P(6));
	CHECK(look6(t, "fd99::2:0:5") == P(7));
	CHECK(look6(t, "fd98::1") == P(8));
	CHECK(look6(t, "fe80::1") == NULL);
	/* Two siblings that need a glue node, then the glue must not match. */
	CHECK_INT(ins6(t, "2001:db8:a::", 48, P(9)), 0);
	CHECK_INT(ins6(t, "2001:db8:b::", 48, P(10)), 0);
	CHECK(look6(t, "2001:db8:a::1") == P(9));
	CHECK(look6(t, "2001:db8:b::1") == P(10));
	CHECK(look6(t, "2001:db8:c::1") == NULL);
	/* A prefix exactly at the glue point turns the glue into a route. */
	CHECK_INT(ins6(t, "2001:db8:a::", 47, P(11)), 0);
	CHECK(look6(t, "2001:db8:c::1") == NULL);
	CHECK(look6(t, "2001:db8:a::1") == P(9));
	CHECK_INT(rm6(t, "2001:db8:a::", 48), 0);
	CHECK(look6(t, "2001:db8:a::1") == P(11));
	CHECK(look6(t, "2001:db8:b::1") == P(10));	/* the /48 is longer */
	/* A glue node is not a prefix: removing it is -ENOENT. */
	CHECK_INT(ins6(t, "2001:db8:100::", 48, P(12)), 0);
	CHECK_INT(ins6(t, "2001:db8:200::", 48, P(12)), 0);
	CHECK_INT(rm6(t, "2001:db8::", 38), -ENOENT);
	CHECK_INT(route_table_count(t), 10);
	route_table_remove_peer(t, P(12));
	CHECK_INT(route_table_count(t), 8);
	CHECK(look6(t, "2001:db8:100::1") == NULL);
	route_table_remove_peer(t, P(1));
	CHECK(look4(t, "10.9.9.9") == NULL);
	CHECK(look4(t, "10.1.2.200") == P(4));
	route_table_remove_peer(t, P(63));	/* unknown peer: no change */
	CHECK_INT(route_table_count(t), 7);
	route_table_free(t);
}

struct walk_acc {
	int n;
	int family_order_ok;
	int last_family;
	uint8_t first6[16];
	uint8_t first6_plen;
};

static int walk_cb(int family, const uint8_t *addr, uint8_t plen, void *peer, void *arg)
{
	struct walk_acc *w = arg;

	if (family < w->last_family && w->last_family == AF_INET6)
		w->family_order_ok = 0;
	if (family == AF_INET6 && w->last_family != AF_INET6) {
		memcpy(w->first6, addr, 16);
		w->first6_plen = plen;
	}
	w->last_family = family;
	w->n++;
	return peer == P(40) ? 7 : 0;
}

static void test_walk(void)
{
	struct route_table *t;
	struct walk_acc w = { 0, 1, 0, { 0 }, 0 };
	uint8_t want[16];

	CHECK_INT(route_table_init(&t), 0);
	CHECK_INT(ins6(t, "fd99::ff", 64, P(1)), 0);
	CHECK_INT(ins4(t, "10.0.0.0", 8, P(1)), 0);
	CHECK_INT(ins6(t, "fd00::", 8, P(2)), 0);
	CHECK_INT(ins4(t, "10.0.0.1", 32, P(3)), 0);
	CHECK_INT(route_table_walk(t, walk_cb, &w), 0);
	CHECK_INT(w.n, 4);
	CHECK(w.family_order_ok);
	v6(want, "fd00::");
	CHECK_MEM(w.first6, want, 16);
	CHECK_INT(w.first6_plen, 8);
	/* A non-zero return stops the walk and is passed back. */
	CHECK_INT(ins4(t, "0.0.0.0", 0, P(40)), 0);
	w.n = 0;
	CHECK_INT(route_table_walk(t, walk_cb, &w), 7);
	CHECK_INT(w.n, 1);
	route_table_free(t);
}

/* ---- differential test against a naive list ---- */

struct naive {
	int family;
	uint8_t addr[16];	/* masked */
	uint8_t plen;
	void *peer;
};

#define NAIVE_MAX 20000
static struct naive naive[NAIVE_MAX];
static int naive_n;

/* xorshift64*: deterministic, so a failure reproduces. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

static void mask_addr(uint8_t *a, int bytes, unsigned plen)
{
	for (int i = 0; i < bytes; i++) {
		int keep = (int)plen - i * 8;

		if (keep >= 8)
			continue;
		a[i] &= keep <= 0 ? 0 : (uint8_t)(0xff << (8 - keep));
	}
}

static int prefix_has(const struct naive *e, const uint8_t *addr)
{
	uint8_t tmp[16];
	int bytes = e->family == AF_INET ? 4 : 16;

	memcpy(tmp, addr, bytes);
	mask_addr(tmp, bytes, e->plen);
	return memcmp(tmp, e->addr, bytes) == 0;
}

static void *naive_lookup(int family, const uint8_t *addr)
{
	int best = -1;
	void *peer = NULL;

	for (int i = 0; i < naive_n; i++) {
		if (naive[i].family != family || naive[i].plen <= best)
			continue;
		if (prefix_has(&naive[i], addr)) {
			best = naive[i].plen;
			peer = naive[i].peer;
		}
	}
	return peer;
}

static int naive_find(int family, const uint8_t *addr, uint8_t plen)
{
	int bytes = family == AF_INET ? 4 : 16;

	for (int i = 0; i < naive_n; i++)
		if (naive[i].family == family && naive[i].plen == plen &&
		    memcmp(naive[i].addr, addr, bytes) == 0)
			return i;
	return -1;
}

/*
 * Random addresses cluster around a few bases so prefixes overlap and share
 * long common runs, which is what exercises glue nodes and splicing.
 */
static uint8_t bases[2][8][16];

static void rand_addr(int family, uint8_t *a)
{
	int bytes = family == AF_INET ? 4 : 16;
	const uint8_t *b = bases[family == AF_INET6][rnd() % 8];

	memcpy(a, b, bytes);
	switch (rnd() % 4) {
	case 0:		/* fully random */
		for (int i = 0; i < bytes; i++)
			a[i] = (uint8_t)rnd();
		break;
	case 1:		/* flip a few bits anywhere */
		for (int k = 0; k < 3; k++) {
			unsigned bit = (unsigned)(rnd() % (unsigned)(bytes * 8));
			a[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
		}
		break;
	default:	/* randomize the tail after a random point */
		for (unsigned bit = (unsigned)(rnd() % (unsigned)(bytes * 8 + 1));
		     bit < (unsigned)bytes * 8; bit++)
			if (rnd() & 1)
				a[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
		break;
	}
}

static void random_prefix(int *family, uint8_t *a, uint8_t *plen)
{
	*family = rnd() % 2 ? AF_INET : AF_INET6;
	rand_addr(*family, a);
	*plen = (uint8_t)(rnd() % (*family == AF_INET ? 33 : 129));
}

static int diff_failures;

static void compare_lookups(struct route_table *t, int rounds)
{
	for (int k = 0; k < rounds; k++) {
		int family = rnd() % 2 ? AF_INET : AF_INET6;
		uint8_t a[16];

		/* Half the time probe inside an existing prefix. */
		if (naive_n && rnd() % 2) {
			const struct naive *e = &naive[rnd() % (uint64_t)naive_n];
			int bytes = e->family == AF_INET ? 4 : 16;

			family = e->family;
			memcpy(a, e->addr, bytes);
			for (int bit = e->plen; bit < bytes * 8; bit++)
				if (rnd() & 1)
					a[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
		} else {
			rand_addr(family, a);
		}
		void *want = naive_lookup(family, a);
		void *got = route_table_lookup(t, family, a);

		if (want != got && diff_failures++ < 5)
			H_FAIL("lookup mismatch family %d: trie %p naive %p",
			       family, got, want);
	}
}

static void test_differential(void)
{
	struct route_table *t;
	int ops = 30000;

	for (int f = 0; f < 2; f++)
		for (int i = 0; i < 8; i++)
			for (int j = 0; j < 16; j++)
				bases[f][i][j] = (uint8_t)rnd();
	naive_n = 0;
	diff_failures = 0;
	CHECK_INT(route_table_init(&t), 0);
	for (int op = 0; op < ops; op++) {
		unsigned r = (unsigned)(rnd() % 100);
		int family, idx, ret;
		uint8_t a[16], plen;

		if (r < 60) {
			void *peer = P(rnd() % 32);

			random_prefix(&family, a, &plen);
			ret = route_table_insert(t, family, a, plen, peer);
			CHECK_INT(ret, 0);
			mask_addr(a, family == AF_INET ? 4 : 16, plen);
			idx = naive_find(family, a, plen);
			if (idx >= 0) {
				naive[idx].peer = peer;
			} else if (naive_n < NAIVE_MAX) {
				naive[naive_n].family = family;
				memset(naive[naive_n].addr, 0, 16);
				memcpy(naive[naive_n].addr, a, 16);
				naive[naive_n].plen = plen;
				naive[naive_n].peer = peer;
				naive_n++;
			}
		} else if (r < 85 && naive_n) {
			/* Remove an existing prefix, passed with host bits set. */
			struct naive e = naive[rnd() % (uint64_t)naive_n];
			int bytes = e.family == AF_INET ? 4 : 16;

			memcpy(a, e.addr, 16);
			for (int bit = e.plen; bit < bytes * 8; bit++)
				if (rnd() & 1)
					a[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
			CHECK_INT(route_table_remove(t, e.family, a, e.plen), 0);
			idx = naive_find(e.family, e.addr, e.plen);
			naive[idx] = naive[--naive_n];
		} else if (r < 97) {
			/* Remove a random prefix that is probably absent. */
			random_prefix(&family, a, &plen);
			ret = route_table_remove(t, family, a, plen);
			mask_addr(a, family == AF_INET ? 4 : 16, plen);
			idx = naive_find(family, a, plen);
			if (idx >= 0) {
				CHECK_INT(ret, 0);
				naive[idx] = naive[--naive_n];
			} else {
				CHECK_INT(ret, -ENOENT);
			}
		} else {
			void *peer = P(rnd() % 32);

			route_table_remove_peer(t, peer);
			for (int i = 0; i < naive_n; )
				if (naive[i].peer == peer)
					naive[i] = naive[--naive_n];
				else
					i++;
		}
		if (route_table_count(t) != (size_t)naive_n && diff_failures++ < 5)
			H_FAIL("count %zu != naive %d after op %d",
			       route_table_count(t), naive_n, op);
		if (op % 500 == 499)
			compare_lookups(t, 2000);
	}
	compare_lookups(t, 50000);
	/* Empty it peer by peer: the trie must end with nothing in it. */
	for (int i = 0; i < 32; i++)
		route_table_remove_peer(t, P(i));
	CHECK_INT(route_table_count(t), 0);
	naive_n = 0;
	compare_lookups(t, 1000);
	route_table_free(t);
}

/* Many host routes under one big prefix: the shape an overlay really has. */
static void test_dense_hosts(void)
{
	struct route_table *t;
	uint8_t a[4] = { 100, 64, 0, 0 };

	CHECK_INT(route_table_init(&t), 0);
	CHECK_INT(route_table_insert(t, AF_INET, a, 10, P(0)), 0);
	for (int i = 0; i < 4096; i++) {
		a[2] = (uint8_t)(i >> 8);
		a[3] = (uint8_t)i;
		CHECK_INT(route_table_insert(t, AF_INET, a, 32, P(1 + i % 50)), 0);
	}
	CHECK_INT(route_table_count(t), 4097);
	for (int i = 0; i < 4096; i++) {
		a[2] = (uint8_t)(i >> 8);
		a[3] = (uint8_t)i;
		if (route_table_lookup(t, AF_INET, a) != P(1 + i % 50)) {
			H_FAIL("host %d", i);
			break;
		}
	}
	a[2] = 0x20;
	CHECK(route_table_lookup(t, AF_INET, a) == P(0));
	for (int i = 0; i < 4096; i += 2) {
		a[2] = (uint8_t)(i >> 8);
		a[3] = (uint8_t)i;
		CHECK_INT(route_table_remove(t, AF_INET, a, 32), 0);
	}
	a[2] = 0;
	a[3] = 2;
	CHECK(route_table_lookup(t, AF_INET, a) == P(0));
	a[3] = 3;
	CHECK(route_table_lookup(t, AF_INET, a) == P(4));
	CHECK_INT(route_table_count(t), 2049);
	route_table_free(t);
}

int main(void)
{
	RUN(test_empty_and_errors);
	RUN(test_default_and_host);
	RUN(test_overlap_and_replace);
	RUN(test_walk);
	RUN(test_differential);
	RUN(test_dense_hosts);
	return HARNESS_END();
}
