/* The authority's answers on the control socket (tund/ctl/authority_json.c):
 * the exact JSON `q2qctl status/accounts/invite/revoke --json` print for
 * given snapshots, keys in order and value types, so scripts reading them
 * keep working. json-c escapes "/" as "\/", as the daemon sends it. */
#include <string.h>

#include "tests/unit/harness.h"
#include "identity/addr.h"
#include "netstack/udp.h"
#include "tund/authority/authority.h"
#include "tund/ctl/authority_json.h"

#define FP_HEX "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

static void check_json(json_object *j, const char *want)
{
	CHECK_STR(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN), want);
	json_object_put(j);
}

static void example(struct authority_status_info *st)
{
	memset(st, 0, sizeof(*st));
	strcpy(st->domain, "example.com");
	for (int i = 0; i < 32; i++)
		st->ca_fingerprint[i] = (uint8_t)i;
	CHECK_INT(udp_addr_parse("0.0.0.0:8788", &st->listen), 0);
	CHECK_INT(addr_prefix_parse("100.64.0.0/10", &st->pool), 0);
	st->admission = (struct admit_stats){ .admitted = 5000000000ull, .refused_source = 2,
	    .refused_full = 3, .evicted = 4, .expired = 5, .open = 6, .unauth = 7,
	    .lim = { .slots = 4096, .unauth = 256, .per_source = 64, .per_source_unauth = 16 } };
}

/* status only: the accounts listing leaves admission out. */
#define ADMISSION ",\"admission\":{\"slots\":4096,\"unauthenticated_slots\":256,\"per_source\":64," \
	"\"per_source_unauthenticated\":16,\"open\":6,\"handshakes_in_progress\":7," \
	"\"admitted\":5000000000,\"refused\":{\"source_share\":2,\"full\":3}," \
	"\"evicted\":{\"make_room\":4,\"login_timeout\":5}}"


static void test_status(void)
{
	struct authority_status_info st;

	example(&st);
	check_json(authority_json_status(&st), "{\"domain\":\"example.com\",\"ca_fingerprint\":\"" FP_HEX "\","
	    "\"listen\":\"0.0.0.0:8788\",\"pool\":\"100.64.0.0\\/10\"" ADMISSION "}");
	CHECK_INT(udp_addr_parse("[2001:db8::10]:9000", &st.listen), 0);
	check_json(authority_json_status(&st), "{\"domain\":\"example.com\",\"ca_fingerprint\":\"" FP_HEX "\","
	    "\"listen\":\"[2001:db8::10]:9000\",\"pool\":\"100.64.0.0\\/10\"" ADMISSION "}");
}

static void test_accounts(void)
{
	struct authority_status_info st;
	struct authority_account_info as[2];
	json_object *j, *arr, *v;

	example(&st);
	check_json(authority_json_accounts(&st, NULL, 0), "{\"domain\":\"example.com\",\"ca_fingerprint\":\""
	    FP_HEX "\",\"listen\":\"0.0.0.0:8788\",\"pool\":\"100.64.0.0\\/10\",\"accounts\":[]}");
	memset(as, 0, sizeof(as));
	strcpy(as[0].identity, "alice@example.com");
	as[0].v4[0] = 100;
	as[0].v4[1] = 64;
	as[0].v4[3] = 1;
	as[0].revoked = 1;
	strcpy(as[1].identity, "bob@example.com");
	as[1].v4[0] = 100;
	as[1].v4[1] = 64;
	as[1].v4[3] = 2;
	as[1].cert_not_after = 1800000000;
	check_json(authority_json_accounts(&st, as, 2), "{\"domain\":\"example.com\",\"ca_fingerprint\":\""
	    FP_HEX "\",\"listen\":\"0.0.0.0:8788\",\"pool\":\"100.64.0.0\\/10\",\"accounts\":["
	    "{\"identity\":\"alice@example.com\",\"ipv4\":\"100.64.0.1\",\"revoked\":true,\"cert_expires\":0},"
	    "{\"identity\":\"bob@example.com\",\"ipv4\":\"100.64.0.2\",\"revoked\":false,"
	    "\"cert_expires\":1800000000}]}");
	/* An expiry is an integer even when no certificate is live. */
	j = authority_json_accounts(&st, as, 1);
	CHECK(json_object_object_get_ex(j, "accounts", &arr));
	CHECK(json_object_object_get_ex(json_object_array_get_idx(arr, 0), "cert_expires", &v));
	CHECK(json_object_is_type(v, json_type_int));
	json_object_put(j);
}

static void test_invite_and_revoke(void)
{
	check_json(authority_json_invite("alice@example.com", "tok_EN-123", 1800086400),
	    "{\"identity\":\"alice@example.com\",\"token\":\"tok_EN-123\",\"expires\":1800086400}");
	check_json(authority_json_revoked("alice@example.com"),
	    "{\"identity\":\"alice@example.com\",\"revoked\":true}");
}

int main(void)
{
	RUN(test_status);
	RUN(test_accounts);
	RUN(test_invite_and_revoke);
	return HARNESS_END();
}
