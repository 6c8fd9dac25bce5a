/*
 * The control socket: q2qctl connects to a Unix stream socket, writes one
 * JSON request, shuts down its write side, and reads one JSON reply.
 * Callers are checked with SO_PEERCRED (root, the daemon's own user, or a
 * member of the configured group). A request may be answered later (for
 * example after a round trip to the authority): the handler keeps the
 * struct ctl_req and replies when it can.
 */
#ifndef Q2Q_CONTROL_H
#define Q2Q_CONTROL_H

#include <json-c/json.h>
#include <sys/types.h>

struct loop;
struct control;
struct ctl_req;

/* Called for each well-formed request. args is the request object (owned
 * by req). The handler must eventually call ctl_reply_ok or ctl_reply_err. */
typedef void ctl_handler_fn(void *arg, struct ctl_req *req, const char *cmd, json_object *args);

int control_open(struct loop *l, const char *path, const char *group,
    ctl_handler_fn *fn, void *arg, struct control **out, char *err, size_t errlen);
void control_close(struct control *c);	/* unlinks the socket; drops pending requests */

/* Reply and free req. result is consumed (may be NULL). */
void ctl_reply_ok(struct ctl_req *req, json_object *result);
void ctl_reply_err(struct ctl_req *req, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
uid_t ctl_req_uid(const struct ctl_req *req);

/* Exit codes q2qctl uses, carried in error replies. */
#define CTL_EXIT_FAIL 1		/* the operation failed */
#define CTL_EXIT_USAGE 2	/* bad arguments */

#endif
