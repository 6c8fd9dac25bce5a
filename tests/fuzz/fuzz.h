/*
 * Shared helpers for the libFuzzer targets in tests/fuzz/: a cursor that
 * turns the fuzzer's bytes into operations (reads past the end yield zeros,
 * so every input decodes to something), an invariant check that aborts with
 * a message libFuzzer turns into a crash report, and the seed mode: with
 * Q2Q_FUZZ_SEEDS=dir in the environment a target writes a few valid inputs,
 * built with the library's own builders, into dir and exits instead of
 * fuzzing (tests/fuzz/make-corpus.sh runs every target that way).
 */
#ifndef Q2Q_TESTS_FUZZ_H
#define Q2Q_TESTS_FUZZ_H

#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* An invariant of the code under test: failing it is a finding, not noise. */
#define FZ_CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: invariant failed: %s\n", \
			__FILE__, __LINE__, #cond); \
		abort(); \
	} \
} while (0)

struct fz {
	const uint8_t *p;
	size_t left;
};

static inline void fz_init(struct fz *f, const uint8_t *p, size_t n)
{
	f->p = p;
	f->left = n;
}

static inline uint8_t fz_u8(struct fz *f)
{
	uint8_t v = 0;

	if (f->left) {
		v = f->p[0];
		f->p++;
		f->left--;
	}
	return v;
}

static inline uint16_t fz_u16(struct fz *f)
{
	uint16_t v = fz_u8(f);

	return (uint16_t)(v | fz_u8(f) << 8);
}

static inline uint32_t fz_u32(struct fz *f)
{
	uint32_t v = fz_u16(f);

	return v | (uint32_t)fz_u16(f) << 16;
}

static inline uint64_t fz_u64(struct fz *f)
{
	uint64_t v = fz_u32(f);

	return v | (uint64_t)fz_u32(f) << 32;
}

/* Up to n bytes (fewer at the end of the input); *got says how many. */
static inline const uint8_t *fz_bytes(struct fz *f, size_t n, size_t *got)
{
	const uint8_t *p = f->p;

	if (n > f->left)
		n = f->left;
	f->p += n;
	f->left -= n;
	*got = n;
	return p;
}

/*
 * A heap copy of exactly n bytes, so AddressSanitizer sees any read past a
 * length the code was given even when it came from a larger input.
 */
static inline uint8_t *fz_dup(const uint8_t *p, size_t n)
{
	uint8_t *c = malloc(n ? n : 1);

	if (!c)
		abort();
	if (n)
		memcpy(c, p, n);
	return c;
}

static inline void fz_write_seed(const char *dir, const char *name,
				 const void *p, size_t n)
{
	char path[4096];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "wb");
	if (!fp || fwrite(p, 1, n, fp) != n || fclose(fp) != 0) {
		fprintf(stderr, "seed: cannot write %s\n", path);
		exit(1);
	}
}

/* Call from LLVMFuzzerInitialize: in seed mode, writes the seeds and exits. */
static inline void fz_seed_mode(void (*seeds)(const char *dir))
{
	const char *dir = getenv("Q2Q_FUZZ_SEEDS");

	if (!dir || !*dir)
		return;
	seeds(dir);
	exit(0);
}

#endif
