/*
 * The RFC 6479 window against its obvious slow twin: a set of every counter
 * accepted plus the highest one. Both must agree on every packet of random
 * sequences: in order, reordered within the window, duplicated, far jumps,
 * too old, and near the counter limit.
 */
#include <stdlib.h>

#include "tests/unit/harness.h"
#include "netstack/replay.h"

/* The naive model: an open-addressing hash set of accepted counters. */
#define NAIVE_CAP (1u << 20)

struct naive {
	uint64_t max;
	uint64_t *slot;	/* value + 1, 0 = empty */
	size_t n;
};

static size_t naive_hash(uint64_t v)
{
	v ^= v >> 33;
	v *= 0xff51afd7ed558ccdull;
	v ^= v >> 33;
	return (size_t)(v & (NAIVE_CAP - 1));
}

static int naive_has(const struct naive *m, uint64_t v)
{
	for (size_t i = naive_hash(v);; i = (i + 1) & (NAIVE_CAP - 1)) {
		if (m->slot[i] == 0)
			return 0;
		if (m->slot[i] == v + 1)
			return 1;
	}
}

static int naive_update(struct naive *m, uint64_t v)
{
	size_t i;

	if (v >= REPLAY_REJECT_AFTER || naive_has(m, v))
		return -1;
	if (v < m->max && m->max - v >= REPLAY_WINDOW)
		return -1;
	for (i = naive_hash(v); m->slot[i]; i = (i + 1) & (NAIVE_CAP - 1))
		;
	m->slot[i] = v + 1;
	m->n++;
	if (v > m->max)
		m->max = v;
	return 0;
}

static uint64_t rng_state = 88172645463325252ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void run_sequence(int mode, uint64_t base, int count)
{
	struct replay *r = malloc(sizeof(*r));
	struct naive m = { 0, calloc(NAIVE_CAP, sizeof(uint64_t)), 0 };
	uint64_t next = base;
	int mismatches = 0, accepted = 0;

	replay_init(r);
	m.max = 0;
	for (int i = 0; i < count; i++) {
		uint64_t c;
		int want, got, pre;

		switch (mode) {
		case 0:		/* in order */
			c = next++;
			break;
		case 1:		/* reordered within the window, some dups */
		case 4:		/* the same, running into the counter limit */
			c = next + rnd() % 64;
			if (rnd() % 4 == 0)
				c = next > 2000 ? next - rnd() % 2000 : next;
			next += rnd() % 3;
			break;
		case 2:		/* around the window edge */
			c = next - (uint64_t)(REPLAY_WINDOW - 40) +
			    rnd() % 80;
			next += rnd() % 200;
			break;
		default:	/* far jumps, too old and random junk */
			switch (rnd() % 6) {
			case 0: next += rnd() % 100000; c = next; break;
			case 1: c = next - rnd() % (3 * REPLAY_WINDOW); break;
			case 2: c = next; break;
			case 3: c = rnd() % (next + 1); break;
			default: c = next + rnd() % 200; break;
			}
			break;
		}
		if (c >= REPLAY_REJECT_AFTER - 1000000 && mode != 4)
			c = next;
		pre = replay_check(r, c);
		want = naive_update(&m, c);
		got = replay_update(r, c);
		if (want != got) {
			if (mismatches++ < 5)
				H_FAIL("mode %d step %d ctr %llu: naive %d window %d",
				       mode, i, (unsigned long long)c, want, got);
		}
		/* The pre-check never rejects what update accepts. */
		if (got == 0 && !pre)
			H_FAIL("check refused accepted ctr %llu",
			       (unsigned long long)c);
		if (got == 0)
			accepted++;
		/* A second delivery is always a replay. */
		if (got == 0 && (replay_check(r, c) || replay_update(r, c) == 0))
			H_FAIL("ctr %llu accepted twice", (unsigned long long)c);
	}
	CHECK(accepted > count / 10);
	free(m.slot);
	free(r);
}

static void test_in_order(void)   { run_sequence(0, 0, 100000); }
static void test_reordered(void)  { run_sequence(1, 0, 200000); }
static void test_edge(void)       { run_sequence(2, 100000, 200000); }
static void test_jumps(void)      { run_sequence(3, 0, 200000); }
static void test_near_limit(void)
{
	run_sequence(4, REPLAY_REJECT_AFTER - 50000, 100000);
}

static void test_basics(void)
{
	struct replay r;

	replay_init(&r);
	CHECK_INT(replay_check(&r, 0), 1);
	CHECK_INT(replay_update(&r, 0), 0);
	CHECK_INT(replay_update(&r, 0), -1);
	CHECK_INT(replay_update(&r, 5), 0);
	CHECK_INT(replay_update(&r, 3), 0);
	CHECK_INT(replay_update(&r, 3), -1);
	CHECK(REPLAY_WINDOW >= 8192);
	CHECK_INT(replay_update(&r, 100000), 0);
	CHECK_INT(replay_update(&r, 100000 - REPLAY_WINDOW), -1);
	CHECK_INT(replay_update(&r, 100000 - REPLAY_WINDOW + 1), 0);
	CHECK_INT(replay_update(&r, 4), -1);
	CHECK_INT(replay_check(&r, REPLAY_REJECT_AFTER), 0);
	CHECK_INT(replay_update(&r, REPLAY_REJECT_AFTER), -1);
	CHECK_INT(replay_update(&r, UINT64_MAX), -1);
	CHECK_INT(replay_update(&r, REPLAY_REJECT_AFTER - 1), 0);
	CHECK(REPLAY_REJECT_AFTER == UINT64_MAX - 8191);
}

/*
 * Structured jumps: fill the window completely, jump by exact multiples of
 * the ring size and near them, then probe every counter around the new
 * window. Catches stale ring blocks that random jumps rarely hit.
 */
static void test_structured_jumps(void)
{
	static const uint64_t jumps[] = {
		1, 63, 64, 65, REPLAY_WINDOW - 1, REPLAY_WINDOW,
		REPLAY_WINDOW + 1, REPLAY_BLOCKS * 64 - 1, REPLAY_BLOCKS * 64,
		REPLAY_BLOCKS * 64 + 1, 2 * REPLAY_BLOCKS * 64,
		2 * REPLAY_BLOCKS * 64 + 63, 5 * REPLAY_BLOCKS * 64 - 64,
	};
	struct replay r;
	int bad = 0;

	for (size_t j = 0; j < sizeof(jumps) / sizeof(jumps[0]); j++) {
		for (uint64_t fill_end = 20000; fill_end < 20128; fill_end += 17) {
			uint64_t top = fill_end + jumps[j];

			replay_init(&r);
			for (uint64_t c = 0; c <= fill_end; c++)
				replay_update(&r, c);
			if (replay_update(&r, top) != 0)
				bad++;
			for (uint64_t c = top - REPLAY_WINDOW - 130; c <= top + 2;
			     c++) {
				int seen = c <= fill_end || c == top;
				int in_window = top - c < REPLAY_WINDOW || c > top;
				int want = !seen && in_window;

				if (replay_check(&r, c) != want && bad++ < 5)
					H_FAIL("jump %llu fill %llu ctr %llu: want %d",
					       (unsigned long long)jumps[j],
					       (unsigned long long)fill_end,
					       (unsigned long long)c, want);
			}
		}
	}
	CHECK_INT(bad, 0);
}

int main(void)
{
	RUN(test_structured_jumps);
	RUN(test_basics);
	RUN(test_in_order);
	RUN(test_reordered);
	RUN(test_edge);
	RUN(test_jumps);
	RUN(test_near_limit);
	return HARNESS_END();
}
