/*
 * The data path's worker pool (tund/overlay/workers.c) and the crypto
 * batches it runs (tund/overlay/cryptobatch.c): the split covers every
 * item once and in order, a run returns only when every item is done,
 * many runs of odd sizes in a row, a batch under the threshold stays on
 * the caller, and sealing and opening across threads give the bytes one
 * thread gives, in order, under unique counters, with sessions (keys)
 * changing inside a batch and forged datagrams refused.
 */
#include <errno.h>
#include <stdlib.h>

#include "tests/unit/harness.h"
#include "netstack/aead.h"
#include "netstack/wire.h"
#include "tund/overlay/cryptobatch.h"
#include "tund/overlay/workers.h"

static void split_covers(void)
{
	for (int nw = 1; nw <= WORKERS_MAX; nw++) {
		for (size_t n = 0; n < 300; n++) {
			size_t next = 0, mn = (size_t)-1, mx = 0;

			for (int i = 0; i < nw; i++) {
				size_t lo, hi;

				workers_split(n, nw, i, &lo, &hi);
				CHECK_INT(lo, next);
				CHECK(hi >= lo);
				next = hi;
				if (hi - lo < mn)
					mn = hi - lo;
				if (hi - lo > mx)
					mx = hi - lo;
			}
			CHECK_INT(next, n);
			CHECK(mx - mn <= 1);
		}
	}
}

#define ITEMS 1000
struct marks {
	int worker[ITEMS];
	int hits[ITEMS];
};

static void mark(void *arg, int worker, size_t lo, size_t hi)
{
	struct marks *m = arg;

	for (size_t i = lo; i < hi; i++) {
		m->worker[i] = worker;
		m->hits[i]++;
	}
}

static void runs_many_odd_sizes(void)
{
	struct workers *w;
	struct marks *m = calloc(1, sizeof(*m));
	uint64_t total = 0, sum = 0;
	int used[WORKERS_MAX] = { 0 };

	CHECK_INT(workers_new(3, &w), 0);
	CHECK_INT(workers_count(w), 3);
	for (int round = 0; round < 2000; round++) {
		size_t n = (size_t)(round * 7919) % ITEMS;

		memset(m, 0, sizeof(*m));
		workers_run(w, n, 8, mark, m);
		total += n;
		for (size_t i = 0; i < n; i++) {
			if (m->hits[i] != 1)
				H_FAIL("round %d item %zu done %d times", round, i, m->hits[i]);
			/* Contiguous ranges in thread order: results land in order. */
			if (i && m->worker[i] < m->worker[i - 1])
				H_FAIL("round %d item %zu: worker %d after %d", round, i, m->worker[i], m->worker[i - 1]);
			used[m->worker[i]] = 1;
		}
		for (size_t i = n; i < ITEMS; i++)
			if (m->hits[i])
				H_FAIL("round %d item %zu beyond the batch was touched", round, i);
	}
	for (int i = 0; i < 3; i++) {
		sum += workers_items(w, i);
		CHECK(used[i]);
		CHECK(workers_items(w, i) > 0);
	}
	CHECK_INT(sum, total);
	workers_free(w);
	free(m);
}

static void small_batch_stays_on_caller(void)
{
	struct workers *w;
	struct marks m;

	memset(&m, 0, sizeof(m));
	CHECK_INT(workers_new(4, &w), 0);
	workers_run(w, 7, 8, mark, &m);
	for (int i = 0; i < 7; i++) {
		CHECK_INT(m.worker[i], 0);
		CHECK_INT(m.hits[i], 1);
	}
	CHECK_INT(workers_items(w, 0), 7);
	CHECK_INT(workers_items(w, 1), 0);
	/* No pool at all, or one thread: the same. */
	workers_run(NULL, 50, 8, mark, &m);
	CHECK_INT(m.hits[49], 1);
	workers_free(w);
	CHECK_INT(workers_new(1, &w), 0);
	workers_run(w, 100, 8, mark, &m);
	CHECK_INT(workers_items(w, 0), 100);
	workers_free(w);
	CHECK_INT(workers_new(0, &w), -EINVAL);
	CHECK_INT(workers_new(WORKERS_MAX + 1, &w), -EINVAL);
	CHECK_INT(workers_wanted(1), 1);
	CHECK(workers_wanted(0) >= 1 && workers_wanted(0) <= WORKERS_MAX);
	CHECK_INT(workers_wanted(99), WORKERS_MAX);
	CHECK_INT(workers_auto(-1), 1);
	CHECK_INT(workers_auto(1), 1);
	CHECK_INT(workers_auto(2), 1);
	CHECK_INT(workers_auto(4), 3);
	CHECK_INT(workers_auto(64), WORKERS_MAX);
}

/* ------------------------------------------------ crypto batches */

#define PKTS 200
#define SLOT 1600

struct sess {
	struct aead *a;
	uint64_t ctr;
};

static size_t pkt_len(int i)
{
	return (size_t)(i * 37) % 1400;	/* odd sizes, empty ones too */
}

static void pkt_fill(uint8_t *p, size_t len, int i)
{
	for (size_t k = 0; k < len; k++)
		p[k] = (uint8_t)(i * 131 + k);
}

/* Session of packet i: runs of a few packets, so the lanes change keys
 * inside one range. */
static int pkt_sess(int i)
{
	return (i / 5) % 3;
}

static void seal_open(enum aead_cipher c)
{
	static uint8_t slot[PKTS][SLOT], copy[PKTS][SLOT];
	struct sess s[3];
	struct cryptobatch *cb = calloc(1, sizeof(*cb)), *ob = calloc(1, sizeof(*ob));
	struct workers *w;
	uint8_t key[AEAD_KEY_LEN], pt[SLOT];
	uint64_t seen[3] = { 0 };

	CHECK_INT(workers_new(3, &w), 0);
	for (int k = 0; k < 3; k++) {
		memset(key, 0x40 + k, sizeof(key));
		CHECK_INT(aead_new(c, key, &s[k].a), 0);
		s[k].ctr = 1000 * (uint64_t)k;
	}
	CHECK_INT(cryptobatch_init(cb, 0, 3), 0);
	CHECK_INT(cryptobatch_init(ob, 1, 3), 0);
	for (int round = 0; round < 5; round++) {
		/* The loop thread's part: counters given in order, one each. */
		for (int i = 0; i < PKTS; i++) {
			struct sess *x = &s[pkt_sess(i)];

			memset(slot[i], 0, WIRE_DATA_HDR_LEN);
			memcpy(slot[i], &x->ctr, sizeof(x->ctr));
			pkt_fill(slot[i] + WIRE_DATA_HDR_LEN, pkt_len(i), i + round);
			CHECK_INT(cryptobatch_add(cb, x->a, x->ctr++, slot[i], pkt_len(i)), i);
		}
		cryptobatch_run(cb, w);
		/* One thread, one context per key, in order: every packet opens
		 * under the counter in its header, each counter once. */
		for (int i = 0; i < PKTS; i++) {
			int k = pkt_sess(i);
			uint64_t ctr;

			CHECK_INT(cb->job[i].rc, 0);
			memcpy(&ctr, slot[i], sizeof(ctr));
			CHECK_INT(ctr, 1000 * (uint64_t)k + seen[k]);
			seen[k]++;
			CHECK_INT(aead_open(s[k].a, ctr, slot[i], WIRE_DATA_HDR_LEN, slot[i] + WIRE_DATA_HDR_LEN,
			    pkt_len(i) + AEAD_TAG_LEN, pt), (int)pkt_len(i));
			memcpy(copy[i], slot[i], SLOT);
			pkt_fill(slot[i], pkt_len(i), i + round);
			CHECK_MEM(pt, slot[i], pkt_len(i));
		}
		cb->n = 0;
		/* The other way: opened across the threads, one forged. */
		copy[round * 17][WIRE_DATA_HDR_LEN] ^= 1;
		for (int i = 0; i < PKTS; i++) {
			uint64_t ctr;

			memcpy(&ctr, copy[i], sizeof(ctr));
			cryptobatch_add(ob, s[pkt_sess(i)].a, ctr, copy[i], pkt_len(i) + AEAD_TAG_LEN);
		}
		cryptobatch_run(ob, w);
		for (int i = 0; i < PKTS; i++) {
			if (i == round * 17) {
				CHECK_INT(ob->job[i].rc, -EBADMSG);
				memset(pt, 0, sizeof(pt));
				CHECK_MEM(copy[i] + WIRE_DATA_HDR_LEN, pt, pkt_len(i));
				continue;
			}
			CHECK_INT(ob->job[i].rc, (int)pkt_len(i));
			pkt_fill(pt, pkt_len(i), i + round);
			CHECK_MEM(copy[i] + WIRE_DATA_HDR_LEN, pt, pkt_len(i));
		}
		ob->n = 0;
	}
	CHECK(workers_items(w, 1) > 0 && workers_items(w, 2) > 0);
	CHECK_INT(cryptobatch_add(cb, s[0].a, 0, slot[0], 0), 0);
	for (int i = 1; i < CRYPTOBATCH_MAX; i++)
		cryptobatch_add(cb, s[0].a, (uint64_t)i, slot[0], 0);
	CHECK_INT(cryptobatch_add(cb, s[0].a, 0, slot[0], 0), -ENOSPC);
	cryptobatch_free(cb);
	cryptobatch_free(ob);
	for (int k = 0; k < 3; k++)
		aead_free(s[k].a);
	workers_free(w);
	free(cb);
	free(ob);
}

static void seal_open_chacha(void) { seal_open(AEAD_CHACHA20_POLY1305); }
static void seal_open_aes(void) { seal_open(AEAD_AES256_GCM); }

/* A batch made for fewer threads than the pool has never lets a thread
 * without a lane of its own near the sessions' contexts. */
static void lanes_short_stays_on_caller(void)
{
	static uint8_t slot[64][SLOT];
	struct cryptobatch *cb = calloc(1, sizeof(*cb));
	struct workers *w;
	struct aead *a;
	uint8_t key[AEAD_KEY_LEN] = { 1 };

	CHECK_INT(workers_new(4, &w), 0);
	CHECK_INT(aead_new(AEAD_AES256_GCM, key, &a), 0);
	CHECK_INT(cryptobatch_init(cb, 0, 2), 0);
	for (int i = 0; i < 64; i++)
		cryptobatch_add(cb, a, (uint64_t)i, slot[i], 100);
	cryptobatch_run(cb, w);
	for (int i = 0; i < 64; i++)
		CHECK_INT(cb->job[i].rc, 0);
	CHECK_INT(workers_items(w, 0), 64);
	CHECK_INT(workers_items(w, 1), 0);
	cryptobatch_free(cb);
	CHECK_INT(cryptobatch_init(cb, 0, 0), -EINVAL);
	aead_free(a);
	workers_free(w);
	free(cb);
}

int main(void)
{
	RUN(split_covers);
	RUN(runs_many_odd_sizes);
	RUN(small_batch_stays_on_caller);
	RUN(seal_open_chacha);
	RUN(seal_open_aes);
	RUN(lanes_short_stays_on_caller);
	return HARNESS_END();
}
