/*
 * The minute's trim of memtrim.h. wc_ecc_fp_free drops the tables of the
 * calling thread only (wolfSSL keeps them thread-local here), which is the
 * loop's; malloc_trim then returns whole free pages, wherever they sit in
 * the heap, not only its top.
 */
#include <malloc.h>
#include <stddef.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/ecc.h>

#include "tund/base/memtrim.h"

void memtrim_now(void)
{
	wc_ecc_fp_free();
	malloc_trim(0);
}

static void memtrim_fire(struct loop_timer *t)
{
	struct memtrim *m = (struct memtrim *)((char *)t - offsetof(struct memtrim, t));

	memtrim_now();
	loop_timer_arm(m->loop, &m->t, loop_now_ms() + MEMTRIM_MS);
}

void memtrim_start(struct loop *l, struct memtrim *m)
{
	m->loop = l;
	m->t.fn = memtrim_fire;
	loop_timer_arm(l, &m->t, loop_now_ms() + MEMTRIM_MS);
}

void memtrim_stop(struct memtrim *m)
{
	if (m->loop)
		loop_timer_cancel(m->loop, &m->t);
}
