/*
 * netstack/csum.c against the Internet checksum written out as RFC 1071
 * does it (big-endian 16-bit words, end-around carry): every length up to
 * 2100 bytes at every alignment of the buffer, regions split at even
 * offsets, the copying variant (bytes and sum), and the helpers for numbers
 * outside the packet.
 */
#include <stdlib.h>

#include "tests/unit/harness.h"
#include "netstack/csum.h"

static uint16_t ref_fold(const uint8_t *p, size_t n, uint32_t extra)
{
	uint32_t s = extra;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* A folded host-order sum as the big-endian number it stands for. */
static uint16_t as_be(uint16_t h)
{
	uint8_t b[2];

	memcpy(b, &h, 2);
	return (uint16_t)(b[0] << 8 | b[1]);
}

static uint8_t buf[2200 + 8], dst[2200 + 8];

static void fill(unsigned seed, int ones)
{
	srand(seed);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = ones ? 0xff : (uint8_t)rand();
}

static void test_every_length_and_alignment(void)
{
	int bad = 0, badcopy = 0;

	for (int pass = 0; pass < 2; pass++) {
		fill(7, pass);	/* random bytes, then all ones (the carries) */
		for (size_t al = 0; al < 8; al++)
			for (size_t n = 0; n <= 2100; n++) {
				uint16_t want = ref_fold(buf + al, n, 0);

				if (as_be(csum_fold(csum_add(0, buf + al, n))) != want)
					bad++;
				memset(dst, 0, sizeof(dst));
				if (as_be(csum_fold(csum_copy(0, dst + (7 - al), buf + al, n))) != want ||
				    memcmp(dst + (7 - al), buf + al, n) || dst[7 - al + n] != 0)
					badcopy++;
			}
	}
	CHECK_INT(bad, 0);
	CHECK_INT(badcopy, 0);
}

static void test_regions(void)
{
	int bad = 0;

	fill(11, 0);
	for (size_t n = 0; n <= 1500; n += 7)
		for (size_t cut = 0; cut <= n; cut += 2) {
			uint64_t acc = csum_add(0, buf, cut);

			acc = csum_copy(acc, dst, buf + cut, n - cut);
			if (as_be(csum_fold(acc)) != ref_fold(buf, n, 0))
				bad++;
		}
	CHECK_INT(bad, 0);
}

static void test_numbers_and_store(void)
{
	uint8_t pkt[20], field[2];

	/* A TCP pseudo-header's protocol and a length past 16 bits. */
	fill(3, 0);
	CHECK_INT(as_be(csum_fold(csum_add(0, buf, 64) + csum_be16(6) + csum_be32(70000))),
		  ref_fold(buf, 64, 6 + (70000 >> 16) + (70000 & 0xffff)));
	/* A stored checksum makes the data sum to 0xffff. */
	memcpy(pkt, buf, 20);
	pkt[10] = pkt[11] = 0;
	csum_put(field, csum_add(0, pkt, 20));
	memcpy(pkt + 10, field, 2);
	CHECK_INT(ref_fold(pkt, 20, 0), 0xffff);
	CHECK_INT(csum_fold(csum_add(0, pkt, 20)), 0xffff);
}

int main(void)
{
	RUN(test_every_length_and_alignment);
	RUN(test_regions);
	RUN(test_numbers_and_store);
	return HARNESS_END();
}
