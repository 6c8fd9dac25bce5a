/* The node's answers on the control socket (tund/ctl/node_json.c): the
 * exact JSON `q2qctl status/enroll/renew --json` print for given
 * snapshots, keys in order and value types, so scripts reading them keep
 * working. json-c escapes "/" as "\/", as the daemon sends it. */
#include <string.h>
#include <sys/socket.h>

#include "tests/unit/harness.h"
#include "identity/addr.h"
#include "tund/ctl/node_json.h"
#include "tund/node/node.h"

#define FP_HEX "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

static void check_json(json_object *j, const char *want)
{
	CHECK_STR(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN), want);
	json_object_put(j);
}

static void alice(struct node_status_info *st)
{
	static const uint8_t v6[16] = { 0xfd, 0xff, 0x8d, 0x98, [15] = 0x7e };

	memset(st, 0, sizeof(*st));
	st->enrolled = 1;
	strcpy(st->ci.identity, "alice@example.com");
	st->ci.v4[0] = 100;
	st->ci.v4[1] = 64;
	st->ci.v4[3] = 1;
	memcpy(st->ci.v6, v6, 16);
	strcpy(st->ci.serial, "748ceb704b552c59");
	st->ci.not_after = 1800000000;
	strcpy(st->authority, "192.0.2.10:8788");
	st->have_ca = 1;
	for (int i = 0; i < 32; i++)
		st->ca_fingerprint[i] = (uint8_t)i;
}

static json_object *status(const struct node_status_info *st)
{
	json_object *o = json_object_new_object();

	/* The daemon's own keys come first in q2qctl status. */
	json_object_object_add(o, "pid", json_object_new_int(1));
	node_json_status(st, o);
	return o;
}

static void test_not_enrolled(void)
{
	struct node_status_info st;

	memset(&st, 0, sizeof(st));
	/* Whatever else a snapshot holds, only "enrolled" is shown. */
	strcpy(st.ci.identity, "stale@example.com");
	check_json(status(&st), "{\"pid\":1,\"enrolled\":false}");
}

static void test_enrolled(void)
{
	struct node_status_info st;
	json_object *j, *v;

	alice(&st);
	check_json(status(&st), "{\"pid\":1,\"enrolled\":true,\"identity\":\"alice@example.com\","
	    "\"ipv4\":\"100.64.0.1\",\"ipv6\":\"fdff:8d98::7e\",\"cert_serial\":\"748ceb704b552c59\","
	    "\"cert_not_after\":1800000000,\"cert_expired\":false,\"authority\":\"192.0.2.10:8788\","
	    "\"ca_fingerprint\":\"" FP_HEX "\"}");
	/* Routes sit between authority and ca_fingerprint; an expired
	 * certificate is still shown; an unknown CA leaves its key out. */
	st.ci.n_routes = 2;
	CHECK_INT(addr_prefix_parse("203.0.113.0/24", &st.ci.routes[0]), 0);
	CHECK_INT(addr_prefix_parse("fd77::/64", &st.ci.routes[1]), 0);
	st.cert_expired = 1;
	check_json(status(&st), "{\"pid\":1,\"enrolled\":true,\"identity\":\"alice@example.com\","
	    "\"ipv4\":\"100.64.0.1\",\"ipv6\":\"fdff:8d98::7e\",\"cert_serial\":\"748ceb704b552c59\","
	    "\"cert_not_after\":1800000000,\"cert_expired\":true,\"authority\":\"192.0.2.10:8788\","
	    "\"routes\":[\"203.0.113.0\\/24\",\"fd77::\\/64\"],\"ca_fingerprint\":\"" FP_HEX "\"}");
	st.have_ca = 0;
	check_json(status(&st), "{\"pid\":1,\"enrolled\":true,\"identity\":\"alice@example.com\","
	    "\"ipv4\":\"100.64.0.1\",\"ipv6\":\"fdff:8d98::7e\",\"cert_serial\":\"748ceb704b552c59\","
	    "\"cert_not_after\":1800000000,\"cert_expired\":true,\"authority\":\"192.0.2.10:8788\","
	    "\"routes\":[\"203.0.113.0\\/24\",\"fd77::\\/64\"]}");
	j = status(&st);
	CHECK(json_object_object_get_ex(j, "cert_not_after", &v) && json_object_is_type(v, json_type_int));
	json_object_put(j);
}

static void test_done(void)
{
	struct node_status_info st;

	alice(&st);
	check_json(node_json_done(&st, "enrolled alice@example.com: 100.64.0.1, certificate valid until 1800000000"),
	    "{\"enrolled\":true,\"identity\":\"alice@example.com\",\"ipv4\":\"100.64.0.1\","
	    "\"ipv6\":\"fdff:8d98::7e\",\"cert_serial\":\"748ceb704b552c59\",\"cert_not_after\":1800000000,"
	    "\"cert_expired\":false,\"authority\":\"192.0.2.10:8788\",\"ca_fingerprint\":\"" FP_HEX "\","
	    "\"message\":\"enrolled alice@example.com: 100.64.0.1, certificate valid until 1800000000\"}");
}

int main(void)
{
	RUN(test_not_enrolled);
	RUN(test_enrolled);
	RUN(test_done);
	return HARNESS_END();
}
