/*
 * One exchange over the names socket (nss/client.h). Everything is
 * non-blocking and bounded by one deadline on the monotonic clock: a
 * program's host lookup must not hang because q2qd does.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "nss/client.h"

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for events on fd until the deadline: 0, or -ETIMEDOUT / -errno. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };

	for (;;) {
		int64_t left = deadline - mono_ms();
		int n;

		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&p, 1, (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ETIMEDOUT;
		return 0;
	}
}

int names_client_ask(const char *path, const struct names_req *req, struct names_reply *rep,
    int timeout_ms)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	uint8_t buf[NAMES_MSG_MAX + 1];
	int64_t deadline = mono_ms() + timeout_ms;
	size_t len;
	ssize_t n;
	int fd = -1, rc;

	len = names_req_encode(req, buf, sizeof(buf));
	if (!len || strlen(path) >= sizeof(sun.sun_path))
		return -EINVAL;
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* A Unix socket connects at once or not at all (EAGAIN: its backlog
	 * is full, which is q2qd being too busy). */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		rc = errno == EAGAIN ? -ETIMEDOUT : -errno;
		goto out;
	}
	for (;;) {
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n >= 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN) {
			rc = -errno;
			goto out;
		}
		if ((rc = wait_fd(fd, POLLOUT, deadline)) < 0)
			goto out;
	}
	if ((size_t)n != len) {
		rc = -EIO;
		goto out;
	}
	for (;;) {
		if ((rc = wait_fd(fd, POLLIN, deadline)) < 0)
			goto out;
		/* One byte more than any valid reply: a longer message shows as
		 * truncated instead of passing as a shorter one. */
		n = recv(fd, buf, sizeof(buf), MSG_TRUNC);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		break;
	}
	if (n < 0) {
		rc = -errno;
		goto out;
	}
	if (n == 0 || (size_t)n > NAMES_MSG_MAX) {
		rc = -EBADMSG;
		goto out;
	}
	rc = names_reply_decode(buf, (size_t)n, req, rep, NULL, 0);
out:
	close(fd);
	return rc;
}
