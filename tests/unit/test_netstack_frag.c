/*
 * Fragments (netstack/frag.c): a packet cut by frag_build comes back
 * whole from frag_add in any arrival order and only once; what a peer
 * could send wrong (overlaps, a changed total, truncation, reserved
 * bits, too many fragments) is refused without completing anything; the
 * table stays bounded (old and timed-out packets make room).
 */
#include <errno.h>
#include <stdlib.h>

#include "tests/unit/harness.h"
#include "netstack/frag.h"

static uint8_t pkt[FRAG_PKT_MAX];
static uint8_t msgs[FRAG_MAX][FRAG_PKT_MAX];
static int lens[FRAG_MAX];

static int cut(size_t len, size_t room, uint16_t id)
{
	int n = frag_count(len, room);

	for (int k = 0; k < n; k++)
		lens[k] = frag_build(pkt, len, room, k, id, msgs[k], sizeof(msgs[k]));
	return n;
}

static void test_count(void)
{
	CHECK_INT(frag_count(1280, 1220), 2);
	CHECK_INT(frag_count(1212, 1220), 1);
	CHECK_INT(frag_count(1213, 1220), 2);
	CHECK_INT(frag_count(0, 1220), -EMSGSIZE);
	CHECK_INT(frag_count(FRAG_PKT_MAX + 1, 1220), -EMSGSIZE);
	CHECK_INT(frag_count(1280, FRAG_HDR_LEN), -EMSGSIZE);
	CHECK_INT(frag_count(1280, FRAG_HDR_LEN + 100), -EMSGSIZE);	/* 13 > FRAG_MAX */
	CHECK_INT(frag_count(800, FRAG_HDR_LEN + 100), FRAG_MAX);
}

static void test_roundtrip_orders(void)
{
	struct frag_table t;
	uint8_t *out;
	size_t olen;

	for (size_t i = 0; i < sizeof(pkt); i++)
		pkt[i] = (uint8_t)(i * 7 + 3);
	frag_table_init(&t);
	for (int order = 0; order < 2; order++) {
		int n = cut(1280, 500, (uint16_t)(10 + order)), r = 0;

		CHECK_INT(n, 3);
		CHECK_INT(lens[0], 500);
		CHECK_INT(lens[2], FRAG_HDR_LEN + 1280 - 2 * 492);
		for (int i = 0; i < n; i++) {
			int k = order ? n - 1 - i : i;

			r = frag_add(&t, 77, msgs[k], (size_t)lens[k], 1000, &out, &olen);
			CHECK_INT(r, i == n - 1 ? 1 : 0);
		}
		CHECK_INT(olen, 1280);
		CHECK_MEM(out, pkt, 1280);
		/* The same fragment again starts a new packet, never a second copy. */
		CHECK_INT(frag_add(&t, 77, msgs[0], (size_t)lens[0], 1000, &out, &olen), 0);
	}
	CHECK_INT(t.done, 2);
}

static void test_two_senders_interleaved(void)
{
	struct frag_table t;
	uint8_t a[3][FRAG_PKT_MAX], b2[3][FRAG_PKT_MAX], *out;
	int la[3], lb[3];
	size_t olen;

	frag_table_init(&t);
	for (size_t i = 0; i < 1280; i++)
		pkt[i] = (uint8_t)i;
	for (int k = 0; k < 3; k++)
		la[k] = frag_build(pkt, 1280, 500, k, 5, a[k], sizeof(a[k]));
	for (size_t i = 0; i < 1280; i++)
		pkt[i] = (uint8_t)~i;
	for (int k = 0; k < 3; k++)
		lb[k] = frag_build(pkt, 1280, 500, k, 5, b2[k], sizeof(b2[k]));
	/* Same id, different senders: kept apart by the key. */
	for (int k = 0; k < 2; k++) {
		CHECK_INT(frag_add(&t, 1, a[k], (size_t)la[k], 0, &out, &olen), 0);
		CHECK_INT(frag_add(&t, 2, b2[k], (size_t)lb[k], 0, &out, &olen), 0);
	}
	CHECK_INT(frag_add(&t, 2, b2[2], (size_t)lb[2], 0, &out, &olen), 1);
	CHECK_MEM(out, pkt, 1280);
	CHECK_INT(frag_add(&t, 1, a[2], (size_t)la[2], 0, &out, &olen), 1);
	CHECK_INT(out[1279], (uint8_t)1279);
}

static void test_refusals(void)
{
	struct frag_table t;
	uint8_t m[FRAG_PKT_MAX], *out = NULL;
	size_t olen = 0;
	int n;

	frag_table_init(&t);
	n = cut(1000, 400, 9);
	CHECK_INT(n, 3);
	/* malformed: short, reserved byte, total 0 or too big, past the end */
	CHECK_INT(frag_add(&t, 1, msgs[0], FRAG_HDR_LEN, 0, &out, &olen), -EINVAL);
	memcpy(m, msgs[0], (size_t)lens[0]);
	m[1] = 1;
	CHECK_INT(frag_add(&t, 1, m, (size_t)lens[0], 0, &out, &olen), -EINVAL);
	m[1] = 0;
	m[6] = m[7] = 0;
	CHECK_INT(frag_add(&t, 1, m, (size_t)lens[0], 0, &out, &olen), -EINVAL);
	m[6] = 0x01;
	m[7] = 0x08;	/* 2049 */
	CHECK_INT(frag_add(&t, 1, m, (size_t)lens[0], 0, &out, &olen), -EINVAL);
	memcpy(m, msgs[2], (size_t)lens[2]);
	m[4] = (uint8_t)(m[4] + 1);	/* the last one moved 1 byte on: past total */
	CHECK_INT(frag_add(&t, 1, m, (size_t)lens[2], 0, &out, &olen), -EINVAL);
	/* overlap: the first, then a copy of it moved by one byte */
	CHECK_INT(frag_add(&t, 1, msgs[0], (size_t)lens[0], 0, &out, &olen), 0);
	memcpy(m, msgs[1], (size_t)lens[1]);
	m[4] = (uint8_t)(m[4] - 1);
	CHECK_INT(frag_add(&t, 1, m, (size_t)lens[1], 0, &out, &olen), -EINVAL);
	/* the slot was given up: the rest no longer completes it */
	CHECK_INT(frag_add(&t, 1, msgs[1], (size_t)lens[1], 0, &out, &olen), 0);
	CHECK_INT(frag_add(&t, 1, msgs[2], (size_t)lens[2], 0, &out, &olen), 0);
	/* a different total for the same packet */
	frag_table_init(&t);
	CHECK_INT(frag_add(&t, 1, msgs[0], (size_t)lens[0], 0, &out, &olen), 0);
	memcpy(m, msgs[1], (size_t)lens[1]);
	m[6] = (uint8_t)(m[6] + 1);
	CHECK_INT(frag_add(&t, 1, m, (size_t)lens[1], 0, &out, &olen), -EINVAL);
	CHECK(t.dropped >= 1);
	CHECK_INT(t.done, 0);
	CHECK_INT(frag_build(pkt, 1000, 400, 3, 9, m, sizeof(m)), -EINVAL);
	CHECK_INT(frag_build(pkt, 1000, 400, 0, 9, m, 100), -ENOSPC);
}

static void test_bounded_and_timeout(void)
{
	struct frag_table t;
	uint8_t *out;
	size_t olen;
	int n = cut(1000, 600, 1);

	CHECK_INT(n, 2);
	frag_table_init(&t);
	/* The first fragment of FRAG_SLOTS + 1 packets: the oldest goes. */
	for (int i = 0; i <= FRAG_SLOTS; i++) {
		msgs[0][2] = (uint8_t)i;
		CHECK_INT(frag_add(&t, 1, msgs[0], (size_t)lens[0], (uint64_t)i, &out, &olen), 0);
	}
	CHECK_INT(t.dropped, 1);
	msgs[1][2] = 1;	/* packet 1 is still there */
	CHECK_INT(frag_add(&t, 1, msgs[1], (size_t)lens[1], 20, &out, &olen), 1);
	msgs[1][2] = 0;	/* packet 0 was given up */
	CHECK_INT(frag_add(&t, 1, msgs[1], (size_t)lens[1], 20, &out, &olen), 0);
	/* Too late: the second half after the timeout completes nothing. */
	frag_table_init(&t);
	msgs[0][2] = msgs[1][2] = 42;
	CHECK_INT(frag_add(&t, 1, msgs[0], (size_t)lens[0], 100, &out, &olen), 0);
	CHECK_INT(frag_add(&t, 1, msgs[1], (size_t)lens[1], 100 + FRAG_TIMEOUT_MS + 1, &out, &olen), 0);
	CHECK_INT(t.done, 0);
	CHECK_INT(t.dropped, 1);
}

/* Random cuts and arrival orders against memcmp with the original. */
static void test_random(void)
{
	struct frag_table t;
	uint8_t *out;
	size_t olen;

	srand(11);
	frag_table_init(&t);
	for (int iter = 0; iter < 2000; iter++) {
		size_t len = 1 + (size_t)rand() % FRAG_PKT_MAX, room = FRAG_HDR_LEN + 1 + (size_t)rand() % 1500;
		int n = frag_count(len, room), perm[FRAG_MAX], got = 0;

		if (n < 0)
			continue;
		for (size_t i = 0; i < len; i++)
			pkt[i] = (uint8_t)rand();
		cut(len, room, (uint16_t)iter);
		for (int i = 0; i < n; i++)
			perm[i] = i;
		for (int i = n - 1; i > 0; i--) {
			int j = rand() % (i + 1), x = perm[i];
			perm[i] = perm[j];
			perm[j] = x;
		}
		for (int i = 0; i < n; i++)
			got += frag_add(&t, 3, msgs[perm[i]], (size_t)lens[perm[i]], (uint64_t)iter, &out, &olen);
		CHECK_INT(got, 1);
		CHECK_INT(olen, len);
		CHECK_MEM(out, pkt, len);
	}
}

int main(void)
{
	RUN(test_count);
	RUN(test_roundtrip_orders);
	RUN(test_two_senders_interleaved);
	RUN(test_refusals);
	RUN(test_bounded_and_timeout);
	RUN(test_random);
	return HARNESS_END();
}
