/*
 * JSON of the firewall's state (tund/policy/fw.h): its rules as the
 * authority or the config wrote them, with their hit counters.
 */
#include "tund/ctl/policy_json.h"
#include "tund/overlay/overlay.h"
#include "tund/policy/fw.h"

static json_object *policy_json_sels(const struct pol_set *s, const uint16_t *sel, int n)
{
	json_object *a = json_object_new_array();

	for (int i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(pol_str(s, sel[i])));
	return a;
}

static json_object *policy_json_rule(const struct fw_layer *ly, int ri)
{
	const struct pol_set *s = ly->set;
	const struct pol_rule *r = &s->rules[ri];
	json_object *j = json_object_new_object(), *allow = json_object_new_array();
	char buf[32];

	for (int i = 0; i < r->n_allow; i++) {
		pol_port_format(&r->allow[i], buf, sizeof(buf));
		json_object_array_add(allow, json_object_new_string(buf));
	}
	json_object_object_add(j, "index", json_object_new_int(r->origin));
	json_object_object_add(j, "line", json_object_new_int64(r->line));
	json_object_object_add(j, "from", policy_json_sels(s, r->from, r->n_from));
	json_object_object_add(j, "to", policy_json_sels(s, r->to, r->n_to));
	json_object_object_add(j, "allow", allow);
	json_object_object_add(j, "hits", json_object_new_int64((int64_t)ly->hits[ri]));
	return j;
}

static json_object *policy_json_layer(const struct fw_layer *ly, const char *source, uint64_t now)
{
	json_object *j = json_object_new_object(), *rules = json_object_new_array();

	json_object_object_add(j, "source", json_object_new_string(source));
	json_object_object_add(j, "present", json_object_new_boolean(ly->set != NULL));
	json_object_object_add(j, "generation", json_object_new_int64(ly->gen));
	json_object_object_add(j, "age", json_object_new_int64((int64_t)((now - ly->since) / 1000)));
	json_object_object_add(j, "denied", json_object_new_int64((int64_t)ly->denied));
	for (int i = 0; ly->set && i < ly->n_mine; i++)
		json_object_array_add(rules, policy_json_rule(ly, ly->mine[i]));
	json_object_object_add(j, "rules", rules);
	return j;
}

json_object *policy_json(const struct fw *fw, int reject, const struct overlay_peer_info *peers, int n,
    uint64_t now)
{
	json_object *j = json_object_new_object(), *layers = json_object_new_array();
	json_object *pa = json_object_new_array();

	json_object_object_add(j, "active", json_object_new_boolean(fw_active(fw)));
	json_object_object_add(j, "identity", json_object_new_string(fw->self));
	json_object_object_add(j, "reject", json_object_new_boolean(reject));
	json_object_object_add(j, "denied", json_object_new_int64((int64_t)fw->denied));
	json_object_object_add(j, "malformed", json_object_new_int64((int64_t)fw->malformed));
	json_object_object_add(j, "stray_fragments", json_object_new_int64((int64_t)fw->stray_frags));
	json_object_object_add(j, "flows", json_object_new_int64(ct_count(&fw->ct, now)));
	json_object_object_add(j, "flows_max", json_object_new_int64(FW_CT_SIZE));
	json_object_object_add(j, "flows_evicted", json_object_new_int64((int64_t)fw->ct.evicted));
	json_object_array_add(layers, policy_json_layer(&fw->layer[FW_AUTH], "authority", now));
	json_object_array_add(layers, policy_json_layer(&fw->layer[FW_LOCAL], "local", now));
	json_object_object_add(j, "layers", layers);
	for (int i = 0; i < n; i++) {
		json_object *p = json_object_new_object();

		json_object_object_add(p, "identity", json_object_new_string(peers[i].identity));
		json_object_object_add(p, "denied", json_object_new_int64((int64_t)peers[i].policy_denied));
		json_object_array_add(pa, p);
	}
	json_object_object_add(j, "peers", pa);
	return j;
}
