/*
 * Fuzz target for the text parsers of identity/: identity names
 * (identity/name.c) and overlay prefixes (identity/addr.c), which arrive in
 * certificates, control messages and configuration. Input: one byte for the
 * error buffer's size, then the string (NUL-terminated copy). id_parse is
 * checked against a naive twin written from the rules in name.h: the two
 * must accept exactly the same strings, and an accepted name must split
 * into the same user and domain. A prefix that parses must be valid,
 * contain its own address, and survive format -> parse unchanged.
 */
#include <errno.h>
#include <sys/socket.h>

#include "tests/fuzz/fuzz.h"
#include "identity/addr.h"
#include "identity/name.h"

static int lower_digit(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* name.h's domain rule, spelled out the slow way. */
static int model_domain(const char *d, size_t n)
{
	size_t start = 0, labels = 0;

	if (n == 0 || n > ID_DOMAIN_MAX)
		return 0;
	for (size_t i = 0; i <= n; i++) {
		size_t l;

		if (i < n && d[i] != '.') {
			if (!lower_digit(d[i]) && d[i] != '-')
				return 0;
			continue;
		}
		l = i - start;
		if (l < 1 || l > 63 || d[start] == '-' || d[i - 1] == '-')
			return 0;
		labels++;
		start = i + 1;
	}
	return labels >= 2;
}

static int model_user(const char *u, size_t n)
{
	if (n < 1 || n > ID_USER_MAX || u[0] == '.' || u[n - 1] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (!lower_digit(u[i]) && u[i] != '.' && u[i] != '_' &&
		    u[i] != '-')
			return 0;
		if (u[i] == '.' && i + 1 < n && u[i + 1] == '.')
			return 0;
	}
	return 1;
}

static void check_name(const char *s, char *err, size_t errlen)
{
	const char *at = strchr(s, '@');
	size_t len = strlen(s);
	struct id_name out;
	int rc, want, want_user;

	if (at)
		want_user = model_user(s, (size_t)(at - s)) &&
			    model_domain(at + 1, len - (size_t)(at - s) - 1);
	else
		want_user = 0;
	want = want_user || (!at && model_domain(s, len));

	rc = id_parse(s, &out, err, errlen);
	FZ_CHECK(rc == 0 || rc == -EINVAL);
	FZ_CHECK((rc == 0) == want);
	if (rc == 0) {
		FZ_CHECK(strcmp(out.full, s) == 0);
		FZ_CHECK(out.is_domain == !at);
		if (at) {
			FZ_CHECK(strlen(out.user) == (size_t)(at - s) &&
				 memcmp(out.user, s, strlen(out.user)) == 0);
			FZ_CHECK(strcmp(out.domain, at + 1) == 0);
		} else {
			FZ_CHECK(out.user[0] == '\0' && strcmp(out.domain, s) == 0);
		}
	} else if (errlen) {
		FZ_CHECK(memchr(err, 0, errlen) != NULL);
	}
	FZ_CHECK((id_parse_user(s, NULL, err, errlen) == 0) == want_user);
	FZ_CHECK((id_parse_domain(s, err, errlen) == 0) == (want && !at));
}

static void check_prefix(const char *s)
{
	struct addr_prefix p, q;
	char buf[64];
	int rc = addr_prefix_parse(s, &p);

	FZ_CHECK(rc == 0 || rc == -EINVAL);
	FZ_CHECK((addr_prefix_parse(s, NULL) == 0) == (rc == 0));
	if (rc)
		return;
	FZ_CHECK(p.family == AF_INET || p.family == AF_INET6);
	FZ_CHECK(addr_prefix_valid(&p));
	FZ_CHECK(addr_prefix_contains(&p, p.family, p.addr));
	FZ_CHECK(addr_prefix_format(&p, buf, sizeof(buf)) == 0);
	FZ_CHECK(addr_prefix_parse(buf, &q) == 0);
	FZ_CHECK(q.family == p.family && q.plen == p.plen &&
		 memcmp(q.addr, p.addr, 16) == 0);
	/* Too small a buffer is refused, not overrun. */
	FZ_CHECK(addr_prefix_format(&p, buf, strlen(buf)) == -ENOSPC);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t errlen;
	char *s, *err;

	if (size < 1)
		return 0;
	errlen = data[0] % 160;
	s = malloc(size);
	err = malloc(errlen ? errlen : 1);
	FZ_CHECK(s && err);
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	check_name(s, err, errlen);
	check_prefix(s);
	free(err);
	free(s);
	return 0;
}

static void seeds(const char *dir)
{
	static const char *const v[] = {
		"alice@example.com", "example.com", "a.b_c-d@x-1.example.org",
		"203.0.113.0/24", "fd00::/8", "100.64.0.7",
		"fd12:3456:789a::1/128", "::ffff:192.0.2.1/120",
	};
	char name[16], buf[128];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		buf[0] = 100;
		memcpy(buf + 1, v[i], strlen(v[i]));
		snprintf(name, sizeof(name), "s%zu", i);
		fz_write_seed(dir, name, buf, strlen(v[i]) + 1);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fz_seed_mode(seeds);
	return 0;
}
