/*
 * The identity firewall of one node: two layers of rules, the authority's
 * (FW_AUTH, what MSG_POLICY brought) and the node's own config
 * (FW_LOCAL), and the flow table they share. An inbound packet that opens
 * a flow must be allowed by every layer that has a policy, so the local
 * config can only narrow what the authority grants. Packets we send open
 * flows whose replies pass; ICMP errors pass when the packet they quote
 * belongs to a known flow. With no policy in either layer, nothing is
 * looked at. Pure: packets, identities and the time come in as
 * arguments.
 */
#ifndef Q2Q_FW_H
#define Q2Q_FW_H

#include <stddef.h>
#include <stdint.h>

#include "identity/name.h"
#include "tund/policy/conntrack.h"
#include "tund/policy/polset.h"

enum fw_layer_id { FW_AUTH = 0, FW_LOCAL = 1, FW_LAYERS = 2 };

#define FW_CT_SIZE	16384	/* flows tracked (about 1 MB) */
#define FW_TTL_TCP	(600 * 1000)
#define FW_TTL_CLOSING	(10 * 1000)	/* after a FIN or RST */
#define FW_TTL_UDP	(180 * 1000)
#define FW_TTL_ICMP	(30 * 1000)
#define FW_TTL_FRAG	(10 * 1000)	/* a packet's fragments after its first */

/* What q2qctl policy shows of a layer (read through fw_layer_view). */
struct fw_layer {
	struct pol_set *set;	/* NULL: no policy here */
	int n_mine;		/* rules whose "to" picks this node */
	int16_t mine[POL_MAX_RULES];
	uint64_t hits[POL_MAX_RULES];	/* packets each rule let in */
	uint64_t denied;	/* packets no rule of this layer allowed */
	uint32_t gen;		/* the authority's generation (FW_AUTH) */
	uint64_t since;		/* ms when it was set */
};

struct fw {
	char self[ID_NAME_MAX + 1];
	struct fw_layer layer[FW_LAYERS];
	struct ct_table ct;
	uint32_t gen;		/* bumped whenever a layer changes */
	uint64_t denied;	/* all packets dropped, layers and malformed */
	uint64_t malformed;	/* no IP/TCP/UDP/ICMP header we could read */
	uint64_t stray_frags;	/* fragments whose first fragment was not let in */
};

/* For self, with a secret seed for the flow table. NULL on ENOMEM. */
struct fw *fw_new(const char *self, uint64_t seed);
void fw_free(struct fw *fw);
/* Replaces a layer: set NULL or not present removes its policy. The flows
 * it let in are judged again at their next packet. 0 or -ENOMEM. */
int fw_set(struct fw *fw, enum fw_layer_id l, const struct pol_set *set, uint32_t gen, uint64_t now);
/* 1 if any layer has a policy. */
static inline int fw_active(const struct fw *fw)
{
	return fw->layer[FW_AUTH].set || fw->layer[FW_LOCAL].set;
}

/* A decrypted packet from peer (its authenticated identity): 1 to pass,
 * 0 to drop. */
int fw_inbound(struct fw *fw, const char *peer, const uint8_t *pkt, size_t len, uint64_t now);
/* A packet we send to peer: opens or refreshes its flow. */
void fw_outbound(struct fw *fw, const char *peer, const uint8_t *pkt, size_t len, uint64_t now);

#endif
