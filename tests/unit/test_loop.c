/* The event loop (tund/base/loop.c): a handler that removes another
 * handler whose descriptor is ready in the same epoll batch (as `q2qctl
 * down` removes and frees the overlay's UDP, TUN and birthday I/O while
 * their events wait) must not have the removed one dispatched; and the
 * clock handlers see. */
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "tests/unit/harness.h"
#include "tund/base/loop.h"

struct victim {
	struct loop_io io;
	int removed;
	int calls_after_removal;
};

struct killer {
	struct loop_io io;
	struct loop *l;
	struct victim *v;
	int n_v;
	int calls;
};

static struct loop *stop_loop;

static void victim_fn(struct loop_io *io, uint32_t events)
{
	struct victim *v = (struct victim *)io;
	char b;

	if (v->removed)
		v->calls_after_removal++;
	else
		(void)!read(io->fd, &b, 1);
}

/* Removes every victim; they stay allocated, so a wrong dispatch shows as
 * a counted call rather than a crash. */
static void killer_fn(struct loop_io *io, uint32_t events)
{
	struct killer *k = (struct killer *)io;
	char b;

	k->calls++;
	(void)!read(io->fd, &b, 1);
	for (int i = 0; i < k->n_v; i++) {
		loop_del(k->l, &k->v[i].io);
		k->v[i].removed = 1;
	}
}

/* Timers fire after the batch: stops the loop once it is dispatched. */
static void stop_fn(struct loop_timer *t)
{
	loop_stop(stop_loop);
}

static int ready_pipe(int *rd)
{
	int p[2];

	if (pipe(p) < 0)
		return -1;
	(void)!write(p[1], "x", 1);
	close(p[1]);
	*rd = p[0];
	return 0;
}

static void test_removed_handler_not_dispatched(void)
{
	struct loop *l = NULL;
	struct victim v[4] = { 0 };
	struct killer k = { .io.fn = killer_fn, .v = v, .n_v = 4 };
	struct loop_timer stop = { .fn = stop_fn };
	int after = 0;

	CHECK_INT(loop_init(&l), 0);
	if (!l)
		return;
	k.l = stop_loop = l;
	/* epoll lists descriptors ready when added in the order of adding:
	 * the killer comes first, all victims after it in the batch. */
	CHECK_INT(ready_pipe(&k.io.fd), 0);
	CHECK_INT(loop_add(l, &k.io, EPOLLIN), 0);
	for (int i = 0; i < 4; i++) {
		v[i].io.fn = victim_fn;
		CHECK_INT(ready_pipe(&v[i].io.fd), 0);
		CHECK_INT(loop_add(l, &v[i].io, EPOLLIN), 0);
	}
	loop_timer_arm(l, &stop, loop_now_ms());
	CHECK_INT(loop_run(l), 0);
	CHECK_INT(k.calls, 1);
	for (int i = 0; i < 4; i++) {
		CHECK_INT(v[i].removed, 1);
		after += v[i].calls_after_removal;
		close(v[i].io.fd);
	}
	CHECK_INT(after, 0);
	loop_del(l, &k.io);
	close(k.io.fd);
	loop_free(l);
}

/* The clock a handler sees: read once before it, the same for all of it,
 * read again for the next one; outside handlers and on other threads the
 * clock itself. */
struct clocked {
	struct loop_io io;
	struct loop *l;
	uint64_t first, after_sleep, outside_before;
	int calls;
};

static void clocked_fn(struct loop_io *io, uint32_t events)
{
	struct clocked *c = (struct clocked *)io;
	struct timespec nap = { 0, 30 * 1000000 };
	char b;

	(void)!read(io->fd, &b, 1);
	c->first = loop_now_ms();
	nanosleep(&nap, NULL);
	c->after_sleep = loop_now_ms();
	c->calls++;
	loop_del(c->l, io);
}

static uint64_t timer_saw;

static void clock_timer_fn(struct loop_timer *t)
{
	timer_saw = loop_now_ms();
	loop_stop(stop_loop);
}

static void test_clock_per_handler(void)
{
	struct loop *l = NULL;
	struct clocked c = { .io.fn = clocked_fn };
	struct loop_timer stop = { .fn = clock_timer_fn };
	struct timespec nap = { 0, 30 * 1000000 };
	uint64_t t0, t1, deadline;

	CHECK_INT(loop_init(&l), 0);
	if (!l)
		return;
	c.l = stop_loop = l;
	CHECK_INT(ready_pipe(&c.io.fd), 0);
	CHECK_INT(loop_add(l, &c.io, EPOLLIN), 0);
	/* Outside a handler the clock moves. */
	t0 = loop_now_ms();
	nanosleep(&nap, NULL);
	t1 = loop_now_ms();
	CHECK(t1 >= t0 + 25);
	deadline = t1 + 50;
	loop_timer_arm(l, &stop, deadline);
	CHECK_INT(loop_run(l), 0);
	CHECK_INT(c.calls, 1);
	CHECK(c.first >= t1);
	CHECK(c.after_sleep == c.first);	/* one reading for the handler */
	CHECK(timer_saw >= deadline);		/* read again for the timer */
	CHECK(timer_saw >= c.first + 25);
	/* Back outside: the clock again, not the last handler's reading. */
	nanosleep(&nap, NULL);
	CHECK(loop_now_ms() >= timer_saw + 25);
	close(c.io.fd);
	loop_free(l);
}

int main(void)
{
	RUN(test_removed_handler_not_dispatched);
	RUN(test_clock_per_handler);
	return HARNESS_END();
}
