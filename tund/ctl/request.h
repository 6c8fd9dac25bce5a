/*
 * The control request's bytes turned into a command and its arguments,
 * apart from the socket that carried them (control.c) and the handlers
 * that act on them (commands.c), so the parser can be tested and fuzzed
 * on its own. A request is one JSON object with a "cmd" string; any other
 * member is an argument the command's handler asks for by name.
 */
#ifndef Q2Q_CTL_REQUEST_H
#define Q2Q_CTL_REQUEST_H

#include <json-c/json.h>
#include <stddef.h>

/* Longest string argument a handler accepts (an identity, an address). */
#define CTL_ARG_MAX 1024

/*
 * Parses len bytes (buf need not be NUL-terminated). 0 with *obj (the
 * caller's, json_object_put) and *cmd (owned by *obj), or -EINVAL with the
 * reason in why: not JSON, not one object (trailing bytes other than white
 * space included), or no "cmd" string.
 */
int ctl_request_parse(const char *buf, size_t len, json_object **obj,
		      const char **cmd, char *why, size_t whylen);

/*
 * The string argument key of args: 0 and *out (owned by args; NULL when
 * absent or null and not required), or -EINVAL with the reason in why.
 */
int ctl_request_arg_str(json_object *args, const char *key, int required,
			const char **out, char *why, size_t whylen);

#endif
