/*
 * Fuzz target for the control request parser (tund/ctl/request.c): the
 * bytes a local client writes to the control socket. What parses must be
 * one JSON object whose "cmd" is a string without NUL; printing the object
 * and parsing it again must give the same command (json-c's output is
 * what q2qctl's own requests look like); every argument a handler asks for
 * must come back as a NUL-free string within the cap, or be refused with
 * a reason; a refused request must leave nothing allocated (LeakSanitizer
 * checks) and say why.
 */
#include <errno.h>

#include "tests/fuzz/fuzz.h"
#include "tund/ctl/request.h"

/* The argument names the handlers in tund/ctl/commands.c ask for. */
static const char *const keys[] = {
	"identity", "authority", "token", "ca_fingerprint", "address", "cmd",
};

static void check_args(json_object *o)
{
	char why[128];

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		for (int req = 0; req < 2; req++) {
			const char *v = (const char *)1;
			int rc;

			why[0] = '\0';
			rc = ctl_request_arg_str(o, keys[i], req, &v, why, sizeof(why));
			FZ_CHECK(rc == 0 || rc == -EINVAL);
			if (rc < 0) {
				FZ_CHECK(v == NULL && why[0] != '\0');
				continue;
			}
			FZ_CHECK(v != NULL || !req);
			if (v)
				FZ_CHECK(strlen(v) <= CTL_ARG_MAX);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = (char *)fz_dup(data, size), why[128] = "";
	json_object *o = (json_object *)1, *o2;
	const char *cmd = (const char *)1, *cmd2, *s;
	int rc;

	rc = ctl_request_parse(buf, size, &o, &cmd, why, sizeof(why));
	FZ_CHECK(rc == 0 || rc == -EINVAL);
	if (rc < 0) {
		FZ_CHECK(o == NULL && cmd == NULL && why[0] != '\0');
		goto out;
	}
	FZ_CHECK(json_object_is_type(o, json_type_object));
	FZ_CHECK(cmd && strlen(cmd) == (size_t)json_object_get_string_len(
		json_object_object_get(o, "cmd")));
	check_args(o);
	/* The same request as q2qctl would write it parses to the same command. */
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	FZ_CHECK(ctl_request_parse(s, strlen(s), &o2, &cmd2, why, sizeof(why)) == 0);
	FZ_CHECK(strcmp(cmd, cmd2) == 0);
	json_object_put(o2);
	json_object_put(o);
out:
	free(buf);
	return 0;
}

static void seeds(const char *dir)
{
	static const char *const s[][2] = {
		{ "status", "{\"cmd\":\"status\"}\n" },
		{ "enroll", "{\"cmd\":\"enroll\",\"identity\":\"alice@example.com\","
			    "\"authority\":\"192.0.2.1:8788\",\"token\":\"abc\","
			    "\"ca_fingerprint\":null}" },
		{ "whois", "{ \"cmd\": \"whois\", \"address\": \"100.64.0.7\" }" },
		{ "ping", "{\"cmd\":\"ping\",\"identity\":\"bob@example.com\",\"n\":[1,2.5,{}]}" },
		{ "escapes", "{\"cmd\":\"resolve\",\"identity\":\"b\\u00e9b\\\"@x\"}" },
	};

	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		fz_write_seed(dir, s[i][0], s[i][1], strlen(s[i][1]));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fz_seed_mode(seeds);
	return 0;
}
