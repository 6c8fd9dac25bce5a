/*
 * Which REGISTER endpoints the authority passes on (tund/authority/
 * endpoint.c): never unspecified, loopback, multicast, broadcast,
 * link-local, reserved or port 0; public ones only where the node is
 * seen from (or its IPv6 /64); private LAN ranges kept for the same-NAT
 * case.
 */
#include <arpa/inet.h>
#include <stdlib.h>

#include "tests/unit/harness.h"
#include "tund/authority/endpoint.h"

static void addr(const char *text, uint8_t out[16])
{
	char buf[64];

	if (!strchr(text, ':')) {
		snprintf(buf, sizeof(buf), "::ffff:%s", text);
		text = buf;
	}
	if (inet_pton(AF_INET6, text, out) != 1)
		abort();
}

static enum endpoint_verdict check(const char *a, int port, const char *observed)
{
	uint8_t ep[18], obs[16];

	addr(a, ep);
	addr(observed, obs);
	ep[16] = (uint8_t)(port >> 8);
	ep[17] = (uint8_t)port;
	return endpoint_check(ep, obs);
}

static void test_never_anyones_endpoint(void)
{
	const char *obs = "192.0.2.21";

	CHECK_INT(check("192.0.2.21", 0, obs), ENDPOINT_PORT_ZERO);
	CHECK_INT(check("0.0.0.0", 8789, obs), ENDPOINT_UNSPECIFIED);
	CHECK_INT(check("::", 8789, obs), ENDPOINT_UNSPECIFIED);
	CHECK_INT(check("127.0.0.1", 8789, obs), ENDPOINT_LOOPBACK);
	CHECK_INT(check("127.255.0.9", 8789, obs), ENDPOINT_LOOPBACK);
	CHECK_INT(check("::1", 8789, obs), ENDPOINT_LOOPBACK);
	CHECK_INT(check("224.0.0.1", 8789, obs), ENDPOINT_MULTICAST);
	CHECK_INT(check("239.255.255.250", 1900, obs), ENDPOINT_MULTICAST);
	CHECK_INT(check("ff02::1", 8789, obs), ENDPOINT_MULTICAST);
	CHECK_INT(check("255.255.255.255", 8789, obs), ENDPOINT_BROADCAST);
	CHECK_INT(check("169.254.1.1", 8789, obs), ENDPOINT_LINK_LOCAL);
	CHECK_INT(check("fe80::1", 8789, obs), ENDPOINT_LINK_LOCAL);
	CHECK_INT(check("0.1.2.3", 8789, obs), ENDPOINT_RESERVED);
	CHECK_INT(check("240.0.0.1", 8789, obs), ENDPOINT_RESERVED);
	CHECK_INT(check("::192.0.2.1", 8789, obs), ENDPOINT_RESERVED);
	/* Even when the node is seen from there. */
	CHECK_INT(check("127.0.0.1", 8789, "127.0.0.1"), ENDPOINT_LOOPBACK);
	CHECK_INT(check("::1", 8789, "::1"), ENDPOINT_LOOPBACK);
}

static void test_public_only_where_seen(void)
{
	CHECK_INT(check("192.0.2.21", 8789, "192.0.2.21"), ENDPOINT_OK);
	CHECK_INT(check("192.0.2.21", 40000, "192.0.2.21"), ENDPOINT_OK);
	/* The victim of a reflection: someone else's public address. */
	CHECK_INT(check("203.0.113.80", 80, "192.0.2.21"), ENDPOINT_NOT_OWN);
	CHECK_INT(check("192.0.2.22", 8789, "192.0.2.21"), ENDPOINT_NOT_OWN);
	CHECK_INT(check("2001:db8:1:2::5", 8789, "2001:db8:1:2::1"), ENDPOINT_OK);
	CHECK_INT(check("2001:db8:1:3::5", 8789, "2001:db8:1:2::1"), ENDPOINT_NOT_OWN);
	/* Seen over IPv4, its global IPv6 cannot be vouched for. */
	CHECK_INT(check("2001:db8:1:2::5", 8789, "192.0.2.21"), ENDPOINT_NOT_OWN);
	/* An IPv4 seen address must not make a v6 address of "its /64" own. */
	CHECK_INT(check("0:0:0:0:ffff::1", 8789, "192.0.2.21"), ENDPOINT_RESERVED);
}

static void test_private_lan_kept(void)
{
	const char *obs = "192.0.2.21";

	CHECK_INT(check("10.1.2.3", 8789, obs), ENDPOINT_OK);
	CHECK_INT(check("172.16.0.1", 8789, obs), ENDPOINT_OK);
	CHECK_INT(check("172.31.255.1", 8789, obs), ENDPOINT_OK);
	CHECK_INT(check("172.32.0.1", 8789, obs), ENDPOINT_NOT_OWN);
	CHECK_INT(check("192.168.1.5", 8789, obs), ENDPOINT_OK);
	CHECK_INT(check("100.64.0.9", 8789, obs), ENDPOINT_OK);
	CHECK_INT(check("100.128.0.9", 8789, obs), ENDPOINT_NOT_OWN);
	CHECK_INT(check("198.18.1.3", 8789, obs), ENDPOINT_OK);
	CHECK_INT(check("198.19.255.3", 8789, obs), ENDPOINT_OK);
	CHECK_INT(check("198.20.0.1", 8789, obs), ENDPOINT_NOT_OWN);
	CHECK_INT(check("fd12:3456::1", 8789, obs), ENDPOINT_OK);
	CHECK_INT(check("fc00::1", 8789, obs), ENDPOINT_OK);
}

static void test_reasons_named(void)
{
	CHECK_STR(endpoint_why(ENDPOINT_LOOPBACK), "loopback address");
	CHECK_STR(endpoint_why(ENDPOINT_PORT_ZERO), "port 0");
	CHECK_STR(endpoint_why((enum endpoint_verdict)99), "invalid");
}

int main(void)
{
	RUN(test_never_anyones_endpoint);
	RUN(test_public_only_where_seen);
	RUN(test_private_lan_kept);
	RUN(test_reasons_named);
	return HARNESS_END();
}
