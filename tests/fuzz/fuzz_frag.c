/*
 * Fuzz target for netstack/frag.c: the fragments a peer sends (inside its
 * sealed session, so a peer controls every byte of them). The input is a
 * script: a real packet (length and contents from the input) cut for a
 * fuzzed message size, its fragments delivered in a fuzzed order, some
 * twice or cut short, with raw messages from other senders (any bytes),
 * and the clock moved, all interleaved.
 *
 * Checks: frag_add answers -EINVAL, 0 or 1, and a completed packet lies
 * within FRAG_PKT_MAX and the table; the real packet, if completed while
 * nothing else was sent, comes back exactly once and byte for byte; with nothing but its own fragments in order,
 * unmodified and in time, it completes exactly at its last fragment; the
 * table never has more than FRAG_SLOTS packets pending.
 */
#include <errno.h>

#include "tests/fuzz/fuzz.h"
#include "netstack/frag.h"

#define REAL_KEY	0x51525354u

static void seeds(const char *dir)
{
	/* len 1280 (0x0500), room 600, then: deliver 0, 1, 2 */
	static const uint8_t a[] = { 0x00, 0x05, 0x58, 0x02, 1, 0, 1, 1, 1, 2 };
	/* len 1000, room 400, out of order, a raw message and a clock step */
	static const uint8_t b[] = { 0xe8, 0x03, 0x90, 0x01, 1, 2, 0, 7, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    3, 0x10, 1, 0, 1, 1 };

	fz_write_seed(dir, "inorder", a, sizeof(a));
	fz_write_seed(dir, "mixed", b, sizeof(b));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fz_seed_mode(seeds);
	return 0;
}

static void check_table(const struct frag_table *t)
{
	int used = 0;

	for (int i = 0; i < FRAG_SLOTS; i++)
		if (t->slot[i].used) {
			used++;
			FZ_CHECK(t->slot[i].total >= 1 && t->slot[i].total <= FRAG_PKT_MAX);
			FZ_CHECK(t->slot[i].got <= t->slot[i].total);
		}
	FZ_CHECK(used <= FRAG_SLOTS);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct frag_table t;
	static uint8_t pkt[FRAG_PKT_MAX], m[FRAG_PKT_MAX + 64];
	struct fz f;
	size_t len, room, got;
	uint64_t now = 1000;
	int n, completed = 0, clean = 1, delivered = 0, last_ok = 0;
	uint16_t id;

	fz_init(&f, data, size);
	frag_table_init(&t);
	len = 1 + fz_u16(&f) % FRAG_PKT_MAX;
	room = fz_u16(&f) % 2100;
	id = (uint16_t)(len * 31 + room);
	for (size_t i = 0; i < len; i++)
		pkt[i] = (uint8_t)(i * 13 + len);
	n = frag_count(len, room);
	if (n < 0) {
		FZ_CHECK(n == -EMSGSIZE);
		return 0;
	}
	FZ_CHECK(n >= 1 && n <= FRAG_MAX);
	while (f.left) {
		uint8_t op = fz_u8(&f), *out = NULL;
		size_t olen = 0;
		int r = 0, k, l;
		uint32_t key;

		switch (op % 4) {
		case 0:		/* a raw message from another sender */
			l = fz_u8(&f) % 64;
			memcpy(m, fz_bytes(&f, (size_t)l, &got), got);
			key = fz_u8(&f);	/* never REAL_KEY */
			{
				uint8_t *c = fz_dup(m, got);

				r = frag_add(&t, key, c, got, now, &out, &olen);
				free(c);
			}
			FZ_CHECK(r == -EINVAL || r == 0 || r == 1);
			clean = 0;
			break;
		case 1:		/* one of the real fragments, as built */
		case 2:		/* ... cut short or with one byte changed */
			k = fz_u8(&f) % n;
			l = frag_build(pkt, len, room, k, id, m, sizeof(m));
			FZ_CHECK(l > FRAG_HDR_LEN && (size_t)l <= room);
			if (op % 4 == 2) {
				uint8_t how = fz_u8(&f);

				if (how & 1)
					l -= 1 + (int)(fz_u8(&f) % (unsigned)l);
				else
					m[fz_u8(&f) % (unsigned)l] ^= (uint8_t)(1 | how);
				clean = 0;
			}
			if (k != delivered)
				clean = 0;
			delivered++;
			{
				uint8_t *c = fz_dup(m, (size_t)(l > 0 ? l : 0));

				r = frag_add(&t, REAL_KEY, c, (size_t)(l > 0 ? l : 0), now, &out, &olen);
				free(c);
			}
			FZ_CHECK(r == -EINVAL || r == 0 || r == 1);
			if (r == 1 && clean) {
				FZ_CHECK(olen == len && memcmp(out, pkt, len) == 0);
				completed++;
			}
			last_ok = clean && delivered == n;
			if (clean && delivered < n)
				FZ_CHECK(r == 0);
			if (last_ok)
				FZ_CHECK(r == 1);
			break;
		default:	/* time passes */
			now += fz_u16(&f);
			if (now - 1000 > FRAG_TIMEOUT_MS)
				clean = 0;
			break;
		}
		if (r == 1 && out) {
			FZ_CHECK(olen >= 1 && olen <= FRAG_PKT_MAX);
			FZ_CHECK(out >= (uint8_t *)t.slot && out + olen <= (uint8_t *)(t.slot + FRAG_SLOTS));
		}
		check_table(&t);
	}
	FZ_CHECK(completed <= 1);
	return 0;
}
