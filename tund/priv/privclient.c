/*
 * Requests from the engine to the privileged part. A reply is trusted only
 * as far as its decoder allows: it must be one well-formed REPLY, and a
 * descriptor is accepted only beside a successful TUN_OPEN reply (any
 * other passed descriptor is closed).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tund/priv/privclient.h"
#include "tund/priv/privmsg.h"

#define REPLY_TIMEOUT_MS 5000

static int priv_fd = -1;

void privclient_init(int fd)
{
	priv_fd = fd;
}

/* Receives one message from the privileged part into *m (with a passed
 * descriptor in *fd, or -1). A SIGNAL is acted on here: raised to
 * ourselves, so the event loop's signalfd handles it as if sent directly.
 * 0, -EPIPE when the privileged part is gone, or -errno. */
static int receive(struct privmsg *m, int *fd)
{
	uint8_t buf[PRIVMSG_MAX + 1];
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr mh;
	struct cmsghdr *c;
	int n, rc;

	*fd = -1;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	n = (int)recvmsg(priv_fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -EPIPE;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len == CMSG_LEN(sizeof(int)) && *fd < 0)
			memcpy(fd, CMSG_DATA(c), sizeof(int));
	rc = privmsg_decode(buf, (size_t)n, m);
	if (rc == 0 && (mh.msg_flags & MSG_CTRUNC))
		rc = -EBADMSG;
	if (rc == 0 && m->type == PRIV_SIGNAL)
		raise(m->flag);
	if (rc < 0 || m->type != PRIV_REPLY) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
	}
	return rc;
}

int privclient_handle(void)
{
	struct privmsg m;
	int fd, rc = receive(&m, &fd);

	if (fd >= 0)	/* a reply nobody waits for */
		close(fd);
	return rc == -EAGAIN || rc == -EINTR || rc == -EBADMSG ? 0 : rc;
}

/* One exchange; *fd (if not NULL) gets a passed descriptor or -1. */
static int exchange(const struct privmsg *req, struct privmsg *rep, int *fd)
{
	uint8_t buf[PRIVMSG_MAX];
	struct pollfd pf = { .fd = priv_fd, .events = POLLIN };
	int n, got = -1, rc;

	if (fd)
		*fd = -1;
	if (priv_fd < 0)
		return -ENOTCONN;
	if ((n = privmsg_encode(req, buf, sizeof(buf))) < 0)
		return n;
	if (send(priv_fd, buf, (size_t)n, MSG_NOSIGNAL) < 0)
		return -errno;
	for (;;) {
		do {
			rc = poll(&pf, 1, REPLY_TIMEOUT_MS);
		} while (rc < 0 && errno == EINTR);
		if (rc == 0)
			return -ETIMEDOUT;
		if (rc < 0)
			return -errno;
		rc = receive(rep, &got);
		if (rc == -EAGAIN || rc == -EINTR)
			continue;
		if (rc < 0)
			return rc;
		if (rep->type == PRIV_REPLY)
			break;
		/* a SIGNAL crossed our request: acted on; the reply follows */
	}
	if (rep->rc == 0 && fd && got >= 0) {
		*fd = got;
		got = -1;
	}
	if (got >= 0)
		close(got);
	return rep->rc;
}

int privclient_tun_open(const char *ifname, int offload, char actual[IFNAMSIZ], int *ifindex, int *fd)
{
	struct privmsg req = { .type = PRIV_TUN_OPEN, .flag = offload ? 1 : 0 }, rep;
	int rc;

	if (strlen(ifname) >= sizeof(req.ifname))
		return -EINVAL;
	memcpy(req.ifname, ifname, strlen(ifname));
	if ((rc = exchange(&req, &rep, fd)) < 0)
		return rc;
	if (*fd < 0)
		return -EBADMSG;
	/* The descriptor is ours now; make sure it is what the loop expects. */
	if (fcntl(*fd, F_SETFL, O_RDWR | O_NONBLOCK) < 0)
		return -errno;
	memcpy(actual, rep.ifname, IFNAMSIZ);
	actual[IFNAMSIZ - 1] = 0;
	*ifindex = rep.ifindex;
	return 0;
}

int privclient_link_set(int up, int mtu)
{
	struct privmsg req = { .type = PRIV_LINK_SET, .flag = up ? 1 : 0, .mtu = (uint32_t)mtu }, rep;

	return exchange(&req, &rep, NULL);
}

static int pfx_req(uint16_t type, int family, const uint8_t *addr, uint8_t plen)
{
	struct privmsg req = { .type = type, .family = (uint8_t)family, .plen = plen }, rep;

	memcpy(req.addr, addr, family == AF_INET ? 4 : 16);
	return exchange(&req, &rep, NULL);
}

int privclient_addr_add(int family, const uint8_t *addr, uint8_t plen)
{
	return pfx_req(PRIV_ADDR_ADD, family, addr, plen);
}

int privclient_route_add(int family, const uint8_t *dst, uint8_t plen)
{
	return pfx_req(PRIV_ROUTE_ADD, family, dst, plen);
}

int privclient_route_del(int family, const uint8_t *dst, uint8_t plen)
{
	return pfx_req(PRIV_ROUTE_DEL, family, dst, plen);
}

int privclient_route_throw(int family, const uint8_t *dst, uint8_t plen)
{
	return pfx_req(PRIV_ROUTE_THROW, family, dst, plen);
}

int privclient_rules(int on, int port, int *exempt)
{
	struct privmsg req = { .type = PRIV_RULES, .flag = on ? 1 : 0, .port = on ? (uint16_t)port : 0 }, rep;
	int rc = exchange(&req, &rep, NULL);

	if (exempt)
		*exempt = rc == 0 && rep.flag;
	return rc;
}

int privclient_exit(int on)
{
	struct privmsg req = { .type = PRIV_EXIT, .flag = on ? 1 : 0 }, rep;

	return exchange(&req, &rep, NULL);
}

int privclient_notify(int what)
{
	struct privmsg req = { .type = PRIV_NOTIFY, .flag = (uint8_t)what }, rep;

	if (what < PRIV_NOTIFY_READY || what > PRIV_NOTIFY_STOPPING)
		return -EINVAL;
	return exchange(&req, &rep, NULL);
}
