/*
 * The node's state file (nodestate.h). It stays JSON, the format nodes
 * enrolled so far have on disk, so that an upgrade keeps their
 * enrollment; this file is the only part of the node that reads or
 * writes it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "identity/file.h"
#include "tund/conf/config.h"
#include "tund/conf/nodestate.h"

#define NODESTATE_FILE	"node.json"
#define NODESTATE_MAX	65536

static void nodestate_path(const char *dir, char *path, size_t len)
{
	snprintf(path, len, "%s/" NODESTATE_FILE, dir);
}

/* A string member of o that fits in cap bytes, copied to out. */
static int nodestate_str(json_object *o, const char *key, char *out, size_t cap)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string) ||
	    (size_t)json_object_get_string_len(v) >= cap)
		return -EINVAL;
	memcpy(out, json_object_get_string(v), (size_t)json_object_get_string_len(v) + 1);
	return 0;
}

int nodestate_load(const char *dir, struct nodestate *out, char *err, size_t errlen)
{
	char path[CONFIG_PATH_MAX + 32];
	uint8_t *buf = NULL;
	size_t len;
	json_object *o = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	nodestate_path(dir, path, sizeof(path));
	rc = file_read_all(path, NODESTATE_MAX, &buf, &len);
	if (rc < 0)
		goto out;
	/* file_read_all leaves a NUL after the data. */
	o = json_tokener_parse((const char *)buf);
	rc = -EINVAL;
	if (!o || nodestate_str(o, "authority", out->authority, sizeof(out->authority)) < 0)
		goto out;
	/* The identity is also in the certificate, which is what counts. */
	if (nodestate_str(o, "identity", out->identity, sizeof(out->identity)) < 0)
		out->identity[0] = 0;
	rc = 0;
out:
	if (rc < 0)
		snprintf(err, errlen, "cannot load node state from %s: %s", path, strerror(-rc));
	json_object_put(o);
	free(buf);
	return rc;
}

int nodestate_save(const char *dir, const struct nodestate *st)
{
	char path[CONFIG_PATH_MAX + 32];
	json_object *o = json_object_new_object();
	const char *s;
	int rc = -ENOMEM;

	if (!o)
		return rc;
	json_object_object_add(o, "identity", json_object_new_string(st->identity));
	json_object_object_add(o, "authority", json_object_new_string(st->authority));
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY);
	if (s) {
		nodestate_path(dir, path, sizeof(path));
		rc = file_write_atomic(path, s, strlen(s), 0600);
	}
	json_object_put(o);
	return rc;
}
