/*
 * tund/node/dnsrr.c: SRV and TLSA RDATA as they come off the wire,
 * malformed ones refused with a reason, and the TLSA match against a CA
 * certificate by both selectors.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/hash.h>

#include "identity/cert.h"
#include "identity/key.h"
#include "identity/x509.h"
#include "tund/node/dnsrr.h"
#include "tests/unit/harness.h"

static char why[128];

static void test_srv(void)
{
	static const uint8_t ok[] = { 0, 10, 0, 5, 0x22, 0x54,
		4, 'A', 'u', 't', 'h', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'o', 'r', 'g', 0 };
	static const uint8_t dot[] = { 0, 0, 0, 0, 0, 0, 0 };
	static const uint8_t comp[] = { 0, 0, 0, 0, 0x22, 0x54, 0xc0, 12 };
	static const uint8_t past[] = { 0, 0, 0, 0, 0x22, 0x54, 9, 'a', 0 };
	static const uint8_t trail[] = { 0, 0, 0, 0, 0x22, 0x54, 1, 'a', 0, 0 };
	static const uint8_t bad[] = { 0, 0, 0, 0, 0x22, 0x54, 1, '/', 0 };
	static const uint8_t port0[] = { 0, 0, 0, 0, 0, 0, 1, 'a', 0 };
	struct dnsrr_srv s, v[3];
	char name[300];

	CHECK_INT(dnsrr_srv_parse(ok, sizeof(ok), &s, why, sizeof(why)), 0);
	CHECK_INT(s.priority, 10);
	CHECK_INT(s.weight, 5);
	CHECK_INT(s.port, 8788);
	CHECK_STR(s.target, "auth.example.org");
	CHECK_INT(dnsrr_tlsa_name(&s, name, sizeof(name)), 0);
	CHECK_STR(name, "_8788._tcp.auth.example.org");
	CHECK_INT(dnsrr_srv_parse(dot, sizeof(dot), &s, why, sizeof(why)), 0);
	CHECK_STR(s.target, "");
	CHECK_INT(dnsrr_srv_parse(comp, sizeof(comp), &s, why, sizeof(why)), -EBADMSG);
	CHECK(strstr(why, "compressed") != NULL);
	CHECK_INT(dnsrr_srv_parse(past, sizeof(past), &s, why, sizeof(why)), -EBADMSG);
	CHECK_INT(dnsrr_srv_parse(trail, sizeof(trail), &s, why, sizeof(why)), -EBADMSG);
	CHECK(strstr(why, "after") != NULL);
	CHECK_INT(dnsrr_srv_parse(bad, sizeof(bad), &s, why, sizeof(why)), -EBADMSG);
	CHECK_INT(dnsrr_srv_parse(port0, sizeof(port0), &s, why, sizeof(why)), -EBADMSG);
	CHECK_INT(dnsrr_srv_parse(ok, 5, &s, why, sizeof(why)), -EBADMSG);
	for (size_t n = 0; n < sizeof(ok); n++)	/* every truncation is refused */
		CHECK_INT(dnsrr_srv_parse(ok, n, &s, why, sizeof(why)), -EBADMSG);

	memset(v, 0, sizeof(v));
	v[0].priority = 5; snprintf(v[0].target, sizeof(v[0].target), "a");
	v[1].priority = 1; v[1].weight = 1; snprintf(v[1].target, sizeof(v[1].target), "b");
	v[2].priority = 1; v[2].weight = 9; snprintf(v[2].target, sizeof(v[2].target), "c");
	CHECK_STR(dnsrr_srv_pick(v, 3)->target, "c");
	v[2].target[0] = 0;
	CHECK_STR(dnsrr_srv_pick(v, 3)->target, "b");
	CHECK(dnsrr_srv_pick(v, 0) == NULL);
}

static void test_tlsa(void)
{
	struct id_key *k;
	uint8_t *ca, *other, rd[3 + 32];
	size_t calen, olen;
	struct dnsrr_tlsa t;
	struct x509_cert c;

	if (cert_ca_create("example.org", 30, &k, &ca, &calen))
		abort();
	key_free(k);
	if (cert_ca_create("example.org", 30, &k, &other, &olen))
		abort();
	key_free(k);

	/* 2 0 1: the SHA-256 of the certificate, q2q's CA fingerprint */
	rd[0] = 2; rd[1] = 0; rd[2] = 1;
	cert_fingerprint(ca, calen, rd + 3);
	CHECK_INT(dnsrr_tlsa_parse(rd, sizeof(rd), &t, why, sizeof(why)), 0);
	CHECK_INT(dnsrr_tlsa_match(&t, ca, calen), 1);
	CHECK_INT(dnsrr_tlsa_match(&t, other, olen), 0);
	/* 2 1 1: the SHA-256 of its SubjectPublicKeyInfo */
	rd[1] = 1;
	CHECK_INT(x509_ca_check(ca, calen, NULL, 0, &c, NULL, 0), 0);
	wc_Sha256Hash(c.spki, (word32)c.spki_len, rd + 3);
	CHECK_INT(dnsrr_tlsa_parse(rd, sizeof(rd), &t, why, sizeof(why)), 0);
	CHECK_INT(dnsrr_tlsa_match(&t, ca, calen), 1);
	CHECK_INT(dnsrr_tlsa_match(&t, other, olen), 0);
	/* other usages and matching types are not ours to judge */
	rd[0] = 3;
	CHECK_INT(dnsrr_tlsa_parse(rd, sizeof(rd), &t, why, sizeof(why)), 0);
	CHECK_INT(dnsrr_tlsa_match(&t, ca, calen), -ENOTSUP);
	rd[0] = 2; rd[2] = 2;
	CHECK_INT(dnsrr_tlsa_parse(rd, sizeof(rd), &t, why, sizeof(why)), 0);
	CHECK_INT(dnsrr_tlsa_match(&t, ca, calen), -ENOTSUP);
	rd[2] = 1;
	CHECK_INT(dnsrr_tlsa_parse(rd, 20, &t, why, sizeof(why)), 0);
	CHECK_INT(dnsrr_tlsa_match(&t, ca, calen), -ENOTSUP);	/* not 32 bytes */
	CHECK_INT(dnsrr_tlsa_parse(rd, 3, &t, why, sizeof(why)), -EBADMSG);
	free(ca);
	free(other);
}

int main(void)
{
	RUN(test_srv);
	RUN(test_tlsa);
	return HARNESS_END();
}
