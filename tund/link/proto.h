/*
 * The control protocol between a node and an authority, carried as framed
 * TLV messages (netstack/msg.h) over TLS 1.3 on TCP port 8788.
 *
 *   ENROLL   identity, token, csr      -> CERT cert | ERROR
 *            (no client certificate; the token is the credential)
 *   RENEW    csr                       -> CERT cert | ERROR
 *            (client certificate required; identity taken from it)
 *   REGISTER port, endpoint*           -> REGISTERED reflexive, pool
 *   LOOKUP   identity | addr           -> PEER identity, cert, endpoint* | ERROR
 *            (only nodes online now are found; by address, the node whose
 *            certificate binds it or grants the longest subnet holding it)
 *   REVOKED_SINCE rev_cursor           -> REVOKED rev_since, rev_cursor, rev_more,
 *                                         rev_entry* (at most AUTH_REV_PAGE)
 *   REVOKED  rev_since, rev_cursor, rev_more, rev_entry*
 *            (also unasked, authority -> every registered node, the moment
 *            a revocation happens; rev_since > what the node has means it
 *            missed some: it asks REVOKED_SINCE. PROTOCOL.md, "Revocation")
 *   BROKER   lookup_id, identity, cert, node_id, nat, token, endpoint*
 *            (authority -> callee: someone wants you; answer BROKER_OK or
 *            BROKER_REFUSE lookup_id; only after OK does the caller get
 *            the callee's PEER reply, so a refused caller learns nothing)
 *
 * LOOKUP and its PEER/ERROR answer carry lookup_id: brokered answers may
 * come back out of order. PEER also carries node_id, nat and token. The
 * UDP service (netstack/authwire.h) listens on the TCP port P and on P+2; REGISTERED gives the node its node_id and UDP key.
 *   PING / PONG                        (link liveness)
 *   POLICY   state, gen, group*, rule* (authority -> node, after REGISTERED
 *            and whenever the authority's policy is reloaded: the groups and
 *            rules whose "to" names the node; tund/policy/polmsg.h)
 *
 * Before a connection has authenticated (a request carrying a valid
 * client certificate: RENEW, REGISTER or LOOKUP) the authority takes only
 * those and one ENROLL, in frames no larger than an enrollment needs, for
 * at most a few seconds (tund/authority/authority.c); anything else gets
 * PERR_UNAUTHENTICATED and the connection is closed.
 *
 * Endpoints are 18 bytes: IPv6 address (v4-mapped for IPv4) || port (BE).
 * Error codes are stable numbers so a client can tell a used token from an
 * expired one without parsing text; the text is for humans.
 */
#ifndef Q2Q_PROTO_H
#define Q2Q_PROTO_H

#define PROTO_PORT 8788

enum proto_msg {
	MSG_ERROR = 1,
	MSG_ENROLL = 2,
	MSG_CERT = 3,
	MSG_RENEW = 4,
	MSG_REGISTER = 5,
	MSG_REGISTERED = 6,
	MSG_LOOKUP = 7,
	MSG_PEER = 8,
	MSG_REVOKED = 9,
	MSG_PING = 10,
	MSG_PONG = 11,
	MSG_BROKER = 12,
	MSG_BROKER_OK = 13,
	MSG_BROKER_REFUSE = 14,
	MSG_POLICY = 15,	/* authority -> node: the rules naming it (polmsg.h) */
	MSG_REVOKED_SINCE = 16,
};

enum proto_tag {
	T_CODE = 1,		/* u32 */
	T_TEXT = 2,		/* UTF-8 text, no NUL */
	T_IDENTITY = 3,
	T_TOKEN = 4,
	T_CSR = 5,		/* DER */
	T_CERT = 6,		/* DER */
	T_ENDPOINT = 7,		/* 18 bytes */
	T_SERIAL = 8,		/* hex text (REVOKED before rev_entry; unused now) */
	T_REFLEXIVE = 9,	/* 18 bytes */
	T_PORT = 10,		/* u32: the node's UDP data port */
	T_ADDR = 11,		/* 4 or 16 bytes: an overlay address */
	T_NODE_ID = 12,		/* u32: a node's id at the authority's UDP service */
	T_UDP_KEY = 13,		/* 32 bytes: the node's key for that service */
	T_NAT = 14,		/* u32: NAT_* flags the authority observed */
	T_LOOKUP_ID = 15,	/* u32: matches a LOOKUP to its answer */
	T_PUNCH_TOKEN = 16,	/* 16 bytes: authenticates PUNCH datagrams */
	T_CA = 17,		/* DER: the described node's domain CA */
	T_POOL = 18,		/* 5 bytes: the domain's IPv4 pool, network(4) || plen(1) */
	/* 19: kept for routing */
	T_POL_STATE = 20,	/* u32: 1 a policy is in force, 0 none (all allowed) */
	T_POL_GEN = 21,		/* u32: the authority's policy generation */
	T_POL_GROUP = 22,	/* one group: tund/policy/polmsg.c */
	T_POL_RULE = 23,	/* one rule: tund/policy/polmsg.c */
	/* 24: kept for the policy */
	T_REV_CURSOR = 25,	/* u64: the authority's revocation number to ask from next */
	T_REV_SINCE = 26,	/* u64: the number these revocations follow */
	T_REV_MORE = 27,	/* u32: 1 if more follow rev_cursor (ask again) */
	T_REV_ENTRY = 28,	/* u64 not_after (BE) || serial (1..40 hex digits) */
};

#define PROTO_REV_ENTRY_MIN 9
#define PROTO_REV_ENTRY_MAX 48

enum proto_err {
	PERR_BAD_TOKEN = 1,
	PERR_TOKEN_USED = 2,
	PERR_TOKEN_EXPIRED = 3,
	PERR_WRONG_DOMAIN = 4,
	PERR_BAD_IDENTITY = 5,
	PERR_BAD_CSR = 6,
	PERR_REVOKED = 7,
	PERR_NOT_FOUND = 8,
	PERR_INTERNAL = 9,
	PERR_UNAUTHENTICATED = 10,
	PERR_PROTOCOL = 11,
	PERR_REFUSED = 12,
};

#define PROTO_ENDPOINT_LEN 18
#define PROTO_POOL_LEN 5

/* What the authority saw of a node's NAT from its two UDP ports. */
#define NAT_KNOWN	0x1	/* probes arrived on both ports */
#define NAT_VARIES	0x2	/* mapping differs per destination ("hard") */
#define NAT_PRESERVES	0x4	/* external port equals the node's local port */

#endif
