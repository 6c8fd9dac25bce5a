/*
 * The identity firewall in the control protocol: what `q2qctl policy
 * --json` prints. {"active", "identity", "reject", "denied", "malformed",
 * "flows", "flows_max", "flows_evicted", "layers": [{"source"
 * ("authority" or "local"), "present", "generation", "age" (seconds
 * since it was set), "denied", "rules": [{"index", "line", "from", "to",
 * "allow", "hits"}]}], "peers": [{"identity", "denied"}]}. A layer lists
 * only the rules whose "to" names this node: the ones it enforces.
 */
#ifndef Q2Q_POLICY_JSON_H
#define Q2Q_POLICY_JSON_H

#include <stdint.h>
#include <json-c/json.h>

struct fw;
struct overlay_peer_info;

/* A new object the caller owns; now in loop_now_ms() terms. */
json_object *policy_json(const struct fw *fw, int reject, const struct overlay_peer_info *peers, int n,
    uint64_t now);

#endif
