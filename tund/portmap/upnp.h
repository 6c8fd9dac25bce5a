/*
 * UPnP-IGD through libminiupnpc. Its SSDP discovery and SOAP calls block
 * (seconds, against a slow or absent router), so they run in one helper
 * thread that the engine starts before its seccomp sandbox (the sandbox's
 * TSYNC then filters it too; it needs no system call the engine lacks).
 * The event loop talks to it over two pipes: a request goes in without
 * blocking, the answer comes back on a descriptor the loop watches.
 * What the router answers is the caller's to check (mapping.h).
 */
#ifndef Q2Q_UPNP_H
#define Q2Q_UPNP_H

#include <stdint.h>

enum { UPNP_MAP = 1, UPNP_DELETE = 2 };

struct upnp_req {
	uint32_t id;
	int op;			/* UPNP_* */
	uint16_t port;		/* ours */
	uint16_t ext_port;	/* asked for (MAP), or the one to delete */
	uint32_t lifetime;	/* seconds asked for */
};

struct upnp_reply {
	uint32_t id;		/* the request's */
	int op;
	int rc;			/* 0, or -errno with why */
	uint8_t ext[4];		/* MAP: the router's external IPv4 */
	uint16_t ext_port;
	uint32_t lifetime;	/* as granted; 0 = permanent (the router's only kind) */
	char why[96];
};

/* Starts the thread (once). 0 or -errno. Before the sandbox. */
int upnp_worker_start(void);
/* The descriptor answers arrive on, or -1 without a worker. */
int upnp_worker_fd(void);
/* 0, or -EAGAIN (its queue is full), -ENOTCONN (no worker). */
int upnp_worker_ask(const struct upnp_req *r);
/* 0 with an answer, -EAGAIN when none is waiting. */
int upnp_worker_read(struct upnp_reply *r);
/* Waits for the requests asked so far (a delete at exit), at most ms for
 * each answer; after the loop has ended. */
void upnp_worker_drain(int ms);

#endif
