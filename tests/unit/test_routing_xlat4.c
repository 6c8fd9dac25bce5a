/*
 * routing/xlat4.c: every checksum the translation updates incrementally
 * is checked against a full recompute over the translated packet, for
 * TCP, UDP (with and without a checksum), ICMP echo, ICMP errors quoting
 * TCP and UDP, fragments, IP options and random payloads of every length.
 */
#include <errno.h>
#include <stdlib.h>

#include "routing/xlat4.h"
#include "tests/unit/harness.h"
#include "tests/unit/testnet.h"

static const uint8_t REAL[4] = { 100, 64, 0, 1 };	/* carol's certified IPv4 */
static const uint8_t LOCAL[4] = { 100, 127, 0, 9 };	/* what alice shows for her */
static const uint8_t SELF[4] = { 100, 64, 0, 1 };	/* alice: the same address */

/* The checksum of n bytes at p (its own field zeroed first), with the
 * pseudo-header of ip when ip is given. */
static uint16_t recompute(const uint8_t *ip, int proto, uint8_t *p, size_t n, size_t csum_at)
{
	uint64_t acc = 0;
	uint8_t save[2];

	memcpy(save, p + csum_at, 2);
	tn_wr16(p + csum_at, 0);
	if (ip)
		acc = tn_sum(tn_sum(0, ip + 12, 8), (const uint8_t[]){ 0, (uint8_t)proto }, 2) + (uint32_t)n;
	acc = tn_sum(acc, p, n);
	memcpy(p + csum_at, save, 2);
	return (uint16_t)~tn_fold(acc);
}

/* Whether the checksum at p+at over n bytes verifies (0 and 0xffff are
 * the same number in one's complement). */
static int verifies(const uint8_t *ip, int proto, uint8_t *p, size_t n, size_t at)
{
	uint16_t want = recompute(ip, proto, p, n, at), got = tn_rd16(p + at);

	return got == want || (got == 0xffff && want == 0) || (got == 0 && want == 0xffff);
}

/* An IPv4 header at p: ihl bytes (options filled), total tot. */
static void ip_hdr(uint8_t *p, size_t ihl, size_t tot, int proto, const uint8_t src[4],
    const uint8_t dst[4], uint16_t frag)
{
	memset(p, 0, ihl);
	p[0] = (uint8_t)(0x40 | ihl / 4);
	tn_wr16(p + 2, (uint16_t)tot);
	tn_wr16(p + 4, 0x1234);
	tn_wr16(p + 6, frag);
	p[8] = 64;
	p[9] = (uint8_t)proto;
	memcpy(p + 12, src, 4);
	memcpy(p + 16, dst, 4);
	for (size_t i = 20; i < ihl; i++)
		p[i] = 1;	/* NOP options */
	tn_wr16(p + 10, recompute(NULL, 0, p, ihl, 10));
}

static size_t l4_csum_at(int proto) { return proto == 6 ? 16 : proto == 17 ? 6 : 2; }

/* A whole packet: header, then an L4 header and payload of n bytes with
 * a correct checksum (UDP's left 0 if nocsum). */
static size_t mk(uint8_t *p, size_t ihl, int proto, const uint8_t src[4], const uint8_t dst[4],
    size_t n, unsigned seed, int nocsum)
{
	uint8_t *l4 = p + ihl;

	srand(seed);
	for (size_t i = 0; i < n; i++)
		l4[i] = (uint8_t)rand();
	if (proto == 17)
		tn_wr16(l4 + 4, (uint16_t)n);
	if (proto == 1) {
		l4[0] = 8;	/* echo request */
		l4[1] = 0;
	}
	ip_hdr(p, ihl, ihl + n, proto, src, dst, 0x4000);
	tn_wr16(l4 + l4_csum_at(proto), 0);
	if (!(proto == 17 && nocsum))
		tn_wr16(l4 + l4_csum_at(proto), recompute(proto == 1 ? NULL : p, proto, l4, n, l4_csum_at(proto)));
	if (proto == 17 && !nocsum && tn_rd16(l4 + 6) == 0)
		tn_wr16(l4 + 6, 0xffff);	/* RFC 768: a computed 0 is sent as all ones */
	return ihl + n;
}

static int all_verify(uint8_t *p, size_t len)
{
	size_t ihl = (size_t)(p[0] & 15) * 4;
	int proto = p[9];

	if (!verifies(NULL, 0, p, ihl, 10))
		return 0;
	if (proto == 17 && tn_rd16(p + ihl + 6) == 0)
		return 1;
	return verifies(proto == 1 ? NULL : p, proto, p + ihl, len - ihl, l4_csum_at(proto));
}

static void test_tcp_udp_icmp_both_ways(void)
{
	static const int protos[] = { 6, 17, 1 };
	uint8_t p[1600];

	for (int k = 0; k < 3; k++) {
		for (size_t n = 20; n < 1400; n += 97) {
			for (size_t ihl = 20; ihl <= 28; ihl += 8) {
				/* In: from carol (source = her real address) to alice. */
				size_t len = mk(p, ihl, protos[k], REAL, SELF, n, (unsigned)n, 0);

				CHECK(all_verify(p, len));
				CHECK_INT(xlat4_in(p, len, REAL, LOCAL), 1);
				CHECK_MEM(p + 12, LOCAL, 4);
				CHECK_MEM(p + 16, SELF, 4);	/* alice's own, untouched */
				CHECK(all_verify(p, len));
				/* Out: alice answers the local address. */
				len = mk(p, ihl, protos[k], SELF, LOCAL, n, (unsigned)n + 1, 0);
				CHECK_INT(xlat4_out(p, len, REAL, LOCAL), 1);
				CHECK_MEM(p + 16, REAL, 4);
				CHECK_MEM(p + 12, SELF, 4);
				CHECK(all_verify(p, len));
			}
		}
	}
}

static void test_nothing_to_do(void)
{
	static const uint8_t other[4] = { 100, 64, 0, 2 };
	uint8_t p[200], q[200];
	size_t len = mk(p, 20, 6, other, SELF, 60, 3, 0);

	memcpy(q, p, len);
	CHECK_INT(xlat4_in(p, len, REAL, LOCAL), 0);
	CHECK_INT(xlat4_out(p, len, REAL, LOCAL), 0);
	CHECK_MEM(p, q, len);
}

static void test_udp_without_checksum(void)
{
	uint8_t p[200];
	size_t len = mk(p, 20, 17, REAL, SELF, 40, 4, 1);

	CHECK_INT(xlat4_in(p, len, REAL, LOCAL), 1);
	CHECK_INT(tn_rd16(p + 26), 0);	/* still "none" */
	CHECK(verifies(NULL, 0, p, 20, 10));
}

/* A UDP checksum that comes out 0 must be sent as 0xffff: find one. */
static void test_udp_zero_becomes_ffff(void)
{
	uint8_t p[200];
	int seen = 0;

	for (unsigned s = 0; s < 200000 && !seen; s++) {
		size_t len = mk(p, 20, 17, REAL, SELF, 12, s, 0);

		CHECK_INT(xlat4_in(p, len, REAL, LOCAL), 1);
		CHECK(tn_rd16(p + 26) != 0);
		if (tn_rd16(p + 26) == 0xffff) {
			seen = 1;
			CHECK(all_verify(p, len));
		}
	}
	CHECK(seen);
}

/* An ICMP error from carol's stack about a packet alice sent her: the
 * quoted destination (carol's real address, which is also alice's own)
 * must become the local one, the quoted source (alice) must not. */
static void test_icmp_error_in(void)
{
	static const int protos[] = { 6, 17 };
	uint8_t p[800];

	for (int k = 0; k < 2; k++) {
		for (size_t quote = 28; quote <= 548; quote += 40) {
			uint8_t *icmp = p + 20, *q = icmp + 8;
			size_t qlen = 20 + 400, len = 20 + 8 + quote;

			mk(q, 20, protos[k], SELF, REAL, 400, (unsigned)quote, 0);
			CHECK_INT(tn_rd16(q + 2), qlen);
			memset(icmp, 0, 8);
			icmp[0] = 3;
			icmp[1] = 3;	/* port unreachable */
			tn_wr16(icmp + 2, recompute(NULL, 0, icmp, 8 + quote, 2));
			ip_hdr(p, 20, len, 1, REAL, SELF, 0);
			CHECK_INT(xlat4_in(p, len, REAL, LOCAL), 1);
			CHECK_MEM(p + 12, LOCAL, 4);
			CHECK_MEM(q + 16, LOCAL, 4);
			CHECK_MEM(q + 12, SELF, 4);
			CHECK(verifies(NULL, 0, p, 20, 10));
			CHECK(verifies(NULL, 0, icmp, 8 + quote, 2));
			CHECK(verifies(NULL, 0, q, 20, 10));
			/* The quoted transport checksum, where the quote holds
			 * the whole quoted packet, verifies too. */
			if (quote >= qlen)
				CHECK(verifies(q, protos[k], q + 20, 400, l4_csum_at(protos[k])));
		}
	}
}

/* Alice's stack answers a packet from the local address with an error:
 * out, the quoted source becomes carol's real address. */
static void test_icmp_error_out(void)
{
	uint8_t p[800], *icmp = p + 20, *q = icmp + 8;
	size_t len = 20 + 8 + 20 + 100;

	mk(q, 20, 17, LOCAL, SELF, 100, 9, 0);
	memset(icmp, 0, 8);
	icmp[0] = 11;	/* time exceeded */
	tn_wr16(icmp + 2, recompute(NULL, 0, icmp, 8 + 120, 2));
	ip_hdr(p, 20, len, 1, SELF, LOCAL, 0);
	CHECK_INT(xlat4_out(p, len, REAL, LOCAL), 1);
	CHECK_MEM(p + 16, REAL, 4);
	CHECK_MEM(q + 12, REAL, 4);
	CHECK(verifies(NULL, 0, p, 20, 10));
	CHECK(verifies(NULL, 0, icmp, 128, 2));
	CHECK(verifies(NULL, 0, q, 20, 10));
	CHECK(verifies(q, 17, q + 20, 100, 6));
}

/* An echo is no error: nothing inside it is an address. */
static void test_icmp_echo_payload_untouched(void)
{
	uint8_t p[200];
	size_t len = mk(p, 20, 1, REAL, SELF, 8 + 40, 5, 0);

	memcpy(p + 20 + 8 + 16, REAL, 4);	/* looks like an address, is data */
	tn_wr16(p + 22, 0);
	tn_wr16(p + 22, recompute(NULL, 0, p + 20, 48, 2));
	CHECK_INT(xlat4_in(p, len, REAL, LOCAL), 1);
	CHECK_MEM(p + 20 + 8 + 16, REAL, 4);
	CHECK(all_verify(p, len));
}

/* A later fragment has no transport header: bytes where one would be
 * are payload and stay as they were. */
static void test_fragment(void)
{
	uint8_t p[200], q[200];
	size_t len = mk(p, 20, 6, REAL, SELF, 80, 6, 0);

	tn_wr16(p + 6, 0x2000 | 10);	/* MF, offset 80 */
	tn_wr16(p + 10, 0);
	tn_wr16(p + 10, recompute(NULL, 0, p, 20, 10));
	memcpy(q, p, len);
	CHECK_INT(xlat4_in(p, len, REAL, LOCAL), 1);
	CHECK_MEM(p + 20, q + 20, len - 20);
	CHECK(verifies(NULL, 0, p, 20, 10));
}

static void test_malformed(void)
{
	uint8_t p[100];
	size_t len = mk(p, 20, 6, REAL, SELF, 40, 7, 0);

	CHECK_INT(xlat4_in(p, 19, REAL, LOCAL), -EINVAL);
	CHECK_INT(xlat4_in(p, len - 1, REAL, LOCAL), -EINVAL);	/* total length beyond */
	p[0] = 0x44;
	CHECK_INT(xlat4_in(p, len, REAL, LOCAL), -EINVAL);	/* ihl 16 */
	p[0] = 0x65;
	CHECK_INT(xlat4_out(p, len, REAL, LOCAL), -EINVAL);	/* IPv6 */
	p[0] = 0x4f;
	CHECK_INT(xlat4_in(p, 40, REAL, LOCAL), -EINVAL);	/* ihl 60 > len */
}

/* A short TCP segment (no room for its checksum) still gets its IP
 * header translated; nothing is written past the packet. */
static void test_short_transport(void)
{
	uint8_t p[40];

	memset(p, 0xaa, sizeof(p));
	ip_hdr(p, 20, 30, 6, REAL, SELF, 0);
	CHECK_INT(xlat4_in(p, 30, REAL, LOCAL), 1);
	CHECK(verifies(NULL, 0, p, 20, 10));
	for (int i = 30; i < 40; i++)
		CHECK_INT(p[i], 0xaa);
}

int main(void)
{
	RUN(test_tcp_udp_icmp_both_ways);
	RUN(test_nothing_to_do);
	RUN(test_udp_without_checksum);
	RUN(test_udp_zero_becomes_ffff);
	RUN(test_icmp_error_in);
	RUN(test_icmp_error_out);
	RUN(test_icmp_echo_payload_untouched);
	RUN(test_fragment);
	RUN(test_malformed);
	RUN(test_short_transport);
	return HARNESS_END();
}
