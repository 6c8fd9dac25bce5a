/* The hash map under the authority's and the node's indexes
 * (tund/base/hmap.c): SipHash-2-4 against the paper's vectors; insert,
 * lookup, removal; keys that differ only in length; several values under
 * one key (the newest wins, and stays so through growth and shrinking);
 * chains that share a bucket; and a differential run against a naive
 * list over 200,000 random operations that checks every key each round. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/harness.h"
#include "tund/base/hmap.h"

static const uint8_t test_key[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };

static void test_siphash_vectors(void)
{
	uint8_t msg[64];

	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	/* Aumasson and Bernstein, "SipHash: a fast short-input PRF",
	 * appendix A (15 bytes), and the reference vectors for 0 and 8. */
	CHECK(hmap_siphash(test_key, msg, 15) == 0xa129ca6149be45e5ull);
	CHECK(hmap_siphash(test_key, msg, 0) == 0x726fdb47dd0e0e31ull);
	CHECK(hmap_siphash(test_key, msg, 8) == 0x93f5f5799a932462ull);
}

static void test_basic(void)
{
	struct hmap *m;
	int a, b, c;

	CHECK_INT(hmap_new(&m), 0);
	CHECK(hmap_get(m, "alice@example.com", 17) == NULL);
	CHECK_INT(hmap_add(m, "alice@example.com", 17, &a), 0);
	CHECK_INT(hmap_add(m, "bob@example.com", 15, &b), 0);
	/* Same bytes, one shorter: another key. */
	CHECK_INT(hmap_add(m, "alice@example.co", 16, &c), 0);
	CHECK(hmap_get(m, "alice@example.com", 17) == &a);
	CHECK(hmap_get(m, "alice@example.co", 16) == &c);
	CHECK(hmap_get(m, "bob@example.com", 15) == &b);
	CHECK(hmap_get(m, "carol@example.com", 17) == NULL);
	CHECK_INT((int)hmap_count(m), 3);
	/* Only the pair named goes. */
	CHECK_INT(hmap_del(m, "alice@example.com", 17, &b), -ENOENT);
	CHECK_INT(hmap_del(m, "alice@example.com", 17, &a), 0);
	CHECK_INT(hmap_del(m, "alice@example.com", 17, &a), -ENOENT);
	CHECK(hmap_get(m, "alice@example.com", 17) == NULL);
	CHECK(hmap_get(m, "alice@example.co", 16) == &c);
	CHECK_INT((int)hmap_count(m), 2);
	/* The empty key is a key. */
	CHECK_INT(hmap_add(m, "", 0, &a), 0);
	CHECK(hmap_get(m, "", 0) == &a);
	hmap_free(m);
}

static void test_key_too_long(void)
{
	static uint8_t big[HMAP_KEY_MAX + 1];
	struct hmap *m;
	int v;

	CHECK_INT(hmap_new_keyed(test_key, &m), 0);
	CHECK_INT(hmap_add(m, big, sizeof(big), &v), -EINVAL);
	CHECK_INT(hmap_add(m, big, HMAP_KEY_MAX, &v), 0);
	CHECK(hmap_get(m, big, HMAP_KEY_MAX) == &v);
	CHECK_INT((int)hmap_count(m), 1);
	hmap_free(m);
}

/* Two connections of one node: the newer answers, the older again once
 * the newer is gone, through a growth to thousands of buckets and back. */
static void test_duplicates_through_resize(void)
{
	struct hmap *m;
	int old, young, other[5000];
	char k[32];

	CHECK_INT(hmap_new_keyed(test_key, &m), 0);
	CHECK_INT(hmap_add(m, "bob@example.com", 15, &old), 0);
	CHECK_INT(hmap_add(m, "bob@example.com", 15, &young), 0);
	CHECK(hmap_get(m, "bob@example.com", 15) == &young);
	for (int i = 0; i < 5000; i++) {
		snprintf(k, sizeof(k), "n%d@example.com", i);
		CHECK_INT(hmap_add(m, k, strlen(k), &other[i]), 0);
	}
	CHECK(hmap_buckets(m) >= 5002);
	CHECK(hmap_get(m, "bob@example.com", 15) == &young);
	for (int i = 0; i < 5000; i++) {
		snprintf(k, sizeof(k), "n%d@example.com", i);
		CHECK_INT(hmap_del(m, k, strlen(k), &other[i]), 0);
	}
	/* It gave its buckets back as it emptied. */
	CHECK(hmap_buckets(m) <= 64);
	CHECK(hmap_get(m, "bob@example.com", 15) == &young);
	CHECK_INT(hmap_del(m, "bob@example.com", 15, &young), 0);
	CHECK(hmap_get(m, "bob@example.com", 15) == &old);
	CHECK_INT(hmap_del(m, "bob@example.com", 15, &old), 0);
	CHECK(hmap_get(m, "bob@example.com", 15) == NULL);
	CHECK_INT((int)hmap_count(m), 0);
	hmap_free(m);
}

/* Keys that land in one bucket of the smallest table: each still found,
 * and removing one from the middle of the chain keeps the rest. */
static void test_shared_bucket(void)
{
	struct hmap *m;
	uint32_t keys[6];
	int vals[6], n = 0;

	CHECK_INT(hmap_new_keyed(test_key, &m), 0);
	for (uint32_t k = 1; n < 6 && k < 1000000; k++)
		if ((hmap_siphash(test_key, &k, 4) & 15) == 3)
			keys[n++] = k;
	CHECK_INT(n, 6);
	/* Six in sixteen buckets: no growth yet, one chain of six. */
	for (int i = 0; i < 6; i++)
		CHECK_INT(hmap_add(m, &keys[i], 4, &vals[i]), 0);
	CHECK_INT((int)hmap_buckets(m), 16);
	CHECK_INT(hmap_del(m, &keys[2], 4, &vals[2]), 0);
	for (int i = 0; i < 6; i++)
		CHECK(hmap_get(m, &keys[i], 4) == (i == 2 ? NULL : &vals[i]));
	hmap_free(m);
}

/* The naive twin: a list of (key, value) in order of addition; a removal
 * takes the newest equal pair, as hmap_del does. */
struct naive {
	uint32_t key[4096];
	int *val[4096];
	int n;
};

static int *naive_get(const struct naive *v, uint32_t key)
{
	for (int i = v->n - 1; i >= 0; i--)
		if (v->key[i] == key)
			return v->val[i];
	return NULL;
}

static int naive_del(struct naive *v, uint32_t key, int *val)
{
	for (int i = v->n - 1; i >= 0; i--) {
		if (v->key[i] == key && v->val[i] == val) {
			memmove(&v->key[i], &v->key[i + 1], sizeof(v->key[0]) * (size_t)(v->n - i - 1));
			memmove(&v->val[i], &v->val[i + 1], sizeof(v->val[0]) * (size_t)(v->n - i - 1));
			v->n--;
			return 0;
		}
	}
	return -ENOENT;
}

static void test_differential(void)
{
	static struct naive v;
	static int pool[8];
	struct hmap *m;
	int bad = 0;

	srand(11);
	CHECK_INT(hmap_new(&m), 0);
	for (int op = 0; op < 200000 && !bad; op++) {
		/* Few keys and few values: duplicates and misses are common.
		 * Phases of mostly adding, then mostly removing, so the map
		 * grows and shrinks many times. */
		uint32_t key = (uint32_t)(rand() % 3000);
		int *val = &pool[rand() % 8];
		int adding = (op / 5000) % 2 == 0 ? rand() % 4 != 0 : rand() % 4 == 0;

		if (adding && v.n < 4096) {
			bad |= hmap_add(m, &key, sizeof(key), val) != 0;
			v.key[v.n] = key;
			v.val[v.n++] = val;
		} else {
			bad |= hmap_del(m, &key, sizeof(key), val) != naive_del(&v, key, val);
		}
		bad |= hmap_count(m) != (size_t)v.n;
		if (op % 1000 == 0)
			for (uint32_t k = 0; k < 3000; k++)
				bad |= hmap_get(m, &k, sizeof(k)) != naive_get(&v, k);
		if (bad)
			H_FAIL("hmap and the naive list disagree at operation %d", op);
	}
	hmap_free(m);
}

int main(void)
{
	RUN(test_siphash_vectors);
	RUN(test_basic);
	RUN(test_key_too_long);
	RUN(test_duplicates_through_resize);
	RUN(test_shared_bucket);
	RUN(test_differential);
	return HARNESS_END();
}
