/*
 * The data path's worker threads (workers.c): a fork-join pool. The
 * event-loop thread hands a batch of n independent items to
 * workers_run, which cuts [0, n) into one contiguous range per thread,
 * does the first range itself and returns when every range is done: the
 * items' order and everything stateful stay with the caller. The
 * threads are made once, before the engine's sandbox closes (it forbids
 * making threads), and hold nothing between runs.
 */
#ifndef Q2Q_WORKERS_H
#define Q2Q_WORKERS_H

#include <stddef.h>
#include <stdint.h>

#define WORKERS_MAX	8	/* threads in all, the caller's included */

struct workers;

/* What a thread does with items [lo, hi) of a run; worker 0 is the caller. */
typedef void workers_fn(void *arg, int worker, size_t lo, size_t hi);

/* The number of threads `workers = n` means: n itself (1: the loop
 * thread alone), or for 0 workers_auto of the online CPUs; at most
 * WORKERS_MAX. */
int workers_wanted(int n);
/* For cpus online CPUs: one thread up to two CPUs, else one fewer than
 * the CPUs, at most WORKERS_MAX. */
int workers_auto(long cpus);
/* A pool of n threads in all, n - 1 of them new (n = 1: none). 0 and
 * *out (the caller's; workers_free), -EINVAL or -errno of pthread_create. */
int workers_new(int n, struct workers **out);
/* Stops and joins the threads (none may be in workers_run); NULL is fine. */
void workers_free(struct workers *w);
/* Threads in all; 1 for NULL. */
int workers_count(const struct workers *w);
/* fn over [0, n): split across the threads if n >= min_split, else all
 * on the caller. Returns when every item is done. w may be NULL. */
void workers_run(struct workers *w, size_t n, size_t min_split, workers_fn *fn, void *arg);
/* Items thread i has done since the pool was made. */
uint64_t workers_items(const struct workers *w, int i);

/* Pure: thread i's share [*lo, *hi) of n items over nw threads: ranges
 * in order, disjoint, covering [0, n), sizes differing by at most one. */
void workers_split(size_t n, int nw, int i, size_t *lo, size_t *hi);

#endif
