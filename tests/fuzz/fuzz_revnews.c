/*
 * Fuzz target for what a node takes from an authority's REVOKED pages
 * (tund/node/revnews.c, tund/node/revlist.c): entries read from any bytes,
 * cursor steps for any numbers, and the revocation set they fill. Input:
 * a sequence of operations. An entry that parses has 1..40 hex digits and
 * a not_after within int64; once added it is found under its domain, and
 * adding it leaves what the other domain has as it was; a page that follows on moves the cursor to its
 * own; expiry removes exactly what has expired.
 */
#include <errno.h>

#include "tests/fuzz/fuzz.h"
#include "tund/node/revlist.h"
#include "tund/node/revnews.h"

static const char *const domains[] = { "example.com", "example.org" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct revlist *rl;
	struct revnews rn = { 0 };
	struct fz f;

	if (revlist_new(&rl) < 0)
		return 0;
	fz_init(&f, data, size);
	while (f.left) {
		uint8_t op = fz_u8(&f);

		if (op % 3 == 0) {
			size_t want = fz_u8(&f) % 64, got;
			const uint8_t *p = fz_bytes(&f, want, &got);
			uint8_t *e = fz_dup(p, got);
			int d = op >> 7;
			char serial[41];
			int64_t na;

			if (revnews_entry(e, got, serial, &na) == 0) {
				size_t n = strlen(serial);

				FZ_CHECK(n >= 1 && n <= 40 && n == got - 8 && na >= 0);
				int other = revlist_has(rl, domains[!d], serial);

				if (revlist_add(rl, domains[d], serial, na) >= 0) {
					FZ_CHECK(revlist_has(rl, domains[d], serial) == 1);
					/* One domain's news leaves the other's as it was. */
					FZ_CHECK(revlist_has(rl, domains[!d], serial) == other);
				}
			}
			free(e);
		} else if (op % 3 == 1) {
			uint64_t since = fz_u16(&f), cursor = fz_u16(&f), have = rn.have;
			int more = fz_u8(&f) & 1, asking = rn.asking;
			enum revnews_step s = revnews_page(&rn, since, cursor, more);

			if (since > have) {
				FZ_CHECK(rn.have == have && rn.asking == 1);
				FZ_CHECK(s == (asking ? REVNEWS_WAIT : REVNEWS_ASK));
			} else {
				FZ_CHECK(rn.have == cursor && rn.asking == more);
				FZ_CHECK(s == (more ? REVNEWS_ASK : REVNEWS_CURRENT));
			}
		} else {
			size_t before = revlist_count(rl), gone = revlist_expire(rl, (int64_t)fz_u64(&f) >> 1);

			FZ_CHECK(gone <= before && revlist_count(rl) == before - gone);
		}
	}
	revlist_free(rl);
	return 0;
}

static void seeds(const char *dir)
{
	/* An entry "0a1b" valid until 2**32, a page, then expiry at 0. */
	static const uint8_t s1[] = { 0, 12, 0, 0, 0, 1, 0, 0, 0, 0, '0', 'a', '1', 'b',
		1, 0, 1, 0, 2, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0 };
	/* The same serial under the other domain, then a gap. */
	static const uint8_t s2[] = { 0x81, 10, 0, 0, 0, 0, 0x70, 0, 0, 0, 'f', 'f',
		4, 9, 0, 10, 0, 0 };

	fz_write_seed(dir, "entries", s1, sizeof(s1));
	fz_write_seed(dir, "domains", s2, sizeof(s2));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fz_seed_mode(seeds);
	return 0;
}
