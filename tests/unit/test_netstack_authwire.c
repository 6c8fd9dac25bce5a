/* The authority service datagrams: round trips, authentication, layout. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "netstack/authwire.h"
#include "tests/unit/harness.h"

static const uint8_t key[AW_KEY_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8 };
static const uint8_t other[AW_KEY_LEN] = { 9 };

static void test_probe_round_trip(void)
{
	struct aw_probe p = { .node_id = 0xdeadbeef, .txid = 42 }, q;
	uint8_t buf[128];
	int n = aw_build_probe(&p, key, buf, sizeof(buf));

	CHECK_INT(n, AW_PROBE_LEN);
	CHECK_INT(aw_parse_probe(AW_PROBE, buf, (size_t)n, &q), 0);
	CHECK_INT(q.node_id, 0xdeadbeef);
	CHECK_INT(q.txid, 42);
	CHECK_INT(aw_verify(buf, (size_t)n, key), 0);
	CHECK_INT(aw_verify(buf, (size_t)n, other), -EBADMSG);
	/* The probe is bigger than its reply: no amplification. */
	CHECK(AW_PROBE_LEN >= AW_PROBE_REPLY_LEN);
}

static void test_probe_reply(void)
{
	struct aw_probe p = { .node_id = 7, .txid = 9, .port = 40000 }, q;
	uint8_t buf[128];
	int n;

	p.addr[10] = p.addr[11] = 0xff;
	p.addr[12] = 198; p.addr[13] = 51; p.addr[14] = 100; p.addr[15] = 7;
	n = aw_build_probe_reply(&p, key, buf, sizeof(buf));
	CHECK_INT(n, AW_PROBE_REPLY_LEN);
	CHECK_INT(aw_parse_probe(AW_PROBE_REPLY, buf, (size_t)n, &q), 0);
	CHECK_INT(q.port, 40000);
	CHECK_MEM(q.addr, p.addr, 16);
	CHECK_INT(aw_verify(buf, (size_t)n, key), 0);
	/* Wrong type expectations and lengths are refused. */
	CHECK_INT(aw_parse_probe(AW_PROBE, buf, (size_t)n, &q), -EINVAL);
	CHECK_INT(aw_parse_probe(AW_PROBE_REPLY, buf, (size_t)n - 1, &q), -EINVAL);
}

static void test_relay_tamper(void)
{
	struct aw_relay r = { .sender_id = 1, .target_id = 2, .counter = 3 }, q;
	uint8_t buf[256];
	int n;

	memcpy(buf + AW_RELAY_HDR, "ciphertext bytes", 16);
	n = aw_seal_relay(AW_RELAY, &r, 16, key, buf, sizeof(buf));
	CHECK_INT(n, AW_RELAY_HDR + 16);
	CHECK_INT(aw_parse_relay(buf, (size_t)n, &q), 0);
	CHECK_INT(q.sender_id, 1);
	CHECK_INT(q.target_id, 2);
	CHECK_INT(q.counter, 3);
	CHECK_INT(q.payload_len, 16);
	CHECK_INT(aw_verify(buf, (size_t)n, key), 0);
	/* Every byte, header or payload, is covered (but the mac itself). */
	for (int i = 0; i < n; i++) {
		if (i >= 20 && i < 36)
			continue;
		buf[i] ^= 0x40;
		if (aw_verify(buf, (size_t)n, key) == 0)
			H_FAIL("flipping byte %d went unnoticed", i);
		buf[i] ^= 0x40;
	}
	/* An empty payload is not a relay datagram. */
	CHECK_INT(aw_parse_relay(buf, AW_RELAY_HDR, &q), -EINVAL);
}

static void test_punch(void)
{
	uint8_t tok[AW_TOKEN_LEN] = { 0xaa, 0xbb }, ab[AW_KEY_LEN], ba[AW_KEY_LEN], ab2[AW_KEY_LEN], buf[64];
	uint32_t ctr = 0;
	int n;

	CHECK_INT(aw_punch_key(tok, "alice@example.com", "bob@example.com", ab), 0);
	CHECK_INT(aw_punch_key(tok, "bob@example.com", "alice@example.com", ba), 0);
	CHECK(memcmp(ab, ba, sizeof(ab)) != 0);		/* one key per direction */
	CHECK_INT(aw_punch_key(tok, "alice@example.co", "mbob@example.com", ab2), 0);
	CHECK(memcmp(ab, ab2, sizeof(ab)) != 0);	/* identities are delimited */
	n = aw_build_punch(AW_PUNCH_ACK, 7, ab, buf, sizeof(buf));
	CHECK_INT(n, AW_PUNCH_LEN);
	CHECK_INT(aw_parse_punch(buf, (size_t)n, &ctr), 0);
	CHECK_INT(ctr, 7);
	CHECK_INT(aw_verify(buf, (size_t)n, ab), 0);
	CHECK_INT(aw_verify(buf, (size_t)n, ba), -EBADMSG);
	/* The token is not on the wire. */
	CHECK(memmem(buf, (size_t)n, tok, 2) == NULL);
	buf[4] = 8;	/* another counter: the mac no longer fits */
	CHECK_INT(aw_verify(buf, (size_t)n, ab), -EBADMSG);
	buf[0] = AW_PUNCH;	/* an ACK is not a PUNCH */
	buf[4] = 7;
	CHECK_INT(aw_verify(buf, (size_t)n, ab), -EBADMSG);
	buf[2] = 1;	/* reserved must be zero */
	CHECK_INT(aw_parse_punch(buf, (size_t)n, &ctr), -EINVAL);
	CHECK_INT(aw_build_punch(AW_PUNCH, 1, ab, buf, AW_PUNCH_LEN - 1), -ENOSPC);
}

static void test_random_garbage(void)
{
	uint8_t buf[300];
	struct aw_probe p;
	struct aw_relay r;
	uint32_t ctr;

	srand(1);
	for (int i = 0; i < 20000; i++) {
		size_t len = (size_t)(rand() % (int)sizeof(buf));
		for (size_t j = 0; j < len; j++)
			buf[j] = (uint8_t)rand();
		if (len)
			buf[0] = (uint8_t)(5 + rand() % 6);
		/* Must not crash, and random bytes must never authenticate. */
		aw_parse_probe(AW_PROBE, buf, len, &p);
		aw_parse_probe(AW_PROBE_REPLY, buf, len, &p);
		aw_parse_relay(buf, len, &r);
		aw_parse_punch(buf, len, &ctr);
		if (aw_verify(buf, len, key) == 0)
			H_FAIL("random datagram %d authenticated", i);
	}
}

int main(void)
{
	RUN(test_probe_round_trip);
	RUN(test_probe_reply);
	RUN(test_relay_tamper);
	RUN(test_punch);
	RUN(test_random_garbage);
	return HARNESS_END();
}
