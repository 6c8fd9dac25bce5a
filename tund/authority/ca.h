/*
 * The authority's CA process: the only process that holds the domain's CA
 * key. It signs the TLS serving certificate the engine's listener uses and
 * the node certificates the engine asks for, each after its own checks,
 * over a SOCK_SEQPACKET socketpair (messages in tund/authority/camsg.h).
 * A compromised engine can ask, but gets only what the configuration
 * allows: identities of the domain, addresses from the pool that were never
 * certified for anyone else, granted subnets, at most cert_days.
 */
#ifndef Q2Q_CA_H
#define Q2Q_CA_H

#include <stddef.h>
#include <sys/types.h>

struct config;

/*
 * Called by q2qd's main, before the engine is forked, while still
 * privileged. Forks the CA process, which loads or creates the CA in cfg's
 * CA directory (authority.ca_dir), makes a fresh serving key (never
 * written to disk) and a serving certificate for the TLS listener signed
 * by the CA, and then serves requests on its end of a socketpair
 * (SOCK_SEQPACKET, CLOEXEC) until the other end closes or its parent dies.
 * *fd: the engine's end (the caller owns it; authority_start takes it);
 * *pid: the child. A failure at start (key unreadable, a CA certificate
 * for another domain) comes back as the CA's own words in err, after the
 * child has been reaped. 0 or -errno.
 */
int ca_spawn(const struct config *cfg, pid_t *pid, int *fd, char *err, size_t errlen);

#endif
