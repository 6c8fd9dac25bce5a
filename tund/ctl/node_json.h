/*
 * The node's answers in the control protocol: JSON made of the plain
 * snapshot the node exports (tund/node/node.h). Keys and value types are
 * what `q2qctl status/enroll/renew/up --json` print and scripts read;
 * change them only with the protocol.
 */
#ifndef Q2Q_NODE_JSON_H
#define Q2Q_NODE_JSON_H

#include <json-c/json.h>

struct node_status_info;

/* The node's part of q2qctl status and up, added to obj: enrolled, and
 * once enrolled identity, addresses, certificate, authority, routes (when
 * it has any), ca_fingerprint (when the CA is known). */
void node_json_status(const struct node_status_info *st, json_object *obj);
/* q2qctl enroll, renew: the status and message. A new object the caller
 * owns (ctl_reply_ok consumes it). */
json_object *node_json_done(const struct node_status_info *st, const char *msg);

#endif
