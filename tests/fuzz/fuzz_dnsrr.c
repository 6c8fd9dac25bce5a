/*
 * Fuzz target for the DNS records that lead to a foreign authority
 * (tund/node/dnsrr.c): SRV and TLSA RDATA as libunbound hands it over,
 * from whatever a zone (or a forger the validator did not stop) says.
 * Input: one byte choosing the record type, then the RDATA. A parsed SRV
 * must name a target of lower-case host-name characters, dotted, without a final dot and
 * within DNSRR_NAME_MAX, and its TLSA name must fit or be refused; a
 * parsed TLSA holds at most DNSRR_TLSA_DATA_MAX bytes, and matching it
 * against a certificate answers 1, 0 or -ENOTSUP, nothing else.
 */
#include <errno.h>

#include "tests/fuzz/fuzz.h"
#include "tund/node/dnsrr.h"

static void fuzz_srv(const uint8_t *p, size_t n)
{
	char why[128], name[DNSRR_NAME_MAX + 32];
	struct dnsrr_srv s, v[2];
	size_t tl;

	if (dnsrr_srv_parse(p, n, &s, why, sizeof(why)) != 0) {
		FZ_CHECK(why[0] != '\0');
		return;
	}
	tl = strlen(s.target);
	FZ_CHECK(tl <= DNSRR_NAME_MAX);
	FZ_CHECK(tl == 0 || (s.target[tl - 1] != '.' && s.target[0] != '.'));
	for (size_t i = 0; i < tl; i++) {
		char c = s.target[i];

		FZ_CHECK((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
			 c == '_' || (c == '.' && s.target[i + 1] != '.'));
	}
	if (dnsrr_tlsa_name(&s, name, sizeof(name)) == 0)
		FZ_CHECK(strncmp(name, "_", 1) == 0 && strstr(name, "._tcp.") != NULL);
	/* A record of lower priority value always wins over its copy. */
	if (s.priority < UINT16_MAX) {
		v[0] = s;
		v[1] = s;
		v[1].priority = (uint16_t)(s.priority + 1);
		FZ_CHECK(dnsrr_srv_pick(v, 2) == NULL || dnsrr_srv_pick(v, 2) == &v[0]);
	}
}

static void fuzz_tlsa(const uint8_t *p, size_t n)
{
	char why[128];
	struct dnsrr_tlsa t;
	int m;

	if (dnsrr_tlsa_parse(p, n, &t, why, sizeof(why)) != 0) {
		FZ_CHECK(why[0] != '\0');
		return;
	}
	FZ_CHECK(t.len <= DNSRR_TLSA_DATA_MAX);
	/* Whatever the record, matching it against bytes that are no
	 * certificate (the record's own data) is an answer, not a crash. */
	m = dnsrr_tlsa_match(&t, p, n);
	FZ_CHECK(m == 0 || m == 1 || m == -ENOTSUP);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;

	if (size < 1)
		return 0;
	copy = fz_dup(data + 1, size - 1);
	if (data[0] & 1)
		fuzz_tlsa(copy, size - 1);
	else
		fuzz_srv(copy, size - 1);
	free(copy);
	return 0;
}

static void seeds(const char *dir)
{
	/* SRV 0 5 8788 auth.example.org. */
	static const uint8_t srv[] = { 0, 0, 0, 0, 0, 5, 0x22, 0x54,
		4, 'a', 'u', 't', 'h', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'o', 'r', 'g', 0 };
	/* TLSA 2 0 1 <32 bytes> */
	uint8_t tlsa[1 + 3 + 32] = { 1, 2, 0, 1 };

	fz_write_seed(dir, "srv", srv, sizeof(srv));
	for (int i = 0; i < 32; i++)
		tlsa[4 + i] = (uint8_t)(i * 7);
	fz_write_seed(dir, "tlsa", tlsa, sizeof(tlsa));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fz_seed_mode(seeds);
	return 0;
}
