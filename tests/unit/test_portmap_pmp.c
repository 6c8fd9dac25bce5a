/*
 * The NAT-PMP answer check (tund/portmap/pmp.c) that runs before
 * libnatpmp reads a datagram: only answers of the size their opcode needs
 * (RFC 6886), to the request we made, get through.
 */
#include <errno.h>

#include "tests/unit/harness.h"
#include "tund/portmap/pmp.h"

static int chk(const uint8_t *b, size_t n, int op, const char *want)
{
	char why[96] = "";
	int rc = pmp_answer_check(b, n, op, why, sizeof(why));

	if (want)
		CHECK_STR(why, want);
	return rc;
}

static void test_good(void)
{
	static const uint8_t addr[12] = { 0, 128, 0, 0, 0, 0, 0, 9, 192, 0, 2, 21 };
	static const uint8_t map[16] = { 0, 129, 0, 0, 0, 0, 0, 9, 0x22, 0x55, 0x22, 0x55, 0, 0, 0x1c, 0x20 };
	/* Refused (result 2, not authorized): the header may be all. */
	static const uint8_t refused[8] = { 0, 129, 0, 2, 0, 0, 0, 9 };

	CHECK_INT(chk(addr, sizeof(addr), PMP_OP_ADDR, NULL), 0);
	CHECK_INT(chk(map, sizeof(map), PMP_OP_UDP, NULL), 0);
	CHECK_INT(chk(refused, sizeof(refused), PMP_OP_UDP, NULL), 0);
	CHECK_INT(chk(map, 12, PMP_OP_UDP, "mapping answer is not 16 bytes"), -EPROTO);
}

static void test_bad(void)
{
	uint8_t b[17] = { 0, 129, 0, 0, 0, 0, 0, 9, 0x22, 0x55, 0x22, 0x55, 0, 0, 0x1c, 0x20, 0 };

	CHECK_INT(chk(b, 7, PMP_OP_UDP, "shorter than a NAT-PMP answer (8 bytes)"), -EPROTO);
	/* Short success answers would leave libnatpmp reading stale bytes. */
	CHECK_INT(chk(b, 8, PMP_OP_UDP, "mapping answer is not 16 bytes"), -EPROTO);
	CHECK_INT(chk(b, 17, PMP_OP_UDP, "mapping answer is not 16 bytes"), -EPROTO);
	CHECK_INT(chk(b, 16, PMP_OP_ADDR, "answers another request"), -EPROTO);
	b[1] = 130;	/* TCP mapping: we never ask for one */
	CHECK_INT(chk(b, 16, PMP_OP_UDP, "opcode is not an answer we asked for"), -EPROTO);
	b[1] = 1;	/* a request, not an answer */
	CHECK_INT(chk(b, 16, PMP_OP_UDP, "opcode is not an answer we asked for"), -EPROTO);
	b[1] = 129;
	b[0] = 2;
	CHECK_INT(chk(b, 16, PMP_OP_UDP, "version 2 (a PCP answer)"), -EPROTO);
	b[0] = 1;
	CHECK_INT(chk(b, 16, PMP_OP_UDP, "version is not 0"), -EPROTO);
	b[0] = 0;
	b[1] = 128;
	CHECK_INT(chk(b, 16, PMP_OP_ADDR, "public address answer is not 12 bytes"), -EPROTO);
}

int main(void)
{
	RUN(test_good);
	RUN(test_bad);
	return HARNESS_END();
}
