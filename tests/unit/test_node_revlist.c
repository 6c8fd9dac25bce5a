/* The node's revocation set (tund/node/revlist.c): a serial counts only
 * under the domain that revoked it; entries go at their certificate's
 * expiry; malformed serials are refused; and a differential run against a
 * naive list over 20000 random operations agrees at every step. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/harness.h"
#include "tund/node/revlist.h"

static void test_domains_apart(void)
{
	struct revlist *rl;

	CHECK_INT(revlist_new(&rl), 0);
	CHECK_INT(revlist_add(rl, "example.org", "0A1B", 100), 1);
	CHECK_INT(revlist_add(rl, "example.org", "0a1b", 100), 0);
	CHECK_INT(revlist_has(rl, "example.org", "0a1b"), 1);
	CHECK_INT(revlist_has(rl, "example.org", "0A1B"), 1);
	/* example.org's news says nothing about example.com's certificates. */
	CHECK_INT(revlist_has(rl, "example.com", "0a1b"), 0);
	CHECK_INT(revlist_add(rl, "example.com", "0a1b", 200), 1);
	CHECK_INT(revlist_has(rl, "example.com", "0a1b"), 1);
	CHECK_INT((int)revlist_count(rl), 2);
	revlist_free(rl);
}

static void test_refused_input(void)
{
	struct revlist *rl;
	char long_serial[64];

	memset(long_serial, 'a', 41);
	long_serial[41] = 0;
	CHECK_INT(revlist_new(&rl), 0);
	CHECK_INT(revlist_add(rl, "example.org", "", 100), -EINVAL);
	CHECK_INT(revlist_add(rl, "example.org", "xyz", 100), -EINVAL);
	CHECK_INT(revlist_add(rl, "example.org", long_serial, 100), -EINVAL);
	long_serial[40] = 0;
	CHECK_INT(revlist_add(rl, "example.org", long_serial, 100), 1);
	CHECK_INT(revlist_add(rl, "Example.ORG", "01", 100), -EINVAL);
	CHECK_INT(revlist_add(rl, "nodot", "01", 100), -EINVAL);
	CHECK_INT(revlist_has(rl, "example.org", "zz"), 0);
	CHECK_INT((int)revlist_count(rl), 1);
	revlist_free(rl);
}

static void test_expiry(void)
{
	struct revlist *rl;

	CHECK_INT(revlist_new(&rl), 0);
	CHECK_INT(revlist_add(rl, "example.org", "01", 100), 1);
	CHECK_INT(revlist_add(rl, "example.org", "02", 200), 1);
	CHECK_INT((int)revlist_expire(rl, 99), 0);
	CHECK_INT((int)revlist_expire(rl, 100), 1);
	CHECK_INT(revlist_has(rl, "example.org", "01"), 0);
	CHECK_INT(revlist_has(rl, "example.org", "02"), 1);
	CHECK_INT((int)revlist_count(rl), 1);
	revlist_free(rl);
}

/* The slow twin: an array searched end to end. */
struct naive {
	int n;
	char dom[20000][16];
	char serial[20000][8];
	long long na[20000];
};

static int naive_has(const struct naive *v, const char *dom, const char *serial)
{
	for (int i = 0; i < v->n; i++)
		if (strcmp(v->dom[i], dom) == 0 && strcmp(v->serial[i], serial) == 0)
			return 1;
	return 0;
}

static void test_differential(void)
{
	static struct naive v;
	static const char *const doms[] = { "example.com", "example.org", "example.net" };
	struct revlist *rl;
	int bad = 0;

	srand(8);
	v.n = 0;
	CHECK_INT(revlist_new(&rl), 0);
	for (int step = 0; step < 20000 && !bad; step++) {
		const char *d = doms[rand() % 3];
		char s[8];
		int op = rand() % 10;

		snprintf(s, sizeof(s), "%x", rand() % 4096);
		if (op < 5) {
			long long na = 1000 + rand() % 1000;
			int want = !naive_has(&v, d, s), got = revlist_add(rl, d, s, na);

			if (want) {
				snprintf(v.dom[v.n], sizeof(v.dom[0]), "%s", d);
				snprintf(v.serial[v.n], sizeof(v.serial[0]), "%s", s);
				v.na[v.n++] = na;
			}
			bad |= got != want;
		} else if (op < 9) {
			bad |= revlist_has(rl, d, s) != naive_has(&v, d, s);
		} else {
			long long now = 1000 + step / 20;
			int gone = 0;

			for (int i = 0; i < v.n;) {
				if (v.na[i] <= now) {
					/* The last entry takes this one's place (the
					 * last one itself just goes). */
					if (i != --v.n) {
						strcpy(v.dom[i], v.dom[v.n]);
						strcpy(v.serial[i], v.serial[v.n]);
						v.na[i] = v.na[v.n];
					}
					gone++;
				} else {
					i++;
				}
			}
			bad |= (int)revlist_expire(rl, now) != gone;
		}
		bad |= (int)revlist_count(rl) != v.n;
		if (bad)
			H_FAIL("revlist and the naive list disagree at step %d", step);
	}
	revlist_free(rl);
}

int main(void)
{
	RUN(test_domains_apart);
	RUN(test_refused_input);
	RUN(test_expiry);
	RUN(test_differential);
	return HARNESS_END();
}
