/*
 * Which metrics q2qd exports, and under what names. Counters are the
 * plain integers the overlay and the authority keep where things happen
 * (a drop, a handshake, a relayed datagram); a scrape copies them out
 * through the same snapshots `q2qctl peers` and `status` use, so nothing
 * on the data path allocates or formats for metrics. A counter starts
 * again from 0 when the overlay comes up, as Prometheus expects of a
 * restart.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#include "tund/authority/authority.h"
#include "tund/ctl/metrics.h"
#include "tund/ctl/metrics_text.h"
#include "tund/daemon.h"
#include "tund/overlay/overlay.h"

/* One counter per peer, read from its snapshot by offset. */
static const struct {
	const char *name, *help;
	size_t off;
} peer_counters[] = {
	{ "q2q_peer_rx_bytes_total", "Inner IP bytes received from the peer and delivered to the interface.",
	  offsetof(struct overlay_peer_info, rx_bytes) },
	{ "q2q_peer_tx_bytes_total", "Inner IP bytes sent to the peer.",
	  offsetof(struct overlay_peer_info, tx_bytes) },
	{ "q2q_peer_rx_packets_total", "Inner IP packets received from the peer and delivered.",
	  offsetof(struct overlay_peer_info, rx_packets) },
	{ "q2q_peer_tx_packets_total", "Inner IP packets sent to the peer.",
	  offsetof(struct overlay_peer_info, tx_packets) },
	{ "q2q_peer_relay_rx_bytes_total", "Of the bytes received from the peer, those that came through the authority's relay.",
	  offsetof(struct overlay_peer_info, relay_rx_bytes) },
	{ "q2q_peer_relay_tx_bytes_total", "Of the bytes sent to the peer, those that went through the authority's relay.",
	  offsetof(struct overlay_peer_info, relay_tx_bytes) },
};

static const char *const path_names[] = {
	[OVERLAY_PATH_NONE] = "none", [OVERLAY_PATH_DIRECT] = "direct", [OVERLAY_PATH_RELAY] = "relay",
};

static const char *const hs_fail_names[OVERLAY_HS_FAIL_N] = {
	[OVERLAY_HS_FAIL_TLS] = "tls", [OVERLAY_HS_FAIL_TIMEOUT] = "timeout",
	[OVERLAY_HS_FAIL_REVOKED] = "revoked", [OVERLAY_HS_FAIL_POLICY] = "policy",
	[OVERLAY_HS_FAIL_CLASH] = "clash",
};

static void metrics_peers(struct metrics_text *t, const struct metrics_snapshot *s)
{
	struct metrics_label l[2] = { { "peer", NULL }, { "path", NULL } };

	for (size_t k = 0; k < sizeof(peer_counters) / sizeof(peer_counters[0]); k++) {
		metrics_text_family(t, peer_counters[k].name, "counter", peer_counters[k].help);
		for (int i = 0; i < s->n_peers; i++) {
			const char *p = (const char *)&s->peers[i];

			l[0].value = s->peers[i].identity;
			metrics_text_sample(t, peer_counters[k].name, l, 1,
			    *(const uint64_t *)(p + peer_counters[k].off));
		}
	}
	metrics_text_family(t, "q2q_peer_path", "gauge",
	    "1 for the path the peer's traffic takes now (direct, relay, or none without a session).");
	for (int i = 0; i < s->n_peers; i++) {
		l[0].value = s->peers[i].identity;
		for (int k = OVERLAY_PATH_NONE; k <= OVERLAY_PATH_RELAY; k++) {
			l[1].value = path_names[k];
			metrics_text_sample(t, "q2q_peer_path", l, 2, s->peers[i].path == (enum overlay_path)k);
		}
	}
	metrics_text_family(t, "q2q_peer_session", "gauge", "1 while a session with the peer holds keys.");
	for (int i = 0; i < s->n_peers; i++) {
		l[0].value = s->peers[i].identity;
		metrics_text_sample(t, "q2q_peer_session", l, 1, (uint64_t)!!s->peers[i].session);
	}
}

static void metrics_overlay(struct metrics_text *t, const struct overlay_status_info *ov)
{
	const struct { const char *reason; uint64_t n; } drops[] = {
		{ "replay", ov->drops_replay },
		{ "authentication", ov->drops_auth },
		{ "spoofed_source", ov->drops_source },
		{ "no_route", ov->drops_noroute },
		{ "unknown_session", ov->drops_session },
		{ "expired_key", ov->drops_expired },
		{ "policy", ov->drops_policy },	/* the identity firewall */
	};
	struct metrics_label l = { "reason", NULL };

	metrics_text_family(t, "q2q_handshakes_completed_total", "counter",
	    "Handshakes that ended in a session with a peer.");
	metrics_text_sample(t, "q2q_handshakes_completed_total", NULL, 0, ov->hs_done);
	metrics_text_family(t, "q2q_handshakes_failed_total", "counter",
	    "Handshakes that ended without a session, by reason.");
	for (int k = 0; k < OVERLAY_HS_FAIL_N; k++) {
		l.value = hs_fail_names[k];
		metrics_text_sample(t, "q2q_handshakes_failed_total", &l, 1, ov->hs_failed[k]);
	}
	metrics_text_family(t, "q2q_drops_total", "counter",
	    "Packets dropped, by reason: replayed, failing authentication, with a source the peer's "
	    "certificate does not bind, for no route, for an unknown session or an expired key, by policy.");
	for (size_t k = 0; k < sizeof(drops) / sizeof(drops[0]); k++) {
		l.value = drops[k].reason;
		metrics_text_sample(t, "q2q_drops_total", &l, 1, drops[k].n);
	}
	metrics_text_family(t, "q2q_gso_split_total", "counter",
	    "GSO runs larger than the path MTU, sent one datagram at a time.");
	metrics_text_sample(t, "q2q_gso_split_total", NULL, 0, ov->gso_split);
}

static void metrics_authority(struct metrics_text *t, const struct authority_metrics_info *a)
{
	struct metrics_label l = { "result", NULL };

	metrics_text_family(t, "q2q_authority_clients", "gauge", "TLS connections to the authority.");
	metrics_text_sample(t, "q2q_authority_clients", NULL, 0, (uint64_t)a->clients);
	metrics_text_family(t, "q2q_authority_registered_nodes", "gauge", "Nodes registered online.");
	metrics_text_sample(t, "q2q_authority_registered_nodes", NULL, 0, (uint64_t)a->registered);
	metrics_text_family(t, "q2q_authority_enrollments_total", "counter",
	    "Enrollment requests, accepted (good token) or refused.");
	l.value = "accepted";
	metrics_text_sample(t, "q2q_authority_enrollments_total", &l, 1, a->enroll_accepted);
	l.value = "refused";
	metrics_text_sample(t, "q2q_authority_enrollments_total", &l, 1, a->enroll_refused);
	metrics_text_family(t, "q2q_authority_renewals_total", "counter", "Renewal requests with a good CSR.");
	metrics_text_sample(t, "q2q_authority_renewals_total", NULL, 0, a->renewals);
	metrics_text_family(t, "q2q_authority_certificates_issued_total", "counter",
	    "Certificates signed by the CA process and sent, for enrollments and renewals.");
	metrics_text_sample(t, "q2q_authority_certificates_issued_total", NULL, 0, a->certs_issued);
	metrics_text_family(t, "q2q_authority_lookups_total", "counter",
	    "Lookups by registered nodes, by whether an online node matched.");
	l.value = "found";
	metrics_text_sample(t, "q2q_authority_lookups_total", &l, 1, a->lookups_found);
	l.value = "not_found";
	metrics_text_sample(t, "q2q_authority_lookups_total", &l, 1, a->lookups_unknown);
	metrics_text_family(t, "q2q_authority_broker_requests_total", "counter",
	    "Introductions asked of a callee, by its answer.");
	l.value = "ok";
	metrics_text_sample(t, "q2q_authority_broker_requests_total", &l, 1, a->broker_ok);
	l.value = "refused";
	metrics_text_sample(t, "q2q_authority_broker_requests_total", &l, 1, a->broker_refused);
	l.value = "timeout";
	metrics_text_sample(t, "q2q_authority_broker_requests_total", &l, 1, a->broker_timeout);
	metrics_text_family(t, "q2q_authority_broker_latency_seconds", "histogram",
	    "Time from a lookup to the callee's consent.");
	metrics_text_histogram_ms(t, "q2q_authority_broker_latency_seconds", authority_broker_bounds_ms,
	    AUTHORITY_BROKER_BUCKETS, a->broker_buckets, a->broker_ms_sum);
	metrics_text_family(t, "q2q_authority_relayed_packets_total", "counter",
	    "Datagrams relayed between two registered nodes.");
	metrics_text_sample(t, "q2q_authority_relayed_packets_total", NULL, 0, a->relayed_packets);
	metrics_text_family(t, "q2q_authority_relayed_bytes_total", "counter",
	    "Bytes of datagrams relayed between two registered nodes.");
	metrics_text_sample(t, "q2q_authority_relayed_bytes_total", NULL, 0, a->relayed_bytes);
	metrics_text_family(t, "q2q_authority_relay_refused_total", "counter",
	    "Authenticated datagrams the relay did not forward, by reason (tund/authority/relay.h).");
	l.name = "reason";
	for (int v = RELAY_FORWARD + 1; v < RELAY_VERDICTS; v++) {
		l.value = relay_verdict_name((enum relay_verdict)v);
		metrics_text_sample(t, "q2q_authority_relay_refused_total", &l, 1, a->relay_refused[v]);
	}
}

void metrics_format(struct metrics_text *t, const struct metrics_snapshot *s)
{
	metrics_text_family(t, "q2q_up", "gauge", "1 while the overlay is up (q2qctl up).");
	metrics_text_sample(t, "q2q_up", NULL, 0, s->ov != NULL);
	if (s->ov) {
		metrics_peers(t, s);
		metrics_overlay(t, s->ov);
	}
	if (s->auth)
		metrics_authority(t, s->auth);
}

int metrics_collect(struct daemon *d, struct metrics_text *t)
{
	struct metrics_snapshot s = { 0 };
	struct overlay_status_info ov;
	struct overlay_peer_info *ps = NULL;
	struct authority_metrics_info am;
	int rc = 0;

	if (d->overlay) {
		if (overlay_peers_info(d->overlay, &ps, &s.n_peers) < 0)
			return -ENOMEM;
		overlay_status_info(d->overlay, &ov);
		s.ov = &ov;
		s.peers = ps;
	}
	if (d->authority) {
		authority_metrics_info(d->authority, &am);
		s.auth = &am;
	}
	metrics_format(t, &s);
	if (metrics_text_failed(t))
		rc = -ENOMEM;
	free(ps);
	return rc;
}
