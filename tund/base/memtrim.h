/*
 * Gives back, once a minute, memory the engine holds only because it was
 * busy once: wolfSSL's fixed-point ECC tables (FP_ECC, ~4 MB: of an idle
 * node's ~7 MB of private memory, the largest part; bench/README.md) and
 * the free pages inside malloc's heap. A handshake after that rebuilds the
 * tables it uses (~5 ms of CPU, once: bench/scale_hs cold), so a busy
 * daemon pays about 0.01 % of a core for it and an idle one holds 4 MB
 * less. Runs on the loop's thread, the one that does the handshakes (the
 * tables are per thread).
 */
#ifndef Q2Q_MEMTRIM_H
#define Q2Q_MEMTRIM_H

#include "tund/base/loop.h"

#define MEMTRIM_MS 60000

struct memtrim {
	struct loop_timer t;
	struct loop *loop;
};

void memtrim_start(struct loop *l, struct memtrim *m);
void memtrim_stop(struct memtrim *m);
/* The trim itself, as the timer does it (tests). */
void memtrim_now(void);

#endif
