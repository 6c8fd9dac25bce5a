/*
 * Logging to stderr (journald picks it up), in the OpenBSD manner:
 * log_warn appends strerror(errno), log_warnx does not; fatal is only for
 * broken invariants. The level can be changed at runtime (reload).
 */
#ifndef Q2Q_LOG_H
#define Q2Q_LOG_H

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

void log_init(const char *progname, int level);
void log_setlevel(int level);
int log_getlevel(void);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
