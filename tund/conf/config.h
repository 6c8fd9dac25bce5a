/*
 * The daemon's configuration, parsed once from a libconfig file into this
 * plain struct and validated. Only config.c includes <libconfig.h>; the rest
 * of the daemon sees validated values. Reload parses a fresh struct and
 * swaps it in.
 */
#ifndef Q2Q_CONFIG_H
#define Q2Q_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "identity/addr.h"
#include "identity/name.h"
#include "tund/policy/polset.h"

#define CONFIG_PATH_MAX 256
#define CONFIG_MAX_PEERS 64
#define CONFIG_MAX_ENDPOINTS 8
#define CONFIG_MAX_TRUST 32
#define CONFIG_MAX_GRANTS 64
#define CONFIG_MAX_SUBNETS 16

/* A pinned peer: reach this identity at these endpoints without asking. */
struct config_peer {
	char identity[ID_NAME_MAX + 1];
	int n_endpoints;
	struct sockaddr_in6 endpoints[CONFIG_MAX_ENDPOINTS];	/* v4 as v4-mapped */
};

/* A foreign domain's CA, pinned by fingerprint, where its authority
 * listens (for reaching that domain's identities), and the prefixes its
 * certificates may grant as routes (none unless listed). */
struct config_trust {
	char domain[ID_DOMAIN_MAX + 1];
	int has_fingerprint;			/* else DNSSEC or first use decides */
	uint8_t fingerprint[32];
	int has_authority;
	struct sockaddr_in6 authority;
	int n_routes;
	struct addr_prefix routes[CONFIG_MAX_SUBNETS];
};

/* Authority side: subnets an identity may route for (bound into its cert). */
struct config_grant {
	char identity[ID_NAME_MAX + 1];
	int n_subnets;
	struct addr_prefix subnets[CONFIG_MAX_SUBNETS];
};

#define CONFIG_MAX_CLIENTS_MIN 64
#define CONFIG_MAX_CLIENTS_MAX 1048576

struct config_authority {
	int enabled;
	char domain[ID_DOMAIN_MAX + 1];
	struct sockaddr_in6 listen;		/* TCP (TLS) and UDP; default [::]:8788 */
	struct addr_prefix pool;		/* default 100.64.0.0/10 */
	int cert_days;				/* default 30 */
	int token_ttl;				/* seconds, default 86400 */
	/* TLS connections (online nodes) at once; 0 (not set): 16384, or
	 * fewer if the descriptor limit is short (tund/authority/authority.c) */
	int max_clients;
	/* The CA process's directory (ca.key, ca.der, the issued ledger):
	 * default state_dir with "-ca" appended, because the engine owns
	 * state_dir and must not be able to read the CA key. Never equal to
	 * state_dir, inside it, or holding it. */
	char ca_dir[CONFIG_PATH_MAX + 4];
	int n_grants;
	struct config_grant grants[CONFIG_MAX_GRANTS];
};

/* What a node accepts for a domain it has no pin for. */
enum config_trust_policy {
	CONFIG_TRUST_DNSSEC,		/* a DNSSEC-validated TLSA record (default) */
	CONFIG_TRUST_FIRST_USE,		/* that, or else the first CA seen */
	CONFIG_TRUST_PINNED,		/* pins only */
};

enum log_level_cfg { CONFIG_LOG_ERROR, CONFIG_LOG_WARN, CONFIG_LOG_INFO, CONFIG_LOG_DEBUG };

/* Port-mapping protocols (config portmap), in the order they are tried. */
#define CONFIG_PORTMAP_PCP	0x1
#define CONFIG_PORTMAP_NATPMP	0x2
#define CONFIG_PORTMAP_UPNP	0x4
#define CONFIG_PORTMAP_ALL	(CONFIG_PORTMAP_PCP | CONFIG_PORTMAP_NATPMP | CONFIG_PORTMAP_UPNP)

struct config {
	char path[CONFIG_PATH_MAX];		/* the file this came from */
	char state_dir[CONFIG_PATH_MAX];	/* default /var/lib/q2q */
	char control_socket[CONFIG_PATH_MAX];	/* default /run/q2q/q2qd.sock */
	char control_group[64];			/* "" = root only */
	char names_socket[CONFIG_PATH_MAX];	/* for libnss_q2q, any user; default names.sock beside control_socket, "" = none */
	char interface[16];			/* default q2q0 (< IFNAMSIZ) */
	int mtu;				/* default 1440, 1280..9000 */
	int route_table;			/* q2q's routing table; default 5288, not 0 or 253..255 */
	int allow_exit_node;			/* up --exit-node may add default routes; default off */
	int port;				/* UDP data port, default 8789; 0 = any */
	int log_level;				/* enum log_level_cfg, default INFO */
	int renew_before;			/* seconds before expiry to renew; default 1/3 of lifetime: 0 = auto */
	int keepalive;				/* seconds between keepalives to peers; default 20, 0 = off */
	int rekey_after;			/* seconds before a session is rekeyed; default 120 */
	int nat_birthday;			/* probe many ports against endpoint-dependent NATs; default on */
	int offload;				/* TUN checksum/TCP segmentation offload; default on */
	int workers;				/* data-path crypto threads; 0 = auto (default), 1 = the loop's alone */
	unsigned portmap;			/* CONFIG_PORTMAP_* asked of the gateway; default all */
	int has_metrics_listen;			/* serve GET /metrics over HTTP; default off */
	struct sockaddr_in6 metrics_listen;	/* "127.0.0.1:9789"; v4 as v4-mapped */
	int n_refuse;
	char refuse[CONFIG_MAX_PEERS][ID_NAME_MAX + 1];	/* callers refused: "user@domain" or "*@domain" */
	int n_peers;
	struct config_peer peers[CONFIG_MAX_PEERS];
	int n_trust;
	struct config_trust trust[CONFIG_MAX_TRUST];
	int trust_policy;			/* enum config_trust_policy */
	char dns_anchor[CONFIG_PATH_MAX];	/* DNSSEC trust anchor file; default the root's */
	char dns_resolver[64];			/* "ip" or "ip@port" to ask; "" = iterate from the root */
	struct addr_prefix foreign_pool;	/* foreign identities' local IPv4s; default 100.127.0.0/16 */
	struct config_authority authority;
	/* The identity firewall (tund/policy/): on an authority, the domain's
	 * policy, sent to its nodes; on any node, rules that narrow what
	 * reaches it. policy.present is 0 when the file has no policy. */
	struct pol_set policy;
	int policy_reject;			/* answer denied packets with ICMP "administratively prohibited"; default off */
};

/*
 * Parses and validates path into *out (zeroed first, defaults applied).
 * On error returns -EINVAL (or -errno for I/O) with a message in err naming
 * the file, line where known, the setting and what was expected, e.g.
 * "q2qd.conf:7: authority.pool: '100.64.0.1/10' has host bits set".
 */
int config_load(const char *path, struct config *out, char *err, size_t errlen);

/* Fills *out with the defaults alone (what an empty file gives). */
void config_defaults(struct config *out);

#endif
