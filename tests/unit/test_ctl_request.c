/*
 * The control request parser (tund/ctl/request.c): one JSON object with a
 * "cmd" string, nothing after it, and no string a handler would see cut
 * short at an embedded NUL.
 */
#include <errno.h>
#include <string.h>

#include "tests/unit/harness.h"
#include "tund/ctl/request.h"

static int parse(const char *s, const char **cmd, json_object **obj)
{
	char why[128] = "";
	int rc = ctl_request_parse(s, strlen(s), obj, cmd, why, sizeof(why));

	if (rc < 0)
		CHECK(why[0] != '\0');
	return rc;
}

static void test_request_ok(void)
{
	const char *cmd, *id;
	json_object *o;
	char why[128];

	CHECK_INT(parse("{\"cmd\":\"resolve\",\"identity\":\"bob@example.com\"}\n", &cmd, &o), 0);
	CHECK_STR(cmd, "resolve");
	CHECK_INT(ctl_request_arg_str(o, "identity", 1, &id, why, sizeof(why)), 0);
	CHECK_STR(id, "bob@example.com");
	CHECK_INT(ctl_request_arg_str(o, "token", 0, &id, why, sizeof(why)), 0);
	CHECK(id == NULL);
	CHECK_INT(ctl_request_arg_str(o, "token", 1, &id, why, sizeof(why)), -EINVAL);
	json_object_put(o);
}

static void test_request_refused(void)
{
	static const char *const bad[] = {
		"", "[]", "\"status\"", "{\"cmd\":1}", "{}", "{\"cmd\":\"status\"",
		/* a second object or trailing bytes were silently ignored */
		"{\"cmd\":\"status\"}{\"cmd\":\"down\"}",
		"{\"cmd\":\"status\"} x",
		/* "status\0down" acted as "status" */
		"{\"cmd\":\"status\\u0000down\"}",
	};
	const char *cmd;
	json_object *o;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o = (json_object *)1;
		if (parse(bad[i], &cmd, &o) != -EINVAL)
			H_FAIL("accepted: %s", bad[i]);
		CHECK(o == NULL);
		CHECK(cmd == NULL);
	}
}

static void test_arg_refused(void)
{
	const char *cmd, *id;
	json_object *o;
	char why[128] = "", big[1100];

	CHECK_INT(parse("{\"cmd\":\"whois\",\"address\":\"100.64.0.1\\u0000x\",\"n\":5}",
			&cmd, &o), 0);
	CHECK_INT(ctl_request_arg_str(o, "address", 1, &id, why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "'address'") != NULL);
	CHECK_INT(ctl_request_arg_str(o, "n", 1, &id, why, sizeof(why)), -EINVAL);
	json_object_put(o);
	memset(big, 'a', sizeof(big));
	memcpy(big, "{\"cmd\":\"x\",\"a\":\"", 16);
	big[sizeof(big) - 3] = '"';
	big[sizeof(big) - 2] = '}';
	big[sizeof(big) - 1] = '\0';
	CHECK_INT(parse(big, &cmd, &o), 0);
	CHECK_INT(ctl_request_arg_str(o, "a", 1, &id, why, sizeof(why)), -EINVAL);
	json_object_put(o);
}

int main(void)
{
	RUN(test_request_ok);
	RUN(test_request_refused);
	RUN(test_arg_refused);
	return HARNESS_END();
}
