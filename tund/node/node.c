/*
 * Enrollment and renewal. The key is made here and never leaves: only a
 * CSR goes to the authority. The authority is recognised by its CA
 * certificate, the last of the TLS chain it presents; the first is a
 * serving certificate that the CA signed for the bare domain (the CA key
 * itself stays in the authority's CA process). On first contact the CA
 * must match the fingerprint the user gave (--ca-fingerprint) or, without
 * one, it is trusted on first use and pinned; after that a different CA
 * for the domain is refused before any token or CSR is sent.
 *
 * State lives in state_dir/node/: key.der (0600), cert.der, the state
 * file (identity and authority address, tund/conf/nodestate.h), each
 * written atomically; a new key first removes the old certificate, and the
 * certificate is written last, so a crash leaves either the old pair or a
 * new key without certificate, which load treats as not enrolled.
 */
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/asn_public.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "identity/addr.h"
#include "identity/cert.h"
#include "identity/file.h"
#include "identity/key.h"
#include "identity/name.h"
#include "identity/trust.h"
#include "identity/x509.h"
#include "tund/node/domtrust.h"
#include "netstack/msg.h"
#include "netstack/udp.h"
#include "tund/conf/config.h"
#include "tund/conf/nodestate.h"
#include "tund/base/log.h"
#include "tund/base/loop.h"
#include "tund/node/node.h"
#include "tund/link/proto.h"
#include "tund/link/tlsconn.h"

#define NODE_RETRY_MS (60 * 1000)

enum { OP_ENROLL, OP_RENEW };

/* One exchange with the authority: enroll or renew. */
struct node_op {
	struct node *node;
	int kind;
	node_done_fn *fn;		/* NULL: nobody waits */
	void *arg;
	struct tlsconn *conn;
	WOLFSSL_CTX *ctx;
	struct id_key *key;		/* the key the CSR was made from */
	uint8_t *csr;
	size_t csrlen;
	char identity[ID_NAME_MAX + 1];
	char domain[ID_DOMAIN_MAX + 1];
	char authority[64];
	struct sockaddr_in6 auth_addr;
	char token[128];
	int has_fp;
	uint8_t fp[32];
	int done;
};

struct node {
	struct loop *loop;
	const struct config *cfg;
	char dir[CONFIG_PATH_MAX + 16];
	struct trust_store *trust;
	int enrolled;
	struct id_key *key;
	uint8_t *cert_der;
	size_t cert_len;
	struct cert_info ci;
	char authority[64];
	struct sockaddr_in6 auth_addr;
	struct node_op *op;		/* at most one at a time */
	struct loop_timer renew_timer;
	struct domtrust *domtrust;	/* other domains' CAs: pins, DNSSEC, first use */
};

static int64_t now_s(void) { return (int64_t)time(NULL); }

const struct cert_info *node_cert(const struct node *n) { return n->enrolled ? &n->ci : NULL; }
struct trust_store *node_trust(struct node *n) { return n->trust; }
struct domtrust *node_domtrust(struct node *n) { return n->domtrust; }

static void node_schedule_renewal(struct node *n, uint64_t delay_ms);

/* "ip:port", "[v6]:port", or a bare address with the default port. */
static int node_parse_authority(const char *s, struct sockaddr_in6 *sa)
{
	char buf[80];

	if (udp_addr_parse(s, sa) == 0)
		return 0;
	if (strlen(s) > 60 || strchr(s, ']'))
		return -EINVAL;
	snprintf(buf, sizeof(buf), strchr(s, ':') ? "[%s]:%d" : "%s:%d", s, PROTO_PORT);
	return udp_addr_parse(buf, sa);
}

/* ---- state files ---- */

static int node_save(struct node *n, const struct id_key *key, const uint8_t *der, size_t len,
    const char *identity, const char *authority)
{
	char path[CONFIG_PATH_MAX + 32];
	struct nodestate ns;
	int rc;

	snprintf(ns.identity, sizeof(ns.identity), "%s", identity);
	snprintf(ns.authority, sizeof(ns.authority), "%s", authority);
	/* A new key replaces an enrolled pair: the old certificate goes first,
	 * or a crash after the key's rename would leave it beside a key it
	 * does not match, and the next start would refuse the state. The
	 * key's directory fsync below makes the unlink durable before it. */
	if (n->enrolled && key != n->key) {
		snprintf(path, sizeof(path), "%s/cert.der", n->dir);
		if (unlink(path) < 0 && errno != ENOENT)
			return -errno;
	}
	rc = nodestate_save(n->dir, &ns);
	if (rc < 0)
		return rc;
	snprintf(path, sizeof(path), "%s/key.der", n->dir);
	rc = key_save(key, path);
	if (rc < 0)
		return rc;
	snprintf(path, sizeof(path), "%s/cert.der", n->dir);
	return file_write_atomic(path, der, len, 0644);
}

/* 1 if the certificate's public key is key's: the certificate's
 * SubjectPublicKeyInfo and the key's, byte for byte. (wolfSSL's
 * CTX_check_private_key, used before, accepted a P-256 key that is not the
 * certificate's, so a node loaded a pair that cannot authenticate.) */
static int node_cert_matches_key(const uint8_t *der, size_t len, const struct id_key *key)
{
	struct x509_cert c;
	uint8_t spki[KEY_SPKI_MAX];
	size_t spki_len = 0;
	char e[160];

	if (x509_cert_parse(der, len, &c, e, sizeof(e)) < 0 ||
	    key_spki(key, spki, sizeof(spki), &spki_len) < 0)
		return 0;
	return spki_len == c.spki_len && memcmp(spki, c.spki, spki_len) == 0;
}

/* Checks a certificate against our CA and key, and makes it current. */
static int node_adopt(struct node *n, struct id_key *key, uint8_t *der, size_t len,
    const char *authority, char *err, size_t errlen)
{
	const uint8_t *ca;
	size_t calen;
	struct cert_info ci;
	struct sockaddr_in6 sa;
	char dom[ID_DOMAIN_MAX + 1];
	const char *at;
	int rc;

	rc = cert_parse(der, len, &ci, err, errlen);
	if (rc < 0)
		return rc;
	at = strchr(ci.identity, '@');
	if (!at) {
		snprintf(err, errlen, "certificate names '%s', not user@domain", ci.identity);
		return -EINVAL;
	}
	snprintf(dom, sizeof(dom), "%s", at + 1);
	if (trust_get(n->trust, dom, &ca, &calen) < 0) {
		snprintf(err, errlen, "no CA certificate known for %s", dom);
		return -ENOENT;
	}
	/* Grace: a node must still load an expired certificate so that it can
	 * say so in status; cert_verify at "not_before" checks the signature. */
	rc = cert_verify(der, len, ca, calen, ci.not_before, &ci, err, errlen);
	if (rc < 0)
		return rc;
	if (node_cert_matches_key(der, len, key) != 1) {
		snprintf(err, errlen, "certificate does not match the node's key");
		return -EINVAL;
	}
	if (node_parse_authority(authority, &sa) < 0) {
		snprintf(err, errlen, "bad authority address '%s'", authority);
		return -EINVAL;
	}
	if (n->key != key)
		key_free(n->key);
	free(n->cert_der);
	n->key = key;
	n->cert_der = der;
	n->cert_len = len;
	n->ci = ci;
	n->auth_addr = sa;
	snprintf(n->authority, sizeof(n->authority), "%s", authority);
	n->enrolled = 1;
	return 0;
}

static int node_load(struct node *n, char *err, size_t errlen)
{
	char path[CONFIG_PATH_MAX + 32];
	uint8_t *der = NULL;
	size_t len;
	struct id_key *key = NULL;
	struct nodestate ns;
	int rc;

	snprintf(path, sizeof(path), "%s/cert.der", n->dir);
	if (access(path, F_OK) < 0)
		return 0;	/* not enrolled yet */
	rc = file_read_all(path, 65536, &der, &len);
	if (rc < 0)
		goto fail;
	snprintf(path, sizeof(path), "%s/key.der", n->dir);
	rc = key_load(path, &key);
	if (rc < 0)
		goto fail;
	rc = nodestate_load(n->dir, &ns, err, errlen);
	if (rc < 0)
		goto out;
	rc = node_adopt(n, key, der, len, ns.authority, err, errlen);
	if (rc < 0)
		goto out;
	key = NULL;
	der = NULL;
	goto out;
fail:
	snprintf(err, errlen, "cannot load node state from %s: %s", path, strerror(-rc));
out:
	free(der);
	key_free(key);
	return rc;
}

/* ---- talking to the authority ---- */

static void op_free(void *arg)
{
	struct node_op *op = arg;

	if (op->conn)
		tlsconn_free(op->conn);
	if (op->ctx)
		wolfSSL_CTX_free(op->ctx);
	if (op->key && (!op->node->enrolled || op->key != op->node->key))
		key_free(op->key);
	explicit_bzero(op->token, sizeof(op->token));
	free(op->csr);
	free(op);
}

/* Ends the operation once: reply to the user, log, and free later. */
static void op_finish(struct node_op *op, int ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void op_finish(struct node_op *op, int ok, const char *fmt, ...)
{
	struct node *n = op->node;
	char msg[512];
	va_list ap;

	if (op->done)
		return;
	op->done = 1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ok)
		log_info("%s", msg);
	else
		log_warnx("%s", msg);
	if (op->fn) {
		if (ok) {
			struct node_status_info st;
			node_status_info(n, &st);
			op->fn(op->arg, 0, msg, &st);
		} else {
			op->fn(op->arg, NODE_EFAIL, msg, NULL);
		}
		op->fn = NULL;
	}
	if (op->kind == OP_RENEW && !ok && n->enrolled)
		node_schedule_renewal(n, NODE_RETRY_MS);
	if (n->op == op)
		n->op = NULL;
	if (op->conn)
		tlsconn_free_later(op->conn);
	op->conn = NULL;
	loop_defer(n->loop, op_free, op);
}

/*
 * The chain an authority presents: [serving certificate, CA certificate],
 * exactly. The CA must be a CA for domain, and the serving certificate
 * must verify under it and name the authority of domain (TLS has already
 * proven the server holds the serving key). A CA presented as its own
 * serving certificate is refused: that is an authority that still keeps
 * its CA key in the process facing the network. *ca points into the
 * connection's chain; pinning and TOFU are the callers' business.
 */
static int node_authority_chain(struct tlsconn *c, const char *domain, const char *who,
    const uint8_t **ca, size_t *calen, char *err, size_t errlen)
{
	const uint8_t *leaf, *extra;
	size_t leaflen, extralen;
	struct cert_info ci;
	char e[256];

	if (tlsconn_peer_chain(c, 0, &leaf, &leaflen) < 0) {
		snprintf(err, errlen, "authority %s sent no certificate", who);
		return -EPROTO;
	}
	if (tlsconn_peer_chain(c, 1, ca, calen) < 0) {
		snprintf(err, errlen, "authority %s sent no CA certificate after its serving certificate", who);
		return -EPERM;
	}
	if (tlsconn_peer_chain(c, 2, &extra, &extralen) == 0) {
		snprintf(err, errlen, "authority %s sent more than [serving certificate, CA certificate]", who);
		return -EPERM;
	}
	if (cert_parse(*ca, *calen, &ci, e, sizeof(e)) < 0) {
		snprintf(err, errlen, "authority %s: CA certificate: %s", who, e);
		return -EPROTO;
	}
	if (!ci.is_ca || strcmp(ci.identity, domain) != 0) {
		snprintf(err, errlen, "authority %s presented a CA certificate for '%.100s', not the %.100s CA",
		    who, ci.identity, domain);
		return -EPERM;
	}
	if (cert_serving_verify(leaf, leaflen, *ca, *calen, domain, now_s(), e, sizeof(e)) < 0) {
		snprintf(err, errlen, "authority %s: %s", who, e);
		return -EPERM;
	}
	return 0;
}

/* Is the authority's CA the one we trust (or may learn)? */
static int op_check_authority(struct node_op *op, char *err, size_t errlen)
{
	struct node *n = op->node;
	const uint8_t *der;
	size_t len;
	uint8_t fp[32];
	char have[65], want[65];
	enum trust_verdict v;
	int rc;

	rc = node_authority_chain(op->conn, op->domain, op->authority, &der, &len, err, errlen);
	if (rc < 0)
		return rc;
	cert_fingerprint(der, len, fp);
	cert_fingerprint_hex(fp, have);
	if (op->has_fp && memcmp(fp, op->fp, 32) != 0) {
		cert_fingerprint_hex(op->fp, want);
		snprintf(err, errlen, "authority %s presented CA fingerprint %s, expected %s; nothing was sent",
		    op->authority, have, want);
		return -EPERM;
	}
	/* Enrollment takes the domain's CA (checked against --ca-fingerprint
	 * above, else on first use); renewal only the one it has. */
	if (op->kind == OP_ENROLL)
		v = trust_learn(n->trust, op->domain, der, len, TRUST_SRC_ENROLL, now_s(), err, errlen);
	else
		v = trust_check(n->trust, op->domain, der, len, 0, err, errlen);
	switch (v) {
	case TRUST_MATCH:
		return 0;
	case TRUST_LEARNED:
		log_info("trust: learned and pinned the CA of %s (%s)", op->domain, have);
		return 0;
	case TRUST_MISMATCH:
		snprintf(err, errlen, "the CA of %s changed: authority %s presented %s, which differs from "
		    "the pinned CA; refusing (nothing was sent)", op->domain, op->authority, have);
		return -EPERM;
	default:
		snprintf(err, errlen, "no trusted CA for %s", op->domain);
		return -EPERM;
	}
}

static void op_on_open(struct tlsconn *c, void *arg)
{
	struct node_op *op = arg;
	uint8_t buf[8192];
	struct msg_writer w;
	char err[1024];
	int len;

	if (op_check_authority(op, err, sizeof(err)) < 0) {
		op_finish(op, 0, "%s: %s", op->kind == OP_ENROLL ? "enroll" : "renew", err);
		return;
	}
	msg_begin(&w, buf, sizeof(buf), op->kind == OP_ENROLL ? MSG_ENROLL : MSG_RENEW);
	if (op->kind == OP_ENROLL) {
		msg_put_str(&w, T_IDENTITY, op->identity);
		msg_put_str(&w, T_TOKEN, op->token);
	}
	msg_put_bytes(&w, T_CSR, op->csr, op->csrlen);
	len = msg_finish(&w);
	if (len <= 0 || tlsconn_send(c, buf, (size_t)len) < 0)
		op_finish(op, 0, "enroll: cannot send request");
	explicit_bzero(buf, sizeof(buf));
	explicit_bzero(op->token, sizeof(op->token));
}

static void op_on_cert(struct node_op *op, struct msg_reader *r)
{
	struct node *n = op->node;
	const uint8_t *p;
	size_t len;
	uint8_t *der;
	char err[256], v4[INET_ADDRSTRLEN];
	int rc;

	if (msg_get(r, T_CERT, &p, &len) < 0 || !(der = malloc(len))) {
		op_finish(op, 0, "authority sent a reply without a certificate");
		return;
	}
	memcpy(der, p, len);
	/* Check everything before anything is written. */
	{
		const uint8_t *ca;
		size_t calen;
		struct cert_info ci;

		if (trust_get(n->trust, op->domain, &ca, &calen) < 0 ||
		    cert_verify(der, len, ca, calen, now_s(), &ci, err, sizeof(err)) < 0 ||
		    strcmp(ci.identity, op->identity) != 0) {
			free(der);
			op_finish(op, 0, "authority sent an unacceptable certificate: %s", err);
			return;
		}
	}
	rc = node_save(n, op->key, der, len, op->identity, op->authority);
	if (rc < 0) {
		free(der);
		op_finish(op, 0, "cannot save node state in %s: %s", n->dir, strerror(-rc));
		return;
	}
	rc = node_adopt(n, op->key, der, len, op->authority, err, sizeof(err));
	if (rc < 0) {
		free(der);
		op_finish(op, 0, "new certificate not usable: %s", err);
		return;
	}
	inet_ntop(AF_INET, n->ci.v4, v4, sizeof(v4));
	node_schedule_renewal(n, 0);
	op_finish(op, 1, "%s %s: %s, certificate valid until %lld",
	    op->kind == OP_ENROLL ? "enrolled" : "renewed", n->ci.identity, v4, (long long)n->ci.not_after);
}

static void op_on_msg(struct tlsconn *c, void *arg, const uint8_t *frame, size_t len)
{
	struct node_op *op = arg;
	struct msg_reader r;
	uint8_t type;
	uint32_t code = 0;
	char text[512] = "";

	if (op->done)
		return;
	if (msg_open(&r, frame, len, &type) < 0) {
		op_finish(op, 0, "malformed reply from authority %s", op->authority);
		return;
	}
	switch (type) {
	case MSG_CERT:
		op_on_cert(op, &r);
		break;
	case MSG_ERROR:
		msg_get_u32(&r, T_CODE, &code);
		if (msg_get_text(&r, T_TEXT, text, sizeof(text)) < 0)
			snprintf(text, sizeof(text), "error %u", code);
		op_finish(op, 0, "authority %s refused: %s", op->authority, text);
		break;
	default:
		op_finish(op, 0, "unexpected reply type %u from authority %s", type, op->authority);
	}
}

static void op_on_close(struct tlsconn *c, void *arg, const char *why)
{
	struct node_op *op = arg;

	op_finish(op, 0, "%s: authority %s: %s", op->kind == OP_ENROLL ? "enroll" : "renew",
	    op->authority, why);
}

static const struct tlsconn_ops op_ops = {
	.on_open = op_on_open,
	.on_msg = op_on_msg,
	.on_close = op_on_close,
};

/* TLS 1.3 client. The server's chain is checked by op_check_authority
 * against the trust store after the handshake, before a byte is sent
 * (TLS 1.3's CertificateVerify has by then proven the server holds the
 * key). Renewal presents the node's certificate. */
static int op_start(struct node_op *op, const struct id_key *client_key)
{
	struct node *n = op->node;
	uint8_t *kder = NULL;
	size_t klen = 0;
	int rc = -ENOMEM;

	op->ctx = wolfSSL_CTX_new(wolfTLSv1_3_client_method());
	if (!op->ctx)
		goto out;
	wolfSSL_CTX_set_verify(op->ctx, WOLFSSL_VERIFY_NONE, NULL);
	if (client_key) {
		rc = key_der(client_key, &kder, &klen);
		if (rc < 0)
			goto out;
		rc = -EINVAL;
		if (wolfSSL_CTX_use_certificate_buffer(op->ctx, n->cert_der, (long)n->cert_len,
		    WOLFSSL_FILETYPE_ASN1) != WOLFSSL_SUCCESS ||
		    wolfSSL_CTX_use_PrivateKey_buffer(op->ctx, kder, (long)klen,
		    WOLFSSL_FILETYPE_ASN1) != WOLFSSL_SUCCESS)
			goto out;
	}
	rc = cert_csr_make(op->key, op->identity, &op->csr, &op->csrlen);
	if (rc < 0)
		goto out;
	rc = tlsconn_connect(n->loop, op->ctx, &op->auth_addr, &op_ops, op, &op->conn);
out:
	if (kder) {
		explicit_bzero(kder, klen);
		free(kder);
	}
	return rc;
}

/* Answers a request refused before an operation started. */
static void node_refuse(node_done_fn *fn, void *arg, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void node_refuse(node_done_fn *fn, void *arg, int code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!fn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fn(arg, code, msg, NULL);
}

void node_enroll(struct node *n, const char *identity, const char *authority, const char *token,
    const char *fp, node_done_fn *fn, void *arg)
{
	struct node_op *op;
	struct id_name name;
	char err[256];
	int rc;

	if (n->op) {
		node_refuse(fn, arg, NODE_EFAIL, "another enrollment or renewal is in progress");
		return;
	}
	if (id_parse_user(identity, &name, err, sizeof(err)) < 0) {
		node_refuse(fn, arg, NODE_EUSAGE, "%s", err);
		return;
	}
	if (!*token || strlen(token) >= sizeof(op->token)) {
		node_refuse(fn, arg, NODE_EUSAGE, "enrollment token is empty or too long");
		return;
	}
	op = calloc(1, sizeof(*op));
	if (!op) {
		node_refuse(fn, arg, NODE_EFAIL, "out of memory");
		return;
	}
	op->node = n;
	op->kind = OP_ENROLL;
	snprintf(op->identity, sizeof(op->identity), "%s", name.full);
	snprintf(op->domain, sizeof(op->domain), "%s", name.domain);
	snprintf(op->token, sizeof(op->token), "%s", token);
	if (node_parse_authority(authority, &op->auth_addr) < 0) {
		free(op);
		node_refuse(fn, arg, NODE_EUSAGE, "--authority '%s' is not IP or IP:PORT", authority);
		return;
	}
	udp_addr_format(&op->auth_addr, op->authority, sizeof(op->authority));
	if (fp) {
		if (cert_fingerprint_parse(fp, op->fp) < 0) {
			free(op);
			node_refuse(fn, arg, NODE_EUSAGE,
			    "--ca-fingerprint '%.80s' is not a SHA-256 fingerprint (64 hex digits)", fp);
			return;
		}
		op->has_fp = 1;
	}
	rc = key_generate(&op->key);
	if (rc == 0)
		rc = op_start(op, NULL);
	op->fn = fn;
	op->arg = arg;
	n->op = op;
	if (rc < 0)
		op_finish(op, 0, "enroll: cannot reach authority %s: %s", op->authority, strerror(-rc));
	else
		log_info("enrolling %s at %s", op->identity, op->authority);
}

void node_renew(struct node *n, node_done_fn *fn, void *arg)
{
	struct node_op *op;
	const char *at;
	int rc;

	if (!n->enrolled) {
		node_refuse(fn, arg, NODE_EFAIL, "not enrolled: run q2qctl enroll first");
		return;
	}
	if (n->op) {
		node_refuse(fn, arg, NODE_EFAIL, "another enrollment or renewal is in progress");
		return;
	}
	op = calloc(1, sizeof(*op));
	if (!op) {
		node_refuse(fn, arg, NODE_EFAIL, "out of memory");
		return;
	}
	op->node = n;
	op->kind = OP_RENEW;
	op->fn = fn;
	op->arg = arg;
	snprintf(op->identity, sizeof(op->identity), "%s", n->ci.identity);
	at = strchr(n->ci.identity, '@');
	snprintf(op->domain, sizeof(op->domain), "%s", at ? at + 1 : "");
	snprintf(op->authority, sizeof(op->authority), "%s", n->authority);
	op->auth_addr = n->auth_addr;
	op->key = n->key;	/* same key, fresh certificate */
	n->op = op;
	rc = op_start(op, n->key);
	if (rc < 0)
		op_finish(op, 0, "renew: cannot reach authority %s: %s", op->authority, strerror(-rc));
	else
		log_info("renewing certificate of %s at %s", op->identity, op->authority);
}

static void node_renew_timer(struct loop_timer *t)
{
	struct node *n = (struct node *)((char *)t - offsetof(struct node, renew_timer));

	node_renew(n, NULL, NULL);
}

/* delay 0: at the renewal point of the current certificate. */
static void node_schedule_renewal(struct node *n, uint64_t delay_ms)
{
	int64_t life, before, at, now = now_s();

	if (!delay_ms) {
		life = n->ci.not_after - n->ci.not_before;
		before = n->cfg->renew_before > 0 ? n->cfg->renew_before : life / 3;
		at = n->ci.not_after - before;
		delay_ms = at <= now ? 1000 : (uint64_t)(at - now) * 1000;
	}
	loop_timer_arm(n->loop, &n->renew_timer, loop_now_ms() + delay_ms);
}

int node_init(struct loop *l, const struct config *cfg, struct node **out, char *err, size_t errlen)
{
	struct node *n = calloc(1, sizeof(*n));
	char tdir[CONFIG_PATH_MAX + 16];
	int rc;

	if (!n)
		return -ENOMEM;
	n->loop = l;
	n->cfg = cfg;
	n->renew_timer.fn = node_renew_timer;
	snprintf(n->dir, sizeof(n->dir), "%s/node", cfg->state_dir);
	snprintf(tdir, sizeof(tdir), "%s/trust", cfg->state_dir);
	if (mkdir(n->dir, 0700) < 0 && errno != EEXIST) {
		rc = -errno;
		snprintf(err, errlen, "cannot create %s: %s", n->dir, strerror(errno));
		goto fail;
	}
	rc = trust_open(tdir, &n->trust);
	if (rc < 0) {
		snprintf(err, errlen, "cannot open trust store %s: %s", tdir, strerror(-rc));
		goto fail;
	}
	for (int i = 0; i < cfg->n_trust; i++) {
		if (!cfg->trust[i].has_fingerprint)
			continue;	/* DNSSEC or first use decides */
		rc = trust_pin(n->trust, cfg->trust[i].domain, cfg->trust[i].fingerprint);
		if (rc < 0) {
			snprintf(err, errlen, "trust: the pin for %s in the config conflicts with the CA "
			    "already trusted for it", cfg->trust[i].domain);
			goto fail;
		}
	}
	/* Before the engine's sandbox: it starts the resolver's thread. */
	rc = domtrust_init(l, cfg, n->trust, &n->domtrust, err, errlen);
	if (rc < 0)
		goto fail;
	rc = node_load(n, err, errlen);
	if (rc < 0)
		goto fail;
	if (n->enrolled) {
		log_info("identity %s, certificate valid until %lld", n->ci.identity, (long long)n->ci.not_after);
		node_schedule_renewal(n, 0);
	}
	*out = n;
	return 0;
fail:
	node_free(n);
	return rc;
}

void node_free(struct node *n)
{
	if (!n)
		return;
	if (n->op) {
		struct node_op *op = n->op;
		if (op->fn)
			op->fn(op->arg, NODE_EFAIL, "q2qd is shutting down", NULL);
		op->fn = NULL;
		n->op = NULL;
		op_free(op);
	}
	loop_timer_cancel(n->loop, &n->renew_timer);
	domtrust_free(n->domtrust);
	trust_free(n->trust);
	key_free(n->key);
	free(n->cert_der);
	free(n);
}

const struct sockaddr_in6 *node_authority_addr(const struct node *n) { return &n->auth_addr; }

void node_cert_der(const struct node *n, const uint8_t **der, size_t *len)
{
	*der = n->cert_der;
	*len = n->cert_len;
}

int node_key_der(const struct node *n, uint8_t **der, size_t *len)
{
	return n->enrolled ? key_der(n->key, der, len) : -ENOENT;
}

static int node_use_chain(struct node *n, WOLFSSL_CTX *ctx)
{
	const char *at = strchr(n->ci.identity, '@');
	const uint8_t *ca;
	size_t calen, cap;
	char *pem;
	int a, b, rc = -EINVAL;

	if (!at || trust_get(n->trust, at + 1, &ca, &calen) < 0)
		return -ENOENT;
	cap = 2 * (n->cert_len + calen) + 256;
	pem = malloc(cap);
	if (!pem)
		return -ENOMEM;
	a = wc_DerToPem(n->cert_der, (word32)n->cert_len, (byte *)pem, (word32)cap, CERT_TYPE);
	b = a > 0 ? wc_DerToPem(ca, (word32)calen, (byte *)pem + a, (word32)(cap - (size_t)a), CERT_TYPE) : -1;
	if (a > 0 && b > 0 && wolfSSL_CTX_use_certificate_chain_buffer(ctx, (unsigned char *)pem,
	    (long)(a + b)) == WOLFSSL_SUCCESS)
		rc = 0;
	free(pem);
	return rc;
}

int node_client_ctx(struct node *n, WOLFSSL_CTX **out)
{
	WOLFSSL_CTX *ctx;
	uint8_t *kder = NULL;
	size_t klen = 0;
	int rc = -EINVAL;

	if (!n->enrolled)
		return -ENOENT;
	ctx = wolfSSL_CTX_new(wolfTLSv1_3_client_method());
	if (!ctx)
		return -ENOMEM;
	/* The server is checked after the handshake (node_check_authority). */
	wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_NONE, NULL);
	/* Our certificate with our CA behind it: an authority of another
	 * domain learns (pins) our CA from this chain. */
	if (key_der(n->key, &kder, &klen) == 0 && node_use_chain(n, ctx) == 0 &&
	    wolfSSL_CTX_use_PrivateKey_buffer(ctx, kder, (long)klen,
	    WOLFSSL_FILETYPE_ASN1) == WOLFSSL_SUCCESS)
		rc = 0;
	if (kder) {
		explicit_bzero(kder, klen);
		free(kder);
	}
	if (rc < 0)
		wolfSSL_CTX_free(ctx);
	else
		*out = ctx;
	return rc;
}

int node_check_authority(struct node *n, const char *domain, struct tlsconn *c,
    char *err, size_t errlen)
{
	const char *own = strchr(n->ci.identity, '@');
	const uint8_t *der;
	size_t len;
	char who[64];
	enum trust_verdict v;
	int rc;

	if (!domain)
		domain = own ? own + 1 : "";
	udp_addr_format(tlsconn_peer(c), who, sizeof(who));
	rc = node_authority_chain(c, domain, who, &der, &len, err, errlen);
	if (rc < 0)
		return rc;
	/* Our own domain's CA is known since enrollment; another domain's is
	 * pinned, or the trust policy decides (domtrust.c). */
	if (!own || strcmp(own + 1, domain) != 0) {
		char what[96];

		snprintf(what, sizeof(what), "authority %s", who);
		rc = domtrust_judge(n->domtrust, domain, der, len, what, err, errlen);
		if (rc == -EAGAIN) {
			/* A trust entry's authority, never looked up: look now;
			 * the link tries again after its backoff. */
			domtrust_discover(n->domtrust, domain, NULL, NULL);
			snprintf(err, errlen, "%.100s: looking up its CA in DNS (TLSA) before trusting "
			    "authority %s", domain, who);
		}
		return rc < 0 ? -EPERM : 0;
	}
	v = trust_check(n->trust, domain, der, len, 0, err, errlen);
	if (v != TRUST_MATCH) {
		snprintf(err, errlen, "the authority's CA for %.100s does not match the pinned one", domain);
		return -EPERM;
	}
	return 0;
}

int node_trust_peer_ca(struct node *n, const char *domain, const uint8_t *der, size_t len,
    char *err, size_t errlen)
{
	return domtrust_judge(n->domtrust, domain, der, len, "a broker request", err, errlen);
}

int node_want_up(const struct node *n)
{
	char path[CONFIG_PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/up", n->dir);
	return access(path, F_OK) == 0;
}

/* The file holds "up\n", or "up exit=IDENTITY\n" for an exit node. */
int node_set_want_up(struct node *n, int up, const char *exit_node)
{
	char path[CONFIG_PATH_MAX + 32], line[ID_NAME_MAX + 16];
	int len;

	snprintf(path, sizeof(path), "%s/up", n->dir);
	if (!up)
		return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
	len = snprintf(line, sizeof(line), exit_node ? "up exit=%s\n" : "up\n", exit_node);
	if (len < 0 || (size_t)len >= sizeof(line))
		return -EINVAL;
	return file_write_atomic(path, line, (size_t)len, 0600);
}

void node_want_exit(const struct node *n, char *out, size_t len)
{
	char path[CONFIG_PATH_MAX + 32];
	uint8_t *b = NULL;
	size_t blen = 0, k;

	out[0] = 0;
	snprintf(path, sizeof(path), "%s/up", n->dir);
	if (file_read_all(path, 512, &b, &blen) < 0)
		return;
	/* The identity is checked again where it is used (routes_exit_set). */
	if (blen > 8 && !memcmp(b, "up exit=", 8)) {
		for (k = 8; k < blen && b[k] != '\n' && k - 8 < len - 1; k++)
			out[k - 8] = (char)b[k];
		out[k - 8] = 0;
	}
	free(b);
}

void node_status_info(const struct node *n, struct node_status_info *out)
{
	const uint8_t *ca;
	size_t calen;
	const char *at;

	memset(out, 0, sizeof(*out));
	out->enrolled = n->enrolled;
	if (!n->enrolled)
		return;
	out->ci = n->ci;
	out->cert_expired = now_s() >= n->ci.not_after;
	snprintf(out->authority, sizeof(out->authority), "%s", n->authority);
	at = strchr(n->ci.identity, '@');
	if (at && trust_get(n->trust, at + 1, &ca, &calen) == 0) {
		cert_fingerprint(ca, calen, out->ca_fingerprint);
		out->have_ca = 1;
	}
}
