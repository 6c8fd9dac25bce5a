/*
 * The checks of pmp.h. Layout: version (0), opcode (128 + request's),
 * result code (u16), seconds since the gateway's epoch (u32), then the
 * public address (4 bytes, opcode 128) or internal port, mapped port and
 * lifetime (2 + 2 + 4 bytes, opcode 129).
 */
#include <errno.h>
#include <stdio.h>

#include "tund/portmap/pmp.h"

int pmp_answer_check(const uint8_t *b, size_t len, int op, char *why, size_t whylen)
{
	size_t want = op == PMP_OP_ADDR ? 12 : 16;
	const char *bad = NULL;

	if (len < 8)
		bad = "shorter than a NAT-PMP answer (8 bytes)";
	else if (b[0] != 0)
		bad = b[0] == 2 ? "version 2 (a PCP answer)" : "version is not 0";
	else if (b[1] != op)
		bad = b[1] == PMP_OP_ADDR || b[1] == PMP_OP_UDP ? "answers another request" :
		    "opcode is not an answer we asked for";
	else if (len != want && !((b[2] || b[3]) && len >= 8 && len <= want))
		bad = op == PMP_OP_ADDR ? "public address answer is not 12 bytes" :
		    "mapping answer is not 16 bytes";
	if (!bad)
		return 0;
	snprintf(why, whylen, "%s", bad);
	return -EPROTO;
}
