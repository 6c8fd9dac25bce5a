/*
 * Overlay address derivation against vectors computed outside this code
 * (printf %s alice@example.com | sha256sum), and prefix parsing, printing
 * and containment at their edges, with a differential check of contains
 * against a bit-by-bit model.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "identity/addr.h"
#include "tests/unit/harness.h"

static const char *v6str(const char *identity, char *buf)
{
	uint8_t a[16];

	addr_overlay_v6(identity, a);
	if (addr_format(AF_INET6, a, buf, INET6_ADDRSTRLEN))
		return "(error)";
	return buf;
}

static void test_overlay_vectors(void)
{
	char b[INET6_ADDRSTRLEN];
	uint8_t a[16];

	/* sha256("alice@example.com") = ff8d9819fc0e12bf0d24892e45987e24... */
	CHECK_STR(v6str("alice@example.com", b),
		  "fdff:8d98:19fc:e12:bf0d:2489:2e45:987e");
	/* sha256("bob@example.com") = 5ff860bf1190596c7188ab851db691f0... */
	CHECK_STR(v6str("bob@example.com", b),
		  "fd5f:f860:bf11:9059:6c71:88ab:851d:b691");
	addr_overlay_v6("alice@example.com", a);
	CHECK_INT(a[0], 0xfd);
	CHECK_INT(a[15], 0x7e);
}

static void test_format(void)
{
	const uint8_t v4[4] = { 203, 0, 113, 9 };
	char b[INET6_ADDRSTRLEN], tiny[4];

	CHECK_INT(addr_format(AF_INET, v4, b, sizeof(b)), 0);
	CHECK_STR(b, "203.0.113.9");
	CHECK_INT(addr_format(AF_INET, v4, tiny, sizeof(tiny)), -ENOSPC);
	CHECK_INT(addr_format(12345, v4, b, sizeof(b)), -EAFNOSUPPORT);
}

static void roundtrip(const char *in, const char *out)
{
	struct addr_prefix p;
	char b[64];

	CHECK_INT(addr_prefix_parse(in, &p), 0);
	CHECK_INT(addr_prefix_format(&p, b, sizeof(b)), 0);
	CHECK_STR(b, out);
}

static void test_prefix_parse(void)
{
	struct addr_prefix p;
	char b[64];

	roundtrip("203.0.113.0/24", "203.0.113.0/24");
	roundtrip("fd00::/8", "fd00::/8");
	roundtrip("0.0.0.0/0", "0.0.0.0/0");
	roundtrip("::/0", "::/0");
	roundtrip("198.51.100.7", "198.51.100.7/32");
	roundtrip("fd00::1", "fd00::1/128");
	roundtrip("100.64.0.0/10", "100.64.0.0/10");
	roundtrip("203.0.113.128/25", "203.0.113.128/25");

	CHECK_INT(addr_prefix_parse("203.0.113.0/24", &p), 0);
	CHECK_INT(p.family, AF_INET);
	CHECK_INT(p.plen, 24);
	CHECK_INT(p.addr[2], 113);

	/* Host bits set. */
	CHECK_INT(addr_prefix_parse("203.0.113.1/24", &p), -EINVAL);
	CHECK_INT(addr_prefix_parse("100.65.0.0/10", NULL), -EINVAL);
	CHECK_INT(addr_prefix_parse("100.128.0.0/10", NULL), 0);
	CHECK_INT(addr_prefix_parse("100.96.0.0/10", NULL), -EINVAL);
	CHECK_INT(addr_prefix_parse("fd00::1/64", &p), -EINVAL);
	/* Bad lengths and syntax. */
	CHECK_INT(addr_prefix_parse("203.0.113.0/33", &p), -EINVAL);
	CHECK_INT(addr_prefix_parse("fd00::/129", &p), -EINVAL);
	CHECK_INT(addr_prefix_parse("203.0.113.0/", &p), -EINVAL);
	CHECK_INT(addr_prefix_parse("203.0.113.0/024", &p), -EINVAL);
	CHECK_INT(addr_prefix_parse("203.0.113.0/+24", &p), -EINVAL);
	CHECK_INT(addr_prefix_parse("203.0.113.0/-1", &p), -EINVAL);
	CHECK_INT(addr_prefix_parse("203.0.113.0/2x", &p), -EINVAL);
	CHECK_INT(addr_prefix_parse("203.0.113.0/24/8", &p), -EINVAL);
	CHECK_INT(addr_prefix_parse("203.0.113/24", &p), -EINVAL);
	CHECK_INT(addr_prefix_parse("/24", &p), -EINVAL);
	CHECK_INT(addr_prefix_parse("", &p), -EINVAL);
	CHECK_INT(addr_prefix_parse(" 203.0.113.0/24", &p), -EINVAL);
	CHECK_INT(addr_prefix_parse("203.0.113.0/24 ", &p), -EINVAL);
	CHECK_INT(addr_prefix_parse("example.com", &p), -EINVAL);
	CHECK_INT(addr_prefix_parse(NULL, &p), -EINVAL);
	{
		char big[200];

		memset(big, '1', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		CHECK_INT(addr_prefix_parse(big, &p), -EINVAL);
	}
	/* Format refuses a malformed struct and a short buffer. */
	memset(&p, 0, sizeof(p));
	p.family = AF_INET;
	p.plen = 40;
	CHECK_INT(addr_prefix_format(&p, b, sizeof(b)), -EINVAL);
	CHECK_INT(addr_prefix_parse("203.0.113.0/24", &p), 0);
	CHECK_INT(addr_prefix_format(&p, b, 8), -ENOSPC);
}

/* Slow twin: compare bit by bit. */
static int naive_contains(const struct addr_prefix *p, int family,
			  const uint8_t *a)
{
	if (p->family != family)
		return 0;
	for (int i = 0; i < p->plen; i++) {
		int bp = (p->addr[i / 8] >> (7 - i % 8)) & 1;
		int ba = (a[i / 8] >> (7 - i % 8)) & 1;

		if (bp != ba)
			return 0;
	}
	return 1;
}

static void test_contains(void)
{
	struct addr_prefix p;
	uint8_t a[16];

	CHECK_INT(addr_prefix_parse("203.0.113.0/24", &p), 0);
	inet_pton(AF_INET, "203.0.113.255", a);
	CHECK_INT(addr_prefix_contains(&p, AF_INET, a), 1);
	inet_pton(AF_INET, "203.0.114.0", a);
	CHECK_INT(addr_prefix_contains(&p, AF_INET, a), 0);
	inet_pton(AF_INET6, "fd00::1", a);
	CHECK_INT(addr_prefix_contains(&p, AF_INET6, a), 0);

	CHECK_INT(addr_prefix_parse("100.64.0.0/10", &p), 0);
	inet_pton(AF_INET, "100.127.255.255", a);
	CHECK_INT(addr_prefix_contains(&p, AF_INET, a), 1);
	inet_pton(AF_INET, "100.128.0.0", a);
	CHECK_INT(addr_prefix_contains(&p, AF_INET, a), 0);

	CHECK_INT(addr_prefix_parse("0.0.0.0/0", &p), 0);
	CHECK_INT(addr_prefix_contains(&p, AF_INET, a), 1);

	CHECK_INT(addr_prefix_parse("fd00::/8", &p), 0);
	inet_pton(AF_INET6, "fdff:8d98:19fc:e12:bf0d:2489:2e45:987e", a);
	CHECK_INT(addr_prefix_contains(&p, AF_INET6, a), 1);
	inet_pton(AF_INET6, "fe80::1", a);
	CHECK_INT(addr_prefix_contains(&p, AF_INET6, a), 0);

	/* Differential: random prefixes and addresses against the model. */
	srand(42);
	for (int i = 0; i < 20000; i++) {
		int fam = (i & 1) ? AF_INET6 : AF_INET;
		int nb = fam == AF_INET ? 4 : 16;

		memset(&p, 0, sizeof(p));
		p.family = fam;
		p.plen = (uint8_t)(rand() % (nb * 8 + 1));
		for (int j = 0; j < nb; j++)
			p.addr[j] = (uint8_t)rand();
		/* Clear host bits so it is a valid prefix. */
		for (int bit = p.plen; bit < nb * 8; bit++)
			p.addr[bit / 8] &= (uint8_t)~(0x80 >> (bit % 8));
		CHECK(addr_prefix_valid(&p));
		memcpy(a, p.addr, 16);
		/* Flip one random bit, sometimes inside the prefix. */
		{
			int bit = rand() % (nb * 8);

			a[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
		}
		if (addr_prefix_contains(&p, fam, a) !=
		    naive_contains(&p, fam, a)) {
			CHECK(!"contains disagrees with the model");
			break;
		}
	}
}

int main(void)
{
	RUN(test_overlay_vectors);
	RUN(test_format);
	RUN(test_prefix_parse);
	RUN(test_contains);
	return HARNESS_END();
}
