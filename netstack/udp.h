/*
 * Batched UDP I/O for the data path and the handshake. One AF_INET6 socket
 * serves both families (IPv4 peers appear as v4-mapped ::ffff:a.b.c.d), so
 * every address in q2q is a struct sockaddr_in6. The batch struct is what
 * the event loop reads into and sends from: N fixed buffers with their
 * peers, moved by recvmmsg/sendmmsg, so GSO/GRO can be added later without
 * reshaping callers.
 */
#ifndef Q2Q_UDP_H
#define Q2Q_UDP_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

#define UDP_BATCH_MAX	64
#define UDP_BUF_SIZE	2048
/* "[v6 address]:port" plus NUL. */
#define UDP_ADDR_STRLEN	(INET6_ADDRSTRLEN + 9)

struct udp_batch {
	int n;					/* entries filled by recv */
	size_t len[UDP_BATCH_MAX];		/* datagram length */
	struct sockaddr_in6 peer[UDP_BATCH_MAX];/* source / destination */
	uint8_t buf[UDP_BATCH_MAX][UDP_BUF_SIZE];
	/* Scratch for the syscalls, private. */
	struct mmsghdr msgs[UDP_BATCH_MAX];
	struct iovec iov[UDP_BATCH_MAX];
	int gcount[UDP_BATCH_MAX];
	char gctrl[UDP_BATCH_MAX][CMSG_SPACE(sizeof(uint16_t))];
	/* Runs udp_send_batch_gso could not send as one GSO send (segments
	 * above the path MTU) and sent one by one instead; only ever grows. */
	uint64_t gso_split;
};

/* Received with UDP GRO: each buffer holds datagrams of seg bytes back to
 * back (the last may be shorter), all from one peer. */
#define UDP_GRO_MAX	16
#define UDP_GRO_BUF	65536
struct udp_gro_batch {
	int n;
	size_t len[UDP_GRO_MAX];
	size_t seg[UDP_GRO_MAX];		/* datagram size; len if not coalesced */
	struct sockaddr_in6 peer[UDP_GRO_MAX];
	uint8_t buf[UDP_GRO_MAX][UDP_GRO_BUF];
	struct mmsghdr msgs[UDP_GRO_MAX];
	struct iovec iov[UDP_GRO_MAX];
	char ctrl[UDP_GRO_MAX][CMSG_SPACE(sizeof(int))];
};

/*
 * Opens a non-blocking, close-on-exec, dual-stack UDP socket bound to port
 * (0 = any) on all addresses, with enlarged buffers. 0 and *fd, or -errno.
 */
int udp_open(int port, int *fd);
/* The bound port of fd, or -errno. */
int udp_local_port(int fd);

/*
 * Reads up to UDP_BATCH_MAX datagrams without blocking into b (sets b->n).
 * Returns the count (0 = nothing waiting) or -errno. Truncated datagrams
 * (larger than UDP_BUF_SIZE) are dropped, never handed out cut.
 */
int udp_recv_batch(int fd, struct udp_batch *b);

/*
 * Sends entries 0 .. n-1 of b (len[i] bytes of buf[i] to peer[i]). Returns
 * how many leading entries are done: sent, or dropped because the kernel
 * refused that one datagram (unreachable, too big): UDP may lose packets.
 * Less than n only if the socket buffer is full (wait for EPOLLOUT).
 * -errno for a socket-level error with nothing done.
 */
int udp_send_batch(int fd, struct udp_batch *b, int n);

/*
 * Like udp_send_batch, but runs of datagrams to one peer with equal lengths
 * (the last may be shorter) go out as one UDP GSO send: one trip through
 * the stack for up to 64 datagrams. If the kernel refuses GSO, *gso is set
 * to 0 and the rest goes out one by one. A run whose segments exceed the
 * path MTU (EMSGSIZE) goes out one by one and counts in b->gso_split;
 * a batch is never dropped for being a GSO send.
 */
int udp_send_batch_gso(int fd, struct udp_batch *b, int n, int *gso);

/* What a refused GSO send calls for: stop using GSO on this socket, send
 * this run's segments one by one, or lose the run (the destination's
 * fault, as for a single datagram). Pure, for udp_send_batch_gso. */
enum udp_gso_action { UDP_GSO_LOSE, UDP_GSO_OFF, UDP_GSO_SPLIT };
enum udp_gso_action udp_gso_on_error(int err);

/* Asks for UDP GRO on fd: 0, or -errno if the kernel has none. */
int udp_enable_gro(int fd);
/* recvmmsg into b with GRO: count of buffers, 0 if nothing, or -errno. */
int udp_recv_gro(int fd, struct udp_gro_batch *b);

/* Sends one datagram: 0 or -errno (-EAGAIN when the buffer is full). */
int udp_send_one(int fd, const struct sockaddr_in6 *to, const void *buf,
		 size_t len);

/*
 * Parses "a.b.c.d:port" or "[v6]:port" strictly (port 1..65535, decimal, no
 * leading zeros or signs, no spaces, no scope ids). IPv4 becomes v4-mapped.
 * 0 or -EINVAL.
 */
int udp_addr_parse(const char *s, struct sockaddr_in6 *out);
/* Formats as "a.b.c.d:port" for v4-mapped, else "[v6]:port". 0 or -ENOSPC. */
int udp_addr_format(const struct sockaddr_in6 *a, char *buf, size_t cap);
/* Converts an AF_INET or AF_INET6 sockaddr to our form. 0 or -EAFNOSUPPORT. */
int udp_addr_from_sockaddr(const struct sockaddr *sa, socklen_t salen,
			   struct sockaddr_in6 *out);
/* 1 if address and port are equal (scope and flow info ignored). */
int udp_addr_equal(const struct sockaddr_in6 *a, const struct sockaddr_in6 *b);

#endif
