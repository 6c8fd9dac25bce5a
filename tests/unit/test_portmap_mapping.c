/*
 * What a gateway granted (tund/portmap/mapping.c): addresses that cannot
 * be anyone's endpoint, port 0 and lifetime 0 are refused; renewal comes
 * at half the lifetime, never sooner than 5 s nor later than half a day;
 * the default gateway is read from /proc/net/route's text.
 */
#include <errno.h>

#include "tests/unit/harness.h"
#include "tund/portmap/mapping.h"

static int ok(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port, uint32_t life)
{
	const uint8_t addr[4] = { a, b, c, d };
	char why[128];

	return mapping_check(addr, port, life, why, sizeof(why));
}

static void test_check(void)
{
	const uint8_t lo[4] = { 127, 0, 0, 1 };
	char why[128];

	CHECK_INT(ok(192, 0, 2, 21, 8789, 7200), 0);
	/* A double NAT's gateway has a private outside: allowed, and only
	 * useful to peers on that network. */
	CHECK_INT(ok(198, 18, 0, 5, 8789, 120), 0);
	CHECK_INT(ok(100, 64, 3, 4, 8789, 120), 0);
	CHECK_INT(ok(0, 0, 0, 0, 8789, 7200), -EINVAL);
	CHECK_INT(ok(0, 1, 2, 3, 8789, 7200), -EINVAL);
	CHECK_INT(ok(127, 0, 0, 1, 8789, 7200), -EINVAL);
	CHECK_INT(ok(224, 0, 0, 1, 8789, 7200), -EINVAL);
	CHECK_INT(ok(240, 0, 0, 1, 8789, 7200), -EINVAL);
	CHECK_INT(ok(255, 255, 255, 255, 8789, 7200), -EINVAL);
	CHECK_INT(ok(169, 254, 1, 1, 8789, 7200), -EINVAL);
	CHECK_INT(ok(192, 0, 2, 21, 0, 7200), -EINVAL);
	CHECK_INT(ok(192, 0, 2, 21, 8789, 0), -EINVAL);
	CHECK_INT(mapping_check(lo, 8789, 60, why, sizeof(why)), -EINVAL);
	CHECK_STR(why, "the gateway granted a loopback address");
}

static void test_renew(void)
{
	CHECK_INT(mapping_renew_after(7200), 3600);
	CHECK_INT(mapping_renew_after(20), 10);
	CHECK_INT(mapping_renew_after(3), MAPPING_RENEW_MIN);
	CHECK_INT(mapping_renew_after(1), MAPPING_RENEW_MIN);
	/* A router granting years gets renewed twice a day anyway. */
	CHECK_INT(mapping_renew_after(0xffffffffu), MAPPING_LIFETIME_MAX / 2);
}

static void test_gateway(void)
{
	static const char route[] =
	    "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
	    "eth0\t000112C6\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
	    "eth0\t00000000\t010112C6\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
	    "eth1\t00000000\t020112C6\t0003\t0\t0\t100\t00000000\t0\t0\t0\n";
	static const char no_default[] =
	    "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
	    "eth0\t000112C6\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
	    /* a default route that is down, and one without a gateway */
	    "eth0\t00000000\t010112C6\t0002\t0\t0\t0\t00000000\t0\t0\t0\n"
	    "eth0\t00000000\t00000000\t0001\t0\t0\t0\t00000000\t0\t0\t0\n"
	    "garbage line\n";
	uint8_t gw[4] = { 0 };
	const uint8_t want[4] = { 198, 18, 1, 1 };
	uint32_t probe = 1;
	int little = *(uint8_t *)&probe == 1;

	CHECK_INT(mapping_gateway_parse(route, sizeof(route) - 1, gw), 0);
	/* The kernel's text is the address's bytes read as a host integer. */
	if (little)
		CHECK_MEM(gw, want, 4);
	CHECK_INT(mapping_gateway_parse(no_default, sizeof(no_default) - 1, gw), -ENOENT);
	CHECK_INT(mapping_gateway_parse("", 0, gw), -ENOENT);
	CHECK_INT(mapping_gateway_parse(route, 20, gw), -ENOENT);
}

int main(void)
{
	RUN(test_check);
	RUN(test_renew);
	RUN(test_gateway);
	return HARNESS_END();
}
