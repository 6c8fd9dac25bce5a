/*
 * The trust store: pins, trust on first use, refusal of a changed CA, and
 * persistence across close and reopen, including a store edited behind
 * our back.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "identity/cert.h"
#include "identity/key.h"
#include "identity/trust.h"
#include "tests/unit/harness.h"

static char base[64], dir[128];
static char err[512];
static uint8_t *ca1, *ca2, *ca_other;  /* two example.com CAs, one other.org */
static size_t ca1_len, ca2_len, ca_other_len;

static void new_dir(const char *name)
{
	snprintf(dir, sizeof(dir), "%s/%s", base, name);
}

static void setup(void)
{
	struct id_key *k;

	strcpy(base, "/tmp/q2q-test-trust-XXXXXX");
	if (!mkdtemp(base))
		abort();
	if (cert_ca_create("example.com", 30, &k, &ca1, &ca1_len))
		abort();
	key_free(k);
	if (cert_ca_create("example.com", 30, &k, &ca2, &ca2_len))
		abort();
	key_free(k);
	if (cert_ca_create("other.org", 30, &k, &ca_other, &ca_other_len))
		abort();
	key_free(k);
}

static void teardown(void)
{
	char cmd[128];

	free(ca1);
	free(ca2);
	free(ca_other);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", base);
}

static int count_cb(const char *domain, const uint8_t *der, size_t len,
		    void *arg)
{
	(*(int *)arg)++;
	return (domain && der && len) ? 0 : -1;
}

static int stop_cb(const char *domain, const uint8_t *der, size_t len,
		   void *arg)
{
	return 7;
}

static void test_pin(void)
{
	struct trust_store *ts;
	uint8_t fp1[32], fp2[32];
	const uint8_t *der;
	size_t len;
	struct stat st;

	new_dir("pin");
	CHECK_INT(trust_open(dir, &ts), 0);
	if (!ts)
		return;
	CHECK_INT(stat(dir, &st), 0);
	CHECK_INT(st.st_mode & 0777, 0700);
	cert_fingerprint(ca1, ca1_len, fp1);
	cert_fingerprint(ca2, ca2_len, fp2);

	CHECK_INT(trust_pin(ts, "example.com", fp1), 0);
	CHECK_INT(trust_pin(ts, "example.com", fp1), 0);       /* idempotent */
	CHECK_INT(trust_pin(ts, "example.com", fp2), -EEXIST);
	CHECK_INT(trust_pin(ts, "Example.com", fp1), -EINVAL);
	CHECK_INT(trust_pin(ts, "../../etc", fp1), -EINVAL);
	CHECK_INT(trust_get(ts, "example.com", &der, &len), -ENOENT);

	/* Another CA for the pinned domain: refused, even with TOFU. */
	CHECK_INT(trust_check(ts, "example.com", ca2, ca2_len, 1, err,
			      sizeof(err)), TRUST_MISMATCH);
	CHECK(strstr(err, "does not match its pin"));
	/* The pinned one matches and is then stored. */
	CHECK_INT(trust_check(ts, "example.com", ca1, ca1_len, 0, err,
			      sizeof(err)), TRUST_MATCH);
	CHECK_INT(trust_get(ts, "example.com", &der, &len), 0);
	CHECK_INT(len, ca1_len);
	CHECK_MEM(der, ca1, ca1_len);
	CHECK_INT(trust_check(ts, "example.com", ca2, ca2_len, 1, err,
			      sizeof(err)), TRUST_MISMATCH);
	CHECK(strstr(err, "changed"));
	trust_free(ts);

	/* Reopened: pin and certificate are still there. */
	CHECK_INT(trust_open(dir, &ts), 0);
	if (!ts)
		return;
	CHECK_INT(trust_get(ts, "example.com", &der, &len), 0);
	CHECK_INT(trust_check(ts, "example.com", ca1, ca1_len, 0, err,
			      sizeof(err)), TRUST_MATCH);
	CHECK_INT(trust_check(ts, "example.com", ca2, ca2_len, 1, err,
			      sizeof(err)), TRUST_MISMATCH);
	CHECK_INT(trust_pin(ts, "example.com", fp2), -EEXIST);
	trust_free(ts);
}

static void test_tofu(void)
{
	struct trust_store *ts;
	const uint8_t *der;
	size_t len;
	int n = 0;
	char path[256];
	struct stat st;

	new_dir("tofu");
	CHECK_INT(trust_open(dir, &ts), 0);
	if (!ts)
		return;
	/* Without TOFU an unknown domain stays unknown and nothing is kept. */
	CHECK_INT(trust_check(ts, "example.com", ca1, ca1_len, 0, err,
			      sizeof(err)), TRUST_UNKNOWN);
	CHECK(strstr(err, "no CA known for example.com"));
	CHECK_INT(trust_get(ts, "example.com", &der, &len), -ENOENT);

	CHECK_INT(trust_check(ts, "example.com", ca1, ca1_len, 1, err,
			      sizeof(err)), TRUST_LEARNED);
	CHECK_INT(trust_check(ts, "example.com", ca1, ca1_len, 1, err,
			      sizeof(err)), TRUST_MATCH);
	CHECK_INT(trust_check(ts, "example.com", ca2, ca2_len, 1, err,
			      sizeof(err)), TRUST_MISMATCH);
	/* The CA must be for the domain it is offered for. */
	CHECK_INT(trust_check(ts, "other.org", ca1, ca1_len, 1, err,
			      sizeof(err)), TRUST_MISMATCH);
	CHECK(strstr(err, "is for 'example.com', expected 'other.org'"));
	CHECK_INT(trust_check(ts, "other.org", ca_other, ca_other_len, 1, err,
			      sizeof(err)), TRUST_LEARNED);
	CHECK_INT(trust_foreach(ts, count_cb, &n), 0);
	CHECK_INT(n, 2);
	CHECK_INT(trust_foreach(ts, stop_cb, NULL), 7);
	trust_free(ts);

	snprintf(path, sizeof(path), "%s/example.com.pin", dir);
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_size, 65);
	snprintf(path, sizeof(path), "%s/example.com.der", dir);
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_size, ca1_len);

	/* Persisted: the learned CA still matches, the other still refused. */
	CHECK_INT(trust_open(dir, &ts), 0);
	if (!ts)
		return;
	CHECK_INT(trust_check(ts, "example.com", ca1, ca1_len, 0, err,
			      sizeof(err)), TRUST_MATCH);
	CHECK_INT(trust_check(ts, "example.com", ca2, ca2_len, 1, err,
			      sizeof(err)), TRUST_MISMATCH);
	CHECK_INT(trust_get(ts, "other.org", &der, &len), 0);
	CHECK_MEM(der, ca_other, ca_other_len);
	trust_free(ts);
}

static void test_invalid_offers(void)
{
	struct trust_store *ts;
	uint8_t *bad;

	new_dir("invalid");
	CHECK_INT(trust_open(dir, &ts), 0);
	if (!ts)
		return;
	bad = malloc(ca1_len);
	memcpy(bad, ca1, ca1_len);
	bad[ca1_len - 5] ^= 1;          /* breaks the self-signature */
	CHECK_INT(trust_check(ts, "example.com", bad, ca1_len, 1, err,
			      sizeof(err)), TRUST_MISMATCH);
	CHECK(strstr(err, "invalid"));
	CHECK_INT(trust_check(ts, "example.com", bad, 10, 1, err,
			      sizeof(err)), TRUST_MISMATCH);
	CHECK_INT(trust_check(ts, "not a domain", ca1, ca1_len, 1, err,
			      sizeof(err)), TRUST_MISMATCH);
	free(bad);
	/* Nothing was learned from any of that. */
	CHECK_INT(trust_check(ts, "example.com", ca1, ca1_len, 0, err,
			      sizeof(err)), TRUST_UNKNOWN);
	trust_free(ts);
}

static void write_file(const char *name, const void *buf, size_t len)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	CHECK_INT(file_write_atomic(path, buf, len, 0644), 0);
}

static void test_edited_store(void)
{
	struct trust_store *ts = NULL;
	uint8_t fp2[32];
	char line[66];

	new_dir("edited");
	CHECK_INT(trust_open(dir, &ts), 0);
	trust_free(ts);
	/* Stray files are ignored. */
	write_file("README", "hi", 2);
	write_file("example.com.der.tmp-1-2", "junk", 4);
	write_file("Bad_Name.der", "junk", 4);
	CHECK_INT(trust_open(dir, &ts), 0);
	trust_free(ts);

	/* A .der and a .pin that disagree make the store unusable. */
	write_file("example.com.der", ca1, ca1_len);
	cert_fingerprint(ca2, ca2_len, fp2);
	cert_fingerprint_hex(fp2, line);
	line[64] = '\n';
	write_file("example.com.pin", line, 65);
	ts = NULL;
	CHECK_INT(trust_open(dir, &ts), -EBADMSG);
	CHECK(ts == NULL);
	/* A garbled pin too. */
	write_file("example.com.pin", "zz\n", 3);
	CHECK_INT(trust_open(dir, &ts), -EBADMSG);
	/* A .der that is not that domain's CA. */
	{
		char path[256];

		snprintf(path, sizeof(path), "%s/example.com.pin", dir);
		unlink(path);
	}
	write_file("example.com.der", ca_other, ca_other_len);
	CHECK_INT(trust_open(dir, &ts), -EBADMSG);
	/* Path is a file, not a directory. */
	{
		char path[256];

		snprintf(path, sizeof(path), "%s/README", dir);
		CHECK_INT(trust_open(path, &ts), -ENOTDIR);
	}
}

static char seen_src[64];
static int64_t seen_since;

static void list_cb(const struct trust_info *ti, void *arg)
{
	if (strcmp(ti->domain, arg) == 0) {
		snprintf(seen_src, sizeof(seen_src), "%s", trust_source_name(ti->source));
		seen_since = ti->since;
	}
}

/* How a CA was learned survives a reopen; forget removes it for good. */
static void test_sources_forget(void)
{
	struct trust_store *ts;
	uint8_t fp[32];

	new_dir("src");
	CHECK_INT(trust_open(dir, &ts), 0);
	CHECK_INT(trust_learn(ts, "example.com", ca1, ca1_len, TRUST_SRC_DNSSEC, 1700000000, err,
			      sizeof(err)), TRUST_LEARNED);
	/* a different CA for a learned domain is refused, not learned */
	CHECK_INT(trust_learn(ts, "example.com", ca2, ca2_len, TRUST_SRC_DNSSEC, 1700000001, err,
			      sizeof(err)), TRUST_MISMATCH);
	cert_fingerprint(ca_other, ca_other_len, fp);
	CHECK_INT(trust_pin_from(ts, "other.org", fp, TRUST_SRC_MANUAL, 1700000002), 0);
	trust_free(ts);

	CHECK_INT(trust_open(dir, &ts), 0);
	seen_src[0] = 0;
	trust_list(ts, list_cb, "example.com");
	CHECK_STR(seen_src, "dnssec");
	CHECK_INT(seen_since, 1700000000);
	trust_list(ts, list_cb, "other.org");
	CHECK_STR(seen_src, "manual");
	CHECK_INT(seen_since, 1700000002);
	CHECK(trust_known(ts, "example.com"));
	CHECK_INT(trust_forget(ts, "example.com"), 0);
	CHECK(!trust_known(ts, "example.com"));
	CHECK_INT(trust_forget(ts, "example.com"), -ENOENT);
	/* forgotten: another CA may now be learned */
	CHECK_INT(trust_check(ts, "example.com", ca2, ca2_len, 1, err, sizeof(err)), TRUST_LEARNED);
	trust_list(ts, list_cb, "example.com");
	CHECK_STR(seen_src, "first-use");
	trust_free(ts);
	CHECK_INT(trust_open(dir, &ts), 0);
	CHECK_INT(trust_check(ts, "example.com", ca1, ca1_len, 1, err, sizeof(err)), TRUST_MISMATCH);
	CHECK_INT(trust_forget(ts, "example.com"), 0);
	trust_free(ts);
	CHECK_INT(trust_open(dir, &ts), 0);
	CHECK(!trust_known(ts, "example.com"));
	CHECK(trust_known(ts, "other.org"));
	trust_free(ts);
}

int main(void)
{
	setup();
	RUN(test_pin);
	RUN(test_tofu);
	RUN(test_invalid_offers);
	RUN(test_edited_store);
	RUN(test_sources_forget);
	teardown();
	return HARNESS_END();
}
