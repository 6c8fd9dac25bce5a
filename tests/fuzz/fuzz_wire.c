/*
 * Fuzz target for the node-to-node datagram parsers (netstack/wire.c): the
 * fuzzer's input is one received datagram. Besides not crashing, a parse
 * that succeeds must describe the datagram exactly: building the parsed
 * HELLO, COOKIE or HS gives back the same bytes, DATA's pointers stay inside
 * the datagram, wire_type agrees with the parser that accepted it, and
 * builders refuse a buffer one byte too small.
 */
#include <errno.h>

#include "tests/fuzz/fuzz.h"
#include "netstack/wire.h"

static void check_hello(const uint8_t *buf, size_t len)
{
	struct wire_hello h;
	uint8_t *out;

	if (wire_parse_hello(buf, len, &h) != 0)
		return;
	FZ_CHECK(len == WIRE_HELLO_LEN && h.sender_index != 0);
	out = malloc(len);
	FZ_CHECK(out);
	FZ_CHECK(wire_build_hello(&h, out, len - 1) == -ENOSPC);
	FZ_CHECK(wire_build_hello(&h, out, len) == (int)len);
	FZ_CHECK(memcmp(out, buf, len) == 0);
	free(out);
}

static void check_cookie(const uint8_t *buf, size_t len)
{
	struct wire_cookie c;
	uint8_t *out;

	if (wire_parse_cookie(buf, len, &c) != 0)
		return;
	FZ_CHECK(len == WIRE_COOKIE_MSG_LEN && c.receiver_index != 0);
	out = malloc(len);
	FZ_CHECK(out);
	FZ_CHECK(wire_build_cookie(&c, out, len - 1) == -ENOSPC);
	FZ_CHECK(wire_build_cookie(&c, out, len) == (int)len);
	FZ_CHECK(memcmp(out, buf, len) == 0);
	free(out);
}

static void check_hs(const uint8_t *buf, size_t len)
{
	struct wire_hs h;
	uint8_t *out;

	if (wire_parse_hs(buf, len, &h) != 0)
		return;
	FZ_CHECK(len >= WIRE_HS_HDR_LEN && h.sender_index != 0);
	FZ_CHECK(h.data_len == len - WIRE_HS_HDR_LEN);
	FZ_CHECK(h.data_len == 0 ? h.data == NULL : h.data == buf + WIRE_HS_HDR_LEN);
	FZ_CHECK(h.seq + (uint64_t)h.data_len <= UINT32_MAX);
	out = malloc(len);
	FZ_CHECK(out);
	FZ_CHECK(wire_build_hs(&h, out, len - 1) == -ENOSPC);
	FZ_CHECK(wire_build_hs(&h, out, len) == (int)len);
	FZ_CHECK(memcmp(out, buf, len) == 0);
	free(out);
}

static void check_data(const uint8_t *buf, size_t len)
{
	struct wire_data d;
	uint8_t hdr[WIRE_DATA_HDR_LEN];

	if (wire_parse_data(buf, len, &d) != 0)
		return;
	FZ_CHECK(len >= WIRE_DATA_MIN_LEN && d.receiver_index != 0);
	FZ_CHECK(d.header == buf);
	FZ_CHECK(d.ct == buf + WIRE_DATA_HDR_LEN);
	FZ_CHECK(d.ct_len == len - WIRE_DATA_HDR_LEN);
	FZ_CHECK(d.ct_len >= WIRE_TAG_LEN);
	FZ_CHECK(wire_build_data_header(d.receiver_index, d.counter, hdr,
					sizeof(hdr) - 1) == -ENOSPC);
	FZ_CHECK(wire_build_data_header(d.receiver_index, d.counter, hdr,
					sizeof(hdr)) == WIRE_DATA_HDR_LEN);
	FZ_CHECK(memcmp(hdr, buf, WIRE_DATA_HDR_LEN) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wire_hello h;
	struct wire_cookie c;
	struct wire_hs hs;
	struct wire_data d;
	int type = wire_type(data, size);
	int ok[5];

	FZ_CHECK(size == 0 ? type == -EINVAL :
		 type == -EPROTO || (type >= WIRE_HELLO && type <= WIRE_AUTH_LAST));
	ok[WIRE_HELLO] = wire_parse_hello(data, size, &h) == 0;
	ok[WIRE_COOKIE] = wire_parse_cookie(data, size, &c) == 0;
	ok[WIRE_HS] = wire_parse_hs(data, size, &hs) == 0;
	ok[WIRE_DATA] = wire_parse_data(data, size, &d) == 0;
	/* At most one parser accepts a datagram, the one its type names. */
	for (int t = WIRE_HELLO; t <= WIRE_DATA; t++)
		FZ_CHECK(!ok[t] || type == t);
	check_hello(data, size);
	check_cookie(data, size);
	check_hs(data, size);
	check_data(data, size);
	return 0;
}

static void seeds(const char *dir)
{
	struct wire_hello h = { .sender_index = 0x01020304 };
	struct wire_cookie c = { .receiver_index = 7 };
	struct wire_hs hs = { .sender_index = 9, .seq = 100, .ack = 5 };
	uint8_t buf[256];
	int n;

	memset(h.nonce, 0xa5, sizeof(h.nonce));
	memset(h.mac1, 0x5a, sizeof(h.mac1));
	n = wire_build_hello(&h, buf, sizeof(buf));
	fz_write_seed(dir, "hello", buf, (size_t)n);
	memset(c.cookie, 0x11, sizeof(c.cookie));
	memset(c.nonce, 0x22, sizeof(c.nonce));
	n = wire_build_cookie(&c, buf, sizeof(buf));
	fz_write_seed(dir, "cookie", buf, (size_t)n);
	/* First initiator segment: no receiver index yet, cookie and mac1 set. */
	memset(hs.cookie, 0x33, sizeof(hs.cookie));
	memset(hs.mac1, 0x44, sizeof(hs.mac1));
	hs.data = (const uint8_t *)"\x16\x03\x01\x00\x05hello";
	hs.data_len = 10;
	n = wire_build_hs(&hs, buf, sizeof(buf));
	fz_write_seed(dir, "hs-first", buf, (size_t)n);
	/* Established: receiver known, cookie and mac1 zero, a pure ack. */
	memset(&hs, 0, sizeof(hs));
	hs.sender_index = 9;
	hs.receiver_index = 12;
	hs.ack = 300;
	n = wire_build_hs(&hs, buf, sizeof(buf));
	fz_write_seed(dir, "hs-ack", buf, (size_t)n);
	n = wire_build_data_header(12, 77, buf, sizeof(buf));
	memset(buf + n, 0xee, 40);
	fz_write_seed(dir, "data", buf, (size_t)n + 40);
	buf[0] = 5;
	fz_write_seed(dir, "auth-type", buf, 24);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fz_seed_mode(seeds);
	return 0;
}
