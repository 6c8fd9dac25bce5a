/*
 * tund/node/domtrust.c: what a node accepts for another domain's CA under
 * each trust policy, from what DNS said (fed in with domtrust_note):
 * pins win, a validated TLSA must name the CA, an unsigned answer or a
 * failed lookup is refused with its reason under "dnssec", first use
 * takes what comes, "pinned" takes nothing; refusals pin nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "identity/cert.h"
#include "identity/key.h"
#include "identity/trust.h"
#include "tund/conf/config.h"
#include "tund/node/domtrust.h"
#include "tests/unit/harness.h"

static char base[64], err[1024];
static uint8_t *ca1, *ca2;	/* two example.org CAs */
static size_t ca1_len, ca2_len;

static void mkca(uint8_t **der, size_t *len)
{
	struct id_key *k;

	if (cert_ca_create("example.org", 30, &k, der, len))
		abort();
	key_free(k);
}

static const char *src_of(struct trust_store *ts, const char *domain);
static char src_buf[32];

static void src_cb(const struct trust_info *ti, void *arg)
{
	if (strcmp(ti->domain, arg) == 0)
		snprintf(src_buf, sizeof(src_buf), "%s", trust_source_name(ti->source));
}

static const char *src_of(struct trust_store *ts, const char *domain)
{
	snprintf(src_buf, sizeof(src_buf), "none");
	trust_list(ts, src_cb, (void *)domain);
	return src_buf;
}

static void answer(struct discover_answer *a, int secure, const uint8_t *ca, size_t len)
{
	memset(a, 0, sizeof(*a));
	a->domain = "example.org";
	a->secure = secure;
	snprintf(a->target, sizeof(a->target), "auth.example.org");
	snprintf(a->tlsa_name, sizeof(a->tlsa_name), "_8788._tcp.auth.example.org");
	if (!secure)
		snprintf(a->insecure_why, sizeof(a->insecure_why),
		    "SRV _q2q._tcp.example.org. is not DNSSEC-signed (insecure zone)");
	if (ca) {
		a->ntlsa = 1;
		a->tlsa[0].usage = 2;
		a->tlsa[0].mtype = 1;
		a->tlsa[0].len = 32;
		cert_fingerprint(ca, len, a->tlsa[0].data);
	}
}

static int got_err;
static char got_why[512];

static void got(void *arg, int e, const char *why, const struct discover_answer *a)
{
	got_err = e;
	snprintf(got_why, sizeof(got_why), "%s", why ? why : "");
}

/* A name from the network that is no domain is never asked for. */
static void test_bad_name(void)
{
	struct config cfg;
	struct trust_store *ts;
	struct domtrust *dt;
	char dir[128];

	snprintf(dir, sizeof(dir), "%s/b", base);
	config_defaults(&cfg);
	cfg.trust_policy = CONFIG_TRUST_PINNED;
	CHECK_INT(trust_open(dir, &ts), 0);
	CHECK_INT(domtrust_init(NULL, &cfg, ts, &dt, err, sizeof(err)), 0);
	domtrust_discover(dt, "Example..org", got, NULL);
	CHECK_INT(got_err, -EINVAL);
	CHECK(strstr(got_why, "not looked up in DNS") != NULL);
	domtrust_discover(dt, "example.org", got, NULL);
	CHECK_INT(got_err, -EPERM);
	CHECK(strstr(got_why, "pinned") != NULL);
	domtrust_free(dt);
	trust_free(ts);
}

static void test_policies(void)
{
	struct config cfg;
	struct trust_store *ts;
	struct domtrust *dt;
	struct discover_answer a;
	char dir[128];

	snprintf(dir, sizeof(dir), "%s/t", base);
	config_defaults(&cfg);
	/* No resolver is started under "pinned"; the policy is read at each
	 * judgement, so the others are tried by changing it afterwards. */
	cfg.trust_policy = CONFIG_TRUST_PINNED;
	CHECK_INT(trust_open(dir, &ts), 0);
	CHECK_INT(domtrust_init(NULL, &cfg, ts, &dt, err, sizeof(err)), 0);

	CHECK_INT(domtrust_judge(dt, "example.org", ca1, ca1_len, "authority X", err, sizeof(err)), -EPERM);
	CHECK(strstr(err, "no pin") != NULL);

	cfg.trust_policy = CONFIG_TRUST_DNSSEC;
	/* No resolver here (made under "pinned"): nothing to wait for. */
	CHECK_INT(domtrust_judge(dt, "example.org", ca1, ca1_len, "authority X", err, sizeof(err)), -EPERM);
	CHECK(strstr(err, "DNS cannot be asked") != NULL);
	domtrust_note(dt, "example.org", -ENOENT, "example.org: no SRV record _q2q._tcp.example.org.", NULL);
	CHECK_INT(domtrust_judge(dt, "example.org", ca1, ca1_len, "authority X", err, sizeof(err)), -EPERM);
	CHECK(strstr(err, "no SRV record") != NULL);
	answer(&a, 0, ca1, ca1_len);	/* unsigned: its TLSA proves nothing */
	domtrust_note(dt, "example.org", 0, NULL, &a);
	CHECK_INT(domtrust_judge(dt, "example.org", ca1, ca1_len, "authority X", err, sizeof(err)), -EPERM);
	CHECK(strstr(err, "not DNSSEC-signed") != NULL);
	answer(&a, 1, NULL, 0);
	domtrust_note(dt, "example.org", 0, NULL, &a);
	CHECK_INT(domtrust_judge(dt, "example.org", ca1, ca1_len, "authority X", err, sizeof(err)), -EPERM);
	CHECK(strstr(err, "no TLSA record") != NULL);
	answer(&a, 1, ca1, ca1_len);
	domtrust_note(dt, "example.org", 0, NULL, &a);
	CHECK_INT(domtrust_judge(dt, "example.org", ca2, ca2_len, "authority X", err, sizeof(err)), -EPERM);
	CHECK(strstr(err, "TLSA mismatch: authority X presented CA") != NULL);
	CHECK_STR(src_of(ts, "example.org"), "none");
	CHECK_INT(domtrust_judge(dt, "example.org", ca1, ca1_len, "authority X", err, sizeof(err)), 0);
	CHECK_STR(src_of(ts, "example.org"), "dnssec");
	/* learned: a later CA is a change, whatever DNS says then */
	answer(&a, 1, ca2, ca2_len);
	domtrust_note(dt, "example.org", 0, NULL, &a);
	CHECK_INT(domtrust_judge(dt, "example.org", ca2, ca2_len, "authority X", err, sizeof(err)), -EPERM);
	CHECK(strstr(err, "CA changed") != NULL);
	CHECK_INT(domtrust_judge(dt, "example.org", ca1, ca1_len, "authority X", err, sizeof(err)), 0);

	/* first use: an unsigned or absent answer still lets the first CA in */
	CHECK_INT(trust_forget(ts, "example.org"), 0);
	cfg.trust_policy = CONFIG_TRUST_FIRST_USE;
	answer(&a, 0, NULL, 0);
	domtrust_note(dt, "example.org", 0, NULL, &a);
	CHECK_INT(domtrust_judge(dt, "example.org", ca2, ca2_len, "authority X", err, sizeof(err)), 0);
	CHECK_STR(src_of(ts, "example.org"), "first-use");
	/* ... but never over a validated TLSA that names another CA */
	CHECK_INT(trust_forget(ts, "example.org"), 0);
	answer(&a, 1, ca1, ca1_len);
	domtrust_note(dt, "example.org", 0, NULL, &a);
	CHECK_INT(domtrust_judge(dt, "example.org", ca2, ca2_len, "authority X", err, sizeof(err)), -EPERM);
	CHECK_STR(src_of(ts, "example.org"), "none");

	domtrust_free(dt);
	trust_free(ts);
}

int main(void)
{
	char cmd[128];
	int rc;

	strcpy(base, "/tmp/q2q-test-domtrust-XXXXXX");
	if (!mkdtemp(base))
		abort();
	mkca(&ca1, &ca1_len);
	mkca(&ca2, &ca2_len);
	RUN(test_policies);
	RUN(test_bad_name);
	free(ca1);
	free(ca2);
	rc = HARNESS_END();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", base);
	return rc;
}
