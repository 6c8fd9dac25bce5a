/*
 * What the authority's relay forwards (relay.c, pure: ids, flags, sizes
 * and time in, a verdict out; authority.c does the sockets and the macs).
 * A datagram reaches the judge only after its sender's key and replay
 * window passed it, so both ends are nodes registered here; the judge
 * decides whether this pair may use us and whether the sender is within
 * its share:
 *
 *  - two nodes of our own domain always may (the relay as it was);
 *  - a node of another domain only with a node of ours that agreed to be
 *    introduced to it here (BROKER_OK, either way round): our relay
 *    carries our nodes' calls, not other domains' traffic, and no
 *    stranger reaches one of our nodes through it unasked;
 *  - two nodes of other domains never;
 *  - every sender, of whatever domain, within RELAY_BYTES_PER_S and
 *    RELAY_PKTS_PER_S (token buckets with a burst of a quarter second),
 *    so one node cannot take the relay's uplink from the others.
 */
#ifndef Q2Q_AUTHORITY_RELAY_H
#define Q2Q_AUTHORITY_RELAY_H

#include <stddef.h>
#include <stdint.h>

#include "netstack/ratelimit.h"

/* Introductions of a node with another domain's nodes remembered at
 * once; a newer one replaces the oldest. A callee may be wanted by
 * AUTH_BROKER_PER_CALLEE callers at once. */
#define RELAY_PEERS 64
/* What one node may push through the relay: a relayed path is the last
 * resort, not a bulk service (a figure for a video call, with room). */
#define RELAY_BYTES_PER_S (4u << 20)
#define RELAY_PKTS_PER_S 4000u
#define RELAY_BURST_MS 250u
#define RELAY_BYTES_BURST (RELAY_BYTES_PER_S / 1000 * RELAY_BURST_MS)
#define RELAY_PKTS_BURST (RELAY_PKTS_PER_S / 1000 * RELAY_BURST_MS)

/* One registered node's part of the relay, in its client record. */
struct relay_node {
	uint32_t peers[RELAY_PEERS];	/* node ids it was introduced to here */
	int next;			/* where the next one goes */
	struct tbucket bytes, pkts;	/* its share of the relay */
};

/* One end of a relayed datagram. */
struct relay_end {
	struct relay_node *n;
	uint32_t id;			/* its node id */
	int foreign;			/* of another domain than the authority's */
};

enum relay_verdict {
	RELAY_FORWARD,
	RELAY_SELF,			/* sender and target are one node */
	RELAY_STRANGERS,		/* both of other domains */
	RELAY_NOT_INTRODUCED,		/* another domain's node, never introduced here */
	RELAY_OVER_RATE,		/* the sender used up its share */
	RELAY_VERDICTS
};

/* A fresh node id: no introductions, full buckets. */
void relay_node_init(struct relay_node *n, uint64_t now_ms);
/* The authority introduced a to b and the callee agreed: each may relay
 * to the other from now on. */
void relay_introduced(struct relay_end *a, struct relay_end *b);
/* The judgement for a datagram of len bytes from src to dst; FORWARD
 * takes the sender's tokens, anything else takes none. */
enum relay_verdict relay_judge(struct relay_end *src, const struct relay_end *dst, size_t len,
    uint64_t now_ms);
/* A word for logs and metrics labels ("over_rate"). */
const char *relay_verdict_name(enum relay_verdict v);

#endif
