/*
 * The daemon's parts, owned by q2qd.c's main and handed to the control
 * command handlers.
 */
#ifndef Q2Q_DAEMON_H
#define Q2Q_DAEMON_H

#include "tund/conf/config.h"

struct authority;
struct control;
struct loop;
struct metrics_http;
struct node;
struct overlay;
struct ctl_req;
struct json_object;

struct daemon {
	struct config cfg;
	struct loop *loop;
	struct control *control;
	struct authority *authority;	/* NULL unless configured */
	struct node *node;
	struct overlay *overlay;	/* NULL while down */
	struct workers *workers;	/* the data path's threads, for the engine's life */
	struct metrics_http *metrics;	/* NULL unless metrics_listen is set */
	int64_t started;
};

/* The control socket's dispatcher (tund/ctl/commands.c). */
void commands_dispatch(void *arg, struct ctl_req *req, const char *cmd, struct json_object *args);

/* q2qctl up/down; also used at start when the node was up before.
 * exit_node (NULL: none) is the peer `up --exit-node` chose: up fails,
 * and the overlay stays down, if it cannot be set. */
int daemon_up(struct daemon *d, const char *exit_node, char *err, size_t errlen);
void daemon_down(struct daemon *d);

/* Re-reads the config file; applies what can change live. */
int daemon_reload(struct daemon *d, char *err, size_t errlen);

#endif
