/*
 * Whole-file helpers for keys, certificates and trust-store entries.
 */
#ifndef Q2Q_IDENTITY_FILE_H
#define Q2Q_IDENTITY_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Reads a regular file of at most max bytes into a new buffer (*buf, which
 * the caller frees; one spare NUL byte follows the data). Returns 0,
 * -EFBIG if the file is larger than max, -EINVAL if not a regular file, or
 * another -errno.
 */
int file_read_all(const char *path, size_t max, uint8_t **buf, size_t *len);
/*
 * Replaces path atomically with buf: writes a temporary file in the same
 * directory (O_EXCL, the given mode), fsyncs it, renames it over path and
 * fsyncs the directory. Returns 0 or -errno; on failure path is untouched.
 */
int file_write_atomic(const char *path, const void *buf, size_t len,
		      mode_t mode);

/*
 * mkdir -p: missing parents 0755, path itself with mode. Returns 1 if path
 * was created, 0 if it existed, or -errno (-ENAMETOOLONG past PATH_MAX).
 */
int file_mkdirs(const char *path, mode_t mode);

#endif
