/*
 * Shedding privileges, once per process at start: q2qd is started as root
 * (by systemd or by hand) and each part keeps only what its job needs.
 * After these calls no part can regain anything: no_new_privs is set, the
 * ambient set is empty and, where the process may, the bounding set too.
 */
#ifndef Q2Q_PRIVDROP_H
#define Q2Q_PRIVDROP_H

#include <stddef.h>
#include <sys/types.h>

/* Looks up user's uid and primary gid. -ENOENT if there is no such user. */
int privdrop_lookup(const char *user, uid_t *uid, gid_t *gid);

/*
 * The engine and the CA process: become uid/gid (unless uid is (uid_t)-1:
 * keep the current one), with no supplementary groups and no capabilities
 * at all; no_new_privs; not dumpable (no same-uid ptrace or core with
 * secrets); parent-death signal SIGTERM, so a part never outlives the
 * privileged parent. -errno with the step that failed in err.
 */
int privdrop_all(uid_t uid, gid_t gid, char *err, size_t errlen);

/* The privileged part: keep CAP_NET_ADMIN only (uid stays 0, which owns
 * /dev/net/tun however its mode is set); no_new_privs. */
int privdrop_keep_netadmin(char *err, size_t errlen);

#endif
