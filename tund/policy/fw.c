/*
 * The firewall's decisions. A packet of a known flow costs one table
 * probe, however many rules there are; only a packet that opens a flow
 * (or one whose rules changed since it was let in) walks the rules. A
 * flow we opened stays open across rule changes: the rules say who may
 * reach us, not whom we may answer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tund/policy/flow.h"
#include "tund/policy/fw.h"

#define TCP_FIN_RST	0x05
#define TCP_SYN_ACK	0x12
#define TCP_SYN		0x02

struct fw *fw_new(const char *self, uint64_t seed)
{
	struct fw *fw = calloc(1, sizeof(*fw));

	if (!fw)
		return NULL;
	snprintf(fw->self, sizeof(fw->self), "%s", self);
	if (ct_init(&fw->ct, FW_CT_SIZE, seed) < 0) {
		free(fw);
		return NULL;
	}
	return fw;
}

void fw_free(struct fw *fw)
{
	if (!fw)
		return;
	for (int l = 0; l < FW_LAYERS; l++)
		free(fw->layer[l].set);
	ct_free(&fw->ct);
	free(fw);
}

int fw_set(struct fw *fw, enum fw_layer_id l, const struct pol_set *set, uint32_t gen, uint64_t now)
{
	struct fw_layer *ly = &fw->layer[l];
	struct pol_set *copy = NULL;

	if (set && set->present) {
		copy = malloc(sizeof(*copy));
		if (!copy)
			return -ENOMEM;
		memcpy(copy, set, sizeof(*copy));
	}
	free(ly->set);
	memset(ly, 0, sizeof(*ly));
	ly->set = copy;
	ly->gen = gen;
	ly->since = now;
	for (int i = 0; copy && i < copy->n_rules; i++)
		if (pol_rule_to(copy, &copy->rules[i], fw->self))
			ly->mine[ly->n_mine++] = (int16_t)i;
	fw->gen++;
	return 0;
}

/* The first of the layer's rules that lets peer open f: its index, -1 if
 * none does, -2 if the layer has no policy. */
static int fw_layer_rule(const struct fw_layer *ly, const char *peer, const struct flow *f)
{
	uint16_t port = f->kind == FLOW_PORTS ? f->dport : 0;

	if (!ly->set)
		return -2;
	for (int i = 0; i < ly->n_mine; i++) {
		const struct pol_rule *r = &ly->set->rules[ly->mine[i]];

		if (pol_rule_allows(r, f->proto, port) && pol_rule_from(ly->set, r, peer))
			return ly->mine[i];
	}
	return -1;
}

/* 1 if every layer with a policy lets peer open f (rule[] says which
 * rules did); else 0, counted against the first layer that refused. */
static int fw_rules(struct fw *fw, const char *peer, const struct flow *f, int16_t rule[FW_LAYERS])
{
	for (int l = 0; l < FW_LAYERS; l++) {
		int r = fw_layer_rule(&fw->layer[l], peer, f);

		if (r == -1) {
			fw->layer[l].denied++;
			return 0;
		}
		rule[l] = (int16_t)r;
	}
	return 1;
}

static void fw_hit(struct fw *fw, const int16_t rule[FW_LAYERS])
{
	for (int l = 0; l < FW_LAYERS; l++)
		if (rule[l] >= 0 && fw->layer[l].set)
			fw->layer[l].hits[rule[l]]++;
}

static uint64_t fw_ttl(const struct flow *f, const struct ct_entry *e)
{
	if (f->k.proto == 6)
		return (f->tcp_flags & TCP_FIN_RST) || (e && (e->dir & CT_CLOSING)) ? FW_TTL_CLOSING : FW_TTL_TCP;
	if (f->k.proto == 17)
		return FW_TTL_UDP;
	return FW_TTL_ICMP;
}

/* Refreshes e for packet f; a FIN or RST marks a TCP flow closing, a new
 * SYN on its addresses and ports opens it again. */
static void fw_touch(struct ct_entry *e, const struct flow *f, uint64_t now)
{
	if (f->k.proto == 6 && (f->tcp_flags & TCP_FIN_RST))
		e->dir |= CT_CLOSING;
	else if (f->k.proto == 6 && (f->tcp_flags & TCP_SYN_ACK) == TCP_SYN)
		e->dir &= CT_DIR_MASK;
	e->expires = now + fw_ttl(f, e);
}

/* A tracked flow still open to this packet: ours, or let in under the
 * rules in force (judged again if they changed since). */
static int fw_flow_open(struct fw *fw, const char *peer, const struct flow *f, struct ct_entry *e)
{
	int16_t rule[FW_LAYERS] = { -1, -1 };

	if ((e->dir & CT_DIR_MASK) == CT_OUT)
		return 1;
	if (e->gen != fw->gen) {
		/* The rules changed: the flow stays open only if they still
		 * let it in. A refusal here is counted like any other. */
		if (!fw_rules(fw, peer, f, rule))
			return 0;
		e->gen = fw->gen;
		e->rule[0] = rule[0];
		e->rule[1] = rule[1];
	}
	fw_hit(fw, e->rule);
	return 1;
}

/* The verdict on an inbound packet that is not a later fragment. */
static int fw_judge(struct fw *fw, const char *peer, const struct flow *f, uint64_t now)
{
	struct ct_entry *e;
	int16_t rule[FW_LAYERS] = { -1, -1 };

	if (f->kind == FLOW_ICMP_ERR) {
		if (ct_find(&fw->ct, &f->quoted, now))
			return 1;	/* about a flow we carry: no state of its own */
	} else if (f->kind != FLOW_ICMP_OTHER && (e = ct_find(&fw->ct, &f->k, now))) {
		/* A rule change may close a flow it let in; the refusal is
		 * counted by fw_rules. */
		if (!fw_flow_open(fw, peer, f, e))
			return 0;
		fw_touch(e, f, now);
		return 1;
	}
	if (!fw_rules(fw, peer, f, rule))
		return 0;
	fw_hit(fw, rule);
	if (f->kind == FLOW_PORTS || f->kind == FLOW_ECHO_REQ) {
		e = ct_put(&fw->ct, &f->k, now, fw_ttl(f, NULL));
		e->dir = CT_IN;
		e->gen = fw->gen;
		e->rule[0] = rule[0];
		e->rule[1] = rule[1];
		fw_touch(e, f, now);
	}
	return 1;
}

/*
 * Fragments after the first carry no ports: they pass when the first
 * fragment of their packet passed (its train is tracked), so the verdict
 * on a packet is the one on its first fragment. A fragment that comes
 * before its first one is dropped; the sender's retransmission or the
 * next packet goes through.
 */
int fw_inbound(struct fw *fw, const char *peer, const uint8_t *pkt, size_t len, uint64_t now)
{
	struct flow f;
	struct ct_entry *e;

	if (!fw_active(fw))
		return 1;
	if (flow_parse(pkt, len, 1, flow_peer_hash(peer), &f) < 0 || f.kind == FLOW_OTHER) {
		fw->malformed++;
		fw->denied++;
		return 0;
	}
	if (f.kind == FLOW_FRAG) {
		if ((e = ct_find(&fw->ct, &f.train, now))) {
			e->expires = now + FW_TTL_FRAG;
			return 1;
		}
		fw->stray_frags++;
		fw->denied++;
		return 0;
	}
	if (!fw_judge(fw, peer, &f, now)) {
		fw->denied++;
		return 0;
	}
	if (f.fragmented) {
		e = ct_put(&fw->ct, &f.train, now, FW_TTL_FRAG);
		e->dir = CT_IN;
	}
	return 1;
}

void fw_outbound(struct fw *fw, const char *peer, const uint8_t *pkt, size_t len, uint64_t now)
{
	struct flow f;
	struct ct_entry *e;

	if (!fw_active(fw) || flow_parse(pkt, len, 0, flow_peer_hash(peer), &f) < 0)
		return;
	if (f.kind != FLOW_PORTS && f.kind != FLOW_ECHO_REQ && f.kind != FLOW_ECHO_REP)
		return;
	e = ct_find(&fw->ct, &f.k, now);
	if (!e) {
		/* An echo reply opens nothing: it answers a request the
		 * rules let in, whose flow is already here. */
		if (f.kind == FLOW_ECHO_REP)
			return;
		e = ct_put(&fw->ct, &f.k, now, fw_ttl(&f, NULL));
		e->dir = CT_OUT;
	}
	fw_touch(e, &f, now);
}
