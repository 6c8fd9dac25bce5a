/*
 * Writing the Prometheus text exposition format (version 0.0.4): a
 * growing buffer, family headers (# HELP, # TYPE), samples with labels
 * whose values are escaped, and histograms. Pure: no I/O, so the exact
 * text is unit-tested. The buffer is the caller's (metrics_text_init /
 * metrics_text_free); on running out of memory it stops growing and
 * metrics_text_failed says so.
 */
#ifndef Q2Q_METRICS_TEXT_H
#define Q2Q_METRICS_TEXT_H

#include <stddef.h>
#include <stdint.h>

struct metrics_text {
	char *buf;		/* NUL-terminated once anything is written */
	size_t len, cap;
	int failed;		/* out of memory: the text is incomplete */
};

/* One label: name (a fixed, valid label name) and a value of any bytes. */
struct metrics_label {
	const char *name;
	const char *value;
};

void metrics_text_init(struct metrics_text *t);
void metrics_text_free(struct metrics_text *t);
int metrics_text_failed(const struct metrics_text *t);

/* "# HELP name help" and "# TYPE name type"; type is counter, gauge,
 * histogram, summary or untyped. help is escaped as the format asks. */
void metrics_text_family(struct metrics_text *t, const char *name, const char *type, const char *help);
/* name{l0="v0",...} value, with n labels (0: no braces). */
void metrics_text_sample(struct metrics_text *t, const char *name, const struct metrics_label *l,
    int n, uint64_t value);

/* A histogram's samples: name_bucket{labels,le="b"} for each upper bound
 * bounds_ms[i] (milliseconds, written in seconds) with the cumulative
 * counts made from per-bucket counts[0..n_bounds] (the last one is above
 * every bound), then le="+Inf", name_sum (sum_ms in seconds) and
 * name_count. */
void metrics_text_histogram_ms(struct metrics_text *t, const char *name, const uint32_t *bounds_ms,
    int n_bounds, const uint64_t *counts, uint64_t sum_ms);

#endif
