/*
 * Fuzz target for what a gateway's port-mapping service sends us
 * (tund/portmap/): PCP answers and ANNOUNCEs (pcp.c), the check every NAT-PMP answer
 * passes before libnatpmp reads it (pmp.c), the grant check both feed
 * (mapping.c), and /proc/net/route's text (mapping.c). Input: one byte
 * choosing which, then the bytes. A PCP answer that parses as a success
 * has its MAP body; one whose grant passes mapping_check has a non-zero
 * port and lifetime and no loopback, zero or multicast address; a NAT-PMP
 * answer that passes has exactly the size its opcode needs (error answers
 * at least the 8-byte header).
 */
#include <errno.h>

#include "tests/fuzz/fuzz.h"
#include "tund/portmap/mapping.h"
#include "tund/portmap/pcp.h"
#include "tund/portmap/pmp.h"

static void fuzz_grant(const uint8_t a[4], uint16_t port, uint32_t life)
{
	char why[128];
	int rc = mapping_check(a, port, life, why, sizeof(why));

	FZ_CHECK(rc == 0 || rc == -EINVAL);
	if (rc == 0) {
		FZ_CHECK(port != 0 && life != 0);
		FZ_CHECK(a[0] != 0 && a[0] != 127 && a[0] < 224);
		FZ_CHECK(mapping_renew_after(life) >= MAPPING_RENEW_MIN);
		FZ_CHECK(mapping_renew_after(life) <= MAPPING_LIFETIME_MAX / 2);
	} else {
		FZ_CHECK(why[0] != '\0');
	}
}

static void fuzz_pcp(const uint8_t *p, size_t n)
{
	struct pcp_answer a;
	uint32_t epoch;
	char why[128] = "";

	/* The same bytes as an unsolicited ANNOUNCE (port 5350). */
	if (pcp_announce_parse(p, n, &epoch, why, sizeof(why)) == 0)
		FZ_CHECK(n >= 24 && n <= PCP_MAX_LEN && n % 4 == 0 && p[1] == 0x80 && p[3] == 0);
	else
		FZ_CHECK(why[0] != '\0');
	why[0] = '\0';
	if (pcp_answer_parse(p, n, &a, why, sizeof(why)) != 0) {
		FZ_CHECK(why[0] != '\0');
		return;
	}
	FZ_CHECK(n >= 24 && n <= PCP_MAX_LEN && n % 4 == 0);
	FZ_CHECK(a.result >= 0 && a.result <= 255);
	FZ_CHECK(pcp_result_name(a.result) != NULL);
	if (a.result == PCP_SUCCESS)
		FZ_CHECK(a.has_body && n >= PCP_MAP_LEN);
	if (a.has_body && a.result == PCP_SUCCESS)
		fuzz_grant(a.map.external + 12, a.map.external_port, a.map.lifetime);
}

static void fuzz_pmp(const uint8_t *p, size_t n)
{
	static const int ops[] = { PMP_OP_ADDR, PMP_OP_UDP };
	char why[128] = "";

	for (size_t i = 0; i < 2; i++) {
		size_t want = ops[i] == PMP_OP_ADDR ? 12 : 16;

		if (pmp_answer_check(p, n, ops[i], why, sizeof(why)) != 0) {
			FZ_CHECK(why[0] != '\0');
			continue;
		}
		FZ_CHECK(p[0] == 0 && p[1] == ops[i]);
		FZ_CHECK(n == want || ((p[2] || p[3]) && n >= 8 && n <= want));
		if (n == 16 && ops[i] == PMP_OP_UDP && !p[2] && !p[3])
			fuzz_grant((const uint8_t[4]){ 192, 0, 2, 1 }, (uint16_t)(p[10] << 8 | p[11]),
			    (uint32_t)p[12] << 24 | (uint32_t)p[13] << 16 | (uint32_t)p[14] << 8 | p[15]);
		if (n == 12 && ops[i] == PMP_OP_ADDR && !p[2] && !p[3])
			fuzz_grant(p + 8, 8789, 7200);
	}
}

static void fuzz_route(const uint8_t *p, size_t n)
{
	uint8_t gw[4];
	int rc = mapping_gateway_parse((const char *)p, n, gw);

	FZ_CHECK(rc == 0 || rc == -ENOENT);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;

	if (size < 1)
		return 0;
	/* A copy of exactly the bytes, so reading past them is caught. */
	copy = fz_dup(data + 1, size - 1);
	switch (data[0] % 3) {
	case 0:
		fuzz_pcp(copy, size - 1);
		break;
	case 1:
		fuzz_pmp(copy, size - 1);
		break;
	default:
		fuzz_route(copy, size - 1);
		break;
	}
	free(copy);
	return 0;
}

static void seeds(const char *dir)
{
	struct pcp_map m = { .internal_port = 8789, .external_port = 8789, .lifetime = 7200 };
	uint8_t pcp[1 + PCP_MAP_LEN] = { 0 };
	/* NAT-PMP: public address 192.0.2.21; UDP 8789 -> 8789 for 7200 s. */
	static const uint8_t addr[] = { 1, 0, 128, 0, 0, 0, 0, 0, 9, 192, 0, 2, 21 };
	static const uint8_t map[] = { 1, 0, 129, 0, 0, 0, 0, 0, 9, 0x22, 0x55, 0x22, 0x55, 0, 0, 0x1c, 0x20 };
	static const char route[] = "\002Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
	    "eth0\t00000000\t010112C6\t0003\t0\t0\t0\t00000000\t0\t0\t0\n";

	m.external[10] = m.external[11] = 0xff;
	m.external[12] = 192, m.external[13] = 0, m.external[14] = 2, m.external[15] = 21;
	pcp_map_build(&m, pcp + 1, PCP_MAP_LEN);
	pcp[2] |= 0x80;	/* the answer's R bit */
	fz_write_seed(dir, "pcp", pcp, sizeof(pcp));
	fz_write_seed(dir, "pmp-addr", addr, sizeof(addr));
	fz_write_seed(dir, "pmp-map", map, sizeof(map));
	fz_write_seed(dir, "route", (const uint8_t *)route, sizeof(route) - 1);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fz_seed_mode(seeds);
	return 0;
}
