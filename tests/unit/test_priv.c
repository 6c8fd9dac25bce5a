/*
 * Tests for the privileged part's messages (tund/priv/privmsg.c) and its
 * checks on engine requests (tund/priv/privpol.c): every type round-trips,
 * every wrong length and out-of-range field is refused, and each policy
 * rule refuses what a compromised engine would try (another interface,
 * a default route, a second address, an address outside the overlay).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "tests/unit/harness.h"
#include "tund/priv/privmsg.h"
#include "tund/priv/privpol.h"

static struct privmsg pfx(uint16_t type, int family, const char *text, uint8_t plen)
{
	struct privmsg m = { .type = type, .family = (uint8_t)family, .plen = plen };

	inet_pton(family, text, m.addr);
	return m;
}

static struct privmsg samples[8];
static int n_samples;

static void make_samples(void)
{
	struct privmsg t = { .type = PRIV_TUN_OPEN, .flag = 1 };
	struct privmsg l = { .type = PRIV_LINK_SET, .flag = 1, .mtu = 1280 };
	struct privmsg r = { .type = PRIV_REPLY, .rc = -EPERM, .ifindex = 7, .flag = 1 };
	struct privmsg n = { .type = PRIV_NOTIFY, .flag = PRIV_NOTIFY_WATCHDOG };

	memcpy(t.ifname, "q2q0", 4);
	memcpy(r.ifname, "q2q0", 4);
	n_samples = 0;
	samples[n_samples++] = t;
	samples[n_samples++] = l;
	samples[n_samples++] = pfx(PRIV_ADDR_ADD, AF_INET, "100.64.0.7", 32);
	samples[n_samples++] = pfx(PRIV_ADDR_DEL, AF_INET6, "fd12::1", 128);
	samples[n_samples++] = pfx(PRIV_ROUTE_ADD, AF_INET, "100.64.0.0", 10);
	samples[n_samples++] = pfx(PRIV_ROUTE_DEL, AF_INET6, "fd00::", 8);
	samples[n_samples++] = r;
	samples[n_samples++] = n;
}

static void test_roundtrip(void)
{
	uint8_t buf[PRIVMSG_MAX], again[PRIVMSG_MAX];
	struct privmsg d;

	make_samples();
	for (int i = 0; i < n_samples; i++) {
		int n = privmsg_encode(&samples[i], buf, sizeof(buf));

		CHECK(n > 4 && n <= PRIVMSG_MAX);
		CHECK_INT(privmsg_decode(buf, (size_t)n, &d), 0);
		CHECK_INT(d.type, samples[i].type);
		CHECK_INT(privmsg_encode(&d, again, sizeof(again)), n);
		CHECK_MEM(buf, again, (size_t)n);
		CHECK_INT(privmsg_encode(&samples[i], buf, (size_t)n - 1), -ENOSPC);
	}
	CHECK_STR(privmsg_name(PRIV_ROUTE_ADD), "ROUTE_ADD");
	CHECK_STR(privmsg_name(999), "unknown");
}

/* Every shorter or longer buffer, and a header that lies about the body. */
static void test_lengths(void)
{
	uint8_t buf[PRIVMSG_MAX + 1];
	struct privmsg d;

	make_samples();
	for (int i = 0; i < n_samples; i++) {
		int n = privmsg_encode(&samples[i], buf, sizeof(buf));

		for (int len = 0; len < n; len++)
			CHECK_INT(privmsg_decode(buf, (size_t)len, &d), -EBADMSG);
		buf[n] = 0;
		CHECK_INT(privmsg_decode(buf, (size_t)n + 1, &d), -EBADMSG);
		buf[3] ^= 1;
		CHECK_INT(privmsg_decode(buf, (size_t)n, &d), -EBADMSG);
	}
	buf[0] = 0; buf[1] = 0x42; buf[2] = 0; buf[3] = 0;
	CHECK_INT(privmsg_decode(buf, 4, &d), -EBADMSG);
}

static int decodes_after(const struct privmsg *m, size_t off, uint8_t val)
{
	uint8_t buf[PRIVMSG_MAX];
	struct privmsg d;
	int n = privmsg_encode(m, buf, sizeof(buf));

	if (n < 0 || off >= (size_t)n)
		return -999;
	buf[off] = val;
	return privmsg_decode(buf, (size_t)n, &d);
}

static void test_fields(void)
{
	struct privmsg t = { .type = PRIV_TUN_OPEN };
	struct privmsg v4 = pfx(PRIV_ADDR_ADD, AF_INET, "100.64.0.7", 32);
	struct privmsg v6 = pfx(PRIV_ROUTE_ADD, AF_INET6, "fd00::", 8);
	struct privmsg n = { .type = PRIV_NOTIFY, .flag = PRIV_NOTIFY_READY };
	uint8_t buf[PRIVMSG_MAX];

	memcpy(t.ifname, "q2q0", 4);
	CHECK_INT(decodes_after(&t, 4, 0), -EBADMSG);		/* empty name */
	CHECK_INT(decodes_after(&t, 4 + 10, 'x'), -EBADMSG);	/* junk after the NUL */
	CHECK_INT(decodes_after(&t, 4 + 16, 2), -EBADMSG);	/* offload flag 2 */
	memset(t.ifname, 'a', sizeof(t.ifname));		/* unterminated */
	CHECK_INT(privmsg_encode(&t, buf, sizeof(buf)), -EINVAL);
	CHECK_INT(decodes_after(&v4, 4, 3), -EBADMSG);		/* family 3 */
	CHECK_INT(decodes_after(&v4, 4 + 17, 33), -EBADMSG);	/* /33 */
	CHECK_INT(decodes_after(&v4, 4 + 1 + 4, 1), -EBADMSG);	/* bytes after an IPv4 address */
	CHECK_INT(decodes_after(&v6, 4 + 17, 129), -EBADMSG);	/* /129 */
	CHECK_INT(decodes_after(&n, 4, 0), -EBADMSG);
	CHECK_INT(decodes_after(&n, 4, 4), -EBADMSG);
	n.type = PRIV_SIGNAL;
	CHECK_INT(decodes_after(&n, 4, SIGTERM), 0);
	CHECK_INT(decodes_after(&n, 4, SIGHUP), 0);
	CHECK_INT(decodes_after(&n, 4, SIGKILL), -EBADMSG);	/* only stop and reload */
}

static int check(const struct privpol *p, struct privmsg m)
{
	char why[160];

	return privpol_check(p, &m, why, sizeof(why));
}

static void test_policy(void)
{
	struct privpol p;
	struct privmsg open = { .type = PRIV_TUN_OPEN }, other = { .type = PRIV_TUN_OPEN };
	struct privmsg a4 = pfx(PRIV_ADDR_ADD, AF_INET, "100.64.0.7", 32);
	struct privmsg a6 = pfx(PRIV_ADDR_ADD, AF_INET6, "fd12:3456::1", 128);
	char why[160];

	privpol_init(&p, "q2q0");
	memcpy(open.ifname, "q2q0", 4);
	memcpy(other.ifname, "eth0", 4);
	CHECK_INT(privpol_check(&p, &other, why, sizeof(why)), -EPERM);
	CHECK(strstr(why, "eth0") != NULL);
	/* Nothing before the interface is open. */
	CHECK_INT(check(&p, (struct privmsg){ .type = PRIV_LINK_SET, .flag = 1, .mtu = 1280 }), -EPERM);
	CHECK_INT(check(&p, a4), -EPERM);
	CHECK_INT(check(&p, (struct privmsg){ .type = PRIV_NOTIFY, .flag = 1 }), 0);
	CHECK_INT(check(&p, open), 0);
	privpol_done(&p, &open);

	CHECK_INT(check(&p, (struct privmsg){ .type = PRIV_LINK_SET, .flag = 1, .mtu = 1280 }), 0);
	CHECK_INT(check(&p, (struct privmsg){ .type = PRIV_LINK_SET, .flag = 1, .mtu = 9000 }), 0);
	CHECK_INT(check(&p, (struct privmsg){ .type = PRIV_LINK_SET, .flag = 1, .mtu = 1279 }), -EPERM);
	CHECK_INT(check(&p, (struct privmsg){ .type = PRIV_LINK_SET, .flag = 0, .mtu = 9001 }), -EPERM);

	CHECK_INT(check(&p, pfx(PRIV_ADDR_ADD, AF_INET, "100.128.0.1", 32)), -EPERM);
	CHECK_INT(check(&p, pfx(PRIV_ADDR_ADD, AF_INET, "192.0.2.1", 32)), -EPERM);
	CHECK_INT(check(&p, pfx(PRIV_ADDR_ADD, AF_INET, "100.64.0.7", 24)), -EPERM);
	CHECK_INT(check(&p, pfx(PRIV_ADDR_ADD, AF_INET6, "2001:db8::1", 128)), -EPERM);
	CHECK_INT(check(&p, pfx(PRIV_ADDR_ADD, AF_INET6, "fd12::1", 64)), -EPERM);
	CHECK_INT(check(&p, pfx(PRIV_ADDR_DEL, AF_INET, "100.64.0.7", 32)), -EPERM);
	CHECK_INT(check(&p, a4), 0);
	privpol_done(&p, &a4);
	CHECK_INT(check(&p, pfx(PRIV_ADDR_ADD, AF_INET, "100.64.0.8", 32)), -EPERM);
	CHECK_INT(check(&p, a6), 0);
	privpol_done(&p, &a6);
	CHECK_INT(check(&p, pfx(PRIV_ADDR_ADD, AF_INET6, "fd12:3456::2", 128)), -EPERM);
	CHECK_INT(check(&p, pfx(PRIV_ADDR_DEL, AF_INET, "100.64.0.8", 32)), -EPERM);
	CHECK_INT(check(&p, pfx(PRIV_ADDR_DEL, AF_INET, "100.64.0.7", 32)), 0);
	{
		struct privmsg del = pfx(PRIV_ADDR_DEL, AF_INET, "100.64.0.7", 32);

		privpol_done(&p, &del);
	}

	/* Routes: fd00::/8, and an IPv4 pool only around the node's address. */
	CHECK_INT(check(&p, pfx(PRIV_ROUTE_ADD, AF_INET, "100.64.0.0", 10)), -EPERM);	/* no address now */
	CHECK_INT(check(&p, a4), 0);
	privpol_done(&p, &a4);
	CHECK_INT(check(&p, pfx(PRIV_ROUTE_ADD, AF_INET, "100.64.0.0", 10)), 0);
	CHECK_INT(check(&p, pfx(PRIV_ROUTE_ADD, AF_INET, "100.64.0.0", 24)), 0);
	CHECK_INT(check(&p, pfx(PRIV_ROUTE_DEL, AF_INET, "100.64.0.0", 10)), 0);
	CHECK_INT(check(&p, pfx(PRIV_ROUTE_ADD, AF_INET6, "fd00::", 8)), 0);
	CHECK_INT(check(&p, pfx(PRIV_ROUTE_DEL, AF_INET6, "fd00::", 8)), 0);
	CHECK_INT(check(&p, pfx(PRIV_ROUTE_ADD, AF_INET, "0.0.0.0", 0)), -EPERM);
	CHECK_INT(check(&p, pfx(PRIV_ROUTE_ADD, AF_INET6, "::", 0)), -EPERM);
	/* allow_exit_node: the default routes, and still nothing else. */
	p.allow_default = 1;
	CHECK_INT(check(&p, pfx(PRIV_ROUTE_ADD, AF_INET, "0.0.0.0", 0)), 0);
	CHECK_INT(check(&p, pfx(PRIV_ROUTE_ADD, AF_INET6, "::", 0)), 0);
	CHECK_INT(check(&p, pfx(PRIV_ROUTE_ADD, AF_INET, "0.0.0.0", 1)), -EPERM);
	CHECK_INT(check(&p, pfx(PRIV_ROUTE_ADD, AF_INET, "198.51.100.0", 24)), -EPERM);
	p.allow_default = 0;
	CHECK_INT(check(&p, pfx(PRIV_ROUTE_ADD, AF_INET, "0.0.0.0", 1)), -EPERM);
	CHECK_INT(check(&p, pfx(PRIV_ROUTE_ADD, AF_INET, "64.0.0.0", 2)), -EPERM);
	CHECK_INT(check(&p, pfx(PRIV_ROUTE_ADD, AF_INET, "100.64.1.0", 24)), -EPERM);	/* not ours */
	CHECK_INT(check(&p, pfx(PRIV_ROUTE_ADD, AF_INET, "100.0.0.0", 8)), -EPERM);	/* public */
	CHECK_INT(check(&p, pfx(PRIV_ROUTE_ADD, AF_INET, "10.0.0.0", 8)), -EPERM);	/* not ours */
	CHECK_INT(check(&p, pfx(PRIV_ROUTE_ADD, AF_INET, "198.51.100.0", 24)), -EPERM);
	CHECK_INT(check(&p, pfx(PRIV_ROUTE_ADD, AF_INET6, "fd00::", 16)), -EPERM);
	/* A throw only takes traffic out of q2q's table: any prefix. */
	CHECK_INT(check(&p, pfx(PRIV_ROUTE_THROW, AF_INET6, "fd64::", 64)), 0);
	CHECK_INT(check(&p, pfx(PRIV_ROUTE_THROW, AF_INET, "0.0.0.0", 0)), 0);
	/* The rules: on and off once the interface is open. */
	CHECK_INT(check(&p, (struct privmsg){ .type = PRIV_RULES, .flag = 1, .port = 8789 }), 0);
	CHECK_INT(check(&p, (struct privmsg){ .type = PRIV_RULES, .flag = 0 }), 0);
	CHECK_INT(check(&p, pfx(PRIV_ROUTE_ADD, AF_INET6, "::", 0)), -EPERM);
	CHECK_INT(privpol_check(&p, &(struct privmsg){ .type = PRIV_ROUTE_ADD, .family = AF_INET6,
	    .plen = 1, .addr = { 0x80 } }, why, sizeof(why)), -EPERM);
	CHECK(strstr(why, "8000::/1") != NULL);
	CHECK_INT(check(&p, (struct privmsg){ .type = PRIV_REPLY }), -EPERM);
	CHECK_INT(check(&p, (struct privmsg){ .type = PRIV_SIGNAL, .flag = SIGTERM }), -EPERM);

	/* A new device starts with no addresses. */
	privpol_done(&p, &open);
	CHECK_INT(check(&p, pfx(PRIV_ADDR_ADD, AF_INET, "100.64.0.8", 32)), 0);
	/* A pool other than the default: 198.18.0.0/15 is private-use. */
	a4 = pfx(PRIV_ADDR_ADD, AF_INET, "198.19.0.5", 32);
	CHECK_INT(check(&p, a4), 0);
	privpol_done(&p, &a4);
	CHECK_INT(check(&p, pfx(PRIV_ROUTE_ADD, AF_INET, "198.19.0.0", 16)), 0);
	CHECK_INT(check(&p, pfx(PRIV_ROUTE_ADD, AF_INET, "198.18.0.0", 15)), 0);
	CHECK_INT(check(&p, pfx(PRIV_ROUTE_ADD, AF_INET, "198.0.0.0", 8)), -EPERM);
	CHECK_INT(check(&p, pfx(PRIV_ROUTE_ADD, AF_INET, "100.64.0.0", 10)), -EPERM);
}

/* Before the interface is open the rules may go, not come. */
static void test_rules_early(void)
{
	struct privpol p;

	privpol_init(&p, "q2q0");
	CHECK_INT(check(&p, (struct privmsg){ .type = PRIV_RULES, .flag = 1, .port = 8789 }), -EPERM);
	CHECK_INT(check(&p, (struct privmsg){ .type = PRIV_RULES, .flag = 0 }), 0);
}

/* Random bytes: whatever decodes re-encodes to the same bytes, and the
 * policy decides on it without crashing. */
static void test_random(void)
{
	uint8_t buf[PRIVMSG_MAX + 8], again[PRIVMSG_MAX];
	struct privpol p;
	struct privmsg d;
	int ok = 0;

	srand(7);
	privpol_init(&p, "q2q0");
	p.opened = 1;
	for (int i = 0; i < 200000; i++) {
		size_t len = 4 + (size_t)(rand() % 26);

		/* Mostly zeros, so names, padding and flags are often valid. */
		for (size_t k = 0; k < len; k++)
			buf[k] = rand() % 3 ? 0 : (uint8_t)(rand() % 4 ? rand() % 3 : rand());
		buf[0] = 0;
		buf[1] = (uint8_t)(1 + rand() % 9);
		buf[2] = 0;
		buf[3] = (uint8_t)(len - 4);
		if (privmsg_decode(buf, len, &d) != 0)
			continue;
		ok++;
		CHECK_INT(privmsg_encode(&d, again, sizeof(again)), (int)len);
		CHECK_MEM(buf, again, len);
		(void)check(&p, d);
	}
	CHECK(ok > 100);
}

int main(void)
{
	RUN(test_roundtrip);
	RUN(test_lengths);
	RUN(test_fields);
	RUN(test_policy);
	RUN(test_rules_early);
	RUN(test_random);
	return HARNESS_END();
}
