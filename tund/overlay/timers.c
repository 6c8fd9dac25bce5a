/*
 * The overlay's timers: the events that arm the named deadlines of a peer,
 * an attempt or the overlay as a whole (the authority probe, the address
 * check, the birthday sockets' closing, failed lookups) and the decisions
 * read from them, all without I/O or a clock of their own
 * (timers.h). The durations below are the protocol's (PROTOCOL.md,
 * "Timers", "Paths", "NAT traversal"); every "when" of the overlay is
 * decided here, every "what to send" in attempt.c, paths.c and datapath.c.
 */
#include "netstack/handshake.h"
#include "tund/conf/config.h"
#include "tund/overlay/peer.h"
#include "tund/overlay/timers.h"

#define HELLO_RETRY_MS		1000
#define HELLO_FAST_FOR_MS	3000	/* a punch needs both sides' packets to cross */
#define ATTEMPT_GIVEUP_MS	10000
#define ATTEMPT_FLUSH_MS	5000	/* acknowledge or resend the last flight */
#define INIT_BACKOFF_MS		2000
#define REVOKED_BACKOFF_MS	(3600 * 1000ull)
#define RELAY_HELLO_AFTER_MS	1000	/* direct HELLOs first, then the relay too */
#define TRIAL_GRACE_MS		500	/* a trial's first answer, before the next starts */
#define PUNCH_MS		5000
#define PUNCH_EVERY_MS		200
#define DIRECT_PROBE_FAST_MS	1000
#define DIRECT_PROBE_SLOW_MS	5000
#define DIRECT_PROBE_FAST_FOR_MS 30000
#define REINTRO_MS		10000
#define SPRAY_DELAY_MS		500	/* let the hard side open its mappings first */
#define SPRAY_STEP_MS		25
#define SPRAY_FOR_MS		4000
#define PROBE_MS		25000	/* refresh the reflexive address */
#define PROBE_RETRY_MS		1000
#define ADDR_CHECK_MS		2000
#define BDAY_KEEP_MS		60000	/* birthday sockets nobody uses close after */
#define NEGATIVE_MS		3000	/* a failed lookup answers for its address */

struct timers_cfg timers_cfg_of(const struct config *cfg)
{
	struct timers_cfg c = {
		.rekey_after_ms = (uint64_t)cfg->rekey_after * 1000,
		.keepalive_ms = (uint64_t)cfg->keepalive * 1000,
	};
	return c;
}

/* ------------------------------------------------------------ events */

void timers_data_sent(struct peer *p, size_t len, uint64_t now)
{
	p->t.last_tx_ms = now;
	p->t.keepalive_due_ms = 0;
	/* Only data asks for an answer; a keepalive is the answer. */
	if (len && !p->t.new_handshake_ms)
		p->t.new_handshake_ms = now + TIMERS_UNANSWERED_MS;
	if (len && !p->ep.relay && !p->t.direct_dead_ms)
		p->t.direct_dead_ms = now + TIMERS_DIRECT_DEAD_MS;
}

void timers_data_received(struct peer *p, size_t len, int via_relay, uint64_t now)
{
	p->t.last_rx_ms = now;
	p->t.new_handshake_ms = 0;
	if (!via_relay) {
		p->t.last_rx_direct_ms = now;
		p->t.direct_dead_ms = 0;
	}
	if (len)
		p->t.keepalive_due_ms = now + TIMERS_KEEPALIVE_MS;
}

void timers_handshake_complete(struct peer *p, int via_relay, uint64_t now)
{
	if (via_relay) {
		p->t.relay_since_ms = now;
		p->t.next_direct_probe_ms = now;
	} else {
		p->t.last_rx_direct_ms = now;
	}
	p->t.hs_done_ms = now;
}

void timers_handshake_backoff(struct peer *p, uint64_t now)
{
	p->t.next_init_ms = now + INIT_BACKOFF_MS;
}

void timers_handshake_revoked(struct peer *p, uint64_t now)
{
	p->t.next_init_ms = now + REVOKED_BACKOFF_MS;
}

void timers_unanswered_handled(struct peer *p)
{
	p->t.new_handshake_ms = 0;
}

void timers_hello_sent(struct attempt *a, uint64_t now)
{
	a->next_hello_ms = now + (now - a->started_ms < HELLO_FAST_FOR_MS ? HELLO_RETRY_MS / 4 : HELLO_RETRY_MS);
}

void timers_hello_now(struct attempt *a)
{
	a->next_hello_ms = 0;
}

void timers_punch_start(struct peer *p, uint64_t now)
{
	p->t.punch_until_ms = now + PUNCH_MS;
	p->t.next_punch_ms = 0;
}

void timers_punch_sent(struct peer *p, uint64_t now)
{
	p->t.next_punch_ms = now + PUNCH_EVERY_MS;
}

void timers_spray_start(struct peer *p, uint64_t now)
{
	p->t.spray_start_ms = now + SPRAY_DELAY_MS;
	p->t.spray_until_ms = p->t.spray_start_ms + SPRAY_FOR_MS;
}

void timers_relay_fallback(struct peer *p, uint64_t now)
{
	p->t.direct_dead_ms = 0;
	p->t.relay_since_ms = now;
	p->t.next_direct_probe_ms = now + DIRECT_PROBE_FAST_MS;
}

void timers_relay_entered(struct peer *p, uint64_t now)
{
	p->t.relay_since_ms = now;
}

/* Often at first (a healed path is found quickly), then now and then. */
void timers_direct_probe_sent(struct peer *p, uint64_t now)
{
	p->t.next_direct_probe_ms = now + (now - p->t.relay_since_ms < DIRECT_PROBE_FAST_FOR_MS ?
	    DIRECT_PROBE_FAST_MS : DIRECT_PROBE_SLOW_MS);
}

void timers_reintro_sent(struct peer *p, uint64_t now)
{
	p->reintros++;
	p->t.next_reintro_ms = now + REINTRO_MS;
}

void timers_reintro_reset(struct peer *p)
{
	p->reintros = 0;
	p->t.next_reintro_ms = 0;
}

/* Retry soon until both ports answered, then refresh now and then. */
void timers_probe_sent(struct overlay_timers *t, int both_answered, uint64_t now)
{
	t->next_probe_ms = now + (both_answered ? PROBE_MS : PROBE_RETRY_MS);
}

void timers_addr_checked(struct overlay_timers *t, uint64_t now)
{
	t->next_addr_check_ms = now + ADDR_CHECK_MS;
}

void timers_bday_opened(struct overlay_timers *t, uint64_t now)
{
	t->bday_close_ms = now + BDAY_KEEP_MS;
}

void timers_bday_closed(struct overlay_timers *t)
{
	t->bday_close_ms = 0;
}

void timers_lookup_failed(uint64_t *until, uint64_t now)
{
	*until = now + NEGATIVE_MS;
}

/* --------------------------------------------------------- decisions */

uint64_t timers_rekey_after_ms(const struct timers_cfg *c)
{
	return c->rekey_after_ms;
}

uint64_t timers_reject_after_ms(const struct timers_cfg *c)
{
	return c->rekey_after_ms + TIMERS_REJECT_EXTRA_MS;
}

int timers_session_can_send(const struct timers_cfg *c, const struct session *s, uint64_t now)
{
	return s && s->can_send && now - s->born_ms < timers_reject_after_ms(c) &&
	    s->send_ctr < TIMERS_REJECT_AFTER_MSGS;
}

int timers_session_expired(const struct timers_cfg *c, const struct session *s, uint64_t now)
{
	return now - s->born_ms > timers_reject_after_ms(c);
}

int timers_rekey_due(const struct timers_cfg *c, const struct session *s, uint64_t now)
{
	/* The responder waits a little longer, so that both sides do not
	 * start a handshake at the same moment. */
	uint64_t after = s->initiator ? c->rekey_after_ms : c->rekey_after_ms + TIMERS_REKEY_RESPONDER_EXTRA_MS;

	return now - s->born_ms > after || s->send_ctr > TIMERS_REJECT_AFTER_MSGS / 2;
}

int timers_keepalive_due(const struct timers_cfg *c, const struct peer *p, uint64_t now)
{
	if (!p->cur || !p->cur->can_send)
		return 0;
	return (p->t.keepalive_due_ms && now >= p->t.keepalive_due_ms) ||
	    (c->keepalive_ms && now - p->t.last_tx_ms >= c->keepalive_ms);
}

int timers_unanswered(const struct peer *p, uint64_t now)
{
	return p->cur && !p->init && p->t.new_handshake_ms && now > p->t.new_handshake_ms;
}

int timers_init_held(const struct peer *p, uint64_t now)
{
	return now < p->t.next_init_ms;
}

int timers_direct_dead(const struct timers_cfg *c, const struct peer *p, int have_relay, uint64_t now)
{
	if (p->ep.relay || !p->relay_id || !have_relay)
		return 0;
	return (p->t.direct_dead_ms && now > p->t.direct_dead_ms) ||
	    (c->keepalive_ms && now - p->t.last_rx_direct_ms > 2 * c->keepalive_ms + 2000);
}

int timers_direct_probe_due(const struct peer *p, uint64_t now)
{
	return p->ep.relay && now >= p->t.next_direct_probe_ms && (p->n_eps || p->have_bday_ep);
}

int timers_reintro_due(struct peer *p, uint64_t now)
{
	if (!p->ep.relay || !p->have_cert || p->reintros >= TIMERS_REINTRO_MAX)
		return 0;
	if (!p->t.next_reintro_ms) {
		p->t.next_reintro_ms = now + REINTRO_MS;
		return 0;
	}
	return now >= p->t.next_reintro_ms;
}

int timers_punch_due(const struct peer *p, uint64_t now)
{
	return p->have_token && now < p->t.punch_until_ms && now >= p->t.next_punch_ms;
}

int timers_spray_due(const struct peer *p, uint64_t now)
{
	return p->t.spray_until_ms && now >= p->t.spray_start_ms && now < p->t.spray_until_ms &&
	    !p->bday_hit && p->spray_sent < TIMERS_SPRAY_PROBES && p->n_eps;
}

int timers_attempt_expired(const struct attempt *a, uint64_t now)
{
	if (a->stage == AT_FLUSH)
		return now - a->done_ms > ATTEMPT_FLUSH_MS;
	return now - a->started_ms > ATTEMPT_GIVEUP_MS;
}

int timers_hello_due(const struct attempt *a, uint64_t now)
{
	return a->stage == AT_HELLO && now >= a->next_hello_ms;
}

int timers_trial_start_due(const struct attempt *a, uint64_t now)
{
	for (int i = 0; i < a->n_trials; i++)
		if (a->trial[i].hs && now - a->trial[i].started_ms < TRIAL_GRACE_MS)
			return 0;
	return 1;
}

int timers_relay_hello_due(const struct attempt *a, int n_direct, uint64_t now)
{
	return !n_direct || now - a->started_ms >= RELAY_HELLO_AFTER_MS;
}

int timers_probe_due(const struct overlay_timers *t, int have_udp, uint64_t now)
{
	return have_udp && now >= t->next_probe_ms;
}

int timers_addr_check_due(const struct overlay_timers *t, uint64_t now)
{
	return now >= t->next_addr_check_ms;
}

int timers_bday_close_due(const struct overlay_timers *t, uint64_t now)
{
	return t->bday_close_ms && now >= t->bday_close_ms;
}

int timers_lookup_negative(uint64_t until, uint64_t now)
{
	return now < until;
}

int timers_lookup_expired(uint64_t until, uint64_t now)
{
	return now > until;
}

/* --------------------------------------------------------- deadlines */

uint64_t timers_peer_next(const struct peer *p, uint64_t next, uint64_t now)
{
	if (p->have_token && now < p->t.punch_until_ms && p->t.next_punch_ms < next)
		next = p->t.next_punch_ms;
	if (p->t.spray_until_ms && now < p->t.spray_until_ms && !p->bday_hit &&
	    p->spray_sent < TIMERS_SPRAY_PROBES) {
		uint64_t at = now < p->t.spray_start_ms ? p->t.spray_start_ms : now + SPRAY_STEP_MS;
		if (at < next)
			next = at;
	}
	return next;
}

uint64_t timers_attempt_next(const struct attempt *a, uint64_t next)
{
	uint64_t d = a->stage == AT_HELLO ? a->next_hello_ms : a->hs ? hs_next_deadline(a->hs) : next;

	uint64_t turn = 0;
	int waiting = 0;

	/* COOKIE'd endpoints' TLS on trial resend on their own clocks; one
	 * waiting its turn starts when the last started had its grace. */
	for (int i = 0; a->stage == AT_HELLO && i < a->n_trials; i++) {
		const struct attempt_trial *t = &a->trial[i];

		if (!t->hs) {
			waiting = 1;
			continue;
		}
		if (hs_next_deadline(t->hs) < d)
			d = hs_next_deadline(t->hs);
		if (t->started_ms + TRIAL_GRACE_MS > turn)
			turn = t->started_ms + TRIAL_GRACE_MS;
	}
	if (waiting && turn < d)
		d = turn;
	return d < next ? d : next;
}

uint64_t timers_overlay_next(const struct overlay_timers *t, int have_udp, uint64_t next)
{
	return have_udp && t->next_probe_ms < next ? t->next_probe_ms : next;
}
