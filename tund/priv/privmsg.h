/*
 * Messages between the engine and the privileged part (tund/priv/priv.c).
 * The engine asks; the privileged part checks (privpol.h), acts and
 * answers with one REPLY. Every message is a 4-byte header (type, body
 * length, both big-endian 16-bit) and a fixed-size body per type, so a
 * decoder can demand the exact length before reading a field. A TUN_OPEN
 * reply carries the device's descriptor beside it (SCM_RIGHTS).
 *
 *   TUN_OPEN   ifname[16] offload(1)            -> REPLY (+ fd)
 *   LINK_SET   up(1) mtu(4)                     -> REPLY
 *   ADDR_ADD   family(1) addr(16) plen(1)       -> REPLY   (also ADDR_DEL,
 *   ROUTE_ADD  family(1) addr(16) plen(1)       -> REPLY    ROUTE_DEL,
 *                                                          ROUTE_THROW)
 *   NOTIFY     what(1): READY, WATCHDOG, STOPPING -> REPLY
 *   RULES      on(1) port(2)                -> REPLY (flag: 1 if the
 *              engine's own sockets skip q2q's table, see priv.h; port:
 *              the engine's UDP data port, which the guard lets in)
 *   EXIT       on(1)                        -> REPLY (serve as exit node:
 *              forwarding and masquerade, tund/priv/exitnat.h)
 *   SIGNAL     signo(1): SIGTERM, SIGINT, SIGHUP   (the other way: the
 *              privileged part passes on a stop or reload; as root without
 *              CAP_KILL it may not kill(2) the engine's uid, and should not)
 *   REPLY      rc(4, -errno) ifname[16] ifindex(4) vnet(1)
 *
 * Pure code: no I/O, no logging.
 */
#ifndef Q2Q_PRIVMSG_H
#define Q2Q_PRIVMSG_H

#include <stddef.h>
#include <stdint.h>

#define PRIVMSG_IFNAMSIZ 16
#define PRIVMSG_MAX 64		/* no message is longer */

enum privmsg_type {
	PRIV_TUN_OPEN = 1,
	PRIV_LINK_SET,
	PRIV_ADDR_ADD,
	PRIV_ADDR_DEL,
	PRIV_ROUTE_ADD,
	PRIV_ROUTE_DEL,
	PRIV_NOTIFY,
	PRIV_SIGNAL,
	PRIV_RULES,
	PRIV_EXIT,
	PRIV_ROUTE_THROW,
	PRIV_REPLY = 0x80,
};

/* What the engine asks the privileged part to tell systemd: the unit's
 * main process is the privileged part, so only it may (NotifyAccess=main). */
enum privmsg_notify { PRIV_NOTIFY_READY = 1, PRIV_NOTIFY_WATCHDOG, PRIV_NOTIFY_STOPPING };

struct privmsg {
	uint16_t type;
	char ifname[PRIVMSG_IFNAMSIZ];	/* TUN_OPEN, REPLY: NUL-terminated */
	uint8_t flag;			/* TUN_OPEN offload, LINK_SET up, REPLY vnet: 0 or 1;
					 * NOTIFY: enum privmsg_notify; SIGNAL: signo;
					 * RULES, EXIT: on (1) or off (0) */
	uint32_t mtu;			/* LINK_SET */
	uint16_t port;			/* RULES: 1..65535 when on, 0 when off */
	uint8_t family;			/* ADDR_*, ROUTE_*: AF_INET or AF_INET6 */
	uint8_t addr[16];		/* first 4 bytes for AF_INET, rest zero */
	uint8_t plen;
	int32_t rc;			/* REPLY */
	int32_t ifindex;		/* REPLY */
};

/* Writes m into buf; returns its length or -EINVAL (unknown type, a field
 * out of range) / -ENOSPC. */
int privmsg_encode(const struct privmsg *m, uint8_t *buf, size_t cap);

/* Parses exactly one message of len bytes into *m (zeroed first).
 * -EBADMSG for a wrong length, an unknown type or any field out of range:
 * an unterminated or empty name, a flag not 0/1, a family other than
 * AF_INET/AF_INET6, a prefix length beyond the family's, stray bytes after
 * an IPv4 address. */
int privmsg_decode(const uint8_t *buf, size_t len, struct privmsg *m);

/* "TUN_OPEN", "ROUTE_ADD", ...; "unknown" otherwise. Static storage. */
const char *privmsg_name(uint16_t type);

#endif
