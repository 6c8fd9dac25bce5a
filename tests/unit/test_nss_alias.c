/*
 * Identities and their DNS-safe aliases: the plain and escaped forms,
 * one spelling per identity both ways, case and trailing dot, the length
 * limits, and which host names are q2q's at all.
 */
#include <errno.h>
#include <string.h>

#include "nss/alias.h"
#include "tests/unit/harness.h"

static char out[NAMES_ALIAS_MAX + 1];
static char id[ID_NAME_MAX + 1];

static const char *alias(const char *identity)
{
	return names_alias_from_identity(identity, out, sizeof(out)) == 0 ? out : "(none)";
}

static const char *ident(const char *name)
{
	return names_alias_to_identity(name, id) == 0 ? id : "(none)";
}

static void test_plain(void)
{
	CHECK_STR(alias("bob@example.com"), "bob.example.com.q2q");
	CHECK_STR(alias("bob-smith2@sub.example.org"), "bob-smith2.sub.example.org.q2q");
	CHECK_STR(ident("bob.example.com.q2q"), "bob@example.com");
	CHECK_STR(ident("bob-smith2.sub.example.org.q2q"), "bob-smith2@sub.example.org");
}

static void test_escaped(void)
{
	CHECK_STR(alias("alice.smith@example.com"), "q--alice-dsmith.example.com.q2q");
	CHECK_STR(alias("a_b@example.com"), "q--a-ub.example.com.q2q");
	CHECK_STR(alias("-x-@example.com"), "q---hx-h.example.com.q2q");
	CHECK_STR(alias("q--x@example.com"), "q--q-h-hx.example.com.q2q");
	CHECK_STR(ident("q--alice-dsmith.example.com.q2q"), "alice.smith@example.com");
	CHECK_STR(ident("q--a-ub.example.com.q2q"), "a_b@example.com");
	CHECK_STR(ident("q---hx-h.example.com.q2q"), "-x-@example.com");
	CHECK_STR(ident("q--q-h-hx.example.com.q2q"), "q--x@example.com");
}

/* Every alias decodes to its identity and back, for users of every shape. */
static void test_round_trip(void)
{
	static const char *users[] = { "a", "bob", "b-b", "a.b.c", "_", "x_", "-", "q--", "q-", "q",
		"0", "a-d", "ad", "a-h", "q--q--" };
	char idn[ID_NAME_MAX + 1];
	size_t i;

	for (i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
		snprintf(idn, sizeof(idn), "%s@example.com", users[i]);
		CHECK_INT(names_alias_from_identity(idn, out, sizeof(out)), 0);
		CHECK_STR(ident(out), idn);
	}
}

static void test_one_spelling(void)
{
	/* an escape where none is needed, unknown escapes, a dangling '-' */
	CHECK_STR(ident("q--bob.example.com.q2q"), "(none)");
	CHECK_STR(ident("q--a-xb.example.com.q2q"), "(none)");
	CHECK_STR(ident("q--ab-.example.com.q2q"), "(none)");
	/* the plain form of a user that needs the escape */
	CHECK_STR(ident("-x.example.com.q2q"), "(none)");
	/* not an alias: no domain, a one-label domain, bad domain, no suffix */
	CHECK_STR(ident("bob.q2q"), "(none)");
	CHECK_STR(ident("bob.com.q2q"), "(none)");
	CHECK_STR(ident("bob.exa_mple.com.q2q"), "(none)");
	CHECK_STR(ident("bob.example.com"), "(none)");
	CHECK_STR(ident(".q2q"), "(none)");
	CHECK_STR(ident(""), "(none)");
	CHECK_STR(ident("bob..example.com.q2q"), "(none)");
}

static void test_case_and_dot(void)
{
	CHECK_STR(ident("Bob.Example.COM.Q2Q"), "bob@example.com");
	CHECK_STR(ident("bob.example.com.q2q."), "bob@example.com");
	CHECK_STR(ident("bob.example.com.q2q.."), "(none)");
}

static void test_limits(void)
{
	char idn[ID_NAME_MAX + 2], user[ID_USER_MAX + 1], dom[256];

	/* 63 plain bytes fit a label, 64 do not: no alias */
	memset(user, 'u', 63);
	user[63] = '\0';
	snprintf(idn, sizeof(idn), "%s@example.com", user);
	CHECK_INT(names_alias_from_identity(idn, out, sizeof(out)), 0);
	CHECK_STR(ident(out), idn);
	memset(user, 'u', 64);
	user[64] = '\0';
	snprintf(idn, sizeof(idn), "%s@example.com", user);
	CHECK_INT(names_alias_from_identity(idn, out, sizeof(out)), -ENAMETOOLONG);
	/* a domain that leaves no room for user and suffix */
	memset(dom, 'd', 63); dom[63] = '.';
	memset(dom + 64, 'e', 63); dom[127] = '.';
	memset(dom + 128, 'f', 63); dom[191] = '.';
	memset(dom + 192, 'g', 57); dom[249] = '\0';
	snprintf(idn, sizeof(idn), "ab@%s", dom);
	CHECK_INT(names_alias_from_identity(idn, out, sizeof(out)), -ENAMETOOLONG);
	/* too small an output buffer */
	CHECK_INT(names_alias_from_identity("bob@example.com", out, 19), -ENAMETOOLONG);
	CHECK_INT(names_alias_from_identity("bob@example.com", out, 20), 0);
	CHECK_INT(names_alias_from_identity("example.com", out, sizeof(out)), -EINVAL);
	CHECK_INT(names_alias_from_identity("Bob@example.com", out, sizeof(out)), -EINVAL);
}

static void test_host_names(void)
{
	char big[2000];

	CHECK_INT(names_host_to_identity("bob@example.com", id), 0);
	CHECK_STR(id, "bob@example.com");
	CHECK_INT(names_host_to_identity("bob.example.com.q2q", id), 0);
	CHECK_STR(id, "bob@example.com");
	CHECK_INT(names_host_to_identity("BOB.example.com.Q2Q.", id), 0);
	CHECK_STR(id, "bob@example.com");
	/* other sources' names: not ours */
	CHECK_INT(names_host_to_identity("localhost", id), -ENOENT);
	CHECK_INT(names_host_to_identity("www.example.com", id), -ENOENT);
	CHECK_INT(names_host_to_identity("q2q", id), -ENOENT);
	CHECK_INT(names_host_to_identity("", id), -ENOENT);
	CHECK_INT(names_host_to_identity("example.q2q.org", id), -ENOENT);
	/* ours in form, but no identity */
	CHECK_INT(names_host_to_identity("Bob@example.com", id), -EINVAL);
	CHECK_INT(names_host_to_identity("a@b@example.com", id), -EINVAL);
	CHECK_INT(names_host_to_identity("@example.com", id), -EINVAL);
	CHECK_INT(names_host_to_identity("nobody.q2q", id), -EINVAL);
	memset(big, 'a', sizeof(big) - 5);
	strcpy(big + sizeof(big) - 5, ".q2q");
	CHECK(names_host_to_identity(big, id) < 0);
	big[10] = '@';
	CHECK_INT(names_host_to_identity(big, id), -EINVAL);
}

int main(void)
{
	RUN(test_plain);
	RUN(test_escaped);
	RUN(test_round_trip);
	RUN(test_one_spelling);
	RUN(test_case_and_dot);
	RUN(test_limits);
	RUN(test_host_names);
	return HARNESS_END();
}
