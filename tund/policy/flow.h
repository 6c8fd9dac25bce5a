/*
 * What the firewall needs of an IP packet: its flow (conntrack.h's key,
 * seen from this node) and what kind of packet it is; for an ICMP error,
 * the flow of the packet it quotes; for a fragment, the key its packet's
 * other fragments share. Pure, bounds-checked on every read.
 */
#ifndef Q2Q_FLOW_H
#define Q2Q_FLOW_H

#include <stddef.h>
#include <stdint.h>

#include "tund/policy/conntrack.h"

enum flow_kind {
	FLOW_PORTS,		/* TCP or UDP: dport is the port rules judge */
	FLOW_ECHO_REQ,		/* ICMP(v6) echo request */
	FLOW_ECHO_REP,		/* ICMP(v6) echo reply */
	FLOW_ICMP_ERR,		/* an error quoting a packet: see quoted */
	FLOW_ICMP_OTHER,	/* any other ICMP(v6) message */
	FLOW_FRAG,		/* a fragment after the first: see train */
	FLOW_OTHER,		/* another protocol */
};

struct flow {
	enum flow_kind kind;
	struct ct_key k;	/* FLOW_PORTS and echo */
	uint8_t proto;		/* the IP protocol (after IPv6 extension headers) */
	uint16_t dport;		/* FLOW_PORTS: destination port of the packet */
	uint8_t tcp_flags;
	struct ct_key quoted;	/* FLOW_ICMP_ERR: the quoted packet's flow, as we sent it */
	int fragmented;		/* the first fragment of a packet, or FLOW_FRAG */
	struct ct_key train;	/* then: its fragments' key (addresses, protocol, IP id) */
};

/*
 * Parses pkt (len bytes). inbound: the packet comes from the peer (local
 * is its destination); else we send it (local is its source). peer: the
 * peer's identity hash for the keys. 0, or -EINVAL if no IP header (or no
 * complete TCP/UDP/ICMP header) can be read, or for a TCP fragment at
 * offset 8, which could rewrite the flags of the one before it (RFC 1858).
 */
int flow_parse(const uint8_t *pkt, size_t len, int inbound, uint32_t peer, struct flow *out);
/* The identity hash a key carries. */
uint32_t flow_peer_hash(const char *identity);

#endif
