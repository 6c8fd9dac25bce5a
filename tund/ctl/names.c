/*
 * Names socket server (tund/ctl/names.h). Any local user may connect, so
 * a client costs little and gets little: a bounded number of connections,
 * one request each within NAMES_REQ_WAIT_MS, decoded by nss/wire.c before
 * anything looks at it, and an answer drawn from what the overlay already
 * exports to `q2qctl resolve` and `whois`. A resolve may wait on the
 * authority; it is answered from the overlay's callback, so the event
 * loop never blocks on a look-up.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "nss/wire.h"
#include "tund/base/log.h"
#include "tund/base/loop.h"
#include "tund/ctl/names.h"
#include "tund/ctl/unixsock.h"
#include "tund/daemon.h"
#include "tund/node/node.h"
#include "tund/overlay/overlay.h"

#define NAMES_CLIENTS_MAX	32	/* open connections; more are closed at once */
#define NAMES_REQ_WAIT_MS	1000	/* for a client to send its request */

struct names_client;

struct names {
	struct loop_io io;
	struct loop *loop;
	struct daemon *d;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct names_client *clients;
	int n_clients;
	uint64_t last_warn;		/* bad requests are logged at most once a second */
};

struct names_client {
	struct loop_io io;
	struct loop_timer t;		/* the request's deadline */
	struct names *n;
	struct names_client *next;
	int watching;			/* io in the loop */
	int waiting;			/* for the overlay's answer */
	struct names_req req;
};

static void names_client_free(struct names_client *c)
{
	struct names_client **pp;

	for (pp = &c->n->clients; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	c->n->n_clients--;
	loop_timer_cancel(c->n->loop, &c->t);
	if (c->watching)
		loop_del(c->n->loop, &c->io);
	close(c->io.fd);
	free(c);
}

/* Sends the reply (a local reader waits for one small message: if it has
 * gone, there is nothing to do) and frees the client. */
static void names_answer(struct names_client *c, struct names_reply *rep)
{
	uint8_t buf[NAMES_MSG_MAX];
	size_t len = names_reply_encode(rep, buf, sizeof(buf));

	if (len)
		send(c->io.fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	names_client_free(c);
}

static void names_answer_status(struct names_client *c, int op, int status)
{
	struct names_reply rep = { .op = op, .status = status };

	names_answer(c, &rep);
}

/* A found identity and its certificate's addresses. */
static void names_answer_cert(struct names_client *c, const struct cert_info *ci)
{
	struct names_reply rep = { .op = c->req.op, .status = NAMES_OK };

	snprintf(rep.name, sizeof(rep.name), "%s", ci->identity);
	if (ci->has_v4 && names_addr_is_overlay(AF_INET, ci->v4)) {
		rep.addr[rep.n_addr].family = AF_INET;
		memcpy(rep.addr[rep.n_addr++].a, ci->v4, 4);
	}
	if (ci->has_v6 && names_addr_is_overlay(AF_INET6, ci->v6)) {
		rep.addr[rep.n_addr].family = AF_INET6;
		memcpy(rep.addr[rep.n_addr++].a, ci->v6, 16);
	}
	if (!rep.n_addr)
		rep.status = NAMES_NOTFOUND;
	if (rep.status != NAMES_OK)
		rep.name[0] = '\0';
	names_answer(c, &rep);
}

/* This node's own certificate, if the question is about it. */
static int names_self(struct names_client *c, struct node_status_info *st)
{
	node_status_info(c->n->d->node, st);
	if (!st->enrolled)
		return 0;
	if (c->req.op == NAMES_OP_RESOLVE)
		return strcmp(c->req.name, st->ci.identity) == 0;
	if (c->req.addr.family == AF_INET)
		return st->ci.has_v4 && memcmp(c->req.addr.a, st->ci.v4, 4) == 0;
	return st->ci.has_v6 && memcmp(c->req.addr.a, st->ci.v6, 16) == 0;
}

static void names_resolved(void *arg, int code, const char *msg, const struct overlay_peer_info *p)
{
	struct names_client *c = arg;

	c->waiting = 0;
	/* The certificate must be of the identity asked (the module checks
	 * too, and would take a mismatch for a broken daemon). */
	if (code || !p || !p->have_cert || strcmp(p->ci.identity, c->req.name) != 0) {
		log_debug("names: %s not found: %s", c->req.name, msg ? msg : "no certificate");
		names_answer_status(c, c->req.op, NAMES_NOTFOUND);
		return;
	}
	names_answer_cert(c, &p->ci);
}

/* whois answers only for a peer's own address (or one this node gave an
 * identity of another domain, peer or not now), not for a host in a
 * subnet it routes (which has no name of its own). */
static void names_whois(struct names_client *c)
{
	struct overlay_peer_info p;
	char addr[INET6_ADDRSTRLEN], err[512];
	int self, fam = c->req.addr.family;

	inet_ntop(fam, c->req.addr.a, addr, sizeof(addr));
	if (overlay_whois(c->n->d->overlay, addr, &p, &self, err, sizeof(err)) != 0 || self ||
	    (!p.have_cert && !p.remembered) ||
	    !(fam == AF_INET ? p.ci.has_v4 && memcmp(p.ci.v4, c->req.addr.a, 4) == 0
			     : p.ci.has_v6 && memcmp(p.ci.v6, c->req.addr.a, 16) == 0)) {
		names_answer_status(c, c->req.op, NAMES_NOTFOUND);
		return;
	}
	names_answer_cert(c, &p.ci);
}

static void names_dispatch(struct names_client *c)
{
	struct node_status_info st;

	/* Names lead to addresses on q2q0, which exist only while it is up. */
	if (!c->n->d->overlay) {
		names_answer_status(c, c->req.op, NAMES_UNAVAIL);
		return;
	}
	if (names_self(c, &st)) {
		names_answer_cert(c, &st.ci);
		return;
	}
	if (c->req.op == NAMES_OP_WHOIS) {
		names_whois(c);
		return;
	}
	/* Answered through names_resolved, perhaps before this returns. */
	c->waiting = 1;
	overlay_resolve(c->n->d->overlay, c->req.name, names_resolved, c);
}

static void names_client_io(struct loop_io *io, uint32_t events)
{
	struct names_client *c = (struct names_client *)io;
	struct names *n = c->n;
	uint8_t buf[NAMES_MSG_MAX + 1];
	char err[256];
	ssize_t len;
	int op;

	len = recv(io->fd, buf, sizeof(buf), MSG_TRUNC | MSG_DONTWAIT);
	if (len < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (len <= 0) {		/* gone before asking */
		names_client_free(c);
		return;
	}
	/* One request per connection, so stop watching (a client that hangs
	 * up while a resolve is under way must not spin the loop). */
	loop_del(n->loop, &c->io);
	c->watching = 0;
	loop_timer_cancel(n->loop, &c->t);
	if ((size_t)len > NAMES_MSG_MAX)
		snprintf(err, sizeof(err), "request of %zd bytes is longer than any valid one", len);
	if ((size_t)len > NAMES_MSG_MAX ||
	    names_req_decode(buf, (size_t)len, &c->req, err, sizeof(err)) < 0) {
		uint64_t now = loop_now_ms();

		if (now - n->last_warn >= 1000) {
			n->last_warn = now;
			log_warnx("names: refused a request: %s", err);
		}
		op = len >= 2 ? buf[1] : 0;
		names_answer_status(c, op, NAMES_BADREQ);
		return;
	}
	names_dispatch(c);
}

static void names_client_timeout(struct loop_timer *t)
{
	struct names_client *c = (struct names_client *)((char *)t - offsetof(struct names_client, t));

	names_client_free(c);
}

static void names_accept(struct loop_io *io, uint32_t events)
{
	struct names *n = (struct names *)io;

	for (;;) {
		struct names_client *c;
		int fd = accept4(io->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		if (n->n_clients >= NAMES_CLIENTS_MAX || !(c = calloc(1, sizeof(*c)))) {
			close(fd);	/* the module sees no answer: not found */
			continue;
		}
		c->io.fd = fd;
		c->io.fn = names_client_io;
		c->t.fn = names_client_timeout;
		c->n = n;
		c->next = n->clients;
		n->clients = c;
		n->n_clients++;
		if (loop_add(n->loop, &c->io, EPOLLIN) < 0) {
			names_client_free(c);
			continue;
		}
		c->watching = 1;
		loop_timer_arm(n->loop, &c->t, loop_now_ms() + NAMES_REQ_WAIT_MS);
	}
}

int names_open(struct loop *l, const char *path, struct daemon *d, struct names **out,
    char *err, size_t errlen)
{
	struct names *n;
	int fd = -1, rc;

	if (!(n = calloc(1, sizeof(*n))))
		return -ENOMEM;
	/* Every local user may look names up: that is the socket's purpose. */
	fd = unixsock_listen("names socket", path, SOCK_SEQPACKET, 0666, 64, err, errlen);
	if (fd < 0) {
		rc = fd;
		goto fail;
	}
	snprintf(n->path, sizeof(n->path), "%s", path);
	n->io.fd = fd;
	n->io.fn = names_accept;
	n->loop = l;
	n->d = d;
	if ((rc = loop_add(l, &n->io, EPOLLIN)) < 0) {
		snprintf(err, errlen, "names socket %s: %s", path, strerror(-rc));
		unlink(path);
		goto fail;
	}
	*out = n;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	free(n);
	return rc;
}

void names_close(struct names *n)
{
	struct names_client *c, *next;

	if (!n)
		return;
	for (c = n->clients; c; c = next) {
		next = c->next;
		/* A resolve still under way holds c as its callback's argument;
		 * with the overlay down there is none (names.h). */
		if (!c->waiting)
			names_client_free(c);
	}
	loop_del(n->loop, &n->io);
	close(n->io.fd);
	unlink(n->path);
	free(n);
}
