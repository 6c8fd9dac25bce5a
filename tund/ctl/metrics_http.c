/*
 * A deliberately small HTTP/1.x server for one resource. Each connection
 * reads one request into a fixed buffer, gets one answer and is closed
 * ("Connection: close"): no keep-alive, no chunking, no request bodies,
 * so there is no state to get wrong. After the answer the write side is
 * shut and what the client still sends is read and dropped until it
 * closes or the deadline passes, so that an answer to an oversize request
 * is not lost to a reset. Clients are freed from the timer, which runs
 * after the loop's batch of events, so no pending event can reach freed
 * memory.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tund/base/log.h"
#include "tund/base/loop.h"
#include "tund/ctl/metrics_http.h"
#include "tund/ctl/metrics_text.h"

enum mhttp_stage { MH_READ, MH_WRITE, MH_DRAIN, MH_DEAD };

struct mhttp_client {
	struct loop_io io;		/* first: the loop hands us &io */
	struct metrics_http *h;
	struct mhttp_client *next;
	enum mhttp_stage stage;
	uint64_t deadline;
	size_t len;
	char req[METRICS_HTTP_REQ_MAX];
	char *out;
	size_t out_len, out_off;
};

struct metrics_http {
	struct loop_io io;		/* first: the listening socket */
	struct loop *loop;
	struct loop_timer timer;
	metrics_http_body_fn *fn;
	void *arg;
	struct mhttp_client *clients;
	int n_clients;
};

/* ---------------------------------------------------------- parsing */

/* A method or header name: RFC 9110 token characters. */
static int mh_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Line [s, e) without its CR. */
static const char *mh_line_end(const char *s, const char *end)
{
	const char *e = memchr(s, '\n', (size_t)(end - s));

	return e ? e : end;
}

static enum metrics_http_verdict mh_request_line(const char *s, const char *e)
{
	const char *sp1, *sp2;
	size_t mlen, tlen, vlen;

	if (e > s && e[-1] == '\r')
		e--;
	for (const char *p = s; p < e; p++)
		if ((unsigned char)*p <= 0x20 && *p != ' ')
			return METRICS_HTTP_BAD;
		else if ((unsigned char)*p >= 0x7f)
			return METRICS_HTTP_BAD;
	sp1 = memchr(s, ' ', (size_t)(e - s));
	if (!sp1)
		return METRICS_HTTP_BAD;
	sp2 = memchr(sp1 + 1, ' ', (size_t)(e - sp1 - 1));
	if (!sp2)
		return METRICS_HTTP_BAD;
	mlen = (size_t)(sp1 - s);
	tlen = (size_t)(sp2 - sp1 - 1);
	vlen = (size_t)(e - sp2 - 1);
	if (!mlen || !tlen || vlen != 8 || (memcmp(sp2 + 1, "HTTP/1.0", 8) && memcmp(sp2 + 1, "HTTP/1.1", 8)))
		return METRICS_HTTP_BAD;
	for (size_t i = 0; i < mlen; i++)
		if (!mh_tchar((unsigned char)s[i]))
			return METRICS_HTTP_BAD;
	if (sp1[1] != '/')
		return METRICS_HTTP_BAD;
	if (mlen != 3 || memcmp(s, "GET", 3) != 0)
		return METRICS_HTTP_BAD_METHOD;
	if ((tlen == 8 || (tlen > 8 && sp1[9] == '?')) && memcmp(sp1 + 1, "/metrics", 8) == 0)
		return METRICS_HTTP_METRICS;
	return METRICS_HTTP_NOT_FOUND;
}

/* "Name: value": a token, a colon, then no control bytes but tab. */
static int mh_header_ok(const char *s, const char *e)
{
	const char *p = s;

	if (e > s && e[-1] == '\r')
		e--;
	while (p < e && mh_tchar((unsigned char)*p))
		p++;
	if (p == s || p == e || *p != ':')
		return 0;
	for (p++; p < e; p++)
		if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f)
			return 0;
	return 1;
}

enum metrics_http_verdict metrics_http_parse(const char *buf, size_t len, size_t max)
{
	const char *end = buf + len, *s, *e, *head_end = NULL;
	enum metrics_http_verdict v;

	if (len > max)
		len = max, end = buf + len;
	/* The end of the headers: an empty line (CRLF CRLF, or bare LFs). */
	for (s = buf; s < end; s = e + 1) {
		e = mh_line_end(s, end);
		if (e == end)
			break;
		if (s != buf && (e == s || (e == s + 1 && *s == '\r'))) {
			head_end = s;
			break;
		}
	}
	if (!head_end) {
		/* A NUL or a bare control byte can never become a request. */
		if (memchr(buf, 0, len))
			return METRICS_HTTP_BAD;
		return len >= max ? METRICS_HTTP_TOO_LARGE : METRICS_HTTP_MORE;
	}
	e = mh_line_end(buf, end);
	v = mh_request_line(buf, e);
	if (v == METRICS_HTTP_BAD)
		return v;
	for (s = e + 1; s < head_end; s = e + 1) {
		e = mh_line_end(s, end);
		if (!mh_header_ok(s, e))
			return METRICS_HTTP_BAD;
	}
	return v;
}

/* --------------------------------------------------------- answers */

static int mh_answer(struct mhttp_client *c, enum metrics_http_verdict v)
{
	static const struct { enum metrics_http_verdict v; const char *status, *extra, *body; } fixed[] = {
		{ METRICS_HTTP_NOT_FOUND, "404 Not Found", "", "not found: the metrics are at /metrics\n" },
		{ METRICS_HTTP_BAD_METHOD, "405 Method Not Allowed", "Allow: GET\r\n", "only GET is served\n" },
		{ METRICS_HTTP_BAD, "400 Bad Request", "", "not an HTTP/1.x request\n" },
		{ METRICS_HTTP_TOO_LARGE, "431 Request Header Fields Too Large", "",
		  "request larger than 4096 bytes\n" },
	};
	struct metrics_text t;
	const char *status = "500 Internal Server Error", *extra = "", *body = "cannot make the metrics now\n";
	const char *ctype = "text/plain; charset=utf-8";
	size_t blen, hcap = 256;
	int n, rc = -ENOMEM;

	metrics_text_init(&t);
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (fixed[i].v == v)
			status = fixed[i].status, extra = fixed[i].extra, body = fixed[i].body;
	if (v == METRICS_HTTP_METRICS && c->h->fn(c->h->arg, &t) == 0 && t.buf) {
		status = "200 OK";
		ctype = "text/plain; version=0.0.4; charset=utf-8";
		body = t.buf;
	}
	blen = strlen(body);
	c->out = malloc(hcap + blen);
	if (!c->out)
		goto out;
	n = snprintf(c->out, hcap, "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
	    "Connection: close\r\n\r\n", status, ctype, blen, extra);
	if (n < 0 || (size_t)n >= hcap)
		goto out;
	memcpy(c->out + n, body, blen);
	c->out_len = (size_t)n + blen;
	c->out_off = 0;
	rc = 0;
out:
	metrics_text_free(&t);
	return rc;
}

/* ------------------------------------------------------ connections */

/* Stops watching c and closes it; the timer frees it after this batch. */
static void mh_client_end(struct mhttp_client *c)
{
	struct metrics_http *h = c->h;

	if (c->stage == MH_DEAD)
		return;
	loop_del(h->loop, &c->io);
	close(c->io.fd);
	c->io.fd = -1;
	c->stage = MH_DEAD;
	loop_timer_arm(h->loop, &h->timer, loop_now_ms());
}

static void mh_write(struct mhttp_client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->io.fd, c->out + c->out_off, c->out_len - c->out_off,
		    MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			mh_client_end(c);
			return;
		}
		c->out_off += (size_t)n;
	}
	shutdown(c->io.fd, SHUT_WR);
	c->stage = MH_DRAIN;
	if (loop_mod(c->h->loop, &c->io, EPOLLIN | EPOLLRDHUP) < 0)
		mh_client_end(c);
}

static void mh_read(struct mhttp_client *c)
{
	enum metrics_http_verdict v = METRICS_HTTP_MORE;

	for (;;) {
		ssize_t n = recv(c->io.fd, c->req + c->len, sizeof(c->req) - c->len, MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			mh_client_end(c);	/* gone before a whole request */
			return;
		}
		c->len += (size_t)n;
		v = metrics_http_parse(c->req, c->len, sizeof(c->req));
		if (v != METRICS_HTTP_MORE)
			break;
	}
	if (mh_answer(c, v) < 0) {
		mh_client_end(c);
		return;
	}
	c->stage = MH_WRITE;
	if (loop_mod(c->h->loop, &c->io, EPOLLOUT) < 0) {
		mh_client_end(c);
		return;
	}
	mh_write(c);
}

static void mh_drain(struct mhttp_client *c)
{
	char sink[1024];

	for (;;) {
		ssize_t n = recv(c->io.fd, sink, sizeof(sink), MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		mh_client_end(c);	/* EOF or an error: done */
		return;
	}
}

static void mh_client_io(struct loop_io *io, uint32_t events)
{
	struct mhttp_client *c = (struct mhttp_client *)io;

	if (c->stage == MH_READ)
		mh_read(c);
	else if (c->stage == MH_WRITE)
		mh_write(c);
	else if (c->stage == MH_DRAIN)
		mh_drain(c);
}

static void mh_rearm(struct metrics_http *h)
{
	uint64_t next = 0;

	for (struct mhttp_client *c = h->clients; c; c = c->next)
		if (!next || c->deadline < next)
			next = c->deadline;
	if (next)
		loop_timer_arm(h->loop, &h->timer, next);
	else
		loop_timer_cancel(h->loop, &h->timer);
}

/* Frees ended clients and ends those past their deadline. */
static void mh_timer(struct loop_timer *t)
{
	struct metrics_http *h = (struct metrics_http *)((char *)t - offsetof(struct metrics_http, timer));
	uint64_t now = loop_now_ms();
	struct mhttp_client **cp = &h->clients;

	while (*cp) {
		struct mhttp_client *c = *cp;

		if (c->stage != MH_DEAD && c->deadline <= now) {
			log_debug("metrics: a client took longer than %d ms; closing it",
			    METRICS_HTTP_DEADLINE_MS);
			mh_client_end(c);
		}
		if (c->stage == MH_DEAD) {
			*cp = c->next;
			h->n_clients--;
			free(c->out);
			free(c);
			continue;
		}
		cp = &c->next;
	}
	mh_rearm(h);
}

static void mh_accept(struct loop_io *io, uint32_t events)
{
	static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
	    "Connection: close\r\n\r\n";
	struct metrics_http *h = (struct metrics_http *)io;

	for (;;) {
		int fd = accept4(io->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct mhttp_client *c;

		if (fd < 0)
			return;
		if (h->n_clients >= METRICS_HTTP_CLIENTS || !(c = calloc(1, sizeof(*c)))) {
			/* Full: a short refusal, never a wait. */
			if (send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
				log_debug("metrics: refusing a client: %s", strerror(errno));
			close(fd);
			continue;
		}
		c->io.fd = fd;
		c->io.fn = mh_client_io;
		c->h = h;
		c->stage = MH_READ;
		c->deadline = loop_now_ms() + METRICS_HTTP_DEADLINE_MS;
		if (loop_add(h->loop, &c->io, EPOLLIN | EPOLLRDHUP) < 0) {
			close(fd);
			free(c);
			continue;
		}
		c->next = h->clients;
		h->clients = c;
		h->n_clients++;
		if (!h->timer.deadline || h->timer.deadline > c->deadline)
			loop_timer_arm(h->loop, &h->timer, c->deadline);
	}
}

/* -------------------------------------------------------- listening */

static int mh_is_loopback(const struct sockaddr_in6 *a)
{
	return IN6_IS_ADDR_LOOPBACK(&a->sin6_addr) ||
	    (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr) && a->sin6_addr.s6_addr[12] == 127);
}

int metrics_http_open(struct loop *l, const struct sockaddr_in6 *addr, metrics_http_body_fn *fn,
    void *arg, struct metrics_http **out, char *err, size_t errlen)
{
	struct metrics_http *h = calloc(1, sizeof(*h));
	char a[INET6_ADDRSTRLEN];
	const int on = 1, off = 0;
	int rc;

	*out = NULL;
	inet_ntop(AF_INET6, &addr->sin6_addr, a, sizeof(a));
	if (!h) {
		snprintf(err, errlen, "metrics: out of memory");
		return -ENOMEM;
	}
	h->loop = l;
	h->fn = fn;
	h->arg = arg;
	h->timer.fn = mh_timer;
	h->io.fn = mh_accept;
	h->io.fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (h->io.fd < 0 ||
	    setsockopt(h->io.fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0 ||
	    setsockopt(h->io.fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) < 0 ||
	    bind(h->io.fd, (const struct sockaddr *)addr, sizeof(*addr)) < 0 ||
	    listen(h->io.fd, METRICS_HTTP_CLIENTS) < 0) {
		rc = -errno;
		snprintf(err, errlen, "metrics_listen: cannot listen on [%s]:%d: %s", a,
		    ntohs(addr->sin6_port), strerror(errno));
		goto fail;
	}
	if ((rc = loop_add(l, &h->io, EPOLLIN)) < 0) {
		snprintf(err, errlen, "metrics_listen: %s", strerror(-rc));
		goto fail;
	}
	if (!mh_is_loopback(addr))
		log_warnx("metrics: [%s]:%d is not a loopback address: whoever reaches it reads peer "
		    "names and traffic counts", a, ntohs(addr->sin6_port));
	log_info("metrics at http://[%s]:%d/metrics", a, ntohs(addr->sin6_port));
	*out = h;
	return 0;
fail:
	if (h->io.fd >= 0)
		close(h->io.fd);
	free(h);
	return rc;
}

static void mh_ignore(struct loop_io *io, uint32_t events)
{
}

static void mh_free(void *arg)
{
	struct metrics_http *h = arg;

	while (h->clients) {
		struct mhttp_client *c = h->clients;

		h->clients = c->next;
		free(c->out);
		free(c);
	}
	free(h);
}

/* May run inside an event callback (a reload): every descriptor closes at
 * once, the memory goes after the loop's batch of events, which may still
 * name it (then nothing happens). */
void metrics_http_close(struct metrics_http *h)
{
	if (!h)
		return;
	for (struct mhttp_client *c = h->clients; c; c = c->next)
		mh_client_end(c);
	loop_timer_cancel(h->loop, &h->timer);
	loop_del(h->loop, &h->io);
	close(h->io.fd);
	h->io.fd = -1;
	h->io.fn = mh_ignore;
	if (loop_defer(h->loop, mh_free, h) < 0)
		log_warnx("metrics: out of memory: the old listener's memory is not freed");
}
