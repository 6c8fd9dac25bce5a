/*
 * The daemon's names socket (tund/ctl/names.c) on a real event loop, with
 * an overlay that is down: its mode, the answer for a down overlay, bad
 * requests refused with status 2 while it keeps serving, the cap on idle
 * connections and their deadline, and the socket gone after names_close.
 * The client side runs in a thread; the loop in the test's main thread.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "nss/client.h"
#include "nss/wire.h"
#include "tests/unit/harness.h"
#include "tund/base/log.h"
#include "tund/base/loop.h"
#include "tund/ctl/names.h"
#include "tund/daemon.h"

static char path[108];
static struct loop *loop;
static _Atomic int client_done;
/* Results the client thread records, checked in the main thread. */
static int rc_resolve, st_resolve, rc_whois, st_whois, st_garbage, st_huge, st_after;
static int idle_closed_soon, idle_closed_late;

static int raw_ask(const uint8_t *msg, size_t len)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	uint8_t buf[NAMES_MSG_MAX + 1];
	struct timeval tv = { .tv_sec = 2 };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0), st = -1;

	strcpy(sun.sun_path, path);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0 &&
	    send(fd, msg, len, MSG_NOSIGNAL) == (ssize_t)len && recv(fd, buf, sizeof(buf), 0) >= 3)
		st = buf[2];
	close(fd);
	return st;
}

/* How many of the n sockets the server has closed (recv sees EOF). */
static int count_closed(const int *fds, int n)
{
	int i, closed = 0;
	char b;

	for (i = 0; i < n; i++)
		if (fds[i] >= 0 && recv(fds[i], &b, 1, MSG_DONTWAIT) == 0)
			closed++;
	return closed;
}

static void *client_main(void *arg)
{
	struct names_req rq;
	struct names_reply rep;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	static uint8_t huge[NAMES_MSG_MAX + 10];
	int fds[40], i;

	memset(&rq, 0, sizeof(rq));
	rq.op = NAMES_OP_RESOLVE;
	strcpy(rq.name, "bob@example.com");
	/* generous: the loop thread may be slow on a loaded machine */
	rc_resolve = names_client_ask(path, &rq, &rep, 2000);
	st_resolve = rep.status;
	memset(&rq, 0, sizeof(rq));
	rq.op = NAMES_OP_WHOIS;
	rq.addr.family = AF_INET;
	memcpy(rq.addr.a, (const uint8_t[]){ 100, 64, 0, 2 }, 4);
	rc_whois = names_client_ask(path, &rq, &rep, 2000);
	st_whois = rep.status;
	st_garbage = raw_ask((const uint8_t[]){ 1, 3, 0, 2, 'u', 'p' }, 6);
	memset(huge, 'a', sizeof(huge));
	huge[0] = 1;
	huge[1] = 1;
	st_huge = raw_ask(huge, sizeof(huge));

	strcpy(sun.sun_path, path);
	for (i = 0; i < 40; i++) {
		fds[i] = socket(AF_UNIX, SOCK_SEQPACKET, 0);
		if (connect(fds[i], (struct sockaddr *)&sun, sizeof(sun)) < 0) {
			close(fds[i]);
			fds[i] = -1;
		}
	}
	/* Those over the cap go at once, the kept ones at their 1 s deadline:
	 * poll rather than sleep, the loop may be slow on a loaded machine. */
	for (i = 0; i < 80 && count_closed(fds, 40) < 8; i++)
		usleep(10 * 1000);
	idle_closed_soon = count_closed(fds, 40);
	for (i = 0; i < 300 && count_closed(fds, 40) < 40; i++)
		usleep(10 * 1000);
	idle_closed_late = count_closed(fds, 40);
	for (i = 0; i < 40; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	memset(&rq, 0, sizeof(rq));
	rq.op = NAMES_OP_RESOLVE;
	strcpy(rq.name, "bob@example.com");
	st_after = names_client_ask(path, &rq, &rep, 2000) == 0 ? rep.status : -1;
	client_done = 1;
	return NULL;
}

static void stop_when_done(struct loop_timer *t)
{
	if (client_done)
		loop_stop(loop);
	else
		loop_timer_arm(loop, t, loop_now_ms() + 10);
}

static void test_names_socket(void)
{
	static struct daemon d;		/* overlay down, no node needed */
	struct loop_timer t = { .fn = stop_when_done };
	struct names *n = NULL;
	struct stat st;
	pthread_t th;
	char err[256];

	snprintf(path, sizeof(path), "/tmp/q2q-test-names-%d.sock", (int)getpid());
	CHECK_INT(loop_init(&loop), 0);
	CHECK_INT(names_open(loop, path, &d, &n, err, sizeof(err)), 0);
	CHECK_INT(stat(path, &st), 0);
	CHECK(S_ISSOCK(st.st_mode));
	CHECK_INT(st.st_mode & 0777, 0666);
	/* a second daemon on the same socket is refused, naming it */
	{
		struct names *n2 = NULL;

		CHECK_INT(names_open(loop, path, &d, &n2, err, sizeof(err)), -EADDRINUSE);
		CHECK(strstr(err, path) != NULL);
	}
	pthread_create(&th, NULL, client_main, NULL);
	loop_timer_arm(loop, &t, loop_now_ms() + 10);
	loop_run(loop);
	pthread_join(th, NULL);
	CHECK_INT(rc_resolve, 0);
	CHECK_INT(st_resolve, NAMES_UNAVAIL);
	CHECK_INT(rc_whois, 0);
	CHECK_INT(st_whois, NAMES_UNAVAIL);
	CHECK_INT(st_garbage, NAMES_BADREQ);
	CHECK_INT(st_huge, NAMES_BADREQ);
	CHECK_INT(idle_closed_soon, 8);		/* 40 - the 32 kept */
	CHECK_INT(idle_closed_late, 40);	/* the kept ones after 1 s */
	CHECK_INT(st_after, NAMES_UNAVAIL);
	names_close(n);
	CHECK(access(path, F_OK) < 0);
	loop_free(loop);
}

int main(void)
{
	log_init("test", LOG_LVL_ERROR);
	RUN(test_names_socket);
	return HARNESS_END();
}
