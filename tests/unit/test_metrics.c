/* The metrics' text (tund/ctl/metrics_text.c, metrics.c) and the HTTP
 * listener's request parser (tund/ctl/metrics_http.c): exact exposition
 * lines for given snapshots, label and HELP escaping, histogram buckets,
 * and which requests get which answer. */
#include <stdlib.h>
#include <string.h>

#include "tests/unit/harness.h"
#include "tund/authority/authority.h"
#include "tund/ctl/metrics.h"
#include "tund/ctl/metrics_http.h"
#include "tund/ctl/metrics_text.h"
#include "tund/overlay/overlay.h"

static void check_has(const char *text, const char *line)
{
	if (!text || !strstr(text, line))
		H_FAIL("text lacks \"%s\":\n%s", line, text ? text : "(null)");
}

static void test_escaping(void)
{
	struct metrics_text t;
	struct metrics_label l[2] = { { "peer", "a\"b\\c\nd@example.com" }, { "path", "direct" } };

	metrics_text_init(&t);
	metrics_text_family(&t, "x_total", "counter", "back\\slash \"quoted\"\nnext");
	metrics_text_sample(&t, "x_total", l, 2, 18446744073709551615ull);
	metrics_text_sample(&t, "x_total", NULL, 0, 0);
	CHECK(!metrics_text_failed(&t));
	CHECK_STR(t.buf, "# HELP x_total back\\\\slash \"quoted\"\\nnext\n"
	    "# TYPE x_total counter\n"
	    "x_total{peer=\"a\\\"b\\\\c\\nd@example.com\",path=\"direct\"} 18446744073709551615\n"
	    "x_total 0\n");
	CHECK_INT(t.len, strlen(t.buf));
	metrics_text_free(&t);
	CHECK(t.buf == NULL);
}

static void test_histogram(void)
{
	static const uint32_t bounds[] = { 1, 5, 250, 3000 };
	const uint64_t counts[] = { 2, 0, 3, 1, 4 };
	struct metrics_text t;

	metrics_text_init(&t);
	metrics_text_histogram_ms(&t, "h_seconds", bounds, 4, counts, 12345);
	CHECK_STR(t.buf, "h_seconds_bucket{le=\"0.001\"} 2\n"
	    "h_seconds_bucket{le=\"0.005\"} 2\n"
	    "h_seconds_bucket{le=\"0.25\"} 5\n"
	    "h_seconds_bucket{le=\"3\"} 6\n"
	    "h_seconds_bucket{le=\"+Inf\"} 10\n"
	    "h_seconds_sum 12.345\n"
	    "h_seconds_count 10\n");
	metrics_text_free(&t);
}

/* A large text grows the buffer and stays whole. */
static void test_growth(void)
{
	struct metrics_text t;
	struct metrics_label l = { "peer", "user0000@example.com" };
	char id[32];

	metrics_text_init(&t);
	for (int i = 0; i < 2000; i++) {
		snprintf(id, sizeof(id), "user%04d@example.com", i);
		l.value = id;
		metrics_text_sample(&t, "q2q_peer_rx_bytes_total", &l, 1, (uint64_t)i);
	}
	CHECK(!metrics_text_failed(&t));
	CHECK_INT(t.len, strlen(t.buf));
	check_has(t.buf, "q2q_peer_rx_bytes_total{peer=\"user0000@example.com\"} 0\n");
	check_has(t.buf, "q2q_peer_rx_bytes_total{peer=\"user1999@example.com\"} 1999\n");
	metrics_text_free(&t);
}

static void test_down(void)
{
	struct metrics_snapshot s = { 0 };
	struct metrics_text t;

	metrics_text_init(&t);
	metrics_format(&t, &s);
	CHECK_STR(t.buf, "# HELP q2q_up 1 while the overlay is up (q2qctl up).\n# TYPE q2q_up gauge\nq2q_up 0\n");
	metrics_text_free(&t);
}

static void test_node(void)
{
	struct overlay_status_info ov = { 0 };
	struct overlay_peer_info ps[2];
	struct metrics_snapshot s = { .ov = &ov, .peers = ps, .n_peers = 2 };
	struct metrics_text t;

	memset(ps, 0, sizeof(ps));
	strcpy(ps[0].identity, "bob@example.com");
	ps[0].rx_bytes = 1000;
	ps[0].tx_bytes = 2000;
	ps[0].rx_packets = 3;
	ps[0].tx_packets = 4;
	ps[0].path = OVERLAY_PATH_DIRECT;
	ps[0].session = 1;
	strcpy(ps[1].identity, "carol@example.org");
	ps[1].path = OVERLAY_PATH_RELAY;
	ps[1].relay_rx_bytes = 77;
	ps[1].relay_tx_bytes = 88;
	ov.drops_replay = 5;
	ov.drops_auth = 6;
	ov.drops_source = 7;
	ov.drops_noroute = 8;
	ov.hs_done = 9;
	ov.hs_failed[OVERLAY_HS_FAIL_TIMEOUT] = 10;
	ov.hs_failed[OVERLAY_HS_FAIL_POLICY] = 11;
	metrics_text_init(&t);
	metrics_format(&t, &s);
	check_has(t.buf, "\nq2q_up 1\n");
	check_has(t.buf, "# TYPE q2q_peer_rx_bytes_total counter\n");
	check_has(t.buf, "q2q_peer_rx_bytes_total{peer=\"bob@example.com\"} 1000\n"
	    "q2q_peer_rx_bytes_total{peer=\"carol@example.org\"} 0\n");
	check_has(t.buf, "q2q_peer_tx_bytes_total{peer=\"bob@example.com\"} 2000\n");
	check_has(t.buf, "q2q_peer_rx_packets_total{peer=\"bob@example.com\"} 3\n");
	check_has(t.buf, "q2q_peer_tx_packets_total{peer=\"bob@example.com\"} 4\n");
	check_has(t.buf, "q2q_peer_relay_rx_bytes_total{peer=\"carol@example.org\"} 77\n");
	check_has(t.buf, "q2q_peer_relay_tx_bytes_total{peer=\"carol@example.org\"} 88\n");
	check_has(t.buf, "q2q_peer_path{peer=\"bob@example.com\",path=\"none\"} 0\n"
	    "q2q_peer_path{peer=\"bob@example.com\",path=\"direct\"} 1\n"
	    "q2q_peer_path{peer=\"bob@example.com\",path=\"relay\"} 0\n");
	check_has(t.buf, "q2q_peer_path{peer=\"carol@example.org\",path=\"relay\"} 1\n");
	check_has(t.buf, "q2q_peer_session{peer=\"bob@example.com\"} 1\n");
	check_has(t.buf, "q2q_peer_session{peer=\"carol@example.org\"} 0\n");
	check_has(t.buf, "q2q_handshakes_completed_total 9\n");
	check_has(t.buf, "q2q_handshakes_failed_total{reason=\"timeout\"} 10\n");
	check_has(t.buf, "q2q_handshakes_failed_total{reason=\"policy\"} 11\n");
	check_has(t.buf, "q2q_handshakes_failed_total{reason=\"tls\"} 0\n");
	check_has(t.buf, "q2q_drops_total{reason=\"replay\"} 5\n");
	check_has(t.buf, "q2q_drops_total{reason=\"authentication\"} 6\n");
	check_has(t.buf, "q2q_drops_total{reason=\"spoofed_source\"} 7\n");
	check_has(t.buf, "q2q_drops_total{reason=\"no_route\"} 8\n");
	check_has(t.buf, "q2q_drops_total{reason=\"policy\"} 0\n");
	CHECK(strstr(t.buf, "q2q_authority") == NULL);
	metrics_text_free(&t);
}

static void test_authority(void)
{
	struct authority_metrics_info a = { 0 };
	struct metrics_snapshot s = { .auth = &a };
	struct metrics_text t;
	char want[128];

	a.clients = 3;
	a.registered = 2;
	a.enroll_accepted = 4;
	a.enroll_refused = 1;
	a.lookups_found = 6;
	a.lookups_unknown = 2;
	a.broker_ok = 5;
	a.broker_buckets[0] = 1;
	a.broker_buckets[3] = 4;
	a.broker_ms_sum = 37;
	a.relayed_packets = 10;
	a.relayed_bytes = 12000;
	metrics_text_init(&t);
	metrics_format(&t, &s);
	check_has(t.buf, "q2q_up 0\n");
	check_has(t.buf, "q2q_authority_clients 3\n");
	check_has(t.buf, "q2q_authority_registered_nodes 2\n");
	check_has(t.buf, "q2q_authority_enrollments_total{result=\"accepted\"} 4\n");
	check_has(t.buf, "q2q_authority_enrollments_total{result=\"refused\"} 1\n");
	check_has(t.buf, "q2q_authority_lookups_total{result=\"found\"} 6\n");
	check_has(t.buf, "q2q_authority_lookups_total{result=\"not_found\"} 2\n");
	check_has(t.buf, "q2q_authority_broker_requests_total{result=\"ok\"} 5\n");
	check_has(t.buf, "# TYPE q2q_authority_broker_latency_seconds histogram\n");
	check_has(t.buf, "q2q_authority_broker_latency_seconds_bucket{le=\"0.001\"} 1\n");
	snprintf(want, sizeof(want), "q2q_authority_broker_latency_seconds_bucket{le=\"%g\"} 5\n",
	    authority_broker_bounds_ms[3] / 1000.0);
	check_has(t.buf, want);
	check_has(t.buf, "q2q_authority_broker_latency_seconds_bucket{le=\"+Inf\"} 5\n");
	check_has(t.buf, "q2q_authority_broker_latency_seconds_sum 0.037\n");
	check_has(t.buf, "q2q_authority_broker_latency_seconds_count 5\n");
	check_has(t.buf, "q2q_authority_relayed_bytes_total 12000\n");
	CHECK(strstr(t.buf, "q2q_peer_") == NULL);
	metrics_text_free(&t);
}

#define PARSE(s) metrics_http_parse(s, strlen(s), METRICS_HTTP_REQ_MAX)

static void test_http_parse(void)
{
	char big[METRICS_HTTP_REQ_MAX + 10];

	CHECK_INT(PARSE("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), METRICS_HTTP_METRICS);
	CHECK_INT(PARSE("GET /metrics HTTP/1.0\n\n"), METRICS_HTTP_METRICS);
	CHECK_INT(PARSE("GET /metrics?x=1 HTTP/1.1\r\n\r\n"), METRICS_HTTP_METRICS);
	CHECK_INT(PARSE("GET /metrics HTTP/1.1\r\nHost: x\r\n"), METRICS_HTTP_MORE);
	CHECK_INT(PARSE("GET /met"), METRICS_HTTP_MORE);
	CHECK_INT(PARSE(""), METRICS_HTTP_MORE);
	CHECK_INT(PARSE("GET / HTTP/1.1\r\n\r\n"), METRICS_HTTP_NOT_FOUND);
	CHECK_INT(PARSE("GET /metricsx HTTP/1.1\r\n\r\n"), METRICS_HTTP_NOT_FOUND);
	CHECK_INT(PARSE("GET /metrics/ HTTP/1.1\r\n\r\n"), METRICS_HTTP_NOT_FOUND);
	CHECK_INT(PARSE("POST /metrics HTTP/1.1\r\n\r\n"), METRICS_HTTP_BAD_METHOD);
	CHECK_INT(PARSE("HEAD /metrics HTTP/1.1\r\n\r\n"), METRICS_HTTP_BAD_METHOD);
	CHECK_INT(PARSE("GET /metrics HTTP/2.0\r\n\r\n"), METRICS_HTTP_BAD);
	CHECK_INT(PARSE("GET /metrics\r\n\r\n"), METRICS_HTTP_BAD);
	CHECK_INT(PARSE("GET  /metrics HTTP/1.1\r\n\r\n"), METRICS_HTTP_BAD);
	CHECK_INT(PARSE("GET http://x/metrics HTTP/1.1\r\n\r\n"), METRICS_HTTP_BAD);
	CHECK_INT(PARSE("GET /metrics\t HTTP/1.1\r\n\r\n"), METRICS_HTTP_BAD);
	CHECK_INT(PARSE("G(T /metrics HTTP/1.1\r\n\r\n"), METRICS_HTTP_BAD);
	CHECK_INT(PARSE("GET /metrics HTTP/1.1\r\nno colon here\r\n\r\n"), METRICS_HTTP_BAD);
	CHECK_INT(PARSE("GET /metrics HTTP/1.1\r\nHo st: x\r\n\r\n"), METRICS_HTTP_BAD);
	CHECK_INT(PARSE("GET /metrics HTTP/1.1\r\nHost: a\x01z\r\n\r\n"), METRICS_HTTP_BAD);
	CHECK_INT(PARSE("\r\nGET /metrics HTTP/1.1\r\n\r\n"), METRICS_HTTP_BAD);
	CHECK_INT(metrics_http_parse("GET /m\0", 7, METRICS_HTTP_REQ_MAX), METRICS_HTTP_BAD);
	/* Headers that do not end within the limit. */
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /metrics HTTP/1.1\r\nX: ", 26);
	CHECK_INT(metrics_http_parse(big, METRICS_HTTP_REQ_MAX - 1, METRICS_HTTP_REQ_MAX), METRICS_HTTP_MORE);
	CHECK_INT(metrics_http_parse(big, METRICS_HTTP_REQ_MAX, METRICS_HTTP_REQ_MAX), METRICS_HTTP_TOO_LARGE);
	CHECK_INT(metrics_http_parse(big, sizeof(big), METRICS_HTTP_REQ_MAX), METRICS_HTTP_TOO_LARGE);
	/* ... and that do, just. */
	memcpy(big + METRICS_HTTP_REQ_MAX - 4, "\r\n\r\n", 4);
	CHECK_INT(metrics_http_parse(big, METRICS_HTTP_REQ_MAX, METRICS_HTTP_REQ_MAX), METRICS_HTTP_METRICS);
}

int main(void)
{
	RUN(test_escaping);
	RUN(test_histogram);
	RUN(test_growth);
	RUN(test_down);
	RUN(test_node);
	RUN(test_authority);
	RUN(test_http_parse);
	return HARNESS_END();
}
