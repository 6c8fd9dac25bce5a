/*
 * Serving as an exit node (issue 13): a node whose certificate grants
 * 0.0.0.0/0 and ::/0 forwards what its peers send into q2q0 out of its
 * uplink, masqueraded. The privileged part turns forwarding on (saving
 * what it was, and fencing the other interfaces in a forward chain when it
 * was off, so nothing else starts being forwarded) and puts a table of its
 * own (inet q2q_exit) in place; off, the engine's death and exit remove
 * the table and put the old forwarding settings back.
 * A compromised engine gains nothing by it: it can already send anything
 * anywhere from its own sockets.
 */
#ifndef Q2Q_PRIV_EXITNAT_H
#define Q2Q_PRIV_EXITNAT_H

#include <stddef.h>

#define EXITNAT_TABLE "q2q_exit"

/* The nft script for ifname; v4_off/v6_off: forwarding was off for that
 * family before (then only q2q0's traffic is forwarded). Pure. Returns
 * the length, -EINVAL for a bad name, -ENOSPC. */
int exitnat_script(const char *ifname, int v4_off, int v6_off, char *buf, size_t cap);

/* On: 0 or -errno, with the reason in err. */
int exitnat_on(const char *ifname, char *err, size_t errlen);

/* Off (whether or not it was on); 0 or -errno. */
int exitnat_off(char *err, size_t errlen);

#endif
