/*
 * Validation of identity strings. Everything that names a peer, a CA or a
 * certificate subject passes through here, including bytes that came off
 * the network, so the rules are a whitelist and every rejection says which
 * part of the input broke which rule. Input is echoed back in messages only
 * in escaped, truncated form: the caller may print it to a terminal or log.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "identity/name.h"

#define QUOTE_MAX 48            /* input bytes echoed in an error message */

/* Copies s into out with non-printable bytes escaped as \xNN. */
static void name_quote(const char *s, char *out, size_t outlen)
{
	size_t o = 0, i;

	for (i = 0; s[i] && i < QUOTE_MAX; i++) {
		unsigned char c = (unsigned char)s[i];

		if (o + 5 >= outlen)
			break;
		if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
	}
	if (s[i] && o + 4 < outlen) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

__attribute__((format(printf, 4, 5)))
static int name_err(char *err, size_t errlen, const char *input,
		    const char *fmt, ...)
{
	char q[QUOTE_MAX * 4 + 8], msg[160];
	va_list ap;

	if (!err || !errlen)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	name_quote(input, q, sizeof(q));
	snprintf(err, errlen, "'%s': %s", q, msg);
	return -EINVAL;
}

/* Describes a rejected byte for a message: "upper-case 'A'", "byte 0xc3". */
static void name_badchar(unsigned char c, char *buf, size_t len)
{
	if (c >= 'A' && c <= 'Z')
		snprintf(buf, len, "upper-case '%c' (use lower case)", c);
	else if (c == ' ')
		snprintf(buf, len, "a space");
	else if (c > 0x20 && c < 0x7f)
		snprintf(buf, len, "invalid character '%c'", c);
	else
		snprintf(buf, len, "invalid byte 0x%02x", c);
}

static int is_ldh(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

static int check_domain(const char *input, const char *d, size_t n,
			char *err, size_t errlen)
{
	size_t i, start = 0, labels = 0;
	char what[48];

	if (n == 0)
		return name_err(err, errlen, input, "domain is empty");
	if (n > ID_DOMAIN_MAX)
		return name_err(err, errlen, input,
				"domain is longer than %d bytes", ID_DOMAIN_MAX);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)d[i];

		if (c != '.' && !is_ldh(c)) {
			name_badchar(c, what, sizeof(what));
			return name_err(err, errlen, input, "domain has %s", what);
		}
	}
	if (d[n - 1] == '.')
		return name_err(err, errlen, input,
				"domain ends with '.' (drop the trailing dot)");
	for (i = 0; i <= n; i++) {
		size_t llen;

		if (i < n && d[i] != '.')
			continue;
		llen = i - start;
		if (llen == 0)
			return name_err(err, errlen, input,
					"domain has an empty label");
		if (llen > 63)
			return name_err(err, errlen, input,
					"domain label is longer than 63 bytes");
		if (d[start] == '-' || d[i - 1] == '-')
			return name_err(err, errlen, input,
					"domain label starts or ends with '-'");
		labels++;
		start = i + 1;
	}
	if (labels < 2)
		return name_err(err, errlen, input,
				"domain needs at least two labels (like example.com)");
	return 0;
}

static int check_user(const char *input, const char *u, size_t n,
		      char *err, size_t errlen)
{
	size_t i;
	char what[48];

	if (n == 0)
		return name_err(err, errlen, input, "user part is empty");
	if (n > ID_USER_MAX)
		return name_err(err, errlen, input,
				"user part is longer than %d bytes", ID_USER_MAX);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)u[i];

		if (is_ldh(c) || c == '.' || c == '_')
			continue;
		name_badchar(c, what, sizeof(what));
		return name_err(err, errlen, input, "user part has %s", what);
	}
	if (u[0] == '.' || u[n - 1] == '.')
		return name_err(err, errlen, input,
				"user part starts or ends with '.'");
	for (i = 0; i + 1 < n; i++)
		if (u[i] == '.' && u[i + 1] == '.')
			return name_err(err, errlen, input,
					"user part has '..'");
	return 0;
}

int id_parse(const char *s, struct id_name *out, char *err, size_t errlen)
{
	const char *at, *domain;
	size_t n, ulen = 0;
	int rc;

	if (!s)
		return name_err(err, errlen, "", "no identity given");
	/* Bound the scan before anything else: s may be hostile and huge. */
	n = strnlen(s, ID_NAME_MAX + 1);
	if (n > ID_NAME_MAX)
		return name_err(err, errlen, s, "longer than %d bytes",
				ID_NAME_MAX);
	if (n == 0)
		return name_err(err, errlen, s, "identity is empty");
	at = memchr(s, '@', n);
	if (at && memchr(at + 1, '@', n - (size_t)(at + 1 - s)))
		return name_err(err, errlen, s, "has more than one '@'");
	if (at) {
		ulen = (size_t)(at - s);
		rc = check_user(s, s, ulen, err, errlen);
		if (rc)
			return rc;
		domain = at + 1;
	} else {
		domain = s;
	}
	rc = check_domain(s, domain, n - (size_t)(domain - s), err, errlen);
	if (rc)
		return rc;
	if (out) {
		memset(out, 0, sizeof(*out));
		memcpy(out->user, s, ulen);
		memcpy(out->domain, domain, n - (size_t)(domain - s));
		memcpy(out->full, s, n);
		out->is_domain = !at;
	}
	return 0;
}

int id_parse_user(const char *s, struct id_name *out, char *err, size_t errlen)
{
	struct id_name tmp;
	int rc;

	rc = id_parse(s, &tmp, err, errlen);
	if (rc)
		return rc;
	if (tmp.is_domain)
		return name_err(err, errlen, s,
				"is a domain, expected user@domain");
	if (out)
		*out = tmp;
	return 0;
}

int id_parse_domain(const char *s, char *err, size_t errlen)
{
	struct id_name tmp;
	int rc;

	rc = id_parse(s, &tmp, err, errlen);
	if (rc)
		return rc;
	if (!tmp.is_domain)
		return name_err(err, errlen, s,
				"is user@domain, expected a bare domain");
	return 0;
}
