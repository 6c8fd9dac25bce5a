/*
 * Listening Unix sockets (tund/ctl/unixsock.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "tund/ctl/unixsock.h"

int unixsock_listen(const char *what, const char *path, int type, mode_t mode,
    int backlog, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	mode_t old;
	int fd, rc;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "%s path '%s' is too long", what, path);
		return -ENAMETOOLONG;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", what, strerror(-rc));
		return rc;
	}
	/* A stale socket from a crashed daemon is in the way; a live one is
	 * not ours to take over. */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		snprintf(err, errlen, "another q2qd is already listening on %s", sun.sun_path);
		rc = -EADDRINUSE;
		goto fail;
	}
	unlink(sun.sun_path);
	/* The umask gives the socket its mode as bind creates it, so it is
	 * never more open than MODE, not even for a moment. */
	old = umask(~mode & 0777);
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (rc < 0 || listen(fd, backlog) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s %s: %s", what, sun.sun_path, strerror(-rc));
		unlink(sun.sun_path);
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return rc;
}
