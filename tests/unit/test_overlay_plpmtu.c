/*
 * The probe state machine (tund/overlay/plpmtu.c) on a fake clock
 * against a simulated path that carries packets up to `path` bytes and
 * silently drops bigger ones (a black hole: no ICMP), optionally losing
 * probes at random: it finds the path's MTU within PLPMTU_STEP, in the
 * time stated, never claims more than the path carries, finds a path
 * that narrowed (by confirmations) and one that grew (by the raise
 * timer), and ignores stale or foreign acknowledgements. Then the probe
 * and acknowledgement messages.
 */
#include <errno.h>
#include <stdlib.h>

#include "tests/unit/harness.h"
#include "tund/overlay/plpmtu.h"

struct sim {
	struct plpmtu s;
	uint64_t now;
	int path, loss_pct, max_seen, sent;
};

/* Runs the machine for ms, acknowledging what the path carries after a
 * 10 ms round trip; returns the time the MTU last moved. */
static uint64_t sim_run(struct sim *m, uint64_t ms, int active)
{
	uint64_t end = m->now + ms, moved = 0;
	int sizes[PLPMTU_PROBES], pend_size[64], npend = 0;
	uint32_t round, pend_round[64];
	uint64_t pend_at[64];

	for (; m->now < end; m->now += 5) {
		int n = plpmtu_poll(&m->s, m->now, active, sizes, &round), old;

		for (int i = 0; i < n; i++) {
			m->sent++;
			if (sizes[i] > m->path || (m->loss_pct && rand() % 100 < m->loss_pct) || npend == 64)
				continue;
			pend_size[npend] = sizes[i];
			pend_round[npend] = round;
			pend_at[npend++] = m->now + 10;
		}
		for (int i = 0; i < npend; i++) {
			if (pend_at[i] > m->now)
				continue;
			old = m->s.mtu;
			plpmtu_ack(&m->s, pend_round[i], pend_size[i], m->now);
			if (m->s.mtu != old)
				moved = m->now;
			pend_size[i] = pend_size[--npend];
			pend_round[i] = pend_round[npend];
			pend_at[i--] = pend_at[npend];
		}
		if (m->s.mtu > m->max_seen)
			m->max_seen = m->s.mtu;
		CHECK(m->s.mtu <= m->path || m->s.mtu <= PLPMTU_BASE || m->s.state == PLPMTU_DONE);
		CHECK(plpmtu_next(&m->s, m->now + 100000) >= m->now || m->s.n == 0);
	}
	return moved;
}

static void sim_init(struct sim *m, int path, int max)
{
	memset(m, 0, sizeof(*m));
	m->now = 1000;
	m->path = path;
	plpmtu_start(&m->s, max, m->now);
}

static void test_full_path_one_round_trip(void)
{
	struct sim m;

	sim_init(&m, 1500, 1500);
	sim_run(&m, 100, 1);
	CHECK_INT(m.s.mtu, 1500);
	CHECK_INT(m.s.state, PLPMTU_DONE);
	CHECK(m.sent <= PLPMTU_PROBES);
}

static void test_black_hole_search(void)
{
	static const int paths[] = { 1280, 1281, 1300, 1379, 1420, 1492, 1499 };

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct sim m;

		sim_init(&m, paths[i], 1500);
		sim_run(&m, 10000, 1);
		CHECK_INT(m.s.state, PLPMTU_DONE);
		CHECK(m.s.mtu <= paths[i]);
		CHECK(paths[i] - m.s.mtu < PLPMTU_STEP);
		CHECK(m.max_seen <= paths[i]);
		/* Three rounds of two tries at most, then confirmations only. */
		CHECK(m.sent < 3 * PLPMTU_PROBES * PLPMTU_TRIES + 12);
	}
}

static void test_search_time(void)
{
	struct sim m;

	/* Stated in PROTOCOL.md: a black-holed 1280 path from a 1500 guess
	 * is settled within 4 rounds of PLPMTU_TRIES waits. */
	sim_init(&m, 1280, 1500);
	sim_run(&m, 4 * PLPMTU_TRIES * PLPMTU_WAIT_MS + 100, 1);
	CHECK_INT(m.s.state, PLPMTU_DONE);
	CHECK_INT(m.s.mtu, 1280);
}

static void test_loss_does_not_narrow_much(void)
{
	srand(5);
	for (int k = 0; k < 50; k++) {
		struct sim m;

		sim_init(&m, 1500, 1500);
		m.loss_pct = 10;
		sim_run(&m, 10000, 1);
		CHECK(m.s.mtu <= 1500);
		/* One loss never counts; losing both tries of a size can,
		 * and the raise timer mends it later. */
		sim_run(&m, PLPMTU_RAISE_MS + 10000, 1);
		CHECK(m.s.mtu >= 1400);
	}
}

static void test_path_narrows_and_grows(void)
{
	struct sim m;
	uint64_t t0;

	sim_init(&m, 1500, 1500);
	sim_run(&m, 200, 1);
	CHECK_INT(m.s.mtu, 1500);
	/* Idle: no confirmations, the figure stands. */
	m.path = 1280;
	m.sent = 0;
	sim_run(&m, 10000, 0);
	CHECK_INT(m.s.mtu, 1500);
	CHECK_INT(m.sent, 0);
	/* Active: PLPMTU_MISSES confirmations lost, then a search below. */
	sim_run(&m, 20000, 1);
	CHECK_INT(m.s.mtu, 1280);
	CHECK_INT(m.s.state, PLPMTU_DONE);
	/* The path grows back: found by the raise timer. */
	m.path = 1500;
	t0 = m.now;
	CHECK(sim_run(&m, PLPMTU_RAISE_MS + 3000, 1) > 0);
	CHECK_INT(m.s.mtu, 1500);
	CHECK(m.now - t0 <= PLPMTU_RAISE_MS + 3000);
}

static void test_narrowing_detected_in_time(void)
{
	struct sim m;

	sim_init(&m, 1500, 1500);
	sim_run(&m, 200, 1);
	m.path = 1280;
	/* Stated: PLPMTU_MISSES confirmations, each PLPMTU_CONFIRM_MS plus
	 * PLPMTU_WAIT_MS at most. */
	sim_run(&m, PLPMTU_MISSES * (PLPMTU_CONFIRM_MS + PLPMTU_WAIT_MS) + 100, 1);
	CHECK_INT(m.s.mtu, 1280);
	/* ... and the search goes on below the old figure, never above it. */
	CHECK(m.s.hi < 1500);
}

static void test_stale_and_unknown_acks(void)
{
	struct plpmtu s;
	int sizes[PLPMTU_PROBES], n;
	uint32_t round;

	memset(&s, 0, sizeof(s));
	plpmtu_start(&s, 1500, 0);
	n = plpmtu_poll(&s, 0, 1, sizes, &round);
	CHECK_INT(n, PLPMTU_PROBES);
	CHECK_INT(sizes[n - 1], 1500);
	CHECK_INT(plpmtu_ack(&s, round + 1, 1500, 1), 0);	/* another round */
	CHECK_INT(plpmtu_ack(&s, round, 1499, 1), 0);		/* a size not sent */
	CHECK_INT(s.mtu, 1280);
	/* A new path: the old round's acknowledgement counts for nothing. */
	plpmtu_start(&s, 1500, 2);
	CHECK_INT(plpmtu_ack(&s, round, 1500, 3), 0);
	CHECK_INT(s.mtu, 1280);
	/* A smaller size of the round passes; the round goes on. */
	n = plpmtu_poll(&s, 3, 1, sizes, &round);
	CHECK_INT(plpmtu_ack(&s, round, sizes[0], 4), 1);
	CHECK_INT(s.mtu, sizes[0]);
	CHECK(s.n > 0);
	/* max below the base: nothing to search. */
	plpmtu_start(&s, 1200, 10);
	CHECK_INT(s.mtu, 1200);
	CHECK_INT(plpmtu_poll(&s, 10, 1, sizes, &round), 0);
	CHECK_INT(s.state, PLPMTU_DONE);
}

static void test_set_max(void)
{
	struct sim m;

	sim_init(&m, 9000, 1500);
	sim_run(&m, 100, 1);
	CHECK_INT(m.s.mtu, 1500);
	plpmtu_set_max(&m.s, 1400, m.now);
	CHECK_INT(m.s.mtu, 1400);
	plpmtu_set_max(&m.s, 2000, m.now);
	sim_run(&m, 100, 1);
	CHECK_INT(m.s.mtu, 2000);
}

static void test_messages(void)
{
	uint8_t b[1500];
	uint32_t round;
	int size;

	CHECK_INT(plpmtu_msg_build(PLPMTU_MSG_PROBE, 0x01020304, 1500, b, 1420), 1420);
	CHECK_INT(plpmtu_msg_parse(b, 1420, &round, &size), PLPMTU_MSG_PROBE);
	CHECK_INT(round, 0x01020304);
	CHECK_INT(size, 1500);
	b[700] = 1;	/* padding must be zero */
	CHECK_INT(plpmtu_msg_parse(b, 1420, &round, &size), -EINVAL);
	CHECK_INT(plpmtu_msg_build(PLPMTU_MSG_ACK, 7, 1280, b, PLPMTU_MSG_LEN), PLPMTU_MSG_LEN);
	CHECK_INT(plpmtu_msg_parse(b, PLPMTU_MSG_LEN, &round, &size), PLPMTU_MSG_ACK);
	CHECK_INT(size, 1280);
	CHECK_INT(plpmtu_msg_parse(b, PLPMTU_MSG_LEN - 1, &round, &size), -EINVAL);
	b[PLPMTU_MSG_LEN] = 0;
	CHECK_INT(plpmtu_msg_parse(b, PLPMTU_MSG_LEN + 1, &round, &size), -EINVAL);	/* long ACK */
	b[2] = 1;
	CHECK_INT(plpmtu_msg_parse(b, PLPMTU_MSG_LEN, &round, &size), -EINVAL);
	b[2] = 0;
	b[8] = b[9] = 0;
	CHECK_INT(plpmtu_msg_parse(b, PLPMTU_MSG_LEN, &round, &size), -EINVAL);	/* size 0 */
	b[0] = 0x05;
	CHECK_INT(plpmtu_msg_parse(b, PLPMTU_MSG_LEN, &round, &size), -EINVAL);
	CHECK_INT(plpmtu_msg_build(PLPMTU_MSG_ACK, 7, 1280, b, 13), -EINVAL);
	CHECK_INT(plpmtu_msg_build(PLPMTU_MSG_PROBE, 7, 70000, b, 100), -EINVAL);
	CHECK_INT(plpmtu_msg_build(0x01, 7, 1280, b, 100), -EINVAL);
}

int main(void)
{
	RUN(test_full_path_one_round_trip);
	RUN(test_black_hole_search);
	RUN(test_search_time);
	RUN(test_loss_does_not_narrow_much);
	RUN(test_path_narrows_and_grows);
	RUN(test_narrowing_detected_in_time);
	RUN(test_stale_and_unknown_acks);
	RUN(test_set_max);
	RUN(test_messages);
	return HARNESS_END();
}
