/*
 * tund/overlay/localv4.c: each foreign identity keeps its address, new
 * ones skip what this node uses and go round the block, the least
 * recently used non-peer is forgotten when the book is full, and the text
 * form round-trips while bad lines are refused by line number.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>

#include "tund/overlay/localv4.h"
#include "tests/unit/harness.h"

static struct localv4 book, book2;
static const uint8_t SELF[4] = { 100, 127, 0, 2 };	/* pretend: our own, inside the block */

static int busy(void *arg, const uint8_t v4[4]) { return memcmp(v4, SELF, 4) == 0; }
static int none_live(void *arg, const char *identity) { return 0; }
static int all_live(void *arg, const char *identity) { return 1; }

static void block(struct localv4 *b, const char *cidr)
{
	struct addr_prefix p;

	CHECK_INT(addr_prefix_parse(cidr, &p), 0);
	localv4_init(b, &p);
}

static void test_stable_and_skips_busy(void)
{
	uint8_t a[4], b[4], c[4];
	char s[INET_ADDRSTRLEN];

	block(&book, "100.127.0.0/16");
	CHECK_INT(localv4_assign(&book, "carol@example.org", 10, busy, none_live, NULL, a), 1);
	CHECK_STR(inet_ntop(AF_INET, a, s, sizeof(s)), "100.127.0.1");
	CHECK_INT(localv4_assign(&book, "dave@example.net", 11, busy, none_live, NULL, b), 1);
	CHECK_STR(inet_ntop(AF_INET, b, s, sizeof(s)), "100.127.0.3");	/* .2 is ours */
	CHECK_INT(localv4_assign(&book, "carol@example.org", 12, busy, none_live, NULL, c), 0);
	CHECK_MEM(a, c, 4);
	CHECK_INT(localv4_find(&book, "carol@example.org")->used, 12);
	CHECK(localv4_by_addr(&book, AF_INET, b) == localv4_find(&book, "dave@example.net"));
	{
		uint8_t v6[16];

		addr_overlay_v6("dave@example.net", v6);
		CHECK(localv4_by_addr(&book, AF_INET6, v6) == localv4_find(&book, "dave@example.net"));
	}
	CHECK(localv4_find(&book, "erin@example.org") == NULL);
}

/* A peer of our own domain came to hold carol's remembered address (its
 * pool reached the block): it keeps it, carol gets another. */
static const uint8_t *taken;
static int busy_taken(void *arg, const uint8_t v4[4]) { return busy(arg, v4) || (taken && memcmp(v4, taken, 4) == 0); }

static void test_busy_since(void)
{
	uint8_t a[4], b[4];

	block(&book, "100.127.0.0/16");
	CHECK_INT(localv4_assign(&book, "carol@example.org", 1, busy, none_live, NULL, a), 1);
	taken = a;
	CHECK_INT(localv4_assign(&book, "carol@example.org", 2, busy_taken, none_live, NULL, b), 1);
	CHECK(memcmp(a, b, 4) != 0);
	CHECK_INT(book.n, 1);
	CHECK(localv4_by_addr(&book, AF_INET, a) == NULL);
	taken = NULL;
}

/* A /30 has two hosts: the network and broadcast addresses are never
 * handed out, and a full block says so. */
static void test_small_block(void)
{
	uint8_t a[4];
	char s[INET_ADDRSTRLEN];

	block(&book, "100.126.0.0/30");
	CHECK_INT(localv4_assign(&book, "a@x.org", 1, busy, none_live, NULL, a), 1);
	CHECK_STR(inet_ntop(AF_INET, a, s, sizeof(s)), "100.126.0.1");
	CHECK_INT(localv4_assign(&book, "b@x.org", 1, busy, none_live, NULL, a), 1);
	CHECK_STR(inet_ntop(AF_INET, a, s, sizeof(s)), "100.126.0.2");
	CHECK_INT(localv4_assign(&book, "c@x.org", 1, busy, none_live, NULL, a), -ENOSPC);
}

/* Full: the least recently used identity that is no peer is forgotten,
 * and its address is not the next one handed out. */
static void test_full_forgets_lru(void)
{
	char id[64];
	uint8_t a[4], old[4];

	block(&book, "100.127.0.0/16");
	for (int i = 0; i < LOCALV4_MAX; i++) {
		snprintf(id, sizeof(id), "u%d@example.org", i);
		CHECK_INT(localv4_assign(&book, id, 1000 + (i == 7 ? -500 : i), busy, none_live, NULL, a), 1);
	}
	memcpy(old, localv4_find(&book, "u7@example.org")->v4, 4);
	CHECK_INT(localv4_assign(&book, "new@example.net", 5000, busy, all_live, NULL, a), -ENOSPC);
	CHECK_INT(localv4_assign(&book, "new@example.net", 5000, busy, none_live, NULL, a), 1);
	CHECK(localv4_find(&book, "u7@example.org") == NULL);
	CHECK(memcmp(a, old, 4) != 0);
	CHECK_INT(book.n, LOCALV4_MAX);
}

static void test_text_round_trip(void)
{
	static char text[LOCALV4_TEXT_MAX];
	char err[256] = "";
	uint8_t a[4];
	int n;

	block(&book, "100.127.0.0/16");
	localv4_assign(&book, "carol@example.org", 1764640000, busy, none_live, NULL, a);
	localv4_assign(&book, "dave@example.net", 1764640001, busy, none_live, NULL, a);
	n = localv4_format(&book, text, sizeof(text));
	CHECK(n > 0);
	CHECK(strstr(text, "carol@example.org 100.127.0.1 1764640000\n") != NULL);
	CHECK(strstr(text, "next 100.127.0.4\n") != NULL);
	block(&book2, "100.127.0.0/16");
	CHECK_INT(localv4_parse(&book2, text, (size_t)n, err, sizeof(err)), 0);
	CHECK_INT(book2.n, 2);
	CHECK_MEM(localv4_find(&book2, "dave@example.net")->v4, localv4_find(&book, "dave@example.net")->v4, 4);
	CHECK_INT(book2.next, book.next);
	CHECK_INT(localv4_format(&book, text, 20), -ENOSPC);
}

static void test_bad_lines(void)
{
	static const char text[] =
	    "# comment\n"
	    "carol@example.org 100.127.0.1 5\n"
	    "carol@Example.org 100.127.0.9 5\n"	/* line 3: not a valid identity */
	    "erin@example.org 100.64.0.1 5\n"	/* outside the block */
	    "frank@example.org 100.127.0.1 5\n"	/* address taken */
	    "grace@example.org 100.127.0.5 -1\n"	/* no time */
	    "heidi@example.org 100.127.255.255 1\n"	/* broadcast */
	    "ivan@example.org 100.127.0.6\n"	/* too few fields */
	    "next 198.51.100.1\n"
	    "judy@example.org 100.127.0.7 3";	/* no final newline: fine */
	char err[256] = "";

	block(&book, "100.127.0.0/16");
	CHECK_INT(localv4_parse(&book, text, sizeof(text) - 1, err, sizeof(err)), 7);
	CHECK(strncmp(err, "line 3: ", 8) == 0);
	CHECK_INT(book.n, 2);
	CHECK(localv4_find(&book, "judy@example.org") != NULL);
	CHECK_INT(book.next, 1);
	CHECK_INT(localv4_parse(&book, "x\0y\n", 4, err, sizeof(err)), 1);
}

static void test_forget_domain(void)
{
	uint8_t a[4], b[4];

	block(&book, "100.127.0.0/16");
	CHECK_INT(localv4_assign(&book, "carol@example.org", 10, busy, none_live, NULL, a), 1);
	CHECK_INT(localv4_assign(&book, "dave@example.net", 11, busy, none_live, NULL, b), 1);
	CHECK_INT(localv4_assign(&book, "erin@example.org", 12, busy, none_live, NULL, a), 1);
	CHECK_INT(localv4_forget_domain(&book, "example.org"), 2);
	CHECK(localv4_find(&book, "carol@example.org") == NULL);
	CHECK(localv4_find(&book, "erin@example.org") == NULL);
	CHECK(localv4_by_addr(&book, AF_INET, a) == NULL);
	CHECK(localv4_find(&book, "dave@example.net") != NULL);
	CHECK_INT(localv4_forget_domain(&book, "org"), 0);	/* whole domains only */
	CHECK_INT(localv4_forget_domain(&book, "example.net"), 1);
	CHECK_INT(book.n, 0);
}

int main(void)
{
	RUN(test_stable_and_skips_busy);
	RUN(test_busy_since);
	RUN(test_small_block);
	RUN(test_full_forgets_lru);
	RUN(test_text_round_trip);
	RUN(test_bad_lines);
	RUN(test_forget_domain);
	return HARNESS_END();
}
