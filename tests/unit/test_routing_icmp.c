/*
 * Tests for routing/icmp.c: build inner packets by hand, generate the ICMP
 * errors and check every header field, the quoted bytes and the checksums
 * (with testnet.h's checksum, written differently from the library's: it
 * sums the whole message including the checksum field and expects 0xffff).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "routing/icmp.h"
#include "harness.h"
#include "testnet.h"

/* A UDP/IPv4 packet of total length n with a patterned payload. */
static size_t mk4(uint8_t *p, size_t n, const char *src, const char *dst,
		  uint8_t proto, int df)
{
	memset(p, 0, n);
	p[0] = 0x45;
	p[2] = (uint8_t)(n >> 8);
	p[3] = (uint8_t)n;
	p[4] = 0x12;
	p[5] = 0x34;
	p[6] = df ? 0x40 : 0;
	p[8] = 63;
	p[9] = proto;
	if (inet_pton(AF_INET, src, p + 12) != 1 || inet_pton(AF_INET, dst, p + 16) != 1)
		abort();
	for (size_t i = 20; i < n; i++)
		p[i] = (uint8_t)(i * 7 + 1);
	return n;
}

static size_t mk6(uint8_t *p, size_t n, const char *src, const char *dst, uint8_t nh)
{
	memset(p, 0, n);
	p[0] = 0x60;
	p[4] = (uint8_t)((n - 40) >> 8);
	p[5] = (uint8_t)(n - 40);
	p[6] = nh;
	p[7] = 64;
	if (inet_pton(AF_INET6, src, p + 8) != 1 || inet_pton(AF_INET6, dst, p + 24) != 1)
		abort();
	for (size_t i = 40; i < n; i++)
		p[i] = (uint8_t)(i * 5 + 3);
	return n;
}

static uint8_t pkt[2000], out[2000];

static void check_v4_error(const uint8_t *orig, size_t origlen, int n, uint8_t code,
			   uint16_t mtu)
{
	size_t quote = origlen < 548 ? origlen : 548;

	CHECK_INT(n, 28 + (int)quote);
	if (n <= 0)
		return;
	CHECK_INT(out[0], 0x45);
	CHECK_INT(tn_rd16(out + 2), n);
	CHECK_INT(out[9], 1);
	CHECK(out[8] > 0);
	CHECK_INT(tn_rd16(out + 6) & 0x1fff, 0);
	CHECK_MEM(out + 12, orig + 16, 4);	/* from the original destination */
	CHECK_MEM(out + 16, orig + 12, 4);	/* to the original source */
	CHECK(tn_ip4_ok(out));
	CHECK_INT(out[20], 3);
	CHECK_INT(out[21], code);
	CHECK_INT(tn_rd16(out + 24), 0);
	CHECK_INT(tn_rd16(out + 26), mtu);
	CHECK(tn_fold(tn_sum(0, out + 20, (size_t)n - 20)) == 0xffff);
	CHECK_MEM(out + 28, orig, quote);
}

static void check_v6_error(const uint8_t *orig, size_t origlen, int n, uint8_t type,
			   uint8_t code, uint32_t word)
{
	size_t quote = origlen < 1232 ? origlen : 1232;

	CHECK_INT(n, 48 + (int)quote);
	if (n <= 0)
		return;
	CHECK_INT(out[0] >> 4, 6);
	CHECK_INT(tn_rd16(out + 4), n - 40);
	CHECK_INT(out[6], 58);
	CHECK(out[7] > 0);
	CHECK_MEM(out + 8, orig + 24, 16);
	CHECK_MEM(out + 24, orig + 8, 16);
	CHECK_INT(out[40], type);
	CHECK_INT(out[41], code);
	CHECK_INT(tn_rd32(out + 44), word);
	CHECK(tn_l4_ok(out, 58, out + 40, (size_t)n - 40));
	CHECK_MEM(out + 48, orig, quote);
}

static void test_addrs(void)
{
	int family = 0;
	const uint8_t *src = NULL, *dst = NULL;
	size_t n;

	n = mk4(pkt, 60, "100.64.0.7", "203.0.113.9", 17, 1);
	CHECK_INT(ip_packet_addrs(pkt, n, &family, &src, &dst), 0);
	CHECK_INT(family, AF_INET);
	CHECK(src == pkt + 12);
	CHECK(dst == pkt + 16);
	/* trailing bytes beyond the total length are tolerated */
	CHECK_INT(ip_packet_addrs(pkt, n + 5, &family, NULL, NULL), 0);
	CHECK_INT(ip_packet_addrs(pkt, n - 1, &family, &src, &dst), -EINVAL);
	CHECK_INT(ip_packet_addrs(pkt, 19, NULL, NULL, NULL), -EINVAL);
	CHECK_INT(ip_packet_addrs(pkt, 0, NULL, NULL, NULL), -EINVAL);
	pkt[0] = 0x44;		/* IHL 4 < 5 */
	CHECK_INT(ip_packet_addrs(pkt, n, NULL, NULL, NULL), -EINVAL);
	pkt[0] = 0x4f;		/* IHL 60 == total length 60: header only, valid */
	CHECK_INT(ip_packet_addrs(pkt, n, NULL, NULL, NULL), 0);
	pkt[3] = 40;		/* total 40 < IHL 60 is not */
	CHECK_INT(ip_packet_addrs(pkt, n, NULL, NULL, NULL), -EINVAL);
	pkt[0] = 0x55;		/* version 5 */
	CHECK_INT(ip_packet_addrs(pkt, n, NULL, NULL, NULL), -EINVAL);

	n = mk6(pkt, 48, "fd12:3456::7", "fd99::1", 17);
	CHECK_INT(ip_packet_addrs(pkt, n, &family, &src, &dst), 0);
	CHECK_INT(family, AF_INET6);
	CHECK(src == pkt + 8);
	CHECK(dst == pkt + 24);
	CHECK_INT(ip_packet_addrs(pkt, 47, NULL, NULL, NULL), -EINVAL);
	CHECK_INT(ip_packet_addrs(pkt, 39, NULL, NULL, NULL), -EINVAL);
	n = mk6(pkt, 40, "fd12:3456::7", "fd99::1", 59);
	CHECK_INT(ip_packet_addrs(pkt, 40, NULL, NULL, NULL), 0);
}

static void test_v4_unreachable(void)
{
	size_t n = mk4(pkt, 100, "100.64.0.7", "203.0.113.9", 17, 0);
	int r = icmp_unreachable(pkt, n, out, sizeof(out));

	check_v4_error(pkt, n, r, 1, 0);
	/* An ICMP echo request is answered... */
	n = mk4(pkt, 84, "100.64.0.7", "203.0.113.9", 1, 1);
	pkt[20] = 8;
	check_v4_error(pkt, n, icmp_unreachable(pkt, n, out, sizeof(out)), 1, 0);
	/* ...an ICMP error is not, nor an unknown ICMP type. */
	pkt[20] = 3;
	CHECK_INT(icmp_unreachable(pkt, n, out, sizeof(out)), 0);
	pkt[20] = 11;
	CHECK_INT(icmp_unreachable(pkt, n, out, sizeof(out)), 0);
	pkt[20] = 200;
	CHECK_INT(icmp_unreachable(pkt, n, out, sizeof(out)), 0);
	/* ICMP with no room for its type byte is malformed. */
	n = mk4(pkt, 20, "100.64.0.7", "203.0.113.9", 1, 1);
	CHECK_INT(icmp_unreachable(pkt, n, out, sizeof(out)), -EINVAL);
	/* A bare header (no UDP header) still gets an answer quoting what there is. */
	n = mk4(pkt, 20, "100.64.0.7", "203.0.113.9", 17, 1);
	check_v4_error(pkt, n, icmp_unreachable(pkt, n, out, sizeof(out)), 1, 0);
}

static void test_v4_options_and_size(void)
{
	size_t n = mk4(pkt, 1400, "100.64.0.7", "203.0.113.9", 6, 1);
	int r;

	r = icmp_unreachable(pkt, n, out, sizeof(out));
	check_v4_error(pkt, n, r, 1, 0);
	CHECK_INT(r, 576);
	CHECK_INT(icmp_unreachable(pkt, n, out, 575), -ENOSPC);
	CHECK_INT(icmp_unreachable(pkt, n, out, 576), 576);
	/* Header with options: the quote starts at the original header. */
	n = mk4(pkt, 64, "100.64.0.7", "203.0.113.9", 17, 0);
	pkt[0] = 0x46;
	pkt[20] = 1;		/* NOP option */
	check_v4_error(pkt, n, icmp_unreachable(pkt, n, out, sizeof(out)), 1, 0);
}

static void test_v4_suppressed(void)
{
	static const char *const bad_src[] = {
		"0.0.0.0", "0.1.2.3", "127.0.0.1", "224.0.0.1", "239.1.2.3",
		"240.0.0.1", "255.255.255.255",
	};
	static const char *const bad_dst[] = {
		"0.0.0.0", "224.0.0.251", "255.255.255.255",
	};
	size_t n;

	for (size_t i = 0; i < sizeof(bad_src) / sizeof(bad_src[0]); i++) {
		n = mk4(pkt, 60, bad_src[i], "203.0.113.9", 17, 1);
		CHECK_INT(icmp_unreachable(pkt, n, out, sizeof(out)), 0);
		CHECK_INT(icmp_too_big(pkt, n, 1280, out, sizeof(out)), 0);
	}
	for (size_t i = 0; i < sizeof(bad_dst) / sizeof(bad_dst[0]); i++) {
		n = mk4(pkt, 60, "100.64.0.7", bad_dst[i], 17, 1);
		CHECK_INT(icmp_unreachable(pkt, n, out, sizeof(out)), 0);
	}
	/* Non-first fragment: no; first fragment (MF set, offset 0): yes. */
	n = mk4(pkt, 60, "100.64.0.7", "203.0.113.9", 17, 0);
	pkt[6] = 0x00;
	pkt[7] = 0xb9;
	CHECK_INT(icmp_unreachable(pkt, n, out, sizeof(out)), 0);
	pkt[6] = 0x20;
	pkt[7] = 0x00;
	check_v4_error(pkt, n, icmp_unreachable(pkt, n, out, sizeof(out)), 1, 0);
	/* Malformed input is -EINVAL, not an answer. */
	pkt[2] = 0x10;
	CHECK_INT(icmp_unreachable(pkt, n, out, sizeof(out)), -EINVAL);
	CHECK_INT(icmp_too_big(pkt, n, 1280, out, sizeof(out)), -EINVAL);
}

static void test_v4_too_big(void)
{
	size_t n = mk4(pkt, 1400, "100.64.0.7", "203.0.113.9", 6, 1);
	int r = icmp_too_big(pkt, n, 1280, out, sizeof(out));

	check_v4_error(pkt, n, r, 4, 1280);
	/* DF clear: the router would fragment, so no error. */
	n = mk4(pkt, 1400, "100.64.0.7", "203.0.113.9", 6, 0);
	CHECK_INT(icmp_too_big(pkt, n, 1280, out, sizeof(out)), 0);
	n = mk4(pkt, 1400, "100.64.0.7", "203.0.113.9", 6, 1);
	CHECK_INT(icmp_too_big(pkt, n, 70000, out, sizeof(out)), -EINVAL);
	CHECK_INT(icmp_too_big(pkt, n, 0, out, sizeof(out)), -EINVAL);
	CHECK_INT(icmp_too_big(pkt, n, 1280, out, 100), -ENOSPC);
}

static void test_v6_unreachable(void)
{
	size_t n = mk6(pkt, 100, "fd12:3456::7", "fd99::1", 17);
	int r = icmp_unreachable(pkt, n, out, sizeof(out));

	check_v6_error(pkt, n, r, 1, 3, 0);
	/* Big packet: the error is exactly 1280 bytes. */
	n = mk6(pkt, 1500, "fd12:3456::7", "fd99::1", 6);
	r = icmp_unreachable(pkt, n, out, sizeof(out));
	check_v6_error(pkt, n, r, 1, 3, 0);
	CHECK_INT(r, 1280);
	CHECK_INT(icmp_unreachable(pkt, n, out, 1279), -ENOSPC);
	CHECK_INT(icmp_unreachable(pkt, n, out, ICMP_ERROR_MAX), 1280);
	/* Odd length to exercise the checksum's padding byte. */
	n = mk6(pkt, 101, "fd12:3456::7", "fd99::1", 17);
	check_v6_error(pkt, n, icmp_unreachable(pkt, n, out, sizeof(out)), 1, 3, 0);
}

/* The firewall's refusal (policy_reject): "administratively prohibited",
 * IPv4 code 13 and IPv6 type 1 code 1, under the same suppression rules. */
static void test_prohibited(void)
{
	size_t n = mk4(pkt, 60, "100.64.0.7", "100.64.0.9", 6, 0);

	check_v4_error(pkt, n, icmp_prohibited(pkt, n, out, sizeof(out)), 13, 0);
	n = mk6(pkt, 80, "fd12:3456::7", "fd99::1", 6);
	check_v6_error(pkt, n, icmp_prohibited(pkt, n, out, sizeof(out)), 1, 1, 0);
	n = mk4(pkt, 84, "100.64.0.7", "100.64.0.9", 1, 1);
	pkt[20] = 3;	/* never an error about an error */
	CHECK_INT(icmp_prohibited(pkt, n, out, sizeof(out)), 0);
}

static void test_v6_too_big(void)
{
	size_t n = mk6(pkt, 1400, "fd12:3456::7", "fd99::1", 6);
	int r = icmp_too_big(pkt, n, 1280, out, sizeof(out));

	check_v6_error(pkt, n, r, 2, 0, 1280);
	/* Large MTUs are carried in full 32 bits. */
	r = icmp_too_big(pkt, n, 70000, out, sizeof(out));
	check_v6_error(pkt, n, r, 2, 0, 70000);
	CHECK_INT(icmp_too_big(pkt, n, 0, out, sizeof(out)), -EINVAL);
}

static void test_v6_suppressed(void)
{
	size_t n;

	n = mk6(pkt, 80, "::", "fd99::1", 17);
	CHECK_INT(icmp_unreachable(pkt, n, out, sizeof(out)), 0);
	n = mk6(pkt, 80, "ff02::1", "fd99::1", 17);
	CHECK_INT(icmp_unreachable(pkt, n, out, sizeof(out)), 0);
	n = mk6(pkt, 80, "fd12:3456::7", "ff05::2", 17);
	CHECK_INT(icmp_unreachable(pkt, n, out, sizeof(out)), 0);
	CHECK_INT(icmp_too_big(pkt, n, 1280, out, sizeof(out)), 0);

	/* ICMPv6: echo request answered; errors (type < 128) and redirect not. */
	n = mk6(pkt, 80, "fd12:3456::7", "fd99::1", 58);
	pkt[40] = 128;
	check_v6_error(pkt, n, icmp_unreachable(pkt, n, out, sizeof(out)), 1, 3, 0);
	pkt[40] = 1;
	CHECK_INT(icmp_unreachable(pkt, n, out, sizeof(out)), 0);
	pkt[40] = 2;
	CHECK_INT(icmp_too_big(pkt, n, 1280, out, sizeof(out)), 0);
	pkt[40] = 137;
	CHECK_INT(icmp_unreachable(pkt, n, out, sizeof(out)), 0);

	/* Hop-by-hop (8 bytes) then destination options (16) then ICMPv6 error. */
	n = mk6(pkt, 120, "fd12:3456::7", "fd99::1", 0);
	pkt[40] = 60;
	pkt[41] = 0;
	pkt[48] = 58;
	pkt[49] = 1;
	pkt[64] = 3;		/* time exceeded */
	CHECK_INT(icmp_unreachable(pkt, n, out, sizeof(out)), 0);
	pkt[64] = 129;		/* echo reply: answered */
	check_v6_error(pkt, n, icmp_unreachable(pkt, n, out, sizeof(out)), 1, 3, 0);
	/* An extension header running past the payload is malformed. */
	pkt[49] = 20;
	CHECK_INT(icmp_unreachable(pkt, n, out, sizeof(out)), -EINVAL);
	n = mk6(pkt, 41, "fd12:3456::7", "fd99::1", 0);
	CHECK_INT(icmp_unreachable(pkt, n, out, sizeof(out)), -EINVAL);
	n = mk6(pkt, 40, "fd12:3456::7", "fd99::1", 58);
	CHECK_INT(icmp_unreachable(pkt, n, out, sizeof(out)), -EINVAL);

	/* Fragment header: non-first fragment silent; first answered unless ICMP error. */
	n = mk6(pkt, 100, "fd12:3456::7", "fd99::1", 44);
	pkt[40] = 17;
	pkt[42] = 0x05;
	pkt[43] = 0x01;		/* offset 160, M=1 */
	CHECK_INT(icmp_unreachable(pkt, n, out, sizeof(out)), 0);
	pkt[42] = 0x00;
	pkt[43] = 0x01;		/* offset 0, M=1 */
	check_v6_error(pkt, n, icmp_unreachable(pkt, n, out, sizeof(out)), 1, 3, 0);
	pkt[40] = 58;
	pkt[48] = 4;		/* parameter problem behind the fragment header */
	CHECK_INT(icmp_unreachable(pkt, n, out, sizeof(out)), 0);
	n = mk6(pkt, 45, "fd12:3456::7", "fd99::1", 44);
	CHECK_INT(icmp_unreachable(pkt, n, out, sizeof(out)), -EINVAL);
	/* No next header: answered. */
	n = mk6(pkt, 40, "fd12:3456::7", "fd99::1", 59);
	check_v6_error(pkt, n, icmp_unreachable(pkt, n, out, sizeof(out)), 1, 3, 0);
}

/* Feed truncated and random bytes: never a crash, never an overrun. */
static void test_garbage(void)
{
	uint64_t s = 0x1234567;

	mk6(pkt, 200, "fd12:3456::7", "fd99::1", 0);

	for (int round = 0; round < 20000; round++) {
		size_t len = (size_t)(s % 200);
		int r;

		s ^= s << 13; s ^= s >> 7; s ^= s << 17;
		pkt[40 + s % 160] = (uint8_t)(s >> 24);
		if (round % 3 == 0)
			pkt[0] = (uint8_t)(0x40 | (s & 0x2f));
		else
			pkt[0] = 0x60;
		r = icmp_unreachable(pkt, len, out, sizeof(out));
		CHECK(r >= -EINVAL && r <= 1280);
		if (r > 0 && out[0] >> 4 == 6)
			CHECK(tn_l4_ok(out, 58, out + 40, (size_t)r - 40));
	}
}

int main(void)
{
	RUN(test_addrs);
	RUN(test_v4_unreachable);
	RUN(test_v4_options_and_size);
	RUN(test_v4_suppressed);
	RUN(test_v4_too_big);
	RUN(test_v6_unreachable);
	RUN(test_v6_too_big);
	RUN(test_prohibited);
	RUN(test_v6_suppressed);
	RUN(test_garbage);
	return HARNESS_END();
}
