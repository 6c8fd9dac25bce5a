/*
 * Sealing and opening a batch of DATA datagrams on several threads.
 * libcrypto's contexts are not to be shared between threads, so the
 * loop thread works with each session's own aead and every other thread
 * with its lane, which takes a session's key when its range moves to
 * another session (a few hundred nanoseconds for AES-256-GCM's key
 * schedule and GHASH table, next to nothing for ChaCha20-Poly1305;
 * bench/README.md): cheaper in memory than a context per session per
 * worker, and a batch holds one or two sessions' packets in long runs.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "netstack/aead.h"
#include "netstack/wire.h"
#include "tund/overlay/cryptobatch.h"

int cryptobatch_init(struct cryptobatch *cb, int open, int nworkers)
{
	memset(cb, 0, sizeof(*cb));
	if (nworkers < 1 || nworkers > WORKERS_MAX)
		return -EINVAL;
	cb->open = open;
	cb->nlanes = 1;
	for (int i = 1; i < nworkers; i++) {
		int rc = aead_lane_new(&cb->lane[i]);

		if (rc < 0) {
			cryptobatch_free(cb);
			return rc;
		}
		cb->nlanes = i + 1;
	}
	return 0;
}

void cryptobatch_free(struct cryptobatch *cb)
{
	for (int i = 0; i < WORKERS_MAX; i++)
		aead_lane_free(cb->lane[i]);
	memset(cb, 0, sizeof(*cb));
}

int cryptobatch_add(struct cryptobatch *cb, struct aead *a, uint64_t ctr, uint8_t *b, size_t len)
{
	struct cryptobatch_job *j;

	if (cb->n == CRYPTOBATCH_MAX)
		return -ENOSPC;
	j = &cb->job[cb->n];
	j->a = a;
	j->ctr = ctr;
	j->b = b;
	j->len = len;
	j->rc = -EINPROGRESS;
	return cb->n++;
}

static void cryptobatch_range(void *arg, int worker, size_t lo, size_t hi)
{
	struct cryptobatch *cb = arg;
	struct aead_lane *l = worker ? cb->lane[worker] : NULL;

	for (size_t i = lo; i < hi; i++) {
		struct cryptobatch_job *j = &cb->job[i];
		uint8_t *p = j->b + WIRE_DATA_HDR_LEN;

		if (cb->open)
			j->rc = l ? aead_lane_open(l, j->a, j->ctr, j->b, WIRE_DATA_HDR_LEN, p, j->len, p) :
			    aead_open(j->a, j->ctr, j->b, WIRE_DATA_HDR_LEN, p, j->len, p);
		else
			j->rc = l ? aead_lane_seal(l, j->a, j->ctr, j->b, WIRE_DATA_HDR_LEN, p, j->len, p) :
			    aead_seal(j->a, j->ctr, j->b, WIRE_DATA_HDR_LEN, p, j->len, p);
		/* Whatever failed goes nowhere readable. */
		if (j->rc < 0 && !cb->open)
			memset(p, 0, j->len + AEAD_TAG_LEN);
	}
}

void cryptobatch_run(struct cryptobatch *cb, struct workers *w)
{
	/* A thread without a lane of its own must never touch the
	 * sessions' contexts, which the loop thread uses. */
	size_t min = workers_count(w) > cb->nlanes ? SIZE_MAX : CRYPTOBATCH_SPLIT_MIN;

	workers_run(w, (size_t)cb->n, min, cryptobatch_range, cb);
}
