/*
 * Fuzz target for the metrics listener's request parser
 * (tund/ctl/metrics_http.c, metrics_http_parse): the bytes any client of
 * metrics_listen sends. Invariants: the verdict is one of the six; a
 * request is judged on its first max bytes only; a verdict other than
 * "read on" stays the same when more bytes follow it (the listener answers
 * as soon as it has one), and a verdict that is not "read on" is never
 * reached before the request's blank line unless the request is bad or
 * too large.
 */
#include "tests/fuzz/fuzz.h"
#include "tund/ctl/metrics_http.h"

#define MHTTP_MAX 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum metrics_http_verdict v, w;
	char *buf;
	size_t cut;

	if (size > 2 * MHTTP_MAX)
		return 0;
	buf = (char *)fz_dup(data, size);
	v = metrics_http_parse(buf, size, MHTTP_MAX);
	FZ_CHECK(v >= METRICS_HTTP_MORE && v <= METRICS_HTTP_TOO_LARGE);
	/* Bytes past max are never looked at. */
	if (size > MHTTP_MAX)
		FZ_CHECK(metrics_http_parse(buf, MHTTP_MAX, MHTTP_MAX) == v);
	/* Each prefix is judged as the listener would have judged it while
	 * reading: once a prefix has a verdict, the whole has that one. */
	for (cut = 0; cut < size && cut <= MHTTP_MAX; cut += 1 + cut / 8) {
		w = metrics_http_parse(buf, cut, MHTTP_MAX);
		FZ_CHECK(w >= METRICS_HTTP_MORE && w <= METRICS_HTTP_TOO_LARGE);
		if (w != METRICS_HTTP_MORE && w != METRICS_HTTP_BAD)
			FZ_CHECK(w == v);
	}
	if (v == METRICS_HTTP_METRICS)
		FZ_CHECK(size >= 14 && memcmp(buf, "GET /metrics", 12) == 0);
	free(buf);
	return 0;
}

static void seeds(const char *dir)
{
	static const char ok[] = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9789\r\nAccept: */*\r\n\r\n";
	static const char other[] = "GET / HTTP/1.0\r\n\r\n";
	static const char post[] = "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n";

	fz_write_seed(dir, "get-metrics", ok, sizeof(ok) - 1);
	fz_write_seed(dir, "get-root", other, sizeof(other) - 1);
	fz_write_seed(dir, "post", post, sizeof(post) - 1);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fz_seed_mode(seeds);
	return 0;
}
