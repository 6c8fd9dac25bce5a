/*
 * The authority's TLS service. The CA key is not here: it lives in the CA
 * process (tund/authority/ca.c), which signs a serving certificate for
 * this listener (the bare domain, not a CA) and the node certificates we
 * ask for, after its own checks. The listener presents the chain
 * [serving certificate, CA certificate]: a node still pins exactly one
 * thing, the CA fingerprint, and checks that the serving certificate
 * chains to it. So a compromise of this process, which parses everything
 * the network sends, exposes a serving key that lives a week, not the CA.
 *
 * Requests are answered from the registry; every refusal says why to the
 * client and is logged (never with the token), and the service goes on.
 */
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "identity/addr.h"
#include "identity/cert.h"
#include "identity/file.h"
#include "identity/name.h"
#include "identity/trust.h"
#include "netstack/authwire.h"
#include "netstack/msg.h"
#include "netstack/replay.h"
#include "netstack/udp.h"
#include "tund/authority/admit.h"
#include "tund/authority/authority.h"
#include "tund/authority/endpoint.h"
#include "tund/authority/camsg.h"
#include "tund/authority/relay.h"
#include "tund/conf/config.h"
#include "tund/base/hmap.h"
#include "tund/base/log.h"
#include "tund/base/loop.h"
#include "tund/link/proto.h"
#include "tund/authority/registry.h"
#include "tund/link/tlsconn.h"
#include "tund/node/domtrust.h"
#include "tund/policy/polmsg.h"
#include "tund/policy/polset.h"

/* What a node reports of itself and the authority passes on to every
 * peer that looks it up, each of which then punches all of them for
 * seconds: the observed address plus a few LAN and IPv6 addresses is what
 * a host has; every extra one is only another target. */
#define AUTH_MAX_ENDPOINTS 8

struct auth_broker;

struct auth_client {
	struct authority *auth;
	struct tlsconn *conn;
	struct auth_client *prev, *next;	/* the authority's clients */
	struct auth_broker *brokers;	/* pending introductions it asked for */
	struct auth_broker *brokers_in;	/* pending introductions to it */
	char peer[64];
	int slot;			/* its admission slot (admit.h), -1 once closed */
	uint64_t born;			/* loop_now_ms() when accepted */
	/* Set once a request carried a valid client certificate: until then
	 * only enrollment and the requests that authenticate are taken. */
	int authed;
	int enrolled;			/* has sent its one ENROLL */
	int n_brokers;			/* on brokers */
	int n_broker_in;		/* on brokers_in */
	/* Set once the node registered (REGISTER with a valid certificate);
	 * only then is it in the authority's indexes by identity and node id
	 * (auth_client_index, auth_client_unregister). */
	int registered;
	/* The authority's revocation generation at which this connection's
	 * certificate was last found unrevoked: until the next revocation
	 * the registry need not be asked again (auth_revoked). */
	uint64_t rev_ok_gen;
	int foreign;			/* of another domain */
	/* What the connection's certificate proved the first time: it
	 * cannot change within a TLS connection, so later requests of our
	 * own domain's nodes check only its lifetime and revocation instead
	 * of verifying the signature again (394 us of ECDSA per message
	 * capped lookups near 2,500/s; bench/README.md). */
	int have_proven;
	struct cert_info proven;
	uint8_t *ca_der;		/* its domain's CA, for BROKER (foreign only) */
	size_t ca_len;
	struct cert_info ci;
	uint8_t *cert_der;
	size_t cert_len;
	int n_endpoints;
	uint8_t endpoints[AUTH_MAX_ENDPOINTS][PROTO_ENDPOINT_LEN];
	int udp_port;			/* the node's local UDP port */
	uint64_t last_rx;		/* loop_now_ms() of its last message */
	int closing;
	/* UDP service: the node's id and key, what its probes showed. */
	uint32_t node_id;
	uint8_t udp_key[AW_KEY_LEN];
	uint64_t probe_txid;
	int have_reflexive[2];
	struct sockaddr_in6 reflexive[2];	/* as seen on port P and P+2 */
	struct replay relay_replay;
	uint64_t relayed_ctr;
	struct relay_node relay;	/* whom it may relay to, its share (relay.h) */
};

/* A LOOKUP waiting for the callee's BROKER_OK: on the authority's list
 * of all pending ones, oldest first (every one waits AUTH_BROKER_MS, so
 * that is deadline order too), on its caller's and its callee's own lists,
 * and in the index by id. */
struct auth_broker {
	struct auth_broker *prev, *next;
	struct auth_broker *caller_next, *callee_next;
	struct auth_client *caller;
	struct auth_client *callee_cl;	/* NULL once it is gone */
	uint32_t caller_lookup;		/* the caller's lookup_id */
	uint32_t id;			/* ours, sent to the callee */
	char callee[ID_NAME_MAX + 1];
	uint8_t token[AW_TOKEN_LEN];
	uint64_t started;		/* loop_now_ms() of the LOOKUP */
	uint64_t deadline;
};

#define AUTH_BROKER_MS 3000

/* A node resolves a handful of peers at a time, each introduction settled
 * within AUTH_BROKER_MS; more pending than this from one node is a loop
 * or an attack, and each would hold a record and queue a BROKER message.
 * A callee may be wanted by many nodes at once (a server), hence more. */
#define AUTH_BROKER_PER_CALLER 16
#define AUTH_BROKER_PER_CALLEE 64

/* The token authenticates PUNCH between two nodes: wiped, not just freed.
 * Only for a record on no list (auth_broker_unlink). */
static void auth_broker_free(struct auth_broker *b)
{
	if (!b)
		return;
	explicit_bzero(b, sizeof(*b));
	free(b);
}

/* A node pings every 15 s; a connection silent for this long is dead or
 * was never a node, and holds a TLS session for nothing. */
#define AUTH_IDLE_MS 60000
/* The sweep also enforces AUTH_LOGIN_MS, so it runs every second. */
#define AUTH_SWEEP_MS 1000
/*
 * Admission (admit.h). One link per online node; max_clients in the
 * config, by default room for 10,000 nodes and more (each holds ~85 KB
 * here, bench/README.md). The descriptor limit is raised to fit them,
 * with AUTH_FD_SPARE left for everything else the engine opens; where it
 * cannot be, a configured max_clients is refused at start and the default
 * gives way to fewer slots, rather than accept() failing in a loop.
 */
#define AUTH_DEFAULT_CLIENTS 16384
#define AUTH_FD_SPARE 256
/* Before authentication a connection costs a TLS session mid-handshake:
 * ~55 KiB in wolfSSL once its ClientHello is in (measured with
 * tests/e2e/authority-flood.sh), so fewer may wait at once: 256 bound that
 * to ~14 MiB. An honest handshake takes milliseconds, so even a burst of
 * reconnects after a restart passes through 256 at a time. */
#define AUTH_MAX_UNAUTH 256
/* Nodes behind one NAT (an office, a carrier-grade NAT) share an address,
 * so a source may hold many authenticated links; a single host has no
 * use for more than a few handshakes at once, so 16 unauthenticated ones
 * leave room for a whole office reconnecting and stop a lone flooder. */
#define AUTH_PER_SOURCE 256
#define AUTH_PER_SOURCE_UNAUTH 16
/* A node's TLS handshake and first request take a round trip or two and
 * one signature by the CA process: milliseconds here, a second on a poor
 * link. A connection that has not authenticated (or enrolled) by then is
 * closed, so a stranger holds a slot no longer. */
#define AUTH_LOGIN_MS 5000
/* ENROLL is the largest request before authentication: a CSR (at most
 * CERT_DER_MAX) with an identity and a token. After it, frames up to
 * MSG_FRAME_MAX. */
#define AUTH_PREAUTH_RX (MSG_HDR_LEN + CERT_DER_MAX + 1024)
/* A flood's connections arrive faster than one loop turn accepts them;
 * a deeper queue keeps honest ones from waiting on SYN retries. */
#define AUTH_BACKLOG 1024
/* How often refusals are summed up in the log, instead of one line each. */
#define AUTH_REPORT_MS 10000
/* The CA process answers at once (it signs locally); a silent one is
 * stuck or gone, and the request fails rather than the loop. */
#define AUTH_CA_MS 3000
#define AUTH_CA_START_MS 5000
/* The CA's serving certificates live CA_SERVING_DAYS (7); a fresh key
 * and certificate every day keeps a stolen serving key short-lived. */
#define AUTH_SERVING_MS (24 * 3600 * 1000ull)
#define AUTH_SERVING_RETRY_MS 60000

struct authority {
	struct loop_io lio;
	struct loop *loop;
	struct config_authority cfg;
	const struct pol_set *policy;	/* the daemon's, live: a reload changes it */
	uint32_t policy_gen;		/* bumped at each authority_policy_changed */
	char dir[CONFIG_PATH_MAX + 16];
	int ca_fd;			/* the CA process's socket */
	struct loop_io caio;		/* watches it between requests */
	uint32_t ca_next_id;
	struct loop_timer serving;	/* next fresh serving certificate */
	uint8_t *ca_der;
	size_t ca_len;
	uint8_t fp[32];
	struct registry *reg;
	struct domtrust *domtrust;	/* the daemon's trust policy (tund/node/domtrust.h) */
	int dns_pending;		/* its DNS lookups for foreign clients' domains */
	WOLFSSL_CTX *ctx;
	struct auth_client *clients;
	/* UDP service on port P and P+2 (P+1 is left for a node's data port
	 * on the same host, 8789 by default). Two ports tell a node whether
	 * its NAT maps each destination anew. */
	struct auth_udp {
		struct loop_io io;
		struct authority *auth;
		int k;
	} udp[2];
	struct udp_batch *urx;
	struct auth_broker *brokers, *brokers_last;	/* pending, oldest first */
	uint32_t next_broker;
	/* What LOOKUP, BROKER_OK and the UDP service look up, hashed instead
	 * of walked: at 10,000 nodes the walks were most of a lookup's cost
	 * (tund/base/hmap.h; bench/README.md). Registered clients only. */
	struct hmap *by_identity;	/* ci.identity -> auth_client, newest first */
	struct hmap *by_node;		/* node_id -> auth_client */
	struct hmap *broker_by_id;	/* auth_broker.id -> auth_broker */
	/* Bumped by every revocation: a connection found unrevoked at this
	 * generation is still unrevoked (auth_revoked). */
	uint64_t rev_gen;
	struct authority_metrics_info m;	/* counters; clients and registered unused */
	struct loop_timer timer;
	struct loop_timer sweep;
	int n_clients;
	struct admit *admit;
	/* Admission figures since start, and as last logged. */
	uint64_t logged[4];	/* admission's counters at the last report */
	uint64_t next_report;
};

static int64_t now_s(void) { return (int64_t)time(NULL); }

/* ---- Indexes and pending introductions ---- */

/* A registered client goes into the indexes by identity and node id; 0
 * or -ENOMEM (then it stays unregistered). */
static int auth_client_index(struct auth_client *cl)
{
	struct authority *a = cl->auth;
	const char *id = cl->ci.identity;

	if (hmap_add(a->by_identity, id, strlen(id), cl) < 0)
		return -ENOMEM;
	if (hmap_add(a->by_node, &cl->node_id, sizeof(cl->node_id), cl) < 0) {
		hmap_del(a->by_identity, id, strlen(id), cl);
		return -ENOMEM;
	}
	cl->registered = 1;
	return 0;
}

/* No longer online: nobody finds it by identity or node id any more. */
static void auth_client_unregister(struct auth_client *cl)
{
	struct authority *a = cl->auth;

	if (!cl->registered)
		return;
	hmap_del(a->by_identity, cl->ci.identity, strlen(cl->ci.identity), cl);
	hmap_del(a->by_node, &cl->node_id, sizeof(cl->node_id), cl);
	cl->registered = 0;
}

/* Removes b from the caller's or callee's own list (at most
 * AUTH_BROKER_PER_CALLER or _CALLEE long). */
static void auth_broker_list_del(struct auth_broker **head, struct auth_broker *b, int callee)
{
	for (struct auth_broker **pp = head; *pp;
	    pp = callee ? &(*pp)->callee_next : &(*pp)->caller_next) {
		if (*pp == b) {
			*pp = callee ? b->callee_next : b->caller_next;
			return;
		}
	}
}

/* Takes b off every list and out of the index; the caller frees it. */
static void auth_broker_unlink(struct authority *a, struct auth_broker *b)
{
	hmap_del(a->broker_by_id, &b->id, sizeof(b->id), b);
	if (b->prev)
		b->prev->next = b->next;
	else
		a->brokers = b->next;
	if (b->next)
		b->next->prev = b->prev;
	else
		a->brokers_last = b->prev;
	b->prev = b->next = NULL;
	if (b->caller) {
		auth_broker_list_del(&b->caller->brokers, b, 0);
		b->caller->n_brokers--;
	}
	if (b->callee_cl) {
		auth_broker_list_del(&b->callee_cl->brokers_in, b, 1);
		b->callee_cl->n_broker_in--;
	}
}

/* Puts a new introduction on every list and in the index: 0 or -ENOMEM
 * (then it is on none). */
static int auth_broker_link(struct authority *a, struct auth_broker *b)
{
	if (hmap_add(a->broker_by_id, &b->id, sizeof(b->id), b) < 0)
		return -ENOMEM;
	b->next = NULL;
	b->prev = a->brokers_last;
	if (a->brokers_last)
		a->brokers_last->next = b;
	else
		a->brokers = b;
	a->brokers_last = b;
	b->caller_next = b->caller->brokers;
	b->caller->brokers = b;
	b->caller->n_brokers++;
	b->callee_next = b->callee_cl->brokers_in;
	b->callee_cl->brokers_in = b;
	b->callee_cl->n_broker_in++;
	return 0;
}

void authority_ca(const struct authority *a, const uint8_t **der, size_t *len)
{
	*der = a->ca_der;
	*len = a->ca_len;
}

/*
 * One request to the CA process and its answer, blocking for at most ms:
 * signing is local and fast, and happens only for enrollment, renewal and
 * once a day for the serving certificate. An answer with another id is a
 * late one to a request that timed out, and is dropped. rep points into
 * rx, which the caller wipes when it held key material.
 */
static int auth_ca_call(struct authority *a, const struct camsg *req, int want, uint8_t *rx,
    struct camsg *rep, int ms, char *err, size_t errlen)
{
	static uint8_t tx[CAMSG_MAX];
	uint64_t deadline = loop_now_ms() + (uint64_t)ms;
	int n;

	n = camsg_encode(req, tx, sizeof(tx));
	if (n < 0) {
		snprintf(err, errlen, "cannot encode a request to the CA process");
		return n;
	}
	if (send(a->ca_fd, tx, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) != n) {
		snprintf(err, errlen, "the CA process is not there: %s", strerror(errno));
		return -EPIPE;
	}
	for (;;) {
		struct pollfd p = { .fd = a->ca_fd, .events = POLLIN };
		uint64_t now = loop_now_ms();
		ssize_t got;

		if (now >= deadline || poll(&p, 1, (int)(deadline - now)) == 0) {
			snprintf(err, errlen, "the CA process did not answer within %d ms", ms);
			return -ETIMEDOUT;
		}
		got = recv(a->ca_fd, rx, CAMSG_MAX + 1, MSG_TRUNC | MSG_DONTWAIT);
		if (got < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (got <= 0) {
			snprintf(err, errlen, "the CA process is gone");
			return -EPIPE;
		}
		if ((size_t)got > CAMSG_MAX || camsg_decode(rx, (size_t)got, rep) < 0) {
			snprintf(err, errlen, "malformed answer from the CA process");
			return -EBADMSG;
		}
		if ((rep->type == CAMSG_CERT || rep->type == CAMSG_ERROR) && req->type == CAMSG_SIGN &&
		    rep->id != req->id)
			continue;
		if (rep->type == CAMSG_ERROR && want == CAMSG_CERT)
			return 0;	/* a refusal; the caller reads rep->text */
		if (rep->type != want) {
			snprintf(err, errlen, "unexpected answer type %d from the CA process", rep->type);
			return -EBADMSG;
		}
		return 0;
	}
}

static int auth_verify_any(int preverify, WOLFSSL_X509_STORE_CTX *store)
{
	(void)preverify;
	(void)store;
	return 1;
}

/* A TLS context presenting [serving certificate, CA certificate]. */
static int auth_make_ctx(struct authority *a, const struct camsg *sv, WOLFSSL_CTX **out,
    char *err, size_t errlen)
{
	WOLFSSL_CTX *ctx;
	uint8_t *chain = NULL;
	size_t clen = sv->cert_len + a->ca_len;
	int rc = -EINVAL;

	ctx = wolfSSL_CTX_new(wolfTLSv1_3_server_method());
	chain = malloc(clen);
	if (!ctx || !chain) {
		snprintf(err, errlen, "authority: out of memory for the TLS context");
		rc = -ENOMEM;
		goto out;
	}
	memcpy(chain, sv->cert, sv->cert_len);
	memcpy(chain + sv->cert_len, a->ca_der, a->ca_len);
	if (wolfSSL_CTX_use_certificate_chain_buffer_format(ctx, chain, (long)clen,
	    WOLFSSL_FILETYPE_ASN1) != WOLFSSL_SUCCESS ||
	    wolfSSL_CTX_use_PrivateKey_buffer(ctx, sv->key, (long)sv->key_len,
	    WOLFSSL_FILETYPE_ASN1) != WOLFSSL_SUCCESS ||
	    wolfSSL_CTX_check_private_key(ctx) != WOLFSSL_SUCCESS ||
	    wolfSSL_CTX_load_verify_buffer(ctx, a->ca_der, (long)a->ca_len,
	    WOLFSSL_FILETYPE_ASN1) != WOLFSSL_SUCCESS) {
		snprintf(err, errlen, "authority: cannot load the serving certificate into TLS");
		goto out;
	}
	/* A client certificate is optional: enrollment has none yet. Nodes
	 * of other domains chain to CAs we may learn only now, so TLS takes
	 * any chain and auth_client_identity decides (TLS has still proven
	 * the client holds its certificate's key). */
	wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_PEER, auth_verify_any);
	*out = ctx;
	ctx = NULL;
	rc = 0;
out:
	if (ctx)
		wolfSSL_CTX_free(ctx);
	free(chain);
	return rc;
}

/*
 * Asks the CA process for a fresh serving key and certificate and makes
 * them the listener's. At start it also learns the CA certificate; later
 * the CA must be the same one. Connections already open keep the context
 * they started with (wolfSSL counts its references).
 */
static int auth_load_serving(struct authority *a, int ms, char *err, size_t errlen)
{
	static uint8_t rx[CAMSG_MAX + 1];
	struct camsg req, rep;
	struct cert_info ci;
	WOLFSSL_CTX *ctx = NULL;
	char e[256];
	int rc;

	memset(&req, 0, sizeof(req));
	req.type = CAMSG_GET_SERVING;
	rc = auth_ca_call(a, &req, CAMSG_SERVING, rx, &rep, ms, e, sizeof(e));
	if (rc < 0) {
		snprintf(err, errlen, "authority: no serving certificate: %s", e);
		goto out;
	}
	rc = -EINVAL;
	if (!a->ca_der) {
		if (cert_parse(rep.ca, rep.ca_len, &ci, e, sizeof(e)) < 0 || !ci.is_ca ||
		    strcmp(ci.identity, a->cfg.domain) != 0 || !(a->ca_der = malloc(rep.ca_len))) {
			snprintf(err, errlen, "authority: the CA process sent no CA certificate for %s",
			    a->cfg.domain);
			goto out;
		}
		memcpy(a->ca_der, rep.ca, rep.ca_len);
		a->ca_len = rep.ca_len;
		cert_fingerprint(a->ca_der, a->ca_len, a->fp);
	} else if (rep.ca_len != a->ca_len || memcmp(rep.ca, a->ca_der, a->ca_len) != 0) {
		snprintf(err, errlen, "authority: the CA process changed its CA certificate");
		goto out;
	}
	/* What nodes will check, checked here first. */
	if (cert_serving_verify(rep.cert, rep.cert_len, a->ca_der, a->ca_len, a->cfg.domain,
	    now_s(), e, sizeof(e)) < 0) {
		snprintf(err, errlen, "authority: unusable serving certificate: %s", e);
		goto out;
	}
	rc = auth_make_ctx(a, &rep, &ctx, err, errlen);
	if (rc < 0)
		goto out;
	if (a->ctx)
		wolfSSL_CTX_free(a->ctx);
	a->ctx = ctx;
out:
	explicit_bzero(rx, sizeof(rx));		/* it held the serving key */
	explicit_bzero(&rep, sizeof(rep));
	return rc;
}

/*
 * Between requests the CA socket is quiet, except for an answer that came
 * after its request timed out (dropped here; a SEQPACKET read takes the
 * whole record) or the end of the CA process. Then nothing can be signed
 * any more: that is said once, and the rest of the authority keeps
 * serving. Whoever started the CA process (q2qd's main) sees it exit.
 */
static void auth_ca_io(struct loop_io *io, uint32_t events)
{
	struct authority *a = (struct authority *)((char *)io - offsetof(struct authority, caio));
	uint8_t b;
	ssize_t n = recv(io->fd, &b, 1, MSG_DONTWAIT);

	if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR)))
		return;
	log_warnx("authority: the CA process is gone: enrollment and renewal fail until q2qd restarts");
	loop_del(a->loop, io);
	io->fn = NULL;
}

static void auth_serving_timer(struct loop_timer *t)
{
	struct authority *a = (struct authority *)((char *)t - offsetof(struct authority, serving));
	char err[512];
	uint64_t next = AUTH_SERVING_MS;

	if (auth_load_serving(a, AUTH_CA_MS, err, sizeof(err)) < 0) {
		log_warnx("%s (keeping the current one, retrying in %d s)", err,
		    AUTH_SERVING_RETRY_MS / 1000);
		next = AUTH_SERVING_RETRY_MS;
	} else {
		log_info("authority: new serving certificate");
	}
	loop_timer_arm(a->loop, &a->serving, loop_now_ms() + next);
}

/* Its slot back to admission: a closed connection is neither counted
 * against its source nor a candidate for eviction. */
static void auth_client_release(struct auth_client *cl)
{
	if (cl->slot < 0)
		return;
	admit_close(cl->auth->admit, cl->slot);
	cl->slot = -1;
}

/* Frees the client and its connection: from a deferred call, or from
 * outside that connection's callbacks (the sweep, an eviction). */
static void auth_client_free(void *arg)
{
	struct auth_client *cl = arg;

	/* Its own introductions go; those to it wait for their deadline
	 * (the caller then hears "not reachable", as for any callee gone). */
	while (cl->brokers) {
		struct auth_broker *b = cl->brokers;

		auth_broker_unlink(cl->auth, b);
		auth_broker_free(b);
	}
	for (struct auth_broker *b = cl->brokers_in, *nb; b; b = nb) {
		nb = b->callee_next;
		b->callee_cl = NULL;
		b->callee_next = NULL;
	}
	cl->brokers_in = NULL;
	cl->n_broker_in = 0;
	auth_client_unregister(cl);
	auth_client_release(cl);
	if (cl->prev)
		cl->prev->next = cl->next;
	else
		cl->auth->clients = cl->next;
	if (cl->next)
		cl->next->prev = cl->prev;
	tlsconn_free(cl->conn);
	free(cl->cert_der);
	free(cl->ca_der);
	cl->auth->n_clients--;
	free(cl);
}

static void auth_send_error(struct auth_client *cl, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void auth_send_error(struct auth_client *cl, int code, const char *fmt, ...)
{
	uint8_t buf[1024];
	struct msg_writer w;
	char text[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	log_warnx("authority: %s: %s", cl->peer, text);
	msg_begin(&w, buf, sizeof(buf), MSG_ERROR);
	msg_put_u32(&w, T_CODE, (uint32_t)code);
	msg_put_str(&w, T_TEXT, text);
	n = msg_finish(&w);
	if (n > 0)
		tlsconn_send(cl->conn, buf, (size_t)n);
}

static void auth_dns_done(void *arg, int err, const char *why, const struct discover_answer *ans)
{
	struct authority *a = arg;

	a->dns_pending--;
}

/* Lookups in flight for foreign clients' domains: a node retries its
 * link within a second or so, so a few at once serve honest ones, and a
 * stranger naming random domains cannot make us ask DNS for each. */
#define AUTH_DNS_PENDING_MAX 8

/*
 * Another domain's node: its CA comes at the end of its chain, and is
 * taken only if this daemon's own trust policy takes it for that domain
 * (a pin, a DNSSEC-validated TLSA, first use where configured:
 * tund/node/domtrust.c), never because the client says so. A domain not
 * looked up yet is looked up now; the node's link tries again shortly.
 * 0 with *ca, or -EACCES with the client told why.
 */
static int auth_foreign_ca(struct auth_client *cl, const char *domain, const uint8_t **ca,
    size_t *calen)
{
	struct authority *a = cl->auth;
	char err[768], who[96];
	int rc;

	if (tlsconn_peer_chain(cl->conn, 1, ca, calen) < 0) {
		auth_send_error(cl, PERR_UNAUTHENTICATED, "a node of %.100s must send its CA after its "
		    "certificate", domain);
		return -EACCES;
	}
	snprintf(who, sizeof(who), "TLS client %s", cl->peer);
	rc = domtrust_judge(a->domtrust, domain, *ca, *calen, who, err, sizeof(err));
	if (rc == -EAGAIN) {
		if (a->dns_pending < AUTH_DNS_PENDING_MAX) {
			a->dns_pending++;
			domtrust_discover(a->domtrust, domain, auth_dns_done, a);
		}
		auth_send_error(cl, PERR_UNAUTHENTICATED, "the CA of %.100s is not trusted here yet: "
		    "looking it up in DNS (TLSA); try again", domain);
		return -EACCES;
	}
	if (rc < 0) {
		auth_send_error(cl, PERR_UNAUTHENTICATED, "the CA of %.100s is not trusted here: %s",
		    domain, err);
		return -EACCES;
	}
	return 0;
}

/*
 * Whether the registry has revoked ci (cl's connection's certificate) by
 * serial or by identity. Asked of SQLite once per connection and then
 * again only after a revocation (authority_revoke bumps rev_gen): three
 * queries per lookup were a measurable part of its cost (bench/README.md).
 * A "not revoked" alone is remembered; an invitation that lets a revoked
 * account back in never unrevokes a certificate, so it needs no bump.
 */
static int auth_revoked(struct auth_client *cl, const struct cert_info *ci)
{
	struct authority *a = cl->auth;

	if (cl->rev_ok_gen == a->rev_gen)
		return 0;
	if (registry_serial_revoked(a->reg, ci->serial) == 1 ||
	    registry_is_revoked(a->reg, ci->identity) == 1)
		return 1;
	cl->rev_ok_gen = a->rev_gen;
	return 0;
}

/* The client's verified certificate, if it sent one: wolfSSL has already
 * checked it chains to our CA; we still check bindings and revocation. */
static int auth_client_check(struct auth_client *cl, struct cert_info *ci)
{
	const uint8_t *der;
	size_t len;
	char err[256];
	int rc;

	const uint8_t *ca = cl->auth->ca_der;
	size_t calen = cl->auth->ca_len;
	struct cert_info pre;
	const char *at;

	if (tlsconn_peer_cert(cl->conn, &der, &len) < 0) {
		auth_send_error(cl, PERR_UNAUTHENTICATED, "this request needs a client certificate");
		return -EACCES;
	}
	if (cert_parse(der, len, &pre, err, sizeof(err)) < 0 || !(at = strchr(pre.identity, '@'))) {
		auth_send_error(cl, PERR_UNAUTHENTICATED, "client certificate refused: %s", err);
		return -EACCES;
	}
	if (strcmp(at + 1, cl->auth->cfg.domain) != 0) {
		if (auth_foreign_ca(cl, at + 1, &ca, &calen) < 0)
			return -EACCES;
		if (!cl->ca_der && (cl->ca_der = malloc(calen))) {
			memcpy(cl->ca_der, ca, calen);
			cl->ca_len = calen;
		}
		cl->foreign = 1;
	}
	rc = cert_verify(der, len, ca, calen, now_s(), ci, err, sizeof(err));
	if (rc < 0) {
		auth_send_error(cl, PERR_UNAUTHENTICATED, "client certificate refused: %s", err);
		return rc;
	}
	if (auth_revoked(cl, ci)) {
		auth_send_error(cl, PERR_REVOKED, "%s is revoked", ci->identity);
		return -EACCES;
	}
	return 0;
}

/* The cheap check for a connection already proven (see have_proven). */
static int auth_client_recheck(struct auth_client *cl, struct cert_info *ci)
{
	int64_t now = now_s();

	*ci = cl->proven;
	if (now < ci->not_before || now > ci->not_after) {
		auth_send_error(cl, PERR_UNAUTHENTICATED, "client certificate refused: not valid now");
		return -EACCES;
	}
	if (auth_revoked(cl, ci)) {
		auth_send_error(cl, PERR_REVOKED, "%s is revoked", ci->identity);
		return -EACCES;
	}
	return 0;
}

static int auth_client_identity(struct auth_client *cl, struct cert_info *ci)
{
	int rc = cl->have_proven ? auth_client_recheck(cl, ci) : auth_client_check(cl, ci);

	if (rc < 0) {
		/* A stranger gets its answer and one try per connection. */
		if (!cl->authed)
			tlsconn_close_after_send(cl->conn);
		return rc;
	}
	if (!cl->authed) {
		/* Proven: no longer evictable, no deadline, full-size frames. */
		cl->authed = 1;
		admit_authenticated(cl->auth->admit, cl->slot);
		tlsconn_set_rx_max(cl->conn, MSG_FRAME_MAX);
	}
	if (!cl->have_proven && !cl->foreign) {
		cl->proven = *ci;
		cl->have_proven = 1;
	}
	return 0;
}

/* Has the CA process sign a certificate for identity from csr, and sends
 * it. The CA makes its own checks; we check what comes back before it is
 * recorded or sent. */
static void auth_issue(struct auth_client *cl, const char *identity, const uint8_t *csr, size_t csrlen)
{
	static uint8_t rx[CAMSG_MAX + 1];
	struct authority *a = cl->auth;
	struct camsg req, rep;
	struct cert_info ci;
	uint8_t buf[CERT_DER_MAX + 64];
	char err[256], v4[INET_ADDRSTRLEN];
	struct msg_writer w;
	int i, n, rc;

	memset(&req, 0, sizeof(req));
	req.type = CAMSG_SIGN;
	req.id = ++a->ca_next_id;
	snprintf(req.identity, sizeof(req.identity), "%s", identity);
	rc = registry_v4(a->reg, identity, req.v4);
	if (rc < 0) {
		auth_send_error(cl, PERR_INTERNAL, "cannot allocate an address for %s: %s", identity,
		    rc == -ENOSPC ? "address pool is exhausted" : strerror(-rc));
		return;
	}
	req.csr = csr;
	req.csr_len = csrlen;
	req.days = a->cfg.cert_days;
	for (i = 0; i < a->cfg.n_grants; i++) {
		const struct config_grant *g = &a->cfg.grants[i];
		if (strcmp(g->identity, identity) != 0)
			continue;
		memcpy(req.subnets, g->subnets, sizeof(g->subnets[0]) * (size_t)g->n_subnets);
		req.n_subnets = g->n_subnets;
	}
	rc = auth_ca_call(a, &req, CAMSG_CERT, rx, &rep, AUTH_CA_MS, err, sizeof(err));
	if (rc < 0) {
		log_warnx("authority: %s", err);
		auth_send_error(cl, PERR_INTERNAL, "cannot issue a certificate for %s now: the CA "
		    "process did not sign", identity);
		return;
	}
	if (rep.type == CAMSG_ERROR) {
		auth_send_error(cl, PERR_BAD_CSR, "cannot issue certificate for %s: %s", identity, rep.text);
		return;
	}
	snprintf(err, sizeof(err), "another identity or address than asked");
	if (cert_verify(rep.cert, rep.cert_len, a->ca_der, a->ca_len, now_s(), &ci, err, sizeof(err)) < 0 ||
	    strcmp(ci.identity, identity) != 0 || memcmp(ci.v4, req.v4, 4) != 0) {
		log_warnx("authority: the CA process signed an unexpected certificate for %s: %s",
		    identity, err);
		auth_send_error(cl, PERR_INTERNAL, "cannot issue a certificate for %s now", identity);
		return;
	}
	if (registry_cert_add(a->reg, identity, ci.serial, ci.not_before, ci.not_after,
	    rep.cert, rep.cert_len) < 0) {
		auth_send_error(cl, PERR_INTERNAL, "cannot record certificate for %s", identity);
		return;
	}
	msg_begin(&w, buf, sizeof(buf), MSG_CERT);
	msg_put_bytes(&w, T_CERT, rep.cert, rep.cert_len);
	n = msg_finish(&w);
	if (n > 0)
		tlsconn_send(cl->conn, buf, (size_t)n);
	inet_ntop(AF_INET, ci.v4, v4, sizeof(v4));
	a->m.certs_issued++;
	log_info("authority: issued certificate %s for %s (%s), valid until %lld",
	    ci.serial, identity, v4, (long long)ci.not_after);
}

static void auth_on_enroll(struct auth_client *cl, struct msg_reader *r)
{
	struct authority *a = cl->auth;
	char ident[ID_NAME_MAX + 1], token[128], csr_id[ID_NAME_MAX + 1], err[256];
	struct id_name name;
	const uint8_t *csr;
	size_t csrlen;
	int rc;

	/* One enrollment per connection: a node sends one and hangs up, and
	 * a stranger gets one guess per handshake. */
	if (cl->enrolled) {
		auth_send_error(cl, PERR_PROTOCOL, "one enroll request per connection");
		tlsconn_close_after_send(cl->conn);
		return;
	}
	cl->enrolled = 1;
	if (msg_get_str(r, T_IDENTITY, ident, sizeof(ident)) < 0 ||
	    msg_get_str(r, T_TOKEN, token, sizeof(token)) < 0 ||
	    msg_get(r, T_CSR, &csr, &csrlen) < 0) {
		auth_send_error(cl, PERR_PROTOCOL, "enroll request needs identity, token and CSR");
		return;
	}
	if (id_parse_user(ident, &name, err, sizeof(err)) < 0) {
		auth_send_error(cl, PERR_BAD_IDENTITY, "%s", err);
		goto out;
	}
	if (strcmp(name.domain, a->cfg.domain) != 0) {
		auth_send_error(cl, PERR_WRONG_DOMAIN, "'%s' is not in domain %s (this authority only enrolls @%s)",
		    ident, a->cfg.domain, a->cfg.domain);
		goto out;
	}
	if (cert_csr_parse(csr, csrlen, csr_id, err, sizeof(err)) < 0) {
		auth_send_error(cl, PERR_BAD_CSR, "CSR for %s refused: %s", ident, err);
		goto out;
	}
	if (strcmp(csr_id, ident) != 0) {
		auth_send_error(cl, PERR_BAD_CSR, "CSR names '%s' but the request is for '%s'", csr_id, ident);
		goto out;
	}
	rc = registry_token_use(a->reg, ident, token, now_s());
	switch (rc) {
	case 0:
		break;
	case -EALREADY:
		auth_send_error(cl, PERR_TOKEN_USED, "enrollment token for %s was already used", ident);
		goto out;
	case -ETIMEDOUT:
		auth_send_error(cl, PERR_TOKEN_EXPIRED, "enrollment token for %s has expired", ident);
		goto out;
	default:
		auth_send_error(cl, PERR_BAD_TOKEN, "enrollment token is not valid for %s", ident);
		goto out;
	}
	log_info("authority: %s enrolls %s", cl->peer, ident);
	a->m.enroll_accepted++;
	auth_issue(cl, ident, csr, csrlen);
	explicit_bzero(token, sizeof(token));
	return;
out:
	a->m.enroll_refused++;
	explicit_bzero(token, sizeof(token));
}

static void auth_on_renew(struct auth_client *cl, struct msg_reader *r)
{
	struct cert_info ci;
	char csr_id[ID_NAME_MAX + 1], err[256];
	const uint8_t *csr;
	size_t csrlen;

	if (auth_client_identity(cl, &ci) < 0)
		return;
	if (msg_get(r, T_CSR, &csr, &csrlen) < 0) {
		auth_send_error(cl, PERR_PROTOCOL, "renew request needs a CSR");
		return;
	}
	if (cert_csr_parse(csr, csrlen, csr_id, err, sizeof(err)) < 0 || strcmp(csr_id, ci.identity) != 0) {
		auth_send_error(cl, PERR_BAD_CSR, "renewal CSR for %s refused", ci.identity);
		return;
	}
	log_info("authority: %s renews %s", cl->peer, ci.identity);
	cl->auth->m.renewals++;
	auth_issue(cl, ci.identity, csr, csrlen);
}

/*
 * Revocation news, a page at a time (PROTOCOL.md, "Revocation"): the
 * registry numbers revocations as they happen, a node asks for those after
 * the last number it has, and each answer says where to go on from. A page
 * of AUTH_REV_PAGE entries (about 13 KB) stays well inside a frame however
 * long the list grows; certificates past their expiry are left out.
 */
#define AUTH_REV_PAGE 256

static int auth_rev_put(int64_t seq, const char *serial, int64_t not_after, void *arg)
{
	struct msg_writer *w = arg;
	uint8_t e[PROTO_REV_ENTRY_MAX];
	size_t n = strlen(serial);

	(void)seq;
	if (n == 0 || n > PROTO_REV_ENTRY_MAX - 8)
		return 0;
	for (int k = 0; k < 8; k++)
		e[k] = (uint8_t)((uint64_t)not_after >> (56 - 8 * k));
	memcpy(e + 8, serial, n);
	msg_put_bytes(w, T_REV_ENTRY, e, 8 + n);
	return 0;
}

/* The REVOKED page after since into buf (MSG_FRAME_MAX): its length, or
 * -errno (logged). */
static int auth_revoked_page(struct authority *a, int64_t since, uint8_t *buf)
{
	int64_t cursor = 0;
	struct msg_writer w;
	int n, more = 0, rc;

	msg_begin(&w, buf, MSG_FRAME_MAX, MSG_REVOKED);
	rc = registry_revocations(a->reg, since, now_s(), AUTH_REV_PAGE, auth_rev_put, &w,
	    &cursor, &more);
	if (rc < 0) {
		log_warnx("authority: cannot list revocations: %s", strerror(-rc));
		return rc;
	}
	/* A cursor the registry did not know was taken as 0: say so. */
	msg_put_u64(&w, T_REV_SINCE, (uint64_t)(since > cursor ? 0 : since));
	msg_put_u64(&w, T_REV_CURSOR, (uint64_t)cursor);
	msg_put_u32(&w, T_REV_MORE, (uint32_t)more);
	n = msg_finish(&w);
	return n > 0 ? n : -EMSGSIZE;
}

/* The page after since to cl. */
static void auth_send_revoked(struct auth_client *cl, int64_t since)
{
	uint8_t *buf = malloc(MSG_FRAME_MAX);
	int n = buf ? auth_revoked_page(cl->auth, since, buf) : -ENOMEM;

	if (n > 0)
		tlsconn_send(cl->conn, buf, (size_t)n);
	free(buf);
}

/* A node asks for the revocations after the last number it has. */
static void auth_on_revoked_since(struct auth_client *cl, struct msg_reader *r)
{
	uint64_t since = 0;

	if (!cl->registered) {
		auth_send_error(cl, PERR_PROTOCOL, "revocation news is for registered nodes (register first)");
		return;
	}
	if (msg_get_u64(r, T_REV_CURSOR, &since) < 0 || since > INT64_MAX) {
		auth_send_error(cl, PERR_PROTOCOL, "revoked-since request needs a revocation cursor (u64)");
		return;
	}
	auth_send_revoked(cl, (int64_t)since);
}

static struct auth_client *auth_find_by_node(struct authority *a, uint32_t id)
{
	return hmap_get(a->by_node, &id, sizeof(id));
}

static int auth_new_node_id(struct auth_client *cl)
{
	do {
		if (getrandom(&cl->node_id, sizeof(cl->node_id), 0) != sizeof(cl->node_id))
			return -EIO;
	} while (cl->node_id == 0 || auth_find_by_node(cl->auth, cl->node_id));
	if (getrandom(cl->udp_key, sizeof(cl->udp_key), 0) != sizeof(cl->udp_key))
		return -EIO;
	replay_init(&cl->relay_replay);
	relay_node_init(&cl->relay, loop_now_ms());
	return 0;
}

/* The policy's groups and rules that name cl's node (tund/policy/): what
 * it needs to judge who may reach it, and nothing of who may reach
 * others. Always sent, even with no policy, so a node forgets a policy
 * the authority dropped. A node of another domain gets none. */
static void auth_send_policy(struct auth_client *cl)
{
	static struct pol_set mine;	/* ~100 KB: not on the stack */
	uint8_t *buf;
	int n;

	if (cl->foreign || !cl->registered)
		return;
	if (pol_set_for(cl->auth->policy, cl->ci.identity, &mine) < 0) {
		log_warnx("authority: the policy for %s does not fit; %s keeps the rules it had",
		    cl->ci.identity, cl->ci.identity);
		return;
	}
	buf = malloc(MSG_FRAME_MAX);
	if (!buf)
		return;
	n = pol_msg_build(&mine, cl->auth->policy_gen, buf, MSG_FRAME_MAX);
	if (n > 0)
		tlsconn_send(cl->conn, buf, (size_t)n);
	else
		log_warnx("authority: the policy for %s does not fit one message; %s keeps the rules it had",
		    cl->ci.identity, cl->ci.identity);
	free(buf);
}

void authority_policy_changed(struct authority *a)
{
	int n = 0;

	a->policy_gen++;
	for (struct auth_client *cl = a->clients; cl; cl = cl->next)
		if (cl->registered && !cl->foreign && !cl->closing) {
			auth_send_policy(cl);
			n++;
		}
	log_info("authority: policy generation %u sent to %d node(s)", a->policy_gen, n);
}

/* A node says it is online and where it listens. The TCP source address
 * with the node's UDP port is what the authority sees of it (its public
 * address when there is no NAT in between). */
static void auth_on_register(struct auth_client *cl, struct msg_reader *r)
{
	struct cert_info ci;
	const uint8_t *der, *p;
	size_t len, n, iter = 0;
	uint32_t port = 0;
	uint8_t buf[128], obs[PROTO_ENDPOINT_LEN];
	struct msg_writer w;
	const struct sockaddr_in6 *peer = tlsconn_peer(cl->conn);
	int fl;

	if (auth_client_identity(cl, &ci) < 0 || tlsconn_peer_cert(cl->conn, &der, &len) < 0)
		return;
	if (msg_get_u32(r, T_PORT, &port) < 0 || port == 0 || port > 65535) {
		auth_send_error(cl, PERR_PROTOCOL, "register needs the node's UDP port");
		return;
	}
	free(cl->cert_der);
	cl->cert_der = malloc(len);
	if (!cl->cert_der)
		return;
	memcpy(cl->cert_der, der, len);
	cl->cert_len = len;
	cl->ci = ci;
	cl->n_endpoints = 0;
	/* Observed address first: it is the one most likely to work. It is
	 * checked too: a node reached over loopback has no such address for
	 * anyone else. */
	memcpy(obs, &peer->sin6_addr, 16);
	obs[16] = (uint8_t)(port >> 8);
	obs[17] = (uint8_t)port;
	if (endpoint_check(obs, obs) == ENDPOINT_OK)
		memcpy(cl->endpoints[cl->n_endpoints++], obs, PROTO_ENDPOINT_LEN);
	/* Then what it reports, if it can be its own (endpoint.h): anything
	 * else would make its peers punch someone else. */
	while (msg_next(r, T_ENDPOINT, &iter, &p, &n) == 0) {
		enum endpoint_verdict v;
		char text[64];

		if (n != PROTO_ENDPOINT_LEN || memcmp(p, obs, PROTO_ENDPOINT_LEN) == 0)
			continue;
		v = endpoint_check(p, obs);
		if (v != ENDPOINT_OK) {
			struct sockaddr_in6 sa = { .sin6_family = AF_INET6 };

			memcpy(&sa.sin6_addr, p, 16);
			sa.sin6_port = htons((uint16_t)(p[16] << 8 | p[17]));
			udp_addr_format(&sa, text, sizeof(text));
			log_debug("authority: %s reports endpoint %s: %s; not passed on", ci.identity, text,
			    endpoint_why(v));
			continue;
		}
		if (cl->n_endpoints >= AUTH_MAX_ENDPOINTS) {
			log_debug("authority: %s reports more than %d endpoints; the rest not passed on",
			    ci.identity, AUTH_MAX_ENDPOINTS);
			break;
		}
		memcpy(cl->endpoints[cl->n_endpoints++], p, PROTO_ENDPOINT_LEN);
	}
	if (!cl->registered) {
		if (auth_new_node_id(cl) < 0 || auth_client_index(cl) < 0) {
			auth_send_error(cl, PERR_INTERNAL, "cannot register %s now", ci.identity);
			return;
		}
		log_info("authority: %s is online at %s", ci.identity, cl->peer);
	}
	cl->udp_port = (int)port;
	msg_begin(&w, buf, sizeof(buf), MSG_REGISTERED);
	msg_put_bytes(&w, T_REFLEXIVE, obs, PROTO_ENDPOINT_LEN);
	msg_put_u32(&w, T_NODE_ID, cl->node_id);
	msg_put_bytes(&w, T_UDP_KEY, cl->udp_key, AW_KEY_LEN);
	{
		/* The pool, so nodes route it on q2q0 (issue 10). */
		uint8_t pool[PROTO_POOL_LEN];

		memcpy(pool, cl->auth->cfg.pool.addr, 4);
		pool[4] = cl->auth->cfg.pool.plen;
		msg_put_bytes(&w, T_POOL, pool, sizeof(pool));
	}
	fl = msg_finish(&w);
	if (fl > 0)
		tlsconn_send(cl->conn, buf, (size_t)fl);
	auth_send_policy(cl);
}

/* The registered node that owns addr: its own addresses, or the longest
 * granted subnet. NULL if none is online. */
static struct auth_client *auth_find_by_addr(struct authority *a, int family, const uint8_t *addr)
{
	struct auth_client *cl, *best = NULL;
	int best_len = -1;

	for (cl = a->clients; cl; cl = cl->next) {
		/* Address pools are per domain: only our own nodes count. */
		if (!cl->registered || cl->foreign)
			continue;
		if ((family == AF_INET && memcmp(cl->ci.v4, addr, 4) == 0) ||
		    (family == AF_INET6 && memcmp(cl->ci.v6, addr, 16) == 0))
			return cl;
		for (int i = 0; i < cl->ci.n_routes; i++) {
			const struct addr_prefix *rp = &cl->ci.routes[i];
			if (rp->family == family && rp->plen > best_len &&
			    addr_prefix_contains(rp, family, addr)) {
				best = cl;
				best_len = rp->plen;
			}
		}
	}
	return best;
}

/* The newest registered connection of identity. */
static struct auth_client *auth_find_by_identity(struct authority *a, const char *identity)
{
	return hmap_get(a->by_identity, identity, strlen(identity));
}

/* The node's candidates, best first: what the UDP service saw (its public
 * mapping), the TCP source with its UDP port (right when there is no NAT),
 * then the addresses it reported. Duplicates dropped. */
static void auth_put_candidates(struct msg_writer *w, const struct auth_client *t)
{
	uint8_t eps[AUTH_MAX_ENDPOINTS + 2][PROTO_ENDPOINT_LEN];
	int n = 0;

	for (int k = 0; k < 2; k++) {
		if (!t->have_reflexive[k])
			continue;
		memcpy(eps[n], &t->reflexive[k].sin6_addr, 16);
		eps[n][16] = (uint8_t)(ntohs(t->reflexive[k].sin6_port) >> 8);
		eps[n][17] = (uint8_t)ntohs(t->reflexive[k].sin6_port);
		n++;
	}
	for (int i = 0; i < t->n_endpoints; i++)
		memcpy(eps[n++], t->endpoints[i], PROTO_ENDPOINT_LEN);
	for (int i = 0; i < n; i++) {
		int dup = 0;
		for (int j = 0; j < i; j++)
			dup |= memcmp(eps[i], eps[j], PROTO_ENDPOINT_LEN) == 0;
		if (!dup)
			msg_put_bytes(w, T_ENDPOINT, eps[i], PROTO_ENDPOINT_LEN);
	}
}

static uint32_t auth_nat_flags(const struct auth_client *t)
{
	uint32_t f = 0;

	if (t->have_reflexive[0] && t->have_reflexive[1]) {
		f |= NAT_KNOWN;
		if (t->reflexive[0].sin6_port != t->reflexive[1].sin6_port ||
		    memcmp(&t->reflexive[0].sin6_addr, &t->reflexive[1].sin6_addr, 16) != 0)
			f |= NAT_VARIES;
	}
	if (t->have_reflexive[0] && ntohs(t->reflexive[0].sin6_port) == t->udp_port)
		f |= NAT_PRESERVES;
	return f;
}

/* One side's description for the other: identity, certificate, UDP id,
 * NAT behaviour and candidates. */
static void auth_put_node(struct msg_writer *w, const struct auth_client *t, const uint8_t *token)
{
	if (t->foreign && t->ca_der)
		msg_put_bytes(w, T_CA, t->ca_der, t->ca_len);
	else
		msg_put_bytes(w, T_CA, t->auth->ca_der, t->auth->ca_len);
	msg_put_str(w, T_IDENTITY, t->ci.identity);
	msg_put_bytes(w, T_CERT, t->cert_der, t->cert_len);
	msg_put_u32(w, T_NODE_ID, t->node_id);
	msg_put_u32(w, T_NAT, auth_nat_flags(t));
	msg_put_bytes(w, T_PUNCH_TOKEN, token, AW_TOKEN_LEN);
	auth_put_candidates(w, t);
}

static void auth_lookup_error(struct auth_client *cl, uint32_t lookup_id, const char *what)
{
	uint8_t buf[512];
	struct msg_writer w;
	char text[300];
	int n;

	/* The same words for offline, unknown and refused: a refused caller
	 * must not learn that the callee exists or is online. */
	snprintf(text, sizeof(text), "%s is not reachable through this authority", what);
	log_debug("authority: %s: %s", cl->peer, text);
	msg_begin(&w, buf, sizeof(buf), MSG_ERROR);
	msg_put_u32(&w, T_CODE, PERR_NOT_FOUND);
	msg_put_str(&w, T_TEXT, text);
	msg_put_u32(&w, T_LOOKUP_ID, lookup_id);
	n = msg_finish(&w);
	if (n > 0)
		tlsconn_send(cl->conn, buf, (size_t)n);
}

static void auth_on_lookup(struct auth_client *cl, struct msg_reader *r)
{
	struct authority *a = cl->auth;
	struct cert_info ci;
	struct auth_client *t = NULL;
	struct auth_broker *b;
	char ident[ID_NAME_MAX + 1], what[INET6_ADDRSTRLEN + 8];
	const uint8_t *p;
	size_t n;
	uint32_t lookup_id = 0;
	uint8_t *buf;
	struct msg_writer w;
	int len;

	if (auth_client_identity(cl, &ci) < 0)
		return;
	msg_get_u32(r, T_LOOKUP_ID, &lookup_id);
	if (!cl->registered) {
		auth_lookup_error(cl, lookup_id, "anyone (register first)");
		return;
	}
	if (msg_get_str(r, T_IDENTITY, ident, sizeof(ident)) == 0) {
		snprintf(what, sizeof(what), "%.40s", ident);
		t = auth_find_by_identity(a, ident);
	} else if (msg_get(r, T_ADDR, &p, &n) == 0 && (n == 4 || n == 16)) {
		inet_ntop(n == 4 ? AF_INET : AF_INET6, p, what, sizeof(what));
		t = auth_find_by_addr(a, n == 4 ? AF_INET : AF_INET6, p);
	} else {
		auth_send_error(cl, PERR_PROTOCOL, "lookup needs an identity or an address");
		return;
	}
	if (!t || t == cl || auth_revoked(t, &t->ci)) {
		a->m.lookups_unknown++;
		auth_lookup_error(cl, lookup_id, what);
		return;
	}
	/* The same answer as for offline: a busy callee is no one's business. */
	if (cl->n_brokers >= AUTH_BROKER_PER_CALLER || t->n_broker_in >= AUTH_BROKER_PER_CALLEE) {
		log_debug("authority: %s looks up %s: %d introductions of its own and %d to %s pending; refused",
		    ci.identity, what, cl->n_brokers, t->n_broker_in, t->ci.identity);
		auth_lookup_error(cl, lookup_id, what);
		return;
	}
	a->m.lookups_found++;
	/* Ask the callee first; the caller hears back only if it agrees. */
	b = calloc(1, sizeof(*b));
	buf = malloc(MSG_FRAME_MAX);
	if (!b || !buf || getrandom(b->token, sizeof(b->token), 0) != sizeof(b->token)) {
		auth_broker_free(b);
		free(buf);
		return;
	}
	b->caller = cl;
	b->callee_cl = t;
	b->caller_lookup = lookup_id;
	b->id = ++a->next_broker;
	snprintf(b->callee, sizeof(b->callee), "%s", t->ci.identity);
	b->started = loop_now_ms();
	b->deadline = b->started + AUTH_BROKER_MS;
	if (auth_broker_link(a, b) < 0) {
		auth_broker_free(b);
		free(buf);
		return;
	}
	msg_begin(&w, buf, MSG_FRAME_MAX, MSG_BROKER);
	msg_put_u32(&w, T_LOOKUP_ID, b->id);
	auth_put_node(&w, cl, b->token);
	len = msg_finish(&w);
	if (len > 0)
		tlsconn_send(t->conn, buf, (size_t)len);
	free(buf);
	if (!a->timer.deadline || a->timer.deadline > b->deadline)
		loop_timer_arm(a->loop, &a->timer, b->deadline);
	log_debug("authority: %s looks up %s: asking %s", ci.identity, what, t->ci.identity);
}

/* The introduction the callee answers, off every list (the caller frees
 * it), or NULL: an id not pending, or not one asked of this identity. */
static struct auth_broker *auth_take_broker(struct auth_client *callee, struct msg_reader *r)
{
	struct auth_broker *b;
	uint32_t id;

	if (msg_get_u32(r, T_LOOKUP_ID, &id) < 0)
		return NULL;
	b = hmap_get(callee->auth->broker_by_id, &id, sizeof(id));
	if (!b || strcmp(b->callee, callee->ci.identity) != 0)
		return NULL;
	auth_broker_unlink(callee->auth, b);
	return b;
}

const uint32_t authority_broker_bounds_ms[AUTHORITY_BROKER_BUCKETS] = {
	1, 2, 5, 10, 25, 50, 100, 250, 1000, AUTH_BROKER_MS,
};

static void auth_count_broker_ok(struct authority *a, uint64_t ms)
{
	int i = 0;

	while (i < AUTHORITY_BROKER_BUCKETS && ms > authority_broker_bounds_ms[i])
		i++;
	a->m.broker_buckets[i]++;
	a->m.broker_ms_sum += ms;
	a->m.broker_ok++;
}

static void auth_on_broker_ok(struct auth_client *cl, struct msg_reader *r)
{
	struct auth_broker *b = cl->registered ? auth_take_broker(cl, r) : NULL;
	uint8_t *buf;
	struct msg_writer w;
	int len;

	if (!b)
		return;
	auth_count_broker_ok(cl->auth, loop_now_ms() - b->started);
	if (b->caller->registered) {
		struct relay_end x = { &b->caller->relay, b->caller->node_id, b->caller->foreign };
		struct relay_end y = { &cl->relay, cl->node_id, cl->foreign };

		relay_introduced(&x, &y);
	}
	buf = malloc(MSG_FRAME_MAX);
	if (buf) {
		msg_begin(&w, buf, MSG_FRAME_MAX, MSG_PEER);
		msg_put_u32(&w, T_LOOKUP_ID, b->caller_lookup);
		auth_put_node(&w, cl, b->token);
		len = msg_finish(&w);
		if (len > 0)
			tlsconn_send(b->caller->conn, buf, (size_t)len);
		free(buf);
	}
	auth_broker_free(b);
}

static void auth_on_broker_refuse(struct auth_client *cl, struct msg_reader *r)
{
	struct auth_broker *b = cl->registered ? auth_take_broker(cl, r) : NULL;

	if (!b)
		return;
	log_info("authority: %s refused a connection from %s", cl->ci.identity, b->caller->ci.identity);
	cl->auth->m.broker_refused++;
	auth_lookup_error(b->caller, b->caller_lookup, b->callee);
	auth_broker_free(b);
}

static void auth_timer(struct loop_timer *t)
{
	struct authority *a = (struct authority *)((char *)t - offsetof(struct authority, timer));
	uint64_t now = loop_now_ms();

	/* Oldest first is deadline order: only the expired head is looked at. */
	while (a->brokers && a->brokers->deadline <= now) {
		struct auth_broker *b = a->brokers;

		auth_broker_unlink(a, b);
		a->m.broker_timeout++;
		auth_lookup_error(b->caller, b->caller_lookup, b->callee);
		auth_broker_free(b);
	}
	if (a->brokers)
		loop_timer_arm(a->loop, &a->timer, a->brokers->deadline);
}

/* What admission did lately, in one line: under a flood, a line per
 * refused connection would be a flood of its own. */
static void auth_report(struct authority *a, uint64_t now)
{
	struct admit_stats st;
	uint64_t cur[4];
	int open, unauth;

	admit_stats(a->admit, &st);
	cur[0] = st.admitted;
	cur[1] = st.refused_source + st.refused_full;
	cur[2] = st.evicted;
	cur[3] = st.expired;

	if (now < a->next_report || (cur[1] == a->logged[1] && cur[2] == a->logged[2] &&
	    cur[3] == a->logged[3]))
		return;
	open = st.open;
	unauth = st.unauth;
	log_info("authority: connections in the last %d s: %llu accepted, %llu refused (source over "
	    "its share or all slots held by nodes), %llu evicted unauthenticated to make room, %llu "
	    "closed for not authenticating in %d s; %d open, %d of them unauthenticated",
	    AUTH_REPORT_MS / 1000, (unsigned long long)(cur[0] - a->logged[0]),
	    (unsigned long long)(cur[1] - a->logged[1]), (unsigned long long)(cur[2] - a->logged[2]),
	    (unsigned long long)(cur[3] - a->logged[3]), AUTH_LOGIN_MS / 1000, open, unauth);
	memcpy(a->logged, cur, sizeof(cur));
	a->next_report = now + AUTH_REPORT_MS;
}

static void auth_sweep(struct loop_timer *t)
{
	struct authority *a = (struct authority *)((char *)t - offsetof(struct authority, sweep));
	uint64_t now = loop_now_ms();
	struct auth_client *cl, *next;

	for (cl = a->clients; cl; cl = next) {
		next = cl->next;
		if (!cl->authed && cl->slot >= 0 && now - cl->born >= AUTH_LOGIN_MS) {
			/* Not a word to a stranger: it may still be mid-handshake. */
			log_debug("authority: %s: not authenticated within %d ms, closing", cl->peer,
			    AUTH_LOGIN_MS);
			admit_expire(a->admit, cl->slot);
			cl->slot = -1;
			auth_client_free(cl);
			continue;
		}
		if (!cl->closing && now - cl->last_rx > AUTH_IDLE_MS) {
			log_debug("authority: %s: idle for %d s, closing", cl->peer, AUTH_IDLE_MS / 1000);
			cl->closing = 1;
			auth_client_unregister(cl);
			tlsconn_close_after_send(cl->conn);
		}
	}
	auth_report(a, now);
	loop_timer_arm(a->loop, &a->sweep, now + AUTH_SWEEP_MS);
}

/* ---- UDP service: reflexive addresses and relay ---- */

static void auth_udp_probe(struct authority *a, int k, const uint8_t *b, size_t len,
    const struct sockaddr_in6 *from)
{
	struct aw_probe pr;
	struct auth_client *cl;
	uint8_t out[AW_PROBE_REPLY_LEN], ep[PROTO_ENDPOINT_LEN];
	enum endpoint_verdict v;
	char text[64];
	int n;

	if (aw_parse_probe(AW_PROBE, b, len, &pr) < 0 || !(cl = auth_find_by_node(a, pr.node_id)) ||
	    aw_verify(b, len, cl->udp_key) < 0 || pr.txid <= cl->probe_txid)
		return;		/* silence for anything unauthenticated or replayed */
	cl->probe_txid = pr.txid;
	/* A probe's source can be forged by the node itself: it becomes a
	 * candidate for its peers only where the node could be (endpoint.h;
	 * a NAT maps a host's TCP and UDP to the same public address). The
	 * answer still goes back: it is no larger than the probe. */
	memcpy(ep, &from->sin6_addr, 16);
	ep[16] = (uint8_t)(ntohs(from->sin6_port) >> 8);
	ep[17] = (uint8_t)ntohs(from->sin6_port);
	v = endpoint_check(ep, tlsconn_peer(cl->conn)->sin6_addr.s6_addr);
	if (v == ENDPOINT_OK) {
		cl->reflexive[k] = *from;
		cl->have_reflexive[k] = 1;
	} else {
		log_debug("authority: %s: probe from %s not recorded: %s", cl->ci.identity,
		    udp_addr_format(from, text, sizeof(text)) == 0 ? text : "?", endpoint_why(v));
	}
	memcpy(pr.addr, &from->sin6_addr, 16);
	pr.port = ntohs(from->sin6_port);
	n = aw_build_probe_reply(&pr, cl->udp_key, out, sizeof(out));
	if (n > 0)
		udp_send_one(a->udp[k].io.fd, from, out, (size_t)n);
}

/* Forwards a registered node's datagram to another registered node, as is:
 * one datagram in, one of the same size plus nothing out, so the relay
 * cannot amplify; both ends are authenticated by their keys. */
static void auth_udp_relay(struct authority *a, uint8_t *b, size_t len, const struct sockaddr_in6 *from)
{
	struct aw_relay rl;
	struct auth_client *src, *dst;

	if (aw_parse_relay(b, len, &rl) < 0 || b[0] != AW_RELAY ||
	    !(src = auth_find_by_node(a, rl.sender_id)) || aw_verify(b, len, src->udp_key) < 0 ||
	    !replay_check(&src->relay_replay, rl.counter) || replay_update(&src->relay_replay, rl.counter) < 0)
		return;
	dst = auth_find_by_node(a, rl.target_id);
	if (!dst || !dst->have_reflexive[0])
		return;
	{
		struct relay_end s = { &src->relay, src->node_id, src->foreign };
		struct relay_end d = { &dst->relay, dst->node_id, dst->foreign };
		enum relay_verdict v = relay_judge(&s, &d, len, loop_now_ms());

		if (v != RELAY_FORWARD) {
			a->m.relay_refused[v]++;
			return;
		}
	}
	rl.counter = ++dst->relayed_ctr;
	if (aw_seal_relay(AW_RELAYED, &rl, rl.payload_len, dst->udp_key, b, UDP_BUF_SIZE) < 0)
		return;
	if (udp_send_one(a->udp[0].io.fd, &dst->reflexive[0], b, len) >= 0) {
		a->m.relayed_packets++;
		a->m.relayed_bytes += len;
	}
}

static void auth_udp_io(struct loop_io *io, uint32_t events)
{
	struct auth_udp *u = (struct auth_udp *)io;
	struct authority *a = u->auth;

	for (int round = 0; round < 8; round++) {
		int n = udp_recv_batch(io->fd, a->urx);

		for (int i = 0; i < n; i++) {
			uint8_t *b = a->urx->buf[i];
			size_t len = a->urx->len[i];

			if (len && b[0] == AW_PROBE)
				auth_udp_probe(a, u->k, b, len, &a->urx->peer[i]);
			else if (len && b[0] == AW_RELAY && u->k == 0)
				auth_udp_relay(a, b, len, &a->urx->peer[i]);
		}
		if (n < UDP_BATCH_MAX)
			break;
	}
}

static int auth_udp_open(struct authority *a, char *err, size_t errlen)
{
	int base = ntohs(a->cfg.listen.sin6_port);

	a->urx = calloc(1, sizeof(*a->urx));
	if (!a->urx)
		return -ENOMEM;
	for (int k = 0; k < 2; k++) {
		struct sockaddr_in6 sa = a->cfg.listen;
		int fd, zero = 0, rc;

		sa.sin6_port = htons((uint16_t)(base + 2 * k));
		fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			rc = -errno;
			snprintf(err, errlen, "authority: cannot bind UDP port %d: %s", base + 2 * k, strerror(errno));
			close(fd);
			return rc;
		}
		a->udp[k].io.fd = fd;
		a->udp[k].io.fn = auth_udp_io;
		a->udp[k].auth = a;
		a->udp[k].k = k;
		if ((rc = loop_add(a->loop, &a->udp[k].io, EPOLLIN)) < 0)
			return rc;
	}
	return 0;
}

static void auth_on_ping(struct auth_client *cl, struct msg_reader *r)
{
	uint8_t buf[16];
	struct msg_writer w;
	int n;

	msg_begin(&w, buf, sizeof(buf), MSG_PONG);
	n = msg_finish(&w);
	if (n > 0)
		tlsconn_send(cl->conn, buf, (size_t)n);
}

/* pre: taken before the connection authenticated. ENROLL is the
 * exchange that needs no certificate; RENEW, REGISTER and LOOKUP check
 * the client's certificate themselves (and so authenticate it). Anything
 * else from a stranger, PING included, would only keep a slot alive. */
static const struct {
	int type;
	int pre;
	void (*fn)(struct auth_client *cl, struct msg_reader *r);
} auth_handlers[] = {
	{ MSG_ENROLL, 1, auth_on_enroll },
	{ MSG_RENEW, 1, auth_on_renew },
	{ MSG_PING, 0, auth_on_ping },
	{ MSG_REGISTER, 1, auth_on_register },
	{ MSG_LOOKUP, 1, auth_on_lookup },
	{ MSG_BROKER_OK, 0, auth_on_broker_ok },
	{ MSG_BROKER_REFUSE, 0, auth_on_broker_refuse },
	{ MSG_REVOKED_SINCE, 0, auth_on_revoked_since },
};

static void auth_on_msg(struct tlsconn *c, void *arg, const uint8_t *frame, size_t len)
{
	struct auth_client *cl = arg;
	struct msg_reader r;
	uint8_t type;
	size_t i;

	cl->last_rx = loop_now_ms();
	if (msg_open(&r, frame, len, &type) < 0) {
		auth_send_error(cl, PERR_PROTOCOL, "malformed message");
		tlsconn_close_after_send(c);
		return;
	}
	for (i = 0; i < sizeof(auth_handlers) / sizeof(auth_handlers[0]); i++) {
		if (auth_handlers[i].type != type)
			continue;
		if (!cl->authed && !auth_handlers[i].pre) {
			auth_send_error(cl, PERR_UNAUTHENTICATED, "message type %u needs an authenticated "
			    "connection (enroll, or present a certificate)", type);
			tlsconn_close_after_send(c);
			return;
		}
		auth_handlers[i].fn(cl, &r);
		return;
	}
	auth_send_error(cl, PERR_PROTOCOL, "unknown message type %u", type);
	if (!cl->authed)
		tlsconn_close_after_send(c);
}

static void auth_on_close(struct tlsconn *c, void *arg, const char *why)
{
	struct auth_client *cl = arg;

	log_debug("authority: %s: %s", cl->peer, why);
	/* Gone now: its slot is free at once, and nothing is sent to it. */
	auth_client_release(cl);
	auth_client_unregister(cl);
	cl->closing = 1;
	loop_defer(cl->auth->loop, auth_client_free, cl);
}

/*
 * The handshake is done: its secrets and scratch arrays (~5.5 KB of the
 * ~95 KB a connection holds in wolfSSL here, bench/README.md) are of no
 * further use to the authority, which neither resumes sessions nor
 * exports keying material from a node's link. Freed, and wiped by
 * wolfSSL, now rather than when the node leaves.
 */
static void auth_on_open(struct tlsconn *c, void *arg)
{
	wolfSSL_FreeArrays(tlsconn_ssl(c));
}

static const struct tlsconn_ops auth_ops = {
	.on_open = auth_on_open,
	.on_msg = auth_on_msg,
	.on_close = auth_on_close,
};

static void auth_accept(struct loop_io *io, uint32_t events)
{
	struct authority *a = (struct authority *)io;

	for (;;) {
		struct sockaddr_in6 from;
		socklen_t fl = sizeof(from);
		struct auth_client *cl;
		int fd = accept4(io->fd, (struct sockaddr *)&from, &fl, SOCK_NONBLOCK | SOCK_CLOEXEC);

		void *victim;

		if (fd < 0)
			return;
		switch (admit_check(a->admit, &from, &victim)) {
		case ADMIT_OK:
			break;
		case ADMIT_EVICT:
			/* Full: the stranger waiting longest makes room, so a
			 * flood cannot lock honest nodes out. */
			log_debug("authority: %s: evicted (unauthenticated) to make room",
			    ((struct auth_client *)victim)->peer);
			auth_client_free(victim);
			break;
		default:
			/* The source holds its share, or every slot is a node's. */
			close(fd);
			continue;
		}
		cl = calloc(1, sizeof(*cl));
		if (!cl) {
			close(fd);
			continue;
		}
		cl->auth = a;
		cl->born = cl->last_rx = loop_now_ms();
		cl->slot = admit_open(a->admit, &from, cl);
		if (cl->slot < 0 || tlsconn_accept(a->loop, a->ctx, fd, &from, &auth_ops, cl, &cl->conn) < 0) {
			if (cl->slot >= 0)
				admit_close(a->admit, cl->slot);
			close(fd);
			free(cl);
			continue;
		}
		tlsconn_set_rx_max(cl->conn, AUTH_PREAUTH_RX);
		a->n_clients++;
		udp_addr_format(&from, cl->peer, sizeof(cl->peer));
		cl->next = a->clients;
		if (cl->next)
			cl->next->prev = cl;
		a->clients = cl;
	}
}

/*
 * Admission, sized to the descriptors the engine may open: the soft limit
 * is raised towards slots + AUTH_FD_SPARE as far as the hard limit allows
 * (systemd's default soft limit is 1024). A max_clients the hard limit
 * cannot hold is refused, saying so; without one, the default shrinks to
 * what fits.
 */
static int auth_admit_init(struct authority *a, char *err, size_t errlen)
{
	int want_slots = a->cfg.max_clients ? a->cfg.max_clients : AUTH_DEFAULT_CLIENTS;
	struct admit_limits lim = {
		.slots = want_slots, .unauth = AUTH_MAX_UNAUTH,
		.per_source = AUTH_PER_SOURCE, .per_source_unauth = AUTH_PER_SOURCE_UNAUTH,
	};
	rlim_t want = (rlim_t)want_slots + AUTH_FD_SPARE;
	struct rlimit rl;
	uint64_t seed;
	int rc;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
		rc = -errno;
		snprintf(err, errlen, "authority: cannot read the descriptor limit: %s", strerror(-rc));
		return rc;
	}
	if (rl.rlim_cur < want) {
		rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < want && a->cfg.max_clients) {
		snprintf(err, errlen, "authority: max_clients = %d needs %llu descriptors, but the "
		    "descriptor limit (RLIMIT_NOFILE) is %llu and its hard limit %llu: raise "
		    "LimitNOFILE= (ulimit -Hn) or lower max_clients", want_slots,
		    (unsigned long long)want, (unsigned long long)rl.rlim_cur,
		    (unsigned long long)rl.rlim_max);
		return -EMFILE;
	}
	if (rl.rlim_cur < want) {
		lim.slots = rl.rlim_cur > 2 * AUTH_FD_SPARE ? (int)(rl.rlim_cur - AUTH_FD_SPARE) : AUTH_FD_SPARE;
		log_warnx("authority: the descriptor limit is %llu: %d connection slots instead of %d "
		    "(raise LimitNOFILE=, or set max_clients to insist)",
		    (unsigned long long)rl.rlim_cur, lim.slots, want_slots);
	}
	if (lim.unauth > lim.slots / 2)
		lim.unauth = lim.slots / 2;
	if (lim.per_source > lim.slots)
		lim.per_source = lim.slots;
	if (lim.per_source_unauth > lim.unauth)
		lim.per_source_unauth = lim.unauth;
	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed)) {
		snprintf(err, errlen, "authority: no randomness for the admission table");
		return -EIO;
	}
	rc = admit_new(&lim, seed, &a->admit);
	if (rc < 0)
		snprintf(err, errlen, "authority: cannot make the admission table: %s", strerror(-rc));
	return rc;
}

static int auth_listen(struct authority *a, char *err, size_t errlen)
{
	int fd, one = 1, zero = 0;
	char addr[64];

	fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, (struct sockaddr *)&a->cfg.listen, sizeof(a->cfg.listen)) < 0 || listen(fd, AUTH_BACKLOG) < 0) {
		int e = errno;
		udp_addr_format(&a->cfg.listen, addr, sizeof(addr));
		snprintf(err, errlen, "authority: cannot listen on %s: %s", addr, strerror(e));
		close(fd);
		return -e;
	}
	a->lio.fd = fd;
	a->lio.fn = auth_accept;
	return loop_add(a->loop, &a->lio, EPOLLIN);
}

int authority_start(struct loop *l, const struct config *cfg, struct domtrust *dt,
    int ca_fd, struct authority **out, char *err, size_t errlen)
{
	struct authority *a = calloc(1, sizeof(*a));
	char dbpath[CONFIG_PATH_MAX + 32], pool[64];
	int rc;

	if (!a) {
		close(ca_fd);
		return -ENOMEM;
	}
	a->ca_fd = ca_fd;
	a->serving.fn = auth_serving_timer;
	a->loop = l;
	a->domtrust = dt;
	a->lio.fd = -1;
	a->udp[0].io.fd = a->udp[1].io.fd = -1;
	a->timer.fn = auth_timer;
	a->sweep.fn = auth_sweep;
	a->cfg = cfg->authority;
	a->policy = &cfg->policy;
	a->policy_gen = 1;
	a->rev_gen = 1;		/* a client's rev_ok_gen starts at 0: unknown */
	if (hmap_new(&a->by_identity) < 0 || hmap_new(&a->by_node) < 0 ||
	    hmap_new(&a->broker_by_id) < 0) {
		snprintf(err, errlen, "authority: cannot make its indexes");
		rc = -ENOMEM;
		goto fail;
	}
	snprintf(a->dir, sizeof(a->dir), "%s/authority", cfg->state_dir);
	if (mkdir(a->dir, 0700) < 0 && errno != EEXIST) {
		rc = -errno;
		snprintf(err, errlen, "authority: cannot create %s: %s", a->dir, strerror(errno));
		goto fail;
	}
	rc = auth_load_serving(a, AUTH_CA_START_MS, err, errlen);
	if (rc < 0)
		goto fail;
	addr_prefix_format(&a->cfg.pool, pool, sizeof(pool));
	snprintf(dbpath, sizeof(dbpath), "%s/registry.db", a->dir);
	rc = registry_open(dbpath, pool, &a->reg, err, errlen);
	if (rc < 0)
		goto fail;
	rc = auth_admit_init(a, err, errlen);
	if (rc < 0)
		goto fail;
	rc = auth_listen(a, err, errlen);
	if (rc < 0)
		goto fail;
	rc = auth_udp_open(a, err, errlen);
	if (rc < 0)
		goto fail;
	a->caio.fd = a->ca_fd;
	a->caio.fn = auth_ca_io;
	rc = loop_add(l, &a->caio, EPOLLIN);
	if (rc < 0) {
		a->caio.fn = NULL;
		snprintf(err, errlen, "authority: cannot watch the CA socket: %s", strerror(-rc));
		goto fail;
	}
	loop_timer_arm(l, &a->sweep, loop_now_ms() + AUTH_SWEEP_MS);
	loop_timer_arm(l, &a->serving, loop_now_ms() + AUTH_SERVING_MS);
	*out = a;
	return 0;
fail:
	authority_stop(a);
	return rc;
}

void authority_stop(struct authority *a)
{
	if (!a)
		return;
	while (a->clients)
		auth_client_free(a->clients);
	/* Every introduction went with its caller. */
	hmap_free(a->by_identity);
	hmap_free(a->by_node);
	hmap_free(a->broker_by_id);
	domtrust_cancel(a->domtrust, a);
	loop_timer_cancel(a->loop, &a->timer);
	loop_timer_cancel(a->loop, &a->sweep);
	loop_timer_cancel(a->loop, &a->serving);
	for (int k = 0; k < 2; k++) {
		if (a->udp[k].io.fd >= 0) {
			loop_del(a->loop, &a->udp[k].io);
			close(a->udp[k].io.fd);
		}
	}
	free(a->urx);
	if (a->lio.fd >= 0) {
		loop_del(a->loop, &a->lio);
		close(a->lio.fd);
	}
	if (a->ctx)
		wolfSSL_CTX_free(a->ctx);
	registry_close(a->reg);
	/* The CA process sees its socket close and exits. */
	if (a->caio.fn)
		loop_del(a->loop, &a->caio);
	if (a->ca_fd >= 0)
		close(a->ca_fd);
	free(a->ca_der);
	admit_free(a->admit);
	free(a);
}

int authority_invite(struct authority *a, const char *identity, char *token, size_t tokcap,
    int64_t *expires, char *err, size_t errlen)
{
	struct id_name name;
	char tok[REGISTRY_TOKEN_LEN + 1];
	int64_t now = now_s();
	int rc;

	if (id_parse_user(identity, &name, err, errlen) < 0)
		return -EINVAL;
	if (strcmp(name.domain, a->cfg.domain) != 0) {
		snprintf(err, errlen, "'%s' is not in this authority's domain %s", identity, a->cfg.domain);
		return -EINVAL;
	}
	rc = registry_token_create(a->reg, identity, now, a->cfg.token_ttl, tok);
	if (rc < 0) {
		snprintf(err, errlen, "cannot create a token for %s: %s", identity,
		    rc == -ENOSPC ? "the address pool is exhausted" : strerror(-rc));
		return rc;
	}
	snprintf(token, tokcap, "%s", tok);
	explicit_bzero(tok, sizeof(tok));
	*expires = now + a->cfg.token_ttl;
	log_info("authority: invited %s (token expires in %d s)", identity, a->cfg.token_ttl);
	return 0;
}

int authority_revoke(struct authority *a, const char *identity, char *err, size_t errlen)
{
	struct id_name name;
	uint8_t *page;
	int64_t before;
	int rc, n;

	if (id_parse_user(identity, &name, err, errlen) < 0)
		return -EINVAL;
	before = registry_revocation_head(a->reg);
	rc = registry_revoke(a->reg, identity, now_s());
	if (rc == -ENOENT) {
		snprintf(err, errlen, "%s has no account at this authority", identity);
		return rc;
	}
	if (rc < 0) {
		snprintf(err, errlen, "cannot revoke %s: %s", identity, strerror(-rc));
		return rc;
	}
	log_info("authority: revoked %s", identity);
	a->rev_gen++;		/* every cached "not revoked" is stale now */
	/* Tell every online node now, ours and other domains' (they may
	 * hold sessions with ours), one page made once for all, and drop the
	 * revoked one's link. */
	page = malloc(MSG_FRAME_MAX);
	n = page ? auth_revoked_page(a, before < 0 ? 0 : before, page) : -ENOMEM;
	for (struct auth_client *cl = a->clients; cl; cl = cl->next) {
		if (!cl->registered)
			continue;
		if (n > 0)
			tlsconn_send(cl->conn, page, (size_t)n);
		if (strcmp(cl->ci.identity, identity) == 0) {
			auth_client_unregister(cl);
			tlsconn_close_after_send(cl->conn);
		}
	}
	free(page);
	return 0;
}

void authority_status_info(const struct authority *a, struct authority_status_info *out)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->domain, sizeof(out->domain), "%s", a->cfg.domain);
	memcpy(out->ca_fingerprint, a->fp, sizeof(out->ca_fingerprint));
	out->listen = a->cfg.listen;
	out->pool = a->cfg.pool;
	admit_stats(a->admit, &out->admission);
}

void authority_metrics_info(const struct authority *a, struct authority_metrics_info *out)
{
	*out = a->m;
	out->clients = out->registered = 0;
	for (const struct auth_client *cl = a->clients; cl; cl = cl->next) {
		out->clients++;
		out->registered += cl->registered && !cl->closing;
	}
}

/* The accounts gathered so far; grows by doubling. */
struct auth_accounts {
	struct authority_account_info *v;
	int n, cap;
};

static int auth_account_add(const char *identity, const uint8_t v4[4], int revoked,
    int64_t not_after, void *arg)
{
	struct auth_accounts *acc = arg;
	struct authority_account_info *ai;

	if (acc->n == acc->cap) {
		int cap = acc->cap ? 2 * acc->cap : 16;
		struct authority_account_info *v = reallocarray(acc->v, (size_t)cap, sizeof(*v));
		if (!v)
			return -ENOMEM;
		acc->v = v;
		acc->cap = cap;
	}
	ai = &acc->v[acc->n++];
	memset(ai, 0, sizeof(*ai));
	snprintf(ai->identity, sizeof(ai->identity), "%s", identity);
	memcpy(ai->v4, v4, 4);
	ai->revoked = revoked;
	ai->cert_not_after = not_after;
	return 0;
}

int authority_accounts_info(struct authority *a, struct authority_account_info **out, int *n)
{
	struct auth_accounts acc = { 0 };
	int rc = registry_account_foreach(a->reg, auth_account_add, &acc);

	if (rc < 0) {
		free(acc.v);
		*out = NULL;
		*n = 0;
		return rc;
	}
	*out = acc.v;
	*n = acc.n;
	return 0;
}
