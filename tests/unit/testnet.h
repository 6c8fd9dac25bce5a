/*
 * Shared helpers for the unit tests that build, check and exchange IP
 * packets: big-endian field access, an Internet checksum, a TCP/IP segment
 * builder, and, for the tests that need root, a fresh network namespace and
 * a TUN device in it. The checksum is deliberately the naive textbook form
 * (every byte added at its weight into a 64-bit accumulator, folded at the
 * end), written apart from, and unlike, the word-at-a-time sums in
 * netstack/ and routing/: a test checks the library against it, so it must
 * never call into the code under test. Nothing here uses the library.
 * Header-only, because the Makefile links each test with the library alone.
 */
#ifndef Q2Q_TEST_TESTNET_H
#define Q2Q_TEST_TESTNET_H

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

/* ---- big-endian fields ---- */

static inline uint16_t tn_rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t tn_rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline void tn_wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void tn_wr32(uint8_t *p, uint32_t v)
{
	tn_wr16(p, (uint16_t)(v >> 16));
	tn_wr16(p + 2, (uint16_t)v);
}

/* ---- the independent checksum ---- */

/*
 * Adds n bytes to acc: a byte at an even offset (from p) is the high half of
 * its 16-bit word, so a lone last byte is padded with zero (RFC 1071).
 * Unfolded; regions summed one after another must start at even offsets.
 */
static inline uint64_t tn_sum(uint64_t acc, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		acc += i % 2 ? p[i] : (uint64_t)p[i] << 8;
	return acc;
}

/* The ones' complement 16-bit sum; 0xffff over data with a valid checksum. */
static inline uint16_t tn_fold(uint64_t acc)
{
	while (acc > 0xffff)
		acc = (acc >> 16) + (acc & 0xffff);
	return (uint16_t)acc;
}

/*
 * The pseudo-header sum for l4len bytes of protocol proto after the IP
 * header at ip: addresses from the IPv4 header if its version is 4, from
 * the IPv6 header otherwise.
 */
static inline uint64_t tn_pseudo(const uint8_t *ip, uint8_t proto, size_t l4len)
{
	uint64_t acc = ip[0] >> 4 == 4 ? tn_sum(0, ip + 12, 8) : tn_sum(0, ip + 8, 32);

	return acc + proto + l4len;
}

/* The IPv4 header at ip (its length from IHL) verifies, or gets a checksum. */
static inline int tn_ip4_ok(const uint8_t *ip)
{
	return tn_fold(tn_sum(0, ip, (size_t)(ip[0] & 15) * 4)) == 0xffff;
}

static inline void tn_ip4_csum(uint8_t *ip)
{
	tn_wr16(ip + 10, 0);
	tn_wr16(ip + 10, (uint16_t)~tn_fold(tn_sum(0, ip, (size_t)(ip[0] & 15) * 4)));
}

/* The l4len bytes at l4 (TCP, UDP, ICMPv6: proto) verify against ip's addresses. */
static inline int tn_l4_ok(const uint8_t *ip, uint8_t proto, const uint8_t *l4,
			   size_t l4len)
{
	return tn_fold(tn_sum(tn_pseudo(ip, proto, l4len), l4, l4len)) == 0xffff;
}

/* The TCP segment in the len-byte packet ip (IP header iphl bytes). */
static inline int tn_tcp_ok(const uint8_t *ip, size_t iphl, size_t len)
{
	return tn_l4_ok(ip, IPPROTO_TCP, ip + iphl, len - iphl);
}

static inline void tn_tcp_csum(uint8_t *ip, size_t iphl, size_t len)
{
	uint8_t *t = ip + iphl;

	tn_wr16(t + 16, 0);
	tn_wr16(t + 16, (uint16_t)~tn_fold(tn_sum(tn_pseudo(ip, IPPROTO_TCP, len - iphl),
						  t, len - iphl)));
}

/* ---- building TCP segments ---- */

/*
 * One TCP segment with a plain IPv4 (20-byte) or IPv6 (40-byte) header.
 * Addresses are 4 or 16 bytes; opt (optlen a multiple of 4, at most 40) and
 * data are copied.
 */
struct tn_tcp {
	int v6;
	const uint8_t *src, *dst;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	uint8_t ttl;		/* or hop limit */
	uint8_t tos;		/* or traffic class */
	uint32_t label;		/* IPv6 flow label */
	uint16_t id;		/* IPv4 identification */
	uint16_t frag;		/* IPv4 flags and fragment offset; 0x4000 is DF */
	const uint8_t *opt;
	size_t optlen;
	const uint8_t *data;
	size_t len;
};

/* Writes the segment to p with both checksums complete; returns its length. */
static inline size_t tn_tcp_build(uint8_t *p, const struct tn_tcp *s)
{
	size_t iphl = s->v6 ? 40 : 20, thl = 20 + s->optlen;
	size_t tot = iphl + thl + s->len;
	uint8_t *t = p + iphl;

	memset(p, 0, iphl + thl);
	if (s->v6) {
		tn_wr32(p, 6u << 28 | (uint32_t)s->tos << 20 | (s->label & 0xfffff));
		tn_wr16(p + 4, (uint16_t)(thl + s->len));
		p[6] = IPPROTO_TCP;
		p[7] = s->ttl;
		memcpy(p + 8, s->src, 16);
		memcpy(p + 24, s->dst, 16);
	} else {
		p[0] = 0x45;
		p[1] = s->tos;
		tn_wr16(p + 2, (uint16_t)tot);
		tn_wr16(p + 4, s->id);
		tn_wr16(p + 6, s->frag);
		p[8] = s->ttl;
		p[9] = IPPROTO_TCP;
		memcpy(p + 12, s->src, 4);
		memcpy(p + 16, s->dst, 4);
		tn_ip4_csum(p);
	}
	tn_wr16(t, s->sport);
	tn_wr16(t + 2, s->dport);
	tn_wr32(t + 4, s->seq);
	tn_wr32(t + 8, s->ack);
	t[12] = (uint8_t)(thl / 4 << 4);
	t[13] = s->flags;
	tn_wr16(t + 14, s->win);
	if (s->optlen)
		memcpy(t + 20, s->opt, s->optlen);
	if (s->len)
		memcpy(t + thl, s->data, s->len);
	tn_tcp_csum(p, iphl, tot);
	return tot;
}

/* ---- sockets and time ---- */

/* Fills *ss for addr (4 or 16 bytes) and port; returns its length. */
static inline socklen_t tn_sockaddr(struct sockaddr_storage *ss, int v6,
				    const uint8_t *addr, uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	if (v6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		memcpy(&a->sin6_addr, addr, 16);
		return sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		memcpy(&a->sin_addr, addr, 4);
		return sizeof(*a);
	}
}

/* Monotonic seconds, for deadlines. */
static inline double tn_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- a network namespace and a TUN for root tests ---- */

#define TN_SKIP	1

/*
 * Moves this process into a fresh network namespace, so that every device,
 * address and route the test makes is invisible outside and goes away with
 * it, and brings its lo up (by ioctl, not through the netlink code under
 * test). Returns 0 when that is done; TN_SKIP when the test cannot run here
 * (not root, or no namespaces), after printing a "skip:" line that names
 * what needed root; -errno when lo would not come up, after printing a
 * "not ok:" line.
 */
static inline int tn_netns_enter(const char *what)
{
	struct ifreq ifr;
	int s, r = 0;

	if (geteuid() != 0) {
		printf("skip: needs root (%s)\n", what);
		return TN_SKIP;
	}
	if (unshare(CLONE_NEWNET) != 0) {
		printf("skip: unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return TN_SKIP;
	}
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		r = -errno;
		goto out;
	}
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, "lo", 3);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
		r = -errno;
		goto out;
	}
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		r = -errno;
out:
	if (s >= 0)
		close(s);
	if (r)
		printf("not ok: cannot bring lo up in the new namespace: %s\n",
		       strerror(-r));
	return r;
}

/*
 * Opens TUN device name (IFF_TUN, no packet info), non-blocking and
 * close-on-exec. vnet_len 0: plain packets and no offloads. Otherwise with
 * IFF_VNET_HDR and the TUN_F_* offloads, and the kernel's vnet header must
 * be vnet_len bytes (-EPROTO if not). Puts the descriptor in *fd; the caller
 * closes it, which removes the device. 0 or -errno.
 */
static inline int tn_tun_open(const char *name, int vnet_len, unsigned int offloads,
			      int *fd)
{
	struct ifreq ifr;
	int tfd, r, sz = 0;

	if (strlen(name) >= IFNAMSIZ)
		return -EINVAL;
	tfd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (tfd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (vnet_len ? IFF_VNET_HDR : 0);
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(tfd, TUNSETIFF, &ifr) < 0) {
		r = -errno;
		goto fail;
	}
	if (vnet_len) {
		if (ioctl(tfd, TUNSETOFFLOAD, offloads) < 0 ||
		    ioctl(tfd, TUNGETVNETHDRSZ, &sz) < 0) {
			r = -errno;
			goto fail;
		}
		if (sz != vnet_len) {
			r = -EPROTO;
			goto fail;
		}
	}
	*fd = tfd;
	return 0;
fail:
	close(tfd);
	return r;
}

#endif
