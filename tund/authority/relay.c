/*
 * The relay's judgement (relay.h): which registered pairs may use the
 * authority's relay, and how much each sender may push through it.
 * Nothing here touches a socket or a key; the caller has already checked
 * the sender's mac and counter.
 */
#include <stdint.h>
#include <string.h>

#include "tund/authority/relay.h"

void relay_node_init(struct relay_node *n, uint64_t now_ms)
{
	memset(n, 0, sizeof(*n));
	tbucket_init(&n->bytes, RELAY_BYTES_BURST, now_ms);
	tbucket_init(&n->pkts, RELAY_PKTS_BURST, now_ms);
}

static int relay_knows(const struct relay_node *n, uint32_t id)
{
	for (int i = 0; i < RELAY_PEERS; i++)
		if (n->peers[i] == id)
			return 1;
	return 0;
}

static void relay_learn(struct relay_node *n, uint32_t id)
{
	if (id == 0 || relay_knows(n, id))
		return;
	n->peers[n->next] = id;
	n->next = (n->next + 1) % RELAY_PEERS;
}

void relay_introduced(struct relay_end *a, struct relay_end *b)
{
	relay_learn(a->n, b->id);
	relay_learn(b->n, a->id);
}

enum relay_verdict relay_judge(struct relay_end *src, const struct relay_end *dst, size_t len,
    uint64_t now_ms)
{
	if (src->id == dst->id || src->n == dst->n)
		return RELAY_SELF;
	if (src->foreign && dst->foreign)
		return RELAY_STRANGERS;
	/* Either record will do: a ring that moved on at one end still
	 * holds the pair at the other. */
	if ((src->foreign || dst->foreign) && !relay_knows(src->n, dst->id) &&
	    !relay_knows(dst->n, src->id))
		return RELAY_NOT_INTRODUCED;
	/* Both shares must hold before either is spent. */
	if (len > UINT32_MAX ||
	    tbucket_level(&src->n->bytes, RELAY_BYTES_PER_S, RELAY_BYTES_BURST, now_ms) < len ||
	    !tbucket_take(&src->n->pkts, RELAY_PKTS_PER_S, RELAY_PKTS_BURST, now_ms))
		return RELAY_OVER_RATE;
	tbucket_spend(&src->n->bytes, (uint32_t)len, RELAY_BYTES_PER_S, RELAY_BYTES_BURST, now_ms);
	return RELAY_FORWARD;
}

const char *relay_verdict_name(enum relay_verdict v)
{
	static const char *const names[RELAY_VERDICTS] = {
		[RELAY_FORWARD] = "forwarded",
		[RELAY_SELF] = "self",
		[RELAY_STRANGERS] = "strangers",
		[RELAY_NOT_INTRODUCED] = "not_introduced",
		[RELAY_OVER_RATE] = "over_rate",
	};

	return (unsigned)v < RELAY_VERDICTS ? names[v] : "?";
}
