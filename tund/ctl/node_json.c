/*
 * JSON for the node's answers (node_json.h), from its snapshot. The node
 * itself knows no JSON: it exports a plain struct, and this file is the
 * one place that says how it looks on the control socket.
 */
#include <arpa/inet.h>

#include "identity/addr.h"
#include "identity/cert.h"
#include "tund/ctl/node_json.h"
#include "tund/node/node.h"

void node_json_status(const struct node_status_info *st, json_object *obj)
{
	char buf[INET6_ADDRSTRLEN + 8], fp[65];

	json_object_object_add(obj, "enrolled", json_object_new_boolean(st->enrolled));
	if (!st->enrolled)
		return;
	json_object_object_add(obj, "identity", json_object_new_string(st->ci.identity));
	inet_ntop(AF_INET, st->ci.v4, buf, sizeof(buf));
	json_object_object_add(obj, "ipv4", json_object_new_string(buf));
	inet_ntop(AF_INET6, st->ci.v6, buf, sizeof(buf));
	json_object_object_add(obj, "ipv6", json_object_new_string(buf));
	json_object_object_add(obj, "cert_serial", json_object_new_string(st->ci.serial));
	json_object_object_add(obj, "cert_not_after", json_object_new_int64(st->ci.not_after));
	json_object_object_add(obj, "cert_expired", json_object_new_boolean(st->cert_expired));
	json_object_object_add(obj, "authority", json_object_new_string(st->authority));
	/* No routes, no key: scripts test for its presence. */
	if (st->ci.n_routes) {
		json_object *arr = json_object_new_array();
		for (int i = 0; i < st->ci.n_routes; i++) {
			addr_prefix_format(&st->ci.routes[i], buf, sizeof(buf));
			json_object_array_add(arr, json_object_new_string(buf));
		}
		json_object_object_add(obj, "routes", arr);
	}
	if (st->have_ca) {
		cert_fingerprint_hex(st->ca_fingerprint, fp);
		json_object_object_add(obj, "ca_fingerprint", json_object_new_string(fp));
	}
}

json_object *node_json_done(const struct node_status_info *st, const char *msg)
{
	json_object *o = json_object_new_object();

	node_json_status(st, o);
	json_object_object_add(o, "message", json_object_new_string(msg));
	return o;
}
