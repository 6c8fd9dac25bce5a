/*
 * epoll plus a sorted singly linked timer list. The daemon has a handful
 * of timers (handshake retransmits are driven per peer from one timer each),
 * so a list beats a heap in simplicity without costing anything measurable.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "tund/base/loop.h"

struct loop_deferred {
	void (*fn)(void *arg);
	void *arg;
	struct loop_deferred *next;
};

#define LOOP_BATCH 32

struct loop {
	int epfd;
	/* The batch being dispatched: loop_del strikes a removed handler out
	 * of the rest of it, so a callback may free objects that embed other
	 * handlers (overlay_down frees the UDP, TUN and birthday I/O) without
	 * the loop calling into freed memory later in the same batch. */
	struct epoll_event batch[LOOP_BATCH];
	int batch_n, batch_next;
	struct loop_deferred *deferred;
	int stop;
	struct loop_timer *timers;	/* sorted by deadline */
};

static void loop_run_deferred(struct loop *l);

/*
 * The clock as of the event or timer being handled, or 0 outside one. The
 * data path asks for the time several times per packet (send and receive
 * bookkeeping, key age, the firewall's flow table): at 400,000 packets a
 * second those clock_gettime calls were 3-4 % of the engine's CPU. One
 * reading per handler is as good for millisecond timers; a handler that
 * runs long (a TLS handshake, ~3 ms) sees the time it started, and the
 * next handler a fresh reading. Per thread: the data path's workers and
 * the UPnP helper never dispatch, so they always read the clock.
 */
static _Thread_local uint64_t loop_clock;

static uint64_t loop_read_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t loop_now_ms(void)
{
	return loop_clock ? loop_clock : loop_read_clock();
}

int loop_init(struct loop **out)
{
	struct loop *l = calloc(1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		int e = -errno;
		free(l);
		return e;
	}
	*out = l;
	return 0;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	loop_run_deferred(l);
	close(l->epfd);
	free(l);
}

int loop_add(struct loop *l, struct loop_io *io, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = io };

	return epoll_ctl(l->epfd, EPOLL_CTL_ADD, io->fd, &ev) < 0 ? -errno : 0;
}

int loop_mod(struct loop *l, struct loop_io *io, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = io };

	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, io->fd, &ev) < 0 ? -errno : 0;
}

void loop_del(struct loop *l, struct loop_io *io)
{
	/* Even when the descriptor is already closed (epoll forgot it) the
	 * batch may still name it. */
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, io->fd, NULL);
	for (int i = l->batch_next; i < l->batch_n; i++)
		if (l->batch[i].data.ptr == io)
			l->batch[i].data.ptr = NULL;
}

void loop_timer_cancel(struct loop *l, struct loop_timer *t)
{
	struct loop_timer **pp;

	for (pp = &l->timers; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	t->next = NULL;
	t->deadline = 0;
}

void loop_timer_arm(struct loop *l, struct loop_timer *t, uint64_t deadline)
{
	struct loop_timer **pp;

	loop_timer_cancel(l, t);
	t->deadline = deadline ? deadline : 1;
	for (pp = &l->timers; *pp && (*pp)->deadline <= t->deadline; pp = &(*pp)->next)
		;
	t->next = *pp;
	*pp = t;
}

int loop_defer(struct loop *l, void (*fn)(void *arg), void *arg)
{
	struct loop_deferred *d = malloc(sizeof(*d));

	if (!d)
		return -ENOMEM;
	d->fn = fn;
	d->arg = arg;
	d->next = l->deferred;
	l->deferred = d;
	return 0;
}

static void loop_run_deferred(struct loop *l)
{
	while (l->deferred) {
		struct loop_deferred *d = l->deferred;

		l->deferred = d->next;
		d->fn(d->arg);
		free(d);
	}
}

void loop_stop(struct loop *l)
{
	l->stop = 1;
}

static void loop_fire_timers(struct loop *l)
{
	uint64_t now = loop_read_clock();

	while (l->timers && l->timers->deadline <= now) {
		struct loop_timer *t = l->timers;

		l->timers = t->next;
		t->next = NULL;
		t->deadline = 0;
		loop_clock = loop_read_clock();
		t->fn(t);
	}
	loop_clock = 0;
}

int loop_run(struct loop *l)
{
	while (!l->stop) {
		int timeout = -1, n;

		if (l->timers) {
			uint64_t now = loop_read_clock();
			uint64_t d = l->timers->deadline;
			timeout = d <= now ? 0 : (int)(d - now > 60000 ? 60000 : d - now);
		}
		n = epoll_wait(l->epfd, l->batch, LOOP_BATCH, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		l->batch_n = n;
		for (l->batch_next = 0; l->batch_next < n && !l->stop;) {
			struct epoll_event *ev = &l->batch[l->batch_next++];
			struct loop_io *io = ev->data.ptr;

			if (io) {
				loop_clock = loop_read_clock();
				io->fn(io, ev->events);
			}
		}
		loop_clock = 0;
		l->batch_n = l->batch_next = 0;
		loop_run_deferred(l);
		loop_fire_timers(l);
		loop_run_deferred(l);
	}
	return 0;
}
