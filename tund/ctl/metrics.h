/*
 * The daemon's metrics in the Prometheus text format (version 0.0.4),
 * for `q2qctl metrics` and the optional HTTP listener (metrics_http.h).
 * metrics_format turns plain snapshots into text and is pure;
 * metrics_collect takes the snapshots from a running daemon and formats
 * them. The metric names are listed in README.md ("Metrics").
 */
#ifndef Q2Q_METRICS_H
#define Q2Q_METRICS_H

struct authority_metrics_info;
struct daemon;
struct metrics_text;
struct overlay_peer_info;
struct overlay_status_info;

struct metrics_snapshot {
	const struct overlay_status_info *ov;	/* NULL while the overlay is down */
	const struct overlay_peer_info *peers;	/* with ov: n_peers of them */
	int n_peers;
	const struct authority_metrics_info *auth;	/* NULL unless an authority */
};

void metrics_format(struct metrics_text *t, const struct metrics_snapshot *s);
/* 0 with the text in t (the caller's, initialised), or -ENOMEM. */
int metrics_collect(struct daemon *d, struct metrics_text *t);

#endif
