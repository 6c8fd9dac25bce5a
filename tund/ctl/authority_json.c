/*
 * JSON for the authority's answers (authority_json.h), from its snapshots.
 * The authority itself knows no JSON: it exports plain structs, and this
 * file is the one place that says how they look on the control socket.
 */
#include <arpa/inet.h>

#include "identity/addr.h"
#include "identity/cert.h"
#include "netstack/udp.h"
#include "tund/authority/authority.h"
#include "tund/ctl/authority_json.h"

static json_object *authority_json_counts(const char *k1, uint64_t v1, const char *k2, uint64_t v2)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, k1, json_object_new_int64((int64_t)v1));
	json_object_object_add(o, k2, json_object_new_int64((int64_t)v2));
	return o;
}

/* Who holds the TLS connection slots now, and every verdict since start,
 * by reason: what an operator reads during a connection flood. */
static json_object *authority_json_admission(const struct admit_stats *ad)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "slots", json_object_new_int(ad->lim.slots));
	json_object_object_add(o, "unauthenticated_slots", json_object_new_int(ad->lim.unauth));
	json_object_object_add(o, "per_source", json_object_new_int(ad->lim.per_source));
	json_object_object_add(o, "per_source_unauthenticated",
	    json_object_new_int(ad->lim.per_source_unauth));
	json_object_object_add(o, "open", json_object_new_int(ad->open));
	json_object_object_add(o, "handshakes_in_progress", json_object_new_int(ad->unauth));
	json_object_object_add(o, "admitted", json_object_new_int64((int64_t)ad->admitted));
	json_object_object_add(o, "refused", authority_json_counts("source_share", ad->refused_source,
	    "full", ad->refused_full));
	json_object_object_add(o, "evicted", authority_json_counts("make_room", ad->evicted,
	    "login_timeout", ad->expired));
	return o;
}

/* What the domain's nodes need to know of it: every answer starts so. */
static json_object *authority_json_service(const struct authority_status_info *st)
{
	json_object *o = json_object_new_object();
	char fp[65], listen[UDP_ADDR_STRLEN], pool[INET6_ADDRSTRLEN + 8];

	cert_fingerprint_hex(st->ca_fingerprint, fp);
	udp_addr_format(&st->listen, listen, sizeof(listen));
	addr_prefix_format(&st->pool, pool, sizeof(pool));
	json_object_object_add(o, "domain", json_object_new_string(st->domain));
	json_object_object_add(o, "ca_fingerprint", json_object_new_string(fp));
	json_object_object_add(o, "listen", json_object_new_string(listen));
	json_object_object_add(o, "pool", json_object_new_string(pool));
	return o;
}

json_object *authority_json_status(const struct authority_status_info *st)
{
	json_object *o = authority_json_service(st);

	json_object_object_add(o, "admission", authority_json_admission(&st->admission));
	return o;
}

static json_object *authority_json_account(const struct authority_account_info *ai)
{
	json_object *o = json_object_new_object();
	char buf[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, ai->v4, buf, sizeof(buf));
	json_object_object_add(o, "identity", json_object_new_string(ai->identity));
	json_object_object_add(o, "ipv4", json_object_new_string(buf));
	json_object_object_add(o, "revoked", json_object_new_boolean(ai->revoked));
	json_object_object_add(o, "cert_expires", json_object_new_int64(ai->cert_not_after));
	return o;
}

json_object *authority_json_accounts(const struct authority_status_info *st,
    const struct authority_account_info *as, int n)
{
	json_object *o = authority_json_service(st), *arr = json_object_new_array();

	for (int i = 0; i < n; i++)
		json_object_array_add(arr, authority_json_account(&as[i]));
	json_object_object_add(o, "accounts", arr);
	return o;
}

json_object *authority_json_invite(const char *identity, const char *token, int64_t expires)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "identity", json_object_new_string(identity));
	json_object_object_add(o, "token", json_object_new_string(token));
	json_object_object_add(o, "expires", json_object_new_int64(expires));
	return o;
}

json_object *authority_json_revoked(const char *identity)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "identity", json_object_new_string(identity));
	json_object_object_add(o, "revoked", json_object_new_boolean(1));
	return o;
}
