/*
 * Path MTU per peer: the sending and answering around plpmtu.c's
 * decisions, and the per-packet choice between sending whole, splitting
 * and refusing. Relayed paths are not probed: they run through the
 * authority, whose two hops we cannot tell apart, so they are taken at
 * PLPMTU_BASE, which fragments still fill with 1280-byte packets.
 */
#include <errno.h>
#include <string.h>

#include "netstack/authwire.h"
#include "netstack/frag.h"
#include "tund/base/log.h"
#include "tund/overlay/datapath.h"
#include "tund/overlay/overlay_int.h"
#include "tund/overlay/pmtu.h"

/* Data has gone to the peer within this: confirm its path MTU. */
#define PMTU_ACTIVE_MS	5000

static size_t pmtu_ip_udp_hdr(const struct sockaddr_in6 *sa)
{
	return IN6_IS_ADDR_V4MAPPED(&sa->sin6_addr) ? 20 + 8 : 40 + 8;
}

static int pmtu_probing(const struct peer *p)
{
	return p->pmtu_on && p->have_ep && !p->ep.relay && ep_equal(&p->pmtu_ep, &p->ep);
}

int pmtu_path_mtu(const struct peer *p)
{
	return pmtu_probing(p) ? p->pmtu.mtu : 0;
}

size_t pmtu_inner_max(const struct overlay *o, const struct peer *p)
{
	size_t path = PLPMTU_BASE, hdr, inner;

	if (!p->have_ep)
		return (size_t)o->mtu;
	if (p->ep.relay) {
		const struct sockaddr_in6 *relay = paths_relay_addr(&o->nat, p->ep.via);

		hdr = pmtu_ip_udp_hdr(relay ? relay : &o->nat.auth_udp[0]) + AW_RELAY_HDR;
	} else {
		hdr = pmtu_ip_udp_hdr(&p->ep.sa);
		if (pmtu_probing(p))
			path = (size_t)p->pmtu.mtu;
	}
	inner = path > hdr + DATAPATH_OVERHEAD ? path - hdr - DATAPATH_OVERHEAD : 0;
	return inner < (size_t)o->mtu ? inner : (size_t)o->mtu;
}

/* IPv4 without DF: a router would have split it, so we may. */
static int pmtu_may_split(const uint8_t *pkt, size_t len)
{
	if (len <= PMTU_CARRY_MIN)
		return 1;
	return (pkt[0] >> 4) == 4 && len >= 20 && !(pkt[6] & 0x40);
}

static void pmtu_send_split(struct overlay *o, struct peer *p, const uint8_t *pkt, size_t len,
    size_t room)
{
	uint8_t m[FRAG_PKT_MAX];
	int n = frag_count(len, room);
	uint16_t id = p->frag_id++;

	for (int k = 0; k < n; k++) {
		int l = frag_build(pkt, len, room, k, id, m, sizeof(m));

		if (l < 0 || datapath_seal(o, p, m, (size_t)l) < 0)
			return;
	}
}

int pmtu_admit(struct overlay *o, struct peer *p, const uint8_t *pkt, size_t len)
{
	size_t max;

	if (!p->cur || !p->have_ep)
		return 0;	/* queued for a session */
	max = pmtu_inner_max(o, p);
	if (len <= max || (pmtu_may_split(pkt, len) && frag_count(len, max) > 0))
		return 0;
	datapath_icmp_too_big(o, pkt, len, max > PMTU_CARRY_MIN ? max : PMTU_CARRY_MIN);
	return -EMSGSIZE;
}

void pmtu_send(struct overlay *o, struct peer *p, const uint8_t *pkt, size_t len)
{
	size_t max;

	if (!p->cur || !p->have_ep || len <= (max = pmtu_inner_max(o, p)) || !pmtu_may_split(pkt, len) ||
	    frag_count(len, max) <= 0) {
		datapath_send(o, p, pkt, len);
		return;
	}
	pmtu_send_split(o, p, pkt, len, max);
}

int pmtu_rx(struct overlay *o, struct session *s, uint8_t **pt, size_t *n)
{
	struct peer *p = s->peer;
	uint8_t ack[PLPMTU_MSG_LEN];
	uint32_t round;
	int size, type;

	if (*n && (*pt)[0] == FRAG_MSG) {
		uint8_t *pkt;
		size_t len;

		if (frag_add(&o->frag, s->local_index, *pt, *n, now_ms(), &pkt, &len) != 1)
			return 0;
		*pt = pkt;
		*n = len;
		return 1;
	}
	type = plpmtu_msg_parse(*pt, *n, &round, &size);
	if (type == PLPMTU_MSG_PROBE) {
		/* Answered only here, inside a session that authenticated it,
		 * and smaller than what came: no one else can make us send. */
		if (plpmtu_msg_build(PLPMTU_MSG_ACK, round, size, ack, sizeof(ack)) > 0)
			datapath_seal(o, p, ack, sizeof(ack));
		return 0;
	}
	if (type == PLPMTU_MSG_ACK) {
		if (pmtu_probing(p) && plpmtu_ack(&p->pmtu, round, size, now_ms()))
			log_info("peer %s: path MTU %d", p->identity, p->pmtu.mtu);
		return 0;
	}
	return *n && ((*pt)[0] == PLPMTU_MSG_PROBE || (*pt)[0] == PLPMTU_MSG_ACK) ? 0 : -1;
}

static void pmtu_send_probe(struct overlay *o, struct peer *p, uint32_t round, int size)
{
	static uint8_t m[UDP_BUF_SIZE];
	size_t over = pmtu_ip_udp_hdr(&p->ep.sa) + DATAPATH_OVERHEAD;

	if ((size_t)size <= over + PLPMTU_MSG_LEN || (size_t)size - over > sizeof(m))
		return;
	if (plpmtu_msg_build(PLPMTU_MSG_PROBE, round, size, m, (size_t)size - over) > 0)
		datapath_seal(o, p, m, (size_t)size - over);
}

/* A direct path we can send probes on now: a lost probe must mean the
 * path, not a session still waiting for the peer's Finished. */
static int pmtu_can_probe(struct overlay *o, struct peer *p)
{
	return p->have_ep && !p->ep.relay && datapath_can_seal(o, p);
}

void pmtu_tick(struct overlay *o, struct peer *p, uint64_t now)
{
	int sizes[PLPMTU_PROBES], n, max, old;
	uint32_t round;

	if (!pmtu_can_probe(o, p))
		return;
	max = o->mtu + (int)(pmtu_ip_udp_hdr(&p->ep.sa) + DATAPATH_OVERHEAD);
	if (!pmtu_probing(p)) {
		/* A new path (first session, roaming, off the relay): what the
		 * old one carried says nothing about it. */
		p->pmtu_on = 1;
		p->pmtu_ep = p->ep;
		plpmtu_start(&p->pmtu, max, now);
	}
	plpmtu_set_max(&p->pmtu, max, now);
	old = p->pmtu.mtu;
	n = plpmtu_poll(&p->pmtu, now, now - p->t.last_tx_ms < PMTU_ACTIVE_MS, sizes, &round);
	if (p->pmtu.mtu < old)
		log_info("peer %s: probes of %d bytes go unanswered: path MTU %d until probed again",
		    p->identity, old, p->pmtu.mtu);
	for (int i = 0; i < n; i++)
		pmtu_send_probe(o, p, round, sizes[i]);
}

uint64_t pmtu_next(struct overlay *o, struct peer *p, uint64_t next, uint64_t now)
{
	if (!pmtu_can_probe(o, p))
		return next;
	if (!pmtu_probing(p))
		return now;	/* a new path */
	return plpmtu_next(&p->pmtu, next);
}
