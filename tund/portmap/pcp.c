/*
 * PCP MAP requests and answers (pcp.h). The layout, from RFC 6887:
 *
 *   common header (24 bytes)            MAP body (36 bytes)
 *   0  version = 2                      24 nonce (12)
 *   1  R bit | opcode (MAP = 1)         36 protocol (UDP = 17)
 *   2  reserved (request) / reserved,   37 reserved (3)
 *   3  result code (answer)             40 internal port
 *   4  requested / granted lifetime     42 suggested / assigned external port
 *   8  request: client address (16)     44 suggested / assigned external
 *      answer: epoch (4), reserved (12)    address (16)
 *
 * then options, each: code, reserved, u16 length, data padded to 4.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "netstack/bytes.h"
#include "tund/portmap/pcp.h"

#define PCP_VERSION	2
#define PCP_OP_ANNOUNCE	0
#define PCP_OP_MAP	1
#define PCP_R_BIT	0x80
#define PCP_UDP		17

int pcp_map_build(const struct pcp_map *m, uint8_t *buf, size_t cap)
{
	if (cap < PCP_MAP_LEN)
		return -ENOSPC;
	memset(buf, 0, PCP_MAP_LEN);
	buf[0] = PCP_VERSION;
	buf[1] = PCP_OP_MAP;
	be32_put(buf + 4, m->lifetime);
	memcpy(buf + 8, m->client, 16);
	memcpy(buf + 24, m->nonce, PCP_NONCE_LEN);
	buf[36] = PCP_UDP;
	be16_put(buf + 40, m->internal_port);
	be16_put(buf + 42, m->external_port);
	memcpy(buf + 44, m->external, 16);
	return PCP_MAP_LEN;
}

static int pcp_bad(char *why, size_t whylen, const char *what)
{
	snprintf(why, whylen, "%s", what);
	return -EPROTO;
}

int pcp_answer_parse(const uint8_t *b, size_t len, struct pcp_answer *a, char *why, size_t whylen)
{
	size_t off;

	memset(a, 0, sizeof(*a));
	if (len < 24)
		return pcp_bad(why, whylen, "shorter than a PCP header (24 bytes)");
	if (len > PCP_MAX_LEN)
		return pcp_bad(why, whylen, "longer than 1100 bytes");
	if (len % 4)
		return pcp_bad(why, whylen, "length is not a multiple of 4");
	if (b[0] != PCP_VERSION)
		return pcp_bad(why, whylen, b[0] == 0 ? "version 0 (a NAT-PMP answer)" : "version is not 2");
	if (b[1] != (PCP_R_BIT | PCP_OP_MAP))
		return pcp_bad(why, whylen, "not an answer to MAP");
	a->result = b[3];
	a->map.lifetime = be32_get(b + 4);
	a->epoch = be32_get(b + 8);
	/* An error answer may come without the body (RFC 6887 7.2: it copies
	 * what it could of the request). */
	if (len < PCP_MAP_LEN) {
		if (a->result == PCP_SUCCESS)
			return pcp_bad(why, whylen, "success without a MAP body");
		return 0;
	}
	a->has_body = 1;
	memcpy(a->map.nonce, b + 24, PCP_NONCE_LEN);
	if (b[36] != PCP_UDP)
		return pcp_bad(why, whylen, "protocol is not UDP");
	a->map.internal_port = be16_get(b + 40);
	a->map.external_port = be16_get(b + 42);
	memcpy(a->map.external, b + 44, 16);
	for (off = PCP_MAP_LEN; off < len;) {
		size_t olen;

		if (len - off < 4)
			return pcp_bad(why, whylen, "truncated option header");
		olen = be16_get(b + off + 2);
		olen = (olen + 3) & ~(size_t)3;
		if (olen > len - off - 4)
			return pcp_bad(why, whylen, "option longer than the answer");
		off += 4 + olen;
	}
	return 0;
}

/* The common header alone: version, R bit with opcode 0, result, a zero
 * lifetime, the epoch, 12 reserved bytes; options may follow. */
int pcp_announce_parse(const uint8_t *b, size_t len, uint32_t *epoch, char *why, size_t whylen)
{
	if (len < 24)
		return pcp_bad(why, whylen, "shorter than a PCP header (24 bytes)");
	if (len > PCP_MAX_LEN || len % 4)
		return pcp_bad(why, whylen, "not a PCP datagram's length");
	if (b[0] != PCP_VERSION)
		return pcp_bad(why, whylen, "version is not 2");
	if (b[1] != (PCP_R_BIT | PCP_OP_ANNOUNCE))
		return pcp_bad(why, whylen, "not an ANNOUNCE answer");
	if (b[3] != PCP_SUCCESS)
		return pcp_bad(why, whylen, "ANNOUNCE with a result other than success");
	*epoch = be32_get(b + 8);
	return 0;
}

int pcp_epoch_check(struct pcp_epoch *e, uint32_t server, uint64_t client_ms)
{
	int64_t sd, cd;
	int ok = 1;

	if (e->have) {
		sd = (int64_t)server - (int64_t)e->server;
		cd = (int64_t)(client_ms - e->client_ms) / 1000;
		/* Up to a second back is reordering on the way, not a restart. */
		if (sd < -1)
			ok = 0;
		else if (cd + 2 < sd - sd / 16 || sd + 2 < cd - cd / 16)
			ok = 0;
	}
	e->have = 1;
	e->server = server;
	e->client_ms = client_ms;
	return ok;
}

const char *pcp_result_name(int result)
{
	static const char *const names[] = {
		[PCP_SUCCESS] = "success",
		[PCP_UNSUPP_VERSION] = "unsupported version",
		[PCP_NOT_AUTHORIZED] = "not authorized",
		[PCP_MALFORMED_REQUEST] = "malformed request",
		[PCP_UNSUPP_OPCODE] = "unsupported opcode",
		[PCP_UNSUPP_OPTION] = "unsupported option",
		[PCP_MALFORMED_OPTION] = "malformed option",
		[PCP_NETWORK_FAILURE] = "network failure",
		[PCP_NO_RESOURCES] = "no resources",
		[PCP_UNSUPP_PROTOCOL] = "unsupported protocol",
		[PCP_USER_EX_QUOTA] = "user exceeded quota",
		[PCP_CANNOT_PROVIDE_EXTERNAL] = "cannot provide external address",
		[PCP_ADDRESS_MISMATCH] = "address mismatch",
		[PCP_EXCESSIVE_REMOTE_PEERS] = "excessive remote peers",
	};

	if (result < 0 || (size_t)result >= sizeof(names) / sizeof(names[0]))
		return "unknown result code";
	return names[result];
}
