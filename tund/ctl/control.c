/*
 * Control socket server. Requests are small (capped at 64 KiB), so a client
 * is read into one buffer until EOF, parsed with json-c (no hand-rolled
 * JSON), and dispatched. Replies are written with a bounded blocking send:
 * they are small and the peer is a local q2qctl waiting for them.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "tund/ctl/control.h"
#include "tund/ctl/unixsock.h"
#include "tund/ctl/request.h"
#include "tund/base/log.h"
#include "tund/base/loop.h"

#define CTL_REQ_MAX 65536

struct control {
	struct loop_io io;
	struct loop *loop;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	gid_t gid;
	int has_gid;
	ctl_handler_fn *fn;
	void *arg;
	struct ctl_req *reqs;		/* open client connections */
};

struct ctl_req {
	struct loop_io io;
	struct control *ctl;
	struct ctl_req *next;
	uid_t uid;
	char *buf;
	size_t len;
	int dispatched;
	json_object *obj;
};

uid_t ctl_req_uid(const struct ctl_req *req) { return req->uid; }

static void ctl_req_free(struct ctl_req *req)
{
	struct ctl_req **pp;

	for (pp = &req->ctl->reqs; *pp; pp = &(*pp)->next) {
		if (*pp == req) {
			*pp = req->next;
			break;
		}
	}
	if (req->io.fd >= 0) {
		loop_del(req->ctl->loop, &req->io);
		close(req->io.fd);
	}
	json_object_put(req->obj);
	/* enroll carries an enrollment token */
	if (req->buf)
		explicit_bzero(req->buf, req->len);
	free(req->buf);
	free(req);
}

static void ctl_send(struct ctl_req *req, json_object *reply)
{
	const char *s = json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN);
	size_t len = strlen(s), off = 0;
	struct timeval tv = { .tv_sec = 2 };
	int fl = fcntl(req->io.fd, F_GETFL);

	/* Small reply, local reader: a short blocking write is simplest. */
	fcntl(req->io.fd, F_SETFL, fl & ~O_NONBLOCK);
	setsockopt(req->io.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (off < len) {
		ssize_t n = send(req->io.fd, s + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	send(req->io.fd, "\n", 1, MSG_NOSIGNAL);
	json_object_put(reply);
	ctl_req_free(req);
}

void ctl_reply_ok(struct ctl_req *req, json_object *result)
{
	json_object *r = json_object_new_object();

	json_object_object_add(r, "ok", json_object_new_boolean(1));
	json_object_object_add(r, "result", result ? result : json_object_new_object());
	ctl_send(req, r);
}

void ctl_reply_err(struct ctl_req *req, int code, const char *fmt, ...)
{
	json_object *r = json_object_new_object();
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(r, "ok", json_object_new_boolean(0));
	json_object_object_add(r, "error", json_object_new_string(msg));
	json_object_object_add(r, "code", json_object_new_int(code));
	ctl_send(req, r);
}

static void ctl_dispatch(struct ctl_req *req)
{
	const char *name;
	char why[128];

	req->dispatched = 1;
	/* The request is done being read; stop watching until we reply (a
	 * client that hangs up meanwhile must not spin the loop on EPOLLHUP). */
	loop_del(req->ctl->loop, &req->io);
	if (ctl_request_parse(req->buf, req->len, &req->obj, &name, why, sizeof(why)) < 0) {
		ctl_reply_err(req, CTL_EXIT_USAGE, "%s", why);
		return;
	}
	req->ctl->fn(req->ctl->arg, req, name, req->obj);
}

static void ctl_req_io(struct loop_io *io, uint32_t events)
{
	struct ctl_req *req = (struct ctl_req *)io;
	char tmp[4096];
	ssize_t n;

	if (req->dispatched)
		return;
	for (;;) {
		n = recv(io->fd, tmp, sizeof(tmp), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0) {
			ctl_req_free(req);
			return;
		}
		if (n == 0)
			break;
		if (req->len + (size_t)n > CTL_REQ_MAX) {
			ctl_reply_err(req, CTL_EXIT_USAGE, "control request larger than %d bytes", CTL_REQ_MAX);
			return;
		}
		char *nb = realloc(req->buf, req->len + (size_t)n + 1);
		if (!nb) {
			ctl_req_free(req);
			return;
		}
		req->buf = nb;
		memcpy(req->buf + req->len, tmp, (size_t)n);
		req->len += (size_t)n;
		req->buf[req->len] = 0;
	}
	if (!req->buf) {
		ctl_req_free(req);
		return;
	}
	ctl_dispatch(req);
}

/* Root, the daemon's own user, or a member of the control group. */
static int ctl_allowed(const struct control *c, const struct ucred *cr)
{
	struct passwd *pw;
	gid_t groups[64];
	int ng = 64, i;

	if (cr->uid == 0 || cr->uid == geteuid())
		return 1;
	if (!c->has_gid)
		return 0;
	if (cr->gid == c->gid)
		return 1;
	pw = getpwuid(cr->uid);
	if (!pw || getgrouplist(pw->pw_name, pw->pw_gid, groups, &ng) < 0)
		return 0;
	for (i = 0; i < ng; i++)
		if (groups[i] == c->gid)
			return 1;
	return 0;
}

static void ctl_accept(struct loop_io *io, uint32_t events)
{
	struct control *c = (struct control *)io;

	for (;;) {
		struct ucred cr;
		socklen_t crlen = sizeof(cr);
		struct ctl_req *req;
		int fd = accept4(io->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) < 0 ||
		    !ctl_allowed(c, &cr)) {
			static const char deny[] =
			    "{\"ok\":false,\"code\":1,\"error\":\"permission denied: "
			    "q2qctl needs root or the control group\"}\n";
			log_warnx("control: refused uid %d", crlen ? (int)cr.uid : -1);
			send(fd, deny, sizeof(deny) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
			close(fd);
			continue;
		}
		req = calloc(1, sizeof(*req));
		if (!req) {
			close(fd);
			continue;
		}
		req->io.fd = fd;
		req->io.fn = ctl_req_io;
		req->ctl = c;
		req->uid = cr.uid;
		req->next = c->reqs;
		c->reqs = req;
		if (loop_add(c->loop, &req->io, EPOLLIN) < 0) {
			req->io.fd = -1;
			close(fd);
			ctl_req_free(req);
		}
	}
}

int control_open(struct loop *l, const char *path, const char *group,
    ctl_handler_fn *fn, void *arg, struct control **out, char *err, size_t errlen)
{
	struct control *c;
	struct group *gr;
	int fd = -1, rc;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	if (group && *group) {
		gr = getgrnam(group);
		if (!gr) {
			snprintf(err, errlen, "control group '%s' does not exist", group);
			rc = -ENOENT;
			goto fail;
		}
		c->gid = gr->gr_gid;
		c->has_gid = 1;
	}
	fd = unixsock_listen("control socket", path, SOCK_STREAM, 0660, 16, err, errlen);
	if (fd < 0) {
		rc = fd;
		goto fail;
	}
	if (c->has_gid && chown(path, (uid_t)-1, c->gid) < 0) {
		rc = -errno;
		snprintf(err, errlen, "control socket %s: chgrp %s: %s", path, group ? group : "", strerror(errno));
		unlink(path);
		goto fail;
	}
	snprintf(c->path, sizeof(c->path), "%s", path);
	c->io.fd = fd;
	c->io.fn = ctl_accept;
	c->loop = l;
	c->fn = fn;
	c->arg = arg;
	rc = loop_add(l, &c->io, EPOLLIN);
	if (rc < 0) {
		unlink(path);
		goto fail;
	}
	*out = c;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	free(c);
	return rc;
}

void control_close(struct control *c)
{
	if (!c)
		return;
	while (c->reqs)
		ctl_reply_err(c->reqs, CTL_EXIT_FAIL, "q2qd is shutting down");
	loop_del(c->loop, &c->io);
	close(c->io.fd);
	unlink(c->path);
	free(c);
}
