/*
 * What the data path's worker threads cost and gain (bench/README.md,
 * "workers"): the key setup a lane does when its range moves to another
 * session (sealing with two aeads in turn against one aead, so the
 * difference is the key schedule), and the time per batch of 1400-byte
 * AES-256-GCM and ChaCha20-Poly1305 seals on the loop thread alone and
 * split across a pool of THREADS (default 2), the variants alternating
 * batch by batch so the machine's load falls on both alike. Wall-clock
 * per batch, median of ROUNDS; figures only, exit 0.
 *
 *   bench/scale_workers [THREADS [ROUNDS]]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "netstack/aead.h"
#include "netstack/wire.h"
#include "tund/overlay/cryptobatch.h"
#include "tund/overlay/workers.h"

#define PKT	1400
#define SLOT	(WIRE_DATA_HDR_LEN + PKT + AEAD_TAG_LEN)

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_d);
	return v[n / 2];
}

/* ns per seal through a lane: with one key throughout, and with two
 * keys in turn (a key setup before every seal); the two alternate
 * round by round, medians of the rounds. */
static void key_setup(enum aead_cipher c, int rounds)
{
	static uint8_t buf[SLOT];
	struct aead *a[2];
	struct aead_lane *l;
	uint8_t key[AEAD_KEY_LEN];
	double *same = calloc((size_t)rounds, sizeof(double)), *swap = calloc((size_t)rounds, sizeof(double));
	double ms, mw;
	const int n = 200;

	for (int k = 0; k < 2; k++) {
		memset(key, k + 1, sizeof(key));
		aead_new(c, key, &a[k]);
	}
	aead_lane_new(&l);
	for (int r = 0; r < rounds; r++) {
		for (int v = 0; v < 2; v++) {
			double t0 = now_ns();

			for (int i = 0; i < n; i++)
				aead_lane_seal(l, a[v ? i & 1 : 0], (uint64_t)i, buf, WIRE_DATA_HDR_LEN,
				    buf + WIRE_DATA_HDR_LEN, PKT, buf + WIRE_DATA_HDR_LEN);
			(v ? swap : same)[r] = (now_ns() - t0) / n;
		}
	}
	ms = median(same, rounds);
	mw = median(swap, rounds);
	printf("%-18s seal of %d bytes %6.0f ns; with a key setup before each %6.0f ns: key setup %5.0f ns\n",
	    aead_cipher_name(c), PKT, ms, mw, mw - ms);
	aead_lane_free(l);
	aead_free(a[0]);
	aead_free(a[1]);
	free(same);
	free(swap);
}

static void batches(enum aead_cipher c, struct workers *w, int rounds)
{
	static const int sizes[] = { 1, 2, 4, 8, 12, 16, 24, 32, 48, 64 };
	static uint8_t slot[CRYPTOBATCH_MAX][SLOT];
	struct cryptobatch *cb = calloc(1, sizeof(*cb));
	double *one = calloc((size_t)rounds, sizeof(double)), *split = calloc((size_t)rounds, sizeof(double));
	uint8_t key[AEAD_KEY_LEN] = { 7 };
	struct aead *a;
	uint64_t ctr = 0;

	aead_new(c, key, &a);
	cryptobatch_init(cb, 0, workers_count(w));
	printf("%s, per batch of 1400-byte seals (ns; median of %d): loop thread alone | %d threads\n",
	    aead_cipher_name(c), rounds, workers_count(w));
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		int n = sizes[s];

		for (int r = 0; r < rounds; r++) {
			for (int v = 0; v < 2; v++) {
				double t0;

				cb->n = 0;
				for (int i = 0; i < n; i++)
					cryptobatch_add(cb, a, ctr++, slot[i], PKT);
				t0 = now_ns();
				if (v == 0)
					cryptobatch_run(cb, NULL);
				else
					cryptobatch_run(cb, w);
				(v == 0 ? one : split)[r] = now_ns() - t0;
			}
		}
		printf("  %3d packets: %8.0f | %8.0f  (%.2fx)\n", n, median(one, rounds), median(split, rounds),
		    median(one, rounds) / median(split, rounds));
	}
	cryptobatch_free(cb);
	aead_free(a);
	free(cb);
	free(one);
	free(split);
}

int main(int argc, char **argv)
{
	int threads = argc > 1 ? atoi(argv[1]) : 2, rounds = argc > 2 ? atoi(argv[2]) : 2001;
	struct workers *w;
	double la[3] = { 0 };
	FILE *f = fopen("/proc/loadavg", "r");

	if (f) {
		if (fscanf(f, "%lf %lf %lf", &la[0], &la[1], &la[2]) != 3)
			la[0] = -1;
		fclose(f);
	}
	printf("load average %.2f %.2f %.2f\n", la[0], la[1], la[2]);
	if (aead_init() < 0 || workers_new(threads, &w) < 0)
		return 1;
	key_setup(AEAD_AES256_GCM, 501);
	key_setup(AEAD_CHACHA20_POLY1305, 501);
	batches(AEAD_AES256_GCM, w, rounds);
	batches(AEAD_CHACHA20_POLY1305, w, rounds);
	workers_free(w);
	return 0;
}
