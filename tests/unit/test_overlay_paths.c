/* Paths and roaming on a fake clock, through the real receive path
 * (datapath_receive): an endpoint moves only on an authenticated,
 * non-replayed packet; a direct packet always wins over the relay; a
 * relayed one takes over only from a direct path gone quiet; a quiet
 * direct path falls back to the relay and a direct packet brings the
 * peer back (tund/overlay/paths.c, datapath.c, timers.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "netstack/aead.h"
#include "netstack/authwire.h"
#include "netstack/udp.h"
#include "netstack/wire.h"
#include "tests/unit/harness.h"
#include "tund/base/log.h"
#include "tund/overlay/datapath.h"
#include "tund/overlay/paths.h"
#include "tund/overlay/peer.h"
#include "tund/overlay/timers.h"

#define T0 1000000ull

static const struct timers_cfg cfg = { .rekey_after_ms = 120000 };
static const uint8_t key[32] = { 1, 2, 3, 4, 5, 6, 7, 8 };

struct fixture {
	struct peer_table *t;
	struct peer *p;
	struct session *s;
	struct ep a, b, relay;		/* two direct addresses and the relay */
};

static struct ep direct_ep(const char *s)
{
	struct ep e;

	memset(&e, 0, sizeof(e));
	udp_addr_parse(s, &e.sa);
	return e;
}

/* bob, with a session whose receive key is `key`, last heard at a. */
static void setup(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	CHECK_INT(peer_table_init(&f->t), 0);
	f->p = peer_add(f->t, "bob@example.com");
	f->s = calloc(1, sizeof(*f->s));
	f->s->local_index = peer_new_index(f->t);
	f->s->born_ms = T0;
	f->s->can_send = 1;
	CHECK_INT(aead_new(AEAD_CHACHA20_POLY1305, key, &f->s->recv_aead), 0);
	replay_init(&f->s->replay);
	CHECK_INT(peer_index_add(f->t, f->s->local_index, IDX_SESSION, f->s), 0);
	peer_session_install(f->t, f->p, f->s);
	f->a = direct_ep("192.0.2.12:8789");
	f->b = direct_ep("198.51.100.7:40000");
	memset(&f->relay, 0, sizeof(f->relay));
	f->relay.relay = 42;
	f->p->relay_id = 42;
	f->p->ep = f->a;
	f->p->have_ep = 1;
	peer_merge_eps(f->p, &f->a.sa, 1);
	timers_handshake_complete(f->p, 0, T0);
}

/* A DATA datagram with counter ctr, sealed with k, len plaintext bytes. */
static size_t seal(struct fixture *f, const uint8_t *k, uint64_t ctr, size_t len, uint8_t *out)
{
	uint8_t pt[64] = { 0x45 };
	struct aead *a = NULL;

	wire_build_data_header(f->s->local_index, ctr, out, WIRE_DATA_HDR_LEN);
	CHECK_INT(aead_new(AEAD_CHACHA20_POLY1305, k, &a), 0);
	CHECK(aead_seal(a, ctr, out, WIRE_DATA_HDR_LEN, pt, len, out + WIRE_DATA_HDR_LEN) >= 0);
	aead_free(a);
	return WIRE_DATA_HDR_LEN + len + AEAD_TAG_LEN;
}

static int deliver(struct fixture *f, const uint8_t *k, uint64_t ctr, const struct ep *from, uint64_t now)
{
	uint8_t buf[256];
	size_t n = seal(f, k, ctr, 20, buf);
	struct session *s = NULL;
	int rc = datapath_receive(f->t, &cfg, buf, n, from, now, &s);

	if (rc >= 0)
		CHECK(s == f->s);
	return rc;
}

static void test_roam_only_on_authentic_fresh(void)
{
	struct fixture f;
	uint8_t wrong[32] = { 9 };
	uint8_t buf[256];
	size_t n;
	struct session *s;

	setup(&f);
	/* A forgery from elsewhere: dropped, nothing moves. */
	CHECK_INT(deliver(&f, wrong, 0, &f.b, T0 + 10), -EBADMSG);
	CHECK(ep_equal(&f.p->ep, &f.a));
	CHECK_INT(f.p->t.last_rx_ms, 0);
	/* A genuine packet from a: stays. */
	CHECK_INT(deliver(&f, key, 1, &f.a, T0 + 20), 20);
	CHECK(ep_equal(&f.p->ep, &f.a));
	/* Replayed from elsewhere (an attacker's copy): dropped, stays. */
	CHECK_INT(deliver(&f, key, 1, &f.b, T0 + 30), -EALREADY);
	CHECK(ep_equal(&f.p->ep, &f.a));
	CHECK_INT(f.p->t.last_rx_ms, T0 + 20);
	/* A fresh genuine packet from b: the peer roamed. */
	CHECK_INT(deliver(&f, key, 2, &f.b, T0 + 40), 20);
	CHECK(ep_equal(&f.p->ep, &f.b));
	/* An older counter still inside the window is fine and moves it
	 * back: the window, not arrival order, says what is fresh. */
	CHECK_INT(deliver(&f, key, 0, &f.a, T0 + 50), 20);
	CHECK(ep_equal(&f.p->ep, &f.a));
	/* Damaged in flight: dropped. */
	n = seal(&f, key, 3, 20, buf);
	buf[n - 1] ^= 1;
	CHECK_INT(datapath_receive(f.t, &cfg, buf, n, &f.b, T0 + 60, &s), -EBADMSG);
	CHECK(ep_equal(&f.p->ep, &f.a));
	/* Unknown index and malformed: dropped. */
	n = seal(&f, key, 4, 20, buf);
	buf[4] ^= 0xff;
	CHECK_INT(datapath_receive(f.t, &cfg, buf, n, &f.b, T0 + 70, &s), -ENOENT);
	CHECK_INT(datapath_receive(f.t, &cfg, buf, 10, &f.b, T0 + 70, &s), -EINVAL);
	/* Keys past reject_after: refused, even genuine and fresh. */
	CHECK_INT(deliver(&f, key, 5, &f.b, T0 + 180001), -EKEYEXPIRED);
	CHECK(ep_equal(&f.p->ep, &f.a));
	peer_table_free(f.t);
}

static void test_direct_wins_over_relay(void)
{
	struct fixture f;

	setup(&f);
	/* Direct and fresh: a relayed packet does not take over. */
	CHECK_INT(deliver(&f, key, 1, &f.a, T0 + 1000), 20);
	CHECK_INT(deliver(&f, key, 2, &f.relay, T0 + 2000), 20);
	CHECK(ep_equal(&f.p->ep, &f.a));
	CHECK(!f.p->ep.relay);
	CHECK_INT(deliver(&f, key, 3, &f.relay, T0 + 3000), 20);
	CHECK(!f.p->ep.relay);
	/* Direct quiet for more than 2 s while the relay brings packets:
	 * the peer gave up on direct, so follow it onto the relay. */
	CHECK_INT(deliver(&f, key, 4, &f.relay, T0 + 3001), 20);
	CHECK(f.p->ep.relay == 42);
	CHECK_INT(f.p->t.relay_since_ms, T0 + 3001);
	peer_table_free(f.t);
}

static void test_quiet_direct_falls_back_then_upgrades(void)
{
	struct fixture f;
	uint64_t now = T0 + 1000;

	setup(&f);
	f.p->have_cert = 1;
	/* We send on the direct path and hear nothing back. */
	timers_data_sent(f.p, 100, now);
	CHECK(!timers_direct_dead(&cfg, f.p, 1, now + 6000));
	CHECK(timers_direct_dead(&cfg, f.p, 1, now + 6001));
	/* The overlay falls back (paths.c does this on the tick). */
	f.p->ep.relay = f.p->relay_id;
	timers_relay_fallback(f.p, now + 6001);
	CHECK(!timers_direct_dead(&cfg, f.p, 1, now + 60000));
	/* On the relay, relayed packets keep it there. */
	CHECK_INT(deliver(&f, key, 1, &f.relay, now + 7000), 20);
	CHECK(f.p->ep.relay == 42);
	/* Ask for a re-introduction after 10 s on the relay. */
	CHECK(!timers_reintro_due(f.p, now + 7000));
	CHECK(timers_reintro_due(f.p, now + 17000));
	timers_reintro_sent(f.p, now + 17000);
	CHECK_INT(f.p->reintros, 1);
	/* Direct candidates are probed; one answers from a new address:
	 * upgrade at once, learn the address, start re-introductions anew. */
	CHECK(timers_direct_probe_due(f.p, now + 17000));
	CHECK_INT(deliver(&f, key, 2, &f.b, now + 17500), 20);
	CHECK(ep_equal(&f.p->ep, &f.b));
	CHECK_INT(f.p->n_eps, 2);
	CHECK(udp_addr_equal(&f.p->eps[1], &f.b.sa));
	CHECK_INT(f.p->reintros, 0);
	CHECK_INT(f.p->t.next_reintro_ms, 0);
	CHECK(!timers_direct_probe_due(f.p, now + 30000));
	peer_table_free(f.t);
}

static void test_roam_decision_table(void)
{
	struct peer p;
	struct ep a = direct_ep("192.0.2.1:1"), a2 = direct_ep("192.0.2.1:2"), r = { .relay = 5 };

	memset(&p, 0, sizeof(p));
	/* No endpoint yet: anything authenticated sets one. */
	CHECK(paths_roam_due(&p, &r));
	CHECK(paths_roam_due(&p, &a));
	paths_roam(&p, &a, T0);
	CHECK(p.have_ep);
	CHECK(!paths_roam_due(&p, &a));		/* same endpoint */
	CHECK(paths_roam_due(&p, &a2));		/* a new port: NAT rebinding */
	/* A birthday socket is another endpoint, same address or not. */
	a2 = a;
	a2.sock = 3;
	CHECK(paths_roam_due(&p, &a2));
	/* Relay over fresh direct: no. Over quiet direct: yes. */
	p.t.last_rx_ms = p.t.last_rx_direct_ms = T0;
	CHECK(!paths_roam_due(&p, &r));
	p.t.last_rx_ms = T0 + 2001;
	CHECK(paths_roam_due(&p, &r));
	paths_roam(&p, &r, T0 + 2001);
	CHECK(p.ep.relay == 5);
	CHECK_INT(p.n_eps, 0);		/* the relay is no direct candidate */
	CHECK(!paths_roam_due(&p, &r));
	/* Back to direct from the relay: a becomes a candidate. */
	paths_roam(&p, &a, T0 + 3000);
	CHECK_INT(p.n_eps, 1);
	CHECK(!p.ep.relay);
}

/* PUNCH between alice and bob after an introduction (paths_punch_*): a
 * captured PUNCH replayed (from any source: the source is not an input)
 * is refused, as is one reflected back to its sender, one of an earlier
 * introduction and a forged one; each counter is taken once, in any
 * order within the window. */
static void test_punch_once_per_introduction(void)
{
	struct peer_table *at, *bt;
	struct peer *bob, *alice;
	uint8_t tok1[16] = { 1 }, tok2[16] = { 2 }, p1[AW_PUNCH_LEN], p2[AW_PUNCH_LEN], ack[AW_PUNCH_LEN];
	uint8_t forged[AW_PUNCH_LEN];

	CHECK_INT(peer_table_init(&at), 0);
	CHECK_INT(peer_table_init(&bt), 0);
	bob = peer_add(at, "bob@example.com");		/* alice's view */
	alice = peer_add(bt, "alice@example.com");	/* bob's view */
	peer_add(bt, "carol@example.com");
	CHECK_INT(paths_punch_build(bob, AW_PUNCH, p1, sizeof(p1)), -ENOKEY);
	CHECK_INT(paths_punch_keys(bob, "alice@example.com", tok1), 0);
	CHECK_INT(paths_punch_keys(alice, "bob@example.com", tok1), 0);
	CHECK_INT(paths_punch_build(bob, AW_PUNCH, p1, sizeof(p1)), AW_PUNCH_LEN);
	CHECK_INT(paths_punch_build(bob, AW_PUNCH, p2, sizeof(p2)), AW_PUNCH_LEN);
	/* Out of order, each once. */
	CHECK(paths_punch_open(bt, p2, sizeof(p2)) == alice);
	CHECK(paths_punch_open(bt, p1, sizeof(p1)) == alice);
	CHECK(paths_punch_open(bt, p1, sizeof(p1)) == NULL);
	CHECK(paths_punch_open(bt, p2, sizeof(p2)) == NULL);
	/* Alice's own PUNCH sent back to her is not bob's. */
	CHECK_INT(paths_punch_build(bob, AW_PUNCH, p1, sizeof(p1)), AW_PUNCH_LEN);
	CHECK(paths_punch_open(at, p1, sizeof(p1)) == NULL);
	/* Bob's answer reaches alice once. */
	CHECK_INT(paths_punch_build(alice, AW_PUNCH_ACK, ack, sizeof(ack)), AW_PUNCH_LEN);
	CHECK(paths_punch_open(at, ack, sizeof(ack)) == bob);
	CHECK(paths_punch_open(at, ack, sizeof(ack)) == NULL);
	/* A forgery: a right-looking PUNCH with another mac. */
	memcpy(forged, p1, sizeof(forged));
	forged[4] ^= 0x40;
	CHECK(paths_punch_open(bt, forged, sizeof(forged)) == NULL);
	/* A new introduction: the previous one's PUNCHes are dead, even
	 * unseen ones, and counters start again. */
	CHECK_INT(paths_punch_build(bob, AW_PUNCH, p2, sizeof(p2)), AW_PUNCH_LEN);
	CHECK_INT(paths_punch_keys(bob, "alice@example.com", tok2), 0);
	CHECK_INT(paths_punch_keys(alice, "bob@example.com", tok2), 0);
	CHECK(paths_punch_open(bt, p2, sizeof(p2)) == NULL);
	CHECK_INT(paths_punch_build(bob, AW_PUNCH, p1, sizeof(p1)), AW_PUNCH_LEN);
	CHECK(paths_punch_open(bt, p1, sizeof(p1)) == alice);
	peer_table_free(at);
	peer_table_free(bt);
}

/* Two customers behind one CGNAT at 192.0.2.31: the authority hands
 * alice bob's mapping, its guess of bob's port (TCP source, UDP port
 * 8789), which is alice's own mapping, and bob's LAN address. Only the
 * guess goes, whichever of alice's two reflexive addresses names it, and
 * only once it is known; the rest keep their order. */
static void test_drop_own_mappings(void)
{
	static const char *const cands[] = { "192.0.2.31:4911", "192.0.2.31:8789", "198.18.2.2:8789" };
	struct paths_nat nat;
	struct peer_table *t;
	struct peer *bob;
	struct sockaddr_in6 sa;
	char buf[UDP_ADDR_STRLEN];

	memset(&nat, 0, sizeof(nat));
	CHECK_INT(peer_table_init(&t), 0);
	bob = peer_add(t, "bob@example.com");
	for (int i = 0; i < 3; i++) {
		CHECK_INT(udp_addr_parse(cands[i], &sa), 0);
		peer_merge_eps(bob, &sa, 1);
	}
	CHECK_INT(paths_drop_own_mappings(&nat, bob), 0);	/* nothing known yet */
	CHECK_INT(bob->n_eps, 3);
	CHECK_INT(udp_addr_parse("192.0.2.31:8789", &nat.reflexive[1]), 0);
	CHECK_INT(paths_drop_own_mappings(&nat, bob), 0);	/* known only with have_reflexive */
	nat.have_reflexive[1] = 1;
	CHECK_INT(paths_drop_own_mappings(&nat, bob), 1);
	CHECK_INT(bob->n_eps, 2);
	udp_addr_format(&bob->eps[0], buf, sizeof(buf));
	CHECK_STR(buf, "192.0.2.31:4911");
	udp_addr_format(&bob->eps[1], buf, sizeof(buf));
	CHECK_STR(buf, "198.18.2.2:8789");
	/* Same address, other port: another customer, kept. */
	CHECK_INT(udp_addr_parse("192.0.2.31:4912", &nat.reflexive[0]), 0);
	nat.have_reflexive[0] = 1;
	CHECK_INT(paths_drop_own_mappings(&nat, bob), 0);
	CHECK_INT(bob->n_eps, 2);
	peer_table_free(t);
}

/* Relays across domains: each relay's datagrams are taken only from its
 * own address, under its own key and window, naming our id there; what
 * we send there carries our id there and a counter of its own. */
static void test_relays_by_authority(void)
{
	static struct paths_nat nat;	/* ~100 KB of replay windows */
	static const uint8_t own_key[32] = { 9 }, org_key[32] = { 7 };
	uint8_t buf[AW_RELAY_HDR + 64], pl[64];
	struct aw_relay r = { .sender_id = 555, .target_id = 77, .counter = 1 };
	struct sockaddr_in6 own, org, other;
	struct ep from;
	int n;

	memset(&nat, 0, sizeof(nat));
	memset(pl, 0x04, sizeof(pl));
	udp_addr_parse("192.0.2.10:8788", &own);
	udp_addr_parse("192.0.2.20:8788", &org);
	udp_addr_parse("192.0.2.30:8788", &other);
	CHECK(paths_relay_addr(&nat, 0) == NULL);
	CHECK(paths_relay_addr(&nat, 3) == NULL);
	nat.have_udp = 1;
	nat.node_id = 11;
	memcpy(nat.udp_key, own_key, 32);
	nat.auth_udp[0] = own;
	replay_init(&nat.relay_replay);
	nat.xr[3].have_udp = 1;
	nat.xr[3].node_id = 77;
	memcpy(nat.xr[3].udp_key, org_key, 32);
	nat.xr[3].auth_udp[0] = org;
	replay_init(&nat.xr[3].relay_replay);
	CHECK(udp_addr_equal(paths_relay_addr(&nat, 3), &org));
	CHECK(paths_relay_addr(&nat, PATHS_RELAYS) == NULL);
	CHECK(paths_relay_addr(&nat, -1) == NULL);

	/* From example.org's relay, to our id there: taken once, as sent
	 * by node 555 there. */
	memcpy(buf + AW_RELAY_HDR, pl, sizeof(pl));
	n = aw_seal_relay(AW_RELAYED, &r, sizeof(pl), org_key, buf, sizeof(buf));
	CHECK_INT(n, (int)sizeof(buf));
	CHECK_INT(paths_relay_open(&nat, buf, (size_t)n, &other, &from), -EBADMSG);
	CHECK_INT(paths_relay_open(&nat, buf, (size_t)n, &own, &from), -EBADMSG);
	CHECK_INT(paths_relay_open(&nat, buf, (size_t)n, &org, &from), 0);
	CHECK_INT(from.relay, 555);
	CHECK_INT(from.via, 3);
	CHECK_INT(paths_relay_open(&nat, buf, (size_t)n, &org, &from), -EBADMSG);
	/* Our own authority's key does not open example.org's datagrams. */
	r.counter = 2;
	aw_seal_relay(AW_RELAYED, &r, sizeof(pl), own_key, buf, sizeof(buf));
	CHECK_INT(paths_relay_open(&nat, buf, (size_t)n, &org, &from), -EBADMSG);
	/* Nor a datagram naming our id at another authority. */
	r.target_id = 11;
	aw_seal_relay(AW_RELAYED, &r, sizeof(pl), org_key, buf, sizeof(buf));
	CHECK_INT(paths_relay_open(&nat, buf, (size_t)n, &org, &from), -EBADMSG);
	/* A RELAY (node to authority) is not ours to take. */
	r.target_id = 77;
	aw_seal_relay(AW_RELAY, &r, sizeof(pl), org_key, buf, sizeof(buf));
	CHECK_INT(paths_relay_open(&nat, buf, (size_t)n, &org, &from), -EBADMSG);
	/* Our own relay as before, with its own window: counter 1 again. */
	r.target_id = 11;
	r.counter = 1;
	aw_seal_relay(AW_RELAYED, &r, sizeof(pl), own_key, buf, sizeof(buf));
	CHECK_INT(paths_relay_open(&nat, buf, (size_t)n, &own, &from), 0);
	CHECK_INT(from.via, 0);

	/* Sending through example.org: our id there, its counter. */
	CHECK_INT(paths_relay_seal(&nat, 3, 555, buf, sizeof(pl), sizeof(buf)), n);
	CHECK_INT(aw_verify(buf, (size_t)n, org_key), 0);
	CHECK_INT(aw_parse_relay(buf, (size_t)n, &r), 0);
	CHECK_INT(r.sender_id, 77);
	CHECK_INT(r.target_id, 555);
	CHECK_INT(r.counter, 1);
	CHECK_INT(nat.relay_ctr, 0);
	CHECK_INT(paths_relay_seal(&nat, 5, 555, buf, sizeof(pl), sizeof(buf)), -ENOENT);

	/* One node id at two relays is two endpoints. */
	{
		struct ep x = { .relay = 555, .via = 0 }, y = { .relay = 555, .via = 3 };

		CHECK(!ep_equal(&x, &y));
		y.via = 0;
		CHECK(ep_equal(&x, &y));
	}
}

int main(void)
{
	log_setlevel(LOG_LVL_WARN);
	RUN(test_roam_only_on_authentic_fresh);
	RUN(test_direct_wins_over_relay);
	RUN(test_quiet_direct_falls_back_then_upgrades);
	RUN(test_roam_decision_table);
	RUN(test_punch_once_per_introduction);
	RUN(test_drop_own_mappings);
	RUN(test_relays_by_authority);
	return HARNESS_END();
}
