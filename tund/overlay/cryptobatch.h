/*
 * A batch of DATA datagrams to seal or to open in place (cryptobatch.c),
 * run across the worker pool. The loop thread fills it in order, each
 * job with its session's aead and the counter it already assigned (so
 * nonces are unique, and order fixed, before any thread sees the batch),
 * runs it, and then reads the results in the same order: the replay
 * window, counters and sends stay single-threaded. Pure apart from the
 * pool's threads: unit-tested without root.
 */
#ifndef Q2Q_CRYPTOBATCH_H
#define Q2Q_CRYPTOBATCH_H

#include <stddef.h>
#include <stdint.h>

#include "tund/overlay/workers.h"

struct aead;
struct aead_lane;

#define CRYPTOBATCH_MAX		256
/* Fewer jobs than this stay on the loop thread: the hand-off costs
 * about 8.5 us here (bench/scale_workers), which two threads win back
 * from 1400-byte seals only past ~18 (ChaCha20-Poly1305, 0.9 us each)
 * or ~40 (AES-256-GCM, 0.43 us). A 64 KB TSO super-packet is ~47
 * segments and a full receive round 64 datagrams, so the batches that
 * carry bulk traffic are split either way. */
#define CRYPTOBATCH_SPLIT_MIN	16

/* b[0 .. WIRE_DATA_HDR_LEN) is the header (associated data); sealing
 * takes len plaintext bytes after it and leaves len + tag; opening takes
 * len bytes of ciphertext and tag and leaves rc bytes of plaintext. */
struct cryptobatch_job {
	struct aead *a;
	uint64_t ctr;
	uint8_t *b;
	size_t len;
	int rc;		/* seal: 0 or < 0; open: the plaintext length, or < 0 */
};

struct cryptobatch {
	int open;	/* 1: opens, 0: seals */
	int n;
	int nlanes;	/* threads it has contexts for, the loop thread's included */
	struct aead_lane *lane[WORKERS_MAX];	/* worker i's; [0], the loop thread's, unused */
	struct cryptobatch_job job[CRYPTOBATCH_MAX];
};

/* A batch for a pool of nworkers threads; 0, -EINVAL or -ENOMEM. */
int cryptobatch_init(struct cryptobatch *cb, int open, int nworkers);
void cryptobatch_free(struct cryptobatch *cb);
/* Appends a job; its index, or -ENOSPC when full (run it first). */
int cryptobatch_add(struct cryptobatch *cb, struct aead *a, uint64_t ctr, uint8_t *b, size_t len);
/* Seals or opens every job (w may be NULL: all on the caller); the
 * results are in job[].rc. A seal that fails leaves zeros where the
 * plaintext was, never the plaintext; an open that fails leaves zeros. */
void cryptobatch_run(struct cryptobatch *cb, struct workers *w);

#endif
