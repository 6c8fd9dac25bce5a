/* Handshake attempts without sockets (tund/overlay/attempt.c, timers.c):
 * where HELLOs go and when, giving up, the per-source cap on responder
 * handshakes, finding the attempt a segment belongs to, the address a
 * cookie is bound to, and which completed handshakes get no session. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netstack/udp.h"
#include "tests/unit/harness.h"
#include "tund/conf/config.h"
#include "tund/overlay/attempt.h"
#include "tund/overlay/claims.h"
#include "tund/overlay/peer.h"
#include "tund/overlay/policy.h"
#include "tund/overlay/timers.h"

#define T0 1000000ull

static struct ep direct_ep(const char *s)
{
	struct ep e;

	memset(&e, 0, sizeof(e));
	udp_addr_parse(s, &e.sa);
	return e;
}

static void test_hello_targets(void)
{
	struct peer p;
	struct attempt a;
	struct ep to[ATTEMPT_HELLO_TARGETS], bday = direct_ep("192.0.2.9:31000");
	struct sockaddr_in6 c[2];

	memset(&p, 0, sizeof(p));
	memset(&a, 0, sizeof(a));
	a.stage = AT_HELLO;
	a.started_ms = T0;
	udp_addr_parse("192.0.2.12:8789", &c[0]);
	udp_addr_parse("[2001:db8::12]:8789", &c[1]);
	/* Nowhere to go. */
	CHECK_INT(attempt_hello_targets(&p, &a, T0, to, ATTEMPT_HELLO_TARGETS), 0);
	/* Only the relay: at once. */
	p.relay_id = 9;
	CHECK_INT(attempt_hello_targets(&p, &a, T0, to, ATTEMPT_HELLO_TARGETS), 1);
	CHECK_INT(to[0].relay, 9);
	/* Direct candidates first; the relay joins after a second. */
	peer_merge_eps(&p, c, 2);
	CHECK_INT(attempt_hello_targets(&p, &a, T0 + 999, to, ATTEMPT_HELLO_TARGETS), 2);
	CHECK(udp_addr_equal(&to[0].sa, &c[0]) && !to[0].relay && !to[0].sock);
	CHECK(udp_addr_equal(&to[1].sa, &c[1]));
	CHECK_INT(attempt_hello_targets(&p, &a, T0 + 1000, to, ATTEMPT_HELLO_TARGETS), 3);
	CHECK_INT(to[2].relay, 9);
	/* The birthday socket the peer's probe reached goes first. */
	bday.sock = 17;
	p.bday_ep = bday;
	p.have_bday_ep = 1;
	CHECK_INT(attempt_hello_targets(&p, &a, T0 + 1000, to, ATTEMPT_HELLO_TARGETS), 4);
	CHECK_INT(to[0].sock, 17);
	CHECK(ep_equal(&to[0], &bday));
	/* Never more than asked for. */
	CHECK_INT(attempt_hello_targets(&p, &a, T0 + 1000, to, 2), 2);
	/* No relay id, no relay. */
	p.relay_id = 0;
	CHECK_INT(attempt_hello_targets(&p, &a, T0 + 5000, to, ATTEMPT_HELLO_TARGETS), 3);
}

/* The loop's view of one initiation that nobody answers: HELLOs at
 * 0, 250, ... 2750 ms, then every second, given up after 10 s, and no
 * new initiation for 2 s more. */
static void test_unanswered_initiation(void)
{
	struct peer p;
	struct attempt a;
	int hellos = 0;
	uint64_t now, gave_up = 0;

	memset(&p, 0, sizeof(p));
	memset(&a, 0, sizeof(a));
	a.stage = AT_HELLO;
	a.started_ms = T0;
	a.peer = &p;
	p.init = &a;
	for (now = T0; now < T0 + 20000 && !gave_up; now += 5) {
		if (timers_attempt_expired(&a, now)) {
			timers_handshake_backoff(&p, now);
			p.init = NULL;
			gave_up = now;
			break;
		}
		if (timers_hello_due(&a, now)) {
			hellos++;
			timers_hello_sent(&a, now);
		}
	}
	CHECK_INT(gave_up, T0 + 10005);
	CHECK_INT(hellos, 20);
	CHECK(timers_init_held(&p, gave_up + 1999));
	CHECK(!timers_init_held(&p, gave_up + 2000));
}

static struct attempt *responder(struct attempt_set *s, const struct ep *from, uint32_t remote)
{
	struct attempt *a = calloc(1, sizeof(*a));

	a->ep = *from;
	a->remote_index = remote;
	a->local_index = 1000 + (uint32_t)s->n;
	a->stage = AT_TLS;
	s->a[s->n++] = a;
	return a;
}

static void test_per_source_cap(void)
{
	struct attempt_set *s = calloc(1, sizeof(*s));
	struct ep x = direct_ep("192.0.2.66:1000"), x2 = direct_ep("192.0.2.66:2000");
	struct ep y = direct_ep("192.0.2.77:1000"), r = { .relay = 3 }, r2 = { .relay = 4 };
	struct attempt *init;

	/* Eight open handshakes from one address, whatever the ports. */
	for (int i = 0; i < ATTEMPT_MAX_PER_SOURCE; i++) {
		CHECK(attempt_source_allowed(s, i % 2 ? &x : &x2));
		responder(s, i % 2 ? &x : &x2, 100 + (uint32_t)i);
	}
	CHECK_INT(attempt_responders_from(s, &x), 8);
	CHECK(!attempt_source_allowed(s, &x));
	CHECK(!attempt_source_allowed(s, &x2));
	/* Everyone else still gets in, the relay counted per relayed node. */
	CHECK(attempt_source_allowed(s, &y));
	for (int i = 0; i < ATTEMPT_MAX_PER_SOURCE; i++)
		responder(s, &r, 200 + (uint32_t)i);
	CHECK(!attempt_source_allowed(s, &r));
	CHECK(attempt_source_allowed(s, &r2));
	CHECK(attempt_source_allowed(s, &y));
	/* Our own initiations and finished handshakes do not count. */
	s->a[0]->stage = AT_FLUSH;
	CHECK(attempt_source_allowed(s, &x));
	s->a[0]->stage = AT_TLS;
	init = responder(s, &y, 0);
	init->initiator = 1;
	CHECK_INT(attempt_responders_from(s, &y), 0);
	for (int i = 0; i < s->n; i++)
		free(s->a[i]);
	free(s);
}

/* An IPv6 host holds a /64: its addresses are one source. 32 of them
 * times 8 once took every slot. IPv4 stays per address. */
static void test_per_source_cap_v6_prefix(void)
{
	struct attempt_set *s = calloc(1, sizeof(*s));
	struct ep same64 = direct_ep("[2001:db8:1:2::ffff]:9"), next64 = direct_ep("[2001:db8:1:3::1]:9");
	struct ep v4 = direct_ep("192.0.2.67:1000");
	char a[64];

	for (int i = 0; i < ATTEMPT_MAX_PER_SOURCE; i++) {
		struct ep e;

		snprintf(a, sizeof(a), "[2001:db8:1:2:%x::%x]:%d", i, i + 1, 1000 + i);
		e = direct_ep(a);
		CHECK(attempt_source_allowed(s, &e));
		responder(s, &e, 100 + (uint32_t)i);
	}
	CHECK_INT(attempt_responders_from(s, &same64), ATTEMPT_MAX_PER_SOURCE);
	CHECK(!attempt_source_allowed(s, &same64));
	CHECK(attempt_source_allowed(s, &next64));
	for (int i = 0; i < ATTEMPT_MAX_PER_SOURCE; i++)
		responder(s, &v4, 200 + (uint32_t)i);
	CHECK(!attempt_source_allowed(s, &v4));
	v4 = direct_ep("192.0.2.68:1000");
	CHECK(attempt_source_allowed(s, &v4));
	for (int i = 0; i < s->n; i++)
		free(s->a[i]);
	free(s);
}

/* Responders from any number of sources leave our own initiations a
 * share of the slots: a flood of callers cannot keep us from calling. */
static void test_initiator_reserve(void)
{
	struct attempt_set *s = calloc(1, sizeof(*s));
	char a[64];
	int n = 0;

	while (attempt_slot_free(s, 0)) {
		struct ep e;

		snprintf(a, sizeof(a), "[2001:db8:%x::1]:1000", n);
		e = direct_ep(a);
		responder(s, &e, (uint32_t)n++);
	}
	CHECK_INT(n, ATTEMPT_MAX - ATTEMPT_RESERVED_INIT);
	CHECK(attempt_slot_free(s, 1));
	/* Finished responders still hold their slot while they flush. */
	s->a[0]->stage = AT_FLUSH;
	CHECK(!attempt_slot_free(s, 0));
	while (attempt_slot_free(s, 1)) {
		struct attempt *i = responder(s, &(struct ep){ .relay = 1 }, 0);

		i->initiator = 1;
	}
	CHECK_INT(s->n, ATTEMPT_MAX);
	for (int i = 0; i < s->n; i++)
		free(s->a[i]);
	free(s);
}

static void test_find(void)
{
	struct attempt_set *s = calloc(1, sizeof(*s));
	struct ep x = direct_ep("192.0.2.66:1000"), x2 = direct_ep("192.0.2.66:2000");
	struct attempt *a = responder(s, &x, 500), *b = responder(s, &x2, 500);

	/* A responder is found by the initiator's index and its endpoint. */
	CHECK(attempt_find_responder(s, &x, 500) == a);
	CHECK(attempt_find_responder(s, &x2, 500) == b);
	CHECK(attempt_find_responder(s, &x, 501) == NULL);
	b->initiator = 1;
	CHECK(attempt_find_responder(s, &x2, 500) == NULL);
	/* Flushing attempts by the index their session took over. */
	CHECK(attempt_find_flushing(s, a->local_index) == NULL);
	a->stage = AT_FLUSH;
	CHECK(attempt_find_flushing(s, a->local_index) == a);
	free(a);
	free(b);
	free(s);
}

/* Stands for a started TLS: attempt_hs_route only asks whether there is one. */
static int fake_hs_storage;
#define FAKE_HS ((struct hs *)&fake_hs_storage)

/* Anyone who saw a HELLO can answer it, first, from anywhere: a COOKIE
 * from one endpoint must not shut out the genuine one from another, and
 * an HS naming our index from elsewhere must change nothing. */
static void test_cookie_poisoning(void)
{
	static struct attempt a;
	struct ep x = direct_ep("198.51.100.66:4444"), b = direct_ep("192.0.2.12:8789");
	struct ep y = direct_ep("203.0.113.5:1"), zero;
	uint8_t nonce[16], other[16], ck1[16], ck2[16];
	struct attempt_trial *tx, *tb;
	int k = -1;

	memset(&zero, 0, sizeof(zero));
	memset(nonce, 0x11, sizeof(nonce));
	memset(other, 0x22, sizeof(other));
	memset(ck1, 0xc1, sizeof(ck1));
	memset(ck2, 0xc2, sizeof(ck2));
	a.initiator = 1;
	a.stage = AT_HELLO;
	a.local_index = 77;
	memcpy(a.nonce, nonce, sizeof(nonce));
	/* In the HELLO stage there is no TLS: nothing to feed, even from
	 * the all-zero endpoint the attempt's ep still holds. */
	CHECK_INT(attempt_hs_route(&a, &zero, 5, &k), ATTEMPT_IGNORE);
	CHECK_INT(a.remote_index, 0);
	/* The attacker's COOKIE comes first: a trial, nothing more. */
	tx = attempt_cookie_trial(&a, &x, nonce, ck1, T0);
	CHECK(tx != NULL);
	if (!tx)
		return;
	tx->hs = FAKE_HS;
	CHECK_INT(a.stage, AT_HELLO);
	/* The genuine one still gets its own. */
	tb = attempt_cookie_trial(&a, &b, nonce, ck2, T0);
	CHECK(tb != NULL && tb != tx);
	if (!tb)
		return;
	tb->hs = FAKE_HS;
	CHECK_INT(a.n_trials, 2);
	CHECK(attempt_cookie_trial(&a, &b, other, ck2, T0) == NULL);	/* not our nonce */
	CHECK(attempt_cookie_trial(&a, &x, nonce, ck1, T0) == tx);	/* a repeat, no new trial */
	CHECK_INT(a.n_trials, 2);
	/* HS from nowhere we tried: ignored, nobody's index taken. */
	CHECK_INT(attempt_hs_route(&a, &y, 666, &k), ATTEMPT_IGNORE);
	CHECK_INT(tx->remote_index, 0);
	CHECK_INT(tb->remote_index, 0);
	CHECK_INT(a.remote_index, 0);
	/* Each endpoint answers for its own trial only. */
	CHECK_INT(attempt_hs_route(&a, &x, 5, &k), ATTEMPT_TRIAL);
	CHECK(&a.trial[k] == tx);
	CHECK_INT(attempt_hs_route(&a, &b, 7, &k), ATTEMPT_TRIAL);
	CHECK(&a.trial[k] == tb);
	CHECK_INT(tb->remote_index, 7);
	CHECK_INT(attempt_hs_route(&a, &b, 8, &k), ATTEMPT_IGNORE);
	CHECK_INT(tb->remote_index, 7);
	CHECK_INT(tx->remote_index, 5);
	/* Trials start half a second apart while none has proven the peer:
	 * a responder reached at two addresses gets one handshake. */
	tx->started_ms = T0;
	tb->started_ms = T0 + 100;
	CHECK(!timers_trial_start_due(&a, T0 + 599));
	CHECK(timers_trial_start_due(&a, T0 + 600));
	/* A burst of COOKIEs from elsewhere fills the trials; a newcomer
	 * takes the place of the one waiting longest, never a running one. */
	for (int i = a.n_trials; i < ATTEMPT_TRIALS; i++) {
		char s[32];
		struct ep e;

		snprintf(s, sizeof(s), "198.51.100.%d:1", i);
		e = direct_ep(s);
		CHECK(attempt_cookie_trial(&a, &e, nonce, ck1, T0 + (uint64_t)i) != NULL);
	}
	tb = attempt_cookie_trial(&a, &y, nonce, ck1, T0 + 50);
	CHECK(tb == &a.trial[2]);
	CHECK(tb && ep_equal(&tb->ep, &y) && !tb->hs);
	CHECK_INT(a.n_trials, ATTEMPT_TRIALS);
	for (int i = 0; i < ATTEMPT_TRIALS; i++)
		a.trial[i].hs = FAKE_HS;
	CHECK(attempt_cookie_trial(&a, &zero, nonce, ck1, T0) == NULL);
}

/* Once bound, only the bound endpoint's segments reach the TLS, and the
 * remote index is never taken from anyone else. */
static void test_hs_route_bound(void)
{
	static struct attempt a;
	struct ep x = direct_ep("198.51.100.66:4444"), b = direct_ep("192.0.2.12:8789");
	int k;

	a.initiator = 1;
	a.stage = AT_TLS;
	a.ep = b;
	a.hs = FAKE_HS;
	CHECK_INT(attempt_hs_route(&a, &x, 666, &k), ATTEMPT_IGNORE);
	CHECK_INT(a.remote_index, 0);
	CHECK_INT(attempt_hs_route(&a, &b, 7, &k), ATTEMPT_OWN);
	CHECK_INT(a.remote_index, 7);
	CHECK_INT(attempt_hs_route(&a, &b, 9, &k), ATTEMPT_IGNORE);
	CHECK_INT(attempt_hs_route(&a, &x, 7, &k), ATTEMPT_IGNORE);
	CHECK_INT(a.remote_index, 7);
	/* No TLS, no input. */
	a.hs = NULL;
	CHECK_INT(attempt_hs_route(&a, &b, 7, &k), ATTEMPT_IGNORE);
	/* A flushing responder answers its initiator only. */
	a.initiator = 0;
	a.stage = AT_FLUSH;
	a.hs = FAKE_HS;
	CHECK_INT(attempt_hs_route(&a, &b, 7, &k), ATTEMPT_OWN);
	CHECK_INT(attempt_hs_route(&a, &b, 8, &k), ATTEMPT_IGNORE);
}

static void test_cookie_addr(void)
{
	struct ep x = direct_ep("192.0.2.66:1000"), r1 = { .relay = 3 }, r2 = { .relay = 4 };
	struct sockaddr_in6 ax = attempt_cookie_addr(&x), a1 = attempt_cookie_addr(&r1),
	    a1b = attempt_cookie_addr(&r1), a2 = attempt_cookie_addr(&r2);

	/* Direct: the sender's address and port. */
	CHECK(udp_addr_equal(&ax, &x.sa));
	/* Relayed: one pseudo address per relayed node, stable. */
	CHECK(udp_addr_equal(&a1, &a1b));
	CHECK(!udp_addr_equal(&a1, &a2));
	CHECK_INT(a1.sin6_addr.s6_addr[0], 0xfe);
	CHECK_INT(a1.sin6_addr.s6_addr[1], 0x80);
	CHECK(!udp_addr_equal(&a1, &ax));
}

static struct cert_info cert(const char *identity, uint8_t last, const char *serial)
{
	struct cert_info ci;

	memset(&ci, 0, sizeof(ci));
	snprintf(ci.identity, sizeof(ci.identity), "%s", identity);
	ci.v4[0] = 100;
	ci.v4[1] = 64;
	ci.v4[3] = last;
	addr_overlay_v6(identity, ci.v6);
	snprintf(ci.serial, sizeof(ci.serial), "%s", serial);
	return ci;
}

static void test_verdict(void)
{
	static struct config cfg;
	static const uint8_t own[4] = { 100, 64, 0, 1 };
	uint8_t own6[16];
	struct claims_self self = { .identity = "alice@example.com", .v4 = own, .v6 = own6 };
	struct peer_table *t;
	struct peer *carol;
	struct cert_info bob = cert("bob@example.com", 2, "b0b"), ci;
	char err[256] = "";

	addr_overlay_v6(self.identity, own6);
	CHECK_INT(peer_table_init(&t), 0);
	cfg.n_refuse = 2;
	strcpy(cfg.refuse[0], "*@evil.org");
	strcpy(cfg.refuse[1], "mallory@example.com");
	CHECK_INT(attempt_verdict(t, &cfg, &self, 0, &bob, err, sizeof(err)), ATTEMPT_ACCEPT);
	/* Revoked: refused either way. */
	peer_revoked_add(t, "example.com", "b0b", 2000000000);
	CHECK_INT(attempt_verdict(t, &cfg, &self, 1, &bob, err, sizeof(err)), ATTEMPT_REVOKED);
	CHECK_INT(attempt_verdict(t, &cfg, &self, 0, &bob, err, sizeof(err)), ATTEMPT_REVOKED);
	/* Policy refuses callers only: a peer we called ourselves is fine. */
	ci = cert("eve@evil.org", 3, "e0e");
	CHECK_INT(attempt_verdict(t, &cfg, &self, 0, &ci, err, sizeof(err)), ATTEMPT_REFUSED);
	CHECK_INT(attempt_verdict(t, &cfg, &self, 1, &ci, err, sizeof(err)), ATTEMPT_ACCEPT);
	ci = cert("mallory@example.com", 4, "a11");
	CHECK_INT(attempt_verdict(t, &cfg, &self, 0, &ci, err, sizeof(err)), ATTEMPT_REFUSED);
	CHECK(!policy_allows(&cfg, "mallory@example.com"));
	CHECK(policy_allows(&cfg, "mallory@example.org"));
	CHECK(policy_allows(&cfg, "evil.org"));		/* no user part: no domain rule */
	/* Our own address, or one another peer holds: refused, and why. */
	ci = cert("dave@example.com", 1, "d0d");
	CHECK_INT(attempt_verdict(t, &cfg, &self, 1, &ci, err, sizeof(err)), ATTEMPT_CLASH);
	CHECK_STR(err, "dave@example.com's address 100.64.0.1 is this node's own");
	carol = peer_add(t, "carol@example.com");
	carol->ci = cert("carol@example.com", 5, "c0c");
	carol->have_cert = 1;
	ci = cert("dave@example.com", 5, "d0d");
	CHECK_INT(attempt_verdict(t, &cfg, &self, 1, &ci, err, sizeof(err)), ATTEMPT_CLASH);
	CHECK_STR(err, "dave@example.com's address 100.64.0.5 clashes with carol@example.com");
	/* Another domain's node with the same IPv4s is shown under a local
	 * one (foreign.h): accepted. */
	ci = cert("dave@other.org", 1, "d0d");
	CHECK_INT(attempt_verdict(t, &cfg, &self, 1, &ci, err, sizeof(err)), ATTEMPT_ACCEPT);
	ci = cert("dave@other.org", 5, "d0d");
	CHECK_INT(attempt_verdict(t, &cfg, &self, 1, &ci, err, sizeof(err)), ATTEMPT_ACCEPT);
	/* Carol's own new certificate with her old address is no clash. */
	ci = cert("carol@example.com", 5, "c1c");
	CHECK_INT(attempt_verdict(t, &cfg, &self, 1, &ci, err, sizeof(err)), ATTEMPT_ACCEPT);
	/* What the certificate routes, against the peers in the table. */
	ci = cert("erin@example.org", 6, "e1e");
	ci.n_routes = 1;
	addr_prefix_parse("100.64.0.5/32", &ci.routes[0]);
	CHECK_INT(attempt_verdict(t, &cfg, &self, 1, &ci, err, sizeof(err)), ATTEMPT_CLASH);
	CHECK_STR(err, "route 100.64.0.5/32 covers carol@example.com's address");
	addr_prefix_parse("198.51.100.0/24", &ci.routes[0]);
	CHECK_INT(attempt_verdict(t, &cfg, &self, 1, &ci, err, sizeof(err)), ATTEMPT_CLASH);
	CHECK_STR(err, "route 198.51.100.0/24 is not one example.org may grant (its trust entry's routes)");
	cfg.n_trust = 1;
	strcpy(cfg.trust[0].domain, "example.org");
	cfg.trust[0].n_routes = 1;
	addr_prefix_parse("198.51.100.0/24", &cfg.trust[0].routes[0]);
	CHECK_INT(attempt_verdict(t, &cfg, &self, 1, &ci, err, sizeof(err)), ATTEMPT_ACCEPT);
	peer_table_free(t);
}

int main(void)
{
	RUN(test_hello_targets);
	RUN(test_unanswered_initiation);
	RUN(test_per_source_cap);
	RUN(test_per_source_cap_v6_prefix);
	RUN(test_initiator_reserve);
	RUN(test_find);
	RUN(test_cookie_poisoning);
	RUN(test_hs_route_bound);
	RUN(test_cookie_addr);
	RUN(test_verdict);
	return HARNESS_END();
}
