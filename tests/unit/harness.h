/*
 * A tiny unit-test harness. A test is a function; it passes when none of its
 * checks failed. Failed checks print file:line and both values. Each test
 * binary ends with "RESULT <passed> <failed>" for tests/unit/run.sh to add up.
 */
#ifndef Q2Q_TEST_HARNESS_H
#define Q2Q_TEST_HARNESS_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int h_passed, h_failed, h_cur_failed;

#define H_FAIL(...) do { \
	fprintf(stderr, "  FAIL %s:%d: ", __FILE__, __LINE__); \
	fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); h_cur_failed++; \
} while (0)

#define CHECK(c) do { if (!(c)) H_FAIL("%s", #c); } while (0)

#define CHECK_INT(a, b) do { \
	long long h_a = (long long)(a), h_b = (long long)(b); \
	if (h_a != h_b) H_FAIL("%s == %s: %lld != %lld", #a, #b, h_a, h_b); \
} while (0)

#define CHECK_STR(a, b) do { \
	const char *h_a = (a), *h_b = (b); \
	if (!h_a || !h_b || strcmp(h_a, h_b) != 0) \
		H_FAIL("%s == %s: \"%s\" != \"%s\"", #a, #b, \
		       h_a ? h_a : "(null)", h_b ? h_b : "(null)"); \
} while (0)

#define CHECK_MEM(a, b, n) do { \
	if (memcmp((a), (b), (n)) != 0) { \
		H_FAIL("%s == %s (%zu bytes) differ", #a, #b, (size_t)(n)); \
		h_hexdump("  left ", (const void *)(a), (n)); \
		h_hexdump("  right", (const void *)(b), (n)); \
	} \
} while (0)

static inline void h_hexdump(const char *tag, const unsigned char *p, size_t n)
{
	fprintf(stderr, "%s:", tag);
	for (size_t i = 0; i < n && i < 64; i++)
		fprintf(stderr, " %02x", p[i]);
	fputc('\n', stderr);
}

#define RUN(fn) do { \
	h_cur_failed = 0; fn(); \
	if (h_cur_failed) { h_failed++; fprintf(stderr, "not ok %s\n", #fn); } \
	else { h_passed++; printf("ok %s\n", #fn); } \
} while (0)

#define HARNESS_END() (printf("RESULT %d %d\n", h_passed, h_failed), h_failed ? 1 : 0)

#endif
