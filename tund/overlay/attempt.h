/*
 * Handshake attempts (attempt.c), as initiator and as responder: starting
 * them, feeding them HELLO, COOKIE and HS datagrams, resending and giving
 * up on the loop timer. Below those verbs, the set of attempts in flight
 * and the decisions about them that need no I/O: where HELLOs go, which
 * attempt a segment belongs to, whether an address may open another
 * responder handshake, what address a cookie is bound to. The attempts
 * themselves (struct attempt) are in peer.h; their timing in timers.h.
 */
#ifndef Q2Q_ATTEMPT_H
#define Q2Q_ATTEMPT_H

#include <stdint.h>
#include <netinet/in.h>

#include "tund/overlay/peer.h"

struct claims_self;
struct config;
struct overlay;
struct peer_table;

#define ATTEMPT_MAX		256	/* handshakes in flight, all peers */
#define ATTEMPT_RESERVED_INIT	64	/* of those, kept for our own initiations */
#define ATTEMPT_MAX_PER_SOURCE	8	/* responder handshakes one source may hold */
#define ATTEMPT_HELLO_TARGETS	(PEER_MAX_EPS + 2)

/* The attempts in flight; order does not matter (freeing one moves the
 * last into its slot). */
struct attempt_set {
	int n;
	struct attempt *a[ATTEMPT_MAX];
};

/* Starts a handshake with p unless one runs or a backoff holds it; the
 * caller re-arms the loop timer for its resends. */
void attempt_initiate(struct overlay *o, struct peer *p);
void attempt_free(struct overlay *o, struct attempt *a);
/* Gives up on attempts that got no answer, resends what is due. */
void attempt_tick(struct overlay *o, uint64_t now);
/* The earliest of next and when attempt_tick has work. */
uint64_t attempt_next(const struct attempt_set *s, uint64_t next);
void attempt_rx_hello(struct overlay *o, const uint8_t *b, size_t len, const struct ep *from);
void attempt_rx_cookie(struct overlay *o, const uint8_t *b, size_t len, const struct ep *from);
void attempt_rx_hs(struct overlay *o, const uint8_t *b, size_t len, const struct ep *from);

/* Whether a peer whose handshake completed with certificate ci may have
 * a session: not if ci is revoked, not (as responder) if our policy
 * refuses it, not if it claims what it may not (claims.h: an address
 * that is ours or another peer's, a route over someone else's address,
 * an overlay range, another peer's prefix, or a foreign route its trust
 * entry does not list; err says which and whose). A peer already named
 * like ci is its older self, no rival. */
enum attempt_verdict { ATTEMPT_ACCEPT, ATTEMPT_REVOKED, ATTEMPT_REFUSED, ATTEMPT_CLASH };
enum attempt_verdict attempt_verdict(struct peer_table *t, const struct config *cfg,
    const struct claims_self *self, int initiator, const struct cert_info *ci, char *err,
    size_t errlen);
/* Where the HELLOs of initiation a to p go now, in order: the birthday
 * socket the peer's probe reached, every direct candidate, then the relay
 * once direct had its chance (or at once, with nothing direct). Returns
 * how many of out[cap] it filled. */
int attempt_hello_targets(const struct peer *p, const struct attempt *a, uint64_t now,
    struct ep *out, int cap);
/* Responder attempts still in their handshake from from's source: its
 * IPv4 address, or its IPv6 /64 (one host's share), any port; the relay
 * counts as one source per relayed node. */
int attempt_responders_from(const struct attempt_set *s, const struct ep *from);
/* May from open one more responder handshake? A cookie proves an
 * address, not good intent: one source may not crowd out the others. */
int attempt_source_allowed(const struct attempt_set *s, const struct ep *from);
/* Is there a slot for one more attempt? Responders, however many sources
 * they come from, leave ATTEMPT_RESERVED_INIT slots to our initiations. */
int attempt_slot_free(const struct attempt_set *s, int initiator);
/* The responder attempt for initiator index remote at from, or NULL. */
struct attempt *attempt_find_responder(const struct attempt_set *s, const struct ep *from, uint32_t remote);
/* The finished attempt still flushing for session index local_index, or NULL. */
struct attempt *attempt_find_flushing(const struct attempt_set *s, uint32_t local_index);
/* Initiator a got a COOKIE from from at now (nonce is its echo): the
 * trial it adds or refreshes (hs NULL: its TLS is yet to start, see
 * timers_trial_start_due), or NULL to ignore the COOKIE. When all trials
 * are taken, one still waiting its turn makes room, the longest waiting
 * first: a burst of COOKIEs from elsewhere cannot keep the genuine one,
 * which answers every HELLO, out for good. */
struct attempt_trial *attempt_cookie_trial(struct attempt *a, const struct ep *from,
    const uint8_t nonce[16], const uint8_t cookie[16], uint64_t now);
/* Where an HS segment for a's index, from from with the sender's index
 * sender, goes: a's own TLS, one of its trials (*trial), or nowhere (a
 * is unchanged). Takes the remote index only from the bound endpoint. */
enum attempt_route { ATTEMPT_IGNORE, ATTEMPT_OWN, ATTEMPT_TRIAL };
enum attempt_route attempt_hs_route(struct attempt *a, const struct ep *from, uint32_t sender,
    int *trial);
/* The address a cookie is bound to: the sender's, or for the relay a
 * pseudo address naming the relayed node. */
struct sockaddr_in6 attempt_cookie_addr(const struct ep *e);

#endif
