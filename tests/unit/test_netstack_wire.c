/*
 * Datagram formats: exact byte layout, round trips, and rejection of every
 * truncation, extension, reserved bit and wrong type.
 */
#include <errno.h>

#include "tests/unit/harness.h"
#include "netstack/wire.h"

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

static void test_type(void)
{
	uint8_t b[1] = { 0 };

	CHECK_INT(wire_type(b, 0), -EINVAL);
	b[0] = 0;
	CHECK_INT(wire_type(b, 1), -EPROTO);
	for (int t = 1; t <= 15; t++) {
		b[0] = (uint8_t)t;
		CHECK_INT(wire_type(b, 1), t);
	}
	for (int t = 16; t < 256; t++) {
		b[0] = (uint8_t)t;
		CHECK_INT(wire_type(b, 1), -EPROTO);
	}
}

static void test_hello(void)
{
	struct wire_hello h = { .sender_index = 0x04030201 }, g;
	uint8_t buf[128];

	fill(h.nonce, sizeof(h.nonce), 0x10);
	fill(h.mac1, sizeof(h.mac1), 0x80);
	CHECK_INT(wire_build_hello(&h, buf, sizeof(buf)), WIRE_HELLO_LEN);
	/* Layout: type, 3 zero, index LE, nonce, mac1, zero padding. */
	CHECK_INT(buf[0], 1);
	CHECK_INT(buf[1] | buf[2] | buf[3], 0);
	CHECK_INT(buf[4], 1); CHECK_INT(buf[7], 4);
	CHECK_MEM(buf + 8, h.nonce, 16);
	CHECK_MEM(buf + 24, h.mac1, 16);
	for (int i = 40; i < 64; i++)
		CHECK_INT(buf[i], 0);

	CHECK_INT(wire_parse_hello(buf, 64, &g), 0);
	CHECK_INT(g.sender_index, h.sender_index);
	CHECK_MEM(g.nonce, h.nonce, 16);
	CHECK_MEM(g.mac1, h.mac1, 16);

	for (size_t n = 0; n < 64; n++)
		CHECK_INT(wire_parse_hello(buf, n, &g), -EINVAL);
	buf[64] = 0;
	CHECK_INT(wire_parse_hello(buf, 65, &g), -EINVAL);
	/* Each reserved and padding byte, each bit. */
	for (int i = 0; i < 64; i++) {
		if (i >= 4 && i < 40)
			continue;
		for (int bit = 0; bit < 8; bit++) {
			buf[i] ^= (uint8_t)(1 << bit);
			CHECK_INT(wire_parse_hello(buf, 64, &g), -EINVAL);
			buf[i] ^= (uint8_t)(1 << bit);
		}
	}
	CHECK_INT(wire_parse_hello(buf, 64, &g), 0);
	buf[0] = WIRE_COOKIE;
	CHECK_INT(wire_parse_hello(buf, 64, &g), -EINVAL);
	buf[0] = WIRE_HELLO;
	h.sender_index = 0;
	wire_build_hello(&h, buf, sizeof(buf));
	CHECK_INT(wire_parse_hello(buf, 64, &g), -EINVAL);
	for (size_t cap = 0; cap < 64; cap++)
		CHECK_INT(wire_build_hello(&h, buf, cap), -ENOSPC);
}

static void test_cookie(void)
{
	struct wire_cookie c = { .receiver_index = 0xdeadbeef }, g;
	uint8_t buf[64];

	fill(c.cookie, 16, 1);
	fill(c.nonce, 16, 99);
	CHECK_INT(wire_build_cookie(&c, buf, sizeof(buf)), 40);
	CHECK_INT(buf[0], 2);
	CHECK_INT(buf[4], 0xef); CHECK_INT(buf[7], 0xde);
	CHECK_MEM(buf + 8, c.cookie, 16);
	CHECK_MEM(buf + 24, c.nonce, 16);
	CHECK_INT(wire_parse_cookie(buf, 40, &g), 0);
	CHECK_INT(g.receiver_index, 0xdeadbeef);
	CHECK_MEM(g.cookie, c.cookie, 16);
	CHECK_MEM(g.nonce, c.nonce, 16);
	for (size_t n = 0; n < 40; n++)
		CHECK_INT(wire_parse_cookie(buf, n, &g), -EINVAL);
	CHECK_INT(wire_parse_cookie(buf, 41, &g), -EINVAL);
	for (int i = 1; i < 4; i++) {
		buf[i] = 0x40;
		CHECK_INT(wire_parse_cookie(buf, 40, &g), -EINVAL);
		buf[i] = 0;
	}
	buf[0] = WIRE_HELLO;
	CHECK_INT(wire_parse_cookie(buf, 40, &g), -EINVAL);
	/* The cookie reply is smaller than the hello that provokes it. */
	CHECK(WIRE_COOKIE_MSG_LEN < WIRE_HELLO_LEN);
	for (size_t cap = 0; cap < 40; cap++)
		CHECK_INT(wire_build_cookie(&c, buf, cap), -ENOSPC);
}

static void test_hs(void)
{
	struct wire_hs h = {
		.sender_index = 7, .receiver_index = 0,
		.seq = 0x11223344, .ack = 0x55667788,
	}, g;
	uint8_t payload[300], buf[512];
	int len;

	fill(payload, sizeof(payload), 3);
	fill(h.cookie, 16, 50);
	fill(h.mac1, 16, 150);
	h.data = payload;
	h.data_len = sizeof(payload);
	len = wire_build_hs(&h, buf, sizeof(buf));
	CHECK_INT(len, WIRE_HS_HDR_LEN + 300);
	CHECK_INT(buf[0], 3);
	CHECK_INT(buf[12], 0x44); CHECK_INT(buf[15], 0x11);
	CHECK_INT(buf[16], 0x88); CHECK_INT(buf[19], 0x55);
	CHECK_MEM(buf + 20, h.cookie, 16);
	CHECK_MEM(buf + WIRE_HS_MAC1_OFF, h.mac1, 16);
	CHECK_INT(wire_parse_hs(buf, (size_t)len, &g), 0);
	CHECK_INT(g.sender_index, 7);
	CHECK_INT(g.receiver_index, 0);
	CHECK_INT(g.seq, h.seq);
	CHECK_INT(g.ack, h.ack);
	CHECK_MEM(g.cookie, h.cookie, 16);
	CHECK_MEM(g.mac1, h.mac1, 16);
	CHECK(g.data == buf + WIRE_HS_HDR_LEN);
	CHECK_INT(g.data_len, 300);
	CHECK_MEM(g.data, payload, 300);
	/* Every truncation: below the header fails, above it shortens data. */
	for (size_t n = 0; n < WIRE_HS_HDR_LEN; n++)
		CHECK_INT(wire_parse_hs(buf, n, &g), -EINVAL);
	for (size_t n = WIRE_HS_HDR_LEN; n <= (size_t)len; n++) {
		CHECK_INT(wire_parse_hs(buf, n, &g), 0);
		CHECK_INT(g.data_len, n - WIRE_HS_HDR_LEN);
	}
	CHECK(wire_parse_hs(buf, WIRE_HS_HDR_LEN, &g) == 0 && g.data == NULL);
	/* Flags and reserved bits. */
	for (int i = 1; i < 4; i++) {
		for (int bit = 0; bit < 8; bit++) {
			buf[i] ^= (uint8_t)(1 << bit);
			CHECK_INT(wire_parse_hs(buf, (size_t)len, &g), -EINVAL);
			buf[i] ^= (uint8_t)(1 << bit);
		}
	}
	/* Once the receiver index is known, cookie and mac1 must be zero. */
	h.receiver_index = 9;
	len = wire_build_hs(&h, buf, sizeof(buf));
	CHECK_INT(wire_parse_hs(buf, (size_t)len, &g), -EINVAL);
	memset(h.cookie, 0, 16);
	len = wire_build_hs(&h, buf, sizeof(buf));
	CHECK_INT(wire_parse_hs(buf, (size_t)len, &g), -EINVAL);
	memset(h.mac1, 0, 16);
	len = wire_build_hs(&h, buf, sizeof(buf));
	CHECK_INT(wire_parse_hs(buf, (size_t)len, &g), 0);
	CHECK_INT(g.receiver_index, 9);
	/* Zero sender index, wrong type, seq + len past 4 GiB. */
	h.sender_index = 0;
	len = wire_build_hs(&h, buf, sizeof(buf));
	CHECK_INT(wire_parse_hs(buf, (size_t)len, &g), -EINVAL);
	h.sender_index = 1;
	h.seq = UINT32_MAX - 10;
	len = wire_build_hs(&h, buf, sizeof(buf));
	CHECK_INT(wire_parse_hs(buf, (size_t)len, &g), -EINVAL);
	CHECK_INT(wire_parse_hs(buf, WIRE_HS_HDR_LEN + 10, &g), 0);
	buf[0] = WIRE_DATA;
	CHECK_INT(wire_parse_hs(buf, (size_t)len, &g), -EINVAL);
	for (size_t cap = 0; cap < WIRE_HS_HDR_LEN + 300; cap++)
		CHECK_INT(wire_build_hs(&h, buf, cap), -ENOSPC);
}

static void test_data(void)
{
	uint8_t buf[100];
	struct wire_data d;

	CHECK_INT(wire_build_data_header(0x01020304, 0x1122334455667788ull,
					 buf, sizeof(buf)), 16);
	CHECK_INT(buf[0], 4);
	CHECK_INT(buf[4], 4); CHECK_INT(buf[7], 1);
	CHECK_INT(buf[8], 0x88); CHECK_INT(buf[15], 0x11);
	fill(buf + 16, 84, 5);
	CHECK_INT(wire_parse_data(buf, 100, &d), 0);
	CHECK_INT(d.receiver_index, 0x01020304);
	CHECK(d.counter == 0x1122334455667788ull);
	CHECK(d.header == buf);
	CHECK(d.ct == buf + 16);
	CHECK_INT(d.ct_len, 84);
	/* Shortest: header + tag (a keepalive). */
	for (size_t n = 0; n < WIRE_DATA_MIN_LEN; n++)
		CHECK_INT(wire_parse_data(buf, n, &d), -EINVAL);
	CHECK_INT(wire_parse_data(buf, WIRE_DATA_MIN_LEN, &d), 0);
	CHECK_INT(d.ct_len, 16);
	for (int i = 1; i < 4; i++) {
		buf[i] = 1;
		CHECK_INT(wire_parse_data(buf, 100, &d), -EINVAL);
		buf[i] = 0;
	}
	wire_build_data_header(0, 1, buf, sizeof(buf));
	CHECK_INT(wire_parse_data(buf, 100, &d), -EINVAL);
	for (size_t cap = 0; cap < 16; cap++)
		CHECK_INT(wire_build_data_header(1, 1, buf, cap), -ENOSPC);
}

/* Any byte string: parsers either refuse or describe bytes inside buf. */
static void test_random_bytes(void)
{
	uint8_t buf[200];
	uint32_t x = 12345;

	for (int iter = 0; iter < 200000; iter++) {
		size_t len;
		struct wire_hello h;
		struct wire_cookie c;
		struct wire_hs s;
		struct wire_data d;

		for (size_t i = 0; i < sizeof(buf); i++) {
			x = x * 1103515245u + 12345u;
			buf[i] = (uint8_t)(x >> 16);
			/* Mostly zeros so that the strict checks pass sometimes. */
			if ((x >> 8) % 4)
				buf[i] = 0;
		}
		x = x * 1103515245u + 12345u;
		buf[0] = (uint8_t)(1 + (x >> 16) % 4);
		len = (x >> 8) % sizeof(buf);
		if (wire_parse_hello(buf, len, &h) == 0)
			CHECK_INT(len, 64);
		if (wire_parse_cookie(buf, len, &c) == 0)
			CHECK_INT(len, 40);
		if (wire_parse_hs(buf, len, &s) == 0)
			CHECK(s.data_len == len - WIRE_HS_HDR_LEN &&
			      (!s.data_len || s.data == buf + WIRE_HS_HDR_LEN));
		if (wire_parse_data(buf, len, &d) == 0)
			CHECK(d.ct + d.ct_len == buf + len && d.ct_len >= 16);
	}
}

int main(void)
{
	RUN(test_type);
	RUN(test_hello);
	RUN(test_cookie);
	RUN(test_hs);
	RUN(test_data);
	RUN(test_random_bytes);
	return HARNESS_END();
}
