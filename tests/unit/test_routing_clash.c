/*
 * Tests for routing/clash.c: which underlays `up` refuses. An underlay in
 * the pool is fine when the engine's sockets skip q2q's table and a clash
 * without it; the node's own overlay address on another interface is
 * always one.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "routing/clash.h"
#include "harness.h"

static struct clash_pfx P(const char *s, int plen)
{
	struct clash_pfx p = { .plen = (uint8_t)plen };

	p.family = strchr(s, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(p.family, s, p.addr) != 1)
		abort();
	return p;
}

static int ov(const char *a, int al, const char *b, int bl)
{
	struct clash_pfx x = P(a, al), y = P(b, bl);

	return clash_overlap(&x, &y) && clash_overlap(&y, &x);
}

static void test_overlap(void)
{

	CHECK(ov("100.64.0.0", 10, "100.64.1.7", 24));
	CHECK(ov("100.64.0.0", 10, "100.127.255.1", 32));
	CHECK(ov("100.64.0.0", 10, "100.0.0.1", 8));	/* wider */
	CHECK(!ov("100.64.0.0", 10, "100.128.0.1", 24));
	CHECK(!ov("100.64.0.0", 10, "192.0.2.11", 24));
	CHECK(!ov("100.64.0.0", 10, "fd00::1", 8));	/* family */
	CHECK(ov("fd00::", 8, "fd12::1", 64));
	CHECK(!ov("fd00::", 8, "2001:db8::1", 64));
}

static void test_find(void)
{
	struct clash_pfx ranges[2] = { P("fd00::", 8), P("100.64.0.0", 10) };
	struct clash_pfx own[2] = { P("100.64.0.2", 32), P("fd12::2", 128) };
	struct clash_pfx lan[3] = { P("192.0.2.11", 24), P("100.64.1.7", 24), P("2001:db8::7", 64) };
	struct clash_pfx same[1] = { P("100.64.0.2", 24) };
	struct clash_pfx same6[1] = { P("fd12::2", 64) };
	int w = -1, r = -1;

	/* Behind a CGNAT: fine when the engine is exempt, a clash if not. */
	CHECK_INT(clash_find(lan, 3, ranges, 2, own, 2, 1, &w, &r), CLASH_NONE);
	CHECK_INT(clash_find(lan, 3, ranges, 2, own, 2, 0, &w, &r), CLASH_OVERLAP);
	CHECK_INT(w, 1);
	CHECK_INT(r, 1);
	/* An ordinary underlay never clashes. */
	CHECK_INT(clash_find(lan, 1, ranges, 2, own, 2, 0, &w, &r), CLASH_NONE);
	CHECK_INT(clash_find(&lan[2], 1, ranges, 2, own, 2, 0, &w, &r), CLASH_NONE);
	/* The node's own overlay address elsewhere: always. */
	CHECK_INT(clash_find(same, 1, ranges, 2, own, 2, 1, &w, &r), CLASH_SAME_ADDR);
	CHECK_INT(w, 0);
	CHECK_INT(clash_find(same6, 1, ranges, 2, own, 2, 1, &w, &r), CLASH_SAME_ADDR);
	/* A ULA underlay inside fd00::/8 clashes only without the exemption. */
	CHECK_INT(clash_find(same6, 1, ranges, 2, own, 1, 0, &w, &r), CLASH_OVERLAP);
	CHECK_INT(r, 0);
	CHECK_INT(clash_find(same6, 1, ranges, 2, own, 1, 1, &w, &r), CLASH_NONE);
	/* A moved pool no longer overlaps the CGNAT range. */
	ranges[1] = P("198.19.0.0", 16);
	own[0] = P("198.19.0.2", 32);
	CHECK_INT(clash_find(lan, 3, ranges, 2, own, 2, 0, &w, &r), CLASH_NONE);
}

int main(void)
{
	RUN(test_overlap);
	RUN(test_find);
	return HARNESS_END();
}
