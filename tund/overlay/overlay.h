/*
 * The overlay: the q2q0 interface, the UDP data port, handshakes with
 * peers and the encrypted data path between them. Exists between
 * `q2qctl up` and `q2qctl down`.
 *
 * What the control socket asks of it, it answers in plain C snapshots
 * (a struct per peer: identity, certificate, path, endpoint, counters),
 * copies the caller keeps; the control protocol (tund/ctl/) decides how
 * they look on the wire. Requests that wait on the network (resolve,
 * ping) answer through a callback, exactly once, perhaps before they
 * return.
 */
#ifndef Q2Q_OVERLAY_H
#define Q2Q_OVERLAY_H

#include <stddef.h>
#include <stdint.h>
#include <net/if.h>

#include "identity/cert.h"
#include "netstack/udp.h"
#include "tund/overlay/routes.h"
#include "tund/overlay/workers.h"
#include "tund/portmap/portmap.h"

struct config;
struct loop;
struct node;
struct overlay;

/* Creates the interface and everything else; on failure nothing is left. */
int overlay_up(struct loop *l, const struct config *cfg, struct node *n, struct overlay **out,
    char *err, size_t errlen);
/* Removes the interface (its addresses and routes go with it). Requests
 * still waiting are answered with a failure first. */
void overlay_down(struct overlay *o);

/* The data path seals and opens its batches across w's threads (the
 * daemon's; it outlives the overlay). Without memory, it stays on the
 * loop thread alone, and says so. */
struct workers;
void overlay_use_workers(struct overlay *o, struct workers *w);

/* The config's policy changed (reload): the local rules are replaced. */
void overlay_policy_reload(struct overlay *o);

/* The identity firewall's state, read only (tund/policy/fw.h). */
struct fw;
const struct fw *overlay_policy_state(const struct overlay *o);

/* domain's CA is no longer trusted (q2qctl trust forget): its authority's
 * link closes, its peers lose their sessions and routes, and handshakes
 * with them fail from now on. How many peers were cut off. */
int overlay_forget_domain(struct overlay *o, const char *domain);

/* Registered with our own authority? */
int overlay_registered(const struct overlay *o);

/* How a wait for the registration ended: registered; not yet (the link's
 * attempt failed, or no answer within OVERLAY_REG_WAIT_MS: it keeps
 * trying); or the overlay went down first. */
enum overlay_reg { OVERLAY_REG_DONE, OVERLAY_REG_NOT_YET, OVERLAY_REG_GONE };
#define OVERLAY_REG_WAIT_MS 5000
typedef void overlay_reg_fn(void *arg, enum overlay_reg r, const char *why);
/* fn, once, when our own authority's link has registered us or cannot
 * yet (why says why; NULL when registered): at once if that is known
 * now. Until registered, a peer looking us up is told we are not there
 * (and keeps that answer for a while), so `q2qctl up` answers only then. */
void overlay_await_registration(struct overlay *o, overlay_reg_fn *fn, void *arg);

/* ------------------------------------------------------ snapshots */

enum overlay_path { OVERLAY_PATH_NONE, OVERLAY_PATH_DIRECT, OVERLAY_PATH_RELAY };

#define OVERLAY_MAX_CANDIDATES	16

struct overlay_peer_info {
	char identity[ID_NAME_MAX + 1];
	int have_cert;
	struct cert_info ci;		/* with have_cert: addresses, routes, validity;
					 * ci.v4 is the IPv4 this node shows for it */
	int no_v4;			/* another domain's peer that has no IPv4 here */
	int remembered;			/* no peer now, only the local IPv4 this node gave
					 * it (ci.identity, ci.v4 and ci.v6 are set) */
	int translated;			/* another domain's peer: ci.v4 is a local one, */
	uint8_t cert_v4[4];		/* ... and this its certificate's */
	int have_endpoint;
	char endpoint[UDP_ADDR_STRLEN];	/* "192.0.2.12:8789" or "relay" */
	int n_candidates;
	char candidates[OVERLAY_MAX_CANDIDATES][UDP_ADDR_STRLEN];
	enum overlay_path path;		/* NONE without a session or endpoint */
	char relay_authority[ID_DOMAIN_MAX + 1];	/* on a relay: whose ("example.org"), else "" */
	int hairpin;			/* direct, through the NAT both sides share */
	int nat_known;			/* what the authority saw of the peer's NAT */
	int nat_varies;			/* mapping varies by destination */
	int nat_preserves;		/* port preserved */
	int birthday;			/* a birthday round ran; then: */
	int bday_prober;		/* we probed its ports (else we opened mappings) */
	int bday_probes_sent;
	int bday_sockets;
	int bday_hit;
	int session;
	const char *cipher;		/* the session's data cipher; NULL without */
	int path_mtu;			/* the direct path's, as probed; 0: relay or not yet */
	int mtu;			/* the largest inner packet sent whole now */
	int have_handshake;
	int64_t handshake_age_s;
	uint64_t rx_bytes, tx_bytes, rx_packets, tx_packets;
	uint64_t relay_rx_bytes, relay_tx_bytes;	/* the part of those that went through the relay */
	uint64_t policy_denied;		/* its packets the identity firewall dropped */
};

/* What the authority's two UDP ports saw of us. */
struct overlay_nat_info {
	int local_port;
	int have_reflexive[2];
	char reflexive[2][UDP_ADDR_STRLEN];
	/* With both reflexive addresses: */
	int mapping_varies;
	int port_preserved;
	int behind_nat;
	struct portmap_info portmap;	/* what the gateway's port mapping said */
};

/* Why a handshake ended without a session (metrics count them). */
enum overlay_hs_fail {
	OVERLAY_HS_FAIL_TLS,		/* the TLS handshake failed (certificate, protocol) */
	OVERLAY_HS_FAIL_TIMEOUT,	/* we initiated and got no answer */
	OVERLAY_HS_FAIL_REVOKED,	/* the peer's certificate is revoked */
	OVERLAY_HS_FAIL_POLICY,		/* refused by this node's policy */
	OVERLAY_HS_FAIL_CLASH,		/* its certificate claims what another peer holds */
	OVERLAY_HS_FAIL_N
};

/* A link to an authority (ours first) and its revocation news. */
#define OVERLAY_STATUS_LINKS 49
struct overlay_link_info {
	char domain[ID_DOMAIN_MAX + 1];
	const char *state;		/* a static string */
	int64_t revocation_news;	/* Unix time of the last fresh news; 0 never */
	uint64_t revocation_cursor;	/* the authority's revocation number we are at */
};

struct overlay_status_info {
	int port;
	char ifname[IFNAMSIZ];
	const char *authority_link;	/* a static string */
	uint64_t drops_auth, drops_replay, drops_source;
	uint64_t drops_noroute;		/* from q2q0 to an address no peer may have */
	uint64_t drops_session;		/* data for a session index we do not hold */
	uint64_t drops_expired;		/* data under a key past its lifetime */
	uint64_t drops_policy;		/* inner packets the identity firewall dropped */
	uint64_t hs_done, hs_failed[OVERLAY_HS_FAIL_N];
	uint64_t gso_split;		/* GSO runs above the path MTU, sent one by one */
	uint64_t udp_rests;		/* times the data port rested under a flood (rxrest.h) */
	struct routes_exit_info exit;
	int workers;			/* data-path threads, the loop's included */
	uint64_t worker_packets[WORKERS_MAX];	/* sealed or opened in batches, per thread */
	int n_links;
	struct overlay_link_info links[OVERLAY_STATUS_LINKS];
};

struct overlay_ping_info {
	char identity[ID_NAME_MAX + 1];
	double rtt_ms;
	enum overlay_path path;		/* DIRECT or RELAY */
	char endpoint[UDP_ADDR_STRLEN];	/* empty without one */
};

void overlay_status_info(struct overlay *o, struct overlay_status_info *out);
void overlay_nat_info(struct overlay *o, struct overlay_nat_info *out);
/* Every peer: *out, n entries, is the caller's to free(). */
int overlay_peers_info(struct overlay *o, struct overlay_peer_info **out, int *n);

/* ------------------------------------------------------- requests */

/* Answer codes besides 0: the request was wrong, or it failed. */
enum { OVERLAY_EUSAGE = 1, OVERLAY_EFAIL };

/* code 0 with the result, or an OVERLAY_E* code with a message. */
typedef void overlay_peer_fn(void *arg, int code, const char *msg, const struct overlay_peer_info *p);
typedef void overlay_ping_fn(void *arg, int code, const char *msg, const struct overlay_ping_info *pi);

/* Finds identity's certificate and endpoints (asking its authority). */
void overlay_resolve(struct overlay *o, const char *identity, overlay_peer_fn *fn, void *arg);
/* A round trip inside a session with identity (making one if needed). */
void overlay_ping(struct overlay *o, const char *identity, overlay_ping_fn *fn, void *arg);
/* Who has overlay address addr: 0 with *p filled (*self: it is this node,
 * and only p->identity is set; p->remembered: another domain's identity
 * that had the address and is no peer now, since a restart say), or an
 * OVERLAY_E* code with err. */
int overlay_whois(struct overlay *o, const char *addr, struct overlay_peer_info *p, int *self,
    char *err, size_t errlen);

#endif
