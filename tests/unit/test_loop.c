/* The event loop (tund/base/loop.c): a handler that removes another
 * handler whose descriptor is ready in the same epoll batch (as `q2qctl
 * down` removes and frees the overlay's UDP, TUN and birthday I/O while
 * their events wait) must not have the removed one dispatched. */
#include <stdlib.h>
#include <sys/epoll.h>
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

int main(void)
{
	RUN(test_removed_handler_not_dispatched);
	return HARNESS_END();
}
