/*
 * The overlay's answers in the control protocol: JSON made of the plain
 * snapshots the overlay exports (tund/overlay/overlay.h). Keys and value
 * types are what `q2qctl ... --json` prints and scripts read; change them
 * only with the protocol. Each function returns a new object the caller
 * owns (ctl_reply_ok consumes it), or adds keys to obj.
 */
#ifndef Q2Q_OVERLAY_JSON_H
#define Q2Q_OVERLAY_JSON_H

#include <json-c/json.h>

struct overlay_nat_info;
struct overlay_peer_info;
struct overlay_ping_info;
struct overlay_status_info;

/* identity, and with a certificate: ipv4, ipv6, routes, cert_not_after,
 * cert_serial (q2qctl resolve, whois). */
json_object *overlay_json_peer(const struct overlay_peer_info *p);
/* q2qctl peers: every peer with its path, endpoint, counters, and our NAT. */
json_object *overlay_json_peers(const struct overlay_peer_info *ps, int n, const struct overlay_nat_info *nat);
/* q2qctl netcheck. */
json_object *overlay_json_nat(const struct overlay_nat_info *nat);
/* q2qctl whois of one of this node's own addresses. */
json_object *overlay_json_self(const char *identity);
/* q2qctl ping. */
json_object *overlay_json_ping(const struct overlay_ping_info *pi);
/* The overlay's part of q2qctl status, added to obj. */
void overlay_json_status(const struct overlay_status_info *st, json_object *obj);

#endif
