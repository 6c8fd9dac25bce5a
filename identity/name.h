/*
 * q2q identity names: "user@domain" for nodes, a bare "domain" for an
 * authority. Parsing is strict and never folds case, so that one identity
 * has exactly one spelling (its overlay IPv6 address is a hash of it).
 */
#ifndef Q2Q_IDENTITY_NAME_H
#define Q2Q_IDENTITY_NAME_H

#include <stddef.h>

#define ID_USER_MAX 64          /* bytes in the user part */
#define ID_DOMAIN_MAX 253
#define ID_NAME_MAX 318         /* user@domain, without NUL */

struct id_name {
	char user[ID_USER_MAX + 1];     /* "" for a bare domain */
	char domain[ID_DOMAIN_MAX + 1];
	char full[ID_NAME_MAX + 1];
	int is_domain;
};

/*
 * Accepts "user@domain" (is_domain = 0) or a bare "domain" (is_domain = 1).
 * Returns 0, or -EINVAL with a message naming the problem in err (which may
 * be NULL). out may be NULL to only validate.
 *   domain: 2+ labels of 1..63 [a-z0-9-], no label starting or ending in
 *           '-', 253 bytes at most, lower case only, no trailing dot.
 *   user:   1..64 bytes of [a-z0-9._-], not starting or ending in '.',
 *           no "..".
 */
int id_parse(const char *s, struct id_name *out, char *err, size_t errlen);
/* Like id_parse, but only "user@domain" is accepted. */
int id_parse_user(const char *s, struct id_name *out, char *err, size_t errlen);
/* Only a bare domain is accepted. */
int id_parse_domain(const char *s, char *err, size_t errlen);

#endif
