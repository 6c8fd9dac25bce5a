/*
 * Tests for the authority's SQLite registry: one-time tokens (single use,
 * expiry, wrong identity, malformed text), IPv4 allocation (stable, unique,
 * pool edges, exhaustion, pool change), revocation and re-invitation, the
 * file's mode and that no token text ever reaches the disk. Each test works
 * in its own mkdtemp directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/hash.h>

#include "tests/unit/harness.h"
#include "tund/authority/registry.h"

static char tmpdir[64];
static char dbpath[128];

static void dir_setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/q2q-registry-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		exit(2);
	}
	snprintf(dbpath, sizeof(dbpath), "%s/registry.db", tmpdir);
}

static void dir_cleanup(void)
{
	static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
	char p[160];

	for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", dbpath, suffix[i]);
		unlink(p);
	}
	rmdir(tmpdir);
}

static struct registry *reg_open(const char *pool)
{
	struct registry *r = NULL;
	char err[256] = "";
	int rc = registry_open(dbpath, pool, &r, err, sizeof(err));

	if (rc)
		fprintf(stderr, "  registry_open: %d %s\n", rc, err);
	CHECK_INT(rc, 0);
	return r;
}

static uint32_t v4_u32(const uint8_t a[4])
{
	return (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 |
	       (uint32_t)a[2] << 8 | a[3];
}

/* Read a whole file; returns malloc'd bytes (caller frees), NULL if absent. */
static uint8_t *file_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	*len = 0;
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf && fread(buf, 1, (size_t)n, f) == (size_t)n)
			*len = (size_t)n;
	}
	fclose(f);
	return buf;
}

/* Does needle occur in the database file or its WAL? */
static int db_contains(const void *needle, size_t nlen)
{
	static const char *const suffix[] = { "", "-wal" };
	char p[160];
	int found = 0;

	for (size_t i = 0; i < 2; i++) {
		size_t len;
		uint8_t *buf;

		snprintf(p, sizeof(p), "%s%s", dbpath, suffix[i]);
		buf = file_read(p, &len);
		if (buf && memmem(buf, len, needle, nlen))
			found = 1;
		free(buf);
	}
	return found;
}

static void test_token_single_use(void)
{
	char tok[REGISTRY_TOKEN_LEN + 1];
	struct registry *r;

	dir_setup();
	r = reg_open("100.64.0.0/10");
	CHECK_INT(registry_token_create(r, "alice@example.com", 1000, 600, tok), 0);
	CHECK_INT(strlen(tok), REGISTRY_TOKEN_LEN);
	for (size_t i = 0; i < strlen(tok); i++)
		CHECK(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			     "0123456789-_", tok[i]) != NULL);
	CHECK_INT(registry_token_use(r, "alice@example.com", tok, 1001), 0);
	CHECK_INT(registry_token_use(r, "alice@example.com", tok, 1002), -EALREADY);
	registry_close(r);

	/* Used stays used across a restart. */
	r = reg_open("100.64.0.0/10");
	CHECK_INT(registry_token_use(r, "alice@example.com", tok, 1003), -EALREADY);
	registry_close(r);
	dir_cleanup();
}

static void test_token_two_handles(void)
{
	char tok[REGISTRY_TOKEN_LEN + 1];
	struct registry *a, *b;

	dir_setup();
	a = reg_open("100.64.0.0/10");
	b = reg_open("100.64.0.0/10");
	CHECK_INT(registry_token_create(a, "alice@example.com", 1000, 600, tok), 0);
	CHECK_INT(registry_token_use(b, "alice@example.com", tok, 1001), 0);
	CHECK_INT(registry_token_use(a, "alice@example.com", tok, 1001), -EALREADY);
	registry_close(a);
	registry_close(b);
	dir_cleanup();
}

static void test_token_expiry(void)
{
	char t1[REGISTRY_TOKEN_LEN + 1], t2[REGISTRY_TOKEN_LEN + 1];
	struct registry *r;

	dir_setup();
	r = reg_open("100.64.0.0/10");
	CHECK_INT(registry_token_create(r, "alice@example.com", 1000, 60, t1), 0);
	CHECK_INT(registry_token_create(r, "alice@example.com", 1000, 60, t2), 0);
	CHECK(strcmp(t1, t2) != 0);
	CHECK_INT(registry_token_use(r, "alice@example.com", t1, 1060), -ETIMEDOUT);
	CHECK_INT(registry_token_use(r, "alice@example.com", t1, 5000), -ETIMEDOUT);
	CHECK_INT(registry_token_use(r, "alice@example.com", t2, 1059), 0);
	CHECK_INT(registry_token_create(r, "alice@example.com", 1000, 0, t1), -EINVAL);
	CHECK_INT(registry_token_create(r, "alice@example.com", 1000, -5, t1), -EINVAL);
	CHECK_INT(registry_token_create(r, "alice@example.com", INT64_MAX - 5, 60, t1),
		  -EINVAL);
	registry_close(r);
	dir_cleanup();
}

static void test_token_wrong(void)
{
	char tok[REGISTRY_TOKEN_LEN + 1], bad[REGISTRY_TOKEN_LEN + 2];
	struct registry *r;

	dir_setup();
	r = reg_open("100.64.0.0/10");
	CHECK_INT(registry_token_create(r, "alice@example.com", 1000, 600, tok), 0);

	/* Well-formed but never issued. */
	memcpy(bad, tok, sizeof(tok));
	bad[0] = bad[0] == 'A' ? 'B' : 'A';
	CHECK_INT(registry_token_use(r, "alice@example.com", bad, 1001), -ENOENT);

	/* Issued to alice, presented by bob: no such token for bob. */
	CHECK_INT(registry_token_use(r, "bob@example.com", tok, 1001), -ENOENT);
	CHECK_INT(registry_token_use(r, "alice@example.com", tok, 1001), 0);

	/* Malformed text. */
	CHECK_INT(registry_token_use(r, "alice@example.com", "", 1001), -EINVAL);
	CHECK_INT(registry_token_use(r, "alice@example.com", "short", 1001), -EINVAL);
	memcpy(bad, tok, sizeof(tok));
	bad[5] = '+';		/* base64, not base64url */
	CHECK_INT(registry_token_use(r, "alice@example.com", bad, 1001), -EINVAL);
	memcpy(bad, tok, sizeof(tok));
	bad[REGISTRY_TOKEN_LEN - 1] = 'B';	/* low bits set: not canonical */
	CHECK_INT(registry_token_use(r, "alice@example.com", bad, 1001), -EINVAL);
	memcpy(bad, tok, sizeof(tok));
	bad[REGISTRY_TOKEN_LEN] = 'A';		/* one too long */
	bad[REGISTRY_TOKEN_LEN + 1] = '\0';
	CHECK_INT(registry_token_use(r, "alice@example.com", bad, 1001), -EINVAL);
	CHECK_INT(registry_token_use(r, "alice@example.com", NULL, 1001), -EINVAL);
	registry_close(r);
	dir_cleanup();
}

static void test_v4_stable(void)
{
	uint8_t a1[4], a2[4], a3[4], b[4];
	struct registry *r;

	dir_setup();
	r = reg_open("100.64.0.0/10");
	CHECK_INT(registry_v4(r, "alice@example.com", a1), 0);
	CHECK_INT(registry_v4(r, "alice@example.com", a2), 0);
	CHECK_MEM(a1, a2, 4);
	CHECK_INT(registry_v4(r, "bob@example.com", b), 0);
	CHECK(memcmp(a1, b, 4) != 0);
	CHECK_INT(v4_u32(a1) & 0xffc00000u, 0x64400000u);
	CHECK(v4_u32(a1) != 0x64400000u);
	registry_close(r);

	/* Survives a restart, and a pool change does not move it. */
	r = reg_open("198.18.0.0/15");
	CHECK_INT(registry_v4(r, "alice@example.com", a3), 0);
	CHECK_MEM(a1, a3, 4);
	CHECK_INT(registry_v4(r, "carol@example.com", a3), 0);
	CHECK_INT(v4_u32(a3) & 0xfffe0000u, 0xc6120000u);
	CHECK_INT(registry_v4(r, "", a3), -EINVAL);
	registry_close(r);
	dir_cleanup();
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void test_v4_unique_1000(void)
{
	enum { N = 1000 };
	static uint32_t got[N];
	struct registry *r;
	char id[64];
	uint8_t a[4];
	int dup = 0, outside = 0;

	dir_setup();
	/* A /22 holds 1022 hosts: 1000 fit, and edges get close. */
	r = reg_open("100.64.4.0/22");
	for (int i = 0; i < N; i++) {
		snprintf(id, sizeof(id), "user%d@example.com", i);
		CHECK_INT(registry_v4(r, id, a), 0);
		got[i] = v4_u32(a);
		if (got[i] <= 0x64400400u || got[i] >= 0x644007ffu)
			outside++;
	}
	CHECK_INT(outside, 0);
	qsort(got, N, sizeof(got[0]), cmp_u32);
	for (int i = 1; i < N; i++)
		if (got[i] == got[i - 1])
			dup++;
	CHECK_INT(dup, 0);
	registry_close(r);

	/* Same answers after reopening. */
	r = reg_open("100.64.4.0/22");
	snprintf(id, sizeof(id), "user%d@example.com", 0);
	CHECK_INT(registry_v4(r, id, a), 0);
	CHECK(bsearch(&(uint32_t){ v4_u32(a) }, got, N, sizeof(got[0]),
		      cmp_u32) != NULL);
	registry_close(r);
	dir_cleanup();
}

static void test_v4_exhaustion(void)
{
	char tok[REGISTRY_TOKEN_LEN + 1];
	uint8_t a[4], b[4], c[4];
	struct registry *r;

	dir_setup();
	r = reg_open("100.64.0.0/30");
	CHECK_INT(registry_v4(r, "a@example.com", a), 0);
	CHECK_INT(registry_v4(r, "b@example.com", b), 0);
	CHECK_INT(v4_u32(a), 0x64400001u);
	CHECK_INT(v4_u32(b), 0x64400002u);
	CHECK_INT(registry_v4(r, "c@example.com", c), -ENOSPC);
	CHECK_STR(registry_error(r), "pool 100.64.0.0/30 is exhausted");
	/* Invite time reports it too, and leaves no account behind. */
	CHECK_INT(registry_token_create(r, "c@example.com", 1000, 60, tok), -ENOSPC);
	CHECK_INT(registry_is_revoked(r, "c@example.com"), -ENOENT);
	/* Existing identities still get their address. */
	CHECK_INT(registry_v4(r, "a@example.com", c), 0);
	CHECK_MEM(a, c, 4);
	registry_close(r);

	/* Grow the pool: old addresses stay, new ones skip them. */
	r = reg_open("100.64.0.0/29");
	CHECK_INT(registry_v4(r, "b@example.com", c), 0);
	CHECK_MEM(b, c, 4);
	for (uint32_t want = 3; want <= 6; want++) {
		char id[32];

		snprintf(id, sizeof(id), "n%u@example.com", want);
		CHECK_INT(registry_v4(r, id, c), 0);
		CHECK_INT(v4_u32(c), 0x64400000u + want);
	}
	CHECK_INT(registry_v4(r, "z@example.com", c), -ENOSPC);
	CHECK_STR(registry_error(r), "pool 100.64.0.0/29 is exhausted");
	registry_close(r);

	/* A different pool sharing a prefix: skips every taken address. */
	r = reg_open("100.64.0.0/28");
	CHECK_INT(registry_v4(r, "y@example.com", c), 0);
	CHECK_INT(v4_u32(c), 0x64400007u);
	registry_close(r);
	dir_cleanup();
}

/* Old allocations in the middle of a new pool: fill the gaps around them. */
static void test_v4_pool_gaps(void)
{
	static const uint32_t want[] = { 1, 2, 3, 4 };
	uint8_t a[4];
	struct registry *r;
	char id[32];

	dir_setup();
	r = reg_open("100.64.0.4/30");
	CHECK_INT(registry_v4(r, "old1@example.com", a), 0);
	CHECK_INT(v4_u32(a), 0x64400005u);
	CHECK_INT(registry_v4(r, "old2@example.com", a), 0);
	CHECK_INT(v4_u32(a), 0x64400006u);
	registry_close(r);

	r = reg_open("100.64.0.0/29");
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		snprintf(id, sizeof(id), "new%zu@example.com", i);
		CHECK_INT(registry_v4(r, id, a), 0);
		CHECK_INT(v4_u32(a), 0x64400000u + want[i]);
	}
	CHECK_INT(registry_v4(r, "more@example.com", a), -ENOSPC);
	CHECK_INT(registry_v4(r, "more@example.com", a), -ENOSPC);
	CHECK_INT(registry_v4(r, "old1@example.com", a), 0);
	CHECK_INT(v4_u32(a), 0x64400005u);
	registry_close(r);
	dir_cleanup();
}

struct revs {
	int n;
	int64_t seq[8];
	char serial[8][41];
	int64_t not_after[8];
};

static int collect_rev(int64_t seq, const char *serial_hex, int64_t not_after, void *arg)
{
	struct revs *v = arg;

	if (v->n < 8) {
		v->seq[v->n] = seq;
		snprintf(v->serial[v->n], sizeof(v->serial[0]), "%s", serial_hex);
		v->not_after[v->n] = not_after;
	}
	v->n++;
	return 0;
}

struct accounts {
	int n;
	char id[4][64];
	uint32_t v4[4];
	int revoked[4];
	int64_t not_after[4];
};

static int collect_account(const char *identity, const uint8_t v4[4],
			   int revoked, int64_t cert_not_after, void *arg)
{
	struct accounts *c = arg;

	if (c->n < 4) {
		snprintf(c->id[c->n], sizeof(c->id[0]), "%s", identity);
		c->v4[c->n] = v4_u32(v4);
		c->revoked[c->n] = revoked;
		c->not_after[c->n] = cert_not_after;
	}
	c->n++;
	return 0;
}

static int stop_at_first(int64_t seq, const char *serial_hex, int64_t not_after, void *arg)
{
	(*(int *)arg)++;
	return 7;
}

static void test_revoke(void)
{
	static const uint8_t der[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };
	char tok[REGISTRY_TOKEN_LEN + 1], tok2[REGISTRY_TOKEN_LEN + 1];
	struct revs s = { 0 };
	int64_t cur;
	int more;
	struct accounts acc = { 0 };
	struct registry *r;
	uint8_t a[4];
	int calls = 0;

	dir_setup();
	r = reg_open("100.64.0.0/10");
	CHECK_INT(registry_token_create(r, "alice@example.com", 1000, 600, tok), 0);
	CHECK_INT(registry_token_use(r, "alice@example.com", tok, 1001), 0);
	CHECK_INT(registry_cert_add(r, "alice@example.com", "0A1B", 1000, 5000,
				    der, sizeof(der)), 0);
	CHECK_INT(registry_v4(r, "bob@example.com", a), 0);
	CHECK_INT(registry_cert_add(r, "bob@example.com", "ff", 1000, 6000,
				    der, sizeof(der)), 0);

	CHECK_INT(registry_is_revoked(r, "alice@example.com"), 0);
	CHECK_INT(registry_serial_revoked(r, "0a1b"), 0);
	/* A pending invite is cancelled by revocation. */
	CHECK_INT(registry_token_create(r, "alice@example.com", 1000, 600, tok2), 0);

	CHECK_INT(registry_revoke(r, "alice@example.com", 2000), 0);
	CHECK_INT(registry_is_revoked(r, "alice@example.com"), 1);
	CHECK_INT(registry_is_revoked(r, "bob@example.com"), 0);
	CHECK_INT(registry_is_revoked(r, "nobody@example.com"), -ENOENT);
	CHECK_INT(registry_serial_revoked(r, "0a1b"), 1);
	CHECK_INT(registry_serial_revoked(r, "0A1B"), 1);
	CHECK_INT(registry_serial_revoked(r, "ff"), 0);
	CHECK_INT(registry_serial_revoked(r, "abcd"), -ENOENT);
	CHECK_INT(registry_serial_revoked(r, "xyz"), -EINVAL);
	CHECK_INT(registry_token_use(r, "alice@example.com", tok2, 1002), -ENOENT);
	CHECK_INT(registry_revoke(r, "nobody@example.com", 2000), -ENOENT);
	/* No new certificate for a revoked account. */
	CHECK_INT(registry_cert_add(r, "alice@example.com", "0c", 2000, 5000,
				    der, sizeof(der)), -EPERM);

	CHECK_INT(registry_revocations(r, 0, 2500, 10, collect_rev, &s, &cur, &more), 0);
	CHECK_INT(s.n, 1);
	CHECK_STR(s.serial[0], "0a1b");
	CHECK_INT(registry_revocations(r, 0, 2500, 10, stop_at_first, &calls, &cur, &more), 7);
	CHECK_INT(calls, 1);
	registry_close(r);

	/* Revocation is durable. */
	r = reg_open("100.64.0.0/10");
	CHECK_INT(registry_is_revoked(r, "alice@example.com"), 1);
	CHECK_INT(registry_serial_revoked(r, "0a1b"), 1);

	/* Re-invite: the account is back, the old certificate is not. */
	CHECK_INT(registry_token_create(r, "alice@example.com", 3000, 600, tok), 0);
	CHECK_INT(registry_is_revoked(r, "alice@example.com"), 0);
	CHECK_INT(registry_serial_revoked(r, "0a1b"), 1);
	CHECK_INT(registry_token_use(r, "alice@example.com", tok, 3001), 0);
	CHECK_INT(registry_cert_add(r, "alice@example.com", "0c", 3000, 9000,
				    der, sizeof(der)), 0);
	CHECK_INT(registry_serial_revoked(r, "0c"), 0);

	CHECK_INT(registry_account_foreach(r, collect_account, &acc), 0);
	CHECK_INT(acc.n, 2);
	CHECK_STR(acc.id[0], "alice@example.com");
	CHECK_INT(acc.revoked[0], 0);
	CHECK_INT(acc.not_after[0], 9000);	/* the revoked 5000 one is ignored */
	CHECK_STR(acc.id[1], "bob@example.com");
	CHECK_INT(acc.v4[1], v4_u32(a));
	CHECK_INT(acc.not_after[1], 6000);
	registry_close(r);
	dir_cleanup();
}

/* Revocations in the order they happened, paged by cursor; expired
 * certificates left out; the cursor survives pruning and a reopen. */
static void test_revocations_paged(void)
{
	static const uint8_t der[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };
	static const char *const who[] = { "a@example.com", "b@example.com", "c@example.com" };
	struct registry *r;
	struct revs v = { 0 };
	int64_t cur = -1;
	uint8_t a[4];
	int more = -1;

	dir_setup();
	r = reg_open("100.64.0.0/10");
	CHECK_INT(registry_revocations(r, 0, 1000, 10, collect_rev, &v, &cur, &more), 0);
	CHECK_INT(v.n, 0);
	CHECK_INT((int)cur, 0);
	CHECK_INT(more, 0);
	for (int i = 0; i < 3; i++) {
		char serial[8];

		CHECK_INT(registry_v4(r, who[i], a), 0);
		snprintf(serial, sizeof(serial), "0%d", i + 1);
		/* b's certificate expires at 3000, the others' later. */
		CHECK_INT(registry_cert_add(r, who[i], serial, 1000, i == 1 ? 3000 : 9000,
					    der, sizeof(der)), 0);
	}
	/* Revoked in the order c, a, b. */
	CHECK_INT(registry_revoke(r, "c@example.com", 2000), 0);
	CHECK_INT(registry_revoke(r, "a@example.com", 2001), 0);
	CHECK_INT(registry_revoke(r, "b@example.com", 2002), 0);
	CHECK_INT(registry_revoke(r, "b@example.com", 2003), 0);	/* twice: once listed */

	/* Pages of two: c and a, then b. */
	CHECK_INT(registry_revocations(r, 0, 2500, 2, collect_rev, &v, &cur, &more), 0);
	CHECK_INT(v.n, 2);
	CHECK_STR(v.serial[0], "03");
	CHECK_STR(v.serial[1], "01");
	CHECK_INT((int)v.not_after[1], 9000);
	CHECK_INT(more, 1);
	CHECK_INT((int)cur, (int)v.seq[1]);
	v.n = 0;
	CHECK_INT(registry_revocations(r, cur, 2500, 2, collect_rev, &v, &cur, &more), 0);
	CHECK_INT(v.n, 1);
	CHECK_STR(v.serial[0], "02");
	CHECK_INT(more, 0);
	CHECK(cur >= v.seq[0]);		/* the head: numbers may have gaps */
	/* Nothing new since the cursor. */
	v.n = 0;
	CHECK_INT(registry_revocations(r, cur, 2500, 2, collect_rev, &v, &cur, &more), 0);
	CHECK_INT(v.n, 0);
	/* Once b's certificate has expired it is news to nobody. */
	CHECK_INT(registry_revocations(r, 0, 3000, 10, collect_rev, &v, &cur, &more), 0);
	CHECK_INT(v.n, 2);
	CHECK_STR(v.serial[0], "03");
	CHECK_STR(v.serial[1], "01");
	CHECK_INT(more, 0);
	/* A cursor from another registry (beyond ours) starts over. */
	v.n = 0;
	CHECK_INT(registry_revocations(r, 1000000, 2500, 10, collect_rev, &v, &cur, &more), 0);
	CHECK_INT(v.n, 3);
	registry_close(r);

	/* Durable, numbers included. */
	r = reg_open("100.64.0.0/10");
	v.n = 0;
	CHECK_INT(registry_revocations(r, 0, 2500, 10, collect_rev, &v, &cur, &more), 0);
	CHECK_INT(v.n, 3);
	CHECK_STR(v.serial[2], "02");
	registry_close(r);
	dir_cleanup();
}

static void test_cert_errors(void)
{
	static const uint8_t der[] = { 0x30, 0x00 };
	struct registry *r;
	uint8_t a[4];

	dir_setup();
	r = reg_open("100.64.0.0/10");
	CHECK_INT(registry_cert_add(r, "ghost@example.com", "01", 0, 1, der,
				    sizeof(der)), -ENOENT);
	CHECK_INT(registry_v4(r, "alice@example.com", a), 0);
	CHECK_INT(registry_cert_add(r, "alice@example.com", "01", 0, 1, der,
				    sizeof(der)), 0);
	CHECK_INT(registry_cert_add(r, "alice@example.com", "01", 0, 1, der,
				    sizeof(der)), -EEXIST);
	CHECK_INT(registry_cert_add(r, "alice@example.com", "1", 0, 1, der,
				    sizeof(der)), -EINVAL);
	CHECK_INT(registry_cert_add(r, "alice@example.com", "0g", 0, 1, der,
				    sizeof(der)), -EINVAL);
	CHECK_INT(registry_cert_add(r, "alice@example.com", "02", 5, 1, der,
				    sizeof(der)), -EINVAL);
	CHECK_INT(registry_cert_add(r, "alice@example.com", "02", 0, 1, der, 0),
		  -EINVAL);
	CHECK_INT(registry_cert_add(r, "alice@example.com", "02", 0, 1, NULL, 2),
		  -EINVAL);
	registry_close(r);
	dir_cleanup();
}

static void test_identity_cap(void)
{
	char id[REGISTRY_IDENTITY_MAX + 2];
	struct registry *r;
	uint8_t a[4];

	dir_setup();
	r = reg_open("100.64.0.0/10");
	memset(id, 'a', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';		/* 319 characters */
	CHECK_INT(registry_v4(r, id, a), -EINVAL);
	id[REGISTRY_IDENTITY_MAX] = '\0';	/* 318 */
	CHECK_INT(registry_v4(r, id, a), 0);
	CHECK_INT(registry_v4(r, "bad id@example.com", a), -EINVAL);
	CHECK_INT(registry_v4(r, NULL, a), -EINVAL);
	/* SQL metacharacters are just text. */
	CHECK_INT(registry_v4(r, "x'--@example.com", a), 0);
	CHECK_INT(registry_is_revoked(r, "x'--@example.com"), 0);
	registry_close(r);
	dir_cleanup();
}

static void test_bad_pool(void)
{
	static const char *const bad[] = {
		"100.64.0.1/10", "100.64.0.0/31", "100.64.0.0/7", "fd00::/64",
		"100.64.0.0", "100.64.0.0/1a", "100.64.0.0/ 10", "100.64.0/24",
		"100.64.0.0/010", "", "100.64.0.0/10 ",
	};
	struct registry *r;
	char err[256];

	dir_setup();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		r = (struct registry *)1;
		CHECK_INT(registry_open(dbpath, bad[i], &r, err, sizeof(err)),
			  -EINVAL);
		CHECK(r == NULL);
		CHECK(strstr(err, "pool") != NULL);
	}
	err[0] = '\0';
	CHECK_INT(registry_open(dbpath, NULL, &r, err, sizeof(err)), -EINVAL);
	r = reg_open("203.0.113.0/30");
	registry_close(r);
	r = reg_open("10.0.0.0/8");
	registry_close(r);
	dir_cleanup();
}

static void test_schema_version(void)
{
	struct registry *r;
	sqlite3 *db;
	char err[256] = "";

	dir_setup();
	r = reg_open("100.64.0.0/10");
	registry_close(r);
	CHECK_INT(sqlite3_open(dbpath, &db), SQLITE_OK);
	{
		sqlite3_stmt *s;

		CHECK_INT(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s,
					     NULL), SQLITE_OK);
		CHECK_INT(sqlite3_step(s), SQLITE_ROW);
		CHECK_INT(sqlite3_column_int(s, 0), 2);
		sqlite3_finalize(s);
		CHECK_INT(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s,
					     NULL), SQLITE_OK);
		CHECK_INT(sqlite3_step(s), SQLITE_ROW);
		CHECK_STR((const char *)sqlite3_column_text(s, 0), "wal");
		sqlite3_finalize(s);
	}
	CHECK_INT(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL),
		  SQLITE_OK);
	sqlite3_close(db);
	r = (struct registry *)1;
	CHECK_INT(registry_open(dbpath, "100.64.0.0/10", &r, err, sizeof(err)),
		  -ENOTSUP);
	CHECK(r == NULL);
	CHECK(strstr(err, "99") != NULL);
	dir_cleanup();
}

static void test_file_mode(void)
{
	struct registry *r;
	struct stat st;
	uint8_t a[4];
	char wal[160];
	mode_t old = umask(0);	/* the registry must not rely on our umask */

	dir_setup();
	r = reg_open("100.64.0.0/10");
	CHECK_INT(registry_v4(r, "alice@example.com", a), 0);
	CHECK_INT(stat(dbpath, &st), 0);
	CHECK_INT(st.st_mode & 07777, 0600);
	snprintf(wal, sizeof(wal), "%s-wal", dbpath);
	CHECK_INT(stat(wal, &st), 0);
	CHECK_INT(st.st_mode & 07777, 0600);
	registry_close(r);

	/* A too-open existing file is tightened. */
	CHECK_INT(chmod(dbpath, 0644), 0);
	r = reg_open("100.64.0.0/10");
	CHECK_INT(stat(dbpath, &st), 0);
	CHECK_INT(st.st_mode & 07777, 0600);
	registry_close(r);
	umask(old);

	/* Not a regular file: refused. */
	{
		char err[256] = "";
		struct registry *x = NULL;

		CHECK_INT(registry_open(tmpdir, "100.64.0.0/10", &x, err,
					sizeof(err)) < 0, 1);
		CHECK(x == NULL);
	}
	dir_cleanup();
}

static void test_token_not_stored(void)
{
	char tok[REGISTRY_TOKEN_LEN + 1];
	uint8_t hash[32];
	struct registry *r;

	dir_setup();
	r = reg_open("100.64.0.0/10");
	CHECK_INT(registry_token_create(r, "alice@example.com", 1000, 600, tok), 0);
	CHECK_INT(wc_Sha256Hash((const unsigned char *)tok, REGISTRY_TOKEN_LEN,
				hash), 0);
	/* The search works: the hash is on disk (WAL, then main file). */
	CHECK(db_contains(hash, sizeof(hash)));
	CHECK(!db_contains(tok, strlen(tok)));
	/* Nor a large piece of it. */
	CHECK(!db_contains(tok, 16));
	CHECK(!db_contains(tok + REGISTRY_TOKEN_LEN - 16, 16));
	CHECK_INT(registry_token_use(r, "alice@example.com", tok, 1001), 0);
	CHECK(!db_contains(tok, strlen(tok)));
	registry_close(r);
	CHECK(db_contains(hash, sizeof(hash)));
	CHECK(!db_contains(tok, strlen(tok)));
	dir_cleanup();
}

static void test_not_a_database(void)
{
	struct registry *r = (struct registry *)1;
	char junk[4096], err[256] = "";
	FILE *f;

	dir_setup();
	memset(junk, 'x', sizeof(junk));
	f = fopen(dbpath, "wb");
	CHECK(f != NULL);
	if (f) {
		fwrite(junk, 1, sizeof(junk), f);
		fclose(f);
	}
	CHECK(registry_open(dbpath, "100.64.0.0/10", &r, err, sizeof(err)) < 0);
	CHECK(r == NULL);
	CHECK(err[0] != '\0');
	dir_cleanup();
}

int main(void)
{
	RUN(test_token_single_use);
	RUN(test_token_two_handles);
	RUN(test_token_expiry);
	RUN(test_token_wrong);
	RUN(test_v4_stable);
	RUN(test_v4_unique_1000);
	RUN(test_v4_exhaustion);
	RUN(test_v4_pool_gaps);
	RUN(test_revoke);
	RUN(test_revocations_paged);
	RUN(test_cert_errors);
	RUN(test_identity_cap);
	RUN(test_bad_pool);
	RUN(test_schema_version);
	RUN(test_file_mode);
	RUN(test_token_not_stored);
	RUN(test_not_a_database);
	return HARNESS_END();
}
