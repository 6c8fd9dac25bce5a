/*
 * Handshakes with peers, as initiator and as responder.
 *
 * Handshakes (wire.h): the initiator sends HELLO to every candidate
 * endpoint; a COOKIE proves the responder holds state for nobody yet, but
 * anyone who saw the HELLO can send one. So each COOKIE'd endpoint gets
 * its own TLS on trial (half a second apart, HELLOs going on meanwhile),
 * HS segments reach a trial only from its endpoint, and the attempt
 * commits to the endpoint and its index only once that TLS verified the
 * peer. TLS 1.3 runs in HS segments
 * (netstack/handshake.c); its exporter gives the session keys. The
 * responder installs its session when TLS completes; the initiator waits
 * until its last flight is acknowledged, so its first DATA never reaches a
 * responder that has no keys yet. Sessions are replaced on WireGuard's
 * timers: a new handshake after 120 s, keys refused after 180 s.
 *
 * The peer is refused if its certificate is revoked, if our policy
 * refuses it (as responder) or if it claims an address or route it may
 * not (claims.c): inside TLS verification (the handshake's judge), so the
 * other side never completes, and again when TLS completes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "netstack/handshake.h"
#include "tund/base/log.h"
#include "tund/overlay/attempt.h"
#include "tund/overlay/claims.h"
#include "tund/overlay/datapath.h"
#include "tund/overlay/overlay_int.h"
#include "tund/overlay/policy.h"


/* ------------------------------------------ decisions (attempt.h) */

int attempt_hello_targets(const struct peer *p, const struct attempt *a, uint64_t now,
    struct ep *out, int cap)
{
	int n = 0;

	if (p->have_bday_ep && n < cap)
		out[n++] = p->bday_ep;
	for (int i = 0; i < p->n_eps && n < cap; i++) {
		memset(&out[n], 0, sizeof(out[n]));
		out[n++].sa = p->eps[i];
	}
	if (p->relay_id && timers_relay_hello_due(a, p->n_eps, now) && n < cap) {
		memset(&out[n], 0, sizeof(out[n]));
		out[n].via = p->relay_via;
		out[n++].relay = p->relay_id;
	}
	return n;
}

enum attempt_verdict attempt_verdict(struct peer_table *t, const struct config *cfg,
    const struct claims_self *self, int initiator, const struct cert_info *ci, char *err,
    size_t errlen)
{
	const struct addr_prefix *allowed;
	const char *at = strchr(ci->identity, '@');
	int n_allowed;

	if (peer_revoked(t, ci))
		return ATTEMPT_REVOKED;
	/* We called the initiator's peer ourselves: policy is for callers. */
	if (!initiator && !policy_allows(cfg, ci->identity))
		return ATTEMPT_REFUSED;
	claims_allowed(cfg, at ? at + 1 : "", &allowed, &n_allowed);
	if (peer_claims(t, self, allowed, n_allowed, ci, err, errlen) != CLAIMS_OK)
		return ATTEMPT_CLASH;
	return ATTEMPT_ACCEPT;
}

/* One source for the per-source cap. An IPv6 host is given a /64 and
 * may use any address in it, so whole addresses would let it multiply
 * itself; IPv4 (v4-mapped) addresses are scarce enough to count singly. */
static int attempt_same_source(const struct ep *a, const struct ep *b)
{
	if (a->relay || b->relay)
		return a->relay == b->relay && a->via == b->via;
	if (IN6_IS_ADDR_V4MAPPED(&a->sa.sin6_addr))
		return memcmp(&a->sa.sin6_addr, &b->sa.sin6_addr, 16) == 0;
	return memcmp(&a->sa.sin6_addr, &b->sa.sin6_addr, 8) == 0;
}

int attempt_responders_from(const struct attempt_set *s, const struct ep *from)
{
	int n = 0;

	for (int i = 0; i < s->n; i++) {
		if (s->a[i]->initiator || s->a[i]->stage == AT_FLUSH)
			continue;
		if (attempt_same_source(&s->a[i]->ep, from))
			n++;
	}
	return n;
}

int attempt_source_allowed(const struct attempt_set *s, const struct ep *from)
{
	return attempt_responders_from(s, from) < ATTEMPT_MAX_PER_SOURCE;
}

int attempt_slot_free(const struct attempt_set *s, int initiator)
{
	int responders = 0;

	if (s->n >= ATTEMPT_MAX)
		return 0;
	if (initiator)
		return 1;
	/* Flushing responders count: they hold their slot as long. */
	for (int i = 0; i < s->n; i++)
		if (!s->a[i]->initiator)
			responders++;
	return responders < ATTEMPT_MAX - ATTEMPT_RESERVED_INIT;
}

struct attempt *attempt_find_responder(const struct attempt_set *s, const struct ep *from, uint32_t remote)
{
	for (int i = 0; i < s->n; i++) {
		struct attempt *a = s->a[i];
		if (!a->initiator && a->remote_index == remote && ep_equal(&a->ep, from))
			return a;
	}
	return NULL;
}

struct attempt *attempt_find_flushing(const struct attempt_set *s, uint32_t local_index)
{
	for (int i = 0; i < s->n; i++)
		if (s->a[i]->stage == AT_FLUSH && s->a[i]->local_index == local_index)
			return s->a[i];
	return NULL;
}

struct attempt_trial *attempt_cookie_trial(struct attempt *a, const struct ep *from,
    const uint8_t nonce[16], const uint8_t cookie[16], uint64_t now)
{
	struct attempt_trial *t = NULL;

	if (!a->initiator || a->stage != AT_HELLO || memcmp(nonce, a->nonce, sizeof(a->nonce)) != 0)
		return NULL;
	for (int i = 0; i < a->n_trials && !t; i++)
		if (ep_equal(&a->trial[i].ep, from))
			t = &a->trial[i];
	if (t) {
		/* The endpoint answers each HELLO; until its TLS answers too,
		 * the newest cookie is the one to send. */
		if (!t->remote_index)
			memcpy(t->cookie, cookie, sizeof(t->cookie));
		return t;
	}
	if (a->n_trials < ATTEMPT_TRIALS)
		t = &a->trial[a->n_trials++];
	for (int i = 0; i < a->n_trials && !t; i++)
		if (!a->trial[i].hs && (!t || a->trial[i].seen_ms < t->seen_ms))
			t = &a->trial[i];
	if (!t)
		return NULL;
	memset(t, 0, sizeof(*t));
	t->ep = *from;
	t->seen_ms = now;
	memcpy(t->cookie, cookie, sizeof(t->cookie));
	return t;
}

enum attempt_route attempt_hs_route(struct attempt *a, const struct ep *from, uint32_t sender,
    int *trial)
{
	uint32_t *remote = NULL;
	enum attempt_route r = ATTEMPT_IGNORE;

	/* The endpoint first: a segment from elsewhere may not even name
	 * the index the handshake will run with. */
	if (a->stage == AT_HELLO) {
		for (int i = 0; i < a->n_trials && !remote; i++) {
			if (a->trial[i].hs && ep_equal(&a->trial[i].ep, from)) {
				remote = &a->trial[i].remote_index;
				*trial = i;
				r = ATTEMPT_TRIAL;
			}
		}
	} else if (a->hs && ep_equal(&a->ep, from)) {
		remote = &a->remote_index;
		r = ATTEMPT_OWN;
	}
	if (!remote || !sender)
		return ATTEMPT_IGNORE;
	if (*remote == 0)
		*remote = sender;
	return sender == *remote ? r : ATTEMPT_IGNORE;
}

/* The relay proves the relayed node is registered; the cookie still
 * proves it receives, at an address that names it. */
struct sockaddr_in6 attempt_cookie_addr(const struct ep *e)
{
	struct sockaddr_in6 sa = e->sa;

	if (e->relay) {
		memset(&sa, 0, sizeof(sa));
		sa.sin6_family = AF_INET6;
		sa.sin6_addr.s6_addr[0] = 0xfe;
		sa.sin6_addr.s6_addr[1] = 0x80;
		sa.sin6_addr.s6_addr[11] = (uint8_t)e->via;
		memcpy(&sa.sin6_addr.s6_addr[12], &e->relay, 4);
	}
	return sa;
}

/* ------------------------------------------------------- attempts */

void attempt_free(struct overlay *o, struct attempt *a)
{
	for (int i = 0; i < o->att.n; i++) {
		if (o->att.a[i] == a) {
			o->att.a[i] = o->att.a[--o->att.n];
			break;
		}
	}
	if (a->peer && a->peer->init == a)
		a->peer->init = NULL;
	/* In AT_FLUSH the index is the session's now. */
	if (a->stage != AT_FLUSH)
		peer_index_del(o->peers, a->local_index);
	for (int i = 0; i < a->n_trials; i++)
		hs_free(a->trial[i].hs);
	hs_free(a->hs);
	free(a);
}

static struct attempt *attempt_new(struct overlay *o, int initiator)
{
	struct attempt *a;

	if (!attempt_slot_free(&o->att, initiator))
		return NULL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->initiator = initiator;
	a->local_index = peer_new_index(o->peers);
	a->started_ms = now_ms();
	if (peer_index_add(o->peers, a->local_index, IDX_ATTEMPT, a) < 0) {
		free(a);
		return NULL;
	}
	o->att.a[o->att.n++] = a;
	return a;
}

static void attempt_send_hellos(struct overlay *o, struct peer *p, struct attempt *a)
{
	struct wire_hello h;
	uint8_t key[COOKIE_KEY_LEN];
	struct ep to[ATTEMPT_HELLO_TARGETS];
	int nto;

	memset(&h, 0, sizeof(h));
	h.sender_index = a->local_index;
	memcpy(h.nonce, a->nonce, sizeof(h.nonce));
	cookie_mac1_key(p->identity, key);
	nto = attempt_hello_targets(p, a, now_ms(), to, ATTEMPT_HELLO_TARGETS);
	for (int i = 0; i < nto; i++) {
		uint8_t *b = datapath_tx_slot(o, &to[i]);
		int n;

		if (!b || (n = wire_build_hello(&h, b, UDP_BUF_SIZE)) < 0)
			continue;
		cookie_mac1_stamp(key, b, WIRE_HELLO_MAC1_OFF);
		datapath_tx_commit(o, (size_t)n);
	}
	datapath_flush(o);
	timers_hello_sent(a, now_ms());
}

void attempt_initiate(struct overlay *o, struct peer *p)
{
	struct attempt *a;

	if (p->init || timers_init_held(p, now_ms()))
		return;
	if (p->n_eps == 0 && !p->relay_id)
		return;		/* nowhere to send: a lookup will tell */
	a = attempt_new(o, 1);
	if (!a)
		return;
	a->peer = p;
	a->stage = AT_HELLO;
	if (getrandom(a->nonce, sizeof(a->nonce), 0) != sizeof(a->nonce)) {
		attempt_free(o, a);
		return;
	}
	p->init = a;
	log_debug("handshake with %s: sending HELLO to %d endpoint(s)", p->identity, p->n_eps);
	attempt_send_hellos(o, p, a);
}

/* Sends whatever handshake hs (a's own, or one of its trials) has to
 * send to ep; the initiator proves itself with cookie and mac1 until the
 * responder's index is known. */
static void attempt_pump_hs(struct overlay *o, struct attempt *a, struct hs *hs,
    const struct ep *ep, uint32_t remote_index, const uint8_t *cookie)
{
	struct stream_seg seg;
	uint64_t now = now_ms();
	uint8_t mkey[COOKIE_KEY_LEN];
	int have_key = 0;

	while (hs_poll(hs, now, &seg) == 1) {
		struct wire_hs h;
		uint8_t *b = datapath_tx_slot(o, ep);
		int n;

		if (!b)
			continue;
		memset(&h, 0, sizeof(h));
		h.sender_index = a->local_index;
		h.receiver_index = remote_index;
		h.seq = seg.seq;
		h.ack = seg.ack;
		h.data = seg.data;
		h.data_len = seg.len;
		if (a->initiator && remote_index == 0)
			memcpy(h.cookie, cookie, sizeof(h.cookie));
		n = wire_build_hs(&h, b, UDP_BUF_SIZE);
		if (n < 0)
			continue;
		if (a->initiator && remote_index == 0) {
			if (!have_key)
				cookie_mac1_key(a->peer->identity, mkey);
			have_key = 1;
			cookie_mac1_stamp(mkey, b, WIRE_HS_MAC1_OFF);
		}
		datapath_tx_commit(o, (size_t)n);
	}
	datapath_flush(o);
}

static void attempt_pump(struct overlay *o, struct attempt *a)
{
	attempt_pump_hs(o, a, a->hs, &a->ep, a->remote_index, a->cookie);
}

/* Session keys from a completed handshake, each into its AEAD context
 * (the raw keys are wiped at once); the session takes over the attempt's
 * local index, which the peer already uses to reach us. */
static struct session *attempt_session_from(struct overlay *o, struct attempt *a, char *peer_id)
{
	struct session *s = calloc(1, sizeof(*s));
	uint8_t tx[HS_KEY_LEN], rx[HS_KEY_LEN];
	int c = hs_data_cipher(a->hs);
	size_t clen = 0;
	int ok = 0;

	if (!s)
		return NULL;
	if (c < 0 || hs_result(a->hs, peer_id, NULL, &clen, tx, rx) < 0 ||
	    aead_new((enum aead_cipher)c, tx, &s->send_aead) < 0 ||
	    aead_new((enum aead_cipher)c, rx, &s->recv_aead) < 0)
		goto out;
	s->local_index = a->local_index;
	s->remote_index = a->remote_index;
	s->initiator = a->initiator;
	s->born_ms = now_ms();
	replay_init(&s->replay);
	peer_index_del(o->peers, a->local_index);
	if (peer_index_add(o->peers, s->local_index, IDX_SESSION, s) < 0)
		goto out;
	ok = 1;
out:
	explicit_bzero(tx, sizeof(tx));
	explicit_bzero(rx, sizeof(rx));
	if (ok)
		return s;
	aead_free(s->send_aead);
	aead_free(s->recv_aead);
	explicit_bzero(s, sizeof(*s));
	free(s);
	return NULL;
}

static void attempt_session_ready(struct overlay *o, struct peer *p)
{
	datapath_flush_queue(o, p);
	o->hooks->session_ready(o, p);
}

/* Says why a completed TLS handshake gets no session (attempt_verdict). */
static void attempt_log_refusal(enum attempt_verdict v, const struct cert_info *ci, const char *why)
{
	switch (v) {
	case ATTEMPT_REVOKED:
		log_warnx("handshake: refusing %s: its certificate %s is revoked", ci->identity, ci->serial);
		break;
	case ATTEMPT_REFUSED:
		log_info("handshake: refusing %s (policy)", ci->identity);
		break;
	case ATTEMPT_CLASH:
		log_warnx("peer %s: %s; refused", ci->identity, why);
		break;
	case ATTEMPT_ACCEPT:
		break;
	}
}

/* Counts a refusal for the metrics, by its reason. */
static void attempt_count_refusal(struct overlay *o, enum attempt_verdict v)
{
	if (v == ATTEMPT_REVOKED)
		o->hs_failed[OVERLAY_HS_FAIL_REVOKED]++;
	else if (v == ATTEMPT_REFUSED)
		o->hs_failed[OVERLAY_HS_FAIL_POLICY]++;
	else if (v == ATTEMPT_CLASH)
		o->hs_failed[OVERLAY_HS_FAIL_CLASH]++;
}

/* The handshake's judge (hs_set_judge): the same verdict as at the end,
 * asked inside TLS so that the other side never gets our confirmation
 * (or our certificate) and holds no session we refused. */
static int attempt_judge(void *arg, int initiator, const struct cert_info *ci, char *why, size_t whylen)
{
	struct overlay *o = arg;
	struct claims_self self = overlay_claims_self(o);
	enum attempt_verdict v;

	why[0] = 0;
	v = attempt_verdict(o->peers, o->cfg, &self, initiator, ci, why, whylen);
	attempt_log_refusal(v, ci, why);
	attempt_count_refusal(o, v);
	if (v == ATTEMPT_REVOKED)
		snprintf(why, whylen, "certificate %s is revoked", ci->serial);
	else if (v == ATTEMPT_REFUSED)
		snprintf(why, whylen, "refused by policy");
	return v != ATTEMPT_ACCEPT;
}

/* A handshake finished: both sides have accepted each other (the
 * responder's final "ok" record tells the initiator). Make the session.
 * Returns -1 if the peer was refused and a is freed, else 0. */
static int attempt_done(struct overlay *o, struct attempt *a)
{
	struct claims_self self = overlay_claims_self(o);
	char peer_id[ID_NAME_MAX + 1], ep[UDP_ADDR_STRLEN], why[320];
	enum attempt_verdict v;
	struct cert_info ci;
	struct peer *p;
	struct session *s;

	if (hs_peer_info(a->hs, &ci) < 0) {
		attempt_free(o, a);
		return -1;
	}
	p = a->peer ? a->peer : peer_find(o->peers, ci.identity);
	/* Again, though the judge said yes inside TLS: a revocation or
	 * another peer may have come in since. */
	v = attempt_verdict(o->peers, o->cfg, &self, a->initiator, &ci, why, sizeof(why));
	attempt_log_refusal(v, &ci, why);
	attempt_count_refusal(o, v);
	switch (v) {
	case ATTEMPT_REVOKED:
		if (a->peer)
			timers_handshake_backoff(a->peer, now_ms());
		attempt_free(o, a);
		return -1;
	case ATTEMPT_REFUSED:
		attempt_free(o, a);
		return -1;
	case ATTEMPT_CLASH:
		attempt_free(o, a);
		if (p)
			peer_release(o->peers, p);
		return -1;
	case ATTEMPT_ACCEPT:
		break;
	}
	if (!p)
		p = peer_add(o->peers, ci.identity);
	s = p ? attempt_session_from(o, a, peer_id) : NULL;
	if (!s) {
		attempt_free(o, a);
		return -1;
	}
	a->stage = AT_FLUSH;
	a->done_ms = now_ms();
	if (p->init == a)
		p->init = NULL;
	a->peer = NULL;
	o->hooks->peer_cert(o, p, &ci);
	p->ep = a->ep;
	p->have_ep = 1;
	peer_eps_changed();
	if (!a->ep.relay)
		peer_merge_eps(p, &a->ep.sa, 1);
	timers_handshake_complete(p, a->ep.relay != 0, now_ms());
	p->hs_done_wall = (int64_t)time(NULL);
	peer_session_install(o->peers, p, s);
	o->hs_done++;
	ep_format(&a->ep, ep, sizeof(ep));
	/* The initiator completes last, so the responder has its keys: send
	 * now. The responder waits until its last flight is acknowledged. */
	s->can_send = a->initiator;
	log_info("session with %s %s %s (%s)", p->identity, a->ep.relay ? "through the" : "at", ep,
	    a->initiator ? "initiator" : "responder");
	if (s->can_send)
		attempt_session_ready(o, p);
	return 0;
}

static void attempt_progress(struct overlay *o, struct attempt *a)
{
	const char *why = NULL;
	enum hs_state st;

	attempt_pump(o, a);
	st = hs_state(a->hs, &why);
	if (st == HS_FAILED) {
		log_warnx("handshake with %s failed: %s", a->peer ? a->peer->identity : "a peer", why);
		/* A refusal of ours was counted by its reason in the judge. */
		if (!hs_peer_refused(a->hs))
			o->hs_failed[OVERLAY_HS_FAIL_TLS]++;
		if (a->peer)
			timers_handshake_backoff(a->peer, now_ms());
		attempt_free(o, a);
		return;
	}
	/* A refused peer's attempt is freed: nothing more to do with it. */
	if (st == HS_DONE && a->stage == AT_TLS && attempt_done(o, a) < 0)
		return;
	if (a->stage == AT_FLUSH && !a->initiator && hs_flushed(a->hs)) {
		int kind;
		struct session *s = peer_index_get(o->peers, a->local_index, &kind);

		if (s && kind == IDX_SESSION && !s->can_send) {
			s->can_send = 1;
			attempt_session_ready(o, s->peer);
		}
	}
}

static void attempt_trial_drop(struct attempt *a, int k)
{
	hs_free(a->trial[k].hs);
	a->trial[k] = a->trial[--a->n_trials];
	memset(&a->trial[a->n_trials], 0, sizeof(a->trial[0]));
}

/* Trial k's TLS has proven the peer (its certificate, signature and
 * Finished): that endpoint is the one. The handshake goes on there as
 * if its COOKIE had been the only one; the other trials end. */
static void attempt_trial_commit(struct attempt *a, int k)
{
	struct attempt_trial *t = &a->trial[k];

	a->ep = t->ep;
	a->hs = t->hs;
	a->remote_index = t->remote_index;
	memcpy(a->cookie, t->cookie, sizeof(a->cookie));
	t->hs = NULL;
	while (a->n_trials)
		attempt_trial_drop(a, a->n_trials - 1);
	a->stage = AT_TLS;
}

/* Sends what trial k has to send; drops it if its TLS failed (a wrong or
 * silent endpoint: the HELLOs go on for the others), commits to it once
 * it has proven the peer, or once we refused the peer's own certificate
 * (no other endpoint could do better: the attempt fails as it always
 * did). Returns 1 if it committed (a may be freed by then), else 0. */
static int attempt_trial_progress(struct overlay *o, struct attempt *a, int k)
{
	struct attempt_trial *t = &a->trial[k];
	const char *why = NULL;
	char ep[UDP_ADDR_STRLEN];

	if (hs_peer_proven(t->hs) || hs_peer_refused(t->hs)) {
		attempt_trial_commit(a, k);
		attempt_progress(o, a);
		return 1;
	}
	attempt_pump_hs(o, a, t->hs, &t->ep, t->remote_index, t->cookie);
	if (hs_state(t->hs, &why) == HS_FAILED) {
		ep_format(&t->ep, ep, sizeof(ep));
		log_debug("handshake with %s: dropping endpoint %s: %s", a->peer->identity, ep, why);
		attempt_trial_drop(a, k);
	}
	return 0;
}

/* A COOKIE's endpoint gets its own TLS; HELLOs keep going to the others.
 * Returns 1 if a committed (and may be freed), else 0. */
static int attempt_trial_start(struct overlay *o, struct attempt *a, struct attempt_trial *t)
{
	int k = (int)(t - a->trial);

	if (hs_new(o->hs, 1, o->identity, a->peer->identity, now_ms(), &t->hs) < 0) {
		attempt_trial_drop(a, k);
		return 0;
	}
	t->started_ms = now_ms();
	hs_set_judge(t->hs, attempt_judge, o);
	return attempt_trial_progress(o, a, k);
}

/* The trials' resends, and the next waiting endpoint's turn. */
static void attempt_tick_trials(struct overlay *o, struct attempt *a, uint64_t now)
{
	struct attempt_trial *next = NULL;

	for (int k = a->n_trials - 1; k >= 0; k--)
		if (a->trial[k].hs && hs_next_deadline(a->trial[k].hs) <= now &&
		    attempt_trial_progress(o, a, k))
			return;
	if (!timers_trial_start_due(a, now))
		return;
	for (int k = 0; k < a->n_trials; k++)
		if (!a->trial[k].hs && (!next || a->trial[k].seen_ms < next->seen_ms))
			next = &a->trial[k];
	if (next)
		attempt_trial_start(o, a, next);
}

uint64_t attempt_next(const struct attempt_set *s, uint64_t next)
{
	for (int i = 0; i < s->n; i++)
		next = timers_attempt_next(s->a[i], next);
	return next;
}

/* Gives up on attempts that got no answer, resends what is due. */
void attempt_tick(struct overlay *o, uint64_t now)
{
	for (int i = 0; i < o->att.n; i++) {
		struct attempt *a = o->att.a[i];

		if (timers_attempt_expired(a, now)) {
			if (a->initiator && a->peer) {
				log_info("handshake with %s: no answer, giving up for now", a->peer->identity);
				o->hs_failed[OVERLAY_HS_FAIL_TIMEOUT]++;
				timers_handshake_backoff(a->peer, now);
				peer_queue_clear(a->peer);
			}
			attempt_free(o, a);
			i--;
			continue;
		}
		if (timers_hello_due(a, now))
			attempt_send_hellos(o, a->peer, a);
		if (a->stage == AT_HELLO)
			attempt_tick_trials(o, a, now);
		else if (a->hs && hs_next_deadline(a->hs) <= now)
			attempt_progress(o, a);
		/* attempt_progress may have freed a: re-check the slot. */
		if (i < o->att.n && o->att.a[i] != a)
			i--;
	}
}

/* ------------------------------------------------------ receiving */

void attempt_rx_hello(struct overlay *o, const uint8_t *b, size_t len, const struct ep *from)
{
	struct sockaddr_in6 ca = attempt_cookie_addr(from);
	struct wire_hello h;
	struct wire_cookie c;
	uint8_t *out;
	int n;

	if (wire_parse_hello(b, len, &h) < 0 || cookie_mac1_verify(o->mac1, b, len, WIRE_HELLO_MAC1_OFF) < 0)
		return;		/* silence: not for us, or not from someone who knows us */
	/* A valid mac1 needs only our name: answers are rationed, so a
	 * flood of HELLOs from spoofed sources makes us no reflector, and
	 * peers an authority introduced keep their own share (ratelimit.h),
	 * as do nodes the relay authenticated. */
	if (!ratelimit_allow(&o->cookie_rl, &ca, from->relay || peer_table_expects(o->peers, &ca), now_ms()))
		return;
	memset(&c, 0, sizeof(c));
	c.receiver_index = h.sender_index;
	memcpy(c.nonce, h.nonce, sizeof(c.nonce));
	if (cookie_make(&o->jar, &ca, h.sender_index, now_ms(), c.cookie) < 0)
		return;
	out = datapath_tx_slot(o, from);
	if (!out)
		return;
	n = wire_build_cookie(&c, out, UDP_BUF_SIZE);
	if (n > 0)
		datapath_tx_commit(o, (size_t)n);
}

void attempt_rx_cookie(struct overlay *o, const uint8_t *b, size_t len, const struct ep *from)
{
	struct wire_cookie c;
	struct attempt_trial *t;
	struct attempt *a;
	int kind;

	if (wire_parse_cookie(b, len, &c) < 0)
		return;
	a = peer_index_get(o->peers, c.receiver_index, &kind);
	if (!a || kind != IDX_ATTEMPT)
		return;
	/* Anyone who saw the HELLO can answer it: a COOKIE only earns its
	 * endpoint a trial, and nothing is sent but the trial's TLS. */
	t = attempt_cookie_trial(a, from, c.nonce, c.cookie, now_ms());
	if (t && !t->hs && timers_trial_start_due(a, now_ms()))
		attempt_trial_start(o, a, t);
}

void attempt_rx_hs(struct overlay *o, const uint8_t *b, size_t len, const struct ep *from)
{
	struct sockaddr_in6 ca = attempt_cookie_addr(from);
	struct wire_hs h;
	struct attempt *a;
	int kind = 0, k;

	if (wire_parse_hs(b, len, &h) < 0)
		return;
	if (h.receiver_index == 0) {
		/* An initiator's segment: it must prove it knows us (mac1) and
		 * that it receives at its address (cookie) before we keep state. */
		if (cookie_mac1_verify(o->mac1, b, len, WIRE_HS_MAC1_OFF) < 0 ||
		    cookie_verify(&o->jar, &ca, h.sender_index, h.cookie, now_ms()) < 0)
			return;
		a = attempt_find_responder(&o->att, from, h.sender_index);
		if (!a) {
			/* A cookie proves an address, not good intent: one address
			 * may not hold more than a few handshakes open, so it cannot
			 * crowd out everyone else's. */
			if (!attempt_source_allowed(&o->att, from))
				return;
			/* A cookie opens one handshake: a replay of this segment,
			 * even from its sender's own address, gets no new TLS. A
			 * cookie turned away for want of a slot stays unspent. */
			if (!attempt_slot_free(&o->att, 0) || cookie_spend(&o->jar, h.cookie) < 0)
				return;
			a = attempt_new(o, 0);
			if (!a)
				return;
			a->remote_index = h.sender_index;
			a->ep = *from;
			a->stage = AT_TLS;
			if (hs_new(o->hs, 0, o->identity, NULL, now_ms(), &a->hs) < 0) {
				attempt_free(o, a);
				return;
			}
			hs_set_judge(a->hs, attempt_judge, o);
		}
	} else {
		a = peer_index_get(o->peers, h.receiver_index, &kind);
		if (a && kind == IDX_SESSION)
			a = attempt_find_flushing(&o->att, h.receiver_index);
		else if (kind != IDX_ATTEMPT)
			a = NULL;
		if (!a)
			return;
		switch (attempt_hs_route(a, from, h.sender_index, &k)) {
		case ATTEMPT_IGNORE:
			return;		/* not the bound endpoint: no state, no answer */
		case ATTEMPT_TRIAL:
			hs_input(a->trial[k].hs, h.seq, h.ack, h.data, h.data_len, now_ms());
			attempt_trial_progress(o, a, k);
			return;
		case ATTEMPT_OWN:
			break;
		}
	}
	hs_input(a->hs, h.seq, h.ack, h.data, h.data_len, now_ms());
	attempt_progress(o, a);
}
