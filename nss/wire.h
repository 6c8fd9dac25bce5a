/*
 * The names protocol: what libnss_q2q asks q2qd over the names socket
 * (default /run/q2q/names.sock, open to every local user) and what q2qd
 * answers. One request and one reply per connection, each a single
 * SOCK_SEQPACKET message of a fixed layout (PROTOCOL.md, "Names socket").
 * Two questions only: the addresses of an identity, and the identity of
 * an overlay address. Pure encoding and decoding; both sides check every
 * byte, the module because its answers go straight to every program that
 * resolves a host name.
 */
#ifndef Q2Q_NSS_WIRE_H
#define Q2Q_NSS_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "identity/name.h"

#define NAMES_VERSION		1
#define NAMES_OP_RESOLVE	1	/* identity -> its overlay addresses */
#define NAMES_OP_WHOIS		2	/* overlay address -> identity (and its addresses) */

enum names_status {
	NAMES_OK = 0,
	NAMES_NOTFOUND = 1,	/* no such identity or address known */
	NAMES_BADREQ = 2,	/* the request was malformed */
	NAMES_UNAVAIL = 3,	/* the overlay is down, or q2qd is busy */
};

#define NAMES_ADDR_MAX	2	/* one IPv4, one IPv6 */
/* Largest message either way: a reply with the longest name and both addresses. */
#define NAMES_MSG_MAX	(6 + ID_NAME_MAX + NAMES_ADDR_MAX * 17)

struct names_addr {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t a[16];		/* 4 or 16 bytes used */
};

struct names_req {
	int op;
	char name[ID_NAME_MAX + 1];	/* RESOLVE: a user@domain */
	struct names_addr addr;		/* WHOIS: an overlay address */
};

struct names_reply {
	int op;				/* the request's */
	int status;			/* enum names_status */
	char name[ID_NAME_MAX + 1];	/* with NAMES_OK: the identity */
	int n_addr;
	struct names_addr addr[NAMES_ADDR_MAX];
};

/* 1 if the address lies in an overlay range (100.64.0.0/10, fd00::/8). */
int names_addr_is_overlay(int family, const uint8_t *a);

/* Bytes written to buf (at least NAMES_MSG_MAX long), or 0 if r is not a
 * valid request / reply. */
size_t names_req_encode(const struct names_req *r, uint8_t *buf, size_t len);
size_t names_reply_encode(const struct names_reply *r, uint8_t *buf, size_t len);

/* 0, or -EBADMSG with why in err (which may be NULL): wrong version,
 * unknown op, a length that disagrees with the message, a name that is not
 * user@domain, an address outside the overlay ranges, trailing bytes. */
int names_req_decode(const uint8_t *buf, size_t len, struct names_req *out,
    char *err, size_t errlen);
/* As above, and the reply must answer req: same op; an OK RESOLVE names
 * req's identity, an OK WHOIS holds req's address. */
int names_reply_decode(const uint8_t *buf, size_t len, const struct names_req *req,
    struct names_reply *out, char *err, size_t errlen);

#endif
