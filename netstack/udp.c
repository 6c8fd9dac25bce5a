/*
 * UDP sockets and batched datagram I/O with recvmmsg/sendmmsg, plus the
 * strict "ip:port" parsing and printing every other part uses for
 * endpoints. The only netstack file that makes syscalls on sockets.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <netinet/udp.h>

#include "netstack/udp.h"

/* Room for bursts at high packet rates; the kernel caps it at rmem_max. */
#define UDP_SOCKBUF	(4 * 1024 * 1024)

static void set_bufsize(int fd, int opt_force, int opt)
{
	int v = UDP_SOCKBUF;

	/* The FORCE variant passes rmem_max if we hold CAP_NET_ADMIN. */
	if (setsockopt(fd, SOL_SOCKET, opt_force, &v, sizeof(v)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, opt, &v, sizeof(v));
}

/* DF on every datagram, both families, and no fragmenting here either:
 * a datagram too big for a link is lost or refused (EMSGSIZE), never cut,
 * so probes (tund/overlay/pmtu.c) learn what the path carries. PROBE
 * rather than DO: an ICMP "frag needed", which anyone can forge, does not
 * lower what the kernel lets us send; the probes decide. */
static int udp_set_dontfrag(int s)
{
	int probe4 = IP_PMTUDISC_PROBE, probe6 = IPV6_PMTUDISC_PROBE, one = 1;

	if (setsockopt(s, IPPROTO_IP, IP_MTU_DISCOVER, &probe4, sizeof(probe4)) < 0 ||
	    setsockopt(s, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &probe6, sizeof(probe6)) < 0 ||
	    setsockopt(s, IPPROTO_IPV6, IPV6_DONTFRAG, &one, sizeof(one)) < 0)
		return -errno;
	return 0;
}

int udp_open(int port, int *fd)
{
	struct sockaddr_in6 sa;
	int s, off = 0, ret;

	if (port < 0 || port > 65535 || !fd)
		return -EINVAL;
	s = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	if (setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) < 0) {
		ret = -errno;
		goto fail;
	}
	if ((ret = udp_set_dontfrag(s)) < 0)
		goto fail;
	set_bufsize(s, SO_RCVBUFFORCE, SO_RCVBUF);
	set_bufsize(s, SO_SNDBUFFORCE, SO_SNDBUF);
	memset(&sa, 0, sizeof(sa));
	sa.sin6_family = AF_INET6;
	sa.sin6_addr = in6addr_any;
	sa.sin6_port = htons((uint16_t)port);
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		goto fail;
	}
	*fd = s;
	return 0;
fail:
	close(s);
	return ret;
}

int udp_local_port(int fd)
{
	struct sockaddr_in6 sa;
	socklen_t len = sizeof(sa);

	if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		return -errno;
	if (sa.sin6_family != AF_INET6)
		return -EAFNOSUPPORT;
	return ntohs(sa.sin6_port);
}

static void batch_prepare(struct udp_batch *b, int i, size_t len)
{
	b->iov[i].iov_base = b->buf[i];
	b->iov[i].iov_len = len;
	memset(&b->msgs[i], 0, sizeof(b->msgs[i]));
	b->msgs[i].msg_hdr.msg_name = &b->peer[i];
	b->msgs[i].msg_hdr.msg_namelen = sizeof(b->peer[i]);
	b->msgs[i].msg_hdr.msg_iov = &b->iov[i];
	b->msgs[i].msg_hdr.msg_iovlen = 1;
}

int udp_recv_batch(int fd, struct udp_batch *b)
{
	int r, kept = 0;

	b->n = 0;
	for (int i = 0; i < UDP_BATCH_MAX; i++)
		batch_prepare(b, i, UDP_BUF_SIZE);
	do {
		r = recvmmsg(fd, b->msgs, UDP_BATCH_MAX, MSG_DONTWAIT, NULL);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -errno;
	for (int i = 0; i < r; i++) {
		struct msghdr *h = &b->msgs[i].msg_hdr;

		/* A cut datagram would fail authentication anyway: drop it. */
		if ((h->msg_flags & MSG_TRUNC) ||
		    h->msg_namelen != sizeof(struct sockaddr_in6) ||
		    b->peer[i].sin6_family != AF_INET6)
			continue;
		if (kept != i) {
			memcpy(b->buf[kept], b->buf[i], b->msgs[i].msg_len);
			b->peer[kept] = b->peer[i];
		}
		b->len[kept] = b->msgs[i].msg_len;
		kept++;
	}
	b->n = kept;
	return kept;
}

static int per_datagram_error(int err)
{
	/* Errors about one destination or one packet, not the socket. */
	switch (err) {
	case EHOSTUNREACH: case ENETUNREACH: case ENETDOWN: case EHOSTDOWN:
	case ECONNREFUSED: case EMSGSIZE: case EACCES: case EPERM:
	case EINVAL: case EADDRNOTAVAIL: case EAFNOSUPPORT: case ENOPROTOOPT:
		return 1;
	}
	return 0;
}

int udp_send_batch(int fd, struct udp_batch *b, int n)
{
	int done = 0, r;

	if (n < 0 || n > UDP_BATCH_MAX)
		return -EINVAL;
	for (int i = 0; i < n; i++) {
		if (b->len[i] > UDP_BUF_SIZE)
			return -EINVAL;
		batch_prepare(b, i, b->len[i]);
	}
	while (done < n) {
		r = sendmmsg(fd, b->msgs + done, (unsigned)(n - done), 0);
		if (r > 0) {
			done += r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
			      errno == ENOBUFS))
			break;
		if (r < 0 && per_datagram_error(errno)) {
			done++;		/* lose this one, keep going */
			continue;
		}
		if (done == 0)
			return r < 0 ? -errno : -EIO;
		break;
	}
	return done;
}

#define GSO_MAX_SEGS	64
#define GSO_MAX_BYTES	65000

/* Builds message m from entries [i, i+count): one GSO send if count > 1. */
static void gso_prepare(struct udp_batch *b, int m, int i, int count)
{
	struct msghdr *h = &b->msgs[m].msg_hdr;

	memset(&b->msgs[m], 0, sizeof(b->msgs[m]));
	h->msg_name = &b->peer[i];
	h->msg_namelen = sizeof(b->peer[i]);
	h->msg_iov = &b->iov[i];
	h->msg_iovlen = (size_t)count;
	b->gcount[m] = count;
	if (count > 1) {
		struct cmsghdr *c;
		uint16_t seg = (uint16_t)b->len[i];

		h->msg_control = b->gctrl[m];
		h->msg_controllen = sizeof(b->gctrl[m]);
		c = CMSG_FIRSTHDR(h);
		c->cmsg_level = SOL_UDP;
		c->cmsg_type = UDP_SEGMENT;
		c->cmsg_len = CMSG_LEN(sizeof(seg));
		memcpy(CMSG_DATA(c), &seg, sizeof(seg));
	}
}

enum udp_gso_action udp_gso_on_error(int err)
{
	switch (err) {
	case EIO: case EINVAL: case ENOPROTOOPT:
		return UDP_GSO_OFF;
	case EMSGSIZE:
		return UDP_GSO_SPLIT;
	}
	return UDP_GSO_LOSE;
}

/* Sends entries [i, i+count) with one sendmsg each; a datagram the kernel
 * refuses is lost, as in udp_send_batch. How many are done (< count only
 * when the socket buffer is full). */
static int gso_send_each(int fd, struct udp_batch *b, int i, int count)
{
	int k = 0;

	while (k < count) {
		struct msghdr h = {
			.msg_name = &b->peer[i + k], .msg_namelen = sizeof(b->peer[i + k]),
			.msg_iov = &b->iov[i + k], .msg_iovlen = 1,
		};

		if (sendmsg(fd, &h, 0) < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
				break;
		}
		k++;
	}
	return k;
}

int udp_send_batch_gso(int fd, struct udp_batch *b, int n, int *gso)
{
	enum udp_gso_action act;
	int nm = 0, done = 0, m = 0, r;

	if (!*gso)
		return udp_send_batch(fd, b, n);
	if (n < 0 || n > UDP_BATCH_MAX)
		return -EINVAL;
	for (int i = 0; i < n; i++) {
		if (b->len[i] > UDP_BUF_SIZE || b->len[i] == 0)
			return -EINVAL;
		b->iov[i].iov_base = b->buf[i];
		b->iov[i].iov_len = b->len[i];
	}
	/* Group: same peer, same length; a shorter datagram ends a run. */
	for (int i = 0; i < n;) {
		int j = i + 1;
		size_t total = b->len[i];

		while (j < n && j - i < GSO_MAX_SEGS && b->len[j] <= b->len[i] &&
		       total + b->len[j] <= GSO_MAX_BYTES &&
		       udp_addr_equal(&b->peer[j], &b->peer[i]) &&
		       b->peer[j].sin6_port == b->peer[i].sin6_port) {
			total += b->len[j];
			if (b->len[j++] < b->len[i])
				break;
		}
		gso_prepare(b, nm++, i, j - i);
		i = j;
	}
	while (m < nm) {
		r = sendmmsg(fd, b->msgs + m, (unsigned)(nm - m), 0);
		if (r > 0) {
			for (int k = 0; k < r; k++)
				done += b->gcount[m + k];
			m += r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS))
			break;
		if (r < 0 && b->gcount[m] > 1)
			act = udp_gso_on_error(errno);
		else
			act = UDP_GSO_LOSE;
		if (act == UDP_GSO_OFF) {
			/* No GSO on this path (device without checksum offload, or an
			 * old kernel): from now on, one by one. */
			int rest;

			*gso = 0;
			memmove(&b->len[0], &b->len[done], sizeof(b->len[0]) * (size_t)(n - done));
			memmove(&b->peer[0], &b->peer[done], sizeof(b->peer[0]) * (size_t)(n - done));
			memmove(&b->buf[0], &b->buf[done], sizeof(b->buf[0]) * (size_t)(n - done));
			rest = udp_send_batch(fd, b, n - done);
			return rest < 0 ? (done ? done : rest) : done + rest;
		}
		if (act == UDP_GSO_SPLIT) {
			/* Segments larger than the link's MTU (a probe in the run):
			 * only this run is refused; sent one by one, only what is
			 * too big is lost. Other peers keep GSO. */
			int k = gso_send_each(fd, b, done, b->gcount[m]);

			b->gso_split++;
			done += k;
			if (k < b->gcount[m])
				break;		/* socket buffer full */
			m++;
			continue;
		}
		if (r < 0 && per_datagram_error(errno)) {
			done += b->gcount[m++];	/* lose these, keep going */
			continue;
		}
		if (done == 0)
			return r < 0 ? -errno : -EIO;
		break;
	}
	return done;
}

int udp_enable_gro(int fd)
{
	int one = 1;

	return setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof(one)) < 0 ? -errno : 0;
}

int udp_recv_gro(int fd, struct udp_gro_batch *b)
{
	int r, kept = 0;

	b->n = 0;
	for (int i = 0; i < UDP_GRO_MAX; i++) {
		struct msghdr *h = &b->msgs[i].msg_hdr;

		b->iov[i].iov_base = b->buf[i];
		b->iov[i].iov_len = UDP_GRO_BUF;
		memset(&b->msgs[i], 0, sizeof(b->msgs[i]));
		h->msg_name = &b->peer[i];
		h->msg_namelen = sizeof(b->peer[i]);
		h->msg_iov = &b->iov[i];
		h->msg_iovlen = 1;
		h->msg_control = b->ctrl[i];
		h->msg_controllen = sizeof(b->ctrl[i]);
	}
	do {
		r = recvmmsg(fd, b->msgs, UDP_GRO_MAX, MSG_DONTWAIT, NULL);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -errno;
	for (int i = 0; i < r; i++) {
		struct msghdr *h = &b->msgs[i].msg_hdr;
		size_t seg = b->msgs[i].msg_len;
		struct cmsghdr *c;

		if ((h->msg_flags & MSG_TRUNC) || h->msg_namelen != sizeof(struct sockaddr_in6) ||
		    b->peer[i].sin6_family != AF_INET6 || b->msgs[i].msg_len == 0)
			continue;
		for (c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
			int v;

			if (c->cmsg_level != SOL_UDP || c->cmsg_type != UDP_GRO ||
			    c->cmsg_len < CMSG_LEN(sizeof(v)))
				continue;
			memcpy(&v, CMSG_DATA(c), sizeof(v));
			if (v > 0 && (size_t)v < seg)
				seg = (size_t)v;
		}
		if (kept != i) {
			memcpy(b->buf[kept], b->buf[i], b->msgs[i].msg_len);
			b->peer[kept] = b->peer[i];
		}
		b->len[kept] = b->msgs[i].msg_len;
		b->seg[kept] = seg;
		kept++;
	}
	b->n = kept;
	return kept;
}

int udp_send_one(int fd, const struct sockaddr_in6 *to, const void *buf,
		 size_t len)
{
	ssize_t r;

	do {
		r = sendto(fd, buf, len, 0, (const struct sockaddr *)to,
			   sizeof(*to));
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	return 0;
}

static int parse_port(const char *s, uint16_t *port)
{
	unsigned v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > 5 || s[0] == '0')
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

int udp_addr_parse(const char *s, struct sockaddr_in6 *out)
{
	char host[INET6_ADDRSTRLEN];
	const char *colon, *port_s;
	struct in_addr v4;
	uint16_t port;
	size_t hlen;

	if (!s || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->sin6_family = AF_INET6;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		hlen = (size_t)(close - s - 1);
		if (hlen == 0 || hlen >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, hlen);
		host[hlen] = '\0';
		/* inet_pton refuses "%scope", spaces and a v4 body alone. */
		if (inet_pton(AF_INET6, host, &out->sin6_addr) != 1)
			return -EINVAL;
		port_s = close + 2;
	} else {
		colon = strchr(s, ':');
		if (!colon || strchr(colon + 1, ':'))
			return -EINVAL;
		hlen = (size_t)(colon - s);
		if (hlen == 0 || hlen >= sizeof(host))
			return -EINVAL;
		memcpy(host, s, hlen);
		host[hlen] = '\0';
		/* glibc's inet_pton(AF_INET) takes only dotted-quad decimal. */
		if (inet_pton(AF_INET, host, &v4) != 1)
			return -EINVAL;
		out->sin6_addr.s6_addr[10] = 0xff;
		out->sin6_addr.s6_addr[11] = 0xff;
		memcpy(&out->sin6_addr.s6_addr[12], &v4, 4);
		port_s = colon + 1;
	}
	if (parse_port(port_s, &port) < 0)
		return -EINVAL;
	out->sin6_port = htons(port);
	return 0;
}

int udp_addr_format(const struct sockaddr_in6 *a, char *buf, size_t cap)
{
	char host[INET6_ADDRSTRLEN];
	int n;

	if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) {
		if (!inet_ntop(AF_INET, &a->sin6_addr.s6_addr[12], host,
			       sizeof(host)))
			return -ENOSPC;
		n = snprintf(buf, cap, "%s:%u", host, ntohs(a->sin6_port));
	} else {
		if (!inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host)))
			return -ENOSPC;
		n = snprintf(buf, cap, "[%s]:%u", host, ntohs(a->sin6_port));
	}
	if (n < 0 || (size_t)n >= cap)
		return -ENOSPC;
	return 0;
}

int udp_addr_from_sockaddr(const struct sockaddr *sa, socklen_t salen,
			   struct sockaddr_in6 *out)
{
	memset(out, 0, sizeof(*out));
	out->sin6_family = AF_INET6;
	if (sa->sa_family == AF_INET6 && salen >= sizeof(struct sockaddr_in6)) {
		memcpy(out, sa, sizeof(*out));
		return 0;
	}
	if (sa->sa_family == AF_INET && salen >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		out->sin6_addr.s6_addr[10] = 0xff;
		out->sin6_addr.s6_addr[11] = 0xff;
		memcpy(&out->sin6_addr.s6_addr[12], &in->sin_addr, 4);
		out->sin6_port = in->sin_port;
		return 0;
	}
	return -EAFNOSUPPORT;
}

int udp_addr_equal(const struct sockaddr_in6 *a, const struct sockaddr_in6 *b)
{
	return a->sin6_port == b->sin6_port &&
	       memcmp(&a->sin6_addr, &b->sin6_addr, sizeof(a->sin6_addr)) == 0;
}
