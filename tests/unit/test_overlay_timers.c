/* The overlay's timers (tund/overlay/timers.c) on a fake clock: rekey and
 * key refusal, keepalives owed, an unanswered peer handshaking again, the
 * direct path falling back to the relay, HELLO and punch pacing; and the
 * overlay-wide deadlines: the authority probe, the local-address check,
 * closing birthday sockets, failed lookups' expiry. */
#include <stdlib.h>
#include <string.h>

#include "tests/unit/harness.h"
#include "tund/conf/config.h"
#include "tund/overlay/peer.h"
#include "tund/overlay/timers.h"

#define T0 1000000ull		/* the fake clock starts here (0 means "not armed") */

static const struct timers_cfg cfg = { .rekey_after_ms = 120000, .keepalive_ms = 0 };
static const struct timers_cfg cfg_ka = { .rekey_after_ms = 120000, .keepalive_ms = 20000 };

/* A peer with a sendable session born at T0, on a direct path. */
static void setup(struct peer *p, struct session *s, int initiator)
{
	memset(p, 0, sizeof(*p));
	memset(s, 0, sizeof(*s));
	s->peer = p;
	s->born_ms = T0;
	s->initiator = initiator;
	s->can_send = 1;
	p->cur = s;
	p->have_ep = 1;
	p->relay_id = 7;
}

static void test_rekey_schedule(void)
{
	struct peer p;
	struct session s;

	setup(&p, &s, 1);
	CHECK_INT(timers_rekey_after_ms(&cfg), 120000);
	CHECK_INT(timers_reject_after_ms(&cfg), 180000);
	/* The initiator rekeys just after rekey_after. */
	CHECK(!timers_rekey_due(&cfg, &s, T0));
	CHECK(!timers_rekey_due(&cfg, &s, T0 + 120000));
	CHECK(timers_rekey_due(&cfg, &s, T0 + 120001));
	/* The responder waits 15 s longer, so both do not start at once. */
	s.initiator = 0;
	CHECK(!timers_rekey_due(&cfg, &s, T0 + 120001));
	CHECK(!timers_rekey_due(&cfg, &s, T0 + 135000));
	CHECK(timers_rekey_due(&cfg, &s, T0 + 135001));
	/* Half-way to the message limit, at any age. */
	s.send_ctr = TIMERS_REJECT_AFTER_MSGS / 2 + 1;
	CHECK(timers_rekey_due(&cfg, &s, T0));
	/* A lower rekey_after (tests) moves everything with it. */
	{
		struct timers_cfg c = { .rekey_after_ms = 5000 };
		s.send_ctr = 0;
		s.initiator = 1;
		CHECK(timers_rekey_due(&c, &s, T0 + 5001));
		CHECK_INT(timers_reject_after_ms(&c), 65000);
	}
}

/* The config says seconds; a reload changes them, so each use reads it. */
static void test_cfg_of_config(void)
{
	static struct config c;
	struct timers_cfg tc;

	c.rekey_after = 120;
	c.keepalive = 20;
	tc = timers_cfg_of(&c);
	CHECK_INT(tc.rekey_after_ms, 120000);
	CHECK_INT(tc.keepalive_ms, 20000);
	c.rekey_after = 5;
	c.keepalive = 0;
	tc = timers_cfg_of(&c);
	CHECK_INT(tc.rekey_after_ms, 5000);
	CHECK_INT(tc.keepalive_ms, 0);
}

static void test_reject_after(void)
{
	struct peer p;
	struct session s;

	setup(&p, &s, 1);
	CHECK(timers_session_can_send(&cfg, &s, T0));
	CHECK(timers_session_can_send(&cfg, &s, T0 + 179999));
	/* Sending stops at the reject point ... */
	CHECK(!timers_session_can_send(&cfg, &s, T0 + 180000));
	/* ... receiving one millisecond later. */
	CHECK(!timers_session_expired(&cfg, &s, T0 + 180000));
	CHECK(timers_session_expired(&cfg, &s, T0 + 180001));
	/* Not before the responder's "ok", not at the message limit. */
	s.can_send = 0;
	CHECK(!timers_session_can_send(&cfg, &s, T0));
	s.can_send = 1;
	s.send_ctr = TIMERS_REJECT_AFTER_MSGS - 1;
	CHECK(timers_session_can_send(&cfg, &s, T0));
	s.send_ctr = TIMERS_REJECT_AFTER_MSGS;
	CHECK(!timers_session_can_send(&cfg, &s, T0));
	CHECK(!timers_session_can_send(&cfg, NULL, T0));
}

static void test_passive_keepalive(void)
{
	struct peer p;
	struct session s;
	uint64_t now = T0;

	setup(&p, &s, 1);
	CHECK(!timers_keepalive_due(&cfg, &p, now));
	/* Data came in: answer within 2 s even with nothing to say. */
	timers_data_received(&p, 100, 0, now);
	CHECK(!timers_keepalive_due(&cfg, &p, now + TIMERS_KEEPALIVE_MS - 1));
	CHECK(timers_keepalive_due(&cfg, &p, now + TIMERS_KEEPALIVE_MS));
	/* Anything we send is the answer. */
	timers_data_sent(&p, 0, now + 1500);
	CHECK(!timers_keepalive_due(&cfg, &p, now + 10000));
	/* A keepalive received asks for nothing back. */
	timers_data_received(&p, 0, 0, now + 20000);
	CHECK(!timers_keepalive_due(&cfg, &p, now + 30000));
	/* More data re-arms it from the latest packet. */
	timers_data_received(&p, 10, 0, now + 40000);
	timers_data_received(&p, 10, 0, now + 41000);
	CHECK(!timers_keepalive_due(&cfg, &p, now + 42999));
	CHECK(timers_keepalive_due(&cfg, &p, now + 43000));
	/* Nothing is owed on a session that cannot send yet, or none. */
	s.can_send = 0;
	CHECK(!timers_keepalive_due(&cfg, &p, now + 43000));
	p.cur = NULL;
	CHECK(!timers_keepalive_due(&cfg, &p, now + 43000));
}

static void test_persistent_keepalive(void)
{
	struct peer p;
	struct session s;

	setup(&p, &s, 1);
	timers_data_sent(&p, 0, T0);
	CHECK(!timers_keepalive_due(&cfg, &p, T0 + 100000));	/* off */
	CHECK(!timers_keepalive_due(&cfg_ka, &p, T0 + 19999));
	CHECK(timers_keepalive_due(&cfg_ka, &p, T0 + 20000));
	timers_data_sent(&p, 50, T0 + 20000);
	CHECK(!timers_keepalive_due(&cfg_ka, &p, T0 + 39999));
	CHECK(timers_keepalive_due(&cfg_ka, &p, T0 + 40000));
}

static void test_unanswered_new_handshake(void)
{
	struct peer p;
	struct session s;
	struct attempt a;

	setup(&p, &s, 1);
	CHECK(!timers_unanswered(&p, T0 + 100000));
	/* Keepalives ask for nothing: no answer is owed to them. */
	timers_data_sent(&p, 0, T0);
	CHECK(!timers_unanswered(&p, T0 + 100000));
	/* Data out, nothing back for more than 5 s: handshake again. */
	timers_data_sent(&p, 100, T0);
	timers_data_sent(&p, 100, T0 + 4000);	/* measured from the first */
	CHECK(!timers_unanswered(&p, T0 + TIMERS_UNANSWERED_MS));
	CHECK(timers_unanswered(&p, T0 + TIMERS_UNANSWERED_MS + 1));
	/* Not while a handshake runs already, nor without a session. */
	memset(&a, 0, sizeof(a));
	p.init = &a;
	CHECK(!timers_unanswered(&p, T0 + 6000));
	p.init = NULL;
	p.cur = NULL;
	CHECK(!timers_unanswered(&p, T0 + 6000));
	p.cur = &s;
	/* Handled once; the next data out arms it anew. */
	timers_unanswered_handled(&p);
	CHECK(!timers_unanswered(&p, T0 + 60000));
	timers_data_sent(&p, 1, T0 + 60000);
	CHECK(timers_unanswered(&p, T0 + 65001));
	/* Any authenticated packet back, even a keepalive, is an answer. */
	timers_data_received(&p, 0, 1, T0 + 64000);
	CHECK(!timers_unanswered(&p, T0 + 100000));
}

static void test_direct_dead_falls_back(void)
{
	struct peer p;
	struct session s;

	setup(&p, &s, 1);
	timers_data_received(&p, 10, 0, T0);
	timers_data_sent(&p, 10, T0 + 1000);
	CHECK(!timers_direct_dead(&cfg, &p, 1, T0 + 1000 + TIMERS_DIRECT_DEAD_MS));
	CHECK(timers_direct_dead(&cfg, &p, 1, T0 + 1001 + TIMERS_DIRECT_DEAD_MS));
	/* Only with a relay to fall back to. */
	CHECK(!timers_direct_dead(&cfg, &p, 0, T0 + 20000));
	p.relay_id = 0;
	CHECK(!timers_direct_dead(&cfg, &p, 1, T0 + 20000));
	p.relay_id = 7;
	/* A relayed answer does not revive the direct path ... */
	timers_data_received(&p, 10, 1, T0 + 3000);
	CHECK(timers_direct_dead(&cfg, &p, 1, T0 + 8000));
	/* ... a direct one does. */
	timers_data_received(&p, 10, 0, T0 + 4000);
	CHECK(!timers_direct_dead(&cfg, &p, 1, T0 + 100000));
	/* With persistent keepalives: two of them and 2 s without direct rx. */
	CHECK(!timers_direct_dead(&cfg_ka, &p, 1, T0 + 4000 + 42000));
	CHECK(timers_direct_dead(&cfg_ka, &p, 1, T0 + 4000 + 42001));
	/* Falling back, and nothing more to fall back from on the relay. */
	p.ep.relay = p.relay_id;
	timers_relay_fallback(&p, T0 + 50000);
	CHECK(!timers_direct_dead(&cfg_ka, &p, 1, T0 + 500000));
	CHECK_INT(p.t.relay_since_ms, T0 + 50000);
	/* Sent on the relay: no direct deadline is armed. */
	timers_data_sent(&p, 10, T0 + 50000);
	CHECK_INT(p.t.direct_dead_ms, 0);
}

static void test_direct_probes_on_relay(void)
{
	struct peer p;
	struct session s;
	uint64_t now = T0;

	setup(&p, &s, 1);
	p.n_eps = 1;
	CHECK(!timers_direct_probe_due(&p, now));	/* direct: nothing to probe */
	p.ep.relay = 7;
	timers_relay_fallback(&p, now);
	CHECK(!timers_direct_probe_due(&p, now + 999));
	CHECK(timers_direct_probe_due(&p, now + 1000));
	/* Every second for the first 30 s on the relay, then every 5 s. */
	timers_direct_probe_sent(&p, now + 1000);
	CHECK_INT(p.t.next_direct_probe_ms, now + 2000);
	timers_direct_probe_sent(&p, now + 29999);
	CHECK_INT(p.t.next_direct_probe_ms, now + 30999);
	timers_direct_probe_sent(&p, now + 30000);
	CHECK_INT(p.t.next_direct_probe_ms, now + 35000);
	/* Nothing direct to try: no probes. */
	p.n_eps = 0;
	CHECK(!timers_direct_probe_due(&p, now + 100000));
	p.have_bday_ep = 1;
	CHECK(timers_direct_probe_due(&p, now + 100000));
	/* A handshake completed on the relay probes at once. */
	timers_handshake_complete(&p, 1, now + 200000);
	CHECK(timers_direct_probe_due(&p, now + 200000));
	CHECK_INT(p.t.hs_done_ms, now + 200000);
}

static void test_reintroductions(void)
{
	struct peer p;
	struct session s;
	uint64_t now = T0;
	int asked = 0;

	setup(&p, &s, 1);
	p.have_cert = 1;
	CHECK(!timers_reintro_due(&p, now));		/* direct */
	CHECK_INT(p.t.next_reintro_ms, 0);
	p.ep.relay = 7;
	/* The first look arms the deadline, 10 s out. */
	CHECK(!timers_reintro_due(&p, now));
	CHECK(!timers_reintro_due(&p, now + 9999));
	for (uint64_t t = now; t < now + 120000; t += 500) {
		if (timers_reintro_due(&p, t)) {
			timers_reintro_sent(&p, t);
			asked++;
		}
	}
	CHECK_INT(asked, TIMERS_REINTRO_MAX);
	/* Direct again: a later spell on the relay may ask anew. */
	timers_reintro_reset(&p);
	CHECK_INT(p.reintros, 0);
	CHECK(!timers_reintro_due(&p, now + 200000));
	CHECK(timers_reintro_due(&p, now + 210000));
	/* Never about a peer without a certificate. */
	p.have_cert = 0;
	CHECK(!timers_reintro_due(&p, now + 300000));
}

static void test_hello_schedule(void)
{
	struct attempt a;
	uint64_t sent[64], now = T0;
	int n = 0;

	memset(&a, 0, sizeof(a));
	a.stage = AT_HELLO;
	a.started_ms = T0;
	/* Drive the attempt as the loop would, at 1 ms steps, for 10 s. */
	for (; now <= T0 + 10000 && n < 64; now++) {
		if (timers_hello_due(&a, now)) {
			sent[n++] = now - T0;
			timers_hello_sent(&a, now);
		}
	}
	/* Every 250 ms for the first 3 s, then every second. */
	CHECK_INT(sent[0], 0);
	CHECK_INT(sent[1], 250);
	CHECK_INT(sent[11], 2750);
	CHECK_INT(sent[12], 3000);
	CHECK_INT(sent[13], 4000);
	CHECK_INT(sent[n - 1], 10000);
	CHECK_INT(n, 20);
	/* A PUNCH that landed: say HELLO at once. */
	timers_hello_now(&a);
	CHECK(timers_hello_due(&a, now));
	/* Only in the HELLO stage. */
	a.stage = AT_TLS;
	CHECK(!timers_hello_due(&a, now));
	/* The relay gets HELLOs once direct had a second, or at once
	 * when there is nothing direct. */
	CHECK(!timers_relay_hello_due(&a, 2, T0 + 999));
	CHECK(timers_relay_hello_due(&a, 2, T0 + 1000));
	CHECK(timers_relay_hello_due(&a, 0, T0));
}

static void test_attempt_giveup_and_backoff(void)
{
	struct attempt a;
	struct peer p;

	memset(&a, 0, sizeof(a));
	memset(&p, 0, sizeof(p));
	a.started_ms = T0;
	a.stage = AT_HELLO;
	CHECK(!timers_attempt_expired(&a, T0 + 10000));
	CHECK(timers_attempt_expired(&a, T0 + 10001));
	a.stage = AT_TLS;
	CHECK(timers_attempt_expired(&a, T0 + 10001));
	/* A finished handshake stays 5 s to flush its last flight. */
	a.stage = AT_FLUSH;
	a.done_ms = T0 + 9000;
	CHECK(!timers_attempt_expired(&a, T0 + 14000));
	CHECK(timers_attempt_expired(&a, T0 + 14001));
	/* After giving up: no new initiation for 2 s; after a revocation,
	 * for an hour. */
	CHECK(!timers_init_held(&p, T0));
	timers_handshake_backoff(&p, T0);
	CHECK(timers_init_held(&p, T0 + 1999));
	CHECK(!timers_init_held(&p, T0 + 2000));
	timers_handshake_revoked(&p, T0);
	CHECK(timers_init_held(&p, T0 + 3599999));
	CHECK(!timers_init_held(&p, T0 + 3600000));
}

static void test_punch_and_spray_pacing(void)
{
	struct peer p;
	struct attempt a;
	uint64_t now = T0;
	int punches = 0, steps = 0;

	memset(&p, 0, sizeof(p));
	p.have_token = 1;
	p.n_eps = 1;
	timers_punch_start(&p, now);
	/* PUNCH every 200 ms for 5 s. */
	for (uint64_t t = now; t < now + 8000; t++) {
		if (timers_punch_due(&p, t)) {
			punches++;
			timers_punch_sent(&p, t);
		}
	}
	CHECK_INT(punches, 25);
	timers_punch_start(&p, now);
	timers_punch_sent(&p, now);
	CHECK_INT(timers_peer_next(&p, now + 500, now), now + 200);
	CHECK_INT(timers_peer_next(&p, now + 500, now + 5000), now + 500);	/* over */
	/* Birthday probes: from 500 ms after the introduction, for 4 s,
	 * a burst every 25 ms. */
	p.have_token = 0;
	timers_spray_start(&p, now);
	CHECK(!timers_spray_due(&p, now + 499));
	CHECK_INT(timers_peer_next(&p, now + 10000, now + 100), now + 500);
	/* Wake when the timer says, as the loop does. */
	for (uint64_t t = now; t < now + 6000 && steps < 100; t = timers_peer_next(&p, now + 10000, t)) {
		if (timers_spray_due(&p, t)) {
			steps++;
			p.spray_sent += 20;
		}
	}
	/* 1000 probes at 20 per step: 50 steps, well within the 4 s. */
	CHECK_INT(steps, 50);
	CHECK(!timers_spray_due(&p, now + 2000));
	/* A hit ends the round. */
	p.spray_sent = 0;
	p.bday_hit = 1;
	CHECK(!timers_spray_due(&p, now + 2000));
	p.bday_hit = 0;
	CHECK(!timers_spray_due(&p, now + 4500));	/* the round is over */
	/* The attempt deadline: HELLO pacing while saying HELLO. */
	memset(&a, 0, sizeof(a));
	a.stage = AT_HELLO;
	a.next_hello_ms = now + 250;
	CHECK_INT(timers_attempt_next(&a, now + 500), now + 250);
	CHECK_INT(timers_attempt_next(&a, now + 100), now + 100);
}

/* The authority probe: nothing before its UDP service is known; retried
 * each second until both ports answered, then every 25 s. */
static void test_authority_probe(void)
{
	struct overlay_timers t;

	memset(&t, 0, sizeof(t));
	CHECK(!timers_probe_due(&t, 0, T0));
	CHECK(timers_probe_due(&t, 1, T0));
	CHECK_INT(timers_overlay_next(&t, 0, T0 + 500), T0 + 500);
	timers_probe_sent(&t, 0, T0);
	CHECK(!timers_probe_due(&t, 1, T0 + 999));
	CHECK(timers_probe_due(&t, 1, T0 + 1000));
	CHECK_INT(timers_overlay_next(&t, 1, T0 + 500), T0 + 500);
	CHECK_INT(timers_overlay_next(&t, 1, T0 + 5000), T0 + 1000);
	CHECK_INT(timers_overlay_next(&t, 0, T0 + 5000), T0 + 5000);
	timers_probe_sent(&t, 1, T0 + 1000);
	CHECK(!timers_probe_due(&t, 1, T0 + 25999));
	CHECK(timers_probe_due(&t, 1, T0 + 26000));
	CHECK(!timers_probe_due(&t, 0, T0 + 26000));
}

/* Local addresses: looked at on the first tick, then every 2 s. */
static void test_addr_check(void)
{
	struct overlay_timers t;

	memset(&t, 0, sizeof(t));
	CHECK(timers_addr_check_due(&t, T0));
	timers_addr_checked(&t, T0);
	CHECK(!timers_addr_check_due(&t, T0 + 1999));
	CHECK(timers_addr_check_due(&t, T0 + 2000));
	/* The loop's tick serves it: it never pulls the timer in. */
	CHECK_INT(timers_overlay_next(&t, 0, T0 + 5000), T0 + 5000);
}

/* Birthday sockets close a minute after they were last opened. */
static void test_bday_close(void)
{
	struct overlay_timers t;

	memset(&t, 0, sizeof(t));
	CHECK(!timers_bday_close_due(&t, T0));
	timers_bday_opened(&t, T0);
	CHECK(!timers_bday_close_due(&t, T0 + 59999));
	CHECK(timers_bday_close_due(&t, T0 + 60000));
	/* A second round keeps them open a minute from then. */
	timers_bday_opened(&t, T0 + 30000);
	CHECK(!timers_bday_close_due(&t, T0 + 60000));
	CHECK(timers_bday_close_due(&t, T0 + 90000));
	timers_bday_closed(&t);
	CHECK(!timers_bday_close_due(&t, T0 + 1000000));
}

/* A failed lookup answers for its address for 3 s; at 3 s the next
 * packet asks again, and only past it does the tick drop the entry. */
static void test_negative_lookup(void)
{
	uint64_t until = 0;

	timers_lookup_failed(&until, T0);
	CHECK_INT(until, T0 + 3000);
	CHECK(timers_lookup_negative(until, T0));
	CHECK(timers_lookup_negative(until, T0 + 2999));
	CHECK(!timers_lookup_expired(until, T0 + 2999));
	CHECK(!timers_lookup_negative(until, T0 + 3000));
	CHECK(!timers_lookup_expired(until, T0 + 3000));
	CHECK(timers_lookup_expired(until, T0 + 3001));
}

int main(void)
{
	RUN(test_rekey_schedule);
	RUN(test_cfg_of_config);
	RUN(test_reject_after);
	RUN(test_passive_keepalive);
	RUN(test_persistent_keepalive);
	RUN(test_unanswered_new_handshake);
	RUN(test_direct_dead_falls_back);
	RUN(test_direct_probes_on_relay);
	RUN(test_reintroductions);
	RUN(test_hello_schedule);
	RUN(test_attempt_giveup_and_backoff);
	RUN(test_punch_and_spray_pacing);
	RUN(test_authority_probe);
	RUN(test_addr_check);
	RUN(test_bday_close);
	RUN(test_negative_lookup);
	return HARNESS_END();
}
