/*
 * The UPnP-IGD helper thread (upnp.h). It keeps the gateway it found
 * (control URL, service type, our LAN address as the router sees it)
 * between requests, and looks again when a call fails. Discovery waits
 * 1 s for answers; miniupnpc's sockets time out after a few seconds, so
 * a request ends even when the router never answers.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <miniupnpc/miniupnpc.h>
#include <miniupnpc/upnpcommands.h>
#include <miniupnpc/upnperrors.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tund/portmap/upnp.h"

#define UPNP_DISCOVER_MS	1000
#define UPNP_ONLY_PERMANENT	725	/* OnlyPermanentLeasesSupported */

static int req_fd[2] = { -1, -1 }, rep_fd[2] = { -1, -1 };
static int busy;	/* requests asked and not answered (loop thread only) */

struct upnp_gw {
	int found;
	struct UPNPUrls urls;
	struct IGDdatas data;
	char lan[64];
};

static int upnp_find(struct upnp_gw *g, char *why, size_t whylen)
{
	struct UPNPDev *devs;
	int err = 0, r;

	if (g->found)
		return 0;
	devs = upnpDiscover(UPNP_DISCOVER_MS, NULL, NULL, 0, 0, 2, &err);
	if (!devs) {
		snprintf(why, whylen, "no UPnP gateway answered discovery");
		return -ENOENT;
	}
	r = UPNP_GetValidIGD(devs, &g->urls, &g->data, g->lan, sizeof(g->lan));
	freeUPNPDevlist(devs);
	/* 1: a connected IGD; 2: one that says it is not connected, which
	 * routers behind another NAT often do (the external address asked
	 * next decides); 3: a UPnP device that is no IGD. */
	if (r != 1 && r != 2) {
		if (r)
			FreeUPNPUrls(&g->urls);
		snprintf(why, whylen, "%s", r ? "the UPnP device is not an Internet gateway" : "no Internet gateway device");
		return -ENOENT;
	}
	g->found = 1;
	return 0;
}

static void upnp_forget(struct upnp_gw *g)
{
	if (g->found)
		FreeUPNPUrls(&g->urls);
	g->found = 0;
}

static void upnp_map(struct upnp_gw *g, const struct upnp_req *q, struct upnp_reply *a)
{
	char ip[40] = "", ext[8], in[8], lease[16];
	int r;

	if ((a->rc = upnp_find(g, a->why, sizeof(a->why))) < 0)
		return;
	r = UPNP_GetExternalIPAddress(g->urls.controlURL, g->data.first.servicetype, ip);
	if (r != UPNPCOMMAND_SUCCESS || inet_pton(AF_INET, ip, a->ext) != 1) {
		snprintf(a->why, sizeof(a->why), "no external IPv4 address from the gateway (%s)", strupnperror(r));
		goto fail;
	}
	snprintf(ext, sizeof(ext), "%u", q->ext_port);
	snprintf(in, sizeof(in), "%u", q->port);
	snprintf(lease, sizeof(lease), "%u", q->lifetime);
	a->lifetime = q->lifetime;
	r = UPNP_AddPortMapping(g->urls.controlURL, g->data.first.servicetype, ext, in, g->lan, "q2q", "UDP",
	    NULL, lease);
	if (r == UPNP_ONLY_PERMANENT) {
		a->lifetime = 0;
		r = UPNP_AddPortMapping(g->urls.controlURL, g->data.first.servicetype, ext, in, g->lan, "q2q",
		    "UDP", NULL, "0");
	}
	if (r != UPNPCOMMAND_SUCCESS) {
		snprintf(a->why, sizeof(a->why), "AddPortMapping: %s (%d)", strupnperror(r), r);
		a->rc = -EPERM;
		return;
	}
	a->ext_port = q->ext_port;
	a->rc = 0;
	return;
fail:
	a->rc = -EIO;
	upnp_forget(g);
}

static void upnp_delete(struct upnp_gw *g, const struct upnp_req *q, struct upnp_reply *a)
{
	char ext[8];
	int r;

	if ((a->rc = upnp_find(g, a->why, sizeof(a->why))) < 0)
		return;
	snprintf(ext, sizeof(ext), "%u", q->ext_port);
	r = UPNP_DeletePortMapping(g->urls.controlURL, g->data.first.servicetype, ext, "UDP", NULL);
	a->rc = r == UPNPCOMMAND_SUCCESS ? 0 : -EIO;
	if (a->rc)
		snprintf(a->why, sizeof(a->why), "DeletePortMapping: %s (%d)", strupnperror(r), r);
}

static pthread_barrier_t started;

static void *upnp_thread(void *arg)
{
	struct upnp_gw g = { 0 };
	struct upnp_req q;
	struct upnp_reply a;

	/* Past the C library's own start-up calls of a new thread, which the
	 * sandbox would not allow. */
	pthread_barrier_wait(&started);

	while (read(req_fd[0], &q, sizeof(q)) == (ssize_t)sizeof(q)) {
		memset(&a, 0, sizeof(a));
		a.id = q.id;
		a.op = q.op;
		if (q.op == UPNP_MAP)
			upnp_map(&g, &q, &a);
		else
			upnp_delete(&g, &q, &a);
		if (write(rep_fd[1], &a, sizeof(a)) != (ssize_t)sizeof(a))
			break;
	}
	upnp_forget(&g);
	return NULL;
}

int upnp_worker_start(void)
{
	pthread_t t;
	int rc;

	if (req_fd[0] >= 0)
		return 0;
	/* Requests: the loop's end never blocks (a full queue is refused);
	 * answers: read by the loop without blocking. */
	if (pipe2(req_fd, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(rep_fd, O_CLOEXEC | O_NONBLOCK) < 0 || fcntl(req_fd[1], F_SETFL, O_NONBLOCK) < 0) {
		rc = -errno;
		goto fail;
	}
	if ((rc = -pthread_barrier_init(&started, NULL, 2)) < 0)
		goto fail;
	if ((rc = -pthread_create(&t, NULL, upnp_thread, NULL)) < 0) {
		pthread_barrier_destroy(&started);
		goto fail;
	}
	/* Returns only once the thread runs: the sandbox comes next. */
	pthread_barrier_wait(&started);
	pthread_detach(t);
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		if (req_fd[i] >= 0)
			close(req_fd[i]);
		if (rep_fd[i] >= 0)
			close(rep_fd[i]);
		req_fd[i] = rep_fd[i] = -1;
	}
	return rc;
}

int upnp_worker_fd(void)
{
	return rep_fd[0];
}

int upnp_worker_ask(const struct upnp_req *r)
{
	if (req_fd[1] < 0)
		return -ENOTCONN;
	if (write(req_fd[1], r, sizeof(*r)) != (ssize_t)sizeof(*r))
		return -EAGAIN;
	busy++;
	return 0;
}

int upnp_worker_read(struct upnp_reply *r)
{
	if (rep_fd[0] < 0 || read(rep_fd[0], r, sizeof(*r)) != (ssize_t)sizeof(*r))
		return -EAGAIN;
	if (busy > 0)
		busy--;
	r->why[sizeof(r->why) - 1] = '\0';
	return 0;
}

void upnp_worker_drain(int ms)
{
	struct pollfd p = { .fd = rep_fd[0], .events = POLLIN };
	struct upnp_reply r;

	while (busy > 0 && rep_fd[0] >= 0 && poll(&p, 1, ms) > 0)
		(void)upnp_worker_read(&r);
}
