/*
 * Identity name parsing: the accepted forms, every rule's boundary, and
 * hostile strings (format specifiers, huge input, UTF-8, control bytes).
 */
#include <errno.h>
#include <string.h>

#include "identity/name.h"
#include "tests/unit/harness.h"

static char err[256];

static int bad(const char *s)
{
	struct id_name n;

	err[0] = '\0';
	return id_parse(s, &n, err, sizeof(err)) == -EINVAL && err[0];
}

/* Builds a string of n copies of c into buf. */
static char *rep(char *buf, char c, size_t n)
{
	memset(buf, c, n);
	buf[n] = '\0';
	return buf;
}

static void test_user_at_domain(void)
{
	struct id_name n;

	CHECK_INT(id_parse("alice@example.com", &n, err, sizeof(err)), 0);
	CHECK_STR(n.user, "alice");
	CHECK_STR(n.domain, "example.com");
	CHECK_STR(n.full, "alice@example.com");
	CHECK_INT(n.is_domain, 0);
	CHECK_INT(id_parse("a.b_c-d9@sub-1.example.co", &n, err, sizeof(err)), 0);
	CHECK_STR(n.user, "a.b_c-d9");
	CHECK_STR(n.domain, "sub-1.example.co");
	CHECK_INT(id_parse("0@a.b", &n, err, sizeof(err)), 0);
}

static void test_bare_domain(void)
{
	struct id_name n;

	CHECK_INT(id_parse("example.com", &n, err, sizeof(err)), 0);
	CHECK_INT(n.is_domain, 1);
	CHECK_STR(n.user, "");
	CHECK_STR(n.domain, "example.com");
	CHECK_STR(n.full, "example.com");
	CHECK_INT(id_parse_domain("example.com", err, sizeof(err)), 0);
	CHECK_INT(id_parse_domain("alice@example.com", err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "expected a bare domain"));
	CHECK_INT(id_parse_user("example.com", &n, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "expected user@domain"));
	CHECK_INT(id_parse_user("bob@example.com", &n, err, sizeof(err)), 0);
	CHECK_STR(n.user, "bob");
}

static void test_messages(void)
{
	CHECK(bad("Alice@example.com"));
	CHECK_STR(err, "'Alice@example.com': user part has upper-case 'A' (use lower case)");
	CHECK(bad("alice@EXAMPLE.com"));
	CHECK(strstr(err, "domain has upper-case 'E'"));
	CHECK(bad("alice@example..com"));
	CHECK(strstr(err, "empty label"));
	CHECK(bad("alice@example.com."));
	CHECK(strstr(err, "trailing dot"));
	CHECK(bad("a@b@c.com"));
	CHECK(strstr(err, "more than one '@'"));
	CHECK(bad("@example.com"));
	CHECK(strstr(err, "user part is empty"));
	CHECK(bad("alice@"));
	CHECK(strstr(err, "domain is empty"));
	CHECK(bad("alice@-x.com"));
	CHECK(strstr(err, "'-'"));
	CHECK(bad("al ice@example.com"));
	CHECK(strstr(err, "a space"));
}

static void test_hostile(void)
{
	char big[1001];

	CHECK(bad("%s"));
	CHECK(strstr(err, "'%s'") != NULL);
	CHECK(bad("%s%n@example.com"));
	CHECK(bad(rep(big, 'a', 1000)));
	CHECK(strstr(err, "longer than 318"));
	CHECK(strlen(err) < 120);       /* the echo is truncated */
	CHECK(bad("al\xc3\xa9@example.com"));   /* UTF-8 é */
	CHECK(strstr(err, "0xc3"));
	CHECK(strstr(err, "\\xc3"));            /* echoed escaped, not raw */
	CHECK(!strchr(err, '\xc3'));
	CHECK(bad("alice@ex\tample.com"));
	CHECK(!strchr(err, '\t'));
	CHECK(bad("alice@exam\x7fple.com"));
	CHECK(bad("alice\n@example.com"));
	CHECK(bad(""));
	CHECK(bad("@"));
	CHECK(bad("."));
	CHECK(bad("com"));              /* one label */
	CHECK(bad(".example.com"));
	CHECK(bad("alice@example.com-"));
	CHECK(bad("alice@example-.com"));
	CHECK(bad(".alice@example.com"));
	CHECK(bad("alice.@example.com"));
	CHECK(bad("al..ice@example.com"));
	CHECK(bad("alice@exa_mple.com"));
	CHECK(bad("ali+ce@example.com"));
	CHECK(bad(" alice@example.com"));
	CHECK(bad("alice@example.com "));
	CHECK_INT(id_parse(NULL, NULL, err, sizeof(err)), -EINVAL);
	/* Validation without output or message buffers must work too. */
	CHECK_INT(id_parse("Alice@example.com", NULL, NULL, 0), -EINVAL);
	CHECK_INT(id_parse("alice@example.com", NULL, NULL, 0), 0);
	/* A tiny error buffer is truncated, not overrun. */
	{
		char small[8];

		memset(small, 'x', sizeof(small));
		CHECK_INT(id_parse("Alice@example.com", NULL, small, 4), -EINVAL);
		CHECK_INT(small[3], 0);
		CHECK_INT(small[4], 'x');
	}
}

static void test_lengths(void)
{
	char u[80], l[80], s[600], d[400];
	struct id_name n;

	/* 64-byte user is fine, 65 is not. */
	snprintf(s, sizeof(s), "%s@example.com", rep(u, 'u', 64));
	CHECK_INT(id_parse(s, &n, err, sizeof(err)), 0);
	CHECK_INT(strlen(n.user), 64);
	snprintf(s, sizeof(s), "%s@example.com", rep(u, 'u', 65));
	CHECK(bad(s));
	CHECK(strstr(err, "longer than 64"));

	/* 63-byte label fine, 64 not. */
	snprintf(s, sizeof(s), "a@%s.com", rep(l, 'l', 63));
	CHECK_INT(id_parse(s, &n, err, sizeof(err)), 0);
	snprintf(s, sizeof(s), "a@%s.com", rep(l, 'l', 64));
	CHECK(bad(s));
	CHECK(strstr(err, "longer than 63"));

	/* 253-byte domain: 63+1+63+1+63+1+61 = 253. */
	snprintf(d, sizeof(d), "%s.%s.%s.%s", rep(l, 'a', 63), l, l,
		 rep(u, 'b', 61));
	CHECK_INT(strlen(d), 253);
	CHECK_INT(id_parse_domain(d, err, sizeof(err)), 0);
	snprintf(s, sizeof(s), "%s@%s", rep(u, 'c', 64), d);
	CHECK_INT(strlen(s), 318);
	CHECK_INT(id_parse(s, &n, err, sizeof(err)), 0);
	CHECK_STR(n.full, s);
	CHECK_STR(n.domain, d);
	/* 254-byte domain. */
	snprintf(d, sizeof(d), "%s.%s.%s.%s", rep(l, 'a', 63), l, l,
		 rep(u, 'b', 62));
	CHECK_INT(strlen(d), 254);
	CHECK_INT(id_parse_domain(d, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "longer than 253"));
	/* 319 bytes in all. */
	snprintf(s, sizeof(s), "%s@%s", rep(u, 'c', 65), d);
	CHECK(bad(s));
}

int main(void)
{
	RUN(test_user_at_domain);
	RUN(test_bare_domain);
	RUN(test_messages);
	RUN(test_hostile);
	RUN(test_lengths);
	return HARNESS_END();
}
