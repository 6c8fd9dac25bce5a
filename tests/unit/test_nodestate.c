/* The node's state file (tund/conf/nodestate.c): the exact bytes it
 * writes, which are what earlier versions wrote and still read, and what
 * it refuses to load. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/harness.h"
#include "identity/file.h"
#include "tund/conf/nodestate.h"

#define FILE_TEXT "{\n  \"identity\":\"alice@example.com\",\n  \"authority\":\"192.0.2.10:8788\"\n}"

static char dir[64], path[96];

static void put(const char *text)
{
	CHECK_INT(file_write_atomic(path, text, strlen(text), 0600), 0);
}

static void test_save_and_load(void)
{
	struct nodestate st = { "alice@example.com", "192.0.2.10:8788" }, got;
	char err[256];
	uint8_t *buf = NULL;
	size_t len = 0;

	CHECK_INT(nodestate_save(dir, &st), 0);
	CHECK_INT(file_read_all(path, 4096, &buf, &len), 0);
	CHECK_STR((const char *)buf, FILE_TEXT);
	free(buf);
	CHECK_INT(access(path, R_OK | W_OK), 0);
	CHECK_INT(nodestate_load(dir, &got, err, sizeof(err)), 0);
	CHECK_STR(got.identity, "alice@example.com");
	CHECK_STR(got.authority, "192.0.2.10:8788");
	/* Written by hand or by another JSON writer: still read. */
	put("{ \"authority\": \"[2001:db8::10]:8788\" }\n");
	CHECK_INT(nodestate_load(dir, &got, err, sizeof(err)), 0);
	CHECK_STR(got.identity, "");
	CHECK_STR(got.authority, "[2001:db8::10]:8788");
}

static void test_refused(void)
{
	static const char *bad[] = {
		"",
		"not json",
		"{\"identity\":\"alice@example.com\"}",
		"{\"authority\":8788}",
		"[\"192.0.2.10:8788\"]",
		"{\"authority\":\"1234567890123456789012345678901234567890123456789012345678901234567890\"}",
	};
	struct nodestate got;
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put(bad[i]);
		CHECK_INT(nodestate_load(dir, &got, err, sizeof(err)), -EINVAL);
		CHECK(strstr(err, "cannot load node state from ") && strstr(err, "/node.json"));
	}
	unlink(path);
	CHECK_INT(nodestate_load(dir, &got, err, sizeof(err)), -ENOENT);
	CHECK(strstr(err, "No such file") != NULL);
}

int main(void)
{
	int rc;

	snprintf(dir, sizeof(dir), "/tmp/q2q-nodestate.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/node.json", dir);
	RUN(test_save_and_load);
	RUN(test_refused);
	rc = HARNESS_END();
	unlink(path);
	rmdir(dir);
	return rc;
}
