/*
 * The PCP MAP request and answer (tund/portmap/pcp.c): a request's bytes
 * exactly as RFC 6887 lays them out, answers read back, and every way an
 * answer can be wrong refused with a reason.
 */
#include <errno.h>

#include "tests/unit/harness.h"
#include "tund/portmap/pcp.h"

static void req(struct pcp_map *m)
{
	memset(m, 0, sizeof(*m));
	for (int i = 0; i < PCP_NONCE_LEN; i++)
		m->nonce[i] = (uint8_t)(0xa0 + i);
	m->client[10] = m->client[11] = 0xff;
	m->client[12] = 198, m->client[13] = 18, m->client[14] = 1, m->client[15] = 2;
	m->external[10] = m->external[11] = 0xff;
	m->internal_port = 8789;
	m->external_port = 8789;
	m->lifetime = 7200;
}

/* An answer as a router writes it: the request with R set, result, the
 * epoch in place of the client address, the granted port and address. */
static size_t answer(uint8_t *b, int result, uint32_t life, uint16_t ext_port, const uint8_t ext4[4])
{
	struct pcp_map m;

	req(&m);
	pcp_map_build(&m, b, PCP_MAP_LEN);
	b[1] |= 0x80;
	b[3] = (uint8_t)result;
	b[4] = (uint8_t)(life >> 24), b[5] = (uint8_t)(life >> 16), b[6] = (uint8_t)(life >> 8), b[7] = (uint8_t)life;
	memset(b + 8, 0, 16);
	b[11] = 42;	/* epoch */
	b[42] = (uint8_t)(ext_port >> 8), b[43] = (uint8_t)ext_port;
	memcpy(b + 56, ext4, 4);
	return PCP_MAP_LEN;
}

static void test_request_bytes(void)
{
	static const uint8_t want[PCP_MAP_LEN] = {
		2, 1, 0, 0, 0, 0, 0x1c, 0x20,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 18, 1, 2,
		0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab,
		17, 0, 0, 0, 0x22, 0x55, 0x22, 0x55,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0,
	};
	struct pcp_map m;
	uint8_t b[PCP_MAP_LEN + 8];

	req(&m);
	CHECK_INT(pcp_map_build(&m, b, sizeof(b)), PCP_MAP_LEN);
	CHECK_MEM(b, want, PCP_MAP_LEN);
	CHECK_INT(pcp_map_build(&m, b, PCP_MAP_LEN - 1), -ENOSPC);
	/* Delete: the same request with lifetime 0. */
	m.lifetime = 0;
	pcp_map_build(&m, b, sizeof(b));
	CHECK_INT(b[4] | b[5] | b[6] | b[7], 0);
}

static void test_answer_read(void)
{
	static const uint8_t ext[4] = { 192, 0, 2, 21 };
	uint8_t b[PCP_MAP_LEN + 16];
	struct pcp_answer a;
	struct pcp_map m;
	char why[128];
	size_t n = answer(b, PCP_SUCCESS, 120, 40001, ext);

	req(&m);
	CHECK_INT(pcp_answer_parse(b, n, &a, why, sizeof(why)), 0);
	CHECK_INT(a.result, PCP_SUCCESS);
	CHECK_INT(a.has_body, 1);
	CHECK_INT(a.epoch, 42);
	CHECK_INT(a.map.lifetime, 120);
	CHECK_INT(a.map.internal_port, 8789);
	CHECK_INT(a.map.external_port, 40001);
	CHECK_MEM(a.map.external + 12, ext, 4);
	CHECK_MEM(a.map.nonce, m.nonce, PCP_NONCE_LEN);
	/* An option after the body (code 1, length 4) is skipped. */
	memcpy(b + n, "\x01\x00\x00\x04\x00\x00\x00\x00", 8);
	CHECK_INT(pcp_answer_parse(b, n + 8, &a, why, sizeof(why)), 0);
	/* A refusal is an answer: the caller reads the result. */
	n = answer(b, PCP_NOT_AUTHORIZED, 0, 0, ext);
	CHECK_INT(pcp_answer_parse(b, n, &a, why, sizeof(why)), 0);
	CHECK_INT(a.result, PCP_NOT_AUTHORIZED);
	CHECK_STR(pcp_result_name(a.result), "not authorized");
	/* ... and may come with only the header. */
	CHECK_INT(pcp_answer_parse(b, 24, &a, why, sizeof(why)), 0);
	CHECK_INT(a.has_body, 0);
	CHECK_STR(pcp_result_name(200), "unknown result code");
}

static void bad(const uint8_t *b, size_t n, const char *want)
{
	struct pcp_answer a;
	char why[128] = "";

	CHECK_INT(pcp_answer_parse(b, n, &a, why, sizeof(why)), -EPROTO);
	CHECK_STR(why, want);
}

static void test_answer_refused(void)
{
	static const uint8_t ext[4] = { 192, 0, 2, 21 };
	uint8_t b[PCP_MAX_LEN + 8], c[PCP_MAX_LEN + 8];
	size_t n = answer(b, PCP_SUCCESS, 120, 40001, ext);

	bad(b, 20, "shorter than a PCP header (24 bytes)");
	memset(c, 0, sizeof(c));
	memcpy(c, b, n);
	bad(c, PCP_MAX_LEN + 4, "longer than 1100 bytes");
	bad(b, n - 2, "length is not a multiple of 4");
	memcpy(c, b, n);
	c[0] = 0;
	bad(c, n, "version 0 (a NAT-PMP answer)");
	c[0] = 1;
	bad(c, n, "version is not 2");
	memcpy(c, b, n);
	c[1] = 1;	/* a request, not an answer */
	bad(c, n, "not an answer to MAP");
	c[1] = 0x82;	/* PEER */
	bad(c, n, "not an answer to MAP");
	memcpy(c, b, n);
	c[36] = 6;
	bad(c, n, "protocol is not UDP");
	/* Success claimed without saying what was mapped. */
	bad(b, 24, "success without a MAP body");
	/* Options whose lengths run past the end. */
	memcpy(c, b, n);
	memcpy(c + n, "\x01\x00\x00\x08\x00\x00\x00\x00", 8);
	bad(c, n + 8, "option longer than the answer");
	memcpy(c + n, "\x01\x00\xff\xfc", 4);
	bad(c, n + 4, "option longer than the answer");
}

/* An unsolicited ANNOUNCE as a restarted router multicasts it. */
static size_t announce(uint8_t *b, uint32_t epoch)
{
	memset(b, 0, 24);
	b[0] = 2;
	b[1] = 0x80;
	b[8] = (uint8_t)(epoch >> 24), b[9] = (uint8_t)(epoch >> 16), b[10] = (uint8_t)(epoch >> 8);
	b[11] = (uint8_t)epoch;
	return 24;
}

static void test_announce(void)
{
	uint8_t b[PCP_MAP_LEN];
	uint32_t epoch = 0;
	char why[128];
	size_t n = announce(b, 3);

	CHECK_INT(pcp_announce_parse(b, n, &epoch, why, sizeof(why)), 0);
	CHECK_INT(epoch, 3);
	/* Options after the header are the sender's business. */
	memset(b + 24, 0, 8);
	CHECK_INT(pcp_announce_parse(b, 32, &epoch, why, sizeof(why)), 0);
	CHECK_INT(pcp_announce_parse(b, 23, &epoch, why, sizeof(why)), -EPROTO);
	CHECK_INT(pcp_announce_parse(b, 26, &epoch, why, sizeof(why)), -EPROTO);
	b[1] = 0x81;	/* a MAP answer is not one */
	CHECK_INT(pcp_announce_parse(b, n, &epoch, why, sizeof(why)), -EPROTO);
	b[1] = 0x00;	/* a request is not one */
	CHECK_INT(pcp_announce_parse(b, n, &epoch, why, sizeof(why)), -EPROTO);
	b[1] = 0x80;
	b[0] = 0;	/* NAT-PMP */
	CHECK_INT(pcp_announce_parse(b, n, &epoch, why, sizeof(why)), -EPROTO);
	b[0] = 2;
	b[3] = PCP_NOT_AUTHORIZED;
	CHECK_INT(pcp_announce_parse(b, n, &epoch, why, sizeof(why)), -EPROTO);
}

/* One gateway's answers in order, each checked against the one before. */
static void test_epoch(void)
{
	static const struct {
		uint32_t server;
		uint64_t client_ms;
		int fits;
	} seq[] = {
		{ 1000, 50000, 1 },		/* the first is taken as it comes */
		{ 1600, 650000, 1 },		/* both clocks ran 600 s */
		{ 1599, 650100, 1 },		/* a second back: reordering, not a restart */
		{ 5, 660000, 0 },		/* a restart: its time began again */
		{ 15, 670000, 1 },		/* ... and that is the new reference */
		{ 25, 1270000, 0 },		/* 10 s its, 600 s ours: a restart slept through */
		{ 100000, 1280000, 0 },		/* far ahead of ours: another gateway */
		{ 101000, 2280000, 1 },		/* 1000 s both */
		{ 102000, 3340000, 1 },		/* 1000 s its, 1060 s ours: within 1/16 and 2 s */
		{ 103000, 4420000, 0 },		/* 1000 s its, 1080 s ours: not */
		{ 103002, 4420000, 1 },		/* 2 s its, 0 s ours: within 2 s */
		{ 103006, 4421000, 0 },		/* 4 s its, 1 s ours: not */
	};
	struct pcp_epoch e = { 0 };

	for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++)
		CHECK_INT(pcp_epoch_check(&e, seq[i].server, seq[i].client_ms), seq[i].fits);
}

int main(void)
{
	RUN(test_request_bytes);
	RUN(test_answer_read);
	RUN(test_answer_refused);
	RUN(test_announce);
	RUN(test_epoch);
	return HARNESS_END();
}
