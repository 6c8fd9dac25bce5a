/*
 * The metrics over plain HTTP (metrics_listen in q2qd.conf): GET /metrics
 * answers with the Prometheus text, anything else with 4xx. Served from
 * the daemon's event loop, never blocking: one request per connection
 * (bounded in size), a deadline for the whole exchange, and a cap on
 * connections at once, so a slow or hostile client costs a few KB and
 * never stalls the overlay.
 */
#ifndef Q2Q_METRICS_HTTP_H
#define Q2Q_METRICS_HTTP_H

#include <stddef.h>
#include <netinet/in.h>

struct loop;
struct metrics_http;
struct metrics_text;

#define METRICS_HTTP_REQ_MAX	4096	/* request line and headers */
#define METRICS_HTTP_CLIENTS	16	/* connections at once */
#define METRICS_HTTP_DEADLINE_MS 5000	/* from accept to the last byte out */

/* Fills t (initialised, the caller's) with the metrics: 0 or -errno. */
typedef int metrics_http_body_fn(void *arg, struct metrics_text *t);

/* Listens on addr; err says why not. */
int metrics_http_open(struct loop *l, const struct sockaddr_in6 *addr, metrics_http_body_fn *fn,
    void *arg, struct metrics_http **out, char *err, size_t errlen);
/* Closes the listener and its clients; NULL is fine. Safe inside an
 * event callback (the memory goes once the loop's batch is done). */
void metrics_http_close(struct metrics_http *h);

/* What a request asks for, from its first len bytes (pure). */
enum metrics_http_verdict {
	METRICS_HTTP_MORE,		/* incomplete: read on */
	METRICS_HTTP_METRICS,		/* GET /metrics: 200 */
	METRICS_HTTP_NOT_FOUND,		/* GET of another path: 404 */
	METRICS_HTTP_BAD_METHOD,	/* not GET: 405 */
	METRICS_HTTP_BAD,		/* not an HTTP/1.x request: 400 */
	METRICS_HTTP_TOO_LARGE,		/* no end of headers within max: 431 */
};

enum metrics_http_verdict metrics_http_parse(const char *buf, size_t len, size_t max);

#endif
