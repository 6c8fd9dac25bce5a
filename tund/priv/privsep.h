/*
 * q2qd's process split, done once at start, before anything reads the
 * network: the process that was started (as root, by systemd or by hand)
 * forks the engine and stays behind as the privileged part (priv.h); on
 * an authority the CA process was forked before (tund/authority/ca.h).
 *
 *   q2qd (privileged part)   uid 0, CAP_NET_ADMIN only: TUN + netlink
 *    |- q2qd-ca              uid 0, no capabilities: the CA key, signing
 *    `- q2qd-engine          the -u user, no capabilities, seccomp:
 *                            TLS, every wire parser, NAT traversal, relay,
 *                            control socket, registry
 */
#ifndef Q2Q_PRIVSEP_H
#define Q2Q_PRIVSEP_H

#include <stddef.h>
#include <sys/types.h>

struct config;

/*
 * Forks the engine. Returns 0 in the engine, after it became uid/gid
 * ((uid_t)-1: stays) with no capabilities, with its end of the privileged
 * part's socketpair in *priv_fd. In the original process it never returns:
 * that keeps only CAP_NET_ADMIN, serves the engine and exits with its
 * status. ca_pid/ca_engine_fd: the CA process and the engine's end of its
 * socket (0 and -1 if none): the privileged part closes the fd and
 * supervises the pid. -errno with err before the fork fails.
 */
int privsep_split(const struct config *cfg, uid_t uid, gid_t gid, pid_t ca_pid, int ca_engine_fd,
    int *priv_fd, char *err, size_t errlen);

#endif
