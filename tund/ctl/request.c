/*
 * Control request parsing (see request.h): json-c does the JSON, this file
 * the rules on top of it. The tokener is given the length, not a C
 * string, and must consume the whole request: "{...}{...}" or "{...}x"
 * is refused rather than silently acting on the first object.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tund/ctl/request.h"

/*
 * JSON strings may hold "\u0000"; the handlers see C strings, so
 * "status\u0000x" would act as "status" and an identity would be cut
 * short without anyone noticing. Such strings are refused.
 */
static int ctl_has_nul(json_object *s)
{
	return strlen(json_object_get_string(s)) != (size_t)json_object_get_string_len(s);
}

int ctl_request_parse(const char *buf, size_t len, json_object **obj,
		      const char **cmd, char *why, size_t whylen)
{
	json_tokener *tok = NULL;
	json_object *o = NULL, *c;
	size_t used;
	int rc = -EINVAL;

	*obj = NULL;
	*cmd = NULL;
	if (len > (size_t)INT32_MAX || !(tok = json_tokener_new())) {
		snprintf(why, whylen, "control request cannot be parsed");
		goto out;
	}
	o = json_tokener_parse_ex(tok, buf, (int)len);
	if (!o || json_tokener_get_error(tok) != json_tokener_success ||
	    !json_object_is_type(o, json_type_object)) {
		snprintf(why, whylen, "control request is not a JSON object");
		goto out;
	}
	for (used = json_tokener_get_parse_end(tok); used < len; used++)
		if (!isspace((unsigned char)buf[used]))
			break;
	if (used < len) {
		snprintf(why, whylen, "control request has bytes after its JSON object");
		goto out;
	}
	if (!json_object_object_get_ex(o, "cmd", &c) ||
	    !json_object_is_type(c, json_type_string) || ctl_has_nul(c)) {
		snprintf(why, whylen, "control request has no \"cmd\" string");
		goto out;
	}
	*cmd = json_object_get_string(c);
	*obj = o;
	o = NULL;
	rc = 0;
out:
	json_object_put(o);
	if (tok)
		json_tokener_free(tok);
	return rc;
}

int ctl_request_arg_str(json_object *args, const char *key, int required,
			const char **out, char *why, size_t whylen)
{
	json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(args, key, &v) || json_object_is_type(v, json_type_null)) {
		if (!required)
			return 0;
		snprintf(why, whylen, "missing argument '%s'", key);
		return -EINVAL;
	}
	if (!json_object_is_type(v, json_type_string) ||
	    json_object_get_string_len(v) > CTL_ARG_MAX || ctl_has_nul(v)) {
		snprintf(why, whylen, "argument '%s' must be a string", key);
		return -EINVAL;
	}
	*out = json_object_get_string(v);
	return 0;
}
