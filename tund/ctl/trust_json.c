/*
 * JSON of the trust store's snapshot (identity/trust.h trust_list).
 */
#include "identity/cert.h"
#include "identity/trust.h"
#include "tund/ctl/trust_json.h"

static void trust_json_one(const struct trust_info *ti, void *arg)
{
	json_object *o = json_object_new_object();
	char hex[65];

	cert_fingerprint_hex(ti->fingerprint, hex);
	json_object_object_add(o, "domain", json_object_new_string(ti->domain));
	json_object_object_add(o, "ca_fingerprint", json_object_new_string(hex));
	json_object_object_add(o, "learned", json_object_new_string(trust_source_name(ti->source)));
	json_object_object_add(o, "since", json_object_new_int64(ti->since));
	json_object_object_add(o, "have_cert", json_object_new_boolean(ti->have_cert));
	json_object_array_add(arg, o);
}

json_object *trust_json_list(const struct trust_store *ts)
{
	json_object *o = json_object_new_object(), *arr = json_object_new_array();

	trust_list(ts, trust_json_one, arr);
	json_object_object_add(o, "domains", arr);
	return o;
}
