/*
 * End-to-end check that identity/ produces what the handshake needs: two
 * nodes with certificates from one domain CA complete a mutually
 * authenticated wolfSSL TLS 1.3 handshake over a socketpair, each side
 * recovers the other's bindings from the peer certificate with
 * cert_verify, and a node from a CA the other side does not trust is
 * refused by wolfSSL itself.
 */
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "identity/cert.h"
#include "identity/key.h"
#include "tests/unit/harness.h"

struct node {
	struct id_key *key;
	uint8_t *cert;
	size_t cert_len;
};

static int node_make(struct node *n, const struct id_key *ca_key,
		     const uint8_t *ca, size_t ca_len, const char *id,
		     const char *v4)
{
	struct cert_info b;
	uint8_t *csr;
	size_t csr_len;
	char err[256];
	int rc;

	memset(&b, 0, sizeof(b));
	snprintf(b.identity, sizeof(b.identity), "%s", id);
	b.has_v4 = 1;
	inet_pton(AF_INET, v4, b.v4);
	b.not_before = (int64_t)time(NULL) - 60;
	b.not_after = b.not_before + 3600;
	if (key_generate(&n->key) || cert_csr_make(n->key, id, &csr, &csr_len))
		return -1;
	rc = cert_issue(ca_key, ca, ca_len, csr, csr_len, &b, &n->cert,
			&n->cert_len, err, sizeof(err));
	if (rc)
		fprintf(stderr, "issue: %s\n", err);
	free(csr);
	return rc;
}

static WOLFSSL_CTX *ctx_make(int server, const struct node *n,
			     const uint8_t *ca, size_t ca_len)
{
	WOLFSSL_CTX *ctx;
	uint8_t *kd;
	size_t kl;
	int ok;

	ctx = wolfSSL_CTX_new(server ? wolfTLSv1_3_server_method()
				     : wolfTLSv1_3_client_method());
	if (!ctx)
		return NULL;
	if (key_der(n->key, &kd, &kl)) {
		wolfSSL_CTX_free(ctx);
		return NULL;
	}
	ok = wolfSSL_CTX_load_verify_buffer(ctx, ca, (long)ca_len,
					    WOLFSSL_FILETYPE_ASN1) == WOLFSSL_SUCCESS &&
	     wolfSSL_CTX_use_certificate_buffer(ctx, n->cert, (long)n->cert_len,
						WOLFSSL_FILETYPE_ASN1) == WOLFSSL_SUCCESS &&
	     wolfSSL_CTX_use_PrivateKey_buffer(ctx, kd, (long)kl,
					       WOLFSSL_FILETYPE_ASN1) == WOLFSSL_SUCCESS;
	explicit_bzero(kd, kl);
	free(kd);
	if (!ok) {
		wolfSSL_CTX_free(ctx);
		return NULL;
	}
	wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_PEER |
			       WOLFSSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	return ctx;
}

/* Runs both ends until done or stuck; 1 if both completed. */
static int handshake(WOLFSSL *c, WOLFSSL *s)
{
	int cd = 0, sd = 0;

	for (int i = 0; i < 200 && !(cd && sd); i++) {
		if (!cd) {
			int r = wolfSSL_connect(c);

			if (r == WOLFSSL_SUCCESS)
				cd = 1;
			else if (wolfSSL_get_error(c, r) != WOLFSSL_ERROR_WANT_READ &&
				 wolfSSL_get_error(c, r) != WOLFSSL_ERROR_WANT_WRITE)
				return 0;
		}
		if (!sd) {
			int r = wolfSSL_accept(s);

			if (r == WOLFSSL_SUCCESS)
				sd = 1;
			else if (wolfSSL_get_error(s, r) != WOLFSSL_ERROR_WANT_READ &&
				 wolfSSL_get_error(s, r) != WOLFSSL_ERROR_WANT_WRITE)
				return 0;
		}
	}
	return cd && sd;
}

static int peer_info(WOLFSSL *ssl, const uint8_t *ca, size_t ca_len,
		     struct cert_info *ci)
{
	WOLFSSL_X509 *x = wolfSSL_get_peer_certificate(ssl);
	const unsigned char *der;
	char err[256];
	int len, rc = -1;

	if (!x)
		return -1;
	der = wolfSSL_X509_get_der(x, &len);
	if (der)
		rc = cert_verify(der, (size_t)len, ca, ca_len,
				 (int64_t)time(NULL), ci, err, sizeof(err));
	wolfSSL_X509_free(x);
	return rc;
}

static int run(const struct node *cn, const uint8_t *c_ca, size_t c_ca_len,
	       const struct node *sn, const uint8_t *s_ca, size_t s_ca_len,
	       struct cert_info *c_sees, struct cert_info *s_sees)
{
	WOLFSSL_CTX *cc = ctx_make(0, cn, c_ca, c_ca_len);
	WOLFSSL_CTX *sc = ctx_make(1, sn, s_ca, s_ca_len);
	WOLFSSL *c = NULL, *s = NULL;
	int sv[2] = { -1, -1 }, ok = 0;

	if (!cc || !sc || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		goto out;
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	c = wolfSSL_new(cc);
	s = wolfSSL_new(sc);
	if (!c || !s)
		goto out;
	wolfSSL_set_fd(c, sv[0]);
	wolfSSL_set_fd(s, sv[1]);
	ok = handshake(c, s);
	if (ok && c_sees && s_sees)
		ok = peer_info(c, c_ca, c_ca_len, c_sees) == 0 &&
		     peer_info(s, s_ca, s_ca_len, s_sees) == 0;
out:
	wolfSSL_free(c);
	wolfSSL_free(s);
	wolfSSL_CTX_free(cc);
	wolfSSL_CTX_free(sc);
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	return ok;
}

static void test_mutual_tls(void)
{
	struct id_key *ca_key = NULL, *ev_key = NULL;
	uint8_t *ca = NULL, *ev = NULL;
	size_t ca_len = 0, ev_len = 0;
	struct node alice = { 0 }, bob = { 0 }, eve = { 0 };
	struct cert_info a_sees, b_sees;

	CHECK_INT(cert_ca_create("example.com", 30, &ca_key, &ca, &ca_len), 0);
	CHECK_INT(cert_ca_create("example.com", 30, &ev_key, &ev, &ev_len), 0);
	CHECK_INT(node_make(&alice, ca_key, ca, ca_len, "alice@example.com",
			    "100.64.0.1"), 0);
	CHECK_INT(node_make(&bob, ca_key, ca, ca_len, "bob@example.com",
			    "100.64.0.2"), 0);
	/* Same name as bob, from an impostor CA of the same domain name. */
	CHECK_INT(node_make(&eve, ev_key, ev, ev_len, "bob@example.com",
			    "100.64.0.2"), 0);

	CHECK(run(&alice, ca, ca_len, &bob, ca, ca_len, &a_sees, &b_sees));
	CHECK_STR(a_sees.identity, "bob@example.com");
	CHECK_STR(b_sees.identity, "alice@example.com");
	CHECK_INT(b_sees.v4[3], 1);
	CHECK_INT(a_sees.v4[3], 2);

	/* Eve as server: alice's wolfSSL refuses her certificate. */
	CHECK(!run(&alice, ca, ca_len, &eve, ca, ca_len, NULL, NULL));
	/* Eve as client: bob's wolfSSL refuses her. */
	CHECK(!run(&eve, ev, ev_len, &bob, ca, ca_len, NULL, NULL));

	key_free(ca_key);
	key_free(ev_key);
	key_free(alice.key);
	key_free(bob.key);
	key_free(eve.key);
	free(ca);
	free(ev);
	free(alice.cert);
	free(bob.cert);
	free(eve.cert);
}

int main(void)
{
	wolfSSL_Init();
	RUN(test_mutual_tls);
	wolfSSL_Cleanup();
	return HARNESS_END();
}
