/*
 * Host names for q2q identities. A program may name bob@example.com as
 * itself, or by its DNS-safe alias bob.example.com.q2q for tools that read
 * "user@" as a login name (ssh, scp, URLs). The alias's first label is the
 * user, verbatim when it is already a valid host-name label, otherwise
 * escaped behind the prefix "q--" ('-' -> "-h", '.' -> "-d", '_' -> "-u"):
 * alice.smith@example.com is q--alice-dsmith.example.com.q2q. Each identity
 * has at most one alias and each alias names one identity (PROTOCOL.md,
 * "Host names"). Pure string work.
 */
#ifndef Q2Q_NSS_ALIAS_H
#define Q2Q_NSS_ALIAS_H

#include <stddef.h>

#include "identity/name.h"

#define NAMES_ALIAS_SUFFIX	".q2q"
#define NAMES_ALIAS_MAX		253	/* a DNS name, without the trailing dot */

/* The alias of a valid user@domain into out: 0, -EINVAL if identity is not
 * user@domain, -ENAMETOOLONG if its alias would not be a DNS name (a first
 * label over 63 bytes or a name over 253: such an identity has no alias). */
int names_alias_from_identity(const char *identity, char *out, size_t outlen);

/* The identity an alias names (any case, one trailing dot allowed):
 * 0, or -EINVAL if name is not the alias of any identity. */
int names_alias_to_identity(const char *name, char identity[ID_NAME_MAX + 1]);

/* What a host name asks q2q for: 0 with the identity, -ENOENT if name is
 * not a q2q name at all (no '@', not ending in .q2q: leave it to other
 * sources), -EINVAL if it looks like one but names no valid identity. */
int names_host_to_identity(const char *name, char identity[ID_NAME_MAX + 1]);

#endif
