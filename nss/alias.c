/*
 * Between identities and their DNS-safe aliases (nss/alias.h). Decoding
 * re-encodes its result and insists on getting the input back, so that an
 * alias has one spelling only, as identities do (identity/name.c).
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "nss/alias.h"

#define ESC_PREFIX	"q--"
#define LABEL_MAX	63

static int is_ldh(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/* Usable verbatim as the first label. */
static int user_plain(const char *u, size_t n)
{
	size_t i;

	if (n == 0 || n > LABEL_MAX || u[0] == '-' || u[n - 1] == '-')
		return 0;
	if (n >= 3 && memcmp(u, ESC_PREFIX, 3) == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!is_ldh(u[i]))
			return 0;
	return 1;
}

/* The first label for user u (n bytes) into out (LABEL_MAX + 1): its
 * length, or 0 if the label would be too long. */
static size_t user_label(const char *u, size_t n, char *out)
{
	size_t i, o;

	if (user_plain(u, n)) {
		memcpy(out, u, n);
		out[n] = '\0';
		return n;
	}
	memcpy(out, ESC_PREFIX, 3);
	o = 3;
	for (i = 0; i < n; i++) {
		char e = u[i] == '-' ? 'h' : u[i] == '.' ? 'd' : u[i] == '_' ? 'u' : 0;

		if (o + (e ? 2 : 1) > LABEL_MAX)
			return 0;
		if (e) {
			out[o++] = '-';
			out[o++] = e;
		} else {
			out[o++] = u[i];
		}
	}
	out[o] = '\0';
	return o;
}

int names_alias_from_identity(const char *identity, char *out, size_t outlen)
{
	struct id_name id;
	char label[LABEL_MAX + 1];
	size_t ll, dl;

	if (id_parse_user(identity, &id, NULL, 0) < 0)
		return -EINVAL;
	ll = user_label(id.user, strlen(id.user), label);
	dl = strlen(id.domain);
	if (!ll || ll + 1 + dl + strlen(NAMES_ALIAS_SUFFIX) > NAMES_ALIAS_MAX)
		return -ENAMETOOLONG;
	if (ll + 1 + dl + strlen(NAMES_ALIAS_SUFFIX) + 1 > outlen)
		return -ENAMETOOLONG;
	memcpy(out, label, ll);
	out[ll] = '.';
	memcpy(out + ll + 1, id.domain, dl);
	strcpy(out + ll + 1 + dl, NAMES_ALIAS_SUFFIX);
	return 0;
}

/* The user an escaped label (after the prefix) stands for. */
static int label_unescape(const char *l, size_t n, char *out, size_t outlen)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		char c = l[i];

		if (c == '-') {
			if (++i == n)
				return -EINVAL;
			c = l[i] == 'h' ? '-' : l[i] == 'd' ? '.' : l[i] == 'u' ? '_' : 0;
			if (!c)
				return -EINVAL;
		} else if (!is_ldh(c)) {
			return -EINVAL;
		}
		if (o + 1 >= outlen)
			return -EINVAL;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

int names_alias_to_identity(const char *name, char identity[ID_NAME_MAX + 1])
{
	char low[NAMES_ALIAS_MAX + 2], user[ID_USER_MAX + 1], again[NAMES_ALIAS_MAX + 1];
	size_t n = strnlen(name, sizeof(low)), sl = strlen(NAMES_ALIAS_SUFFIX), i, ll;
	const char *dot;

	if (n >= sizeof(low))
		return -EINVAL;
	/* Host names are case-insensitive; identities are lower case. */
	for (i = 0; i < n; i++)
		low[i] = name[i] >= 'A' && name[i] <= 'Z' ? (char)(name[i] - 'A' + 'a') : name[i];
	low[n] = '\0';
	if (n && low[n - 1] == '.')
		low[--n] = '\0';
	if (n <= sl || n > NAMES_ALIAS_MAX || strcmp(low + n - sl, NAMES_ALIAS_SUFFIX) != 0)
		return -EINVAL;
	low[n - sl] = '\0';
	dot = strchr(low, '.');
	if (!dot)
		return -EINVAL;
	ll = (size_t)(dot - low);
	if (ll >= 3 && memcmp(low, ESC_PREFIX, 3) == 0) {
		if (label_unescape(low + 3, ll - 3, user, sizeof(user)) < 0)
			return -EINVAL;
	} else {
		if (ll == 0 || ll >= sizeof(user))
			return -EINVAL;
		memcpy(user, low, ll);
		user[ll] = '\0';
	}
	if (strlen(user) + 1 + strlen(dot + 1) > ID_NAME_MAX)
		return -EINVAL;
	strcpy(identity, user);
	strcat(identity, "@");
	strcat(identity, dot + 1);
	/* One spelling: the alias must be exactly the identity's own. */
	low[n - sl] = '.';
	if (names_alias_from_identity(identity, again, sizeof(again)) < 0 || strcmp(again, low) != 0)
		return -EINVAL;
	return 0;
}

int names_host_to_identity(const char *name, char identity[ID_NAME_MAX + 1])
{
	size_t n = strnlen(name, NAMES_ALIAS_MAX + 2), sl = strlen(NAMES_ALIAS_SUFFIX);
	const char *end;

	if (strchr(name, '@')) {
		if (id_parse_user(name, NULL, NULL, 0) < 0)
			return -EINVAL;
		strcpy(identity, name);
		return 0;
	}
	end = name + n;
	if (n && end[-1] == '.')
		end--, n--;
	if (n < sl || strncasecmp(end - sl, NAMES_ALIAS_SUFFIX, sl) != 0)
		return -ENOENT;
	return names_alias_to_identity(name, identity);
}
