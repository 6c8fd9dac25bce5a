/* The peer table: receiver-index map (against a naive list), queues,
 * sessions, revoked serials, endpoints, peers by identity among many. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netstack/udp.h"
#include "tests/unit/harness.h"
#include "tund/overlay/peer.h"

static void test_index_differential(void)
{
	struct peer_table *t;
	struct { uint32_t idx; void *obj; int live; } naive[2000];
	int n = 0;

	CHECK_INT(peer_table_init(&t), 0);
	srand(7);
	for (int step = 0; step < 20000; step++) {
		int op = rand() % 3;
		if (op < 2 && n < 2000) {
			uint32_t idx = peer_new_index(t);
			CHECK(idx != 0);
			for (int i = 0; i < n; i++)
				if (naive[i].live && naive[i].idx == idx)
					H_FAIL("index %u handed out twice", idx);
			naive[n].idx = idx;
			naive[n].obj = &naive[n];
			naive[n].live = 1;
			CHECK_INT(peer_index_add(t, idx, IDX_SESSION, naive[n].obj), 0);
			n++;
		} else if (n) {
			int i = rand() % n;
			if (naive[i].live) {
				peer_index_del(t, naive[i].idx);
				naive[i].live = 0;
			}
		}
		if (step % 97 == 0) {
			for (int i = 0; i < n; i++) {
				int kind = 0;
				void *got = peer_index_get(t, naive[i].idx, &kind);
				if (naive[i].live && (got != naive[i].obj || kind != IDX_SESSION))
					H_FAIL("index %u lost", naive[i].idx);
				if (!naive[i].live && got)
					H_FAIL("deleted index %u still found", naive[i].idx);
			}
		}
	}
	peer_table_free(t);
}

/* Sessions come and go for the life of a daemon: after far more
 * insert/delete cycles than the table has slots, a miss must still stop
 * after a short probe chain (deleted slots used to stay as tombstones, so
 * a miss scanned the whole table), and every live index must still be
 * found, as a naive list says. */
static void test_index_churn(void)
{
	enum { LIVE = 512, CYCLES = 40000, BOUND = 64 };
	struct peer_table *t;
	static struct { uint32_t idx; int obj; } live[LIVE];
	int kind, worst = 0;

	CHECK_INT(peer_table_init(&t), 0);
	srand(11);
	for (int i = 0; i < LIVE; i++) {
		live[i].idx = peer_new_index(t);
		CHECK_INT(peer_index_add(t, live[i].idx, IDX_SESSION, &live[i].obj), 0);
	}
	for (int c = 0; c < CYCLES; c++) {
		int i = rand() % LIVE;
		peer_index_del(t, live[i].idx);
		live[i].idx = peer_new_index(t);
		CHECK_INT(peer_index_add(t, live[i].idx, IDX_ATTEMPT, &live[i].obj), 0);
	}
	for (int m = 0; m < 1000; m++) {
		uint32_t miss = peer_new_index(t);	/* not in the table */
		CHECK(peer_index_get(t, miss, &kind) == NULL);
		if (peer_index_probes(t) > worst)
			worst = peer_index_probes(t);
	}
	if (worst > BOUND)
		H_FAIL("a miss probed %d slots (bound %d)", worst, BOUND);
	for (int i = 0; i < LIVE; i++) {
		kind = 0;
		if (peer_index_get(t, live[i].idx, &kind) != &live[i].obj || kind != IDX_ATTEMPT)
			H_FAIL("live index %u lost", live[i].idx);
	}
	peer_table_free(t);
}

/* Deleting from a full table (no empty slot to end the shift) still
 * returns and keeps every other index. */
static void test_index_full(void)
{
	enum { MAX = 65536 + 1 };	/* more than the table's slots */
	static uint32_t idx[MAX];
	static int obj[MAX];
	struct peer_table *t;
	int n = 0, kind;

	CHECK_INT(peer_table_init(&t), 0);
	while (n < MAX) {
		idx[n] = peer_new_index(t);
		if (peer_index_add(t, idx[n], IDX_SESSION, &obj[n]) < 0)
			break;
		n++;
	}
	CHECK(n > 0 && n < MAX);
	for (int i = 0; i < n; i += 2)
		peer_index_del(t, idx[i]);
	for (int i = 0; i < n; i++) {
		void *got = peer_index_get(t, idx[i], &kind);
		if (i % 2 ? got != &obj[i] : got != NULL)
			H_FAIL("index %u wrong after deletes from a full table", idx[i]);
	}
	peer_table_free(t);
}

/* A node with 10,000 peers holds a current and a previous session for
 * each, and attempts besides: every one gets an index (4096 slots once
 * capped a node at about 2000 such peers), and a miss stays short. */
static void test_index_ten_thousand_peers(void)
{
	enum { N = 10000 * 2 + 1000 };
	static uint32_t idx[N];
	static int obj[N];
	struct peer_table *t;
	int kind, worst = 0;

	CHECK_INT(peer_table_init(&t), 0);
	for (int i = 0; i < N; i++) {
		idx[i] = peer_new_index(t);
		if (peer_index_add(t, idx[i], i % 21 ? IDX_SESSION : IDX_ATTEMPT, &obj[i]) < 0) {
			H_FAIL("index %d of %d refused", i, N);
			break;
		}
	}
	for (int i = 0; i < N; i++)
		if (peer_index_get(t, idx[i], &kind) != &obj[i]) {
			H_FAIL("index %u lost", idx[i]);
			break;
		}
	for (int m = 0; m < 1000; m++) {
		CHECK(peer_index_get(t, peer_new_index(t), &kind) == NULL);
		if (peer_index_probes(t) > worst)
			worst = peer_index_probes(t);
	}
	if (worst > 64)
		H_FAIL("a miss probed %d slots with %d indexes", worst, N);
	peer_table_free(t);
}

static void test_peers_and_queue(void)
{
	struct peer_table *t;
	struct peer *a, *b;
	uint8_t pkt[100];

	CHECK_INT(peer_table_init(&t), 0);
	a = peer_add(t, "alice@example.com");
	b = peer_add(t, "bob@example.com");
	CHECK(a && b && a != b);
	CHECK(peer_add(t, "alice@example.com") == a);
	CHECK(peer_find(t, "bob@example.com") == b);
	CHECK(peer_find(t, "carol@example.com") == NULL);
	for (int i = 0; i < PEER_QUEUE_MAX + 5; i++) {
		memset(pkt, i, sizeof(pkt));
		peer_queue(a, pkt, sizeof(pkt));
	}
	CHECK_INT(a->nq, PEER_QUEUE_MAX);
	/* The oldest went first: the head is packet number 5. */
	CHECK_INT(a->q[0]->data[0], 5);
	peer_remove(t, a);
	CHECK(peer_find(t, "alice@example.com") == NULL);
	peer_table_free(t);
}

/* A peer left without a certificate is removed only when nothing holds
 * it: a pinned peer that is initiating stays (its attempt's tick uses it). */
static void test_release(void)
{
	struct peer_table *t;
	struct peer *p, *q;
	struct attempt *a = (struct attempt *)&t;	/* only compared, never used */

	CHECK_INT(peer_table_init(&t), 0);
	p = peer_add(t, "bob@example.com");
	p->pinned = 1;
	p->init = a;
	CHECK_INT(peer_release(t, p), 0);
	CHECK(peer_find(t, "bob@example.com") == p);
	p->pinned = 0;
	CHECK_INT(peer_release(t, p), 0);	/* still initiating */
	CHECK(peer_find(t, "bob@example.com") == p);
	p->init = NULL;
	p->pinned = 1;
	CHECK_INT(peer_release(t, p), 0);	/* the config names it */
	q = peer_add(t, "carol@example.com");
	q->have_cert = 1;
	CHECK_INT(peer_release(t, q), 0);
	q->have_cert = 0;
	CHECK_INT(peer_release(t, q), 1);
	CHECK(peer_find(t, "carol@example.com") == NULL);
	CHECK(peer_find(t, "bob@example.com") == p);
	peer_table_free(t);
}

/* Sources a COOKIE is not rationed for: a peer's candidates (any port),
 * its direct endpoint; not its relay, not anyone else. */
static void test_expects(void)
{
	struct peer_table *t;
	struct peer *p;
	struct sockaddr_in6 cand, other, ep;

	CHECK_INT(peer_table_init(&t), 0);
	udp_addr_parse("198.51.100.7:4000", &cand);
	udp_addr_parse("198.51.100.8:4000", &other);
	udp_addr_parse("[2001:db8::5]:9", &ep);
	CHECK_INT(peer_table_expects(t, &cand), 0);
	p = peer_add(t, "bob@example.com");
	peer_merge_eps(p, &cand, 1);
	cand.sin6_port = htons(4001);	/* a NAT may pick another port */
	CHECK_INT(peer_table_expects(t, &cand), 1);
	CHECK_INT(peer_table_expects(t, &other), 0);
	CHECK_INT(peer_table_expects(t, &ep), 0);
	p->ep.sa = ep;
	p->have_ep = 1;
	p->ep.relay = 3;
	peer_eps_changed();
	CHECK_INT(peer_table_expects(t, &ep), 0);
	p->ep.relay = 0;
	peer_eps_changed();
	CHECK_INT(peer_table_expects(t, &ep), 1);
	peer_remove(t, p);
	CHECK_INT(peer_table_expects(t, &ep), 0);
	CHECK_INT(peer_table_expects(t, &cand), 0);
	peer_table_free(t);
}

/* Many peers: the answers of the address set match a walk of every
 * peer, through additions, endpoint changes and removals. */
static void test_expects_many(void)
{
	struct peer_table *t;
	struct peer *ps[2000];
	char id[64];
	int bad = 0;

	CHECK_INT(peer_table_init(&t), 0);
	srand(5);
	for (int i = 0; i < 2000; i++) {
		struct sockaddr_in6 sa;
		char a[64];

		snprintf(id, sizeof(id), "n%d@example.com", i);
		ps[i] = peer_add(t, id);
		snprintf(a, sizeof(a), "198.18.%d.%d:%d", i / 250, i % 250, 1000 + i);
		udp_addr_parse(a, &sa);
		if (i % 3)
			peer_merge_eps(ps[i], &sa, 1);
		else {
			ps[i]->ep.sa = sa;
			ps[i]->have_ep = 1;
			peer_eps_changed();
		}
	}
	for (int round = 0; round < 4; round++) {
		for (int k = 0; k < 300; k++) {
			struct sockaddr_in6 sa;
			char a[64];
			int i = rand() % 2000, want;

			snprintf(a, sizeof(a), "198.18.%d.%d:1", i / 250, i % 250);
			udp_addr_parse(a, &sa);
			want = ps[i] != NULL;
			bad += peer_table_expects(t, &sa) != want;
		}
		for (int k = 0; k < 100; k++) {
			int i = rand() % 2000;

			if (ps[i]) {
				peer_remove(t, ps[i]);
				ps[i] = NULL;
			}
		}
	}
	CHECK_INT(bad, 0);
	peer_table_free(t);
}

static void test_sessions(void)
{
	struct peer_table *t;
	struct peer *p;
	struct session *s1 = calloc(1, sizeof(*s1)), *s2 = calloc(1, sizeof(*s2)), *s3 = calloc(1, sizeof(*s3));
	int kind;

	CHECK_INT(peer_table_init(&t), 0);
	p = peer_add(t, "bob@example.com");
	s1->local_index = 11;
	s2->local_index = 22;
	s3->local_index = 33;
	peer_index_add(t, 11, IDX_SESSION, s1);
	peer_index_add(t, 22, IDX_SESSION, s2);
	peer_index_add(t, 33, IDX_SESSION, s3);
	peer_session_install(t, p, s1);
	peer_session_install(t, p, s2);
	CHECK(p->cur == s2 && p->prev == s1);
	peer_session_install(t, p, s3);	/* s1 is retired and its index freed */
	CHECK(p->cur == s3 && p->prev == s2);
	CHECK(peer_index_get(t, 11, &kind) == NULL);
	CHECK(peer_index_get(t, 22, &kind) == s2);
	peer_drop_sessions(t, p);
	CHECK(p->cur == NULL && p->prev == NULL);
	CHECK(peer_index_get(t, 33, &kind) == NULL);
	peer_table_free(t);
}

static void test_revoked_and_eps(void)
{
	struct peer_table *t;
	struct ep a = { .sock = 0 }, b = { .sock = 0 };
	char buf[64];

	CHECK_INT(peer_table_init(&t), 0);
	struct cert_info c1 = { .identity = "carol@example.org", .serial = "abcd" };
	struct cert_info c2 = { .identity = "carol@example.org", .serial = "abce" };
	struct cert_info c3 = { .identity = "bob@example.com", .serial = "abcd" };

	CHECK_INT(peer_revoked(t, &c1), 0);
	CHECK_INT(peer_revoked_add(t, "example.org", "abcd", 2000000000), 1);
	CHECK_INT(peer_revoked_add(t, "example.org", "abcd", 2000000000), 0);
	CHECK_INT(peer_revoked(t, &c1), 1);
	CHECK_INT(peer_revoked(t, &c2), 0);
	/* example.org's word does not cut off example.com's certificate. */
	CHECK_INT(peer_revoked(t, &c3), 0);
	a.sa.sin6_family = b.sa.sin6_family = AF_INET6;
	a.sa.sin6_port = b.sa.sin6_port = htons(8789);
	CHECK(ep_equal(&a, &b));
	b.sock = 3;
	CHECK(!ep_equal(&a, &b));
	a.relay = b.relay = 99;
	CHECK(ep_equal(&a, &b));	/* through the relay: the node id is the path */
	ep_format(&a, buf, sizeof(buf));
	CHECK_STR(buf, "relay");
	peer_table_free(t);
}

/* Peers by identity among many (the hash beside the list): each found,
 * a removed one gone and the others kept, the list still walking all
 * that remain, a name added again is a new peer, and peer_add of a
 * known name returns the one there. */
static void test_find_among_many(void)
{
	static struct peer *ps[10000];
	struct peer_table *t;
	char id[64];
	int walked = 0, ok = 1;

	CHECK_INT(peer_table_init(&t), 0);
	for (int i = 0; i < 10000; i++) {
		snprintf(id, sizeof(id), "n%d@example.com", i);
		ps[i] = peer_add(t, id);
		ok &= ps[i] != NULL;
	}
	CHECK(ok);
	CHECK(peer_add(t, "n77@example.com") == ps[77]);
	for (int i = 0; i < 10000; i += 2)
		peer_remove(t, ps[i]);
	for (int i = 0; i < 10000; i++) {
		snprintf(id, sizeof(id), "n%d@example.com", i);
		ok &= peer_find(t, id) == (i % 2 ? ps[i] : NULL);
	}
	CHECK(ok);
	for (struct peer *p = peer_first(t); p; p = p->next)
		walked++;
	CHECK_INT(walked, 5000);
	CHECK(peer_find(t, "n1@example.co") == NULL);
	ps[0] = peer_add(t, "n0@example.com");
	CHECK(ps[0] != NULL && peer_find(t, "n0@example.com") == ps[0]);
	CHECK_STR(peer_find(t, "n0@example.com")->identity, "n0@example.com");
	peer_table_free(t);
}

int main(void)
{
	RUN(test_expects_many);
	RUN(test_index_differential);
	RUN(test_index_churn);
	RUN(test_index_full);
	RUN(test_index_ten_thousand_peers);
	RUN(test_peers_and_queue);
	RUN(test_release);
	RUN(test_expects);
	RUN(test_sessions);
	RUN(test_revoked_and_eps);
	RUN(test_find_among_many);
	return HARNESS_END();
}
