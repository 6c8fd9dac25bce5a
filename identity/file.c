/*
 * Reading and atomically replacing small files. Keys and trust anchors must
 * never be seen half-written, even after a crash, so writes go to a fresh
 * temporary file beside the target (created with O_EXCL so nobody can have
 * pre-planted it), are fsynced, renamed into place, and the directory entry
 * is fsynced too.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "identity/file.h"

int file_read_all(const char *path, size_t max, uint8_t **buf, size_t *len)
{
	struct stat st;
	uint8_t *b = NULL;
	size_t got = 0;
	int fd, rc = 0;

	*buf = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		rc = -EFBIG;
		goto out;
	}
	b = malloc((size_t)st.st_size + 1);
	if (!b) {
		rc = -ENOMEM;
		goto out;
	}
	/* Read to EOF but never past the size we allocated for. */
	while (got <= (size_t)st.st_size) {
		ssize_t r = read(fd, b + got, (size_t)st.st_size + 1 - got);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			goto out;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	if (got > (size_t)st.st_size) {
		rc = -EFBIG;            /* grew while we read it */
		goto out;
	}
	b[got] = 0;
	*buf = b;
	*len = got;
	b = NULL;
out:
	free(b);
	close(fd);
	return rc;
}

static int fsync_dir_of(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t n;
	int fd, rc = 0;

	if (!slash) {
		strcpy(dir, ".");
	} else {
		n = slash == path ? 1 : (size_t)(slash - path);
		if (n >= sizeof(dir))
			return -ENAMETOOLONG;
		memcpy(dir, path, n);
		dir[n] = '\0';
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0 && errno != EINVAL)
		rc = -errno;
	close(fd);
	return rc;
}

int file_write_atomic(const char *path, const void *buf, size_t len,
		      mode_t mode)
{
	char tmp[PATH_MAX];
	const uint8_t *p = buf;
	size_t done = 0;
	int fd = -1, rc = 0, tries, n;
	struct timespec ts;

	for (tries = 0; tries < 16; tries++) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		n = snprintf(tmp, sizeof(tmp), "%s.tmp-%ld-%lx", path,
			     (long)getpid(), (unsigned long)ts.tv_nsec + (unsigned long)tries);
		if (n < 0 || (size_t)n >= sizeof(tmp))
			return -ENAMETOOLONG;
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
			  mode);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (fd < 0)
		return -errno;
	/* open() applied the umask; the caller asked for an exact mode. */
	if (fchmod(fd, mode) < 0) {
		rc = -errno;
		goto fail;
	}
	while (done < len) {
		ssize_t w = write(fd, p + done, len - done);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			goto fail;
		}
		done += (size_t)w;
	}
	if (fsync(fd) < 0) {
		rc = -errno;
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		rc = -errno;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		rc = -errno;
		goto fail;
	}
	return fsync_dir_of(path);
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return rc;
}

int file_mkdirs(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	char *p;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0)
		return errno == EEXIST ? 0 : -errno;
	return 1;
}
