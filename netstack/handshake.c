/*
 * TLS 1.3 handshake over a struct stream (see handshake.h). wolfSSL runs
 * non-blocking with custom I/O callbacks that read from and write to the
 * stream; every hs_input/hs_poll drives wolfSSL_connect/accept one step
 * further. The q2q-specific peer checks (CA of the peer's own domain,
 * certificate bindings, expected identity) run in the verify callback, so
 * they happen before the initiator reveals its own certificate.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ecc.h>

#include "netstack/aead.h"
#include "netstack/handshake.h"

/* A handshake that has not finished after this long is abandoned. */
#define HS_TIMEOUT_MS	20000
/* The responder's one application record: "I accepted you". */
#define HS_CONFIRM	"q2q-ok"

struct hs_ca {
	char domain[ID_NAME_MAX + 1];	/* a valid domain, so at most ID_DOMAIN_MAX */
	uint8_t *der;
	size_t len;
	uint8_t fp[32];			/* SHA-256 of der: one entry per CA */
};

struct hs_ctx {
	WOLFSSL_CTX *client;
	WOLFSSL_CTX *server;
	int n_cas;
	struct hs_ca cas[HS_MAX_CAS];
};

struct hs {
	struct hs_ctx *ctx;
	WOLFSSL *ssl;
	int initiator;
	enum hs_state state;
	uint64_t started;
	char reason[192];
	char me[ID_NAME_MAX + 1];
	char expected[ID_NAME_MAX + 1];	/* "" = anyone our CAs vouch for */
	int peer_ok;		/* check_peer accepted the certificate */
	int (*judge)(void *, int, const struct cert_info *, char *, size_t);
	void *judge_arg;
	int tls_done;		/* wolfSSL_connect/accept succeeded */
	int refused;		/* the judge refused the expected peer */
	struct cert_info peer;
	uint8_t *peer_der;
	size_t peer_len;
	uint8_t keys[2 * HS_KEY_LEN];
	enum aead_cipher cipher;	/* the data cipher, from the TLS suite */
	struct stream st;
};

static pthread_once_t wolf_once = PTHREAD_ONCE_INIT;
static int wolf_init_rc;

static void wolf_init(void)
{
	wolf_init_rc = wolfSSL_Init() == WOLFSSL_SUCCESS ? 0 : -EIO;
}

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Keeps the first reason: later errors are usually consequences of it. */
static void hs_fail(struct hs *h, const char *fmt, ...)
{
	va_list ap;

	if (!h->reason[0]) {
		va_start(ap, fmt);
		vsnprintf(h->reason, sizeof(h->reason), fmt, ap);
		va_end(ap);
	}
	h->state = HS_FAILED;
}

static int ctx_setup(WOLFSSL_CTX *c, const uint8_t *key_der, size_t key_len,
		     const uint8_t *cert_der, size_t cert_len, char *err,
		     size_t errlen);

/*
 * wolfSSL 5.5.4's CTX_check_private_key checks nothing, so compare the
 * key's public point with the end of the certificate's SubjectPublicKeyInfo
 * ourselves (q2q keys are ECDSA P-256). 1 if they match.
 */
static int key_matches_cert(const uint8_t *key_der, size_t key_len,
			    const uint8_t *cert_der, size_t cert_len)
{
	ecc_key k;
	word32 idx = 0, plen;
	uint8_t point[1 + 2 * 66], spki[256];
	int slen = sizeof(spki), ok = 0;
	WOLFSSL_X509 *x;

	if (wc_ecc_init(&k) != 0)
		return 0;
	plen = sizeof(point);
	if (wc_EccPrivateKeyDecode(key_der, &idx, &k, (word32)key_len) != 0 ||
	    wc_ecc_make_pub(&k, NULL) != 0 ||
	    wc_ecc_export_x963(&k, point, &plen) != 0)
		goto out;
	x = wolfSSL_X509_load_certificate_buffer(cert_der, (int)cert_len,
						 WOLFSSL_FILETYPE_ASN1);
	if (!x)
		goto out;
	if (wolfSSL_X509_get_pubkey_buffer(x, spki, &slen) == WOLFSSL_SUCCESS &&
	    slen >= (int)plen &&
	    memcmp(spki + slen - plen, point, plen) == 0)
		ok = 1;
	wolfSSL_X509_free(x);
out:
	wc_ecc_free(&k);
	return ok;
}

int hs_ctx_new(const uint8_t *key_der, size_t key_len,
	       const uint8_t *cert_der, size_t cert_len, struct hs_ctx **out,
	       char *err, size_t errlen)
{
	struct hs_ctx *c;
	int ret = -EINVAL;

	*out = NULL;
	pthread_once(&wolf_once, wolf_init);
	if (wolf_init_rc) {
		seterr(err, errlen, "handshake: wolfSSL_Init failed");
		return wolf_init_rc;
	}
	if (!key_der || !cert_der || key_len > INT32_MAX ||
	    cert_len > INT32_MAX) {
		seterr(err, errlen, "handshake: missing key or certificate");
		return -EINVAL;
	}
	if (!key_matches_cert(key_der, key_len, cert_der, cert_len)) {
		seterr(err, errlen, "handshake: private key is not a P-256 key "
		       "matching our certificate");
		return -EINVAL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->client = wolfSSL_CTX_new(wolfTLSv1_3_client_method());
	c->server = wolfSSL_CTX_new(wolfTLSv1_3_server_method());
	if (!c->client || !c->server) {
		seterr(err, errlen, "handshake: cannot create TLS context");
		ret = -ENOMEM;
		goto fail;
	}
	if (ctx_setup(c->client, key_der, key_len, cert_der, cert_len, err,
		      errlen) < 0 ||
	    ctx_setup(c->server, key_der, key_len, cert_der, cert_len, err,
		      errlen) < 0)
		goto fail;
	/* No resumption: every handshake is a full one, no ticket to send. */
	wolfSSL_CTX_no_ticket_TLSv13(c->server);
	if ((ret = hs_ctx_set_hw_aes(c, aead_hw_aes())) < 0) {
		seterr(err, errlen, "handshake: cannot set the TLS 1.3 cipher suites");
		goto fail;
	}
	*out = c;
	return 0;
fail:
	hs_ctx_free(c);
	return ret;
}

static int verify_cb(int preverify, WOLFSSL_X509_STORE_CTX *store);

/*
 * The suite TLS 1.3 negotiates names the data cipher too (hs_suite_cipher).
 * A node whose CPU has AES in hardware offers and accepts AES-256-GCM
 * first; one without offers and accepts ChaCha20-Poly1305 alone. Both
 * sides then always share ChaCha20-Poly1305, and share AES-256-GCM, first
 * in both lists, exactly when both have AES hardware: the outcome does not
 * depend on whose preference TLS follows.
 */
#define HS_SUITES_AES		"TLS13-AES256-GCM-SHA384:TLS13-CHACHA20-POLY1305-SHA256"
#define HS_SUITES_NO_AES	"TLS13-CHACHA20-POLY1305-SHA256"
#define HS_SUITE_AES256_GCM	0x1302	/* TLS_AES_256_GCM_SHA384 */
#define HS_SUITE_CHACHA20	0x1303	/* TLS_CHACHA20_POLY1305_SHA256 */

int hs_ctx_set_hw_aes(struct hs_ctx *c, int hw_aes)
{
	const char *list = hw_aes ? HS_SUITES_AES : HS_SUITES_NO_AES;

	if (wolfSSL_CTX_set_cipher_list(c->client, list) != WOLFSSL_SUCCESS ||
	    wolfSSL_CTX_set_cipher_list(c->server, list) != WOLFSSL_SUCCESS)
		return -EINVAL;
	return 0;
}

int hs_suite_cipher(int suite)
{
	switch (suite) {
	case HS_SUITE_AES256_GCM:
		return AEAD_AES256_GCM;
	case HS_SUITE_CHACHA20:
		return AEAD_CHACHA20_POLY1305;
	default:
		return -ENOTSUP;
	}
}

static int ctx_setup(WOLFSSL_CTX *c, const uint8_t *key_der, size_t key_len,
		     const uint8_t *cert_der, size_t cert_len, char *err,
		     size_t errlen)
{
	/* X25519 first: the client's single key share then always fits. */
	int groups[] = { WOLFSSL_ECC_X25519, WOLFSSL_ECC_SECP256R1 };

	if (wolfSSL_CTX_use_certificate_buffer(c, cert_der, (long)cert_len,
					       WOLFSSL_FILETYPE_ASN1) !=
	    WOLFSSL_SUCCESS) {
		seterr(err, errlen, "handshake: our certificate is not valid DER");
		return -EINVAL;
	}
	if (wolfSSL_CTX_use_PrivateKey_buffer(c, key_der, (long)key_len,
					      WOLFSSL_FILETYPE_ASN1) !=
	    WOLFSSL_SUCCESS) {
		seterr(err, errlen, "handshake: our private key is not valid DER");
		return -EINVAL;
	}
	if (wolfSSL_CTX_set_groups(c, groups, 2) != WOLFSSL_SUCCESS) {
		seterr(err, errlen, "handshake: cannot set key exchange groups");
		return -EINVAL;
	}
	wolfSSL_CTX_set_session_cache_mode(c, WOLFSSL_SESS_CACHE_OFF);
	wolfSSL_CTX_set_verify(c, WOLFSSL_VERIFY_PEER |
			       WOLFSSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_cb);
	return 0;
}

int hs_ctx_add_ca(struct hs_ctx *c, const uint8_t *ca_der, size_t len,
		  char *err, size_t errlen)
{
	struct cert_info ci;
	struct hs_ca *ca;
	uint8_t fp[32];
	char why[128];

	if (!ca_der || len == 0 || len > CERT_DER_MAX ||
	    cert_parse(ca_der, len, &ci, why, sizeof(why)) < 0 ||
	    cert_fingerprint(ca_der, len, fp) < 0) {
		seterr(err, errlen, "handshake: CA certificate is malformed");
		return -EINVAL;
	}
	if (!ci.is_ca || id_parse_domain(ci.identity, NULL, 0) < 0) {
		seterr(err, errlen,
		       "handshake: certificate '%s' is not a domain CA",
		       ci.identity);
		return -EINVAL;
	}
	/* The overlay adds a CA again on every reconnect and every foreign
	 * peer: without this the table filled with copies and later CAs
	 * found no room. */
	for (int i = 0; i < c->n_cas; i++)
		if (memcmp(c->cas[i].fp, fp, sizeof(fp)) == 0)
			return 0;
	if (c->n_cas >= HS_MAX_CAS) {
		seterr(err, errlen,
		       "handshake: cannot trust CA '%s': already %d trusted CAs",
		       ci.identity, HS_MAX_CAS);
		return -ENOSPC;
	}
	ca = &c->cas[c->n_cas];
	memcpy(ca->fp, fp, sizeof(fp));
	ca->der = malloc(len);
	if (!ca->der)
		return -ENOMEM;
	memcpy(ca->der, ca_der, len);
	ca->len = len;
	snprintf(ca->domain, sizeof(ca->domain), "%s", ci.identity);
	if (wolfSSL_CTX_load_verify_buffer(c->client, ca_der, (long)len,
					   WOLFSSL_FILETYPE_ASN1) !=
	    WOLFSSL_SUCCESS ||
	    wolfSSL_CTX_load_verify_buffer(c->server, ca_der, (long)len,
					   WOLFSSL_FILETYPE_ASN1) !=
	    WOLFSSL_SUCCESS) {
		free(ca->der);
		ca->der = NULL;
		seterr(err, errlen, "handshake: wolfSSL refused CA '%s'",
		       ci.identity);
		return -EINVAL;
	}
	c->n_cas++;
	return 0;
}

/* wolfSSL's store keeps the certificate (it has no way to drop one), but
 * check_peer takes a peer only under a CA of this list for its domain. */
int hs_ctx_forget_domain(struct hs_ctx *c, const char *domain)
{
	int gone = 0;

	for (int i = 0; i < c->n_cas;) {
		if (strcmp(c->cas[i].domain, domain) != 0) {
			i++;
			continue;
		}
		free(c->cas[i].der);
		c->cas[i] = c->cas[--c->n_cas];
		gone++;
	}
	return gone;
}

void hs_ctx_free(struct hs_ctx *c)
{
	if (!c)
		return;
	if (c->client)
		wolfSSL_CTX_free(c->client);
	if (c->server)
		wolfSSL_CTX_free(c->server);
	for (int i = 0; i < c->n_cas; i++)
		free(c->cas[i].der);
	free(c);
}

/*
 * The q2q rules on top of chain validation: the peer is a node certificate
 * whose identity's domain has a trusted CA that issued it (cert_verify also
 * checks the bindings and dates), it is who the initiator asked for, and
 * the caller's judge (if any) takes it.
 */
static int check_peer(struct hs *h, const uint8_t *der, size_t len)
{
	struct cert_info ci;
	const char *at;
	char why[256] = "";
	int found = 0;

	if (cert_parse(der, len, &ci, why, sizeof(why)) < 0) {
		hs_fail(h, "peer certificate malformed: %s", why);
		return 0;
	}
	at = strchr(ci.identity, '@');
	if (ci.is_ca || !at) {
		hs_fail(h, "peer certificate '%s' is not a node", ci.identity);
		return 0;
	}
	for (int i = 0; i < h->ctx->n_cas && !found; i++) {
		const struct hs_ca *ca = &h->ctx->cas[i];

		if (strcmp(ca->domain, at + 1) != 0)
			continue;
		if (cert_verify(der, len, ca->der, ca->len,
				(int64_t)time(NULL), &ci, why,
				sizeof(why)) == 0)
			found = 1;
	}
	if (!found) {
		hs_fail(h, "peer '%s' not vouched for by a CA of its domain%s%s",
			ci.identity, why[0] ? ": " : "", why);
		return 0;
	}
	if (h->expected[0] && strcmp(ci.identity, h->expected) != 0) {
		hs_fail(h, "peer is '%s', expected '%s'", ci.identity,
			h->expected);
		return 0;
	}
	if (h->judge && h->judge(h->judge_arg, h->initiator, &ci, why, sizeof(why)) != 0) {
		hs_fail(h, "refused: %s", why);
		h->refused = 1;
		return 0;
	}
	free(h->peer_der);
	h->peer_der = malloc(len);
	if (!h->peer_der) {
		hs_fail(h, "out of memory");
		return 0;
	}
	memcpy(h->peer_der, der, len);
	h->peer_len = len;
	h->peer = ci;
	h->peer_ok = 1;
	return 1;
}

static int verify_cb(int preverify, WOLFSSL_X509_STORE_CTX *store)
{
	WOLFSSL *ssl = wolfSSL_X509_STORE_CTX_get_ex_data(store,
				wolfSSL_get_ex_data_X509_STORE_CTX_idx());
	struct hs *h = ssl ? wolfSSL_GetIOReadCtx(ssl) : NULL;
	WOLFSSL_X509 *x;
	const unsigned char *der;
	int len = 0;

	if (!h)
		return 0;
	if (!preverify) {
		hs_fail(h, "peer certificate not trusted (%s)",
			wolfSSL_X509_verify_cert_error_string(
				wolfSSL_X509_STORE_CTX_get_error(store)));
		return 0;
	}
	/* Only the peer's own certificate carries q2q bindings. */
	if (wolfSSL_X509_STORE_CTX_get_error_depth(store) != 0)
		return 1;
	x = wolfSSL_X509_STORE_CTX_get_current_cert(store);
	der = x ? wolfSSL_X509_get_der(x, &len) : NULL;
	if (!der || len <= 0 || len > CERT_DER_MAX) {
		hs_fail(h, "peer certificate unavailable");
		return 0;
	}
	return check_peer(h, der, (size_t)len);
}

static int io_recv(WOLFSSL *ssl, char *buf, int sz, void *arg)
{
	struct hs *h = arg;
	size_t n;

	if (sz <= 0)
		return 0;
	n = stream_read(&h->st, (uint8_t *)buf, (size_t)sz);
	return n ? (int)n : WOLFSSL_CBIO_ERR_WANT_READ;
}

static int io_send(WOLFSSL *ssl, char *buf, int sz, void *arg)
{
	struct hs *h = arg;
	int n;

	if (sz <= 0)
		return 0;
	n = stream_write(&h->st, (const uint8_t *)buf, (size_t)sz);
	if (n < 0)
		return WOLFSSL_CBIO_ERR_CONN_CLOSE;
	return n ? n : WOLFSSL_CBIO_ERR_WANT_WRITE;
}

static int hs_export(struct hs *h)
{
	char context[2 * (ID_NAME_MAX + 1)];
	const char *ini = h->initiator ? h->me : h->peer.identity;
	const char *res = h->initiator ? h->peer.identity : h->me;
	size_t li = strlen(ini), lr = strlen(res);
	int suite, c;

	/* Belt and braces: never DONE without our own checks having run. */
	if (!h->peer_ok) {
		hs_fail(h, "peer certificate was not checked");
		return -1;
	}
	suite = wolfSSL_get_current_cipher_suite(h->ssl);
	if ((c = hs_suite_cipher(suite)) < 0) {
		hs_fail(h, "TLS negotiated cipher suite 0x%04x, which carries no q2q data", suite);
		return -1;
	}
	h->cipher = (enum aead_cipher)c;
	memcpy(context, ini, li);
	context[li] = '\0';
	memcpy(context + li + 1, res, lr);
	if (wolfSSL_export_keying_material(h->ssl, h->keys, sizeof(h->keys),
					   HS_EXPORT_LABEL,
					   sizeof(HS_EXPORT_LABEL) - 1,
					   (const unsigned char *)context,
					   li + 1 + lr, 1) != WOLFSSL_SUCCESS) {
		hs_fail(h, "key export failed");
		return -1;
	}
	return 0;
}

/*
 * One step of the TLS state machine. The responder, once it has checked
 * the initiator's certificate, sends HS_CONFIRM as its first application
 * record; the initiator is DONE only when it reads it. TLS 1.3 alone would
 * let the initiator finish before the responder judged its certificate, and
 * then send data into a session the responder refused.
 */
static void hs_step(struct hs *h, uint64_t now)
{
	char buf[WOLFSSL_MAX_ERROR_SZ];
	uint8_t rec[16];
	int ret, err;

	if (h->state != HS_RUNNING)
		return;
	if (!h->tls_done) {
		ret = h->initiator ? wolfSSL_connect(h->ssl) :
				     wolfSSL_accept(h->ssl);
		if (ret != WOLFSSL_SUCCESS)
			goto check;
		h->tls_done = 1;
		if (hs_export(h) < 0)
			return;
	}
	if (!h->initiator) {
		ret = wolfSSL_write(h->ssl, HS_CONFIRM, sizeof(HS_CONFIRM) - 1);
		if (ret == (int)sizeof(HS_CONFIRM) - 1) {
			h->state = HS_DONE;
			return;
		}
	} else {
		ret = wolfSSL_read(h->ssl, rec, sizeof(rec));
		if (ret == (int)sizeof(HS_CONFIRM) - 1 &&
		    memcmp(rec, HS_CONFIRM, sizeof(HS_CONFIRM) - 1) == 0) {
			h->state = HS_DONE;
			return;
		}
		if (ret > 0) {
			hs_fail(h, "peer sent an unexpected record");
			return;
		}
	}
check:
	err = wolfSSL_get_error(h->ssl, ret);
	if (err == WOLFSSL_ERROR_WANT_READ || err == WOLFSSL_ERROR_WANT_WRITE) {
		if (now >= h->started + HS_TIMEOUT_MS)
			hs_fail(h, "handshake timed out");
		return;
	}
	wolfSSL_ERR_error_string_n((unsigned long)err, buf, sizeof(buf));
	hs_fail(h, "TLS: %s", buf);
}

void hs_set_judge(struct hs *h,
		  int (*judge)(void *arg, int initiator, const struct cert_info *ci,
			       char *why, size_t whylen),
		  void *arg)
{
	h->judge = judge;
	h->judge_arg = arg;
}

int hs_new(struct hs_ctx *ctx, int initiator, const char *my_identity,
	   const char *expected_peer, uint64_t now, struct hs **out)
{
	struct hs *h;

	*out = NULL;
	if (!ctx || !my_identity || id_parse_user(my_identity, NULL, NULL, 0) ||
	    (initiator && !expected_peer) ||
	    (expected_peer && id_parse_user(expected_peer, NULL, NULL, 0)))
		return -EINVAL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->ctx = ctx;
	h->initiator = !!initiator;
	h->state = HS_RUNNING;
	h->started = now;
	snprintf(h->me, sizeof(h->me), "%s", my_identity);
	if (expected_peer)
		snprintf(h->expected, sizeof(h->expected), "%s", expected_peer);
	stream_init(&h->st);
	h->ssl = wolfSSL_new(initiator ? ctx->client : ctx->server);
	if (!h->ssl) {
		hs_free(h);
		return -ENOMEM;
	}
	wolfSSL_SSLSetIORecv(h->ssl, io_recv);
	wolfSSL_SSLSetIOSend(h->ssl, io_send);
	wolfSSL_SetIOReadCtx(h->ssl, h);
	wolfSSL_SetIOWriteCtx(h->ssl, h);
	/* The initiator's ClientHello goes into the stream right away. */
	hs_step(h, now);
	*out = h;
	return 0;
}

void hs_free(struct hs *h)
{
	if (!h)
		return;
	if (h->ssl)
		wolfSSL_free(h->ssl);
	free(h->peer_der);
	stream_free(&h->st);
	explicit_bzero(h, sizeof(*h));
	free(h);
}

int hs_input(struct hs *h, uint32_t seq, uint32_t ack, const uint8_t *data,
	     size_t len, uint64_t now)
{
	int ret = stream_input(&h->st, seq, ack, data, len, now);

	if (ret < 0)
		return ret;
	hs_step(h, now);
	return 0;
}

int hs_poll(struct hs *h, uint64_t now, struct stream_seg *seg)
{
	int ret;

	hs_step(h, now);
	ret = stream_poll(&h->st, now, seg);
	if (stream_failed(&h->st) && h->state == HS_RUNNING)
		hs_fail(h, "peer stopped answering");
	return ret;
}

uint64_t hs_next_deadline(const struct hs *h)
{
	uint64_t d = stream_next_deadline(&h->st);

	if (h->state == HS_RUNNING && h->started + HS_TIMEOUT_MS < d)
		d = h->started + HS_TIMEOUT_MS;
	return d;
}

int hs_flushed(const struct hs *h)
{
	return stream_all_acked(&h->st);
}

int hs_peer_refused(const struct hs *h)
{
	return h->refused;
}

int hs_peer_proven(const struct hs *h)
{
	return h->state != HS_FAILED && (h->tls_done || h->state == HS_DONE);
}

enum hs_state hs_state(const struct hs *h, const char **reason)
{
	if (reason)
		*reason = h->state == HS_FAILED ? h->reason : "";
	return h->state;
}

int hs_is_initiator(const struct hs *h)
{
	return h->initiator;
}

int hs_result(const struct hs *h, char peer_identity[ID_NAME_MAX + 1],
	      uint8_t *peer_cert_der, size_t *cert_len,
	      uint8_t send_key[HS_KEY_LEN], uint8_t recv_key[HS_KEY_LEN])
{
	const uint8_t *i2r = h->keys, *r2i = h->keys + HS_KEY_LEN;

	if (h->state != HS_DONE)
		return -EAGAIN;
	if (peer_cert_der && cert_len) {
		if (*cert_len < h->peer_len)
			return -ENOSPC;
		memcpy(peer_cert_der, h->peer_der, h->peer_len);
	}
	if (cert_len)
		*cert_len = h->peer_len;
	if (peer_identity)
		snprintf(peer_identity, ID_NAME_MAX + 1, "%s", h->peer.identity);
	if (send_key)
		memcpy(send_key, h->initiator ? i2r : r2i, HS_KEY_LEN);
	if (recv_key)
		memcpy(recv_key, h->initiator ? r2i : i2r, HS_KEY_LEN);
	return 0;
}

int hs_data_cipher(const struct hs *h)
{
	return h->state == HS_DONE ? (int)h->cipher : -EAGAIN;
}

int hs_peer_info(const struct hs *h, struct cert_info *out)
{
	if (h->state != HS_DONE)
		return -EAGAIN;
	*out = h->peer;
	return 0;
}
