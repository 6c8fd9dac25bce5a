/*
 * Non-blocking TLS over TCP with wolfSSL on a native socket. wolfSSL may
 * hold decrypted bytes beyond what one read returned, so every readiness
 * event drains wolfSSL_read until WANT_READ. Outgoing frames wait in a
 * queue; wolfSSL_write must be retried with the same bytes after
 * WANT_WRITE, so the head frame stays put until written whole.
 */
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include "netstack/msg.h"
#include "tund/base/loop.h"
#include "tund/link/tlsconn.h"

/* The receive buffer starts empty and grows (doubling from
 * TLSCONN_RX_FIRST) to the largest frame seen, up to rx_max: a connection
 * that never sends a frame costs no buffer, and one that may only send
 * small frames (tlsconn_set_rx_max) cannot make us hold a large one. */
#define TLSCONN_RX_FIRST 1024
#define TLSCONN_TX_MAX (1024 * 1024)	/* queued bytes before -ENOBUFS */
#define TLSCONN_HANDSHAKE_MS 10000

enum { TC_CONNECTING, TC_HANDSHAKE, TC_OPEN, TC_DEAD };

struct tc_frame {
	struct tc_frame *next;
	size_t len;
	uint8_t data[];
};

struct tlsconn {
	struct loop_io io;
	struct loop_timer timer;
	struct loop *loop;
	WOLFSSL *ssl;
	int state;
	int client;
	int close_after_send;
	uint32_t events;
	struct sockaddr_in6 peer;
	const struct tlsconn_ops *ops;
	void *arg;
	uint8_t *rx;
	size_t rxlen, rxcap, rx_max;
	struct tc_frame *txhead, **txtail;
	size_t txbytes;
};

WOLFSSL *tlsconn_ssl(struct tlsconn *c) { return c->ssl; }
const struct sockaddr_in6 *tlsconn_peer(const struct tlsconn *c) { return &c->peer; }
void tlsconn_set_arg(struct tlsconn *c, void *arg) { c->arg = arg; }

static void tc_set_events(struct tlsconn *c, uint32_t ev)
{
	if (c->state == TC_DEAD || ev == c->events)
		return;
	c->events = ev;
	loop_mod(c->loop, &c->io, ev);
}

/* Tears the connection down and reports it once. */
static void tc_fail(struct tlsconn *c, const char *why)
{
	if (c->state == TC_DEAD)
		return;
	c->state = TC_DEAD;
	loop_timer_cancel(c->loop, &c->timer);
	loop_del(c->loop, &c->io);
	if (c->ops->on_close)
		c->ops->on_close(c, c->arg, why);
}

static void tc_ssl_fail(struct tlsconn *c, int ret, const char *what)
{
	char buf[160], msg[240];
	int e = wolfSSL_get_error(c->ssl, ret);

	if (e == WOLFSSL_ERROR_ZERO_RETURN || e == SOCKET_PEER_CLOSED_E) {
		tc_fail(c, "connection closed by peer");
		return;
	}
	wolfSSL_ERR_error_string_n((unsigned long)e, buf, sizeof(buf));
	snprintf(msg, sizeof(msg), "%s: %s", what, buf);
	tc_fail(c, msg);
}

static void tc_flush(struct tlsconn *c)
{
	while (c->state == TC_OPEN && c->txhead) {
		struct tc_frame *f = c->txhead;
		int n = wolfSSL_write(c->ssl, f->data, (int)f->len);

		if (n <= 0) {
			int e = wolfSSL_get_error(c->ssl, n);
			if (e == WOLFSSL_ERROR_WANT_WRITE) {
				tc_set_events(c, EPOLLIN | EPOLLOUT);
				return;
			}
			if (e == WOLFSSL_ERROR_WANT_READ)
				return;
			tc_ssl_fail(c, n, "TLS write");
			return;
		}
		c->txhead = f->next;
		if (!c->txhead)
			c->txtail = &c->txhead;
		c->txbytes -= f->len;
		free(f);
	}
	if (c->state != TC_OPEN)
		return;
	if (!c->txhead && c->close_after_send) {
		wolfSSL_shutdown(c->ssl);
		tc_fail(c, "closed");
		return;
	}
	tc_set_events(c, EPOLLIN);
}

/* Room for at least need bytes in all; 0 or -1 (failed, reported). */
static int tc_rx_reserve(struct tlsconn *c, size_t need)
{
	size_t cap = c->rxcap ? c->rxcap : TLSCONN_RX_FIRST;
	uint8_t *rx;

	if (need > c->rx_max) {
		char msg[128];
		snprintf(msg, sizeof(msg), "control message of %zu bytes, over the %zu allowed here",
		    need, c->rx_max);
		tc_fail(c, msg);
		return -1;
	}
	if (need <= c->rxcap)
		return 0;
	while (cap < need)
		cap *= 2;
	if (cap > c->rx_max)
		cap = c->rx_max;
	rx = realloc(c->rx, cap);
	if (!rx) {
		tc_fail(c, "out of memory for a control message");
		return -1;
	}
	c->rx = rx;
	c->rxcap = cap;
	return 0;
}

static void tc_read(struct tlsconn *c)
{
	for (;;) {
		size_t need = 4;	/* the length field first */
		int n, want, room;

		/* Complete frames were handed over below, so what is here is
		 * the start of one: once its length is known, make room for
		 * exactly that frame (the peer's word, bounded by rx_max). */
		if (c->rxlen >= 4) {
			uint32_t body = (uint32_t)c->rx[0] << 24 | (uint32_t)c->rx[1] << 16 |
			    (uint32_t)c->rx[2] << 8 | c->rx[3];

			if (body == 0 || body > MSG_MAX_LEN) {
				tc_fail(c, "malformed control frame");
				return;
			}
			need = 4 + (size_t)body;
		}
		if (tc_rx_reserve(c, need) < 0)
			return;
		room = (int)(c->rxcap - c->rxlen);
		n = wolfSSL_read(c->ssl, c->rx + c->rxlen, room);
		if (n <= 0) {
			int e = wolfSSL_get_error(c->ssl, n);
			if (e == WOLFSSL_ERROR_WANT_READ || e == WOLFSSL_ERROR_WANT_WRITE)
				return;
			tc_ssl_fail(c, n, "TLS read");
			return;
		}
		c->rxlen += (size_t)n;
		/* Hand over every complete frame. */
		while (c->state == TC_OPEN) {
			want = msg_frame_len(c->rx, c->rxlen);
			if (want < 0) {
				tc_fail(c, "malformed control frame");
				return;
			}
			if (want == 0 || (size_t)want > c->rxlen)
				break;
			c->ops->on_msg(c, c->arg, c->rx, (size_t)want);
			if (c->state != TC_OPEN)
				return;
			memmove(c->rx, c->rx + want, c->rxlen - (size_t)want);
			c->rxlen -= (size_t)want;
		}
		if (c->state != TC_OPEN)
			return;
	}
}

static void tc_handshake(struct tlsconn *c)
{
	int ret = c->client ? wolfSSL_connect(c->ssl) : wolfSSL_accept(c->ssl);

	if (ret != WOLFSSL_SUCCESS) {
		int e = wolfSSL_get_error(c->ssl, ret);
		if (e == WOLFSSL_ERROR_WANT_READ) {
			tc_set_events(c, EPOLLIN);
			return;
		}
		if (e == WOLFSSL_ERROR_WANT_WRITE) {
			tc_set_events(c, EPOLLIN | EPOLLOUT);
			return;
		}
		tc_ssl_fail(c, ret, "TLS handshake");
		return;
	}
	c->state = TC_OPEN;
	loop_timer_cancel(c->loop, &c->timer);
	if (c->ops->on_open)
		c->ops->on_open(c, c->arg);
	if (c->state != TC_OPEN)
		return;
	tc_flush(c);
	if (c->state == TC_OPEN)
		tc_read(c);
}

static void tc_io(struct loop_io *io, uint32_t events)
{
	struct tlsconn *c = (struct tlsconn *)io;

	if (c->state == TC_CONNECTING) {
		int err = 0;
		socklen_t el = sizeof(err);

		getsockopt(io->fd, SOL_SOCKET, SO_ERROR, &err, &el);
		if (err) {
			char msg[128];
			snprintf(msg, sizeof(msg), "connect: %s", strerror(err));
			tc_fail(c, msg);
			return;
		}
		c->state = TC_HANDSHAKE;
	}
	if (c->state == TC_HANDSHAKE) {
		tc_handshake(c);
		return;
	}
	if (c->state != TC_OPEN)
		return;
	if (events & EPOLLOUT)
		tc_flush(c);
	if (c->state == TC_OPEN && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		tc_read(c);
	if (c->state == TC_OPEN && c->txhead)
		tc_flush(c);
}

static void tc_timeout(struct loop_timer *t)
{
	struct tlsconn *c = (struct tlsconn *)((char *)t - offsetof(struct tlsconn, timer));

	tc_fail(c, c->state == TC_CONNECTING ? "connect timed out" : "TLS handshake timed out");
}

static int tc_new(struct loop *l, WOLFSSL_CTX *ctx, int fd, int client,
    const struct sockaddr_in6 *peer, const struct tlsconn_ops *ops, void *arg,
    struct tlsconn **out)
{
	struct tlsconn *c = calloc(1, sizeof(*c));
	int one = 1, rc;

	if (!c)
		return -ENOMEM;
	c->rx_max = MSG_FRAME_MAX;
	c->ssl = wolfSSL_new(ctx);
	if (!c->ssl) {
		rc = -ENOMEM;
		goto fail;
	}
	wolfSSL_set_fd(c->ssl, fd);
	wolfSSL_set_using_nonblock(c->ssl, 1);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->io.fd = fd;
	c->io.fn = tc_io;
	c->timer.fn = tc_timeout;
	c->loop = l;
	c->client = client;
	c->peer = *peer;
	c->ops = ops;
	c->arg = arg;
	c->txtail = &c->txhead;
	c->state = client ? TC_CONNECTING : TC_HANDSHAKE;
	c->events = EPOLLIN | EPOLLOUT;
	rc = loop_add(l, &c->io, c->events);
	if (rc < 0)
		goto fail;
	loop_timer_arm(l, &c->timer, loop_now_ms() + TLSCONN_HANDSHAKE_MS);
	*out = c;
	return 0;
fail:
	if (c->ssl)
		wolfSSL_free(c->ssl);
	free(c->rx);
	free(c);
	return rc;
}

int tlsconn_connect(struct loop *l, WOLFSSL_CTX *ctx, const struct sockaddr_in6 *to,
    const struct tlsconn_ops *ops, void *arg, struct tlsconn **out)
{
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int rc;

	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)to, sizeof(*to)) < 0 && errno != EINPROGRESS) {
		rc = -errno;
		close(fd);
		return rc;
	}
	rc = tc_new(l, ctx, fd, 1, to, ops, arg, out);
	if (rc < 0)
		close(fd);
	return rc;
}

int tlsconn_accept(struct loop *l, WOLFSSL_CTX *ctx, int fd, const struct sockaddr_in6 *from,
    const struct tlsconn_ops *ops, void *arg, struct tlsconn **out)
{
	return tc_new(l, ctx, fd, 0, from, ops, arg, out);
}

void tlsconn_set_rx_max(struct tlsconn *c, size_t max)
{
	if (max < MSG_HDR_LEN + 1)
		max = MSG_HDR_LEN + 1;
	if (max > MSG_FRAME_MAX)
		max = MSG_FRAME_MAX;
	c->rx_max = max;
}

int tlsconn_send(struct tlsconn *c, const uint8_t *frame, size_t len)
{
	struct tc_frame *f;

	if (c->state == TC_DEAD)
		return -ENOTCONN;
	if (c->txbytes + len > TLSCONN_TX_MAX)
		return -ENOBUFS;
	f = malloc(sizeof(*f) + len);
	if (!f)
		return -ENOMEM;
	f->next = NULL;
	f->len = len;
	memcpy(f->data, frame, len);
	*c->txtail = f;
	c->txtail = &f->next;
	c->txbytes += len;
	if (c->state == TC_OPEN)
		tc_flush(c);
	return 0;
}

void tlsconn_close_after_send(struct tlsconn *c)
{
	c->close_after_send = 1;
	if (c->state == TC_OPEN)
		tc_flush(c);
}

int tlsconn_peer_cert(struct tlsconn *c, const uint8_t **der, size_t *len)
{
	return tlsconn_peer_chain(c, 0, der, len);
}

int tlsconn_peer_chain(struct tlsconn *c, int idx, const uint8_t **der, size_t *len)
{
	/* The session keeps the peer's chain (SESSION_CERTS); index 0 is the
	 * peer's own certificate. The bytes live as long as the WOLFSSL. */
	WOLFSSL_X509_CHAIN *chain = wolfSSL_get_peer_chain(c->ssl);
	const unsigned char *p;
	int n;

	if (!chain || idx < 0 || wolfSSL_get_chain_count(chain) <= idx)
		return -ENOENT;
	p = wolfSSL_get_chain_cert(chain, idx);
	n = wolfSSL_get_chain_length(chain, idx);
	if (!p || n <= 0)
		return -ENOENT;
	*der = p;
	*len = (size_t)n;
	return 0;
}

void tlsconn_free(struct tlsconn *c)
{
	if (!c)
		return;
	if (c->state != TC_DEAD) {
		c->state = TC_DEAD;
		loop_timer_cancel(c->loop, &c->timer);
		loop_del(c->loop, &c->io);
	}
	while (c->txhead) {
		struct tc_frame *f = c->txhead;
		c->txhead = f->next;
		free(f);
	}
	wolfSSL_free(c->ssl);
	close(c->io.fd);
	free(c->rx);
	free(c);
}

static void tc_free_cb(void *arg)
{
	tlsconn_free(arg);
}

void tlsconn_free_later(struct tlsconn *c)
{
	if (c->state != TC_DEAD) {
		c->state = TC_DEAD;
		loop_timer_cancel(c->loop, &c->timer);
		loop_del(c->loop, &c->io);
	}
	loop_defer(c->loop, tc_free_cb, c);
}
