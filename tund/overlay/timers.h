/*
 * What is due when, for peers, their sessions and handshake attempts and
 * for the overlay as a whole, in the manner of kernel WireGuard's timers.c. Each event (data sent, data
 * received, handshake complete, HELLO sent, punch sent, ...) is one
 * timers_ function that arms or clears the peer's named deadlines; each
 * decision (is a rekey due, must this session be refused, is a keepalive
 * owed, has the peer gone unanswered too long, ...) is a pure function of
 * that state and the time. No function here does I/O or reads a clock:
 * callers pass `now` (ms, monotonic), so unit tests run on a fake clock.
 * The overlay's loop timer asks these functions and does the sending.
 */
#ifndef Q2Q_TIMERS_H
#define Q2Q_TIMERS_H

#include <stddef.h>
#include <stdint.h>

struct attempt;
struct config;
struct peer;
struct session;

/* WireGuard's timers: rekey after 120 s (config rekey_after, lower only
 * for tests), the responder 15 s later if the initiator did not, keys
 * refused 60 s after the rekey point or after 2^60 messages. */
#define TIMERS_REKEY_RESPONDER_EXTRA_MS	15000
#define TIMERS_REJECT_EXTRA_MS		60000
#define TIMERS_REJECT_AFTER_MSGS	((uint64_t)1 << 60)
/* A live peer answers received data within this, even with nothing to say. */
#define TIMERS_KEEPALIVE_MS		2000
/* Data out, nothing back for this long: the peer lost our session. */
#define TIMERS_UNANSWERED_MS		5000
/* Data out on the direct path, nothing direct back: use the relay. */
#define TIMERS_DIRECT_DEAD_MS		6000
/* Birthday probing: at most this many probes to one peer per round, and
 * this many rounds (one per introduction). Against 256 birthday sockets
 * a round of 1000 misses with p ~ e^(-256*1000/65536) ~ 2 %; a second
 * introduction from the relay (after REINTRO_MS) gets one more round, so
 * a pair stays on the relay with p ~ 0.04 %, and a peer never gets more
 * than 2000 probes from us. */
#define TIMERS_SPRAY_PROBES		1000
#define TIMERS_SPRAY_ROUNDS		2
#define TIMERS_REINTRO_MAX		3	/* re-introductions per relay spell */

/* The settings the timers read; built from the live config on each use,
 * since a reload changes them in place. */
struct timers_cfg {
	uint64_t rekey_after_ms;
	uint64_t keepalive_ms;		/* persistent keepalive; 0 = off */
};

/* The settings as cfg says now (seconds there, ms here). */
struct timers_cfg timers_cfg_of(const struct config *cfg);

/* A peer's deadlines (0 = not armed) and the times they are measured from. */
struct peer_timers {
	uint64_t last_rx_ms;		/* last authenticated packet */
	uint64_t last_rx_direct_ms;	/* ... not via the relay */
	uint64_t last_tx_ms;		/* last packet sealed to the peer */
	uint64_t keepalive_due_ms;	/* data came in, nothing went out since */
	uint64_t new_handshake_ms;	/* data went out unanswered: handshake after */
	uint64_t direct_dead_ms;	/* data went out direct unanswered: relay after */
	uint64_t next_init_ms;		/* no new initiation before */
	uint64_t hs_done_ms;		/* last completed handshake */
	uint64_t relay_since_ms;	/* on the relay since */
	uint64_t next_direct_probe_ms;	/* on the relay: try direct candidates again */
	uint64_t next_reintro_ms;	/* on the relay: ask for a new introduction */
	uint64_t punch_until_ms;	/* send PUNCH to candidates until */
	uint64_t next_punch_ms;
	uint64_t spray_start_ms;	/* birthday probes from ... */
	uint64_t spray_until_ms;	/* ... until; 0 = never probed */
};

/* The overlay's own deadlines, beside its peers' (0 = not armed). */
struct overlay_timers {
	uint64_t next_probe_ms;		/* probe the authority's UDP ports again */
	uint64_t next_addr_check_ms;	/* look at our local addresses again */
	uint64_t bday_close_ms;		/* close the birthday sockets nobody uses */
};

/* ---------------------------------------------------------- events */

/* A DATA packet of len plaintext bytes (0: keepalive) was sealed to p. */
void timers_data_sent(struct peer *p, size_t len, uint64_t now);
/* An authenticated, fresh DATA packet of len plaintext bytes came from p,
 * directly or through the relay. */
void timers_data_received(struct peer *p, size_t len, int via_relay, uint64_t now);
/* A handshake with p completed on a direct path or the relay. */
void timers_handshake_complete(struct peer *p, int via_relay, uint64_t now);
/* A handshake with p failed or gave up: wait before the next initiation. */
void timers_handshake_backoff(struct peer *p, uint64_t now);
/* p's certificate was revoked: no initiation for an hour. */
void timers_handshake_revoked(struct peer *p, uint64_t now);
/* The unanswered timer fired and a new handshake is under way. */
void timers_unanswered_handled(struct peer *p);
/* HELLOs of attempt a went out: when the next are due. */
void timers_hello_sent(struct attempt *a, uint64_t now);
/* A PUNCH proved a path works: say HELLO again at once. */
void timers_hello_now(struct attempt *a);
/* The authority introduced p: punch for a while, from now. */
void timers_punch_start(struct peer *p, uint64_t now);
void timers_punch_sent(struct peer *p, uint64_t now);
/* A birthday round against p's NAT: probes start after a delay. */
void timers_spray_start(struct peer *p, uint64_t now);
/* The direct path went quiet and p now uses the relay. */
void timers_relay_fallback(struct peer *p, uint64_t now);
/* A relayed packet moved p onto the relay. */
void timers_relay_entered(struct peer *p, uint64_t now);
/* On the relay: direct candidates were probed. */
void timers_direct_probe_sent(struct peer *p, uint64_t now);
/* On the relay: a re-introduction was asked for. */
void timers_reintro_sent(struct peer *p, uint64_t now);
/* Direct again: a later relay spell may ask anew. */
void timers_reintro_reset(struct peer *p);

/* We probed the authority's two UDP ports; both_answered: each has told
 * us our public address (else we retry soon). */
void timers_probe_sent(struct overlay_timers *t, int both_answered, uint64_t now);
/* We looked at our local addresses. */
void timers_addr_checked(struct overlay_timers *t, uint64_t now);
/* Birthday sockets were opened (or used again): they close a while later. */
void timers_bday_opened(struct overlay_timers *t, uint64_t now);
void timers_bday_closed(struct overlay_timers *t);
/* A lookup of an overlay address failed: for a while, packets for it are
 * answered "unreachable" without asking again; *until is the entry's. */
void timers_lookup_failed(uint64_t *until, uint64_t now);

/* ------------------------------------------------------- decisions */

uint64_t timers_rekey_after_ms(const struct timers_cfg *c);
uint64_t timers_reject_after_ms(const struct timers_cfg *c);
/* s may still carry new data out (able to send, keys young enough, its
 * counter far from wrapping). */
int timers_session_can_send(const struct timers_cfg *c, const struct session *s, uint64_t now);
/* s is too old for its keys to be used at all, in either direction. */
int timers_session_expired(const struct timers_cfg *c, const struct session *s, uint64_t now);
/* Time for a fresh handshake to replace s: the initiator at rekey_after,
 * the responder a little later, either half-way to the message limit. */
int timers_rekey_due(const struct timers_cfg *c, const struct session *s, uint64_t now);
/* An empty packet is owed: a passive keepalive (data came in, we said
 * nothing) or a persistent one (hold NAT mappings open while idle). */
int timers_keepalive_due(const struct timers_cfg *c, const struct peer *p, uint64_t now);
/* Data went out and nothing came back: the peer may have restarted and
 * lost our session, so handshake again. */
int timers_unanswered(const struct peer *p, uint64_t now);
/* No new initiation to p yet? */
int timers_init_held(const struct peer *p, uint64_t now);
/* The direct path has gone quiet while we sent (or, with persistent
 * keepalives, for two of them): fall back to the relay if we have one. */
int timers_direct_dead(const struct timers_cfg *c, const struct peer *p, int have_relay, uint64_t now);
/* On the relay: time to probe direct candidates again? */
int timers_direct_probe_due(const struct peer *p, uint64_t now);
/* On the relay: time to ask for a new introduction? The first call of a
 * relay spell arms the deadline and says no. */
int timers_reintro_due(struct peer *p, uint64_t now);
int timers_punch_due(const struct peer *p, uint64_t now);
/* Birthday probes due to p now (within the round and the budget)? */
int timers_spray_due(const struct peer *p, uint64_t now);
/* Attempt a got no answer in time (or finished flushing): drop it. */
int timers_attempt_expired(const struct attempt *a, uint64_t now);
int timers_hello_due(const struct attempt *a, uint64_t now);
/* May initiator a start one more COOKIE'd endpoint's TLS? Not while a
 * trial started less than half a second ago may yet answer: a responder
 * reached at two addresses should not get two handshakes. */
int timers_trial_start_due(const struct attempt *a, uint64_t now);
/* HELLOs through the relay too: direct candidates had their chance first. */
int timers_relay_hello_due(const struct attempt *a, int n_direct, uint64_t now);
/* Time to probe the authority's UDP ports (only once we have its UDP
 * service, have_udp)? */
int timers_probe_due(const struct overlay_timers *t, int have_udp, uint64_t now);
int timers_addr_check_due(const struct overlay_timers *t, uint64_t now);
int timers_bday_close_due(const struct overlay_timers *t, uint64_t now);
/* A failed lookup still answers for its address at now? At until itself
 * it no longer does (the next packet asks again), but the entry only goes
 * once past it (timers_lookup_expired), on the loop timer. */
int timers_lookup_negative(uint64_t until, uint64_t now);
int timers_lookup_expired(uint64_t until, uint64_t now);

/* ------------------------------------------------------- deadlines */

/* The earliest of next and what p (punch and spray pacing) or a (HELLO
 * resends, the handshake's own retransmissions) needs the loop timer for. */
uint64_t timers_peer_next(const struct peer *p, uint64_t next, uint64_t now);
uint64_t timers_attempt_next(const struct attempt *a, uint64_t next);
/* The earliest of next and the authority probe. The address check, the
 * birthday sockets' closing and failed lookups' expiry need no precision:
 * the loop's regular tick serves them. */
uint64_t timers_overlay_next(const struct overlay_timers *t, int have_udp, uint64_t next);

#endif
