/*
 * Reading a packet's flow. IPv6 extension headers (hop-by-hop, routing,
 * destination options, fragment) are walked to the transport header. A
 * fragment after the first has no ports: it is FLOW_FRAG, and only the
 * key of its packet's fragments (addresses, protocol, IP identification)
 * ties it to the first fragment the rules judged. An ICMP error is read as far as the quoted packet's ports
 * (RFC 792 and 4443 quote at least 8 bytes of it), which is all conntrack
 * needs to tie it to a flow.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "netstack/bytes.h"
#include "tund/policy/flow.h"

#define FLOW_IPV6_EXT_MAX 8	/* extension headers walked before giving up */

struct flow_ip {
	int family;
	uint8_t proto;
	int frag;		/* a fragment after the first */
	int first;		/* the first fragment of a packet cut in several */
	unsigned frag_off;	/* frag: its offset in 8-byte units */
	uint32_t id;		/* frag or first: the IP identification */
	const uint8_t *src, *dst;
	const uint8_t *l4;
	size_t l4len;
};

/* The IP header and where the transport header starts. A quoted packet
 * may be cut short (truncated != 0): its lengths are then not checked
 * against len. */
static int flow_ip_parse(const uint8_t *pkt, size_t len, int truncated, struct flow_ip *ip)
{
	memset(ip, 0, sizeof(*ip));
	if (len < 1)
		return -EINVAL;
	if ((pkt[0] >> 4) == 4) {
		size_t ihl = (size_t)(pkt[0] & 0x0f) * 4, total;

		if (ihl < 20 || len < ihl)
			return -EINVAL;
		total = be16_get(pkt + 2);
		if (!truncated) {
			if (total < ihl || total > len)
				return -EINVAL;
			len = total;
		}
		ip->family = AF_INET;
		ip->proto = pkt[9];
		ip->frag_off = be16_get(pkt + 6) & 0x1fff;
		ip->frag = ip->frag_off != 0;
		ip->first = !ip->frag && (be16_get(pkt + 6) & 0x2000);
		ip->id = be16_get(pkt + 4);
		ip->src = pkt + 12;
		ip->dst = pkt + 16;
		ip->l4 = pkt + ihl;
		ip->l4len = len - ihl;
		return 0;
	}
	if ((pkt[0] >> 4) == 6) {
		size_t off = 40, plen;
		uint8_t nh;

		if (len < 40)
			return -EINVAL;
		plen = be16_get(pkt + 4);
		if (!truncated) {
			if (40 + plen > len)
				return -EINVAL;
			len = 40 + plen;
		}
		nh = pkt[6];
		for (int i = 0; i < FLOW_IPV6_EXT_MAX && (nh == 0 || nh == 43 || nh == 60 || nh == 44); i++) {
			size_t hl;

			if (len - off < 8)
				return -EINVAL;
			if (nh == 44) {
				uint16_t fo = be16_get(pkt + off + 2);

				ip->frag_off = fo >> 3;
				ip->frag = ip->frag_off != 0;
				ip->first = !ip->frag && (fo & 1);
				ip->id = be32_get(pkt + off + 4);
				hl = 8;
			} else
				hl = ((size_t)pkt[off + 1] + 1) * 8;
			if (len - off < hl)
				return -EINVAL;
			nh = pkt[off];
			off += hl;
			if (ip->frag)
				break;
		}
		ip->family = AF_INET6;
		ip->proto = nh;
		ip->src = pkt + 8;
		ip->dst = pkt + 24;
		ip->l4 = pkt + off;
		ip->l4len = len - off;
		return 0;
	}
	return -EINVAL;
}

/* Fills k for the packet ip: local is dst when inbound, else src. */
static void flow_key(const struct flow_ip *ip, int inbound, uint32_t peer, uint16_t sport, uint16_t dport,
    struct ct_key *k)
{
	size_t alen = ip->family == AF_INET ? 4 : 16;

	memset(k, 0, sizeof(*k));
	k->peer = peer;
	k->family = (uint8_t)ip->family;
	k->proto = ip->proto;
	memcpy(k->laddr, inbound ? ip->dst : ip->src, alen);
	memcpy(k->raddr, inbound ? ip->src : ip->dst, alen);
	k->lport = inbound ? dport : sport;
	k->rport = inbound ? sport : dport;
}

/* The key the fragments of ip's packet share, oriented like flow_key. */
static void flow_train_key(const struct flow_ip *ip, int inbound, uint32_t peer, struct flow *out)
{
	flow_key(ip, inbound, peer, (uint16_t)(ip->id >> 16), (uint16_t)ip->id, &out->train);
	out->train.train = 1;
	out->fragmented = 1;
}

static int flow_is_icmp(const struct flow_ip *ip)
{
	return (ip->family == AF_INET && ip->proto == 1) || (ip->family == AF_INET6 && ip->proto == 58);
}

static int flow_icmp_error(const struct flow_ip *ip, uint8_t type)
{
	if (ip->family == AF_INET)
		return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
	return type >= 1 && type <= 4;
}

/* The quoted packet of an ICMP error: one we sent (local is its source). */
static int flow_quoted(const struct flow_ip *outer, uint32_t peer, struct flow *out)
{
	struct flow_ip q;

	if (outer->l4len < 8 || flow_ip_parse(outer->l4 + 8, outer->l4len - 8, 1, &q) < 0 || q.frag ||
	    q.family != outer->family || q.l4len < 8)
		return -EINVAL;
	if (q.proto == 6 || q.proto == 17)
		flow_key(&q, 0, peer, be16_get(q.l4), be16_get(q.l4 + 2), &out->quoted);
	else if (flow_is_icmp(&q) && q.l4[0] == (q.family == AF_INET ? 8 : 128))
		flow_key(&q, 0, peer, be16_get(q.l4 + 4), be16_get(q.l4 + 4), &out->quoted);
	else
		return -EINVAL;
	return 0;
}

int flow_parse(const uint8_t *pkt, size_t len, int inbound, uint32_t peer, struct flow *out)
{
	struct flow_ip ip;

	memset(out, 0, sizeof(*out));
	if (flow_ip_parse(pkt, len, 0, &ip) < 0)
		return -EINVAL;
	out->proto = ip.proto;
	out->kind = FLOW_OTHER;
	if (ip.frag) {
		if (ip.proto == 6 && ip.frag_off == 1)
			return -EINVAL;
		out->kind = FLOW_FRAG;
		flow_train_key(&ip, inbound, peer, out);
		return 0;
	}
	if (ip.first)
		flow_train_key(&ip, inbound, peer, out);
	if (ip.proto == 6 || ip.proto == 17) {
		if (ip.l4len < (ip.proto == 6 ? 14u : 8u))
			return -EINVAL;
		out->kind = FLOW_PORTS;
		out->dport = be16_get(ip.l4 + 2);
		out->tcp_flags = ip.proto == 6 ? ip.l4[13] : 0;
		flow_key(&ip, inbound, peer, be16_get(ip.l4), out->dport, &out->k);
		return 0;
	}
	if (!flow_is_icmp(&ip))
		return 0;
	if (ip.l4len < 8)
		return -EINVAL;
	{
		uint8_t type = ip.l4[0];
		int v4 = ip.family == AF_INET;
		uint16_t id = be16_get(ip.l4 + 4);

		if (type == (v4 ? 8 : 128) || type == (v4 ? 0 : 129)) {
			out->kind = type == (v4 ? 8 : 128) ? FLOW_ECHO_REQ : FLOW_ECHO_REP;
			flow_key(&ip, inbound, peer, id, id, &out->k);
		} else if (flow_icmp_error(&ip, type) && flow_quoted(&ip, peer, out) == 0)
			out->kind = FLOW_ICMP_ERR;
		else
			out->kind = FLOW_ICMP_OTHER;
	}
	return 0;
}

uint32_t flow_peer_hash(const char *identity)
{
	uint32_t h = 2166136261u;

	for (; *identity; identity++)
		h = (h ^ (uint8_t)*identity) * 16777619u;
	return h;
}
