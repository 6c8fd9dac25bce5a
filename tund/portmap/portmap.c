/*
 * The port-mapping client (portmap.h): which protocol to try, its
 * sockets and retries on the event loop, renewal and deletion. The
 * gateway is the IPv4 default route's (/proc/net/route). Every answer is
 * untrusted: only the gateway's address and port are read (connected
 * sockets), PCP answers must echo our nonce and port, and the granted
 * address, port and lifetime pass mapping_check before they become a
 * candidate. A step has a strict deadline: 250 ms, doubled, four sends
 * (under 4 s), then the next protocol; with none left, a new round in
 * five minutes. UPnP-IGD's calls block, so they run in a helper thread
 * (upnp.c) and its answer comes back on a pipe the loop watches.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
/* Debian's library has the error strings; its header hides them behind this. */
#define ENABLE_STRNATPMPERR 1
#include <natpmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tund/base/log.h"
#include "tund/base/loop.h"
#include "tund/conf/config.h"
#include "tund/portmap/mapping.h"
#include "tund/portmap/pcp.h"
#include "tund/portmap/pmp.h"
#include "tund/portmap/portmap.h"
#include "tund/portmap/upnp.h"

#define PM_FIRST_WAIT_MS	250
#define PM_SENDS		4
#define PM_ROUND_MS		(5 * 60 * 1000)	/* a new round after every protocol failed */
#define PM_RENEW_RETRY_MS	10000		/* a renewal that got no answer */
#define PM_UPNP_MS		8000		/* discovery and two SOAP calls, in the helper thread */
#define PM_ANNOUNCE_PORT	5350		/* where gateways send PCP ANNOUNCE (RFC 6887 14.1) */
#define PM_ANNOUNCE_SPREAD_MS	5000		/* every client on the LAN hears it: not all at once */
#define PM_ANNOUNCE_MIN_MS	10000		/* at most one re-map this often, whoever sends */

enum pm_step { PM_IDLE, PM_PCP, PM_NATPMP_ADDR, PM_NATPMP_MAP, PM_UPNP, PM_MAPPED, PM_WAIT };
enum { PROTO_PCP, PROTO_NATPMP, PROTO_UPNP };
_Static_assert(1u << PROTO_PCP == CONFIG_PORTMAP_PCP && 1u << PROTO_NATPMP == CONFIG_PORTMAP_NATPMP &&
    1u << PROTO_UPNP == CONFIG_PORTMAP_UPNP, "portmap's protocol order is the config's bits");

/* A descriptor on the loop, and whose it is. */
struct pm_sock {
	struct loop_io io;
	struct portmap *pm;
};

struct portmap {
	struct loop *loop;
	unsigned protos;
	int port;
	portmap_change_fn *fn;
	void *arg;
	struct loop_timer timer;
	enum pm_step step;
	int cur;			/* PROTO_* of the step */
	int sends;
	uint64_t wait_ms, deadline_ms;
	int have_gw;
	uint8_t gw[4];
	struct pm_sock pcp;
	uint8_t nonce[PCP_NONCE_LEN];
	struct pm_sock npio;
	natpmp_t np;
	int np_open;
	struct pm_sock upio;		/* the UPnP thread's answers */
	struct pm_sock ann;		/* PCP ANNOUNCE, port 5350 */
	struct pcp_epoch epoch;		/* the gateway's PCP epoch times (pcp.h) */
	uint64_t remap_ms;		/* the last re-map a restart asked for */
	uint32_t upnp_id;		/* the request we wait for */
	uint8_t np_addr[4];		/* NAT-PMP's public address, step 1 */
	/* The mapping. */
	int mapped, by;
	uint8_t ext[4];
	uint16_t ext_port;
	uint32_t lifetime;
	uint64_t expires_ms;
	struct portmap_proto_info st[PORTMAP_PROTOS];
};

static void pm_next(struct portmap *pm, int from);

static void pm_state(struct portmap *pm, int proto, const char *state, const char *detail)
{
	pm->st[proto].state = state;
	snprintf(pm->st[proto].detail, sizeof(pm->st[proto].detail), "%s", detail ? detail : "");
}

static void pm_ep(const uint8_t a[4], uint16_t port, struct sockaddr_in6 *ep)
{
	memset(ep, 0, sizeof(*ep));
	ep->sin6_family = AF_INET6;
	ep->sin6_addr.s6_addr[10] = ep->sin6_addr.s6_addr[11] = 0xff;
	memcpy(ep->sin6_addr.s6_addr + 12, a, 4);
	ep->sin6_port = htons(port);
}

static void pm_drop(struct portmap *pm)
{
	if (!pm->mapped)
		return;
	pm->mapped = 0;
	pm_state(pm, pm->by, "untried", NULL);
	log_info("portmap: the mapping from %s is gone", pm->st[pm->by].name);
	pm->fn(pm->arg, NULL);
}

/* --------------------------------------------------------- sockets */

static void pm_pcp_close(struct portmap *pm)
{
	if (pm->pcp.io.fd < 0)
		return;
	loop_del(pm->loop, &pm->pcp.io);
	close(pm->pcp.io.fd);
	pm->pcp.io.fd = -1;
}

static void pm_np_close(struct portmap *pm)
{
	if (!pm->np_open)
		return;
	loop_del(pm->loop, &pm->npio.io);
	closenatpmp(&pm->np);
	pm->np_open = 0;
}

/* A UDP socket connected to the gateway's port 5351: the kernel then
 * hands us only datagrams from there. */
static int pm_pcp_open(struct portmap *pm)
{
	struct sockaddr_in gw = { .sin_family = AF_INET, .sin_port = htons(PCP_PORT) };
	int fd, rc;

	if (pm->pcp.io.fd >= 0)
		return 0;
	memcpy(&gw.sin_addr, pm->gw, 4);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (struct sockaddr *)&gw, sizeof(gw)) < 0 ? -errno : 0;
	pm->pcp.io.fd = fd;
	if (rc == 0)
		rc = loop_add(pm->loop, &pm->pcp.io, EPOLLIN);
	if (rc < 0) {
		close(fd);
		pm->pcp.io.fd = -1;
	}
	return rc;
}

static int pm_np_open(struct portmap *pm)
{
	in_addr_t gw;
	int rc;

	if (pm->np_open)
		return 0;
	memcpy(&gw, pm->gw, 4);
	/* Forced gateway: the library does not read the routes itself. */
	if ((rc = initnatpmp(&pm->np, 1, gw)) < 0)
		return -EIO;
	pm->npio.io.fd = pm->np.s;
	if ((rc = loop_add(pm->loop, &pm->npio.io, EPOLLIN)) < 0) {
		closenatpmp(&pm->np);
		return rc;
	}
	pm->np_open = 1;
	return 0;
}

/* ------------------------------------------------------------ PCP */

static int pm_pcp_send(struct portmap *pm, uint32_t lifetime)
{
	struct sockaddr_in me;
	socklen_t sl = sizeof(me);
	struct pcp_map m = { .internal_port = (uint16_t)pm->port, .lifetime = lifetime };
	uint8_t buf[PCP_MAP_LEN];
	int n;

	/* PCP wants the address the gateway sees us at, or it answers
	 * ADDRESS_MISMATCH. */
	if (getsockname(pm->pcp.io.fd, (struct sockaddr *)&me, &sl) < 0)
		return -errno;
	m.client[10] = m.client[11] = 0xff;
	memcpy(m.client + 12, &me.sin_addr, 4);
	m.external[10] = m.external[11] = 0xff;
	if (pm->mapped && pm->by == PROTO_PCP) {
		/* Renewal: the same external port and address (RFC 6887 11.2.1). */
		memcpy(m.external + 12, pm->ext, 4);
		m.external_port = pm->ext_port;
	} else {
		m.external_port = (uint16_t)pm->port;
	}
	memcpy(m.nonce, pm->nonce, PCP_NONCE_LEN);
	n = pcp_map_build(&m, buf, sizeof(buf));
	if (n < 0)
		return n;
	return send(pm->pcp.io.fd, buf, (size_t)n, 0) < 0 ? -errno : 0;
}

static void pm_grant(struct portmap *pm, int proto, const uint8_t ext[4], uint16_t port, uint32_t lifetime)
{
	char why[128], text[UDP_ADDR_STRLEN];
	struct sockaddr_in6 ep;
	int changed;
	uint32_t life = lifetime > MAPPING_LIFETIME_MAX ? MAPPING_LIFETIME_MAX : lifetime;

	if (mapping_check(ext, port, lifetime, why, sizeof(why)) < 0) {
		log_warnx("portmap: %s answered but %s; not a candidate", pm->st[proto].name, why);
		pm_state(pm, proto, "bad answer", why);
		pm_next(pm, proto + 1);
		return;
	}
	changed = !pm->mapped || pm->by != proto || memcmp(pm->ext, ext, 4) != 0 || pm->ext_port != port;
	if (pm->mapped && changed)
		pm_drop(pm);
	pm->mapped = 1;
	pm->by = proto;
	memcpy(pm->ext, ext, 4);
	pm->ext_port = port;
	pm->lifetime = lifetime;
	pm->expires_ms = loop_now_ms() + (uint64_t)life * 1000;
	pm_state(pm, proto, "mapped", NULL);
	pm_ep(ext, port, &ep);
	udp_addr_format(&ep, text, sizeof(text));
	if (changed) {
		log_info("portmap: %s maps %s to our UDP port %d for %u s", pm->st[proto].name, text, pm->port,
		    lifetime);
		pm->fn(pm->arg, &ep);
	} else {
		log_debug("portmap: %s renewed %s for %u s", pm->st[proto].name, text, lifetime);
	}
	pm->step = PM_MAPPED;
	loop_timer_arm(pm->loop, &pm->timer, loop_now_ms() + (uint64_t)mapping_renew_after(lifetime) * 1000);
}

static void pm_pcp_rx(struct loop_io *io, uint32_t events)
{
	struct portmap *pm = ((struct pm_sock *)io)->pm;
	uint8_t buf[PCP_MAX_LEN + 4];
	struct pcp_answer a;
	char why[128];
	ssize_t n;

	for (;;) {
		n = recv(io->fd, buf, sizeof(buf), 0);
		if (n < 0) {
			/* An ICMP port unreachable: nobody serves PCP there. */
			if (errno == ECONNREFUSED && pm->step == PM_PCP && pm->cur == PROTO_PCP) {
				pm_pcp_close(pm);
				pm_state(pm, PROTO_PCP, "no answer", "port unreachable");
				pm_next(pm, PROTO_PCP + 1);
			}
			return;
		}
		if (pm->step != PM_PCP)
			continue;
		if (pcp_answer_parse(buf, (size_t)n, &a, why, sizeof(why)) < 0) {
			log_debug("portmap: PCP answer ignored: %s", why);
			continue;
		}
		/* Not the answer to our question (another request, a forger
		 * on the LAN without our nonce): not ours to take. */
		if (a.has_body && (memcmp(a.map.nonce, pm->nonce, PCP_NONCE_LEN) != 0 ||
		    a.map.internal_port != pm->port))
			continue;
		/* Our own request's answer maps anew anyway; the check keeps
		 * the reference for the next ANNOUNCE. */
		if (!pcp_epoch_check(&pm->epoch, a.epoch, loop_now_ms()))
			log_info("portmap: the gateway's PCP epoch time says it restarted");
		if (a.result != PCP_SUCCESS) {
			log_info("portmap: the gateway refused a PCP mapping: %s", pcp_result_name(a.result));
			pm_state(pm, PROTO_PCP, "refused", pcp_result_name(a.result));
			pm_next(pm, PROTO_PCP + 1);
			return;
		}
		if (memcmp(a.map.external, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) != 0) {
			pm_state(pm, PROTO_PCP, "bad answer", "the gateway granted an IPv6 address for IPv4");
			pm_next(pm, PROTO_PCP + 1);
			return;
		}
		pm_grant(pm, PROTO_PCP, a.map.external + 12, a.map.external_port, a.map.lifetime);
		return;
	}
}

/* A gateway that restarted lost its mappings (RFC 6887 8.5, 14.1.3):
 * renew ours now, or ask from the start if we had none, rather than at
 * half the lifetime or in five minutes. After a random wait, since every
 * client on the LAN heard the same multicast. */
static void pm_gateway_restarted(struct portmap *pm, uint32_t epoch)
{
	uint32_t spread = 0;
	uint64_t now = loop_now_ms();

	if (pm->step != PM_MAPPED && pm->step != PM_WAIT)
		return;		/* asking already */
	if (pm->remap_ms && now - pm->remap_ms < PM_ANNOUNCE_MIN_MS)
		return;
	pm->remap_ms = now;
	if (getrandom(&spread, sizeof(spread), 0) != sizeof(spread))
		spread = 0;
	log_info("portmap: the gateway announced a restart (PCP epoch time %u s): %s", epoch,
	    pm->mapped ? "mapping again" : "asking again");
	loop_timer_arm(pm->loop, &pm->timer, now + spread % PM_ANNOUNCE_SPREAD_MS);
}

/* Unsolicited, so untrusted: only the gateway's address and PCP port, a
 * well-formed ANNOUNCE, and an epoch time that shows a restart count; the
 * worst a forger on the LAN gets is one renewal per PM_ANNOUNCE_MIN_MS. */
static void pm_ann_rx(struct loop_io *io, uint32_t events)
{
	struct portmap *pm = ((struct pm_sock *)io)->pm;
	uint8_t buf[PCP_MAX_LEN + 4];
	struct sockaddr_in from;
	socklen_t fl;
	uint32_t epoch;
	char why[96];
	ssize_t n;

	for (int i = 0; i < 16; i++) {
		fl = sizeof(from);
		n = recvfrom(io->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		if (n < 0)
			return;
		if (!pm->have_gw || fl != sizeof(from) || from.sin_family != AF_INET ||
		    memcmp(&from.sin_addr, pm->gw, 4) != 0 || ntohs(from.sin_port) != PCP_PORT)
			continue;
		if (pcp_announce_parse(buf, (size_t)n, &epoch, why, sizeof(why)) < 0) {
			log_debug("portmap: datagram on port %d ignored: %s", PM_ANNOUNCE_PORT, why);
			continue;
		}
		if (!pcp_epoch_check(&pm->epoch, epoch, loop_now_ms()))
			pm_gateway_restarted(pm, epoch);
	}
}

/* Port 5350 on every address: the gateway's ANNOUNCE goes to 224.0.0.1,
 * which every IPv4 interface has joined. Without it (another PCP client
 * holds the port) restarts are noticed at the next renewal, as before. */
static void pm_ann_open(struct portmap *pm)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(PM_ANNOUNCE_PORT) };
	int one = 1, fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		log_debug("portmap: cannot listen for PCP ANNOUNCE on port %d: %s", PM_ANNOUNCE_PORT,
		    strerror(errno));
		close(fd);
		return;
	}
	pm->ann.io.fd = fd;
	if (loop_add(pm->loop, &pm->ann.io, EPOLLIN) < 0) {
		close(fd);
		pm->ann.io.fd = -1;
	}
}

/* -------------------------------------------------------- NAT-PMP */

/* Also called by the timer (events 0): the library resends when its
 * retry time came, and reads what is there. */
static void pm_np_rx(struct loop_io *io, uint32_t events)
{
	struct portmap *pm = ((struct pm_sock *)io)->pm;
	uint8_t b[PMP_ANSWER_MAX + 1];
	natpmpresp_t r;
	char why[96];
	ssize_t n;
	int rc;

	if (pm->step != PM_NATPMP_ADDR && pm->step != PM_NATPMP_MAP) {
		/* Drain: nothing is asked. */
		while (recv(io->fd, b, sizeof(b), MSG_DONTWAIT) >= 0)
			;
		return;
	}
	/* Looked at before the library takes it (pmp.h). */
	while ((n = recv(io->fd, b, sizeof(b), MSG_PEEK | MSG_DONTWAIT)) >= 0 &&
	    pmp_answer_check(b, (size_t)n, pm->step == PM_NATPMP_ADDR ? PMP_OP_ADDR : PMP_OP_UDP,
	    why, sizeof(why)) < 0) {
		log_debug("portmap: NAT-PMP answer ignored: %s", why);
		(void)recv(io->fd, b, sizeof(b), MSG_DONTWAIT);
	}
	rc = readnatpmpresponseorretry(&pm->np, &r);
	if (rc == NATPMP_TRYAGAIN)
		return;
	if (rc < 0) {
		const char *err = strnatpmperr(rc);
		/* The library's "no gateway support" is an ICMP port
		 * unreachable: nobody serves NAT-PMP there. */
		int none = rc == NATPMP_ERR_RECVFROM || rc == NATPMP_ERR_NOGATEWAYSUPPORT;

		log_info("portmap: NAT-PMP: %s", err ? err : "error");
		pm_state(pm, PROTO_NATPMP, none ? "no answer" : "refused",
		    rc == NATPMP_ERR_NOGATEWAYSUPPORT ? "port unreachable" : err);
		pm_np_close(pm);
		pm_next(pm, PROTO_NATPMP + 1);
		return;
	}
	if (pm->step == PM_NATPMP_ADDR) {
		if (r.type != NATPMP_RESPTYPE_PUBLICADDRESS)
			return;
		memcpy(pm->np_addr, &r.pnu.publicaddress.addr, 4);
		if (sendnewportmappingrequest(&pm->np, NATPMP_PROTOCOL_UDP, (uint16_t)pm->port,
		    pm->mapped && pm->by == PROTO_NATPMP ? pm->ext_port : (uint16_t)pm->port,
		    MAPPING_LIFETIME_ASK) < 0) {
			pm_state(pm, PROTO_NATPMP, "no answer", "cannot send");
			pm_next(pm, PROTO_NATPMP + 1);
			return;
		}
		pm->step = PM_NATPMP_MAP;
		return;
	}
	if (r.type != NATPMP_RESPTYPE_UDPPORTMAPPING || r.pnu.newportmapping.privateport != pm->port)
		return;
	pm_grant(pm, PROTO_NATPMP, pm->np_addr, r.pnu.newportmapping.mappedpublicport,
	    r.pnu.newportmapping.lifetime);
}

/* ----------------------------------------------------------- UPnP */

static int pm_upnp_ask(struct portmap *pm, int op, uint16_t ext_port, uint32_t lifetime)
{
	struct upnp_req q = { .op = op, .port = (uint16_t)pm->port, .ext_port = ext_port, .lifetime = lifetime };

	if (upnp_worker_fd() < 0)
		return -ENOTCONN;
	if (pm->upio.io.fd < 0) {
		int rc;

		pm->upio.io.fd = upnp_worker_fd();
		if ((rc = loop_add(pm->loop, &pm->upio.io, EPOLLIN)) < 0) {
			pm->upio.io.fd = -1;
			return rc;
		}
	}
	q.id = op == UPNP_MAP ? ++pm->upnp_id : 0;
	return upnp_worker_ask(&q);
}

static void pm_upnp_rx(struct loop_io *io, uint32_t events)
{
	struct portmap *pm = ((struct pm_sock *)io)->pm;
	struct upnp_reply a;

	while (upnp_worker_read(&a) == 0) {
		if (a.op != UPNP_MAP)
			continue;
		if (pm->step != PM_UPNP || a.id != pm->upnp_id) {
			/* Granted after we gave up waiting: not ours to keep. */
			if (a.rc == 0)
				(void)pm_upnp_ask(pm, UPNP_DELETE, a.ext_port, 0);
			continue;
		}
		if (a.rc < 0) {
			log_info("portmap: UPnP: %s", a.why);
			pm_state(pm, PROTO_UPNP, a.rc == -EPERM ? "refused" : "no answer", a.why);
			pm_next(pm, PROTO_UPNP + 1);
			return;
		}
		/* A permanent lease (some routers know no other) is renewed as
		 * if it were the one asked for. */
		pm_grant(pm, PROTO_UPNP, a.ext, a.ext_port, a.lifetime ? a.lifetime : MAPPING_LIFETIME_ASK);
		return;
	}
}

/* --------------------------------------------------------- rounds */

static void pm_wait(struct portmap *pm, uint64_t ms)
{
	pm->step = PM_WAIT;
	loop_timer_arm(pm->loop, &pm->timer, loop_now_ms() + ms);
}

static int pm_read_gateway(struct portmap *pm)
{
	char buf[8192];
	uint8_t gw[4];
	ssize_t n = 0, r;
	int fd = open("/proc/net/route", O_RDONLY | O_CLOEXEC), rc = -ENOENT;

	if (fd < 0)
		return -errno;
	while (n < (ssize_t)sizeof(buf) - 1 && (r = read(fd, buf + n, sizeof(buf) - 1 - (size_t)n)) > 0)
		n += r;
	close(fd);
	if (n > 0)
		rc = mapping_gateway_parse(buf, (size_t)n, gw);
	/* Another gateway's epoch times are no reference for this one's. */
	if (rc < 0 || !pm->have_gw || memcmp(gw, pm->gw, 4) != 0)
		memset(&pm->epoch, 0, sizeof(pm->epoch));
	if (rc == 0)
		memcpy(pm->gw, gw, 4);
	pm->have_gw = rc == 0;
	return rc;
}

/* Starts protocol proto (or the next enabled one after it). */
static void pm_next(struct portmap *pm, int from)
{
	int rc;

	for (int p = from; p < PORTMAP_PROTOS; p++) {
		if (!(pm->protos & (1u << p)))
			continue;
		pm->cur = p;
		pm->sends = 1;
		pm->wait_ms = PM_FIRST_WAIT_MS;
		pm->deadline_ms = loop_now_ms() + PM_FIRST_WAIT_MS;
		if (p == PROTO_PCP) {
			rc = 0;
			if ((!pm->mapped || pm->by != PROTO_PCP) &&
			    getrandom(pm->nonce, sizeof(pm->nonce), 0) != sizeof(pm->nonce))
				rc = -EIO;
			if (rc == 0)
				rc = pm_pcp_open(pm);
			if (rc == 0)
				rc = pm_pcp_send(pm, MAPPING_LIFETIME_ASK);
			pm->step = PM_PCP;
		} else if (p == PROTO_NATPMP) {
			rc = pm_np_open(pm);
			if (rc == 0 && sendpublicaddressrequest(&pm->np) < 0)
				rc = -EIO;
			/* libnatpmp paces its own resends; ours is the deadline. */
			pm->deadline_ms = loop_now_ms() + 4000;
			pm->step = PM_NATPMP_ADDR;
		} else {
			rc = pm_upnp_ask(pm, UPNP_MAP, pm->mapped && pm->by == PROTO_UPNP ? pm->ext_port :
			    (uint16_t)pm->port, MAPPING_LIFETIME_ASK);
			pm->deadline_ms = loop_now_ms() + PM_UPNP_MS;
			pm->step = PM_UPNP;
		}
		if (rc < 0) {
			pm_state(pm, p, "no answer", rc == -ENOTCONN ? "no UPnP helper (it starts with q2qd)" :
			    strerror(-rc));
			continue;
		}
		pm_state(pm, p, "asking", NULL);
		loop_timer_arm(pm->loop, &pm->timer, p == PROTO_NATPMP ? loop_now_ms() + 100 : pm->deadline_ms);
		return;
	}
	if (pm->mapped && loop_now_ms() < pm->expires_ms) {
		/* A renewal found nobody: keep what we have until it expires. */
		pm->step = PM_MAPPED;
		pm_state(pm, pm->by, "mapped", "renewal unanswered");
		loop_timer_arm(pm->loop, &pm->timer, loop_now_ms() + PM_RENEW_RETRY_MS);
		return;
	}
	pm_drop(pm);
	pm_wait(pm, PM_ROUND_MS);
}

static void pm_round(struct portmap *pm)
{
	if (pm_read_gateway(pm) < 0) {
		for (int p = 0; p < PORTMAP_PROTOS; p++)
			if (pm->protos & (1u << p))
				pm_state(pm, p, "no answer", "no IPv4 default gateway");
		pm_drop(pm);
		pm_wait(pm, PM_ROUND_MS);
		return;
	}
	pm_next(pm, 0);
}

static void pm_timeout(struct portmap *pm)
{
	pm_state(pm, pm->cur, "no answer", NULL);
	if (pm->cur == PROTO_PCP)
		pm_pcp_close(pm);
	else if (pm->cur == PROTO_NATPMP)
		pm_np_close(pm);
	pm_next(pm, pm->cur + 1);
}

static void pm_timer(struct loop_timer *t)
{
	struct portmap *pm = (struct portmap *)((char *)t - offsetof(struct portmap, timer));
	uint64_t now = loop_now_ms();

	switch (pm->step) {
	case PM_PCP:
		if (pm->sends >= PM_SENDS) {
			pm_timeout(pm);
			return;
		}
		pm->sends++;
		pm->wait_ms *= 2;
		pm->deadline_ms = now + pm->wait_ms;
		(void)pm_pcp_send(pm, MAPPING_LIFETIME_ASK);
		loop_timer_arm(pm->loop, &pm->timer, pm->deadline_ms);
		return;
	case PM_NATPMP_ADDR:
	case PM_NATPMP_MAP:
		if (now >= pm->deadline_ms) {
			pm_timeout(pm);
			return;
		}
		/* Armed first: what pm_np_rx decides re-arms it. */
		loop_timer_arm(pm->loop, &pm->timer, now + 100);
		pm_np_rx(&pm->npio.io, 0);
		return;
	case PM_UPNP:
		pm_timeout(pm);
		return;
	case PM_MAPPED:
		if (now >= pm->expires_ms) {
			pm_drop(pm);
			pm_round(pm);
			return;
		}
		pm_next(pm, pm->by);
		return;
	case PM_WAIT:
		pm_round(pm);
		return;
	case PM_IDLE:
		return;
	}
}

/* ------------------------------------------------------------ API */

int portmap_start(struct loop *l, unsigned protos, int port, portmap_change_fn *fn, void *arg,
    struct portmap **out)
{
	static const char *const names[PORTMAP_PROTOS] = { "pcp", "natpmp", "upnp" };
	struct portmap *pm = calloc(1, sizeof(*pm));

	if (!pm)
		return -ENOMEM;
	pm->loop = l;
	pm->protos = protos;
	pm->port = port;
	pm->fn = fn;
	pm->arg = arg;
	pm->timer.fn = pm_timer;
	pm->pcp.io.fd = -1;
	pm->pcp.io.fn = pm_pcp_rx;
	pm->pcp.pm = pm;
	pm->npio.io.fd = -1;
	pm->npio.io.fn = pm_np_rx;
	pm->npio.pm = pm;
	pm->upio.io.fd = -1;
	pm->upio.io.fn = pm_upnp_rx;
	pm->upio.pm = pm;
	pm->ann.io.fd = -1;
	pm->ann.io.fn = pm_ann_rx;
	pm->ann.pm = pm;
	if (protos & CONFIG_PORTMAP_PCP)
		pm_ann_open(pm);
	for (int p = 0; p < PORTMAP_PROTOS; p++) {
		pm->st[p].name = names[p];
		pm_state(pm, p, protos & (1u << p) ? "untried" : "off", NULL);
	}
	if (protos)
		pm_round(pm);
	*out = pm;
	return 0;
}

void portmap_restart(struct portmap *pm)
{
	if (!pm || !pm->protos)
		return;
	pm_pcp_close(pm);
	pm_np_close(pm);
	pm_drop(pm);
	pm_round(pm);
}

void portmap_stop(struct portmap *pm)
{
	if (!pm)
		return;
	loop_timer_cancel(pm->loop, &pm->timer);
	if (pm->mapped && pm->by == PROTO_PCP && pm_pcp_open(pm) == 0 && pm_pcp_send(pm, 0) == 0)
		log_info("portmap: asked PCP to delete the mapping of UDP port %d", pm->port);
	/* RFC 6886 3.4: lifetime 0 and external port 0 delete it. */
	if (pm->mapped && pm->by == PROTO_NATPMP && pm_np_open(pm) == 0 &&
	    sendnewportmappingrequest(&pm->np, NATPMP_PROTOCOL_UDP, (uint16_t)pm->port, 0, 0) >= 0)
		log_info("portmap: asked NAT-PMP to delete the mapping of UDP port %d", pm->port);
	if (pm->mapped && pm->by == PROTO_UPNP && pm_upnp_ask(pm, UPNP_DELETE, pm->ext_port, 0) == 0)
		log_info("portmap: asked UPnP to delete the mapping of UDP port %d", pm->port);
	pm_pcp_close(pm);
	pm_np_close(pm);
	if (pm->upio.io.fd >= 0)
		loop_del(pm->loop, &pm->upio.io);
	if (pm->ann.io.fd >= 0) {
		loop_del(pm->loop, &pm->ann.io);
		close(pm->ann.io.fd);
	}
	free(pm);
}

int portmap_endpoint(const struct portmap *pm, struct sockaddr_in6 *ep)
{
	if (!pm || !pm->mapped)
		return -ENOENT;
	pm_ep(pm->ext, pm->ext_port, ep);
	return 0;
}

void portmap_info(const struct portmap *pm, struct portmap_info *out)
{
	uint64_t now = loop_now_ms();

	memset(out, 0, sizeof(*out));
	if (!pm)
		return;
	out->enabled = pm->protos != 0;
	if (pm->have_gw)
		inet_ntop(AF_INET, pm->gw, out->gateway, sizeof(out->gateway));
	memcpy(out->proto, pm->st, sizeof(out->proto));
	if (pm->mapped) {
		struct sockaddr_in6 ep;

		out->mapped = 1;
		out->protocol = pm->st[pm->by].name;
		pm_ep(pm->ext, pm->ext_port, &ep);
		udp_addr_format(&ep, out->external, sizeof(out->external));
		out->lifetime = pm->lifetime;
		out->expires_in = pm->expires_ms > now ? (uint32_t)((pm->expires_ms - now) / 1000) : 0;
	}
}
