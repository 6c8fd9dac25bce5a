/*
 * A fork-join pool for the data path's crypto. One batch at a time: the
 * loop thread publishes (fn, arg, n) under the mutex with a new
 * generation number, wakes the threads, does its own range and waits
 * until the last thread has checked in. A futex-backed condition
 * variable, not spinning: on a machine with as many busy threads as
 * cores (iperf3 and both kernels on two vCPUs), a spinning worker takes
 * the core the loop thread needs. workers_new returns only once every
 * thread runs: glibc's thread start makes calls (set_robust_list, rseq)
 * that the sandbox, installed right after, would kill the process for.
 * The threads block every signal but their own faults, so the loop's
 * signalfd sees them all, and touch nothing but their range of the batch
 * they were handed: a run ends before workers_run returns, so no thread
 * can hold an overlay (or its sessions) that `down` frees.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tund/overlay/workers.h"

struct workers;

struct workers_thread {
	struct workers *w;
	int idx;
	pthread_t t;
};

struct workers {
	int n, started;
	pthread_mutex_t mu;
	pthread_cond_t go, done;
	uint64_t gen;		/* one per run */
	int pending;		/* threads still in the current run */
	int running;		/* threads that reached workers_main */
	int stop;
	workers_fn *fn;
	void *arg;
	size_t items;
	uint64_t count[WORKERS_MAX];	/* written by each thread for itself */
	struct workers_thread th[WORKERS_MAX];
};

/* One CPU is left to the kernel's network stack and the applications
 * the tunnel carries: on two vCPUs a second data-path thread took the
 * core they needed, and one thread carried more (bench/README.md). */
int workers_auto(long cpus)
{
	if (cpus <= 2)
		return 1;
	return cpus - 1 < WORKERS_MAX ? (int)cpus - 1 : WORKERS_MAX;
}

int workers_wanted(int n)
{
	if (n <= 0)
		return workers_auto(sysconf(_SC_NPROCESSORS_ONLN));
	return n < WORKERS_MAX ? n : WORKERS_MAX;
}

void workers_split(size_t n, int nw, int i, size_t *lo, size_t *hi)
{
	size_t q, r;

	if (nw < 1 || i < 0 || i >= nw) {
		*lo = *hi = 0;
		return;
	}
	q = n / (size_t)nw;
	r = n % (size_t)nw;
	/* The first r ranges get one item more. */
	*lo = (size_t)i * q + ((size_t)i < r ? (size_t)i : r);
	*hi = *lo + q + ((size_t)i < r ? 1 : 0);
}

static void workers_do(struct workers *w, int i, workers_fn *fn, void *arg, size_t n)
{
	size_t lo, hi;

	workers_split(n, w->n, i, &lo, &hi);
	if (hi > lo)
		fn(arg, i, lo, hi);
	__atomic_add_fetch(&w->count[i], hi - lo, __ATOMIC_RELAXED);
}

static void *workers_main(void *p)
{
	struct workers_thread *th = p;
	struct workers *w = th->w;
	uint64_t seen = 0;

	pthread_mutex_lock(&w->mu);
	w->running++;
	pthread_cond_signal(&w->done);
	for (;;) {
		workers_fn *fn;
		void *arg;
		size_t n;

		while (w->gen == seen && !w->stop)
			pthread_cond_wait(&w->go, &w->mu);
		if (w->stop)
			break;
		seen = w->gen;
		fn = w->fn;
		arg = w->arg;
		n = w->items;
		pthread_mutex_unlock(&w->mu);
		workers_do(w, th->idx, fn, arg, n);
		pthread_mutex_lock(&w->mu);
		if (--w->pending == 0)
			pthread_cond_signal(&w->done);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int workers_new(int n, struct workers **out)
{
	struct workers *w;
	sigset_t all, old;
	int rc = 0;

	*out = NULL;
	if (n < 1 || n > WORKERS_MAX)
		return -EINVAL;
	if (!(w = calloc(1, sizeof(*w))))
		return -ENOMEM;
	w->n = n;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->go, NULL);
	pthread_cond_init(&w->done, NULL);
	/* New threads inherit the mask: signals stay the loop thread's. A
	 * thread's own faults stay open, so the sandbox's SIGSYS handler
	 * can name a forbidden call (a blocked SIGSYS kills silently). */
	sigfillset(&all);
	sigdelset(&all, SIGSYS);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGILL);
	sigdelset(&all, SIGFPE);
	sigdelset(&all, SIGABRT);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (int i = 1; i < n; i++) {
		char name[24];	/* "q2qd-dp7" at most: i < WORKERS_MAX */

		w->th[i].w = w;
		w->th[i].idx = i;
		if ((rc = pthread_create(&w->th[i].t, NULL, workers_main, &w->th[i])) != 0)
			break;
		w->started = i;
		/* From here, not in the thread: it writes /proc, which the
		 * sandbox may have closed by the time the thread runs. */
		snprintf(name, sizeof(name), "q2qd-dp%d", i);
		pthread_setname_np(w->th[i].t, name);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	/* A thread's first moments in glibc make calls the sandbox forbids
	 * (set_robust_list, rseq): all must be past them before it closes. */
	pthread_mutex_lock(&w->mu);
	while (w->running < w->started)
		pthread_cond_wait(&w->done, &w->mu);
	pthread_mutex_unlock(&w->mu);
	if (rc != 0) {
		workers_free(w);
		return -rc;
	}
	*out = w;
	return 0;
}

void workers_free(struct workers *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = 1;
	pthread_cond_broadcast(&w->go);
	pthread_mutex_unlock(&w->mu);
	for (int i = 1; i <= w->started; i++)
		pthread_join(w->th[i].t, NULL);
	pthread_cond_destroy(&w->go);
	pthread_cond_destroy(&w->done);
	pthread_mutex_destroy(&w->mu);
	free(w);
}

int workers_count(const struct workers *w)
{
	return w ? w->n : 1;
}

uint64_t workers_items(const struct workers *w, int i)
{
	if (!w || i < 0 || i >= w->n)
		return 0;
	return __atomic_load_n(&w->count[i], __ATOMIC_RELAXED);
}

void workers_run(struct workers *w, size_t n, size_t min_split, workers_fn *fn, void *arg)
{
	if (!n)
		return;
	if (!w || w->n == 1 || n < min_split || n < (size_t)w->n) {
		/* Too few to pay for waking a thread. */
		fn(arg, 0, 0, n);
		if (w)
			__atomic_add_fetch(&w->count[0], n, __ATOMIC_RELAXED);
		return;
	}
	pthread_mutex_lock(&w->mu);
	w->fn = fn;
	w->arg = arg;
	w->items = n;
	w->pending = w->n - 1;
	w->gen++;
	pthread_cond_broadcast(&w->go);
	pthread_mutex_unlock(&w->mu);
	workers_do(w, 0, fn, arg, n);
	pthread_mutex_lock(&w->mu);
	while (w->pending)
		pthread_cond_wait(&w->done, &w->mu);
	pthread_mutex_unlock(&w->mu);
}
