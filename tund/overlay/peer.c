/*
 * Peer bookkeeping. Peers sit in a list, for the walks over all of them,
 * and in a hash by identity: a node may have 10,000 peers, and finding one
 * by walking the list cost 276 us per peer added at that size
 * (bench/scale_node). Receiver indices, looked up for every DATA packet,
 * sit in an open-addressing hash table sized for many sessions.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "netstack/aead.h"
#include "netstack/udp.h"
#include "tund/base/hmap.h"
#include "tund/node/revlist.h"
#include "tund/overlay/claims.h"
#include "tund/overlay/peer.h"

/* A power of two. 4096 held at most 4096 sessions and attempts, so no
 * node could have more than ~2000 peers with a previous session each
 * (bench/scale_node found it at 10,000); 65536 keeps 10,000 peers at a
 * third full. The table is calloc'd whole, so pages no index hashed to
 * are never touched and cost a small node nothing. */
#define IDX_SLOTS 65536

/* Linear probing with backward-shift deletion: no tombstones, so a miss
 * stops at the first empty slot however many sessions came and went. */
struct idx_slot {
	uint32_t idx;		/* 0 = empty */
	int kind;
	void *obj;
};

struct peer_table {
	struct peer *peers;
	struct hmap *by_id;		/* identity -> peer */
	struct idx_slot slots[IDX_SLOTS];
	struct revlist *revoked;	/* made at the first news */
	int last_probes;	/* slots the last lookup examined (tests) */
	/* Every address peer_table_expects answers yes for, as of
	 * expect_gen; rebuilt when a peer's endpoints changed since. */
	struct hmap *expect;
	uint64_t expect_gen;
};

/*
 * Counts changes to any peer's endpoint or candidates. Global rather than
 * per table: peer_merge_eps and the path code hold a peer, not its table,
 * and a daemon has one table (in tests a change anywhere only costs the
 * others a rebuild).
 */
static uint64_t peer_eps_gen = 1;

void peer_eps_changed(void)
{
	peer_eps_gen++;
}

int peer_table_init(struct peer_table **out)
{
	struct peer_table *t = calloc(1, sizeof(*t));
	int rc;

	if (!t)
		return -ENOMEM;
	rc = hmap_new(&t->by_id);
	if (rc < 0) {
		free(t);
		return rc;
	}
	*out = t;
	return 0;
}

static void peer_free(struct peer_table *t, struct peer *p)
{
	peer_drop_sessions(t, p);
	peer_queue_clear(p);
	explicit_bzero(p->punch_tx_key, sizeof(p->punch_tx_key));	/* authenticate PUNCH */
	explicit_bzero(p->punch_rx_key, sizeof(p->punch_rx_key));
	free(p);
}

void peer_table_free(struct peer_table *t)
{
	if (!t)
		return;
	while (t->peers) {
		struct peer *p = t->peers;
		t->peers = p->next;
		peer_free(t, p);
	}
	hmap_free(t->by_id);
	hmap_free(t->expect);
	revlist_free(t->revoked);
	free(t);
}

struct peer *peer_find(struct peer_table *t, const char *identity)
{
	return hmap_get(t->by_id, identity, strlen(identity));
}

struct peer *peer_first(struct peer_table *t) { return t->peers; }

struct peer *peer_add(struct peer_table *t, const char *identity)
{
	struct peer *p = peer_find(t, identity);

	if (p)
		return p;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	strncpy(p->identity, identity, sizeof(p->identity) - 1);
	if (hmap_add(t->by_id, p->identity, strlen(p->identity), p) < 0) {
		free(p);
		return NULL;
	}
	p->next = t->peers;
	if (p->next)
		p->next->prev_peer = p;
	t->peers = p;
	return p;
}

void peer_remove(struct peer_table *t, struct peer *p)
{
	hmap_del(t->by_id, p->identity, strlen(p->identity), p);
	if (p->prev_peer)
		p->prev_peer->next = p->next;
	else
		t->peers = p->next;
	if (p->next)
		p->next->prev_peer = p->prev_peer;
	peer_free(t, p);
	peer_eps_changed();
}

static int expect_add(struct hmap *m, const struct sockaddr_in6 *sa, void *v)
{
	if (hmap_get(m, &sa->sin6_addr, sizeof(sa->sin6_addr)))
		return 0;
	return hmap_add(m, &sa->sin6_addr, sizeof(sa->sin6_addr), v);
}

/* The set of addresses anew from every peer's endpoint and candidates. */
static int expect_rebuild(struct peer_table *t)
{
	struct hmap *m;
	int rc = 0;

	if (t->expect && t->expect_gen == peer_eps_gen)
		return 0;
	if ((rc = hmap_new(&m)) < 0)
		return rc;
	for (struct peer *p = t->peers; p && rc == 0; p = p->next) {
		if (p->have_ep && !p->ep.relay)
			rc = expect_add(m, &p->ep.sa, p);
		for (int i = 0; i < p->n_eps && rc == 0; i++)
			rc = expect_add(m, &p->eps[i], p);
	}
	if (rc < 0) {
		hmap_free(m);
		return rc;
	}
	hmap_free(t->expect);
	t->expect = m;
	t->expect_gen = peer_eps_gen;
	return 0;
}

/*
 * Asked for every HELLO with a valid mac1 (the COOKIE rate limit gives
 * expected addresses their own share), so it must not cost a walk of all
 * peers: a flood of such HELLOs at a node with 10,000 peers would spend
 * the engine on it. A hash of the addresses, rebuilt only after a change.
 * Without memory for a new one the last set answers (at worst a moved peer
 * asks in the strangers' share until the next rebuild succeeds).
 */
int peer_table_expects(struct peer_table *t, const struct sockaddr_in6 *addr)
{
	(void)expect_rebuild(t);
	return t->expect && hmap_get(t->expect, &addr->sin6_addr, sizeof(addr->sin6_addr)) != NULL;
}

int peer_release(struct peer_table *t, struct peer *p)
{
	if (p->have_cert || p->cur || p->prev || p->init || p->pinned)
		return 0;
	peer_remove(t, p);
	return 1;
}

static uint32_t idx_home(uint32_t idx)
{
	return (idx * 2654435761u) & (IDX_SLOTS - 1);
}

static struct idx_slot *idx_find(struct peer_table *t, uint32_t idx)
{
	uint32_t h = idx_home(idx);

	for (int i = 0; i < IDX_SLOTS; i++) {
		struct idx_slot *s = &t->slots[(h + (uint32_t)i) & (IDX_SLOTS - 1)];
		t->last_probes = i + 1;
		if (s->idx == 0)
			return NULL;
		if (s->idx == idx)
			return s;
	}
	return NULL;
}

int peer_index_probes(const struct peer_table *t) { return t->last_probes; }

void *peer_index_get(struct peer_table *t, uint32_t idx, int *kind)
{
	struct idx_slot *s = idx ? idx_find(t, idx) : NULL;

	if (!s)
		return NULL;
	*kind = s->kind;
	return s->obj;
}

int peer_index_add(struct peer_table *t, uint32_t idx, int kind, void *obj)
{
	uint32_t h = idx_home(idx);

	for (int i = 0; i < IDX_SLOTS; i++) {
		struct idx_slot *s = &t->slots[(h + (uint32_t)i) & (IDX_SLOTS - 1)];
		if (s->idx == 0) {
			s->idx = idx;
			s->kind = kind;
			s->obj = obj;
			return 0;
		}
	}
	return -ENOSPC;
}

void peer_index_del(struct peer_table *t, uint32_t idx)
{
	struct idx_slot *s = idx ? idx_find(t, idx) : NULL;
	uint32_t hole, j;

	if (!s)
		return;
	/* Pull later members of the probe chain back into the hole, unless
	 * their home lies cyclically in (hole, j]: moving those would put
	 * them before their home, where a lookup never looks. */
	hole = (uint32_t)(s - t->slots);
	memset(s, 0, sizeof(*s));
	/* The hole stays empty, so this ends there even in a full table. */
	for (j = (hole + 1) & (IDX_SLOTS - 1); t->slots[j].idx; j = (j + 1) & (IDX_SLOTS - 1)) {
		uint32_t home = idx_home(t->slots[j].idx);
		uint32_t dist_home = (j - home) & (IDX_SLOTS - 1);
		uint32_t dist_hole = (j - hole) & (IDX_SLOTS - 1);

		if (dist_home >= dist_hole) {
			t->slots[hole] = t->slots[j];
			memset(&t->slots[j], 0, sizeof(t->slots[j]));
			hole = j;
		}
	}
}

uint32_t peer_new_index(struct peer_table *t)
{
	uint32_t idx;
	int kind;

	do {
		if (getrandom(&idx, sizeof(idx), 0) != sizeof(idx))
			idx = (uint32_t)random();
	} while (idx == 0 || peer_index_get(t, idx, &kind));
	return idx;
}

void peer_session_free(struct peer_table *t, struct session *s)
{
	if (!s)
		return;
	peer_index_del(t, s->local_index);
	aead_free(s->send_aead);	/* wipes the session keys */
	aead_free(s->recv_aead);
	explicit_bzero(s, sizeof(*s));
	free(s);
}

void peer_session_install(struct peer_table *t, struct peer *p, struct session *s)
{
	peer_session_free(t, p->prev);
	p->prev = p->cur;
	p->cur = s;
	s->peer = p;
}

void peer_drop_sessions(struct peer_table *t, struct peer *p)
{
	peer_session_free(t, p->cur);
	peer_session_free(t, p->prev);
	p->cur = p->prev = NULL;
}

void peer_queue(struct peer *p, const uint8_t *pkt, size_t len)
{
	struct queued *q;

	if (len > PEER_PKT_MAX)
		return;
	if (p->nq == PEER_QUEUE_MAX) {
		free(p->q[0]);
		memmove(&p->q[0], &p->q[1], sizeof(p->q[0]) * (PEER_QUEUE_MAX - 1));
		p->nq--;
	}
	q = malloc(sizeof(*q));
	if (!q)
		return;
	q->len = len;
	memcpy(q->data, pkt, len);
	p->q[p->nq++] = q;
}

void peer_queue_clear(struct peer *p)
{
	for (int i = 0; i < p->nq; i++)
		free(p->q[i]);
	p->nq = 0;
}

int peer_revoked_add(struct peer_table *t, const char *domain, const char *serial,
    int64_t not_after)
{
	if (!t->revoked && revlist_new(&t->revoked) < 0)
		return -ENOMEM;
	return revlist_add(t->revoked, domain, serial, not_after);
}

void peer_revoked_expire(struct peer_table *t, int64_t now)
{
	if (t->revoked)
		revlist_expire(t->revoked, now);
}

int peer_revoked(const struct peer_table *t, const struct cert_info *ci)
{
	const char *at = strchr(ci->identity, '@');

	return at && revlist_has(t->revoked, at + 1, ci->serial);
}

int ep_equal(const struct ep *a, const struct ep *b)
{
	if (a->relay || b->relay)
		return a->relay == b->relay && a->via == b->via;
	return a->sock == b->sock && udp_addr_equal(&a->sa, &b->sa);
}

int ep_format(const struct ep *e, char *buf, size_t cap)
{
	if (e->relay) {
		snprintf(buf, cap, "relay");
		return 0;
	}
	return udp_addr_format(&e->sa, buf, cap);
}

void peer_merge_eps(struct peer *p, const struct sockaddr_in6 *eps, int neps)
{
	for (int i = 0; i < neps; i++) {
		int dup = 0;
		for (int j = 0; j < p->n_eps; j++)
			dup |= udp_addr_equal(&p->eps[j], &eps[i]);
		if (!dup && p->n_eps < PEER_MAX_EPS) {
			p->eps[p->n_eps++] = eps[i];
			peer_eps_changed();
		}
	}
}

/* Within a domain the first holder of an address keeps it and the
 * newcomer is refused, loudly; another domain's peer is seen here under
 * its local IPv4, and is checked as such. The rules are claims.c's; this
 * gathers whom they are checked against. */
int peer_claims(struct peer_table *t, const struct claims_self *self,
    const struct addr_prefix *allowed, int n_allowed, const struct cert_info *ci, char *why,
    size_t whylen)
{
	const struct cert_info **others;
	struct cert_info *shown;
	int n = 0, v;

	for (struct peer *q = t->peers; q; q = q->next)
		n++;
	others = calloc((size_t)n + 1, sizeof(*others));
	shown = calloc((size_t)n + 1, sizeof(*shown));
	if (!others || !shown) {
		free(others);
		free(shown);
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	n = 0;
	for (struct peer *q = t->peers; q; q = q->next) {
		if (!q->have_cert)
			continue;
		shown[n] = q->ci;
		if (q->has_local_v4)
			memcpy(shown[n].v4, q->local_v4, 4);
		others[n] = &shown[n];
		n++;
	}
	v = (int)claims_check(self, allowed, n_allowed, others, n, ci, why, whylen);
	free(shown);
	free(others);
	return v;
}
