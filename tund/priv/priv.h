/*
 * The privileged part of q2qd: the only process that keeps CAP_NET_ADMIN.
 * It opens the TUN device and configures the one interface of the config,
 * for the engine, over a SOCK_SEQPACKET socketpair (tund/priv/privmsg.h),
 * after checking each request (tund/priv/privpol.h). It also supervises:
 * it forwards SIGTERM/SIGINT/SIGHUP to the engine, and when the engine or
 * the CA process dies it stops the other and exits, so systemd sees one
 * failed unit and restarts it whole.
 */
#ifndef Q2Q_PRIV_H
#define Q2Q_PRIV_H

#include <sys/types.h>

/*
 * Serves the engine on sock until the engine is gone. engine and ca are
 * the children's pids (ca 0 if none). Returns the daemon's exit status: 0
 * if every part exited 0 after a stop signal, 1 if one died or failed.
 */
int priv_serve(int sock, const char *ifname, pid_t engine, pid_t ca);

#endif
