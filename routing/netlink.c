/*
 * rtnetlink requests for the overlay interface, through libmnl so that no
 * configuration ever depends on parsing `ip` output or on iproute2 being
 * installed. Every request carries NLM_F_ACK and the call waits for the
 * kernel's answer, so a 0 return means the kernel applied the change, and
 * a failure comes back as the kernel's own -errno (-EEXIST, -EPERM, ...).
 * A socket per call keeps the functions stateless and safe to call from
 * anywhere in the daemon; configuration happens a handful of times per run.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <net/if.h>
#include <sys/socket.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/fib_rules.h>
#include <libmnl/libmnl.h>

#include "routing/netlink.h"

/* Large enough for a whole dump datagram (libmnl's advice for dumps). */
#ifdef MNL_SOCKET_DUMP_SIZE
#define NL_BUF_SIZE MNL_SOCKET_DUMP_SIZE
#else
#define NL_BUF_SIZE 32768
#endif

static int addr_len(int family)
{
	if (family == AF_INET)
		return 4;
	if (family == AF_INET6)
		return 16;
	return -1;
}

/* Common argument checks; returns the address length or -errno. */
static int check_args(int ifindex, int family, uint8_t plen)
{
	int alen = addr_len(family);

	if (ifindex <= 0)
		return -EINVAL;
	if (alen < 0)
		return -EAFNOSUPPORT;
	if (plen > alen * 8)
		return -EINVAL;
	return alen;
}

/*
 * Send nlh on a fresh socket and run cb over the answers until the ack or
 * NLMSG_DONE. Returns 0, the kernel's -errno, or -errno from the socket.
 */
static int nl_request(struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	struct mnl_socket *nl = NULL;
	unsigned int portid, seq;
	char *buf;
	ssize_t n;
	int r;

	/* On the heap, not static: a dump callback may itself make a request. */
	buf = malloc(NL_BUF_SIZE);
	if (!buf)
		return -ENOMEM;
	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl) {
		r = -errno;
		goto out;
	}
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	seq = (unsigned int)time(NULL);
	nlh->nlmsg_seq = seq;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		r = -errno;
		goto out;
	}
	for (;;) {
		n = mnl_socket_recvfrom(nl, buf, NL_BUF_SIZE);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto out;
		}
		errno = 0;
		r = mnl_cb_run(buf, (size_t)n, seq, portid, cb, data);
		if (r <= MNL_CB_STOP)
			break;
	}
	/* MNL_CB_ERROR leaves the kernel's error (or the callback's) in errno. */
	if (r < 0)
		r = errno ? -errno : -EPROTO;
	else
		r = 0;
out:
	if (nl)
		mnl_socket_close(nl);
	free(buf);
	return r;
}

int nl_link_index(const char *ifname)
{
	unsigned int idx;
	size_t len;

	if (!ifname)
		return -EINVAL;
	len = strnlen(ifname, IFNAMSIZ);
	if (len == 0 || len >= IFNAMSIZ)
		return -EINVAL;
	idx = if_nametoindex(ifname);
	if (idx == 0 || idx > (unsigned int)0x7fffffff)
		return -ENODEV;
	return (int)idx;
}

/* A request header of type with flags, followed by an extra header of
 * len bytes (zeroed), whose address is returned in *extra. */
static struct nlmsghdr *req_start(char *buf, uint16_t type, uint16_t flags, size_t len,
				  void **extra)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	*extra = mnl_nlmsg_put_extra_header(nlh, len);
	return nlh;
}

static struct nlmsghdr *link_msg(char *buf, uint16_t type, int ifindex)
{
	struct ifinfomsg *ifm;
	struct nlmsghdr *nlh = req_start(buf, type, NLM_F_ACK, sizeof(*ifm), (void **)&ifm);

	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	return nlh;
}

int nl_link_set(int ifindex, int up, int mtu)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;

	if (ifindex <= 0)
		return -EINVAL;
	nlh = link_msg(buf, RTM_NEWLINK, ifindex);
	ifm = mnl_nlmsg_get_payload(nlh);
	ifm->ifi_change = IFF_UP;
	ifm->ifi_flags = up ? IFF_UP : 0;
	if (mtu > 0)
		mnl_attr_put_u32(nlh, IFLA_MTU, (uint32_t)mtu);
	if (up)
		mnl_attr_put_u32(nlh, IFLA_TXQLEN, NL_LINK_TXQLEN);
	return nl_request(nlh, NULL, NULL);
}

int nl_link_delete(int ifindex)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];

	if (ifindex <= 0)
		return -EINVAL;
	return nl_request(link_msg(buf, RTM_DELLINK, ifindex), NULL, NULL);
}

static int addr_change(uint16_t type, uint16_t flags, int ifindex, int family,
		       const uint8_t *addr, uint8_t plen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	int alen = check_args(ifindex, family, plen);

	if (alen < 0)
		return alen;
	nlh = req_start(buf, type, NLM_F_ACK | flags, sizeof(*ifa), (void **)&ifa);
	ifa->ifa_family = (uint8_t)family;
	ifa->ifa_prefixlen = plen;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (uint32_t)ifindex;
	/* Same local and peer address: a plain address with a prefix route. */
	mnl_attr_put(nlh, IFA_LOCAL, (size_t)alen, addr);
	mnl_attr_put(nlh, IFA_ADDRESS, (size_t)alen, addr);
	if (family == AF_INET6 && type == RTM_NEWADDR) {
		/* No peer can answer neighbour solicitations on a TUN; skip DAD. */
		ifa->ifa_flags = IFA_F_NODAD;
		mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
	}
	return nl_request(nlh, NULL, NULL);
}

static int local_route_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct rtmsg *rtm;

	if (nlh->nlmsg_type == RTM_NEWROUTE &&
	    mnl_nlmsg_get_payload_len(nlh) >= sizeof(*rtm)) {
		rtm = mnl_nlmsg_get_payload(nlh);
		*(int *)data = rtm->rtm_type == RTN_LOCAL;
	}
	return MNL_CB_OK;
}

/* Does a route lookup for the IPv6 address addr say "local"? 1, 0 or -errno. */
static int addr6_is_local(const uint8_t *addr)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct rtmsg *rtm;
	struct nlmsghdr *nlh = req_start(buf, RTM_GETROUTE, NLM_F_ACK, sizeof(*rtm), (void **)&rtm);
	int local = 0, r;

	rtm->rtm_family = AF_INET6;
	rtm->rtm_dst_len = 128;
	mnl_attr_put(nlh, RTA_DST, 16, addr);
	r = nl_request(nlh, local_route_cb, &local);
	return r < 0 ? r : local;
}

int nl_addr_add(int ifindex, int family, const uint8_t *addr, uint8_t plen)
{
	const struct timespec tick = { 0, 10 * 1000 * 1000 };
	int r;

	r = addr_change(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, ifindex,
			family, addr, plen);
	if (r || family != AF_INET6)
		return r;
	/*
	 * The kernel installs an IPv6 address's local route from a
	 * workqueue, even with NODAD, and on a loaded machine that lags by
	 * tens of milliseconds; until then packets to the address are
	 * dropped. Wait (at most a second) so that "configured" means
	 * "reachable". Not finishing in time is not an error: it will come.
	 */
	for (int i = 0; i < 100 && addr6_is_local(addr) == 0; i++)
		nanosleep(&tick, NULL);
	return 0;
}

int nl_addr_del(int ifindex, int family, const uint8_t *addr, uint8_t plen)
{
	return addr_change(RTM_DELADDR, 0, ifindex, family, addr, plen);
}

static void mask_prefix(uint8_t *out, const uint8_t *in, int alen, uint8_t plen)
{
	for (int i = 0; i < alen; i++) {
		int keep = (int)plen - i * 8;

		if (keep >= 8)
			out[i] = in[i];
		else if (keep <= 0)
			out[i] = 0;
		else
			out[i] = in[i] & (uint8_t)(0xff << (8 - keep));
	}
}

static int route_change(uint16_t type, uint16_t flags, int ifindex, int family,
			const uint8_t *dst, uint8_t plen, uint32_t table)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	uint8_t masked[16];
	int alen = check_args(ifindex, family, plen);

	if (alen < 0)
		return alen;
	if (table == RT_TABLE_UNSPEC || table == RT_TABLE_LOCAL || table == RT_TABLE_DEFAULT)
		return -EINVAL;
	nlh = req_start(buf, type, NLM_F_ACK | flags, sizeof(*rtm), (void **)&rtm);
	rtm->rtm_family = (uint8_t)family;
	rtm->rtm_dst_len = plen;
	/* The byte holds tables below 256; RTA_TABLE holds any. */
	rtm->rtm_table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
	if (type == RTM_NEWROUTE) {
		rtm->rtm_protocol = RTPROT_STATIC;
		rtm->rtm_scope = RT_SCOPE_LINK;
		rtm->rtm_type = RTN_UNICAST;
	} else {
		/*
		 * As iproute2 does: protocol and type unset, scope "nowhere",
		 * so the route is deleted whoever added it.
		 */
		rtm->rtm_scope = RT_SCOPE_NOWHERE;
	}
	/* The kernel rejects host bits in a route's destination. */
	mask_prefix(masked, dst, alen, plen);
	if (plen)
		mnl_attr_put(nlh, RTA_DST, (size_t)alen, masked);
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
	mnl_attr_put_u32(nlh, RTA_TABLE, table);
	return nl_request(nlh, NULL, NULL);
}

/* A throw route: the lookup leaves `table` and goes on with the next rule. */
static int throw_change(uint16_t type, uint16_t flags, int family, const uint8_t *dst, uint8_t plen,
			uint32_t table)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	uint8_t masked[16];
	int alen = addr_len(family);

	if (alen < 0)
		return -EAFNOSUPPORT;
	if (plen > alen * 8 || table == RT_TABLE_UNSPEC || table == RT_TABLE_LOCAL ||
	    table == RT_TABLE_MAIN || table == RT_TABLE_DEFAULT)
		return -EINVAL;
	nlh = req_start(buf, type, NLM_F_ACK | flags, sizeof(*rtm), (void **)&rtm);
	rtm->rtm_family = (uint8_t)family;
	rtm->rtm_dst_len = plen;
	rtm->rtm_table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_scope = type == RTM_NEWROUTE ? RT_SCOPE_UNIVERSE : RT_SCOPE_NOWHERE;
	rtm->rtm_type = RTN_THROW;
	mask_prefix(masked, dst, alen, plen);
	if (plen)
		mnl_attr_put(nlh, RTA_DST, (size_t)alen, masked);
	mnl_attr_put_u32(nlh, RTA_TABLE, table);
	return nl_request(nlh, NULL, NULL);
}

int nl_route_throw_add(int family, const uint8_t *dst, uint8_t plen, uint32_t table)
{
	return throw_change(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, family, dst, plen, table);
}

int nl_route_throw_del(int family, const uint8_t *dst, uint8_t plen, uint32_t table)
{
	return throw_change(RTM_DELROUTE, 0, family, dst, plen, table);
}

int nl_route_add(int ifindex, int family, const uint8_t *dst, uint8_t plen, uint32_t table)
{
	return route_change(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, ifindex,
			    family, dst, plen, table);
}

int nl_route_del(int ifindex, int family, const uint8_t *dst, uint8_t plen, uint32_t table)
{
	return route_change(RTM_DELROUTE, 0, ifindex, family, dst, plen, table);
}

/*
 * One policy rule "[not uidrange U-U] lookup table" at priority pref. The
 * uid range is inverted (FIB_RULE_INVERT) so that the one user it names
 * skips the rule and goes on through the host's own rules untouched.
 */
static int rule_change(uint16_t type, uint16_t flags, int family, uint32_t table,
		       uint32_t pref, long uid)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct fib_rule_hdr *frh;

	if (addr_len(family) < 0)
		return -EAFNOSUPPORT;
	if (table == RT_TABLE_UNSPEC || table == RT_TABLE_LOCAL || table == RT_TABLE_MAIN ||
	    table == RT_TABLE_DEFAULT || pref == 0 || uid > 0xfffffffeL)
		return -EINVAL;
	nlh = req_start(buf, type, NLM_F_ACK | flags, sizeof(*frh), (void **)&frh);
	frh->family = (uint8_t)family;
	frh->action = FR_ACT_TO_TBL;
	frh->table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
	mnl_attr_put_u32(nlh, FRA_TABLE, table);
	mnl_attr_put_u32(nlh, FRA_PRIORITY, pref);
	if (uid >= 0) {
		struct fib_rule_uid_range r = { (uint32_t)uid, (uint32_t)uid };

		frh->flags |= FIB_RULE_INVERT;
		mnl_attr_put(nlh, FRA_UID_RANGE, sizeof(r), &r);
	}
	return nl_request(nlh, NULL, NULL);
}

int nl_rule_add(int family, uint32_t table, uint32_t pref, long uid)
{
	return rule_change(RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, family, table, pref, uid);
}

int nl_rule_del(int family, uint32_t table, uint32_t pref)
{
	/* Priority and table name the rule; whatever its selectors. */
	return rule_change(RTM_DELRULE, 0, family, table, pref, -1);
}

struct route_dump {
	int ifindex;
	int (*cb)(int family, const uint8_t *dst, uint8_t plen, void *arg);
	void *arg;
	int result;		/* the callback's non-zero return, if any */
};

static int route_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	/* Attributes newer than our headers are skipped, not fatal. */
	if (mnl_attr_type_valid(attr, RTA_MAX) < 0)
		return MNL_CB_OK;
	if ((type == RTA_OIF || type == RTA_TABLE) &&
	    mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
		return MNL_CB_ERROR;
	tb[type] = attr;
	return MNL_CB_OK;
}

static int route_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct route_dump *d = data;
	const struct nlattr *tb[RTA_MAX + 1] = { 0 };
	const struct rtmsg *rtm;
	uint8_t dst[16] = { 0 };
	uint32_t table;
	int alen;

	if (nlh->nlmsg_type != RTM_NEWROUTE ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*rtm))
		return MNL_CB_OK;
	rtm = mnl_nlmsg_get_payload(nlh);
	alen = addr_len(rtm->rtm_family);
	if (alen < 0 || rtm->rtm_type != RTN_UNICAST || (rtm->rtm_flags & RTM_F_CLONED) ||
	    rtm->rtm_dst_len > alen * 8)
		return MNL_CB_OK;
	if (mnl_attr_parse(nlh, sizeof(*rtm), route_attr_cb, tb) < 0)
		return MNL_CB_ERROR;
	table = tb[RTA_TABLE] ? mnl_attr_get_u32(tb[RTA_TABLE]) : rtm->rtm_table;
	if (table != RT_TABLE_MAIN || !tb[RTA_OIF] ||
	    mnl_attr_get_u32(tb[RTA_OIF]) != (uint32_t)d->ifindex)
		return MNL_CB_OK;
	if (tb[RTA_DST]) {
		if (mnl_attr_get_payload_len(tb[RTA_DST]) != (uint16_t)alen)
			return MNL_CB_OK;
		memcpy(dst, mnl_attr_get_payload(tb[RTA_DST]), (size_t)alen);
	}
	d->result = d->cb(rtm->rtm_family, dst, rtm->rtm_dst_len, d->arg);
	return d->result ? MNL_CB_STOP : MNL_CB_OK;
}

int nl_route_dump(int ifindex,
		  int (*cb)(int family, const uint8_t *dst, uint8_t plen, void *arg),
		  void *arg)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	struct route_dump d = { ifindex, cb, arg, 0 };
	int r;

	if (ifindex <= 0 || !cb)
		return -EINVAL;
	nlh = req_start(buf, RTM_GETROUTE, NLM_F_DUMP, sizeof(*rtm), (void **)&rtm);
	rtm->rtm_family = AF_UNSPEC;
	r = nl_request(nlh, route_msg_cb, &d);
	return d.result ? d.result : r;
}
