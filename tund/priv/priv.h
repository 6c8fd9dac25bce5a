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

#include <stdint.h>
#include <sys/types.h>

/*
 * q2q's routes live in their own routing table (`route_table`, default
 * PRIV_ROUTE_TABLE), chosen by one policy rule per family at priority
 * PRIV_RULE_PREF, ahead of the main table (32766), so a more specific
 * route that arrives another way (DHCP option 121: TunnelVision) cannot
 * take overlay traffic off the interface. The rule is "not uidrange
 * E-E lookup TABLE" for the engine's uid E, so the engine's own underlay
 * sockets (data port, authority links, DNS) never meet q2q's routes.
 */
#define PRIV_ROUTE_TABLE 5288
#define PRIV_RULE_PREF 5288

/* How the privileged part serves: the engine's uid is -1 when the engine
 * shares root's (then no rule can single it out). */
struct priv_setup {
	const char *ifname;
	uint32_t table;
	long engine_uid;
	int auth_port;		/* an authority's TCP/UDP port P (and UDP P+2), else 0 */
	int allow_default;	/* allow_exit_node: default routes into q2q's table */
	uint8_t foreign[4];	/* foreign_pool: other domains' peers' local IPv4s */
	uint8_t foreign_plen;
};

/*
 * Serves the engine on sock until the engine is gone. engine and ca are
 * the children's pids (ca 0 if none). The policy rules are removed when
 * the engine asks, when it dies however it dies, and before returning.
 * Returns the daemon's exit status: 0 if every part exited 0 after a stop
 * signal, 1 if one died or failed.
 */
int priv_serve(int sock, const struct priv_setup *setup, pid_t engine, pid_t ca);

#endif
