/*
 * The daemon's single-threaded event loop: epoll for descriptors, a small
 * list of one-shot timers, and signalfd for signals, so handlers never run
 * in signal context.
 */
#ifndef Q2Q_LOOP_H
#define Q2Q_LOOP_H

#include <stdint.h>

struct loop;

/* Embed in the object that owns the descriptor; fn gets epoll events. */
struct loop_io {
	void (*fn)(struct loop_io *io, uint32_t events);
	int fd;
};

/* A one-shot timer; re-arm from its callback to repeat. */
struct loop_timer {
	void (*fn)(struct loop_timer *t);
	uint64_t deadline;	/* loop_now_ms() clock; 0 = not armed */
	struct loop_timer *next;
};

int loop_init(struct loop **out);
void loop_free(struct loop *l);

int loop_add(struct loop *l, struct loop_io *io, uint32_t events);
int loop_mod(struct loop *l, struct loop_io *io, uint32_t events);
void loop_del(struct loop *l, struct loop_io *io);

void loop_timer_arm(struct loop *l, struct loop_timer *t, uint64_t deadline);
void loop_timer_cancel(struct loop *l, struct loop_timer *t);

/* Runs fn(arg) after the current batch of events, when no callback is on
 * the stack: the safe place to free an object an event is about. */
int loop_defer(struct loop *l, void (*fn)(void *arg), void *arg);

/* Monotonic milliseconds: inside an event or timer handler, the time the
 * loop read just before calling it (the same value for the whole handler);
 * elsewhere, the clock now. */
uint64_t loop_now_ms(void);

/* Runs until loop_stop; signal handling is the caller's (signalfd io). */
int loop_run(struct loop *l);
void loop_stop(struct loop *l);

#endif
