/*
 * Byte order (netstack/bytes.h): each reader and writer puts the bytes
 * where its format says, reads back what it wrote, and touches only its
 * own bytes of an unaligned buffer.
 */
#include <string.h>

#include "tests/unit/harness.h"
#include "netstack/bytes.h"

static void test_layout(void)
{
	uint8_t b[9];

	memset(b, 0xee, sizeof(b));
	be16_put(b + 1, 0x0102);
	CHECK_MEM(b, "\xee\x01\x02\xee", 4);
	be32_put(b + 1, 0x01020304);
	CHECK_MEM(b, "\xee\x01\x02\x03\x04\xee", 6);
	memset(b, 0xee, sizeof(b));
	be64_put(b + 1, 0x0102030405060708ull);
	CHECK_MEM(b, "\xee\x01\x02\x03\x04\x05\x06\x07\x08", 9);
	memset(b, 0xee, sizeof(b));
	le16_put(b + 1, 0x0102);
	CHECK_MEM(b, "\xee\x02\x01\xee", 4);
	le32_put(b + 1, 0x01020304);
	CHECK_MEM(b, "\xee\x04\x03\x02\x01\xee", 6);
	memset(b, 0xee, sizeof(b));
	le64_put(b + 1, 0x0102030405060708ull);
	CHECK_MEM(b, "\xee\x08\x07\x06\x05\x04\x03\x02\x01", 9);
}

static void test_read(void)
{
	static const uint8_t b[] = { 0xff, 0xfe, 0x80, 0x01, 0x00, 0x7f, 0x10, 0x20, 0x30 };

	CHECK_INT(be16_get(b + 1), 0xfe80);
	CHECK_INT(le16_get(b + 1), 0x80fe);
	CHECK(be32_get(b + 1) == 0xfe800100u);
	CHECK(le32_get(b + 1) == 0x000180feu);
	CHECK(be64_get(b + 1) == 0xfe8001007f102030ull);
	CHECK(le64_get(b + 1) == 0x3020107f000180feull);
}

static void test_roundtrip(void)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;
	uint8_t b[8];

	for (int i = 0; i < 1000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		be16_put(b, (uint16_t)x);
		CHECK_INT(be16_get(b), (uint16_t)x);
		le16_put(b, (uint16_t)x);
		CHECK_INT(le16_get(b), (uint16_t)x);
		be32_put(b, (uint32_t)x);
		CHECK(be32_get(b) == (uint32_t)x);
		le32_put(b, (uint32_t)x);
		CHECK(le32_get(b) == (uint32_t)x);
		be64_put(b, x);
		CHECK(be64_get(b) == x);
		le64_put(b, x);
		CHECK(le64_get(b) == x);
	}
}

int main(void)
{
	RUN(test_layout);
	RUN(test_read);
	RUN(test_roundtrip);
	return HARNESS_END();
}
