/*
 * The engine's side of the privileged part: each call is one synchronous
 * request and reply (the engine configures rarely: at `q2qctl up`). All
 * return 0 or -errno: the kernel's, or -EPERM when the privileged part
 * refused the request (it logs why), -ETIMEDOUT/-EPIPE when it is gone,
 * -ENOTCONN before privclient_init. The interface is always the one the
 * privileged part opened; it looks up its index itself.
 */
#ifndef Q2Q_PRIVCLIENT_H
#define Q2Q_PRIVCLIENT_H

#include <net/if.h>
#include <stdint.h>

/* The engine's end of the socketpair; the caller keeps owning it. */
void privclient_init(int fd);

/* Reads what the privileged part sent between requests (call when the
 * socket is readable): a SIGNAL is raised to ourselves. 0, or -EPIPE once
 * the privileged part is gone. */
int privclient_handle(void);

/* Creates ifname and returns its descriptor (*fd, close-on-exec,
 * non-blocking; the caller owns it), the kernel's name and its index. */
int privclient_tun_open(const char *ifname, int offload, char actual[IFNAMSIZ], int *ifindex, int *fd);
int privclient_link_set(int up, int mtu);
int privclient_addr_add(int family, const uint8_t *addr, uint8_t plen);
int privclient_route_add(int family, const uint8_t *dst, uint8_t plen);
int privclient_route_del(int family, const uint8_t *dst, uint8_t plen);
/* A throw route in q2q's table: dst/plen goes by the host's other rules. */
int privclient_route_throw(int family, const uint8_t *dst, uint8_t plen);

/* Puts q2q's policy rules and the guard in place (on; again when the pool
 * changed) or takes them away. port: the UDP data port (on only). *exempt
 * (may be NULL) says whether the engine's own sockets skip q2q's table. */
int privclient_rules(int on, int port, int *exempt);

/* Serving as an exit node (on) or not: forwarding and masquerade from
 * the interface to the uplink (tund/priv/exitnat.h). */
int privclient_exit(int on);

/* Tells systemd (through the privileged part, the unit's main process)
 * READY=1, WATCHDOG=1 or STOPPING=1: what is enum privmsg_notify. */
int privclient_notify(int what);

#endif
