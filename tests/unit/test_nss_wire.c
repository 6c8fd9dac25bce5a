/*
 * The names protocol: requests and replies round-trip; every truncation,
 * an extra byte, and each header field set wrong are refused with a
 * reason; a reply must answer the question asked.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "nss/wire.h"
#include "tests/unit/harness.h"

static char err[256];

static const uint8_t BOB4[4] = { 100, 64, 0, 2 };
static const uint8_t BOB6[16] = { 0xfd, 0x12, 0x34, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7 };

static struct names_req resolve_req(const char *name)
{
	struct names_req r;

	memset(&r, 0, sizeof(r));
	r.op = NAMES_OP_RESOLVE;
	snprintf(r.name, sizeof(r.name), "%s", name);
	return r;
}

static struct names_req whois_req(int family, const uint8_t *a)
{
	struct names_req r;

	memset(&r, 0, sizeof(r));
	r.op = NAMES_OP_WHOIS;
	r.addr.family = family;
	memcpy(r.addr.a, a, family == AF_INET ? 4 : 16);
	return r;
}

static struct names_reply bob_reply(int op)
{
	struct names_reply r;

	memset(&r, 0, sizeof(r));
	r.op = op;
	r.status = NAMES_OK;
	strcpy(r.name, "bob@example.com");
	r.n_addr = 2;
	r.addr[0].family = AF_INET;
	memcpy(r.addr[0].a, BOB4, 4);
	r.addr[1].family = AF_INET6;
	memcpy(r.addr[1].a, BOB6, 16);
	return r;
}

static void test_request_round_trip(void)
{
	uint8_t buf[NAMES_MSG_MAX];
	struct names_req in = resolve_req("bob@example.com"), out;
	size_t n = names_req_encode(&in, buf, sizeof(buf));

	CHECK_INT(n, 4 + 15);
	CHECK_INT(names_req_decode(buf, n, &out, err, sizeof(err)), 0);
	CHECK_INT(out.op, NAMES_OP_RESOLVE);
	CHECK_STR(out.name, "bob@example.com");
	in = whois_req(AF_INET6, BOB6);
	n = names_req_encode(&in, buf, sizeof(buf));
	CHECK_INT(n, 4 + 16);
	CHECK_INT(names_req_decode(buf, n, &out, err, sizeof(err)), 0);
	CHECK_INT(out.addr.family, AF_INET6);
	CHECK_MEM(out.addr.a, BOB6, 16);
	/* a buffer too small to hold the largest message is refused up front */
	CHECK_INT(names_req_encode(&in, buf, NAMES_MSG_MAX - 1), 0);
	in.op = 9;
	CHECK_INT(names_req_encode(&in, buf, sizeof(buf)), 0);
}

static int req_bad(const uint8_t *b, size_t n)
{
	struct names_req out;

	err[0] = '\0';
	return names_req_decode(b, n, &out, err, sizeof(err)) == -EBADMSG && err[0];
}

static void test_request_refused(void)
{
	uint8_t buf[NAMES_MSG_MAX + 8];
	struct names_req in = resolve_req("bob@example.com");
	size_t n = names_req_encode(&in, buf, sizeof(buf)), k;

	for (k = 0; k < n; k++)
		CHECK(req_bad(buf, k));
	buf[n] = 'x';
	CHECK(req_bad(buf, n + 1));
	buf[0] = 2;
	CHECK(req_bad(buf, n));
	buf[0] = NAMES_VERSION;
	buf[1] = 3;
	CHECK(req_bad(buf, n));
	buf[1] = NAMES_OP_RESOLVE;
	buf[4] = 'B';		/* not an identity */
	CHECK(req_bad(buf, n));
	CHECK(strstr(err, "upper-case") != NULL);
	buf[4] = '\0';		/* a NUL inside */
	CHECK(req_bad(buf, n));
	/* whois outside the overlay ranges, or of a strange length */
	in = whois_req(AF_INET, (const uint8_t[]){ 192, 0, 2, 1 });
	n = names_req_encode(&in, buf, sizeof(buf));
	CHECK(req_bad(buf, n));
	in = whois_req(AF_INET, (const uint8_t[]){ 100, 128, 0, 1 });
	n = names_req_encode(&in, buf, sizeof(buf));
	CHECK(req_bad(buf, n));
	in = whois_req(AF_INET, BOB4);
	n = names_req_encode(&in, buf, sizeof(buf));
	buf[3] = 5;
	buf[n] = 0;
	CHECK(req_bad(buf, n + 1));
	CHECK_INT(names_addr_is_overlay(AF_INET, (const uint8_t[]){ 100, 127, 255, 255 }), 1);
	CHECK_INT(names_addr_is_overlay(AF_INET, (const uint8_t[]){ 100, 63, 255, 255 }), 0);
	CHECK_INT(names_addr_is_overlay(AF_INET6, (const uint8_t[16]){ 0xfc }), 0);
}

static void test_reply_round_trip(void)
{
	uint8_t buf[NAMES_MSG_MAX];
	struct names_req rq = resolve_req("bob@example.com");
	struct names_reply in = bob_reply(NAMES_OP_RESOLVE), out;
	size_t n = names_reply_encode(&in, buf, sizeof(buf));

	CHECK_INT(n, 6 + 15 + 5 + 17);
	CHECK_INT(names_reply_decode(buf, n, &rq, &out, err, sizeof(err)), 0);
	CHECK_STR(out.name, "bob@example.com");
	CHECK_INT(out.n_addr, 2);
	CHECK_MEM(out.addr[0].a, BOB4, 4);
	CHECK_MEM(out.addr[1].a, BOB6, 16);
	memset(&in, 0, sizeof(in));
	in.op = NAMES_OP_RESOLVE;
	in.status = NAMES_NOTFOUND;
	n = names_reply_encode(&in, buf, sizeof(buf));
	CHECK_INT(n, 6);
	CHECK_INT(names_reply_decode(buf, n, &rq, &out, err, sizeof(err)), 0);
	CHECK_INT(out.status, NAMES_NOTFOUND);
}

static int rep_bad(const uint8_t *b, size_t n, const struct names_req *rq)
{
	struct names_reply out;

	err[0] = '\0';
	return names_reply_decode(b, n, rq, &out, err, sizeof(err)) == -EBADMSG && err[0];
}

static void test_reply_truncated(void)
{
	uint8_t buf[NAMES_MSG_MAX + 8];
	struct names_req rq = resolve_req("bob@example.com");
	struct names_reply in = bob_reply(NAMES_OP_RESOLVE);
	size_t n = names_reply_encode(&in, buf, sizeof(buf)), k;

	for (k = 0; k < n; k++)
		CHECK(rep_bad(buf, k, &rq));
	buf[n] = 4;
	CHECK(rep_bad(buf, n + 1, &rq));
	CHECK(strstr(err, "after its last address") != NULL);
}

/* One field at a time set wrong in an otherwise good reply. */
static void test_reply_fields(void)
{
	uint8_t good[NAMES_MSG_MAX], buf[NAMES_MSG_MAX];
	struct names_req rq = resolve_req("bob@example.com");
	struct names_req other = resolve_req("eve@example.com");
	struct names_req w4 = whois_req(AF_INET, BOB4);
	struct names_req w4x = whois_req(AF_INET, (const uint8_t[]){ 100, 64, 0, 3 });
	struct names_reply in = bob_reply(NAMES_OP_RESOLVE);
	size_t n = names_reply_encode(&in, good, sizeof(good));
	size_t a0 = 6 + 15;		/* first address's family byte */

#define MUT(off, val) (memcpy(buf, good, n), buf[off] = (uint8_t)(val), rep_bad(buf, n, &rq))
	CHECK(MUT(0, 0));			/* version */
	CHECK(MUT(1, NAMES_OP_WHOIS));		/* answers another op */
	CHECK(MUT(2, 7));			/* unknown status */
	CHECK(MUT(2, NAMES_NOTFOUND));		/* not found with a name */
	CHECK(MUT(3, 3));			/* too many addresses */
	CHECK(MUT(3, 1));			/* fewer than carried: trailing bytes */
	CHECK(MUT(5, 200));			/* name longer than the message */
	CHECK(MUT(5, 14));			/* name one short */
	CHECK(MUT(6, 'B'));			/* not an identity */
	CHECK(MUT(6, 0));			/* NUL in the name */
	CHECK(MUT(a0, 5));			/* unknown family */
	CHECK(MUT(a0, 6));			/* family and length disagree */
	CHECK(MUT(a0 + 1, 192));		/* IPv4 outside 100.64.0.0/10 */
	CHECK(MUT(a0 + 5, 0xfc));		/* IPv6 outside fd00::/8 */
	CHECK(MUT(a0 + 5 + 1, 0xfc));
#undef MUT
	/* an answer about somebody else */
	CHECK(rep_bad(good, n, &other));
	/* two addresses of one family */
	in.addr[1] = in.addr[0];
	n = names_reply_encode(&in, buf, sizeof(buf));
	CHECK(rep_bad(buf, n, &rq));
	/* an OK reply without addresses */
	in.n_addr = 0;
	n = names_reply_encode(&in, buf, sizeof(buf));
	CHECK(rep_bad(buf, n, &rq));
	/* whois: the reply must hold the address asked */
	in = bob_reply(NAMES_OP_WHOIS);
	n = names_reply_encode(&in, buf, sizeof(buf));
	CHECK_INT(names_reply_decode(buf, n, &w4, &in, err, sizeof(err)), 0);
	CHECK(rep_bad(buf, n, &w4x));
}

int main(void)
{
	RUN(test_request_round_trip);
	RUN(test_request_refused);
	RUN(test_reply_round_trip);
	RUN(test_reply_truncated);
	RUN(test_reply_fields);
	return HARNESS_END();
}
