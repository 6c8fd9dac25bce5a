/*
 * The Prometheus text format, version 0.0.4: one line per sample, label
 * values in double quotes with backslash, double quote and newline
 * escaped, HELP text with backslash and newline escaped. Identities are
 * validated user@domain names and need no escaping today; the escaping is
 * here so that no future label can break a scraper's parse.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tund/ctl/metrics_text.h"

void metrics_text_init(struct metrics_text *t)
{
	memset(t, 0, sizeof(*t));
}

void metrics_text_free(struct metrics_text *t)
{
	free(t->buf);
	memset(t, 0, sizeof(*t));
}

int metrics_text_failed(const struct metrics_text *t)
{
	return t->failed;
}

/* Room for n more bytes and the NUL, or 0 after marking t failed. */
static int mt_reserve(struct metrics_text *t, size_t n)
{
	size_t cap;
	char *nb;

	if (t->failed)
		return 0;
	if (t->len + n + 1 <= t->cap)
		return 1;
	cap = t->cap ? t->cap : 4096;
	while (cap < t->len + n + 1)
		cap *= 2;
	nb = realloc(t->buf, cap);
	if (!nb) {
		t->failed = 1;
		return 0;
	}
	t->buf = nb;
	t->cap = cap;
	return 1;
}

static void mt_put(struct metrics_text *t, const char *s, size_t n)
{
	if (!mt_reserve(t, n))
		return;
	memcpy(t->buf + t->len, s, n);
	t->len += n;
	t->buf[t->len] = 0;
}

static void mt_puts(struct metrics_text *t, const char *s)
{
	mt_put(t, s, strlen(s));
}

static void mt_printf(struct metrics_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void mt_printf(struct metrics_text *t, const char *fmt, ...)
{
	char b[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(b, sizeof(b), fmt, ap);
	va_end(ap);
	if (n > 0)
		mt_put(t, b, (size_t)n < sizeof(b) ? (size_t)n : sizeof(b) - 1);
}

/* s with backslash and newline escaped, and double quote too in a label
 * value (quote = 1). */
static void mt_escaped(struct metrics_text *t, const char *s, int quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			mt_puts(t, "\\\\");
		else if (*s == '\n')
			mt_puts(t, "\\n");
		else if (quote && *s == '"')
			mt_puts(t, "\\\"");
		else
			mt_put(t, s, 1);
	}
}

void metrics_text_family(struct metrics_text *t, const char *name, const char *type, const char *help)
{
	mt_puts(t, "# HELP ");
	mt_puts(t, name);
	mt_puts(t, " ");
	mt_escaped(t, help, 0);
	mt_puts(t, "\n# TYPE ");
	mt_puts(t, name);
	mt_puts(t, " ");
	mt_puts(t, type);
	mt_puts(t, "\n");
}

static void mt_labels(struct metrics_text *t, const struct metrics_label *l, int n, const char *le)
{
	if (n == 0 && !le)
		return;
	mt_puts(t, "{");
	for (int i = 0; i < n; i++) {
		mt_puts(t, i ? ",": "");
		mt_puts(t, l[i].name);
		mt_puts(t, "=\"");
		mt_escaped(t, l[i].value, 1);
		mt_puts(t, "\"");
	}
	if (le) {
		mt_puts(t, n ? ",le=\"" : "le=\"");
		mt_puts(t, le);
		mt_puts(t, "\"");
	}
	mt_puts(t, "}");
}

void metrics_text_sample(struct metrics_text *t, const char *name, const struct metrics_label *l,
    int n, uint64_t value)
{
	mt_puts(t, name);
	mt_labels(t, l, n, NULL);
	mt_printf(t, " %llu\n", (unsigned long long)value);
}

/* Milliseconds as seconds, exactly: "0.005", "2.5", "3". */
static void mt_seconds(char *b, size_t len, uint64_t ms)
{
	uint64_t frac = ms % 1000;
	int digits = 3;

	if (!frac) {
		snprintf(b, len, "%llu", (unsigned long long)(ms / 1000));
		return;
	}
	while (frac % 10 == 0) {
		frac /= 10;
		digits--;
	}
	snprintf(b, len, "%llu.%0*llu", (unsigned long long)(ms / 1000), digits, (unsigned long long)frac);
}

void metrics_text_histogram_ms(struct metrics_text *t, const char *name, const uint32_t *bounds_ms,
    int n_bounds, const uint64_t *counts, uint64_t sum_ms)
{
	char series[128], le[32];
	uint64_t cum = 0;

	snprintf(series, sizeof(series), "%s_bucket", name);
	for (int i = 0; i < n_bounds; i++) {
		cum += counts[i];
		mt_seconds(le, sizeof(le), bounds_ms[i]);
		mt_puts(t, series);
		mt_labels(t, NULL, 0, le);
		mt_printf(t, " %llu\n", (unsigned long long)cum);
	}
	cum += counts[n_bounds];
	mt_puts(t, series);
	mt_labels(t, NULL, 0, "+Inf");
	mt_printf(t, " %llu\n", (unsigned long long)cum);
	mt_seconds(le, sizeof(le), sum_ms);
	mt_printf(t, "%s_sum %s\n", name, le);
	mt_printf(t, "%s_count %llu\n", name, (unsigned long long)cum);
}
