/*
 * Control-plane framing: round trips, every accessor's refusals, frame
 * length detection on a byte stream, and a fuzz-ish loop of random,
 * truncated and mutated frames that must never crash or read out of bounds
 * (run it under ASan).
 */
#include <errno.h>
#include <stdlib.h>

#include "tests/unit/harness.h"
#include "netstack/msg.h"

enum { T_NAME = 1, T_PORT = 2, T_SERIAL = 3, T_ENDPOINT = 4, T_BLOB = 5 };

static int build_sample(uint8_t *buf, size_t cap)
{
	struct msg_writer w;

	msg_begin(&w, buf, cap, 42);
	msg_put_str(&w, T_NAME, "alice@example.com");
	msg_put_u32(&w, T_PORT, 8788);
	msg_put_u64(&w, T_SERIAL, 0x0102030405060708ull);
	msg_put_str(&w, T_ENDPOINT, "192.0.2.1:1000");
	msg_put_str(&w, T_ENDPOINT, "[fd00::1]:2000");
	msg_put_bytes(&w, T_BLOB, NULL, 0);
	return msg_finish(&w);
}

static void test_roundtrip(void)
{
	uint8_t buf[256];
	struct msg_reader r;
	uint8_t type;
	char s[64];
	uint32_t v32;
	uint64_t v64;
	const uint8_t *p;
	size_t n, iter = 0;
	int len = build_sample(buf, sizeof(buf));

	CHECK_INT(len, 4 + 1 + (4 + 17) + (4 + 4) + (4 + 8) + (4 + 14) +
		  (4 + 14) + 4);
	/* Big-endian length of type + body, then the type. */
	CHECK_INT(buf[0], 0); CHECK_INT(buf[1], 0);
	CHECK_INT(buf[2] << 8 | buf[3], len - 4);
	CHECK_INT(buf[4], 42);
	CHECK_INT(buf[5] << 8 | buf[6], T_NAME);
	CHECK_INT(buf[7] << 8 | buf[8], 17);

	CHECK_INT(msg_frame_len(buf, (size_t)len), len);
	CHECK_INT(msg_open(&r, buf, (size_t)len, &type), 0);
	CHECK_INT(type, 42);
	CHECK_INT(msg_get_str(&r, T_NAME, s, sizeof(s)), 0);
	CHECK_STR(s, "alice@example.com");
	CHECK_INT(msg_get_u32(&r, T_PORT, &v32), 0);
	CHECK_INT(v32, 8788);
	CHECK_INT(msg_get_u64(&r, T_SERIAL, &v64), 0);
	CHECK(v64 == 0x0102030405060708ull);
	CHECK_INT(msg_get(&r, T_BLOB, &p, &n), 0);
	CHECK_INT(n, 0);
	CHECK_INT(msg_get(&r, 99, &p, &n), -ENOENT);
	CHECK_INT(msg_get_u32(&r, 99, &v32), -ENOENT);

	CHECK_INT(msg_next(&r, T_ENDPOINT, &iter, &p, &n), 0);
	CHECK(n == 14 && memcmp(p, "192.0.2.1:1000", 14) == 0);
	CHECK_INT(msg_next(&r, T_ENDPOINT, &iter, &p, &n), 0);
	CHECK(n == 14 && memcmp(p, "[fd00::1]:2000", 14) == 0);
	CHECK_INT(msg_next(&r, T_ENDPOINT, &iter, &p, &n), -ENOENT);
	CHECK_INT(msg_next(&r, T_ENDPOINT, &iter, &p, &n), -ENOENT);
}

static void test_refusals(void)
{
	uint8_t buf[256];
	struct msg_writer w;
	struct msg_reader r;
	uint8_t type;
	char s[8];
	uint32_t v32;
	uint64_t v64;
	int len;
	static const char nul[] = { 'a', 0, 'b' };

	msg_begin(&w, buf, sizeof(buf), 1);
	msg_put_bytes(&w, 1, nul, 3);
	msg_put_str(&w, 2, "1234567");
	msg_put_str(&w, 3, "12345678");
	msg_put_u64(&w, 4, 5);
	msg_put_u32(&w, 5, 5);
	msg_put_bytes(&w, 6, "abc", 3);
	len = msg_finish(&w);
	CHECK(len > 0);
	CHECK_INT(msg_open(&r, buf, (size_t)len, &type), 0);
	CHECK_INT(msg_get_str(&r, 1, s, sizeof(s)), -EINVAL);
	CHECK_INT(msg_get_str(&r, 2, s, sizeof(s)), 0);
	CHECK_STR(s, "1234567");
	CHECK_INT(msg_get_str(&r, 3, s, sizeof(s)), -ENAMETOOLONG);
	CHECK_INT(msg_get_str(&r, 3, s, 0), -ENAMETOOLONG);
	CHECK_INT(msg_get_u32(&r, 4, &v32), -EINVAL);
	CHECK_INT(msg_get_u64(&r, 5, &v64), -EINVAL);
	CHECK_INT(msg_get_u32(&r, 6, &v32), -EINVAL);
	CHECK_INT(msg_get_u64(&r, 4, &v64), 0);
	CHECK(v64 == 5);

	/* Length field disagreeing with the frame, TLV overruns. */
	CHECK_INT(msg_open(&r, buf, (size_t)len - 1, &type), -EINVAL);
	CHECK_INT(msg_open(&r, buf, (size_t)len + 1, &type), -EINVAL);
	buf[8]++;	/* first TLV length byte (low) */
	CHECK_INT(msg_open(&r, buf, (size_t)len, &type), -EINVAL);
	buf[8]--;
	CHECK_INT(msg_open(&r, buf, 4, &type), -EINVAL);

	/* Writer: no room is sticky and reported once. */
	msg_begin(&w, buf, 12, 1);
	msg_put_str(&w, 1, "xyz");
	CHECK_INT(msg_finish(&w), 12);
	msg_begin(&w, buf, 12, 1);
	msg_put_str(&w, 1, "wxyz");
	msg_put_str(&w, 1, "");
	CHECK_INT(msg_finish(&w), -ENOSPC);
	msg_begin(&w, buf, 4, 1);
	CHECK_INT(msg_finish(&w), -ENOSPC);
}

static void test_frame_len(void)
{
	uint8_t buf[256], big[8] = { 0, 1, 0, 1, 9 };
	int len = build_sample(buf, sizeof(buf));

	for (int n = 0; n < len; n++)
		CHECK_INT(msg_frame_len(buf, (size_t)n), 0);
	CHECK_INT(msg_frame_len(buf, sizeof(buf)), len);
	/* 65537 > MSG_MAX_LEN; 0 is never valid either. */
	CHECK_INT(msg_frame_len(big, sizeof(big)), -EMSGSIZE);
	memset(big, 0, 4);
	CHECK_INT(msg_frame_len(big, sizeof(big)), -EMSGSIZE);
	big[1] = 1; big[2] = 0; big[3] = 0;	/* exactly 65536: fine */
	CHECK_INT(msg_frame_len(big, sizeof(big)), 0);
}

static void test_max_frame(void)
{
	uint8_t *buf = malloc(MSG_FRAME_MAX + 100), *blob = calloc(1, 65535);
	struct msg_writer w;
	struct msg_reader r;
	uint8_t type;
	const uint8_t *p;
	size_t n;

	/* 1 type + (4 + 65531) = 65536: the largest frame. */
	msg_begin(&w, buf, MSG_FRAME_MAX + 100, 7);
	msg_put_bytes(&w, 1, blob, 65531);
	CHECK_INT(msg_finish(&w), MSG_FRAME_MAX);
	CHECK_INT(msg_frame_len(buf, MSG_FRAME_MAX), MSG_FRAME_MAX);
	CHECK_INT(msg_open(&r, buf, MSG_FRAME_MAX, &type), 0);
	CHECK_INT(msg_get(&r, 1, &p, &n), 0);
	CHECK_INT(n, 65531);
	msg_begin(&w, buf, MSG_FRAME_MAX + 100, 7);
	msg_put_bytes(&w, 1, blob, 65532);
	CHECK_INT(msg_finish(&w), -ENOSPC);
	msg_begin(&w, buf, MSG_FRAME_MAX + 100, 7);
	msg_put_bytes(&w, 1, blob, 65536);
	CHECK_INT(msg_finish(&w), -ENOSPC);
	free(buf);
	free(blob);
}

static uint32_t fz = 2463534242u;

static uint32_t frnd(void)
{
	fz ^= fz << 13;
	fz ^= fz >> 17;
	fz ^= fz << 5;
	return fz;
}

static void test_fuzz(void)
{
	uint8_t good[256];
	int glen = build_sample(good, sizeof(good)), opened = 0;

	for (int iter = 0; iter < 300000; iter++) {
		size_t len = frnd() % 300;
		/* Exact-size heap copy, so ASan sees any overread. */
		uint8_t *f = malloc(len ? len : 1);
		struct msg_reader r;
		uint8_t type;
		int fl;

		if (iter % 3 == 0) {
			for (size_t i = 0; i < len; i++)
				f[i] = (uint8_t)frnd();
		} else {
			/* A valid frame, truncated or mutated. */
			if (len > (size_t)glen)
				len = (size_t)glen;
			memcpy(f, good, len);
			for (int k = (int)(frnd() % 4); k > 0 && len; k--)
				f[frnd() % len] = (uint8_t)frnd();
			if (len >= 4 && frnd() % 2) {
				f[0] = f[1] = 0;
				f[2] = (uint8_t)((len - 4) >> 8);
				f[3] = (uint8_t)(len - 4);
			}
		}
		fl = msg_frame_len(f, len);
		CHECK(fl <= (int)len);
		if (msg_open(&r, f, len, &type) == 0) {
			char s[32];
			uint32_t v32;
			uint64_t v64;
			const uint8_t *p;
			size_t n, it = 0;

			opened++;
			CHECK_INT(fl, (int)len);
			for (uint16_t t = 0; t < 8; t++) {
				(void)msg_get_str(&r, t, s, sizeof(s));
				(void)msg_get_u32(&r, t, &v32);
				(void)msg_get_u64(&r, t, &v64);
				it = 0;
				while (msg_next(&r, t, &it, &p, &n) == 0)
					CHECK(p >= f && p + n <= f + len);
			}
		}
		free(f);
	}
	CHECK(opened > 1000);
}

/* Text for people: printable ASCII through, everything else as '?'. */
static void test_text(void)
{
	struct msg_writer w;
	struct msg_reader r;
	uint8_t buf[256], type;
	char s[64];
	int len;

	msg_begin(&w, buf, sizeof(buf), 1);
	msg_put_str(&w, 1, "bad\x1b[2J\rname\x7f \xc2\x9b" "1m ok~");
	msg_put_bytes(&w, 2, "a\0b", 3);
	len = msg_finish(&w);
	CHECK(len > 0);
	CHECK_INT(msg_open(&r, buf, (size_t)len, &type), 0);
	CHECK_INT(msg_get_text(&r, 1, s, sizeof(s)), 0);
	CHECK_STR(s, "bad?[2J?name? ??1m ok~");
	CHECK_INT(msg_get_text(&r, 2, s, sizeof(s)), -EINVAL);
	CHECK_INT(msg_get_text(&r, 3, s, sizeof(s)), -ENOENT);
}

int main(void)
{
	RUN(test_roundtrip);
	RUN(test_text);
	RUN(test_refusals);
	RUN(test_frame_len);
	RUN(test_max_frame);
	RUN(test_fuzz);
	return HARNESS_END();
}
