/* Lookup answers against their questions (tund/node/answer.c): an answer
 * for someone else, a PEER whose identity field and certificate disagree,
 * and a certificate that does not hold the address asked about are all
 * refused, with a reason naming both sides; fitting answers pass. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tests/unit/harness.h"
#include "identity/cert.h"
#include "tund/node/answer.h"

static char why[256];

static struct cert_info cert(const char *identity, const char *v4, const char *route)
{
	struct cert_info ci;

	memset(&ci, 0, sizeof(ci));
	snprintf(ci.identity, sizeof(ci.identity), "%s", identity);
	inet_pton(AF_INET, v4, ci.v4);
	addr_overlay_v6(identity, ci.v6);
	ci.has_v4 = ci.has_v6 = 1;
	if (route && addr_prefix_parse(route, &ci.routes[0]) == 0)
		ci.n_routes = 1;
	return ci;
}

static int by_id(const char *asked, const char *ident, const struct cert_info *ci)
{
	struct answer_question q = { .asked_id = asked };

	why[0] = 0;
	return answer_fits(&q, ident, ci, why, sizeof(why));
}

static int by_addr(int family, const char *addr, const char *ident, const struct cert_info *ci)
{
	uint8_t a[16];
	struct answer_question q = { .asked_id = "", .family = family, .addr = a };

	inet_pton(family, addr, a);
	why[0] = 0;
	return answer_fits(&q, ident, ci, why, sizeof(why));
}

static void test_identity(void)
{
	struct cert_info bob = cert("bob@example.com", "100.64.0.2", NULL);

	CHECK_INT(by_id("bob@example.com", "bob@example.com", &bob), 0);
	CHECK_INT(by_id("carol@example.com", "bob@example.com", &bob), -EPROTO);
	CHECK(strstr(why, "carol@example.com") && strstr(why, "bob@example.com"));
	/* The identity field says carol, the certificate is bob's. */
	CHECK_INT(by_id("carol@example.com", "carol@example.com", &bob), -EPROTO);
	CHECK(strstr(why, "certificate of bob@example.com"));
}

static void test_address(void)
{
	struct cert_info bob = cert("bob@example.com", "100.64.0.2", "203.0.113.0/24");
	char v6[INET6_ADDRSTRLEN];

	inet_ntop(AF_INET6, bob.v6, v6, sizeof(v6));
	CHECK_INT(by_addr(AF_INET, "100.64.0.2", "bob@example.com", &bob), 0);
	CHECK_INT(by_addr(AF_INET6, v6, "bob@example.com", &bob), 0);
	CHECK_INT(by_addr(AF_INET, "203.0.113.9", "bob@example.com", &bob), 0);
	CHECK_INT(by_addr(AF_INET, "100.64.0.3", "bob@example.com", &bob), -EPROTO);
	CHECK(strstr(why, "100.64.0.3") && strstr(why, "bob@example.com"));
	CHECK_INT(by_addr(AF_INET6, "fd00::1", "bob@example.com", &bob), -EPROTO);
	CHECK_INT(by_addr(AF_INET, "198.51.100.1", "bob@example.com", &bob), -EPROTO);
	/* Neither identity nor address: nothing can fit. */
	{
		struct answer_question q = { .asked_id = NULL, .family = 0, .addr = NULL };

		CHECK_INT(answer_fits(&q, "bob@example.com", &bob, why, sizeof(why)), -EPROTO);
	}
}

int main(void)
{
	RUN(test_identity);
	RUN(test_address);
	return HARNESS_END();
}
