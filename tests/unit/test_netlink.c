/*
 * Tests for routing/netlink.c and tund/priv/tun.c against the real kernel. Needs
 * root: the process moves itself into a fresh network namespace
 * (unshare(CLONE_NEWNET)), so nothing it creates is visible outside or
 * survives it. Every change is verified by reading the kernel's state back
 * with netlink dumps written here, independently of the library, never by
 * trusting return codes. The last part sends real packets through the TUN
 * and checks that the ICMP errors from routing/icmp.c are accepted by the
 * kernel and reach the sending socket's error queue.
 *
 *   [ UDP socket ] --> kernel --> q2qtest0 --> [ this test reads the fd,
 *        ^                                       builds an ICMP error,
 *        +------ error queue <-- kernel <------  writes it back ]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <linux/errqueue.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <libmnl/libmnl.h>

#include "routing/icmp.h"
#include "routing/netlink.h"
#include "tund/priv/tun.h"
#include "harness.h"
#include "testnet.h"

#define TUN_NAME "q2qtest0"

/* ---- independent read-back through netlink dumps ---- */

struct seen {
	int want_family;
	int ifindex;
	uint8_t addr[16];
	uint8_t plen;
	uint8_t table;		/* routes */
	int found;
	uint32_t flags;		/* address flags or route protocol */
	uint8_t scope;
	uint32_t mtu;		/* links */
	uint32_t txqlen;	/* links */
	unsigned int ifflags;	/* links */
};

static int parse_attr(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (type > 63)
		return MNL_CB_OK;
	tb[type] = attr;
	return MNL_CB_OK;
}

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	struct seen *s = data;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[64] = { 0 };
	const struct nlattr *a;
	int alen = s->want_family == AF_INET ? 4 : 16;

	if (ifa->ifa_family != s->want_family || (int)ifa->ifa_index != s->ifindex ||
	    ifa->ifa_prefixlen != s->plen)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*ifa), parse_attr, tb);
	a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (!a || mnl_attr_get_payload_len(a) != alen ||
	    memcmp(mnl_attr_get_payload(a), s->addr, (size_t)alen) != 0)
		return MNL_CB_OK;
	s->found++;
	s->flags = tb[IFA_FLAGS] ? mnl_attr_get_u32(tb[IFA_FLAGS]) : ifa->ifa_flags;
	s->scope = ifa->ifa_scope;
	return MNL_CB_OK;
}

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	struct seen *s = data;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[64] = { 0 };
	uint8_t dst[16] = { 0 };
	int alen = s->want_family == AF_INET ? 4 : 16;

	if (rtm->rtm_family != s->want_family || rtm->rtm_dst_len != s->plen ||
	    rtm->rtm_table != s->table)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*rtm), parse_attr, tb);
	if (!tb[RTA_OIF] || (int)mnl_attr_get_u32(tb[RTA_OIF]) != s->ifindex)
		return MNL_CB_OK;
	if (tb[RTA_DST])
		memcpy(dst, mnl_attr_get_payload(tb[RTA_DST]), (size_t)alen);
	if (memcmp(dst, s->addr, (size_t)alen) != 0)
		return MNL_CB_OK;
	s->found++;
	s->flags = rtm->rtm_protocol;
	s->scope = rtm->rtm_scope;
	return MNL_CB_OK;
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	struct seen *s = data;
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[64] = { 0 };

	if (ifm->ifi_index != s->ifindex)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*ifm), parse_attr, tb);
	s->found++;
	s->ifflags = ifm->ifi_flags;
	s->mtu = tb[IFLA_MTU] ? mnl_attr_get_u32(tb[IFLA_MTU]) : 0;
	s->txqlen = tb[IFLA_TXQLEN] ? mnl_attr_get_u32(tb[IFLA_TXQLEN]) : 0;
	return MNL_CB_OK;
}

/* Dump the given table and run cb on every message; 0 or -errno. */
static int dump(uint16_t type, int family, mnl_cb_t cb, void *data)
{
	static char buf[32768];
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	struct nlmsghdr *nlh;
	struct rtgenmsg *g;
	unsigned int seq = 4242, portid;
	ssize_t n;
	int r = -EIO;

	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto out;
	portid = mnl_socket_get_portid(nl);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	/* rtgenmsg is a prefix of ifaddrmsg, rtmsg and ifinfomsg alike. */
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(struct ifinfomsg));
	g->rtgen_family = (unsigned char)family;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		goto out;
	while ((n = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
		r = mnl_cb_run(buf, (size_t)n, seq, portid, cb, data);
		if (r <= MNL_CB_STOP)
			break;
	}
	r = r < 0 ? -errno : 0;
out:
	mnl_socket_close(nl);
	return r;
}

/* Start a search for txt/plen (txt may be NULL) on ifindex. */
static void seen_init(struct seen *s, int family, int ifindex, const char *txt,
		      uint8_t plen)
{
	memset(s, 0, sizeof(*s));
	s->want_family = family;
	s->ifindex = ifindex;
	s->plen = plen;
	if (txt && inet_pton(family, txt, s->addr) != 1)
		abort();
}

static int find_addr(int ifindex, int family, const char *txt, uint8_t plen, struct seen *s)
{
	seen_init(s, family, ifindex, txt, plen);
	if (dump(RTM_GETADDR, family, addr_cb, s) != 0)
		return -1;
	return s->found;
}

static int find_route_in(uint8_t table, int ifindex, int family, const char *txt,
			 uint8_t plen, struct seen *s)
{
	seen_init(s, family, ifindex, txt, plen);
	s->table = table;
	if (dump(RTM_GETROUTE, family, route_cb, s) != 0)
		return -1;
	return s->found;
}

static int find_route(int ifindex, int family, const char *txt, uint8_t plen, struct seen *s)
{
	return find_route_in(RT_TABLE_MAIN, ifindex, family, txt, plen, s);
}

static int find_link(int ifindex, struct seen *s)
{
	seen_init(s, AF_UNSPEC, ifindex, NULL, 0);
	if (dump(RTM_GETLINK, AF_UNSPEC, link_cb, s) != 0)
		return -1;
	return s->found;
}

/* Add a route as `ip route add ... dev X` would (protocol boot), bypassing the library. */
static int raw_route_add(int ifindex, const uint8_t *dst4, uint8_t plen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	ssize_t n;
	int r = -EIO;

	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto out;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
	nlh->nlmsg_seq = 77;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = plen;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_BOOT;
	rtm->rtm_scope = RT_SCOPE_LINK;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put(nlh, RTA_DST, 4, dst4);
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		goto out;
	n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n < 0)
		goto out;
	r = mnl_cb_run(buf, (size_t)n, 77, mnl_socket_get_portid(nl), NULL, NULL);
	r = r < 0 ? -errno : 0;
out:
	mnl_socket_close(nl);
	return r;
}

static void ip(int family, const char *txt, uint8_t *out)
{
	if (inet_pton(family, txt, out) != 1)
		abort();
}

/* ---- tests ---- */

static void test_arg_checks(void)
{
	char name[IFNAMSIZ];
	uint8_t a[16] = { 0 };
	int fd = -1;

	CHECK_INT(tun_open("", name, &fd), -EINVAL);
	CHECK_INT(tun_open(NULL, name, &fd), -EINVAL);
	CHECK_INT(tun_open("a/b", name, &fd), -EINVAL);
	CHECK_INT(tun_open("a b", name, &fd), -EINVAL);
	CHECK_INT(tun_open("a\tb", name, &fd), -EINVAL);
	CHECK_INT(tun_open("a:b", name, &fd), -EINVAL);
	CHECK_INT(tun_open("..", name, &fd), -EINVAL);
	CHECK_INT(tun_open("0123456789abcdef", name, &fd), -EINVAL);	/* 16 bytes */
	CHECK_INT(fd, -1);
	CHECK_INT(nl_link_index(""), -EINVAL);
	CHECK_INT(nl_link_index("0123456789abcdefgh"), -EINVAL);
	CHECK_INT(nl_link_index("q2qnosuchdev"), -ENODEV);
	CHECK_INT(nl_link_set(0, 1, 0), -EINVAL);
	CHECK_INT(nl_addr_add(1, AF_INET, a, 33), -EINVAL);
	CHECK_INT(nl_addr_add(1, AF_UNIX, a, 8), -EAFNOSUPPORT);
	CHECK_INT(nl_route_add(1, AF_INET6, a, 129, 254), -EINVAL);
	CHECK_INT(nl_route_add(-3, AF_INET6, a, 64, 254), -EINVAL);
}

static int tunfd = -1, tunidx;

static void test_tun_open(void)
{
	char name[IFNAMSIZ] = "";
	int fl, fd2 = -1;

	CHECK_INT(tun_open(TUN_NAME, name, &tunfd), 0);
	CHECK_STR(name, TUN_NAME);
	CHECK(tunfd >= 0);
	fl = fcntl(tunfd, F_GETFL);
	CHECK(fl >= 0 && (fl & O_NONBLOCK));
	fl = fcntl(tunfd, F_GETFD);
	CHECK(fl >= 0 && (fl & FD_CLOEXEC));
	tunidx = nl_link_index(TUN_NAME);
	CHECK(tunidx > 0);
	/* A second open of a busy device fails and leaves the first alone. */
	CHECK_INT(tun_open(TUN_NAME, name, &fd2), -EBUSY);
	CHECK_INT(fd2, -1);
	/* A template name gets a kernel-chosen name. */
	CHECK_INT(tun_open("q2qt%d", name, &fd2), 0);
	CHECK_STR(name, "q2qt0");
	CHECK(nl_link_index("q2qt0") > 0);
	/* nl_link_delete removes a live device. */
	CHECK_INT(nl_link_delete(nl_link_index("q2qt0")), 0);
	CHECK_INT(nl_link_index("q2qt0"), -ENODEV);
	if (fd2 >= 0)
		close(fd2);
	CHECK_INT(nl_link_delete(tunidx + 1000), -ENODEV);
}

static void test_link_set(void)
{
	struct seen s;

	CHECK_INT(find_link(tunidx, &s), 1);
	CHECK(!(s.ifflags & IFF_UP));
	CHECK_INT(nl_link_set(tunidx, 1, 1280), 0);
	CHECK_INT(find_link(tunidx, &s), 1);
	CHECK(s.ifflags & IFF_UP);
	CHECK_INT(s.mtu, 1280);
	CHECK_INT(s.txqlen, NL_LINK_TXQLEN);
	/* mtu <= 0 leaves the MTU alone. */
	CHECK_INT(nl_link_set(tunidx, 0, 0), 0);
	CHECK_INT(find_link(tunidx, &s), 1);
	CHECK(!(s.ifflags & IFF_UP));
	CHECK_INT(s.mtu, 1280);
	CHECK_INT(nl_link_set(tunidx, 1, -1), 0);
	CHECK_INT(find_link(tunidx, &s), 1);
	CHECK(s.ifflags & IFF_UP);
	CHECK_INT(s.mtu, 1280);
	/* The kernel's own error comes back: an MTU below the minimum. */
	CHECK_INT(nl_link_set(tunidx, 1, 10), -EINVAL);
}

static void test_addr(void)
{
	uint8_t a4[4], a6[16];
	struct seen s;

	ip(AF_INET, "100.64.0.7", a4);
	ip(AF_INET6, "fd12:3456::7", a6);
	CHECK_INT(nl_addr_add(tunidx, AF_INET, a4, 10), 0);
	CHECK_INT(nl_addr_add(tunidx, AF_INET6, a6, 128), 0);
	CHECK_INT(find_addr(tunidx, AF_INET, "100.64.0.7", 10, &s), 1);
	CHECK_INT(s.scope, RT_SCOPE_UNIVERSE);
	CHECK_INT(find_addr(tunidx, AF_INET6, "fd12:3456::7", 128, &s), 1);
	CHECK(s.flags & IFA_F_NODAD);
	CHECK(!(s.flags & IFA_F_TENTATIVE));
	/*
	 * The kernel adds the v6 local route from a workqueue; nl_addr_add
	 * waits for it, so it must be there now (without the wait this
	 * failed about one run in ten on a busy machine).
	 */
	CHECK_INT(find_route_in(RT_TABLE_LOCAL, tunidx, AF_INET6, "fd12:3456::7", 128, &s), 1);
	CHECK_INT(s.flags, RTPROT_KERNEL);
	/* The kernel made the v4 prefix route for the address. */
	CHECK_INT(find_route(tunidx, AF_INET, "100.64.0.0", 10, &s), 1);
	CHECK_INT(nl_addr_add(tunidx, AF_INET, a4, 10), -EEXIST);
	CHECK_INT(nl_addr_add(tunidx, AF_INET6, a6, 128), -EEXIST);
}

struct dump_acc {
	int n;
	int has_user, has_v6, has_prefix;
	int stop_after;
};

static int dump_cb(int family, const uint8_t *dst, uint8_t plen, void *arg)
{
	struct dump_acc *d = arg;
	uint8_t want[16];

	d->n++;
	ip(AF_INET, "198.51.100.0", want);
	if (family == AF_INET && plen == 24 && !memcmp(dst, want, 4))
		d->has_user++;
	ip(AF_INET, "100.64.0.0", want);
	if (family == AF_INET && plen == 10 && !memcmp(dst, want, 4))
		d->has_prefix++;
	ip(AF_INET6, "fd99::", want);
	if (family == AF_INET6 && plen == 64 && !memcmp(dst, want, 16))
		d->has_v6++;
	return d->stop_after && d->n >= d->stop_after ? 99 : 0;
}

static void test_route(void)
{
	uint8_t r4[4], r6[16], u4[4];
	struct dump_acc d = { 0 };
	struct seen s;

	ip(AF_INET, "203.0.113.0", r4);
	ip(AF_INET6, "fd99::", r6);
	CHECK_INT(nl_route_add(tunidx, AF_INET, r4, 24, 254), 0);
	CHECK_INT(nl_route_add(tunidx, AF_INET6, r6, 64, 254), 0);
	CHECK_INT(find_route(tunidx, AF_INET, "203.0.113.0", 24, &s), 1);
	CHECK_INT(s.flags, RTPROT_STATIC);
	CHECK_INT(s.scope, RT_SCOPE_LINK);
	CHECK_INT(find_route(tunidx, AF_INET6, "fd99::", 64, &s), 1);
	CHECK_INT(s.flags, RTPROT_STATIC);
	CHECK_INT(nl_route_add(tunidx, AF_INET, r4, 24, 254), -EEXIST);
	CHECK_INT(nl_route_add(tunidx, AF_INET6, r6, 64, 254), -EEXIST);
	/* Host bits are masked, so this is the same route again. */
	ip(AF_INET, "203.0.113.77", r4);
	CHECK_INT(nl_route_add(tunidx, AF_INET, r4, 24, 254), -EEXIST);

	/* nl_route_dump sees ours, the kernel's and a user's route. */
	ip(AF_INET, "198.51.100.0", u4);
	CHECK_INT(raw_route_add(tunidx, u4, 24), 0);
	CHECK_INT(nl_route_dump(tunidx, dump_cb, &d), 0);
	CHECK_INT(d.has_user, 1);
	CHECK_INT(d.has_v6, 1);
	CHECK_INT(d.has_prefix, 1);
	CHECK(d.n >= 5);	/* + 203.0.113.0/24 and fd12:3456::7/128 */
	/* A non-zero callback return stops the dump and is passed back. */
	memset(&d, 0, sizeof(d));
	d.stop_after = 2;
	CHECK_INT(nl_route_dump(tunidx, dump_cb, &d), 99);
	CHECK_INT(d.n, 2);
	/* Another interface's routes are not reported. */
	memset(&d, 0, sizeof(d));
	CHECK_INT(nl_route_dump(nl_link_index("lo"), dump_cb, &d), 0);
	CHECK_INT(d.has_user + d.has_v6 + d.has_prefix, 0);

	/* Delete works whoever added the route. */
	CHECK_INT(nl_route_del(tunidx, AF_INET, u4, 24, 254), 0);
	CHECK_INT(find_route(tunidx, AF_INET, "198.51.100.0", 24, &s), 0);
	CHECK_INT(nl_route_del(tunidx, AF_INET6, r6, 64, 254), 0);
	CHECK_INT(find_route(tunidx, AF_INET6, "fd99::", 64, &s), 0);
	CHECK_INT(nl_route_del(tunidx, AF_INET6, r6, 64, 254), -ESRCH);
	CHECK_INT(find_route(tunidx, AF_INET, "203.0.113.0", 24, &s), 1);
	/* Re-add for the packet tests below. */
	CHECK_INT(nl_route_add(tunidx, AF_INET6, r6, 64, 254), 0);
}

/* Read packets from the TUN until one is for dst (others, e.g. MLD, are skipped). */
static int tun_read_to(int family, const uint8_t *dst, uint8_t *buf, size_t cap)
{
	struct timespec start, now;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct pollfd p = { .fd = tunfd, .events = POLLIN };
		const uint8_t *s, *d;
		int fam;
		ssize_t n;

		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec > 3)
			return -ETIMEDOUT;
		if (poll(&p, 1, 500) <= 0)
			continue;
		n = read(tunfd, buf, cap);
		if (n <= 0)
			continue;
		if (ip_packet_addrs(buf, (size_t)n, &fam, &s, &d) == 0 && fam == family &&
		    !memcmp(d, dst, family == AF_INET ? 4 : 16))
			return (int)n;
	}
}

/* Wait for the socket's error queue and return its extended error. */
static int read_errqueue(int sock, struct sock_extended_err *ee, uint8_t *offender)
{
	struct pollfd p = { .fd = sock, .events = 0 };
	char data[2048], ctl[512];
	struct iovec iov = { data, sizeof(data) };
	struct sockaddr_in6 from;
	struct msghdr m = { 0 };
	struct cmsghdr *c;

	if (poll(&p, 1, 3000) <= 0 || !(p.revents & POLLERR))
		return -ETIMEDOUT;
	m.msg_name = &from;
	m.msg_namelen = sizeof(from);
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = ctl;
	m.msg_controllen = sizeof(ctl);
	if (recvmsg(sock, &m, MSG_ERRQUEUE) < 0)
		return -errno;
	for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		const struct sock_extended_err *e;
		const struct sockaddr *off;

		if (!((c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR) ||
		      (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR)))
			continue;
		e = (const struct sock_extended_err *)CMSG_DATA(c);
		memcpy(ee, e, sizeof(*ee));
		off = (const struct sockaddr *)SO_EE_OFFENDER(e);
		if (off->sa_family == AF_INET)
			memcpy(offender, &((const struct sockaddr_in *)off)->sin_addr, 4);
		else if (off->sa_family == AF_INET6)
			memcpy(offender, &((const struct sockaddr_in6 *)off)->sin6_addr, 16);
		return 0;
	}
	return -ENOMSG;
}

static int udp_sock(int family, const char *dst, int dontfrag)
{
	int s = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0), one = 1, r;

	if (s < 0)
		return -1;
	if (family == AF_INET) {
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(9) };
		int pmtu = IP_PMTUDISC_DO;

		ip(AF_INET, dst, (uint8_t *)&sa.sin_addr);
		setsockopt(s, SOL_IP, IP_RECVERR, &one, sizeof(one));
		if (dontfrag)
			setsockopt(s, SOL_IP, IP_MTU_DISCOVER, &pmtu, sizeof(pmtu));
		r = connect(s, (struct sockaddr *)&sa, sizeof(sa));
	} else {
		struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons(9) };
		int pmtu = IPV6_PMTUDISC_DO;

		ip(AF_INET6, dst, (uint8_t *)&sa.sin6_addr);
		setsockopt(s, SOL_IPV6, IPV6_RECVERR, &one, sizeof(one));
		if (dontfrag)
			setsockopt(s, SOL_IPV6, IPV6_MTU_DISCOVER, &pmtu, sizeof(pmtu));
		r = connect(s, (struct sockaddr *)&sa, sizeof(sa));
	}
	if (r < 0) {
		close(s);
		return -1;
	}
	return s;
}

static uint8_t pbuf[4096], ebuf[ICMP_ERROR_MAX];

static void roundtrip(int family, const char *dst, size_t size, int too_big,
		      uint32_t mtu, int want_errno, int want_type, int want_code)
{
	struct sock_extended_err ee;
	uint8_t d[16], off[16] = { 0 };
	char payload[1500];
	int s = udp_sock(family, dst, too_big), n, e;

	CHECK(s >= 0);
	if (s < 0)
		return;
	ip(family, dst, d);
	memset(payload, 'q', sizeof(payload));
	CHECK_INT(send(s, payload, size, 0), (int)size);
	n = tun_read_to(family, d, pbuf, sizeof(pbuf));
	CHECK(n > 0);
	if (n <= 0)
		goto out;
	if (too_big)
		e = icmp_too_big(pbuf, (size_t)n, mtu, ebuf, sizeof(ebuf));
	else
		e = icmp_unreachable(pbuf, (size_t)n, ebuf, sizeof(ebuf));
	CHECK(e > 0);
	if (e <= 0)
		goto out;
	CHECK_INT(write(tunfd, ebuf, (size_t)e), e);
	e = read_errqueue(s, &ee, off);
	if (e) {
		H_FAIL("no error queued for %s (%s, %d bytes)", dst,
		       too_big ? "too big" : "unreachable", n);
		goto out;
	}
	CHECK_INT(ee.ee_errno, want_errno);
	CHECK_INT(ee.ee_origin, family == AF_INET ? SO_EE_ORIGIN_ICMP : SO_EE_ORIGIN_ICMP6);
	CHECK_INT(ee.ee_type, want_type);
	CHECK_INT(ee.ee_code, want_code);
	if (too_big)
		CHECK_INT(ee.ee_info, mtu);
	CHECK_MEM(off, d, family == AF_INET ? 4 : 16);
	if (too_big && family == AF_INET) {
		int m = 0;
		socklen_t ml = sizeof(m);

		CHECK_INT(getsockopt(s, SOL_IP, IP_MTU, &m, &ml), 0);
		CHECK_INT(m, mtu);
	}
out:
	close(s);
}

static void test_icmp_through_kernel(void)
{
	/* A larger link MTU, so there is room to announce a smaller path. */
	CHECK_INT(nl_link_set(tunidx, 1, 1500), 0);
	roundtrip(AF_INET, "203.0.113.5", 100, 0, 0, EHOSTUNREACH, 3, 1);
	roundtrip(AF_INET6, "fd99::5", 100, 0, 0, EHOSTUNREACH, 1, 3);
	roundtrip(AF_INET, "203.0.113.6", 1000, 1, 600, EMSGSIZE, 3, 4);
	roundtrip(AF_INET6, "fd99::6", 1400, 1, 1300, EMSGSIZE, 2, 0);
	CHECK_INT(nl_link_set(tunidx, 1, 1280), 0);
}

static void test_delete(void)
{
	uint8_t r4[4], a4[4], a6[16];
	struct seen s;

	ip(AF_INET, "203.0.113.0", r4);
	ip(AF_INET, "100.64.0.7", a4);
	ip(AF_INET6, "fd12:3456::7", a6);
	CHECK_INT(nl_route_del(tunidx, AF_INET, r4, 24, 254), 0);
	CHECK_INT(find_route(tunidx, AF_INET, "203.0.113.0", 24, &s), 0);
	CHECK_INT(nl_addr_del(tunidx, AF_INET, a4, 10), 0);
	CHECK_INT(find_addr(tunidx, AF_INET, "100.64.0.7", 10, &s), 0);
	CHECK_INT(find_route(tunidx, AF_INET, "100.64.0.0", 10, &s), 0);
	CHECK_INT(nl_addr_del(tunidx, AF_INET, a4, 10), -EADDRNOTAVAIL);
	CHECK_INT(nl_addr_del(tunidx, AF_INET6, a6, 128), 0);
	CHECK_INT(find_addr(tunidx, AF_INET6, "fd12:3456::7", 128, &s), 0);
	/* fd99::/64 is still there; closing the fd must take everything away. */
	CHECK_INT(find_route(tunidx, AF_INET6, "fd99::", 64, &s), 1);
}

static void test_close_removes_link(void)
{
	struct seen s;
	int r = 0;

	close(tunfd);
	tunfd = -1;
	/* Unregistering is synchronous today; allow a moment anyway. */
	for (int i = 0; i < 100; i++) {
		r = nl_link_index(TUN_NAME);
		if (r == -ENODEV)
			break;
		usleep(10000);
	}
	CHECK_INT(r, -ENODEV);
	CHECK_INT(find_link(tunidx, &s), 0);
	CHECK_INT(find_route(tunidx, AF_INET6, "fd99::", 64, &s), 0);
}

int main(void)
{
	int r;

	RUN(test_arg_checks);
	r = tn_netns_enter("netlink and TUN tests");
	if (r)
		return r == TN_SKIP ? HARNESS_END() : 1;
	RUN(test_tun_open);
	if (tunfd < 0)
		return HARNESS_END();
	RUN(test_link_set);
	RUN(test_addr);
	RUN(test_route);
	RUN(test_icmp_through_kernel);
	RUN(test_delete);
	RUN(test_close_removes_link);
	return HARNESS_END();
}
