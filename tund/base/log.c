/*
 * stderr logger. Under systemd, stderr goes to the journal, which stamps
 * time itself, so lines carry a syslog-style <N> priority prefix instead
 * of a timestamp when JOURNAL_STREAM is set; otherwise a plain tag.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tund/base/log.h"

static const char *log_prog = "q2qd";
static int log_level = LOG_LVL_INFO;
static int log_journal;

void log_init(const char *progname, int level)
{
	log_prog = progname;
	log_level = level;
	log_journal = getenv("JOURNAL_STREAM") != NULL;
}

void log_setlevel(int level) { log_level = level; }
int log_getlevel(void) { return log_level; }

static void log_vwrite(int level, const char *fmt, va_list ap, const char *suffix)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	static const int prio[] = { 3, 4, 6, 7 };
	char line[1024];

	if (level > log_level)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	if (log_journal)
		fprintf(stderr, "<%d>%s%s%s\n", prio[level], line,
		    suffix ? ": " : "", suffix ? suffix : "");
	else
		fprintf(stderr, "%s: %s: %s%s%s\n", log_prog, names[level], line,
		    suffix ? ": " : "", suffix ? suffix : "");
}

#define LOG_BODY(level, suffix) do { \
	va_list ap; va_start(ap, fmt); log_vwrite(level, fmt, ap, suffix); va_end(ap); \
} while (0)

void log_warn(const char *fmt, ...)
{
	const char *e = strerror(errno);
	LOG_BODY(LOG_LVL_WARN, e);
}

void log_warnx(const char *fmt, ...) { LOG_BODY(LOG_LVL_WARN, NULL); }
void log_info(const char *fmt, ...) { LOG_BODY(LOG_LVL_INFO, NULL); }
void log_debug(const char *fmt, ...) { LOG_BODY(LOG_LVL_DEBUG, NULL); }

void fatal(const char *fmt, ...)
{
	const char *e = strerror(errno);
	LOG_BODY(LOG_LVL_ERROR, e);
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	LOG_BODY(LOG_LVL_ERROR, NULL);
	exit(1);
}
