/*
 * Tests for tund/priv/guard.c's script: what it drops, what it lets the
 * engine have, that it replaces any earlier guard, and that it refuses an
 * interface name that could break out of its quotes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "tund/priv/guard.h"
#include "harness.h"

static struct guard_spec spec(void)
{
	struct guard_spec g = { .ifname = "q2q0", .have_v4 = 1, .have_v6 = 1, .have_pool = 1,
				.pool_plen = 16, .n_udp = 1, .udp = { 8789 } };

	inet_pton(AF_INET, "198.19.0.5", g.v4);
	inet_pton(AF_INET6, "fd12::5", g.v6);
	inet_pton(AF_INET, "198.19.0.0", g.pool);
	return g;
}

static void test_script(void)
{
	struct guard_spec g = spec();
	char buf[2048];
	int n = guard_script(&g, buf, sizeof(buf));

	CHECK(n > 0);
	CHECK_INT((int)strlen(buf), n);
	/* The old guard goes in the same batch. */
	CHECK(strncmp(buf, guard_remove_script(), strlen(guard_remove_script())) == 0);
	CHECK(strstr(buf, "iifname \"q2q0\" accept\n") != NULL);
	CHECK(strstr(buf, "ip daddr 198.19.0.5 drop\n") != NULL);
	CHECK(strstr(buf, "ip6 daddr fd12::5 drop\n") != NULL);
	CHECK(strstr(buf, "ip saddr 198.19.0.0/16 udp dport { 8789 } accept\n") != NULL);
	CHECK(strstr(buf, "ip saddr 198.19.0.0/16 ct state != { established, related } drop\n") != NULL);
	CHECK(strstr(buf, "ip6 saddr fd00::/8 ct state != { established, related } drop\n") != NULL);
	CHECK(strstr(buf, "arp daddr ip 198.19.0.5 drop") != NULL);
	CHECK(strstr(buf, "tcp dport") == NULL);	/* not an authority */
	CHECK(strstr(buf, "saddr fd64::") == NULL);

	/* A ULA LAN thrown out of q2q's table passes, ahead of the drops. */
	g.n_exempt = 1;
	g.exempt[0].family = AF_INET6;
	inet_pton(AF_INET6, "fd64::", g.exempt[0].addr);
	g.exempt[0].plen = 64;
	CHECK(guard_script(&g, buf, sizeof(buf)) > 0);
	CHECK(strstr(buf, "ip6 saddr fd64::/64 accept\n") != NULL);
	CHECK(strstr(buf, "ip6 saddr fd64::/64 accept\n") < strstr(buf, "ip6 saddr fd00::/8 ct state"));
	CHECK(strstr(buf, "ip6 daddr fd12::5 drop\n") < strstr(buf, "ip6 saddr fd64::/64 accept\n"));
	g.n_exempt = 0;

	/* An authority's ports; no pool yet: no IPv4 source rule. */
	g.have_pool = 0;
	g.n_udp = 3;
	g.udp[1] = 8788;
	g.udp[2] = 8790;
	g.n_tcp = 1;
	g.tcp[0] = 8788;
	CHECK(guard_script(&g, buf, sizeof(buf)) > 0);
	CHECK(strstr(buf, "ip6 saddr fd00::/8 udp dport { 8789, 8788, 8790 } accept\n") != NULL);
	CHECK(strstr(buf, "ip6 saddr fd00::/8 tcp dport { 8788 } accept\n") != NULL);
	CHECK(strstr(buf, "ip saddr") == NULL);
}

static void test_refused(void)
{
	struct guard_spec g = spec();
	char buf[2048];

	memcpy(g.ifname, "q2q0\" drop", 11);
	CHECK_INT(guard_script(&g, buf, sizeof(buf)), -EINVAL);
	g = spec();
	g.ifname[0] = 0;
	CHECK_INT(guard_script(&g, buf, sizeof(buf)), -EINVAL);
	g = spec();
	g.n_udp = GUARD_PORTS_MAX + 1;
	CHECK_INT(guard_script(&g, buf, sizeof(buf)), -EINVAL);
	g = spec();
	CHECK_INT(guard_script(&g, buf, 100), -ENOSPC);
}

int main(void)
{
	RUN(test_script);
	RUN(test_refused);
	return HARNESS_END();
}
