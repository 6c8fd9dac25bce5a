/*
 * Fuzz target for routing/icmp.c: inner packets read from the TUN (the
 * local stack's, but any program can write any bytes to a raw socket).
 * Input: u32 mtu, u16 output capacity, then the packet. Every error built
 * must fit the capacity, be a well-formed IP packet (lengths, IPv4 header
 * checksum, ICMP/ICMPv6 checksum) going from the packet's destination back
 * to its source, stay within RFC 1812 / RFC 4443 sizes and quote the start
 * of the packet; a short buffer gives -ENOSPC exactly when the error does
 * not fit; and a packet ip_packet_addrs rejects is never answered.
 */
#include <errno.h>
#include <sys/socket.h>

#include "tests/fuzz/fuzz.h"
#include "routing/icmp.h"

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t sum16(uint32_t acc, const uint8_t *p, size_t n)
{
	for (; n >= 2; p += 2, n -= 2)
		acc += be16(p);
	if (n)
		acc += (uint32_t)p[0] << 8;
	return acc;
}

static uint16_t fold(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

/* out/n is the error built for pkt/len (both valid IP per ip_packet_addrs). */
static void check_error(const uint8_t *pkt, size_t len, const uint8_t *out,
			size_t n, int type4, int code4, int type6, int code6,
			uint32_t word)
{
	const uint8_t *src, *dst, *psrc, *pdst;
	int fam, pfam;
	size_t hl, quote;

	FZ_CHECK(ip_packet_addrs(pkt, len, &pfam, &psrc, &pdst) == 0);
	FZ_CHECK(ip_packet_addrs(out, n, &fam, &src, &dst) == 0);
	FZ_CHECK(fam == pfam);
	if (fam == AF_INET) {
		hl = 20;
		FZ_CHECK(n <= 576 && out[0] == 0x45 && be16(out + 2) == n);
		FZ_CHECK(out[9] == 1);
		FZ_CHECK(fold(sum16(0, out, 20)) == 0xffff);
		FZ_CHECK(fold(sum16(0, out + 20, n - 20)) == 0xffff);
		FZ_CHECK(memcmp(src, pdst, 4) == 0 && memcmp(dst, psrc, 4) == 0);
		FZ_CHECK(out[20] == type4 && out[21] == code4);
		FZ_CHECK(be16(out + 26) == (uint16_t)word);
	} else {
		uint32_t acc;

		hl = 40;
		FZ_CHECK(n <= 1280 && (out[0] >> 4) == 6);
		FZ_CHECK(be16(out + 4) + 40u == n && out[6] == 58);
		acc = sum16(0, out + 8, 32) + (uint32_t)(n - 40) + 58;
		FZ_CHECK(fold(sum16(acc, out + 40, n - 40)) == 0xffff);
		FZ_CHECK(memcmp(src, pdst, 16) == 0 && memcmp(dst, psrc, 16) == 0);
		FZ_CHECK(out[40] == type6 && out[41] == code6);
		FZ_CHECK(((uint32_t)be16(out + 44) << 16 | be16(out + 46)) == word);
	}
	FZ_CHECK(n >= hl + 8);
	quote = n - hl - 8;
	FZ_CHECK(quote <= len);
	FZ_CHECK(memcmp(out + hl + 8, pkt, quote) == 0);
}

/*
 * Runs one builder with a full buffer and with the fuzzed capacity; the
 * two must agree.
 */
static int run(int too_big, const uint8_t *pkt, size_t len, uint32_t mtu,
	       size_t cap)
{
	uint8_t *full = malloc(ICMP_ERROR_MAX), *small = malloc(cap ? cap : 1);
	int a, b;

	FZ_CHECK(full && small);
	a = too_big ? icmp_too_big(pkt, len, mtu, full, ICMP_ERROR_MAX) :
		      icmp_unreachable(pkt, len, full, ICMP_ERROR_MAX);
	b = too_big ? icmp_too_big(pkt, len, mtu, small, cap) :
		      icmp_unreachable(pkt, len, small, cap);
	FZ_CHECK(a == 0 || a > 0 || a == -EINVAL);
	if (a > 0) {
		FZ_CHECK((size_t)a <= ICMP_ERROR_MAX);
		if ((size_t)a <= cap) {
			FZ_CHECK(b == a && memcmp(full, small, (size_t)a) == 0);
		} else {
			FZ_CHECK(b == -ENOSPC);
		}
		if (too_big)
			check_error(pkt, len, full, (size_t)a, 3, 4, 2, 0, mtu);
		else
			check_error(pkt, len, full, (size_t)a, 3, 1, 1, 3, 0);
	} else {
		FZ_CHECK(b == a);
	}
	free(small);
	free(full);
	return a;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *src, *dst;
	uint32_t mtu;
	size_t cap, len;
	uint8_t *pkt;
	int fam, ok, r;
	struct fz f;

	fz_init(&f, data, size);
	mtu = fz_u32(&f);
	if (mtu & 0x80000000u)		/* mostly plausible MTUs */
		mtu &= 0xffff;
	cap = fz_u16(&f) % (ICMP_ERROR_MAX + 64);
	len = f.left;
	pkt = fz_dup(f.p, len);
	ok = ip_packet_addrs(pkt, len, &fam, &src, &dst) == 0;
	if (ok) {
		int v = pkt[0] >> 4;

		FZ_CHECK((v == 4 && fam == AF_INET) || (v == 6 && fam == AF_INET6));
		FZ_CHECK(src >= pkt && dst >= pkt);
		FZ_CHECK((size_t)(src - pkt) + (fam == AF_INET ? 4 : 16) <= len);
		FZ_CHECK((size_t)(dst - pkt) + (fam == AF_INET ? 4 : 16) <= len);
	}
	FZ_CHECK((ip_packet_addrs(pkt, len, NULL, NULL, NULL) == 0) == ok);
	r = run(0, pkt, len, mtu, cap);
	FZ_CHECK(ok || r == -EINVAL);
	r = run(1, pkt, len, mtu, cap);
	FZ_CHECK(ok || r == -EINVAL);
	if (ok && mtu == 0)
		FZ_CHECK(r == -EINVAL);
	free(pkt);
	return 0;
}

static void seeds(const char *dir)
{
	/* u32 mtu 1280, u16 cap 1280, then the packet */
	static const uint8_t tcp4[] = {
		0x00, 0x05, 0x00, 0x00, 0x00, 0x05,
		0x45, 0x00, 0x00, 0x28, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06,
		0x00, 0x00, 100, 64, 0, 7, 203, 0, 113, 9,
		0x9c, 0x40, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0,
		0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0,
	};
	static const uint8_t ping6[] = {
		0x00, 0x05, 0x00, 0x00, 0x00, 0x05,
		0x60, 0, 0, 0, 0x00, 0x10, 0x00, 0x40,
		0xfd, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
		0xfd, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 1,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x80, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01,
	};
	static const uint8_t frag6[] = {
		0x00, 0x05, 0x00, 0x00, 0x00, 0x05,
		0x60, 0, 0, 0, 0x00, 0x18, 44, 0x40,
		0xfd, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
		0xfd, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 1,
		58, 0, 0x00, 0x01, 0, 0, 0, 1,
		0x80, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01,
		0, 0, 0, 0, 0, 0, 0, 0,
	};

	fz_write_seed(dir, "tcp4-df", tcp4, sizeof(tcp4));
	fz_write_seed(dir, "ping6", ping6, sizeof(ping6));
	fz_write_seed(dir, "frag6", frag6, sizeof(frag6));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fz_seed_mode(seeds);
	return 0;
}
